"""Float formats fp64 down to fp8, and correct rounding of exact values into them.

Formats: ``fp64``, ``fp32``, ``fp16`` (NumPy), ``bf16``, ``fp8_e4m3`` and ``fp8_e5m2``
(ml_dtypes). ``fp8_e4m3`` is the OCP/NVIDIA E4M3 format (ml_dtypes ``float8_e4m3fn``): no
infinities, largest finite value 448, and values that round beyond it become NaN.

:func:`round_exact` rounds an exact rational to a format in one step (round to nearest, ties to
even, with the format's subnormals and overflow). Going through float64 first would round twice:
``1 + 2**-8 + 2**-60`` rounds to the bf16 midpoint ``1 + 2**-8`` in float64 and then to 1, while
the correctly rounded bf16 value is ``1 + 2**-7``.

Arithmetic in a :class:`FloatDomain` happens in the format itself: every ``+`` and ``*`` is
rounded to the format (NumPy and ml_dtypes compute fp16/bf16/fp8 operations in float32 and round
once more, which is innocuous because float32 has at least 2p+2 bits for these formats), and
reductions accumulate sequentially in key order, rounding after every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import ml_dtypes
import numpy as np

from symdnn.domains.base import Domain, Infinity, segment_lengths
from symdnn.domains.rational import exact_parts
from symdnn.errors import DomainError, UnknownDomain

__all__ = ["FloatFormat", "FORMATS", "get_format", "round_exact", "round_ratio", "ulp_distance",
           "FloatDomain"]


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format.

    Attributes
    ----------
    name : str
        ``fp64``, ``fp32``, ``fp16``, ``bf16``, ``fp8_e4m3`` or ``fp8_e5m2``.
    dtype : numpy.dtype
        The NumPy (or ml_dtypes) dtype that stores it.
    precision : int
        Significand bits, the implicit bit included (53 for fp64, 8 for bf16).
    emin : int
        Exponent of the smallest normal number (its subnormals reach ``2**(emin - precision + 1)``).
    max_finite : fractions.Fraction
        The largest finite value.
    has_inf : bool
        Whether the format has infinities; without them, overflow gives NaN.
    """

    name: str
    dtype: np.dtype
    precision: int
    emin: int
    max_finite: Fraction
    has_inf: bool

    def ulp(self, value: Any) -> Fraction:
        """The unit in the last place at an exact value's magnitude (the spacing of the format
        there), as an exact rational."""
        parts = exact_parts(value)
        if isinstance(parts, Infinity):
            raise DomainError("an infinity has no ulp")
        a = Fraction(abs(parts[0]), parts[1])
        e = self.emin if a == 0 else max(_floor_log2(a.numerator, a.denominator), self.emin)
        return Fraction(2) ** (e - self.precision + 1)


def _floor_log2(a: int, b: int) -> int:
    """floor(log2(a / b)) for positive integers."""
    e = a.bit_length() - b.bit_length()
    if (a < (b << e)) if e >= 0 else ((a << -e) < b):
        e -= 1
    return e


def _make(name: str, dtype: Any, has_inf: bool) -> FloatFormat:
    dt = np.dtype(dtype)
    fi = ml_dtypes.finfo(dt) if dt.type.__module__.startswith("ml_dtypes") else np.finfo(dt)
    return FloatFormat(
        name=name,
        dtype=dt,
        precision=int(fi.nmant) + 1,
        emin=int(fi.minexp),
        max_finite=Fraction(float(fi.max)),
        has_inf=has_inf,
    )


FORMATS: dict[str, FloatFormat] = {
    f.name: f
    for f in (
        _make("fp64", np.float64, True),
        _make("fp32", np.float32, True),
        _make("fp16", np.float16, True),
        _make("bf16", ml_dtypes.bfloat16, True),
        _make("fp8_e4m3", ml_dtypes.float8_e4m3fn, False),
        _make("fp8_e5m2", ml_dtypes.float8_e5m2, True),
    )
}


def get_format(fmt: str | FloatFormat) -> FloatFormat:
    """Look a float format up by name.

    Raises
    ------
    UnknownDomain
        For a name that is not a supported format.

    Examples
    --------
    >>> f = get_format("bf16")
    >>> f.precision, f.emin, f.max_finite == 2**127 * (2 - 2**-7)
    (8, -126, True)
    """
    if isinstance(fmt, FloatFormat):
        return fmt
    try:
        return FORMATS[fmt]
    except (KeyError, TypeError):
        raise UnknownDomain(
            f"unknown float format {fmt!r}; known formats: {', '.join(FORMATS)}"
        ) from None


