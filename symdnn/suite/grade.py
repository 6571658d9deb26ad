"""Grading an implementation's outputs against a certified suite's expected files."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from symdnn.domains import narrow, round_exact, ulp_distance
from symdnn.errors import DomainError, ParseError
from symdnn.io.text import MAX_DIGITS, exact_number, read_text, text_lines
from symdnn.results import markdown_from_text
from symdnn.suite.integrity import load_manifest, structure_problems
from symdnn.suite.verify import _index, _keyed, _suite_lines

_HEX = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?\Z")

__all__ = ["Grade", "grade_suite"]


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
    if "0x" in text.lower():
        if len(text) > MAX_DIGITS or not _HEX.match(text):
            raise DomainError(f"{text[:40]!r} is not a C99 hexadecimal float")
        v = float.fromhex(text)  # OverflowError beyond float64
        if fmt is None:
            return Fraction(v)
        return float(narrow(np.array([v]), fmt)[0])
    q = exact_number(text)  # the limits of every reader: no 1e999999999
    return q if fmt is None else float(round_exact(q, fmt))


def _expected_value(text: str, path: Path, lineno: int, fmt: str | None) -> Any:
    """A value of an expected file: exact, or (with ``fmt``) a hex float."""
    try:
        if fmt is None:
            return exact_number(text)
        if len(text) > MAX_DIGITS or not (_HEX.match(text) or text in ("inf", "-inf", "nan")):
            raise DomainError("not a hex float")
        return float.fromhex(text)
    except (ValueError, OverflowError) as exc:
        raise ParseError(f"{text[:40]!r}: {exc}", path=str(path), line=lineno) from None


def grade_suite(folder: str | os.PathLike, results: str | os.PathLike, *,
                fmt: str | None = None, max_ulp: int = 0) -> Grade:
    """Grade an implementation's outputs (``image<TAB>neuron<TAB>value`` lines, 1-based;
    values as decimals or C99 hex floats) against a suite.

    With ``fmt``, each output must be within ``max_ulp`` ulps of the correctly rounded
    expected value in that format; without, it must equal the exact output.

    The suite is checked first, as ``symdnn suite verify`` does without recomputing: its
    manifest, the sha256 of every file, and that the folder holds exactly the listed files;
    a suite that fails is not graded (run ``symdnn suite verify`` to recompute it too).

    Raises
    ------
    ParseError
        For a suite that does not pass those checks, or a results file that is not
        ``image<TAB>neuron<TAB>value`` lines (indices in ASCII digits, values exact numbers
        with the limits of :func:`symdnn.io.text.exact_number`, or hex floats), naming the
        file and line.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ParseError("no such suite folder", path=str(root))
    man = load_manifest(root)
    problems = structure_problems(root, man)
    if problems:
        raise ParseError(f"the suite does not verify, so it is not graded: {problems[0]}"
                         + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1
                            else "") + "; run 'symdnn suite verify' for all of them",
                         path=str(root))
    par = man["parameters"]
    last = man["shapes"][str(par["layers"])][1]
    got: dict = {}
    path = Path(results)
    text = read_text(str(path))
    first_line: dict = {}
    for lineno, line in enumerate(text_lines(text), 1):
        if line == "":
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ParseError(f"expected 3 tab-separated fields (image, neuron, value), found "
                             f"{len(parts)}", path=str(path), line=lineno)
        key = (_index(parts[0], par["inputs"], path, lineno, "image"),
               _index(parts[1], last, path, lineno, "neuron"))
        if key in first_line:
            raise ParseError(f"image {key[0]}, neuron {key[1]} given twice (first on line "
                             f"{first_line[key]})", path=str(path), line=lineno)
        first_line[key] = lineno
        v = parts[2]
        try:
            got[key] = _result_value(v, fmt)
        except (ValueError, OverflowError) as exc:
            raise ParseError(f"value {v[:40]!r} is not a finite decimal, fraction or hex "
                             f"float: {exc}", path=str(path), line=lineno) from None
    off = []
    expected = root / "expected" / ("exact.tsv" if fmt is None else f"{fmt}.tsv")
    if fmt is not None and fmt not in par["formats"]:
        raise ParseError(f"the suite has no {fmt} outputs (its formats: "
                         f"{', '.join(par['formats'])})", path=str(root))
    rows = _keyed(expected, 3 if fmt is None else 4, (par["inputs"], last),
                  ("image", "neuron"))
    if fmt is None:
        want = {k: _expected_value(rest[0], expected, lineno, None)
                for k, (lineno, rest) in rows.items()}
        for k in sorted(set(want) | set(got)):
            e, g = want.get(k, Fraction(0)), Fraction(got.get(k, 0))
            if e != g:
                off.append({"image": k[0], "neuron": k[1], "expected": str(e), "got": str(g),
                            "ulps": None})
    else:
        want = {k: _expected_value(rest[0], expected, lineno, fmt)
                for k, (lineno, rest) in rows.items()}
        keys = sorted(set(want) | set(got))
        e = np.array([want.get(k, 0.0) for k in keys])
        g = np.array([float(got.get(k, 0.0)) for k in keys])  # values of fmt, exact
        ul = ulp_distance(e, g, fmt) if len(keys) else np.zeros(0, dtype=np.int64)
        for i in np.flatnonzero(ul > max_ulp):
            off.append({"image": keys[i][0], "neuron": keys[i][1],
                        "expected": repr(float(e[i])), "got": repr(float(g[i])),
                        "ulps": int(ul[i])})
    cats = sorted({k[0] for k, v in got.items() if v != 0})
    cpath = root / "categories.tsv"
    listed = [_index(parts[0], par["inputs"], cpath, lineno, "image")
              for lineno, parts in _suite_lines(cpath, 1)]
    match = cats == listed
    return Grade(not off and match, off, match, len(set(want) | set(got)), fmt)
