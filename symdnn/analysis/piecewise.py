"""Exact piecewise-linear evaluation of a network in one perturbed input.

For each start, one input feature takes the value ``r`` and ``r`` runs over ``[r_lo, r_hi]``
(default [0, 2]). Every neuron's value is then piecewise linear in r, with breakpoints where a
pre-activation crosses 0 (the ReLU) or the cap. All starts are evaluated together: a *column*
is one start on one interval of r, holding every neuron's value as ``(A + B r) / s`` with integer
``A``, ``B`` and one common denominator ``s``. A layer multiplies all columns at once
(expand-sort-reduce over the sparse weights, int64 while an exact bound allows, Python integers
beyond), finds the breakpoints strictly inside each column's interval, splits the column there,
and decides each ReLU and cap at the middle of every piece, where no pre-activation changes
sign. Values are continuous in r, so each piece's formula is exact on its closed interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import flint
import numpy as np

from symdnn import intmm
from symdnn.assoc import AssocArray
from symdnn.domains import QQ
from symdnn.domains.rational import as_object, compact, mul
from symdnn.engines import compile_exact, exact_numerators
from symdnn.errors import ArgumentError, KeyMismatch, SymdnnError
from symdnn.network import SparseDNN

__all__ = ["Interval", "Piece", "Breakpoint", "Trace", "piecewise", "merge"]


@dataclass(frozen=True)
class Interval:
    """An interval of r with exact end points, each open or closed."""

    lo: flint.fmpq
    hi: flint.fmpq
    lo_closed: bool = True
    hi_closed: bool = True

    def __str__(self) -> str:
        return (f"{'[' if self.lo_closed else '('}{self.lo}, {self.hi}"
                f"{']' if self.hi_closed else ')'}")

    def __contains__(self, r: Any) -> bool:
        r = QQ.convert(r)
        above = r > self.lo or (self.lo_closed and r == self.lo)
        below = r < self.hi or (self.hi_closed and r == self.hi)
        return above and below

    def length(self) -> flint.fmpq:
        return self.hi - self.lo


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted union of intervals, touching ones joined when the shared point belongs to one.

    Examples
    --------
    >>> import flint
    >>> q = flint.fmpq
    >>> [str(i) for i in merge([Interval(q(1), q(2), False, True), Interval(q(0), q(1))])]
    ['[0, 2]']
    """
    out: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: (i.lo, not i.lo_closed)):
        if out:
            last = out[-1]
            touches = iv.lo < last.hi or (iv.lo == last.hi and (last.hi_closed or iv.lo_closed))
            if touches:
                if iv.hi > last.hi or (iv.hi == last.hi and iv.hi_closed):
                    out[-1] = Interval(last.lo, iv.hi, last.lo_closed, iv.hi_closed)
                continue
        out.append(iv)
    return out


@dataclass
class Piece:
    """On ``[lo, hi]`` every output is ``a + b r``: ``outputs = {category: (a, b)}``
    (categories not listed are 0)."""

    lo: flint.fmpq
    hi: flint.fmpq
    outputs: dict


@dataclass(frozen=True)
class Breakpoint:
    """Neuron ``key`` of layer ``layer`` (1-based: the output of weight layer l - 1) crosses 0
    (``kind="relu"``) or the cap (``"cap"``) at ``r``."""

    layer: int
    key: Any
    r: flint.fmpq
    kind: str


@dataclass
class Trace:
    """The piecewise evaluation of one start: its pieces, in order, and its breakpoints."""

    pieces: list[Piece] = field(default_factory=list)
    breakpoints: list[Breakpoint] = field(default_factory=list)


def _frac(p: Any, q: Any) -> flint.fmpq:
    return flint.fmpq(int(p), int(q))


def _q(x: Any) -> flint.fmpq:
    return QQ.convert(x)


