"""The propagation rule of precision certificates, step by step.

The model (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., 2002, sec. 2.2
and ch. 3). An implementation stores weights, biases, inputs and activations in a binary
format F (unit roundoff ``u_F = 2**-p_F``), computes products and sums in a format A at least
as wide (``u_A``), each operation rounded to nearest: ``fl(x op y) = (x op y)(1 + d) + e`` with
``|d| <= u``, ``|e| <= eta`` (half the smallest subnormal), ``d e = 0``, and ``e = 0`` for
additions (a sum that lands among the subnormals is exact). The order and tree of summation
are arbitrary.

Claim. For one neuron with exact input ``y``, implementation input ``yhat`` with
``|yhat - y| <= e`` (componentwise), ``What = fl_F(W)``, ``bhat = fl_F(b)`` and ``n`` products,
the implementation's sum ``s`` of the products satisfies

    |s - W y| <= E_s = D + gamma_n M + n eta_A (1 + gamma_n)
    D = |What| e + |What - W| |y|,   M = |What| (|y| + e),   gamma_n = n u_A / (1 - n u_A),

and, if the sum is then stored in F, ``E_s + u_F (M + E_s) + eta_F``. The pre-activation
``zhat = fl(s + bhat)`` (rule ``nonzero``; rounded in A and then F) is within
``E_z = E_s + |bhat - b| + u_z (|z| + E_s + |bhat - b|) (+ eta_F when A != F)`` of
``z = W y + b``, with ``u_z = (1 + u_A)(1 + u_F) - 1``; under rule ``all`` an implementation
either adds the bias that way (the bound above) or sums it as one more term, anywhere in the
tree (``D + |bhat - b| + gamma_{n+1} (M + |bhat|)``): the larger of the two holds. Where the
products, partial sums and the result are all representable (below), every rounding is exact
and the bound is 0. Through the ReLU and the cap the error does not grow, and where the
decision is certain it vanishes.

Proof.

1. ``What yhat + bhat - (W y + b) = What (yhat - y) + (What - W) y + (bhat - b)`` (an identity,
   :func:`test_error_decomposition`), so its magnitude is at most ``D + |bhat - b|``.
2. In any binary tree over ``n`` leaves a leaf lies under at most ``n - 1`` additions
   (:func:`test_tree_depth`); with its product's rounding a product passes at most ``n``
   roundings, so the computed sum is ``sum_k t_k prod_{i <= n_k}(1 + d_ki)`` with ``n_k <= n``
   (plus the underflow terms). Higham's Lemma 3.1: ``|prod (1 + d_i) - 1| <= gamma_k`` for
   ``k u < 1`` (:func:`test_gamma_bounds_the_rounding_factors`), and ``gamma_k <= gamma_n``.
   Hence ``|s - What yhat| <= gamma_n sum |what_k yhat_k| <= gamma_n M`` (Higham eq. 3.5, any
   order). Each product's underflow ``|e| <= eta_A`` is carried through at most ``n``
   subsequent factors, each product at most ``eta_A (1 + gamma_n)``: ``n eta_A (1 + gamma_n)``
   in all. The rounding model itself (relative for sums, relative plus ``eta`` for products)
   is checked exhaustively on the fp8 formats (:func:`test_rounding_model_exhaustively`).
3. Storing ``s`` in F: ``|fl_F(s) - s| <= u_F |s| + eta_F <= u_F (M + E_s) + eta_F``.
4. Adding the bias: ``|fl(s + bhat) - (s + bhat)| <= u_z |s + bhat| (+ eta_F)`` with
   ``|s + bhat| <= |z| + E_s + |bhat - b|`` (two roundings, A then F, compose to
   ``(1 + u_A)(1 + u_F) - 1``: :func:`test_two_roundings_compose`). Adding step 1 gives
   ``E_z``. Under rule ``all`` an implementation may instead make the bias a leaf without a
   product: ``n + 1`` leaves, at most ``n + 1`` roundings on any path, ``gamma_{n+1}`` over
   ``M + |bhat|``; the certificate takes the larger of the two bounds.
5. Exactness. If every product and the bias are integer multiples of ``2**Q`` and
   ``sum |terms| < 2**(Q + p)``, every partial sum is such a multiple of magnitude below
   ``2**(Q + p)``, which a binary format with precision ``p`` holds exactly when ``2**Q`` is at
   least its smallest subnormal (:func:`test_multiples_of_the_quantum_are_exact`); then no
   rounding changes anything, in any order, and ``E = 0``. The code takes ``Q`` from the
   lowest set bits of the row's inputs and the column's weights (a lower bound of each
   product's), requires ``D = 0`` (no input or weight error), and uses the smaller precision
   and the larger quantum of F and A.
6. ReLU and the cap ``h(z) = min(max(z, 0), YMAX)`` are monotone and 1-Lipschitz, so
   ``|h(zhat) - h(z)| <= |zhat - z|``; if ``z < 0`` and ``|zhat - z| < |z|`` then
   ``h(zhat) = 0 = h(z)``, and if ``z > YMAX`` and ``|zhat - z| < z - YMAX`` then both are
   ``YMAX`` (:func:`test_relu_and_cap_are_lipschitz_and_decisions_vanish`); a cap that F does not
   hold adds ``|fl_F(YMAX) - YMAX|``. So the next layer's ``e`` is 0 where the decision is
   certain (inactive, or capped with an exact cap), and ``E_z`` elsewhere.
7. Rule ``nonzero``: where ``|W y| > E_s``, ``s`` is nonzero and the bias is added, as in exact
   arithmetic; where ``E_s = 0``, ``s = W y`` exactly. Otherwise the implementation may output
   0 instead (``s = 0``): the output error is then at most ``max(E_z, h(z))``; and where
   ``W y = 0`` exactly but ``E_s > 0`` it may add the bias to a nonzero ``s``, giving at most
   ``max(0, b + E_z)``. Every case is covered by the hull of the values the implementation can
   produce, mapped through the monotone ``h``.

Each layer's ``e`` bounds the next layer's inputs, so by induction over layers every bound
holds for any implementation in the model. Every quantity is evaluated in float64 with
upward-directed bounds (:mod:`symdnn.certify.bounds`), so no bound is ever too small.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import sympy

from tests import oracle as O

u = sympy.symbols("u", positive=True)


def test_error_decomposition():
    W, Wh, y, yh, b, bh = sympy.symbols("W What y yhat b bhat")
    lhs = Wh * yh + bh - (W * y + b)
    rhs = Wh * (yh - y) + (Wh - W) * y + (bh - b)
    assert sympy.expand(lhs - rhs) == 0


def _trees(n: int):
    """Every binary tree over n leaves, as the depth of each leaf."""
    if n == 1:
        yield (0,)
        return
    for k in range(1, n):
        for left in _trees(k):
            for right in _trees(n - k):
                yield tuple(d + 1 for d in left + right)


def test_tree_depth():
    for n in range(1, 8):
        assert max(max(t) for t in _trees(n)) == n - 1
        assert min(max(t) for t in _trees(n)) == (n - 1).bit_length()  # balanced


def test_gamma_bounds_the_rounding_factors():
    """``(1 + u)**k - 1 <= gamma_k`` and ``1 - (1 - u)**k <= gamma_k`` for ``k u < 1``:
    ``f(u) = 1 - (1 + u)**k (1 - k u)`` has ``f(0) = 0`` and ``f'(u) >= 0`` on the range."""
    for k in range(1, 17):
        f = 1 - (1 + u) ** k * (1 - k * u)
        fp = sympy.factor(sympy.diff(f, u))
        assert sympy.simplify(fp - k * (k + 1) * u * (1 + u) ** (k - 1)) == 0
        g = 1 - (1 - u) ** k - k * u  # 1 - (1-u)^k <= k u <= gamma_k
        assert sympy.simplify(sympy.diff(g, u) - k * ((1 - u) ** (k - 1) - 1)) == 0
    # and on numbers, exactly, at the unit roundoffs the certificates use
    for p in (3, 4, 8, 11, 24, 53):
        uu = Fraction(1, 2 ** p)
        for k in (1, 2, 3, 7, 32, 1000):
            if k * uu >= 1:
                continue
            gam = k * uu / (1 - k * uu)
            assert (1 + uu) ** k - 1 <= gam and 1 - (1 - uu) ** k <= gam


