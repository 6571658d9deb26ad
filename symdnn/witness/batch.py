"""Every counterexample of a VNN-COMP results folder, replayed exactly, one network at a time.

The layouts of VNN-COMP 2021-2025
---------------------------------
Results (``vnncomp20XX_results``): ``<tool>/<category>/<network>_<property>.counterexample``,
optionally ``.gz``. From 2023 the category carries the year the benchmark was first run
(``2023_acasxu``, ``2024_safenlp``, ``2025_cersyve``) and the benchmarks repository the bare
name; 2025 names safenlp's files ``medical_<network>_<property>``. A tool's
``results.csv`` (``<tool>/results.csv`` in 2022-2023, ``<tool>/<category>/results.csv`` from
2024: category, network path, property path, times, result) says which network and property
each name stands for. 2021 published no counterexample files.

Benchmarks (``vnncomp20XX_benchmarks``): ``[benchmarks/]<category>/onnx/<network>.onnx`` and
``<category>/vnnlib/<property>.vnnlib`` (either optionally ``.gz``, possibly in subfolders such
as safenlp's ``medical/``), or, as in 2021 and the ``test`` category, the files anywhere in the
category's folder; ``instances.csv`` (``network, property, timeout`` per line, paths relative
to the category's folder; 2021 also ``<category>_instances.csv`` and ``instance.csv``).

A counterexample's name is resolved by the instance lists first (``instances.csv`` and the
tool's ``results.csv``: the competition names a file ``<stem of the network>_<stem of the
property>``), then by splitting the name where a network and a property of the category both
exist; a name that splits two ways is a refused row, not a guess.

Nothing is skipped silently: every ``*.counterexample[.gz]`` file under the results folder is
a row, decided or refused with a named reason (``refusal``): an empty file, a misplaced one, a
name no network and property make, a file that cannot be read, inputs or outputs that do not fit
the network, an operator not supported. A file that holds several counterexamples one after
another (ROVER, 2025) gives one row for each (``ce_index`` of ``ce_count``), each decided
exactly, with the competition's verdict on the whole file (``wrong_shape``).

Memory: the work is grouped by network, and each network is imported once, replays its
counterexamples and is released before the next: a batch needs the memory of its largest
network, not of its number of files. ``jobs`` runs the networks in that many processes.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import math
import os
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symdnn.errors import ArgumentError, GraphError, ParseError, RefusedError, SymdnnError
from symdnn.io.vnnlib import read_counterexample, read_vnnlib
from symdnn.witness import graph as _graph
from symdnn.witness import replay as _replay
from symdnn.witness import summary as _summary
from symdnn.witness.rules import check_rules, vnncomp_refused

# the modules are imported, not their functions: _graph.import_onnx and _replay.replay are
# looked up each time a batch runs, so a caller (or a test) that replaces one is obeyed

__all__ = ["BatchReport", "replay_results", "find_counterexamples", "COLUMNS"]

#: the CSV columns, in order
COLUMNS = ["tool", "category", "network", "property", "ce_index", "ce_count", "genuine",
           "input_in_box", "input_in_box_float32", "violates", "violates_as_written", "margin",
           "margin_float", "input_margin", "decided_by", "precision", "undecided",
           "undecided_reason", "vnncomp_rules", "vnncomp_verdict", "accepted_by_tolerance",
           "malformed", "refusal", "error", "counterexample"]

_CE_SUFFIXES = (".counterexample.gz", ".counterexample")
_NET_SUFFIXES = (".onnx.gz", ".onnx")
_PROP_SUFFIXES = (".vnnlib.gz", ".vnnlib")
_INSTANCE_LISTS = re.compile(r"(.*_)?instances?\.csv\Z")


def _strip(name: str, suffixes: tuple[str, ...]) -> str | None:
    for s in suffixes:
        if name.endswith(s) and len(name) > len(s):
            return name[: -len(s)]
    return None


@dataclass
class CounterexampleFile:
    """A counterexample file a verifier wrote in a VNN-COMP results tree: the tool, the
    benchmark category, the file, and the instance name (its stem); ``misplaced`` when it is
    not at ``<tool>/<category>/``."""

    tool: str
    category: str
    path: Path
    name: str
    misplaced: bool = False


def _walk(root: Path) -> Any:
    """``(folder, sorted file names)`` under ``root``, sorted, linked folders followed once
    each (a link back up the tree is no loop)."""
    seen: set[str] = set()
    for d, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(d)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        dirs.sort()
        yield d, sorted(files)


def find_counterexamples(results: Any) -> list[CounterexampleFile]:
    """Every ``*.counterexample[.gz]`` file under a results folder, sorted; those not at
    ``<tool>/<category>/`` are marked ``misplaced`` (the batch refuses them, naming why).

    Examples
    --------
    >>> # VNNCOMP_RESULTS: tests/data/vnncomp/results (three counterexamples of one tool)
    >>> [(c.tool, c.category, c.name) for c in find_counterexamples(VNNCOMP_RESULTS)][0]
    ('mn_bab', 'acasxu', 'ACASXU_run2a_1_2_batch_2000_prop_2')
    """
    root = Path(results)
    if not root.is_dir():
        raise ArgumentError(f"results={str(results)!r} is not a folder")
    out = []
    for d, files in _walk(root):
        rel = Path(d).relative_to(root).parts
        for f in files:
            stem = _strip(f, _CE_SUFFIXES)
            if stem is None:  # os.walk lists folders apart: anything else is a row
                continue
            tool = rel[0] if rel else ""
            cat = rel[1] if len(rel) > 1 else ""
            out.append(CounterexampleFile(tool, cat, Path(d) / f, stem, len(rel) != 2))
    return out


def _empty(path: Path) -> bool:
    """A counterexample file with nothing in it (a tool that found none writes that)."""
    if path.stat().st_size == 0:
        return True
    if path.name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as fh:
                return not fh.read(4096).strip()
        except (OSError, EOFError):
            return False
    return False


# ---------------------------------------------------------------------------- benchmarks
def _category_folder(bench: Path, category: str) -> Path | None:
    """The benchmarks folder of a results category: ``<category>``, or without the year
    prefix the results repositories add from 2023 (``2023_acasxu`` -> ``acasxu``), under
    ``bench`` or its ``benchmarks/``."""
    names = [category]
    if re.match(r"\d{4}_.", category):
        names.append(category[5:])
    for name in names:
        for base in (bench, bench / "benchmarks"):
            if name and (base / name).is_dir():
                return base / name
    return None


@dataclass
class _Category:
    """What a benchmark category holds: networks and properties by name (each name to the
    files it may mean), and the instances listed (counterexample name -> (network file,
    property file))."""

    folder: Path
    nets: dict[str, list[Path]] = field(default_factory=dict)
    props: dict[str, list[Path]] = field(default_factory=dict)
    instances: dict[str, set[tuple[Path, Path]]] = field(default_factory=dict)

    def key_of(self, path: Path, kind: str) -> str:
        """The name a row gives a file: its path below ``onnx/`` (``vnnlib/``) without the
        suffix, as the competition names it (``medical/x``), or its stem elsewhere."""
        suffixes = _NET_SUFFIXES if kind == "onnx" else _PROP_SUFFIXES
        stem = _strip(path.name, suffixes) or path.name
        rel = path.relative_to(self.folder).parts[:-1]
        return "/".join([*rel[1:], stem]) if rel and rel[0] == kind else stem


def _names(path: Path, folder: Path, suffixes: tuple[str, ...], top: str) -> list[str]:
    """The names a file goes by: its stem, and its path below ``top`` (``onnx``/``vnnlib``)
    or the category's folder joined by ``_`` (safenlp's ``medical/x`` is ``medical_x``)."""
    stem = _strip(path.name, suffixes)
    rel = list(path.relative_to(folder).parts[:-1])
    if rel and rel[0] == top:
        rel = rel[1:]
    out = [stem]
    if rel:
        out.append("_".join(rel + [stem]))
    return out


def _index_category(folder: Path) -> _Category:
    cat = _Category(folder)
    for d, files in _walk(folder):
        for f in files:
            p = Path(d) / f
            for suffixes, top, where in ((_NET_SUFFIXES, "onnx", cat.nets),
                                         (_PROP_SUFFIXES, "vnnlib", cat.props)):
                if _strip(f, suffixes) is None:
                    continue
                for n in _names(p, folder, suffixes, top):
                    same = [q for q in where.setdefault(n, [])
                            if _strip(str(q), (".gz",)) == _strip(str(p), (".gz",))]
                    if not same:  # x.onnx beside x.onnx.gz: one network
                        where[n].append(p)
    for p in sorted(folder.iterdir()):
        if p.is_file() and _INSTANCE_LISTS.match(p.name):
            _read_instances(p, cat, relative_to=folder)
    return cat


def _resolve(field_: str, cat: _Category, relative_to: Path | None, kind: str) -> Path | None:
    """The file an instance list's path names: relative to the category's folder, or
    re-rooted there from the part after its ``onnx``/``vnnlib`` or category folder (a
    ``results.csv`` holds the paths of the machine that ran it), or by its name."""
    parts = Path(field_.strip()).parts
    if not parts:
        return None
    if relative_to is not None and (relative_to / field_.strip()).is_file():
        return relative_to / field_.strip()
    for anchor in (kind, cat.folder.name):
        if anchor in parts[:-1]:
            k = len(parts) - 1 - parts[::-1].index(anchor)
            for tail in (parts[k:], parts[k + 1:]):
                p = cat.folder.joinpath(*tail)
                for q in (p, Path(str(p) + ".gz")):
                    if q.is_file():
                        return q
    where = cat.nets if kind == "onnx" else cat.props
    stem = _strip(parts[-1], _NET_SUFFIXES if kind == "onnx" else _PROP_SUFFIXES)
    found = where.get(stem or "", [])
    return found[0] if len(found) == 1 else None


def _read_instances(path: Path, cat: _Category, *, relative_to: Path | None) -> None:
    """Add the instances an ``instances.csv`` or a tool's ``results.csv`` lists: each line
    names a network (``.onnx[.gz]``) and a property (``.vnnlib[.gz]``); lines that name files
    this benchmarks folder does not hold are left out (another category's, or absent)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for fields in csv.reader(io.StringIO(text)):
        net = next((f for f in fields if _strip(f.strip(), _NET_SUFFIXES)), None)
        prop = next((f for f in fields if _strip(f.strip(), _PROP_SUFFIXES)), None)
        if net is None or prop is None:
            continue
        n, p = _resolve(net, cat, relative_to, "onnx"), _resolve(prop, cat, relative_to,
                                                                  "vnnlib")
        if n is None or p is None:
            continue
        nn = _names(n, cat.folder, _NET_SUFFIXES, "onnx")
        pn = _names(p, cat.folder, _PROP_SUFFIXES, "vnnlib")
        for a in nn:  # 2025's safenlp: also medical_<network>_<property>
            for b in pn:
                cat.instances.setdefault(f"{a}_{b}", set()).add((n, p))


def _split(name: str, cat: _Category, category: str) -> tuple[str, str, Path, Path]:
    """Network and property of a counterexample name: listed, or split where both exist."""
    listed = cat.instances.get(name, set())
    if len(listed) == 1:
        (n, p), = listed
        return cat.key_of(n, "onnx"), cat.key_of(p, "vnnlib"), n, p
    ways = [(name[:k], name[k + 1:]) for k in range(1, len(name) - 1)
            if name[k] == "_" and name[:k] in cat.nets and name[k + 1:] in cat.props]
    if len(ways) == 1:
        net, prop = ways[0]
        for what, key, found in (("network", net, cat.nets[net]),
                                 ("property", prop, cat.props[prop])):
            if len(found) > 1:
                raise RefusedError("ambiguous name", f"the {what} name {key!r} names "
                               f"{len(found)} files in category {category!r}: "
                               + ", ".join(str(f.relative_to(cat.folder)) for f in found))
        n, p = cat.nets[net][0], cat.props[prop][0]
        return cat.key_of(n, "onnx"), cat.key_of(p, "vnnlib"), n, p
    if ways or len(listed) > 1:
        alts = ways or [(cat.key_of(n, "onnx"), cat.key_of(p, "vnnlib"))
                        for n, p in sorted(listed)]
        raise RefusedError("ambiguous name", f"the name {name!r} splits two ways in category "
                       f"{category!r}: " + " or ".join(f"network {n!r} and property {p!r}"
                                                       for n, p in alts))
    raise RefusedError("no network and property", f"no network and property of category "
                   f"{category!r} make the name {name!r} (networks: {len(cat.nets)}, "
                   f"properties: {len(cat.props)})")


# ---------------------------------------------------------------------------- replay
_OP = re.compile(r"operator (\S+) is not supported")


def _refusal(exc: BaseException) -> str:
    """A short name for why a counterexample could not be decided (the ``refusal`` key)."""
    if isinstance(exc, RefusedError):
        return exc.refusal
    msg = str(exc)
    m = _OP.search(msg)
    if m:
        return f"unsupported operator {m.group(1).strip(chr(39))}"
    if isinstance(exc, ParseError):
        return "unreadable file"
    if "inputs, the network takes" in msg:
        return "inputs do not fit the network"
    if "outputs, the network has" in msg:
        return "outputs do not fit the network"
    if isinstance(exc, GraphError):
        return "network not replayable"
    if isinstance(exc, MemoryError):
        return "out of memory"
    if not isinstance(exc, SymdnnError):
        return "internal error"
    return "not replayable"


def _error_row(labels: dict, exc: BaseException) -> dict:
    if isinstance(exc, MemoryError):
        msg = "out of memory"
    elif isinstance(exc, SymdnnError):
        msg = str(exc)
    else:  # a bug: one counterexample must not cost the others
        msg = f"internal error (please report): {type(exc).__name__}: {exc}"
    return {**labels, "genuine": None, "vnncomp_verdict": getattr(exc, "verdict", None),
            "accepted_by_tolerance": False, "malformed": labels.get("malformed"),
            "refusal": _refusal(exc), "error": msg}


def _n_outputs(graph: Any) -> int | None:
    """The elements of the first output as declared (symbolic dimensions as 1), or None."""
    shape = getattr(graph.outputs[0], "shape", None) if getattr(graph, "outputs", None) else None
    if shape is None:
        return None
    return math.prod(d if isinstance(d, int) and d > 0 else 1 for d in shape)


def _replay_file(graph: Any, item: tuple, props: dict, onnxruntime: bool,
                 rules: str) -> list[dict]:
    """The rows of one counterexample file on its network (one, or one per counterexample
    of a file holding several)."""
    _, ce_path, prop_path, labels = item
    try:
        ce = read_counterexample(ce_path)
        if ce.malformed:
            labels = {**labels, "malformed": ce.malformed}
        if prop_path not in props:
            props.clear()  # one property kept: the next file most often has the same
            props[prop_path] = read_vnnlib(prop_path)
        prop = props[prop_path]
        n_in = math.prod(graph.input_shape)
        n_out = _n_outputs(graph)
        nx, ny = len(ce.inputs), len(ce.outputs)
        k = nx // n_in if n_in and nx % n_in == 0 else 0
        parts = [ce]
        outputs_unfit = False
        if nx != n_in:
            if k < 2:
                raise RefusedError("inputs do not fit the network",
                                   f"{ce_path}: the counterexample has {nx} inputs, the "
                                   f"network takes {n_in}",
                                   vnncomp_refused(nx, n_in, ny, n_out, rules=rules))
            aside = ny % k or (n_out is not None and ny not in (0, k * n_out))
            parts = dataclasses.replace(ce, outputs=[]).split(k) if aside else ce.split(k)
            labels = {**labels, "malformed": (
                f"holds {k} counterexamples one after another ({nx} inputs for a network of "
                f"{n_in}, {ny} outputs): each is decided as its own row (ce_index)"
                + ("; the written outputs do not divide among them and are set aside"
                   if aside else "")
                + "; the competition's checker decides the file as a whole: wrong_shape"
                + (f"; {ce.malformed}" if ce.malformed else ""))}
        elif n_out is not None and ny and ny != n_out:
            # the claim is X: it is decided exactly whatever the file says Y is; the written
            # outputs are set aside, and the row says so with the competition's verdict
            unfit = vnncomp_refused(nx, n_in, ny, n_out, rules=rules)
            parts = [dataclasses.replace(ce, outputs=[])]
            checker = ("ignores written outputs (2026 rules): it replays the input" if
                       rules == "2026" else f"says {unfit}" if unfit else
                       "broadcasts the single value (not emulated: no verdict)")
            labels = {**labels, "malformed": (
                f"gives {ny} output values, the network has {n_out}: the written outputs "
                f"are set aside and the input is decided; the competition's checker {checker}"
                + (f"; {ce.malformed}" if ce.malformed else ""))}
            outputs_unfit = True
    except (SymdnnError, MemoryError) as exc:
        return [_error_row(labels, exc)]
    rows = []
    for i, part in enumerate(parts):
        lab = dict(labels, ce_index=i, ce_count=len(parts)) if len(parts) > 1 else labels
        try:
            w = _replay.replay(graph, prop, part, onnxruntime=onnxruntime, labels=lab,
                               rules=rules)
            row = w.to_json()
            row.update(malformed=lab.get("malformed"), refusal=None, error=None)
            if len(parts) > 1 or outputs_unfit and rules != "2026":
                row.update(vnncomp_verdict=vnncomp_refused(nx, n_in, ny, n_out, rules=rules),
                           accepted_by_tolerance=False)
            elif not ny and rules != "2026" and row.get("vnncomp_verdict") is not None:
                # through 2025 the checker subtracts the written outputs from onnxruntime's:
                # none written is numpy's ValueError, which it counts as exec_doesnt_match
                row.update(vnncomp_verdict="exec_doesnt_match", accepted_by_tolerance=False)
        except (SymdnnError, MemoryError) as exc:
            row = _error_row(lab, exc)
        except Exception as exc:
            row = _error_row(lab, exc)
        rows.append(row)
    return rows


def _replay_network(task: tuple) -> list[tuple[int, int, dict]]:
    """One job: import one network, replay its counterexamples, release it. Returns
    ``(order, part, row)`` for each row. A top-level function, so that a spawned process can
    run it."""
    net_path, items, onnxruntime, rules = task
    out: list[tuple[int, int, dict]] = []
    try:
        graph = _graph.import_onnx(net_path)
    except Exception as exc:  # the network fails once: its error for each of its files
        return [(it[0], 0, _error_row(it[3], exc)) for it in items]
    props: dict = {}
    try:
        for it in items:
            out.extend((it[0], j, row) for j, row in
                       enumerate(_replay_file(graph, it, props, onnxruntime, rules)))
    finally:
        del graph  # released before the next network is imported
        props.clear()
    return out


@dataclass
class BatchReport:
    """One row per counterexample (the keys of :data:`COLUMNS`, and each witness's JSON),
    the empty files among them, and the rules year of ``vnncomp_verdict``."""

    rows: list[dict] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    rules: str = "2025"

    @property
    def genuine(self) -> list[dict]:
        return [r for r in self.rows if r.get("genuine") is True]

    @property
    def not_genuine(self) -> list[dict]:
        return [r for r in self.rows if r.get("genuine") is False]

    @property
    def errors(self) -> list[dict]:
        return [r for r in self.rows if r.get("error")]

    @property
    def undecided(self) -> list[dict]:
        return [r for r in self.rows if r.get("undecided") and not r.get("error")]

    @property
    def tolerance_only(self) -> list[dict]:
        """Accepted by VNN-COMP's replay only thanks to its tolerance (or not genuine at
        all although accepted)."""
        return [r for r in self.rows if r.get("accepted_by_tolerance")]

    def to_json(self) -> dict:
        return {"counterexamples": len(self.rows), "genuine": len(self.genuine),
                "not_genuine": len(self.not_genuine), "undecided": len(self.undecided),
                "errors": len(self.errors),
                "accepted_only_by_tolerance": len(self.tolerance_only),
                "vnncomp_rules": self.rules, "empty_files": self.empty,
                "summary": _summary.summarize(self.rows),
                "refusals": dict(_summary.refusals(self.rows)), "rows": self.rows}

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS})
        return buf.getvalue()

    def summary(self) -> str:
        """One line: how many counterexamples, how many genuine, and the rest."""
        c = Counter(_summary.classify(r) for r in self.rows)
        return (f"{len(self.rows)} counterexamples: " + ", ".join(
            f"{c[k]} {_summary.LABELS[k]}" for k in _summary.CLASSES))

    def markdown(self) -> str:
        """The same as :meth:`to_markdown` (its older name)."""
        return self.to_markdown()

    def to_markdown(self) -> str:
        """The Markdown summary (:func:`symdnn.witness.summary.markdown`): the table per
        benchmark and tool, the refusals by reason, and the witnesses that are not genuine."""
        return _summary.markdown(self.rows, rules=self.rules)


