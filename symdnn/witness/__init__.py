"""Exact replay of neural-network verifiers' counterexamples.

* :mod:`symdnn.witness.graph`: ONNX graphs imported and evaluated exactly;
* :mod:`symdnn.witness.replay`: one counterexample replayed exactly, against its property;
* :mod:`symdnn.witness.batch`: every counterexample of a VNN-COMP results folder.
"""

from symdnn.witness.graph import Exact, ExactGraph, exact_tensor, import_onnx, to_elem_type

__all__ = ["Exact", "ExactGraph", "exact_tensor", "import_onnx", "to_elem_type"]
