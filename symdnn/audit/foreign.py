"""Adapters that turn other implementations into runs the audit can check.

Per-layer callables ``fn(W, bias, Y) -> Y_next`` for :meth:`symdnn.audit.Run.layer_callable`
(the Graph Challenge rule ``Y_next = min(max(Y W + b, 0), cap)``, the bias added only to the
entries of ``Y W`` that are present for ``rule="nonzero"``, to every entry for ``rule="all"``),
from :mod:`symdnn.audit.foreign_layers`:

* :func:`scipy_layer`: scipy.sparse, in float64 or float32 (also the template for writing
  your own per-layer callable);
* :func:`graphblas_layer`: the GraphBLAS reference formulation (``plus_times``, then the bias
  as a ``plus_plus`` product with a diagonal matrix, ``valuegt`` select, ``min`` apply) in
  python-graphblas / SuiteSparse:GraphBLAS, returning its own ``graphblas.Matrix``;
* :func:`torch_layer`: the rule in dense PyTorch tensors; :func:`torch_sparse_layer`: in
  PyTorch sparse (COO or CSR) tensors, returning its own tensor.

Whole networks in ONNX, from :mod:`symdnn.audit.foreign_onnx`:

* :func:`read_onnx`: an ONNX graph of MatMul/Gemm, Add, Relu and Clip layers read into a
  :class:`~symdnn.SparseDNN` *exactly* (every float weight becomes the dyadic rational it is);
  :func:`write_onnx`: the reverse, the weights rounded once, correctly, into float32 or
  float64; :func:`onnx_network`: the model run by onnxruntime, as a whole-network callable.

Every callable here reads its arguments and never modifies them; the later-layer ``Y`` it
receives is the object it returned for the previous layer. Optional dependencies are imported
lazily; a missing one raises :class:`MissingDependency` naming the package to install.
"""

from __future__ import annotations

from symdnn.audit.foreign_layers import (
    graphblas_layer,
    scipy_layer,
    torch_layer,
    torch_sparse_layer,
)
from symdnn.audit.foreign_onnx import onnx_network, read_onnx, write_onnx
from symdnn.errors import MissingDependency

__all__ = ["MissingDependency", "scipy_layer", "graphblas_layer", "torch_layer",
           "torch_sparse_layer", "read_onnx", "write_onnx", "onnx_network"]
