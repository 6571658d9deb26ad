"""Inference: :func:`infer` and what it is built from.

The engines' common front end: the network's inputs as a batch of integer numerators
(:func:`batch_keys`, :func:`compile_exact`, :func:`compile_float`), the dispatch to the exact,
float and reference engines, and the result types (:class:`InferenceResult`,
:class:`LayerRecord`). :mod:`symdnn.engines` re-exports the public names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import sympy

from symdnn.assoc import AssocArray
from symdnn.assoc import kernels as K
from symdnn.domains import (
    QQ,
    SYM,
    FloatDomain,
    RationalDomain,
    get_domain,
    round_exact,
    round_values,
)
from symdnn.domains.rational import RatVec, reduce_common
from symdnn.engines import exact as EX
from symdnn.engines.floating import float_step
from symdnn.engines.reference import SymbolicSignError, run_reference
from symdnn.errors import (
    ArgumentError,
    ArgumentTypeError,
    DomainMismatch,
    KeyMismatch,
    KeyTypeError,
)
from symdnn.semirings import plus_times

__all__ = ["infer", "InferenceResult", "LayerRecord", "SymbolicSignError", "compile_exact"]


@dataclass
class LayerRecord:
    """One layer of a recorded run: pre-activations (where the bias rule defines them) and
    post-activations, in the network's convention, and the path the exact engine took."""

    pre: AssocArray
    post: AssocArray
    path: str | None = None


@dataclass
class InferenceResult:
    """The output of :func:`infer`.

    Attributes
    ----------
    output : AssocArray
        ``Y_L`` in the network's convention (column: neurons x batch; row: batch x neurons).
    layers : list of LayerRecord or None
        Every layer's pre- and post-activations, when ``record=True``.
    paths : list of str
        The exact engine's path per layer (``float64``, ``int64``, ``limbs``); empty otherwise.
    arith, engine : str
    batch : tuple
        Every batch key, those whose inputs or outputs are all zero included.
    """

    output: AssocArray
    layers: list[LayerRecord] | None
    paths: list[str]
    arith: str
    engine: str
    convention: str
    batch: tuple = ()

    def categories(self) -> tuple:
        """Batch keys whose output has any nonzero entry (the Graph Challenge's categories)."""
        return self.output.row() if self.convention == "row" else self.output.col()

    def winners(self) -> list[tuple[Any, Any, int]]:
        """Per batch key, in batch order: ``(key, winner, nonzero)``, where ``winner`` is the
        output neuron holding the largest output when that output is positive and no other
        neuron ties it (else None), and ``nonzero`` is how many outputs are nonzero."""
        out = self.output if self.convention == "column" else self.output.T
        best: dict = {}
        for r, c, v in out.triples():
            best.setdefault(c, []).append((v, r))
        rows = []
        for key in self.batch:
            vals = sorted(best.get(key, []), key=lambda t: t[0], reverse=True)
            unique = vals and vals[0][0] > 0 and (len(vals) == 1 or vals[1][0] < vals[0][0])
            rows.append((key, vals[0][1] if unique else None, len(vals)))
        return rows


def _arith_domain(arith: str):
    if arith == "exact":
        return QQ
    if arith == "symbolic":
        return SYM
    dom = get_domain(arith)
    if not isinstance(dom, FloatDomain):
        raise ArgumentError(f"arith must be 'exact', 'symbolic' or a float format, not {arith!r}")
    return dom


def _need_assoc(Y0: Any) -> None:
    if not isinstance(Y0, AssocArray):
        raise ArgumentTypeError(f"Y0 must be an AssocArray, not {type(Y0).__name__}")


def _batch_view(net, Y0: AssocArray) -> AssocArray:
    """Y0 as batch x input features, restricted to the features layer 0 reads."""
    _need_assoc(Y0)
    Yb = Y0 if net.convention == "row" else Y0.T
    unknown = set(Yb.col()) - set(net.inputs)
    if unknown:
        raise KeyMismatch(f"the inputs name features that layer 0 does not read: "
                          f"{sorted(unknown, key=repr)[:3]} ({len(unknown)} in all); give "
                          "inputs over the network's input neurons")
    return Yb


