"""TSV triple files: one ``row<TAB>col<TAB>value`` line per entry of an associative array.

:func:`read_tsv` and :func:`write_tsv` are also :meth:`AssocArray.read_tsv
<symdnn.assoc.AssocArray.read_tsv>` and :meth:`AssocArray.write_tsv
<symdnn.assoc.AssocArray.write_tsv>`: ``symdnn.assoc`` sits below ``symdnn.io`` and imports
nothing from it, so this module registers the two functions with the array class when it is
imported, which ``import symdnn`` does.

Examples
--------
>>> import os, tempfile
>>> from symdnn import AssocArray
>>> A = AssocArray.from_triples(["a", "b"], ["x", "x"], ["1/3", "0.25"], domain="QQ")
>>> p = os.path.join(tempfile.mkdtemp(), "A.tsv")
>>> write_tsv(A, p)
>>> open(p).read()
'a\\tx\\t1/3\\nb\\tx\\t1/4\\n'
>>> read_tsv(p).isequal(A), AssocArray.read_tsv(p).isequal(A)
(True, True)
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

from symdnn.assoc import array as _array
from symdnn.assoc.array import AssocArray
from symdnn.domains import Domain, get_domain
from symdnn.errors import DomainError, DuplicateKeyError, KeyTypeError, ParseError
from symdnn.io.outputs import atomic_write
from symdnn.io.text import domain_value, tsv_lines

__all__ = ["read_tsv", "write_tsv"]


def read_tsv(path: str | os.PathLike, *, domain: str | Domain = "QQ",
             key_type: Callable[[str], Any] = str, semiring: Any = None,
             dup: str = "error") -> AssocArray:
    """Read a file of ``row<TAB>col<TAB>value`` lines (``.gz`` is decompressed).

    Blank lines and lines starting with ``#`` are skipped; every other line holds exactly
    three tab-separated fields. Values are read exactly: in ``QQ``, ``0.3`` is 3/10 and
    ``6.25e-02`` is 1/16; they must be finite (see :func:`symdnn.io.text.domain_value`).
    ``key_type`` converts the key strings (``int`` for numbered neurons). The file must be
    UTF-8 and, when named ``.gz``, a complete gzip stream.

    Raises
    ------
    ParseError
        Naming the file and line of a malformed line, key or value, of bytes that are not
        UTF-8, or (under ``dup="error"``) of a repeated (row, col) pair, with the line of its
        first occurrence; naming the file for a missing file or a corrupt gzip stream.
    """
    path = os.fspath(path)
    dom = get_domain(domain)
    rows, cols, vals = [], [], []
    seen: dict = {}
    for lineno, parts in tsv_lines(path, 3, comment="#", verb="open"):
        try:
            r, c = key_type(parts[0]), key_type(parts[1])
            first = seen.get((r, c)) if dup == "error" else None
        except (TypeError, ValueError) as exc:
            raise ParseError(f"bad key: {exc}", path=path, line=lineno) from None
        if first is not None:
            raise ParseError(f"repeated entry ({r!r}, {c!r}), first on line {first}",
                             path=path, line=lineno)
        try:
            v = domain_value(dom, parts[2])
        except ValueError as exc:
            raise ParseError(f"bad value {parts[2][:40]!r}: {exc}", path=path,
                             line=lineno) from None
        if dup == "error":
            seen[r, c] = lineno
        rows.append(r)
        cols.append(c)
        vals.append(v)
    try:
        return AssocArray.from_triples(rows, cols, vals, domain=dom, semiring=semiring,
                                       dup=dup)
    except (KeyTypeError, DuplicateKeyError, DomainError) as exc:
        raise ParseError(str(exc), path=path) from None


def write_tsv(A: AssocArray, path: str | os.PathLike) -> None:
    """Write ``row<TAB>col<TAB>value`` lines, exact values as ``p/q``, atomically.

    Raises
    ------
    KeyTypeError
        For keys that do not survive a round trip through text (tuples, or strings holding a
        tab or newline).
    """
    dom = A.domain

    def check(k: Any) -> str:
        if isinstance(k, tuple) or (isinstance(k, str) and any(ch in k for ch in "\t\r\n")):
            raise KeyTypeError(f"key {k!r} cannot be written to a TSV triple file")
        return str(k)

    def write(fh: io.TextIOBase) -> None:
        for r, c, v in A.triples():
            fh.write(f"{check(r)}\t{check(c)}\t{dom.format(v)}\n")

    atomic_write(path, write)


_array.FILE_FORMATS.update(read_tsv=read_tsv, write_tsv=write_tsv)
