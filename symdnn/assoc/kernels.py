"""Kernels over the canonical sparse store of an associative array.

Every kernel is a plain function taking the domain and semiring explicitly and returning new
arrays; none modifies its inputs. The store is CSR over sorted key tuples: ``indptr``,
``indices`` (column positions, sorted within each row) and a domain vector of values.

* :func:`canonical`: from unsorted triples to the canonical form (duplicates resolved, the
  semiring's zero dropped, unused keys removed).
* :func:`ewise_union` / :func:`ewise_intersect`: element-wise add and multiply.
* :func:`spgemm`: array multiply. ``plus_times`` over ``ZZ``/``QQ`` scales each operand to integers
  over one common denominator and multiplies them with :func:`symdnn.intmm.spgemm_int` (float
  speed while the exact bound allows); ``plus_times`` over fp64/fp32 uses scipy; every other
  semiring and domain expands all product terms, sorts them by output position and reduces them
  with the semiring's addition (in the order of the inner keys).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn import intmm
from symdnn.domains import Domain, FloatDomain, RationalDomain, RatVec
from symdnn.domains.rational import LIMIT, compact, maxabs, mul, reduce_common
from symdnn.errors import ArgumentError, DomainError, DomainMismatch, DuplicateKeyError
from symdnn.semirings import Semiring

__all__ = ["Store", "canonical", "ewise_union", "ewise_intersect", "spgemm", "check_values"]

#: the largest number of product terms expanded at once by the generic product
CHUNK_TERMS = 1 << 22


class Store:
    """Canonical sparse content: sorted unique keys, CSR structure and values."""

    __slots__ = ("rows", "cols", "indptr", "indices", "vals", "_rpos", "_cpos")

    def __init__(self, rows: tuple, cols: tuple, indptr: np.ndarray, indices: np.ndarray,
                 vals: Any):
        self.rows = rows
        self.cols = cols
        self.indptr = indptr
        self.indices = indices
        self.vals = vals
        self._rpos: dict | None = None
        self._cpos: dict | None = None

    def row_pos(self) -> dict:
        """``{row key: position}``, built once."""
        if self._rpos is None:
            self._rpos = {k: i for i, k in enumerate(self.rows)}
        return self._rpos

    def col_pos(self) -> dict:
        """``{column key: position}``, built once."""
        if self._cpos is None:
            self._cpos = {k: i for i, k in enumerate(self.cols)}
        return self._cpos

    def row_index(self) -> np.ndarray:
        """Row position of every stored entry."""
        return np.repeat(np.arange(len(self.rows), dtype=np.int64), np.diff(self.indptr))

    def linear(self) -> np.ndarray:
        """Row-major linear position of every entry (sorted ascending)."""
        return self.row_index() * len(self.cols) + self.indices


def _lin(ri: np.ndarray, ci: np.ndarray, ncols: int) -> np.ndarray:
    return ri.astype(np.int64) * ncols + ci.astype(np.int64)


def check_values(domain: Domain, vals: Any, semiring: Semiring, what: str = "value") -> None:
    """Raise :class:`DomainError` if a value lies outside the semiring's carrier."""
    if semiring.kind != domain.kind:
        raise DomainMismatch(
            f"semiring {semiring.name} is defined over {semiring.kind} values, "
            f"not over domain {domain.name}"
        )
    if semiring.carrier is None or domain.size(vals) == 0:
        return
    bad = domain.outside(vals, semiring.carrier)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        v = domain.to_list(domain.take(vals, np.array([i])))[0]
        raise DomainError(
            f"{what} {domain.format(v)} is outside the carrier {semiring.carrier.describe()} "
            f"of semiring {semiring.name}"
        )


