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
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import ml_dtypes
import numpy as np

from symdnn.domains.base import Domain, Infinity, segment_lengths
from symdnn.domains.rational import RatVec, exact_parts
from symdnn.errors import DomainError, UnknownDomain

__all__ = ["FloatFormat", "FORMATS", "get_format", "round_exact", "round_rationals", "round_ratio",
           "narrow", "round_values", "ulp_distance", "FloatDomain", "accumulation_format"]


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
    emax: int = 0

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
        emax=int(fi.maxexp) - 1,
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


def accumulation_format(fmt: str, accumulate: str | None = None) -> str:
    """The format a computation in ``fmt`` accumulates in: ``accumulate`` when given,
    ``fmt`` itself for ``"same"``, and by default ``fmt`` for fp64 and fp32 and fp32 for the
    narrower formats (their products are exact there; scipy has no kernels for them).

    The audit's runs, the threshold audit and the certificates all ask this one function.

    Examples
    --------
    >>> accumulation_format("bf16"), accumulation_format("bf16", "same")
    ('fp32', 'bf16')
    >>> accumulation_format("fp64"), accumulation_format("fp16", "fp64")
    ('fp64', 'fp64')
    """
    if accumulate == "same":
        return fmt
    if accumulate is None:
        return fmt if fmt in ("fp64", "fp32") else "fp32"
    return accumulate


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


def _round_int(p: int, q: int, f: FloatFormat) -> float:
    """The correctly rounded value of ``p/q`` (``q > 0``) in format ``f``, as a Python float
    (exact: every value of every format is a float64), from integer arithmetic alone.

    Round to nearest, ties to even, with the format's subnormals; a value whose rounding with
    an unbounded exponent exceeds the largest finite number overflows to infinity, or to NaN
    in a format without infinities. A nonzero value that rounds to zero keeps its sign.
    """
    if p == 0:
        return 0.0
    sign = -1.0 if p < 0 else 1.0
    a = abs(p)
    e = _floor_log2(a, q)
    qe = max(e, f.emin) - (f.precision - 1)  # exponent of the last significand bit
    if qe >= 0:
        n, d = a, q << qe
    else:
        n, d = a << -qe, q
    m, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and m & 1):
        m += 1
    if m == 0:
        return sign * 0.0
    if m.bit_length() + qe > f.emax + 1 or Fraction(m) * Fraction(2) ** qe > f.max_finite:
        return sign * math.inf if f.has_inf else math.nan
    return math.ldexp(sign * m, qe)


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

    See Also
    --------
    round_rationals : the same rounding, vectorised over arrays of numerators and denominators.
    narrow : one rounding from a wider float format.

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
    if p == 0:  # a float -0.0 (NumPy, ml_dtypes or Python) keeps its sign, as IEEE does
        neg = _is_float(value) and math.copysign(1.0, float(value)) < 0
        return f.dtype.type(-0.0 if neg else 0.0)
    return f.dtype.type(_round_int(p, q, f))


def _is_float(value: Any) -> bool:
    return isinstance(value, float | np.floating) or \
        type(value).__module__.startswith("ml_dtypes")


#: Half-width, in float64 ulps, of the band around a midpoint of the target format inside
#: which an approximate quotient cannot decide the rounding (its error is at most 3.0002 ulps).
_BAND = 8


