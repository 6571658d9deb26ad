"""The fast exact engine: integer-scaled sparse products over one common denominator per layer.

Activations are kept as integer numerators ``Z`` over one common denominator ``s`` (``Y = Z/s``),
row convention (batch x neurons). A layer's weights are integers ``NW`` over ``dW`` and its bias
integers ``nb`` over ``db``. With ``s' = lcm(s dW, db, q)`` (q the cap's denominator),

    P = (s' / (s dW)) Z NW + (s' / db) nb        (the pre-activation numerators over s')

ReLU is a sign test, the cap a comparison with ``YMAX s'``, and a common gcd of all numerators
and ``s'`` is divided out when the values are small. An exact bound on ``|P|`` chooses the path:

* ``float64``: bound below 2**53: scipy's float64 SpGEMM on integer values is exact;
* ``int64``: bound below 2**62: scipy's int64 SpGEMM cannot overflow;
* ``limbs``: ``Z`` split into base-2**k limbs (:mod:`symdnn.engines.limbs`), ``k`` chosen so
  every limb product stays below 2**53, all limbs multiplied in one float64 SpGEMM, then carries.
  The scale ``s'/(s dW)`` goes into the weights while their column sums stay below 2**45, else
  into the activations; weights whose own column sums reach 2**45 (numerators of any size) are
  split into limbs too, and each weight limb is one more SpGEMM.

Nothing is ever rounded; a path is never chosen without its bound, and every valid exact layer
has a path (an empty layer, huge numerators and denominators, negative inputs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn._optional import require
from symdnn.engines import limbs as LB
from symdnn.errors import DomainError

__all__ = ["ExactLayer", "ExactState", "step", "start", "values_of"]

F64 = 1 << 53
I64 = 1 << 62
#: Weights whose scaled column sums reach this are split into limbs (leaving >= 8 bits a limb).
W_LIMB = 1 << 45


def _maxabs(a: np.ndarray) -> int:
    if a.size == 0:
        return 0
    if a.dtype == object:
        return max(abs(int(v)) for v in a.ravel())
    return max(abs(int(a.min())), abs(int(a.max())))


@dataclass
class IntCSR:
    """A CSR matrix of integers of any size (``data`` int64, or an object array of Python
    ints), with the attributes of a scipy CSR matrix that the engines read; scipy itself
    cannot hold Python integers."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple

    @property
    def nnz(self) -> int:
        return len(self.indices)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype


def int_csr(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
            shape: tuple) -> sp.csr_matrix | IntCSR:
    """A scipy int64 CSR matrix when every entry fits below 2**62, else an :class:`IntCSR`."""
    data = np.asarray(data)
    if data.dtype != object or _maxabs(data) < I64:
        return sp.csr_matrix((data.astype(np.int64), indices, indptr), shape=shape)
    return IntCSR(data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64),
                  tuple(shape))


