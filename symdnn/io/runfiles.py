"""An implementation's outputs as files (run files): read strictly, and written. The audit
(:mod:`symdnn.audit`) compares what is read here with the exact values, layer by layer.

A *run folder* holds what an implementation (a GPU kernel, a C++ GraphBLAS code, MATLAB,
onnxruntime, ...) computed, one file per layer:

* ``layer-{l}.tsv`` (or ``.tsv.gz``): post-activations of layer ``l`` (after the ReLU and
  the cap), one line ``row<TAB>neuron<TAB>value`` per stored entry: ``row`` the 1-based input
  (image), ``neuron`` the 1-based position of the neuron in the layer (for the Graph
  Challenge its number), ``value`` a decimal (``0.0625``, ``6.25e-2``) or a C99 hex float
  (``0x1p-4``);
* or ``layer-{l}.mtx`` (``.mtx.gz``): a MatrixMarket coordinate file, inputs x neurons;
* or ``layer-{l}.npz``: a scipy CSR matrix saved by ``scipy.sparse.save_npz``, inputs x
  neurons;
* optionally ``pre-{l}.*`` in any of these forms: the pre-activations (the values just before
  the ReLU, where the bias rule adds the bias); with them the audit also counts exact zeros
  that turn negative, flipped decisions below zero, and missing or spurious
  pre-activations.

``l`` is written without leading zeros (``layer-7.tsv``). Any subset of layers may be
given, but the last layer is required (it decides the categories); layers not given are
reported as not provided.

Values are read exactly and put into the run's format ``fmt`` (the format the implementation
computed in, so that ulps are counted in it) with one correct rounding: a decimal is rounded
once from the exact value it spells (a printed ``%.9g`` of an fp32 value gives that value
back); a hex float, and every binary value of a ``.npz`` file, must already be a value of
``fmt`` (anything else means the run was not computed in ``fmt``, and is an error). Stored
zeros in ``layer-*`` files are inactive neurons; in ``pre-*`` files they are pre-activations
that are zero.

Reading policy (each violation is a :class:`~symdnn.errors.ParseError` naming the file and,
for text, the line; no file is handed to a C parser; ``.npz`` archives are opened with
:mod:`zipfile` and every array header is checked before a byte of data is read): a matrix of
another shape, a row or neuron beyond the batch or the layer, a value that is not a finite
number (``inf``, ``nan``, ``1e999`` in fp32), a repeated entry, a file name that looks like a
layer file but is not one (``layer-01.tsv``), two files for one layer, a layer beyond the
network, and a missing last layer.

Examples
--------
>>> import os, tempfile
>>> d = tempfile.mkdtemp()
>>> _ = open(os.path.join(d, "layer-2.tsv"), "w").write("1\\t2\\t0x1.8p-2\\n2\\t1\\t0.375\\n")
>>> f = RunFolder(d, fmt="fp32")
>>> f.check(2)
>>> f.layer(1, (2, 2)) is None     # not provided
True
>>> pre, (keys, vals) = f.layer(2, (2, 2))
>>> keys.tolist(), vals.tolist()   # keys are row * width + neuron, 0-based
([1, 2], [0.375, 0.375])
"""

from __future__ import annotations

import copy
import math
import os
import re
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.lib import format as npf

from symdnn.domains import get_format, narrow, round_rationals
from symdnn.errors import ArgumentError, ParseError
from symdnn.io.mtx import read_mtx
from symdnn.io.text import (
    MAX_EXPONENT,
    check_utf8,
    first_repeat,
    int_column,
    read_bytes,
    split_fields,
)

__all__ = ["RunFolder", "write_run_layer", "FORMS", "read_run_file", "layer_ranges"]

#: the file forms a run folder may use, in the order they are looked for
FORMS = ("tsv", "tsv.gz", "mtx", "mtx.gz", "npz")
_NAME = re.compile(r"(layer|pre)-([1-9][0-9]*)\.(tsv|tsv\.gz|mtx|mtx\.gz|npz)\Z")
_LOOKS = re.compile(r"(layer|pre)[-_]", re.IGNORECASE)
_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?\Z")
_HEX = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]{1,6})\Z")
_MAX_TOKEN = 800


