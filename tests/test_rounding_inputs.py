"""Inputs at the edges of what the rounding kernels accept: NumPy integers inside object
arrays, values that are not integers, long doubles, signed zeros of ml_dtypes, bad
denominators with no numerators. Expected values come from Fraction arithmetic written here."""

from __future__ import annotations

from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from symdnn.domains import get_domain
from symdnn.domains.floats import narrow, round_exact, round_rationals, round_values
from symdnn.errors import DomainError


def _nearest_bf16(x: Fraction) -> float:
    """bf16 rounding of a value in [1, 2): 7 fraction bits, ties to even (by hand)."""
    scaled = x * 2**7
    m, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r > scaled.denominator or (2 * r == scaled.denominator and m % 2):
        m += 1
    return m / 2**7


def test_numpy_integers_inside_object_arrays_round_once():
    n, d = 5985166160854533997, 5443509280541176093
    got = round_rationals(np.array([np.int64(n), 2**70], dtype=object), d, "fp64")[0]
    assert got == float(Fraction(n, d))  # CPython's Fraction -> float rounds correctly
    n, d = 4646146534912514433, 2452398995747636484
    got = round_rationals(np.array([np.int64(n)], dtype=object),
                          np.array([np.int64(d)], dtype=object), "bf16")
    assert float(got[0]) == _nearest_bf16(Fraction(n, d)) == 1.8984375


@pytest.mark.parametrize("bad", [Fraction(1, 3), 0.5, "3", None])
def test_values_that_are_not_integers_are_refused(bad):
    with pytest.raises(DomainError, match="must be integers"):
        round_rationals(np.array([bad], dtype=object), 1, "bf16")


@pytest.mark.parametrize("den", [0, -5])
def test_bad_denominator_is_refused_even_with_no_numerators(den):
    with pytest.raises(DomainError, match="positive"):
        round_rationals(np.array([], dtype=np.int64), den, "bf16")


def test_long_double_narrows_in_one_rounding():
    x = np.longdouble(1) + np.longdouble(2) ** -8 + np.longdouble(2) ** -60
    if Fraction(*x.as_integer_ratio()) == Fraction(1) + Fraction(1, 2**8):
        pytest.skip("this platform's long double is float64")
    assert float(narrow(np.array([x]), "bf16")[0]) == 1.0078125
    assert float(get_domain("bf16").convert(x)) == 1.0078125


@pytest.mark.parametrize("src", [ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, np.float16])
def test_negative_zero_keeps_its_sign(src):
    z = src(-0.0)
    assert np.signbit(np.float64(round_exact(z, "fp16")))
    assert np.signbit(round_values([z], "fp32")[0])


def test_from_array_takes_python_ints_of_any_size():
    v = 2**70 + 2**62 + 1
    got = get_domain("bf16").from_array(np.array([v], dtype=object))
    assert float(got[0]) == float(round_exact(v, "bf16")) == 2.0**70 * (1 + 2**-7)


def test_zero_dimensional_numerator_keeps_its_shape():
    assert round_rationals(np.int64(3), 2, "fp16").shape == ()