@dataclass
class ExactLayer:
    """A layer compiled to integers (row convention: inputs x outputs).

    ``NW`` holds integer numerators over ``dW``: a scipy int64 CSR matrix, or an
    :class:`IntCSR` when some numerator reaches 2**62. ``nb`` holds the bias numerators over
    ``db`` for every output neuron (one row, or one row per input for a full bias ``B_l``;
    None when there is no bias).
    """

    NW: Any
    dW: int
    nb: np.ndarray | None
    db: int
    colsum: int = 0
    col_nnz: int = 0
    nb_max: int = 0
    nb_pos: bool = False
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        W = self.NW
        if not isinstance(W, IntCSR | sp.csr_matrix):
            W = self.NW = sp.csr_matrix(W)
        if W.dtype != object and W.dtype.kind == "f":
            W = self.NW = sp.csr_matrix((_float_ints(W.data), W.indices, W.indptr),
                                        shape=W.shape)
        n_out = W.shape[1]
        self.col_nnz = int(np.bincount(W.indices, minlength=max(n_out, 1)).max()) \
            if W.nnz else 0
        if W.dtype != object and _maxabs(W.data) * self.col_nnz < I64:
            self.colsum = int(np.asarray(abs(W).sum(axis=0)).max()) if W.nnz else 0
        else:
            self.colsum = _colsum_slow(W)
        if self.nb is not None:
            self.nb = np.asarray(self.nb)
            if self.nb.size:
                self.nb_max = _maxabs(self.nb)
                self.nb_pos = bool(np.any(self.nb > 0))

    @property
    def small(self) -> bool:
        """Whether the numerators are int64 (a scipy matrix) rather than Python ints."""
        return not isinstance(self.NW, IntCSR)

    def weights(self, f1: int, dtype: Any) -> sp.csr_matrix:
        """``f1 * NW`` as a float64 or int64 CSR matrix (cached); the caller's bound
        guarantees every entry fits."""
        key = (f1, np.dtype(dtype).str)
        if key not in self._cache:
            M = self.NW.copy()
            if f1 == 1:
                M.data = M.data.astype(dtype)
            elif M.dtype != object and f1 < I64 and _maxabs(M.data) * f1 < I64:  # exact
                M.data = (M.data.astype(np.int64) * f1).astype(dtype)
            else:
                M.data = (M.data.astype(object) * f1).astype(dtype)
            self._cache.setdefault(key, M)  # threads sharing the layer keep the first
        return self._cache[key]

    def weight_limbs(self, f1: int, k: int) -> list[sp.csr_matrix]:
        """``f1 * NW`` split into base-``2**k`` limbs, one float64 CSR matrix per limb (every
        entry of magnitude at most ``2**k``), lowest limb first (cached)."""
        key = ("limbs", f1, k)
        if key not in self._cache:
            W = self.NW
            vals = np.asarray(W.data).astype(object) * f1
            L = LB.from_ints(vals, k)
            self._cache.setdefault(key, [
                sp.csr_matrix((L[t].astype(np.float64), W.indices, W.indptr), shape=W.shape)
                for t in range(L.shape[0])])
        return self._cache[key]

    def bias(self, f2: int, dtype: Any = object) -> np.ndarray:
        """``f2 * nb`` as Python ints (object array), or float64/int64 when asked (cached)."""
        key = ("bias", f2, np.dtype(dtype).str)
        if key not in self._cache:
            self._cache.setdefault(key, (self.nb.astype(object) * f2).astype(dtype))
        return self._cache[key]


def _float_ints(data: np.ndarray) -> np.ndarray:
    """Integer-valued floats as int64 (refusing any that is not an integer)."""
    if data.size and (not np.all(np.isfinite(data)) or np.any(data != np.round(data))):
        raise DomainError("exact layer weights must be integer numerators")
    if data.size and np.max(np.abs(data)) >= 2.0**62:
        raise DomainError("exact layer weights of 2**62 or more must be given as Python ints")
    return data.astype(np.int64)


def _colsum_slow(NW: Any) -> int:
    """The largest column sum of ``|NW|`` in exact integers (any size)."""
    if NW.nnz == 0:
        return 0
    absv = np.array([abs(int(v)) for v in NW.data], dtype=object)
    order = np.argsort(np.asarray(NW.indices), kind="stable")
    cols = np.asarray(NW.indices)[order]
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    return int(max(np.add.reduceat(absv[order], starts)))


@dataclass
class ExactState:
    """Activations ``Z / s`` in CSR (batch x neurons): ``data`` (float64 or int64) for the
    ``float64``/``int64`` kinds, ``limbs`` (T x nnz) with base ``2**k`` for ``limbs``."""

    indptr: np.ndarray
    indices: np.ndarray
    shape: tuple
    s: int
    kind: str
    data: np.ndarray | None = None
    limbs: np.ndarray | None = None
    k: int = 0

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def maxabs(self) -> int:
        if self.kind == "limbs":
            return (1 << LB.bits(self.limbs, self.k)) - 1
        return _maxabs(self.data)

    def ints(self) -> np.ndarray:
        """The numerators as int64 or Python ints."""
        if self.kind == "limbs":
            return LB.to_ints(self.limbs, self.k)
        return self.data.astype(np.int64)


