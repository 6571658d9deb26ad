"""MatrixMarket coordinate files, read strictly in pure Python (never by a C parser).

Accepted, and nothing else:

* line 1: ``%%MatrixMarket matrix coordinate <field> <symmetry>`` (words in any case), with
  ``field`` one of ``real``, ``integer``, ``pattern`` and ``symmetry`` one of ``general``,
  ``symmetric``. Dense ``array`` files, ``complex`` values, ``skew-symmetric`` and
  ``hermitian`` matrices, a missing or malformed header are errors;
* then ``%`` comment lines and blank lines, then the size line ``M N NNZ`` (non-negative
  integers, ``M`` and ``N`` at most :data:`~symdnn.io.text.MAX_DIM`);
* then exactly ``NNZ`` entry lines ``i j [value]`` (two fields for ``pattern``, three
  otherwise), 1-based ``1 <= i <= M``, ``1 <= j <= N``, fields separated by spaces or tabs;
  blank lines may come between and after them, comment lines may not;
* ``integer`` values are integers that fit in int64; ``real`` values are decimals or
  scientific numbers read exactly (``0.1`` is 1/10, never a float), finite;
* a repeated ``(i, j)`` is an error naming both lines; a ``symmetric`` file must be square and
  list only the lower triangle (``i >= j``); each off-diagonal entry is mirrored.

Every error is a :class:`~symdnn.errors.ParseError` naming the file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from symdnn.errors import ParseError
from symdnn.io.text import (
    MAX_DIM,
    check_utf8,
    exact_number,
    first_repeat,
    int_column,
    read_bytes,
    split_fields,
)

__all__ = ["MMCoordinate", "read_mtx"]

_FIELDS = ("real", "integer", "pattern")
_SYMMETRIES = ("general", "symmetric")
_HEADER = "%%MatrixMarket matrix coordinate <real|integer|pattern> <general|symmetric>"


@dataclass
class MMCoordinate:
    """A MatrixMarket coordinate matrix as read.

    ``rows``/``cols`` are 0-based int64 (symmetric entries already mirrored), ``values`` is
    None for a pattern, an int64 array for an ``integer`` file and an object array of exact
    :class:`~fractions.Fraction` values for a ``real`` one; ``lines`` holds the 1-based line
    of each entry.
    """

    shape: tuple[int, int]
    field: str
    symmetry: str
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray | None
    lines: np.ndarray


def _header(data: bytes, path: str) -> tuple[str, str, tuple[int, int, int], int, int]:
    """Field, symmetry, size, offset and line number of the first line after the size line."""
    end = data.find(b"\n")
    end = len(data) if end < 0 else end
    words = [w.decode("utf-8") for w in data[:end].split()]
    if not data.startswith(b"%%") or words[0].lower() != "%%matrixmarket":
        raise ParseError(f"not a MatrixMarket file: the first line must be '{_HEADER}'",
                         path=path, line=1)
    if len(words) != 5:
        raise ParseError(f"the header must be '{_HEADER}', not {' '.join(words)[:80]!r}",
                         path=path, line=1)
    obj, fmt, field, sym = (w.lower() for w in words[1:])
    if obj != "matrix":
        raise ParseError(f"MatrixMarket object {obj!r} is not supported (only 'matrix')",
                         path=path, line=1)
    if fmt != "coordinate":
        what = "dense 'array'" if fmt == "array" else repr(fmt)
        raise ParseError(f"MatrixMarket format {what} is not supported (only 'coordinate')",
                         path=path, line=1)
    if field not in _FIELDS:
        raise ParseError(f"MatrixMarket field {field!r} is not supported (real, integer or "
                         "pattern)", path=path, line=1)
    if sym not in _SYMMETRIES:
        raise ParseError(f"MatrixMarket symmetry {sym!r} is not supported (general or "
                         "symmetric)", path=path, line=1)
    pos, lineno = end + 1, 2
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        line = data[pos:end].strip()
        if line and not line.startswith(b"%"):
            parts = line.split()
            if len(parts) != 3 or not all(p.isdigit() for p in parts):
                raise ParseError("the size line must be 'M N NNZ' (three non-negative "
                                 f"integers), not {line.decode('utf-8')[:60]!r}", path=path,
                                 line=lineno)
            if any(len(p) > 30 for p in parts):
                raise ParseError("the size line holds a number too large to be a size",
                                 path=path, line=lineno)
            m, n, nnz = (int(p) for p in parts)
            for name, v in (("M", m), ("N", n)):
                if v > MAX_DIM:
                    raise ParseError(f"{name} = {v} is beyond the largest dimension read, "
                                     f"{MAX_DIM}", path=path, line=lineno)
            cap = m * (m + 1) // 2 if sym == "symmetric" else m * n
            if sym == "symmetric" and m != n:
                raise ParseError(f"a symmetric matrix must be square, not {m} x {n}",
                                 path=path, line=lineno)
            if nnz > cap:
                raise ParseError(f"NNZ = {nnz} is more than a {m} x {n} {sym} matrix holds",
                                 path=path, line=lineno)
            return field, sym, (m, n, nnz), end + 1, lineno + 1
        pos, lineno = end + 1, lineno + 1
    raise ParseError("no size line 'M N NNZ' after the header", path=path, line=lineno - 1)


def read_mtx(path: str | os.PathLike, *, limit: int | None = None) -> MMCoordinate:
    """Read a MatrixMarket coordinate file (``.gz`` decompressed) strictly and exactly.

    Raises
    ------
    ParseError
        For anything the module docstring does not accept, naming the file and line.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.mtx")
    >>> _ = open(p, "w").write("%%MatrixMarket matrix coordinate real symmetric\\n"
    ...                        "% a comment\\n2 2 2\\n1 1 0.5\\n2 1 -3e-1\\n")
    >>> m = read_mtx(p)
    >>> m.shape, m.rows.tolist(), m.cols.tolist(), [str(v) for v in m.values]
    ((2, 2), [0, 1, 0], [0, 0, 1], ['1/2', '-3/10', '-3/10'])
    """
    path = os.fspath(path)
    data = read_bytes(path, limit=limit)
    check_utf8(data, path)
    field, sym, (m, n, nnz), offset, first = _header(data, path)
    body = data[offset:]
    if b"%" in body:
        at = body.index(b"%")
        start = body.rfind(b"\n", 0, at) + 1
        if body[start:at].strip() == b"":
            raise ParseError("a comment line after the size line (comments must come before "
                             "it)", path=path, line=first + body.count(b"\n", 0, at))
    ncols = 2 if field == "pattern" else 3
    f = split_fields(body, path, ncols, first_line=first)
    if f.rows != nnz:
        if f.rows > nnz:
            raise ParseError(f"more entries than the {nnz} the size line declares", path=path,
                             line=int(f.lines[nnz]))
        last = int(f.lines[-1]) if f.rows else first - 1
        raise ParseError(f"the size line declares {nnz} entries, the file has {f.rows} "
                         "(truncated?)", path=path, line=last)
    r = int_column(f, 0, path, "row index", lo=1, hi=m) - 1
    c = int_column(f, 1, path, "column index", lo=1, hi=n) - 1
    vals = None
    if field == "integer":
        vals = int_column(f, 2, path, "integer value", lo=None)
    elif field == "real":
        vb = np.array(f.column(2), dtype=object)
        uniq, inv = np.unique(vb, return_inverse=True)
        exact = []
        for k, u in enumerate(uniq):
            try:
                exact.append(exact_number(u.decode("utf-8"), ratio=False))
            except ValueError as exc:
                i = int(np.flatnonzero(inv == k)[0])
                raise ParseError(f"bad real value: {exc}", path=path,
                                 line=int(f.lines[i])) from None
        table = np.empty(len(exact), dtype=object)
        table[:] = exact
        vals = table[inv.reshape(-1)] if len(exact) else np.zeros(0, dtype=object)
    lines = f.lines
    if sym == "symmetric":
        upper = np.flatnonzero(r < c)
        if len(upper):
            i = int(upper[0])
            raise ParseError(f"entry ({r[i] + 1}, {c[i] + 1}) lies above the diagonal of a "
                             "symmetric matrix (list the lower triangle only)", path=path,
                             line=int(lines[i]))
    rep = first_repeat(r * max(n, 1) + c)
    if rep is not None:
        i, j = rep
        raise ParseError(f"repeated entry ({r[j] + 1}, {c[j] + 1}), first on line "
                         f"{int(lines[i])}", path=path, line=int(lines[j]))
    if sym == "symmetric":
        off = np.flatnonzero(r != c)
        r, c = np.concatenate((r, c[off])), np.concatenate((c, r[off]))
        lines = np.concatenate((lines, lines[off]))
        if vals is not None:
            vals = np.concatenate((vals, vals[off]))
    return MMCoordinate((m, n), field, sym, r, c, vals, lines)
