"""Strict, line-based reading shared by symdnn's file readers.

Every reader takes untrusted bytes and either returns exactly what the file says or raises a
:class:`~symdnn.errors.ParseError` naming the file and, where there is one, the line. Nothing
here hands a file to a C parser: the bytes are decoded strictly as UTF-8, split into lines on
``\\n`` (a ``\\r`` before it is accepted), and every line must hold exactly the number of
fields its format says. In Graph Challenge and MatrixMarket files fields are separated by runs
of ASCII blanks (space or tab; ``\\v``, ``\\f``, ``\\r`` count as blanks too); in TSV files
with text keys (network folders, :func:`symdnn.io.triples.read_tsv`) by single tabs, as a
key may hold spaces.

The work is vectorised with NumPy over the split tokens; the offending line is located only
when something is wrong, so a well-formed file is read at the speed of ``bytes.split``.

Shared policy:

* a missing or unreadable file, a truncated or corrupt gzip stream, or a file too large for
  memory is an error naming the file;
* bytes that are not UTF-8 are an error naming the file and line;
* integers are ``[+-]?[0-9]+`` (no underscores, no exponents);
* exact values are decimals (``-0.3``), scientific (``6.25e-02``, exponent at most
  :data:`MAX_EXPONENT` in magnitude) or, where the format allows, ratios (``1/3``); they are
  read with :class:`fractions.Fraction`, never through a float; ``inf`` and ``nan`` are
  refused.
"""

from __future__ import annotations

import builtins
import gzip
import hashlib
import io
import json
import keyword
import os
import re
import stat
import zlib
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

from symdnn.domains import FloatDomain, RationalDomain
from symdnn.errors import DomainError, ParseError

__all__ = [
    "MAX_EXPONENT", "MAX_DIM", "MAX_MAGNITUDE", "Fields", "read_bytes", "check_utf8",
    "read_text", "sha256_file", "text_lines", "split_fields", "try_int_column", "int_column",
    "check_bounds",
    "exact_number", "first_repeat", "show_number", "check_path", "line_of_offset",
    "domain_value", "SYM_NAMES", "MAX_DIGITS", "MAX_NESTING", "strict_json", "unique_pairs",
]

#: the largest decimal exponent an exact value may carry (``1e10000`` is fine, ``1e99999``
#: would take minutes and gigabytes to expand exactly)
MAX_EXPONENT = 10_000
#: the largest index or dimension in a Graph Challenge or MatrixMarket file (16 M; the largest
#: Graph Challenge network has 65 536 neurons and 60 000 images, and a bound keeps a one-line
#: file from asking for gigabytes of row pointers)
MAX_DIM = 2**24
#: integer values of this magnitude or more are refused where a format stores int64
MAX_MAGNITUDE = 2**62

_INT = re.compile(rb"[+-]?[0-9]+\Z")
_DECIMAL = re.compile(r"([+-]?)(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?\Z")
_RATIO = re.compile(r"[+-]?[0-9]+/[0-9]+\Z")
_NONFINITE = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "+nan",
              "-nan", "oo", "-oo", "+oo"}
