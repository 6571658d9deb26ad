"""The data-movement operators of ONNX, evaluated exactly: each output value is an input value.

Pad, Concat, Slice, Gather, Split, Transpose, Expand, Shape, ConstantOfShape, ScatterND,
Resize (nearest), Dropout (inference: the identity). Each moves or copies numerators and
keeps the common denominator (aligning several inputs' denominators first), so the result is
bit for bit what the operator computes in any type. Shape-valued inputs (pads, starts,
indices, sizes) must be int64 (int32 where ONNX allows it) tensors.

They register themselves in :mod:`symdnn.io.onnx_ops`; every ``run`` is a pure function of
its inputs, and ``monotone``/``affine`` say how it depends on its first input.

Examples
--------
>>> from symdnn.io.onnx_ops import op_for
>>> op_for("Slice", 9).attrs, op_for("Slice", 13).arity
({'starts': 'ints', 'ends': 'ints', 'axes': 'ints'}, (3, 5))
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from symdnn.errors import GraphError, ValueDependentError
from symdnn.io.onnx_ops import OpRun, _all, _attr, _axes, _broadcast, _in, _same_elem, register
from symdnn.io.onnx_tensor import (
    BOOL,
    FLOAT_FORMATS,
    Exact,
    align,
    check_size,
    const_of,
    exact_tensor,
    obj,
)
from symdnn.io.onnxwire import Node, type_name

__all__ = ["CLASSES"]

#: the element types of index and shape inputs (int32, int64)
_INDEX = (6, 7)


def _ints(node: Node, t: Exact, what: str) -> list[int]:
    """A shape-valued input (int32 or int64) as Python ints."""
    if t.elem not in _INDEX or t.den != 1:
        raise GraphError(f"{node.label}: {what} must be int64 or int32, not "
                         f"{type_name(t.elem)}")
    return [int(v) for v in t.num.reshape(-1).tolist()]


def _str(node: Node, name: str, default: str) -> str:
    v = _attr(node, name, default)
    return v.decode() if isinstance(v, bytes) else str(v)


def _axis(node: Node, axis: int, rank: int) -> int:
    return _axes(node, [axis], rank)[0]


# ------------------------------------------------------------------------ Pad
def pad(node: Node, x: Exact, pads: list[int], mode: str, value: Exact | None,
        axes: list[int] | None = None) -> Exact:
    """``Pad``: ``constant`` (with an exact value), ``reflect``, ``edge`` or ``wrap``;
    negative pads crop."""
    r = len(x.shape)
    ax = list(range(r)) if axes is None else _axes(node, axes, r)
    if len(pads) != 2 * len(ax):
        raise GraphError(f"{node.label}: {len(pads)} pads for {len(ax)} axes")
    width = [[0, 0] for _ in range(r)]
    for i, a in enumerate(ax):
        width[a] = [pads[i], pads[len(ax) + i]]
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise GraphError(f"{node.label}: Pad mode {mode!r} is not supported")
    crop = tuple(slice(max(0, -b), x.shape[i] - max(0, -e)) for i, (b, e) in enumerate(width))
    num = x.num[crop]
    grow = [(max(0, b), max(0, e)) for b, e in width]
    shape = tuple(d + b + e for d, (b, e) in zip(num.shape, grow, strict=True))
    if any(d < 0 for d in shape):
        raise GraphError(f"{node.label}: pads {pads} crop more than {x.shape}")
    check_size(shape, node)
    den = x.den
    if mode == "constant":
        fill = 0
        if value is not None and value.num.size:
            if value.num.size != 1:
                raise GraphError(f"{node.label}: the constant value must be one value")
            (num_a, fill_a), den = align(Exact(num, x.den, x.elem), value)
            num, fill = num_a, np.asarray(fill_a, dtype=object).reshape(-1)[0]
        out = num
        if any(b or e for b, e in grow):  # by hand: np.pad fills object arrays with np.int64
            out = np.empty(shape, dtype=object)
            out.fill(fill)
            out[tuple(slice(b, b + d) for (b, _), d in zip(grow, num.shape, strict=True))] = num
        return Exact(obj(out), den, x.elem)
    if any(b or e for b, e in grow):
        if num.size == 0 or (mode == "reflect" and any(
                (b or e) and d < 2 for d, (b, e) in zip(num.shape, grow, strict=True))):
            raise GraphError(f"{node.label}: Pad {mode} of an axis too short")
        if mode == "reflect" and any(max(b, e) >= d for d, (b, e) in
                                     zip(num.shape, grow, strict=True) if b or e):
            raise GraphError(f"{node.label}: Pad reflect by more than the axis holds")
        num = np.pad(num, grow, mode=mode)
    return Exact(obj(num), den, x.elem)


class Pad_1(OpRun):
    """Pad with ``paddings`` and ``value`` attributes (opset 1)."""

    attrs = {"mode": "string", "paddings": "ints", "value": "float"}
    monotone = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        return pad(node, x, list(_attr(node, "paddings", []) or []),
                   _str(node, "mode", "constant"), _float_value(node, x))


def _float_value(node: Node, x: Exact) -> Exact | None:
    v = _attr(node, "value")
    if v is None or v == 0:
        return None
    if x.elem not in FLOAT_FORMATS:
        if float(v) != int(v):
            raise GraphError(f"{node.label}: value {v} for an integer tensor")
    f = Fraction(float(np.float32(v)))
    return Exact(np.array([f.numerator], dtype=object), f.denominator, x.elem)


class Pad_2(Pad_1):
    attrs = {"mode": "string", "pads": "ints", "value": "float"}

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        return pad(node, x, list(_attr(node, "pads", []) or []),
                   _str(node, "mode", "constant"), _float_value(node, x))


class Pad_11(OpRun):
    """Pad with ``pads`` and the constant value as inputs (and ``axes`` from opset 18)."""

    attrs = {"mode": "string"}
    arity = (2, 3)
    monotone = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        value = _in(node, ins, 2, True)
        if value is not None:
            _same_elem(node, x, value)
        axes = _in(node, ins, 3, True)
        return pad(node, x, _ints(node, _in(node, ins, 1), "pads"),
                   _str(node, "mode", "constant"), value,
                   None if axes is None else _ints(node, axes, "axes"))



class Pad_18(Pad_11):
    arity = (2, 4)







# ------------------------------------------------------------------------ Concat
class Concat_1(OpRun):
    """Concat (opset 1: ``axis`` defaults to 1)."""

    attrs = {"axis": "int"}
    arity = (1, 2 ** 31)
    monotone = True
    affine = True
    default_axis: int | None = 1

    @classmethod
    def run(cls, node: Node, ins: list[Exact | None]) -> Exact:
        ts = _all(node, ins)
        elem = _same_elem(node, *ts)
        axis = _attr(node, "axis", cls.default_axis)
        if axis is None:
            raise GraphError(f"{node.label}: Concat needs axis")
        r = len(ts[0].shape)
        if r == 0 or any(len(t.shape) != r for t in ts):
            raise GraphError(f"{node.label}: Concat of ranks {[len(t.shape) for t in ts]}")
        a = _axis(node, axis, r)
        for t in ts:
            if t.shape[:a] + t.shape[a + 1:] != ts[0].shape[:a] + ts[0].shape[a + 1:]:
                raise GraphError(f"{node.label}: Concat of shapes "
                                 f"{[t.shape for t in ts]} on axis {axis}")
        shape = list(ts[0].shape)
        shape[a] = sum(t.shape[a] for t in ts)
        check_size(tuple(shape), node)
        nums, den = align(*ts)
        return Exact(obj(np.concatenate(nums, axis=a)), den, elem)


class Concat_4(Concat_1):
    default_axis = None




# ------------------------------------------------------------------------ Slice
def slice_(node: Node, x: Exact, starts: list[int], ends: list[int], axes: list[int] | None,
           steps: list[int] | None) -> Exact:
    """``Slice`` with ONNX's clamping: negative starts and ends count from the end, then
    they are clamped to ``[0, dim]`` (``[0, dim - 1]`` and ``[-1, dim - 1]`` for a negative
    step)."""
    r = len(x.shape)
    if axes is None:
        axes = list(range(len(starts)))
    if not len(starts) == len(ends) == len(axes) or (steps is not None and
                                                     len(steps) != len(starts)):
        raise GraphError(f"{node.label}: starts {starts}, ends {ends}, axes {axes} and steps "
                         f"{steps} differ in length")
    ax = _axes(node, axes, r)
    steps = steps or [1] * len(starts)
    idx: list = [slice(None)] * r
    for a, s, e, st in zip(ax, starts, ends, steps, strict=True):
        d = x.shape[a]
        if st == 0:
            raise GraphError(f"{node.label}: a step of 0")
        s = s + d if s < 0 else s
        e = e + d if e < 0 else e
        if st > 0:
            s, e = min(max(s, 0), d), min(max(e, 0), d)
        else:
            s, e = min(max(s, 0), d - 1), min(max(e, -1), d - 1)
        idx[a] = np.arange(s, e, st, dtype=np.int64)
    num = x.num
    for a, ix in enumerate(idx):
        if isinstance(ix, np.ndarray):
            num = np.take(num, ix, axis=a)
    return Exact(obj(num), x.den, x.elem)


class Slice_1(OpRun):
    """Slice with ``starts``, ``ends`` and ``axes`` attributes (before opset 10)."""

    attrs = {"starts": "ints", "ends": "ints", "axes": "ints"}
    monotone = True
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        starts, ends = _attr(node, "starts"), _attr(node, "ends")
        if starts is None or ends is None:
            raise GraphError(f"{node.label}: Slice needs starts and ends")
        axes = _attr(node, "axes")
        return slice_(node, _in(node, ins, 0), list(starts), list(ends),
                      None if axes is None else list(axes), None)


class Slice_10(OpRun):
    """Slice with ``starts``, ``ends``, ``axes`` and ``steps`` as inputs."""

    arity = (3, 5)
    monotone = True
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        opt = [_in(node, ins, i, True) for i in (3, 4)]
        return slice_(node, _in(node, ins, 0), _ints(node, _in(node, ins, 1), "starts"),
                      _ints(node, _in(node, ins, 2), "ends"),
                      *(None if t is None else _ints(node, t, "axes or steps") for t in opt))




# ------------------------------------------------------------------------ Gather
class Gather_1(OpRun):
    """Gather (negative indices count from the end)."""

    attrs = {"axis": "int"}
    arity = (2, 2)
    monotone = True
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x, ind = _in(node, ins, 0), _in(node, ins, 1)
        r = len(x.shape)
        if r == 0:
            raise GraphError(f"{node.label}: Gather from a scalar")
        a = _axis(node, _attr(node, "axis", 0), r)
        idx = np.array(_ints(node, ind, "indices"), dtype=np.int64).reshape(ind.shape)
        d = x.shape[a]
        if idx.size and (idx.min() < -d or idx.max() >= d):
            raise ValueDependentError(f"{node.label}: an index out of [-{d}, {d - 1}]")
        shape = x.shape[:a] + idx.shape + x.shape[a + 1:]
        check_size(shape, node)
        return Exact(obj(np.take(x.num, np.where(idx < 0, idx + d, idx), axis=a)), x.den,
                     x.elem)




# ------------------------------------------------------------------------ Split
def split_(node: Node, x: Exact, axis: int, sizes: list[int] | None, n_out: int
           ) -> tuple[Exact, ...]:
    r = len(x.shape)
    a = _axis(node, axis, r)
    d = x.shape[a]
    if sizes is None:
        if d % n_out:
            raise GraphError(f"{node.label}: axis of {d} does not split into {n_out} equal "
                             "parts")
        sizes = [d // n_out] * n_out
    if len(sizes) != n_out or sum(sizes) != d or any(s < 0 for s in sizes):
        raise GraphError(f"{node.label}: split {sizes} of an axis of {d} into {n_out} outputs")
    bounds = np.cumsum([0] + sizes)
    return tuple(Exact(obj(np.take(x.num, np.arange(bounds[i], bounds[i + 1]), axis=a)),
                       x.den, x.elem) for i in range(n_out))


class Split_1(OpRun):
    """Split, sizes by the ``split`` attribute or the (optional) second input."""

    attrs = {"axis": "int", "split": "ints"}
    arity = (1, 2)
    n_outputs = (1, 2 ** 31)
    monotone = True
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> tuple[Exact, ...]:
        sizes = _attr(node, "split")
        s_in = _in(node, ins, 1, True)
        if s_in is not None:
            sizes = _ints(node, s_in, "split")
        return split_(node, _in(node, ins, 0), _attr(node, "axis", 0),
                      None if sizes is None else list(sizes), len(node.outputs))


class Split_2(Split_1):
    arity = (1, 1)



class Split_13(Split_1):
    attrs = {"axis": "int"}


class Split_18(Split_1):
    """Split with ``num_outputs`` (parts of ``ceil(d / n)``, the last smaller)."""

    attrs = {"axis": "int", "num_outputs": "int"}

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> tuple[Exact, ...]:
        x = _in(node, ins, 0)
        s_in = _in(node, ins, 1, True)
        n = _attr(node, "num_outputs")
        n_out = len(node.outputs)
        axis = _attr(node, "axis", 0)
        if s_in is not None:
            if n is not None:
                raise GraphError(f"{node.label}: both split and num_outputs")
            return split_(node, x, axis, _ints(node, s_in, "split"), n_out)
        if n is None:
            return split_(node, x, axis, None, n_out)
        if n != n_out or n < 1:
            raise GraphError(f"{node.label}: num_outputs {n} but {n_out} outputs")
        d = x.shape[_axis(node, axis, len(x.shape))]
        part = -(-d // n)
        sizes = [min(part, max(0, d - i * part)) for i in range(n)]
        return split_(node, x, axis, sizes, n_out)


# ------------------------------------------------------------------------ Transpose, Expand
class Transpose_1(OpRun):
    attrs = {"perm": "ints"}
    monotone = True
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        r = len(x.shape)
        perm = _attr(node, "perm")
        perm = list(range(r))[::-1] if perm is None else list(perm)
        if sorted(perm) != list(range(r)):
            raise GraphError(f"{node.label}: perm {perm} for rank {r}")
        return Exact(obj(x.num.transpose(perm)), x.den, x.elem)







class Expand_8(OpRun):
    arity = (2, 2)
    monotone = True
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        shape = tuple(_ints(node, _in(node, ins, 1), "the shape"))
        if any(d < 0 for d in shape):
            raise GraphError(f"{node.label}: Expand to {shape}")
        out = _broadcast(node, x.shape, shape)
        return Exact(obj(np.broadcast_to(x.num, out).copy()), x.den, x.elem)



# ------------------------------------------------------------------------ Shape
class Shape_1(OpRun):
    """Shape (int64; ``start`` and ``end``, clamped, from opset 15)."""

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        r = len(x.shape)
        lo, hi = _attr(node, "start", 0), _attr(node, "end", r)
        lo = min(max(lo + r if lo < 0 else lo, 0), r)
        hi = min(max(hi + r if hi < 0 else hi, 0), r)
        return Exact(np.array(list(x.shape[lo:hi]), dtype=object).reshape(-1), 1, 7)



class Shape_15(Shape_1):
    attrs = {"start": "int", "end": "int"}







class ConstantOfShape_9(OpRun):
    """ConstantOfShape (the one value of ``value``, float32 0 by default)."""

    attrs = {"value": "tensor"}

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        shape = tuple(_ints(node, _in(node, ins, 0), "the shape"))
        if any(d < 0 for d in shape):
            raise GraphError(f"{node.label}: ConstantOfShape of {shape}")
        check_size(shape, node)
        a = node.attributes.get("value")
        if a is None:
            return Exact(np.zeros(shape, dtype=object), 1, 1)
        v = const_of(a.value, node.label)
        if v.num.size != 1:
            raise GraphError(f"{node.label}: value must hold one value")
        return Exact(obj(np.full(shape, v.num.reshape(-1)[0], dtype=object)), v.den, v.elem)







# ------------------------------------------------------------------------ ScatterND
class ScatterND_11(OpRun):
    """ScatterND (``reduction`` none, add, mul, max or min: later updates of one index
    apply in order)."""

    arity = (3, 3)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x, ind, upd = _in(node, ins, 0), _in(node, ins, 1), _in(node, ins, 2)
        elem = _same_elem(node, x, upd)
        red = _str(node, "reduction", "none")
        if red not in ("none", "add", "mul", "max", "min"):
            raise GraphError(f"{node.label}: reduction {red!r} is not supported")
        if len(ind.shape) < 1:
            raise GraphError(f"{node.label}: indices of shape {ind.shape}")
        q = ind.shape[-1]
        r = len(x.shape)
        if q > r or upd.shape != ind.shape[:-1] + x.shape[q:]:
            raise GraphError(f"{node.label}: indices {ind.shape} and updates {upd.shape} for "
                             f"data {x.shape}")
        idx = np.array(_ints(node, ind, "indices"), dtype=np.int64).reshape(-1, q)
        dims = np.array(x.shape[:q], dtype=np.int64)
        if idx.size and ((idx < -dims).any() or (idx >= dims).any()):
            raise ValueDependentError(f"{node.label}: an index out of range")
        idx = np.where(idx < 0, idx + dims, idx)
        if red == "mul":  # products of values: in fractions, then one common denominator
            fx = np.array(x.flat(), dtype=object).reshape(x.shape)
            fu = np.array(upd.flat(), dtype=object).reshape((-1,) + x.shape[q:])
            for j, i in enumerate(map(tuple, idx.tolist())):
                fx[i] = fx[i] * fu[j]
            return exact_tensor(fx, elem)
        (out, u), den = align(x, upd)
        u = u.reshape((-1,) + x.shape[q:])
        out = obj(out).copy()
        for j, i in enumerate(map(tuple, idx.tolist())):
            if red == "none":
                out[i] = u[j]
            elif red == "add":
                out[i] = out[i] + u[j]
            elif red == "max":
                out[i] = np.where(u[j] > out[i], u[j], out[i])
            else:
                out[i] = np.where(u[j] < out[i], u[j], out[i])
        return Exact(obj(out), den, elem).reduced()



class ScatterND_16(ScatterND_11):
    attrs = {"reduction": "string"}



# ------------------------------------------------------------------------ Dropout
class Dropout_1(OpRun):
    """Dropout in inference: the identity; the optional mask is all true (bool; before
    opset 10 of the input's type, all 1). Training mode (opset 12's third input) is refused,
    unless the ratio is 0, which is the identity too. Before opset 7, ``is_test`` is ignored:
    a network is evaluated in inference, as onnxruntime does."""

    attrs = {"consumed_inputs": "ints", "is_test": "int", "ratio": "float"}
    n_outputs = (1, 2)
    monotone = True
    affine = True
    mask_bool = False

    @classmethod
    def run(cls, node: Node, ins: list[Exact | None]) -> tuple[Exact, Exact]:
        x = _in(node, ins, 0)
        train = _in(node, ins, 2, True)
        if train is not None and any(v != 0 for v in train.num.reshape(-1).tolist()):
            ratio = _in(node, ins, 1, True)
            if ratio is None or any(v != 0 for v in ratio.num.reshape(-1).tolist()):
                raise GraphError(f"{node.label}: Dropout in training mode (random) is not "
                                 "supported, unless its ratio is 0")
        mask_elem = BOOL if cls.mask_bool else x.elem
        return x, Exact(np.ones(x.shape, dtype=object), 1, mask_elem)


class Dropout_6(Dropout_1):
    attrs = {"is_test": "int", "ratio": "float"}


class Dropout_7(Dropout_1):
    attrs = {"ratio": "float"}


class Dropout_10(Dropout_7):
    mask_bool = True


class Dropout_12(Dropout_1):
    attrs = {"seed": "int"}
    mask_bool = True
    arity = (1, 3)




# ------------------------------------------------------------------------ Resize
_CTM = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_half_pixel_for_nn")
_NEAREST = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _source(node: Node, xo: int, scale: Fraction, d_in: int, d_out: int, ctm: str,
            mode: str) -> int:
    """The input index the output index ``xo`` copies, in exact rational arithmetic."""
    if ctm == "half_pixel":
        x = (xo + Fraction(1, 2)) / scale - Fraction(1, 2)
    elif ctm == "half_pixel_symmetric":
        adj = Fraction(d_out) / (scale * d_in)
        center = Fraction(d_in, 2)
        x = center * (1 - adj) + (xo + Fraction(1, 2)) / scale - Fraction(1, 2)
    elif ctm == "pytorch_half_pixel":
        x = (xo + Fraction(1, 2)) / scale - Fraction(1, 2) if d_out > 1 else Fraction(0)
    elif ctm == "align_corners":
        x = Fraction(0) if d_out == 1 else Fraction(xo * (d_in - 1), d_out - 1)
    elif ctm == "asymmetric":
        x = xo / scale
    else:  # tf_half_pixel_for_nn
        x = (xo + Fraction(1, 2)) / scale
    fl = math.floor(x)
    frac = x - fl
    if mode == "floor" or frac == 0:
        i = fl
    elif mode == "ceil":
        i = fl + 1
    elif mode == "round_prefer_floor":
        i = fl + (frac > Fraction(1, 2))
    elif mode == "round_prefer_ceil":
        i = fl + (frac >= Fraction(1, 2))
    else:  # "simple" (opset 10, as onnxruntime): ceil when downsampling, else floor
        i = fl + 1 if scale < 1 else fl
    return min(max(int(i), 0), d_in - 1)


def resize(node: Node, x: Exact, scales: list[Fraction] | None, sizes: list[int] | None,
           axes: list[int] | None, *, ctm: str, mode: str, policy: str = "stretch") -> Exact:
    """``Resize`` in ``nearest`` mode: every output value is an input value; the source
    index is computed in exact rationals (the scale of a ``sizes`` input is ``out / in``).

    This is the operator's documented formula on the scale the file stores, and what onnx's
    reference evaluator computes; onnxruntime computes the index in float32, which can land
    on the other side of an integer (``3 / 0.6f`` is 4.9999998 exactly, 5.0 in float32), so
    it may copy a neighbour for a non-integer downscale. Integer scales (2, 3) and
    upsampling by ``sizes`` agree."""
    r = len(x.shape)
    ax = list(range(r)) if axes is None else _axes(node, axes, r)
    if ctm not in _CTM:
        raise GraphError(f"{node.label}: coordinate_transformation_mode {ctm!r} is not "
                         f"supported (only {', '.join(_CTM)})")
    if mode not in _NEAREST + ("simple",):
        raise GraphError(f"{node.label}: nearest_mode {mode!r} is not supported")
    if (scales is None) == (sizes is None):
        raise GraphError(f"{node.label}: Resize needs exactly one of scales and sizes")
    given = scales if scales is not None else sizes
    if len(given) != len(ax):
        raise GraphError(f"{node.label}: {len(given)} scales or sizes for {len(ax)} axes")
    sc = [Fraction(1)] * r
    out = list(x.shape)
    if scales is not None:
        for a, s in zip(ax, scales, strict=True):
            if s <= 0:
                raise GraphError(f"{node.label}: a scale of {float(s)}")
            sc[a], out[a] = s, math.floor(s * x.shape[a])
    else:
        if any(v < 0 for v in sizes) or any(x.shape[a] == 0 for a in ax):
            raise GraphError(f"{node.label}: sizes {sizes} for {x.shape}")
        if policy == "stretch":
            for a, v in zip(ax, sizes, strict=True):
                sc[a], out[a] = Fraction(v, x.shape[a]), v
        elif policy in ("not_larger", "not_smaller"):
            ratios = [Fraction(v, x.shape[a]) for a, v in zip(ax, sizes, strict=True)]
            s = min(ratios) if policy == "not_larger" else max(ratios)
            for a in ax:
                sc[a], out[a] = s, math.floor(s * x.shape[a] + Fraction(1, 2))
        else:
            raise GraphError(f"{node.label}: keep_aspect_ratio_policy {policy!r}")
    check_size(tuple(out), node)
    num = x.num
    for a in ax:
        if out[a] == x.shape[a] and sc[a] == 1:
            continue
        idx = [_source(node, i, sc[a], x.shape[a], out[a], ctm, mode) for i in range(out[a])]
        num = np.take(num, np.array(idx, dtype=np.int64), axis=a)
    return Exact(obj(num), x.den, x.elem)


def _resize_args(node: Node, ins: list[Exact | None], first: int
                 ) -> tuple[list[Fraction] | None, list[int] | None]:
    """The scales (exact: each float the rational it stores) and sizes inputs, either left
    out or empty where absent."""
    sc = _in(node, ins, first, True)
    sz = _in(node, ins, first + 1, True)
    scales = None if sc is None or sc.num.size == 0 else \
        [Fraction(int(v), sc.den) for v in sc.num.reshape(-1).tolist()]
    sizes = None if sz is None or sz.num.size == 0 else _ints(node, sz, "sizes")
    return scales, sizes


class Resize_10(OpRun):
    """Resize by scales (opset 10): ``nearest`` only, from ``floor(out / scale)`` copied as
    onnxruntime does (the index rounded up when downsampling)."""

    attrs = {"mode": "string"}
    arity = (2, 2)
    monotone = True
    affine = True

    @classmethod
    def run(cls, node: Node, ins: list[Exact | None]) -> Exact:
        cls._nearest_only(node)
        scales, _ = _resize_args(node, ins, 1)
        return resize(node, _in(node, ins, 0), scales, None, None, ctm="asymmetric",
                      mode="simple")

    @staticmethod
    def _nearest_only(node: Node) -> None:
        mode = _str(node, "mode", "nearest")
        if mode != "nearest":
            raise GraphError(f"{node.label}: Resize mode {mode!r} is not supported (only "
                             "'nearest': the others interpolate)")


class Resize_11(Resize_10):
    """Resize with roi, scales and sizes inputs and the nearest-mode attributes."""

    attrs = {"mode": "string", "coordinate_transformation_mode": "string",
             "cubic_coeff_a": "float", "exclude_outside": "int",
             "extrapolation_value": "float", "nearest_mode": "string"}
    arity = (3, 4)

    @classmethod
    def run(cls, node: Node, ins: list[Exact | None]) -> Exact:
        cls._nearest_only(node)
        if _attr(node, "antialias", 0):
            raise GraphError(f"{node.label}: antialias is not supported")
        scales, sizes = _resize_args(node, ins, 2)
        axes = _attr(node, "axes")
        return resize(node, _in(node, ins, 0), scales, sizes,
                      None if axes is None else list(axes),
                      ctm=_str(node, "coordinate_transformation_mode", "half_pixel"),
                      mode=_str(node, "nearest_mode", "round_prefer_floor"),
                      policy=_str(node, "keep_aspect_ratio_policy", "stretch"))


class Resize_13(Resize_11):
    arity = (1, 4)


class Resize_18(Resize_13):
    attrs = {**Resize_11.attrs, "antialias": "int", "axes": "ints",
             "keep_aspect_ratio_policy": "string"}


CLASSES: list[type[OpRun]] = [
    Pad_1,
    Pad_2,
    Pad_11,
    Pad_18,
    Concat_1,
    Concat_4,
    Slice_1,
    Slice_10,
    Gather_1,
    Split_1,
    Split_2,
    Split_13,
    Split_18,
    Transpose_1,
    Expand_8,
    Shape_1,
    Shape_15,
    ConstantOfShape_9,
    ScatterND_11,
    ScatterND_16,
    Dropout_1,
    Dropout_6,
    Dropout_7,
    Dropout_10,
    Dropout_12,
    Resize_10,
    Resize_11,
    Resize_13,
    Resize_18,
]
register(*CLASSES)