def canonical(rows: tuple, cols: tuple, ri: np.ndarray, ci: np.ndarray, vals: Any,
              domain: Domain, semiring: Semiring, *, presorted: bool = False,
              dup: str = "error") -> Store:
    """Canonical store from triples given as positions into (possibly over-full) key tuples.

    ``dup`` says what repeated (row, col) pairs do: ``"error"`` raises
    :class:`DuplicateKeyError` naming the pair, ``"add"`` combines them with the semiring's
    addition, ``"first"`` / ``"last"`` keep one. Entries equal to the semiring's zero are
    dropped, and so are rows and columns left empty.
    """
    ri = np.asarray(ri, dtype=np.int64)
    ci = np.asarray(ci, dtype=np.int64)
    if not presorted and len(ri):
        if len(rows) * max(len(cols), 1) < LIMIT:
            order = np.argsort(_lin(ri, ci, len(cols)), kind="stable")
        else:
            order = np.lexsort((ci, ri))
        ri, ci, vals = ri[order], ci[order], domain.take(vals, order)
        same = (ri[1:] == ri[:-1]) & (ci[1:] == ci[:-1])
        if same.any():
            first = int(np.flatnonzero(same)[0])
            if dup == "error":
                raise DuplicateKeyError(
                    f"repeated entry at ({rows[ri[first]]!r}, {cols[ci[first]]!r}); "
                    "pass dup='add', 'first' or 'last' to combine repeats"
                )
            starts = np.flatnonzero(np.r_[True, ~same])
            if dup == "add":
                vals = domain.reduceat(semiring.add.op, vals, starts)
                pick = starts
            elif dup == "first":
                pick = starts
            elif dup == "last":
                pick = np.r_[starts[1:] - 1, len(ri) - 1]
            else:
                raise ArgumentError(f"dup must be 'error', 'add', 'first' or 'last', not {dup!r}")
            ri, ci = ri[pick], ci[pick]
            if dup != "add":
                vals = domain.take(vals, pick)
    keep = ~domain.is_const(vals, semiring.zero)
    if not keep.all():
        ri, ci, vals = ri[keep], ci[keep], domain.take(vals, np.flatnonzero(keep))
    rows, ri = _drop_unused(rows, ri)
    cols, ci = _drop_unused(cols, ci)
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(ri, minlength=len(rows)), out=indptr[1:])
    return Store(rows, cols, indptr, ci.astype(np.int64), vals)


def _drop_unused(keys: tuple, pos: np.ndarray) -> tuple[tuple, np.ndarray]:
    """Keys that some entry uses, and the entries' positions among them (order kept)."""
    present = np.bincount(pos, minlength=len(keys)) > 0
    if present.all():
        return keys, pos
    used = np.flatnonzero(present)
    new_pos = np.cumsum(present) - 1
    return tuple(keys[i] for i in used), new_pos[pos]


def _remap(sub: tuple, full: tuple) -> np.ndarray:
    """Positions of the keys of ``sub`` (a subset of ``full``, both sorted) in ``full``."""
    if sub == full:
        return np.arange(len(sub), dtype=np.int64)
    index = {k: i for i, k in enumerate(full)}
    return np.fromiter((index[k] for k in sub), dtype=np.int64, count=len(sub))


def ewise_union(A: Store, B: Store, rows: tuple, cols: tuple, op: str, domain: Domain,
                semiring: Semiring) -> Store:
    """``C(k1,k2) = A(k1,k2) op B(k1,k2)`` over the union of the patterns."""
    ra = _remap(A.rows, rows)[A.row_index()]
    rb = _remap(B.rows, rows)[B.row_index()]
    ca = _remap(A.cols, cols)[A.indices]
    cb = _remap(B.cols, cols)[B.indices]
    lin = np.concatenate([_lin(ra, ca, len(cols)), _lin(rb, cb, len(cols))])
    vals = domain.concat([A.vals, B.vals])
    order = np.argsort(lin, kind="stable")
    lin = lin[order]
    vals = domain.take(vals, order)
    starts = np.flatnonzero(np.r_[True, lin[1:] != lin[:-1]]) if len(lin) else lin
    if len(starts) != len(lin):
        vals = domain.reduceat(op, vals, starts)
        lin = lin[starts]
    ncols = max(len(cols), 1)
    return canonical(rows, cols, lin // ncols, lin % ncols, vals, domain, semiring,
                     presorted=True)


def ewise_intersect(A: Store, B: Store, rows: tuple, cols: tuple, op: str, domain: Domain,
                    semiring: Semiring) -> Store:
    """``C(k1,k2) = A(k1,k2) op B(k1,k2)`` over the intersection of the patterns."""
    la = _lin(_remap(A.rows, rows)[A.row_index()], _remap(A.cols, cols)[A.indices], len(cols))
    lb = _lin(_remap(B.rows, rows)[B.row_index()], _remap(B.cols, cols)[B.indices], len(cols))
    lin, ia, ib = np.intersect1d(la, lb, assume_unique=True, return_indices=True)
    vals = domain.binop(op, domain.take(A.vals, ia), domain.take(B.vals, ib))
    ncols = max(len(cols), 1)
    return canonical(rows, cols, lin // ncols, lin % ncols, vals, domain, semiring,
                     presorted=True)