def _round_f64(x: np.ndarray, f: FloatFormat, band: int) -> tuple[np.ndarray, np.ndarray]:
    """Round float64 values ``x`` into format ``f``, one rounding each.

    Returns ``(rounded, undecided)``, ``rounded`` in the format's dtype. ``undecided`` holds
    the indices of the entries within ``band`` float64 ulps of a midpoint of the format, where
    ``x`` as an approximation of some exact value does not determine that value's rounding
    (``band=0``: ``x`` is itself the value to round, and nothing is undecided).

    fp32 and fp16 use NumPy's conversions, which round float64 once, correctly (IEEE
    conversion; ``npy_double_to_half``). bf16 and fp8 round half to even on the bit patterns
    (normal results) or with ``ldexp``/``rint`` (subnormal results), exact on these operands,
    and are then stored exactly.
    """
    x = np.ascontiguousarray(x, dtype=np.float64).ravel()
    shift = 53 - f.precision
    none = np.zeros(0, dtype=np.int64)
    if shift == 0:
        return x.copy(), none
    mag = x.view(np.uint64) & np.uint64(0x7FFFFFFFFFFFFFFF)
    low_mask = np.uint64((1 << shift) - 1)
    half = np.uint64(1 << (shift - 1))
    normal_lo = np.uint64((f.emin + 1023) << 52)
    has_small = bool(len(mag)) and mag.min() < normal_lo
    undecided = none
    if band:
        near = ((mag - (half - np.uint64(band))) & low_mask) <= np.uint64(2 * band)
        undecided = np.flatnonzero(near)
    if f.name in ("fp32", "fp16"):
        with np.errstate(over="ignore"):
            out = x.astype(f.dtype)
        small = np.flatnonzero(mag < normal_lo) if (has_small and band) else none
    else:
        rnd = mag + (half - np.uint64(1))
        rnd += (mag >> np.uint64(shift)) & np.uint64(1)
        rnd &= ~low_mask
        rnd |= x.view(np.uint64) & np.uint64(0x8000000000000000)
        out64 = rnd.view(np.float64)
        small = np.flatnonzero(mag < normal_lo) if has_small else none
        if len(small):
            qe = f.emin - (f.precision - 1)
            xs = x[small]
            out64[small] = np.copysign(np.ldexp(np.rint(np.ldexp(np.abs(xs), -qe)), qe), xs)
        special = np.flatnonzero(mag >= np.uint64(0x7FF0000000000000))  # inf, nan
        out64[special] = x[special]
        if len(out64) and np.nanmax(np.abs(out64), initial=0.0) > float(f.max_finite):
            over = np.abs(out64) > float(f.max_finite)  # False for NaN
            out64[over] = np.copysign(math.inf, x[over]) if f.has_inf else math.nan
        with np.errstate(over="ignore", invalid="ignore"):
            out = out64.astype(f.dtype)  # exact: every entry is a value of the format
    if band and len(small):
        # below the normal range the grid is coarser than the bit test assumed: decide those
        # entries again whenever they lie near a midpoint of the subnormal grid
        qe = f.emin - (f.precision - 1)
        t = np.ldexp(np.abs(x[small]), -qe)
        frac = t - np.floor(t)
        near_s = np.abs(frac - 0.5) <= band * np.spacing(t)
        undecided = np.union1d(undecided, small[near_s])
    return out, undecided


def _as_ints(a: Any) -> np.ndarray:
    """Integers as int64/uint64, or an object array of Python ints (NumPy and flint integers
    converted exactly); anything else is refused."""
    a = np.asarray(a)
    if a.dtype.kind in "iu":
        return a
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    if a.dtype == object:
        out = np.empty(a.shape, dtype=object)
        flat = out.reshape(-1)
        for i, v in enumerate(a.reshape(-1)):
            if isinstance(v, bool | np.bool_):
                flat[i] = int(v)
                continue
            try:
                flat[i] = operator.index(v)
            except TypeError:
                raise DomainError(f"numerators and denominators must be integers, not "
                                  f"{v!r} ({type(v).__name__})") from None
        return out
    raise DomainError(f"numerators and denominators must be integers, not {a.dtype}")


