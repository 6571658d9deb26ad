"""The MIT/IEEE Sparse DNN Graph Challenge files, read exactly and strictly.

* layer files ``n{N}-l{l}.tsv[.gz]``: lines ``row<TAB>col<TAB>value``, 1-based; ``W`` is
  inputs x outputs (row convention ``Y W``);
* image files: ``sparse-images-{N}.tsv[.gz]`` (``image<TAB>feature<TAB>value``, 1-based) or a
  MatrixMarket ``.mtx[.gz]`` (pattern or valued);
* truth files: one 1-based image number per line (``.tsv[.gz]``), or a MatrixMarket column
  whose row indices are the categories.

Values are read exactly: each distinct value string (``6.250000e-02``) becomes the decimal
rational it spells (1/16) once, and the layer is stored as integer numerators over one
denominator. Writers work atomically.

Reading policy (every violation is a :class:`~symdnn.errors.ParseError` naming the file and,
where there is one, the line; no file is ever handed to a C parser):

* all files: strict UTF-8; ``.gz`` names are gunzipped and a truncated or corrupt stream is
  an error; lines end in ``\n`` (``\r\n`` accepted); blank lines are skipped; fields are
  separated by tabs or spaces and every other line must hold *exactly* the format's number
  of fields; integers are ``[+-]?[0-9]+``; indices are 1-based and at most the width
  given (the network width, the image file's features) or
  :data:`~symdnn.io.text.MAX_DIM`;
* layers: three fields; values finite exact numbers (decimal, scientific, ``p/q``);
  a repeated (row, col) is an error naming both lines;
* images (``.tsv``): three fields; values integers (``1.0`` is 1) of magnitude below 2**62,
  no ``inf``/``nan``; a repeated (image, feature) is an error naming both lines; stored zeros
  are dropped;
* images (``.mtx``): see :mod:`symdnn.io.mtx`; pattern entries are 1, valued entries follow
  the image rule above;
* truth (``.tsv``): one field, an image number; a repeated image number is an error naming
  both lines; (``.mtx``): an ``M x 1`` MatrixMarket file, values (if any) 1, no repeats.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.errors import ParseError
from symdnn.io.mtx import read_mtx
from symdnn.io.outputs import atomic_write
from symdnn.io.text import (
    MAX_DIM,
    MAX_MAGNITUDE,
    Fields,
    check_bounds,
    check_path,
    check_utf8,
    exact_number,
    first_repeat,
    int_column,
    read_bytes,
    show_number,
    split_fields,
    try_int_column,
)

__all__ = [
    "GCLayer", "ChallengeFiles", "find_challenge_files", "read_layer", "write_layer",
    "read_images", "write_images", "read_categories", "write_categories", "BIAS",
    "format_exact",
]

#: the official bias per network width
BIAS = {1024: Fraction("-0.3"), 4096: Fraction("-0.35"), 16384: Fraction("-0.4"),
        65536: Fraction("-0.45")}


@dataclass
class GCLayer:
    """A layer as integer numerators over one denominator: ``W = N / d`` (inputs x outputs).

    ``values`` keeps the distinct value strings and their exact rationals, so a float run can
    round each decimal string once, correctly, into its format.
    """

    N: sp.csr_matrix
    d: int
    values: dict[str, Fraction]
    path: str

    def exact_values(self) -> sp.csr_matrix:
        """Numerators (the same matrix as ``N``)."""
        return self.N


def _fields(path: str) -> Fields:
    data = read_bytes(path)
    check_utf8(data, path)
    return split_fields(data, path, 3)


@dataclass
class _Triples:
    """The entries of a layer file as read, indices checked against the width."""

    rows: np.ndarray  # 1-based int64
    cols: np.ndarray  # 1-based int64
    lines: np.ndarray  # the 1-based line of each entry
    values: list[bytes]  # the distinct value strings, sorted
    inverse: np.ndarray  # entry i holds values[inverse[i]]


#: ``read_layer`` reads a file in the canonical shape with :func:`_canonical_triples`
#: (vectorised over the raw bytes) and any other file with :func:`_general_triples` (token by
#: token). Setting this to False forces the general path for every file: the tests do so to
#: check that both paths give the same layer or the same error.
_FAST_PATH = True
_FAST_DIGITS = 18  # 10**18 - 1 < 2**63: an index field of 18 digits cannot overflow int64
_FAST_VALUE_BYTES = 64  # several value strings, one longer: the general way (bounds memory)


def _general_triples(data: bytes, path: str, hi: int, beyond: str | None) -> _Triples:
    """The entries of any layer file: strict UTF-8, split into tokens, each checked."""
    check_utf8(data, path)
    f = split_fields(data, path, 3)
    r = int_column(f, 0, path, "field 1", hi=hi, beyond=beyond)
    c = int_column(f, 1, path, "field 2", hi=hi, beyond=beyond)
    vb = np.array(f.column(2), dtype=object)
    if len(vb) and (vb == vb[0]).all():  # the official files hold one value per layer
        uniq, inv = vb[:1], np.zeros(len(vb), dtype=np.intp)
    else:
        uniq, inv = np.unique(vb, return_inverse=True)
        inv = inv.reshape(-1)
    return _Triples(r, c, f.lines, list(uniq), inv)


def _canonical_triples(data: bytes, path: str, hi: int, beyond: str | None) -> _Triples | None:
    r"""The entries of a layer file in the canonical shape, read vectorised over its bytes, or
    None when the file is not in that shape.

    Canonical: ASCII only, every line ``digits<TAB>digits<TAB>value\n`` (the last ``\n`` may
    be missing), no blank line and no other blank byte, index fields of at most 18 digits,
    one value string or several of at most 64 bytes each. Such a file is valid UTF-8 and
    splits into exactly three fields a line, its indices are what ``int`` reads (``007`` is
    7), and an index out of range is reported as :func:`_general_triples` reports it; the
    values are checked by the caller. So both paths read it alike; any other file goes the
    general way.
    """
    if not data or not data.isascii():
        return None
    if data[-1:] != b"\n":
        data += b"\n"
    b = np.frombuffer(data, dtype=np.uint8)
    sep = np.flatnonzero(b <= 32)
    n = len(sep) // 3
    if b[sep].tobytes() != b"\t\t\n" * n:
        return None
    lens = np.empty_like(sep)  # the length of the field each separator ends
    lens[0] = sep[0]
    np.subtract(sep[1:], sep[:-1] + 1, out=lens[1:])
    if lens.min() < 1:
        return None
    # rows then columns, each contiguous
    ints = _digit_fields(b, np.concatenate((sep[0::3], sep[1::3])),
                         np.concatenate((lens[0::3], lens[1::3])))
    if ints is None:
        return None
    strings = _value_strings(data, b, sep[1::3] + 1, sep[2::3])
    if strings is None:
        return None
    lines = np.arange(1, n + 1, dtype=np.int64)
    r, c = ints[:n], ints[n:]
    check_bounds(r, lines, path, "field 1", hi=hi, beyond=beyond)
    check_bounds(c, lines, path, "field 2", hi=hi, beyond=beyond)
    return _Triples(r, c, lines, *strings)


def _digit_fields(b: np.ndarray, ends: np.ndarray, lens: np.ndarray) -> np.ndarray | None:
    """The int64 values of the fields ``b[end - len:end]``, or None when one is longer than
    18 bytes or holds a byte that is not an ASCII digit."""
    longest = int(lens.max())
    if longest > _FAST_DIGITS:
        return None
    shortest = int(lens.min())
    out = np.zeros(len(ends), dtype=np.int32 if longest <= 9 else np.int64)  # int32: faster
    at = np.empty_like(ends)
    for j in range(longest, 0, -1):  # Horner over the digit j places before each end
        # before a shorter field ``ends - j`` points at other bytes (or, for the first field,
        # wraps to the buffer's end: still inside, the buffer being longer than any field);
        # those are zeroed
        d = b.take(np.subtract(ends, j, out=at)) - np.uint8(48)  # bytes below "0" wrap
        if j > shortest:
            d *= lens >= j
        if d.max() > 9:
            return None
        out *= 10
        out += d
    return out.astype(np.int64, copy=False)


def _value_strings(data: bytes, b: np.ndarray, starts: np.ndarray,
                   ends: np.ndarray) -> tuple[list[bytes], np.ndarray] | None:
    """The distinct value strings ``data[start:end]`` (sorted) and the index of each field's
    string among them, or None when they differ and one is longer than 64 bytes."""
    n = len(starts)
    first = data[int(starts[0]):int(ends[0])]
    # Each line ends ``<TAB>value\n`` and no field holds a blank, so the pattern matches
    # exactly the lines whose value is ``first``, each once.
    if data.count(b"\t" + first + b"\n") == n:
        return [first], np.zeros(n, dtype=np.intp)
    lens = ends - starts
    width = int(lens.max())
    if width > _FAST_VALUE_BYTES:
        return None
    padded = np.empty((n, width), dtype=np.uint8)
    for j in range(width):  # NUL-padded: no field holds a NUL, so strings stay distinct
        padded[:, j] = b[np.minimum(starts + j, len(b) - 1)] * (lens > j)
    uniq, inv = np.unique(padded.view(f"S{width}").reshape(-1), return_inverse=True)
    return [bytes(u) for u in uniq], inv.reshape(-1)


def read_layer(path: str | os.PathLike, n: int | None = None) -> GCLayer:
    r"""Read one layer file exactly.

    Every non-blank line must be ``row<TAB>col<TAB>value`` (tabs or spaces; exactly three
    fields), indices 1-based integers within the width, values finite exact numbers
    (decimal, scientific or ``p/q``), each (row, col) at most once.

    Parameters
    ----------
    path : path
        ``.tsv`` or ``.tsv.gz``.
    n : int, optional
        The network width; indices beyond it are an error naming the line. Without it the
        width is the largest index (at most :data:`~symdnn.io.text.MAX_DIM`).

    Raises
    ------
    ParseError
        For a missing file, a truncated gzip, non-UTF-8 bytes, a line with another number of
        fields, a bad value, an index beyond ``n``, or a repeated (row, col) pair; the message
        names the file and line.

    Notes
    -----
    A file in the official shape (ASCII, ``digits<TAB>digits<TAB>value`` lines ending in
    ``\n``) is read vectorised over its bytes; any other file is split into tokens. Both
    ways apply the same checks and give the same layer or the same error.

    Examples
    --------
    >>> import tempfile, os, numpy as np, scipy.sparse as sp
    >>> p = os.path.join(tempfile.mkdtemp(), "n4-l1.tsv")
    >>> write_layer(p, sp.csr_matrix(np.array([[0, 1], [1, 0]])), 16)
    >>> open(p).read()
    '2\t1\t0.0625\n1\t2\t0.0625\n'
    >>> g = read_layer(p, 2)
    >>> g.d, g.N.toarray().tolist(), g.values
    (16, [[0, 1], [1, 0]], {'0.0625': Fraction(1, 16)})
    """
    path = check_path(path)
    data = read_bytes(path)
    hi = MAX_DIM if n is None else n
    beyond = None if n is None else f"index beyond the network width {n}"
    t = _canonical_triples(data, path, hi, beyond) if _FAST_PATH else None
    if t is None:
        t = _general_triples(data, path, hi, beyond)
    del data
    r, c = t.rows - 1, t.cols - 1
    width = n if n is not None else (int(max(r.max(), c.max())) + 1 if len(r) else 0)
    exact: dict[str, Fraction] = {}
    for k, u in enumerate(t.values):
        s = u.decode("utf-8")
        try:
            exact[s] = exact_number(s)
        except ValueError as exc:
            raise ParseError(f"bad value {s[:40]!r}: {exc}", path=path,
                             line=_first_line(t, k)) from None
    fracs = list(exact.values())
    d = math.lcm(*[q.denominator for q in fracs]) if fracs else 1
    nums = [q.numerator * (d // q.denominator) for q in fracs]
    big = [k for k, v in enumerate(nums) if abs(v) >= MAX_MAGNITUDE]
    if big:
        raise ParseError(f"value {show_number(t.values[big[0]].decode('utf-8'))} is out of "
                         f"range: over the layer's common denominator {show_number(d)} it "
                         "needs an integer of magnitude 2**62 or more", path=path,
                         line=_first_line(t, big[0]))
    return GCLayer(_layer_matrix(r, c, nums, t, width, path), d, exact, path)


def _first_line(t: _Triples, k: int) -> int:
    """The line where value string ``k`` first occurs."""
    return int(t.lines[np.flatnonzero(t.inverse == k)[0]])


def _layer_matrix(r: np.ndarray, c: np.ndarray, nums: list[int], t: _Triples, width: int,
                  path: str) -> sp.csr_matrix:
    """The CSR matrix of numerators, its indices sorted; a repeated (row, col) is an error
    naming both lines."""
    w = max(width, 1)
    keys = r * w + c
    if len(nums) == 1:  # one value (the official files): the sorted keys are the matrix
        order, ordered = None, np.sort(keys)
    else:
        order = np.argsort(keys)
        ordered = keys[order]
    if np.any(ordered[1:] == ordered[:-1]):
        i, j = first_repeat(keys)
        raise ParseError(f"repeated entry ({r[j] + 1}, {c[j] + 1}), first on line "
                         f"{int(t.lines[i])}", path=path, line=int(t.lines[j]))
    data = np.array(nums, dtype=np.int64)[t.inverse if order is None else t.inverse[order]]
    indptr = np.searchsorted(ordered, np.arange(width + 1, dtype=np.int64) * w)
    N = sp.csr_matrix((data, ordered % w, indptr), shape=(width, width))
    N.sort_indices()  # a check only: the indices are sorted already
    return N


def format_exact(f: Fraction) -> str:
    """The shortest exact decimal of ``f`` when it has one, else ``p/q``: the text the layer
    and suite files hold.

    Examples
    --------
    >>> format_exact(Fraction(1, 16)), format_exact(Fraction(-3, 10)), format_exact(Fraction(1, 3))
    ('0.0625', '-0.3', '1/3')
    >>> format_exact(Fraction(2**70)), format_exact(Fraction(1, 2**10))
    ('1180591620717411303424', '0.0009765625')
    """
    q = f.denominator
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        return f"{f.numerator}/{f.denominator}"
    digits = max(twos, fives)
    scaled = f * 10**digits
    s = str(abs(scaled.numerator)).rjust(digits + 1, "0")
    text = (s[:-digits] + "." + s[-digits:]).rstrip("0").rstrip(".") if digits else s
    return ("-" if f < 0 else "") + text


def write_layer(path: str | os.PathLike, N: Any, d: int = 1) -> None:
    """Write a layer (integer numerators over ``d``) as official 1-based triples, atomically.

    ``N`` is a scipy sparse matrix, or any CSR matrix of integers of any size (``indptr``,
    ``indices``, ``data``: the exact engine's :class:`~symdnn.engines.exact.IntCSR`). Values
    are written as exact decimals when they have one (``0.0625``), else ``p/q``.

    Examples
    --------
    >>> import tempfile, os, scipy.sparse as sp
    >>> p = os.path.join(tempfile.mkdtemp(), "n2-l1.tsv")
    >>> write_layer(p, sp.csr_matrix([[0, 1], [3, 0]]), 16)
    >>> [line.split() for line in open(p)]
    [['2', '1', '0.1875'], ['1', '2', '0.0625']]
    """
    if sp.issparse(N):
        N = sp.csr_matrix(N)
    indptr, indices, data = np.asarray(N.indptr), np.asarray(N.indices), np.asarray(N.data)
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    order = np.lexsort((rows, indices))
    cache: dict = {}

    def write(fh: io.TextIOBase) -> None:
        for i in order:
            v = int(data[i])
            if v not in cache:
                cache[v] = format_exact(Fraction(v, d))
            fh.write(f"{rows[i] + 1}\t{indices[i] + 1}\t{cache[v]}\n")

    atomic_write(path, write)


def _image_values(vals: list, lines: np.ndarray, path: str) -> np.ndarray:
    """Exact integer image values (int or Fraction objects, or int64) as int64, refusing
    fractions and magnitudes of 2**62 or more (naming the line)."""
    arr = np.asarray(vals)
    if arr.dtype == np.int64:
        bad = np.flatnonzero((arr >= MAX_MAGNITUDE) | (arr <= -MAX_MAGNITUDE))
        if len(bad):
            i = int(bad[0])
            raise ParseError(f"image value {int(arr[i])} is out of range (the magnitude "
                             "must be below 2**62)", path=path, line=int(lines[i]))
        return arr
    for i, v in enumerate(vals):
        if isinstance(v, Fraction) and v.denominator != 1:
            raise ParseError(f"image values must be integers, not {v}", path=path,
                             line=int(lines[i]))
        if abs(v) >= MAX_MAGNITUDE:
            raise ParseError(f"image value {show_number(int(v))} is out of range (the "
                             "magnitude must be below 2**62)", path=path, line=int(lines[i]))
    return np.array([int(v) for v in vals], dtype=np.int64)


def _exact_column(f: Fields, j: int, path: str, what: str) -> list:
    """Column ``j`` as exact values (int64 array when all are plain integers)."""
    ints = try_int_column(f, j)
    if ints is not None:
        return ints
    vb = np.array(f.column(j), dtype=object)
    uniq, inv = np.unique(vb, return_inverse=True)
    table = []
    for k, u in enumerate(uniq):
        try:
            table.append(exact_number(u.decode("utf-8")))
        except ValueError as exc:
            bad = int(np.flatnonzero(inv.reshape(-1) == k)[0])
            raise ParseError(f"bad {what}: {exc}", path=path, line=int(f.lines[bad])) from None
    return [table[k] for k in inv.reshape(-1)]


def read_images(path: str | os.PathLike, n_features: int | None = None) -> sp.csr_matrix:
    """Read input images (rows) x features as an exact integer CSR matrix.

    ``.mtx[.gz]`` MatrixMarket (see :mod:`symdnn.io.mtx`; pattern files give 1) or
    ``.tsv[.gz]`` lines ``image<TAB>feature<TAB>value``: exactly three fields, 1-based
    indices, integer values (``1``, ``1.0`` and ``1e0`` are all 1) of magnitude below 2**62,
    each (image, feature) at most once. Stored zeros are dropped. The matrix has as many rows
    as the largest image number (as many as ``M`` for ``.mtx``).

    Raises
    ------
    ParseError
        Naming the file and line of the first problem.

    Examples
    --------
    >>> import tempfile, os, scipy.sparse as sp
    >>> p = os.path.join(tempfile.mkdtemp(), "img.tsv")
    >>> write_images(p, sp.csr_matrix([[0, 1, 1]]))
    >>> read_images(p, 3).toarray().tolist()
    [[0, 1, 1]]
    """
    path = check_path(path)
    if path.endswith((".mtx", ".mtx.gz")):
        mm = read_mtx(path)
        if n_features is not None and mm.shape[1] != n_features:
            raise ParseError(f"images have {mm.shape[1]} features, the network {n_features}",
                             path=path)
        data = (np.ones(len(mm.rows), dtype=np.int64) if mm.values is None
                else _image_values(mm.values, mm.lines, path))
        shape = mm.shape
        r, c, lines = mm.rows, mm.cols, mm.lines
    else:
        f = _fields(path)
        width = MAX_DIM if n_features is None else n_features
        r = int_column(f, 0, path, "field 1", hi=MAX_DIM) - 1
        c = int_column(f, 1, path, "field 2", hi=width,
                       beyond=f"feature beyond the network width {width}") - 1
        data = _image_values(_exact_column(f, 2, path, "image value"), f.lines, path)
        lines = f.lines
        if n_features is None:
            width = int(c.max()) + 1 if f.rows else 0
        shape = (int(r.max()) + 1 if f.rows else 0, width)
        rep = first_repeat(r * max(width, 1) + c)
        if rep is not None:
            i, j = rep
            raise ParseError(f"repeated entry: image {r[j] + 1}, feature {c[j] + 1}, first on "
                             f"line {int(lines[i])}", path=path, line=int(lines[j]))
    M = sp.csr_matrix((data, (r, c)), shape=shape)
    M.eliminate_zeros()
    M.sort_indices()
    return M


def write_images(path: str | os.PathLike, M: sp.spmatrix) -> None:
    """Write images as official 1-based ``image<TAB>feature<TAB>value`` lines, atomically."""
    C = sp.coo_matrix(M)
    order = np.lexsort((C.col, C.row))

    def write(fh: io.TextIOBase) -> None:
        for i in order:
            fh.write(f"{C.row[i] + 1}\t{C.col[i] + 1}\t{int(C.data[i])}\n")

    atomic_write(path, write)


def read_categories(path: str | os.PathLike) -> np.ndarray:
    """The 1-based image numbers of a truth file, sorted.

    ``.tsv[.gz]``: one image number per non-blank line (exactly one field, an integer from 1
    to :data:`~symdnn.io.text.MAX_DIM`), each at most once. ``.mtx[.gz]``: a MatrixMarket
    column (``M x 1``) whose row indices are the image numbers; valued entries must be 1.

    Raises
    ------
    ParseError
        Naming the file and line of the first problem (a repeated image number names both
        lines).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "cat.tsv")
    >>> write_categories(p, np.array([9, 3]))
    >>> read_categories(p).tolist()
    [3, 9]
    """
    path = check_path(path)
    if path.endswith((".mtx", ".mtx.gz")):
        mm = read_mtx(path)
        if mm.shape[1] != 1:
            raise ParseError(f"a truth matrix has one column (images x 1), this one has "
                             f"{mm.shape[1]}", path=path)
        if mm.values is not None:
            bad = [i for i, v in enumerate(mm.values) if v != 1]
            if bad:
                raise ParseError(f"truth entries must be 1, not {mm.values[bad[0]]}",
                                 path=path, line=int(mm.lines[bad[0]]))
        return np.sort(mm.rows.astype(np.int64) + 1)
    data = read_bytes(path)
    check_utf8(data, path)
    f = split_fields(data, path, 1)
    v = int_column(f, 0, path, "image number", hi=MAX_DIM)
    rep = first_repeat(v)
    if rep is not None:
        i, j = rep
        raise ParseError(f"repeated image number {int(v[j])}, first on line {int(f.lines[i])}",
                         path=path, line=int(f.lines[j]))
    return np.sort(v)


def write_categories(path: str | os.PathLike, categories: np.ndarray) -> None:
    """Write 1-based image numbers, one per line, atomically."""
    def write(fh: io.TextIOBase) -> None:
        for v in sorted(int(x) for x in categories):
            fh.write(f"{v}\n")

    atomic_write(path, write)


@dataclass
class ChallengeFiles:
    """Where the files of one challenge configuration are."""

    layers: list[Path]
    images: Path
    truth: Path | None
    layout: str


def find_challenge_files(data_dir: str | os.PathLike, neurons: int = 1024,
                         layers: int = 120) -> ChallengeFiles:
    """Locate the files in the official layout (as ``symdnn data fetch`` writes it) or a flat
    one.

    Official: ``DNN/neuron{N}/n{N}-l{l}.tsv[.gz]``, ``MNIST/sparse-images-{N}.tsv[.gz]``,
    ``DNN/neuron{N}-l{L}-categories.tsv``. Flat: ``neuron{N}/n{N}-l{l}.tsv[.gz]``,
    ``sparse-images-{N}[_subset].{tsv,mtx}``, ``neuron{N}-l{L}-categories[_subset].{tsv,mtx}``.

    Raises
    ------
    ParseError
        Naming the first file that is missing.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=1)
    >>> f = find_challenge_files(d, 1024, 2)
    >>> f.layout, [p.name for p in f.layers], f.images.name, f.truth
    ('official', ['n1024-l1.tsv', 'n1024-l2.tsv'], 'sparse-images-1024.tsv', None)
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise ParseError("no such data folder", path=str(root))

    def pick(cands: list[Path]) -> Path | None:
        return next((p for p in cands if p.is_file()), None)

    for layout, net_dir, img_dir, truth_dir in (
        ("official", root / "DNN" / f"neuron{neurons}", root / "MNIST", root / "DNN"),
        ("flat", root / f"neuron{neurons}", root, root),
    ):
        if not net_dir.is_dir():
            continue
        paths = []
        for l in range(1, layers + 1):
            p = pick([net_dir / f"n{neurons}-l{l}.tsv", net_dir / f"n{neurons}-l{l}.tsv.gz"])
            if p is None:
                raise ParseError(f"layer {l} of {layers} is missing",
                                 path=str(net_dir / f"n{neurons}-l{l}.tsv[.gz]"))
            paths.append(p)
        stem = f"sparse-images-{neurons}"
        images = pick([img_dir / f"{stem}{suf}" for suf in
                       (".tsv", ".tsv.gz", ".mtx", "_subset.tsv", "_subset.mtx")])
        if images is None:
            raise ParseError("no input images found", path=str(img_dir / f"{stem}.tsv"))
        tstem = f"neuron{neurons}-l{layers}-categories"
        truth = pick([truth_dir / f"{tstem}{suf}" for suf in
                      (".tsv", ".tsv.gz", "_subset.tsv", "_subset.mtx")])
        return ChallengeFiles(paths, images, truth, layout)
    raise ParseError(f"neither DNN/neuron{neurons}/ nor neuron{neurons}/ is here",
                     path=str(root))
