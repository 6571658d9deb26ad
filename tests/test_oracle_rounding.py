"""Correct rounding, checked against an oracle that shares no code with symdnn (issue 10).

Part (a) checks the oracle itself (``tests/oracle.py``, standard library only): every pattern of
the 16- and 8-bit formats decodes to what NumPy / ml_dtypes say it is and re-encodes to itself;
every midpoint between two neighbours rounds to the even one, and nudged by 2**-70 (relative) to
the nearer one; fp64 agrees with CPython's correctly rounded ``Fraction -> float``; the hard
cases of ``tests/hardvalues.py`` round to the answer they were built with.

Part (b) checks symdnn's rounding API against the oracle, bit pattern for bit pattern (all NaNs
equal): ``round_exact``, ``round_rationals``, ``round_ratio`` and ``narrow``.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symdnn
from symdnn.domains import floats as F
from tests import hardvalues as H
from tests import oracle as O

DTYPES = {
    "fp64": np.dtype(np.float64), "fp32": np.dtype(np.float32), "fp16": np.dtype(np.float16),
    "bf16": np.dtype(ml_dtypes.bfloat16), "fp8_e4m3": np.dtype(ml_dtypes.float8_e4m3fn),
    "fp8_e5m2": np.dtype(ml_dtypes.float8_e5m2),
}
UINT = {64: np.uint64, 32: np.uint32, 16: np.uint16, 8: np.uint8}


def bits_of(x, fmt: str) -> list[int]:
    """Bit patterns of an array (or scalar) that must hold values of ``fmt``."""
    a = np.asarray(x)
    assert a.dtype == DTYPES[fmt], f"dtype {a.dtype}, expected {DTYPES[fmt]} for {fmt}"
    return [int(v) for v in np.atleast_1d(a).view(UINT[O.FORMATS[fmt].width]).ravel()]


def canon(bits: int, fmt: str):
    """A pattern with every NaN made the same."""
    return "nan" if O.is_nan_bits(bits, fmt) else bits


def canon_all(bits: list[int], fmt: str) -> list:
    return [canon(b, fmt) for b in bits]


def array_of_bits(bits: list[int], fmt: str) -> np.ndarray:
    return np.array(bits, dtype=UINT[O.FORMATS[fmt].width]).view(DTYPES[fmt])


def show(bits: int, fmt: str) -> str:
    return f"{bits:#x}={O.bits_to_fraction(bits, fmt)}"


# =============================================================================================
# (a) the oracle itself
# =============================================================================================
@pytest.mark.parametrize("fmt", H.SMALL_FORMATS)
def test_oracle_decodes_every_pattern_like_numpy_and_reencodes_it(fmt):
    f = O.FORMATS[fmt]
    n = 1 << f.width
    pats = np.arange(n, dtype=UINT[f.width])
    with np.errstate(invalid="ignore"):
        ref = pats.view(DTYPES[fmt]).astype(np.float64)
    for b in range(n):
        v = O.bits_to_fraction(b, fmt)
        r = float(ref[b])
        if math.isnan(r):
            assert v == "nan", b
            continue
        if math.isinf(r):
            assert v == ("inf" if r > 0 else "-inf"), b
            assert O.round_fraction(v, fmt) == b
            continue
        assert v == Fraction(r), b
        if v == 0:
            assert O.round_fraction(v, fmt) == 0  # an exact 0 is +0
        else:
            assert O.round_fraction(v, fmt) == b, b
    assert O.bits_to_fraction(f.max_finite_bits, fmt) == f.max_finite
    assert f.max_finite == Fraction(float(ml_dtypes.finfo(DTYPES[fmt]).max))
    assert f.min_subnormal == Fraction(float(ml_dtypes.finfo(DTYPES[fmt]).smallest_subnormal))


def test_oracle_format_table():
    t = {k: (f.p, f.emin, f.emax, f.bias, f.width) for k, f in O.FORMATS.items()}
    assert t == {"fp64": (53, -1022, 1023, 1023, 64), "fp32": (24, -126, 127, 127, 32),
                 "fp16": (11, -14, 15, 15, 16), "bf16": (8, -126, 127, 127, 16),
                 "fp8_e4m3": (4, -6, 8, 7, 8), "fp8_e5m2": (3, -14, 15, 15, 8)}
    assert O.FORMATS["fp8_e4m3"].max_finite == 448
    assert O.FORMATS["fp8_e5m2"].max_finite == 57344
    assert O.FORMATS["fp16"].max_finite == 65504
    assert not O.FORMATS["fp8_e4m3"].has_inf


@pytest.mark.parametrize("fmt", H.SMALL_FORMATS)
def test_oracle_midpoints_round_to_even_and_nudges_to_the_nearer(fmt):
    f = O.FORMATS[fmt]
    nudge = Fraction(1, 2**70)
    for lo_bits in range(f.max_finite_bits + 1):
        lo, hi, over = O.neighbours(lo_bits, fmt)
        mid = (lo + hi) / 2
        hi_bits = (f.inf_bits if f.has_inf else f.nan_bits) if over else lo_bits + 1
        even = lo_bits if lo_bits % 2 == 0 else hi_bits
        assert O.round_fraction(mid, fmt) == even, (fmt, mid)
        assert O.round_fraction(mid * (1 - nudge), fmt) == lo_bits, (fmt, mid)
        assert canon(O.round_fraction(mid * (1 + nudge), fmt), fmt) == canon(hi_bits, fmt)
        assert O.round_fraction(-mid, fmt) == even | f.sign_mask
        assert O.round_fraction(-mid * (1 - nudge), fmt) == lo_bits | f.sign_mask


def test_oracle_special_cases_by_hand():
    assert O.round_fraction(Fraction(1, 3), "fp16") == 0x3555          # 0.333251953125
    assert O.round_fraction(65519, "fp16") == 0x7BFF                   # 65504
    assert O.round_fraction(65520, "fp16") == 0x7C00                   # tie beyond max: inf
    assert O.round_fraction(464, "fp8_e4m3") == 0x7E                   # tie: 448 is even
    assert O.is_nan_bits(O.round_fraction(Fraction(4641, 10), "fp8_e4m3"), "fp8_e4m3")
    assert O.round_fraction(61440, "fp8_e5m2") == 0x7C                 # tie beyond max: inf
    assert O.round_fraction(-Fraction(1, 2**26), "fp16") == 0x8000     # -0
    assert O.round_fraction(Fraction(1, 2**25), "fp16") == 0           # tie: 0 is even
    assert O.round_fraction(Fraction(3, 2**25), "fp16") == 2           # tie: 2 is even
    assert O.round_fraction(1 + Fraction(1, 2**8) + Fraction(1, 2**40), "bf16") == 0x3F81
    assert O.round_fraction(Fraction(4503599895805951, 4503599627370495), "fp32") == 0x3F800001
    assert O.round_fraction("inf", "fp8_e4m3") == 0x7F
    assert O.round_fraction("-inf", "bf16") == 0xFF80


@settings(max_examples=300)
@given(st.one_of(st.fractions(max_denominator=10**40), H.big_rationals()))
def test_oracle_fp64_matches_cpython_fraction_to_float(q):
    try:
        want = q.numerator / q.denominator   # CPython: correctly rounded
    except OverflowError:
        want = math.copysign(math.inf, q)
    (want_bits,) = struct.unpack("<Q", struct.pack("<d", want))
    got = O.round_fraction(q, "fp64")
    assert got == want_bits, (q, hex(got), hex(want_bits))  # -0.0 included


@settings(max_examples=300)
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_oracle_fp32_matches_numpy_single_cast_from_exact_float64(x):
    # a float64 is exact; NumPy's float64 -> float32 conversion rounds once, correctly
    with np.errstate(over="ignore"):
        want = int(np.float32(x).view(np.uint32))
    got = O.narrow_bits(int(np.float64(x).view(np.uint64)), "fp64", "fp32")
    assert got == want, (x, hex(got), hex(want))
    if x != 0:
        assert O.round_fraction(Fraction(x), "fp32") == want


@settings(max_examples=400)
@given(st.one_of(H.near_midpoint(), H.boundary_value()))
def test_oracle_rounds_hard_cases_to_their_constructed_answer(case):
    assert canon(O.round_fraction(case.value, case.fmt), case.fmt) == \
        canon(case.expected, case.fmt), (case, show(case.expected, case.fmt))


@settings(max_examples=200)
@given(H.narrowing_case())
def test_oracle_narrows_to_the_constructed_answer(case):
    got = O.narrow_bits(case.src_bits, case.src, case.dst)
    assert canon(got, case.dst) == canon(case.expected, case.dst), case


# =============================================================================================
# (b) symdnn against the oracle
# =============================================================================================
@settings(max_examples=300)
@given(st.one_of(H.near_midpoint(), H.boundary_value()))
def test_round_exact_matches_oracle_on_hard_cases(case):
    got = bits_of(symdnn.round_exact(case.value, case.fmt), case.fmt)[0]
    assert canon(got, case.fmt) == canon(case.expected, case.fmt), \
        (case, show(got, case.fmt), show(case.expected, case.fmt))


@settings(max_examples=150)
@given(st.sampled_from(H.ALL_FORMATS), H.big_rationals())
def test_round_exact_matches_oracle_on_big_rationals(fmt, q):
    got = bits_of(symdnn.round_exact(q, fmt), fmt)[0]
    want = O.round_fraction(q, fmt)
    assert canon(got, fmt) == canon(want, fmt), (q, fmt, show(got, fmt), show(want, fmt))


def _cases(fmt: str, n_max: int = 12):
    return st.lists(st.one_of(H.near_midpoint(fmt), H.boundary_value(fmt),
                              H.big_rationals().map(
                                  lambda q: H.Case(q, fmt, O.round_fraction(q, fmt), "big"))),
                    min_size=1, max_size=n_max)


@settings(max_examples=40)
@given(st.sampled_from(H.ALL_FORMATS).flatmap(lambda f: st.tuples(st.just(f), _cases(f))))
def test_round_rationals_matches_oracle_elementwise(fc):
    fmt, cases = fc
    num = np.array([c.value.numerator for c in cases], dtype=object)
    den = np.array([c.value.denominator for c in cases], dtype=object)
    got = F.round_rationals(num, den, fmt)
    assert got.shape == (len(cases),)
    assert canon_all(bits_of(got, fmt), fmt) == canon_all([c.expected for c in cases], fmt)


@st.composite
def _int64_quotients(draw, fmt):
    """Numerators and denominators that fit int64 (up to 63 bits), near midpoints of fmt."""
    cases = []
    for _ in range(draw(st.integers(1, 10))):
        c = draw(H.near_midpoint(fmt))
        n, d = c.value.numerator, c.value.denominator
        if abs(n) < 2**63 and d < 2**63:
            cases.append(c)
        else:  # a 53-63 bit ratio near the value, rounded by the oracle
            k = draw(st.integers(54, 62))
            q = Fraction(draw(st.integers(-(2**k), 2**k)), draw(st.integers(2**(k - 1), 2**k)))
            q *= Fraction(2) ** draw(st.integers(-5, 5))
            if abs(q.numerator) < 2**63 and q.denominator < 2**63:
                cases.append(H.Case(q, fmt, O.round_fraction(q, fmt), "int64"))
    return cases


@settings(max_examples=40)
@given(st.sampled_from(H.ALL_FORMATS).flatmap(
    lambda f: st.tuples(st.just(f), _int64_quotients(f))))
def test_round_rationals_int64_arrays_match_oracle(fc):
    fmt, cases = fc
    if not cases:
        return
    num = np.array([c.value.numerator for c in cases], dtype=np.int64)
    den = np.array([c.value.denominator for c in cases], dtype=np.int64)
    got = F.round_rationals(num, den, fmt)
    assert canon_all(bits_of(got, fmt), fmt) == canon_all([c.expected for c in cases], fmt)


@settings(max_examples=40)
@given(st.sampled_from(H.ALL_FORMATS),
       st.lists(st.integers(-(2**200), 2**200), min_size=1, max_size=10),
       st.sampled_from([1, 3, 2**53 - 1, 2**53 + 1, 4503599627370495, 3**40, 2**64 + 13,
                        10**30, 2**40 + 1]))
def test_round_rationals_one_denominator_matches_oracle(fmt, nums, s):
    want = [O.round_fraction(Fraction(n, s), fmt) for n in nums]
    got = F.round_rationals(np.array(nums, dtype=object), s, fmt)
    assert canon_all(bits_of(got, fmt), fmt) == canon_all(want, fmt)
    got2 = F.round_ratio(np.array(nums, dtype=object), s, fmt)
    assert canon_all(bits_of(got2, fmt), fmt) == canon_all(want, fmt)


@settings(max_examples=60)
@given(st.sampled_from(H.ALL_FORMATS).flatmap(lambda f: st.tuples(st.just(f), _cases(f, 8))))
def test_round_ratio_over_a_common_denominator_matches_oracle(fc):
    # every value over the lcm of the denominators: one s, large numerators
    fmt, cases = fc
    s = math.lcm(*[c.value.denominator for c in cases])
    nums = [int(c.value * s) for c in cases]
    got = F.round_ratio(np.array(nums, dtype=object), s, fmt)
    assert canon_all(bits_of(got, fmt), fmt) == canon_all([c.expected for c in cases], fmt)
    if all(abs(n) < 2**63 for n in nums):
        got64 = F.round_ratio(np.array(nums, dtype=np.int64), s, fmt)
        assert canon_all(bits_of(got64, fmt), fmt) == canon_all([c.expected for c in cases],
                                                                fmt)


def test_round_rationals_signs_and_zeros():
    num = np.array([0, -1, 1, -(2**70), 5], dtype=object)
    den = np.array([7, 10**400, 10**400, 3, 10], dtype=object)
    for fmt in H.ALL_FORMATS:
        got = bits_of(F.round_rationals(num, den, fmt), fmt)
        want = [O.round_fraction(Fraction(int(n), int(d)), fmt) for n, d in zip(num, den,
                                                                                 strict=True)]
        assert canon_all(got, fmt) == canon_all(want, fmt), fmt
        assert got[1] == O.FORMATS[fmt].sign_mask  # -1/10**400 is -0
        assert got[0] == 0


def test_round_rationals_empty():
    for fmt in H.ALL_FORMATS:
        got = F.round_rationals(np.array([], dtype=np.int64), 3, fmt)
        assert got.shape == (0,) and got.dtype == DTYPES[fmt]


@settings(max_examples=80)
@given(st.sampled_from(H.NARROWINGS).flatmap(
    lambda sd: st.lists(H.narrowing_case(*sd), min_size=1, max_size=10)))
def test_narrow_matches_oracle(cases):
    src, dst = cases[0].src, cases[0].dst
    x = array_of_bits([c.src_bits for c in cases], src)
    got = F.narrow(x, dst)
    assert got.shape == x.shape
    assert canon_all(bits_of(got, dst), dst) == canon_all([c.expected for c in cases], dst), \
        [(show(c.src_bits, src), show(c.expected, dst)) for c in cases]


@pytest.mark.parametrize("src,dst", H.NARROWINGS)
def test_narrow_specials_keep_their_kind(src, dst):
    fs, fd = O.FORMATS[src], O.FORMATS[dst]
    pats = [0, fs.sign_mask, fs.inf_bits, fs.inf_bits | fs.sign_mask, fs.nan_bits,
            fs.max_finite_bits, fs.max_finite_bits | fs.sign_mask, 1, 1 | fs.sign_mask]
    got = bits_of(F.narrow(array_of_bits(pats, src), dst), dst)
    want = [O.narrow_bits(b, src, dst) for b in pats]
    assert canon_all(got, dst) == canon_all(want, dst)
    assert got[1] == fd.sign_mask  # -0 stays -0


def test_narrow_from_python_floats_and_2d_arrays():
    x = np.array([[1 + 2**-8 + 2**-40, -(1 + 2**-8 + 2**-40)], [2.0**-134, 3 * 2.0**-134]])
    got = F.narrow(x, "bf16")
    assert got.shape == (2, 2)
    want = [O.narrow_bits(int(v), "fp64", "bf16") for v in x.view(np.uint64).ravel()]
    assert bits_of(got, "bf16") == want


# ------------------------------------------------------------------ regressions of issue 10
def test_round_ratio_fp32_near_midpoint_is_one_rounding():
    got = F.round_ratio(np.array([4503599895805951]), 4503599627370495, "fp32")
    assert got.dtype == np.float32
    assert got.tolist() == [1.0000001192092896]
    assert bits_of(got, "fp32") == [O.round_fraction(
        Fraction(4503599895805951, 4503599627370495), "fp32")] == [0x3F800001]
    got = F.round_rationals(np.array([4503599895805951]), np.array([4503599627370495]),
                            "fp32")
    assert bits_of(got, "fp32") == [0x3F800001]


@pytest.mark.parametrize("s", [2**40 + 1, 3**30, 2**53 - 1, 2**70 + 3])
def test_fp16_overflow_boundary_not_inf(s):
    num = 65520 * s - 1   # just below the overflow threshold 65520: rounds to 65504
    assert O.round_fraction(Fraction(num, s), "fp16") == 0x7BFF
    for got in (F.round_ratio(np.array([num], dtype=object), s, "fp16"),
                F.round_rationals(np.array([num], dtype=object), s, "fp16"),
                np.asarray(symdnn.round_exact(Fraction(num, s), "fp16"))):
        assert bits_of(got, "fp16") == [0x7BFF]
    if num < 2**63:
        assert bits_of(F.round_ratio(np.array([num]), s, "fp16"), "fp16") == [0x7BFF]
    # and just above it: inf
    assert bits_of(F.round_ratio(np.array([65520 * s + 1], dtype=object), s, "fp16"),
                   "fp16") == [0x7C00]


def test_bf16_from_float64_one_rounding():
    x = 1 + 2**-8 + 2**-40
    assert O.narrow_bits(int(np.float64(x).view(np.uint64)), "fp64", "bf16") == 0x3F81
    assert bits_of(F.narrow(np.array([x]), "bf16"), "bf16") == [0x3F81]   # 1.0078125
    assert float(F.narrow(np.array([x]), "bf16")[0]) == 1.0078125
    dom = symdnn.get_domain("bf16")
    assert bits_of(np.asarray(dom.convert(x), dtype=DTYPES["bf16"]), "bf16") == [0x3F81]
    assert bits_of(np.asarray(dom.convert(np.float64(x))), "bf16") == [0x3F81]
    assert bits_of(dom.from_array(np.array([x])), "bf16") == [0x3F81]


@pytest.mark.parametrize("fmt", ["fp8_e4m3", "fp8_e5m2"])
def test_fp8_from_float64_arrays_one_rounding(fmt):
    f = O.FORMATS[fmt]
    xs = []
    for lo_bits in range(1, f.max_finite_bits):
        lo, hi, _ = O.neighbours(lo_bits, fmt)
        xs.append(math.nextafter(float((lo + hi) / 2), math.inf))  # just above the midpoint
    x = np.array(xs)
    want = [O.narrow_bits(int(b), "fp64", fmt) for b in x.view(np.uint64)]
    assert bits_of(F.narrow(x, fmt), fmt) == want
    assert bits_of(symdnn.get_domain(fmt).from_array(x), fmt) == want