#: the most characters an exact value (and digits a JSON integer) may have: below Python's
#: 4300-digit limit on ``int(str)``, so that no reader meets that limit's ValueError
MAX_DIGITS = 4000
_MAX_DIGITS = MAX_DIGITS
#: the deepest nesting of arrays and objects a JSON document read by :func:`strict_json` may
#: have (a suite manifest needs 5; 100,000 would exhaust the stack of a recursive reader)
MAX_NESTING = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def read_bytes(path: str, *, verb: str = "read", limit: int | None = None) -> bytes:
    """The bytes of a file, gunzipped when its name ends in ``.gz``.

    Only a regular file is read (a FIFO named like a data file would block forever; it is
    opened without blocking and refused). With ``limit``, a file or gzip stream that holds, or
    unpacks to, more than ``limit`` bytes is refused before it is all in memory.

    Raises
    ------
    ParseError
        For a missing, unreadable or non-regular file, a truncated or corrupt gzip stream, a
        file over ``limit``, or a file that does not fit in memory, naming the file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise ParseError("not a regular file", path=path)
            if limit is not None and not path.endswith(".gz") and st.st_size > limit:
                raise ParseError(f"{st.st_size} bytes, more than the {limit} this file may "
                                 "hold", path=path)
            raw = fh.read()
        if not path.endswith(".gz"):
            return raw
        if limit is None:
            return _gunzip(raw)
        with gzip.open(io.BytesIO(raw), "rb") as gz:
            text = gz.read(limit + 1)
        if len(text) > limit:
            raise ParseError(f"unpacks to more than the {limit} bytes this file may hold",
                             path=path)
        return text
    except gzip.BadGzipFile as exc:
        raise ParseError(f"not a valid gzip file: {exc}", path=path) from None
    except EOFError:
        raise ParseError("truncated gzip file (the compressed stream ends early)",
                         path=path) from None
    except zlib.error as exc:
        raise ParseError(f"corrupt gzip data: {exc}", path=path) from None
    except MemoryError:
        raise ParseError("the file is too large to read into memory", path=path) from None
    except OSError as exc:
        raise ParseError(f"cannot {verb}: {exc.strerror or exc}", path=path) from None


def _gunzip(raw: bytes) -> bytes:
    """``raw`` gunzipped. A single gzip member is inflated by zlib in one call (which checks
    its CRC and length); anything else (several members, trailing bytes, a zlib error, an
    empty file) is read by the :mod:`gzip` module, which gives the answer or the error."""
    z = zlib.decompressobj(wbits=31)
    text = None
    try:
        text = z.decompress(raw)
    except zlib.error:
        pass
    if text is not None and z.eof and not z.unused_data:
        return text
    text = None  # drop a partial result before reading again
    with gzip.open(io.BytesIO(raw), "rb") as fh:
        return fh.read()


def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of a regular file's bytes, in hex, read in blocks (never whole). A FIFO, a
    device or a folder is an :class:`OSError` (reading one could block or never end).

    Examples
    --------
    >>> import tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x")
    >>> _ = open(p, "wb").write(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(f"{path}: not a regular file")
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def line_of_offset(data: bytes, offset: int) -> int:
    """1-based number of the line holding byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def check_utf8(data: bytes, path: str) -> None:
    """Raise a ParseError naming the first line that is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = " (it looks gzip-compressed; name it .gz)" if data[:2] == b"\x1f\x8b" else ""
        raise ParseError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded"
                         + hint, path=path, line=line_of_offset(data, exc.start)) from None


def read_text(path: str, *, verb: str = "read") -> str:
    """A text file (``.gz`` decompressed) decoded strictly as UTF-8."""
    data = read_bytes(path, verb=verb)
    check_utf8(data, path)
    return data.decode("utf-8")


def text_lines(text: str) -> list[str]:
    """Lines split on ``\\n`` only (a trailing ``\\r`` is dropped): a key may hold any other
    character, where ``str.splitlines`` would also split on ``\\x0b``, ``\\x1c``, ``\\u2028``..."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def tsv_lines(path: str, fields: int, *, describe: str | None = None,
              comment: str | None = None, verb: str = "read"):
    r"""``(line number, fields)`` of every non-blank line of a tab-separated text file (strict
    UTF-8, ``.gz`` decompressed), each line exactly ``fields`` fields; lines starting with
    ``comment`` are skipped. A line with another count is a ParseError naming it.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.tsv")
    >>> _ = open(p, "w").write("a\tb\t1\n\nc\td\t2\n")
    >>> list(tsv_lines(p, 3))
    [(1, ['a', 'b', '1']), (3, ['c', 'd', '2'])]
    """
    for lineno, line in enumerate(text_lines(read_text(path, verb=verb)), 1):
        if not line.strip() or (comment is not None and line.lstrip().startswith(comment)):
            continue
        parts = line.split("\t")
        if len(parts) != fields:
            what = describe or f"{fields} tab-separated fields"
            raise ParseError(f"expected {what}, found {len(parts)}"
                             + (" fields" if describe else ""), path=path, line=lineno)
        yield lineno, parts


@dataclass
class Fields:
    """The fields of a file of ``ncols``-field lines: ``tokens`` row-major, ``lines`` the
    1-based line number of each row."""

    tokens: list[bytes]
    lines: np.ndarray
    ncols: int
    strict_ints: bool  # True when int() may be trusted to accept only [+-]?[0-9]+

    @property
    def rows(self) -> int:
        return len(self.lines)

    def column(self, j: int) -> list[bytes]:
        return self.tokens[j::self.ncols]


_WS = np.zeros(256, dtype=bool)
_WS[[9, 10, 11, 12, 13, 32]] = True  # exactly what bytes.split() splits on