def batch_keys(Yb: AssocArray, given: Any = None) -> tuple:
    """The batch keys: ``given`` (checked to hold every batch key of ``Yb``, without
    repeats), or the batch keys of ``Yb``, in sorted order."""
    if given is None:
        return Yb.row()
    keys = list(given)
    if len(set(keys)) != len(keys):
        seen: set = set()
        dup = next(k for k in keys if k in seen or seen.add(k))
        raise ArgumentError(f"batch key {dup!r} is given twice")
    missing = set(Yb.row()) - set(keys)
    if missing:
        raise KeyMismatch(f"the inputs hold batch keys not in batch=: "
                          f"{sorted(missing, key=repr)[:3]}")
    try:
        return tuple(sorted(keys))
    except TypeError:
        raise KeyTypeError("batch keys must be of one sortable type") from None


def _csr_over(A: AssocArray, rows: tuple, cols: tuple) -> tuple[np.ndarray, np.ndarray, Any]:
    """A's CSR re-indexed over the given (super)sets of row and column keys."""
    s = A._store()
    rmap = {k: i for i, k in enumerate(rows)}
    cmap = {k: i for i, k in enumerate(cols)}
    rpos = np.fromiter((rmap[k] for k in s.rows), dtype=np.int64, count=len(s.rows))
    cpos = np.fromiter((cmap[k] for k in s.cols), dtype=np.int64, count=len(s.cols))
    ri = rpos[s.row_index()]
    ci = cpos[s.indices]
    order = np.lexsort((ci, ri))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(ri, minlength=len(rows)), out=indptr[1:])
    return indptr, ci[order], (s.vals, order)


