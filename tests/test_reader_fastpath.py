"""The vectorised fast path of ``read_layer`` against its general (token by token) path.

``symdnn.io.graphchallenge._FAST_PATH = False`` forces the general path; each file here is read
both ways and must give the same layer (the same CSR arrays, dtypes and flags, denominator and
value strings) or a ParseError with the same message. The file table says which files the
fast path takes, so a change that quietly sends every file the general way fails too. Layers
that read are also checked entry by entry against a line-by-line reading in this file.
"""

from __future__ import annotations

import gzip
import io
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import symdnn.io.graphchallenge as gc
from symdnn import ParseError
from symdnn.io.text import exact_number, read_bytes
from tests.datafiles import gc_layer


def read_both(path: Path, n: int | None, monkeypatch) -> tuple[object, bool]:
    """``read_layer`` by the fast and the general path: the common outcome (a layer or an
    error message), asserted equal, and whether the fast path took the file."""
    taken = []
    fast = gc._canonical_triples

    def spy(*args):
        try:
            t = fast(*args)
        except ParseError:  # an index out of range, found by the fast path
            taken.append(True)
            raise
        taken.append(t is not None)
        return t

    with monkeypatch.context() as m:
        m.setattr(gc, "_canonical_triples", spy)
        one = outcome(path, n)
    with monkeypatch.context() as m:
        m.setattr(gc, "_FAST_PATH", False)
        m.setattr(gc, "_canonical_triples", None)  # not called when the path is forced
        other = outcome(path, n)
    assert one == other
    return one, bool(taken and taken[0])


def outcome(path: Path, n: int | None):
    try:
        g = gc.read_layer(path, n)
    except ParseError as exc:
        return ("error", str(exc))
    N = g.N
    return ("layer", N.shape, N.dtype, N.indices.dtype, N.indptr.dtype, N.data.tolist(),
            N.indices.tolist(), N.indptr.tolist(), N.has_sorted_indices,
            N.has_canonical_format, g.d, list(g.values.items()), g.path)


def triples(N: sp.csr_matrix) -> tuple:
    """Row, column and value of every stored entry (a stored zero included)."""
    C = N.tocoo()
    return C.row, C.col, C.data


def line_by_line(raw: bytes) -> dict:
    """The entries of an accepted layer file, read one line at a time."""
    out = {}
    for line in raw.decode("utf-8").split("\n"):
        if line.split():
            a, b, v = line.split()
            out[(int(a) - 1, int(b) - 1)] = exact_number(v)
    return out


def check(tmp_path: Path, monkeypatch, raw: bytes, n: int | None = None, *,
          fast: bool | None = None, name: str = "l.tsv"):
    p = tmp_path / name
    p.write_bytes(raw)
    got, took = read_both(p, n, monkeypatch)
    if fast is not None:
        assert took == fast, (raw[:80], got)
    if got[0] == "layer":
        g = gc.read_layer(p, n)
        entries = {(int(r), int(c)): Fraction(int(v), g.d)
                   for r, c, v in zip(*triples(g.N), strict=True)}
        assert entries == line_by_line(gzip.decompress(raw) if name.endswith(".gz") else raw)
    return got


