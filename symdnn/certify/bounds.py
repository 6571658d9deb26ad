"""Rigorous arithmetic for precision certificates: the constants of an implementation's
formats, float64 numbers that are never below the exact value they bound, and exact tests.

Every bound is an upper bound computed in float64. A single operation is rounded upward by
:func:`add_up` (the nearest result, then one step towards infinity, never below the exact
result, subnormals included); a short expression of nonnegative terms, or a sparse product
computed by scipy, is inflated afterwards by a factor that covers every rounding on the way
(:func:`inflate`, and ``_up`` in :mod:`symdnn.certify.phases`). Product operands are first
raised to at least ``2**-400``
(:func:`floor_pos`), which only makes an upper bound larger and keeps every product and sum
far from float64's underflow. Exact rationals enter through :func:`ratio_bounds` (the
correctly rounded float64 of ``N / s`` and its two neighbours) or :func:`up_fraction`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from symdnn.domains.floats import FloatFormat, get_format, round_ratio
from symdnn.errors import ArgumentError

__all__ = ["Arith", "add_up", "inflate", "floor_pos", "ratio_bounds", "ratio_lo",
           "up_fraction", "v2_floats", "v2_ratios", "less_exact", "NEG", "POS"]

INF = math.inf
#: positive operands of a bound product are raised to this (never lowering a bound)
FLOOR = 2.0 ** -400
#: sentinels for the exponent of the lowest set bit: "not dyadic" and "zero"
NEG = -(1 << 40)
POS = 1 << 40


def add_up(a: Any, b: Any) -> np.ndarray:
    """``a + b`` rounded upward (one float64 step above the nearest result; a float sum is
    zero only when it is exactly zero, and then it stays zero).

    Examples
    --------
    >>> from fractions import Fraction
    >>> r = add_up(0.1, 0.2)
    >>> Fraction(float(r)) >= Fraction(0.1) + Fraction(0.2), float(add_up(0.0, 0.0))
    (True, 0.0)
    """
    r = np.add(a, b)
    return np.where(r == 0, r, np.nextafter(r, INF))


def inflate(x: np.ndarray, n: int) -> np.ndarray:
    """An upper bound of the exact value of a float64 sum of at most ``n`` products of
    nonnegative numbers, each at least ``2**-400`` (so nothing underflows), from the computed
    ``x``: every term passed through at most ``n`` roundings, so the exact value is at most
    ``x / (1 - u)**n <= x (1 + 2 n u)``; the factor used, ``1 + (2n + 4) 2**-53``, covers
    that and the rounding of the multiplication itself.

    Examples
    --------
    >>> import numpy as np
    >>> float(inflate(np.array([1.0]), 32)[0]) > 1.0
    True
    """
    c = 1.0 + (2 * max(int(n), 1) + 4) * 2.0 ** -53
    if c - 1.0 > 0.25:
        raise ArgumentError(f"{n} terms in one sum: too many for float64 bound arithmetic")
    with np.errstate(over="ignore"):
        return np.asarray(x, dtype=np.float64) * c


def floor_pos(x: np.ndarray) -> np.ndarray:
    """Positive entries raised to at least ``2**-400`` (zeros stay zero).

    Examples
    --------
    >>> import numpy as np
    >>> floor_pos(np.array([0.0, 1e-300, 2.0])).tolist() == [0.0, 2.0 ** -400, 2.0]
    True
    """
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, np.maximum(x, FLOOR), x)


def ratio_bounds(num: Any, s: int) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` float64 arrays with ``lo <= num / s <= hi`` exactly, for integer
    numerators (int64, integer-valued float64 below 2**53, or Python ints of any size) over
    one positive integer ``s``: the neighbours of the correctly rounded quotient.

    Examples
    --------
    >>> from fractions import Fraction
    >>> lo, hi = ratio_bounds([1, 0], 3)
    >>> Fraction(float(lo[0])) < Fraction(1, 3) < Fraction(float(hi[0])), float(lo[1])
    (True, 0.0)
    """
    num = np.asarray(num)
    if num.size == 0:
        z = np.zeros(0)
        return z, z.copy()
    if num.dtype.kind == "f":
        num = num.astype(np.int64)
    if num.dtype != object and s < 2 ** 53 and -2 ** 53 < num.min() and num.max() < 2 ** 53:
        # both exact in float64: IEEE division rounds the quotient correctly, once
        r = num.astype(np.float64)
        if s != 1:
            r /= float(s)
        lo = np.nextafter(r, -INF)
        hi = np.nextafter(r, INF)
        zero = r == 0  # exactly zero here
        if zero.any():
            lo[zero] = 0.0
            hi[zero] = 0.0
        return lo, hi
    else:
        with np.errstate(over="ignore"):
            r = np.asarray(round_ratio(num, int(s), "fp64"), dtype=np.float64)
    lo = np.nextafter(r, -INF)
    hi = np.nextafter(r, INF)
    big = np.finfo(np.float64).max
    lo = np.where(r == INF, big, lo)
    hi = np.where(r == -INF, -big, hi)
    zero = r == 0
    if zero.any():  # an exact zero is exact; a tiny nonzero that rounded to 0 is not
        exact0 = _is_zero(num)
        lo = np.where(zero & exact0, 0.0, lo)
        hi = np.where(zero & exact0, 0.0, hi)
    return lo, hi