def round_exact(value: Any, fmt: str | FloatFormat) -> np.generic:
    """Round an exact value to a float format correctly, in one step.

    Round to nearest, ties to even, with the format's subnormals; a value whose rounding (with
    an unbounded exponent) exceeds the largest finite number overflows to infinity, or to NaN in
    a format without infinities (``fp8_e4m3``).

    Parameters
    ----------
    value : int, fractions.Fraction, flint.fmpq, sympy.Rational, float, str or Infinity
        Any exact number (see :func:`symdnn.domains.exact_parts`); floats are taken as the dyadic
        rationals they denote.
    fmt : str or FloatFormat
        Target format, e.g. ``"bf16"``.

    Returns
    -------
    numpy scalar of the format's dtype

    Examples
    --------
    >>> from fractions import Fraction
    >>> float(round_exact(Fraction(1, 3), "fp16"))
    0.333251953125
    >>> x = 1 + Fraction(1, 2**8) + Fraction(1, 2**60)
    >>> float(round_exact(x, "bf16"))   # correct: above the midpoint
    1.0078125
    >>> float(np.float64(x).astype("bfloat16"))   # through float64: rounded twice
    1.0
    >>> round_exact(1000, "fp8_e4m3")
    nan
    """
    f = get_format(fmt)
    parts = exact_parts(value)
    if isinstance(parts, Infinity):
        return f.dtype.type(float(parts) if f.has_inf else math.nan)
    p, q = parts
    if p == 0:  # a float -0.0 keeps its sign, as an IEEE conversion does
        neg = isinstance(value, float | np.floating) and math.copysign(1.0, value) < 0
        return f.dtype.type(-0.0 if neg else 0.0)
    sign = -1 if p < 0 else 1
    a, b = abs(p), q
    e = _floor_log2(a, b)
    qe = max(e, f.emin) - (f.precision - 1)  # exponent of the last significand bit
    if qe >= 0:
        n, d = a, b << qe
    else:
        n, d = a << -qe, b
    m, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and m & 1):
        m += 1
    if m == 0:
        return f.dtype.type(-0.0 if sign < 0 else 0.0)
    if Fraction(m) * Fraction(2) ** qe > f.max_finite:
        return f.dtype.type(sign * math.inf if f.has_inf else math.nan)
    return f.dtype.type(math.ldexp(sign * m, qe))


def round_ratio(num: np.ndarray, s: int, fmt: str | FloatFormat) -> np.ndarray:
    """Correctly round every ``num[i] / s`` (integers) into a format, vectorised.

    When every ``|num|`` and ``s`` are below 2**53 both are exact in float64, so float64
    division rounds ``num / s`` correctly once; rounding that to a format of ``p <= 24`` bits is
    then the correct rounding of ``num / s`` itself, because double rounding through a format of
    at least ``2p + 2`` bits is innocuous for a division (S. Figueroa, "When is double rounding
    innocuous?", 1995). Larger values use Python's integer true division, which is also
    correctly rounded to float64 (entry by entry, in C), and :func:`round_exact` only when a
    quotient overflows float64.

    Examples
    --------
    >>> import numpy as np
    >>> round_ratio(np.array([1, 2, -7]), 3, "fp16").tolist()
    [0.333251953125, 0.66650390625, -2.333984375]
    """
    f = get_format(fmt)
    num = np.asarray(num)
    if s < 2**53 and (num.size == 0 or (num.dtype != object and
                                        int(np.max(np.abs(num))) < 2**53)):
        q = num.astype(np.float64) / float(s)
        if f.name == "fp64":
            return q
        with np.errstate(over="ignore"):
            return q.astype(f.dtype)
    out = np.empty(len(num), dtype=np.float64)
    for i, v in enumerate(num):
        try:
            out[i] = int(v) / s  # correctly rounded, any size
        except OverflowError:
            return np.array([round_exact(Fraction(int(w), s), f) for w in num], dtype=f.dtype)
    if f.name == "fp64":
        return out
    with np.errstate(over="ignore"):
        return out.astype(f.dtype)


def ulp_distance(a: np.ndarray, b: np.ndarray, fmt: str | FloatFormat) -> np.ndarray:
    """How many representable values of the format lie between ``a`` and ``b`` (0 when
    equal; +0 and -0 are equal), from the bit patterns. Both must be finite values of the
    format.

    Examples
    --------
    >>> import numpy as np
    >>> ulp_distance(np.array([1.0, -1.0]), np.array([1.0 + 2**-52, 1.0]), "fp64").tolist()
    [1, 9214364837600034816]
    """
    f = get_format(fmt)
    bits = 8 * f.dtype.itemsize
    width = {64: np.int64, 32: np.int32, 16: np.int16, 8: np.int8}[bits]
    mask = np.int64((1 << (bits - 1)) - 1)

    def ordinal(x: np.ndarray) -> np.ndarray:
        u = np.asarray(x, dtype=f.dtype).view(width).astype(np.int64)
        mag = u & mask
        return np.where(u < 0, -mag, mag)  # sign-magnitude onto a monotone integer line

    return np.abs(ordinal(a) - ordinal(b))


