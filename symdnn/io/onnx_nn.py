"""The operators of convolutional networks, evaluated exactly: convolutions, pooling (also
global), the
elementwise ones (Neg, Abs, Sign, Floor, Equal, Pow to an integer) and reductions (ReduceSum,
ReduceMean, ArgMax).

``Conv`` is lowered to one exact integer matrix product per group: the input's numerators are
split into int64 limbs (:mod:`symdnn.io.onnx_dense`), the im2col of each limb is a strided
view copied once, and every limb product is one float64 GEMM, exact by the bound
``K * 2**(ka + kb) <= 2**53`` on the limb sizes; the result is put back together as Python
integers over the product of the two common denominators. ``ConvTranspose`` is the same
product followed by a col2im scatter of exact integers. ``MaxPool`` and ``AveragePool`` take
windows of the padded numerators (an ``AveragePool`` divides each window's sum by its count,
exactly). ``ReduceMean`` is the sum over the count. The data-movement operators (Pad,
Concat, Slice, Gather, Split, Transpose, Resize, ...) live in :mod:`symdnn.io.onnx_shape`.

They register themselves in :mod:`symdnn.io.onnx_ops` (:func:`~symdnn.io.onnx_ops.register`).
Every ``run`` is a pure function of its :class:`~symdnn.io.onnx_tensor.Exact` inputs; a
class's ``monotone`` and ``affine`` flags say how its output depends on its first input
(:class:`~symdnn.io.onnx_ops.OpRun`).

Examples
--------
>>> from symdnn.io.onnx_ops import op_for
>>> op_for("Conv", 13).__name__, op_for("MaxPool", 13).monotone, op_for("Conv", 13).affine
('Conv_1', True, True)
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from symdnn.errors import GraphError, ValueDependentError
from symdnn.io.onnx_dense import limb_bits, limb_work, limbs_view, split
from symdnn.io.onnx_dense import limb_matmul as _limb_matmul
from symdnn.io.onnx_ops import (
    OpRun,
    _attr,
    _axes,
    _axes_input,
    _broadcast,
    _in,
    _numeric,
    _same_elem,
    register,
)
from symdnn.io.onnx_tensor import (
    BOOL,
    FLOAT_FORMATS,
    MAX_BITS,
    MAX_LIMB_WORK,
    Exact,
    align,
    check_size,
    exact_tensor,
    obj,
)
from symdnn.io.onnxwire import Node, type_name

__all__ = ["CLASSES", "conv", "conv_transpose", "pool"]

_CONV = {"auto_pad": "string", "dilations": "ints", "group": "int", "kernel_shape": "ints",
         "pads": "ints", "strides": "ints"}
_AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


def _str(node: Node, name: str, default: str) -> str:
    v = _attr(node, name, default)
    return v.decode() if isinstance(v, bytes) else str(v)


def _spatial(node: Node, x: Exact, what: str = "X") -> int:
    if len(x.shape) < 3:
        raise GraphError(f"{node.label}: {node.op_type} needs {what} of shape (N, C, D1, ...), "
                         f"not {x.shape}")
    return len(x.shape) - 2


def _ints_attr(node: Node, name: str, n: int, default: int) -> list[int]:
    v = _attr(node, name)
    if v is None:
        return [default] * n
    v = [int(a) for a in v]
    if len(v) != n:
        raise GraphError(f"{node.label}: {name} {v} has {len(v)} values, not {n}")
    return v


def _geometry(node: Node, in_sp: tuple, k_sp: list[int], *, ceil_mode: int = 0
              ) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """The output size, begin and end pads, strides and dilations of a convolution or a
    pooling window: ``auto_pad`` (``SAME_UPPER`` puts an odd total's extra pad at the end,
    ``SAME_LOWER`` at the beginning), explicit ``pads``, ``ceil_mode`` (the last window must
    start inside the input or its begin pad)."""
    n = len(in_sp)
    strides = _ints_attr(node, "strides", n, 1)
    dil = _ints_attr(node, "dilations", n, 1)
    if any(s < 1 for s in strides) or any(d < 1 for d in dil) or any(k < 1 for k in k_sp):
        raise GraphError(f"{node.label}: strides {strides}, dilations {dil} and kernel "
                         f"{k_sp} must be positive")
    auto = _str(node, "auto_pad", "NOTSET")
    if auto not in _AUTO_PADS:
        raise GraphError(f"{node.label}: auto_pad {auto!r} is not one of {_AUTO_PADS}")
    eff = [(k - 1) * d + 1 for k, d in zip(k_sp, dil, strict=True)]
    if auto == "NOTSET":
        pads = _ints_attr(node, "pads", 2 * n, 0)
        if any(p < 0 for p in pads):
            raise GraphError(f"{node.label}: negative pads {pads}")
        pb, pe = pads[:n], pads[n:]
        out = []
        for i in range(n):
            span = in_sp[i] + pb[i] + pe[i] - eff[i]
            o = (-(-span // strides[i]) if ceil_mode else span // strides[i]) + 1
            if ceil_mode and (o - 1) * strides[i] >= in_sp[i] + pb[i]:
                o -= 1
            out.append(o)
    elif auto == "VALID":
        pb, pe = [0] * n, [0] * n
        out = [(in_sp[i] - eff[i]) // strides[i] + 1 for i in range(n)]
    else:
        out = [-(-in_sp[i] // strides[i]) for i in range(n)]
        total = [max(0, (out[i] - 1) * strides[i] + eff[i] - in_sp[i]) for i in range(n)]
        small = [t // 2 for t in total]
        big = [t - t // 2 for t in total]
        pb, pe = (small, big) if auto == "SAME_UPPER" else (big, small)
    if any(o < 1 for o in out):
        raise GraphError(f"{node.label}: a window of {k_sp} (dilations {dil}) does not fit "
                         f"the input {tuple(in_sp)} with pads {pb + pe}")
    return out, pb, pe, strides, dil


def _windows(a: np.ndarray, lead: int, out: list[int], pb: list[int], pe_full: list[int],
             eff: list[int], strides: list[int], dil: list[int], fill: Any = 0) -> np.ndarray:
    """The windows of ``a`` (``lead`` leading axes, then the spatial ones), padded by ``pb``
    at the beginning and ``pe_full`` at the end with ``fill``: a strided view of shape
    ``lead axes + out + kernel``."""
    n = len(out)
    padded = a
    if any(pb) or any(pe_full):  # by hand: np.pad would fill an object array with np.int64
        shape = a.shape[:lead] + tuple(d + b + e for d, b, e in
                                       zip(a.shape[lead:], pb, pe_full, strict=True))
        padded = np.empty(shape, dtype=a.dtype)
        padded.fill(fill)
        padded[(slice(None),) * lead + tuple(slice(b, b + d) for b, d in
                                             zip(pb, a.shape[lead:], strict=True))] = a
    axes = tuple(range(lead, lead + n))
    v = sliding_window_view(padded, eff, axis=axes)
    sl = (slice(None),) * lead + tuple(slice(0, (o - 1) * s + 1, s)
                                       for o, s in zip(out, strides, strict=True)) + \
        tuple(slice(None, None, d) for d in dil)
    return v[sl]


def _end_pads(in_sp: tuple, out: list[int], pb: list[int], strides: list[int],
              eff: list[int]) -> list[int]:
    """The end pads that make every window (of ``ceil_mode`` too) lie inside the padding."""
    return [max(0, (o - 1) * s + e - i - b)
            for i, o, b, s, e in zip(in_sp, out, pb, strides, eff, strict=True)]


# ------------------------------------------------------------------------ Conv
def _limb_work_check(node: Node, K: int, m: int, n: int, ba: int, bb: int) -> None:
    work = limb_work(K, m, n, ba, bb)
    if work > MAX_LIMB_WORK:
        raise ValueDependentError(f"{node.label}: {node.op_type} of {ba}-bit by {bb}-bit "
                                  f"numbers is {work} float64 limb multiply-adds, more than "
                                  f"{MAX_LIMB_WORK}")


def _conv_operands(node: Node, x: Exact, w: Exact, b: Exact | None) -> tuple:
    """What Conv and ConvTranspose check alike: number types, one element type, W's rank
    and ``kernel_shape``; returns ``(elem, spatial axes, N, C, kernel shape, group)``."""
    _numeric(node, x, w)
    elem = _same_elem(node, x, w) if b is None else _same_elem(node, x, w, b)
    n = _spatial(node, x)
    if len(w.shape) != n + 2:
        raise GraphError(f"{node.label}: W of shape {w.shape} for X of shape {x.shape}")
    k_sp = list(w.shape[2:])
    ks = _attr(node, "kernel_shape")
    if ks is not None and list(ks) != k_sp:
        raise GraphError(f"{node.label}: kernel_shape {list(ks)} but W has shape {w.shape}")
    return elem, n, x.shape[0], x.shape[1], k_sp, _attr(node, "group", 1)


def _plus_bias(num: np.ndarray, den: int, b: Exact | None, M: int, n: int,
               elem: int) -> Exact:
    """``num / den`` plus the bias of each of the ``M`` output channels."""
    if b is not None:
        L = math.lcm(den, b.den)
        num = num * (L // den) + b.num.reshape((M,) + (1,) * n) * (L // b.den)
        den = L
    return Exact(obj(num), den, elem).reduced()


def conv(node: Node, x: Exact, w: Exact, b: Exact | None) -> Exact:
    """``Conv`` exactly: the im2col of ``x``'s limbs times ``w``'s limbs, one GEMM per
    limb group (see the module docstring)."""
    elem, n, N, C, k_sp, g = _conv_operands(node, x, w, b)
    M, Cg = w.shape[:2]
    if g < 1 or C != Cg * g or M % g:
        raise GraphError(f"{node.label}: group {g} does not divide X's {C} channels into W's "
                         f"{Cg} and its {M} filters")
    if b is not None and b.shape != (M,):
        raise GraphError(f"{node.label}: B of shape {b.shape}, not ({M},)")
    out, pb, pe, strides, dil = _geometry(node, x.shape[2:], k_sp)
    check_size((N, M) + tuple(out), node)
    K, P = Cg * math.prod(k_sp), math.prod(out)
    check_size((N, K * g, P), node)  # the im2col of one limb
    bw, bx = w.num_bits, x.num_bits
    if bw == 0 or bx == 0 or K == 0:
        num = np.zeros((N, M) + tuple(out), dtype=object)
        den = x.den * w.den
    else:
        _limb_work_check(node, K, M, N * P, bw, bx)
        kw, kx = limb_bits(K, bw, bx)
        # a constant's limbs (and their float64 stacking) are kept with it for the next run
        W = limbs_view(w, kw, ("conv", g), lambda L: L.reshape(L.shape[0], g, M // g, K))
        X = split(x.num, kx, bx)
        eff = [(k - 1) * d + 1 for k, d in zip(k_sp, dil, strict=True)]
        pe_full = _end_pads(x.shape[2:], out, pb, strides, eff)
        v = _windows(X.L, 3, out, pb, pe_full, eff, strides, dil)  # (T, N, C, *out, *k)
        T = X.T
        perm = (0, 1, 2) + tuple(range(3 + n, 3 + 2 * n)) + tuple(range(3, 3 + n))
        cols = v.transpose(perm).reshape(T, N, g, K, P)
        prod = _limb_matmul(W, type(X)(cols, X.k))  # (N, g, M/g, P)
        num = prod.reshape((N, M) + tuple(out))
        den = x.den * w.den
    return _plus_bias(num, den, b, M, n, elem)


def conv_transpose(node: Node, x: Exact, w: Exact, b: Exact | None) -> Exact:
    """``ConvTranspose`` exactly: ``W^T x`` by limbs, then a col2im scatter of integers."""
    elem, n, N, C, k_sp, g = _conv_operands(node, x, w, b)
    Cw, Mg = w.shape[:2]
    if g < 1 or Cw != C or C % g:
        raise GraphError(f"{node.label}: W of shape {w.shape} and group {g} for X with {C} "
                         "channels")
    M = Mg * g
    if b is not None and b.shape != (M,):
        raise GraphError(f"{node.label}: B of shape {b.shape}, not ({M},)")
    in_sp = list(x.shape[2:])
    strides = _ints_attr(node, "strides", n, 1)
    dil = _ints_attr(node, "dilations", n, 1)
    opad = _ints_attr(node, "output_padding", n, 0)
    if any(s < 1 for s in strides) or any(d < 1 for d in dil) or any(p < 0 for p in opad):
        raise GraphError(f"{node.label}: strides {strides}, dilations {dil}, output_padding "
                         f"{opad}")
    eff = [(k - 1) * d + 1 for k, d in zip(k_sp, dil, strict=True)]
    full = [s * (i - 1) + o + e for s, i, o, e in zip(strides, in_sp, opad, eff, strict=True)]
    auto = _str(node, "auto_pad", "NOTSET")
    if auto not in _AUTO_PADS:
        raise GraphError(f"{node.label}: auto_pad {auto!r} is not one of {_AUTO_PADS}")
    oshape = _attr(node, "output_shape")
    if oshape is not None:
        oshape = [int(v) for v in oshape][-n:]
        if len(oshape) != n:
            raise GraphError(f"{node.label}: output_shape {list(_attr(node, 'output_shape'))}"
                             f" for {n} spatial axes")
    if oshape is not None or (auto in ("SAME_UPPER", "SAME_LOWER")
                              and _attr(node, "pads") is None):
        # the pads from the total padding, as the operator's documentation and onnxruntime
        # say: SAME_UPPER puts an odd total's extra pad at the end, NOTSET and SAME_LOWER at
        # the beginning; an output larger than the full one gets zeros at the end
        out = oshape if oshape is not None else [i * s for i, s in zip(in_sp, strides,
                                                                       strict=True)]
        total = [max(f - o, 0) for f, o in zip(full, out, strict=True)]
        pb = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in total]
    else:
        pads = [0] * 2 * n if auto == "VALID" else _ints_attr(node, "pads", 2 * n, 0)
        pb = pads[:n]
        out = oshape if oshape is not None else \
            [f - pads[i] - pads[n + i] for i, f in enumerate(full)]
    if any(o < 1 for o in out) or any(p < 0 for p in pb):
        raise GraphError(f"{node.label}: output shape {out} (pads {pb})")
    check_size((N, M) + tuple(out), node)
    check_size((N, M) + tuple(full), node)
    K, Pin = C // g, math.prod(in_sp)
    check_size((N, M, math.prod(k_sp), Pin), node)
    bw, bx = w.num_bits, x.num_bits
    den = x.den * w.den
    res = np.zeros((N, M) + tuple(max(f, pb[i] + out[i]) for i, f in enumerate(full)),
                   dtype=object)
    if bw and bx and K:
        _limb_work_check(node, K, Mg * math.prod(k_sp), N * Pin, bw, bx)
        kw, kx = limb_bits(K, bw, bx)
        # (T, C, M/g, *k) -> (T, g, M/g * prod(k), C/g), kept with w for the next run
        W = limbs_view(w, kw, ("convT", g), lambda L: L.reshape(
            L.shape[0], g, K, Mg * math.prod(k_sp)).swapaxes(-1, -2))
        X = split(x.num, kx, bx)  # (T, N, C, *in) -> (T, N, g, C/g, prod(in))
        XL = X.L.reshape(X.T, N, g, K, Pin)
        cols = _limb_matmul(W, type(X)(XL, X.k))  # (N, g, M/g*prod(k), Pin)
        cols = cols.reshape((N, M) + tuple(k_sp) + tuple(in_sp))
        for kk in np.ndindex(*k_sp):
            sl = (slice(None), slice(None)) + tuple(
                slice(kk[i] * dil[i], kk[i] * dil[i] + strides[i] * (in_sp[i] - 1) + 1,
                      strides[i]) for i in range(n))
            res[sl] += cols[(slice(None), slice(None)) + kk]
    num = res[(slice(None), slice(None)) + tuple(slice(pb[i], pb[i] + out[i])
                                                  for i in range(n))]
    return _plus_bias(obj(num).copy(), den, b, M, n, elem)


# ------------------------------------------------------------------------ pooling
def pool(node: Node, x: Exact, kind: str) -> Exact:
    """``MaxPool`` (``kind="max"``) or ``AveragePool`` (``"avg"``) exactly. A window with
    no element of the input (all padding) is refused."""
    _numeric(node, x)
    n = _spatial(node, x)
    k_sp = _attr(node, "kernel_shape")
    if k_sp is None or len(k_sp) != n:
        raise GraphError(f"{node.label}: kernel_shape {k_sp} for {n} spatial axes")
    k_sp = [int(k) for k in k_sp]
    ceil_mode = _attr(node, "ceil_mode", 0)
    out, pb, pe, strides, dil = _geometry(node, x.shape[2:], k_sp, ceil_mode=ceil_mode)
    N, C = x.shape[:2]
    check_size((N, C) + tuple(out) + tuple(k_sp), node)
    in_sp = list(x.shape[2:])
    eff = [(k - 1) * d + 1 for k, d in zip(k_sp, dil, strict=True)]
    pe_full = _end_pads(in_sp, out, pb, strides, eff)
    # per axis: which (output, kernel) positions fall on the input, and on input or pads
    inside, counted = [], []
    for i in range(n):
        pos = np.arange(out[i])[:, None] * strides[i] + np.arange(k_sp[i])[None, :] * dil[i]
        inside.append((pos >= pb[i]) & (pos < pb[i] + in_sp[i]))
        counted.append(pos < pb[i] + in_sp[i] + pe[i])
    real = _outer(inside)  # shape out + kernel
    if not real.reshape(math.prod(out), -1).any(axis=1).all():
        raise GraphError(f"{node.label}: a window lies in the padding only")
    v = _windows(x.num, 2, out, pb, pe_full, eff, strides, dil)  # (N, C, *out, *k)
    flat = v.reshape((N, C) + tuple(out) + (-1,))
    real_f = real.reshape(tuple(out) + (-1,))
    if kind == "max":
        lo = x.num.min() if x.num.size else 0
        vals = np.where(real_f, flat, lo)
        best = vals[..., 0]
        for j in range(1, vals.shape[-1]):
            c = vals[..., j]
            best = np.where(c > best, c, best)
        return Exact(obj(best).copy(), x.den, x.elem)
    total = flat.sum(axis=-1)  # pads hold 0
    incl = _attr(node, "count_include_pad", 0)
    counts = (_outer(counted) if incl else real).reshape(tuple(out) + (-1,)).sum(axis=-1)
    L = math.lcm(*{int(c) for c in counts.reshape(-1).tolist()})
    scale = np.array([L // int(c) for c in counts.reshape(-1).tolist()], dtype=object) \
        .reshape(tuple(out))
    return Exact(obj(total * scale), x.den * L, x.elem).reduced()


def _outer(masks: list[np.ndarray]) -> np.ndarray:
    """The per-axis ``(out_i, k_i)`` masks combined: shape ``out + kernel``."""
    n = len(masks)
    res = np.ones((1,) * 2 * n, dtype=bool)
    for i, m in enumerate(masks):
        shape = [1] * 2 * n
        shape[i], shape[n + i] = m.shape
        res = res & m.reshape(shape)
    return res


# ------------------------------------------------------------------------ the classes
class Conv_1(OpRun):
    """Conv (linear in X for fixed W: ``affine``)."""

    attrs = _CONV
    arity = (2, 3)
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return conv(node, _in(node, ins, 0), _in(node, ins, 1), _in(node, ins, 2, True))




class ConvTranspose_1(OpRun):
    attrs = {**_CONV, "output_padding": "ints", "output_shape": "ints"}
    arity = (2, 3)
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return conv_transpose(node, _in(node, ins, 0), _in(node, ins, 1),
                              _in(node, ins, 2, True))




_POOL = {"auto_pad": "string", "kernel_shape": "ints", "pads": "ints", "strides": "ints"}


class MaxPool_1(OpRun):
    """MaxPool (nondecreasing: ``monotone``). The Indices output is refused."""

    attrs = _POOL
    monotone = True

    @classmethod
    def check(cls, node: Node, opset: int) -> None:
        super().check(node, opset)
        if len(node.outputs) > 1 and node.outputs[1]:
            raise GraphError(f"{node.label}: MaxPool's Indices output is not supported")

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return pool(node, _in(node, ins, 0), "max")


class MaxPool_8(MaxPool_1):
    attrs = {**_POOL, "storage_order": "int"}
    n_outputs = (1, 2)


class MaxPool_10(MaxPool_8):
    attrs = {**_POOL, "storage_order": "int", "ceil_mode": "int", "dilations": "ints"}





class AveragePool_1(OpRun):
    """AveragePool (linear and nondecreasing: ``affine``, ``monotone``)."""

    attrs = _POOL
    monotone = True
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        return pool(node, _in(node, ins, 0), "avg")


class AveragePool_7(AveragePool_1):
    attrs = {**_POOL, "count_include_pad": "int"}


class AveragePool_10(AveragePool_1):
    attrs = {**_POOL, "count_include_pad": "int", "ceil_mode": "int"}



class AveragePool_19(AveragePool_1):
    attrs = {**_POOL, "count_include_pad": "int", "ceil_mode": "int", "dilations": "ints"}



class GlobalAveragePool_1(OpRun):
    """The mean over every spatial axis, exactly (``affine``, ``monotone``)."""

    affine = True
    monotone = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        n = _spatial(node, x)
        _numeric(node, x)
        if x.elem not in FLOAT_FORMATS:
            raise GraphError(f"{node.label}: GlobalAveragePool of {type_name(x.elem)}")
        count = math.prod(x.shape[2:])
        if count == 0:
            raise GraphError(f"{node.label}: the mean of no values")
        num = np.sum(x.num, axis=tuple(range(2, 2 + n)), keepdims=True, dtype=object)
        return Exact(obj(num), x.den * count, x.elem).reduced()


class GlobalMaxPool_1(OpRun):
    """The largest value over every spatial axis (``monotone``)."""

    monotone = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        n = _spatial(node, x)
        _numeric(node, x)
        if math.prod(x.shape[2:]) == 0:
            raise GraphError(f"{node.label}: the largest of no values")
        flat = x.num.reshape(x.shape[:2] + (-1,))
        best = flat[..., 0]
        for j in range(1, flat.shape[-1]):
            best = np.where(flat[..., j] > best, flat[..., j], best)
        return Exact(obj(best).reshape(x.shape[:2] + (1,) * n), x.den, x.elem)


# ------------------------------------------------------------------------ elementwise
def _signed(node: Node, x: Exact) -> None:
    _numeric(node, x)
    if x.elem in (2, 4, 12, 13):  # unsigned: -x and |x| are refused or trivial
        raise GraphError(f"{node.label}: {node.op_type} of an unsigned type")


class Neg_1(OpRun):
    """-x (``affine``)."""

    attrs = {"consumed_inputs": "ints"}
    affine = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        _signed(node, x)
        return Exact(obj(-x.num), x.den, x.elem)


class Neg_6(Neg_1):
    attrs = {}


class Abs_1(OpRun):
    """|x|."""

    attrs = {"consumed_inputs": "ints"}

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        _numeric(node, x)
        return Exact(obj(np.where(x.num < 0, -x.num, x.num)), x.den, x.elem)


class Abs_6(Abs_1):
    attrs = {}


class Sign_9(OpRun):
    """-1, 0 or 1 in the input's type (nondecreasing: ``monotone``)."""

    monotone = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        _numeric(node, x)
        return Exact(obj(np.where(x.num > 0, 1, np.where(x.num < 0, -1, 0))), 1, x.elem)


