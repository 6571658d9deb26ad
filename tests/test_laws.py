"""The laws of Appendix A, as properties of associative arrays over every semiring and every
exact domain, and check_laws on scalars (exact: no counterexample; floats: concrete ones)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symdnn import AssocArray, check_laws
from symdnn.domains import FloatDomain, get_domain
from tests.strategies import EXACT_PAIRS, arrays

PAIRS = [pytest.param(s, d, id=f"{s}-{d}") for s, d in EXACT_PAIRS]
# The array laws over SymPy expressions take a third of the default suite's time; they run
# with ``python -m pytest -m slow`` (check_laws covers every SYM semiring by default).
ARRAY_PAIRS = [pytest.param(s, d, id=f"{s}-{d}",
                            marks=[pytest.mark.slow] if d == "SYM" else [])
               for s, d in EXACT_PAIRS]


# 12 drawn triples per law and pair (the profile's default is 40): the array laws over every
# semiring and domain were a quarter of the default suite's time; SYMDNN_LAW_EXAMPLES=200 runs
# them harder.
LAW = settings(max_examples=int(os.environ.get("SYMDNN_LAW_EXAMPLES", "12")))


def three(s: str, d: str):
    return st.tuples(arrays(s, d), arrays(s, d), arrays(s, d))


@pytest.mark.parametrize("s,d", ARRAY_PAIRS)
class TestArrayLaws:
    @LAW
    @given(data=st.data())
    def test_commutative(self, s, d, data):
        A, B, _ = data.draw(three(s, d))
        assert (A + B).isequal(B + A)
        assert (A * B).isequal(B * A)

    @LAW
    @given(data=st.data())
    def test_associative(self, s, d, data):
        A, B, C = data.draw(three(s, d))
        assert ((A + B) + C).isequal(A + (B + C))
        assert ((A * B) * C).isequal(A * (B * C))
        assert ((A @ B) @ C).isequal(A @ (B @ C))

    @LAW
    @given(data=st.data())
    def test_distributive(self, s, d, data):
        A, B, C = data.draw(three(s, d))
        assert (A * (B + C)).isequal((A * B) + (A * C))
        assert (A @ (B + C)).isequal((A @ B) + (A @ C))
        assert ((B + C) @ A).isequal((B @ A) + (C @ A))

    @LAW
    @given(data=st.data())
    def test_transpose_of_product(self, s, d, data):
        A, B, _ = data.draw(three(s, d))
        assert (A @ B).T.isequal(B.T @ A.T)
        assert A.T.T.isequal(A)

    @LAW
    @given(data=st.data())
    def test_identities_and_annihilator(self, s, d, data):
        A = data.draw(arrays(s, d))
        empty = AssocArray.empty(domain=d, semiring=s)
        assert (A + empty).isequal(A)
        assert (A * empty).isequal(empty)
        assert (A @ empty).isequal(empty)
        if A.nnz:
            ones = AssocArray.ones(A.row(), A.col(), domain=d, semiring=s)
            assert (A * ones).isequal(A)
            assert (A @ AssocArray.identity(A.col(), domain=d, semiring=s)).isequal(A)
            assert (AssocArray.identity(A.row(), domain=d, semiring=s) @ A).isequal(A)


@pytest.mark.parametrize("s,d", PAIRS)
def test_check_laws_exact_domains_have_no_counterexample(s, d):
    report = check_laws(s, d, samples=300, seed=1)
    assert report.holds, str(report)
    assert len(report.checked) == 9


@pytest.mark.parametrize("s,d", [pytest.param(s, d, id=f"{s}-{d}") for s, d in
                                 [("plus_times", "ZZ"), ("plus_times", "QQ")]])
@given(data=st.data())
def test_big_values_take_the_object_paths_and_stay_exact(s, d, data):
    A, B, C = data.draw(st.tuples(arrays(s, d, big=True), arrays(s, d, big=True),
                                  arrays(s, d, big=True)))
    assert ((A @ B) @ C).isequal(A @ (B @ C))
    assert (A @ (B + C)).isequal((A @ B) + (A @ C))


@pytest.mark.parametrize("fmt", ["fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"])
def test_float_addition_is_not_associative_and_check_laws_says_where(fmt):
    report = check_laws("plus_times", fmt, samples=400, seed=0)
    assert "add_associative" in report.failing()
    dom = get_domain(fmt)
    assert isinstance(dom, FloatDomain)
    # each counterexample is real: recomputing it in the format gives different sides
    c = next(c for c in report.counterexamples if c.law == "add_associative")
    a, b, cc = (dom.from_list([v]) for v in c.operands)
    lhs = dom.binop("plus", dom.binop("plus", a, b), cc)
    rhs = dom.binop("plus", a, dom.binop("plus", b, cc))
    assert not dom.equal(lhs, rhs)[0]


def test_float_addition_counterexample_by_hand():
    report = check_laws("plus_times", "fp64", values=[0.1, 0.2, 0.3], samples=200,
                        laws=["add_associative"])
    assert not report.holds
    assert all(c.lhs != c.rhs for c in report.counterexamples)


def test_max_min_over_floats_is_exact_even_in_fp16():
    # max and min never round, so every law holds
    assert check_laws("max_min", "fp16", samples=300).holds


class TestAppendixAMisprint:
    """Appendix A lists A (x) (B (x) C) = (A (x) B) (x) (A (x) C): true only for idempotent (x)."""

    def test_fails_for_plus_times(self):
        report = check_laws("plus_times", "QQ", values=[2, 3, 5],
                            laws=["mul_self_distributive"])
        assert not report.holds
        assert any(c.operands == (2, 3, 5) and c.lhs == 30 and c.rhs == 60
                   for c in report.counterexamples)

    @pytest.mark.parametrize("s,d", [("max_min", "QQ"), ("min_max", "ZZ"), ("or_and", "BOOL"),
                                     ("union_intersect", "SET")])
    def test_holds_for_idempotent_multiplication(self, s, d):
        assert check_laws(s, d, laws=["mul_self_distributive"]).holds


def test_check_laws_rejects_semiring_outside_its_kind():
    from symdnn import DomainMismatch

    with pytest.raises(DomainMismatch, match="or_and"):
        check_laws("or_and", "QQ")