def split_fields(data: bytes, path: str, ncols: int, *, first_line: int = 1) -> Fields:
    """Split ``data`` into lines of exactly ``ncols`` whitespace-separated fields.

    Blank lines are skipped. ``first_line`` is the number of the first line of ``data`` (for
    a part of a file).

    Raises
    ------
    ParseError
        Naming the first line with another number of fields.
    """
    tokens = data.split()
    b = np.frombuffer(data, dtype=np.uint8)
    if not len(tokens):
        return Fields([], np.zeros(0, dtype=np.int64), ncols, True)
    # Fast path: single tab or space separators, single \n line ends, no blank lines.
    sep = np.flatnonzero(b <= 32)
    kind = b[sep]
    if b[-1] != 10:
        sep = np.append(sep, len(b))
        kind = np.append(kind, np.uint8(10))
    if (len(sep) == len(tokens) and len(sep) % ncols == 0 and b[0] > 32
            and not np.any(np.diff(sep) == 1)):
        k = kind.reshape(-1, ncols)
        if np.all(k[:, -1] == 10) and np.all((k[:, :-1] == 9) | (k[:, :-1] == 32)):
            lines = np.arange(first_line, first_line + len(k), dtype=np.int64)
            return Fields(tokens, lines, ncols, b"_" not in data)
    # General path: any run of blanks, blank lines, \r\n line ends.
    ws = _WS[b]
    starts = np.flatnonzero(~ws & np.concatenate(([True], ws[:-1])))
    newlines = np.flatnonzero(b == 10)
    tok_line = np.searchsorted(newlines, starts)  # 0-based line of each token
    if len(tok_line) != len(tokens):  # cannot happen: _WS is bytes.split's set
        raise ParseError("cannot split the file into fields", path=path)
    change = np.flatnonzero(np.diff(tok_line)) + 1
    begin = np.concatenate(([0], change))
    counts = np.diff(np.concatenate((begin, [len(tokens)])))
    bad = np.flatnonzero(counts != ncols)
    if len(bad):
        i = int(bad[0])
        raise ParseError(f"expected {ncols} field{'s' if ncols > 1 else ''}, found "
                         f"{int(counts[i])}", path=path,
                         line=int(tok_line[begin[i]]) + first_line)
    return Fields(tokens, tok_line[begin] + first_line, ncols, b"_" not in data)


def _bad_int(tok: bytes) -> str:
    text = tok.decode("utf-8", "replace")
    return text if len(text) <= 40 else text[:37] + "..."


def try_int_column(f: Fields, j: int) -> np.ndarray | None:
    """Column ``j`` as int64 when every field is a plain integer that fits, else None (fast;
    no error is raised, the caller decides)."""
    col = f.column(j)
    if not col:
        return np.zeros(0, dtype=np.int64)
    if not f.strict_ints:
        return None
    try:
        return np.array(col, dtype=object).astype(np.int64)
    except (ValueError, OverflowError, TypeError):
        return None


def int_column(f: Fields, j: int, path: str, what: str, *, lo: int | None = 1,
               hi: int | None = None, beyond: str | None = None) -> np.ndarray:
    """Column ``j`` as int64, each value an integer in ``lo..hi`` (bounds inclusive).

    ``beyond`` is the message for a value above ``hi`` (default: says the bound).

    Raises
    ------
    ParseError
        Naming the line of the first field that is not an integer or lies out of range.
    """
    out = try_int_column(f, j)
    if out is None:
        col = f.column(j)
        for i, tok in enumerate(col):
            if not _INT.match(tok):
                raise ParseError(f"{what} is not an integer: {_bad_int(tok)!r}", path=path,
                                 line=int(f.lines[i]))
            if len(tok) > _MAX_DIGITS or abs(int(tok)) >= 2**63:
                raise ParseError(f"{what} {_bad_int(tok)} is out of range", path=path,
                                 line=int(f.lines[i]))
        out = np.array([int(t) for t in col], dtype=np.int64)
    check_bounds(out, f.lines, path, what, lo=lo, hi=hi, beyond=beyond)
    return out


def check_bounds(values: np.ndarray, lines: np.ndarray, path: str, what: str, *,
                 lo: int | None = 1, hi: int | None = None, beyond: str | None = None) -> None:
    """Raise a ParseError naming the line (``lines[i]`` for ``values[i]``) of the first value
    below ``lo`` or, when none is, of the first above ``hi`` (bounds inclusive; ``beyond``
    is the message for a value above ``hi``, default: says the bound)."""
    if lo is not None and len(values) and values.min() < lo:
        i = int(np.flatnonzero(values < lo)[0])
        msg = (f"{what} must be a 1-based index, not {int(values[i])}" if lo == 1
               else f"{what} {int(values[i])} is below {lo}")
        raise ParseError(msg, path=path, line=int(lines[i]))
    if hi is not None and len(values) and values.max() > hi:
        i = int(np.flatnonzero(values > hi)[0])
        raise ParseError(beyond or f"{what} {int(values[i])} is beyond {hi}", path=path,
                         line=int(lines[i]))


