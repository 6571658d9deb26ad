"""Array multiply against independent implementations: a per-entry reference over Python
Fractions written here, python-graphblas (SuiteSparse:GraphBLAS), SymPy matrices, and every
path of the exact integer SpGEMM forced in turn."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from symdnn import AssocArray, SymdnnError, intmm
from symdnn.domains import NEG_INF, POS_INF
from tests.strategies import KEYS, arrays

NUMERIC = ["plus_times", "max_plus", "min_plus", "max_times", "min_times", "max_min", "min_max"]
OPS = {
    "plus": lambda a, b: a + b, "times": lambda a, b: a * b,
    "max": lambda a, b: max(a, b), "min": lambda a, b: min(a, b),
}
ZEROS = {"0": Fraction(0), "-inf": -math.inf, "+inf": math.inf}


def _plain(v):
    """A value as a Fraction, or a float infinity (both compare and add exactly)."""
    if v is POS_INF:
        return math.inf
    if v is NEG_INF:
        return -math.inf
    return Fraction(int(v.p), int(v.q)) if hasattr(v, "q") else Fraction(int(v))


def reference_mxm(A: AssocArray, B: AssocArray, semiring) -> dict:
    """The simplest possible per-entry product: a triple loop over dicts."""
    add, mul = OPS[semiring.add.op], OPS[semiring.mul.op]
    zero = ZEROS[semiring.zero]
    a = {(r, c): _plain(v) for r, c, v in A.triples()}
    b = {(r, c): _plain(v) for r, c, v in B.triples()}
    out = {}
    for (i, k), x in a.items():
        for (k2, j), y in b.items():
            if k == k2:
                out[(i, j)] = add(out.get((i, j), zero), mul(x, y))
    return {key: v for key, v in out.items() if v != zero}


@pytest.mark.parametrize("s", NUMERIC)
@pytest.mark.parametrize("d", ["ZZ", "QQ"])
@given(data=st.data())
def test_mxm_matches_per_entry_reference(s, d, data):
    A = data.draw(arrays(s, d))
    B = data.draw(arrays(s, d))
    C = A.mxm(B)
    got = {(r, c): _plain(v) for r, c, v in C.triples()}
    assert got == reference_mxm(A, B, A.semiring)


@pytest.mark.parametrize("d", ["ZZ", "QQ"])
@given(data=st.data())
def test_mxm_with_hundreds_of_bits_matches_reference(d, data):
    A = data.draw(arrays("plus_times", d, big=True))
    B = data.draw(arrays("plus_times", d, big=True))
    got = {(r, c): _plain(v) for r, c, v in A.mxm(B).triples()}
    assert got == reference_mxm(A, B, A.semiring)


def _dense_sympy(A: AssocArray) -> sympy.Matrix:
    M = sympy.zeros(len(KEYS), len(KEYS))
    for r, c, v in A.triples():
        M[KEYS.index(r), KEYS.index(c)] = sympy.sympify(v)
    return M


@pytest.mark.parametrize("d", ["QQ", "SYM"])
@given(data=st.data())
def test_plus_times_matches_sympy_matrix_product(d, data):
    A = data.draw(arrays("plus_times", d))
    B = data.draw(arrays("plus_times", d))
    want = (_dense_sympy(A) * _dense_sympy(B)).applyfunc(sympy.expand)
    got = _dense_sympy(A.mxm(B)).applyfunc(sympy.expand)
    assert got == want


# ------------------------------------------------------------------ python-graphblas
gb = pytest.importorskip("graphblas", reason="python-graphblas is in the test extra")


def _to_gb(A: AssocArray, dtype: str, n: int):
    M, rows, cols = A.to_scipy()
    C = M.tocoo()
    r = np.array(rows)[C.row].astype(np.int64)
    c = np.array(cols)[C.col].astype(np.int64)
    return gb.Matrix.from_coo(r, c, C.data, nrows=n, ncols=n, dtype=dtype)


def _random_int_array(rng, n, nnz, semiring, domain, low=-9, high=10):
    r = rng.integers(0, n, nnz)
    c = rng.integers(0, n, nnz)
    v = rng.integers(low, high, nnz)
    if domain == "fp64" and semiring != "plus_times":
        v = v + rng.random(nnz)  # fractional floats: max/min/+ of two floats round once
    return AssocArray.from_triples(r, c, v.astype(np.float64 if domain == "fp64" else np.int64),
                                   domain=domain, semiring=semiring, dup="last")


@pytest.mark.parametrize("s", ["plus_times", "max_plus", "min_plus", "max_min"])
@pytest.mark.parametrize("d,gbtype", [("ZZ", "INT64"), ("fp64", "FP64")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mxm_matches_graphblas(s, d, gbtype, seed):
    rng = np.random.default_rng(seed)
    n = 60
    A = _random_int_array(rng, n, 400, s, d)
    B = _random_int_array(rng, n, 400, s, d)
    C = A.mxm(B)
    G = _to_gb(A, gbtype, n).mxm(_to_gb(B, gbtype, n), getattr(gb.semiring, s)).new()
    r, c, v = G.to_coo()
    want = {(int(i), int(j)): x for i, j, x in zip(r, c, v, strict=True)}
    if s == "plus_times":  # GraphBLAS keeps entries that cancel to 0; an AssocArray does not
        want = {k: x for k, x in want.items() if x != 0}
    got = {(i, j): x for i, j, x in C.triples()}
    assert set(got) == set(want)
    assert all(got[k] == want[k] for k in got)  # exact equality, no tolerance


# ------------------------------------------------------------------ intmm paths
def _csr_from(rows, cols, vals, shape):
    import scipy.sparse as sp

    M = sp.csr_matrix((np.ones(len(vals)), (rows, cols)), shape=shape)
    M.sort_indices()
    order = np.lexsort((cols, rows))
    data = np.empty(len(vals), dtype=object)
    data[:] = [vals[i] for i in order]
    return M.indptr.astype(np.int64), M.indices.astype(np.int64), data, shape


def _dense_product(A, B):
    (ap, ai, ad, (m, _)), (bp, bi, bd, (_, n)) = A, B
    out = [[0] * n for _ in range(m)]
    for i in range(m):
        for p in range(ap[i], ap[i + 1]):
            kk = ai[p]
            for q in range(bp[kk], bp[kk + 1]):
                out[i][bi[q]] += int(ad[p]) * int(bd[q])
    return out


def _dense_of(C):
    ptr, idx, data, (m, n) = C
    out = [[0] * n for _ in range(m)]
    for i in range(m):
        for p in range(ptr[i], ptr[i + 1]):
            out[i][idx[p]] = int(data[p])
    return out


@pytest.mark.parametrize("magnitude,natural", [(2**20, "float64"), (2**29, "int64"),
                                               (2**40, "object")])
def test_each_spgemm_path_is_exact_and_chosen_by_the_bound(magnitude, natural):
    rng = np.random.default_rng(7)
    shape = (30, 30)
    def rand():
        r = rng.integers(0, 30, 150)
        c = rng.integers(0, 30, 150)
        key = np.unique(r * 30 + c)
        vals = [int(v) * int(s) for v, s in zip(rng.integers(magnitude // 2, magnitude,
                                                             len(key)),
                                                rng.choice([-1, 1], len(key)), strict=True)]
        return _csr_from(key // 30, key % 30, vals, shape)
    A, B = rand(), rand()
    want = _dense_product(A, B)
    _, path = intmm.spgemm_int(A, B)
    assert path == natural
    order = ["float64", "int64", "object"]
    for forced in order[order.index(natural):]:
        C, used = intmm.spgemm_int(A, B, path=forced)
        assert used == forced
        assert _dense_of(C) == want
    for too_small in order[: order.index(natural)]:
        with pytest.raises(SymdnnError, match="cannot hold"):
            intmm.spgemm_int(A, B, path=too_small)


def test_bound_is_exact_at_the_float64_edge():
    # one product of exactly 2**53 needs int64: float64 would not hold 2**53 + 1 apart from it
    A = _csr_from([0, 0], [0, 1], [2**26, 1], (1, 2))
    B = _csr_from([0, 1], [0, 0], [2**27, 1], (2, 1))
    C, path = intmm.spgemm_int(A, B)
    assert path == "int64" and int(C[2][0]) == 2**53 + 1
