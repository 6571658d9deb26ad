"""Every counterexample of a VNN-COMP results folder, replayed exactly.

A results folder is laid out as ``<tool>/<category>/<network>_<property>.counterexample``
(optionally ``.gz``); the benchmarks folder as ``<category>/onnx/<network>.onnx`` and
``<category>/vnnlib/<property>.vnnlib`` (either optionally ``.gz``; a category that keeps its
files directly in its folder, as the competition's ``test`` category does, is read too).
The name ``<network>_<property>`` is split where a network and a property of that category
both exist (a name that splits two ways is an error row, not a guess). Each network is
imported once.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from symdnn.errors import ArgumentError, SymdnnError
from symdnn.io.vnnlib import read_counterexample, read_vnnlib
from symdnn.witness import graph as _graph
from symdnn.witness import replay as _replay

# the modules are imported, not their functions: _graph.import_onnx and _replay.replay are
# looked up each time a batch runs, so a caller (or a test) that replaces one is obeyed

__all__ = ["BatchReport", "replay_results", "find_counterexamples", "COLUMNS"]

#: the CSV columns, in order
COLUMNS = ["tool", "category", "network", "property", "genuine", "input_in_box",
           "input_in_box_float32", "violates", "violates_as_written", "margin", "margin_float",
           "input_margin", "vnncomp_verdict", "accepted_by_tolerance", "error",
           "counterexample"]

_CE_SUFFIXES = (".counterexample.gz", ".counterexample")


def _strip(name: str, suffixes: tuple[str, ...]) -> str | None:
    for s in suffixes:
        if name.endswith(s):
            return name[: -len(s)]
    return None


def _index(folder: Path, sub: str, suffix: str) -> dict[str, Path]:
    """``name -> file`` for ``folder/sub/*{suffix}[.gz]``, or ``folder/*`` without ``sub``."""
    out: dict[str, Path] = {}
    for d in (folder / sub, folder):
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            stem = _strip(p.name, (suffix + ".gz", suffix))
            if stem is not None and p.is_file() and stem not in out:
                out[stem] = p
    return out


@dataclass
class CounterexampleFile:
    """A counterexample file a verifier wrote in a VNN-COMP results tree: the tool, the
    benchmark category, the file, and the instance name (its stem)."""

    tool: str
    category: str
    path: Path
    name: str


def find_counterexamples(results: Any) -> list[CounterexampleFile]:
    """The ``<tool>/<category>/*.counterexample[.gz]`` files of a results folder, sorted.

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
    for tool in sorted(p for p in root.iterdir() if p.is_dir()):
        for cat in sorted(p for p in tool.iterdir() if p.is_dir()):
            for f in sorted(cat.iterdir()):
                stem = _strip(f.name, _CE_SUFFIXES)
                if stem is not None and f.is_file():
                    out.append(CounterexampleFile(tool.name, cat.name, f, stem))
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


@dataclass
class BatchReport:
    """One row per counterexample (the keys of :data:`COLUMNS`, and each witness's JSON)."""

    rows: list[dict] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)

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
    def tolerance_only(self) -> list[dict]:
        """Accepted by VNN-COMP's replay only thanks to its tolerance (or not genuine at
        all although accepted)."""
        return [r for r in self.rows if r.get("accepted_by_tolerance")]

    def to_json(self) -> dict:
        return {"counterexamples": len(self.rows), "genuine": len(self.genuine),
                "not_genuine": len(self.not_genuine), "errors": len(self.errors),
                "accepted_only_by_tolerance": len(self.tolerance_only),
                "empty_files": self.empty, "rows": self.rows}

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS})
        return buf.getvalue()

    def summary(self) -> str:
        """One line: how many counterexamples, how many genuine, and the rest."""
        return (f"{len(self.rows)} counterexamples: {len(self.genuine)} genuine, "
                f"{len(self.not_genuine)} not genuine, {len(self.tolerance_only)} accepted "
                f"only thanks to the tolerance, {len(self.errors)} could not be replayed")

    def markdown(self) -> str:
        """The same as :meth:`to_markdown` (its older name)."""
        return self.to_markdown()

    def to_markdown(self) -> str:
        """The Markdown summary: how many are genuine, which were accepted only thanks to
        the tolerance, which are not genuine, and which could not be replayed."""
        n = len(self.rows)
        lines = ["# Counterexamples replayed exactly", "",
                 f"- counterexamples: {n} (and {len(self.empty)} empty files skipped)",
                 f"- genuine (in the box and violating, exactly): {len(self.genuine)}",
                 f"- not genuine: {len(self.not_genuine)}",
                 f"- accepted by VNN-COMP's replay only thanks to its 1e-4 tolerance: "
                 f"{len(self.tolerance_only)}",
                 f"- could not be replayed: {len(self.errors)}", ""]

        def table(title: str, rows: list[dict], cols: list[str]) -> None:
            if not rows:
                return
            lines.extend([f"## {title}", "", "| " + " | ".join(cols) + " |",
                          "|" + "---|" * len(cols)])
            for r in rows:
                lines.append("| " + " | ".join(str(r.get(c, "")).replace("|", "\\|")
                                               for c in cols) + " |")
            lines.append("")

        cols = ["tool", "category", "network", "property", "margin_float", "input_margin",
                "vnncomp_verdict"]
        table("Accepted only thanks to the tolerance", self.tolerance_only, cols)
        table("Not genuine", self.not_genuine, cols + ["reason"])
        table("Could not be replayed", self.errors,
              ["tool", "category", "counterexample", "error"])
        table("Genuine", self.genuine, cols)
        return "\n".join(lines)


def replay_results(results: Any, benchmarks: Any, *, onnxruntime: bool = True,
                   progress: Callable[[int, int], None] | None = None) -> BatchReport:
    """Replay every non-empty counterexample under ``results`` against ``benchmarks``.

    A counterexample that cannot be replayed (its network or property not found, a
    malformed file, an unsupported operator) is a row with an ``"error"``, and the others
    go on.

    Examples
    --------
    >>> # VNNCOMP_RESULTS and VNNCOMP_BENCHMARKS: tests/data/vnncomp/results and benchmarks
    >>> r = replay_results(VNNCOMP_RESULTS, VNNCOMP_BENCHMARKS)
    >>> len(r.rows), len(r.genuine)
    (3, 3)
    """
    bench = Path(benchmarks)
    if not bench.is_dir():
        raise ArgumentError(f"benchmarks={str(benchmarks)!r} is not a folder")
    found = find_counterexamples(results)
    report = BatchReport()
    nets: dict[str, dict[str, Path]] = {}
    props: dict[str, dict[str, Path]] = {}
    graphs: dict[Path, Any] = {}
    todo = [c for c in found if not _empty(c.path)]
    report.empty = [os.fspath(c.path) for c in found if c not in todo]
    seen: dict[tuple[str, str, str], Path] = {}
    for i, c in enumerate(todo):
        row: dict[str, Any] = {"tool": c.tool, "category": c.category, "network": None,
                               "property": None, "counterexample": os.fspath(c.path)}
        try:
            first = seen.setdefault((c.tool, c.category, c.name), c.path)
            if first != c.path:
                raise SymdnnError(f"the same counterexample again (first as {first.name}); "
                                  "not replayed twice")
            if c.category not in nets:
                nets[c.category] = _index(bench / c.category, "onnx", ".onnx")
                props[c.category] = _index(bench / c.category, "vnnlib", ".vnnlib")
            net, prop = _split(c.name, nets[c.category], props[c.category], c.category)
            row.update(network=net, property=prop)
            npath, ppath = nets[c.category][net], props[c.category][prop]
            if npath not in graphs:
                try:
                    graphs[npath] = _graph.import_onnx(npath)
                except SymdnnError as exc:  # remembered: not imported again for each one
                    graphs[npath] = exc
            if isinstance(graphs[npath], SymdnnError):
                raise graphs[npath]
            w = _replay.replay(graphs[npath], read_vnnlib(ppath), read_counterexample(c.path),
                               onnxruntime=onnxruntime, labels=row)
            row = w.to_json()
            row["error"] = None
        except SymdnnError as exc:
            row.update(error=str(exc), genuine=None)
        except MemoryError:
            row.update(error="out of memory", genuine=None)
        except Exception as exc:  # a bug: one counterexample must not cost the others
            row.update(error=f"internal error (please report): {type(exc).__name__}: {exc}",
                       genuine=None)
        report.rows.append(row)
        if progress:
            progress(i + 1, len(todo))
    return report


def _split(name: str, nets: dict, props: dict, category: str) -> tuple[str, str]:
    """``<network>_<property>`` split where both exist; two ways to split it are refused."""
    ways = [(name[:k], name[k + 1:]) for k in range(1, len(name) - 1)
            if name[k] == "_" and name[:k] in nets and name[k + 1:] in props]
    if len(ways) == 1:
        return ways[0]
    if ways:
        raise SymdnnError(f"the name {name!r} splits two ways in category {category!r}: "
                          + " or ".join(f"network {n!r} and property {p!r}" for n, p in ways))
    raise SymdnnError(f"no network and property of category {category!r} make the name "
                      f"{name!r} (networks: {len(nets)}, properties: {len(props)})")
