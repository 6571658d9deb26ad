"""Exact replay of neural-network verifiers' counterexamples.

* :mod:`symdnn.witness.graph`: the exact ONNX graph the referee runs (it lives in
  :mod:`symdnn.io.onnx_graph`, its operators in the registry :mod:`symdnn.io.onnx_ops`);
* :mod:`symdnn.witness.replay`: one counterexample replayed exactly, against its property;
* :mod:`symdnn.witness.batch`: every counterexample of a VNN-COMP results folder.
"""

from symdnn.witness.graph import (
    Exact,
    ExactGraph,
    GraphError,
    exact_tensor,
    import_onnx,
    to_elem_type,
)

__all__ = ["Exact", "ExactGraph", "GraphError", "exact_tensor", "import_onnx", "to_elem_type"]
