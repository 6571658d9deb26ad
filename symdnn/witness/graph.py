"""The exact ONNX graph the witness referee replays counterexamples on.

The graph lives in :mod:`symdnn.io`, where symdnn's other ONNX reader can use it too:
:mod:`symdnn.io.onnx_graph` (:class:`ExactGraph`, :func:`import_onnx`: the graph validated and
evaluated exactly), :mod:`symdnn.io.onnx_ops` (the operator registry, one class per operator
and opset) and :mod:`symdnn.io.onnx_tensor` (:class:`Exact` tensors and the size limits).
This module names them where the referee's callers have always found them.

Examples
--------
>>> g = import_onnx(TEST_NANO)  # tests/data/vnncomp/benchmarks/test/test_nano.onnx
>>> g.ops
['MatMul', 'Relu']
"""

from __future__ import annotations

from symdnn.errors import GraphError, ValueDependentError
from symdnn.io.onnx_graph import ExactGraph, import_onnx
from symdnn.io.onnx_ops import OPERATORS
from symdnn.io.onnx_tensor import Exact, exact_tensor, to_elem_type

__all__ = ["Exact", "ExactGraph", "import_onnx", "OPERATORS", "exact_tensor", "to_elem_type",
           "GraphError", "ValueDependentError"]
