"""An audit on every core, or over a dask cluster: the inputs cut into row chunks, each chunk
audited in lockstep by :func:`~symdnn.audit.runner.run_lockstep`, and the findings merged
into exactly what one lockstep over the whole batch finds.

Every finding of a layer is a count, a maximum, a minimum or a histogram over its entries,
or the first few examples of a kind in key order (row-major), so chunks of consecutive rows
merge exactly: counts and histograms add, maxima and minima combine, and a kind's examples
are the first ``EXAMPLES`` of the chunks' in chunk order. Threads share one stream of layers
(:class:`symdnn.parallel.Broadcast`: each layer file is read once); a dask worker streams the
layers itself for its chunk.

What cannot be cut is audited in one chunk, as without threads: foreign callables (an
implementation's code is called with the whole batch, as it would be on its own), int8 runs
(their activation scale is the whole batch's largest activation over 127), a dump of the runs
(``on_layer``), and networks with a bias for each input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from symdnn.audit.compare import COUNTS, EXAMPLES, LayerFindings
from symdnn.audit.runner import Lockstep, Run, RunResult, run_lockstep
from symdnn.engines.stream import LayerStream
from symdnn.errors import ArgumentError
from symdnn.io.runfiles import RunFolder
from symdnn.parallel import Broadcast, ChunkPool, dask_map, resolve_threads, row_chunks

__all__ = ["lockstep", "dask_lockstep", "chunk_lockstep", "merge_lockstep",
           "merge_findings", "chunkable"]

#: the order in which compare_layer records the kinds of examples
KINDS = ("zero_to_pos", "zero_to_neg", "sign_flip", "spurious_pos", "ulp")


def chunkable(runs: list[Run], on_layer: Any = None) -> str | None:
    """Why an audit must run in one chunk, or None when it may be cut.

    Examples
    --------
    >>> chunkable([Run.format("fp16")]) is None
    True
    >>> chunkable([Run.format("fp16"), Run.int8()])
    "int8 scales the activations by the whole batch's largest"
    """
    if any(r.kind in ("layer", "network") for r in runs):
        return "a foreign callable is called with the whole batch"
    if any(r.kind == "int8" for r in runs):
        return "int8 scales the activations by the whole batch's largest"
    if on_layer is not None:
        return "the runs are dumped as they run"
    return None


def _chunk_runs(runs: list[Run], a: int, b: int, n: int) -> list[Run]:
    """The runs as one chunk sees them: a run folder read for rows ``a .. b - 1`` only."""
    out = []
    for r in runs:
        if r.kind == "files":
            folder = r.folder if isinstance(r.folder, RunFolder) else \
                RunFolder(r.folder, fmt=r.fmt, name=r.name)
            r = dataclasses.replace(r, folder=folder.rows(a, b, n))
        out.append(r)
    return out


def _global_rows(chunk: tuple[int, int] | np.ndarray) -> np.ndarray:
    """The global rows of a chunk: ``(a, b)`` for consecutive rows, or the rows themselves."""
    if isinstance(chunk, tuple):
        return np.arange(chunk[0], chunk[1], dtype=np.int64)
    return np.asarray(chunk, dtype=np.int64)


def merge_findings(parts: list[LayerFindings],
                   rows: list[np.ndarray] | None = None) -> LayerFindings:
    """One layer's findings over row chunks, as over the whole batch. ``rows[k]`` lists the
    (0-based, increasing) rows of the whole batch that chunk ``k`` holds; by default the
    chunks are consecutive runs of rows, in order.

    Examples
    --------
    >>> from fractions import Fraction
    >>> a = LayerFindings(4, {"sign_flip": 2}, max_ulp=3, min_margin_correct=Fraction(1, 8))
    >>> b = LayerFindings(4, {"sign_flip": 1}, max_ulp=9, min_margin_correct=Fraction(1, 4))
    >>> m = merge_findings([a, b])
    >>> m.counts["sign_flip"], m.counts["missing"], m.max_ulp, m.min_margin_correct
    (3, None, 9, Fraction(1, 8))
    """
    first = parts[0]
    if len(parts) == 1 or not first.provided:
        return first
    counts = {k: None if any(p.counts[k] is None for p in parts)
              else sum(p.counts[k] for p in parts) for k in COUNTS}
    out = LayerFindings(first.layer, counts)
    out.max_ulp = max(p.max_ulp for p in parts)
    out.max_abs_err = max(p.max_abs_err for p in parts)
    margins = [p.min_margin_correct for p in parts if p.min_margin_correct is not None]
    out.min_margin_correct = min(margins) if margins else None
    out.ulp_hist = [int(x) for x in np.sum([p.ulp_hist for p in parts], axis=0)]
    # each chunk kept the first examples of a kind among its own rows, in row-major order:
    # the first of the whole batch are the first of them all, by their place in the batch
    found = []  # (place in the batch, (row, column) in the batch, example)
    for k, p in enumerate(parts):
        for (r, c), e in zip(p.at, p.examples, strict=True):
            g = r if rows is None else int(rows[k][r])
            found.append(((k, r, c) if rows is None else (g, c), (g, c), e))
    for kind in KINDS:
        mine = sorted((f for f in found if f[2]["kind"] == kind), key=lambda f: f[0])
        for _, at, e in mine[:EXAMPLES]:
            out.examples.append(e)
            out.at.append(at)
    return out


def merge_lockstep(parts: list[Lockstep], chunks: list, runs: list[Run]) -> Lockstep:
    """The results of :func:`~symdnn.audit.runner.run_lockstep` on row chunks as one result
    over the whole batch (the runs' seconds are added up). ``chunks[k]`` is chunk ``k``'s
    rows: ``(a, b)`` for the consecutive rows ``a .. b - 1``, or an increasing array of rows
    (chunks that interleave)."""
    if len(parts) == 1:
        for r, run in zip(parts[0].results, runs, strict=True):
            r.run = run
        return parts[0]
    rows = [_global_rows(c) for c in chunks]
    ez = [int(sum(x)) for x in zip(*(p.exact_zero for p in parts), strict=True)]
    ep = [int(sum(x)) for x in zip(*(p.exact_pre for p in parts), strict=True)]
    ex_rows = np.sort(np.concatenate([g[np.asarray(p.exact_rows, dtype=np.int64)]
                                      for p, g in zip(parts, rows, strict=True)]))
    results = []
    for i, run in enumerate(runs):
        mine = [p.results[i] for p in parts]
        res = RunResult(run)
        res.layers = [merge_findings(list(ls), rows)
                      for ls in zip(*(m.layers for m in mine), strict=True)]
        if all(m.categories is not None for m in mine):
            res.categories = np.sort(np.concatenate(
                [g[np.asarray(m.categories, dtype=np.int64)]
                 for m, g in zip(mine, rows, strict=True)]))
        if all(m.argmax is not None for m in mine):
            ex = sorted(((int(g[j]), e) for m, g in zip(mine, rows, strict=True)
                         for j, e in zip(m.argmax_at, m.argmax["examples"], strict=True)),
                        key=lambda x: x[0])[:10]
            res.argmax = {"changes": sum(m.argmax["changes"] for m in mine),
                          "examples": [e for _, e in ex]}
            res.argmax_at = [j for j, _ in ex]
        res.seconds = sum(m.seconds for m in mine)
        results.append(res)
    return Lockstep(ez, ep, ex_rows, results, sum(p.exact_seconds for p in parts))


def lockstep(stream: LayerStream, runs: list[Run], *,
             progress: Callable[[int, int], None] | None = None, on_layer: Any = None,
             threads: int | None = None) -> Lockstep:
    """:func:`~symdnn.audit.runner.run_lockstep` on ``threads`` row chunks of the stream at
    once (default: every core), sharing one pass over its layers; the same result. What
    :func:`chunkable` names, or a network with a bias for each input, runs in one chunk.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> c = selective(["ab", "cd", "ae", "bf"], "single", ["1/3"])
    >>> st = LayerStream.from_network(c.net, c.inputs)
    >>> one = lockstep(st, [Run.format("fp16")], threads=1)
    >>> two = lockstep(st, [Run.format("fp16")], threads=2)
    >>> one.exact_zero == two.exact_zero
    True
    >>> one.results[0].layers[0].to_json() == two.results[0].layers[0].to_json()
    True
    """
    n = len(stream.batch)
    workers = resolve_threads(threads)
    if stream.per_input_bias or chunkable(runs, on_layer) or workers == 1 or n < 2:
        return run_lockstep(stream, runs, progress=progress, on_layer=on_layer)
    chunks = row_chunks(n, workers)
    hub = Broadcast(stream.layers(), len(chunks))

    def one(k: int) -> Lockstep:
        a, b = chunks[k]
        tap = hub.taps[k]
        try:
            out = run_lockstep(stream.rows(a, b), _chunk_runs(runs, a, b, n), layers=tap,
                               progress=progress if k == 0 else None)
        except BaseException as exc:
            tap.close(exc)  # stop the other chunks too
            raise
        tap.close()
        return out

    with ChunkPool(len(chunks)) as pool:
        parts = pool.map(one, range(len(chunks)))
    return merge_lockstep(parts, chunks, runs)


def dask_lockstep(dask: str | bool, stream: LayerStream, runs: list[Run], *,
                  on_layer: Any = None) -> Lockstep:
    """One chunk of the stream's inputs for each worker of a dask cluster, each remaking the
    stream from its recipe (a folder's layers read there), merged; refused for what must
    run in one chunk."""
    why = ("a network with a bias for each input" if stream.per_input_bias else None) or \
        chunkable(runs, on_layer)
    if why:
        raise ArgumentError(f"dask= cannot cut this audit into chunks ({why}): leave it out")
    n = len(stream.batch)
    parts, chunks, _ = dask_map(dask, chunk_lockstep, n, stream=stream, runs=runs)
    return merge_lockstep(parts, chunks, runs)


def chunk_lockstep(*, stream: LayerStream, runs: list[Run], rows: tuple[int, int]) -> Lockstep:
    """The lockstep of the inputs ``rows[0] .. rows[1] - 1`` of ``stream`` alone (what one
    dask task runs).

    Examples
    --------
    >>> st = LayerStream.from_radixnet("radixnet:1024:2", images=6)
    >>> part = chunk_lockstep(stream=st, runs=[Run.format("fp32")], rows=(2, 5))
    >>> part.exact_rows.tolist(), len(part.results[0].layers)   # rows of the chunk, from 0
    ([0, 1, 2], 2)
    """
    a, b = rows
    return run_lockstep(stream.rows(a, b), _chunk_runs(runs, a, b, len(stream.batch)))