# (name, file bytes, width, whether the fast path takes it)
CASES = [
    ("canonical", b"1\t2\t0.0625\n2\t1\t0.0625\n", 2, True),
    ("canonical without width", b"1\t2\t0.0625\n3\t1\t0.0625\n", None, True),
    ("canonical, wider", b"1\t2\t6.25e-2\n2\t1\t6.25e-2\n", 4, True),
    ("one line", b"1\t1\t1\n", 1, True),
    ("no final newline", b"1\t2\t0.5\n2\t1\t0.5", 2, True),
    ("no final newline, one line", b"3\t1\t0.5", None, True),
    ("crlf", b"1\t2\t0.5\r\n2\t1\t0.5\r\n", 2, False),
    ("spaces", b"1 2 0.5\n2 1 0.5\n", 2, False),
    ("double tab", b"1\t\t2\t0.5\n", 2, False),
    ("blank line inside", b"1\t2\t0.5\n\n2\t1\t0.5\n", 2, False),
    ("blank line at the end", b"1\t2\t0.5\n\n", 2, False),
    ("blank line first", b"\n1\t2\t0.5\n", 2, False),
    ("trailing space", b"1\t2\t0.5 \n", 2, False),
    ("leading space", b" 1\t2\t0.5\n", 2, False),
    ("trailing tab", b"1\t2\t0.5\t\n", 2, False),
    ("vertical tab", b"1\x0b2\t0.5\n", 2, False),
    ("unit separator", b"1\t2\t0.5\x1f\n", 2, False),
    ("leading zeros", b"007\t001\t0.5\n0\t0001\t0.5\n", 8, True),
    ("leading zeros, nine digits", b"000000007\t1\t0.5\n", 8, True),
    ("leading zeros, ten digits", b"0000000007\t1\t0.5\n", 8, True),
    ("leading zeros, eighteen digits", b"000000000000000007\t1\t0.5\n", 8, True),
    ("leading zeros, nineteen digits", b"0000000000000000007\t1\t0.5\n", 8, False),
    ("leading zeros, forty digits", b"0" * 39 + b"7\t1\t0.5\n", 8, False),
    ("index zero", b"1\t1\t1\n0\t1\t1\n", 4, True),
    ("index zero in field 2", b"1\t1\t1\n1\t00\t1\n", 4, True),
    ("index beyond the width", b"1\t1\t1\n5\t1\t1\n", 4, True),
    ("field 2 beyond the width", b"1\t5\t1\n5\t1\t1\n", 4, True),
    ("field 1 zero, field 2 beyond", b"1\t9\t1\n0\t1\t1\n", 4, True),
    ("beyond MAX_DIM", b"1\t1\t1\n16777217\t1\t1\n", None, True),
    ("eighteen digits", b"123456789012345678\t1\t1\n", None, True),
    ("nineteen digits", b"1234567890123456789\t1\t1\n", None, False),
    ("beyond 2**63", b"1\t1\t1\n99999999999999999999\t1\t1\n", 4, False),
    ("exactly 2**63", b"9223372036854775808\t1\t1\n", 4, False),
    ("width zero", b"1\t1\t1\n", 0, True),
    ("plus sign", b"+3\t1\t0.5\n", 4, False),
    ("minus sign", b"-3\t1\t0.5\n", 4, False),
    ("minus zero", b"-0\t1\t0.5\n", 4, False),
    ("underscore in an index", b"1_0\t2\t1\n", 20, False),
    ("hex index", b"1\t0x1\t1\n", 20, False),
    ("letter in an index", b"1\t1a\t1\n", 20, False),
    ("non-ASCII digit", "1\t\u0663\t1\n".encode(), 20, False),
    ("repeated entry", b"1\t2\t0.5\n2\t2\t1\n1\t2\t0.25\n", 4, True),
    ("repeated entry, same value", b"1\t2\t0.5\n2\t2\t0.5\n1\t2\t0.5\n", 4, True),
    ("two repeats", b"3\t3\t1\n1\t1\t1\n1\t1\t1\n3\t3\t1\n", 4, True),
    ("repeat with leading zeros", b"1\t2\t1\n01\t002\t1\n", 4, True),
    ("mixed values", b"1\t1\t0.0625\n1\t2\t6.25e-2\n2\t1\t1/16\n2\t2\t-0.3\n", 2, True),
    ("mixed lengths", b"1\t1\t1\n1\t2\t10\n2\t1\t1/3\n2\t2\t1.0\n3\t3\t1\n", None, True),
    ("prefix values", b"1\t1\t0.5\n1\t2\t0.50\n2\t1\t0.5\n", 2, True),
    ("value inf", b"1\t1\t0.5\n2\t1\tinf\n", 2, True),
    ("value nan", b"1\t1\tnan\n", 2, True),
    ("value -inf", b"1\t1\t0.5\n2\t1\t-inf\n", 2, True),
    ("value 1e400", b"1\t1\t1e400\n", 2, True),
    ("value 1e99999", b"1\t1\t1e99999\n", 2, True),
    ("value 1/0", b"1\t1\t1/0\n", 2, True),
    ("value 1_0", b"1\t1\t1_0\n", 2, True),
    ("value with DEL", b"1\t1\t0.5\x7f\n", 2, True),
    ("two bad values", b"1\t1\tzz\n2\t1\taa\n", 2, True),
    ("bad value and a repeat", b"1\t1\t1\n1\t1\tx\n", 2, True),
    ("out of range over the denominator", b"1\t1\t1/3\n2\t1\t1e30\n", 2, True),
    ("long value, one string", b"1\t1\t0." + b"0" * 70 + b"1\n", 2, True),
    ("long mixed values", b"1\t1\t1\n2\t1\t0." + b"0" * 70 + b"1\n", 2, False),
    ("64-byte values", b"1\t1\t1\n2\t1\t0." + b"0" * 61 + b"1\n", 2, True),
    ("empty file", b"", 3, False),
    ("empty file without width", b"", None, False),
    ("only newlines", b"\n\n\n", 3, False),
    ("only tabs", b"\t\t\n", 3, False),
    ("empty fields", b"1\t\t\n", 3, False),
    ("four fields", b"1\t2\t0.5\t7\n2\t1\t0.5\t7\n3\t3\t0.5\t7\n", 4, False),
    ("two fields then four", b"1\t2\t0.5\n3\t4\n1\t1\t0.5\t2\n", 4, False),
    ("non-UTF-8", b"1\t2\t0.5\n2\t1\t0.5\xff\n", 4, False),
    ("UTF-8, not ASCII", "1\t2\t0.5\n2\t1\t0.5\u00e9\n".encode(), 4, False),
    ("NUL byte", b"1\t2\t0.5\x00\n", 4, False),
    ("gzip magic without .gz", gzip.compress(b"1\t1\t1\n"), 4, False),
]


