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
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.domains import FloatDomain, get_domain, round_exact
from symdnn.engines import exact as EX
from symdnn.engines.floating import float_step
from symdnn.errors import ArgumentError, ParseError
from symdnn.generators.radixnet import parse_generate, radixnet_inputs, radixnet_layers
from symdnn.io.graphchallenge import (
    BIAS,
    find_challenge_files,
    read_categories,
    read_images,
    read_layer,
)
from symdnn.parallel import (
    ChunkPool,
    ExactBatch,
    dask_map,
    merge_states,
    resolve_kernel,
    resolve_threads,
    row_chunks,
    wants_dask,
)
from symdnn.results import markdown_from_text

__all__ = ["ChallengeResult", "ChallengeNetwork", "run_challenge", "load_challenge",
           "challenge_network", "read_bias_file", "YMAX"]

YMAX = 32


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


@dataclass
class ChallengeNetwork:
    """What a challenge folder's network computes besides its weights: the bias of every
    layer, the bias rule and the cap.

    The official networks: the width's official bias on the nonzero entries of ``Y W``, cap
    32. A folder with a ``bias.tsv`` (``layer<TAB>bias`` for every layer, written by
    ``symdnn generate radixnet --style exact``): those biases on every neuron, no cap. Every
    command that reads a challenge folder (``graph-challenge``, ``audit``, ``suite build``)
    runs this same network.
    """

    biases: list[Fraction]
    rule: str
    cap: Fraction | None
    source: str