def ratio_lo(num: Any, s: int) -> np.ndarray:
    """The lower bound of :func:`ratio_bounds` alone (cheaper where only it is needed).

    Examples
    --------
    >>> from fractions import Fraction
    >>> Fraction(float(ratio_lo([2], 3)[0])) < Fraction(2, 3)
    True
    """
    num = np.asarray(num)
    if num.dtype.kind == "f":
        num = num.astype(np.int64)
    if num.size and num.dtype != object and s < 2 ** 53 and -2 ** 53 < num.min() and \
            num.max() < 2 ** 53:
        r = num.astype(np.float64)
        if s != 1:
            r /= float(s)
        lo = np.nextafter(r, -INF)
        lo[r == 0] = 0.0  # exactly zero here
        return lo
    return ratio_bounds(num, s)[0]


def _is_zero(num: np.ndarray) -> np.ndarray:
    if num.dtype == object:
        return np.array([int(v) == 0 for v in num.ravel()], dtype=bool).reshape(num.shape)
    return num == 0


def up_fraction(x: Fraction | int) -> float:
    """The smallest float64 at or above the exact value ``x`` (``inf`` beyond the range).

    Examples
    --------
    >>> from fractions import Fraction
    >>> up_fraction(Fraction(1, 10)) == 0.1, up_fraction(Fraction(3, 10)) > 0.3
    (True, True)
    >>> up_fraction(10 ** 400)
    inf
    """
    x = Fraction(x)
    try:
        f = float(x)
    except OverflowError:
        return INF if x > 0 else -float(np.finfo(np.float64).max)
    if Fraction(f) < x:
        f = float(np.nextafter(f, INF))
    return f


def less_exact(bound: np.ndarray, num: np.ndarray, s: int) -> np.ndarray:
    """``bound[i] < |num[i]| / s`` decided exactly (``bound`` float64, numerators integers).

    Examples
    --------
    >>> import numpy as np
    >>> less_exact(np.array([0.1, 0.1]), np.array([1, 2]), 10).tolist()
    [False, True]
    """
    out = np.zeros(len(bound), dtype=bool)
    for i, (b, n) in enumerate(zip(bound.tolist(), np.asarray(num).tolist(), strict=True)):
        out[i] = b != INF and Fraction(b) * s < abs(int(n))
    return out


def v2_floats(x: np.ndarray) -> np.ndarray:
    """The exponent of the lowest set bit of each float64 (``POS`` for zero): ``x`` is an
    integer multiple of ``2**v2`` and of no higher power of two.

    Examples
    --------
    >>> import numpy as np
    >>> v2_floats(np.array([12.0, 0.375, 1.0])).tolist()
    [2, -3, 0]
    """
    x = np.abs(np.asarray(x, dtype=np.float64))
    out = np.full(x.shape, POS, dtype=np.int64)
    nz = (x != 0) & np.isfinite(x)
    if nz.any():
        m, e = np.frexp(x[nz])  # x = m 2**e, 0.5 <= m < 1, 53 significant bits
        mi = (m * 2.0 ** 53).astype(np.int64)
        low = mi & -mi
        out[nz] = e.astype(np.int64) - 53 + np.log2(low.astype(np.float64)).astype(np.int64)
    return out