def replay_results(results: Any, benchmarks: Any, *, onnxruntime: bool = True,
                   progress: Callable[[int, int], None] | None = None, jobs: int = 1,
                   rules: str = "2025") -> BatchReport:
    """Replay every counterexample under ``results`` against ``benchmarks``.

    Parameters
    ----------
    results, benchmarks : path
        A VNN-COMP results folder and the benchmarks folder (see the module docstring for
        the layouts of each year).
    onnxruntime : bool
        Also replay each in onnxruntime for ``vnncomp_verdict``.
    progress : callable, optional
        ``progress(done, total)`` in files, after each network.
    jobs : int
        Networks replayed at once, each in its own process (1: in this one).
    rules : {"2023", "2025", "2026"}
        The competition year whose checker ``vnncomp_verdict`` follows
        (:mod:`symdnn.witness.rules`).

    Returns
    -------
    BatchReport
        One row per counterexample, in the order of the files: decided, or refused with a
        ``refusal`` and an ``error``.

    Raises
    ------
    ArgumentError
        When a folder is missing, ``jobs`` is not a positive integer or ``rules`` unknown.

    Examples
    --------
    >>> # VNNCOMP_RESULTS and VNNCOMP_BENCHMARKS: tests/data/vnncomp/results and benchmarks
    >>> r = replay_results(VNNCOMP_RESULTS, VNNCOMP_BENCHMARKS)
    >>> len(r.rows), len(r.genuine), r.rows[0]["vnncomp_rules"]
    (3, 3, '2025')
    """
    rules = check_rules(rules)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ArgumentError(f"jobs={jobs!r}: give a positive number of processes")
    bench = Path(benchmarks)
    if not bench.is_dir():
        raise ArgumentError(f"benchmarks={str(benchmarks)!r} is not a folder")
    root = Path(results)
    found = find_counterexamples(results)
    report = BatchReport(rules=rules)
    done: dict[int, list[dict]] = {}
    groups: dict[Path, list[tuple]] = {}
    cats: dict[str, _Category | None] = {}
    seen: dict[tuple[str, str, str], Path] = {}
    listed: set[tuple[str, str]] = set()
    for order, c in enumerate(found):
        labels: dict[str, Any] = {"tool": c.tool, "category": c.category, "network": None,
                                  "property": None, "counterexample": os.fspath(c.path),
                                  "vnncomp_rules": rules}
        try:
            if c.misplaced:
                raise RefusedError("misplaced file", f"{c.path}: not at <tool>/<category>/"
                               "NAME.counterexample[.gz] under the results folder")
            if not c.path.is_file():  # a FIFO would block, a broken link cannot be read
                raise RefusedError("not a regular file", f"{c.path}: not a regular file "
                                   "(a FIFO, a device or a broken link)")
            if _empty(c.path):
                report.empty.append(os.fspath(c.path))
                raise RefusedError("empty file", f"{c.path}: empty: the tool wrote no "
                               "counterexample", "no_ce")
            first = seen.setdefault((c.tool, c.category, c.name), c.path)
            if first != c.path:
                raise RefusedError("duplicate", f"the same counterexample again (first as "
                               f"{first.name}); not replayed twice")
            if c.category not in cats:
                folder = _category_folder(bench, c.category)
                cats[c.category] = None if folder is None else _index_category(folder)
            cat = cats[c.category]
            if cat is not None and (c.tool, c.category) not in listed:
                listed.add((c.tool, c.category))  # each tool's results.csv, once a category
                for csv_path in (root / c.tool / "results.csv",
                                 root / c.tool / c.category / "results.csv"):
                    if csv_path.is_file():
                        _read_instances(csv_path, cat, relative_to=None)
            if cat is None:
                raise RefusedError("no benchmark folder", f"no folder of category "
                               f"{c.category!r} under {bench}")
            net, prop, npath, ppath = _split(c.name, cat, c.category)
            labels.update(network=net, property=prop)
            groups.setdefault(npath, []).append((order, c.path, ppath, labels))
        except (SymdnnError, OSError) as exc:
            done[order] = [_error_row(labels, exc)]
    total = len(found)
    count = len(done)
    if progress and count:
        progress(count, total)
    tasks = [(net, items, onnxruntime, rules) for net, items in groups.items()]

    def collect(rows: list[tuple[int, int, dict]], n: int) -> None:
        nonlocal count
        for order, _, row in sorted(rows, key=lambda t: (t[0], t[1])):
            done.setdefault(order, []).append(row)
        count += n
        if progress:
            progress(count, total)

    if jobs == 1 or len(tasks) < 2:
        for t in tasks:
            collect(_replay_network(t), len(t[1]))
    else:
        _run_parallel(tasks, jobs, collect)
    report.rows = [row for order in sorted(done) for row in done[order]]
    return report


def _run_parallel(tasks: list[tuple], jobs: int, collect: Callable) -> None:
    """The networks in ``jobs`` spawned processes; Ctrl-C cancels what has not started."""
    import multiprocessing

    pool = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)),
                               mp_context=multiprocessing.get_context("spawn"))
    try:
        pending = {pool.submit(_replay_network, t): t for t in tasks}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                t = pending.pop(f)
                try:
                    res = f.result()
                except BrokenProcessPool:  # a worker was killed (by a person, or for memory)
                    died = RefusedError("worker died", f"{t[0]}: the process replaying this "
                                        "network died (killed, or out of memory)")
                    res = [(it[0], 0, _error_row(it[3], died)) for it in t[1]]
                collect(res, len(t[1]))
    except BaseException:
        # Ctrl-C (or a failure): what has not started is cancelled, and the networks being
        # replayed are stopped rather than waited for
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            p.terminate()
        raise
    pool.shutdown(wait=True)
