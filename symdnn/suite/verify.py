"""Verifying a certified suite two independent ways: symdnn recomputes every expected file
exactly from the suite's own network and inputs and checks every hash; the suite's shipped
``check.py`` (standard library only) runs in a subprocess."""

from __future__ import annotations

import functools
import math
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from symdnn.analysis import analyze
from symdnn.constructions import load_construction
from symdnn.domains import round_ratio
from symdnn.domains.rational import ints
from symdnn.engines import exact as EX
from symdnn.errors import ParseError, SymdnnError
from symdnn.io.graphchallenge import read_layer
from symdnn.io.text import MAX_DIGITS, exact_number
from symdnn.results import markdown_from_text
from symdnn.suite.build import CHECKER, suite_stream
from symdnn.suite.integrity import (
    load_manifest,
    regular_rows,
    root_digest,
    show_value,
    structure_problems,
    suite_lines,
)

__all__ = ["SuiteCheck", "verify_suite", "run_checker", "MAX_WORK"]

#: the most neuron values a suite may ask for through layers with one bias for every neuron
#: under rule "all" (each makes every neuron of every image nonzero): (images with an input
#: line + 1) x their total width; check.py holds the same bound
MAX_WORK = 1 << 24


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
        foreign = [p for p in self.problems if p.startswith("check.py: not the checker")]
        if foreign:  # a reason for the verdict: say it whether or not a checker ran
            lines += foreign
        elif ck is None:
            lines.append("check.py: not run (--no-checker)")
        else:
            lines.append(f"check.py: {ck['verdict']} (exit {ck['exit']})")
            if ck["exit"] != 0:
                lines += [f"  | {line}" for line in ck["output"].splitlines()[:12]]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Both verdicts in Markdown."""
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
    >>> from symdnn.suite import build_suite
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
    files (appends to ``problems`` and ``checked``).

    Only the images that have a line in inputs.tsv are computed, and one all-zero image for
    every other image 1..inputs: the work grows with the files, never with the sizes the
    manifest declares (see :func:`_check_work`)."""
    par = man["parameters"]
    n, L = par["neurons"], par["layers"]
    images, (xp, xi, xn, xshape), Xs = _exact_images(root / "inputs.tsv", par["inputs"],
                                                      par["features"])
    _check_work(man, len(images))
    st = EX.start(xp, xi, xn, Xs, xshape)
    cap = None
    if par["cap"] is not None:
        c = exact_number(par["cap"])
        cap = (c.numerator, c.denominator)
    per_neuron: dict = {}
    bias_file = root / "network" / "bias.tsv"
    if bias_file.is_file():
        for (l, j), (lineno, rest) in _keyed(bias_file, 3, (L, n),
                                             ("layer", "neuron")).items():
            if f"bias{l}" in man["values"] or j > man["shapes"][str(l)][1]:
                raise ParseError(f"layer {l} neuron {j} has no such bias",
                                 path=str(bias_file), line=lineno)
            per_neuron.setdefault(l, {})[j - 1] = _exact_value(rest[0], bias_file, lineno)
    for l in range(1, L + 1):
        path = root / "network" / f"n{n}-l{l}.tsv"
        rows_in, cols_out = man["shapes"][str(l)]
        regular = regular_rows(path, 3, (rows_in, cols_out))
        if regular is not None:  # each distinct spelling once, in the suite's grammar
            values = regular[2][0]
            for text in set(values):
                if not _readable(text):  # raises, naming the first line that holds it
                    _exact_value(text, path, 1 + values.index(text))
        else:
            values = []
            for lineno, rest in _keyed(path, 3, (rows_in, cols_out),
                                       ("row", "column")).values():
                _exact_value(rest[0], path, lineno)  # the suite's grammar, stricter than GC's
                values.append(rest[0])
        _check_magnitude(sorted(set(values), key=values.index), path)
        g = read_layer(path, n)
        N = g.N[:rows_in, :cols_out].tocsr()
        b_all = man["values"].get(f"bias{l}")
        width = N.shape[1]
        if b_all is not None:
            b = exact_number(b_all)
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
    k = len(images)
    explicit: dict = {}  # image -> {neuron: numerator over s}
    zero: dict = {}  # the row of every image without an input line
    for r, c, v in zip(rows, idx, num, strict=True):
        (zero if r == k else explicit.setdefault(images[r], {}))[int(c) + 1] = int(v)
    for i in images:
        if i not in explicit and zero:  # an image whose outputs are all 0, unlike the others
            explicit[i] = {}
    # an image whose outputs are the all-zero image's is left to _expand, like the others
    explicit = {i: row for i, row in explicit.items() if row != zero}
    last = man["shapes"][str(L)][1]
    exact_file = root / "expected" / "exact.tsv"
    want = {k: _exact_value(rest[0], exact_file, lineno) for k, (lineno, rest) in
            _keyed(exact_file, 3, (par["inputs"], last), ("image", "neuron")).items()}
    cpath = root / "categories.tsv"
    listed = [_index(parts[0], par["inputs"], cpath, lineno, "image")
              for lineno, parts in _suite_lines(cpath, 1)]
    outnum = _expand(explicit, zero, par["inputs"], len(want))
    if outnum is None:
        problems.append(f"expected/exact.tsv: every image without an input line has "
                        f"{len(zero)} nonzero outputs, {par['inputs'] - len(explicit)} such "
                        f"images, more than the file's {len(want)} entries")
        return
    got = {key: Fraction(v, s) for key, v in outnum.items()}
    if got != want:
        diff = sorted(set(got.items()) ^ set(want.items()))[:3]
        problems.append(f"expected/exact.tsv: {len(set(got.items()) ^ set(want.items()))} "
                        f"entries differ from the recomputation, e.g. "
                        f"[{', '.join(show_value(d) for d in diff)}]")
    checked.append(f"{len(want)} exact outputs")
    keys = sorted(outnum)
    nums = ints([outnum[key] for key in keys])
    for fmt in par["formats"]:
        rounded = round_ratio(nums, s, fmt).astype(np.float64)
        mine = {key: float(v).hex() for key, v in zip(keys, rounded, strict=True)}
        fpath = root / "expected" / f"{fmt}.tsv"
        theirs = {}
        for key, (lineno, (hx, dec)) in _keyed(fpath, 4, (par["inputs"], last),
                                               ("image", "neuron")).items():
            try:
                v = float.fromhex(hx)
            except (ValueError, OverflowError):
                raise ParseError(f"not a hex float: {hx[:40]!r}", path=str(fpath),
                                 line=lineno) from None
            if v.hex() != hx or repr(v) != dec:
                problems.append(f"expected/{fmt}.tsv:{lineno}: {hx[:40]} {dec[:40]} is not a "
                                "value written as float.hex() and repr()")
            theirs[key] = hx
        if mine != theirs:
            problems.append(f"expected/{fmt}.tsv: differs from the correctly rounded exact "
                            "outputs")
        checked.append(f"{len(theirs)} {fmt} outputs")
    cats = sorted({i for i, _ in outnum})
    if cats != listed:
        problems.append("categories.tsv: differs from the recomputed categories")
    if (root / "thresholds.csv").is_file():
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