class RunFolder:
    """The output files of one implementation's run (see the module notes).

    Parameters
    ----------
    path : path
        The folder.
    fmt : str
        The float format the run computed in (``fp64``, ``fp32``, ``fp16``, ``bf16``,
        ``fp8_e4m3``, ``fp8_e5m2``).
    name : str, optional
        The run's name, for messages.

    Raises
    ------
    ParseError
        When the folder is missing, or a file name looks like a layer file but is not one, or
        two files give the same layer.
    """

    def __init__(self, path: str | os.PathLike, *, fmt: str = "fp64",
                 name: str | None = None) -> None:
        self.path = Path(path)
        self.fmt = get_format(fmt).name
        self.name = name or self.path.name
        if not self.path.is_dir():
            raise ParseError("not a folder (a run folder holds layer-{l}.tsv, .mtx or .npz "
                             "files)", path=str(self.path))
        self.files: dict[tuple[str, int], Path] = {}
        for entry in sorted(os.listdir(self.path)):
            m = _NAME.match(entry)
            if m is None:
                if _LOOKS.match(entry):
                    raise ParseError("not a run file name: expected layer-{l} or pre-{l} "
                                     "with l from 1 without leading zeros, and the suffix "
                                     ".tsv, .tsv.gz, .mtx, .mtx.gz or .npz",
                                     path=str(self.path / entry))
                continue
            key = (m.group(1), int(m.group(2)))
            if not (self.path / entry).is_file():  # a folder, a FIFO (would block), a socket
                raise ParseError("not a regular file", path=str(self.path / entry))
            if key in self.files:
                raise ParseError(f"two files for {key[0]} {key[1]}: "
                                 f"{self.files[key].name} and {entry}; keep one",
                                 path=str(self.path))
            self.files[key] = self.path / entry

    @property
    def layers(self) -> list[int]:
        """The layers with post-activations, in order."""
        return sorted(l for kind, l in self.files if kind == "layer")

    def check(self, layers: int | None, shape: tuple | None = None) -> None:
        """Check the folder against a network of ``layers`` layers (the last must be given;
        none beyond it; a ``pre-{l}`` only with its ``layer-{l}``)."""
        for (kind, l), p in sorted(self.files.items()):
            if layers is not None and l > layers:
                raise ParseError(f"layer {l} is beyond the network's {layers} layers",
                                 path=str(p))
            if kind == "pre" and ("layer", l) not in self.files:
                raise ParseError(f"pre-activations of layer {l} without its activations: add "
                                 f"layer-{l}.tsv (or .mtx, .npz)", path=str(p))
        if layers is not None and ("layer", layers) not in self.files:
            given = self.layers
            raise ParseError(f"the last layer's activations are missing: add layer-{layers}"
                             ".tsv (or .tsv.gz, .mtx, .npz); the categories need it"
                             + (f" (found layers {layer_ranges(given)})" if given else
                                " (found no layer files)"), path=str(self.path))

    #: ``(a, b, n)``: only the input rows ``a .. b - 1`` of ``n`` are read (see :meth:`rows`)
    window: tuple[int, int, int] | None = None

    def rows(self, a: int, b: int, n: int) -> RunFolder:
        """The same folder read for the input rows ``a .. b - 1`` of ``n`` only, renumbered
        from 0 (what one chunk of a parallel audit sees). Every file is still read and
        checked whole, against ``n`` rows, so a bad line is refused as it would be.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "layer-1.tsv").write_text("1\\t2\\t0.5\\n3\\t1\\t0.25\\n")
        >>> pre, (keys, vals) = RunFolder(d).rows(2, 3, 3).layer(1, (1, 4))
        >>> keys.tolist(), vals.tolist()          # row 3 of 3, as row 1 of 1
        ([0], [0.25])
        """
        view = copy.copy(self)
        view.window = (a, b, n)
        return view

    def layer(self, l: int, shape: tuple) -> tuple[tuple | None, tuple] | None:
        """``(pre, post)`` of layer ``l`` as sorted ``(keys, float64 values)`` (``pre`` None
        when not given), or None when the layer is not provided."""
        p = self.files.get(("layer", l))
        if p is None:
            return None
        full = shape if self.window is None else (self.window[2], shape[1])
        post = read_run_file(p, full, self.fmt, keep_zeros=False)
        q = self.files.get(("pre", l))
        pre = None if q is None else read_run_file(q, full, self.fmt, keep_zeros=True)
        if self.window is not None:
            a, b, _ = self.window
            w = max(int(shape[1]), 1)
            pre, post = (None if x is None else _rows_of(x, a * w, b * w) for x in (pre, post))
        return pre, post


