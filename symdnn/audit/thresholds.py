"""Float thresholds against exact ones.

For a float format, the perturbation r itself must be a value of the format. For fp16, bf16
and fp8 every representable r in [0, 2] is enumerated (from the bit patterns: 16,384 values for
fp16, about 16,500 for bf16, 60-odd for fp8) and the float network decides P_d at each one; for
fp32 and fp64, which have too many, the 64 representable values on each side of every exact
threshold are checked, with 0 and 2. Each decision is compared with the exact P_d at the same
(exactly representable) r, and the float r_d read off the grid the same way as the exact one:
the largest grid value at which c is not selected, below a run of selections up to r = 2.

A float run *agrees* on a pair when its decision equals the exact decision at every grid value
checked. Agreement is judged on the grid, never by comparing r_d values: an exact threshold
that is not a value of the format (2/5, 7/10, any non-dyadic rational) cannot be a float
threshold, yet the float run decides every representable r exactly as the exact network does.
For comparison each pair also reports ``exact_grid_r_d``, the exact threshold read off the same
grid the same way (equal to ``float_r_d`` whenever the run agrees).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import flint
import numpy as np
import scipy.sparse as sp

from symdnn.analysis import analyze
from symdnn.domains import FORMATS, accumulation_format, get_domain, round_exact
from symdnn.engines import compile_float
from symdnn.engines.floating import float_step
from symdnn.errors import ArgumentError

__all__ = ["representable_grid", "threshold_audit"]


def representable_grid(fmt: str, lo: float = 0.0, hi: float = 2.0) -> np.ndarray:
    """Every value of an 8- or 16-bit format in ``[lo, hi]``, ascending, as float64.

    Examples
    --------
    >>> g = representable_grid("fp8_e4m3")
    >>> len(g), g[:3].tolist(), g[-2:].tolist()
    (65, [0.0, 0.001953125, 0.00390625], [1.875, 2.0])
    """
    dom = get_domain(fmt)
    bits = 8 * dom.dtype.itemsize
    if bits > 16:
        raise ArgumentError(f"{fmt} has too many values to enumerate")
    u = np.uint16 if bits == 16 else np.uint8
    with np.errstate(invalid="ignore"):
        v = np.arange(1 << bits, dtype=np.int64).astype(u).view(dom.dtype).astype(np.float64)
    v = np.unique(v[np.isfinite(v) & (v >= lo) & (v <= hi)])
    return v + 0.0  # -0.0 -> 0.0


def _neighbourhood(fmt: str, centres: list, k: int = 64) -> np.ndarray:
    dom = get_domain(fmt)
    out = {0.0, 2.0}
    for c in centres:
        x = dom.dtype.type(float(c))
        up, down = x, x
        out.add(float(x))
        for _ in range(k):
            up = np.nextafter(up, dom.dtype.type(3))
            down = np.nextafter(down, dom.dtype.type(-1))
            out.update(float(t) for t in (up, down) if 0 <= t <= 2)
    return np.array(sorted(out))


def _exact_mask(grid: np.ndarray, intervals: list) -> np.ndarray:
    """Which grid values (exact dyadic rationals, ascending) lie in the exact intervals, found
    by exact binary search of each interval's end points."""
    mask = np.zeros(len(grid), dtype=bool)

    def first(pred) -> int:  # first index i with pred(grid[i]) true (pred monotone)
        lo, hi = 0, len(grid)
        while lo < hi:
            mid = (lo + hi) // 2
            if pred(flint.fmpq(*float(grid[mid]).as_integer_ratio())):
                hi = mid
            else:
                lo = mid + 1
        return lo

    for iv in intervals:
        a = first(lambda r, iv=iv: r > iv.lo or (iv.lo_closed and r == iv.lo))
        b = first(lambda r, iv=iv: r > iv.hi or (not iv.hi_closed and r == iv.hi))
        mask[a:b] = True
    return mask


def _grid_r_d(grid: np.ndarray, selected: np.ndarray) -> str | None:
    """r_d read off a grid of decisions: the largest grid value at which c is not selected,
    below a run of selections up to the top (the first value when all are selected); None
    when c is not selected at the top."""
    if not len(grid) or not selected[-1]:
        return None
    nots = np.flatnonzero(~selected)
    r = grid[nots[-1]] if len(nots) else grid[0]
    return str(flint.fmpq(*float(r).as_integer_ratio()))


def _selected(out: sp.csr_matrix, want: np.ndarray) -> np.ndarray:
    """Rows whose unique positive maximum is column ``want[row]``."""
    R = out.shape[0]
    res = np.zeros(R, dtype=bool)
    counts = np.diff(out.indptr)
    rows = np.flatnonzero(counts)
    if not len(rows):
        return res
    mx = np.maximum.reduceat(out.data, out.indptr[rows])
    rr = np.repeat(np.arange(R), counts)
    at_max = out.data == mx[np.searchsorted(rows, rr)]
    n_max = np.bincount(rr[at_max], minlength=R)
    col_max = np.full(R, -1)
    col_max[rr[at_max]] = out.indices[at_max]
    ok = np.zeros(R, dtype=bool)
    ok[rows] = mx > 0
    return ok & (n_max == 1) & (col_max == want)


