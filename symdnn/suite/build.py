"""Building a certified reference suite: everything needed to re-check a sparse DNN
implementation, with the hashes to show nothing changed.

A suite folder::

    manifest.json          format symdnn-suite/1, generator, parameters, library versions,
                           per layer every distinct weight as written -> its exact "p/q", the
                           bias ("p/q") when it is one value, sha256 per file
    network/n{N}-l{l}.tsv  the layers in the Graph Challenge layout (1-based, exact decimals or p/q)
    network/bias.tsv       layer<TAB>neuron<TAB>bias (exact), when biases differ per neuron
    network/keys-l{l}.tsv  index<TAB>key, when the source network has named neurons
    inputs.tsv             image<TAB>feature<TAB>value (1-based, exact)
    expected/exact.tsv     image<TAB>neuron<TAB>p/q: the exact outputs
    expected/{fmt}.tsv     image<TAB>neuron<TAB>hex<TAB>decimal: each exact output rounded once,
                           correctly, into the format
    categories.tsv         the images with a nonzero output
    thresholds.csv         r_d of every (category, feature) pair, for exact-solution networks

:func:`symdnn.suite.verify_suite` recomputes every expected file exactly from the suite's own
network and inputs and checks every hash; :func:`symdnn.suite.grade_suite` grades an
implementation's outputs against it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.engines import exact as EX
from symdnn.errors import ArgumentError, ParseError
from symdnn.parallel import ExactBatch, wants_dask
from symdnn.suite.integrity import FORMAT, canonical_json, sha256_file

__all__ = ["CHECKER", "build_suite", "suite_exact_rows"]

#: The standalone checker's source (standard library only, imports nothing from symdnn),
#: copied byte for byte into every suite as ``check.py``; see docs/suite-format.md.
CHECKER = Path(__file__).with_name("check.py")


def _versions() -> dict:
    import flint
    import ml_dtypes
    import scipy
    import sympy

    from symdnn._version import __version__

    return {"symdnn": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "sympy": sympy.__version__,
            "python-flint": flint.__version__, "ml_dtypes": ml_dtypes.__version__}


def _write_lines(path: Path, lines: Any) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(lines)


@dataclass
class _Source:
    """A network to certify, as a stream of integer layers (row convention)."""

    neurons: int
    layers: int
    rule: str
    cap: Fraction | None
    inputs: sp.csr_matrix        # integer numerators over inputs_s
    inputs_s: int
    stream: Callable             # () -> iterator of (N int CSR, d, nb object array | None, db)
    keys: list | None = None     # per layer 0..L, the neuron keys (named networks)
    meta: dict = field(default_factory=dict)
    netdir: Path | None = None


def _gc_source(path: Path, neurons: int | None, layers: int | None,
               inputs_file: str | None) -> _Source:
    from symdnn.io.graphchallenge import find_challenge_files, read_images, read_layer

    if neurons is None or layers is None:
        raise ArgumentError("a Graph Challenge folder needs neurons=N and layers=L")
    from symdnn.challenge import challenge_network

    files = find_challenge_files(path, neurons, layers)
    Y0 = read_images(inputs_file or files.images, neurons)
    net = challenge_network(path, neurons, layers)  # the network graph-challenge runs

    def stream():
        for l, p in enumerate(files.layers, 1):
            g = read_layer(p, neurons)
            b = net.biases[l - 1]
            yield g.N, g.d, np.full(neurons, b.numerator, dtype=object), b.denominator

    official = net.rule == "nonzero"
    return _Source(neurons, layers, net.rule, net.cap, Y0, 1, stream,
                   meta={"source": "graph-challenge layout", "layout": files.layout,
                         "bias": str(net.biases[0]) if official else None})


def _netdir_source(path: Path, inputs_file: str | None) -> _Source:
    from symdnn.assoc import AssocArray
    from symdnn.domains.rational import RatVec
    from symdnn.engines import _as_integers, _batch_view, _csr_over, compile_exact
    from symdnn.network import read_network

    net, info = read_network(path)
    Y0 = info["inputs"]
    if inputs_file is not None:
        Y0 = AssocArray.read_tsv(inputs_file, domain="QQ")
    if Y0 is None:
        raise ArgumentError(f"{path} has no inputs.tsv: give inputs=FILE")
    Yb = _batch_view(net, Y0)
    batch = Yb.row()
    indptr, indices, (vals, order) = _csr_over(Yb, batch, net.inputs)
    nums, s = _as_integers(RatVec(vals.num[order], vals.den[order]))
    X = sp.csr_matrix((np.asarray(nums, dtype=object).astype(np.int64), indices, indptr),
                      shape=(len(batch), len(net.inputs)))
    compiled = compile_exact(net, batch)
    widths = {len(net.inputs)} | {len(ly.outputs) for ly in net.layers}

    def stream():
        for lay in compiled:
            yield lay.NW, lay.dW, lay.nb, lay.db

    keys = [list(batch), list(net.inputs)] + [list(ly.outputs) for ly in net.layers]
    cap = None if net.ymax is None else Fraction(int(net.ymax.p), int(net.ymax.q))
    return _Source(max(widths), net.depth, net.bias_rule, cap, X, s, stream, keys,
                   {"source": "symdnn build folder", **info["meta"]}, path)


def suite_exact_rows(source: str, *, neurons: int | None, layers: int | None,
                     inputs: str | None, rows: tuple[int, int]) -> EX.ExactState:
    """The exact outputs of the inputs ``rows[0] .. rows[1] - 1`` of a suite's network (what
    one dask task of :func:`build_suite` computes), the network read from ``source``.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=6)
    >>> st = suite_exact_rows(str(d), neurons=1024, layers=2, inputs=None, rows=(4, 6))
    >>> st.shape, st.nnz > 0                 # the last two inputs alone
    ((2, 1024), True)
    """
    path = Path(source)
    src = _netdir_source(path, inputs) if (path / "network.json").is_file() else \
        _gc_source(path, neurons, layers, inputs)
    a, b = rows
    X = src.inputs.tocsr()[a:b]
    X.sort_indices()
    cap = None if src.cap is None else (src.cap.numerator, src.cap.denominator)
    with ExactBatch(X.indptr, X.indices, X.data.astype(np.int64), src.inputs_s, X.shape,
                    threads=1) as batch:
        for N, d, nb, db in src.stream():
            if nb is not None and nb.ndim == 2:  # a bias for each input: this chunk's rows
                nb = nb[a:b]
            batch.step(EX.ExactLayer(N, d, nb, db), rule=src.rule, cap=cap)
        return batch.state()


def build_suite(source: str | os.PathLike, out: str | os.PathLike, *,
                formats: tuple = ("fp64", "fp32", "fp16", "bf16"), neurons: int | None = None,
                layers: int | None = None, inputs: str | None = None,
                progress: Callable[[int, int], None] | None = None,
                force: bool = False, threads: int | None = None,
                dask: str | bool | None = None) -> Path:
    r"""Build a certified suite from a network folder (``symdnn build``) or a Graph Challenge
    folder (official or flat layout, or written by ``symdnn generate radixnet``).

    The network is streamed layer by layer: each layer is rewritten in canonical form and run
    exactly before the next is read, so memory does not depend on depth. The suite is written
    to a temporary sibling folder and renamed into place when complete (see
    :func:`symdnn.io.outputs.output_folder`): ``out`` must be absent, empty, or an earlier
    suite (replaced only with ``force=True``), and never the source or inside it.

    The exact run uses ``threads`` cores (default: all; see
    :class:`symdnn.parallel.ExactBatch`), or with ``dask`` (True for a LocalCluster, or a
    scheduler address) one chunk of inputs per worker of a dask.distributed cluster, each
    worker reading the network itself (the folders must be readable at the same paths
    there). The suite is the same byte for byte whichever runs it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from symdnn.constructions import selective
    >>> from symdnn.io.netdir import write_network
    >>> from symdnn.suite import grade_suite, verify_suite
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> c = selective(["ad", "be"], "single", ["1/2"])
    >>> _ = write_network(d / "net", c.net, inputs=c.inputs, meta={"construction": "selective"})
    >>> suite = build_suite(d / "net", d / "suite", formats=("fp16",))
    >>> verify_suite(suite).ok
    True
    >>> (suite / "expected" / "exact.tsv").read_text().splitlines()
    ['1\t1\t1/2', '2\t2\t1/2']
    >>> grade_suite(suite, suite / "expected" / "exact.tsv").ok
    True
    """
    from symdnn.domains import FORMATS, round_ratio
    from symdnn.io.graphchallenge import _format_exact, write_layer

    formats = tuple(formats)
    if not formats:
        raise ArgumentError("no float formats given")
    for f in formats:
        if f not in FORMATS:
            raise ArgumentError(f"unknown float format {f!r}; known: {', '.join(FORMATS)}")
    src_path = Path(source)
    if not src_path.is_dir():
        raise ParseError("no such network folder", path=str(source))
    src = _netdir_source(src_path, inputs) if (src_path / "network.json").is_file() else \
        _gc_source(src_path, neurons, layers, inputs)
    from symdnn.io.outputs import output_folder

    out = Path(out)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(output_folder(
            out, "suite", force=force, inputs=[p for p in (source, inputs) if p is not None]))
        (tmp / "network").mkdir()
        (tmp / "expected").mkdir()
        X = src.inputs.tocsr()
        X.sort_indices()
        _write_lines(tmp / "inputs.tsv", (
            f"{r + 1}\t{c + 1}\t{_format_exact(Fraction(int(v), src.inputs_s))}\n"
            for r, c, v in zip(*_coo(X), strict=True)))
        cap = None if src.cap is None else (src.cap.numerator, src.cap.denominator)
        far = wants_dask(dask)
        if far:  # the workers run the network on their chunks; here it is only written
            from symdnn.parallel import dask_map, merge_states

            parts, _, _ = dask_map(dask, suite_exact_rows, X.shape[0], source=str(source),
                                   neurons=neurons, layers=layers, inputs=inputs)
            final = merge_states(parts)
        batch = stack.enter_context(ExactBatch(
            X.indptr, X.indices, X.data.astype(np.int64), src.inputs_s, X.shape,
            threads=1 if far else threads))
        values: dict = {}
        shapes: dict = {}
        bias_lines = []
        n = src.neurons
        for l, (N, d, nb, db) in enumerate(src.stream(), 1):
            write_layer(tmp / "network" / f"n{n}-l{l}.tsv", N, d)
            shapes[str(l)] = [int(N.shape[0]), int(N.shape[1])]
            values[str(l)] = {_format_exact(Fraction(int(v), d)): str(Fraction(int(v), d))
                              for v in np.unique(np.asarray(N.data, dtype=object))}
            if nb is not None:
                uniq = {Fraction(int(v), db) for v in nb}
                if len(uniq) == 1:
                    values[f"bias{l}"] = str(uniq.pop())
                else:
                    bias_lines += [f"{l}\t{j + 1}\t{Fraction(int(v), db)}\n"
                                   for j, v in enumerate(nb) if v != 0]
            if not far:
                batch.step(EX.ExactLayer(N, d, nb, db), rule=src.rule, cap=cap)
            if progress:
                progress(l, src.layers)
        if bias_lines:
            _write_lines(tmp / "network" / "bias.tsv", bias_lines)
        if src.keys is not None:
            for l, ks in enumerate(src.keys[1:]):
                _write_lines(tmp / "network" / f"keys-l{l}.tsv",
                             (f"{i + 1}\t{json.dumps(k if not isinstance(k, tuple) else list(k))}\n"
                              for i, k in enumerate(ks)))
            _write_lines(tmp / "network" / "keys-inputs.tsv",
                         (f"{i + 1}\t{json.dumps(k if not isinstance(k, tuple) else list(k))}\n"
                          for i, k in enumerate(src.keys[0])))
        ptr, idx, num, s = EX.values_of(final if far else batch.state())
        rows = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        _write_lines(tmp / "expected" / "exact.tsv", (
            f"{r + 1}\t{c + 1}\t{Fraction(int(v), s)}\n"
            for r, c, v in zip(rows, idx, num, strict=True)))
        for fmt in formats:
            rounded = round_ratio(np.asarray(num), s, fmt).astype(np.float64)
            _write_lines(tmp / "expected" / f"{fmt}.tsv", (
                f"{r + 1}\t{c + 1}\t{float(v).hex()}\t{float(v)!r}\n"
                for r, c, v in zip(rows, idx, rounded, strict=True)))
        cats = np.flatnonzero(np.diff(ptr)) + 1
        _write_lines(tmp / "categories.tsv", (f"{c}\n" for c in cats))
        if src.netdir is not None and src.meta.get("construction") == "selective":
            from symdnn.analysis import analyze
            from symdnn.constructions import load_construction

            # thresholds only for an exact solution (never for a network that is not one)
            rep = analyze(load_construction(str(src.netdir)), exact_only=True)
            if not rep.withheld:
                (tmp / "thresholds.csv").write_text(rep.to_csv(), encoding="utf-8")
        if src.netdir is not None:
            shutil.copytree(src.netdir, tmp / "source")
        shutil.copyfile(CHECKER, tmp / "check.py")  # the independent checker
        files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*"))
                 if p.is_file()}
        manifest = {
            "format": FORMAT, "generator": f"symdnn {_versions()['symdnn']}",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "parameters": {"neurons": n, "layers": src.layers, "inputs": int(X.shape[0]),
                           "features": int(X.shape[1]),
                           "bias_rule": src.rule,
                           "cap": None if src.cap is None else str(src.cap),
                           "formats": list(formats), "convention": "row",
                           "source": json.loads(json.dumps(src.meta, default=str))},
            "values": values, "shapes": shapes, "versions": _versions(), "files": files,
        }
        (tmp / "manifest.json").write_bytes(canonical_json(manifest))
    return out


def _coo(X: sp.csr_matrix) -> tuple:
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return rows, X.indices, X.data
