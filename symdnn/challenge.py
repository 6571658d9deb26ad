"""The Graph Challenge run, streamed layer by layer (memory independent of depth).

``Y_{l+1} = h(Y_l W_l + b)`` with the bias added only to nonzero entries of ``Y_l W_l``, ReLU and a
cap at 32; the categories are the images with a nonzero output after the last layer. In exact
arithmetic the bias -0.3 is -3/10 and every value is a rational; see
:mod:`symdnn.engines.exact`. Float runs compute ``Y W`` as the reference code does, with
scipy.sparse CSR in the format (fp16/bf16 through :mod:`symdnn.engines.floating`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.domains import FloatDomain, get_domain, round_ratio
from symdnn.engines.floating import float_step
from symdnn.engines.stream import LayerStream
from symdnn.errors import ArgumentError
from symdnn.io.gcnetwork import (
    YMAX,
    ChallengeNetwork,
    challenge_network,
    load_challenge,
    read_bias_file,
)
from symdnn.parallel import (
    ChunkPool,
    dask_map,
    exact_pass,
    merge_states,
    resolve_kernel,
    resolve_threads,
    row_chunks,
    wants_dask,
)
from symdnn.results import markdown_from_text

# ChallengeNetwork, challenge_network, load_challenge, read_bias_file and YMAX live in
# symdnn.io.gcnetwork and are importable from here as before
__all__ = ["ChallengeResult", "run_challenge", "run_stream", "ChallengeNetwork",
           "load_challenge", "challenge_network", "read_bias_file", "YMAX"]


@dataclass
class ChallengeResult:
    """Categories of a run and how they compare with the official truth."""

    categories: np.ndarray
    truth: np.ndarray | None
    arith: str
    neurons: int
    layers: int
    images: int
    seconds: float
    paths: list[str] = field(default_factory=list)
    final: Any = None
    threads: int = 1
    kernel: str = "scipy"
    workers: str | None = None

    @property
    def matches(self) -> bool | None:
        """True/False against the truth, None when no truth file was found."""
        if self.truth is None:
            return None
        return bool(np.array_equal(self.categories, self.truth))

    def to_json(self) -> dict:
        """The keys of ``symdnn graph-challenge --json``: the run, its categories (1-based
        image numbers) and ``matches`` (null when there is no truth file)."""
        return {"arith": self.arith, "neurons": self.neurons, "layers": self.layers,
                "images": self.images, "seconds": self.seconds,
                "threads": self.threads, "workers": self.workers or "local",
                "kernel": self.kernel if self.arith == "exact" else None,
                "paths": self.paths,
                "categories": [int(c) for c in self.categories],
                "truth": None if self.truth is None else [int(t) for t in self.truth],
                "matches": self.matches}

    def to_markdown(self) -> str:
        """The run and its verdict in Markdown."""
        return markdown_from_text("symdnn graph-challenge", self.summary())

    def summary(self) -> str:
        """A few lines for people: count, categories, and the verdict."""
        cats = ", ".join(str(int(c)) for c in self.categories[:40])
        more = " ..." if len(self.categories) > 40 else ""
        lines = [
            f"Graph Challenge: {self.neurons} neurons, {self.layers} layers, {self.images} "
            f"images, arithmetic {self.arith}, "
            f"{self.workers or str(self.threads) + ' thread' + ('s' if self.threads != 1 else '')}"
            f"{f' ({self.kernel} kernel)' if self.arith == 'exact' else ''}: "
            f"{self.seconds:.2f} s",
            f"categories ({len(self.categories)}): {cats}{more}",
        ]
        if self.truth is None:
            lines.append("truth: no truth file for this configuration, not checked")
        elif self.matches:
            lines.append(f"truth: MATCH ({len(self.truth)} categories)")
        else:
            missing = np.setdiff1d(self.truth, self.categories)
            extra = np.setdiff1d(self.categories, self.truth)
            lines.append(f"truth: MISMATCH: missing {missing[:20].tolist()}, "
                         f"extra {extra[:20].tolist()}")
        if self.paths:
            counts = {p: self.paths.count(p) for p in dict.fromkeys(self.paths)}
            lines.append("exact paths: " + ", ".join(f"{p} x{n}" for p, n in counts.items()))
        return "\n".join(lines)


def run_challenge(data_dir: str | None = None, *, neurons: int = 1024, layers: int = 120,
                  images: int | None = None, arith: str = "exact",
                  accumulate: str | None = None, threads: int | None = None,
                  kernel: str | None = None, generate: str | None = None,
                  dask: str | bool | None = None, rows: tuple[int, int] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> ChallengeResult:
    """Run the Graph Challenge from its files, or on a network generated in memory, on every
    core.

    Parameters
    ----------
    data_dir : path, optional
        Official layout (as :func:`symdnn.data.fetch` writes it) or a flat folder (see
        :func:`symdnn.io.find_challenge_files`). Not with ``generate``.
    neurons, layers : int
        The configuration (1024/4096/16384/65536 neurons; up to 1920 layers).
    images : int, optional
        Use only the first ``images`` inputs (the truth is restricted the same way).
    arith : str
        ``"exact"`` or a float format (``fp64``, ``fp32``, ``fp16``, ``bf16``, ...).
    accumulate : str, optional
        Float runs: the accumulation format (default: ``arith``).
    threads : int, optional
        The batch is cut into this many chunks of images, stepped concurrently through every
        layer (:mod:`symdnn.parallel`); default: every available core. The result is
        identical whatever the number; a layer whose chunks took different paths of the
        exact engine lists them in ``paths`` joined by ``+`` (``"float64+int64"``).
    kernel : {"auto", "scipy", "graphblas"}, optional
        Exact runs: the sparse product of the float64 and int64 paths. ``graphblas``
        (the default where python-graphblas is installed) runs the whole batch in
        SuiteSparse:GraphBLAS on ``threads`` threads; ``scipy`` cuts it into ``threads``
        chunks. The result is identical.
    generate : str, optional
        ``"radixnet:NEURONS:LAYERS[:SEED]"``: no files; the RadiX-Net network that
        ``symdnn generate radixnet`` would write (weights 1/16, the official bias for the
        width on nonzero entries, cap 32) is made layer by layer in memory and run as it is
        made, on ``images`` random inputs (default 64, density 0.2, from ``SEED``); its
        ``neurons`` and ``layers`` come from the string. There is no truth to compare with.
    dask : str or True, optional
        Distribute chunks of images over a dask.distributed cluster: ``True`` (or ``""``)
        starts a LocalCluster with one worker per core, a string is a scheduler address
        (``"tcp://host:8786"``). Each worker runs its chunk through every layer, reading
        each layer file once itself (the data folder must be readable at the same path
        on every worker) or making it in memory with ``generate``; the results are gathered
        in image order and are identical to a local run. Needs ``pip install
        'symdnn[dask]'``.
    rows : (int, int), optional
        Run only the images ``rows[0] .. rows[1] - 1`` (what one dask task runs).
    progress : callable, optional
        Called as ``progress(layer, layers)`` after every layer.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=3, inputs=5)
    >>> r = run_challenge(str(d), layers=3)
    >>> r.categories.tolist(), r.matches          # no truth file here: None
    ([2, 3, 4, 5], None)
    """
    if generate is not None and data_dir is not None:
        raise ArgumentError("give a data folder or a network to generate (generate=...), "
                            "not both")
    if generate is None and data_dir is None:
        raise ArgumentError("give a data folder, or a network to generate")
    if arith != "exact" and not isinstance(get_domain(arith), FloatDomain):
        raise ArgumentError(f"arith must be 'exact' or a float format, not {arith!r}")
    resolve_threads(threads)
    if arith == "exact":
        resolve_kernel(kernel)
    stream = LayerStream.from_radixnet(generate, images=images) if generate is not None else \
        LayerStream.from_graph_challenge(data_dir, neurons=neurons, layers=layers,
                                         images=images)
    truth = stream.truth
    if rows is not None:  # the images rows[0] + 1 .. rows[1], and their truth
        stream = stream.rows(*rows)
        a, b = stream.window
        truth = None if truth is None else truth[(truth > a) & (truth <= b)]
    if wants_dask(dask):
        return _run_dask(dask, stream, arith, accumulate, kernel, truth, progress)
    return run_stream(stream, arith=arith, accumulate=accumulate, threads=threads,
                      kernel=kernel, truth=truth, progress=progress)


def run_stream(stream: LayerStream, *, arith: str = "exact", accumulate: str | None = None,
               threads: int | None = None, kernel: str | None = None,
               truth: np.ndarray | None = None, rows: tuple[int, int] | None = None,
               progress: Callable[[int, int], None] | None = None) -> ChallengeResult:
    """The Graph Challenge run of a Graph Challenge :class:`~symdnn.engines.LayerStream`
    (:meth:`~symdnn.engines.LayerStream.from_graph_challenge` or
    :meth:`~symdnn.engines.LayerStream.from_radixnet`; see :func:`run_challenge` for the
    parameters); ``rows`` runs its inputs ``rows[0] .. rows[1] - 1`` only (what one dask task
    runs). The categories are image numbers (the stream's batch keys), whatever the rows;
    ``truth`` is compared with them as given.

    Examples
    --------
    >>> st = LayerStream.from_radixnet("radixnet:1024:3:1", images=6)
    >>> r = run_stream(st, arith="fp32")
    >>> r.categories.tolist() == run_stream(st).categories.tolist()
    True
    """
    if stream.kind == "network":
        raise ArgumentError("run_stream runs the Graph Challenge's networks (a folder, or a "
                            "RadiX-Net made in memory); for a SparseDNN use symdnn.infer")
    if rows is not None:
        stream = stream.rows(*rows)
    workers = resolve_threads(threads)
    kern = resolve_kernel(kernel) if arith == "exact" else "scipy"
    neurons, layers = stream.width, stream.depth
    t0 = time.perf_counter()
    paths: list[str] = []
    if arith == "exact":
        final, paths = exact_pass(stream, threads=workers, kernel=kern, progress=progress)
    else:
        dom = get_domain(arith)
        acc = get_domain(accumulate) if accumulate else dom
        store = np.float32 if dom.name == "fp32" else np.float64
        indptr, indices, nums, shape = stream.inputs
        vals = round_ratio(nums, stream.scale, dom.name).astype(store)  # one rounding each
        Yf = sp.csr_matrix((vals, indices, indptr), shape=shape)
        chunks = row_chunks(Yf.shape[0], workers)
        Ys = [Yf[a:b] for a, b in chunks]
        cap_f = stream.cap_in(dom.name)
        with ChunkPool(len(chunks)) as pool:
            for l, lay in enumerate(stream.layers(), 1):
                W, b64 = lay.float_weights(dom.name)
                b = b64.astype(dom.dtype)  # values of the format: exact
                Ys = pool.map(lambda Y, W=W, b=b: float_step(Y, W, b, rule=stream.rule,
                                                             cap=cap_f, dom=dom, acc=acc)[0],
                              Ys)
                if progress:
                    progress(l, layers)
        final = sp.vstack(Ys, format="csr") if len(Ys) > 1 else Ys[0]
    cats = np.asarray(stream.batch, dtype=np.int64)[np.flatnonzero(np.diff(final.indptr))]
    return ChallengeResult(cats, truth, arith, neurons, layers,
                           len(stream.batch), time.perf_counter() - t0, paths, final,
                           threads=workers, kernel=kern)


def _run_dask(dask: str | bool, stream: LayerStream, arith: str, accumulate: str | None,
              kernel: str | None, truth: np.ndarray | None,
              progress: Callable | None) -> ChallengeResult:
    """:func:`run_stream` with chunks of images as tasks of a dask cluster, each remaking the
    stream (reading the folder's files itself, or making the network in memory)."""
    t0 = time.perf_counter()
    parts, chunks, workers = dask_map(dask, run_stream, len(stream.batch), stream=stream,
                                      arith=arith, accumulate=accumulate, kernel=kernel,
                                      threads=1)
    if progress:
        progress(stream.depth, stream.depth)
    rows = np.concatenate([r.categories for r in parts])  # image numbers, in order
    if arith == "exact":
        final = merge_states([r.final for r in parts])
    else:
        final = sp.vstack([r.final for r in parts], format="csr")
    paths = ["+".join(dict.fromkeys(p for r in parts for p in r.paths[l].split("+")))
             for l in range(len(parts[0].paths))] if arith == "exact" else []
    return ChallengeResult(rows.astype(np.int64), truth, arith, stream.width,
                           stream.depth, len(stream.batch), time.perf_counter() - t0, paths,
                           final, threads=workers, kernel=parts[0].kernel,
                           workers=f"dask, {workers} workers")
