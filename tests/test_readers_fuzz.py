"""Fuzzed files for every reader: each must parse to the right answer or raise a SymdnnError.

Valid files are drawn by hypothesis, then mutated (bytes appended, inserted, replaced or
deleted, lines truncated or repeated, fields added or removed, special values such as
``inf``, ``nan``, ``1e400`` or ``1_0`` put in, non-UTF-8 bytes, gzip streams truncated or
flipped, headers swapped). A small, line-by-line oracle in this file states the policy
independently of the vectorised readers: when it accepts the mutated file, the reader must
return exactly its answer; when it refuses, the reader must raise a SymdnnError. Never another
exception, never a crash (a child process checks that the MatrixMarket file that made SciPy
segfault now gives a ParseError).
"""

from __future__ import annotations

import gzip
import json
import math
import re
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symdnn import AssocArray, ParseError, SymdnnError
from symdnn.constructions import selective
from symdnn.io import read_categories, read_images, read_layer
from symdnn.io.idx import read_idx
from symdnn.io.mtx import read_mtx
from symdnn.network import read_network, write_network
from tests.datafiles import data_file

MAX_DIM = 2**24
LIMIT = 2**62


class Invalid(Exception):
    """The oracle refuses the file."""


# ---------------------------------------------------------------------- the oracle
_INT = re.compile(rb"[+-]?[0-9]+\Z")
_DEC = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?\Z")
_RAT = re.compile(r"[+-]?[0-9]+/[0-9]+\Z")