def show_number(v: object) -> str:
    """A number as text, its middle elided when it is long (``1e400`` has 401 digits)."""
    s = str(v)
    return s if len(s) <= 24 else f"{s[:10]}...{s[-4:]} ({len(s)} characters)"


def exact_number(text: str, *, ratio: bool = True) -> Fraction:
    """The exact rational a decimal, scientific or (with ``ratio``) ``p/q`` string denotes.

    Raises
    ------
    DomainError
        With a message saying what is wrong (not a number, infinite or NaN, an exponent beyond
        :data:`MAX_EXPONENT`, too many digits, a zero denominator).

    Examples
    --------
    >>> exact_number("6.250000e-02"), exact_number("-1/3"), exact_number("0.3")
    (Fraction(1, 16), Fraction(-1, 3), Fraction(3, 10))
    """
    if len(text) > _MAX_DIGITS:
        raise DomainError(f"{text[:20]}... has too many digits")
    m = _DECIMAL.match(text)
    if m:
        if m.group(2) is not None and abs(int(m.group(2))) > MAX_EXPONENT:
            raise DomainError(f"{text!r}: the exponent is beyond +-{MAX_EXPONENT}")
        return Fraction(text)
    if ratio and _RATIO.match(text):
        num, den = text.split("/")
        if int(den) == 0:
            raise DomainError(f"{text!r} has a zero denominator")
        return Fraction(int(num), int(den))
    if text.lower() in _NONFINITE:
        raise DomainError(f"{text!r} is not finite (values must be finite numbers)")
    what = "a decimal or p/q" if ratio else "a decimal"
    shown = text if len(text) <= 40 else text[:37] + "..."
    raise DomainError(f"{shown!r} is not {what} number")


def unique_pairs(items: list) -> dict:
    """A JSON object from its ``(key, value)`` pairs, refusing a repeated key (readers differ
    on which value wins): the ``object_pairs_hook`` of :func:`json.loads`.

    Examples
    --------
    >>> json.loads('{"a": 1, "b": 2}', object_pairs_hook=unique_pairs)
    {'a': 1, 'b': 2}
    >>> json.loads('{"a": 1, "a": 2}', object_pairs_hook=unique_pairs)
    Traceback (most recent call last):
    ...
    symdnn.errors.DomainError: repeated key 'a'
    """
    out: dict = {}
    for k, v in items:
        if k in out:
            raise DomainError(f"repeated key {k!r}")
        out[k] = v
    return out


def strict_json(text: str, *, path: str | None = None, unique_keys: bool = False) -> object:
    """A JSON document read with the limits of :func:`exact_number`: no ``NaN`` or
    ``Infinity``, no float that overflows (``1e400``), no integer of more than
    :data:`MAX_DIGITS` digits, nesting at most :data:`MAX_NESTING` deep (checked before the
    document is parsed); with ``unique_keys``, no key repeated in an object (where readers
    differ on which value wins).

    ``symdnn/suite/check.py`` holds the standard-library twin of this function; the two
    accept and refuse the same documents (tests/test_suite_bounded.py).

    Raises
    ------
    ParseError
        Naming ``path`` and what is wrong.

    Examples
    --------
    >>> strict_json('{"a":[1,"x"]}')
    {'a': [1, 'x']}
    >>> strict_json('{"a":NaN}', path="m.json")
    Traceback (most recent call last):
    ...
    symdnn.errors.ParseError: m.json: not JSON: NaN is not a finite number
    >>> strict_json('{"a":1,"a":2}', unique_keys=True)
    Traceback (most recent call last):
    ...
    symdnn.errors.ParseError: not JSON: repeated key 'a'
    """
    depth = deepest = 0
    for ch in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if ch in "[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise ParseError(f"not JSON: nested deeper than {MAX_NESTING}", path=path)

    def constant(name: str) -> object:
        raise DomainError(f"{name} is not a finite number")

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_DIGITS:
            raise DomainError(f"an integer of more than {MAX_DIGITS} digits")
        return int(digits)

    def real(spelled: str) -> float:
        v = float(spelled) if len(spelled) <= MAX_DIGITS else float("inf")
        if v in (float("inf"), float("-inf")):
            raise DomainError(f"{spelled[:20]!r} is beyond the range of a float")
        return v

    try:
        return json.loads(text, parse_constant=constant, parse_int=integer, parse_float=real,
                          object_pairs_hook=unique_pairs if unique_keys else None)
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"not JSON: {exc}", path=path) from None


