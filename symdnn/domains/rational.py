"""Exact integers ``ZZ`` and rationals ``QQ``, extended by exact plus and minus infinity.

Elements are ``flint.fmpz`` / ``flint.fmpq`` (or :data:`POS_INF` / :data:`NEG_INF`). A vector is a
:class:`RatVec`: a numerator array and a denominator array, each ``int64`` while every entry is
below 2**62 in magnitude and a NumPy object array of Python integers beyond that, so arithmetic
never overflows silently. Canonical form per entry: ``gcd(num, den) == 1`` and ``den > 0``;
infinities are stored as ``(+-1, 0)``.

A float entering these domains becomes exactly the dyadic rational it denotes; a decimal string
(``"0.3"``, ``"6.25e-02"``) becomes the decimal rational it spells.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import flint
import numpy as np
import sympy

from symdnn.domains.base import NEG_INF, POS_INF, Domain, Infinity, segment_lengths
from symdnn.errors import DomainError

__all__ = ["RatVec", "RationalDomain", "ZZ", "QQ", "exact_parts", "reduce_common", "dyadic_vec"]

#: int64 storage holds only magnitudes below this bound, so one add or compare never overflows.
LIMIT = 1 << 62


@dataclass(frozen=True, eq=False)
class RatVec:
    """Vector of extended rationals: ``num / den`` entry by entry (``den == 0`` is +-inf)."""

    num: np.ndarray
    den: np.ndarray

    def __len__(self) -> int:
        return len(self.num)


def compact(a: np.ndarray) -> np.ndarray:
    """``a`` as int64 when every entry fits below :data:`LIMIT`, else as Python-int objects."""
    if a.dtype != object:
        return a
    if a.size == 0:
        return a.astype(np.int64)
    return a.astype(np.int64) if maxabs(a) < LIMIT else a


def maxabs(a: np.ndarray) -> int:
    """Largest magnitude in an integer array, as a Python int (0 for an empty array)."""
    if a.size == 0:
        return 0
    return int(np.max(np.abs(a)))


def as_object(a: np.ndarray) -> np.ndarray:
    return a if a.dtype == object else a.astype(object)


def ints(values: list[int]) -> np.ndarray:
    """A compact integer array from a list of Python ints."""
    if not values:
        return np.zeros(0, dtype=np.int64)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return compact(arr)


def mul(a: np.ndarray, b: np.ndarray | int, bound: int | None = None) -> np.ndarray:
    """Exact product of integer arrays (or an array and a Python int), in int64 when safe.

    int64 is used only when both operands and the product bound fit below :data:`LIMIT`; a
    small bound alone is not enough (a zero factor makes the bound 0 whatever the other
    operand holds).
    """
    ma = maxabs(a)
    mb = abs(b) if isinstance(b, int) else maxabs(b)
    if bound is None:
        bound = ma * mb
    if bound < LIMIT and ma < LIMIT and mb < LIMIT:
        return a.astype(np.int64, copy=False) * (
            b if isinstance(b, int) else b.astype(np.int64, copy=False)
        )
    return compact(as_object(a) * (b if isinstance(b, int) else as_object(b)))


def _gcd_normalize(num: np.ndarray, den: np.ndarray) -> RatVec:
    g = np.gcd(num, den)
    g[g == 0] = 1
    return RatVec(compact(num // g), compact(den // g))


#: largest common denominator for which :func:`reduce_common` builds a gcd lookup table
TABLE_LIMIT = 1 << 22


def gcd_table(D: int) -> np.ndarray:
    """``table[r] == gcd(r, D)`` for ``0 <= r < D``, sieved from the prime powers of ``D``.

    Costs about ``2 D`` strided multiplications, far less than ``D`` gcds.
    """
    table = np.ones(D, dtype=np.int64)
    for p, e in flint.fmpz(D).factor():
        p = int(p)
        pk = p
        for _ in range(e):
            table[::pk] *= p
            pk *= p
    return table


def reduce_common(num: np.ndarray, D: int) -> RatVec:
    """Canonical ``num / D`` entry by entry, for one common positive denominator ``D``.

    ``gcd(num, D) == gcd(num mod D, D)``, so for a moderate ``D`` (at most
    :data:`TABLE_LIMIT`, and not much larger than the number of entries) one remainder and one
    lookup in :func:`gcd_table` give every gcd; otherwise an element-wise gcd is taken.
    """
    n = len(num)
    if D == 1:
        return RatVec(compact(num), np.ones(n, dtype=np.int64))
    if num.dtype != object and D <= TABLE_LIMIT and D <= 8 * n + 1024:
        g = gcd_table(D)[np.mod(num, D)]
        return RatVec(num // g, D // g)
    den = np.full(n, D, dtype=np.int64 if D < LIMIT else object)
    if num.dtype == object and D < LIMIT:
        den = den.astype(object)
    return _gcd_normalize(num, den)


#: the limits of :func:`symdnn.io.text.exact_number` (``MAX_EXPONENT`` and its digit limit),
#: which the domains, below :mod:`symdnn.io`, cannot import; tests/test_bounded_inputs.py
#: checks that they agree
_MAX_EXPONENT = 10_000
_MAX_CHARS = 4000
_EXPONENT = re.compile(r"[eE]\s*([+-]?[\d_]+)\s*\Z")


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _check_size(s: str) -> None:
    """Refuse a number string that ``Fraction`` would take minutes or gigabytes to read: more
    than ``_MAX_CHARS`` characters, an exponent beyond ``_MAX_EXPONENT``, or a non-ASCII
    character (``Fraction`` reads any Unicode digit)."""
    if len(s) > _MAX_CHARS:
        raise DomainError(f"{s[:20]}... has too many digits")
    if not s.isascii():
        raise DomainError(f"cannot read {_short(s)!r} as an exact number (not ASCII)")
    m = _EXPONENT.search(s)
    if m:
        try:
            e = int(m.group(1))
        except ValueError:
            return  # not a number at all: Fraction says so
        if abs(e) > _MAX_EXPONENT:
            raise DomainError(f"{_short(s)!r}: the exponent is beyond +-{_MAX_EXPONENT}")


def exact_parts(value: Any) -> tuple[int, int] | Infinity:
    """The exact value of a number as ``(numerator, denominator)``, or an :class:`Infinity`.

    Accepts Python and NumPy integers and floats (any float format, including ml_dtypes),
    ``fractions.Fraction``, ``flint.fmpz``/``fmpq``, SymPy rationals and infinities, and strings
    (``"3/10"``, ``"0.3"``, ``"-inf"``). Floats give the dyadic rational they denote exactly.

    Raises
    ------
    DomainError
        For NaN, a non-numeric value or an irrational SymPy number; for a string that is not
        a number, or whose exponent or length exceed the limits of the readers
        (:func:`symdnn.io.text.exact_number`): ``"1e999999999"`` is refused at once, where
        ``Fraction`` would expand it for minutes.

    Examples
    --------
    >>> exact_parts(0.1)
    (3602879701896397, 36028797018963968)
    >>> exact_parts("6.25e-02")
    (1, 16)
    """
    if isinstance(value, Infinity):
        return value
    if isinstance(value, bool | np.bool_):
        return int(value), 1
    if isinstance(value, int | np.integer | flint.fmpz):
        return int(value), 1
    if isinstance(value, flint.fmpq):
        return int(value.p), int(value.q)
    if isinstance(value, Fraction):
        return value.numerator, value.denominator
    if isinstance(value, float | np.generic) and not isinstance(value, np.str_ | np.bytes_):
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise DomainError(f"cannot read {value!r} as a number") from None
        if math.isnan(f):
            raise DomainError("NaN has no exact value")
        if math.isinf(f):
            return POS_INF if f > 0 else NEG_INF
        return f.as_integer_ratio()
    if isinstance(value, str):
        s = value.strip()
        low = s.lower()
        if low in ("inf", "+inf", "infinity", "+infinity", "oo"):
            return POS_INF
        if low in ("-inf", "-infinity", "-oo"):
            return NEG_INF
        _check_size(s)
        try:
            f = Fraction(s)
        except (ValueError, ZeroDivisionError):
            raise DomainError(f"cannot read {_short(s)!r} as an exact number") from None
        return f.numerator, f.denominator
    mod = type(value).__module__ or ""
    if mod.startswith("sympy"):
        if value == sympy.oo:
            return POS_INF
        if value == -sympy.oo:
            return NEG_INF
        if getattr(value, "is_Rational", False):
            return int(value.p), int(value.q)
        raise DomainError(f"{value!r} is not a rational number")
    raise DomainError(f"cannot read {value!r} (type {type(value).__name__}) as an exact number")


def dyadic_vec(x: np.ndarray) -> RatVec:
    """The exact rationals denoted by an array of floats (any NumPy or ml_dtypes float format).

    Vectorised: each finite float is ``M * 2**E`` with an integer ``M < 2**53``.

    Raises
    ------
    DomainError
        If an entry is NaN.
    """
    x = np.asarray(x).astype(np.float64)
    if np.isnan(x).any():
        i = int(np.flatnonzero(np.isnan(x))[0])
        raise DomainError(f"NaN at position {i} has no exact value")
    n = len(x)
    inf = np.isinf(x)
    xf = np.where(inf, 0.0, x)
    m, e = np.frexp(xf)
    M = (m * 2.0**53).astype(np.int64)  # exact: |m| < 1
    E = e.astype(np.int64) - 53
    # strip trailing zero bits of M so denominators stay small
    tz = np.zeros(n, dtype=np.int64)
    nz = M != 0
    low = M[nz] & -M[nz]
    tz[nz] = np.log2(low.astype(np.float64)).astype(np.int64)
    M = M >> tz
    E = E + tz
    E[~nz] = 0
    if len(E) and (E.max() >= 9 or E.min() <= -61):
        num = as_object(M).copy()
        den = np.ones(n, dtype=object)
        pos = E > 0
        num[pos] = [int(a) << int(b) for a, b in zip(M[pos], E[pos], strict=True)]
        neg = E < 0
        den[neg] = [1 << int(-b) for b in E[neg]]
    else:
        num = np.where(E > 0, M << np.maximum(E, 0), M)
        den = np.where(E < 0, np.int64(1) << np.maximum(-E, 0), 1).astype(np.int64)
    num[inf] = np.sign(x[inf]).astype(np.int64)
    den[inf] = 0
    return RatVec(compact(num), compact(den))


class RationalDomain(Domain):
    """``ZZ`` (``integer=True``) or ``QQ``, backed by python-flint scalars.

    Examples
    --------
    >>> from symdnn.domains import QQ, ZZ
    >>> QQ.convert("3/6")
    1/2
    >>> QQ.convert(0.25)
    1/4
    >>> ZZ.convert(7)
    7
    >>> QQ.const("-inf")
    -inf
    """

    kind = "numeric"
    is_exact = True

    def __init__(self, integer: bool):
        self.integer = integer
        self.name = "ZZ" if integer else "QQ"

    # -- scalars ---------------------------------------------------------------------------
    def _element(self, p: int, q: int) -> Any:
        if q == 0:
            return POS_INF if p > 0 else NEG_INF
        return flint.fmpz(p) if self.integer else flint.fmpq(p, q)

    def convert(self, value: Any) -> Any:
        parts = exact_parts(value)
        if isinstance(parts, Infinity):
            return parts
        p, q = parts
        if self.integer and q != 1:
            raise DomainError(f"{value!r} is not an integer, so it is not in domain ZZ")
        return self._element(p, q)

    def const(self, token: str) -> Any:
        table = {"0": 0, "1": 1, "-inf": NEG_INF, "+inf": POS_INF}
        if token not in table:
            raise self._unsupported(f"constant {token}")
        return self.convert(table[token])

    def format(self, element: Any) -> str:
        return str(element)

    # -- vectors ---------------------------------------------------------------------------
    def from_list(self, values: list[Any]) -> RatVec:
        nums: list[int] = []
        dens: list[int] = []
        for v in values:
            parts = exact_parts(v)
            if isinstance(parts, Infinity):
                nums.append(parts.sign)
                dens.append(0)
                continue
            p, q = parts
            if self.integer and q != 1:
                raise DomainError(f"{v!r} is not an integer, so it is not in domain ZZ")
            g = math.gcd(p, q)
            nums.append(p // g)
            dens.append(q // g)
        return RatVec(ints(nums), ints(dens))

    def from_floats(self, x: np.ndarray) -> RatVec:
        """Exact vector from a float array (vectorised; see :func:`dyadic_vec`)."""
        vec = dyadic_vec(x)
        if self.integer and np.any(vec.den > 1):
            i = int(np.flatnonzero(vec.den > 1)[0])
            raise DomainError(f"value {float(np.asarray(x)[i])!r} at position {i} is not in ZZ")
        return vec

    def from_ints(self, x: np.ndarray) -> RatVec:
        """Exact vector from an integer array."""
        x = np.asarray(x)
        if x.dtype == object:
            x = compact(x.copy())
        else:
            x = x.astype(np.int64)
        return RatVec(x, np.ones(len(x), dtype=np.int64))

    def to_list(self, vec: RatVec) -> list[Any]:
        return [self._element(int(p), int(q)) for p, q in zip(vec.num, vec.den, strict=True)]

    def size(self, vec: RatVec) -> int:
        return len(vec.num)

    def take(self, vec: RatVec, idx: np.ndarray) -> RatVec:
        return RatVec(vec.num[idx], vec.den[idx])

    def concat(self, vecs: list[RatVec]) -> RatVec:
        if not vecs:
            return RatVec(np.zeros(0, np.int64), np.zeros(0, np.int64))
        nums = [v.num for v in vecs]
        dens = [v.den for v in vecs]
        if any(a.dtype == object for a in nums):
            nums = [as_object(a) for a in nums]
        if any(a.dtype == object for a in dens):
            dens = [as_object(a) for a in dens]
        return RatVec(np.concatenate(nums), np.concatenate(dens))

    @staticmethod
    def _inf_masks(x: RatVec) -> tuple[np.ndarray, np.ndarray]:
        fin = x.den != 0
        return ~fin & (x.num > 0), ~fin & (x.num < 0)

    def binop(self, op: str, x: RatVec, y: RatVec) -> RatVec:
        if op in ("max", "min"):
            less = self._less(x, y)
            pick_y = less if op == "max" else self._less(y, x)
            num = np.where(pick_y, as_object(y.num), as_object(x.num))
            den = np.where(pick_y, as_object(y.den), as_object(x.den))
            return RatVec(compact(num), compact(den))
        if op not in ("plus", "times"):
            raise self._unsupported(op)
        xp, xn = self._inf_masks(x)
        yp, yn = self._inf_masks(y)
        anyinf = xp | xn | yp | yn
        if anyinf.any():
            return self._binop_with_inf(op, x, y, anyinf)
        if op == "plus":
            if self._all_int(x) and self._all_int(y):
                num = self._add(x.num, y.num)
                return RatVec(num, np.ones(len(num), dtype=np.int64))
            num = self._add(mul(x.num, y.den), mul(y.num, x.den))
            den = mul(x.den, y.den)
        else:
            num = mul(x.num, y.num)
            den = mul(x.den, y.den)
        return _gcd_normalize(num, den)

    def _binop_with_inf(self, op: str, x: RatVec, y: RatVec, anyinf: np.ndarray) -> RatVec:
        fin = ~anyinf
        out_num = np.empty(len(x), dtype=object)
        out_den = np.empty(len(x), dtype=object)
        if fin.any():
            r = self.binop(op, self.take(x, fin), self.take(y, fin))
            out_num[fin] = as_object(r.num)
            out_den[fin] = as_object(r.den)
        for i in np.flatnonzero(anyinf):
            a = self._element(int(x.num[i]), int(x.den[i]))
            b = self._element(int(y.num[i]), int(y.den[i]))
            if op == "plus":
                if isinstance(a, Infinity) and isinstance(b, Infinity) and a.sign != b.sign:
                    raise DomainError("inf + -inf is undefined")
                s = a.sign if isinstance(a, Infinity) else b.sign
            else:
                if a == 0 or b == 0:
                    raise DomainError("0 * inf is undefined")
                sa = a.sign if isinstance(a, Infinity) else (1 if a > 0 else -1)
                sb = b.sign if isinstance(b, Infinity) else (1 if b > 0 else -1)
                s = sa * sb
            out_num[i], out_den[i] = s, 0
        return RatVec(compact(out_num), compact(out_den))

    @staticmethod
    def _all_int(x: RatVec) -> bool:
        return bool(np.all(x.den == 1))

    @staticmethod
    def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if maxabs(a) + maxabs(b) < LIMIT:
            return a.astype(np.int64, copy=False) + b.astype(np.int64, copy=False)
        return compact(as_object(a) + as_object(b))

    def _less(self, x: RatVec, y: RatVec) -> np.ndarray:
        """Mask of ``x < y`` over extended rationals."""
        rx = np.where(x.den == 0, np.where(x.num > 0, 1, -1), 0).astype(np.int8)
        ry = np.where(y.den == 0, np.where(y.num > 0, 1, -1), 0).astype(np.int8)
        fin = (rx == 0) & (ry == 0)
        xd = np.where(fin, x.den, 1)
        yd = np.where(fin, y.den, 1)
        lhs = mul(np.where(fin, x.num, 0), yd)
        rhs = mul(np.where(fin, y.num, 0), xd)
        return (rx < ry) | (fin & (lhs < rhs))

    def _scaled(self, x: RatVec) -> tuple[np.ndarray, int]:
        """Finite entries as integers over one common denominator D (infinities give 0)."""
        fin = x.den != 0
        dens = np.unique(x.den[fin]) if fin.any() else np.array([1])
        D = math.lcm(*[int(d) for d in dens])
        if D == 1:
            return np.where(fin, x.num, 0), 1
        factor = (D // x.den[fin]) if D < LIMIT else (D // as_object(x.den[fin]))
        scaled = np.zeros(len(x), dtype=np.int64 if D < LIMIT else object)
        scaled = as_object(scaled) if maxabs(x.num) * D >= LIMIT else scaled
        scaled[fin] = mul(x.num[fin], factor, maxabs(x.num) * D)
        return compact(scaled), D

    def reduceat(self, op: str, x: RatVec, starts: np.ndarray) -> RatVec:
        n = len(x)
        if op in ("max", "min"):
            scaled, D = self._scaled(x)
            S = maxabs(scaled) + 1
            key = as_object(scaled) if S >= LIMIT else scaled.astype(np.int64)
            pinf, ninf = self._inf_masks(x)
            key = key.copy()
            key[pinf] = S
            key[ninf] = -S
            red = (np.maximum if op == "max" else np.minimum).reduceat(key, starts)
            out = reduce_common(np.where((red == S) | (red == -S), 0, red), D)
            num = as_object(out.num).copy() if (red == S).any() or (red == -S).any() else out.num
            den = as_object(out.den).copy() if num.dtype == object else out.den
            for sgn, mask in ((1, red == S), (-1, red == -S)):
                num[mask] = sgn
                den[mask] = 0
            return RatVec(compact(num), compact(den))
        if op not in ("plus", "times"):
            raise self._unsupported(op)
        pinf, ninf = self._inf_masks(x)
        if (pinf | ninf).any():
            # rare: reduce element by element with the scalar rules
            vals = self.to_list(x)
            bounds = list(starts) + [n]
            res = []
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                acc = self.from_list([vals[a]])
                for v in vals[a + 1 : b]:
                    acc = self.binop(op, acc, self.from_list([v]))
                res.append(self.to_list(acc)[0])
            return self.from_list(res)
        seg = segment_lengths(starts, n)
        maxseg = int(seg.max()) if len(seg) else 0
        if op == "plus":
            scaled, D = self._scaled(x)
            if maxabs(scaled) * maxseg < LIMIT:
                sums = np.add.reduceat(scaled.astype(np.int64), starts)
            else:
                sums = np.add.reduceat(as_object(scaled), starts)
            return reduce_common(sums, D)
        # times
        bn, bd = maxabs(x.num), maxabs(x.den)
        fits = max(bn, bd, 1).bit_length() * maxseg < 62
        num = np.multiply.reduceat(x.num if fits else as_object(x.num), starts)
        den = np.multiply.reduceat(x.den if fits else as_object(x.den), starts)
        return _gcd_normalize(num, den)

    def equal(self, x: RatVec, y: RatVec) -> np.ndarray:
        return np.asarray((x.num == y.num) & (x.den == y.den), dtype=bool)

    def is_const(self, x: RatVec, token: str) -> np.ndarray:
        if token == "0":
            return np.asarray(x.num == 0, dtype=bool)
        if token == "1":
            return np.asarray((x.num == 1) & (x.den == 1), dtype=bool)
        if token == "-inf":
            return np.asarray((x.den == 0) & (x.num < 0), dtype=bool)
        if token == "+inf":
            return np.asarray((x.den == 0) & (x.num > 0), dtype=bool)
        return np.zeros(len(x), dtype=bool)

    def outside(self, x: RatVec, carrier: Any) -> np.ndarray:
        pinf, ninf = self._inf_masks(x)
        bad = np.zeros(len(x), dtype=bool)
        if carrier.lo == "-inf" and not carrier.lo_closed:
            bad |= ninf
        if carrier.lo == "0":
            bad |= np.asarray(x.num < 0 if carrier.lo_closed else x.num <= 0, dtype=bool)
        if carrier.hi == "+inf" and not carrier.hi_closed:
            bad |= pinf
        return bad

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        out: list[Any] = []
        for _ in range(n):
            r = rng.random()
            if r < 0.05:
                out.append(POS_INF)
            elif r < 0.1:
                out.append(NEG_INF)
            elif self.integer:
                out.append(flint.fmpz(int(rng.integers(-30, 31))))
            else:
                out.append(flint.fmpq(int(rng.integers(-30, 31)), int(rng.integers(1, 13))))
        return out


ZZ = RationalDomain(integer=True)
QQ = RationalDomain(integer=False)
