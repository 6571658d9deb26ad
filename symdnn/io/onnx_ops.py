"""The operators of ONNX's default domain that symdnn evaluates exactly: one registry.

In the style of onnx's reference evaluator (``onnx/reference/ops``): each operator, from each
opset where its signature changes, is one small class (``Clip_1``, ``Clip_11``) saying which
attributes it takes (and their kinds), how many inputs, and how it evaluates exactly; the
classes are registered in one list, :data:`REGISTRY`. Adding an operator touches one place.

:func:`check_node` checks a node against its operator at the model's opset (the operator
exists there, every attribute is one the operator takes in that opset and of its kind, the
number of inputs fits); :func:`op_for` gives the class that evaluates it. The kernels below
are plain functions of :class:`~symdnn.io.onnx_tensor.Exact` tensors; each refuses, naming
the node, a shape, type or size it does not support, before allocating it.

Examples
--------
>>> op_for("Clip", 11).arity, op_for("Clip", 6).attrs
((1, 3), {'min': 'float', 'max': 'float'})
>>> sorted(OPERATORS["Gemm"])
['alpha', 'beta', 'broadcast', 'transA', 'transB']
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from symdnn.errors import GraphError, ValueDependentError
from symdnn.io.onnx_dense import limb_bits, limb_matmul, limb_work, limbs_view
from symdnn.io.onnx_tensor import (
    BOOL,
    FLOAT_FORMATS,
    INT_TYPES,
    MAX_BITS,
    MAX_LIMB_WORK,
    Exact,
    align,
    check_size,
    const_of,
    exact_tensor,
    obj,
    to_elem_type,
)
from symdnn.io.onnxwire import Node, type_name

__all__ = ["OpRun", "REGISTRY", "OPERATORS", "MAX_OPSET", "op_for", "check_node"]

#: the operator sets of the default domain the importer knows
MAX_OPSET = 25
#: below this many word multiply-adds a MatMul is NumPy's object matmul, above it limbs
_OBJECT_WORK = 1 << 12


# ------------------------------------------------------------------------ kernels
def _broadcast(node: Node, *shapes: tuple) -> tuple:
    try:
        out = np.broadcast_shapes(*shapes)
    except ValueError:
        raise GraphError(f"{node.label}: shapes {' and '.join(map(str, shapes))} do not "
                         "broadcast") from None
    check_size(out, node)
    return out


def _same_elem(node: Node, *ts: Exact) -> int:
    elems = {t.elem for t in ts}
    if len(elems) > 1:
        raise GraphError(f"{node.label}: inputs of different types "
                         f"({', '.join(sorted(type_name(e) for e in elems))})")
    return ts[0].elem


def _numeric(node: Node, *ts: Exact) -> None:
    for t in ts:
        if t.elem not in FLOAT_FORMATS and t.elem not in INT_TYPES:
            raise GraphError(f"{node.label}: input of type {type_name(t.elem)} is not a "
                             "number type")


def _add(node: Node, a: Exact, b: Exact, sign: int = 1) -> Exact:
    _numeric(node, a, b)
    elem = _same_elem(node, a, b)
    _broadcast(node, a.shape, b.shape)
    (na, nb), den = align(a, b)
    return Exact(obj(na + nb if sign > 0 else na - nb), den, elem)


def _mul(node: Node, a: Exact, b: Exact) -> Exact:
    _numeric(node, a, b)
    elem = _same_elem(node, a, b)
    _broadcast(node, a.shape, b.shape)
    return Exact(obj(a.num * b.num), a.den * b.den, elem).reduced()


def _div(node: Node, a: Exact, b: Exact) -> Exact:
    _numeric(node, a, b)
    elem = _same_elem(node, a, b)
    if elem not in FLOAT_FORMATS:
        raise GraphError(f"{node.label}: Div of integers (which truncates) is not supported")
    _broadcast(node, a.shape, b.shape)
    nb = b.num.reshape(-1).tolist()
    if any(v == 0 for v in nb):
        raise ValueDependentError(f"{node.label}: division by zero")
    L = 1
    for v in set(abs(v) for v in nb):
        L = math.lcm(L, v)
        if L.bit_length() > MAX_BITS:
            raise ValueDependentError(f"{node.label}: the divisors' common denominator needs "
                                      f"more than {MAX_BITS} bits")
    # a / b = (na / da) * (db / nb) = na * db * (L / nb) / (da * L)
    recip = np.array([b.den * (L // v) if v > 0 else -(b.den * (L // -v)) for v in nb],
                     dtype=object).reshape(b.shape)
    return Exact(obj(a.num * recip), a.den * L, elem).reduced()


def _matmul(node: Node, a: Exact, b: Exact, ta: bool = False, tb: bool = False) -> Exact:
    """``a @ b`` exactly (``a.T``, ``b.T`` for Gemm's ``transA``, ``transB``, matrices)."""
    _numeric(node, a, b)
    elem = _same_elem(node, a, b)
    sa = a.shape[::-1] if ta else a.shape
    sb = b.shape[::-1] if tb else b.shape
    if not sa or not sb:
        raise GraphError(f"{node.label}: MatMul of a scalar")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise GraphError(f"{node.label}: MatMul of shapes {sa} and {sb}: inner dimensions "
                         f"{ka} and {kb} differ")
    batch = _broadcast(node, sa[:-2] if len(sa) > 1 else (), sb[:-2] if len(sb) > 1 else ())
    m = sa[-2] if len(sa) > 1 else 1
    n = sb[-1] if len(sb) > 1 else 1
    check_size(tuple(batch) + (m, n), node)
    words = -(-max(a.bits, 1) // 64) * -(-max(b.bits, 1) // 64)
    work = math.prod(batch) * m * n * max(ka, 1) * words
    if work <= _OBJECT_WORK:  # small: NumPy's object matmul over Python ints
        an = a.num.T if ta else a.num
        bn = b.num.T if tb else b.num
        return Exact(obj(np.matmul(an, bn)), a.den * b.den, elem).reduced()
    # else one exact limb product at BLAS speed (symdnn.io.onnx_dense), the limbs of a
    # constant kept with it for the next run
    ba, bb = a.num_bits, b.num_bits
    if ba == 0 or bb == 0:
        shape = tuple(batch) + ((m,) if len(sa) > 1 else ()) + ((n,) if len(sb) > 1 else ())
        return Exact(np.zeros(shape, dtype=object), 1, elem)
    limb = limb_work(ka, math.prod(batch) * m, n, ba, bb)
    if limb > MAX_LIMB_WORK:
        raise ValueDependentError(f"{node.label}: MatMul of shapes {sa} and {sb} of {ba}- and "
                                  f"{bb}-bit numbers is {limb} float64 limb multiply-adds, "
                                  f"more than {MAX_LIMB_WORK}")
    k_a, k_b = limb_bits(ka, ba, bb)
    A = limbs_view(a, k_a, ("lhs", ta), lambda L: L.swapaxes(-1, -2) if ta else
                   L if L.ndim > 2 else L.reshape(L.shape[0], 1, -1))
    B = limbs_view(b, k_b, ("rhs", tb), lambda L: L.swapaxes(-1, -2) if tb else
                   L if L.ndim > 2 else L.reshape(L.shape[0], -1, 1))
    out = limb_matmul(A, B)
    if len(sa) == 1:
        out = out.reshape(out.shape[:-2] + out.shape[-1:])
    if len(sb) == 1:
        out = out.reshape(out.shape[:-1])
    return Exact(obj(out), a.den * b.den, elem).reduced()


def _relu(node: Node, x: Exact) -> Exact:
    _numeric(node, x)
    return Exact(obj(np.where(x.num > 0, x.num, 0)), x.den, x.elem)


def _extreme(node: Node, ts: list[Exact], fn: Any) -> Exact:
    if not ts:
        raise GraphError(f"{node.label}: no inputs")
    _numeric(node, *ts)
    elem = _same_elem(node, *ts)
    _broadcast(node, *(t.shape for t in ts))
    nums, den = align(*ts)
    out = nums[0]
    for n in nums[1:]:
        out = fn(out, n)
    return Exact(obj(np.broadcast_to(out, np.broadcast_shapes(*(t.shape for t in ts)))
                      .copy()), den, elem)


def _sum(node: Node, ts: list[Exact]) -> Exact:
    return _extreme(node, ts, np.add)


def _maximum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(a >= b, a, b)


def _minimum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(a <= b, a, b)


def _clip(node: Node, x: Exact, lo: Exact | None, hi: Exact | None) -> Exact:
    _numeric(node, x)
    out = x
    for bound, fn in ((lo, _maximum), (hi, _minimum)):
        if bound is None:
            continue
        if bound.shape not in ((), (1,)):
            raise GraphError(f"{node.label}: a Clip bound must be a scalar, not of shape "
                             f"{bound.shape}")
        b = Exact(bound.num.reshape(()), bound.den, bound.elem)
        _same_elem(node, out, b)
        (n, m), den = align(out, b)
        out = Exact(obj(fn(n, m)), den, x.elem)
    return out


def _less(node: Node, a: Exact, b: Exact) -> Exact:
    _numeric(node, a, b)
    _same_elem(node, a, b)
    _broadcast(node, a.shape, b.shape)
    (na, nb), _ = align(a, b)
    return Exact(obj(np.where(na < nb, 1, 0)), 1, BOOL)


def _where(node: Node, c: Exact, x: Exact, y: Exact) -> Exact:
    if c.elem != BOOL:
        raise GraphError(f"{node.label}: the condition of Where must be bool, not "
                         f"{type_name(c.elem)}")
    elem = _same_elem(node, x, y)
    _broadcast(node, c.shape, x.shape, y.shape)
    (nx, ny), den = align(x, y)
    return Exact(obj(np.where(c.num != 0, nx, ny)), den, elem)


def _cast(node: Node, x: Exact, to: int) -> Exact:
    if to == BOOL:
        return Exact(obj(np.where(x.num != 0, 1, 0)), 1, BOOL)
    if to in FLOAT_FORMATS:
        if x.elem == BOOL:
            return Exact(x.num.copy(), 1, to)
        try:
            return exact_tensor(to_elem_type(x, to), to)
        except GraphError as exc:
            raise ValueDependentError(f"{node.label}: Cast to {type_name(to)}: {exc} (it "
                                      "overflows)") from None
    if to in INT_TYPES:
        if x.elem in FLOAT_FORMATS:  # ONNX (and NumPy) truncate toward zero
            q = [abs(n) // x.den * (1 if n >= 0 else -1) for n in x.num.reshape(-1).tolist()]
            x = Exact(np.array(q, dtype=object).reshape(x.shape), 1, x.elem)
        try:
            return exact_tensor(to_elem_type(x, to), to)
        except GraphError as exc:
            raise ValueDependentError(f"{node.label}: Cast to {type_name(to)}: {exc}") \
                from None
    raise GraphError(f"{node.label}: Cast to {type_name(to)} is not supported")


def _shape_ints(node: Node, t: Exact, what: str) -> list[int]:
    if t.elem != 7 or t.den != 1:
        raise GraphError(f"{node.label}: {what} must be int64")
    return [int(v) for v in t.num.reshape(-1).tolist()]


def _reshape(node: Node, x: Exact, shape: list[int], allowzero: int) -> Exact:
    dims = list(shape)
    for i, d in enumerate(dims):
        if d == 0 and not allowzero:
            if i >= len(x.shape):
                raise GraphError(f"{node.label}: Reshape dimension {i} copies a dimension "
                                 f"{x.shape} does not have")
            dims[i] = x.shape[i]
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        raise GraphError(f"{node.label}: Reshape to {shape} is not a shape")
    if -1 in dims:
        rest = math.prod(d for d in dims if d != -1)
        total = math.prod(x.shape)
        if rest == 0 or total % rest:
            raise GraphError(f"{node.label}: cannot reshape {x.shape} to {shape}")
        dims[dims.index(-1)] = total // rest
    if math.prod(dims) != math.prod(x.shape):
        raise GraphError(f"{node.label}: cannot reshape {x.shape} to {shape}")
    check_size(tuple(dims), node)
    return Exact(x.num.reshape(dims), x.den, x.elem)


def _axes(node: Node, axes: list[int], rank: int) -> list[int]:
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise GraphError(f"{node.label}: axis {a} is out of range for rank {rank}")
        out.append(a % rank)
    if len(set(out)) != len(out):
        raise GraphError(f"{node.label}: an axis is repeated in {axes}")
    return out


def _axes_input(node: Node, ins: list[Exact | None]) -> Any:
    """The axes of Squeeze or Unsqueeze from opset 13: the second input, when given."""
    if len(ins) > 1 and ins[1] is not None:
        return _shape_ints(node, ins[1], "axes")
    return _attr(node, "axes")


def _squeeze(node: Node, x: Exact, axes: Any) -> Exact:
    r = len(x.shape)
    ax = [i for i, d in enumerate(x.shape) if d == 1] if axes is None else \
        _axes(node, list(axes), r)
    if any(x.shape[a] != 1 for a in ax):
        raise GraphError(f"{node.label}: cannot squeeze axes {axes} of {x.shape}")
    shape = tuple(d for i, d in enumerate(x.shape) if i not in ax)
    return Exact(x.num.reshape(shape), x.den, x.elem)


def _unsqueeze(node: Node, x: Exact, axes: Any) -> Exact:
    if axes is None:
        raise GraphError(f"{node.label}: Unsqueeze needs axes")
    r = len(x.shape) + len(axes)
    check_size((1,) * r, node)
    ax = _axes(node, list(axes), r)
    it = iter(x.shape)
    shape = tuple(1 if i in ax else next(it) for i in range(r))
    return Exact(x.num.reshape(shape), x.den, x.elem)


# ------------------------------------------------------------------------ the registry
def _attr(node: Node, name: str, default: Any = None) -> Any:
    a = node.attributes.get(name)
    return default if a is None else a.value


def _in(node: Node, ins: list[Exact | None], i: int, optional: bool = False) -> Exact | None:
    """Input ``i`` of ``node`` (``None`` where the node leaves it out)."""
    if i >= len(ins) or ins[i] is None:
        if optional:
            return None
        raise GraphError(f"{node.label}: input {i} is missing")
    return ins[i]


def _all(node: Node, ins: list[Exact | None]) -> list[Exact]:
    return [_in(node, ins, i) for i in range(len(ins))]


class OpRun:
    """One operator of the default domain, from one opset on (until the next class of the
    same operator): the class ``Clip_11`` is ``Clip`` from opset 11.

    Attributes
    ----------
    op_type : str
        The operator, from the class name.
    since : int
        The first opset this signature belongs to, from the class name.
    attrs : dict
        The attributes it takes, name -> kind (``"int"``, ``"float"``, ``"ints"``, ...).
    arity : (int, int)
        The least and the most inputs it takes.
    n_outputs : (int, int)
        The least and the most outputs it writes (the first always named; :meth:`run`
        returns a tuple when there are several, one value for each output, the graph
        keeping those it names).
    monotone : bool
        Whether the (first) output is nondecreasing in each data input, the others (weights,
        shapes, indices, axes) held fixed: ``x <= x'`` elementwise gives ``f(x) <= f(x')``
        (Relu, MaxPool, Pad, Concat, Slice, ...). An enclosure may then evaluate it on the
        endpoints of an interval.
    affine : bool
        Whether the (first) output is an affine function of the first input, the others held
        fixed (Conv, MatMul, Gemm, AveragePool, ReduceSum, ...): it maps a centre and radius
        to the image's centre, and its absolute value to a bound on the radius.

    Every :meth:`run` is a pure function of its inputs and the node: no state is kept.
    """

    op_type: ClassVar[str] = ""
    since: ClassVar[int] = 1
    attrs: ClassVar[dict[str, str]] = {}
    arity: ClassVar[tuple[int, int]] = (1, 1)
    n_outputs: ClassVar[tuple[int, int]] = (1, 1)
    monotone: ClassVar[bool] = False
    affine: ClassVar[bool] = False

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        op, _, since = cls.__name__.rpartition("_")
        if since.isdigit():
            cls.op_type, cls.since = op, int(since)

    @classmethod
    def check(cls, node: Node, opset: int) -> None:
        """What the attribute kinds do not say: the number of inputs (and, in a subclass,
        an attribute's value)."""
        lo, hi = cls.arity
        n_in = len(node.inputs)
        if not lo <= n_in <= hi:
            raise GraphError(f"{node.label}: {n_in} inputs ({node.op_type} takes "
                             f"{lo if lo == hi else f'{lo} to {hi}'} in opset {opset})")

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact | tuple[Exact, ...]:  # pragma: no cover
        """The node's output (a tuple of them where it writes several), exactly, from its
        inputs (``None`` for one left out)."""
        raise NotImplementedError


_ARITH = {"broadcast": "int"}
_GEMM = {"alpha": "float", "beta": "float", "transA": "int", "transB": "int"}
#: attributes whose value must be 0 or 1
_FLAGS = ("transA", "transB", "broadcast", "allowzero")


class MatMul_1(OpRun):
    affine = True
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _matmul(node, _in(node, ins, 0), _in(node, ins, 1))


class Gemm_1(OpRun):
    affine = True
    attrs = {**_GEMM, "broadcast": "int"}
    arity = (2, 3)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        a, b = _in(node, ins, 0), _in(node, ins, 1)
        c = _in(node, ins, 2, optional=True)
        if len(a.shape) != 2 or len(b.shape) != 2:
            raise GraphError(f"{node.label}: Gemm needs matrices, not shapes {a.shape} and "
                             f"{b.shape}")
        out = _matmul(node, a, b, bool(_attr(node, "transA", 0)), bool(_attr(node, "transB", 0)))
        alpha, beta = _attr(node, "alpha", 1.0), _attr(node, "beta", 1.0)
        if alpha != 1.0:
            out = _mul(node, out, exact_tensor(np.float32(alpha).reshape(()), out.elem))
        if c is not None:
            try:
                np.broadcast_shapes(c.shape, out.shape)
                if np.broadcast_shapes(c.shape, out.shape) != out.shape:
                    raise ValueError
            except ValueError:
                raise GraphError(f"{node.label}: Gemm's C of shape {c.shape} does not "
                                 f"broadcast to {out.shape}") from None
            if beta != 1.0:
                c = _mul(node, c, exact_tensor(np.float32(beta).reshape(()), c.elem))
            out = _add(node, out, c)
        return out


class Gemm_7(Gemm_1):
    attrs = _GEMM


class Add_1(OpRun):
    monotone = True
    affine = True
    attrs = _ARITH
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _add(node, _in(node, ins, 0), _in(node, ins, 1))


class Add_7(Add_1):
    attrs = {}


class Sub_1(OpRun):
    affine = True
    attrs = _ARITH
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _add(node, _in(node, ins, 0), _in(node, ins, 1), -1)


class Sub_7(Sub_1):
    attrs = {}


class Mul_1(OpRun):
    affine = True
    attrs = _ARITH
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _mul(node, _in(node, ins, 0), _in(node, ins, 1))


class Mul_7(Mul_1):
    attrs = {}


class Div_1(OpRun):
    affine = True
    attrs = _ARITH
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _div(node, _in(node, ins, 0), _in(node, ins, 1))


class Div_7(Div_1):
    attrs = {}


class Relu_1(OpRun):
    monotone = True
    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _relu(node, _in(node, ins, 0))


class Clip_1(OpRun):
    """Clip with its bounds as attributes (an absent one unbounded)."""

    monotone = True
    attrs = {"min": "float", "max": "float"}

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        lo, hi = _attr(node, "min"), _attr(node, "max")
        return _clip(node, x, None if lo is None else exact_tensor([lo], x.elem),
                     None if hi is None else exact_tensor([hi], x.elem))


class Clip_11(OpRun):
    """Clip with its bounds as (optional) inputs."""

    monotone = True
    arity = (1, 3)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _clip(node, _in(node, ins, 0), _in(node, ins, 1, True), _in(node, ins, 2, True))


class Sum_1(OpRun):
    monotone = True
    affine = True
    arity = (1, 2 ** 31)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _sum(node, _all(node, ins))


class Max_1(OpRun):
    monotone = True
    arity = (1, 2 ** 31)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _extreme(node, _all(node, ins), _maximum)


class Min_1(OpRun):
    monotone = True
    arity = (1, 2 ** 31)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _extreme(node, _all(node, ins), _minimum)


class Less_1(OpRun):
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _less(node, _in(node, ins, 0), _in(node, ins, 1))


class Where_9(OpRun):
    arity = (3, 3)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _where(node, _in(node, ins, 0), _in(node, ins, 1), _in(node, ins, 2))


class Flatten_1(OpRun):
    monotone = True
    affine = True
    attrs = {"axis": "int"}

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        axis = _attr(node, "axis", 1)
        r = len(x.shape)
        if not -r <= axis <= r:
            raise GraphError(f"{node.label}: Flatten axis {axis} for rank {r}")
        if axis < 0:
            axis += r
        shape = (math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))
        return Exact(x.num.reshape(shape), x.den, x.elem)


class Reshape_1(OpRun):
    """Reshape to the attribute ``shape``."""

    monotone = True
    affine = True
    attrs = {"shape": "ints"}

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _reshape(node, _in(node, ins, 0), list(_attr(node, "shape", [])), 0)


class Reshape_5(OpRun):
    """Reshape to the shape given as the second input."""

    monotone = True
    affine = True
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        shape = _shape_ints(node, _in(node, ins, 1), "the shape")
        return _reshape(node, x, shape, _attr(node, "allowzero", 0))


class Reshape_14(Reshape_5):
    attrs = {"allowzero": "int"}


class Squeeze_1(OpRun):
    """Squeeze the attribute's ``axes`` (all axes of length 1 when absent)."""

    monotone = True
    affine = True
    attrs = {"axes": "ints"}
    arity = (1, 1)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _squeeze(node, _in(node, ins, 0), _attr(node, "axes"))


class Squeeze_13(OpRun):
    """Squeeze the axes given as the (optional) second input."""

    monotone = True
    affine = True
    arity = (1, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _squeeze(node, _in(node, ins, 0), _axes_input(node, ins))


class Unsqueeze_1(OpRun):
    monotone = True
    affine = True
    attrs = {"axes": "ints"}

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _unsqueeze(node, _in(node, ins, 0), _attr(node, "axes"))


class Unsqueeze_13(OpRun):
    monotone = True
    affine = True
    arity = (1, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _unsqueeze(node, _in(node, ins, 0), _axes_input(node, ins))


class Identity_1(OpRun):
    monotone = True
    affine = True
    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _in(node, ins, 0)


class Constant_1(OpRun):
    """A constant given as exactly one value attribute."""

    attrs = {"value": "tensor"}
    arity = (0, 0)

    @classmethod
    def check(cls, node: Node, opset: int) -> None:
        super().check(node, opset)
        if len(node.attributes) != 1:
            raise GraphError(f"{node.label}: Constant needs exactly one value attribute")

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        (name, a), = node.attributes.items()
        if name == "value":
            return const_of(a.value, node.label)
        if name in ("value_float", "value_floats"):
            return exact_tensor(np.asarray(a.value, np.float32), 1)
        return exact_tensor(np.asarray(a.value, np.int64), 7)


class Constant_12(Constant_1):
    attrs = {"value": "tensor", "value_float": "float", "value_floats": "floats",
             "value_int": "int", "value_ints": "ints"}


class Cast_1(OpRun):
    monotone = True
    attrs = {"to": "int"}

    @classmethod
    def check(cls, node: Node, opset: int) -> None:
        to = node.attributes.get("to")
        if to is None or to.value not in FLOAT_FORMATS and to.value not in INT_TYPES \
                and to.value != BOOL:
            raise GraphError(f"{node.label}: Cast needs 'to', a supported element type")
        super().check(node, opset)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return _cast(node, _in(node, ins, 0), _attr(node, "to"))


class Cast_19(Cast_1):
    attrs = {"to": "int", "saturate": "int"}


class CastLike_15(OpRun):
    monotone = True
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        return _cast(node, x, _in(node, ins, 1).elem)


class CastLike_19(CastLike_15):
    attrs = {"saturate": "int"}


_CLASSES: list[type[OpRun]] = [
    MatMul_1, Gemm_1, Gemm_7, Add_1, Add_7, Sub_1, Sub_7, Mul_1, Mul_7, Div_1, Div_7,
    Relu_1, Clip_1, Clip_11, Sum_1, Max_1, Min_1, Less_1, Where_9, Flatten_1,
    Reshape_1, Reshape_5, Reshape_14, Squeeze_1, Squeeze_13, Unsqueeze_1, Unsqueeze_13,
    Identity_1, Constant_1, Constant_12, Cast_1, Cast_19, CastLike_15, CastLike_19,
]
#: operator -> its classes, oldest opset first: the one list of what symdnn evaluates
REGISTRY: dict[str, list[type[OpRun]]] = {}
#: operator -> every attribute it takes in some opset, and its kind (anything else is
#: refused, naming the node)
OPERATORS: dict[str, dict[str, str]] = {}


def register(*classes: type[OpRun]) -> None:
    """Add operator classes to :data:`REGISTRY` and :data:`OPERATORS` (each module of
    operators registers its own, once, when it is imported)."""
    for cls in classes:
        if cls in REGISTRY.get(cls.op_type, ()):
            continue
        REGISTRY.setdefault(cls.op_type, []).append(cls)
        REGISTRY[cls.op_type].sort(key=lambda c: c.since)
        OPERATORS[cls.op_type] = {k: v for c in REGISTRY[cls.op_type]
                                  for k, v in c.attrs.items()}


register(*_CLASSES)

def op_for(op_type: str, opset: int) -> type[OpRun]:
    """The class of ``op_type`` in ``opset``: the newest that is not newer.

    Raises
    ------
    GraphError
        If symdnn does not evaluate ``op_type``, or it does not exist in ``opset``.
    """
    classes = REGISTRY.get(op_type)
    if classes is None:
        raise GraphError(f"operator {op_type} is not supported "
                         f"(supported: {', '.join(sorted(OPERATORS))})")
    found = [c for c in classes if c.since <= opset]
    if not found:
        raise GraphError(f"{op_type} does not exist in opset {opset}")
    return found[-1]


def _attr_opsets(op_type: str, name: str) -> tuple[int, int]:
    """The first and last opset in which ``op_type`` takes the attribute ``name``."""
    classes = REGISTRY[op_type]
    has = [i for i, c in enumerate(classes) if name in c.attrs]
    last = has[-1] + 1
    return classes[has[0]].since, classes[last].since - 1 if last < len(classes) else MAX_OPSET


def check_node(node: Node, opset: int) -> type[OpRun]:
    """Check the node's attributes (their kinds, values and operator sets) and its inputs
    against its operator in ``opset``; return the class that evaluates it."""
    classes = REGISTRY[node.op_type]
    if opset < classes[0].since:
        raise GraphError(f"{node.label}: {node.op_type} does not exist in opset {opset}")
    kinds = OPERATORS[node.op_type]
    for name, a in node.attributes.items():
        if name not in kinds:
            raise GraphError(f"{node.label}: attribute {name!r} is not supported by "
                             f"{node.op_type}")
        if a.kind != kinds[name]:
            raise GraphError(f"{node.label}: attribute {name!r} must be {kinds[name]}, not "
                             f"{a.kind}")
        lo, hi = _attr_opsets(node.op_type, name)
        if not lo <= opset <= hi:
            raise GraphError(f"{node.label}: attribute {name!r} of {node.op_type} belongs to "
                             f"opsets {lo} to {hi}, not {opset}")
        if name in _FLAGS and a.value not in (0, 1):
            raise GraphError(f"{node.label}: attribute {name!r} must be 0 or 1, not {a.value}")
    cls = op_for(node.op_type, opset)
    cls.check(node, opset)
    return cls


# the operators of convolutional networks and those whose values are not rational (evaluated
# in certified enclosures) live in their own modules, which register them here
from symdnn.io import onnx_nn, onnx_real, onnx_shape  # noqa: E402, F401