def o_gunzip(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except Exception:
        raise Invalid from None


def o_lines(data: bytes) -> list[tuple[int, list[bytes]]]:
    """Non-blank lines as (number, fields); fields split on ASCII blanks."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid from None
    return [(i, ln.split()) for i, ln in enumerate(data.split(b"\n"), 1) if ln.split()]


def o_int(tok: bytes, lo: int | None = 1, hi: int | None = MAX_DIM) -> int:
    if not _INT.match(tok) or len(tok) > 4000:
        raise Invalid
    v = int(tok)
    if (lo is not None and v < lo) or (hi is not None and v > hi) or abs(v) >= 2**63:
        raise Invalid
    return v


def o_num(tok: bytes, ratio: bool = True) -> Fraction:
    s = tok.decode("utf-8")
    if len(s) > 4000:
        raise Invalid
    m = _DEC.match(s)
    if m:
        if m.group(1) is not None and abs(int(m.group(1))) > 10_000:
            raise Invalid
        return Fraction(s)
    if ratio and _RAT.match(s):
        p, q = s.split("/")
        if int(q) == 0:
            raise Invalid
        return Fraction(int(p), int(q))
    raise Invalid


def o_triples(data: bytes, n: int | None, ratio: bool = True) -> dict:
    out: dict = {}
    for _, f in o_lines(data):
        if len(f) != 3:
            raise Invalid
        hi = MAX_DIM if n is None else n
        key = (o_int(f[0], 1, hi), o_int(f[1], 1, hi))
        if key in out:
            raise Invalid
        out[key] = o_num(f[2], ratio)
    return out


def o_layer(data: bytes, n: int | None) -> tuple[dict, int]:
    entries = o_triples(data, n)
    d = math.lcm(*[v.denominator for v in set(entries.values())]) if entries else 1
    if any(abs(v * d) >= LIMIT for v in entries.values()):
        raise Invalid
    width = n if n is not None else max((max(k) for k in entries), default=0)
    return entries, width


def o_images_tsv(data: bytes, n: int) -> tuple[dict, tuple]:
    out: dict = {}
    for _, f in o_lines(data):
        if len(f) != 3:
            raise Invalid
        key = (o_int(f[0]), o_int(f[1], 1, n))
        if key in out:
            raise Invalid
        v = o_num(f[2])
        if v.denominator != 1 or abs(v) >= LIMIT:
            raise Invalid
        out[key] = int(v)
    rows = max((k[0] for k in out), default=0)
    return {k: v for k, v in out.items() if v}, (rows, n)


def o_truth_tsv(data: bytes) -> list[int]:
    out: list[int] = []
    for _, f in o_lines(data):
        if len(f) != 1:
            raise Invalid
        v = o_int(f[0])
        if v in out:
            raise Invalid
        out.append(v)
    return sorted(out)


def o_mtx(data: bytes) -> tuple[tuple, str, dict]:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid from None
    lines = data.split(b"\n")
    head = [w.lower() for w in lines[0].split()]
    if (not lines[0].startswith(b"%%") or len(head) != 5
            or head[:3] != [b"%%matrixmarket", b"matrix", b"coordinate"]
            or head[3] not in (b"real", b"integer", b"pattern")
            or head[4] not in (b"general", b"symmetric")):
        raise Invalid
    field, sym = head[3].decode(), head[4].decode()
    i = 1
    while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith(b"%")):
        i += 1
    if i == len(lines):
        raise Invalid
    size = lines[i].split()
    if len(size) != 3 or not all(s.isdigit() and len(s) < 30 for s in size):
        raise Invalid
    m, n, nnz = (int(s) for s in size)
    if m > MAX_DIM or n > MAX_DIM or (sym == "symmetric" and m != n):
        raise Invalid
    if nnz > (m * (m + 1) // 2 if sym == "symmetric" else m * n):
        raise Invalid
    out: dict = {}
    count = 0
    for ln in lines[i + 1:]:
        if not ln.split():
            continue
        if ln.strip().startswith(b"%"):
            raise Invalid
        f = ln.split()
        if len(f) != (2 if field == "pattern" else 3):
            raise Invalid
        r, c = o_int(f[0], 1, m), o_int(f[1], 1, n)
        v = (1 if field == "pattern" else o_int(f[2], None, None) if field == "integer"
             else o_num(f[2], ratio=False))
        if (r, c) in out or (sym == "symmetric" and r < c):
            raise Invalid
        out[r, c] = v
        count += 1
    if count != nnz:
        raise Invalid
    if sym == "symmetric":
        out.update({(c, r): v for (r, c), v in list(out.items())})
    return (m, n), field, out


def o_images_mtx(data: bytes) -> tuple[dict, tuple]:
    shape, _, entries = o_mtx(data)
    for v in entries.values():
        if Fraction(v).denominator != 1 or abs(v) >= LIMIT:
            raise Invalid
    return {k: int(v) for k, v in entries.items() if v}, shape


def o_truth_mtx(data: bytes) -> list[int]:
    shape, _, entries = o_mtx(data)
    if shape[1] != 1 or any(v != 1 for v in entries.values()):
        raise Invalid
    return sorted(r for r, _ in entries)


_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def o_idx(data: bytes) -> np.ndarray:
    if data[:2] == b"\x1f\x8b":
        data = o_gunzip(data)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_TYPES or not data[3]:
        raise Invalid
    nd = data[3]
    if len(data) < 4 + 4 * nd:
        raise Invalid
    dims = struct.unpack(f">{nd}I", data[4:4 + 4 * nd])
    dt = np.dtype(_IDX_TYPES[data[2]])
    if len(data) - 4 - 4 * nd != math.prod(dims) * dt.itemsize:
        raise Invalid
    arr = np.frombuffer(data, dtype=dt, offset=4 + 4 * nd).reshape(dims)
    if dt.kind == "f" and not np.all(np.isfinite(arr)):
        raise Invalid
    return arr


# ---------------------------------------------------------------------- mutations
SPECIAL = [b"inf", b"-inf", b"nan", b"NaN", b"-1", b"0", b"+3", b"007", b"1e400", b"1e19",
           b"99999999999999999999", b"1e999999999", b"4611686018427387904", b"1_0", b"0x10",
           b"1/0", b"-0", b"1.5", b"2/4", b"", b"%", b"% c", b"\xff", b"\xc3", b"\xe2\x80\xa8",
           b"\t", b" ", b"\r", b"\r\n", b"\n", b"\x00", b"\x0b", b"\x1c", b"x", b"9" * 5000]


@st.composite
def mutated(draw, base: bytes) -> bytes:
    data = base
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.integers(0, 8))
        pos = draw(st.integers(0, len(data)))
        lines = data.split(b"\n")
        li = draw(st.integers(0, len(lines) - 1))
        if op == 0:
            data += draw(st.binary(min_size=1, max_size=4))
        elif op == 1:
            data = data[:pos]
        elif op == 2:
            data = data[:pos] + draw(st.sampled_from(SPECIAL)) + data[pos:]
        elif op == 3:
            data = data[:pos] + draw(st.binary(min_size=1, max_size=2)) + data[pos + 1:]
        elif op == 4:
            data = data[:pos] + data[pos + 1:]
        elif op == 5:
            lines.insert(li, lines[li])
            data = b"\n".join(lines)
        elif op in (6, 7, 8):
            f = lines[li].split()
            j = draw(st.integers(0, max(len(f) - 1, 0)))
            if op == 6 and f:
                del f[j]
            elif op == 7:
                f.insert(j, draw(st.sampled_from(SPECIAL)))
            elif f:
                f[j] = draw(st.sampled_from(SPECIAL))
            lines[li] = draw(st.sampled_from([b"\t", b" "])).join(f)
            data = b"\n".join(lines)
    return data


@st.composite
def maybe_gzip(draw, text: bytes) -> bytes:
    data = gzip.compress(text, mtime=0)
    if draw(st.booleans()):
        pos = draw(st.integers(0, len(data)))
        if draw(st.booleans()):
            data = data[:pos]
        else:
            data = data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1:]
    return data


# ---------------------------------------------------------------------- valid files
def small_entries(n: int, values) -> st.SearchStrategy:
    return st.dictionaries(st.tuples(st.integers(1, n), st.integers(1, n)), values,
                           max_size=8)


LAYER_VALUES = st.sampled_from(["0.5", "-1/3", "6.250000e-02", "2", "-0.3", "1e-3", "0"])


def layer_text(entries: dict, sep: str = "\t") -> bytes:
    return "".join(f"{r}{sep}{c}{sep}{v}\n" for (r, c), v in entries.items()).encode()


def mtx_text(entries: dict, shape: tuple, field: str, sym: str = "general") -> bytes:
    head = f"%%MatrixMarket matrix coordinate {field} {sym}\n% comment\n"
    head += f"{shape[0]} {shape[1]} {len(entries)}\n"
    body = "".join(f"{r} {c}\n" if field == "pattern" else f"{r} {c} {v}\n"
                   for (r, c), v in entries.items())
    return (head + body).encode()


def check(read, oracle, data: bytes, same) -> None:
    """The reader's answer equals the oracle's, or both refuse (the reader by SymdnnError)."""
    try:
        want = oracle(data)
    except Invalid:
        want = Invalid
    try:
        got = read()
    except SymdnnError:
        assert want is Invalid, f"refused a file the policy accepts: {data[:200]!r}"
        return
    assert want is not Invalid, f"accepted a file the policy refuses: {data[:200]!r}"
    same(got, want)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def put(work: Path, name: str, data: bytes) -> Path:
    p = work / name
    p.write_bytes(data)
    return p


def layer_dict(g) -> dict:
    C = g.N.tocoo()
    return {(int(r) + 1, int(c) + 1): Fraction(int(v), g.d)
            for r, c, v in zip(C.row, C.col, C.data, strict=True)}


def same_layer(g, want) -> None:
    entries, width = want
    assert g.N.shape == (width, width)
    assert layer_dict(g) == entries


def same_images(M, want) -> None:
    entries, shape = want
    C = M.tocoo()
    assert M.shape == shape and M.dtype == np.int64
    assert {(int(r) + 1, int(c) + 1): int(v)
            for r, c, v in zip(C.row, C.col, C.data, strict=True)} == entries


# ---------------------------------------------------------------------- the fuzz tests
@settings(max_examples=120)
@given(st.data(), small_entries(6, LAYER_VALUES), st.sampled_from([6, None]))
def test_layer_tsv(work, data, entries, n):
    raw = data.draw(mutated(layer_text(entries, data.draw(st.sampled_from(["\t", " "])))))
    p = put(work, "l.tsv", raw)
    check(lambda: read_layer(p, n), lambda d: o_layer(d, n), raw, same_layer)


@settings(max_examples=60)
@given(st.data(), small_entries(6, LAYER_VALUES))
def test_layer_tsv_gz(work, data, entries):
    text = data.draw(mutated(layer_text(entries)))
    raw = data.draw(maybe_gzip(text))
    p = put(work, "l.tsv.gz", raw)
    check(lambda: read_layer(p, 6), lambda d: o_layer(o_gunzip(d), 6), raw, same_layer)


@settings(max_examples=100)
@given(st.data(), small_entries(5, st.sampled_from(["1", "2", "-3", "0", "1.0", "2e1"])))
def test_images_tsv(work, data, entries):
    raw = data.draw(mutated(layer_text(entries)))
    p = put(work, "img.tsv", raw)
    check(lambda: read_images(p, 5), lambda d: o_images_tsv(d, 5), raw, same_images)


@settings(max_examples=120)
@given(st.data(), small_entries(5, st.sampled_from(["1", "2", "-7", "0", "3.0", "1e2"])),
       st.sampled_from(["pattern", "integer", "real"]), st.booleans())
def test_images_mtx(work, data, entries, field, symmetric):
    if field == "integer":
        entries = {k: v for k, v in entries.items() if "." not in v and "e" not in v}
    sym = "general"
    if symmetric:
        entries, sym = {(max(k), min(k)): v for k, v in entries.items()}, "symmetric"
    raw = data.draw(mutated(mtx_text(entries, (5, 5), field, sym)))
    p = put(work, "img.mtx", raw)
    check(lambda: read_images(p), o_images_mtx, raw, same_images)


@settings(max_examples=60)
@given(st.data(), small_entries(5, st.sampled_from(["1", "0.25e1", "-1.5", "0"])))
def test_mtx_reader_exact_values(work, data, entries):
    raw = data.draw(mutated(mtx_text(entries, (5, 5), "real")))
    p = put(work, "m.mtx", raw)

    def same(m, want):
        shape, _, ents = want
        assert m.shape == shape
        got = dict(zip(zip((m.rows + 1).tolist(), (m.cols + 1).tolist(), strict=True),
                       m.values.tolist(), strict=True))
        assert got == ents and all(isinstance(v, Fraction) for v in got.values())

    check(lambda: read_mtx(p), o_mtx, raw, same)


HEADERS = [b"%%MatrixMarket matrix coordinate pattern general",
           b"%%MatrixMarket matrix array real general",
           b"%%MatrixMarket matrix coordinate complex general",
           b"%%MatrixMarket matrix coordinate real skew-symmetric",
           b"%%MatrixMarket matrix coordinate pattern hermitian",
           b"%%MatrixMarket matrix coordinate pattern", b"%MatrixMarket matrix coordinate",
           b"", b"% comment", b"%%matrixmarket MATRIX coordinate PATTERN general"]


@given(st.data(), st.sampled_from(HEADERS), st.lists(st.integers(1, 9), max_size=4))
def test_truth_mtx_headers(work, data, header, images):
    body = "".join(f"{i} 1\n" for i in dict.fromkeys(images)).encode()
    raw = header + b"\n" + f"9 1 {len(dict.fromkeys(images))}\n".encode() + body
    raw = data.draw(st.sampled_from([raw, data.draw(mutated(raw))]))
    p = put(work, "t.mtx", raw)
    check(lambda: read_categories(p), o_truth_mtx, raw,
          lambda got, want: got.tolist() == want or pytest.fail(f"{got} != {want}"))


@given(st.data(), st.lists(st.integers(1, 50), max_size=6, unique=True))
def test_truth_tsv(work, data, images):
    raw = data.draw(mutated("".join(f"{i}\n" for i in images).encode()))
    p = put(work, "t.tsv", raw)
    check(lambda: read_categories(p), o_truth_tsv, raw,
          lambda got, want: got.tolist() == want or pytest.fail(f"{got} != {want}"))


@settings(max_examples=80)
@given(st.data(), st.sampled_from(sorted(_IDX_TYPES)),
       st.lists(st.integers(0, 3), min_size=1, max_size=3), st.booleans())
def test_idx(work, data, code, dims, gz):
    dt = np.dtype(_IDX_TYPES[code])
    arr = np.arange(math.prod(dims), dtype=np.int64).astype(dt)
    raw = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + arr.tobytes()
    raw = data.draw(st.one_of(st.just(raw), st.binary(max_size=3).map(lambda b: raw + b),
                              st.integers(0, len(raw)).map(lambda k: raw[:k]),
                              st.integers(0, len(raw)).flatmap(
                                  lambda k: st.binary(min_size=1, max_size=1).map(
                                      lambda b: raw[:k] + b + raw[k + 1:]))))
    if gz:
        raw = data.draw(maybe_gzip(raw))
    p = put(work, "x.idx", raw)
    check(lambda: read_idx(p), o_idx, raw,
          lambda got, want: np.array_equal(got, want) or pytest.fail("arrays differ"))


@settings(max_examples=100)
@given(st.data(), st.sampled_from(["QQ", "ZZ", "fp64", "SYM"]))
def test_read_tsv_never_raises_anything_else(work, data, domain):
    base = b"a\tb\t1/2\nc\td\t-3\n# note\n\nc\tb\t7\n"
    if domain == "ZZ":
        base = base.replace(b"1/2", b"5")
    if domain == "SYM":
        base += b"e\tf\tMax(0, x - 1)\n"
    raw = data.draw(mutated(base))
    if data.draw(st.booleans()):
        raw = data.draw(maybe_gzip(raw))
        p = put(work, "a.tsv.gz", raw)
    else:
        p = put(work, "a.tsv", raw)
    try:
        A = AssocArray.read_tsv(p, domain=domain)
    except SymdnnError:
        return
    assert isinstance(A, AssocArray)


@pytest.fixture(scope="module")
def base_net(tmp_path_factory) -> Path:
    c = selective(["adcf", "beda"], "pairs", ["1/2", 1])
    return write_network(tmp_path_factory.mktemp("net") / "net", c.net, inputs=c.inputs)


@settings(max_examples=100)
@given(st.data())
def test_network_folder(base_net, data):
    """Mutate one file of a network folder: the read gives a network or a SymdnnError."""
    names = sorted(p.name for p in base_net.iterdir() if not p.name.startswith("."))
    name = data.draw(st.sampled_from(names))
    original = (base_net / name).read_bytes()
    if name == "network.json":
        doc = json.loads(original)
        key = data.draw(st.sampled_from(sorted(doc) + ["layers.0"]))
        value = data.draw(st.sampled_from([None, 3, 3.5, "x", [], {}, "1/2", True, "inf"]))
        if key == "layers.0":
            lk = data.draw(st.sampled_from(sorted(doc["layers"][0])))
            doc["layers"][0][lk] = value
        elif data.draw(st.booleans()):
            doc[key] = value
        else:
            del doc[key]
        raw = json.dumps(doc).encode()
        raw = data.draw(st.sampled_from([raw, data.draw(mutated(raw))]))
    else:
        raw = data.draw(mutated(original))
    try:
        (base_net / name).write_bytes(raw)
        try:
            net, info = read_network(base_net)
        except SymdnnError:
            return
        assert net.depth == 2
    finally:
        (base_net / name).write_bytes(original)


@pytest.fixture(scope="module")
def official_images() -> Path:
    """The 1200-image subset where $SYMDNN_DATA has it, else the fixture's 155 images."""
    return data_file("graphchallenge/sparse-images-1024_subset.mtx")


@settings(max_examples=30)
@given(st.binary(min_size=1, max_size=3))
def test_random_bytes_after_the_official_image_file(work, official_images, tail):
    """Issue 11: 192 of 200 random trailing bytes made SciPy's mmread segfault here."""
    src = official_images
    orig = _official(src)
    p = put(work, "official.mtx", src.read_bytes().rstrip(b"\n") + tail)
    try:
        M = read_images(p, 1024)
    except SymdnnError:
        assert tail.strip(b" \t\r\n\x0b\x0c"), tail
        return
    assert not tail.strip(b" \t\r\n\x0b\x0c")
    assert (M != orig).nnz == 0


_CACHE: dict = {}


def _official(src: Path):
    if src not in _CACHE:
        _CACHE[src] = read_images(src, 1024)
    return _CACHE[src]


# ---------------------------------------------------------------------- no crash in a child
CHILD = ("import sys\nfrom symdnn.io.graphchallenge import read_images\n"
         "read_images(sys.argv[1])\n")


def _child(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                          text=True, timeout=120)


def test_stray_byte_mtx_in_a_child_process_raises_parse_error(tmp_path):
    p = tmp_path / "img.mtx"
    p.write_bytes(b"%%MatrixMarket matrix coordinate pattern general\n2 4 2\n1 1\n2 4x")
    proc = _child(p)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)  # not killed by a signal
    assert "symdnn.errors.ParseError" in proc.stderr and f"{p}:4:" in proc.stderr


def test_official_image_file_with_a_stray_byte_in_a_child_process(tmp_path, official_images):
    src = official_images
    p = tmp_path / "img.mtx"
    p.write_bytes(src.read_bytes().rstrip(b"\n") + b"x")
    proc = _child(p)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "ParseError" in proc.stderr and "not an integer" in proc.stderr


def test_parse_error_is_a_symdnn_error():
    assert issubclass(ParseError, SymdnnError)
