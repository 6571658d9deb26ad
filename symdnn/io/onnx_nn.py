"""The operators of convolutional and reshaping networks, evaluated exactly.

They register themselves in :mod:`symdnn.io.onnx_ops` (:func:`~symdnn.io.onnx_ops.register`).
"""

from __future__ import annotations

from symdnn.io.onnx_ops import OpRun, register

CLASSES: list[type[OpRun]] = []
register(*CLASSES)