def test_two_roundings_compose():
    ua, uf = sympy.symbols("u_A u_F", positive=True)
    worst = (1 + ua) * (1 + uf) - 1
    assert sympy.expand(worst - (ua + uf + ua * uf)) == 0


def _values(fmt: str) -> list[Fraction]:
    f = O.FORMATS[fmt]
    vals = set()
    for bits in range(1 << f.width):
        v = O.bits_to_fraction(bits, fmt)
        if isinstance(v, Fraction):
            vals.add(v)
    return sorted(vals)


def test_rounding_model_exhaustively():
    """Every sum and product of two values of each fp8 format: a sum is within ``u |x|``,
    a product within ``u |x| + eta`` (or overflows)."""
    for fmt in ("fp8_e4m3", "fp8_e5m2"):
        f = O.FORMATS[fmt]
        uu = Fraction(1, 2 ** f.p)
        eta = Fraction(2) ** (f.emin - f.p)
        big = O.bits_to_fraction(O.round_fraction(Fraction(10 ** 9), fmt), fmt)
        vals = _values(fmt)
        for a, b in itertools.combinations_with_replacement(vals, 2):  # both commute
            for x, slack in ((a + b, 0), (a * b, eta)):
                r = O.round_value(x, fmt)
                if isinstance(r, str) or (isinstance(big, Fraction) and abs(r) > big):
                    continue  # overflow: unbounded, the certificate says so
                assert abs(r - x) <= uu * abs(x) + slack, (fmt, a, b)


def test_multiples_of_the_quantum_are_exact():
    """``m 2**Q`` with ``|m| < 2**p`` is a value of the format when ``2**Q`` is at least its
    smallest subnormal (and it does not overflow)."""
    for fmt in ("fp8_e4m3", "fp8_e5m2", "bf16", "fp16"):
        f = O.FORMATS[fmt]
        qmin = f.emin - f.p + 1
        for Q in range(qmin, qmin + (12 if f.p < 8 else 2)):
            for m in range(-(2 ** f.p) + 1, 2 ** f.p):
                x = Fraction(m) * Fraction(2) ** Q
                assert O.round_value(x, fmt) == x, (fmt, m, Q)
        # one quantum below, the smallest odd multiple is not exact
        x = Fraction(1) * Fraction(2) ** (qmin - 1)
        assert O.round_value(x, fmt) != x


def test_relu_and_cap_are_lipschitz_and_decisions_vanish():
    ymax = Fraction(5, 2)

    def h(z):
        return min(max(z, Fraction(0)), ymax)

    grid = [Fraction(k, 8) for k in range(-40, 41)]
    for z, zh in itertools.product(grid, repeat=2):
        assert abs(h(zh) - h(z)) <= abs(zh - z)
        if z < 0 and abs(zh - z) < -z:
            assert h(zh) == h(z) == 0
        if z > ymax and abs(zh - z) < z - ymax:
            assert h(zh) == h(z) == ymax