def v2_ratios(num: np.ndarray, s: int) -> np.ndarray:
    """The exponent of the lowest set bit of each ``num[i] / s``, or ``NEG`` where the
    value is not dyadic (``POS`` for zero).

    Examples
    --------
    >>> import numpy as np
    >>> v2_ratios(np.array([3, 1, 6]), 12).tolist() == [-2, NEG, -1]
    True
    """
    s = int(s)
    t = (s & -s).bit_length() - 1
    odd = s >> t
    num = np.asarray(num)
    out = np.empty(num.shape, dtype=np.int64)
    if num.dtype != object and (num.size == 0 or np.max(np.abs(num)) < 2.0 ** 62):
        n = num.astype(np.int64)
        if odd >= 2 ** 62:  # larger than every numerator: only zero is a multiple of it
            out[:] = NEG
            out[n == 0] = POS
            return out
        if odd == 1:
            ok = np.ones(n.shape, dtype=bool)
            q = np.abs(n)
        elif odd < 2 ** 53 and (n.size == 0 or np.max(np.abs(n)) < 2 ** 53):
            # |n| < 2**53: n / odd in float64 is an integer exactly when odd divides n (a
            # remainder leaves a fraction of at least 1/odd, more than half an ulp there)
            r = n.astype(np.float64) / float(odd)
            ok = np.floor(r) == r
            q = np.abs(np.where(ok, r, 0.0)).astype(np.int64)
        else:
            ok = n % odd == 0
            q = np.abs(n // odd)
        low = q & -q
        out[:] = NEG
        nz = ok & (q != 0)
        out[nz] = np.log2(low[nz].astype(np.float64)).astype(np.int64) - t
        out[ok & (q == 0)] = POS
        return out
    for i, v in enumerate(num.ravel().tolist()):
        v = int(v)
        if v == 0:
            out.flat[i] = POS
        elif v % odd:
            out.flat[i] = NEG
        else:
            q = abs(v // odd)
            out.flat[i] = (q & -q).bit_length() - 1 - t
    return out


@dataclass(frozen=True)
class Arith:
    """An implementation's arithmetic: values stored in format ``fmt``, products and sums
    computed in ``acc`` (the same format, or a wider one), each rounding to nearest.

    ``u_f``, ``u_a`` are the unit roundoffs ``2**-p``; ``eta_a``, ``eta_f`` half the smallest
    subnormal (the absolute error of a rounding that underflows); ``p`` and ``qmin`` the
    precision and smallest-subnormal exponent a value must fit to be exact in both formats;
    ``max_finite`` the largest value both can hold.

    Examples
    --------
    >>> a = Arith.of("fp16", "fp32")
    >>> a.name, a.p, a.u_f == 2.0 ** -11, float(a.gamma([2])[0]) > 2 * 2.0 ** -24
    ('fp16+acc_fp32', 11, True, True)
    """

    fmt: FloatFormat
    acc: FloatFormat

    @classmethod
    def of(cls, fmt: str, acc: str | None = None) -> Arith:
        f = get_format(fmt)
        a = get_format(acc) if acc else f
        if a.precision < f.precision or a.emin > f.emin:
            raise ArgumentError(f"accumulation format {a.name} is narrower than {f.name}")
        return cls(f, a)

    @property
    def name(self) -> str:
        return self.fmt.name if self.fmt == self.acc else f"{self.fmt.name}+acc_{self.acc.name}"

    @property
    def same(self) -> bool:
        return self.fmt == self.acc

    @property
    def u_f(self) -> float:
        return 2.0 ** -self.fmt.precision

    @property
    def u_a(self) -> float:
        return 2.0 ** -self.acc.precision

    @property
    def eta_f(self) -> float:
        # fp64's is 2**-1075, below float64's own smallest subnormal: that stands for it
        return max(2.0 ** (self.fmt.emin - self.fmt.precision), 2.0 ** -1074)

    @property
    def eta_a(self) -> float:
        return max(2.0 ** (self.acc.emin - self.acc.precision), 2.0 ** -1074)

    @property
    def p(self) -> int:
        return min(self.fmt.precision, self.acc.precision)

    @property
    def qmin(self) -> int:
        return max(f.emin - f.precision + 1 for f in (self.fmt, self.acc))

    @property
    def max_finite(self) -> float:
        return float(min(self.fmt.max_finite, self.acc.max_finite))

    @property
    def u_z(self) -> float:
        """The relative error of rounding a sum in ``acc`` and then into ``fmt`` (upward):
        ``(1 + u_a)(1 + u_f) - 1`` when the formats differ, ``u_a`` when they are one."""
        if self.same:
            return self.u_a
        ua, uf = Fraction(1, 2 ** self.acc.precision), Fraction(1, 2 ** self.fmt.precision)
        return up_fraction(ua + uf + ua * uf)

    def gamma(self, n: np.ndarray) -> np.ndarray:
        """``gamma_n = n u / (1 - n u)`` for the accumulation format, upward (``inf`` where
        ``n u >= 1``), for an integer array ``n``."""
        n = np.asarray(n, dtype=np.int64)
        out = np.zeros(n.shape, dtype=np.float64)
        u = Fraction(1, 2 ** self.acc.precision)
        for k in np.unique(n).tolist():
            nu = k * u
            out[n == k] = INF if nu >= 1 else up_fraction(nu / (1 - nu))
        return out