def _check_magnitude(spellings: list, path: Path) -> None:
    """Refuse, before a common denominator of thousands of digits is formed, a layer whose
    weights over their common denominator need an integer of magnitude 2**62 or more (the
    bound read_layer applies; check.py's twin check gives the same verdict): the weight of
    least denominator q is at least D / q in magnitude."""
    D, least = 1, None
    for text in spellings:
        q = _number(text)
        if not q:
            continue
        if D % q.denominator:
            D = D * q.denominator // math.gcd(D, q.denominator)
        least = q.denominator if least is None else min(least, q.denominator)
        if D >= (1 << 62) * least:
            raise ParseError(f"value {_shown(text)!r} is out of range: over the layer's common "
                             "denominator it needs an integer of magnitude 2**62 or more, or "
                             "another weight does", path=str(path))


def _check_work(man: dict, images: int) -> None:
    """Refuse, before anything is allocated for them, the neuron values that layers with one
    bias for every neuron ask for under rule "all": every neuron of every computed image
    (``images`` with an input line, and the all-zero image) is then nonzero."""
    par = man["parameters"]
    if par["bias_rule"] != "all":
        return
    dense = sum(man["shapes"][str(l)][1] for l in range(1, par["layers"] + 1)
                if f"bias{l}" in man["values"])
    work = (images + 1) * dense
    if work > MAX_WORK:
        raise ParseError(f"a one-value bias on every neuron of layers {dense} neurons wide in "
                         f"all, for {images + 1} distinct images, is {work} neuron values, "
                         f"more than the {MAX_WORK} a verifier computes",
                         path="manifest.json")


def _expand(explicit: dict, zero: dict, inputs: int, bound: int) -> dict | None:
    """``{(image, neuron): numerator}`` of every nonzero output: the computed images', and
    the all-zero image's row for every other image 1..inputs; None when those other images
    alone have more than ``bound`` outputs (no expected file of ``bound`` entries can list
    them: they are not enumerated)."""
    out = {(i, j): v for i, row in explicit.items() for j, v in row.items()}
    others = inputs - len(explicit)
    if zero and others:
        if others * len(zero) > bound:
            return None
        for i in range(1, inputs + 1):
            if i not in explicit:
                out.update(((i, j), v) for j, v in zero.items())
    return out


