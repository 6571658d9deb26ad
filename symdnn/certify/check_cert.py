#!/usr/bin/env python3
"""Independent checker of a symdnn precision certificate:
``python check_cert.py CERT.json NET INPUTS``.

Written apart from symdnn, with the Python standard library only, to be read in one sitting.
It reads exactly the files the certificate hashes (each one's sha256 required and checked,
names inside NET; a Graph Challenge network as the Graph Challenge defines it, never as the
certificate says), only regular files, a certificate of known formats only (their parameters
exactly symdnn's), and the rules of docs/certificates.md ("Rules for a checker"). It reads
the files itself, recomputes every layer exactly (Python integers over a common denominator), every
decision's exact margin, and every decision's bound of the bound model ``symdnn-bound/1``
(docs/certificates.md, "The bound model, for checkers") in rational arithmetic: fixed point
``N / 2**K`` with ``K = 1200``, every operation rounded upward, so each bound it uses is at or
above the model's exact rational bound. Then it confirms the certificate's claims:

* every layer's smallest margin is the exact one;
* a format claimed certified has every decision certified under the checker's bound;
* the decisions claimed at risk, per layer and kind, and the categories and argmax at risk
  are at least as many as the checker finds (symdnn's float64 bounds are never below the
  model's, so it may find more at risk, never fewer);
* every bound written (``max_error``, the examples' ``bound``) is at least the checker's, and
  every example's margin is the exact one;
* the verdicts agree with the counts, and every other key it can recompute
  (``min_margin_at``, ``final_min_margin``, ``decisions``, ``exact_decisions``,
  ``smallest_certified``, ``network``, ``source``) is confirmed.

It prints CERTIFIED (exit 0) when every claim is confirmed and every format is certified,
NOT CERTIFIED (exit 1) when a claim is refuted or a format is not certified (the first line
says which), and CANNOT READ (exit 2) when the certificate, the network or the inputs cannot
be read (naming the key or the file).

Examples
--------
>>> fl(Fraction(1, 3), (11, -14, 15, Fraction(65504), True))
Fraction(1365, 4096)
>>> fl(Fraction(70000), (11, -14, 15, Fraction(65504), True)) is None
True
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import stat
import sys
import zlib
from fractions import Fraction

__all__ = ["check", "main", "fl", "Unreadable", "Refuted", "BOUND_MODEL", "CERT_FORMAT"]

CERT_FORMAT = "symdnn-certificate/1"
BOUND_MODEL = "symdnn-bound/1"
#: fixed-point bits of the checker's bound arithmetic: a bound is an integer N meaning N/2**K
K = 1200
ONE = 1 << K


class _Inf:
    """An unbounded bound (an overflow): compared by identity, never equal to a number."""

    def __repr__(self):
        return "INF"


INF = _Inf()
KINDS = ("relu", "cap", "bias_rule")
#: the IEEE and OCP formats symdnn certifies: precision (with the implicit bit), emin, emax
KNOWN = {"fp64": (53, -1022, 1023), "fp32": (24, -126, 127), "fp16": (11, -14, 15),
         "bf16": (8, -126, 127), "fp8_e4m3": (4, -6, 8), "fp8_e5m2": (3, -14, 15)}
#: formats from the fewest significand bits to the most (``smallest_certified``)
ORDER = ("fp8_e5m2", "fp8_e4m3", "bf16", "fp16", "fp32", "fp64")
#: the official Graph Challenge bias of each width (rule ``nonzero``, cap 32)
GC_BIAS = {1024: Fraction(-3, 10), 4096: Fraction(-7, 20), 16384: Fraction(-2, 5),
           65536: Fraction(-9, 20)}
GC_CAP = Fraction(32)
#: the largest certificate read, and its deepest nesting
MAX_CERT_BYTES = 256 << 20
MAX_NESTING = 64
ACCUMULATION_MODEL = ("any order and tree of summation; products and additions in the "
                      "accumulation format, each rounded to nearest; weights, biases, inputs, "
                      "outputs and the cap stored in the format (docs/certificates.md)")
MODEL = ("any order of summation; values stored in the format, products and sums in the "
         "accumulation format, each operation rounded to nearest; see docs/certificates.md")
TOP_KEYS = {"checker", "bound_model_version", "network", "model", "layers", "inputs",
            "decisions", "min_margin", "min_margin_at", "final_min_margin", "formats",
            "certified", "smallest_certified", "seconds", "source", "sha256"}
FORMAT_KEYS = {"arithmetic", "format", "accumulate", "certified", "categories_certified",
               "at_risk", "at_risk_by_kind", "exact_decisions", "max_error",
               "categories_at_risk", "argmax_at_risk", "examples"}


def format_json(name):
    """The ``arithmetic`` parameters of a known format, exactly as a certificate holds them."""
    p, emin, emax = KNOWN[name]
    top = 448 if name == "fp8_e4m3" else (2 ** p - 1) * 2 ** (emax - p + 1)
    return {"name": name, "precision": p, "emin": emin, "emax": emax, "max_finite": str(top),
            "infinity": name != "fp8_e4m3", "rounding": "nearest-even"}
_DECIMAL = re.compile(r"([+-]?)(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?\Z")
_RATIO = re.compile(r"[+-]?[0-9]+/[0-9]+\Z")


class Unreadable(Exception):
    """The certificate, the network or the inputs cannot be read (exit status 2)."""


class Refuted(Exception):
    """A claim of the certificate does not hold (exit status 1)."""


# ----------------------------------------------------------------------------- numbers
_NUMBERS = {}


def exact_number(text, where):
    """The Fraction a number spells: an integer, ``p/q``, or a decimal with an exponent."""
    got = _NUMBERS.get(text)
    if got is None:
        got = _exact_number(text, where)
        if len(_NUMBERS) < 1 << 16:
            _NUMBERS[text] = got
    return got


def _exact_number(text, where):
    t = text.strip()
    if len(t) > 4000:
        raise Unreadable(f"{where}: a number of {len(t)} characters")
    if _RATIO.match(t):
        p, q = t.split("/")
        if int(q) == 0:
            raise Unreadable(f"{where}: {t!r} divides by zero")
        return Fraction(int(p), int(q))
    m = _DECIMAL.match(t)
    if not m or (m.group(2) and abs(int(m.group(2))) > 10000):
        raise Unreadable(f"{where}: {t!r} is not a number")
    return Fraction(t)


def up(x):
    """The fixed-point integer at or above the nonnegative rational ``x``.

    Examples
    --------
    >>> up(Fraction(1, 2)) == ONE // 2, up(Fraction(1, 3)) * 3 > ONE
    (True, True)
    """
    return -((-x.numerator << K) // x.denominator)


def mul(a, b):
    """``a * b`` of two fixed-point values, upward (either may be INF)."""
    if a is INF or b is INF:
        return 0 if (a is not INF and a == 0) or (b is not INF and b == 0) else INF
    return -((-a * b) >> K)


def add(*xs):
    """The sum of fixed-point values (INF if one is)."""
    if any(x is INF for x in xs):
        return INF
    return sum(xs)


def less(a, num, den):
    """``a / 2**K < num / den`` exactly (``a`` fixed point or INF, ``num/den >= 0``).

    Examples
    --------
    >>> less(up(Fraction(1, 3)), 1, 3), less(ONE // 4, 1, 3), less(INF, 1, 1)
    (False, True, False)
    """
    return a is not INF and a * den < num << K


def fl(x, fmt):
    """``x`` rounded to nearest, ties to even, in the format ``(p, emin, emax, max_finite,
    has_inf)``; None when it overflows (infinity, or NaN in a format without one)."""
    p, emin, _, top, _ = fmt
    if x == 0:
        return Fraction(0)
    sign = -1 if x < 0 else 1
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    e = max(e, emin)  # below the normal range: the subnormal quantum
    q = Fraction(2) ** (e - p + 1)
    n, r = divmod(a, q)  # a = n q + r
    n = int(n)
    if r * 2 > q or (r * 2 == q and n % 2):
        n += 1
    v = n * q
    if v > top:
        return None
    return sign * v


# ------------------------------------------------------------------------------- files
def open_regular(path):
    """A regular file opened for binary reading, without blocking (a FIFO, a device or a
    folder is refused: reading one could block or never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise Unreadable(f"{path}: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Unreadable(f"{path}: not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def sha256(path):
    h = hashlib.sha256()
    try:
        with open_regular(path) as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise Unreadable(f"{path}: {exc.strerror or exc}") from None
    return h.hexdigest()


def lines(path, sep=None):
    """The non-comment lines of a text file (gzipped when its name ends in .gz), split at
    ``sep`` (whitespace by default)."""
    try:
        with open_regular(path) as raw:
            src = gzip.GzipFile(fileobj=raw) if str(path).endswith(".gz") else raw
            with io.TextIOWrapper(src, encoding="ascii") as f:
                for n, line in enumerate(f, 1):
                    s = line.strip() if sep is None else line.rstrip("\r\n")
                    if s and not s.startswith(("%", "#")):
                        yield n, s.split(sep)
    except (OSError, UnicodeDecodeError, EOFError, zlib.error) as exc:
        raise Unreadable(f"{path}: {exc}") from None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def read_json(path, limit=MAX_CERT_BYTES):
    """A JSON document of a regular file of at most ``limit`` bytes, nested at most
    ``MAX_NESTING`` deep, without a repeated key or a NaN or Infinity."""
    with open_regular(path) as f:
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise Unreadable(f"{path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise Unreadable(f"{path}: more than {limit} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(f"{path}: not UTF-8") from None
    depth = deepest = 0
    for ch in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if ch in "[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise Unreadable(f"{path}: not JSON (nested deeper than {MAX_NESTING})")

    def pairs(kv):
        out = {}
        for k, v in kv:
            if k in out:
                raise Unreadable(f"{path}: the key {k!r} is repeated")
            out[k] = v
        return out

    def constant(name):
        raise Unreadable(f"{path}: {name} is not a number")
    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"{path}: not JSON ({exc})") from None


def inside(rel, where):
    """A file name relative to NET: no absolute path, no ``..``, no empty part."""
    parts = rel.replace("\\", "/").split("/") if isinstance(rel, str) else None
    if not parts or os.path.isabs(rel) or any(x in ("", ".", "..") for x in parts):
        raise Unreadable(f"{where}: {rel!r} is not a file name inside NET")
    return rel


def check_hashes(net_sums, names, net_dir):
    """Every file read has its sha256 in the certificate, and the certificate hashes no
    other file; each hash matches."""
    if set(net_sums) != set(names):
        extra = sorted(set(net_sums) - set(names))
        missing = sorted(set(names) - set(net_sums))
        raise Refuted("sha256.network must hash exactly the files read: "
                      + (f"missing {missing}" if missing else f"{extra} not read"))
    for rel in names:
        h = need(net_sums, rel, str, "certificate sha256.network")
        if sha256(os.path.join(net_dir, inside(rel, "sha256.network"))) != h:
            raise Refuted(f"the network file {rel} is not the one certified (sha256 differs)")


def _int(text, where):
    try:
        return int(text)
    except ValueError:
        raise Unreadable(f"{where}: {text[:40]!r} is not an integer") from None


def same_json(got, want, where, whose="the files say"):
    """``got`` is ``want``, JSON types included (``true`` is not ``1``, ``"1"`` not ``1``):
    else Unreadable naming a missing key, or Refuted naming the first key that differs."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k in want:
            if k not in got:
                raise Unreadable(f"{where}: the key {k!r} is missing")
        for k in got:
            if k not in want:
                raise Refuted(f"{where}: the key {k!r} is not one a certificate holds")
            same_json(got[k], want[k], f"{where}.{k}", whose)
        return
    if json.dumps(got, sort_keys=True) != json.dumps(want, sort_keys=True):
        raise Refuted(f"{where} is {json.dumps(got, sort_keys=True)[:120]}, {whose} "
                      f"{json.dumps(want, sort_keys=True)[:120]}")


def counts(obj, key, n, where):
    """``obj[key]``: a list of ``n`` nonnegative JSON integers."""
    v = need(obj, key, list, where)
    if len(v) != n:
        raise Refuted(f"{where}.{key}: {len(v)} layers, not {n}")
    for x in v:
        if not isinstance(x, int) or isinstance(x, bool) or x < 0:
            raise Unreadable(f"{where}: the key {key!r} holds {json.dumps(x)[:40]}, not a count")
    return v


def need(obj, key, kind, where="certificate"):
    """``obj[key]``, of the JSON type ``kind``, or Unreadable naming the key."""
    if not isinstance(obj, dict) or key not in obj:
        raise Unreadable(f"{where}: the key {key!r} is missing")
    v = obj[key]
    if kind is not None and not isinstance(v, kind) or isinstance(v, bool) and kind is int:
        raise Unreadable(f"{where}: the key {key!r} has the wrong type "
                         f"({type(v).__name__})")
    return v


# ---------------------------------------------------------------------- the network read
class Net:
    """A network read from its files: per layer ``(cols, bias, names)`` with ``cols[j]`` the
    list of ``(i, w)`` (input position, exact weight) of output neuron ``j``, ``bias`` a list
    of Fractions or None; the inputs ``rows[r] = {i: value}``, the batch names, the rule and
    the cap."""

    def __init__(self):
        self.layers, self.rows, self.batch = [], [], []
        self.rule, self.cap = "", None


def challenge_layout(net_dir, n, layers):
    """The layer files and the images file of a Graph Challenge folder, relative to it, as
    symdnn finds them (``DNN/neuron{n}/`` and ``MNIST/``, else ``neuron{n}/`` and the folder
    itself; each layer ``n{n}-l{l}.tsv``, else ``.tsv.gz``)."""
    if not os.path.isdir(net_dir):
        raise Unreadable(f"{net_dir}: not a folder")
    for sub, img in ((f"DNN/neuron{n}", "MNIST/"), (f"neuron{n}", "")):
        if not os.path.isdir(os.path.join(net_dir, sub)):
            continue
        files = []
        for l in range(1, layers + 1):
            cands = [f"{sub}/n{n}-l{l}.tsv", f"{sub}/n{n}-l{l}.tsv.gz"]
            got = [c for c in cands if os.path.isfile(os.path.join(net_dir, c))]
            if not got:
                raise Unreadable(f"{net_dir}: layer {l} of {layers} is missing ({cands[0]})")
            files.append(got[0])
        stem = f"{img}sparse-images-{n}"
        images = [stem + x for x in (".tsv", ".tsv.gz", ".mtx", "_subset.tsv", "_subset.mtx")
                  if os.path.isfile(os.path.join(net_dir, stem + x))]
        return files, images[0] if images else None
    raise Unreadable(f"{net_dir}: neither DNN/neuron{n}/ nor neuron{n}/ is here")


def read_bias_tsv(path, layers):
    """A ``bias.tsv``: ``layer value`` for each layer 1..layers."""
    found = {}
    for ln, f in lines(path):
        if len(f) != 2:
            raise Unreadable(f"{path}:{ln}: expected 'layer bias'")
        k = _int(f[0], f"{path}:{ln}")
        if k in found:
            raise Unreadable(f"{path}:{ln}: layer {k} again")
        found[k] = exact_number(f[1], f"{path}:{ln}")
    for k in range(1, layers + 1):
        if k not in found:
            raise Unreadable(f"{path}: no bias for layer {k} (of {layers})")
    return [found[k] for k in range(1, layers + 1)]


def read_challenge(src, net_dir, inputs, net_sums):
    """The Graph Challenge network of NET (layer files ``row col value``, row the input
    neuron, column the output neuron, 1-based) with the Graph Challenge's own definition:
    the official bias of the width on the nonzero entries and the cap 32, or the biases of
    the folder's ``bias.tsv`` on every neuron, no cap. The certificate's ``source`` must say
    the same, and ``sha256.network`` must hash exactly the files read."""
    where = "certificate source"
    n = need(src, "neurons", int, where)
    layers = need(src, "layers", int, where)
    images = need(src, "images", int, where)
    for k, v in (("neurons", n), ("layers", layers), ("images", images)):
        if not 0 < v <= 1 << 24:
            raise Unreadable(f"{where}: the key {k!r} is {v}, not a positive count")
    files, images_file = challenge_layout(net_dir, n, layers)
    read = list(files)
    if os.path.isfile(os.path.join(net_dir, "bias.tsv")):
        read.append("bias.tsv")
        check_hashes(net_sums, read, net_dir)
        biases = read_bias_tsv(os.path.join(net_dir, "bias.tsv"), layers)
        rule, cap = "all", None
    else:
        if n not in GC_BIAS:
            raise Unreadable(f"{net_dir}: no official bias for {n} neurons and no bias.tsv")
        check_hashes(net_sums, read, net_dir)
        biases, rule, cap = [GC_BIAS[n]] * layers, "nonzero", GC_CAP
    want = {"kind": "graph-challenge", "neurons": n, "layers": layers, "images": images,
            "rule": rule, "cap": None if cap is None else str(cap),
            "biases": [str(b) for b in biases], "layer_files": files,
            "inputs_file": images_file}
    same_json(src, want, "source")
    out = Net()
    out.rule, out.cap = rule, cap
    names = [str(j + 1) for j in range(n)]
    for rel, b in zip(files, biases, strict=True):
        path = os.path.join(net_dir, rel)
        cols = [[] for _ in range(n)]
        for ln, f in lines(path):
            if len(f) != 3:
                raise Unreadable(f"{path}:{ln}: expected 'row col value'")
            i, j = _int(f[0], f"{path}:{ln}") - 1, _int(f[1], f"{path}:{ln}") - 1
            if not (0 <= i < n and 0 <= j < n):
                raise Unreadable(f"{path}:{ln}: a neuron outside 1..{n}")
            w = exact_number(f[2], f"{path}:{ln}")
            if w:
                cols[j].append((i, w))
        out.layers.append((cols, [b] * n, names))
    rows = {}
    mtx = str(inputs).endswith((".mtx", ".mtx.gz"))
    header = mtx
    most = 0
    for ln, f in lines(inputs):
        if header:  # the size line of a MatrixMarket file
            header = False
            most = _int(f[0], f"{inputs}:{ln}")
            continue
        if len(f) not in (2, 3):
            raise Unreadable(f"{inputs}:{ln}: expected 'row col [value]'")
        r, i = _int(f[0], f"{inputs}:{ln}"), _int(f[1], f"{inputs}:{ln}") - 1
        v = exact_number(f[2], f"{inputs}:{ln}") if len(f) == 3 else Fraction(1)
        if r <= images and v and 0 <= i < n:
            rows.setdefault(r, {})[i] = v
        elif r > most:
            most = r
    most = max(most, max(rows, default=0))
    if images > most:
        raise Refuted(f"source.images is {images}, the inputs hold {most}")
    out.batch = [str(r) for r in range(1, images + 1)]
    out.rows = [rows.get(r, {}) for r in range(1, images + 1)]
    return out


def read_symdnn(src, net_dir, inputs, net_sums):
    """A folder written by ``symdnn build`` (``network.json``, column convention: weight files
    ``out in value``, bias files ``neuron value``, the inputs ``feature batch value``).
    ``sha256.network`` must hash exactly ``network.json`` and the files it names."""
    where = f"{net_dir}/network.json"
    h = need(net_sums, "network.json", str, "certificate sha256.network")
    if sha256(os.path.join(net_dir, "network.json")) != h:
        raise Refuted("the network file network.json is not the one certified (sha256 differs)")
    meta = read_json(os.path.join(net_dir, "network.json"))
    files = ["network.json"]
    for k, lay in enumerate(need(meta, "layers", list, where)):
        for key in ("weights", "bias", "full_bias"):
            if isinstance(lay, dict) and lay.get(key):
                files.append(inside(lay[key], f"{where}: layer {k} {key}"))
    check_hashes(net_sums, files, net_dir)
    out = Net()
    out.rule = need(meta, "bias_rule", str, where)
    if need(meta, "convention", str, where) != "column":
        raise Unreadable(f"{where}: only the column convention is read")
    ymax = meta.get("ymax")
    out.cap = None if ymax is None else exact_number(str(ymax), f"{where}: ymax")
    same_json(src, {"kind": "symdnn-network", "rule": out.rule,
                    "cap": None if ymax is None else str(ymax),
                    "inputs_file": meta.get("inputs")}, "source")
    mode = need(meta, "keys", str, where)
    prev = [str(x) for x in need(meta, "inputs_neurons", list, where)]
    first = prev
    for k, lay in enumerate(need(meta, "layers", list, where)):
        enc = [str(x) for x in need(lay, "neurons", list, f"{where}: layer {k}")]
        names = [key_name(x, mode) for x in enc]
        pos_in = {x: i for i, x in enumerate(prev)}
        pos = {x: j for j, x in enumerate(enc)}
        cols = [[] for _ in names]
        wpath = os.path.join(net_dir, need(lay, "weights", str, f"{where}: layer {k}"))
        for ln, f in lines(wpath, "\t"):
            if len(f) != 3 or f[0] not in pos or f[1] not in pos_in:
                raise Unreadable(f"{wpath}:{ln}: expected 'out in value' with known neurons")
            w = exact_number(f[2], f"{wpath}:{ln}")
            if w:
                cols[pos[f[0]]].append((pos_in[f[1]], w))
        if lay.get("full_bias") is not None:
            raise Unreadable(f"{where}: layer {k} has a full bias ({lay['full_bias']}), "
                             "which this checker does not read")
        bias = None
        if lay.get("bias") is not None:
            bias = [Fraction(0)] * len(names)
            bpath = os.path.join(net_dir, lay["bias"])
            for ln, f in lines(bpath, "\t"):
                if len(f) != 2 or f[0] not in pos:
                    raise Unreadable(f"{bpath}:{ln}: expected 'neuron value'")
                bias[pos[f[0]]] = exact_number(f[1], f"{bpath}:{ln}")
            if not any(bias):  # as symdnn reads the folder: a zero bias is no bias
                bias = None
        out.layers.append((cols, bias, names))
        prev = enc
    pos_in = {x: i for i, x in enumerate(first)}
    rows = {}
    for ln, f in lines(inputs, "\t"):
        if len(f) != 3 or f[0] not in pos_in:
            raise Unreadable(f"{inputs}:{ln}: expected 'feature batch value'")
        v = exact_number(f[2], f"{inputs}:{ln}")
        rows.setdefault(f[1], {})
        if v:
            rows[f[1]][pos_in[f[0]]] = v
    out.batch = [key_name(b, mode) for b in rows]
    out.rows = list(rows.values())
    return out


def key_name(text, mode):
    """A key as symdnn names it in a certificate: the text itself (keys ``str``), or the
    Python ``str`` of the JSON value with lists read as tuples (keys ``json``)."""
    if mode == "str":
        return text

    def tup(v):
        return tuple(tup(x) for x in v) if isinstance(v, list) else v
    try:
        return str(tup(json.loads(text)))
    except ValueError:
        raise Unreadable(f"a key {text[:40]!r} is not JSON") from None


# ------------------------------------------------------------------------ the exact run
def layer_exact(y, cols, bias, rule):
    """The exact pre-activations of one layer: per row ``{j: (a, z)}`` (``a = W y``,
    ``z`` the pre-activation), at the positions the bias rule defines one, and the
    structural positions ``{j}`` where some product is nonzero. Integers over common
    denominators: the weights' ``dw``, each row's ``s``."""
    dw = 1
    for col in cols:
        for _, w in col:
            dw = dw * w.denominator // _gcd(dw, w.denominator)
    wrows = {}
    for j, col in enumerate(cols):
        for i, w in col:
            wrows.setdefault(i, []).append((j, w.numerator * (dw // w.denominator)))
    out, struct = [], []
    dense = rule == "all" and bias is not None
    for row in y:
        s = 1
        for v in row.values():
            s = s * v.denominator // _gcd(s, v.denominator)
        acc = {}
        for i, v in row.items():
            ny = v.numerator * (s // v.denominator)
            for j, nw in wrows.get(i, ()):
                acc[j] = acc.get(j, 0) + nw * ny
        den = dw * s
        res = {}
        for j, num in acc.items():
            if num or dense:
                a = Fraction(num, den)
                res[j] = (a, a + bias[j] if bias is not None else a)
        if dense:
            for j in range(len(cols)):
                if j not in res:
                    res[j] = (Fraction(0), bias[j])
        out.append(res)
        struct.append(set(acc))
    return out, struct


def activate(z, cap):
    h = z if z > 0 else Fraction(0)
    return h if cap is None or h < cap else cap


# ---------------------------------------------------------------------------- the bound
class Arith:
    """An implementation's arithmetic, from the certificate: storage format F, accumulation
    format A, with the constants of the bound model in fixed point."""

    def __init__(self, fj, name):
        self.name = name
        where = f"formats.{name}.arithmetic"
        if name not in KNOWN:
            raise Unreadable(f"formats: {name!r} is not a format this checker knows "
                             f"({', '.join(KNOWN)})")
        fmt = need(fj, "format", dict, where)
        acc = need(fj, "accumulate", dict, where)
        an = need(acc, "name", str, f"{where}.accumulate")
        if an not in KNOWN:
            raise Unreadable(f"{where}.accumulate: {an!r} is not a format this checker knows")
        same_json(fmt, format_json(name), f"{where}.format", f"{name} has")
        same_json(acc, format_json(an), f"{where}.accumulate", f"{an} has")
        same_json(fj, {"format": fmt, "accumulate": acc,
                       "accumulation_model": ACCUMULATION_MODEL, "bound_model": BOUND_MODEL},
                  where, "the model is")
        self.F, self.A = self._fmt(fmt), self._fmt(acc)
        if an != name and not (self.A[0] >= self.F[0] and self.A[1] <= self.F[1]
                               and self.A[3] >= self.F[3]):
            raise Refuted(f"{where}: {name} cannot accumulate in {an} (narrower)")
        pf, pa = self.F[0], self.A[0]
        self.same = self.F == self.A
        self.uF, self.uA = Fraction(1, 2 ** pf), Fraction(1, 2 ** pa)
        self.etaF = Fraction(2) ** (self.F[1] - pf)
        self.etaA = Fraction(2) ** (self.A[1] - pa)
        uz = self.uA if self.same else self.uA + self.uF + self.uA * self.uF
        self.uF_, self.uz_, self.etaF_ = up(self.uF), up(uz), up(self.etaF)
        self.p = min(pf, pa)
        self.qmin = max(self.F[1] - pf + 1, self.A[1] - pa + 1)
        self.top = min(self.F[3], self.A[3])
        self.top_ = up(self.top)
        self._g = {}

    @staticmethod
    def _fmt(d):
        """``(p, emin, emax, max_finite, infinity)`` of parameters already confirmed to be
        those of a known format."""
        return (d["precision"], d["emin"], d["emax"], Fraction(d["max_finite"]),
                d["infinity"])

    def gamma(self, n):
        """``(gamma_n, n eta_A (1 + gamma_n))`` in fixed point (INF when ``n u_A >= 1``)."""
        if n not in self._g:
            nu = n * self.uA
            if nu >= 1:
                self._g[n] = (INF, INF)
            else:
                g = nu / (1 - nu)
                self._g[n] = (up(g), up(n * self.etaA * (1 + g)))
        return self._g[n]


def v2(x):
    """The exponent of the lowest set bit of a dyadic rational (None if not dyadic; a large
    number for zero).

    Examples
    --------
    >>> v2(Fraction(12)), v2(Fraction(3, 8)), v2(Fraction(1, 3))
    (2, -3, None)
    """
    if x == 0:
        return 1 << 40
    d = x.denominator
    if d & (d - 1):
        return None
    n = abs(x.numerator)
    return (n & -n).bit_length() - 1 - (d.bit_length() - 1)


def below(x, q, ar):
    """Whether a sum of multiples of ``2**q`` whose magnitudes sum to at most ``x / 2**K``
    is exact in both formats: ``q >= qmin`` and ``x < 2**(q + p)``, finite."""
    if q is None or x is INF or q < ar.qmin:
        return False
    return x.bit_length() <= q + ar.p + K and x <= ar.top_  # x < 2**(q + p + K)


class Layer:
    """One layer's rounded weights in one format: per input ``rows[i]`` the list of
    ``(j, |What|, |What - W|)`` (fixed point), per column the lowest set bit ``q`` of its
    rounded weights and the number ``n`` of its weights; the bias ``(|bhat|, |bhat - b|,
    v2(bhat), b)`` per neuron; ``dcap = |fl(YMAX) - YMAX|``. ``memo`` remembers the
    rounding of each weight across layers."""

    def __init__(self, cols, bias, cap, ar, memo, shared=None):
        F = ar.F
        for w in shared["weights"] if shared is not None else ():
            if w not in memo:
                h = fl(w, F)
                memo[w] = (INF, INF, None) if h is None else (abs(h), up(abs(h - w)), v2(h))
        sig = None if shared is None else tuple(memo[w] for w in shared["weights"])
        if sig is not None and sig in shared:  # another format rounds every weight alike
            self.rows, self.q, self.n, self.kw = shared[sig]
        else:
            self._weights(cols, F, memo)
            if sig is not None:
                shared[sig] = (self.rows, self.q, self.n, self.kw)
        self.bias = None
        if bias is not None:
            self.bias = []
            for b in bias:
                h = fl(b, F)
                self.bias.append((INF, INF, None, b) if h is None else
                                 (up(abs(h)), up(abs(h - b)), v2(h), b))
        self.dcap = None
        if cap is not None:
            h = fl(cap, F)
            self.dcap = INF if h is None else up(abs(h - cap))

    def _weights(self, cols, F, memo):
        self.rows, self.q, self.n = {}, [], []
        got_of = []
        for col in cols:
            q = 1 << 40
            for _, w in col:
                got = memo.get(w)
                if got is None:
                    h = fl(w, F)
                    got = memo[w] = (INF, INF, None) if h is None else \
                        (abs(h), up(abs(h - w)), v2(h))
                got_of.append(got)
                q = None if q is None or got[2] is None else min(q, got[2])
            self.q.append(q)
            self.n.append(len(col))
        # |What| = wn / 2**kw with integers wn: small-integer products with exact inputs
        dens = [g[0].denominator for g in got_of if g[0] is not INF]
        self.kw = max(dens, default=1).bit_length() - 1
        k = 0
        for j, col in enumerate(cols):
            for i, _ in col:
                h, dw, _ = got_of[k]
                k += 1
                wn = INF if h is INF else h.numerator << (self.kw - (h.denominator.bit_length()
                                                                    - 1))
                self.rows.setdefault(i, []).append((j, wn, dw))


def sums(lay, nys, s, yfix, erow):
    """``{j: (M, D)}`` (fixed point; INF for an unbounded term) of one row, over the
    positions some nonzero input or error reaches: ``nys[i] = |y_i| s`` (integers), ``yfix``
    the fixed-point ``|y_i|`` (for the weights' rounding errors), ``erow`` the errors."""
    A, Me, Dd, inf = {}, {}, {}, set()
    for i, ny in nys.items():
        for j, wn, dw in lay.rows.get(i, ()):
            if wn is INF:
                inf.add(j)
                continue
            A[j] = A.get(j, 0) + wn * ny
            if dw:
                Dd[j] = Dd.get(j, 0) + dw * yfix[i]
    for i, e in erow.items():
        for j, wn, _ in lay.rows.get(i, ()):
            if e is INF or wn is INF:
                inf.add(j)
                continue
            Me[j] = Me.get(j, 0) + wn * e
    out = {}
    den = s << lay.kw
    kw = lay.kw
    for j in set(A) | set(Me) | inf:
        if j in inf:
            out[j] = INF
            continue
        pe = -((-Me.get(j, 0)) >> kw)
        M = -((-(A.get(j, 0) << K)) // den) + pe
        out[j] = (M, pe - ((-Dd.get(j, 0)) >> K))
    return out


def bounds(lay, ar, j, md, qrow, zabs, dense):
    """``(E_s, E_z)`` of neuron ``j`` of one input (fixed point or INF), from its ``(M, D)``
    of :func:`sums`: docs/certificates.md, "The bound model, for checkers"."""
    infinite = md is INF
    M, D = (0, 0) if md is None or infinite else md
    n = lay.n[j]
    b = lay.bias[j] if lay.bias is not None else (0, 0, 1 << 40, 0)
    babs, db, qb = b[0], b[1], b[2]
    if infinite or babs is INF:
        return INF, INF
    q = None if qrow is None or lay.q[j] is None else qrow + lay.q[j]
    if dense:
        Mb = M + babs
        g1, eta1 = ar.gamma(n + 1)
        g0, eta0 = ar.gamma(n)
        if g1 is INF:
            return INF, INF
        t = D + db + mul(g1, Mb) + (eta1 if M else 0)
        if not ar.same:
            t += mul(ar.uF_, zabs + t) + ar.etaF_
        ts = D + mul(g0, M) + (eta0 if M else 0)
        if not ar.same:
            ts += mul(ar.uF_, M + ts) + ar.etaF_
        tb = ts + db
        tb += mul(ar.uz_, zabs + tb) + (0 if ar.same else ar.etaF_)
        Ez = max(t, tb)
        if D == 0 and db == 0 and below(Mb, None if q is None else min(q, qb), ar):
            Ez = 0
        if M == 0 and D == 0:  # no products (weights that round to 0 leave D > 0)
            Ez = db
        Es = Ez
        total = M + mul(M, g1) + babs + Ez
    else:
        g, eta = ar.gamma(n)
        if g is INF:
            return INF, INF
        t = D + mul(g, M) + (eta if M else 0)
        if not ar.same:
            t += mul(ar.uF_, M + t) + ar.etaF_
        # exact: nothing rounded (D = 0), and no products or provably exact ones; M = 0
        # with D > 0 is a sum of weights that round to 0 in F, off by up to D
        exact_s = D == 0 and (M == 0 or below(M, q, ar))
        Es = 0 if exact_s else t
        if lay.bias is not None:
            base = Es + db
            Ez = base + mul(ar.uz_, zabs + base) + (0 if ar.same else ar.etaF_)
            if exact_s and db == 0 and below(M + babs, None if q is None else min(q, qb), ar):
                Ez = 0
        else:
            Ez = Es
        total = M + mul(M, g) + babs + Ez
    if total >= ar.top_:
        return INF, INF
    return Es, Ez


# ------------------------------------------------------------------------------ checking
def run(net, fmts, want=frozenset(), at=None):
    """Recompute everything: ``(min_margins, per format results, last outputs)``; the
    bounds of the positions ``want`` (``(layer, row, neuron)``, 0-based) are kept, and the
    exact margins ``{kind: margin}`` of the positions ``at`` go into the dict ``at``."""
    L = len(net.layers)
    at = {} if at is None else at
    s_rows = [dict(r) for r in net.rows]
    mins = []
    res = {f: {"at_risk": {k: [0] * L for k in KINDS}, "max_error": [0] * L,
               "bounds": {}, "categories": 0, "argmax": 0, "exact": [0] * L,
               "extra": [0] * L, "pre": [(0, 0)] * L} for f in fmts}
    ars = fmts
    # the carried errors of each format, and the inputs rounded into it
    errs = {}
    for f, ar in ars.items():
        errs[f] = []
        for row in s_rows:
            er = {}
            for i, v in row.items():
                h = fl(v, ar.F)
                d = INF if h is None else up(abs(h - v))
                if d:
                    er[i] = d
            errs[f].append(er)
    y = s_rows
    wmemo = {}
    for l, (cols, bias, _) in enumerate(net.layers):
        pre, struct = layer_exact(y, cols, bias, net.rule)
        dense = net.rule == "all" and bias is not None
        yfix = [{i: up(abs(v)) for i, v in row.items()} for row in y]
        nys = []
        for row in y:
            sd = 1
            for v in row.values():
                sd = sd * v.denominator // _gcd(sd, v.denominator)
            nys.append(({i: abs(v.numerator) * (sd // v.denominator) for i, v in row.items()},
                        sd))
        qrows = []
        for row in y:
            q = 1 << 40
            for v in row.values():
                w = v2(v)
                q = None if q is None or w is None else min(q, w)
            qrows.append(q)
        # the exact margins and the smallest of them (format independent): per position
        # (z, |z|, |a|, |z - YMAX| or None, |z| in fixed point)
        best = None
        cap = net.cap
        exact = []
        n_pre = n_pos = 0
        at_l = {}
        for (al, ar_, aj) in at:
            if al == l:
                at_l.setdefault(ar_, []).append(aj)
        for r, acc in enumerate(pre):
            ex = {}
            for j, (a, z) in acc.items():
                za, aa = abs(z), abs(a)
                mc = None if cap is None else abs(z - cap)
                ex[j] = (z, za, aa, mc, up(za))
                cands = [(za, 0)]
                if mc is not None and z > 0:
                    cands.append((mc, 1))
                    n_pos += 1
                if bias is not None and not dense:
                    cands.append((aa, 2))
                m = min(cands)
                if best is None or m < best:
                    best = m
            exact.append(ex)
            n_pre += len(ex)
            for aj in at_l.get(r, ()):
                if aj in ex:
                    z, za, aa, mc, _ = ex[aj]
                    got = {"relu": za}
                    if mc is not None and z > 0:
                        got["cap"] = mc
                    if bias is not None and not dense:
                        got["bias_rule"] = aa
                    at[(l, r, aj)] = got
                elif not dense and aj in struct[r]:  # a cancellation: margin 0
                    at[(l, r, aj)] = {"bias_rule": Fraction(0), "relu": Fraction(0)}
            if not dense and any(j not in acc for j in struct[r]):
                best = (Fraction(0), 2) if best is None or best[0] > 0 else best
        mins.append(None if best is None else best[0])
        shared = {"weights": sorted({w for col in cols for _, w in col})}
        for f, ar in ars.items():
            lay = Layer(cols, bias, net.cap, ar, wmemo.setdefault(f, {}), shared)
            rs = res[f]
            new_e = []
            mx = 0
            n_exact = lo = 0
            for r, acc in enumerate(pre):
                erow, yrow, eo = errs[f][r], yfix[r], {}
                mds = sums(lay, nys[r][0], nys[r][1], yrow, erow)
                cand = range(len(cols)) if dense else set(acc) | set(mds)
                ex = exact[r]
                for j in cand:
                    has = j in acc
                    if has:
                        z, za, aa, mc, zabs = ex[j]
                    else:
                        z = za = aa = mc = Fraction(0)
                        # W y is exactly 0 here: |z| is the exact bias
                        zabs = up(abs(lay.bias[j][3])) if lay.bias is not None else 0
                        if cap is not None:
                            mc = cap
                    Es, Ez = bounds(lay, ar, j, mds.get(j), qrows[r], zabs, dense)
                    if (l, r, j) in want:
                        rs["bounds"][(l, r, j)] = (Es, Ez, {"relu": za, "bias_rule": aa,
                                                            "cap": mc})
                    if has:
                        nz = True
                        if bias is not None and not dense:
                            es0 = Es == 0
                            n_exact += es0
                            nz = es0 or less(Es, aa.numerator, aa.denominator)
                            if not nz:
                                rs["at_risk"]["bias_rule"][l] += 1
                        ez0 = Ez == 0
                        n_exact += ez0
                        relu = (ez0 or less(Ez, za.numerator, za.denominator)) \
                            and (nz or z <= 0)
                        if not relu:
                            rs["at_risk"]["relu"][l] += 1
                        capok = True
                        if net.cap is not None:
                            Ec = add(Ez, lay.dcap)
                            ec0 = Ec == 0
                            ok = (ec0 or less(Ec, mc.numerator, mc.denominator)) and \
                                (nz or z < net.cap)
                            if z > 0:
                                n_exact += ec0
                                capok = ok
                                if not ok:
                                    rs["at_risk"]["cap"][l] += 1
                        inactive = relu and z <= 0
                        e = 0 if inactive else Ez
                        if net.cap is not None:
                            if z > 0 and z >= net.cap and capok and nz:
                                e = lay.dcap
                            elif lay.dcap:
                                e = add(e, lay.dcap)
                        if not nz and not inactive:
                            h = activate(z, net.cap)
                            hv = add(up(h), lay.dcap or 0)
                            e = INF if e is INF or hv is INF else max(e, hv)
                    else:  # W y is exactly 0 here
                        if Es != 0:
                            rs["at_risk"]["bias_rule" if bias is not None else "relu"][l] += 1
                            lo += 1
                        elif j in struct[r]:  # a cancellation, computed exactly
                            lo += 1
                            n_exact += 1
                        if bias is not None:
                            b = lay.bias[j][3]
                            if Es == 0:
                                e = 0
                            elif Ez is INF:
                                e = INF
                            else:
                                t = Ez * b.denominator + (b.numerator << K)
                                e = max(-((-t) // b.denominator), 0)
                        else:
                            e = Es
                    if e is INF or e:
                        eo[j] = e
                    if mx is not INF:
                        mx = INF if e is INF else max(mx, e)
                new_e.append(eo)
            errs[f] = new_e
            rs["max_error"][l] = mx
            rs["exact"][l], rs["extra"][l], rs["pre"][l] = n_exact, lo, (n_pre, n_pos)
        y = [{j: activate(z, net.cap) for j, (a, z) in acc.items()
              if activate(z, net.cap) != 0} for acc in pre]
    for f in ars:
        cat, arg = final(y, errs[f])
        res[f]["categories"], res[f]["argmax"] = cat, arg
    return mins, res, y


def final(y, errs):
    """Categories and argmax decisions at risk (docs/certificates.md, "Final decisions")."""
    cat = arg = 0
    for row, er0 in zip(y, errs, strict=True):
        er = {j: e for j, e in er0.items() if e is not INF}
        unbounded = {j for j, e in er0.items() if e is INF}
        if not row:
            cat += bool(er0)
            continue
        den = 1
        for v in row.values():
            den = den * v.denominator // _gcd(den, v.denominator)
        num = {j: v.numerator * (den // v.denominator) for j, v in row.items()}
        if not any(j not in unbounded and (n << K) > er.get(j, 0) * den
                   for j, n in num.items()):
            cat += 1
        top = max(num.values())
        tops = [j for j, n in num.items() if n == top]
        if unbounded:  # an unbounded output: the argmax may be anything
            arg += 1
            continue
        lo_top = min((num[j] << K) - er.get(j, 0) * den for j in tops)
        hi = 0
        for j in (set(row) | set(er)) - set(tops):
            hi = max(hi, (max(num.get(j, 0), 0) << K) + er.get(j, 0) * den)
        e_top = max(er.get(j, 0) for j in tops)
        if not (hi < lo_top and (len(tops) == 1 or e_top == 0)):
            arg += 1
    return cat, arg


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def bound_value(text, where):
    """A bound written as a float64 repr string (or 'inf'), as a Fraction or INF."""
    if not isinstance(text, str):
        raise Unreadable(f"{where}: a bound must be a string, not {type(text).__name__}")
    if text == "inf":
        return INF
    try:
        v = float(text) if len(text) < 40 else None
    except ValueError:
        v = None
    if v is None or repr(v) != text or not v >= 0:
        raise Unreadable(f"{where}: {text[:40]!r} is not a bound as certify writes one "
                         "(the repr of a nonnegative float64, or 'inf')")
    return Fraction(v)


def margin_value(text, where):
    """A margin as certify writes it: ``str`` of a Fraction (canonical), or None."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise Unreadable(f"{where}: a margin must be a string, not {type(text).__name__}")
    m = exact_number(text, where)
    if str(m) != text:
        raise Unreadable(f"{where}: {text[:40]!r} is not written as certify writes a "
                         f"margin ({str(m)[:40]!r})")
    return m


def at_least(written, fix):
    """Whether a written bound (Fraction or INF) is at least the checker's (fixed point)."""
    if written is INF:
        return True
    if fix is INF:
        return False
    return written * ONE >= fix


def check(cert_path, net_path, inputs_path):
    """Check a certificate; returns ``(exit status, lines)``."""
    cert = read_json(cert_path)
    if not isinstance(cert, dict):
        raise Unreadable(f"{cert_path}: not a JSON object")
    for key in sorted(TOP_KEYS):
        need(cert, key, None)
    if set(cert) - TOP_KEYS:
        raise Unreadable(f"certificate: unknown keys {sorted(set(cert) - TOP_KEYS)}")
    chk = need(cert, "checker", dict)
    if need(chk, "format", str, "certificate checker") != CERT_FORMAT:
        raise Unreadable(f"certificate: key 'checker.format' is not {CERT_FORMAT!r}")
    if need(cert, "bound_model_version", str) != BOUND_MODEL:
        raise Unreadable(f"certificate: key 'bound_model_version' is not {BOUND_MODEL!r}")
    if need(cert, "model", str) != MODEL:
        raise Refuted("'model' is not the implementation model of symdnn-bound/1")
    need(chk, "program", str, "certificate checker")
    need(cert, "seconds", dict)
    src = need(cert, "source", dict)
    sums = need(cert, "sha256", dict)
    net_sums = need(sums, "network", dict, "certificate sha256")
    in_sum = need(sums, "inputs", str, "certificate sha256")
    if set(sums) != {"network", "inputs"}:
        raise Unreadable(f"certificate sha256: unknown keys {sorted(set(sums))}")
    for rel in net_sums:
        inside(rel, "certificate sha256.network")
    if sha256(inputs_path) != in_sum:
        raise Refuted(f"the inputs {inputs_path} are not the ones certified (sha256 differs)")
    kind = need(src, "kind", str, "certificate source")
    if kind == "graph-challenge":
        net = read_challenge(src, net_path, inputs_path, net_sums)
    elif kind == "symdnn-network":
        net = read_symdnn(src, net_path, inputs_path, net_sums)
    else:
        raise Unreadable(f"certificate source: unknown kind {kind!r}")
    L = len(net.layers)
    if need(cert, "layers", int) != L:
        raise Refuted(f"the certificate says {cert['layers']} layers, the network has {L}")
    if need(cert, "inputs", int) != len(net.batch):
        raise Refuted(f"the certificate says {cert['inputs']} inputs, there are "
                      f"{len(net.batch)}")
    info = need(cert, "network", dict)
    want = {"layers": L, "inputs": len(net.batch), "bias_rule": net.rule,
            "cap": None if net.cap is None else str(net.cap)}
    if kind == "graph-challenge":
        want["neurons"] = src["neurons"]
        if net.rule == "nonzero":
            want["bias"] = str(net.layers[0][1][0])
        elif not str(info.get("bias")).startswith("per-layer biases from "):
            raise Refuted("network.bias does not name the folder's bias.tsv")
    need(info, "name", str, "certificate network")
    same_json({k: info.get(k) for k in want}, want, "network")
    formats = need(cert, "formats", dict)
    if not formats:
        raise Unreadable("certificate: the key 'formats' is empty (a certificate speaks "
                         "for the formats it lists)")
    ars = {}
    for name, fj in formats.items():
        where = f"formats.{name}"
        need(fj, "arithmetic", dict, where)
        if set(fj) != FORMAT_KEYS:
            raise Unreadable(f"{where}: the keys {sorted(set(fj) ^ FORMAT_KEYS)} are "
                             "missing or unknown")
        ars[name] = Arith(fj["arithmetic"], name)
        if need(fj, "format", str, where) != name:
            raise Refuted(f"{where}.format is {fj['format']!r}, not {name!r}")
        if need(fj, "accumulate", str, where) != fj["arithmetic"]["accumulate"]["name"]:
            raise Refuted(f"{where}.accumulate is {fj['accumulate']!r}, its arithmetic "
                          f"accumulates in {fj['arithmetic']['accumulate']['name']!r}")
    claimed = need(cert, "min_margin", list)
    if len(claimed) != L:
        raise Refuted(f"min_margin has {len(claimed)} layers, the network {L}")
    claimed = [margin_value(c, f"min_margin[{l}]") for l, c in enumerate(claimed)]
    at_json = need(cert, "min_margin_at", list)
    if len(at_json) != L:
        raise Refuted(f"min_margin_at has {len(at_json)} layers, the network {L}")
    at = {}
    for l, a in enumerate(at_json):
        if a is None:
            continue
        need(a, "kind", str, f"min_margin_at[{l}]")
        pos = _example_at({"layer": l + 1, "input": a.get("input"),
                           "neuron": a.get("neuron")}, net)
        if pos is None or set(a) != {"input", "neuron", "kind"}:
            raise Refuted(f"min_margin_at[{l}]: no input {a.get('input')!r} or neuron "
                          f"{a.get('neuron')!r}")
        at[pos] = None
    mins, res, y = run(net, ars, wanted(formats, net), at)
    for l, (cm, m) in enumerate(zip(claimed, mins, strict=True), 1):
        if cm != m:
            raise Refuted(f"layer {l}: the smallest margin is {m}, not {cm} as written")
        a = at_json[l - 1]
        if (a is None) != (m is None):
            raise Refuted(f"min_margin_at[{l - 1}] is {a}, the smallest margin {m}")
        if a is not None:
            got = at[_example_at({"layer": l, "input": a["input"], "neuron": a["neuron"]},
                                 net)]
            if got is None or got.get(a["kind"]) != m:
                raise Refuted(f"min_margin_at[{l - 1}]: the {a['kind']} margin at input "
                              f"{a['input']}, neuron {a['neuron']} is not {m}")
    tops, gaps = final_margins(y)
    same_json(need(cert, "final_min_margin", dict),
              {"argmax": str(min(gaps.values())) if gaps else None,
               "category": str(min(tops)) if tops else None}, "final_min_margin")
    decisions = need(cert, "decisions", list)
    if len(decisions) != L:
        raise Refuted(f"decisions has {len(decisions)} layers, the network {L}")
    first = res[next(iter(formats))]
    for l, dd in enumerate(decisions):
        if not isinstance(dd, dict) or set(dd) - set(KINDS) or any(
                not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in dd.values()):
            raise Unreadable(f"certificate: the key 'decisions' holds {json.dumps(dd)[:80]} "
                             f"at layer {l}, not counts per kind")
        check_decisions(dd, l, first, net)
    out = []
    every = True
    ok_names = []
    for name, fj in formats.items():
        r = res[name]
        where = f"formats.{name}"
        byk = need(fj, "at_risk_by_kind", dict, where)
        if set(byk) != set(KINDS):
            raise Unreadable(f"{where}.at_risk_by_kind: the kinds are {sorted(byk)}")
        risk = counts(fj, "at_risk", L, where)
        for l, n in enumerate(counts(fj, "exact_decisions", L, where)):
            if n > r["exact"][l]:
                raise Refuted(f"{name}, layer {l + 1}: {r['exact'][l]} decisions with a bound "
                              f"of 0, the certificate says {n}")
        for kd in KINDS:
            lst = counts(byk, kd, L, f"{where}.at_risk_by_kind")
            for l in range(L):
                if lst[l] < r["at_risk"][kd][l]:
                    raise Refuted(f"{name}, layer {l + 1}: {r['at_risk'][kd][l]} {kd} decisions "
                                  f"at risk, the certificate says {lst[l]}")
        if any(risk[l] != sum(byk[kd][l] for kd in KINDS) for l in range(L)):
            raise Refuted(f"{where}.at_risk is not the sum of at_risk_by_kind")
        cats = need(fj, "categories_at_risk", int, where)
        args = need(fj, "argmax_at_risk", int, where)
        if cats < r["categories"]:
            raise Refuted(f"{name}: {r['categories']} categories at risk, the certificate "
                          f"says {cats}")
        if args < r["argmax"]:
            raise Refuted(f"{name}: {r['argmax']} argmax at risk, the certificate says {args}")
        if cats > len(net.batch) or args > len(net.batch):
            raise Refuted(f"{name}: more categories or argmax at risk than inputs")
        mxs = need(fj, "max_error", list, where)
        if len(mxs) != L:
            raise Refuted(f"{where}.max_error: {len(mxs)} layers, not {L}")
        for l in range(L):
            if not at_least(bound_value(mxs[l], f"{where}.max_error[{l}]"), r["max_error"][l]):
                raise Refuted(f"{name}, layer {l + 1}: an error bound above the written "
                              f"max_error {mxs[l]}")
        cert_ok = sum(risk) == 0 and cats == 0 and args == 0
        if need(fj, "certified", bool, where) != cert_ok:
            raise Refuted(f"{name}: 'certified' is {fj['certified']}, its counts say "
                          f"{cert_ok}")
        if need(fj, "categories_certified", bool, where) != (cats == 0):
            raise Refuted(f"{name}: 'categories_certified' disagrees with categories_at_risk")
        check_examples(fj, name, net, r, tops, gaps, y)
        mine = sum(sum(v) for v in r["at_risk"].values())
        every &= cert_ok
        if cert_ok:
            ok_names.append(name)
        out.append(f"{name} (accumulate {fj['accumulate']}): "
                   + ("certified" if cert_ok else
                      f"NOT certified, {sum(risk)} decisions at risk ({mine} under the "
                      f"checker's bound), {cats} categories and {args} argmax at risk")
                   + ": confirmed")
    if need(cert, "certified", bool) != every:
        raise Refuted(f"'certified' is {cert['certified']}, the formats say {every}")
    small = min(ok_names, key=ORDER.index) if ok_names else None
    if "smallest_certified" not in cert or cert["smallest_certified"] != small or \
            not isinstance(cert["smallest_certified"], (str, type(None))):
        raise Refuted(f"'smallest_certified' is {cert.get('smallest_certified')!r}, the "
                      f"formats say {small!r}")
    return (0 if every else 1), out


def check_decisions(dd, l, r, net):
    """The decisions of layer ``l`` (of the first format): one ReLU decision per
    pre-activation, one cap decision per active one, one bias-rule decision per
    pre-activation of a sparse layer with a bias; and where ``W y`` is exactly 0 but a
    product is nonzero or the sum's bound is not 0, one decision (``bias_rule`` with a bias,
    ``relu`` without): at least the checker's count of them, at most one per position (a
    float bound may find more than the model's)."""
    n_pre, n_pos = r["pre"][l]
    lo = r["extra"][l]
    maybe = len(net.batch) * len(net.layers[l][2]) - n_pre - lo
    bias = net.layers[l][1]
    dense = net.rule == "all" and bias is not None
    want = {"relu": (n_pre, 0)}
    if net.cap is not None:
        want["cap"] = (n_pos, 0)
    if bias is not None and not dense:
        want["bias_rule"] = (n_pre + lo, maybe)
    elif not dense:
        want["relu"] = (n_pre + lo, maybe)
    if set(dd) != set(want):
        raise Refuted(f"decisions[{l}] has the kinds {sorted(dd)}, not {sorted(want)}")
    for k, (n, slack) in want.items():
        if not n <= dd[k] <= n + slack:
            raise Refuted(f"decisions[{l}].{k} is {dd[k]}, the layer has "
                          + (f"{n}" if not slack else f"{n} to {n + slack}"))


def final_margins(y):
    """The exact final margins: per input the largest output (0 if none), and per input
    with a positive output the gap to the second largest (0 for a tie at the top)."""
    tops, gaps = [], {}
    for r, row in enumerate(y):
        vals = sorted(row.values(), reverse=True)
        if not vals or vals[0] <= 0:
            tops.append(Fraction(0))
            continue
        tops.append(vals[0])
        if len(vals) > 1 and vals[1] == vals[0]:
            gaps[r] = Fraction(0)
        else:
            gaps[r] = vals[0] - (max(vals[1], 0) if len(vals) > 1 else 0)
    return tops, gaps


def _example_at(ex, net):
    """``(layer, row, neuron)`` (0-based) of an example, or None if it names none."""
    try:
        l = int(ex["layer"]) - 1
        return l, net.batch.index(str(ex["input"])), net.layers[l][2].index(str(ex["neuron"]))
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def wanted(formats, net):
    """The positions the examples of every format name (their bounds are kept)."""
    out = set()
    for fj in formats.values():
        for ex in fj.get("examples", []) if isinstance(fj, dict) else []:
            if isinstance(ex, dict) and ex.get("kind") in KINDS:
                at = _example_at(ex, net)
                if at is not None:
                    out.add(at)
    return out


def check_examples(fj, name, net, r, tops, gaps, y):
    """Every example's margin is the exact one there (written as certify writes it), its
    bound at least the checker's (ReLU, cap and bias-rule decisions) or written as certify
    writes a bound (category and argmax decisions)."""
    where = f"formats.{name}.examples"
    exs = need(fj, "examples", list, f"formats.{name}")
    if len(exs) > 10:
        raise Refuted(f"{where}: more than 10 examples")
    for k, ex in enumerate(exs):
        w = f"{where}[{k}]"
        kind = need(ex, "kind", str, w)
        if set(ex) != {"layer", "input", "neuron", "kind", "margin", "bound"}:
            raise Unreadable(f"{w}: the keys are {sorted(ex)}")
        bound = bound_value(ex["bound"], f"{w}.bound")
        l = need(ex, "layer", int, w) - 1
        if not 0 <= l < len(net.layers):
            raise Refuted(f"{w}: no layer {l + 1}")
        if kind in ("category", "argmax"):
            if l != len(net.layers) - 1 or ex["neuron"] is not None or \
                    str(ex["input"]) not in net.batch:
                raise Refuted(f"{w}: a final decision names the last layer, an input and "
                              "no neuron")
            row = net.batch.index(str(ex["input"]))
            m = tops[row] if kind == "category" else gaps.get(row)
            if margin_value(ex["margin"], f"{w}.margin") != m:
                raise Refuted(f"{w}: the exact {kind} margin of input {ex['input']} is {m}")
            continue
        if kind not in KINDS:
            raise Unreadable(f"{w}: unknown kind {kind!r}")
        names = net.layers[l][2]
        try:
            row = net.batch.index(str(ex["input"]))
            j = names.index(str(ex["neuron"]))
        except ValueError:
            raise Refuted(f"{w}: no input {ex.get('input')!r} or neuron "
                          f"{ex.get('neuron')!r}") from None
        b = r["bounds"].get((l, row, j))
        if b is None:
            raise Refuted(f"{w}: no decision at input {ex['input']}, neuron "
                          f"{ex['neuron']} in layer {l + 1}")
        mine = b[0] if kind == "bias_rule" else b[1]
        if not at_least(bound, mine):
            raise Refuted(f"{w}: the bound {ex.get('bound')} is below the model's")
        m = margin_value(need(ex, "margin", str, w), f"{w}.margin")
        if m != b[2][kind]:
            raise Refuted(f"{w}: the exact {kind} margin at input {ex['input']}, "
                          f"neuron {ex['neuron']} is {b[2][kind]}, not {m}")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check a symdnn precision certificate "
                                             "independently (Python standard library only).")
    ap.add_argument("cert", metavar="CERT.json")
    ap.add_argument("net", metavar="NET", help="the network's folder")
    ap.add_argument("inputs", metavar="INPUTS", help="the inputs file")
    a = ap.parse_args(argv)
    try:
        status, out = check(a.cert, a.net, a.inputs)
    except Unreadable as exc:
        print(f"CANNOT READ: {exc}")
        return 2
    except Refuted as exc:
        print(f"NOT CERTIFIED: the certificate is wrong: {exc}")
        return 1
    print("CERTIFIED" if status == 0 else "NOT CERTIFIED: some format is not certified "
          "(every claim of the certificate confirmed)")
    for line in out:
        print("  " + line)
    return status


if __name__ == "__main__":
    sys.exit(main())
