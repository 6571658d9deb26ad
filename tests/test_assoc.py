"""AssocArray: construction and canonical form, keys, selection, reductions, Kronecker products,
conversions, TSV files and errors. Expected values are written out by hand."""

from __future__ import annotations

import os
from fractions import Fraction

import flint
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import sympy

from symdnn import (
    QQ,
    ZZ,
    AssocArray,
    DomainError,
    DomainMismatch,
    DuplicateKeyError,
    KeyMismatch,
    KeyTypeError,
    ParseError,
    Prefix,
    SemiringMismatch,
    UnknownSemiring,
    semirings,
)
from symdnn.domains import NEG_INF, POS_INF


def q(a, b=1):
    return flint.fmpq(a, b)


class TestConstruction:
    def test_from_triples_sorts_keys_and_drops_zero(self):
        A = AssocArray.from_triples(["b", "a", "a"], ["y", "y", "x"], [3, 0, 2])
        assert A.row() == ("a", "b") and A.col() == ("x", "y")
        assert A.to_dict() == {"a": {"x": 2}, "b": {"y": 3}}  # 0 is not stored
        assert A.nnz == 2 and A.shape == (2, 2)

    def test_empty_rows_and_columns_are_not_kept(self):
        A = AssocArray.from_triples(["a", "b"], ["x", "y"], [1, 0])
        assert A.row() == ("a",) and A.col() == ("x",)

    def test_max_plus_stores_zero_and_drops_minus_infinity(self):
        A = AssocArray.from_triples(["a", "b"], ["x", "x"], [0, float("-inf")],
                                    domain="QQ", semiring="max_plus")
        assert A.to_dict() == {"a": {"x": 0}}

    @pytest.mark.parametrize("dup,want", [("add", 5), ("first", 2), ("last", 3)])
    def test_duplicate_policies(self, dup, want):
        A = AssocArray.from_triples(["a", "a"], ["x", "x"], [2, 3], dup=dup)
        assert A.get("a", "x") == want

    def test_duplicates_are_an_error_by_default_naming_the_pair(self):
        with pytest.raises(DuplicateKeyError, match=r"\('a', 'x'\)"):
            AssocArray.from_triples(["a", "a"], ["x", "x"], [2, 3])

    def test_duplicates_added_with_the_semiring_addition(self):
        A = AssocArray.from_triples(["a", "a"], ["x", "x"], [2, 3], semiring="max_plus",
                                    dup="add")
        assert A.get("a", "x") == 3

    def test_domain_inference(self):
        assert AssocArray.from_triples(["a"], ["x"], [1]).domain is ZZ
        assert AssocArray.from_triples(["a"], ["x"], [Fraction(1, 2)]).domain is QQ
        assert AssocArray.from_triples(["a"], ["x"], [0.5]).domain.name == "fp64"
        assert AssocArray.from_triples(["a"], ["x"], [True]).domain.name == "BOOL"
        assert AssocArray.from_triples(["a"], ["x"], [sympy.Symbol("b")]).domain.name == "SYM"

    def test_float_given_to_exact_domain_is_its_dyadic_value(self):
        A = AssocArray.from_triples(["a"], ["x"], [0.1], domain="QQ")
        assert A.get("a", "x") == q(3602879701896397, 2**55)

    def test_paper_constructors(self):
        assert AssocArray.eye(["ad", "ah"], ["1a", "1a"]).to_dict() == \
            {"ad": {"1a": 1}, "ah": {"1a": 1}}
        assert AssocArray.identity([2, 1]).to_dict() == {1: {1: 1}, 2: {2: 1}}
        assert AssocArray.ones(["a"], ["x", "y"]).to_dict() == {"a": {"x": 1, "y": 1}}
        # the one of max_min is +inf, of min_max -inf
        assert AssocArray.identity(["a"], domain="QQ", semiring="max_min").get("a", "a") \
            is POS_INF
        assert AssocArray.identity(["a"], domain="QQ", semiring="min_max").get("a", "a") \
            is NEG_INF

    def test_numpy_keys_are_plain_keys(self):
        A = AssocArray.from_triples(np.array([3, 1]), np.array([0, 0]), [1, 2])
        B = AssocArray.from_triples([3, 1], [0, 0], [1, 2])
        assert A.isequal(B) and type(A.row()[0]) is int