def _suite_lines(path: Path, fields: int) -> list[tuple[int, list[str]]]:
    """The non-blank lines of a suite file (see :func:`~symdnn.suite.integrity.suite_lines`)."""
    return suite_lines(path, fields)


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _index(text: str, limit: int, path: Path, lineno: int, what: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
        raise ParseError(f"{what} {_shown(text)!r} is not a 1-based index", path=str(path),
                         line=lineno)
    v = int(text)
    if not 1 <= v <= limit:
        raise ParseError(f"{what} {_shown(text)} outside 1..{limit} (indices are 1-based)",
                         path=str(path), line=lineno)
    return v


@functools.lru_cache(maxsize=1 << 16)
def _number(text: str) -> Fraction:
    """:func:`~symdnn.io.text.exact_number`, once per distinct spelling (outputs repeat)."""
    return exact_number(text)


def _readable(text: str) -> bool:
    """Whether ``text`` is an exact number in the suite's grammar."""
    try:
        _number(text)
    except ValueError:
        return False
    return True


def _exact_value(text: str, path: Path, lineno: int) -> Fraction:
    try:
        return _number(text)
    except ValueError as exc:
        raise ParseError(f"not an exact number: {exc}", path=str(path), line=lineno) from None


def _keyed(path: Path, fields: int, limits: tuple[int, int],
           what: tuple[str, str]) -> dict:
    """``{(i, j): (lineno, rest of the fields)}`` with a repeated key an error."""
    regular = regular_rows(path, fields, limits)
    if regular is not None:  # the usual file, read at once (a regular file has no blank line)
        i, j, rest = regular
        return {(a, b): (n, list(r)) for n, (a, b, *r) in
                enumerate(zip(i.tolist(), j.tolist(), *rest, strict=True), 1)}
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
    src = suite_stream(root / "source", None, None, None)
    par = man["parameters"]
    if src.rule != par["bias_rule"] or \
            (None if src.cap is None else str(src.cap)) != par["cap"]:
        return False
    images, (xp, xi, xn, _), xs = _exact_images(root / "inputs.tsv", par["inputs"],
                                                 par["features"])
    mine = {(int(r), int(c)): Fraction(int(v), src.scale)
            for r, c, v in zip(*src.input_entries(), strict=True)}
    rows = np.repeat(np.arange(len(xp) - 1), np.diff(xp))
    theirs = {(images[r] - 1, int(c)): Fraction(int(v), xs)
              for r, c, v in zip(rows, xi, xn, strict=True)}
    if mine != theirs:
        return False
    layers = [ly.exact for ly in src.layers()]
    if len(layers) != par["layers"]:
        return False
    for l, ly in enumerate(layers, 1):
        N, d, nb, db = ly.NW, ly.dW, ly.nb, ly.db
        g = read_layer(root / "network" / f"n{par['neurons']}-l{l}.tsv", par["neurons"])
        r, c = man["shapes"][str(l)]
        if tuple(N.shape) != (r, c) or _entries(N, d) != _entries(g.N, g.d):
            return False
        b_all = man["values"].get(f"bias{l}")
        srcb = [Fraction(0)] * c if nb is None else [Fraction(int(v), db) for v in nb]
        if b_all is not None and any(b != Fraction(b_all) for b in srcb):
            return False
    return True


def _exact_images(path: Path, n_rows: int, n_cols: int) -> tuple[list, Any, int]:
    """The inputs of the images that have a line, and one all-zero image after them:
    ``(images, (indptr, indices, numerators, shape), s)``, row r < len(images) image
    ``images[r]``, numerators of any size over one common denominator ``s``. Nothing here
    grows with ``n_rows`` (the declared number of images)."""
    entries = _keyed(path, 3, (n_rows, n_cols), ("image", "feature"))
    keys = sorted(entries)
    vals = [_exact_value(entries[k][1][0], path, entries[k][0]) for k in keys]
    s = math.lcm(*[v.denominator for v in vals]) if vals else 1
    nums = ints([v.numerator * (s // v.denominator) for v in vals])
    images = sorted({k[0] for k in keys})
    row_of = {img: r for r, img in enumerate(images)}
    rows = np.array([row_of[k[0]] for k in keys], dtype=np.int64)
    indptr = np.zeros(len(images) + 2, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(images) + 1), out=indptr[1:])
    indices = np.array([k[1] - 1 for k in keys], dtype=np.int64)
    return images, (indptr, indices, nums, (len(images) + 1, n_cols)), s
