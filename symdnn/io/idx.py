"""IDX files (the MNIST format), gzip-compressed or raw.

Header: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, then one big-endian uint32
per dimension; the data follow, big-endian, row-major.
"""

from __future__ import annotations

import gzip
import io
import os
import struct

import numpy as np

from symdnn.assoc.convert import atomic_write
from symdnn.errors import ParseError

__all__ = ["read_idx", "write_idx"]

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw; detected from its first bytes).

    Raises
    ------
    ParseError
        For a missing file, a bad magic number, an unknown type code, or a size that does not
        match the header (the message names the file and what is wrong).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> p = tempfile.mktemp(suffix=".idx")
    >>> write_idx(p, np.arange(6, dtype=np.uint8).reshape(2, 3))
    >>> read_idx(p).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ParseError(f"corrupt gzip data: {exc}", path=path) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ParseError("corrupt IDX header: the magic number must start with two zero bytes",
                         path=path)
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise ParseError(f"corrupt IDX header: unknown type code 0x{code:02x}", path=path)
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise ParseError(f"corrupt IDX header: {ndim} dimensions but the header is cut short",
                         path=path)
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dt = np.dtype(_TYPES[code])
    want = int(np.prod(dims)) * dt.itemsize
    have = len(raw) - 4 - 4 * ndim
    if have != want:
        raise ParseError(f"corrupt IDX header: dimensions {dims} need {want} data bytes, the "
                         f"file has {have}", path=path)
    return np.frombuffer(raw, dtype=dt, offset=4 + 4 * ndim).reshape(dims).astype(
        dt.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an array as IDX (gzip when the name ends in ``.gz``), atomically."""
    arr = np.asarray(array)
    code = next((c for c, t in _TYPES.items() if np.dtype(t).kind == arr.dtype.kind
                 and np.dtype(t).itemsize == arr.dtype.itemsize), None)
    if code is None:
        raise ParseError(f"IDX cannot hold dtype {arr.dtype}", path=os.fspath(path))
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    path = os.fspath(path)
    payload = gzip.compress(data, mtime=0) if path.endswith(".gz") else data

    def write(fh: io.TextIOBase) -> None:
        fh.flush()
        fh.buffer.write(payload)

    atomic_write(path, write, compress=False)
