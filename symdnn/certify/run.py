"""The certificate of a whole network: the exact run once, every format's bounds carried
alongside it layer by layer, and the final decisions (category and argmax) of every input."""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.certify.bounds import Arith, add_up, floor_pos, ratio_bounds
from symdnn.certify.layer import (
    BoundCache,
    exact_view,
    format_weights,
    input_error,
    layer_pattern,
    same_weights,
)
from symdnn.certify.phases import certify_layer
from symdnn.certify.report import Certificate, FormatCertificate, LayerMargin
from symdnn.domains.floats import round_ratio
from symdnn.engines import exact as EX
from symdnn.engines.stream import LayerStream

__all__ = ["run_certificate"]


def _input_error(nums: np.ndarray, indptr: np.ndarray, indices: np.ndarray, s: int,
                 shape: tuple, ar: Arith) -> sp.csr_matrix:
    """The error of every input rounded into the format, upward (only the nonzero ones)."""
    with np.errstate(over="ignore"):
        rounded = np.asarray(round_ratio(nums, s, ar.fmt), dtype=np.float64)
    err = input_error(nums, s, rounded)
    rows = np.repeat(np.arange(shape[0]), np.diff(indptr))
    keep = err > 0
    ptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=shape[0]), out=ptr[1:])
    return sp.csr_matrix((floor_pos(err[keep]), np.asarray(indices)[keep], ptr), shape=shape)


def _margins(ex: Any) -> LayerMargin:
    """The smallest exact margin of the layer's decisions (format independent) and where:
    the numerators of the :class:`~symdnn.certify.layer.ExactView`'s margins, int64 or
    Python ints of any size (a cap or a bias scaled to the layer's denominator may pass
    int64 where the pre-activations do not)."""
    best: list = []
    n_out = ex.shape[1]
    if len(ex.P):
        for kind, m, where in (("relu", ex.relu_m, None), ("cap", ex.cap_m, ex.pos),
                               ("bias_rule", ex.bias_m, None)):
            if not m:
                continue
            num = m[1] if where is None else m[1][where]
            keys = ex.keys if where is None else ex.keys[where]
            if len(num):
                i = int(np.argmin(num))
                best.append((int(num[i]), int(keys[i]), kind))
    if not best:
        return LayerMargin(ex.layer, None, None, None, None, len(ex.P))
    num, key, kind = min(best, key=lambda t: (t[0], ("relu", "cap", "bias_rule").index(t[2])))
    return LayerMargin(ex.layer, Fraction(num, ex.s), key // n_out, key % n_out, kind,
                       len(ex.P))


def _row_max(v: np.ndarray, where: np.ndarray, rows: np.ndarray, R: int) -> np.ndarray:
    """The largest ``v`` of each row among the positions ``where`` (0 for none; ``v`` is
    nonnegative there), for positions sorted by row: int64, or Python ints of any size."""
    if v.dtype != object:
        out = np.zeros(R, dtype=np.int64)
        w = np.flatnonzero(where)
        if len(w):
            r = rows[w]
            starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
            out[r[starts]] = np.maximum.reduceat(v[w], starts)
        return out
    out = np.zeros(R, dtype=object)
    for r, x in zip(rows[where].tolist(), v[where].tolist(), strict=True):
        out[r] = max(out[r], int(x))
    return out


