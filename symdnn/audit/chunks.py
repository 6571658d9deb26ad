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
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from symdnn.audit.compare import COUNTS, EXAMPLES, LayerFindings
from symdnn.audit.runner import Run, RunResult, _integer_input, run_lockstep
from symdnn.errors import ArgumentError
from symdnn.io.runfiles import RunFolder
from symdnn.parallel import Broadcast, ChunkPool, dask_map, resolve_threads, row_chunks

__all__ = ["lockstep", "merge_lockstep", "merge_findings", "chunkable"]

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


def _rows_input(Y0_num: Any, a: int, b: int) -> tuple:
    indptr, indices, nums, shape = _integer_input(Y0_num)
    lo, hi = indptr[a], indptr[b]
    return (indptr[a:b + 1] - lo, indices[lo:hi], nums[lo:hi], (b - a, shape[1]))


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


def merge_findings(parts: list[LayerFindings]) -> LayerFindings:
    """One layer's findings over consecutive row chunks, as over the whole batch.

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
    out.examples = [e for kind in KINDS
                    for e in [e for p in parts for e in p.examples if e["kind"] == kind]
                    [:EXAMPLES]]
    return out


def merge_lockstep(parts: list[tuple], chunks: list[tuple[int, int]], runs: list[Run]
                   ) -> tuple[list, list, np.ndarray, list[RunResult], float]:
    """The results of :func:`~symdnn.audit.runner.run_lockstep` on consecutive row chunks
    as one result over the whole batch (the runs' seconds are added up)."""
    if len(parts) == 1:
        ez, ep, rows, res, sec = parts[0]
        for r, run in zip(res, runs, strict=True):
            r.run = run
        return ez, ep, rows, res, sec
    ez = [int(sum(x)) for x in zip(*(p[0] for p in parts), strict=True)]
    ep = [int(sum(x)) for x in zip(*(p[1] for p in parts), strict=True)]
    rows = np.concatenate([np.asarray(p[2], dtype=np.int64) + a
                           for p, (a, _) in zip(parts, chunks, strict=True)])
    results = []
    for i, run in enumerate(runs):
        mine = [p[3][i] for p in parts]
        res = RunResult(run)
        res.layers = [merge_findings(list(ls)) for ls in zip(*(m.layers for m in mine),
                                                                strict=True)]
        if all(m.categories is not None for m in mine):
            res.categories = np.concatenate([np.asarray(m.categories, dtype=np.int64) + a
                                             for m, (a, _) in zip(mine, chunks, strict=True)])
        if all(m.argmax is not None for m in mine):
            res.argmax = {"changes": sum(m.argmax["changes"] for m in mine),
                          "examples": [e for m in mine for e in m.argmax["examples"]][:10]}
        res.seconds = sum(m.seconds for m in mine)
        results.append(res)
    return ez, ep, rows, results, sum(p[4] for p in parts)


def lockstep(layers: Iterable[Any], Y0_num: Any, s0: int, runs: list[Run], *, rule: str,
             cap: Any, batch: tuple, inputs: tuple, total: int | None,
             progress: Callable[[int, int], None] | None = None, on_layer: Any = None,
             threads: int | None = None, whole: str | None = None) -> tuple:
    """:func:`~symdnn.audit.runner.run_lockstep` on ``threads`` row chunks at once (default:
    every core), sharing one stream of ``layers``; the same result. ``whole`` (or
    :func:`chunkable`) names a reason to run in one chunk.

    Examples
    --------
    >>> from symdnn.audit import network_layers
    >>> from symdnn.constructions import selective
    >>> c = selective(["ab", "cd", "ae", "bf"], "single", ["1/3"])
    >>> layers, Y, s, batch = network_layers(c.net, c.inputs)
    >>> kw = dict(rule=c.net.bias_rule, cap=None, batch=batch, inputs=c.net.inputs,
    ...           total=c.net.depth)
    >>> one = lockstep(layers, Y, s, [Run.format("fp16")], threads=1, **kw)
    >>> two = lockstep(layers, Y, s, [Run.format("fp16")], threads=2, **kw)
    >>> one[0] == two[0], one[3][0].layers[0].to_json() == two[3][0].layers[0].to_json()
    (True, True)
    """
    n = len(batch)
    workers = resolve_threads(threads)
    if whole or chunkable(runs, on_layer) or workers == 1 or n < 2:
        return run_lockstep(layers, Y0_num, s0, runs, rule=rule, cap=cap, batch=batch,
                            inputs=inputs, progress=progress, total=total, on_layer=on_layer)
    chunks = row_chunks(n, workers)
    hub = Broadcast(layers, len(chunks))

    def one(k: int) -> tuple:
        a, b = chunks[k]
        tap = hub.taps[k]
        try:
            out = run_lockstep(tap, _rows_input(Y0_num, a, b), s0, _chunk_runs(runs, a, b, n),
                               rule=rule, cap=cap, batch=batch[a:b], inputs=inputs,
                               progress=progress if k == 0 else None, total=total)
        except BaseException as exc:
            tap.close(exc)  # stop the other chunks too
            raise
        tap.close()
        return out

    with ChunkPool(len(chunks)) as pool:
        parts = pool.map(one, range(len(chunks)))
    return merge_lockstep(parts, chunks, runs)


def dask_lockstep(dask: str | bool, fn: Callable[..., tuple], n: int, runs: list[Run], *,
                  on_layer: Any = None, whole: str | None = None, **kw: Any) -> tuple:
    """``fn(**kw, runs=..., rows=(a, b))`` (a lockstep over rows ``a .. b - 1``) for one
    chunk per worker of a dask cluster, merged; refused for what must run in one chunk
    (``whole``, or :func:`chunkable`)."""
    why = whole or chunkable(runs, on_layer)
    if why:
        raise ArgumentError(f"dask= cannot cut this audit into chunks ({why}): leave it out")
    parts, chunks, _ = dask_map(dask, _on_worker, n, fn=fn, runs=runs, batch_rows=n, kw=kw)
    return merge_lockstep(parts, chunks, runs)


def _on_worker(*, fn: Callable, runs: list[Run], batch_rows: int, kw: dict,
               rows: tuple[int, int]) -> tuple:
    a, b = rows
    return fn(**kw, runs=_chunk_runs(runs, a, b, batch_rows), rows=rows)
