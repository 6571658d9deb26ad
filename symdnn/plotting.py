"""Figures: labeled spy plots of weight arrays (the paper's Figs. 3-8), layered drawings of
networks, and the plots of results (threshold curves, audit findings). matplotlib is imported
only when a figure is made, with the Agg backend; the file type follows the extension
(``.png``, ``.svg``, ``.pdf``). Nothing else in symdnn imports this module."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from symdnn.analysis import reached, support
from symdnn.assoc.printing import format_key
from symdnn.audit.report import ulp_bin_labels
from symdnn.errors import OutputError
from symdnn.io.outputs import output_file_path
from symdnn.witness.rules import TOLERANCE
from symdnn.witness.summary import _COLORS, LABELS, classify

__all__ = ["spy", "draw_network", "draw_subdnn", "plot_thresholds", "plot_audit",
           "plot_margins", "plot_certificate"]

#: arrays with at most this many row and column keys get every key on the axes
LABEL_LIMIT = 60


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def save_figure(fig: Any, path: Any) -> None:
    """Save a figure atomically (a temporary sibling renamed on success, so a failed or
    interrupted write leaves the old file, or none), in a format matplotlib writes."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in PLOT_SUFFIXES:
        raise OutputError(f"{os.fspath(path)!r}: a figure's file name must end in "
                          f"{', '.join(PLOT_SUFFIXES)}")
    with output_file_path(path) as tmp:
        fig.savefig(tmp)


def _text(key: Any) -> str:
    return format_key(key)


