"""Run exact arithmetic and any number of floating-point runs in lockstep, layer by layer,
comparing each layer as it goes (memory independent of depth).

A run is one of:

* ``Run.format("fp16", accumulate="fp32")``: symdnn's own float engine in that format;
* ``Run.int8()``: symmetric int8 quantization with per-layer scales (:mod:`symdnn.audit.quant`);
* ``Run.layer_callable(fn, fmt)``: a foreign implementation of one layer,
  ``fn(W, bias, Y) -> Y_next`` with ``W`` a scipy CSR matrix (inputs x outputs, float64 values
  of the exact weights rounded once), ``bias`` a float64 vector (0 where a neuron has none),
  ``Y`` and the result batch x neurons (scipy sparse or dense);
* ``Run.network_callable(fn, fmt)``: a foreign implementation of the whole network,
  ``fn(Y0) -> [Y_1, ..., Y_L]`` or just ``Y_L``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.audit.compare import LayerFindings, compare_layer
from symdnn.audit.quant import int8_step, quantize_weights
from symdnn.domains import FloatDomain, get_domain, round_exact, round_ratio
from symdnn.engines import exact as EX
from symdnn.engines.floating import float_step
from symdnn.errors import SymdnnError

__all__ = ["Run", "RunResult", "AuditLayer", "run_lockstep"]


@dataclass
class Run:
    """One floating-point run to audit (see the module notes for the kinds)."""

    name: str
    kind: str
    fmt: str
    accumulate: str | None = None
    fn: Callable | None = None
    source: str = "symdnn"

    @classmethod
    def format(cls, fmt: str, accumulate: str | None = None) -> Run:
        dom = get_domain(fmt)
        if not isinstance(dom, FloatDomain):
            raise SymdnnError(f"{fmt!r} is not a float format")
        acc = accumulate or fmt
        name = fmt if acc == fmt else f"{fmt}+acc_{acc}"
        return cls(name, "float", fmt, acc)

    @classmethod
    def int8(cls) -> Run:
        return cls("int8", "int8", "fp32", "int32")

    @classmethod
    def layer_callable(cls, fn: Callable, fmt: str = "fp64", name: str = "foreign") -> Run:
        return cls(name, "layer", fmt, None, fn, "foreign")

    @classmethod
    def network_callable(cls, fn: Callable, fmt: str = "fp64", name: str = "foreign") -> Run:
        return cls(name, "network", fmt, None, fn, "foreign")


@dataclass
class RunResult:
    """Findings of one run, layer by layer, and its final categories."""

    run: Run
    layers: list[LayerFindings] = field(default_factory=list)
    categories: np.ndarray | None = None
    argmax: dict | None = None
    seconds: float = 0.0


@dataclass
class AuditLayer:
    """What the runner needs of one layer: the exact integer layer and, per float format, the
    weights and bias rounded into it (``float_weights(fmt) -> (W, bias)``)."""

    exact: EX.ExactLayer
    float_weights: Callable[[str], tuple[sp.csr_matrix, np.ndarray | None]]
    neurons: tuple


def _keys(indptr: np.ndarray, indices: np.ndarray, width: int) -> np.ndarray:
    rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    return rows * width + np.asarray(indices, dtype=np.int64)


def _sorted(keys: np.ndarray, *vals: np.ndarray) -> tuple:
    if len(keys) and np.any(keys[1:] < keys[:-1]):
        o = np.argsort(keys, kind="stable")
        return (keys[o],) + tuple(v[o] for v in vals)
    return (keys,) + vals


def _argmax(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Per row, the column of the unique positive maximum, or -1 (none or a tie)."""
    R = len(indptr) - 1
    out = np.full(R, -1, dtype=np.int64)
    for r in range(R):
        a, b = indptr[r], indptr[r + 1]
        if a == b:
            continue
        vals = data[a:b]
        m = max(vals)
        hits = [k for k in range(b - a) if vals[k] == m]
        if m > 0 and len(hits) == 1:
            out[r] = indices[a + hits[0]]
    return out


def _as_csr(Y: Any, shape: tuple) -> sp.csr_matrix:
    M = sp.csr_matrix(Y, dtype=np.float64) if not sp.issparse(Y) else Y.tocsr().astype(np.float64)
    if M.shape != shape:
        raise SymdnnError(f"a foreign layer returned shape {M.shape}, expected {shape}")
    M.eliminate_zeros()
    M.sort_indices()
    return M


def _integer_input(Y0_num: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """``(indptr, indices, numerators, shape)`` of the input numerators, with the numerators
    as int64 or Python ints (never rounded): a scipy matrix of integers, or such a tuple."""
    if isinstance(Y0_num, tuple):
        indptr, indices, nums, shape = Y0_num
        return (np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64),
                np.asarray(nums), tuple(shape))
    M = Y0_num.tocsr()
    M.sort_indices()
    data = np.asarray(M.data)
    if data.dtype.kind == "f":
        if data.size and (np.any(data != np.round(data)) or np.max(np.abs(data)) > 2.0**53):
            raise SymdnnError("audit inputs must be integer numerators: a float matrix may "
                              "only hold integers below 2**53 (pass a tuple for larger ones)")
        data = data.astype(np.int64)
    return M.indptr.astype(np.int64), M.indices.astype(np.int64), data, M.shape


