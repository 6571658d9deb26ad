"""Per-layer callables ``fn(W, bias, Y) -> Y_next`` that run other implementations of one
layer, for :meth:`symdnn.audit.Run.layer_callable` (the Graph Challenge rule
``Y_next = min(max(Y W + b, 0), cap)``, the bias added only to the entries of ``Y W`` that are
present for ``rule="nonzero"``, to every entry for ``rule="all"``):

* :func:`scipy_layer`: scipy.sparse, in float64 or float32 (also the template for writing
  your own per-layer callable);
* :func:`graphblas_layer`: the GraphBLAS reference formulation (``plus_times``, then the bias
  as a ``plus_plus`` product with a diagonal matrix, ``valuegt`` select, ``min`` apply) in
  python-graphblas / SuiteSparse:GraphBLAS, returning its own ``graphblas.Matrix``;
* :func:`torch_layer`: the rule in dense PyTorch tensors; :func:`torch_sparse_layer`: in
  PyTorch sparse (COO or CSR) tensors, returning its own tensor.

Every callable here reads its arguments and never modifies them; the later-layer ``Y`` it
receives is the object it returned for the previous layer. python-graphblas and torch are
imported lazily (:func:`symdnn._optional.require`); a missing one raises
:class:`~symdnn.errors.MissingDependency` naming the package to install. Re-exported by
:mod:`symdnn.audit.foreign`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn._optional import require
from symdnn.errors import ArgumentError, ArgumentTypeError, DomainError

__all__ = ["scipy_layer", "graphblas_layer", "torch_layer", "torch_sparse_layer"]

#: float format names accepted by the per-layer adapters, and their NumPy dtypes
_FORMATS = {"fp64": np.float64, "float64": np.float64, "fp32": np.float32, "float32": np.float32}

def _check_rule(rule: str) -> None:
    if rule not in ("nonzero", "all"):
        raise ArgumentError(f"rule must be 'nonzero' or 'all', not {rule!r}")


def _np_dtype(dtype: Any) -> type:
    """float64 or float32 from a format name (``"fp64"``, ``"float32"``, ...) or a dtype."""
    if isinstance(dtype, str):
        if dtype not in _FORMATS:
            raise ArgumentError(f"dtype must be one of {sorted(_FORMATS)}, not {dtype!r}")
        return _FORMATS[dtype]
    dt = np.dtype(dtype)
    if dt not in (np.float64, np.float32):
        raise ArgumentError(f"dtype must be float64 or float32, not {dt}")
    return dt.type


def _cast_exact(values: np.ndarray, dtype: type, what: str) -> np.ndarray:
    """``values`` as a new array of ``dtype``, refusing a value the cast would round (the
    contract hands a callable values already rounded into the run's format)."""
    values = np.asarray(values)
    out = values.astype(dtype)  # always a copy
    if out.dtype != values.dtype:
        back = out.astype(values.dtype)
        bad = np.flatnonzero(~((back == values) | (np.isnan(back) & np.isnan(values))))
        if bad.size:
            raise DomainError(
                f"{what}: value {values[bad[0]].item()!r} (entry {int(bad[0])}) is not a "
                f"{np.dtype(dtype).name} value; round it into the run's format first")
    return out


def scipy_layer(dtype: Any = np.float64, *, rule: str = "nonzero",
                cap: float | None = 32.0) -> Callable:
    """A per-layer callable ``fn(W, bias, Y) -> Y_next`` computing ``h(Y W + b)`` with
    scipy.sparse in ``dtype``.

    Parameters
    ----------
    dtype : numpy dtype or str
        float64 or float32 (``"fp64"``, ``"fp32"`` and the NumPy names are accepted too): ``W``,
        ``bias`` and ``Y`` are cast to it and the product accumulates in it.
    rule : {"nonzero", "all"}
        ``"nonzero"`` adds the bias to the nonzero entries of ``Y W`` only (scipy drops an
        entry that cancels to 0, so it gets no bias); ``"all"`` to every entry.
    cap : float or None
        The cap of the ReLU (``None``: no cap).

    Returns
    -------
    callable
        ``fn(W, bias, Y)`` returning a new CSR matrix of ``dtype`` with no stored zeros; ``W``,
        ``bias`` and ``Y`` are left as they were.

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np
    >>> f = scipy_layer(np.float32)
    >>> Y = f(sp.csr_matrix(np.array([[0.5]])), np.array([-0.25]), sp.csr_matrix([[1.0]]))
    >>> Y.toarray().tolist(), Y.dtype
    ([[0.25]], dtype('float32'))
    """
    dt = _np_dtype(dtype)
    _check_rule(rule)

    def fn(W: sp.csr_matrix, bias: np.ndarray, Y: sp.csr_matrix) -> sp.csr_matrix:
        # astype copies, and the product is a new matrix: nothing below touches W or Y
        Z = sp.csr_matrix(Y.astype(dt) @ W.astype(dt), dtype=dt)
        b = np.asarray(bias).astype(dt)
        if rule == "nonzero":
            Z.data = (Z.data + b[Z.indices]).astype(dt)
        else:
            Z = sp.csr_matrix((Z.toarray() + b[None, :]).astype(dt))
        Z.data[Z.data < 0] = 0
        if cap is not None:
            Z.data[Z.data > cap] = cap
        Z.eliminate_zeros()
        return Z
    return fn


def graphblas_layer(dtype: str = "fp64", *, rule: str = "nonzero",
                    cap: float | None = 32.0) -> Callable:
    """The Graph Challenge rule in GraphBLAS operations (python-graphblas, SuiteSparse), as a
    per-layer callable for the audit.

    One layer is the sequence of the GraphBLAS reference code (LAGraph's ``LAGraph_dnn``)::

        Z = Y plus_times W              # GrB_mxm
        Z = Z plus_plus diag(bias)      # GrB_mxm, GxB_PLUS_PLUS: bias on the entries of Z
        Z = select(Z, valuegt, 0)       # ReLU: keep the entries > 0
        Z = apply(min, Z, cap)          # the cap YMAX

    all in ``dtype``. For ``rule="all"`` the bias is added to every entry instead (a full
    matrix, with ``eWiseAdd``).

    Parameters
    ----------
    dtype : {"fp64", "fp32"}
        GraphBLAS type FP64 or FP32 (``"float64"``/``"float32"`` are accepted too). For FP32,
        ``W``, ``bias`` and a scipy ``Y`` are cast to float32, which is exact for values
        already in fp32, as the audit gives them; a value the cast would round is refused.
    rule : {"nonzero", "all"}
    cap : float or None
        The cap of the ReLU (``None``: no cap).

    Returns
    -------
    callable
        ``fn(W, bias, Y)``: ``W`` a scipy sparse matrix (inputs x outputs), ``bias`` a vector
        of one value per output (0 where none; every output neuron gets a diagonal entry, so
        a zero bias keeps the entry), ``Y`` a scipy sparse matrix (layer 1) or a
        ``graphblas.Matrix`` (the callable's own previous result, used as it is). Returns a
        new ``graphblas.Matrix`` of type ``dtype``; the arguments are not modified.

    Raises
    ------
    MissingDependency
        If python-graphblas is not installed.
    DomainError
        (From the callable) for a value of ``W``, ``bias`` or ``Y`` that the cast to
        ``dtype`` would round.

    Notes
    -----
    GraphBLAS works on the *structure*: an entry of ``Y W`` is present when some product
    ``Y[i, k] W[k, j]`` is, even when the products cancel to exactly 0. Such an entry is kept
    as a stored 0, gets the bias (``plus_plus``), and survives the ReLU when the bias is
    positive. The exact engine and :func:`scipy_layer` decide on the *value* (a cancelled
    entry is 0 and gets no bias), so the two agree whenever the bias is <= 0, as in the Graph
    Challenge, and differ on purpose otherwise: that is what the reference code computes.
    The weights are converted at each call, with no cache: 0.15-0.4 ms for a 1024-neuron
    Graph Challenge layer (32768 weights), against a median of 1.3-1.5 ms for the layer on
    its 1200 images (the 120 layers in 0.24 s in FP32, 0.37 s in FP64).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> f = graphblas_layer("fp32")
    >>> W = sp.csr_matrix(np.array([[0.5, 1.0], [0.25, -1.0]]))
    >>> Y1 = f(W, np.array([-0.25, 0.0]), sp.csr_matrix(np.array([[1.0, 1.0]])))
    >>> Y1.dtype, Y1.to_coo()     # (0, 1) cancels to 0: kept, bias 0, dropped by the ReLU
    (FP32, (array([0], dtype=uint64), array([0], dtype=uint64), array([0.5], dtype=float32)))
    >>> f(W, np.array([-0.25, 0.0]), Y1).to_dense(fill_value=0).tolist()  # Y1 as it came
    [[0.0, 0.5]]
    """
    gb = require("graphblas", "graphblas", what="this adapter", package="python-graphblas",
                 pip="python-graphblas")
    from graphblas import binary, select, semiring

    dt = _np_dtype(dtype)
    _check_rule(rule)
    gdt = gb.dtypes.FP64 if dt is np.float64 else gb.dtypes.FP32
    times, plus_plus = semiring.plus_times[gdt], semiring.plus_plus[gdt]
    plus, low = binary.plus[gdt], binary.min[gdt]

    def from_scipy(M: Any, what: str) -> Any:
        M = sp.csr_matrix(M)
        M = sp.csr_matrix((_cast_exact(M.data, dt, what), M.indices, M.indptr), shape=M.shape)
        return gb.io.from_scipy_sparse(M)  # SuiteSparse copies the arrays

    def fn(W: sp.spmatrix, bias: np.ndarray, Y: Any) -> Any:
        if isinstance(Y, gb.Matrix):
            Yg = Y if Y.dtype == gdt else Y.dup(dtype=gdt)  # dup: a new matrix
        elif sp.issparse(Y):
            Yg = from_scipy(Y, "Y")
        else:
            raise ArgumentTypeError(f"graphblas_layer: Y must be a scipy sparse matrix or a "
                            f"graphblas.Matrix, not {type(Y).__name__}")
        Wg = from_scipy(W, "W")
        b = _cast_exact(np.asarray(bias, dtype=np.float64).ravel(), dt, "bias")
        if b.shape[0] != Wg.ncols:
            raise ArgumentError(f"graphblas_layer: bias has {b.shape[0]} values for "
                              f"{Wg.ncols} output neurons")
        Z = Yg.mxm(Wg, times).new()
        if rule == "nonzero":
            # from_dense stores every value, zeros too: a neuron with no bias keeps its entries
            Z = Z.mxm(gb.Vector.from_dense(b, dtype=gdt).diag(), plus_plus).new()
        else:
            full = gb.Matrix.from_dense(np.tile(b, (Z.nrows, 1)), dtype=gdt)
            Z = Z.ewise_add(full, plus).new()
        Z = Z.select(select.valuegt, 0).new()
        if cap is not None:
            Z = Z.apply(low, right=cap).new()
        return Z
    return fn


def torch_layer(dtype: str = "float32", *, rule: str = "nonzero",
                cap: float | None = 32.0) -> Callable:
    """The reference rule in dense PyTorch tensors (CPU), as a per-layer callable for the audit.

    Returns a scipy CSR matrix (float64 holding the ``dtype`` values). The bias of
    ``rule="nonzero"`` goes where the dense product is nonzero.

    Raises
    ------
    MissingDependency
        If torch is not installed.
    """
    torch = require("torch", "torch", what="this adapter", pip="torch")
    _check_rule(rule)
    tdt = getattr(torch, "float64" if _np_dtype(dtype) is np.float64 else "float32")

    def fn(W: sp.csr_matrix, bias: np.ndarray, Y: sp.csr_matrix) -> sp.csr_matrix:
        Wd = torch.tensor(W.toarray(), dtype=tdt)
        Yd = torch.tensor(Y.toarray(), dtype=tdt)
        Z = Yd @ Wd
        b = torch.tensor(bias, dtype=tdt)
        Z = torch.where(Z != 0, Z + b, Z) if rule == "nonzero" else Z + b
        Z = torch.clamp(Z, min=0, max=cap) if cap is not None else torch.relu(Z)
        return sp.csr_matrix(Z.to(torch.float64).numpy())
    return fn


def torch_sparse_layer(dtype: str = "float32", *, rule: str = "nonzero",
                       cap: float | None = 32.0, layout: str = "csr") -> Callable:
    """The reference rule in PyTorch sparse tensors (CPU), as a per-layer callable.

    ``Z = torch.sparse.mm(Y, W)`` in ``dtype`` on COO tensors, the bias added to the nonzero
    entries of ``Z`` (``rule="nonzero"``; every entry for ``"all"``), ReLU and cap on the
    values, and the entries that are not > 0 dropped.

    Parameters
    ----------
    dtype : {"float32", "float64"}
        (``"fp32"``/``"fp64"`` are accepted too.) ``W``, ``bias`` and a scipy ``Y`` are cast
        to it, which is exact for values already in that format; a value the cast would round
        is refused.
    rule : {"nonzero", "all"}
    cap : float or None
        The cap of the ReLU (``None``: no cap).
    layout : {"csr", "coo"}
        The layout of the tensor returned.

    Returns
    -------
    callable
        ``fn(W, bias, Y)``: ``W`` a scipy sparse matrix, ``bias`` a vector, ``Y`` a scipy
        sparse matrix (layer 1) or a torch tensor (dense, COO or CSR: the callable's own
        previous result). Returns a new sparse tensor of ``dtype`` holding only entries > 0;
        the arguments are not modified.

    Raises
    ------
    MissingDependency
        If torch is not installed.

    Notes
    -----
    ``torch.sparse.mm`` keeps an entry whose products cancel to 0 as a stored 0 (as GraphBLAS
    does); this callable decides on the value, as the exact engine and :func:`torch_layer`
    do, so such an entry gets no bias (see :func:`graphblas_layer` for the structural rule).
    """
    torch = require("torch", "torch", what="this adapter", pip="torch")
    _check_rule(rule)
    if layout not in ("csr", "coo"):
        raise ArgumentError(f"layout must be 'csr' or 'coo', not {layout!r}")
    dt = _np_dtype(dtype)
    tdt = torch.float64 if dt is np.float64 else torch.float32

    def coo(M: Any, what: str) -> Any:
        if isinstance(M, torch.Tensor):
            if M.layout == torch.strided:
                M = M.to_sparse()
            elif M.layout != torch.sparse_coo:
                M = M.to_sparse_coo()
            return M.coalesce().to(tdt)  # new tensors, or M itself unmodified
        if not sp.issparse(M):
            raise ArgumentTypeError(f"torch_sparse_layer: {what} must be a scipy sparse matrix "
                                    f"or a torch tensor, not {type(M).__name__}")
        C = M.tocoo()  # read only: the arrays below are new
        idx = torch.from_numpy(np.vstack([C.row, C.col]).astype(np.int64))
        vals = torch.from_numpy(_cast_exact(C.data, dt, what))
        return torch.sparse_coo_tensor(idx, vals, C.shape, check_invariants=True).coalesce()

    def step(W: sp.spmatrix, bias: np.ndarray, Y: Any) -> Any:
        Wt, Yt = coo(W, "W"), coo(Y, "Y")
        b = torch.from_numpy(_cast_exact(np.asarray(bias, dtype=np.float64).ravel(), dt,
                                         "bias"))
        if b.shape[0] != Wt.shape[1]:
            raise ArgumentError(f"torch_sparse_layer: bias has {b.shape[0]} values for "
                              f"{Wt.shape[1]} output neurons")
        Z = torch.sparse.mm(Yt, Wt).coalesce()
        if rule == "nonzero":
            idx, v = Z.indices(), Z.values()
            v = torch.where(v != 0, v + b[idx[1]], v)
        else:
            D = Z.to_dense() + b
            idx = torch.nonzero(D).T
            v = D[idx[0], idx[1]]
        v = torch.clamp(v, max=cap) if cap is not None else v
        keep = v > 0
        out = torch.sparse_coo_tensor(idx[:, keep], v[keep], tuple(Z.shape),
                                      check_invariants=False, is_coalesced=True)
        return out if layout == "coo" else out.to_sparse_csr()

    def fn(W: sp.spmatrix, bias: np.ndarray, Y: Any) -> Any:
        with warnings.catch_warnings():  # torch warns on every CSR tensor it meets
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            return step(W, bias, Y)
    return fn