def first_repeat(keys: np.ndarray) -> tuple[int, int] | None:
    """Positions ``(i, j)``, ``i < j``, of the first repeated value of an int64 array (by
    its second occurrence), or None when all are distinct."""
    if len(keys) < 2:
        return None
    s = np.sort(keys)
    if not np.any(s[1:] == s[:-1]):
        return None
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    same = np.flatnonzero(ks[1:] == ks[:-1])
    # among all repeated pairs, the one whose later occurrence comes first in the file
    later = order[same + 1]
    k = int(np.argmin(later))
    return int(order[same[k]]), int(later[k])


def check_path(path: str | os.PathLike) -> str:
    """``os.fspath`` of a path, refusing an empty one."""
    p = os.fspath(path)
    if not p:
        raise ParseError("empty file name", path="''")
    return p


# ---------------------------------------------------------------------- values of a domain
_SYM_CHARS = re.compile(r"[A-Za-z0-9_ +\-*/^().,<>=]*\Z")
_SYM_ATTR = re.compile(r"[A-Za-z0-9_)]\s*\.\s*[A-Za-z_]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: the SymPy names a symbolic value may use (everything else that SymPy or Python defines is
#: refused; any other name is a symbol)
SYM_NAMES = frozenset({
    "Max", "Min", "Abs", "Piecewise", "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "And", "Or", "Not",
    "True", "False", "sqrt", "exp", "log", "sign", "floor", "ceiling", "Heaviside",
    "Rational", "Integer", "pi", "E",
})
_NOT_FINITE_NAMES = frozenset({"oo", "zoo", "nan", "inf", "Infinity", "NaN"})


def _check_symbolic_text(text: str) -> None:
    """Refuse text that SymPy's ``sympify`` (an ``eval``) should not see: only arithmetic,
    comparisons, calls of :data:`SYM_NAMES` and symbol names pass."""
    if len(text) > 10_000:
        raise DomainError("the expression is longer than 10000 characters")
    if not _SYM_CHARS.match(text) or "__" in text or _SYM_ATTR.search(text):
        raise DomainError(f"{text[:40]!r} is not a symbolic value (only names, numbers, "
                          "+ - * / ^ ** ( ) , and comparisons)")
    for name in _IDENT.findall(text):
        if name in SYM_NAMES:
            continue
        if name in _NOT_FINITE_NAMES:
            raise DomainError(f"{text[:40]!r} is not finite (values must be finite)")
        if keyword.iskeyword(name) or hasattr(builtins, name) or hasattr(sympy, name):
            raise DomainError(f"the name {name!r} is not allowed in a symbolic value")


def domain_value(dom: object, text: str) -> object:
    """The finite element of domain ``dom`` that a text field denotes.

    Numeric domains read exact numbers (see :func:`exact_number`; ``ZZ`` refuses fractions,
    float domains refuse values that round to infinity); ``BOOL`` reads ``0``/``1``/
    ``true``/``false``; ``SYM`` reads SymPy expressions over symbol names and the functions
    in :data:`SYM_NAMES` only (the text is checked before SymPy evaluates it).

    Raises
    ------
    DomainError
        With a message saying what is wrong.
    """
    s = text.strip()
    if isinstance(dom, RationalDomain):
        q = exact_number(s)
        if dom.name == "ZZ" and q.denominator != 1:
            raise DomainError(f"{s[:40]!r} is not an integer (domain ZZ)")
        return dom.convert(q)
    if isinstance(dom, FloatDomain):
        exact_number(s)
        v = dom.convert(s)
        if not np.isfinite(float(v)):
            raise DomainError(f"{s[:40]!r} is beyond the range of {dom.name}")
        return v
    kind = getattr(dom, "kind", None)
    if kind == "bool":
        table = {"0": False, "1": True, "false": False, "true": True}
        if s.lower() not in table:
            raise DomainError(f"{s[:40]!r} is not a boolean (0, 1, true or false)")
        return dom.convert(table[s.lower()])
    if getattr(dom, "name", None) == "SYM":
        _check_symbolic_text(s)
        try:
            v = dom.convert(s)
        except Exception as exc:  # sympify raises many kinds; untrusted text stops here
            raise DomainError(f"{s[:40]!r} is not a SymPy expression: {exc}") from None
        if isinstance(v, sympy.Basic) and v.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            raise DomainError(f"{s[:40]!r} is not finite (values must be finite)")
        return v
    try:
        return dom.convert(s)
    except Exception as exc:
        raise DomainError(f"{s[:40]!r} is not a value of domain {dom}: {exc}") from None
