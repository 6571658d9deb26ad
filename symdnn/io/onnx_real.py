"""The operators whose values are not rational, evaluated in certified enclosures.

``Sigmoid``, ``Tanh``, ``Exp``, ``Sin``, ``Cos``, ``Softmax`` and ``BatchNormalization``
(inference: ``y = (x - mean) * scale / sqrt(var + epsilon) + B``). Their exact evaluation
(:meth:`OpRun.run`) raises :class:`~symdnn.errors.NotRationalError`, except a
``BatchNormalization`` whose ``sqrt(var + epsilon)`` is rational for every channel: that one
is evaluated exactly, which is what folding it into the preceding ``Conv`` would give.
:class:`~symdnn.io.onnx_graph.ExactGraph` then evaluates the node in enclosures
(:mod:`symdnn.io.onnx_ball`, python-flint's ``arb``) when it runs at a precision.

They register themselves in :mod:`symdnn.io.onnx_ops` (:func:`~symdnn.io.onnx_ops.register`).

Examples
--------
>>> from symdnn.io.onnx_tensor import exact_tensor
>>> bn_scale(exact_tensor([Fraction(9, 4) - Fraction(1, 2 ** 20)]), 1.0 / 2 ** 20)
[Fraction(3, 2)]
>>> bn_scale(exact_tensor([2]), 0.0) is None   # sqrt(2)
True
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from symdnn.errors import GraphError, NotRationalError
from symdnn.io import onnx_ball
from symdnn.io.onnx_ops import OpRun, _in, op_for, register
from symdnn.io.onnx_tensor import FLOAT_FORMATS, Exact, exact_tensor
from symdnn.io.onnxwire import Node

__all__ = ["CLASSES", "bn_scale", "bn_epsilon"]


def _float(node: Node, x: Exact) -> None:
    if x.elem not in FLOAT_FORMATS:
        raise GraphError(f"{node.label}: {node.op_type} of a non-float tensor")


class _Real(OpRun):
    """An elementwise function that is not rational: exact evaluation refuses it."""

    rational: ClassVar[bool] = False
    fn: ClassVar[str] = ""

    @classmethod
    def run(cls, node: Node, ins: list[Exact | None]) -> Exact:
        _float(node, _in(node, ins, 0))
        raise NotRationalError(f"{node.label}: {node.op_type} is not rational; evaluate the "
                               "graph in certified enclosures (a precision)")


class Sigmoid_1(_Real):
    attrs = {"consumed_inputs": "ints"}


class Sigmoid_6(_Real):
    pass


class Tanh_1(_Real):
    attrs = {"consumed_inputs": "ints"}


class Tanh_6(_Real):
    pass


class Exp_1(_Real):
    attrs = {"consumed_inputs": "ints"}


class Exp_6(_Real):
    pass


class Sin_7(_Real):
    pass


class Cos_7(_Real):
    pass


class Softmax_1(_Real):
    """Softmax before opset 13: the input seen as a matrix, ``shape[:axis]`` by
    ``shape[axis:]`` (``axis`` 1 by default), each row normalised."""

    attrs = {"axis": "int"}
    default_axis: ClassVar[int] = 1

    @classmethod
    def enclose(cls, node: Node, ins: list, prec: int) -> Any:
        x = ins[0]
        _float(node, x)
        r = len(x.shape)
        axis = node.attributes["axis"].value if "axis" in node.attributes else cls.default_axis
        if not -r <= axis < max(r, 1):
            raise GraphError(f"{node.label}: Softmax axis {axis} for rank {r}")
        axis %= max(r, 1)
        if cls.since >= 13:
            lo, hi = onnx_ball.softmax(x, axis, prec, node.label)
            return onnx_ball.ball(lo, hi)
        shape = x.shape
        rows = (math.prod(shape[:axis]), math.prod(shape[axis:]))
        lo, hi = onnx_ball.endpoints(x)
        flat = onnx_ball.ball(Exact(lo.num.reshape(rows), lo.den, lo.elem),
                              Exact(hi.num.reshape(rows), hi.den, hi.elem))
        a, b = onnx_ball.softmax(flat, 1, prec, node.label)
        return onnx_ball.ball(Exact(a.num.reshape(shape), a.den, a.elem),
                              Exact(b.num.reshape(shape), b.den, b.elem))


class Softmax_13(Softmax_1):
    """Softmax from opset 13: along one axis (the last by default)."""

    default_axis = -1


# ------------------------------------------------------------------------ BatchNormalization
def bn_epsilon(node: Node) -> Fraction:
    """The node's ``epsilon`` (1e-5 by default) as the float32 it is stored as, exactly."""
    a = node.attributes.get("epsilon")
    eps = float(np.float32(1e-5 if a is None else a.value))
    if not math.isfinite(eps):
        raise GraphError(f"{node.label}: epsilon is {eps}, which has no exact value")
    return Fraction(eps)


def bn_scale(var: Exact, eps: Fraction | float) -> list[Fraction] | None:
    """``sqrt(var + eps)`` for every channel when all are rational, else None.

    A rational number has a rational square root exactly when its numerator and
    denominator (in lowest terms) are squares.

    Examples
    --------
    >>> from symdnn.io.onnx_tensor import exact_tensor
    >>> bn_scale(exact_tensor([Fraction(9, 4), Fraction(1, 4)]), 0)
    [Fraction(3, 2), Fraction(1, 2)]
    >>> bn_scale(exact_tensor([2]), 0) is None   # sqrt(2): not rational
    True
    """
    out = []
    for v in var.flat():
        q = v + Fraction(eps)
        if q <= 0:
            return None
        a, b = math.isqrt(q.numerator), math.isqrt(q.denominator)
        if a * a != q.numerator or b * b != q.denominator:
            return None
        out.append(Fraction(a, b))
    return out