@pytest.mark.parametrize("raw, n, fast", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fast_and_general_paths_agree(tmp_path, monkeypatch, raw, n, fast):
    check(tmp_path, monkeypatch, raw, n, fast=fast)


def test_errors_name_the_file_and_line(tmp_path, monkeypatch):
    got = check(tmp_path, monkeypatch, b"1\t2\t1\n2\t1\t1\n1\t2\t1\n", 4, fast=True)
    assert got == ("error", f"{tmp_path / 'l.tsv'}:3: repeated entry (1, 2), first on line 1")
    got = check(tmp_path, monkeypatch, b"1\t2\t1\n9\t1\t1\n", 4, fast=True)
    assert got == ("error", f"{tmp_path / 'l.tsv'}:2: index beyond the network width 4")


# ---------------------------------------------------------------------- gzip files
GZ_CASES = [
    ("canonical", gzip.compress(b"1\t2\t0.5\n2\t1\t0.5\n")),
    ("two members", gzip.compress(b"1\t2\t0.5\n") + gzip.compress(b"2\t1\t0.5\n")),
    ("zero padding", gzip.compress(b"1\t2\t0.5\n") + b"\x00" * 8),
    ("trailing garbage", gzip.compress(b"1\t2\t0.5\n") + b"xyz"),
    ("truncated", gzip.compress(b"1\t2\t0.5\n" * 200)[:-12]),
    ("truncated header", gzip.compress(b"1\t2\t0.5\n")[:5]),
    ("bad CRC", (lambda z: z[:-8] + bytes([z[-8] ^ 1]) + z[-7:])(
        gzip.compress(b"1\t2\t0.5\n"))),
    ("bad length", (lambda z: z[:-4] + bytes([z[-4] ^ 1]) + z[-3:])(
        gzip.compress(b"1\t2\t0.5\n"))),
    ("corrupt deflate", (lambda z: z[:12] + b"\xff\xff\xff" + z[15:])(
        gzip.compress(b"1\t2\t0.5\n" * 50))),
    ("not gzip", b"1\t2\t0.5\n"),
    ("empty", b""),
    ("gzip of an empty file", gzip.compress(b"")),
    ("non-canonical text", gzip.compress(b"1 2 0.5\r\n\n2\t1\t0.5")),
]


def gzip_module_read(path: Path) -> object:
    """What ``read_bytes`` gave before it inflated single members with zlib."""
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        return type(exc)


@pytest.mark.parametrize("raw", [c[1] for c in GZ_CASES], ids=[c[0] for c in GZ_CASES])
def test_gzip_layers(tmp_path, monkeypatch, raw):
    check(tmp_path, monkeypatch, raw, 4, name="l.tsv.gz")


@pytest.mark.parametrize("raw", [c[1] for c in GZ_CASES], ids=[c[0] for c in GZ_CASES])
def test_read_bytes_gives_what_the_gzip_module_gives(tmp_path, raw):
    p = tmp_path / "f.gz"
    p.write_bytes(raw)
    want = gzip_module_read(p)
    if isinstance(want, bytes):
        assert read_bytes(str(p)) == want
    else:
        with pytest.raises(ParseError) as info:
            read_bytes(str(p))
        expected = {gzip.BadGzipFile: "not a valid gzip file", EOFError: "truncated gzip",
                    zlib.error: "corrupt gzip data"}[want]
        assert expected in str(info.value)
        with pytest.raises(want) as plain:  # the same message as the gzip module's
            with gzip.open(io.BytesIO(raw)) as fh:
                fh.read()
        if want is not EOFError:
            assert str(plain.value) in str(info.value)


# ---------------------------------------------------------------------- seeded random files
VALUES = [b"0.0625", b"6.25e-2", b"1/16", b"-0.3", b"6.250000e-02", b"1", b"-2", b"1/3",
          b"0.5", b"5e-1", b"10", b".5", b"5.", b"-0"]
BAD_VALUES = [b"inf", b"nan", b"1e400", b"1/0", b"x", b"1e-99999", b"--1", b"0x10"]


def random_file(rng: np.random.Generator) -> tuple[bytes, int | None]:
    """A canonical layer file, then perhaps one change that may or may not break it."""
    width = int(rng.integers(1, 40))
    cells = rng.choice(width * width, size=int(rng.integers(1, min(width * width, 60) + 1)),
                       replace=False)
    pool = [VALUES[k] for k in rng.choice(len(VALUES), size=int(rng.integers(1, 4)))]
    lines = []
    for cell in cells:
        r, c = divmod(int(cell), width)
        zeros = [b"0" * int(rng.integers(0, 3)) if rng.random() < 0.1 else b"" for _ in "rc"]
        v = pool[int(rng.integers(len(pool)))]
        lines.append(zeros[0] + str(r + 1).encode() + b"\t" + zeros[1] + str(c + 1).encode()
                     + b"\t" + v)
    k = int(rng.integers(len(lines)))
    change = int(rng.integers(0, 16))
    if change == 1:
        lines[k] = lines[k].replace(b"\t", b" ", 1)
    elif change == 2:
        lines[k] += b"\r"
    elif change == 3:
        lines.insert(k, b"")
    elif change == 4:
        lines.append(lines[k])  # a repeated entry
    elif change == 5:
        lines[k] = b"+" + lines[k]
    elif change == 6:
        lines[k] = b"0\t" + lines[k].split(b"\t", 1)[1]
    elif change == 7:
        lines[k] = str(width + 1).encode() + b"\t" + lines[k].split(b"\t", 1)[1]
    elif change == 8:
        lines[k] = lines[k].rsplit(b"\t", 1)[0] + b"\t" + BAD_VALUES[k % len(BAD_VALUES)]
    elif change == 9:
        lines[k] += b"\xc3\xa9" if k % 2 else b"\xff"
    elif change == 10:
        lines[k] += b"\t1"
    elif change == 11:
        lines[k] = b"9" * 20 + b"\t" + lines[k].split(b"\t", 1)[1]
    elif change == 12:
        lines[k] += b" "
    raw = b"\n".join(lines) + (b"" if change == 13 else b"\n")
    n = None if rng.random() < 0.3 else width
    return raw, n


def test_seeded_random_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(20240611)
    seen = {"fast": 0, "general": 0, "error": 0}
    p = tmp_path / "l.tsv"
    for _ in range(300):
        raw, n = random_file(rng)
        p.write_bytes(raw)
        got, took = read_both(p, n, monkeypatch)
        seen["fast" if took else "general"] += 1
        seen["error"] += got[0] == "error"
        if got[0] == "layer":
            g = gc.read_layer(p, n)
            entries = {(int(r), int(c)): Fraction(int(v), g.d)
                       for r, c, v in zip(*triples(g.N), strict=True)}
            assert entries == line_by_line(raw)
    assert min(seen.values()) >= 30, seen  # every kind of outcome is exercised


# ---------------------------------------------------------------------- the official files
def test_official_layers(gc_data, monkeypatch):
    for layer in (1, 2, 3):
        got, took = read_both(gc_layer(gc_data, layer), 1024, monkeypatch)
        assert took and got[0] == "layer"
        assert got[1] == (1024, 1024) and len(got[5]) == 32768