def round_rationals(num: Any, den: Any, fmt: str | FloatFormat) -> np.ndarray:
    """Correctly round every ``num[i] / den[i]`` into a float format, in one rounding each.

    Vectorised: a float64 approximation of each quotient is rounded on its bit pattern, and
    only the entries whose approximation lies within a few float64 ulps of a midpoint of the
    format (where it could round the wrong way) are decided again exactly, in integer
    arithmetic. Round to nearest, ties to even, subnormals, overflow to infinity (NaN for
    ``fp8_e4m3``); a negative value that rounds to zero gives ``-0``.

    Parameters
    ----------
    num : array of int
        Numerators: int64, unsigned, or an object array of Python integers of any size.
    den : array of int or int
        Positive denominators, one per numerator or one for all.
    fmt : str or FloatFormat

    Returns
    -------
    numpy.ndarray
        In the format's dtype.

    Raises
    ------
    DomainError
        When a denominator is not positive or the values are not integers.

    Examples
    --------
    >>> import numpy as np
    >>> round_rationals(np.array([4503599895805951]), 4503599627370495, "fp32").tolist()
    [1.0000001192092896]
    >>> s = 2**40 + 1
    >>> round_rationals(np.array([65520 * s - 1]), s, "fp16").tolist()   # not inf
    [65504.0]
    >>> round_rationals(np.array([1, -1, 2**70 + 1]), np.array([3, 10**400, 1]), "bf16").tolist()
    [0.333984375, -0.0, 1.1805916207174113e+21]
    """
    f = get_format(fmt)
    num_in = _as_ints(num)
    if num_in.ndim == 0:
        return round_rationals(num_in.reshape(1), den, f).reshape(())
    num = num_in.ravel()
    den_arr = _as_ints(den)
    scalar_den = den_arr.ndim == 0
    if not scalar_den:
        den_arr = den_arr.ravel()
        if den_arr.shape != num.shape:
            raise DomainError(f"{len(num)} numerators but {len(den_arr)} denominators")
    if scalar_den or len(den_arr):
        dmin = int(den_arr) if scalar_den else int(den_arr.min())
        if dmin <= 0:
            raise DomainError(f"denominators must be positive, not {dmin}")
    n = len(num)
    if n == 0:
        return np.zeros(0, dtype=f.dtype)
    fixed = num.dtype != object and den_arr.dtype != object
    if fixed and f.precision < 53:
        # 64-bit integers as float64 (relative error at most 2**-53 each), one IEEE division:
        # the quotient is within 3.0002 float64 ulps of the exact value
        a = num.astype(np.float64) / (float(den_arr) if scalar_den
                                      else den_arr.astype(np.float64))
        band = _BAND
    elif fixed and _maxabs_int(num) <= 2**53 and \
            (int(den_arr) if scalar_den else _maxabs_int(den_arr)) <= 2**53:
        # both exact in float64: IEEE division rounds the quotient correctly, once
        return num.astype(np.float64) / (float(den_arr) if scalar_den
                                         else den_arr.astype(np.float64))
    else:
        # Python's int / int is correctly rounded to float64 at any size
        dd = np.full(n, int(den_arr), dtype=object) if scalar_den else den_arr.astype(object)
        try:
            a = (num.astype(object) / dd).astype(np.float64)
        except OverflowError:
            a = np.array([_ratio_or_inf(int(p), int(q)) for p, q in zip(num, dd, strict=True)])
        if f.precision == 53:
            return a
        band = 1
    out, undecided = _round_f64(a, f, band)
    for i in undecided:
        q = int(den_arr) if scalar_den else int(den_arr[i])
        out[i] = _round_int(int(num[i]), q, f)
    return out


def _ratio_or_inf(p: int, q: int) -> float:
    try:
        return p / q
    except OverflowError:
        return math.inf if p > 0 else -math.inf


def _maxabs_int(a: np.ndarray) -> int:
    if a.size == 0:
        return 0
    if a.dtype == object:
        return max(abs(int(v)) for v in a)
    if a.dtype.kind == "u":
        return int(a.max())
    return max(abs(int(a.min())), abs(int(a.max())))


