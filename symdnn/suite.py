"""Certified reference suites: everything needed to re-check a sparse DNN implementation, with
the hashes to show nothing changed.

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

``verify_suite`` recomputes every expected file exactly from the suite's own network and inputs
and checks every hash; ``grade_suite`` grades an implementation's outputs against it.
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

from symdnn.checker import CHECKER
from symdnn.engines import exact as EX
from symdnn.errors import ArgumentError, ParseError, SymdnnError
from symdnn.integrity import (
    FORMAT,
    canonical_json,
    load_manifest,
    root_digest,
    sha256_file,
    structure_problems,
)
from symdnn.parallel import ExactBatch, wants_dask

__all__ = ["build_suite", "verify_suite", "grade_suite", "run_checker", "root_digest",
           "SuiteCheck", "Grade", "FORMAT"]


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


@dataclass
class SuiteCheck:
    """The outcome of :func:`verify_suite`."""

    ok: bool
    problems: list[str]
    checked: list[str]
    checker: dict | None = None  # the shipped check.py: exit status, verdict, output

    @property
    def own_problems(self) -> list[str]:
        """The problems symdnn's own verification found (not the shipped checker's)."""
        return [p for p in self.problems if not p.startswith("check.py: ")]

    def to_json(self) -> dict:
        """``verified`` (both sides), symdnn's own verdict, and what ``check.py`` said."""
        own = self.own_problems
        return {"verified": self.ok, "symdnn": {"verified": not own, "checked": self.checked,
                                                "problems": own},
                "check.py": self.checker}

    def summary(self) -> str:
        """symdnn's verdict and its problems, then check.py's (its first 12 lines of output
        when it failed)."""
        own, ck = self.own_problems, self.checker
        lines = [("symdnn: VERIFIED: " if not own else "symdnn: FAILED: ")
                 + "; ".join(self.checked)]
        lines += [f"  {p}" for p in own]
        if ck is None:
            lines.append("check.py: not run (--no-checker)")
        else:
            lines.append(f"check.py: {ck['verdict']} (exit {ck['exit']})")
            if ck["exit"] != 0:
                lines += [f"  | {line}" for line in ck["output"].splitlines()[:12]]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Both verdicts in Markdown."""
        from symdnn.results import markdown_from_text

        return markdown_from_text("symdnn suite verify", self.summary())


def verify_suite(folder: str | os.PathLike,
                 progress: Callable[[int, int], None] | None = None, *,
                 digest: str | None = None, checker: bool = True) -> SuiteCheck:
    r"""Check a suite two independent ways: symdnn's own verification, and the suite's shipped
    ``check.py`` (standard library only) run in a subprocess.

    symdnn's side checks the manifest (canonical, every field understood), every file's
    sha256 and that the folder holds exactly the listed files (no path outside it, no symbolic
    link), that the parameters agree with the files, and recomputes every expected file exactly
    from the suite's own network and inputs. ``digest`` (the root digest printed by
    ``symdnn suite build``) is compared with the sha256 of the manifest. ``checker=False``
    skips the shipped checker (pure Python: slow on large suites).

    Examples
    --------
    See :func:`build_suite`; a changed file fails with its name:

    >>> import tempfile, pathlib
    >>> from symdnn.constructions import selective
    >>> from symdnn.io.netdir import write_network
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> c = selective(["ad", "be"])
    >>> _ = write_network(d / "net", c.net, inputs=c.inputs)
    >>> s = build_suite(d / "net", d / "suite", formats=("fp32",))
    >>> _ = (s / "categories.tsv").write_text("1\n")
    >>> check = verify_suite(s)
    >>> for problem in check.problems:
    ...     print(problem)
    categories.tsv: sha256 differs from the manifest
    categories.tsv: differs from the recomputed categories
    check.py: FAILED (exit 1)
    """
    root = Path(folder)
    if not root.is_dir():
        raise ParseError("no such suite folder", path=str(root))
    man = load_manifest(root)
    try:
        check = _verify(root, man, progress)
    except (KeyError, ValueError, TypeError, IndexError, UnicodeDecodeError) as exc:
        if isinstance(exc, SymdnnError):
            raise
        raise ParseError(f"malformed suite: {type(exc).__name__}: {exc}",
                         path=str(root)) from None
    except OSError as exc:
        raise ParseError(f"cannot read {exc.filename or 'a suite file'}: "
                         f"{exc.strerror or exc}", path=str(root)) from None
    if digest is not None:
        got = root_digest(root)
        if digest.strip().lower() != got:
            check.problems.insert(0, f"manifest.json: root digest {got} is not the recorded "
                                     f"{digest.strip().lower()}")
        else:
            check.checked.insert(0, "root digest")
    shipped = root / "check.py"
    foreign = shipped.is_file() and not shipped.is_symlink() and \
        CHECKER.read_bytes() != shipped.read_bytes()
    if foreign:
        # never run code a suite brings: a checker that is not symdnn's is not independent
        # evidence, and could do anything on this machine
        check.problems.append("check.py: not the checker symdnn ships (not run); read it, and "
                              "run it yourself if you trust it")
    elif checker:
        check.checker = run_checker(root)
        if check.checker["exit"] != 0:
            check.problems.append(f"check.py: {check.checker['verdict']} (exit "
                                  f"{check.checker['exit']})")
    check.ok = not check.problems
    return check


def run_checker(root: str | os.PathLike, timeout: float | None = None) -> dict:
    """Run the suite's own ``check.py`` in a fresh interpreter (``python -I``: no user site,
    no environment, nothing importable but the standard library); its exit status, verdict
    (``VERIFIED``, ``FAILED``, ``UNREADABLE``) and output.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> run_checker(pathlib.Path(tempfile.mkdtemp()))["verdict"]   # a folder with no check.py
    'MISSING'
    """
    import subprocess
    import sys

    root = Path(root)
    if not (root / "check.py").is_file() or (root / "check.py").is_symlink():
        return {"exit": 2, "verdict": "MISSING", "output": "the suite has no check.py"}
    try:
        proc = subprocess.run([sys.executable, "-I", "check.py"], cwd=root,
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"exit": 2, "verdict": "TIMEOUT", "output": ""}
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
    verdict = {0: "VERIFIED", 1: "FAILED"}.get(proc.returncode, "UNREADABLE")
    return {"exit": proc.returncode, "verdict": verdict, "output": out}


def _verify(root: Path, man: dict, progress) -> SuiteCheck:
    problems = structure_problems(root, man)
    checked = [f"{len(man['files'])} file hashes"]
    try:
        _recompute(root, man, progress, problems, checked)
    except (ParseError, OSError, KeyError, ValueError, TypeError, IndexError) as exc:
        if not problems:
            raise
        # the files already disagree with the manifest: say what could not be recomputed
        problems.append(f"not recomputed: {exc}")
    return SuiteCheck(not problems, problems, checked)


def _recompute(root: Path, man: dict, progress, problems: list, checked: list) -> None:
    """Recompute every layer exactly from the suite's own files and compare the expected
    files (appends to ``problems`` and ``checked``)."""
    from symdnn.domains import round_ratio
    from symdnn.io.graphchallenge import read_layer

    par = man["parameters"]
    n, L = par["neurons"], par["layers"]
    (xp, xi, xn, xshape), Xs = _exact_images(root / "inputs.tsv", par["inputs"],
                                              par["features"])
    st = EX.start(xp, xi, xn, Xs, xshape)
    cap = None if par["cap"] is None else (Fraction(par["cap"]).numerator,
                                            Fraction(par["cap"]).denominator)
    per_neuron: dict = {}
    bias_file = root / "network" / "bias.tsv"
    if bias_file.is_file():
        width = max(sh[1] for sh in man["shapes"].values())
        for (l, j), (lineno, rest) in _keyed(bias_file, 3, (L, width),
                                             ("layer", "neuron")).items():
            if j > man["shapes"][str(l)][1]:
                raise ParseError(f"neuron {j} beyond layer {l}'s {man['shapes'][str(l)][1]}",
                                 path=str(bias_file), line=lineno)
            per_neuron.setdefault(l, {})[j - 1] = _exact_value(rest[0], bias_file, lineno)
    for l in range(1, L + 1):
        path = root / "network" / f"n{n}-l{l}.tsv"
        g = read_layer(path, n)
        rows_in, cols_out = man["shapes"][str(l)]
        N = g.N[:rows_in, :cols_out].tocsr()
        if N.nnz != g.N.nnz:
            problems.append(f"network/n{n}-l{l}.tsv: weights outside the layer's shape "
                            f"{rows_in} x {cols_out}")
        b_all = man["values"].get(f"bias{l}")
        width = N.shape[1]
        if b_all is not None:
            b = Fraction(b_all)
            nb, db = np.full(width, b.numerator, dtype=object), b.denominator
        elif l in per_neuron:
            fr = [per_neuron[l].get(j, Fraction(0)) for j in range(width)]
            db = int(np.lcm.reduce([f.denominator for f in fr]))
            nb = np.array([f.numerator * (db // f.denominator) for f in fr], dtype=object)
        else:
            nb, db = None, 1
        st, _ = EX.step(st, EX.ExactLayer(N, g.d, nb, db), rule=par["bias_rule"], cap=cap)
        if progress:
            progress(l, L)
    checked.append(f"{L} layers recomputed exactly")
    ptr, idx, num, s = EX.values_of(st)
    rows = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    last = man["shapes"][str(L)][1]
    exact_file = root / "expected" / "exact.tsv"
    want = {k: _exact_value(rest[0], exact_file, lineno) for k, (lineno, rest) in
            _keyed(exact_file, 3, (par["inputs"], last), ("image", "neuron")).items()}
    got = {(int(r) + 1, int(c) + 1): Fraction(int(v), s)
           for r, c, v in zip(rows, idx, num, strict=True)}
    if got != want:
        diff = sorted(set(got.items()) ^ set(want.items()))[:3]
        problems.append(f"expected/exact.tsv: {len(set(got.items()) ^ set(want.items()))} "
                        f"entries differ from the recomputation, e.g. {diff}")
    checked.append(f"{len(want)} exact outputs")
    for fmt in par["formats"]:
        rounded = round_ratio(np.asarray(num), s, fmt).astype(np.float64)
        mine = {(int(r) + 1, int(c) + 1): float(v).hex()
                for r, c, v in zip(rows, idx, rounded, strict=True)}
        fpath = root / "expected" / f"{fmt}.tsv"
        theirs = {}
        for k, (lineno, (hx, dec)) in _keyed(fpath, 4, (par["inputs"], last),
                                             ("image", "neuron")).items():
            try:
                v = float.fromhex(hx)
            except (ValueError, OverflowError):
                raise ParseError(f"not a hex float: {hx!r}", path=str(fpath),
                                 line=lineno) from None
            if v.hex() != hx or repr(v) != dec:
                problems.append(f"expected/{fmt}.tsv:{lineno}: {hx} {dec} is not a value "
                                "written as float.hex() and repr()")
            theirs[k] = hx
        if mine != theirs:
            problems.append(f"expected/{fmt}.tsv: differs from the correctly rounded exact "
                            "outputs")
        checked.append(f"{len(theirs)} {fmt} outputs")
    cats = [int(c) for c in np.flatnonzero(np.diff(ptr)) + 1]
    cpath = root / "categories.tsv"
    listed = [_index(parts[0], par["inputs"], cpath, lineno, "image")
              for lineno, parts in _suite_lines(cpath, 1)]
    if cats != listed:
        problems.append("categories.tsv: differs from the recomputed categories")
    if (root / "thresholds.csv").is_file():
        from symdnn.analysis import analyze
        from symdnn.constructions import load_construction

        if not _source_is_network(root, man):
            problems.append("source/: not the network of this suite (its layers, biases or "
                            "inputs differ from network/ and inputs.tsv), so thresholds.csv "
                            "does not describe it")
            return
        rep = analyze(load_construction(str(root / "source")), exact_only=True)
        if rep.withheld:
            problems.append(f"thresholds.csv: the network is not an exact solution "
                            f"({rep.reason})")
        elif rep.to_csv() != (root / "thresholds.csv").read_text(encoding="utf-8"):
            problems.append("thresholds.csv: differs from the recomputed thresholds")
        checked.append(f"{len(rep.pairs)} thresholds")


def _suite_lines(path: Path, fields: int) -> list[tuple[int, list[str]]]:
    """The non-blank lines of a suite file, each exactly ``fields`` tab-separated fields."""
    from symdnn.io.text import tsv_lines

    return list(tsv_lines(str(path), fields))


def _index(text: str, limit: int, path: Path, lineno: int, what: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ParseError(f"{what} {text!r} is not a 1-based index", path=str(path), line=lineno)
    v = int(text)
    if not 1 <= v <= limit:
        raise ParseError(f"{what} {v} outside 1..{limit}", path=str(path), line=lineno)
    return v


def _exact_value(text: str, path: Path, lineno: int) -> Fraction:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ParseError(f"not a finite exact number: {text!r}", path=str(path),
                         line=lineno) from None


def _keyed(path: Path, fields: int, limits: tuple[int, int],
           what: tuple[str, str]) -> dict:
    """``{(i, j): (lineno, rest of the fields)}`` with a repeated key an error."""
    out: dict = {}
    for lineno, parts in _suite_lines(path, fields):
        key = (_index(parts[0], limits[0], path, lineno, what[0]),
               _index(parts[1], limits[1], path, lineno, what[1]))
        if key in out:
            raise ParseError(f"{what[0]} {key[0]}, {what[1]} {key[1]} given twice (first on "
                             f"line {out[key][0]})", path=str(path), line=lineno)
        out[key] = (lineno, parts[2:])
    return out


def _entries(M: Any, d: int) -> dict:
    """``{(row, col): value}`` of an integer CSR matrix (scipy or IntCSR) over ``d``."""
    rows = np.repeat(np.arange(len(M.indptr) - 1), np.diff(M.indptr))
    return {(int(i), int(j)): Fraction(int(v), d)
            for i, j, v in zip(rows, M.indices, M.data, strict=True) if v != 0}


def _source_is_network(root: Path, man: dict) -> bool:
    """Whether ``source/`` (the build folder a suite came from) is exactly the network and
    inputs that the suite's own files certify."""
    from symdnn.io.graphchallenge import read_layer

    src = _netdir_source(root / "source", None)
    par = man["parameters"]
    if src.rule != par["bias_rule"] or \
            (None if src.cap is None else str(src.cap)) != par["cap"]:
        return False
    (xp, xi, xn, _), xs = _exact_images(root / "inputs.tsv", par["inputs"], par["features"])
    X = src.inputs.tocsr()
    X.sort_indices()
    mine = {(int(r), int(c)): Fraction(int(v), src.inputs_s) for r, c, v in zip(*_coo(X),
                                                                               strict=True)}
    rows = np.repeat(np.arange(len(xp) - 1), np.diff(xp))
    theirs = {(int(r), int(c)): Fraction(int(v), xs) for r, c, v in zip(rows, xi, xn,
                                                                        strict=True)}
    if mine != theirs:
        return False
    layers = list(src.stream())
    if len(layers) != par["layers"]:
        return False
    for l, (N, d, nb, db) in enumerate(layers, 1):
        g = read_layer(root / "network" / f"n{par['neurons']}-l{l}.tsv", par["neurons"])
        r, c = man["shapes"][str(l)]
        if tuple(N.shape) != (r, c) or _entries(N, d) != _entries(g.N, g.d):
            return False
        b_all = man["values"].get(f"bias{l}")
        srcb = [Fraction(0)] * c if nb is None else [Fraction(int(v), db) for v in nb]
        if b_all is not None and any(b != Fraction(b_all) for b in srcb):
            return False
    return True


