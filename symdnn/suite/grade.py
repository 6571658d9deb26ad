"""Grading an implementation's outputs against a certified suite's expected files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from symdnn.domains import narrow, round_exact, ulp_distance
from symdnn.errors import ParseError
from symdnn.io.text import read_text
from symdnn.results import markdown_from_text
from symdnn.suite.verify import _read_exact_tsv

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
    root = Path(folder)
    got: dict = {}
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