class TestErrors:
    def test_mixed_key_types(self):
        with pytest.raises(KeyTypeError, match="mix types"):
            AssocArray.from_triples(["a", 1], ["x", "x"], [1, 2])

    def test_unhashable_and_nan_keys(self):
        with pytest.raises(KeyTypeError, match="unhashable"):
            AssocArray.from_triples([["a"]], ["x"], [1])
        with pytest.raises(KeyTypeError, match="NaN"):
            AssocArray.from_triples([float("nan")], ["x"], [1])

    def test_unsortable_tuple_keys(self):
        with pytest.raises(KeyTypeError, match="sortable"):
            AssocArray.from_triples([(1, "a"), (1, 2)], ["x", "x"], [1, 2])

    def test_lengths(self):
        with pytest.raises(KeyMismatch):
            AssocArray.from_triples(["a", "b"], ["x"], [1, 2])
        with pytest.raises(KeyMismatch):
            AssocArray.from_triples(["a", "b"], ["x", "y"], [1])

    def test_value_outside_domain_or_carrier(self):
        with pytest.raises(DomainError, match="not an integer"):
            AssocArray.from_triples(["a"], ["x"], ["1/2"], domain="ZZ")
        with pytest.raises(DomainError, match="carrier"):
            AssocArray.from_triples(["a"], ["x"], [-1], semiring="max_times")
        with pytest.raises(DomainError, match="carrier"):
            AssocArray.from_triples(["a"], ["x"], [float("inf")], domain="QQ",
                                    semiring="max_plus")

    def test_unknown_semiring_lists_known(self):
        with pytest.raises(UnknownSemiring, match="max_plus"):
            AssocArray.from_triples(["a"], ["x"], [1], semiring="max_pluss")

    def test_mismatched_domains_and_semirings(self):
        A = AssocArray.from_triples(["a"], ["x"], [1])
        B = AssocArray.from_triples(["a"], ["x"], ["1/2"], domain="QQ")
        with pytest.raises(DomainMismatch, match="convert_to"):
            A + B
        C = AssocArray.from_triples(["a"], ["x"], [1], semiring="max_plus")
        with pytest.raises(SemiringMismatch):
            A @ C
        assert (A.convert_to("QQ") + B).get("a", "x") == q(3, 2)

    def test_inner_key_types_that_cannot_align(self):
        A = AssocArray.from_triples(["a"], ["x"], [1])
        B = AssocArray.from_triples([1], ["y"], [1])
        with pytest.raises(KeyTypeError, match="align"):
            A @ B

    def test_failed_operation_leaves_operands_unchanged(self):
        A = AssocArray.from_triples(["a", "b"], ["x", "x"], [-1, 2])
        B = AssocArray.from_triples(["a"], ["x"], [3])
        before = (A.to_dict(), B.to_dict())
        with pytest.raises(DomainError):
            A.ewise_add(B, semiring="max_times")  # -1 is outside [0, inf)
        assert (A.to_dict(), B.to_dict()) == before
        store = A._store()
        with pytest.raises(ValueError):
            store.indices[0] = 5  # the store is read-only

    def test_index_needs_two_selectors(self):
        A = AssocArray.from_triples(["a"], ["x"], [1])
        with pytest.raises(TypeError, match=r"A\[rows, cols\]"):
            A["a"]


class TestSelectionAndReduction:
    A = AssocArray.from_triples(["ab", "ac", "b", "c"], ["x", "y", "x", "z"], [1, 2, 3, 4])

    def test_list_range_prefix(self):
        A = self.A
        assert A[["ac", "c", "zz"], :].row() == ("ac", "c")
        assert A["ac":"b", :].row() == ("ac", "b")  # inclusive at both ends
        assert A[Prefix("a"), "x"].to_dict() == {"ab": {"x": 1}}
        assert A[:, "y":].col() == ("y", "z")
        assert A["c", "z"] == 4 and A["c", "x"] == 0  # an absent entry is the zero

    def test_tuple_keys_with_tuple_prefix(self):
        B = AssocArray.from_triples([(1, "a"), (1, "b"), (2, "a")], ["x"] * 3, [1, 2, 3])
        assert B[Prefix((1,)), :].row() == ((1, "a"), (1, "b"))

    def test_reductions(self):
        A = self.A
        assert A.reduce(1).to_dict() == {"ab": {1: 1}, "ac": {1: 2}, "b": {1: 3}, "c": {1: 4}}
        assert A.reduce(0).to_dict() == {1: {"x": 4, "y": 2, "z": 4}}
        assert A.reduce(0, monoid="max").get(1, "x") == 3
        assert A.reduce() == 10
        assert AssocArray.empty().reduce() == 0

    def test_zero_norm(self):
        A = AssocArray.from_triples(["a", "a"], ["x", "y"], ["-5/2", 7], domain="QQ")
        assert A.zero_norm().to_dict() == {"a": {"x": 1, "y": 1}}


