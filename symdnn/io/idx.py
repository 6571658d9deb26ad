"""IDX files (the MNIST format), gzip-compressed or raw.

Header: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, then one big-endian uint32
per dimension; the data follow, big-endian, row-major. Read strictly: see :func:`read_idx`.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib

import numpy as np

from symdnn.errors import ParseError
from symdnn.io.outputs import atomic_write

__all__ = ["read_idx", "write_idx"]

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _gunzip(raw: bytes, path: str) -> bytes:
    """Decompress, reading no more than the header says the data holds (plus one chunk), so a
    small file that claims or expands to gigabytes is refused without filling memory."""
    chunk = 1 << 20
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
            parts = [gz.read(4)]
            want = None
            head = parts[0]
            if len(head) == 4 and head[:2] == b"\0\0" and head[2] in _TYPES and head[3]:
                parts.append(gz.read(4 * head[3]))
                if len(parts[1]) == 4 * head[3]:
                    dims = struct.unpack(f">{head[3]}I", parts[1])
                    want = math.prod(dims) * np.dtype(_TYPES[head[2]]).itemsize
            total = 0
            while True:
                block = gz.read(chunk)
                if not block:
                    break
                parts.append(block)
                total += len(block)
                if want is not None and total > want:
                    break
            return b"".join(parts)
    except (OSError, EOFError, zlib.error) as exc:
        raise ParseError(f"corrupt or truncated gzip data: {exc or type(exc).__name__}",
                         path=path) from None
    except MemoryError:
        raise ParseError("the decompressed file is too large for memory", path=path) from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw; detected from its first bytes).

    Policy: the magic number is two zero bytes, a known type code and a non-zero number of
    dimensions; the data must hold exactly ``prod(dims) * itemsize`` bytes (no fewer, no
    more); gzip streams must be complete and uncorrupted; float data must be finite.

    Raises
    ------
    ParseError
        For a missing file, a bad magic number, an unknown type code, a size that does not
        match the header, a corrupt or truncated gzip stream, or NaN/infinite float data (the
        message names the file and what is wrong).

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
    except MemoryError:
        raise ParseError("the file is too large for memory", path=path) from None
    gz = raw[:2] == b"\x1f\x8b"
    if gz:
        raw = _gunzip(raw, path)
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
    want = math.prod(dims) * dt.itemsize
    have = len(raw) - 4 - 4 * ndim
    if have != want:
        more = " or more" if gz and have > want else ""
        raise ParseError(f"corrupt IDX header: dimensions {dims} need {want} data bytes, the "
                         f"file has {have}{more}", path=path)
    out = np.frombuffer(raw, dtype=dt, offset=4 + 4 * ndim).reshape(dims).astype(
        dt.newbyteorder("="))
    if dt.kind == "f" and not np.all(np.isfinite(out)):
        i = int(np.flatnonzero(~np.isfinite(out.ravel()))[0])
        raise ParseError(f"float data must be finite: element {i} is {out.ravel()[i]}",
                         path=path)
    return out


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
