"""Adapters that turn other implementations into runs the audit can check.

Per-layer callables ``fn(W, bias, Y) -> Y_next`` for :meth:`symdnn.audit.Run.layer_callable`
(the Graph Challenge rule ``Y_next = min(max(Y W + b, 0), cap)``, the bias added only to the
entries of ``Y W`` that are present for ``rule="nonzero"``, to every entry for ``rule="all"``):

* :func:`scipy_layer`: scipy.sparse, in float64 or float32 (also the template for writing
  your own per-layer callable);
* :func:`graphblas_layer`: the GraphBLAS reference formulation (``plus_times``, then the bias
  as a ``plus_plus`` product with a diagonal matrix, ``valuegt`` select, ``min`` apply) in
  python-graphblas / SuiteSparse:GraphBLAS, returning its own ``graphblas.Matrix``;
* :func:`torch_layer`: the rule in dense PyTorch tensors; :func:`torch_sparse_layer`: in
  PyTorch sparse (COO or CSR) tensors, returning its own tensor.

Whole networks in ONNX:

* :func:`read_onnx`: an ONNX graph of MatMul/Gemm, Add, Relu and Clip layers read into a
  :class:`~symdnn.SparseDNN` *exactly* (every float weight becomes the dyadic rational it is);
  :func:`write_onnx`: the reverse, the weights rounded once, correctly, into float32 or
  float64; :func:`onnx_network`: the model run by onnxruntime, as a whole-network callable.

Every callable here reads its arguments and never modifies them; the later-layer ``Y`` it
receives is the object it returned for the previous layer. Optional dependencies are imported
lazily; a missing one raises :class:`MissingDependency` naming the package to install.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn._optional import require
from symdnn.errors import (
    ArgumentError,
    ArgumentTypeError,
    DomainError,
    MissingDependency,
    SymdnnError,
)

__all__ = ["MissingDependency", "scipy_layer", "graphblas_layer", "torch_layer",
           "torch_sparse_layer", "read_onnx", "write_onnx", "onnx_network"]

#: float format names accepted by the per-layer adapters, and their NumPy dtypes
_FORMATS = {"fp64": np.float64, "float64": np.float64, "fp32": np.float32, "float32": np.float32}


def _need(module: str, pip_name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(
            f"this adapter needs {pip_name}: pip install {pip_name}") from None


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
    gb = _need("graphblas", "python-graphblas")
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
    torch = _need("torch", "torch")
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
    torch = _need("torch", "torch")
    import warnings

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


def read_onnx(path: str, *, bias_rule: str = "all") -> Any:
    """Read an ONNX model of dense ReLU layers into an exact :class:`~symdnn.SparseDNN`.

    The graph is matched as it is connected, not in file order: from its one input (the
    graph inputs that are not initializers) the data must flow through every node, each
    node reading the value the previous one wrote and nothing else that is not an
    initializer, no value feeding two nodes, to the one graph output. Along that chain,
    every layer is::

        MatMul(x, W) | Gemm(x, W[, C])     the weights (Gemm: transB honoured)
        Add(., b) | Add(b, .)  (any number) the bias: C and every b, summed exactly
        Relu | Clip  (one or more)          the activation

    ``W`` is a float matrix, ``C`` and ``b`` are floats broadcast along the layer's outputs
    (shape ``()``, ``(1,)``, ``(n,)``, ``(1, 1)`` or ``(1, n)``), and every weight, bias and
    bound an initializer of finite values. Each becomes the dyadic rational it is; the biases
    of one layer are summed as rationals. Zero weights and biases are not stored. Neurons are
    keyed ``(layer, index)``, the inputs ``(0, index)``; the network uses the row convention
    ``Y W`` and ``bias_rule``.

    symdnn's activation is ``min(max(z, 0), YMAX)`` on every layer, with one ``YMAX`` (or
    none) for the whole network, so the activations of a layer must come to exactly that:
    ``Relu`` is ``[0, +inf)``, ``Clip(min, max)`` is ``[min, max]`` (bounds as inputs, or as
    attributes before opset 11; an absent bound is unbounded), and a run of them composes
    exactly into the intersection of their intervals (``Relu`` then ``Clip(max=6)`` is
    ``[0, 6]``). That interval must start at 0, and every layer must end at the same cap.

    The file is decoded in pure Python (:func:`symdnn.io.onnxwire.read_model`): no C parser
    sees it, and the ``onnx`` package is not needed. The graph is validated as the witness
    referee validates it (:class:`symdnn.io.onnx_graph.OnnxGraph`: each operator's attributes
    and inputs in the model's opset, one output per node, no name written twice), then matched
    as above. For any other feed-forward graph, see :func:`symdnn.witness.import_onnx`.

    Parameters
    ----------
    path : path
        The ``.onnx`` file.
    bias_rule : {"all", "nonzero"}
        The network's bias rule. ONNX's ``Add`` is ``"all"``; ``"nonzero"`` reads the same
        weights into a Graph Challenge network, which computes something else.

    Returns
    -------
    SparseDNN
        One layer per ``MatMul``/``Gemm``, in the domain QQ, ``ymax`` the common cap.

    Raises
    ------
    ParseError
        For a malformed file, naming it.
    SymdnnError
        Naming the node (``node <index> (<op> '<name>')``) or the value at fault, for:

        * an operator outside MatMul, Gemm, Add, Relu and Clip of the default domain, or one
          the graph's validation refuses (an attribute or a number of inputs the operator
          does not take in the model's opset, a node writing other than one value, a value
          written twice or over an input or initializer, a value read that nothing computes:
          a :class:`~symdnn.errors.GraphError`);
        * a graph that is not one chain: not exactly one input and one output, a value read
          by two nodes (a branch) or by none, the graph output read by a node, a node off
          the chain, a value written twice or over an initializer, a node reading the chain's
          value at the wrong operand or twice;
        * a weight, bias or Clip bound that is not an initializer, not float, not finite,
          or of a shape outside the above (a weight whose rows do not match the previous
          layer's outputs or the graph input); ``Gemm`` with ``transA`` or alpha or beta
          other than 1; ``MatMul(W, x)``;
        * a layer with no ``Relu``/``Clip`` after it, the last layer included (symdnn's
          networks apply ReLU on every layer: a linear output layer is refused, never read
          with a ReLU);
        * activations whose interval does not start at exactly 0 (``Clip(min=0.5)``, a
          ``Clip`` with a negative or no lower bound and no ``Relu``) or is empty;
        * layers with different caps (``Clip`` maxima, or a cap on some layers only): symdnn
          has one ``YMAX`` for the whole network.
    """
    from symdnn.assoc import AssocArray
    from symdnn.io.onnx_graph import OnnxGraph
    from symdnn.io.onnxwire import read_model
    from symdnn.network import SparseDNN

    model = read_model(path)
    for node in model.graph.nodes:
        if node.op_type not in _ONNX_OPS or node.domain not in ("", "ai.onnx"):
            op = node.op_type if node.domain in ("", "ai.onnx") else \
                f"{node.domain}.{node.op_type}"
            raise SymdnnError(f"{node.label}: operator {op} is not supported "
                              "(MatMul, Gemm, Add, Relu, Clip)")
    # the operators' opsets, attributes and arity, one output per node, no name written
    # twice: validated as the witness referee validates them; the order is the data's
    graph = OnnxGraph(model, ordered=False)
    chain = _onnx_chain(graph)
    layers = _onnx_layers(chain, graph, graph.opset)
    cap, cap_node = layers[0][2], layers[0][3]
    for l, (_, _, hi, node) in enumerate(layers):
        if (hi is None) != (cap is None) or hi != cap:
            def say(c: Any) -> str:
                return "no cap" if c is None else f"the cap {c}"
            raise SymdnnError(
                f"{node.label}: layer {l} has {say(hi)} but layer 0 has {say(cap)} "
                f"({cap_node.label}); symdnn's networks have one cap YMAX for all layers")
    arrays, bias_dicts = [], []
    for l, (W, bias, _, _) in enumerate(layers):
        r, c = np.nonzero(W)
        arrays.append(AssocArray.from_triples(
            [(l, int(i)) for i in r], [(l + 1, int(j)) for j in c], W[r, c], domain="QQ"))
        bias_dicts.append({(l + 1, j): v for j, v in enumerate(bias) if v != 0})
    neurons = [[(0, i) for i in range(layers[0][0].shape[0])]] + \
        [[(l + 1, j) for j in range(W.shape[1])] for l, (W, _, _, _) in enumerate(layers)]
    return SparseDNN.from_layers(arrays, bias_dicts, convention="row", bias_rule=bias_rule,
                                 ymax=cap, domain="QQ", neurons=neurons)


#: the operators :func:`read_onnx` reads
_ONNX_OPS = ("MatMul", "Gemm", "Add", "Relu", "Clip")


def _onnx_chain(graph: Any) -> list:
    """``[(node, x), ...]``: the nodes of the validated ``graph`` (an
    :class:`~symdnn.io.onnx_graph.OnnxGraph`: each node writes one value, no value is written
    twice) in data order, ``x`` the value each reads, checked to form one chain from the
    graph's one input to its one output."""
    consts = graph.initializers
    feeds = [v.name for v in graph.inputs if v.name not in consts]
    if len(feeds) != 1 or len(graph.outputs) != 1:
        raise SymdnnError(
            f"the graph has {len(feeds)} inputs besides its initializers {feeds[:3]} and "
            f"{len(graph.outputs)} outputs; read_onnx reads a chain from one input to one "
            "output")
    x, out = feeds[0], graph.outputs[0].name
    readers: dict[str, list] = {}
    writer: dict[str, Any] = {}
    for node in graph.nodes:
        for name in dict.fromkeys(i for i in node.inputs if i):
            readers.setdefault(name, []).append(node)
        writer[node.outputs[0]] = node
    chain: list = []
    while x != out:
        nxt = readers.get(x, [])
        src = writer[x].label if x in writer else "the graph input"
        if len(nxt) != 1:
            if not nxt:
                raise SymdnnError(f"{src}: its value {x!r} is read by no node and is not the "
                                  f"graph output {out!r}")
            raise SymdnnError(
                f"{src}: its value {x!r} is read by {len(nxt)} nodes "
                f"({', '.join(n.label for n in nxt)}); read_onnx reads a chain, each value "
                "read by the next node only")
        chain.append((nxt[0], x))
        x = [o for o in nxt[0].outputs if o][0]
    if readers.get(out):
        raise SymdnnError(f"{readers[out][0].label}: reads the graph output {out!r}, which "
                          "must be the last value of the chain")
    on = {id(n) for n, _ in chain}
    for node in graph.nodes:
        if id(node) not in on:
            raise SymdnnError(f"{node.label}: not on the chain from the graph input "
                              f"{feeds[0]!r} to the output {out!r}")
    if not chain:
        raise SymdnnError(f"the graph output {out!r} is its input: no layer to read")
    return chain


def _onnx_const(node: Any, name: str, consts: dict, what: str) -> np.ndarray:
    """The initializer ``name`` that ``node`` reads as its ``what``: float, finite."""
    if name not in consts:
        raise SymdnnError(f"{node.label}: its {what} {name!r} is not a constant initializer")
    a = consts[name].array
    if a.dtype.kind != "f" or not np.isfinite(a).all():
        raise SymdnnError(f"{node.label}: its {what} {name!r} must be finite floats, not "
                          f"{'non-finite values' if a.dtype.kind == 'f' else a.dtype}")
    return a


def _onnx_bias(node: Any, a: np.ndarray, n: int, what: str) -> list:
    """The exact values of bias ``a`` broadcast over ``n`` outputs."""
    from symdnn.domains import QQ

    if a.ndim > 2 or a.size not in (1, n) or (a.ndim == 2 and a.shape[0] != 1):
        raise SymdnnError(f"{node.label}: its {what} has shape {list(a.shape)}, not one value "
                          f"or one per output ({n}) along the last axis")
    vals = [QQ.convert(v) for v in a.reshape(-1).tolist()]  # a float is a dyadic rational
    return vals * n if len(vals) == 1 else vals


def _onnx_bound(node: Any, value: Any) -> Any:
    """A Clip bound as the rational it is, or None when absent."""
    from symdnn.domains import QQ

    if value is None:
        return None
    a = np.asarray(value)
    if a.size != 1 or a.dtype.kind != "f" or not np.isfinite(a).all():
        raise SymdnnError(f"{node.label}: a Clip bound must be one finite float, not "
                          f"{a.reshape(-1)[:3].tolist()} ({a.dtype})")
    return QQ.convert(a.reshape(-1)[0].item())


def _onnx_layers(chain: list, graph: Any, opset: int) -> list:
    """``[(W, bias, cap, node), ...]`` from the chain: ``W`` inputs x outputs (float64),
    ``bias`` the exact sum per output, ``cap`` the layer's cap (None: none) and ``node`` the
    activation that sets it."""
    from symdnn.domains import QQ

    consts = graph.initializers
    layers: list = []
    i = 0
    while i < len(chain):
        node, x = chain[i]
        ins = list(node.inputs)
        if node.op_type not in ("MatMul", "Gemm"):
            after = f" after layer {len(layers) - 1}'s activation" if layers else ""
            raise SymdnnError(f"{node.label}: {node.op_type}{after}; a layer starts with MatMul "
                              "or Gemm (MatMul|Gemm, Add*, then Relu or Clip)")
        if ins[0] != x or x in ins[1:]:
            raise SymdnnError(f"{node.label}: reads {x!r} as an operand other than its first "
                              f"(inputs {ins}); read_onnx reads x W, the weight second")
        attrs = {k: a.value for k, a in node.attributes.items()}
        W = _onnx_const(node, ins[1], consts, "weight")
        if node.op_type == "Gemm":
            if attrs.get("alpha", 1.0) != 1 or attrs.get("beta", 1.0) != 1 \
                    or attrs.get("transA", 0):
                raise SymdnnError(f"{node.label}: Gemm alpha/beta other than 1, or transA")
            if attrs.get("transB", 0):
                W = W.T
        if W.ndim != 2:
            raise SymdnnError(f"{node.label}: the weight must be a matrix, not of shape "
                              f"{list(W.shape)}")
        k, n = W.shape
        if layers and layers[-1][0].shape[1] != k:
            raise SymdnnError(f"{node.label}: the weight has {k} rows but the previous layer "
                              f"has {layers[-1][0].shape[1]} outputs")
        bias = [QQ.convert(0)] * n
        if node.op_type == "Gemm" and len(ins) > 2 and ins[2]:
            bias = _onnx_bias(node, _onnx_const(node, ins[2], consts, "bias C"), n, "bias C")
        i += 1
        while i < len(chain) and chain[i][0].op_type == "Add":
            add, x = chain[i]
            other = [v for v in add.inputs if v != x]
            if len(add.inputs) != 2 or len(other) != 1:
                raise SymdnnError(f"{add.label}: Add must read {x!r} and one constant bias")
            b = _onnx_bias(add, _onnx_const(add, other[0], consts, "bias"), n, "bias")
            bias = [u + v for u, v in zip(bias, b, strict=True)]  # rationals: exact
            i += 1
        lo = hi = lo_node = hi_node = None  # the interval [lo, hi] (None: unbounded)
        acts = []
        while i < len(chain) and chain[i][0].op_type in ("Relu", "Clip"):
            act, x = chain[i]
            acts.append(act)
            if act.inputs[0] != x or x in act.inputs[1:]:
                raise SymdnnError(f"{act.label}: must read {x!r} as its first input only")
            if act.op_type == "Relu":
                a, b = QQ.convert(0), None
            else:
                a, b = _onnx_clip_bounds(act, consts, opset)
            if a is not None and (lo is None or a > lo):
                lo, lo_node = a, act
            if b is not None and (hi is None or b < hi):
                hi, hi_node = b, act
            i += 1
        if not acts:
            last = chain[i - 1][0]
            if i == len(chain):
                raise SymdnnError(
                    f"{last.label}: the last layer has no Relu or Clip after it; symdnn's "
                    "networks apply ReLU on every layer, so a linear output layer cannot be "
                    "read")
            raise SymdnnError(
                f"{chain[i][0].label}: starts layer {len(layers) + 1} but layer "
                f"{len(layers)} (ending at {last.label}) has no Relu or Clip; symdnn's "
                "networks apply ReLU on every layer")
        if lo is None:
            raise SymdnnError(f"{acts[-1].label}: the activation of layer {len(layers)} has no "
                              "lower bound; symdnn's activation is ReLU, min(max(z, 0), YMAX)")
        if lo != 0:
            raise SymdnnError(
                f"{lo_node.label}: the activation of layer {len(layers)} starts at {lo}, not "
                "0; symdnn's activation is ReLU, min(max(z, 0), YMAX)")
        if hi is not None and hi < lo:
            raise SymdnnError(f"{hi_node.label}: the activation of layer {len(layers)} is "
                              f"the empty interval [{lo}, {hi}]")
        layers.append((np.asarray(W, dtype=np.float64), bias, hi, hi_node or acts[-1]))
    _onnx_check_ends(graph, layers, chain)
    return layers


def _onnx_clip_bounds(node: Any, consts: dict, opset: int) -> tuple:
    """``(min, max)`` of a Clip, exact, None where absent: inputs from opset 11 on,
    attributes before (the graph's validation has refused any other form)."""
    attrs = {k: a.value for k, a in node.attributes.items()}
    if opset < 11:
        return _onnx_bound(node, attrs.get("min")), _onnx_bound(node, attrs.get("max"))
    names = list(node.inputs[1:]) + ["", ""]
    return tuple(_onnx_bound(node, None if not nm else _onnx_const(node, nm, consts, what))
                 for nm, what in zip(names[:2], ("min", "max"), strict=True))


def _onnx_check_ends(graph: Any, layers: list, chain: list) -> None:
    """Refuse a graph input or output whose declared width differs from the layers'."""
    ends = ((graph.inputs, chain[0][1], layers[0][0].shape[0], "input", chain[0][0]),
            (graph.outputs, graph.outputs[0].name, layers[-1][0].shape[1], "output",
             chain[-1][0]))
    for infos, name, width, what, node in ends:
        info = next(v for v in infos if v.name == name)
        last = info.shape[-1] if info.shape else None
        if isinstance(last, int) and last != width:
            raise SymdnnError(f"{node.label}: the graph {what} {name!r} has {last} features "
                              f"but the layer has {width}")


#: ONNX element types of the formats :func:`write_onnx` writes
_ONNX_FORMATS = {"float32": ("fp32", np.float32, 1), "float64": ("fp64", np.float64, 11)}


def _write_bytes_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary sibling of ``path``, then rename it over ``path``."""
    import tempfile
    from pathlib import Path

    from symdnn.errors import OutputError
    from symdnn.io.outputs import _remove, terminate_as_interrupt, umask_mode

    if os.path.isdir(path):
        raise OutputError(f"{path!r} is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    with terminate_as_interrupt():
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
        except OSError as exc:
            raise OutputError(f"cannot write {path!r}: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, umask_mode("file"))  # mkstemp makes 0600 whatever the umask
            os.replace(tmp, path)
        except BaseException:
            _remove(Path(tmp))
            raise


def write_onnx(net: Any, path: str | os.PathLike, *, dtype: str = "float32") -> str:
    """Write a :class:`~symdnn.SparseDNN` as an ONNX model of dense layers.

    Every layer becomes ``MatMul(x, W)``, ``Add(., b)`` when it has a bias, then ``Relu``, or
    ``Clip(., 0, ymax)`` when the network has a cap. Each weight, bias and the cap is rounded
    once, correctly, into ``dtype`` (:func:`symdnn.domains.round_values`); a weight that
    rounds to 0 is a 0 of the dense matrix. The input is ``"input"`` of shape
    ``[batch, inputs]`` (batch dynamic), its columns the sorted input neurons; the output is
    ``"output"``, its columns the last layer's sorted output neurons. The file is written
    atomically; :func:`read_onnx` reads it back to the rounded weights exactly.

    Parameters
    ----------
    net : SparseDNN
        A network with ``bias_rule="all"`` and a bias per neuron (not a full ``B_l``), its
        values in an exact or float domain.
    path : path
        The ``.onnx`` file to write (replaced if it exists).
    dtype : {"float32", "float64"}

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    MissingDependency
        If the ``onnx`` package is not installed.
    SymdnnError
        For a network ONNX cannot express faithfully: ``bias_rule="nonzero"`` (``Add`` adds
        to every entry), a full bias ``B_l``, or weights outside a numeric domain.

    Examples
    --------
    >>> import os, tempfile
    >>> from symdnn.assoc import AssocArray
    >>> from symdnn.network import SparseDNN
    >>> W = AssocArray.from_triples(["x", "y"], ["u", "u"], ["1/3", 2], domain="QQ")
    >>> net = SparseDNN.from_layers([W], [{"u": "-1/2"}], convention="row", ymax=32)
    >>> path = write_onnx(net, os.path.join(tempfile.mkdtemp(), "net.onnx"))
    >>> back = read_onnx(path)
    >>> sorted(float(v) for _, _, v in back.layers[0].W.triples())  # 1/3 rounded once
    [0.3333333432674408, 2.0]
    >>> float(back.ymax), [float(v) for v in back.layers[0].bias.values()]
    (32.0, [-0.5])
    """
    onnx = require("onnx", "onnx", what="this adapter", pip="onnx")
    from onnx import helper, numpy_helper

    from symdnn.domains import round_exact, round_values

    if dtype not in _ONNX_FORMATS:
        raise ArgumentError(f"dtype must be one of {sorted(_ONNX_FORMATS)}, not {dtype!r}")
    fmt, ndt, elem = _ONNX_FORMATS[dtype]
    if net.bias_rule != "all":
        raise SymdnnError(
            f"write_onnx: the network has bias_rule={net.bias_rule!r}; ONNX Add adds the bias "
            "to every entry, so only bias_rule='all' networks can be written faithfully")
    prev = tuple(net.inputs)
    nodes, inits = [], []
    x = "input"
    if net.ymax is not None:
        inits += [numpy_helper.from_array(np.zeros((), dtype=ndt), "zero"),
                  numpy_helper.from_array(np.asarray(round_exact(net.ymax, fmt), dtype=ndt),
                                          "ymax")]
    for l, layer in enumerate(net.layers):
        if layer.B is not None:
            raise SymdnnError(f"write_onnx: layer {l} has a full bias B_l (a value per input "
                              "and neuron), which an ONNX Add of a vector cannot express")
        W = layer.W if net.convention == "row" else layer.W.T
        try:
            M, rows, cols = W.to_scipy(dtype=ndt)  # one correct rounding per value
        except SymdnnError as exc:
            raise SymdnnError(f"write_onnx: layer {l}: {exc}") from None
        outs = tuple(layer.outputs)
        rpos = {k: i for i, k in enumerate(prev)}
        cpos = {k: j for j, k in enumerate(outs)}
        C = M.tocoo()
        dense = np.zeros((len(prev), len(outs)), dtype=ndt)
        dense[np.array([rpos[rows[i]] for i in C.row], dtype=np.int64),
              np.array([cpos[cols[j]] for j in C.col], dtype=np.int64)] = C.data
        inits.append(numpy_helper.from_array(dense, f"W{l}"))
        nodes.append(helper.make_node("MatMul", [x, f"W{l}"], [f"z{l}"], name=f"layer{l}_matmul"))
        x = f"z{l}"
        if layer.bias:
            b = round_values([layer.bias.get(k, 0) for k in outs], fmt).astype(ndt)
            inits.append(numpy_helper.from_array(b, f"b{l}"))
            nodes.append(helper.make_node("Add", [x, f"b{l}"], [f"zb{l}"], name=f"layer{l}_bias"))
            x = f"zb{l}"
        y = "output" if l == net.depth - 1 else f"y{l}"
        if net.ymax is None:
            nodes.append(helper.make_node("Relu", [x], [y], name=f"layer{l}_relu"))
        else:  # Clip(0, ymax) is the capped ReLU; a Relu before it would be fused by
            # onnxruntime, whose Relu-Clip fusion rejects a float64 'min'
            nodes.append(helper.make_node("Clip", [x, "zero", "ymax"], [y],
                                          name=f"layer{l}_relu_cap"))
        x, prev = y, outs
    graph = helper.make_graph(
        nodes, "symdnn",
        [helper.make_tensor_value_info("input", elem, ["batch", len(net.inputs)])],
        [helper.make_tensor_value_info("output", elem, ["batch", len(prev)])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="symdnn")
    model.ir_version = 7  # the IR of opset 13: readable by runtimes from ONNX 1.8 on
    onnx.checker.check_model(model)
    path = os.fspath(path)
    _write_bytes_atomic(path, model.SerializeToString())
    return path


def onnx_network(path: str, *, every_layer: bool = False) -> Callable:
    """The model run by onnxruntime, as a whole-network callable ``fn(Y0) -> Y_L`` for
    :meth:`symdnn.audit.Run.network_callable` (the input cast to the model's input type,
    float32 or float64).

    With ``every_layer`` the output of every ``Relu`` and ``Clip`` node is made an output of
    the graph too, so ``fn`` returns ``[Y_1, ..., Y_L]`` as onnxruntime computed them (the
    arrays as onnxruntime returned them) and the audit compares every layer; the model's
    activations must be exactly one ``Relu`` or ``Clip`` per layer.

    Examples
    --------
    >>> import tempfile, os
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["1/2"])
    >>> p = write_onnx(c.net, os.path.join(tempfile.mkdtemp(), "m.onnx"))
    >>> from symdnn.audit import Run, audit_network
    >>> rep = audit_network(c.net, c.inputs, runs=[
    ...     Run.network_callable(onnx_network(p, every_layer=True), "fp32", "ort")])
    >>> js = rep.to_json()["runs"]["ort"]
    >>> js["layers_provided"], js["categories_match_exact"]
    ('all', True)

    Raises
    ------
    MissingDependency
        If onnxruntime (or, with ``every_layer``, onnx) is not installed.
    """
    ort = require("onnxruntime", "onnx", what="this adapter", pip="onnxruntime")
    onnx = require("onnx", "onnx", what="this adapter", pip="onnx")
    from symdnn.io.onnxwire import read_model, to_onnx_proto

    # onnxruntime parses bytes written from what the pure-Python decoder read, never the file
    model = to_onnx_proto(read_model(path))
    acts: list[str] = []
    if every_layer:
        outs = {o.name for o in model.graph.output}
        acts = [n.output[0] for n in model.graph.node if n.op_type in ("Relu", "Clip")]
        elem = model.graph.input[0].type.tensor_type.elem_type
        for a in acts:
            if a not in outs:
                model.graph.output.append(onnx.helper.make_tensor_value_info(a, elem, None))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    name = inp.name
    in_dt = np.float64 if inp.type == "tensor(double)" else np.float32

    def fn(Y0: sp.csr_matrix) -> Any:
        X = Y0.toarray().astype(in_dt)  # values of the run's format: the cast is exact
        if every_layer:
            return list(sess.run(acts, {name: X}))
        out = sess.run(None, {name: X})[0]
        return sp.csr_matrix(np.asarray(out, dtype=np.float64))
    return fn
