"""Figures: labeled spy plots of weight arrays (the paper's Figs. 3-8) and layered drawings of
networks. matplotlib is imported only when a figure is made, with the Agg backend; the file
type follows the extension (``.png``, ``.svg``, ``.pdf``)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["spy", "draw_network", "draw_subdnn"]

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
    import os

    from symdnn.errors import OutputError
    from symdnn.io.outputs import output_file_path

    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in PLOT_SUFFIXES:
        raise OutputError(f"{os.fspath(path)!r}: a figure's file name must end in "
                          f"{', '.join(PLOT_SUFFIXES)}")
    with output_file_path(path) as tmp:
        fig.savefig(tmp)


def _text(key: Any) -> str:
    from symdnn.assoc.printing import format_key

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
    from symdnn.analysis import reached, support

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