def read_bias_file(path: Any, layers: int) -> list[Fraction]:
    r"""Read a ``bias.tsv``: one ``layer<TAB>value`` line for each layer 1..``layers``, values
    exact. Raises :class:`~symdnn.errors.ParseError` naming the file and line.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "bias.tsv")
    >>> _ = open(p, "w").write("1\t-31/2\n2\t-15\n")
    >>> read_bias_file(p, 2)
    [Fraction(-31, 2), Fraction(-15, 1)]
    >>> read_bias_file(p, 3)
    Traceback (most recent call last):
    ...
    symdnn.errors.ParseError: ...bias.tsv: no bias for layer 3 (of 3)
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise ParseError("not UTF-8 text", path=str(path), line=line) from None
    found: dict[int, Fraction] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ParseError(f"expected 2 fields (layer, bias), found {len(parts)}",
                             path=str(path), line=lineno)
        try:
            l = int(parts[0])
        except ValueError:
            raise ParseError(f"not a layer number: {parts[0]!r}", path=str(path),
                             line=lineno) from None
        try:
            v = Fraction(parts[1])
        except (ValueError, ZeroDivisionError):
            raise ParseError(f"not an exact number: {parts[1]!r}", path=str(path),
                             line=lineno) from None
        if not 1 <= l <= layers:
            raise ParseError(f"layer {l} outside 1..{layers}", path=str(path), line=lineno)
        if l in found:
            raise ParseError(f"layer {l} given twice", path=str(path), line=lineno)
        found[l] = v
    missing = [l for l in range(1, layers + 1) if l not in found]
    if missing:
        raise ParseError(f"no bias for layer {missing[0]} (of {layers})", path=str(path))
    return [found[l] for l in range(1, layers + 1)]


def challenge_network(data_dir: Any, neurons: int, layers: int) -> ChallengeNetwork:
    """The biases, rule and cap of the network in a challenge folder (see
    :class:`ChallengeNetwork`).

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp() + "/rx", layers=2, inputs=1, style="exact")
    >>> net = challenge_network(d, 1024, 2)
    >>> net.rule, net.cap, [str(b) for b in net.biases]
    ('all', None, ['-31', '-31'])
    """
    bias_file = Path(data_dir) / "bias.tsv"
    if bias_file.is_file():
        return ChallengeNetwork(read_bias_file(bias_file, layers), "all", None,
                                f"per-layer biases from {bias_file}")
    if neurons not in BIAS:
        raise ArgumentError(f"no official bias for {neurons} neurons (known: {sorted(BIAS)}) "
                            f"and no bias.tsv in {data_dir}")
    return ChallengeNetwork([BIAS[neurons]] * layers, "nonzero", Fraction(YMAX),
                            f"official bias {BIAS[neurons]} on nonzero entries, cap {YMAX}")


def _check_counts(neurons: int, layers: int, images: int | None) -> None:
    for name, v in (("neurons", neurons), ("layers", layers)):
        if not isinstance(v, int | np.integer) or v < 1:
            raise ArgumentError(f"{name} must be a positive integer, not {v!r}")
    if images is not None and (not isinstance(images, int | np.integer) or images < 1):
        raise ArgumentError(f"images must be a positive integer, not {images!r}")


def load_challenge(data_dir: str, neurons: int, layers: int,
                   images: int | None) -> tuple[Any, sp.csr_matrix, np.ndarray | None]:
    """The files of a configuration, its input images (the first ``images``), and the truth
    restricted to them (None without a truth file)."""
    _check_counts(neurons, layers, images)
    files = find_challenge_files(data_dir, neurons, layers)
    Y0 = read_images(files.images, neurons)
    if images is not None:
        if images > Y0.shape[0]:
            raise ArgumentError(f"{images} images asked for, but {files.images} holds "
                                f"{Y0.shape[0]}")
        Y0 = Y0[:images]
    truth = None
    if files.truth is not None:
        t = read_categories(files.truth)
        truth = t[t <= Y0.shape[0]]
    return files, Y0, truth


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
    if wants_dask(dask):
        return _run_dask(dask, dict(data_dir=data_dir, neurons=neurons, layers=layers,
                                    images=images, arith=arith, accumulate=accumulate,
                                    kernel=kernel, generate=generate), progress)
    workers = resolve_threads(threads)
    kern = resolve_kernel(kernel) if arith == "exact" else "scipy"
    if generate is not None:
        if data_dir is not None:
            raise ArgumentError("give a data folder or a network to generate (generate=...), "
                                "not both")
        neurons, layers, seed = parse_generate(generate)
        if neurons not in BIAS:
            raise ArgumentError(f"generate=: no official bias for {neurons} neurons (known: "
                                f"{sorted(BIAS)})")
        _check_counts(neurons, layers, images)
        Y0, truth = radixnet_inputs(neurons, images or 64, seed=seed), None
        net = ChallengeNetwork([BIAS[neurons]] * layers, "nonzero", Fraction(YMAX),
                               f"generated RadiX-Net, official bias {BIAS[neurons]}")
        source: Any = radixnet_layers(neurons, layers)
    else:
        if data_dir is None:
            raise ArgumentError("give a data folder, or a network to generate")
        files, Y0, truth = load_challenge(data_dir, neurons, layers, images)
        net = challenge_network(data_dir, neurons, layers)
        source = (read_layer(p, neurons) for p in files.layers)
    if rows is not None:
        Y0 = Y0[rows[0]:rows[1]]
    n_img = Y0.shape[0]
    t0 = time.perf_counter()
    paths: list[str] = []
    if arith == "exact":
        Y0 = Y0.tocsr()
        Y0.sort_indices()
        cap = None if net.cap is None else (net.cap.numerator, net.cap.denominator)
        with ExactBatch(Y0.indptr, Y0.indices, Y0.data.astype(np.int64), 1, Y0.shape,
                        threads=workers, kernel=kern) as batch:
            for l, g in enumerate(source, 1):
                bias = net.biases[l - 1]
                nb = np.full(neurons, bias.numerator, dtype=object)
                paths.append(batch.step(EX.ExactLayer(g.N, g.d, nb, bias.denominator),
                                        rule=net.rule, cap=cap))
                if progress:
                    progress(l, layers)
            final = batch.state()
        rows = np.flatnonzero(np.diff(final.indptr))
    else:
        dom = get_domain(arith)
        if not isinstance(dom, FloatDomain):
            raise ArgumentError(f"arith must be 'exact' or a float format, not {arith!r}")
        acc = get_domain(accumulate) if accumulate else dom
        store = np.float32 if dom.name == "fp32" else np.float64
        Yf = sp.csr_matrix(Y0, dtype=store)
        chunks = row_chunks(n_img, workers)
        Ys = [Yf[a:b] for a, b in chunks]
        cap_f = None if net.cap is None else float(round_exact(net.cap, dom.format_))
        with ChunkPool(len(chunks)) as pool:
            for l, g in enumerate(source, 1):
                W = float_layer(g, dom)
                b = np.full(neurons, round_exact(net.biases[l - 1], dom.format_),
                            dtype=dom.dtype)
                Ys = pool.map(lambda Y, W=W, b=b: float_step(Y, W, b, rule=net.rule, cap=cap_f,
                                                             dom=dom, acc=acc)[0], Ys)
                if progress:
                    progress(l, layers)
        final = sp.vstack(Ys, format="csr") if len(Ys) > 1 else Ys[0]
        rows = np.flatnonzero(np.diff(final.indptr))
    seconds = time.perf_counter() - t0
    return ChallengeResult(rows.astype(np.int64) + 1, truth, arith, neurons, layers, n_img,
                           seconds, paths, final, threads=workers, kernel=kern)


def _run_dask(dask: str | bool, kw: dict, progress: Callable | None) -> ChallengeResult:
    """:func:`run_challenge` with chunks of images as tasks of a dask cluster."""
    t0 = time.perf_counter()
    if kw["generate"]:
        n_img, truth = kw["images"] or 64, None
        neurons, layers, _ = parse_generate(kw["generate"])
    else:
        neurons, layers = kw["neurons"], kw["layers"]
        _, Y0, truth = load_challenge(kw["data_dir"], neurons, layers, kw["images"])
        n_img = Y0.shape[0]
    parts, chunks, workers = dask_map(dask, run_challenge, n_img, **kw, threads=1)
    if progress:
        progress(layers, layers)
    rows = np.concatenate([r.categories - 1 + c[0] for r, c in zip(parts, chunks,
                                                                     strict=True)])
    if kw["arith"] == "exact":
        final = merge_states([r.final for r in parts])
    else:
        final = sp.vstack([r.final for r in parts], format="csr")
    paths = ["+".join(dict.fromkeys(p for r in parts for p in r.paths[l].split("+")))
             for l in range(len(parts[0].paths))] if kw["arith"] == "exact" else []
    return ChallengeResult(rows.astype(np.int64) + 1, truth, kw["arith"], neurons, layers,
                           n_img, time.perf_counter() - t0, paths, final, threads=workers,
                           kernel=parts[0].kernel, workers=f"dask, {workers} workers")


def float_layer(g: Any, dom: FloatDomain) -> sp.csr_matrix:
    """A layer's weights in a float format: each distinct decimal string rounded once."""
    store = np.float32 if dom.name == "fp32" else np.float64
    by_num = {}
    for s, f in g.values.items():
        num = int(f * g.d)
        # a decimal string parsed as a float64 is one correct rounding; p/q is rounded here
        by_num[num] = float(s) if dom.name == "fp64" and "/" not in s else \
            float(round_exact(Fraction(f), dom.format_))
    nums = g.N.data
    uniq, inv = np.unique(nums, return_inverse=True)
    data = np.array([by_num[int(u)] for u in uniq], dtype=store)[inv]
    return sp.csr_matrix((data, g.N.indices, g.N.indptr), shape=g.N.shape)