def spy(A: Any, path: str | os.PathLike, *, title: str | None = None,
        max_labels: int = LABEL_LIMIT) -> None:
    """A spy plot of an associative array, written to ``path``.

    Small arrays (at most ``max_labels`` keys per axis) show every entry as a square with the
    row and column keys on the axes, like the paper's figures; larger ones show the density of
    entries on a grid.

    Examples
    --------
    >>> import tempfile, os
    >>> from symdnn.constructions import selective
    >>> W0 = selective(["ad", "ah", "be"]).net.layers[0].W
    >>> p = os.path.join(tempfile.mkdtemp(), "w0.svg")
    >>> spy(W0, p, title="W0")
    >>> os.path.getsize(p) > 0
    True
    """
    plt = _pyplot()
    nr, nc = A.shape
    rows, cols = A.row(), A.col()
    store = A._store()
    ri, ci = store.row_index(), store.indices
    small = nr <= max_labels and nc <= max_labels
    fig_w = min(14, 2 + 0.22 * nc) if small else 8
    fig_h = min(14, 1.5 + 0.22 * nr) if small else 8
    fig, ax = plt.subplots(figsize=(max(fig_w, 3), max(fig_h, 2.5)))
    if small:
        ax.scatter(ci, ri, marker="s", s=60, c="black")
        ax.set_xticks(range(nc))
        ax.set_xticklabels([_text(k) for k in cols], rotation=90, fontsize=7)
        ax.set_yticks(range(nr))
        ax.set_yticklabels([_text(k) for k in rows], fontsize=7)
        ax.set_xlim(-0.5, nc - 0.5)
        ax.set_ylim(nr - 0.5, -0.5)
        ax.xaxis.tick_top()
        ax.grid(True, color="0.9", linewidth=0.5)
        ax.set_axisbelow(True)
    else:
        bins = (min(nr, 200), min(nc, 200))
        H, _, _ = np.histogram2d(ri, ci, bins=bins, range=[[0, nr], [0, nc]])
        im = ax.imshow(H, aspect="auto", cmap="Greys", interpolation="nearest",
                       extent=(0, nc, nr, 0))
        fig.colorbar(im, ax=ax, label="entries per cell")
        ax.set_xlabel(f"{nc} column keys ({_text(cols[0])} ... {_text(cols[-1])})")
        ax.set_ylabel(f"{nr} row keys ({_text(rows[0])} ... {_text(rows[-1])})")
    ax.set_title(title or f"{nr} x {nc}, {A.nnz} entries", pad=30 if small else 6)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def draw_network(net: Any, path: str | os.PathLike, *, title: str | None = None,
                 max_neurons: int = 60) -> None:
    """A layered drawing: inputs on the left, one column of neurons per layer, an edge per
    weight (blue positive, red negative). Layers wider than ``max_neurons`` are drawn as a
    box with their neuron and edge counts.

    Examples
    --------
    >>> import tempfile, os
    >>> from symdnn.constructions import selective
    >>> p = os.path.join(tempfile.mkdtemp(), "net.png")
    >>> draw_network(selective(["abcd", "abce"], "chain").net, p)
    >>> os.path.getsize(p) > 0
    True
    """
    plt = _pyplot()
    columns = [net.inputs] + [ly.outputs for ly in net.layers]
    L = len(columns)
    fig, ax = plt.subplots(figsize=(2.2 * L + 1, 7))
    pos: dict = {}
    for x, keys in enumerate(columns):
        if len(keys) > max_neurons:
            ax.add_patch(plt.Rectangle((x - 0.15, 0.05), 0.3, 0.9, fill=False))
            ax.text(x, 0.5, f"{len(keys)}\nneurons", ha="center", va="center", fontsize=8)
            continue
        for i, k in enumerate(keys):
            y = 1 - (i + 0.5) / len(keys)
            pos[(x, k)] = y
            ax.plot([x], [y], "o", color="black", markersize=4)
            if len(keys) <= 40:
                ax.text(x + (0.06 if x == L - 1 else -0.06), y, _text(k), fontsize=6,
                        ha="left" if x == L - 1 else "right", va="center")
    for lnum, layer in enumerate(net.layers):
        W = layer.W if net.convention == "column" else layer.W.T
        drawn = 0
        for o, i, v in W.triples():
            a, b = pos.get((lnum, i)), pos.get((lnum + 1, o))
            if a is None or b is None:
                continue
            ax.plot([lnum, lnum + 1], [a, b], color="tab:blue" if v > 0 else "tab:red",
                    linewidth=0.5, alpha=0.6)
            drawn += 1
        if drawn == 0:
            ax.text(lnum + 0.5, 0.02, f"{W.nnz} edges", ha="center", fontsize=7)
    ax.set_xticks(range(L))
    ax.set_xticklabels(["inputs"] + [f"layer {l}" for l in range(1, L)])
    ax.set_yticks([])
    ax.set_xlim(-0.8, L - 0.2)
    ax.set_ylim(0, 1)
    ax.set_title(title or f"{net.depth} layers")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def draw_subdnn(net: Any, category: Any, feature: Any, path: str | os.PathLike, *,
                title: str | None = None) -> None:
    """The paper's Fig. 9: the sub-DNN supporting ``category`` in black and the part of it that
    ``feature`` reaches in dashed red; other neurons are left out.

    Examples
    --------
    >>> import tempfile, os
    >>> from symdnn.constructions import selective
    >>> p = os.path.join(tempfile.mkdtemp(), "fig9.png")
    >>> draw_subdnn(selective(["cat", "car", "dog"], "chain").net, "cat", "1c", p)
    >>> os.path.getsize(p) > 0
    True
    """
    plt = _pyplot()
    sub = support(net, category)
    hit = reached(sub, feature)
    L = net.depth
    fig, ax = plt.subplots(figsize=(2.2 * (L + 1) + 1, 5))
    pos = {}
    for l in range(L + 1):
        nodes = sorted((n for n in sub.nodes if n[0] == l), key=lambda n: repr(n[1]))
        for i, n in enumerate(nodes):
            pos[n] = (l, 1 - (i + 0.5) / len(nodes))
    for u, v in sub.graph.edges():
        red = u in hit and v in hit
        (x0, y0), (x1, y1) = pos[u], pos[v]
        ax.plot([x0, x1], [y0, y1], color="tab:red" if red else "black",
                linestyle="--" if red else "-", linewidth=1.2 if red else 0.8)
    for n, (x, y) in pos.items():
        ax.plot([x], [y], "o", color="tab:red" if n in hit else "black", markersize=5)
        ax.text(x, y + 0.03, _text(n[1]), ha="center", fontsize=7)
    ax.set_xticks(range(L + 1))
    ax.set_xticklabels(["inputs"] + [f"layer {l}" for l in range(1, L + 1)])
    ax.set_yticks([])
    ax.set_xlim(-0.5, L + 0.5)
    ax.set_title(title or f"sub-DNN of {category!r}; in red, what {feature!r} reaches")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_thresholds(report: Any, path: str | os.PathLike, *, title: str | None = None) -> None:
    """P_d(r) in blue and P_fa(r) in red, averaged over the pairs of a
    :class:`~symdnn.analysis.ThresholdReport` (the paper's Fig. 10).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from symdnn.analysis import analyze
    >>> from symdnn.constructions import selective
    >>> report = analyze(selective(["able", "acid", "aged"], "pairs", ["4/5", 1]))
    >>> out = Path(tempfile.mkdtemp()) / "fig10.png"
    >>> plot_thresholds(report, out)
    >>> out.read_bytes()[1:4]
    b'PNG'
    """
    plt = _pyplot()
    xs, pd, pfa = report.curves()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    xf = [float(x) for x in xs]
    for vals, style in ((pd, dict(color="tab:blue", linewidth=3, label="$P_d(r)$")),
                        (pfa, dict(color="tab:red", linewidth=1.5, linestyle="--",
                                   label="$P_{fa}(r)$"))):
        ax.step(xf, list(vals) + [vals[-1]], where="post", **style)
    ax.set_xlim(0, 2)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("r")
    ax.set_ylabel("probability")
    ax.legend(loc="center right")
    ax.set_title(title or (f"betas {', '.join(map(str, report.betas))}"
                           if report.has_closed_form else "explicit biases")
                 + ("" if report.exact else "  (NOT exact)"))
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def _count_axis(ax, top: float, empty: str) -> None:
    """A count axis from 0 (never negative) to above the largest count (never clipped),
    logarithmic beyond 1; ``empty`` is written across an axis with nothing to show."""
    ax.set_yscale("symlog", linthresh=1)
    ax.set_ylim(0, max(2.0, 2.0 * top))
    if top == 0:
        ax.text(0.5, 0.5, empty, transform=ax.transAxes, ha="center", va="center",
                fontsize=11, color="dimgray")