def _align_inner(A: Store, B: Store, domain: Domain) -> tuple[np.ndarray, np.ndarray, Any]:
    """A's entries whose column key is a row key of B, re-indexed by B's row positions."""
    index = B.row_pos()
    pos = np.fromiter((index.get(k, -1) for k in A.cols), dtype=np.int64, count=len(A.cols))
    mapped = pos[A.indices]
    keep = mapped >= 0
    if keep.all():
        return A.indptr, mapped, A.vals
    ri = A.row_index()[keep]
    indptr = np.zeros(len(A.rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(ri, minlength=len(A.rows)), out=indptr[1:])
    return indptr, mapped[keep], domain.take(A.vals, np.flatnonzero(keep))


def _scale_to_integers(vec: RatVec) -> tuple[np.ndarray, int]:
    """Numerators over one common denominator D: ``vec == N / D`` exactly."""
    dens = np.unique(vec.den)
    D = math.lcm(*[int(d) for d in dens]) if len(dens) else 1
    if D == 1:
        return vec.num, 1
    factor = (D // vec.den) if D < LIMIT else (D // vec.den.astype(object))
    return compact(mul(vec.num, factor, maxabs(vec.num) * D)), D


def spgemm(A: Store, B: Store, domain: Domain, semiring: Semiring) -> Store:
    """Array multiply ``C = A (+).(x) B`` with inner keys aligned by key."""
    a_ptr, a_idx, a_vals = _align_inner(A, B, domain)
    shape_a = (len(A.rows), len(B.rows))
    shape_b = (len(B.rows), len(B.cols))
    if semiring.name == "plus_times" and isinstance(domain, RationalDomain):
        NA, DA = _scale_to_integers(a_vals)
        NB, DB = _scale_to_integers(B.vals)
        (ptr, idx, data, _), _ = intmm.spgemm_int((a_ptr, a_idx, NA, shape_a),
                                                  (B.indptr, B.indices, NB, shape_b))
        vals = reduce_common(compact(data) if data.dtype == object else data, DA * DB)
        return canonical(A.rows, B.cols, np.repeat(np.arange(len(A.rows)), np.diff(ptr)), idx,
                         vals, domain, semiring, presorted=True)
    if semiring.name == "plus_times" and isinstance(domain, FloatDomain) and \
            domain.name in ("fp64", "fp32"):
        Am = sp.csr_matrix((a_vals, a_idx, a_ptr), shape=shape_a)
        Bm = sp.csr_matrix((B.vals, B.indices, B.indptr), shape=shape_b)
        C = (Am @ Bm).tocsc().tocsr()  # sorted column indices in two linear passes
        ri = np.repeat(np.arange(len(A.rows)), np.diff(C.indptr))
        return canonical(A.rows, B.cols, ri, C.indices, C.data.astype(domain.dtype), domain,
                         semiring, presorted=True)
    return _spgemm_generic(a_ptr, a_idx, a_vals, B, A.rows, domain, semiring)


def _spgemm_generic(a_ptr: np.ndarray, a_idx: np.ndarray, a_vals: Any, B: Store, rows: tuple,
                    domain: Domain, semiring: Semiring) -> Store:
    ncols = max(len(B.cols), 1)
    blen = np.diff(B.indptr)
    terms_per_entry = blen[a_idx]
    csum = np.concatenate([[0], np.cumsum(terms_per_entry)])
    terms_per_row = csum[a_ptr[1:]] - csum[a_ptr[:-1]]
    nonempty = np.flatnonzero(terms_per_row)
    lins, valss = [], []
    start = 0
    while start < len(nonempty):
        acc = np.cumsum(terms_per_row[nonempty[start:]])
        stop = start + max(1, int(np.searchsorted(acc, CHUNK_TERMS, "right")))
        block = nonempty[start:stop]
        r, c, ia, ib = intmm.expand_products(a_ptr, a_idx, B.indptr, B.indices, block)
        prod = domain.binop(semiring.mul.op, domain.take(a_vals, ia), domain.take(B.vals, ib))
        lin = _lin(r, c, ncols)
        order = np.argsort(lin, kind="stable")
        lin = lin[order]
        starts = np.flatnonzero(np.r_[True, lin[1:] != lin[:-1]])
        valss.append(domain.reduceat(semiring.add.op, domain.take(prod, order), starts))
        lins.append(lin[starts])
        start = stop
    lin = np.concatenate(lins) if lins else np.zeros(0, dtype=np.int64)
    vals = domain.concat(valss) if valss else domain.from_list([])
    return canonical(rows, B.cols, lin // ncols, lin % ncols, vals, domain, semiring,
                     presorted=True)