def _read_exact_tsv(path: Path) -> dict:
    """``{(image, neuron): value text}`` of an expected file (3 fields exact, 4 rounded)."""
    fields = 3 if path.name == "exact.tsv" else 4
    return {k: rest[0] for k, (_, rest) in
            _keyed(path, fields, (1 << 62, 1 << 62), ("image", "neuron")).items()}


def _exact_images(path: Path, n_rows: int, n_cols: int) -> tuple[Any, int]:
    """Inputs with exact (possibly fractional) values: ``(indptr, indices, numerators,
    shape)`` over one common denominator ``s``, numerators of any size."""
    import math

    from symdnn.domains.rational import ints

    entries = _keyed(path, 3, (n_rows, n_cols), ("image", "feature"))
    keys = sorted(entries)
    vals = [_exact_value(entries[k][1][0], path, entries[k][0]) for k in keys]
    s = math.lcm(*[v.denominator for v in vals]) if vals else 1
    nums = ints([v.numerator * (s // v.denominator) for v in vals])
    rows = np.array([k[0] - 1 for k in keys], dtype=np.int64)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    indices = np.array([k[1] - 1 for k in keys], dtype=np.int64)
    return (indptr, indices, nums, (n_rows, n_cols)), s


@dataclass
class Grade:
    """The outcome of :func:`grade_suite`: ``off`` lists the outputs that differ."""

    ok: bool
    off: list
    categories_match: bool
    compared: int
    fmt: str | None

    def to_json(self) -> dict:
        """A JSON-ready dict: the verdict and every output that is off."""
        return {"ok": self.ok, "compared": self.compared, "format": self.fmt,
                "categories_match": self.categories_match,
                "off": [{k: (v if isinstance(v, int | float | None) else str(v))
                         for k, v in o.items()} for o in self.off]}

    def to_markdown(self) -> str:
        """The verdict and every output that is off, in Markdown."""
        from symdnn.results import markdown_from_text

        return markdown_from_text("symdnn suite grade", self.summary(limit=len(self.off)))

    def summary(self, limit: int = 10) -> str:
        """The verdict, then the first ``limit`` outputs that are off."""
        head = (f"{'PASS' if self.ok else 'FAIL'}: {self.compared} outputs compared"
                f"{' in ' + self.fmt if self.fmt else ' exactly'}; {len(self.off)} off; "
                f"categories {'match' if self.categories_match else 'DIFFER'}")
        lines = [head] + [f"  image {o['image']}, neuron {o['neuron']}: expected "
                          f"{o['expected']}, got {o['got']}"
                          + (f" ({o['ulps']} ulps)" if o.get("ulps") is not None else "")
                          for o in self.off[:limit]]
        if len(self.off) > limit:
            lines.append(f"  ... and {len(self.off) - limit} more")
        return "\n".join(lines)


def _result_value(text: str, fmt: str | None) -> Any:
    """An implementation's output value: exact (``fmt`` None), else rounded once, correctly,
    into ``fmt`` from the exact value the decimal or hex string spells."""
    from symdnn.domains import narrow, round_exact

    if "0x" in text.lower():
        v = float.fromhex(text)
        if fmt is None:
            return Fraction(v)
        return float(narrow(np.array([v]), fmt)[0])
    if text.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        raise ParseError(text)
    q = Fraction(text)
    return q if fmt is None else float(round_exact(q, fmt))


def grade_suite(folder: str | os.PathLike, results: str | os.PathLike, *,
                fmt: str | None = None, max_ulp: int = 0) -> Grade:
    """Grade an implementation's outputs (``image<TAB>neuron<TAB>value`` lines, 1-based;
    values as decimals or C99 hex floats) against a suite.

    With ``fmt``, each output must be within ``max_ulp`` ulps of the correctly rounded
    expected value in that format; without, it must equal the exact output.
    """
    from symdnn.domains import ulp_distance

    root = Path(folder)
    got: dict = {}
    from symdnn.io.text import read_text

    path = Path(results)
    text = read_text(str(path))
    first_line: dict = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ParseError(f"expected 3 tab-separated fields (image, neuron, value), found "
                             f"{len(parts)}", path=str(path), line=lineno)
        try:
            key = (int(parts[0]), int(parts[1]))
        except ValueError:
            raise ParseError("image and neuron must be integers", path=str(path),
                             line=lineno) from None
        if key[0] < 1 or key[1] < 1:
            raise ParseError(f"indices are 1-based, not {key}", path=str(path), line=lineno)
        if key in first_line:
            raise ParseError(f"image {key[0]}, neuron {key[1]} given twice (first on line "
                             f"{first_line[key]})", path=str(path), line=lineno)
        first_line[key] = lineno
        v = parts[2].strip()
        try:
            got[key] = _result_value(v, fmt)
        except (ValueError, ZeroDivisionError, OverflowError):
            raise ParseError(f"value {v!r} is not a finite decimal, fraction or hex float",
                             path=str(path), line=lineno) from None
    off = []
    if fmt is None:
        want = {k: Fraction(v) for k, v in _read_exact_tsv(root / "expected" /
                                                          "exact.tsv").items()}
        for k in sorted(set(want) | set(got)):
            e, g = want.get(k, Fraction(0)), Fraction(got.get(k, 0))
            if e != g:
                off.append({"image": k[0], "neuron": k[1], "expected": str(e), "got": str(g),
                            "ulps": None})
    else:
        want = {k: float.fromhex(v) for k, v in _read_exact_tsv(root / "expected" /
                                                               f"{fmt}.tsv").items()}
        keys = sorted(set(want) | set(got))
        e = np.array([want.get(k, 0.0) for k in keys])
        g = np.array([float(got.get(k, 0.0)) for k in keys])  # values of fmt, exact
        ul = ulp_distance(e, g, fmt) if len(keys) else np.zeros(0, dtype=np.int64)
        for i in np.flatnonzero(ul > max_ulp):
            off.append({"image": keys[i][0], "neuron": keys[i][1],
                        "expected": repr(float(e[i])), "got": repr(float(g[i])),
                        "ulps": int(ul[i])})
    cats = sorted({k[0] for k, v in got.items() if v != 0})
    listed = [int(x) for x in (root / "categories.tsv").read_text().split()]
    match = cats == listed
    return Grade(not off and match, off, match, len(set(want) | set(got)), fmt)
