"""The MIT/IEEE Sparse DNN Graph Challenge files, read exactly.

* layer files ``n{N}-l{l}.tsv[.gz]``: lines ``row<TAB>col<TAB>value``, 1-based; ``W`` is
  inputs x outputs (row convention ``Y W``);
* image files: ``sparse-images-{N}.tsv[.gz]`` (``image<TAB>feature<TAB>value``, 1-based) or a
  MatrixMarket ``.mtx`` (pattern or valued);
* truth files: one 1-based image number per line (``.tsv``), or a MatrixMarket pattern whose
  row indices are the categories.

Values are read exactly: each distinct value string (``6.250000e-02``) becomes the decimal
rational it spells (1/16) once, and the layer is stored as integer numerators over one
denominator. Every malformed line is reported with its file and line number; writers work
atomically.
"""

from __future__ import annotations

import gzip
import io
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from symdnn.assoc.convert import atomic_write
from symdnn.errors import ParseError

__all__ = [
    "GCLayer", "ChallengeFiles", "find_challenge_files", "read_layer", "write_layer",
    "read_images", "write_images", "read_categories", "write_categories", "BIAS",
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


def _read_bytes(path: str) -> bytes:
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                return fh.read()
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", path=path) from None
    except EOFError:
        raise ParseError("truncated gzip file", path=path) from None


def _find_bad_line(text: bytes, path: str, ncols: int, int_cols: int) -> None:
    """Raise a ParseError naming the first malformed line (slow path, only on error)."""
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != ncols:
            raise ParseError(f"expected {ncols} fields, found {len(parts)}", path=path,
                             line=lineno)
        for j in range(int_cols):
            try:
                v = int(parts[j])
            except ValueError:
                raise ParseError(f"field {j + 1} is not an integer: {parts[j]!r}", path=path,
                                 line=lineno) from None
            if v < 1:
                raise ParseError(f"field {j + 1} must be a 1-based index, not {v}", path=path,
                                 line=lineno)
        if ncols > int_cols:
            try:
                Fraction(parts[int_cols].decode())
            except (ValueError, ZeroDivisionError):
                raise ParseError(f"bad value {parts[int_cols]!r}", path=path,
                                 line=lineno) from None
    raise ParseError("malformed file", path=path)


def _triples(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, bytes]:
    text = _read_bytes(path)
    tok = text.split()
    if len(tok) % 3:
        _find_bad_line(text, path, 3, 2)
    arr = np.array(tok, dtype=object).reshape(-1, 3) if tok else np.zeros((0, 3), object)
    try:
        r = arr[:, 0].astype(np.int64)
        c = arr[:, 1].astype(np.int64)
    except ValueError:
        _find_bad_line(text, path, 3, 2)
    if len(r) and (r.min() < 1 or c.min() < 1):
        _find_bad_line(text, path, 3, 2)
    return r - 1, c - 1, arr[:, 2], text


def read_layer(path: str | os.PathLike, n: int | None = None) -> GCLayer:
    r"""Read one layer file exactly.

    Parameters
    ----------
    path : path
        ``.tsv`` or ``.tsv.gz``.
    n : int, optional
        The network width; indices beyond it are an error naming the line.

    Raises
    ------
    ParseError
        For a missing file, a truncated gzip, a malformed line, a bad value, an index beyond
        ``n``, or a repeated (row, col) pair; the message names the file and line.

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
    path = os.fspath(path)
    r, c, vals, text = _triples(path)
    width = n if n is not None else (int(max(r.max(), c.max())) + 1 if len(r) else 0)
    if len(r) and max(r.max(), c.max()) >= width:
        bad = int(np.flatnonzero((r >= width) | (c >= width))[0])
        raise ParseError(f"index beyond the network width {width}", path=path,
                         line=_line_of(text, bad))
    vb = vals.astype(bytes)
    if len(vb) and (vb == vb[0]).all():  # the official files hold one value per layer
        uniq, inv = vb[:1], np.zeros(len(vb), dtype=np.int64)
    else:
        uniq, inv = np.unique(vb, return_inverse=True)
    exact: dict[str, Fraction] = {}
    fracs = []
    for u in uniq:
        s = u.decode()
        try:
            f = Fraction(s)
        except (ValueError, ZeroDivisionError):
            bad = int(np.flatnonzero(vb == u)[0])
            raise ParseError(f"bad value {s!r}", path=path, line=_line_of(text, bad)) from None
        exact[s] = f
        fracs.append(f)
    d = math.lcm(*[f.denominator for f in fracs]) if fracs else 1
    nums = np.array([f.numerator * (d // f.denominator) for f in fracs], dtype=object)
    data = nums[inv]
    data = data.astype(np.int64) if len(data) and max(abs(int(v)) for v in nums) < 2**62 \
        else data
    lin = r * width + c
    if len(np.unique(lin)) != len(lin):
        order = np.argsort(lin, kind="stable")
        dupe = order[np.flatnonzero(lin[order][1:] == lin[order][:-1])[0] + 1]
        raise ParseError(f"repeated entry ({r[dupe] + 1}, {c[dupe] + 1})", path=path,
                         line=_line_of(text, int(dupe)))
    N = sp.csr_matrix((data, (r, c)), shape=(width, width))
    N.sort_indices()
    return GCLayer(N, d, exact, path)


def _line_of(text: bytes, entry: int) -> int:
    """1-based line number of the entry-th non-blank line."""
    seen = -1
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            seen += 1
            if seen == entry:
                return lineno
    return seen + 1


def _format_exact(f: Fraction) -> str:
    """Shortest exact decimal when the value has one, else ``p/q``."""
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


def write_layer(path: str | os.PathLike, N: sp.spmatrix, d: int = 1) -> None:
    """Write a layer (integer numerators over ``d``) as official 1-based triples, atomically.

    Values are written as exact decimals when they have one (``0.0625``), else ``p/q``.
    """
    C = sp.coo_matrix(N)
    order = np.lexsort((C.row, C.col))
    cache: dict = {}

    def write(fh: io.TextIOBase) -> None:
        for i in order:
            v = int(C.data[i])
            if v not in cache:
                cache[v] = _format_exact(Fraction(v, d))
            fh.write(f"{C.row[i] + 1}\t{C.col[i] + 1}\t{cache[v]}\n")

    atomic_write(path, write)


def read_images(path: str | os.PathLike, n_features: int | None = None) -> sp.csr_matrix:
    """Read input images (rows) x features as an exact integer CSR matrix.

    ``.mtx`` MatrixMarket (pattern files give 1) or ``.tsv[.gz]`` triples with integer
    values. Raises :class:`ParseError` naming file and line.

    Examples
    --------
    >>> import tempfile, os, scipy.sparse as sp
    >>> p = os.path.join(tempfile.mkdtemp(), "img.tsv")
    >>> write_images(p, sp.csr_matrix([[0, 1, 1]]))
    >>> read_images(p, 3).toarray().tolist()
    [[0, 1, 1]]
    """
    path = os.fspath(path)
    if path.endswith(".mtx") or path.endswith(".mtx.gz"):
        import scipy.io

        try:
            M = scipy.io.mmread(path)
        except (OSError, ValueError) as exc:
            raise ParseError(f"not a readable MatrixMarket file: {exc}", path=path) from None
        M = sp.csr_matrix(M)
        if M.dtype.kind == "b" or M.dtype.kind == "f":
            if M.dtype.kind == "f" and not np.all(M.data == np.round(M.data)):
                raise ParseError("image values must be integers", path=path)
            M = M.astype(np.int64)
        if n_features is not None and M.shape[1] != n_features:
            raise ParseError(f"images have {M.shape[1]} features, the network {n_features}",
                             path=path)
        return M
    r, c, vals, text = _triples(path)
    try:
        data = np.array([int(Fraction(v.decode())) if Fraction(v.decode()).denominator == 1
                         else None for v in vals], dtype=object)
    except (ValueError, ZeroDivisionError):
        _find_bad_line(text, path, 3, 2)
    if any(v is None for v in data):
        bad = int(np.flatnonzero([v is None for v in data])[0])
        raise ParseError("image values must be integers", path=path, line=_line_of(text, bad))
    width = n_features if n_features is not None else int(c.max()) + 1
    if len(c) and c.max() >= width:
        bad = int(np.flatnonzero(c >= width)[0])
        raise ParseError(f"feature beyond the network width {width}", path=path,
                         line=_line_of(text, bad))
    M = sp.csr_matrix((data.astype(np.int64), (r, c)), shape=(int(r.max()) + 1, width))
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
    """The 1-based image numbers of a truth file (``.tsv`` lines or ``.mtx`` row indices).

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "cat.tsv")
    >>> write_categories(p, np.array([9, 3]))
    >>> read_categories(p).tolist()
    [3, 9]
    """
    path = os.fspath(path)
    if path.endswith(".mtx"):
        import scipy.io

        try:
            M = sp.coo_matrix(scipy.io.mmread(path))
        except (OSError, ValueError) as exc:
            raise ParseError(f"not a readable MatrixMarket file: {exc}", path=path) from None
        return np.unique(M.row.astype(np.int64) + 1)
    text = _read_bytes(path)
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        try:
            v = int(s.split()[0])
        except ValueError:
            raise ParseError(f"not an image number: {s[:40]!r}", path=path,
                             line=lineno) from None
        out.append(v)
    return np.array(sorted(set(out)), dtype=np.int64)


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
    """Locate the files in the official layout or the flat layout of the shared data.

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