_OPS = {"plus": np.add, "times": np.multiply, "max": np.maximum, "min": np.minimum}


class FloatDomain(Domain):
    """Values in one float format; arithmetic rounded to that format.

    Examples
    --------
    >>> from symdnn.domains import get_domain
    >>> d = get_domain("fp16")
    >>> d.convert("0.1")
    np.float16(0.1)
    >>> [float(v) for v in d.binop("plus", d.from_list([2048.0]), d.from_list([1.0]))]
    [2048.0]
    """

    kind = "numeric"
    is_exact = False

    def __init__(self, fmt: str | FloatFormat):
        self.format_ = get_format(fmt)
        self.name = self.format_.name
        self.dtype = self.format_.dtype

    def convert(self, value: Any) -> Any:
        if isinstance(value, float | np.floating) or type(value).__module__ == "ml_dtypes":
            return self.dtype.type(float(value))  # the float is exact: one rounding
        try:
            return round_exact(value, self.format_)
        except DomainError:
            raise DomainError(f"cannot convert {value!r} to {self.name}") from None

    def const(self, token: str) -> Any:
        table = {"0": 0.0, "1": 1.0, "-inf": -math.inf, "+inf": math.inf}
        if token not in table:
            raise self._unsupported(f"constant {token}")
        if math.isinf(table[token]) and not self.format_.has_inf:
            raise DomainError(f"format {self.name} has no {token}")
        return self.dtype.type(table[token])

    def format(self, element: Any) -> str:
        return repr(float(element))

    def from_list(self, values: list[Any]) -> np.ndarray:
        return np.array([self.convert(v) for v in values], dtype=self.dtype)

    def from_array(self, x: np.ndarray) -> np.ndarray:
        """A vector from a NumPy array: floats are rounded once into the format; integers are
        rounded exactly (through :func:`round_exact` when float64 would round first)."""
        x = np.asarray(x)
        if x.dtype.kind in "iu" and x.size and int(np.max(np.abs(x.astype(object)))) > 2**53:
            return self.from_list(x.tolist())
        return x.astype(np.float64 if x.dtype.kind in "iub" else x.dtype).astype(self.dtype)

    def to_list(self, vec: np.ndarray) -> list[Any]:
        return list(vec)

    def size(self, vec: np.ndarray) -> int:
        return len(vec)

    def take(self, vec: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return vec[idx]

    def concat(self, vecs: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(vecs) if vecs else np.zeros(0, dtype=self.dtype)

    def binop(self, op: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if op not in _OPS:
            raise self._unsupported(op)
        with np.errstate(over="ignore", invalid="ignore"):
            return _OPS[op](x, y).astype(self.dtype, copy=False)

    def reduceat(self, op: str, x: np.ndarray, starts: np.ndarray) -> np.ndarray:
        if op not in _OPS:
            raise self._unsupported(op)
        if op in ("max", "min"):
            return _OPS[op].reduceat(x, starts)
        # sequential accumulation in the format, one rounding per step, in key order
        seg = segment_lengths(starts, len(x))
        acc = x[starts].copy()
        ufunc = _OPS[op]
        with np.errstate(over="ignore", invalid="ignore"):
            for r in range(1, int(seg.max()) if len(seg) else 0):
                live = seg > r
                acc[live] = ufunc(acc[live], x[starts[live] + r]).astype(self.dtype)
        return acc

    def equal(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(x == y, dtype=bool)

    def is_const(self, x: np.ndarray, token: str) -> np.ndarray:
        table = {"0": 0.0, "1": 1.0, "-inf": -math.inf, "+inf": math.inf}
        if token not in table:
            return np.zeros(len(x), dtype=bool)
        return np.asarray(x.astype(np.float64) == table[token], dtype=bool)

    def outside(self, x: np.ndarray, carrier: Any) -> np.ndarray:
        v = x.astype(np.float64)
        bad = np.isnan(v)
        if carrier.lo == "-inf" and not carrier.lo_closed:
            bad |= v == -math.inf
        if carrier.lo == "0":
            bad |= (v < 0) if carrier.lo_closed else (v <= 0)
        if carrier.hi == "+inf" and not carrier.hi_closed:
            bad |= v == math.inf
        return bad

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        mags = rng.uniform(-1, 1, n) * 10.0 ** rng.integers(-3, 4, n)
        return [self.dtype.type(m) for m in mags]