class TestAlgebraByHand:
    def test_ewise_add_cancels(self):
        A = AssocArray.from_triples(["a", "a"], ["x", "y"], [1, 2])
        B = AssocArray.from_triples(["a"], ["x"], [-1])
        assert (A + B).to_dict() == {"a": {"y": 2}}

    def test_mxm_aligns_inner_keys_by_key_not_position(self):
        A = AssocArray.from_triples(["i", "i"], ["k2", "k3"], [2, 3])
        B = AssocArray.from_triples(["k1", "k3"], ["j", "j"], [100, 5])
        assert (A @ B).to_dict() == {"i": {"j": 15}}

    def test_min_plus_shortest_paths(self):
        A = AssocArray.from_triples(["s", "s", "a"], ["a", "b", "b"], [1, 5, 1],
                                    semiring="min_plus")
        assert (A @ A).to_dict() == {"s": {"b": 2}}

    def test_kron_order_preserving_pairs(self):
        A = AssocArray.from_triples(["1a", "1b"], ["1a", "1b"], [2, 3])
        B = AssocArray.from_triples(["2a", "2a"], ["x", "y"], [5, 7])
        C = A.kron(B)
        assert C.row() == (("1a", "2a"), ("1b", "2a"))
        assert C.col() == (("1a", "x"), ("1a", "y"), ("1b", "x"), ("1b", "y"))
        assert C.to_dict() == {("1a", "2a"): {("1a", "x"): 10, ("1a", "y"): 14},
                               ("1b", "2a"): {("1b", "x"): 15, ("1b", "y"): 21}}

    def test_paper_section_iv_layer_from_kronecker_products(self):
        # W1 = I(f12) (x) 1(f34) (+) 1(f12) (x) I(f34): category (a, b) reads a and b
        f12 = ["12aa", "12ab"]
        f34 = ["34aa", "34ab", "34ba"]
        W1 = AssocArray.identity(f12).kron(AssocArray.ones(f34, ["*"])) + \
            AssocArray.ones(f12, ["*"]).kron(AssocArray.identity(f34))
        assert W1.shape == (6, 5) and W1.nnz == 12
        assert W1.to_dict()[("12ab", "34ba")] == {("12ab", "*"): 1, ("*", "34ba"): 1}

    def test_mixed_tuple_keys_cannot_be_aligned(self):
        A = AssocArray.from_triples([("a", 0)], ["x"], [1])
        B = AssocArray.from_triples([(0, "a")], ["x"], [1])
        with pytest.raises(KeyTypeError, match="sortable"):
            A + B

    def test_symbolic_mxm(self):
        b = sympy.Symbol("b")
        A = AssocArray.from_triples(["i", "i"], ["k", "l"], [b, 2], domain="SYM")
        B = AssocArray.from_triples(["k", "l"], ["j", "j"], [b, "-1/2"], domain="SYM")
        assert sympy.expand(A.mxm(B).get("i", "j") - (b**2 - 1)) == 0

    def test_infinities_in_max_min(self):
        A = AssocArray.from_triples(["a", "a"], ["x", "y"], [POS_INF, 3], domain="QQ",
                                    semiring="max_min")
        B = AssocArray.from_triples(["x", "y"], ["z", "z"], [7, POS_INF], domain="QQ",
                                    semiring="max_min")
        assert (A @ B).get("a", "z") == 7


class TestPrinting:
    def test_small_array_is_a_labeled_table(self):
        W = AssocArray.from_triples(["ad", "be"], ["1a", "2e"], ["1/2", 3], domain="QQ")
        assert repr(W).splitlines() == ["   1a  2e", "ad 1/2", "be     3"]

    def test_large_array_is_summarised(self):
        A = AssocArray.from_triples(list(range(50)), list(range(50)), 1)
        text = repr(A)
        assert text.startswith("AssocArray: 50 x 50, 50 entries, domain=ZZ")
        assert "..." in text

    def test_empty(self):
        assert "empty" in repr(AssocArray.empty())


