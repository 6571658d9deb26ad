"""The audit entry points: :func:`audit_stream` (any :class:`~symdnn.engines.LayerStream`),
:func:`audit_graph_challenge` and :func:`audit_network` (thin wrappers that make the
stream), and the float runs they compare (:func:`default_runs`). :mod:`symdnn.audit`
re-exports the public names."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from symdnn.assoc import AssocArray
from symdnn.audit.chunks import dask_lockstep, lockstep
from symdnn.audit.processes import MIN_ROWS, can_fork, process_lockstep
from symdnn.audit.report import AuditReport
from symdnn.audit.runner import Run
from symdnn.domains import accumulation_format
from symdnn.engines.stream import LayerStream
from symdnn.network import SparseDNN
from symdnn.parallel import resolve_threads, wants_dask

__all__ = ["audit_stream", "audit_graph_challenge", "audit_network", "default_runs"]


def default_runs(formats: list[str], accumulate: str | None = None,
                 int8: bool = False) -> list[Run]:
    """One run per format. fp16, bf16 and fp8 have no scipy kernel: unless ``accumulate`` says
    otherwise they accumulate in fp32 (their products are exact there) and round each sum once
    into the format; ``accumulate="same"`` computes every product and sum in the format."""
    runs = []
    for f in formats:
        if f == "int8":
            runs.append(Run.int8())
            continue
        runs.append(Run.format(f, accumulation_format(f, accumulate)))
    if int8 and not any(r.kind == "int8" for r in runs):
        runs.append(Run.int8())
    return runs


def audit_stream(stream: LayerStream, *, formats: list[str] = ("fp64", "fp32", "fp16", "bf16"),
                 accumulate: str | None = None, runs: list[Run] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 on_layer: Callable | None = None, threads: int | None = None,
                 dask: str | bool | None = None, jobs: int | None = None) -> AuditReport:
    """Audit float runs of the network of ``stream`` against exact arithmetic, layer by layer.

    Parameters
    ----------
    stream : LayerStream
        The network and its inputs (:meth:`~symdnn.engines.LayerStream.from_network`,
        :meth:`~symdnn.engines.LayerStream.from_graph_challenge`, ...). The exact run starts
        from the inputs as they are; each float run from their correct rounding into its
        format.
    formats : list of str
        One run of symdnn's float engine per format (see :func:`default_runs`).
    accumulate : str, optional
        The accumulation format of those runs (see :func:`default_runs`).
    runs : list of Run, optional
        Replaces the runs ``formats`` asks for (foreign runs among them: callables, or
        :meth:`Run.files` for an implementation's output files).
    progress : callable, optional
        Called as ``progress(layer, layers)`` after every layer.
    on_layer : callable, optional
        Passed to :func:`~symdnn.audit.runner.run_lockstep` (for example
        :func:`symdnn.audit.files.dump_runs`).
    threads : int, optional
        Row chunks audited at once in threads (default: every core), sharing one pass over
        the layers, where worker processes are not used (``jobs``).
    jobs : int, optional
        Worker processes (default: one per core), the runs dealt out to them, the layers
        read and the exact run computed once, here, and sent to all
        (:mod:`symdnn.audit.processes`). Used for symdnn's
        own float formats on a batch of at least 16 inputs where the platform can
        fork; otherwise, or with ``jobs=1``, ``threads`` applies.
    dask : str or True, optional
        One chunk per worker of a dask.distributed cluster (True for a LocalCluster, or a
        scheduler address), each worker remaking the stream (reading a folder's files
        itself). The report is the same either way but for its seconds
        (:mod:`symdnn.audit.chunks` says what runs in one chunk regardless).

    Returns
    -------
    AuditReport

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["3/10"])
    >>> rep = audit_stream(LayerStream.from_network(c.net, c.inputs), formats=["fp16"])
    >>> rep.to_json()["runs"]["fp16+acc_fp32"]["sign_flip"]
    [0]
    """
    runs = list(runs) if runs is not None else default_runs(list(formats), accumulate)
    t0 = time.perf_counter()
    if wants_dask(dask):
        found = dask_lockstep(dask, stream, runs, on_layer=on_layer)
        if progress:
            progress(stream.depth, stream.depth)
    elif _processes(stream, runs, on_layer, jobs):
        found = process_lockstep(stream, runs, resolve_threads(jobs), progress=progress)
    else:
        found = lockstep(stream, runs, progress=progress, on_layer=on_layer, threads=threads)
    total = time.perf_counter() - t0
    batch = stream.batch
    truth = None if stream.truth is None else [int(x) for x in stream.truth]
    return AuditReport(
        dict(stream.info), found.exact_zero, found.exact_pre,
        [batch[i] for i in found.exact_rows], truth, found.results,
        {"total": total, "exact": found.exact_seconds,
         **{r.run.name: r.seconds for r in found.results}}, batch)


def _processes(stream: LayerStream, runs: list[Run], on_layer: Any, jobs: int | None) -> bool:
    """Whether to audit in worker processes (see ``jobs`` in :func:`audit_stream`)."""
    return (resolve_threads(jobs) > 1 and can_fork() and on_layer is None and bool(runs)
            and all(r.kind == "float" for r in runs) and len(stream.batch) >= MIN_ROWS)


def audit_graph_challenge(data_dir: str, *, formats: list[str] = ("fp64", "fp32", "fp16",
                                                                   "bf16"),
                          neurons: int = 1024, layers: int = 120, images: int | None = None,
                          accumulate: str | None = None, runs: list[Run] | None = None,
                          progress: Callable[[int, int], None] | None = None,
                          on_layer: Callable | None = None, threads: int | None = None,
                          dask: str | bool | None = None, jobs: int | None = None
                          ) -> AuditReport:
    """Audit float runs of the Graph Challenge against exact arithmetic, layer by layer:
    :func:`audit_stream` of :meth:`LayerStream.from_graph_challenge
    <symdnn.engines.LayerStream.from_graph_challenge>` (the network ``symdnn
    graph-challenge`` runs, its first ``images`` inputs and their truth).

    The float runs compute ``Y W`` as the reference code does (sparse Y times sparse W, row
    convention, scipy CSR in the format where scipy has it, else see :func:`default_runs`),
    add the bias to the nonzero entries, apply the ReLU and the cap at 32. With ``dask``
    each worker reads the files itself.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=4)
    >>> rep = audit_graph_challenge(str(d), layers=2, formats=["fp32"])
    >>> rep.to_json()["runs"]["fp32"]["categories_match_exact"]
    True
    """
    stream = LayerStream.from_graph_challenge(data_dir, neurons=neurons, layers=layers,
                                              images=images)
    return audit_stream(stream, formats=formats, accumulate=accumulate, runs=runs,
                        progress=progress, on_layer=on_layer, threads=threads, dask=dask,
                        jobs=jobs)


def audit_network(net: SparseDNN, Y0: AssocArray, *,
                  formats: list[str] = ("fp64", "fp32", "fp16", "bf16"),
                  accumulate: str | None = None, runs: list[Run] | None = None,
                  name: str = "network", batch: Any = None,
                  progress: Callable[[int, int], None] | None = None,
                  on_layer: Callable | None = None, threads: int | None = None,
                  dask: str | bool | None = None, jobs: int | None = None) -> AuditReport:
    """Audit float runs of a :class:`~symdnn.SparseDNN` on inputs ``Y0`` (an AssocArray in the
    network's convention), layer by layer: :func:`audit_stream` of
    :meth:`LayerStream.from_network <symdnn.engines.LayerStream.from_network>`.

    The exact run starts from the inputs as they are (integers and rationals of any size);
    each float run from their correct rounding into its format. ``batch`` lists the batch
    keys when some input is all zero (see :func:`symdnn.engines.infer`). A network with a
    bias for each input runs in one chunk, and refuses ``dask``; with ``dask`` the network
    is sent to the workers.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["3/10"])
    >>> rep = audit_network(c.net, c.inputs, formats=["fp16"])
    >>> run = rep.to_json()["runs"]["fp16+acc_fp32"]
    >>> run["sign_flip"], run["max_ulp"], run["categories_match_exact"]
    ([0], [1], True)
    """
    stream = LayerStream.from_network(net, Y0, batch=batch, name=name)
    return audit_stream(stream, formats=formats, accumulate=accumulate, runs=runs,
                        progress=progress, on_layer=on_layer, threads=threads, dask=dask,
                        jobs=jobs)