def _spread(indptr: np.ndarray, src_cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry indices copying the entries of the source columns, and the new indptr."""
    counts = np.diff(indptr)[src_cols]
    new_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    starts = np.repeat(indptr[src_cols], counts)
    offs = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(new_ptr[:-1], counts)
    return starts + offs, new_ptr


def piecewise(net: SparseDNN, base: AssocArray, features: list, *, r_lo: Any = 0,
              r_hi: Any = 2) -> list[Trace]:
    """Evaluate the network exactly as a piecewise-linear function of r, for many starts.

    Parameters
    ----------
    net : SparseDNN
        An exact (QQ) network in the column convention with bias rule ``"all"``.
    base : AssocArray
        Features x starts: each column is an input.
    features : list
        For each column of ``base`` (in key order), the feature that takes the value r.

    Returns
    -------
    list of Trace, one per column of ``base``.

    Raises
    ------
    SymdnnError
        For a network with the bias rule ``"nonzero"`` (its bias switches off where the
        product crosses zero, so the network is not continuous in r) or not in QQ.
    ArgumentError
        When ``features`` does not give one feature per column of ``base``.
    KeyMismatch
        When a feature is not an input of the network.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", [0])
    >>> (t,) = piecewise(c.net, c.inputs.sub(slice(None), ["ad"]), ["1a"])
    >>> [(str(p.lo), str(p.hi), {k: (str(a), str(b)) for k, (a, b) in p.outputs.items()})
    ...  for p in t.pieces]
    [('0', '1', {}), ('1', '2', {'ad': ('-1', '1')})]
    """
    if net.bias_rule != "all":
        raise SymdnnError("the piecewise analysis needs the bias rule 'all'")
    if net.domain.name != "QQ":
        raise SymdnnError(f"the piecewise analysis needs a QQ network, not {net.domain.name}")
    starts = base.col()
    if len(features) != len(starts):
        raise ArgumentError(f"{len(starts)} inputs but {len(features)} perturbed features")
    fpos = {k: i for i, k in enumerate(net.inputs)}
    Yb = base.T
    (indptr, indices, nums, _), s = exact_numerators(Yb, starts, net.inputs)
    A = compact(np.asarray(nums, dtype=object).copy())
    B = np.zeros(len(A), dtype=np.int64)
    # the perturbed feature: value r = 0 + 1 r (over s: B = s)
    A = as_object(A)
    B = as_object(B)
    rows = np.repeat(np.arange(len(starts)), np.diff(indptr))
    f_idx = np.array([fpos.get(f, -1) for f in features], dtype=np.int64)
    if (f_idx < 0).any():
        bad = features[int(np.flatnonzero(f_idx < 0)[0])]
        raise KeyMismatch(f"feature {bad!r} is not an input of the network")
    hit = indices == f_idx[rows]
    A[hit] = 0
    B[hit] = s
    missing = np.setdiff1d(np.arange(len(starts)), rows[hit])
    if len(missing):  # the perturbed feature was absent from the base input: add it
        add_rows = np.concatenate([rows, missing])
        add_cols = np.concatenate([indices, f_idx[missing]])
        A = np.concatenate([A, np.zeros(len(missing), dtype=object)])
        B = np.concatenate([B, np.full(len(missing), s, dtype=object)])
        o = np.lexsort((add_cols, add_rows))
        rows, indices, A, B = add_rows[o], add_cols[o], A[o], B[o]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(starts)))])
    lo = [_q(r_lo)] * len(starts)
    hi = [_q(r_hi)] * len(starts)
    owner = np.arange(len(starts))
    traces = [Trace() for _ in starts]
    cap = None if net.ymax is None else _q(net.ymax)
    for lnum, (layer, lay) in enumerate(zip(net.layers, compile_exact(net), strict=True)):
        out_keys = layer.outputs
        n_out = len(out_keys)
        s_new = math.lcm(s * lay.dW, lay.db, int(cap.q) if cap is not None else 1)
        f1, f2 = s_new // (s * lay.dW), s_new // lay.db
        ncol = len(owner)
        active = np.flatnonzero(np.diff(indptr))
        r_, c_, ia, ib = intmm.expand_products(indptr.astype(np.int64), indices.astype(np.int64),
                                               lay.NW.indptr.astype(np.int64),
                                               lay.NW.indices.astype(np.int64), active)
        w = lay.NW.data[ib]
        tA = mul(A[ia], w)
        tB = mul(B[ia], w)
        lin = r_.astype(np.int64) * n_out + c_
        o = np.argsort(lin, kind="stable")
        lin = lin[o]
        if len(lin):
            first = np.flatnonzero(np.r_[True, lin[1:] != lin[:-1]])
            PA = np.add.reduceat(as_object(tA[o]), first)
            PB = np.add.reduceat(as_object(tB[o]), first)
            lin = lin[first]
        else:
            PA = PB = np.zeros(0, dtype=object)
        nz = (PA != 0) | (PB != 0)
        lin, PA, PB = lin[nz], PA[nz] * f1, PB[nz] * f1
        if lay.nb is not None:
            nb = lay.bias(f2)
            PA = PA + nb[lin % n_out]
            pos = np.flatnonzero(nb > 0)
            if len(pos):  # neurons that fire on their bias alone, in every column
                extra = (np.arange(ncol)[:, None] * n_out + pos[None, :]).ravel()
                extra = np.setdiff1d(extra, lin)
                lin = np.concatenate([lin, extra])
                PA = np.concatenate([PA, nb[extra % n_out]])
                PB = np.concatenate([PB, np.zeros(len(extra), dtype=object)])
                o = np.argsort(lin, kind="stable")
                lin, PA, PB = lin[o], PA[o], PB[o]
        col = lin // n_out
        neuron = lin % n_out
        C = None if cap is None else int(cap * s_new)
        # breakpoints strictly inside each column's interval
        roots: dict = {}
        sloped = np.flatnonzero(PB != 0)
        for e in sloped:
            j = int(col[e])
            for target, kind in ((0, "relu"), (C, "cap")):
                if target is None:
                    continue
                rr = flint.fmpq(int(target) - int(PA[e]), int(PB[e]))
                if lo[j] < rr < hi[j]:
                    roots.setdefault(j, set()).add(rr)
                    traces[owner[j]].breakpoints.append(
                        Breakpoint(lnum + 1, out_keys[int(neuron[e])], rr, kind))
        # split columns at their roots
        new_owner, new_lo, new_hi, src = [], [], [], []
        for j in range(ncol):
            cuts = [lo[j]] + sorted(roots.get(j, ())) + [hi[j]]
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                new_owner.append(owner[j])
                new_lo.append(a)
                new_hi.append(b)
                src.append(j)
        src = np.array(src, dtype=np.int64)
        col_ptr = np.concatenate([[0], np.cumsum(np.bincount(col, minlength=ncol))])
        take, new_ptr = _spread(col_ptr.astype(np.int64), src)
        PA, PB, neuron = PA[take], PB[take], neuron[take]
        new_col = np.repeat(np.arange(len(src)), np.diff(new_ptr))
        mid = [(a + b) / 2 for a, b in zip(new_lo, new_hi, strict=True)]
        mp = np.array([int(m.p) for m in mid], dtype=object)[new_col]
        mq = np.array([int(m.q) for m in mid], dtype=object)[new_col]
        v = PA * mq + PB * mp
        keep = v > 0
        if C is not None:
            over = keep & (v > C * mq)
            PA = np.where(over, C, PA)
            PB = np.where(over, 0, PB)
        keep = np.asarray(keep, dtype=bool)
        PA, PB, neuron, new_col = PA[keep], PB[keep], neuron[keep], new_col[keep]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(new_col, minlength=len(src)))])
        indices = neuron.astype(np.int64)
        A, B = as_object(PA), as_object(PB)
        owner = np.array(new_owner, dtype=np.int64)
        lo, hi = new_lo, new_hi
        s = s_new
        if len(A):  # divide out a common factor
            g = math.gcd(s, *(int(x) for x in np.unique(np.concatenate([A, B]))))
            if g > 1:
                A, B, s = A // g, B // g, s // g
    outs = net.outputs
    for j in range(len(owner)):
        a, b = indptr[j], indptr[j + 1]
        outputs = {outs[int(indices[e])]: (_frac(A[e], s), _frac(B[e], s)) for e in range(a, b)}
        traces[owner[j]].pieces.append(Piece(lo[j], hi[j], outputs))
    for t in traces:
        t.pieces.sort(key=lambda p: p.lo)
    return traces