class TestConversions:
    A = AssocArray.from_triples(["a", "b", "b"], ["x", "x", "y"], ["1/3", -2, "7/4"],
                                domain="QQ")

    def test_dict_and_triples_round_trip(self):
        A = self.A
        assert AssocArray.from_dict(A.to_dict(), domain="QQ").isequal(A)
        assert AssocArray.from_triples(*A.to_triples(), domain="QQ").isequal(A)

    def test_scipy_exact_for_integers_rounded_once_for_rationals(self):
        Z = AssocArray.from_triples(["a", "b"], ["x", "y"], [2**40, -3])
        M, rows, cols = Z.to_scipy()
        assert M.dtype == np.int64 and M[0, 0] == 2**40
        assert AssocArray.from_scipy(M, rows, cols).isequal(Z)
        F, _, _ = self.A.to_scipy(dtype=np.float32)
        assert F[0, 0] == np.float32(1 / 3)
        with pytest.raises(DomainError, match="dtype=np.float64"):
            self.A.to_scipy()

    def test_scipy_floats_read_exactly_into_qq(self):
        M = sp.csr_matrix(np.array([[0.1, 0.0], [0.0, 2.5]]))
        A = AssocArray.from_scipy(M, domain="QQ")
        assert A.get(0, 0) == q(*Fraction(0.1).as_integer_ratio()) and A.get(1, 1) == q(5, 2)

    def test_sympy_round_trip(self):
        M, rows, cols = self.A.to_sympy()
        assert M[0, 0] == sympy.Rational(1, 3)
        assert AssocArray.from_sympy(M, rows, cols, domain="QQ").isequal(self.A)

    def test_networkx_round_trip(self):
        G = self.A.to_networkx()
        assert isinstance(G, nx.DiGraph) and G["b"]["y"]["weight"] == q(7, 4)
        assert AssocArray.from_networkx(G, domain="QQ").isequal(self.A)

    def test_isequal_across_domains_by_exact_value(self):
        F = AssocArray.from_triples(["a"], ["x"], [0.5])
        E = AssocArray.from_triples(["a"], ["x"], ["1/2"], domain="QQ")
        assert not F.isequal(E)
        assert F.isequal(E, check_domain=False)

    def test_isclose_is_separate_from_isequal(self):
        F = AssocArray.from_triples(["a"], ["x"], [0.1 + 0.2])
        G = AssocArray.from_triples(["a"], ["x"], [0.3])
        assert not F.isequal(G) and F.isclose(G)


class TestTSV:
    def test_round_trip_exact(self, tmp_path):
        A = AssocArray.from_triples([1, 2], [3, 3], ["1/3", "-0.3"], domain="QQ")
        path = tmp_path / "a.tsv.gz"
        A.write_tsv(path)
        B = AssocArray.read_tsv(path, key_type=int)
        assert B.isequal(A) and B.get(2, 3) == q(-3, 10)

    def test_graph_challenge_style_values_are_exact(self, tmp_path):
        p = tmp_path / "l1.tsv"
        p.write_text("1\t2\t6.250000e-02\n# a comment\n\n2\t1\t6.250000e-02\n")
        A = AssocArray.read_tsv(p, key_type=int)
        assert A.get(1, 2) == q(1, 16)

    @pytest.mark.parametrize("text,match", [
        ("1\t2\n", r"l\.tsv:1: expected 3"),
        ("1\t2\t1\n3\t4\tabc\n", r"l\.tsv:2: bad value"),
        ("x\t2\t1\n", r"l\.tsv:1: bad key"),
    ])
    def test_malformed_lines_name_file_and_line(self, tmp_path, text, match):
        p = tmp_path / "l.tsv"
        p.write_text(text)
        with pytest.raises(ParseError, match=match):
            AssocArray.read_tsv(p, key_type=int)

    def test_missing_file(self, tmp_path):
        with pytest.raises(ParseError, match="cannot open"):
            AssocArray.read_tsv(tmp_path / "nope.tsv")

    def test_failed_write_leaves_previous_file_and_no_temporary(self, tmp_path):
        p = tmp_path / "out.tsv"
        p.write_text("old\n")
        A = AssocArray.from_triples([("tuple", 1)], ["x"], [1])
        with pytest.raises(KeyTypeError):
            A.write_tsv(p)
        assert p.read_text() == "old\n"
        assert os.listdir(tmp_path) == ["out.tsv"]


def test_semiring_values():
    assert semirings.get("max_plus") is semirings.max_plus
    assert semirings.max_plus.zero == "-inf" and semirings.min_plus.zero == "+inf"
    assert set(semirings.names()) >= {"plus_times", "max_plus", "min_plus", "max_times",
                                      "min_times", "max_min", "min_max", "or_and",
                                      "union_intersect"}
    assert semirings.max_times.carrier.describe() == "[0, +inf)"


@pytest.mark.parametrize("dtype,name", [(np.float32, "fp32"), (np.float16, "fp16"),
                                        ("bfloat16", "bf16"), (np.int32, "ZZ"),
                                        (np.bool_, "BOOL")])
def test_domain_inferred_from_numpy_dtype(dtype, name):
    import ml_dtypes  # noqa: F401  (registers the bfloat16 dtype name)

    A = AssocArray.from_triples(["a"], ["x"], np.array([1], dtype=dtype))
    assert A.domain.name == name


def test_from_scipy_keeps_tuple_keys():
    M = sp.csr_matrix(np.array([[1, 0], [0, 2]]))
    A = AssocArray.from_scipy(M, [("r", 0), ("r", 1)], [(0, "c"), (1, "c")])
    assert A.to_dict() == {("r", 0): {(0, "c"): 1}, ("r", 1): {(1, "c"): 2}}