def _final(st: Any, e: sp.csr_matrix) -> dict:
    """The category (some output nonzero) and argmax decisions of every input, with the
    error bound ``e`` of the outputs: which are certified, and the exact margins."""
    ptr, idx, num, s = EX.values_of(st)
    R, width = st.shape
    num = np.asarray(num)
    ek = np.repeat(np.arange(R, dtype=np.int64), np.diff(ptr)) * width + idx
    E = e.tocsr()
    E.sort_indices()
    fk = np.repeat(np.arange(R, dtype=np.int64), np.diff(E.indptr)) * width + E.indices
    U = np.union1d(ek, fk)
    rows = U // width
    v = np.zeros(len(U), dtype=num.dtype if num.dtype == object else np.int64)
    v[np.searchsorted(U, ek)] = num
    err = np.zeros(len(U))
    err[np.searchsorted(U, fk)] = E.data
    lo, hi = ratio_bounds(v, s)
    pos = v > 0 if v.dtype != object else np.array([int(x) > 0 for x in v], dtype=bool)
    exact_rows = np.zeros(R, dtype=bool)
    exact_rows[rows[pos]] = True
    cat_ok = np.ones(R, dtype=bool)
    sure = np.zeros(R, dtype=bool)
    np.logical_or.at(sure, rows, pos & (lo > err))
    loose = np.zeros(R, dtype=bool)
    np.logical_or.at(loose, rows, err > 0)
    cat_ok = np.where(exact_rows, sure, ~loose)
    # argmax among the inputs with a nonzero exact output
    arg_ok = np.ones(R, dtype=bool)
    top = _row_max(v, pos, rows, R)  # the largest exact output of each row (0 if none)
    is_top = pos & np.asarray(v == top[rows], dtype=bool)
    lo_top = np.full(R, np.inf)
    np.minimum.at(lo_top, rows[is_top], np.nextafter(lo[is_top] - err[is_top], -np.inf))
    n_top = np.bincount(rows[is_top], minlength=R)
    err_top = np.zeros(R)
    np.maximum.at(err_top, rows[is_top], err[is_top])
    hi_other = np.zeros(R)
    np.maximum.at(hi_other, rows[~is_top], add_up(np.maximum(hi[~is_top], 0.0),
                                                  err[~is_top]))
    arg_ok = ~exact_rows | ((hi_other < lo_top) & ((n_top == 1) | (err_top == 0)))
    second = _row_max(v, pos & ~is_top, rows, R)
    # the gap between the largest and the second largest output: 0 for a tie at the top
    gaps = [(Fraction(int(top[r]) - int(second[r]), s) if n_top[r] == 1 else Fraction(0))
            if exact_rows[r] else None for r in range(R)]
    err_row = np.zeros(R)
    np.maximum.at(err_row, rows, err)
    cat_margin = [Fraction(int(top[r]), s) if exact_rows[r] else Fraction(0) for r in range(R)]
    return {"category_ok": cat_ok, "argmax_ok": arg_ok, "gap": gaps, "top": cat_margin,
            "nonzero": exact_rows, "error": err_row}


def run_certificate(stream: LayerStream, ariths: list[Arith], *,
                    progress: Callable[[int, int], None] | None = None, examples: int = 10,
                    detail: bool = False) -> Certificate:
    """Certify every arithmetic in ``ariths`` on the network and inputs of ``stream``, layer
    by layer (the exact run once, every format's bounds carried alongside it)."""
    t0 = time.perf_counter()
    indptr0, indices0, nums0, shape0 = stream.inputs
    s0, rule, cap, batch = stream.scale, stream.rule, stream.cap, stream.batch
    total = stream.depth
    st = EX.start(indptr0, indices0, nums0, s0, shape0)
    cap_t = stream.cap_pair
    errs = [_input_error(nums0, indptr0, indices0, s0, shape0, ar) for ar in ariths]
    fcs = [FormatCertificate(ar) for ar in ariths]
    margins: list[LayerMargin] = []
    t_exact = 0.0
    neurons: tuple = ()
    names: list[tuple] = []
    cache = BoundCache()  # this run's memory of gamma_n and biases, across layers
    for l, lay in enumerate(stream.layers(), 1):
        t = time.perf_counter()
        prev = st
        st, rec = EX.step(st, lay.exact, rule=rule, cap=cap_t, record=True)
        t_exact += time.perf_counter() - t
        ex = exact_view(l, prev, rec, lay.exact, rule, cap_t)
        margins.append(_margins(ex))
        neurons = lay.neurons
        names.append(lay.neurons)
        held: list = []  # (What, FormatWeights) of the formats done in this layer
        for ar in ariths:
            W, b = lay.float_weights(ar.fmt.name)
            cap_f = stream.cap_in(ar.fmt.name)
            like = next((f for Wp, f in held if same_weights(Wp, W)), None)
            held.append((W, format_weights(lay.exact, W, b, ar, cap, cap_f, like=like,
                                           cache=cache)))
        fws = [f for _, f in held]
        pat = layer_pattern(ex, fws, errs)
        for i, ar in enumerate(ariths):
            errs[i], verdict = certify_layer(ex, fws[i], pat, i, ar, examples=examples,
                                             detail=detail, cache=cache)
            fcs[i].layers.append(verdict)
            if verdict.zero_margin is not None:
                m = margins[-1]
                if m.value is None or m.value > 0:
                    key = verdict.zero_margin
                    margins[-1] = LayerMargin(l, Fraction(0), key // ex.shape[1],
                                              key % ex.shape[1], "bias_rule", m.decisions)
        if progress:
            progress(l, total or l)
    for i, fc in enumerate(fcs):
        fc.final = _final(st, errs[i])
    seconds = {"total": time.perf_counter() - t0, "exact": t_exact}
    cert = Certificate(dict(stream.info), margins, fcs, batch, neurons, seconds)
    cert.neuron_names = names
    return cert