def threshold_audit(construction: Any, formats: list[str], *, report: Any = None,
                    accumulate: str | None = None, chunk_rows: int = 400_000) -> dict:
    """Float r_d and P_d against exact, per format; see the module notes.

    Each format accumulates as the audit's runs of it do
    (:func:`symdnn.domains.accumulation_format`: ``accumulate`` when given, the format itself
    for ``"same"``, else fp32 for the formats narrower than fp32); formats that are not float
    formats (``int8``) have no float thresholds and are left out.

    Returns ``{format: {"grid": n, "pairs": [...], "agree": k, "mismatched_points": m}}`` with,
    per pair, the exact r_d, the exact r_d read off the grid and the float r_d (exact rationals
    as strings), ``agrees`` (the float decision equals the exact one at every grid value
    checked) and the r values where the float P_d differs from the exact one (the first few,
    and their number). ``agree`` counts the pairs that agree.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> res = threshold_audit(selective(["ad", "be"], "single", ["3/10"]), ["fp16"])
    >>> p = res["fp16"]["pairs"][0]
    >>> p["exact_r_d"], p["float_r_d"], p["mismatches"]    # fp16 rounds the bias -17/10
    ('7/10', '717/1024', 1)
    >>> p["exact_grid_r_d"], p["agrees"]      # exactly, 717/1024 > 7/10 is selected
    ('1433/2048', False)
    """
    net = construction.net
    if report is None:
        report = analyze(construction, verify=False)
    fsets = construction.feature_sets()
    fpos = {k: i for i, k in enumerate(net.inputs)}
    cpos = {k: i for i, k in enumerate(net.outputs)}
    out: dict = {}
    for fmt in formats:
        if fmt not in FORMATS:  # int8 and other non-float runs have no float thresholds
            continue
        dom = get_domain(fmt)
        acc = get_domain(accumulation_format(fmt, accumulate))
        layers = compile_float(net, dom)
        # the cap as the audit's runs hold it: rounded once from its exact value
        cap = None if net.ymax is None else float(round_exact(
            Fraction(int(net.ymax.p), int(net.ymax.q)), fmt))
        if dom.dtype.itemsize <= 2:
            grid_all = representable_grid(fmt)
        else:
            grid_all = None
        pairs_out, agree, mismatched = [], 0, 0
        per_chunk = max(1, chunk_rows // (len(grid_all) if grid_all is not None else 200))
        for start in range(0, len(report.pairs), per_chunk):
            block = report.pairs[start:start + per_chunk]
            grids = [grid_all if grid_all is not None else _neighbourhood(
                fmt, [p.r_d] if p.r_d is not None else []) for p in block]
            rows, cols, vals, want = [], [], [], []
            base = 0
            for p, g in zip(block, grids, strict=True):
                feats = [fpos[f] for f in fsets[p.category]]
                fi = fpos[p.feature]
                n = len(g)
                for f in feats:
                    rows.append(base + np.arange(n))
                    cols.append(np.full(n, f))
                    vals.append(g if f == fi else np.ones(n))
                want.append(np.full(n, cpos[p.category]))
                base += n
            Y = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                      np.concatenate(cols))),
                              shape=(base, len(net.inputs)))
            for W, b in layers:
                Y, _ = float_step(Y, W, b, rule=net.bias_rule, cap=cap, dom=dom, acc=acc)
            Y = Y.tocsr()
            Y.sort_indices()
            sel = _selected(Y, np.concatenate(want))
            base = 0
            for p, g in zip(block, grids, strict=True):
                s = sel[base:base + len(g)]
                base += len(g)
                exact = _exact_mask(g, p.detect)
                diff = np.flatnonzero(s != exact)
                e_rd = None if p.r_d is None else str(p.r_d)
                agrees = not len(diff)
                agree += agrees
                mismatched += len(diff)
                pairs_out.append({"category": str(p.category), "feature": str(p.feature),
                                  "exact_r_d": e_rd, "exact_grid_r_d": _grid_r_d(g, exact),
                                  "float_r_d": _grid_r_d(g, s), "agrees": agrees,
                                  "mismatches": int(len(diff)),
                                  "first_mismatches": [repr(float(g[i])) for i in diff[:5]]})
        out[fmt] = {"grid": None if grid_all is None else int(len(grid_all)),
                    "grid_kind": "every representable r in [0, 2]" if grid_all is not None
                    else "64 values on each side of each exact threshold, with 0 and 2",
                    "accumulate": acc.name, "pairs": pairs_out, "agree": int(agree),
                    "mismatched_points": int(mismatched)}
    return out
