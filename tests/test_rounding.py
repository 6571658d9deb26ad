"""Correct rounding of exact values into float formats.

The oracle for the 16- and 8-bit formats is exhaustive enumeration: every bit pattern of the
format, decoded by NumPy/ml_dtypes, gives the sorted list of representable values; between two
neighbours the midpoint must round to the one whose significand is even, and points just below
and above it to the nearer neighbour. fp32 and fp64 are checked against single roundings done by
NumPy's cast from an exact float64 and by CPython's correctly rounded Fraction -> float.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symdnn import round_exact
from symdnn.domains import FORMATS, NEG_INF, POS_INF, get_format

SMALL = ["fp16", "bf16", "fp8_e4m3", "fp8_e5m2"]


def _uint(fmt: str):
    return np.uint16 if FORMATS[fmt].dtype.itemsize == 2 else np.uint8


def _bits(x, fmt: str) -> int:
    return int(np.asarray(x, dtype=FORMATS[fmt].dtype).view(_uint(fmt)))


def _table(fmt: str) -> tuple[list[Fraction], list[int]]:
    """Every finite non-negative value of the format, ascending, with its bit pattern."""
    u = _uint(fmt)
    n = 1 << (8 * np.dtype(u).itemsize)
    pats = np.arange(n // 2, dtype=u)  # sign bit clear
    with np.errstate(invalid="ignore"):
        vals = pats.view(FORMATS[fmt].dtype).astype(np.float64)
    keep = np.isfinite(vals)
    pairs = sorted((Fraction(float(v)), int(p)) for v, p in zip(vals[keep], pats[keep],
                                                                   strict=True))
    return [v for v, _ in pairs], [p for _, p in pairs]


@pytest.mark.parametrize("fmt", SMALL)
def test_exhaustive_round_to_nearest_even(fmt):
    values, pats = _table(fmt)
    assert values[0] == 0 and len(set(values)) == len(values)
    for v, p in zip(values, pats, strict=True):
        assert _bits(round_exact(v, fmt), fmt) == p, (fmt, v)
    for (lo, plo), (hi, phi) in zip(zip(values, pats, strict=True),
                                    zip(values[1:], pats[1:], strict=True), strict=False):
        mid = (lo + hi) / 2
        eps = (hi - lo) / 1024
        even = plo if plo % 2 == 0 else phi
        assert _bits(round_exact(mid, fmt), fmt) == even, (fmt, mid)
        assert _bits(round_exact(mid - eps, fmt), fmt) == plo, (fmt, mid - eps)
        assert _bits(round_exact(mid + eps, fmt), fmt) == phi, (fmt, mid + eps)
        assert _bits(round_exact(-mid, fmt), fmt) == even | (1 << (8 * np.dtype(
            _uint(fmt)).itemsize - 1)), (fmt, -mid)


@pytest.mark.parametrize("fmt", SMALL)
def test_overflow_and_underflow(fmt):
    values, pats = _table(fmt)
    top, below = values[-1], values[-2]
    ulp = top - below  # spacing in the top binade
    f = get_format(fmt)
    assert top == f.max_finite
    just_over = top + ulp / 2 + ulp / 1024
    tie = top + ulp / 2
    if f.has_inf:
        assert np.isposinf(float(round_exact(just_over, fmt)))
        assert np.isposinf(float(round_exact(tie, fmt)))  # max has an odd significand
        assert np.isneginf(float(round_exact(-tie, fmt)))
        assert np.isposinf(float(round_exact(POS_INF, fmt)))
    else:  # fp8_e4m3: no infinity; 448 has an even significand, so the tie stays at 448
        assert float(round_exact(tie, fmt)) == float(top)
        assert np.isnan(float(round_exact(just_over, fmt)))
        assert np.isnan(float(round_exact(NEG_INF, fmt)))
    assert float(round_exact(top + ulp / 2 - ulp / 1024, fmt)) == float(top)
    # below half the smallest subnormal: zero, keeping the sign
    tiny = values[1]
    assert _bits(round_exact(tiny / 2 - tiny / 1024, fmt), fmt) == 0
    neg_zero = round_exact(-(tiny / 4), fmt)
    assert float(neg_zero) == 0 and np.signbit(float(neg_zero))
    assert float(round_exact(tiny / 2, fmt)) == 0  # tie between 0 (even) and tiny
    assert float(round_exact(tiny * 3 / 2, fmt)) == float(2 * tiny)  # tie goes to even


@settings(max_examples=500)
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_fp32_matches_a_single_rounding_from_float64(x):
    # x is exact; NumPy's float64 -> float32 cast rounds once, correctly
    with np.errstate(over="ignore"):
        expected = np.float32(x)
    got = round_exact(x, "fp32")
    assert got.dtype == np.float32
    assert got.tobytes() == expected.tobytes()


@settings(max_examples=500)
@given(st.fractions(max_denominator=10**40).filter(lambda q: abs(q) < 10**300))
def test_fp64_matches_cpython_fraction_to_float(q):
    # CPython rounds int / int true division correctly
    expected = q.numerator / q.denominator
    assert float(round_exact(q, "fp64")) == expected


def test_one_step_rounding_differs_from_rounding_through_float64():
    x = 1 + Fraction(1, 2**8) + Fraction(1, 2**60)  # just above a bf16 midpoint
    assert float(round_exact(x, "bf16")) == 1 + 2**-7
    assert float(np.float64(float(x)).astype(FORMATS["bf16"].dtype)) == 1.0  # double rounding


def test_inputs_of_every_exact_kind_agree():
    import flint
    import sympy

    third = [Fraction(1, 3), flint.fmpq(1, 3), sympy.Rational(1, 3), "1/3"]
    results = {_bits(round_exact(v, "fp16"), "fp16") for v in third}
    assert len(results) == 1


def test_nan_and_non_numbers_are_refused():
    from symdnn import DomainError

    with pytest.raises(DomainError, match="NaN"):
        round_exact(float("nan"), "fp16")
    with pytest.raises(DomainError):
        round_exact("one third", "fp16")
    with pytest.raises(Exception, match="unknown float format"):
        round_exact(1, "fp12")
