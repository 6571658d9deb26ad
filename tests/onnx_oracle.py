"""A plain-Fraction evaluator of the test data's feed-forward ONNX graphs, for tests.

Independent of :mod:`symdnn.witness.graph`: the ``onnx`` package reads the (trusted, published)
file, gunzipped where it is gzipped, weights become ``Fraction(float)``, tensors are object
arrays of ``Fraction``.
"""

from __future__ import annotations

import math
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from tests.datafiles import read_bytes

__all__ = ["fraction_eval"]


def _fr(a: np.ndarray) -> np.ndarray:
    flat = [F(float(v)) if a.dtype.kind == "f" else F(int(v)) for v in a.reshape(-1)]
    return np.array(flat, dtype=object).reshape(a.shape)


def fraction_eval(path: Path, x: list[F]) -> list[F]:
    """The feed-forward graphs of the test data, evaluated with Fractions (the onnx
    package reads the trusted file)."""
    m = onnx.load_model_from_string(read_bytes(path))
    env = {t.name: _fr(numpy_helper.to_array(t)) for t in m.graph.initializer}
    inp = next(i for i in m.graph.input if i.name not in env)
    shape = [d.dim_value or 1 for d in inp.type.tensor_type.shape.dim]
    env[inp.name] = np.array(x, dtype=object).reshape(shape)
    for n in m.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        i = [env[k] if k else None for k in n.input]  # "": an omitted optional input
        if n.op_type == "MatMul":
            r = np.matmul(i[0], i[1])
        elif n.op_type == "Gemm":
            A = i[0].T if a.get("transA") else i[0]
            B = i[1].T if a.get("transB") else i[1]
            C = i[2] if len(i) > 2 and i[2] is not None else F(0)
            r = F(a.get("alpha", 1.0)) * np.matmul(A, B) + F(a.get("beta", 1.0)) * C
        elif n.op_type == "Add":
            r = i[0] + i[1]
        elif n.op_type == "Sub":
            r = i[0] - i[1]
        elif n.op_type == "Relu":
            r = np.where(i[0] > 0, i[0], F(0))
        elif n.op_type == "Clip":  # np.clip: min, then max (so max wins when min > max)
            lo, hi = (i + [None, None])[1:3] if len(i) > 1 else (a.get("min"), a.get("max"))
            r = i[0]
            for bound, past in ((lo, np.less), (hi, np.greater)):
                if bound is not None:  # an input's 0-d array, or an attribute's float
                    b = F(np.asarray(bound, dtype=object).reshape(-1)[0])
                    r = np.where(past(r, b), b, r)
        elif n.op_type == "Flatten":
            ax = a.get("axis", 1)
            r = i[0].reshape(math.prod(i[0].shape[:ax]), -1)
        else:
            raise AssertionError(n.op_type)
        env[n.output[0]] = r
    return list(env[m.graph.output[0].name].reshape(-1))