def narrow(x: Any, fmt: str | FloatFormat) -> np.ndarray:
    """Round float values into a (narrower) float format in one rounding.

    A conversion through float32 rounds twice: ``1 + 2**-8 + 2**-40`` becomes 1.0 in bf16
    that way, while its correct rounding is ``1 + 2**-7``; ml_dtypes has converted float64 to
    bfloat16 and fp8 through float32 in some releases and for some paths (scalars, arrays), so
    symdnn never relies on its casts from a wider format. This rounds the exact value of each
    float directly (ties to even, subnormals, overflow per format) and stores the result
    with a cast that is exact; NaN and infinities pass through (infinity becomes NaN in
    ``fp8_e4m3``).

    Parameters
    ----------
    x : array_like of floats
        Any NumPy or ml_dtypes float dtype (or Python floats).
    fmt : str or FloatFormat

    Returns
    -------
    numpy.ndarray
        In the format's dtype, with the shape of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> narrow(np.array([1 + 2**-8 + 2**-40]), "bf16").tolist()
    [1.0078125]
    >>> narrow(np.array([1 + 2**-8, 464.0, -1e-300]), "fp8_e4m3").tolist()  # tie, 448, -0
    [1.0, 448.0, -0.0]
    """
    f = get_format(fmt)
    arr = np.asarray(x)
    if arr.dtype == f.dtype:
        return arr.copy()
    if arr.dtype.kind in "iub" or arr.dtype == object:
        return round_rationals(arr.ravel(), 1, f).reshape(arr.shape)
    if arr.dtype.kind not in "fV":
        raise DomainError(f"narrow() takes floats, not {arr.dtype}")
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 8:  # long double: not exact in float64
        flat = arr.ravel()
        out = np.empty(len(flat), dtype=f.dtype)
        for i, v in enumerate(flat):
            out[i] = round_exact(Fraction(*v.as_integer_ratio()), f) if np.isfinite(v) \
                else narrow(np.array([float(v)]), f)[0]
        return out.reshape(arr.shape)
    a = arr.astype(np.float64)  # exact from every float format
    if f.name == "fp64":
        return a
    if f.name == "fp32":
        with np.errstate(over="ignore"):
            return a.astype(np.float32)  # one IEEE conversion
    out, _ = _round_f64(a, f, 0)
    return out.reshape(arr.shape)


def round_ratio(num: np.ndarray, s: int, fmt: str | FloatFormat) -> np.ndarray:
    """Correctly round every ``num[i] / s`` (integers over one denominator) into a format.

    The same as :func:`round_rationals` with one denominator; kept for callers that hold
    activations over a common denominator.

    Examples
    --------
    >>> import numpy as np
    >>> round_ratio(np.array([1, 2, -7]), 3, "fp16").tolist()
    [0.333251953125, 0.66650390625, -2.333984375]
    """
    return round_rationals(np.asarray(num), int(s), fmt)


def round_values(vec: Any, fmt: str | FloatFormat) -> np.ndarray:
    """Every value of a domain vector rounded once, correctly, into a float format.

    ``vec`` is a :class:`~symdnn.domains.rational.RatVec` (exact rationals, infinities
    included), an array of floats of any format (narrowed with :func:`narrow`), or a sequence
    of exact numbers (SymPy rationals, Fractions, ...; each through :func:`round_exact`).

    Examples
    --------
    >>> from symdnn.domains import QQ
    >>> round_values(QQ.from_list(["1/3", "-inf", 2**70 + 1]), "bf16").tolist()
    [0.333984375, -inf, 1.1805916207174113e+21]
    """
    f = get_format(fmt)
    if isinstance(vec, RatVec):
        num, den = vec.num, vec.den
        inf = np.asarray(den == 0)
        if not inf.any():
            return round_rationals(num, den, f)
        out = np.empty(len(num), dtype=f.dtype)
        fin = np.flatnonzero(~inf)
        out[fin] = round_rationals(num[fin], den[fin], f)
        signs = np.sign(np.asarray(num[inf], dtype=object).astype(np.int64)).astype(np.float64)
        out[np.flatnonzero(inf)] = (signs * math.inf if f.has_inf
                                    else np.full(len(signs), math.nan)).astype(f.dtype)
        return out
    if isinstance(vec, np.ndarray) and vec.dtype != object:
        return narrow(vec, f)
    return np.array([round_exact(v, f) for v in vec], dtype=f.dtype)


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
            return narrow(np.array([value]), self.format_)[0]  # one rounding of the float
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
        """A vector from a NumPy array, each value rounded once into the format (floats with
        :func:`narrow`, integers of any size with :func:`round_rationals`)."""
        x = np.asarray(x)
        if x.dtype.kind == "b":
            x = x.astype(np.int64)
        return narrow(x, self.format_).ravel()

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