class Floor_1(OpRun):
    """The largest integer not above x, in the (float) input's type (``monotone``)."""

    attrs = {"consumed_inputs": "ints"}
    monotone = True

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        _numeric(node, x)
        if x.elem not in FLOAT_FORMATS:
            raise GraphError(f"{node.label}: Floor of {type_name(x.elem)}")
        return Exact(obj(x.num // x.den), 1, x.elem)


class Floor_6(Floor_1):
    attrs = {}


class Equal_1(OpRun):
    """a == b, exactly (bool)."""

    attrs = {"axis": "int", "broadcast": "int"}
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        a, b = _in(node, ins, 0), _in(node, ins, 1)
        _same_elem(node, a, b)
        _broadcast(node, a.shape, b.shape)
        (na, nb), _ = align(a, b)
        return Exact(obj(np.where(na == nb, 1, 0)), 1, BOOL)


class Equal_7(Equal_1):
    attrs = {}


class Pow_1(OpRun):
    """x ** y for an integer-valued exponent y (a non-integer one has no rational value in
    general, and is refused); ``0 ** -n`` is a division by zero."""

    attrs = {"axis": "int", "broadcast": "int"}
    arity = (2, 2)

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x, y = _in(node, ins, 0), _in(node, ins, 1)
        _numeric(node, x, y)
        shape = _broadcast(node, x.shape, y.shape)
        ys = y.num.reshape(-1).tolist()
        if any(v % y.den for v in ys):
            raise GraphError(f"{node.label}: Pow with a non-integer exponent (its value is "
                             "not rational)")
        es = {v // y.den for v in ys}
        big = max((abs(e) for e in es), default=0) * max(x.bits, 1)
        if big > MAX_BITS:
            raise ValueDependentError(f"{node.label}: Pow to {max(es, key=abs)} needs more "
                                      f"than {MAX_BITS} bits")
        if x.elem not in FLOAT_FORMATS and min(es, default=0) < 0:
            raise GraphError(f"{node.label}: Pow of {type_name(x.elem)} to a negative "
                             "exponent")
        if len(es) == 1 and min(es) >= 0:  # one exponent: numerators and denominator
            e = es.pop()
            return Exact(obj(np.broadcast_to(x.num, shape) ** e), x.den ** e, x.elem) \
                .reduced()
        xb = np.broadcast_to(x.num, shape).reshape(-1).tolist()
        eb = np.broadcast_to(y.num, shape).reshape(-1).tolist()
        vals = []
        for n, e in zip(xb, eb, strict=True):
            e //= y.den
            if n == 0 and e < 0:
                raise ValueDependentError(f"{node.label}: 0 to the power {e}")
            vals.append(Fraction(n, x.den) ** e)
        return exact_tensor(np.array(vals, dtype=object).reshape(shape), x.elem)


class Pow_7(Pow_1):
    attrs = {}


# ------------------------------------------------------------------------ reductions
def _reduce_axes(node: Node, x: Exact, axes: Any) -> tuple[int, ...] | None:
    """The axes reduced (``None``: none, ``noop_with_empty_axes``)."""
    r = len(x.shape)
    if axes is None or len(axes) == 0:
        if _attr(node, "noop_with_empty_axes", 0):
            return None
        return tuple(range(r))
    return tuple(_axes(node, list(axes), r))


def reduce(node: Node, x: Exact, axes: Any, mean: bool) -> Exact:
    """ReduceSum or ReduceMean (the sum over the count, exactly)."""
    _numeric(node, x)
    ax = _reduce_axes(node, x, axes)
    if ax is None:
        return x
    keep = bool(_attr(node, "keepdims", 1))
    num = np.sum(x.num, axis=ax, keepdims=keep, dtype=object)
    count = math.prod(x.shape[a] for a in ax)
    if not mean:
        return Exact(obj(num), x.den, x.elem)
    if x.elem not in FLOAT_FORMATS:
        raise GraphError(f"{node.label}: ReduceMean of {type_name(x.elem)} (which rounds) is "
                         "not supported")
    if count == 0:
        raise GraphError(f"{node.label}: the mean of no values")
    return Exact(obj(num), x.den * count, x.elem).reduced()


class ReduceSum_1(OpRun):
    """ReduceSum with the ``axes`` attribute (``affine``, ``monotone``)."""

    attrs = {"axes": "ints", "keepdims": "int"}
    affine = True
    monotone = True
    #: the mean (ReduceMean) rather than the sum
    mean: ClassVar[bool] = False

    @classmethod
    def run(cls, node: Node, ins: list[Exact | None]) -> Exact:
        return reduce(node, _in(node, ins, 0), cls.axes(node, ins), cls.mean)

    @staticmethod
    def axes(node: Node, ins: list[Exact | None]) -> Any:
        return _attr(node, "axes")


class ReduceSum_13(ReduceSum_1):
    """ReduceSum with the axes as an optional (int64) input."""

    attrs = {"keepdims": "int", "noop_with_empty_axes": "int"}
    arity = (1, 2)
    axes = staticmethod(_axes_input)


class ReduceMean_1(ReduceSum_1):
    """ReduceMean with the ``axes`` attribute: the sum over the count, exactly."""

    mean = True


class ReduceMean_18(ReduceMean_1):
    attrs = {"keepdims": "int", "noop_with_empty_axes": "int"}
    arity = (1, 2)
    axes = staticmethod(_axes_input)


class ArgMax_1(OpRun):
    """The index (int64) of the first largest value (the last with ``select_last_index``)."""

    attrs = {"axis": "int", "keepdims": "int"}

    @staticmethod
    def run(node: Node, ins: list[Exact | None]) -> Exact:
        x = _in(node, ins, 0)
        _numeric(node, x)
        r = len(x.shape)
        if r == 0:
            raise GraphError(f"{node.label}: ArgMax of a scalar")
        a = _axes(node, [_attr(node, "axis", 0)], r)[0]
        d = x.shape[a]
        if d == 0:
            raise GraphError(f"{node.label}: ArgMax over an empty axis")
        last = _attr(node, "select_last_index", 0)
        num = np.flip(x.num, axis=a) if last else x.num
        idx = np.argmax(num, axis=a)
        if last:
            idx = d - 1 - idx
        if _attr(node, "keepdims", 1):
            idx = np.expand_dims(idx, a)
        return Exact(np.array(idx.tolist(), dtype=object).reshape(idx.shape), 1, 7)


class ArgMax_12(ArgMax_1):
    attrs = {"axis": "int", "keepdims": "int", "select_last_index": "int"}


CLASSES: list[type[OpRun]] = [
    Conv_1,
    ConvTranspose_1,
    MaxPool_1,
    MaxPool_8,
    MaxPool_10,
    AveragePool_1,
    AveragePool_7,
    AveragePool_10,
    AveragePool_19,
    GlobalAveragePool_1,
    GlobalMaxPool_1,
    Neg_1,
    Neg_6,
    Abs_1,
    Abs_6,
    Sign_9,
    Floor_1,
    Floor_6,
    Equal_1,
    Equal_7,
    Pow_1,
    Pow_7,
    ReduceSum_1,
    ReduceSum_13,
    ReduceMean_1,
    ReduceMean_18,
    ArgMax_1,
    ArgMax_12,
]
register(*CLASSES)
