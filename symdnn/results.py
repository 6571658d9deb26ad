"""The one result protocol, and the one function that renders a result.

Every result symdnn hands back (a verification, a threshold report, an audit, a certificate,
a witness and a batch of them, a suite check and a grade, a Graph Challenge run, a data fetch,
the demo) offers the same three views, so a command only chooses which one to render and where:

``summary()``
    The verdict for people, as text. Its first line is the verdict on its own; a result whose
    verdict needs detail (the failing categories, one line per format) lists it on the lines
    after.
``to_json()``
    A JSON-ready dict: only ``str``, ``int``, ``float``, ``bool``, ``None``, lists and dicts
    with string keys; exact numbers as rational strings ``"p/q"``. Its keys are documented
    in ``docs/*.md`` and do not change.
``to_markdown()``
    The full report in Markdown.

:func:`render` writes one of the three to stdout (``"-"``) or atomically to a file, which it
replaces only with ``force`` (like coverage.py's ``render_report``).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from symdnn.errors import ArgumentError
from symdnn.io.outputs import atomic_write, check_output_file

__all__ = ["Result", "FORMATS", "render", "rendered", "json_text", "markdown_from_text"]

#: What :func:`render` can write: the ``summary()`` text, the Markdown report, or the JSON.
FORMATS = ("text", "markdown", "json", "csv")


@runtime_checkable
class Result(Protocol):
    """What every result of symdnn offers (see the module docstring)."""

    def summary(self) -> str:
        """The verdict for people; the first line is the verdict on its own."""
        ...

    def to_json(self) -> dict:
        """A JSON-ready dict (exact numbers as rational strings)."""
        ...

    def to_markdown(self) -> str:
        """The full report in Markdown."""
        ...


def json_text(doc: object) -> str:
    """``doc`` as strict JSON text, indented by one space: a float that is not finite (an
    overflow to infinity in a narrow format, a NaN) is written as the string ``"inf"``,
    ``"-inf"`` or ``"nan"`` (JSON has no such numbers; ``NaN`` would make the file
    unreadable to strict parsers), and a value ``json`` cannot write as its ``str``.

    Examples
    --------
    >>> print(json_text({"max_abs_err": float("inf"), "float": [1.5, float("nan")]}))
    {
     "max_abs_err": "inf",
     "float": [
      1.5,
      "nan"
     ]
    }
    """
    def safe(x: object) -> object:
        if isinstance(x, float) and not math.isfinite(x):
            return repr(x)
        if isinstance(x, dict):
            return {k: safe(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [safe(v) for v in x]
        return x

    return json.dumps(safe(doc), indent=1, default=str, allow_nan=False)


def rendered(result: Result, fmt: str = "text") -> str:
    """The text :func:`render` writes for ``result`` in ``fmt`` (without the final newline).

    JSON is indented by one space; a value ``json`` cannot write is written as its ``str``.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> v = selective(["ad", "be"]).verify()
    >>> rendered(v, "json").splitlines()[1]
    ' "exact": true,'
    """
    if fmt == "json":
        return json_text(result.to_json())
    if fmt == "markdown":
        return result.to_markdown()
    if fmt == "text":
        return result.summary()
    if fmt == "csv":
        if not hasattr(result, "to_csv"):
            raise ArgumentError(f"a {type(result).__name__} has no CSV form")
        return result.to_csv()
    raise ArgumentError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")


def render(result: Result, fmt: str = "text", dest: str | os.PathLike = "-", *,
           force: bool = False, inputs: Sequence[str | os.PathLike] = (),
           what: str = "output file") -> Path | None:
    """Write ``result`` as ``fmt`` (``"text"``, ``"markdown"``, ``"json"``, or ``"csv"`` for
    the results that have a table: threshold reports, witness reports) to ``dest``.

    ``dest`` ``"-"`` is stdout. Otherwise the file is written atomically (all or nothing),
    and an existing file is replaced only with ``force``; ``inputs`` are paths the output may
    not be, hold or lie in, and ``what`` names the output in errors (see
    :func:`symdnn.io.outputs.check_output_file`). Every render ends with a newline.

    Returns
    -------
    Path or None
        The file written, None for stdout.

    Raises
    ------
    OutputError
        ``dest`` exists and ``force`` is not given, or cannot be written.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> render(selective(["ad", "be"]).verify(), "text")  # doctest: +ELLIPSIS
    exact: Y_L is the identity over 2 categories [fast, ... s]
    """
    text = rendered(result, fmt)
    if os.fspath(dest) == "-":
        sys.stdout.write(text + "\n")  # as print() writes it
        return None
    if not text.endswith("\n"):
        text += "\n"

    check_output_file(dest, force=force, inputs=inputs, what=what)
    atomic_write(dest, lambda fh: fh.write(text))
    return Path(dest)


def markdown_from_text(title: str, text: str) -> str:
    r"""A Markdown report from a summary's text: ``title`` as the heading, the verdict line as
    a paragraph, and each further line as a list item.

    Examples
    --------
    >>> print(markdown_from_text("verify", "NOT exact: 1 of 2\n  'ab' (silent): dies"))
    # verify
    <BLANKLINE>
    NOT exact: 1 of 2
    <BLANKLINE>
    - 'ab' (silent): dies
    <BLANKLINE>
    """
    head, *rest = text.splitlines() or [""]
    lines = [f"# {title}", "", head, ""]
    if rest:
        lines += [f"- {line.strip()}" for line in rest if line.strip()] + [""]
    return "\n".join(lines)
