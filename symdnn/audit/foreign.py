"""Adapters that turn other implementations into runs the audit can check.

* :func:`scipy_layer`: the Graph Challenge reference rule in scipy.sparse, in float64 or
  float32 (also the template for writing your own per-layer callable);
* :func:`torch_layer`: the same rule in PyTorch sparse tensors (imported only when used);
* :func:`read_onnx`: an ONNX graph of MatMul/Gemm, Add, Relu and Clip layers read into a
  :class:`~symdnn.SparseDNN` *exactly* (every float weight becomes the dyadic rational it is);
  :func:`onnx_network`: the model run by onnxruntime, as a whole-network callable.

Optional dependencies are imported lazily; a missing one raises :class:`MissingDependency`
naming the package to install.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.errors import SymdnnError

__all__ = ["MissingDependency", "scipy_layer", "torch_layer", "read_onnx", "onnx_network"]


class MissingDependency(SymdnnError, ImportError):
    """An optional package symdnn needs for this adapter is not installed."""


def _need(module: str, pip_name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(
            f"this adapter needs {pip_name}: pip install {pip_name}") from None


def scipy_layer(dtype: Any = np.float64, *, rule: str = "nonzero",
                cap: float | None = 32.0) -> Callable:
    """A per-layer callable ``fn(W, bias, Y) -> Y_next`` computing ``h(Y W + b)`` with
    scipy.sparse in ``dtype`` (bias on the nonzero entries of ``Y W`` for ``rule="nonzero"``).

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np
    >>> f = scipy_layer(np.float32)
    >>> Y = f(sp.csr_matrix(np.array([[0.5]])), np.array([-0.25]), sp.csr_matrix([[1.0]]))
    >>> Y.toarray().tolist()
    [[0.25]]
    """
    def fn(W: sp.csr_matrix, bias: np.ndarray, Y: sp.csr_matrix) -> sp.csr_matrix:
        Z = (Y.astype(dtype) @ W.astype(dtype)).tocsr()
        b = bias.astype(dtype)
        if rule == "nonzero":
            Z.data = (Z.data + b[Z.indices]).astype(dtype)
        else:
            Z = sp.csr_matrix(Z.toarray() + b[None, :])
        Z.data[Z.data < 0] = 0
        if cap is not None:
            Z.data[Z.data > cap] = cap
        Z.eliminate_zeros()
        return Z
    return fn


def torch_layer(dtype: str = "float32", *, rule: str = "nonzero",
                cap: float | None = 32.0) -> Callable:
    """The reference rule in PyTorch (CPU), as a per-layer callable for the audit.

    Raises
    ------
    MissingDependency
        If torch is not installed.
    """
    torch = _need("torch", "torch")
    tdt = getattr(torch, dtype)

    def fn(W: sp.csr_matrix, bias: np.ndarray, Y: sp.csr_matrix) -> sp.csr_matrix:
        Wd = torch.tensor(W.toarray(), dtype=tdt)
        Yd = torch.tensor(Y.toarray(), dtype=tdt)
        Z = Yd @ Wd
        b = torch.tensor(bias, dtype=tdt)
        Z = torch.where(Z != 0, Z + b, Z) if rule == "nonzero" else Z + b
        Z = torch.clamp(Z, min=0, max=cap) if cap is not None else torch.relu(Z)
        return sp.csr_matrix(Z.to(torch.float64).numpy())
    return fn


def _onnx_tensors(model: Any) -> dict:
    from onnx import numpy_helper

    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def read_onnx(path: str, *, bias_rule: str = "all") -> Any:
    """Read an ONNX model of dense layers into an exact :class:`~symdnn.SparseDNN`.

    Supported graph: a chain of ``MatMul(x, W)`` or ``Gemm(x, W[, b])`` (``transB`` honoured),
    optional ``Add(., b)``, then ``Relu`` or ``Clip(0, ymax)``, repeated. Weights become exact
    dyadic rationals; zero weights are not stored. Neurons are keyed ``(layer, index)``, the
    inputs ``(0, index)``; the network uses the row convention ``Y W``.

    Raises
    ------
    MissingDependency
        If the ``onnx`` package is not installed.
    SymdnnError
        For an operator outside the supported set, naming it and its node.
    """
    onnx = _need("onnx", "onnx")
    from symdnn.assoc import AssocArray
    from symdnn.network import SparseDNN

    model = onnx.load(path)
    consts = _onnx_tensors(model)
    Ws: list = []
    biases: list = []
    ymax = None
    for node in model.graph.node:
        op = node.op_type
        if op in ("MatMul", "Gemm"):
            W = consts.get(node.input[1])
            if W is None:
                raise SymdnnError(f"node {node.name or op}: the weight {node.input[1]!r} is not "
                                  "a constant initializer")
            attrs = {a.name: a for a in node.attribute}
            if op == "Gemm" and "transB" in attrs and attrs["transB"].i:
                W = W.T
            if op == "Gemm" and ("alpha" in attrs and attrs["alpha"].f != 1 or
                                 "beta" in attrs and attrs["beta"].f != 1):
                raise SymdnnError(f"node {node.name or op}: Gemm alpha/beta other than 1")
            Ws.append(np.asarray(W, dtype=np.float64))
            biases.append(np.asarray(consts[node.input[2]], dtype=np.float64)
                          if op == "Gemm" and len(node.input) > 2 else None)
        elif op == "Add":
            b = consts.get(node.input[1], consts.get(node.input[0]))
            if b is None or not Ws:
                raise SymdnnError(f"node {node.name or op}: Add needs a constant bias after a "
                                  "MatMul")
            prev = biases[-1]
            biases[-1] = np.asarray(b, dtype=np.float64) + (0 if prev is None else prev)
        elif op == "Relu":
            continue
        elif op == "Clip":
            hi = consts.get(node.input[2]) if len(node.input) > 2 else None
            if hi is not None:
                ymax = float(np.asarray(hi))
        else:
            raise SymdnnError(f"node {node.name or op}: operator {op} is not supported "
                              "(MatMul, Gemm, Add, Relu, Clip)")
    arrays, bias_dicts = [], []
    for l, W in enumerate(Ws):
        r, c = np.nonzero(W)
        arrays.append(AssocArray.from_triples(
            [(l, int(i)) for i in r], [(l + 1, int(j)) for j in c], W[r, c], domain="QQ"))
        b = biases[l]
        bias_dicts.append({} if b is None else
                          {(l + 1, int(j)): v for j, v in enumerate(b.tolist()) if v != 0})
    neurons = [[(0, i) for i in range(Ws[0].shape[0])]] + \
        [[(l + 1, j) for j in range(W.shape[1])] for l, W in enumerate(Ws)]
    return SparseDNN.from_layers(arrays, bias_dicts, convention="row", bias_rule=bias_rule,
                                 ymax=ymax, domain="QQ", neurons=neurons)


def onnx_network(path: str) -> Callable:
    """The model run by onnxruntime, as a whole-network callable ``fn(Y0) -> Y_L`` for
    :meth:`symdnn.audit.Run.network_callable` (float32 in, as ONNX models usually are).

    Raises
    ------
    MissingDependency
        If onnxruntime is not installed.
    """
    ort = _need("onnxruntime", "onnxruntime")
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    def fn(Y0: sp.csr_matrix) -> sp.csr_matrix:
        out = sess.run(None, {name: Y0.toarray().astype(np.float32)})[0]
        return sp.csr_matrix(np.asarray(out, dtype=np.float64))
    return fn