def _as_integers(vec: RatVec) -> tuple[np.ndarray, int]:
    dens = np.unique(vec.den)
    D = math.lcm(*[int(d) for d in dens]) if len(dens) else 1
    if D == 1:
        return vec.num, 1
    return vec.num.astype(object) * (D // vec.den.astype(object)), D


def _full_bias(net, layer, batch: tuple, dom, convert) -> np.ndarray:
    """A full bias B_l as a dense (batch x outputs) array, converted entry by entry."""
    Bb = layer.B if net.convention == "row" else layer.B.T
    bpos = {k: i for i, k in enumerate(batch)}
    opos = {k: i for i, k in enumerate(layer.outputs)}
    out = np.empty((len(batch), len(layer.outputs)), dtype=object)
    out[:] = convert(0)
    for b, o, v in Bb.triples():
        if b in bpos:
            out[bpos[b], opos[o]] = convert(v)
    return out


def compile_exact(net, batch: tuple = ()) -> list[EX.ExactLayer]:
    """Each layer of an exact network as integers over a denominator (row convention)."""
    out = []
    prev = net.inputs
    for layer in net.layers:
        W = layer.W if net.convention == "row" else layer.W.T
        indptr, indices, (vals, order) = _csr_over(W, prev, layer.outputs)
        num, D = _as_integers(RatVec(vals.num[order], vals.den[order]))
        NW = EX.int_csr(np.asarray(num), indices, indptr, (len(prev), len(layer.outputs)))
        nb, db = None, 1
        if layer.B is not None:
            full = _full_bias(net, layer, batch, QQ, QQ.convert)
            nbv, db = _as_integers(QQ.from_list(list(full.ravel())))
            nb = np.asarray(nbv, dtype=object).reshape(full.shape)
        elif layer.bias:
            bv = QQ.from_list([layer.bias.get(k, 0) for k in layer.outputs])
            nb, db = _as_integers(bv)
            nb = np.asarray(nb, dtype=object)
        out.append(EX.ExactLayer(NW, D, nb, db))
        prev = layer.outputs
    return out


def _assoc(rows: tuple, cols: tuple, indptr, indices, vec, dom, convention) -> AssocArray:
    ri = np.repeat(np.arange(len(rows)), np.diff(indptr))
    store = K.canonical(rows, cols, ri, np.asarray(indices, dtype=np.int64), vec, dom,
                        plus_times)
    A = AssocArray._new(store, dom, plus_times)
    return A if convention == "row" else A.T


def _exact_vec(ints: np.ndarray, s: int) -> RatVec:
    ints = np.asarray(ints)
    if ints.dtype != object:
        ints = ints.astype(np.int64)  # float64-held integers (exact), or an empty array
    return reduce_common(ints, s)


def infer(net, Y0: AssocArray, *, arith: str = "exact", engine: str = "fast",
          accumulate: str | None = None, record: bool = False,
          relu: str = "decide", bounds: dict | None = None,
          chunk: int | None = None, batch: Any = None) -> InferenceResult:
    """Run a :class:`~symdnn.SparseDNN` on a batch.

    Parameters
    ----------
    net : SparseDNN
    Y0 : AssocArray
        The inputs: features x batch (column convention) or batch x features (row).
    arith : str
        ``"exact"`` (QQ), ``"symbolic"`` (SymPy, reference engine), or a float format.
    engine : {"fast", "reference"}
    accumulate : str, optional
        Float runs: the format products and sums are computed in before the result is rounded
        to ``arith`` (default: ``arith`` itself).
    record : bool
        Keep every layer's pre- and post-activations.
    relu : {"decide", "piecewise"}
        Symbolic runs: raise :class:`SymbolicSignError` naming the neuron when a ReLU sign
        cannot be decided, or return ``Max(0, x)``.
    bounds : dict, optional
        Symbolic runs: closed intervals ``{symbol: (lo, hi)}`` the symbols lie in (the paper's
        betas: ``(0, 1)``). A pre-activation's sign (and, under the nonzero rule, whether
        ``W y`` is zero) is decided exactly by :func:`symdnn.engines.symbolic.signs`, also
        through ``Max``, ``Min``, ``Piecewise`` and rational functions.
    chunk : int, optional
        Fast exact engine: run the batch this many inputs at a time (bounds the memory of a
        huge batch; the network is compiled once). Not with ``record``.
    batch : sequence, optional
        The batch keys, when ``Y0`` cannot show them all: an input whose features are all
        zero has no entry in ``Y0`` (a canonical array stores no empty column), yet its output
        ``h(b)`` is not zero where a bias is positive. Must include every batch key of ``Y0``.
        Default: the batch keys of ``Y0``.

    Raises
    ------
    DomainMismatch
        When a float network or float inputs meet exact arithmetic (convert them explicitly).

    Examples
    --------
    >>> from symdnn import AssocArray, SparseDNN
    >>> W = AssocArray.from_triples([1, 2], [1, 1], ["1/2", "-1/3"], domain="QQ")
    >>> net = SparseDNN.from_layers([W], [{1: "1/10", 2: 1}], convention="column")
    >>> Y = AssocArray.from_triples([1], ["x"], [3], domain="QQ")
    >>> net.infer(Y).output.to_dict()
    {1: {'x': 8/5}}
    """
    dom = _arith_domain(arith)
    if engine not in ("fast", "reference"):
        raise ArgumentError(f"engine must be 'fast' or 'reference', not {engine!r}")
    _need_assoc(Y0)
    if dom.is_exact and not (net.domain.is_exact and Y0.domain.is_exact):
        raise DomainMismatch(
            f"exact inference of a {net.domain.name} network on {Y0.domain.name} inputs: "
            "convert floats explicitly with convert_to('QQ') (each becomes its dyadic value)"
        )
    Yb = _batch_view(net, Y0)
    batch = batch_keys(Yb, batch)
    if engine == "reference" or dom is SYM:
        return _infer_reference(net, Yb, batch, dom, accumulate, record, relu, arith, bounds)
    if dom is QQ:
        if chunk is not None and record:
            raise ArgumentError("record=True keeps every layer: run it without chunk=")
        return _infer_exact(net, Yb, batch, record, arith, chunk)
    return _infer_float(net, Yb, batch, dom, accumulate, record, arith)


def _infer_exact(net, Yb, batch, record, arith, chunk=None) -> InferenceResult:
    if not isinstance(Yb.domain, RationalDomain):
        Yb = Yb.convert_to(QQ)
    if not isinstance(net.domain, RationalDomain):
        raise DomainMismatch(f"the fast exact engine needs a QQ network, not {net.domain.name}")
    indptr, indices, (vals, order) = _csr_over(Yb, batch, net.inputs)
    nums, s = _as_integers(RatVec(vals.num[order], vals.den[order]))
    nums = np.asarray(nums)
    cap = None
    if net.ymax is not None:
        cap = (int(net.ymax.p), int(net.ymax.q))
    has_full = any(layer.B is not None for layer in net.layers)
    if chunk is not None and len(batch) > chunk:
        compiled = None if has_full else compile_exact(net, batch)
        parts, paths = [], []
        for lo in range(0, len(batch), chunk):
            hi = min(lo + chunk, len(batch))
            a, b = indptr[lo], indptr[hi]
            sub_batch = batch[lo:hi]
            st = EX.start(indptr[lo:hi + 1] - a, indices[a:b], nums[a:b], s,
                          (hi - lo, len(net.inputs)))
            lays = compiled if compiled is not None else compile_exact(net, sub_batch)
            for lay in lays:
                st, info = EX.step(st, lay, rule=net.bias_rule, cap=cap)
                paths.append(info.path)
            o_ptr, o_idx, o_num, o_s = EX.values_of(st)
            parts.append(_assoc(sub_batch, net.outputs, o_ptr, o_idx, _exact_vec(o_num, o_s),
                                QQ, "row"))
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        out = out if net.convention == "row" else out.T
        return InferenceResult(out, None, paths, arith, "fast", net.convention, batch)
    st = EX.start(indptr, indices, nums, s, (len(batch), len(net.inputs)))
    records, paths = [], []
    for layer, lay in zip(net.layers, compile_exact(net, batch), strict=True):
        st, info = EX.step(st, lay, rule=net.bias_rule, cap=cap, record=record)
        paths.append(info.path)
        if record:
            p_ptr, p_idx, p_num, p_s = info.pre
            pre = _assoc(batch, layer.outputs, p_ptr, p_idx, _exact_vec(p_num, p_s), QQ,
                         net.convention)
            o_ptr, o_idx, o_num, o_s = EX.values_of(st)
            post = _assoc(batch, layer.outputs, o_ptr, o_idx, _exact_vec(o_num, o_s), QQ,
                          net.convention)
            records.append(LayerRecord(pre, post, info.path))
    o_ptr, o_idx, o_num, o_s = EX.values_of(st)
    out = _assoc(batch, net.outputs, o_ptr, o_idx, _exact_vec(o_num, o_s), QQ, net.convention)
    return InferenceResult(out, records if record else None, paths, arith, "fast",
                           net.convention, batch)


def round_vec(vec: Any, src, fmt: FloatDomain) -> np.ndarray:
    """Values of a vector rounded once, correctly, into a float format."""
    if isinstance(src, FloatDomain | RationalDomain):
        return round_values(vec, fmt.format_)
    return round_values(src.to_list(vec), fmt.format_)


def compile_float(net, dom: FloatDomain,
                  batch: tuple = ()) -> list[tuple[sp.csr_matrix, np.ndarray | None]]:
    """Each layer's weights and bias rounded once into the format (row convention)."""
    out = []
    prev = net.inputs
    for layer in net.layers:
        W = layer.W if net.convention == "row" else layer.W.T
        indptr, indices, (vals, order) = _csr_over(W, prev, layer.outputs)
        wv = round_vec(net.domain.take(vals, order), net.domain, dom).astype(np.float64)
        M = sp.csr_matrix((wv, indices, indptr), shape=(len(prev), len(layer.outputs)))
        bias = None
        if layer.B is not None:
            full = _full_bias(net, layer, batch, net.domain, net.domain.convert)
            bias = round_vec(net.domain.from_list(list(full.ravel())), net.domain,
                             dom).reshape(full.shape)
        elif layer.bias:
            bv = net.domain.from_list([layer.bias.get(k, 0) for k in layer.outputs])
            bias = round_vec(bv, net.domain, dom)
        out.append((M, bias))
        prev = layer.outputs
    return out


def _infer_float(net, Yb, batch, dom, accumulate, record, arith) -> InferenceResult:
    acc = get_domain(accumulate) if accumulate else dom
    if acc.name not in ("fp32", "fp64", dom.name):
        raise ArgumentError(f"accumulate must be fp32, fp64 or the format itself ({dom.name}), "
                            f"not {acc.name}: scipy has no {acc.name} kernel")
    indptr, indices, (vals, order) = _csr_over(Yb, batch, net.inputs)
    yv = round_vec(Yb.domain.take(vals, order), Yb.domain, dom).astype(np.float64)
    Y = sp.csr_matrix((yv, indices, indptr), shape=(len(batch), len(net.inputs)))
    cap = None if net.ymax is None else float(round_exact(net.ymax, dom.format_))
    records = []
    for layer, (W, bias) in zip(net.layers, compile_float(net, dom, batch), strict=True):
        Y, pre = float_step(Y, W, bias, rule=net.bias_rule, cap=cap, dom=dom, acc=acc,
                            record=record)
        if record:
            records.append(LayerRecord(
                _assoc(batch, layer.outputs, pre[0], pre[1], pre[2].astype(dom.dtype), dom,
                       net.convention),
                _float_assoc(Y, batch, layer.outputs, dom, net.convention)))
    out = _float_assoc(Y, batch, net.outputs, dom, net.convention)
    return InferenceResult(out, records if record else None, [], arith, "fast",
                           net.convention, batch)


def _float_assoc(Y: sp.csr_matrix, batch, cols, dom, convention) -> AssocArray:
    Y = Y.tocsr()
    Y.sort_indices()
    return _assoc(batch, cols, Y.indptr, Y.indices, Y.data.astype(dom.dtype), dom, convention)


def _infer_reference(net, Yb, batch, dom, accumulate, record, relu, arith,
                     bounds=None) -> InferenceResult:
    src = net.domain
    conv = (lambda v: v) if src is dom else (
        (lambda v: round_exact(v, dom.format_)) if isinstance(dom, FloatDomain)
        else dom.convert)
    layers = []
    for layer in net.layers:
        W = layer.W if net.convention == "row" else layer.W.T
        incoming: dict = {}
        for i, o, w in W.triples():
            incoming.setdefault(o, []).append((i, conv(w)))
        bias = {k: conv(v) for k, v in layer.bias.items()}
        full = None
        if layer.B is not None:
            full = {}
            Bb = layer.B if net.convention == "row" else layer.B.T
            for b, o, v in Bb.triples():
                full.setdefault(b, {})[o] = conv(v)
        layers.append((incoming, bias, layer.outputs, full))
    yconv = (lambda v: v) if Yb.domain is dom else (
        (lambda v: round_exact(v, dom.format_)) if isinstance(dom, FloatDomain)
        else dom.convert)
    rows: dict = {}
    for b, f, v in Yb.triples():
        rows.setdefault(b, {})[f] = yconv(v)
    cap = None if net.ymax is None else conv(net.ymax)
    acc = get_domain(accumulate) if accumulate else None
    result, recs = run_reference(layers, rows, list(batch), dom, rule=net.bias_rule, cap=cap,
                                 acc=acc, relu=relu, record=record,
                                 bounds={sympy.sympify(k): (sympy.Rational(str(v[0])),
                                                            sympy.Rational(str(v[1])))
                                         for k, v in (bounds or {}).items()})
    out = _dict_assoc(result, dom, net.convention)
    records = None
    if record:
        records = [LayerRecord(_dict_assoc(pre, dom, net.convention),
                               _dict_assoc(post, dom, net.convention)) for pre, post in recs]
    return InferenceResult(out, records, [], arith, "reference", net.convention, batch)


def _dict_assoc(d: dict, dom, convention) -> AssocArray:
    rows, cols, vals = [], [], []
    for b, inner in d.items():
        for k, v in inner.items():
            rows.append(b)
            cols.append(k)
            vals.append(v)
    A = AssocArray.from_triples(rows, cols, vals, domain=dom)
    return A if convention == "row" else A.T