def plot_audit(report: Any, folder: str) -> list[str]:
    """``findings_per_layer.png`` and ``ulp_histogram.png`` of an
    :class:`~symdnn.audit.AuditReport` in ``folder``; their paths.

    Pass it to :meth:`AuditReport.write <symdnn.audit.AuditReport.write>` as ``figures`` to
    put the plots in the report folder (as ``symdnn audit --report`` does)."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator


    os.makedirs(folder, exist_ok=True)
    paths = []
    fig, ax = plt.subplots(figsize=(8, 4))
    L = len(report.exact_zero)
    x = np.arange(1, L + 1)
    ax.plot(x, report.exact_zero, color="black", marker="o", ms=3, label="exact zeros")
    top = max(report.exact_zero, default=0)
    for res in report.runs:
        js = report.run_json(res)
        for kind, style in (("zero_to_pos", "-"), ("sign_flip", "--")):
            vals = js[kind]
            known = [v for v in vals if v is not None]
            if known:  # layers a foreign run did not provide are gaps
                ys = np.array([np.nan if v is None else v for v in vals], dtype=float)
                ax.plot(x[:len(vals)], ys, style, marker="o", ms=3,
                        label=f"{res.run.name} {kind}")
                top = max(top, max(known))
    last = max([i + 1 for res in report.runs for ly in res.layers
                for i in [ly.layer - 1] if any(v for k, v in ly.counts.items()
                                               if k not in ("exact_pre",) and v)] +
               [i + 1 for i, z in enumerate(report.exact_zero) if z], default=L)
    ax.set_xlim(0.5, min(L, last + 5) + 0.5)
    ax.set_xlabel(f"layer (no findings after layer {last})" if last < L else "layer")
    ax.set_ylabel("count")
    _count_axis(ax, top, "no findings: every decision as in exact arithmetic")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if top:
        ax.legend(fontsize=7, ncol=2)
    ax.set_title("findings per layer")
    fig.tight_layout()
    p = os.path.join(folder, "findings_per_layer.png")
    save_figure(fig, p)
    plt.close(fig)
    paths.append(p)
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = ulp_bin_labels()
    w = 0.8 / max(len(report.runs), 1)
    top = 0
    for i, res in enumerate(report.runs):
        hist = report.run_json(res)["ulp_histogram"]
        if hist:
            ax.bar(np.arange(len(labels)) + i * w, list(hist.values()), width=w,
                   label=res.run.name)
            top = max(top, max(hist.values()))
    ax.set_xticks(np.arange(len(labels)) + 0.4)
    ax.set_xticklabels(labels, rotation=45, fontsize=7)
    _count_axis(ax, top, "no activation nonzero in both runs to compare")
    ax.set_xlabel("ulps from the correctly rounded exact activation")
    ax.set_ylabel("activations")
    if top:
        ax.legend(fontsize=7)
    fig.tight_layout()
    p = os.path.join(folder, "ulp_histogram.png")
    save_figure(fig, p)
    plt.close(fig)
    paths.append(p)
    return paths


def plot_margins(rows: list[dict], path: Any, *, title: str | None = None) -> None:
    """A strip plot of each decided witness's margin (``margin_float``, the exact margin at
    the float32 input) per benchmark, on a symmetric-log axis with the zero line and the
    tolerance band, coloured by class; written to ``path`` (``.png``, ``.svg`` or ``.pdf``,
    atomically). The horizontal jitter is fixed (seeded), so a plot is reproducible.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "margins.svg")
    >>> plot_margins([{"category": "acasxu", "tool": "t", "genuine": True,
    ...                "margin_float": 0.25}], p)
    >>> os.path.getsize(p) > 0
    True
    """

    plt = _pyplot()
    benches = sorted({str(r.get("category") or "") for r in rows})
    pos = {b: i for i, b in enumerate(benches)}
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(benches) + 3), 5))
    shown = 0
    for cls in ("genuine", "tolerance_only", "outside_box", "not_violating", "undecided"):
        sel = [r for r in rows if classify(r) == cls and r.get("margin_float") is not None
               and math.isfinite(r["margin_float"])]
        if not sel:
            continue
        xs = [pos[str(r.get("category") or "")] + rng.uniform(-0.3, 0.3) for r in sel]
        ax.scatter(xs, [r["margin_float"] for r in sel], s=10, alpha=0.7,
                   color=_COLORS[cls], label=f"{LABELS[cls]} ({len(sel)})")
        shown += len(sel)
    ax.set_yscale("symlog", linthresh=1e-6)
    ax.axhline(0.0, color="black", linewidth=0.8)
    for y in (-TOLERANCE, TOLERANCE):
        ax.axhline(y, color="gray", linewidth=0.6, linestyle="--")
    ax.set_xticks(range(len(benches)))
    ax.set_xticklabels(benches, rotation=45, ha="right", fontsize=8)
    ax.set_xlim(-0.7, max(len(benches) - 0.3, 0.7))
    ax.set_ylabel("margin at the float32 input (exact; >= 0: violates)")
    ax.set_title(title or f"Margins of {shown} witnesses (dashed: the 1e-4 tolerance)")
    if shown:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)


def _log_value(x: Any) -> float:
    """A positive exact or float value as a float64 for a log axis (clamped to its range)."""
    if x >= 2 ** 1000:
        return 1e300
    f = float(x)
    return min(max(f, 1e-300), 1e300)


def plot_certificate(result: Any, path: Any, *, title: str | None = None) -> None:
    """Per layer of a :class:`~symdnn.certify.Certificate`, on a log axis: the smallest exact
    margin (black markers), each format's error bound (a line per format: the largest of
    the error carried out of the layer and of the bounds of its decisions at risk) and, as
    a cross on a format's line, the layers where it has decisions at risk (counted exactly
    by the certificate). Margins and bounds of 0 sit at
    the bottom (a triangle, a dot), infinite bounds (overflow) at the top. Written to
    ``path`` (``.png``, ``.svg`` or ``.pdf``, atomically).

    Give it to :func:`symdnn.certify.picture.write_certificate_report` as ``plot`` to put
    the figure in the report folder.

    Examples
    --------
    >>> import os, tempfile
    >>> from symdnn.certify import certify
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["4/5"])
    >>> cert = certify(c.net, c.inputs, formats=["fp8_e4m3", "bf16"], accumulate="same")
    >>> p = os.path.join(tempfile.mkdtemp(), "cert.png")
    >>> plot_certificate(cert, p)
    >>> open(p, "rb").read(4)
    b'\\x89PNG'
    """
    from matplotlib.ticker import MaxNLocator

    from symdnn.certify.picture import certificate_layers

    plt = _pyplot()
    rows = certificate_layers(result)
    names = [fc.arith.fmt.name for fc in result.formats]
    finite = [_log_value(r.margin) for r in rows if r.margin]
    finite += [b for r in rows for b in r.bound.values() if 0 < b < math.inf]
    lo = min(finite, default=1.0) / 30
    hi = max(finite, default=1.0) * 30
    fig, ax = plt.subplots(figsize=(max(8.0, min(16.0, 5 + 0.1 * len(rows))), 4.5))
    x = np.array([r.layer for r in rows])
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, n in enumerate(names):
        col = colors[k % len(colors)]
        b = np.array([r.bound[n] for r in rows], dtype=float)
        ys = np.where((b > 0) & np.isfinite(b), b, np.nan)
        ax.plot(x, ys, "-", color=col, linewidth=1.4, label=f"{n} bound")
        zero, over = b == 0, ~np.isfinite(b)
        if zero.any():
            ax.plot(x[zero], np.full(zero.sum(), lo), "o", color=col, ms=4, clip_on=False,
                    label=f"{n} bound 0 (nothing rounded)")
        if over.any():
            ax.plot(x[over], np.full(over.sum(), hi), "^", color=col, ms=6, clip_on=False,
                    label=f"{n} bound inf (overflow)")
        risk = np.array([r.at_risk[n] > 0 for r in rows], dtype=bool)
        if risk.any():
            yr = np.clip(np.where(np.isfinite(b), b, hi), lo, hi)[risk]
            ax.plot(x[risk], yr, "X", color=col, markeredgecolor="black", ms=9,
                    linestyle="none", label=f"{n}: decisions at risk", clip_on=False)
    m = [r for r in rows if r.margin is not None]
    pos = [r for r in m if r.margin > 0]
    zero_m = [r for r in m if r.margin == 0]
    if pos:
        ax.plot([r.layer for r in pos], [_log_value(r.margin) for r in pos], "o",
                color="black", ms=5, linestyle="none", label="smallest exact margin")
    if zero_m:
        ax.plot([r.layer for r in zero_m], [lo] * len(zero_m), "v", color="black", ms=7,
                linestyle="none", label="smallest exact margin 0", clip_on=False)
    ax.set_yscale("log")
    ax.set_ylim(lo, hi)
    if len(rows):
        ax.set_xlim(0.5, len(rows) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer")
    ax.set_ylabel("exact margin / error bound")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    name = result.info.get("name", "network")
    verdicts = ", ".join(f"{fc.arith.fmt.name} {'certified' if fc.certified else 'NOT'}"
                         for fc in result.formats)
    ax.set_title(title or f"{name}: {verdicts}", fontsize=9)
    fig.tight_layout()
    try:
        save_figure(fig, path)
    finally:
        plt.close(fig)