def run_lockstep(layers: Iterable[AuditLayer], Y0_num: Any, s0: int, runs: list[Run],
                 *, rule: str, cap: Fraction | None, batch: tuple, inputs: tuple,
                 progress: Callable[[int, int], None] | None = None,
                 total: int | None = None) -> tuple[list, list, np.ndarray, list[RunResult],
                                                    float]:
    """Run the exact network and every run together; returns ``(exact_zero, exact_pre,
    exact_categories, results, exact_seconds)``.

    ``Y0_num`` holds the input numerators over ``s0``: a scipy matrix of integers, or
    ``(indptr, indices, numerators, shape)`` with int64 or Python-int numerators. The exact
    run starts from them as they are; each float run from their correct rounding into its
    format."""
    indptr0, indices0, nums0, shape0 = _integer_input(Y0_num)
    st = EX.start(indptr0, indices0, nums0, s0, shape0)
    cap_t = None if cap is None else (cap.numerator, cap.denominator)
    results = [RunResult(r) for r in runs]
    states: list[Any] = []
    quant: dict = {}

    def rounded_input(fmt: str) -> sp.csr_matrix:
        vals = round_ratio(nums0, s0, fmt).astype(np.float64)  # one rounding per value
        return sp.csr_matrix((vals, indices0, indptr0), shape=shape0)

    y0_float = rounded_input("fp64")
    net_outputs: dict = {}
    for res in results:
        r = res.run
        if r.kind == "network":
            t = time.perf_counter()
            outs = r.fn(y0_float)
            res.seconds += time.perf_counter() - t
            net_outputs[r.name] = list(outs) if isinstance(outs, list | tuple) else [outs]
        if r.fmt != "fp64" and r.kind == "float":
            states.append(rounded_input(r.fmt))
        else:
            states.append(y0_float.copy())
    exact_zero, exact_pre = [], []
    exact_seconds = 0.0
    prev = inputs
    L = total
    for l, lay in enumerate(layers, 1):
        width = len(lay.neurons)
        t = time.perf_counter()
        st, info = EX.step(st, lay.exact, rule=rule, cap=cap_t, record=True)
        p_ptr, p_idx, p_num, p_s = info.pre
        post = EX.values_of(st)
        exact_seconds += time.perf_counter() - t
        ek, en = _sorted(_keys(p_ptr, p_idx, width), np.asarray(p_num))
        pk = _keys(post[0], post[1], width)
        e_pre, e_post = (ek, en, p_s), (pk, np.asarray(post[2]), post[3])
        exact_zero.append(int(np.count_nonzero(en == 0)))
        exact_pre.append(int(len(ek)))
        cap_f = None if cap is None else float(round_exact(cap, "fp32"))  # int8 runs
        names = (batch, lay.neurons)
        for i, res in enumerate(results):
            r = res.run
            t = time.perf_counter()
            pre = None
            if r.kind == "float":
                W, b = lay.float_weights(r.fmt)
                dom = get_domain(r.fmt)
                cap_r = None if cap is None else float(round_exact(cap, dom.format_))
                Y, pre = float_step(states[i], W, b, rule=rule, cap=cap_r, dom=dom,
                                    acc=get_domain(r.accumulate), record=True)
            elif r.kind == "int8":
                W, b = lay.float_weights("fp32")
                key = (l, "w")
                if key not in quant:
                    quant.clear()
                    quant[key] = quantize_weights(W)
                Wq, s_w = quant[key]
                Y, pre = int8_step(states[i], Wq, s_w, b, rule=rule, cap=cap_f)
            elif r.kind == "layer":
                W, b = lay.float_weights("fp64")
                bias = np.zeros(width) if b is None else np.asarray(b, dtype=np.float64)
                Y = _as_csr(r.fn(W, bias, states[i]), (states[i].shape[0], width))
            else:
                outs = net_outputs[r.name]
                if len(outs) == 1 and l != L:
                    states[i] = None
                    res.seconds += time.perf_counter() - t
                    continue
                Y = _as_csr(outs[l - 1 if len(outs) > 1 else 0], (len(batch), width))
            res.seconds += time.perf_counter() - t
            states[i] = Y
            run_pre = None
            if pre is not None:
                fk, fv = _sorted(_keys(pre[0], pre[1], width), np.asarray(pre[2]))
                run_pre = (fk, fv)
            Ys = Y.tocsr()
            Ys.sort_indices()
            run_post = (_keys(Ys.indptr, Ys.indices, width), Ys.data.astype(np.float64))
            res.layers.append(compare_layer(l, width, e_pre, e_post, run_pre, run_post, r.fmt,
                                            cap, names))
        prev = lay.neurons
        if progress:
            progress(l, L or l)
    del prev
    exact_rows = np.flatnonzero(np.diff(st.indptr))
    e_ptr, e_idx, e_num, _ = EX.values_of(st)
    e_arg = _argmax(e_ptr, e_idx, np.asarray(e_num, dtype=object))
    for i, res in enumerate(results):
        Y = states[i]
        res.categories = np.flatnonzero(np.diff(Y.indptr)) if Y is not None else None
        if Y is not None:
            Y = Y.tocsr()
            Y.sort_indices()
            f_arg = _argmax(Y.indptr, Y.indices, Y.data)
            changed = np.flatnonzero(f_arg != e_arg)
            res.argmax = {"changes": int(len(changed)),
                          "examples": [{"input": str(batch[j]),
                                        "exact": None if e_arg[j] < 0 else str(lay.neurons[
                                            e_arg[j]]),
                                        "float": None if f_arg[j] < 0 else str(lay.neurons[
                                            f_arg[j]])} for j in changed[:10]]}
    return exact_zero, exact_pre, exact_rows, results, exact_seconds