def start(indptr: np.ndarray, indices: np.ndarray, numerators: np.ndarray, s: int,
          shape: tuple) -> ExactState:
    """The state of an input batch ``numerators / s``."""
    m = _maxabs(numerators)
    if m < F64:
        return ExactState(indptr, indices, shape, s, "float64",
                          data=numerators.astype(np.float64))
    if m < I64:
        return ExactState(indptr, indices, shape, s, "int64", data=numerators.astype(np.int64))
    k = 40
    return ExactState(indptr, indices, shape, s, "limbs", limbs=LB.from_ints(numerators, k), k=k)


@dataclass
class StepInfo:
    """What one layer did: the path, the bound that chose it, and the denominator."""

    path: str
    bound_bits: int
    s: int
    pre: tuple | None = None  # (indptr, indices, numerators, s') when recorded


def step(st: ExactState, lay: ExactLayer, *, rule: str, cap: tuple[int, int] | None,
         record: bool = False, kernel: str = "scipy") -> tuple[ExactState, StepInfo]:
    """One layer: ``Y' = h(Y W + b)`` exactly. ``cap`` is ``(p, q)`` for ``YMAX = p/q``.

    ``kernel`` is the sparse product of the float64 and int64 paths: ``"scipy"``, or
    ``"graphblas"`` (SuiteSparse:GraphBLAS through python-graphblas, on as many threads as it
    is configured for). Both are exact there: the bound that chose the path keeps every
    product and partial sum an integer below 2**53 (float64) or 2**63 (int64), so the order
    of summation cannot matter and the results are identical.
    """
    cap_p, cap_q = cap if cap is not None else (0, 1)
    s_new = math.lcm(st.s * lay.dW, lay.db, cap_q)
    f1 = s_new // (st.s * lay.dW)
    f2 = s_new // lay.db
    capv = cap_p * (s_new // cap_q) if cap is not None else None
    # max(.., 1): the weights are scaled into the chosen dtype even when Z is all zero
    bound = max(st.maxabs(), 1) * lay.colsum * f1 + f2 * lay.nb_max
    if capv is not None:
        bound = max(bound, capv)
    dense = lay.nb is not None and (lay.nb.ndim == 2 or
                                    (rule == "all" and (lay.nb_pos or record)))
    if st.kind != "limbs" and lay.small:
        if bound < F64:
            return _step_small(st, lay, np.float64, s_new, f1, f2, capv, rule, dense, record,
                               bound, kernel)
        if bound < I64:
            return _step_small(st, lay, np.int64, s_new, f1, f2, capv, rule, dense, record,
                               bound, kernel)
    return _step_limbs(st, lay, s_new, f1, f2, capv, rule, dense, record, bound)


def _rows_filter(indptr: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The row pointers after dropping the entries where ``keep`` is False."""
    ck = np.empty(len(keep) + 1, dtype=np.int64)
    ck[0] = 0
    np.cumsum(keep, out=ck[1:])
    return ck[indptr]


def _graphblas() -> Any:
    """python-graphblas, for the graphblas kernel, or a MissingDependency saying so."""
    return require("graphblas", "graphblas", what="the graphblas kernel",
                   package="python-graphblas")


def _graphblas_weights(lay: ExactLayer, f1: int, dt: Any) -> Any:
    """``f1 NW`` as a GraphBLAS matrix (float64 or int64), converted once per layer and kept."""
    gb = _graphblas()
    key = ("graphblas", f1, np.dtype(dt).str)
    if key not in lay._cache:
        lay._cache.setdefault(key, gb.io.from_scipy_sparse(lay.weights(f1, dt)))
    return lay._cache[key]


def _graphblas_product(Y: sp.csr_matrix, lay: ExactLayer, f1: int, dt: Any) -> sp.csr_matrix:
    """``Y (f1 NW)`` by SuiteSparse:GraphBLAS (``plus_times`` over FP64 or INT64), as a scipy
    CSR matrix."""
    gb = _graphblas()
    semiring = gb.semiring
    gdt = gb.dtypes.FP64 if dt is np.float64 else gb.dtypes.INT64
    A = gb.io.from_scipy_sparse(Y).mxm(_graphblas_weights(lay, f1, dt),
                                       semiring.plus_times[gdt]).new()
    return gb.io.to_scipy_sparse(A, format="csr")


def _step_small(st, lay, dt, s_new, f1, f2, capv, rule, dense, record, bound,
                kernel="scipy"):
    R = st.shape[0]
    n_out = lay.NW.shape[1]
    Y = sp.csr_matrix((st.data.astype(dt, copy=False), st.indices, st.indptr),
                      shape=st.shape)
    if Y.nnz == 0:  # nothing to multiply: no weights to scale
        A = sp.csr_matrix((R, n_out), dtype=dt)
    elif kernel == "graphblas":
        A = _graphblas_product(Y, lay, f1, dt)
    else:
        A = Y @ lay.weights(f1, dt)
    if lay.nb is not None:
        bias = lay.bias(f2, dt)
    pre = None
    if dense:
        P = A.toarray()
        b2 = bias if bias.ndim == 2 else bias[None, :]
        where = P != 0 if rule == "nonzero" else np.ones(P.shape, dtype=bool)
        P = np.where(where, P + b2, P)
        if record:
            r, c = np.nonzero(where)
            indptr_pre = np.zeros(R + 1, dtype=np.int64)
            np.cumsum(np.bincount(r, minlength=R), out=indptr_pre[1:])
            pre = (indptr_pre, c.astype(np.int64), P[r, c].copy(), s_new)
        keep = P > 0
        r, c = np.nonzero(keep)
        vals = P[r, c]
        indptr = np.zeros(R + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=R), out=indptr[1:])
        indices = c.astype(np.int64)
    else:
        if record and not A.has_sorted_indices:  # a record is read in key order (the next
            A = A.tocsc().tocsr()  # layer needs none); two linear transposes sort every row
        vals = A.data
        if rule == "nonzero" and not record:
            # one pass: an entry survives when W y is nonzero and W y + b is positive
            nz = vals != 0
            if lay.nb is not None:
                vals = vals + bias[A.indices]
            keep = nz & (vals > 0)
        else:
            if rule == "nonzero":
                nzk = vals != 0
                if not nzk.all():
                    A.indptr = _rows_filter(A.indptr, nzk)
                    A.indices = A.indices[nzk]
                    vals = vals[nzk]
            if lay.nb is not None:
                vals = vals + bias[A.indices]
            if record:
                pre = (A.indptr.astype(np.int64), A.indices.astype(np.int64), vals.copy(),
                       s_new)
            keep = vals > 0
        indptr = _rows_filter(A.indptr, keep).astype(np.int64)
        indices = A.indices[keep].astype(np.int64)
        vals = vals[keep]
    if capv is not None:
        vals = np.minimum(vals, dt(capv))
    s_out = s_new if len(vals) else 1  # with no entries left the denominator is moot
    if s_new > 1 and len(vals):
        iv = vals.astype(np.int64)
        g = math.gcd(int(np.gcd.reduce(iv)), s_new)
        if g > 1:
            # g divides every value (each below 2**62): one past int64 means they are all 0
            vals = (iv // g).astype(dt) if g < I64 else np.zeros_like(vals)
            s_out = s_new // g
    new = ExactState(indptr, indices, (R, n_out), s_out, "float64" if dt is np.float64
                     else "int64", data=vals)
    return new, StepInfo("float64" if dt is np.float64 else "int64", bound.bit_length(),
                         s_out, pre)


def _limb_plan(st: ExactState, lay: ExactLayer, f1: int) -> tuple[list, int, int]:
    """How to multiply: ``(weight limbs, k, fz)``: the activations times ``fz`` are split into
    base-``2**k`` limbs and multiplied by each weight limb (base ``2**k`` too), so that every
    column sum of limb products stays below 2**53."""
    cs = lay.colsum
    if lay.small and cs * f1 < W_LIMB:  # the scale goes into the weights (cached per f1)
        return [lay.weights(f1, np.float64)], 53 - max(cs * f1, 1).bit_length(), 1
    if lay.small and cs < W_LIMB:  # into the activations: the weights stay small
        return [lay.weights(1, np.float64)], 53 - max(cs, 1).bit_length(), f1
    # the weights themselves are large: split them as well, col_nnz * 2**(2k) < 2**53
    k = (53 - max(lay.col_nnz, 1).bit_length()) // 2
    return lay.weight_limbs(1, k), k, f1


def _step_limbs(st, lay, s_new, f1, f2, capv, rule, dense, record, bound):
    R = st.shape[0]
    n_out = lay.NW.shape[1]
    Ws, k, fz = _limb_plan(st, lay, f1)
    if fz == 1 and st.kind == "limbs" and st.k == k:
        L = st.limbs
    else:
        ints = st.ints()
        if fz != 1:
            ints = np.asarray(ints).astype(object) * fz
        L = LB.from_ints(np.asarray(ints), k)
    T = L.shape[0]
    counts = np.diff(st.indptr)
    active = np.arange(R) if dense else np.flatnonzero(counts)
    Ra = len(active)
    nnz = st.nnz
    cptr = np.concatenate([[0], np.cumsum(counts[active])])
    stacked_ptr = np.concatenate([cptr[:-1] + t * nnz for t in range(T)] + [[T * nnz]])
    S = sp.csr_matrix((L.ravel().astype(np.float64), np.tile(st.indices, T), stacked_ptr),
                      shape=(T * Ra, st.shape[1]))
    # limbs enough for |P| <= bound, partial sums over weight limbs (at most twice as large)
    # and the carries
    T_out = max(T + len(Ws), -(-(bound.bit_length() + 2) // k)) + 2
    P = np.zeros((T_out, Ra, n_out), dtype=np.int64)
    for tw, Wt in enumerate(Ws):
        prod = (S @ Wt).toarray().reshape(T, Ra, n_out)  # exact: every sum is below 2**53
        P[tw:tw + T] += prod.astype(np.int64)
        LB.normalize(P, k)
    nz = (P != 0).any(axis=0)  # the exact product is nonzero
    bias = lay.bias(f2) if lay.nb is not None else None
    if bias is not None:
        BL = LB.from_ints(bias.ravel(), k, T_out)
        if BL.shape[0] > T_out:
            raise OverflowError("bias limbs exceed the allocated width")  # a bound is wrong
        BL = BL[:, None, :] if bias.ndim == 1 else BL.reshape((T_out,) + bias.shape)[:, active]
        if rule == "nonzero":
            P += BL * nz[None, :, :]
        else:
            P += BL
        LB.normalize(P, k)
    sg = LB.sign(P)
    pre = None
    if record:
        # as the float64 and int64 paths record: every entry where a bias is added to every
        # neuron (dense), else the nonzero products W y only
        where = np.ones_like(nz) if dense and rule == "all" else nz
        r, c = np.nonzero(where)
        vals = LB.to_ints(P[:, r, c], k)
        indptr = np.zeros(R + 1, dtype=np.int64)
        np.cumsum(np.bincount(active[r], minlength=R), out=indptr[1:])
        pre = (indptr, c.astype(np.int64), vals, s_new)
    keep = sg > 0
    if capv is not None:
        CL = LB.from_ints(np.array([capv], dtype=object), k, T_out)[:, 0]
        over = keep & LB.greater(P, CL)
        P[:, over] = CL[:, None]
    r, c = np.nonzero(keep)
    newL = LB.trim(P[:, r, c])
    indptr = np.zeros(R + 1, dtype=np.int64)
    np.cumsum(np.bincount(active[r], minlength=R), out=indptr[1:])
    indices = c.astype(np.int64)
    if len(indices) == 0:
        s_new = 1
    nbits = LB.bits(newL, k)
    if nbits <= 52:
        new = ExactState(indptr, indices, (R, n_out), s_new, "float64",
                         data=LB.to_ints(newL, k).astype(np.float64))
    else:
        new = ExactState(indptr, indices, (R, n_out), s_new, "limbs", limbs=newL, k=k)
    return new, StepInfo("limbs", bound.bit_length(), s_new, pre)


def values_of(st: ExactState) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(indptr, indices, numerators, s)`` with sorted indices and int64/Python-int numerators."""
    ints = st.ints()
    M = sp.csr_matrix((np.arange(st.nnz, dtype=np.float64) + 1, st.indices, st.indptr),
                      shape=st.shape)
    M.sort_indices()
    order = M.data.astype(np.int64) - 1
    return M.indptr.astype(np.int64), M.indices.astype(np.int64), ints[order], st.s