class BatchNormalization_1(OpRun):
    """BatchNormalization in inference mode, one output (the training outputs are refused):
    ``y = (x - mean) * scale / sqrt(var + epsilon) + B``, channels on axis 1 (with
    ``spatial=0``, before opset 9, the statistics are per activation)."""

    rational: ClassVar[bool] = False
    attrs = {"epsilon": "float", "is_test": "int", "momentum": "float", "spatial": "int",
             "consumed_inputs": "ints"}
    arity = (5, 5)
    n_outputs = (1, 1)

    @classmethod
    def check(cls, node: Node, opset: int) -> None:
        super().check(node, opset)
        for name, ok in (("spatial", (0, 1)), ("training_mode", (0,))):
            a = node.attributes.get(name)
            if a is not None and a.value not in ok:
                raise GraphError(f"{node.label}: BatchNormalization {name}={a.value} is not "
                                 "supported (inference only)")

    @classmethod
    def _params(cls, node: Node, ins: list) -> tuple[Any, list[Exact]]:
        x = _in(node, ins, 0)
        _float(node, x)
        params = []
        for i in range(1, 5):
            p = onnx_ball._point(node, _in(node, ins, i), i)
            params.append(cls._shaped(node, x, p))
        return x, params

    @staticmethod
    def _shaped(node: Node, x: Any, p: Exact) -> Exact:
        r = len(x.shape)
        if r < 2:
            raise GraphError(f"{node.label}: BatchNormalization of a tensor of rank {r}")
        if p.shape == (x.shape[1],):
            return Exact(p.num.reshape((x.shape[1],) + (1,) * (r - 2)), p.den, p.elem)
        if p.shape == x.shape[1:]:  # spatial=0: per activation
            return p
        raise GraphError(f"{node.label}: a parameter of shape {p.shape} for an input of shape "
                         f"{x.shape}")

    @classmethod
    def _apply(cls, node: Node, x: Any, params: list[Exact], coef: Any, prec: int | None) -> Any:
        """``(x - mean) * coef + B``, exactly or by the enclosure rules."""
        scale, bias, mean, _ = params
        sub, mul, add = op_for("Sub", 14), op_for("Mul", 14), op_for("Add", 14)

        def step(op: Any, ins: list) -> Any:
            if prec is None:
                return op.run(node, ins)
            return onnx_ball.evaluate(node, op, ins, prec, op.op_type)

        return step(add, [step(mul, [step(sub, [x, mean]), coef]), bias])

    @classmethod
    def run(cls, node: Node, ins: list[Exact | None]) -> Exact:
        x, params = cls._params(node, ins)
        s = bn_scale(params[3], bn_epsilon(node))
        if s is None:
            raise NotRationalError(f"{node.label}: BatchNormalization's sqrt(var + epsilon) "
                                   "is not rational; evaluate the graph in certified "
                                   "enclosures (a precision)")
        return cls._apply(node, x, params, cls._exact_coef(params, s), None)

    @staticmethod
    def _exact_coef(params: list[Exact], s: list[Fraction]) -> Exact:
        scale = params[0]
        vals = [a / b for a, b in zip(scale.flat(), s, strict=True)]
        return exact_tensor(np.array(vals, dtype=object).reshape(scale.shape), scale.elem)

    @classmethod
    def enclose(cls, node: Node, ins: list, prec: int) -> Any:
        x, params = cls._params(node, ins)
        eps = bn_epsilon(node)
        s = bn_scale(params[3], eps)
        if s is not None:
            coef: Any = cls._exact_coef(params, s)
        else:
            flint = onnx_ball._flint()
            scale, var = params[0], params[3]
            vals = []
            with onnx_ball.workprec(flint, prec):
                fe = flint.fmpq(eps.numerator, eps.denominator)
                for g, v in zip(scale.num.reshape(-1).tolist(), var.num.reshape(-1).tolist(),
                                strict=True):
                    q = flint.fmpq(int(v), var.den) + fe
                    if q <= 0:
                        raise GraphError(f"{node.label}: var + epsilon is not positive")
                    vals.append(flint.arb(flint.fmpq(int(g), scale.den)) / flint.arb(q).sqrt())
                lo, hi = onnx_ball._dyadics(vals, scale.shape, scale.elem, prec, node.label)
            coef = onnx_ball.ball(lo, hi)
        return cls._apply(node, x, params, coef, prec)


class BatchNormalization_6(BatchNormalization_1):
    attrs = {"epsilon": "float", "is_test": "int", "momentum": "float", "spatial": "int"}


class BatchNormalization_7(BatchNormalization_1):
    attrs = {"epsilon": "float", "momentum": "float", "spatial": "int"}


class BatchNormalization_9(BatchNormalization_1):
    attrs = {"epsilon": "float", "momentum": "float"}


class BatchNormalization_14(BatchNormalization_1):
    attrs = {"epsilon": "float", "momentum": "float", "training_mode": "int"}


class BatchNormalization_15(BatchNormalization_14):
    pass


CLASSES: list[type[OpRun]] = [
    Sigmoid_1, Sigmoid_6, Tanh_1, Tanh_6, Exp_1, Exp_6, Sin_7, Cos_7, Softmax_1, Softmax_13,
    BatchNormalization_1, BatchNormalization_6, BatchNormalization_7, BatchNormalization_9,
    BatchNormalization_14, BatchNormalization_15,
]
register(*CLASSES)
