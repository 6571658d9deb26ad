"""The ReLU layer is linear over two semirings (paper §II): ``h(W y + b) = (W y) (x) b (+) 0``
with ``(x) = +`` and ``(+) = max`` (max_plus), ``W y`` over plus_times.

Proof. Entry by entry, ``max(x + b, 0)`` is ``x (x) b (+) 0`` in max_plus, and the ReLU
``h(z) = max(z, 0)``; the cap ``min(., YMAX)`` is ``(+) YMAX`` in min_plus. One caveat the paper
leaves implicit, and symdnn enforces: a missing entry of ``W y`` means 0 in plus_times but
``-inf`` in max_plus, so ``W y`` must enter max_plus with its zeros written out (unless the bias
is added only to nonzero entries of ``W y``, the Graph Challenge rule). Without them a neuron
whose only contribution is a positive bias would vanish.
"""

from __future__ import annotations

import sympy

from symdnn import AssocArray, SparseDNN, formulations


def test_entrywise_identity():
    # max(z, 0) against the ReLU, by a complete case split on the sign of z = x + b
    p = sympy.Symbol("p", positive=True)
    for z, relu in ((p, p), (-p, 0), (sympy.S.Zero, 0)):
        assert sympy.Max(z, 0) == relu
    # the cap: min(max(y, 0), 32) in the three regimes y <= 0, 0 < y < 32, y >= 32
    q = sympy.Symbol("q", positive=True)
    t = sympy.Symbol("t", positive=True)
    assert sympy.Min(sympy.Max(-q, 0), 32) == 0
    assert sympy.Min(sympy.Max(32 * t / (1 + t), 0), 32) == 32 * t / (1 + t)  # 0 < y < 32
    assert sympy.Min(sympy.Max(32 + q, 0), 32) == 32


def test_the_zeros_caveat():
    # neuron o has no input, bias 1/2: h(0 + 1/2) = 1/2 must survive the oscillation
    W = AssocArray.from_triples(["h"], ["x"], [1], domain="QQ")
    net = SparseDNN.from_layers([W], [{"h": "-1/2", "o": "1/2"}], neurons=[["x"], ["h", "o"]])
    Y0 = AssocArray.from_triples(["x"], ["i"], [1], domain="QQ")
    out = formulations.oscillating(net, Y0)
    assert out.to_dict() == {"h": {"i": sympy.Rational(1, 2)}, "o": {"i": sympy.Rational(1, 2)}}
    assert out.isequal(formulations.standard(net, Y0))
    # the sparse product alone, taken into max_plus, loses o
    Z = (W @ Y0).with_semiring("max_plus")
    assert "o" not in Z.row()
