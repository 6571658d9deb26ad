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
from fractions import Fraction
from pathlib import Path
from typing import Any

import flint
import ml_dtypes
import numpy as np
import scipy
import sympy

from symdnn._version import __version__
from symdnn.analysis import analyze
from symdnn.assoc import AssocArray
from symdnn.constructions import load_construction
from symdnn.domains import FORMATS, round_ratio
from symdnn.engines import exact as EX
from symdnn.engines.stream import LayerStream
from symdnn.errors import ArgumentError, ParseError
from symdnn.io.graphchallenge import format_exact, write_layer
from symdnn.io.outputs import output_folder
from symdnn.io.text import sha256_file
from symdnn.network import read_network
from symdnn.parallel import ExactBatch, dask_map, exact_pass, merge_states, wants_dask
from symdnn.suite.integrity import FORMAT, canonical_json

__all__ = ["CHECKER", "build_suite", "suite_stream"]

#: The standalone checker's source (standard library only, imports nothing from symdnn),
#: copied byte for byte into every suite as ``check.py``; see docs/suite-format.md.
CHECKER = Path(__file__).with_name("check.py")


def _versions() -> dict:
    return {"symdnn": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "sympy": sympy.__version__,
            "python-flint": flint.__version__, "ml_dtypes": ml_dtypes.__version__}


def _write_lines(path: Path, lines: Any) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(lines)


def suite_stream(source: Path, neurons: int | None, layers: int | None,
                 inputs: str | None) -> LayerStream:
    """The stream a suite is built from: a network folder (``symdnn build``, with its
    ``inputs.tsv`` or the file ``inputs``) or a Graph Challenge folder (``neurons`` and
    ``layers`` needed).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=3)
    >>> st = suite_stream(pathlib.Path(d), 1024, 2, None)
    >>> st.kind, st.depth, st.truth is None, st.info["source"]["source"]
    ('graph-challenge', 2, True, 'graph-challenge layout')
    """
    if (source / "network.json").is_file():
        net, info = read_network(source)
        Y0 = info["inputs"]
        if inputs is not None:
            Y0 = AssocArray.read_tsv(inputs, domain="QQ")
        if Y0 is None:
            raise ArgumentError(f"{source} has no inputs.tsv: give inputs=FILE")
        stream = LayerStream.from_network(net, Y0)
        stream.info["source"] = {"source": "symdnn build folder", **info["meta"]}
        return stream
    if neurons is None or layers is None:
        raise ArgumentError("a Graph Challenge folder needs neurons=N and layers=L")
    stream = LayerStream.from_graph_challenge(source, neurons=neurons, layers=layers,
                                              inputs=inputs, truth=False)  # a suite has none
    stream.info["source"] = {"source": "graph-challenge layout", "layout": stream.files.layout,
                             "bias": stream.info["bias"] if stream.rule == "nonzero" else None}
    return stream


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
    formats = tuple(formats)
    if not formats:
        raise ArgumentError("no float formats given")
    for f in formats:
        if f not in FORMATS:
            raise ArgumentError(f"unknown float format {f!r}; known: {', '.join(FORMATS)}")
    src_path = Path(source)
    if not src_path.is_dir():
        raise ParseError("no such network folder", path=str(source))
    src = suite_stream(src_path, neurons, layers, inputs)
    netdir = src_path if src.kind == "network" else None
    out = Path(out)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(output_folder(
            out, "suite", force=force, inputs=[p for p in (source, inputs) if p is not None]))
        (tmp / "network").mkdir()
        (tmp / "expected").mkdir()
        n_in, n_features = src.inputs[3]
        _write_lines(tmp / "inputs.tsv", (
            f"{r + 1}\t{c + 1}\t{format_exact(Fraction(int(v), src.scale))}\n"
            for r, c, v in zip(*src.input_entries(), strict=True)))
        far = wants_dask(dask)
        if far:  # the workers run the network on their chunks; here it is only written
            parts, _, _ = dask_map(dask, exact_pass, n_in, stream=src, threads=1)
            final = merge_states([state for state, _ in parts])
        batch = stack.enter_context(ExactBatch.of(src, threads=1 if far else threads))
        values: dict = {}
        shapes: dict = {}
        bias_lines = []
        keys = [src.input_keys]
        n = src.width
        for l, lay in enumerate(src.layers(), 1):
            N, d, nb, db = lay.exact.NW, lay.exact.dW, lay.exact.nb, lay.exact.db
            if N.dtype == object:  # read_layer, which verifies the suite, stops at 2**62
                raise ArgumentError(f"layer {l}: a weight's numerator over the layer's common "
                                    f"denominator {d} reaches 2**62; a suite's layer files "
                                    "hold numerators below 2**62")
            keys.append(lay.neurons)
            write_layer(tmp / "network" / f"n{n}-l{l}.tsv", N, d)
            shapes[str(l)] = [int(N.shape[0]), int(N.shape[1])]
            values[str(l)] = {format_exact(Fraction(int(v), d)): str(Fraction(int(v), d))
                              for v in np.unique(np.asarray(N.data, dtype=object))}
            if nb is not None:
                uniq = {Fraction(int(v), db) for v in nb}
                if len(uniq) == 1:
                    values[f"bias{l}"] = str(uniq.pop())
                else:
                    bias_lines += [f"{l}\t{j + 1}\t{Fraction(int(v), db)}\n"
                                   for j, v in enumerate(nb) if v != 0]
            if not far:
                batch.step(lay.exact, rule=src.rule, cap=src.cap_pair)
            if progress:
                progress(l, src.depth)
        if bias_lines:
            _write_lines(tmp / "network" / "bias.tsv", bias_lines)
        if netdir is not None:  # a network's neurons have names
            for l, ks in enumerate(keys):
                _write_lines(tmp / "network" / f"keys-l{l}.tsv",
                             (f"{i + 1}\t{json.dumps(k if not isinstance(k, tuple) else list(k))}\n"
                              for i, k in enumerate(ks)))
            _write_lines(tmp / "network" / "keys-inputs.tsv",
                         (f"{i + 1}\t{json.dumps(k if not isinstance(k, tuple) else list(k))}\n"
                          for i, k in enumerate(src.batch)))
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
        if netdir is not None and src.info["source"].get("construction") == "selective":
            # thresholds only for an exact solution (never for a network that is not one)
            rep = analyze(load_construction(str(netdir)), exact_only=True)
            if not rep.withheld:
                (tmp / "thresholds.csv").write_text(rep.to_csv(), encoding="utf-8")
        if netdir is not None:
            shutil.copytree(netdir, tmp / "source")
        shutil.copyfile(CHECKER, tmp / "check.py")  # the independent checker
        files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*"))
                 if p.is_file()}
        manifest = {
            "format": FORMAT, "generator": f"symdnn {_versions()['symdnn']}",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "parameters": {"neurons": n, "layers": src.depth, "inputs": int(n_in),
                           "features": int(n_features),
                           "bias_rule": src.rule,
                           "cap": None if src.cap is None else str(src.cap),
                           "formats": list(formats), "convention": "row",
                           "source": json.loads(json.dumps(src.info["source"],
                                                           default=str))},
            "values": values, "shapes": shapes, "versions": _versions(), "files": files,
        }
        (tmp / "manifest.json").write_bytes(canonical_json(manifest))
    return out