def _rows_of(kv: tuple, lo: int, hi: int) -> tuple:
    """The ``(keys, values)`` with keys in ``lo .. hi - 1``, shifted down by ``lo``."""
    keys, vals = kv
    i, j = np.searchsorted(keys, [lo, hi])
    return keys[i:j] - lo, vals[i:j]


def layer_ranges(xs: list[int]) -> str:
    """Layer numbers as text, each run of consecutive numbers as ``first-last``.

    Parameters
    ----------
    xs : list of int
        The numbers, in increasing order (as :attr:`RunFolder.layers` gives them).

    Returns
    -------
    str
        The runs, separated by ``", "``; empty for no numbers.

    Examples
    --------
    >>> layer_ranges([1, 2, 3, 5, 7, 8])
    '1-3, 5, 7-8'
    >>> layer_ranges([4]), layer_ranges([])
    ('4', '')
    """
    out, i = [], 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
            j += 1
        out.append(str(xs[i]) if i == j else f"{xs[i]}-{xs[j]}")
        i = j + 1
    return ", ".join(out)


def read_run_file(path: str | os.PathLike, shape: tuple, fmt: str, *,
                  keep_zeros: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """One layer file of a run folder as sorted ``(keys, values)``: keys ``row * width +
    neuron`` (0-based), values float64 holding values of ``fmt``.

    Raises
    ------
    ParseError
        Naming the file and line (or entry) of anything the module notes refuse.
    """
    path = os.fspath(path)
    name = os.path.basename(path)
    if name.endswith(".npz"):
        rows, cols, vals, lines = _read_npz(path, shape, fmt)
    elif name.endswith((".mtx", ".mtx.gz")):
        rows, cols, vals, lines = _read_mtx(path, shape, fmt)
    else:
        rows, cols, vals, lines = _read_tsv(path, shape, fmt)
    width = max(int(shape[1]), 1)
    keys = rows * width + cols
    rep = first_repeat(keys)
    if rep is not None:
        i, j = rep
        where = (f"first on line {int(lines[i])}" if lines is not None else
                 f"entries {i + 1} and {j + 1}")
        raise ParseError(f"repeated entry (row {rows[j] + 1}, neuron {cols[j] + 1}), {where}",
                         path=path, line=None if lines is None else int(lines[j]))
    if not keep_zeros:
        nz = vals != 0
        keys, vals = keys[nz], vals[nz]
    o = np.argsort(keys, kind="stable")
    return keys[o], vals[o]


def _check_index(col: np.ndarray, hi: int, path: str, lines: np.ndarray | None,
                 what: str, beyond: str) -> None:
    bad = np.flatnonzero((col < 0) | (col >= hi))
    if len(bad):
        i = int(bad[0])
        raise ParseError(f"{what} {int(col[i]) + 1} {beyond}", path=path,
                         line=None if lines is None else int(lines[i]))


def _size_limit(shape: tuple) -> int:
    """The most bytes a layer file of this shape may hold (or unpack to): 256 bytes for each
    entry the layer can have, and 1 MiB; a gzip bomb is refused before it fills memory."""
    return int(shape[0]) * int(shape[1]) * 256 + 2**20


def _read_tsv(path: str, shape: tuple, fmt: str) -> tuple:
    data = read_bytes(path, limit=_size_limit(shape))
    check_utf8(data, path)
    f = split_fields(data, path, 3)
    R, n = int(shape[0]), int(shape[1])
    r = int_column(f, 0, path, "row (field 1)", hi=R,
                   beyond=f"row beyond the {R} inputs of the batch") - 1
    c = int_column(f, 1, path, "neuron (field 2)", hi=n,
                   beyond=f"unknown neuron: the layer has {n} neurons") - 1
    vals = _values(f.column(2), fmt, path, f.lines)
    return r, c, vals, f.lines


def _values(tokens: list[bytes], fmt: str, path: str, lines: np.ndarray) -> np.ndarray:
    """Decimal and hex tokens as values of ``fmt`` (float64): decimals rounded once from
    their exact value, hex floats exact and required to be values of ``fmt``.

    A decimal goes through ``float()``, which rounds it once, correctly, into fp64. Rounding
    that fp64 value again into a narrower format gives the correct rounding of the decimal
    except where the fp64 value is exactly a midpoint of the narrower format (every midpoint
    of fp32 and narrower formats is an fp64 value, so the nearest fp64 value cannot lie
    beyond one); those few are rounded again from the decimal's exact value."""
    f = get_format(fmt)
    cache: dict[bytes, float] = {}
    first: dict[bytes, int] = {}
    out = np.empty(len(tokens), dtype=np.float64)
    for i, tok in enumerate(tokens):
        v = cache.get(tok)
        if v is not None:
            out[i] = v
            continue
        if len(tok) > _MAX_TOKEN:
            raise ParseError(f"value of {len(tok)} characters is too long", path=path,
                             line=int(lines[i]))
        m = _DEC.match(tok)
        if m:
            if m.group(1) is not None and (len(m.group(1)) > 7
                                           or abs(int(m.group(1))) > MAX_EXPONENT):
                raise ParseError(f"value {tok.decode('ascii')[:40]}: the exponent is beyond "
                                 f"+-{MAX_EXPONENT}", path=path, line=int(lines[i]))
            v = float(tok)  # one correct rounding into fp64
            if v in (math.inf, -math.inf):
                raise _overflow(tok, f.name, path, lines[i])
        else:
            m = _HEX.match(tok)
            if m is None:
                text = tok.decode("utf-8", "replace")[:40]
                low = text.lower().lstrip("+-")
                why = ("is not finite" if low in ("inf", "infinity", "nan") else
                       "is not a decimal or C99 hex float number")
                raise ParseError(f"value {text!r} {why}", path=path, line=int(lines[i]))
            v = _hex_value(m, f, tok, path, lines[i])
            first[tok] = -1  # exact already
        cache[tok] = v
        first.setdefault(tok, i)
        out[i] = v
    if f.name == "fp64":
        return out
    dec = [t for t, i in first.items() if i >= 0]
    if not dec:
        return out
    x = np.array([cache[t] for t in dec], dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.asarray(narrow(x, f), dtype=np.float64)
        d = x - y  # exact (Sterbenz, or y == 0)
        other = y + 2 * d
        mid = (d != 0) & np.isfinite(other) & \
            (np.asarray(narrow(other, f), dtype=np.float64) == other)
    for k in np.flatnonzero(mid):  # a tie in fp64: decide from the exact decimal
        q = Fraction(dec[k].decode("ascii"))
        y[k] = float(np.asarray(round_rationals(np.array([q.numerator], dtype=object),
                                                np.array([q.denominator], dtype=object), f),
                                dtype=np.float64)[0])
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        t = dec[int(bad[0])]
        raise _overflow(t, f.name, path, lines[first[t]])
    fixed = dict(zip(dec, y.tolist(), strict=True))
    for i, tok in enumerate(tokens):
        v = fixed.get(tok)
        if v is not None:
            out[i] = v
    return out


def _overflow(tok: bytes, fmt: str, path: str, line: Any) -> ParseError:
    return ParseError(f"value {tok.decode('ascii')[:40]} is beyond the largest {fmt} value",
                      path=path, line=int(line))


def _hex_value(m: re.Match, f: Any, tok: bytes, path: str, line: Any) -> float:
    sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or b"", m.group(4)
    if not whole and not frac:
        raise ParseError(f"value {tok.decode('ascii')!r} has no hex digits", path=path,
                         line=int(line))
    mant = int((whole + frac).decode("ascii") or "0", 16)
    e = int(exp) - 4 * len(frac)
    q = Fraction(mant * 2**e) if e >= 0 else Fraction(mant, 2**-e)
    if sign == b"-":
        q = -q
    v = float(np.asarray(round_rationals(np.array([q.numerator], dtype=object),
                                         np.array([q.denominator], dtype=object), f),
                         dtype=np.float64)[0])
    if not np.isfinite(v) or Fraction(v) != q:
        raise ParseError(f"value {tok.decode('ascii')} is not a {f.name} value (was the run "
                         f"computed in {f.name}? state its format as NAME=PATH:FORMAT)",
                         path=path, line=int(line))
    return v


def _read_mtx(path: str, shape: tuple, fmt: str) -> tuple:
    m = read_mtx(path, limit=_size_limit(shape))
    if tuple(m.shape) != tuple(int(x) for x in shape):
        raise ParseError(f"a {m.shape[0]} x {m.shape[1]} matrix; this layer is "
                         f"{shape[0]} inputs x {shape[1]} neurons", path=path)
    if m.values is None:
        raise ParseError("a pattern file has no values; write a 'real' MatrixMarket file",
                         path=path)
    f = get_format(fmt)
    if m.field == "integer":
        num = np.asarray(m.values, dtype=object)
        den = np.ones(len(num), dtype=object)
    else:
        num = np.array([q.numerator for q in m.values], dtype=object)
        den = np.array([q.denominator for q in m.values], dtype=object)
    vals = np.asarray(round_rationals(num, den, f), dtype=np.float64) if len(num) else \
        np.zeros(0)
    bad = np.flatnonzero(~np.isfinite(vals))
    if len(bad):
        i = int(bad[0])
        raise ParseError(f"value {m.values[i]} is beyond the largest {f.name} value",
                         path=path, line=int(m.lines[i]))
    return m.rows, m.cols, vals, m.lines


# ------------------------------------------------------------------------------ .npz files
_NPZ_KEYS = {"data", "indices", "indptr", "format", "shape"}


def _npy_header(fh: Any, path: str, key: str) -> tuple[tuple, np.dtype, int]:
    try:
        version = npf.read_magic(fh)
        if version == (1, 0):
            shp, fortran, dtype = npf.read_array_header_1_0(fh)
        elif version == (2, 0):
            shp, fortran, dtype = npf.read_array_header_2_0(fh)
        else:
            raise ParseError(f"unsupported .npy version {version}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise ParseError(f"array {key!r}: not a valid .npy array ({exc})", path=path) from None
    if fortran and len(shp) > 1:
        raise ParseError(f"array {key!r}: Fortran order is not a CSR array", path=path)
    if dtype.hasobject:
        raise ParseError(f"array {key!r}: holds Python objects (refused: it would need "
                         "pickle)", path=path)
    return tuple(shp), dtype, fh.tell()


def _read_npz(path: str, shape: tuple, fmt: str) -> tuple:
    R, n = int(shape[0]), int(shape[1])
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if len(set(names)) != len(names):
                twice = sorted({n for n in names if names.count(n) > 1})
                raise ParseError(f"the archive holds {twice[0]!r} more than once", path=path)
            members = {nm[:-4]: nm for nm in names if nm.endswith(".npy")}
            missing = _NPZ_KEYS - set(members)
            if missing:
                raise ParseError("not a scipy.sparse.save_npz file: missing "
                                 f"{', '.join(sorted(missing))}", path=path)
            for key in sorted(_NPZ_KEYS):
                info = z.getinfo(members[key])
                with z.open(info) as fh:
                    shp, dtype, head = _npy_header(fh, path, key)
                    count = int(np.prod(shp)) if shp else 1
                    if count * dtype.itemsize != info.file_size - head:
                        raise ParseError(f"array {key!r}: its header promises {count} values "
                                         f"of {dtype.itemsize} bytes, the archive holds "
                                         f"{info.file_size - head} bytes", path=path)
                    if key in ("data", "indices") and count > R * n + 1:
                        raise ParseError(f"array {key!r}: {count} entries, more than a "
                                         f"{R} x {n} layer holds", path=path)
                    if key == "indptr" and count > R + 2:
                        raise ParseError(f"array 'indptr': {count} row pointers for {R} rows",
                                         path=path)
                    if key in ("format", "shape") and count > 16:
                        raise ParseError(f"array {key!r} is too large", path=path)
                    raw = fh.read(count * dtype.itemsize)
                    if len(raw) != count * dtype.itemsize:
                        raise ParseError(f"array {key!r} is truncated", path=path)
                    arrays[key] = np.frombuffer(raw, dtype=dtype, count=count).reshape(shp)
    except ParseError:
        raise
    except FileNotFoundError:
        raise ParseError("no such file", path=path) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            KeyError, RuntimeError, NotImplementedError) as exc:
        raise ParseError(f"not a readable .npz archive ({exc})", path=path) from None
    form = arrays["format"]
    form = form.item() if form.shape == () else None
    if isinstance(form, bytes):
        form = form.decode("ascii", "replace")
    if form != "csr":
        raise ParseError(f"format {form!r}: a run file must be a CSR matrix (save "
                         "M.tocsr() with scipy.sparse.save_npz)", path=path)
    shp = arrays["shape"]
    if shp.dtype.kind not in "iu" or shp.shape != (2,):
        raise ParseError("'shape' must be two integers", path=path)
    if (int(shp[0]), int(shp[1])) != (R, n):
        raise ParseError(f"a {int(shp[0])} x {int(shp[1])} matrix; this layer is {R} inputs x "
                         f"{n} neurons", path=path)
    indptr, indices, data = arrays["indptr"], arrays["indices"], arrays["data"]
    for key, a in (("indptr", indptr), ("indices", indices)):
        if a.dtype.kind not in "iu" or a.ndim != 1:
            raise ParseError(f"{key!r} must be a vector of integers, not {a.dtype} of shape "
                             f"{a.shape}", path=path)
    if data.ndim != 1 or data.dtype.kind not in "fiu":
        raise ParseError(f"'data' must be a vector of numbers, not {data.dtype} of shape "
                         f"{data.shape}", path=path)
    indptr = indptr.astype(np.int64)
    indices = indices.astype(np.int64)
    if len(indptr) != R + 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0) \
            or indptr[-1] != len(indices) or len(indices) != len(data):
        raise ParseError(f"inconsistent CSR arrays: indptr must rise from 0 to the {len(data)} "
                         f"entries over {R + 1} pointers", path=path)
    rows = np.repeat(np.arange(R, dtype=np.int64), np.diff(indptr))
    raw_idx = arrays["indices"]
    bad = np.flatnonzero((raw_idx < 0) | (raw_idx >= n))
    if len(bad):
        i = int(bad[0])
        raise ParseError(f"entry {i + 1} (row {rows[i] + 1}): column index {int(raw_idx[i])} "
                         f"is not a neuron: the layer has {n} (0-based 0..{n - 1})", path=path)
    vals = _binary_values(data, fmt, path, rows, indices)
    return rows, indices, vals, None


def _binary_values(data: np.ndarray, fmt: str, path: str, rows: np.ndarray,
                   cols: np.ndarray) -> np.ndarray:
    f = get_format(fmt)
    if data.dtype.kind == "f":
        vals = data.astype(np.float64)  # fp16 and fp32 widen exactly; longdouble may not
        if data.dtype.itemsize > 8:
            off = np.flatnonzero((vals.astype(data.dtype) != data) & np.isfinite(vals))
            if len(off):
                i = int(off[0])
                raise ParseError(f"entry {i + 1} (row {rows[i] + 1}, neuron {cols[i] + 1}): "
                                 f"{data.dtype} value {np.format_float_scientific(data[i])} "
                                 "is not a fp64 value",
                                 path=path)
        bad = np.flatnonzero(~np.isfinite(vals))
        if len(bad):
            i = int(bad[0])
            raise ParseError(f"entry {i + 1} (row {rows[i] + 1}, neuron {cols[i] + 1}): "
                             f"{float(vals[i])!r} is not finite", path=path)
    else:
        if len(data) and np.max(np.abs(data.astype(np.float64))) >= 2.0**53:
            big = np.flatnonzero(np.abs(data.astype(np.float64)) >= 2.0**53)[0]
            raise ParseError(f"entry {big + 1}: the integer {int(data[big])} is beyond 2**53",
                             path=path)
        vals = data.astype(np.float64)
    if f.name != "fp64" and len(vals):
        back = np.asarray(narrow(vals, f), dtype=np.float64)
        off = np.flatnonzero(back != vals)
        if len(off):
            i = int(off[0])
            raise ParseError(f"entry {i + 1} (row {rows[i] + 1}, neuron {cols[i] + 1}): "
                             f"{float(vals[i])!r} is not a {f.name} value (was the run computed in "
                             f"{f.name}? state its format as NAME=PATH:FORMAT)", path=path)
    return vals


# ------------------------------------------------------------------------------ writing
def write_run_layer(folder: str | os.PathLike, kind: str, l: int, keys: np.ndarray,
                    vals: np.ndarray, shape: tuple, form: str = "npz") -> Path:
    """Write one layer of a run as ``{kind}-{l}.{form}`` in ``folder`` (``kind`` is
    ``layer`` or ``pre``; ``form`` ``npz`` (scipy CSR, float64 values) or ``tsv``
    (1-based ``row<TAB>neuron<TAB>value`` with C99 hex floats, exact)).

    The caller writes into a folder of its own (for ``symdnn audit --dump``, the temporary
    folder :func:`symdnn.io.outputs.output_folder` renames into place when complete).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> d = tempfile.mkdtemp()
    >>> p = write_run_layer(d, "layer", 3, np.array([1, 2]), np.array([0.5, 3.0]), (2, 2),
    ...                     "tsv")
    >>> p.read_text().splitlines()
    ['1\\t2\\t0x1.0000000000000p-1', '2\\t1\\t0x1.8000000000000p+1']
    """
    if kind not in ("layer", "pre"):
        raise ArgumentError(f"kind {kind!r}: layer or pre")
    R, n = int(shape[0]), int(shape[1])
    keys = np.asarray(keys, dtype=np.int64)
    rows, cols = keys // max(n, 1), keys % max(n, 1)
    p = Path(folder) / f"{kind}-{l}.{form}"
    if form == "npz":
        M = sp.csr_matrix((np.asarray(vals, dtype=np.float64), (rows, cols)), shape=(R, n))
        M.sort_indices()
        sp.save_npz(p, M, compressed=False)
    elif form == "tsv":
        text = "".join(f"{r + 1}\t{c + 1}\t{float(v).hex()}\n"
                       for r, c, v in zip(rows.tolist(), cols.tolist(),
                                          np.asarray(vals, dtype=np.float64).tolist(),
                                          strict=True))
        p.write_text(text, encoding="ascii")
    else:
        raise ArgumentError(f"form {form!r}: npz or tsv")
    return p
