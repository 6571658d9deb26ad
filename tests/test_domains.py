"""Domains: exact conversion, vectorised arithmetic against Python's Fraction as the oracle,
the overflow-free integer storage, infinities, and the symbolic, boolean and set domains."""

from __future__ import annotations

import math
import pickle
from fractions import Fraction

import flint
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symdnn import DomainError, UnknownDomain
from symdnn.domains import (
    BOOL,
    NEG_INF,
    POS_INF,
    QQ,
    SET,
    SYM,
    UNIVERSE,
    ZZ,
    domain_names,
    exact_parts,
    get_domain,
)
from symdnn.domains.rational import LIMIT, dyadic_vec

fracs = st.fractions(min_value=-(2**70), max_value=2**70, max_denominator=2**40)
big_fracs = st.builds(Fraction, st.integers(-(2**300), 2**300), st.integers(1, 2**200))
any_fracs = st.one_of(fracs, big_fracs)


def as_fraction(v) -> Fraction:
    return Fraction(int(v.p), int(v.q)) if isinstance(v, flint.fmpq) else Fraction(int(v))


class TestConversion:
    def test_floats_become_the_dyadic_rational_they_denote(self):
        assert QQ.convert(0.1) == flint.fmpq(3602879701896397, 2**55)
        assert QQ.convert(np.float16(0.1)) == flint.fmpq(*Fraction(float(np.float16(0.1)))
                                                          .as_integer_ratio())

    def test_decimal_strings_are_exact_decimals(self):
        assert QQ.convert("0.3") == flint.fmpq(3, 10)
        assert QQ.convert("6.25e-02") == flint.fmpq(1, 16)
        assert QQ.convert("-3/6") == flint.fmpq(-1, 2)

    def test_zz_refuses_fractions(self):
        with pytest.raises(DomainError, match="not an integer"):
            ZZ.convert(Fraction(1, 2))
        with pytest.raises(DomainError, match="not an integer"):
            ZZ.from_list([1, 0.5])

    @pytest.mark.parametrize("bad", [float("nan"), "abc", object(), sympy.sqrt(2)])
    def test_non_rationals_are_refused(self, bad):
        with pytest.raises(DomainError):
            QQ.convert(bad)

    def test_infinities(self):
        assert QQ.convert(float("-inf")) is NEG_INF
        assert QQ.convert(sympy.oo) is POS_INF
        assert NEG_INF < flint.fmpq(-(10**30)) < 0 < flint.fmpz(10**30) < POS_INF
        assert -NEG_INF is POS_INF and POS_INF == float("inf")

    def test_symbolic_refuses_floats_inside_expressions(self):
        with pytest.raises(DomainError, match="float"):
            SYM.convert(sympy.Symbol("b") + sympy.Float(0.3))
        assert SYM.convert(0.25) == sympy.Rational(1, 4)
        assert SYM.convert("b - 0.3") == sympy.Symbol("b") - sympy.Rational(3, 10)

    def test_bool_and_set(self):
        assert BOOL.convert(1) is True
        with pytest.raises(DomainError):
            BOOL.convert(2)
        assert SET.convert([1, 2]) == frozenset({1, 2})
        assert SET.const("universe") is UNIVERSE

    def test_unknown_domain_lists_the_known_ones(self):
        with pytest.raises(UnknownDomain, match="QQ"):
            get_domain("QR")

    @settings(max_examples=300)
    @given(st.floats(allow_nan=False, allow_infinity=False))
    def test_dyadic_vec_matches_fraction_of_float(self, x):
        vec = dyadic_vec(np.array([x, -x, x / 3]))
        got = QQ.to_list(vec)
        want = [Fraction(x), Fraction(-x), Fraction(x / 3)]
        assert [as_fraction(g) for g in got] == want

    def test_exact_parts_of_every_float_format(self):
        for name in ("fp16", "bf16", "fp8_e4m3", "fp8_e5m2"):
            dt = get_domain(name).dtype
            v = np.array([1.5], dtype=dt)[0]
            assert exact_parts(v) == (3, 2)


def _oracle(op, a, b):
    return {"plus": a + b, "times": a * b, "max": max(a, b), "min": min(a, b)}[op]


