"""The exact engine with its activations kept in SuiteSparse:GraphBLAS between layers.

:func:`symdnn.engines.exact.step` with the ``graphblas`` kernel multiplies in GraphBLAS but
copies the activations into a GraphBLAS matrix before every product and the product back into
scipy after it. Here the activations stay a GraphBLAS matrix from layer to layer. For the
layers that need nothing else (weights of int64 numerators; no bias, or one bias for every
neuron that a stored entry alone decides; no recorded pre-activations):

* the product ``P = Z (f1 NW)`` by ``plus_times`` over FP64 (bound below 2**53) or INT64
  (below 2**62): exact, since the bound keeps every partial sum an integer in range;
* the product's CSR arrays are taken from GraphBLAS without a copy (``export`` giving
  ownership); ReLU with the bias is one comparison, ``P + b > 0`` as ``P > -b`` (and
  ``P != 0`` under the nonzero rule when ``b > 0``), on integers, so exact; then the bias is
  added, the cap applied and the common factor ``g = gcd(values, s')`` divided out in place,
  all in NumPy, and the arrays are handed back to GraphBLAS (``import`` taking ownership).

The bound, the path, the denominator and every value are exactly those of
:func:`~symdnn.engines.exact.step`; a layer this module cannot take (huge numbers, a bias that
differs by neuron, recording) goes through :func:`~symdnn.engines.exact.step` itself, and the
activations come back to GraphBLAS afterwards when they fit.

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> from symdnn.engines import exact as EX
>>> W = sp.csr_matrix(np.array([[1, 1], [1, 0]]))                  # weights 1/16
>>> lay = EX.ExactLayer(W, 16, np.array([-3, -3], dtype=object), 10)  # bias -3/10
>>> st = EX.start(np.array([0, 2]), np.array([0, 1]), np.array([8, 4]), 1, (1, 2))
>>> st, info = advance(st, lay, rule="nonzero", cap=(32, 1))
>>> st = as_state(st)             # y = (12/16 - 3/10, 8/16 - 3/10), one common denominator
>>> [f"{int(v)}/{st.s}" for v in st.ints()], info.path
(['9/20', '4/20'], 'float64')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.engines import exact as EX
from symdnn.engines.exact import _graphblas

__all__ = ["Resident", "advance", "as_state", "to_resident"]


@dataclass
class Resident:
    """Exact activations ``Z / s`` as a GraphBLAS matrix of integers (FP64 below 2**53 or
    INT64 below 2**62; batch x neurons), with ``maxabs = max |Z|``."""

    M: Any
    s: int
    maxabs: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.M.nrows, self.M.ncols)

    @property
    def kind(self) -> str:
        return "float64" if self.M.dtype.name == "FP64" else "int64"

    @property
    def nnz(self) -> int:
        return self.M.nvals


def _gb_type(kind: str) -> Any:
    gb = _graphblas()
    return gb.dtypes.FP64 if kind == "float64" else gb.dtypes.INT64


def to_resident(st: EX.ExactState) -> Resident | None:
    """The state in GraphBLAS, or None for the limbs kind (numbers of 2**62 or more).

    Examples
    --------
    >>> st = EX.start(np.array([0, 1, 2]), np.array([1, 0]), np.array([3, -5]), 7, (2, 2))
    >>> r = to_resident(st)
    >>> r.kind, r.s, r.maxabs, r.M.to_coo()[2].tolist()
    ('float64', 7, 5, [3.0, -5.0])
    >>> to_resident(EX.start(np.array([0, 1]), np.array([0]), np.array([2**70], dtype=object),
    ...                      1, (1, 1))) is None
    True
    """
    gb = _graphblas()
    if st.kind == "limbs":
        return None
    dt = np.float64 if st.kind == "float64" else np.int64
    Y = sp.csr_matrix((st.data.astype(dt, copy=False), st.indices, st.indptr), shape=st.shape)
    return Resident(gb.io.from_scipy_sparse(Y), st.s, st.maxabs())


def as_state(st: Resident | EX.ExactState) -> EX.ExactState:
    """An engine state (:class:`~symdnn.engines.exact.ExactState`) of either form."""
    gb = _graphblas()
    if isinstance(st, EX.ExactState):
        return st
    A = gb.io.to_scipy_sparse(st.M, format="csr")
    return EX.ExactState(A.indptr.astype(np.int64), A.indices.astype(np.int64), st.shape,
                         st.s, st.kind, data=A.data)


def _uniform_bias(lay: EX.ExactLayer) -> tuple[bool, int | None]:
    """Whether one bias numerator serves every neuron, and it (None without a bias)."""
    if lay.nb is None:
        return True, None
    key = ("uniform bias",)
    if key not in lay._cache:
        nb = lay.nb
        ok = nb.ndim == 1 and nb.size > 0 and all(int(v) == int(nb[0]) for v in nb)
        lay._cache.setdefault(key, (ok, int(nb[0]) if ok else None))
    return lay._cache[key]


def _step(r: Resident, lay: EX.ExactLayer, rule: str,
          cap: tuple[int, int] | None) -> tuple[Resident, EX.StepInfo] | None:
    """One layer in GraphBLAS, or None when it is not one this module takes."""
    gb = _graphblas()
    semiring = gb.semiring
    uniform, nb0 = _uniform_bias(lay)
    if not lay.small or not uniform or (rule == "all" and lay.nb_pos):
        return None
    cap_p, cap_q = cap if cap is not None else (0, 1)
    s_new = math.lcm(r.s * lay.dW, lay.db, cap_q)
    f1 = s_new // (r.s * lay.dW)
    f2 = s_new // lay.db
    capv = cap_p * (s_new // cap_q) if cap is not None else None
    bound = max(r.maxabs, 1) * lay.colsum * f1 + f2 * lay.nb_max  # as exact.step has it
    if capv is not None:
        bound = max(bound, capv)
    if bound >= EX.I64:
        return None
    kind = "float64" if bound < EX.F64 else "int64"
    gdt = _gb_type(kind)
    n_out = lay.NW.shape[1]
    Z = r.M if r.M.dtype == gdt else r.M.dup(dtype=gdt)
    if Z.nvals == 0:  # nothing to multiply: no weights to scale
        A = gb.Matrix(gdt, Z.nrows, n_out)
    else:
        A = Z.mxm(EX._graphblas_weights(lay, f1, np.float64 if kind == "float64" else np.int64),
                  semiring.plus_times[gdt]).new()
    # the product's arrays are taken from GraphBLAS as they are (no copy) and handed back
    d = A.ss.export("csr", give_ownership=True)
    ptr, idx, v = d["indptr"], d["col_indices"], d["values"]
    if d["is_iso"]:  # one value stored for every entry
        v = np.full(len(idx), v[0], dtype=v.dtype)
    b = None if nb0 is None else nb0 * f2  # every number here is below the bound
    keep = v > (0 if b is None else -b)  # ReLU: P + b > 0, integers compared exactly
    if b is not None and b > 0 and rule == "nonzero":
        keep &= v != 0  # the bias goes only where the product is nonzero
    if not keep.all():
        ck = np.zeros(len(keep) + 1, dtype=np.uint64)
        np.cumsum(keep, out=ck[1:])
        ptr, idx, v = ck[ptr], idx[keep], v[keep]
    if b:
        v += v.dtype.type(b)
    s_out, maxabs = 1, 0  # with no entries left the denominator is moot
    if len(v):
        top = int(v.max())
        if capv is not None and top > capv:
            np.minimum(v, v.dtype.type(capv), out=v)
            top = capv
        s_out, maxabs = s_new, top
        if s_new > 1:
            iv = v.astype(np.int64)
            g = math.gcd(int(np.gcd.reduce(iv[:64])), s_new)  # the common factor divides g
            if g > 1:
                g = math.gcd(int(np.gcd.reduce(iv)), g)
            if g > 1:  # exact: g divides every value
                if kind == "float64":
                    v /= g
                else:
                    v //= g
                s_out, maxabs = s_new // g, top // g
    A = gb.Matrix.ss.import_csr(nrows=d["nrows"], ncols=d["ncols"], indptr=ptr,
                                col_indices=idx, values=v, sorted_cols=d["sorted_cols"],
                                take_ownership=True)
    return Resident(A, s_out, maxabs), EX.StepInfo(kind, bound.bit_length(), s_out)


def advance(st: Resident | EX.ExactState, lay: EX.ExactLayer, *, rule: str,
            cap: tuple[int, int] | None) -> tuple[Resident | EX.ExactState, EX.StepInfo]:
    """One layer, ``Y' = h(Y W + b)`` exactly, as :func:`symdnn.engines.exact.step` with the
    ``graphblas`` kernel computes it: identical values, denominator, path and bound. The
    state may be either form; the result is a :class:`Resident` whenever the layer could be
    done in GraphBLAS (use :func:`as_state` for the engine's form)."""
    r = st if isinstance(st, Resident) else to_resident(st)
    if r is not None:
        out = _step(r, lay, rule, cap)
        if out is not None:
            return out
        st = as_state(r)
    new, info = EX.step(st, lay, rule=rule, cap=cap, kernel="graphblas")
    return (to_resident(new) or new), info
