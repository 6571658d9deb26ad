"""The closed form of the perturbation threshold r_d, proved by induction over layers.

Setting (paper §VI, Appendix B). Let ``cW_0 ... cW_{L-1}`` be the layers of the sub-DNN that
supports category c, with the exact-solution biases ``b_l = beta_l 1 - cW_l 1``. While every
neuron of the sub-DNN is active (and below the cap) each layer is affine:
``y_{l+1} = cW_l y_l + b_l``.

Claim. For every L >= 1 and every input y_0,

    y_L = M_L (y_0 - 1) + sum_{l=0}^{L-2} (beta_l - 1) T_{L,l} 1 + beta_{L-1} 1,

with ``M_L = cW_{L-1} ... cW_0`` and ``T_{L,l} = cW_{L-1} ... cW_{l+1}``.

Proof. L = 1: ``y_1 = cW_0 y_0 + beta_0 1 - cW_0 1 = M_1 (y_0 - 1) + beta_0 1``. Step L -> L+1:
``cW_L y_L + beta_L 1 - cW_L 1`` has ``cW_L M_L = M_{L+1}``, ``cW_L T_{L,l} = T_{L+1,l}`` and
``cW_L (beta_{L-1} 1) - cW_L 1 = (beta_{L-1} - 1) T_{L+1,L-1} 1``, which is the claim for L+1.
The tests below check the identity as a polynomial identity in generic symbolic matrices (every
entry its own symbol), so it holds for all matrices of those shapes, for L = 1 ... 4.

Threshold. Perturb feature f: ``y_0 - 1 = (r - 1) e_f``. At c,
``y_L(c) = (r - 1) P_f + sum_l (beta_l - 1) N_l + beta_{L-1}`` where ``P_f = (M_L e_f)(c)``
counts the (weighted) paths from f to c and ``N_l = (T_{L,l} 1)(c)`` the paths from the
outputs of layer l to c. So ``y_L(c) > 0`` exactly when

    r > r_d = 1 - (beta_{L-1} + sum_{l=0}^{L-2} (beta_l - 1) N_l) / P_f.

Where the paper's Appendix B slips. (1) It writes ``y_0 = 1 - (r - 1) I(f)``; the perturbed
input is ``1 + (r - 1) I(f)``. (2) It multiplies beta_0 by the whole product ``M_L 1``; beta_0
enters as ``(beta_0 - 1) N_0``. (3) Its sum over ``j = 2 ... L-1`` of ``T b_{j-1}`` leaves out
the last layer's bias ``b_{L-1}``. For the two-layer (f12, f34) scheme at beta = (4/5, 1) the
correct threshold is 2/5 (``3 - 2 beta_0 - beta_1``); the paper's formula gives -11/5.
"""

from __future__ import annotations

import pytest
import sympy

from symdnn.analysis import analyze
from symdnn.constructions import selective


def generic(name: str, rows: int, cols: int) -> sympy.Matrix:
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{name}_{i}{j}"))


def closed(Ws: list, betas: list, y0: sympy.Matrix) -> sympy.Matrix:
    """The claimed closed form for y_L."""
    L = len(Ws)

    def prod(hi: int, lo: int, n: int) -> sympy.Matrix:
        out = sympy.eye(n)
        for m in range(lo, hi + 1):
            out = Ws[m] * out
        return out

    ones = lambda n: sympy.ones(n, 1)  # noqa: E731
    n0 = Ws[0].shape[1]
    y = prod(L - 1, 0, n0) * (y0 - ones(n0))
    for l in range(L - 1):
        n = Ws[l + 1].shape[1]
        y += (betas[l] - 1) * prod(L - 1, l + 1, n) * ones(n)
    return y + betas[L - 1] * ones(Ws[L - 1].shape[0])


@pytest.mark.parametrize("shapes", [[(2, 3)], [(2, 2), (2, 3)], [(1, 2), (2, 2), (2, 2)],
                                    [(1, 2), (2, 2), (2, 1), (1, 2)]])
def test_closed_form_is_a_polynomial_identity(shapes):
    Ws = [generic(f"w{l}", *s) for l, s in enumerate(reversed(shapes))]
    betas = sympy.symbols(f"beta_0:{len(Ws)}")
    y0 = generic("y", Ws[0].shape[1], 1)
    y = y0
    for W, b in zip(Ws, betas, strict=True):  # every neuron active: the layers are affine
        y = W * y + (b * sympy.ones(W.shape[0], 1) - W * sympy.ones(W.shape[1], 1))
    assert (y - closed(Ws, list(betas), y0)).applyfunc(sympy.expand) == \
        sympy.zeros(*y.shape)


def test_threshold_from_the_closed_form():
    r, b0, b1 = sympy.symbols("r beta_0 beta_1")
    P_f, N0 = sympy.symbols("P_f N_0", positive=True)
    y_c = (r - 1) * P_f + (b0 - 1) * N0 + b1
    r_d = sympy.solve(sympy.Eq(y_c, 0), r)[0]
    assert sympy.simplify(r_d - (1 - (b1 + (b0 - 1) * N0) / P_f)) == 0
    # the (f12, f34) scheme: P_f = 1, N_0 = 2
    assert sympy.expand(r_d.subs({P_f: 1, N0: 2})) == 3 - 2 * b0 - b1
    assert r_d.subs({P_f: 1, N0: 2, b0: sympy.Rational(4, 5), b1: 1}) == sympy.Rational(2, 5)


def test_one_layer():
    r, b0 = sympy.symbols("r beta_0")
    assert sympy.solve(sympy.Eq((r - 1) * 1 + b0, 0), r) == [1 - b0]


def test_the_papers_formula_is_wrong_where_it_differs():
    # two-layer (f12, f34): M_L 1 = 4 paths from all four features, M_L e_f = 1 path
    b0, b1 = sympy.Rational(4, 5), 1
    paper = 1 - (b0 * 4 + 0) / 1  # beta_0 (prod W) 1, empty sum over j = 2 .. L-1
    correct = 1 - (b1 + (b0 - 1) * 2) / 1
    assert paper == sympy.Rational(-11, 5) and correct == sympy.Rational(2, 5)
    # and the paper's input sign: with y_0 = 1 - (r - 1) e_f the output would fall as r grows
    r = sympy.Symbol("r")
    assert sympy.diff((-(r - 1)) * 1 + 1, r) < 0


def test_exact_piecewise_analysis_agrees_with_the_proof():
    rep = analyze(selective(["abcd", "abce", "bcde"], "pairs", ["4/5", 1]), verify=False)
    assert {str(p.r_d) for p in rep.pairs} == {"2/5"}
