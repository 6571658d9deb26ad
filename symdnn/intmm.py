"""Exact sparse products of integer matrices, at float speed when an exact bound allows.

The path is chosen by an exact bound on every entry of every partial sum, never by hoping:

* ``float64``: the bound is below 2**53, so scipy's float64 SpGEMM computes every partial sum
  exactly (each is an integer of at most 53 bits);
* ``int64``: the bound is below 2**63, so scipy's int64 SpGEMM cannot overflow;
* ``object``: anything larger, with Python integers (expand, sort, reduce in NumPy object
  arrays).

A test forces each path. The multi-limb float64 path of the inference engine builds on this.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from symdnn.errors import ArgumentError

__all__ = ["IntCSR", "product_bound", "choose_path", "spgemm_int", "expand_products"]

F64_EXACT = 1 << 53
I64_SAFE = 1 << 63

IntCSR = tuple  # (indptr, indices, data, shape); data int64 or object (Python ints)


def _maxabs(a: np.ndarray) -> int:
    return int(np.max(np.abs(a))) if a.size else 0


def _row_abs_sums(indptr: np.ndarray, data: np.ndarray) -> int:
    """Largest sum of magnitudes over rows, exactly."""
    if data.size == 0:
        return 0
    absd = np.abs(data)
    nz_rows = np.flatnonzero(np.diff(indptr))
    if data.dtype != object and _maxabs(data) * int(np.diff(indptr).max()) < I64_SAFE:
        sums = np.add.reduceat(absd.astype(np.int64), indptr[nz_rows])
    else:
        sums = np.add.reduceat(absd.astype(object), indptr[nz_rows])
    return int(np.max(sums))


def product_bound(A: IntCSR, B: IntCSR) -> int:
    """An exact upper bound on ``|sum_k A[i,k] B[k,j]|`` and on every partial sum of it.

    The minimum of ``max_i sum_k |A[i,k]| * max|B|`` and ``max|A| * max_j sum_k |B[k,j]|``.
    """
    a_ptr, _, a_data, _ = A
    b_ptr, b_idx, b_data, b_shape = B
    if a_data.size == 0 or b_data.size == 0:
        return 0
    by_rows = _row_abs_sums(a_ptr, a_data) * _maxabs(b_data)
    order = np.argsort(b_idx, kind="stable")  # B's entries grouped by column
    col_ptr = np.concatenate([[0], np.cumsum(np.bincount(b_idx, minlength=b_shape[1]))])
    by_cols = _maxabs(a_data) * _row_abs_sums(col_ptr, b_data[order])
    return min(by_rows, by_cols)


def choose_path(bound: int) -> str:
    """``"float64"``, ``"int64"`` or ``"object"`` for a product bound."""
    if bound < F64_EXACT:
        return "float64"
    if bound < I64_SAFE:
        return "int64"
    return "object"


def expand_products(
    a_ptr: np.ndarray, a_idx: np.ndarray, b_ptr: np.ndarray, b_idx: np.ndarray,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every product term of ``A @ B`` for the given rows of A, in row-major order.

    Returns ``(out_row, out_col, ia, ib)``: for each term, its output position and the indices
    of the A and B entries it multiplies. Within a row, terms follow A's column order.
    """
    starts = a_ptr[rows]
    ends = a_ptr[rows + 1]
    counts = ends - starts
    ia = np.repeat(starts, counts) + _ranges(counts)
    inner = a_idx[ia]
    lens = b_ptr[inner + 1] - b_ptr[inner]
    ib = np.repeat(b_ptr[inner], lens) + _ranges(lens)
    out_row = np.repeat(np.repeat(rows, counts), lens)
    ia_rep = np.repeat(ia, lens)
    return out_row, b_idx[ib], ia_rep, ib


def _ranges(counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(c)`` for each c, vectorised."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - offsets


def _spgemm_object(A: IntCSR, B: IntCSR) -> IntCSR:
    a_ptr, a_idx, a_data, (m, _) = A
    b_ptr, b_idx, b_data, (_, n) = B
    rows = np.flatnonzero(np.diff(a_ptr))
    r, c, ia, ib = expand_products(a_ptr, a_idx, b_ptr, b_idx, rows)
    prod = a_data.astype(object)[ia] * b_data.astype(object)[ib]
    key = r.astype(np.int64) * n + c
    order = np.argsort(key, kind="stable")
    key = key[order]
    if key.size == 0:
        return np.zeros(m + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, object), (m, n)
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    sums = np.add.reduceat(prod[order], first)
    keep = sums != 0
    key = key[first][keep]
    data = sums[keep]
    out_r = key // n
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.add.at(indptr, out_r + 1, 1)
    return np.cumsum(indptr), key % n, data, (m, n)


def spgemm_int(A: IntCSR, B: IntCSR, *, path: str | None = None) -> tuple[IntCSR, str]:
    """Exact product of two integer CSR matrices; entries that cancel to 0 are not stored.

    Parameters
    ----------
    A, B : tuple
        ``(indptr, indices, data, shape)`` with sorted column indices, ``data`` int64 or an
        object array of Python ints.
    path : {"float64", "int64", "object"}, optional
        Force a path (for tests). A path the bound does not allow raises :class:`SymdnnError`
        instead of overflowing.

    Returns
    -------
    (C, path) : the product in the same CSR form (``data`` int64 when every entry is below
        2**63, else Python ints), and the path taken.

    Examples
    --------
    >>> import numpy as np
    >>> A = (np.array([0, 2]), np.array([0, 1]), np.array([3, 4]), (1, 2))
    >>> B = (np.array([0, 1, 2]), np.array([0, 0]), np.array([5, -2]), (2, 1))
    >>> (ptr, idx, data, shape), path = spgemm_int(A, B)
    >>> data.tolist(), path
    ([7], 'float64')
    """
    bound = product_bound(A, B)
    allowed = choose_path(bound)
    order = ["float64", "int64", "object"]
    if path is None:
        path = allowed
    elif order.index(path) < order.index(allowed):
        raise ArgumentError(
            f"path {path!r} cannot hold this product exactly (bound {bound} needs {allowed!r})"
        )
    if path == "object":
        return _spgemm_object(A, B), path
    dtype = np.float64 if path == "float64" else np.int64
    a_ptr, a_idx, a_data, a_shape = A
    b_ptr, b_idx, b_data, b_shape = B
    Am = sp.csr_matrix((a_data.astype(dtype), a_idx, a_ptr), shape=a_shape)
    Bm = sp.csr_matrix((b_data.astype(dtype), b_idx, b_ptr), shape=b_shape)
    C = (Am @ Bm).tocsc().tocsr()  # two linear passes leave the column indices sorted
    data = C.data
    if path == "float64":
        data = data.astype(np.int64)  # exact: every value is an integer below 2**53
    keep = data != 0
    if not keep.all():
        C = sp.csr_matrix((data, C.indices, C.indptr), shape=C.shape)
        C.eliminate_zeros()
        data = C.data
    return (C.indptr.astype(np.int64), C.indices.astype(np.int64), data, C.shape), path