class TestRationalVectors:
    @pytest.mark.parametrize("op", ["plus", "times", "max", "min"])
    @given(data=st.data())
    def test_binop_matches_fraction(self, op, data):
        xs = data.draw(st.lists(any_fracs, min_size=1, max_size=12))
        ys = data.draw(st.lists(any_fracs, min_size=len(xs), max_size=len(xs)))
        out = QQ.to_list(QQ.binop(op, QQ.from_list(xs), QQ.from_list(ys)))
        assert [as_fraction(v) for v in out] == [_oracle(op, a, b) for a, b in zip(xs, ys,
                                                                                  strict=True)]

    @pytest.mark.parametrize("op", ["plus", "times", "max", "min"])
    @given(data=st.data())
    def test_reduceat_matches_fraction(self, op, data):
        xs = data.draw(st.lists(any_fracs, min_size=1, max_size=20))
        cuts = sorted(data.draw(st.sets(st.integers(1, len(xs) - 1), max_size=4))) \
            if len(xs) > 1 else []
        starts = np.array([0] + cuts)
        out = [as_fraction(v) for v in QQ.to_list(QQ.reduceat(op, QQ.from_list(xs), starts))]
        bounds = [0] + cuts + [len(xs)]
        want = []
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            acc = xs[a]
            for v in xs[a + 1:b]:
                acc = _oracle(op, acc, v)
            want.append(acc)
        assert out == want

    def test_storage_switches_to_python_ints_beyond_int64(self):
        v = QQ.from_list([2**61, 1])
        assert v.num.dtype == np.int64
        w = QQ.binop("plus", v, v)  # 2**62 does not fit the int64 storage bound
        assert w.num.dtype == object and int(w.num[0]) == 2**62
        small = QQ.binop("plus", w, QQ.from_list([-(2**62), 0]))
        assert small.num.dtype == np.int64  # compacts back when it fits
        assert LIMIT == 2**62

    def test_infinities_in_max_and_min(self):
        v = QQ.from_list([NEG_INF, 3, POS_INF, "1/2"])
        w = QQ.from_list([5, POS_INF, 7, NEG_INF])
        assert QQ.to_list(QQ.binop("max", v, w)) == [5, POS_INF, POS_INF, flint.fmpq(1, 2)]
        assert QQ.to_list(QQ.binop("min", v, w)) == [NEG_INF, 3, 7, NEG_INF]
        assert QQ.to_list(QQ.reduceat("max", v, np.array([0, 2]))) == [3, POS_INF]

    def test_undefined_infinity_arithmetic_is_an_error(self):
        with pytest.raises(DomainError, match="undefined"):
            QQ.binop("plus", QQ.from_list([POS_INF]), QQ.from_list([NEG_INF]))
        with pytest.raises(DomainError, match="undefined"):
            QQ.binop("times", QQ.from_list([POS_INF]), QQ.from_list([0]))
        assert QQ.to_list(QQ.binop("plus", QQ.from_list([NEG_INF]), QQ.from_list([5]))) == \
            [NEG_INF]

    def test_semiring_constants_per_domain(self):
        from symdnn import semirings

        mp = semirings.max_plus
        assert QQ.const(mp.zero) is NEG_INF and ZZ.const(mp.one) == 0
        assert math.isinf(float(get_domain("fp16").const(mp.zero)))
        assert SYM.const(semirings.min_plus.zero) == sympy.oo


class TestFloatVectors:
    def test_reduction_accumulates_in_the_format_in_key_order(self):
        fp16 = get_domain("fp16")
        x = fp16.from_list([2048.0, 1.0, 1.0, 1.0, 1.0])
        # sequential: 2048 + 1 rounds back to 2048 every step (ulp is 2 there)
        assert float(fp16.reduceat("plus", x, np.array([0]))[0]) == 2048.0
        # the exact sum 2052 is representable: accumulating at higher precision would give it
        assert float(np.float16(2052.0)) == 2052.0

    def test_bf16_arithmetic_rounds_to_bf16(self):
        bf16 = get_domain("bf16")
        one = bf16.from_list([1.0])
        tiny = bf16.from_list([2.0**-9])
        assert float(bf16.binop("plus", one, tiny)[0]) == 1.0

    def test_integer_arrays_beyond_2_53_round_once(self):
        fp32 = get_domain("fp32")
        n = 2**60 + 2**36 + 1  # float64 would round to 2**60 + 2**36, a float32 midpoint
        got = fp32.from_array(np.array([n], dtype=np.int64))
        assert float(got[0]) == float(2**60 + 2**37)


class TestSymbolic:
    def test_zero_detection_expands(self):
        a, b, c = sympy.symbols("a b c")
        e = SYM.from_list([a * (b + c) - a * b - a * c, a])
        assert SYM.is_const(e, "0").tolist() == [True, False]

    def test_max_of_numbers_is_exact(self):
        v = SYM.from_list(["1/3", "1/4"])
        assert SYM.to_list(SYM.reduceat("max", v, np.array([0]))) == [sympy.Rational(1, 3)]


class TestPickle:
    @pytest.mark.parametrize("name", domain_names())
    def test_a_domain_unpickles_as_the_one_instance(self, name):
        d = get_domain(name)
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            assert pickle.loads(pickle.dumps(d, protocol=protocol)) is d

    def test_a_domain_pickles_as_get_domain_of_its_name(self):
        # the format pickles made by earlier versions have, so either reads the other's
        assert b"symdnn.domains.registry" in pickle.dumps(QQ)
        assert QQ.__reduce__() == (get_domain, ("QQ",))
