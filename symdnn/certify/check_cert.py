#!/usr/bin/env python3
"""Independent checker of a symdnn precision certificate:
``python check_cert.py CERT.json NET INPUTS``.

Written apart from symdnn, with the Python standard library only, to be read in one sitting.
It checks the sha256 of the network's files and of the inputs against the certificate, reads
them itself, recomputes every layer exactly (Python integers over a common denominator), every
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
* the verdicts agree with the counts.

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
import json
import os
import re
import sys
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
#: the IEEE and OCP formats: precision (with the implicit bit), emin, emax, largest finite value
KNOWN = {"fp64": (53, -1022, 1023), "fp32": (24, -126, 127), "fp16": (11, -14, 15),
         "bf16": (8, -126, 127), "fp8_e4m3": (4, -6, 8), "fp8_e5m2": (3, -14, 15)}
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
def sha256(path):
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise Unreadable(f"{path}: {exc.strerror or exc}") from None
    return h.hexdigest()


def lines(path, sep=None):
    """The non-comment lines of a text file (gzipped when its name ends in .gz), split at
    ``sep`` (whitespace by default)."""
    try:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt", encoding="ascii") as f:
            for n, line in enumerate(f, 1):
                s = line.strip() if sep is None else line.rstrip("\r\n")
                if s and not s.startswith(("%", "#")):
                    yield n, s.split(sep)
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise Unreadable(f"{path}: {exc}") from None


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


def read_challenge(src, net_dir, inputs):
    """The Graph Challenge network the certificate names (rule, biases, cap from it; layer
    files ``row col value`` with row the input neuron, column the output neuron, 1-based)."""
    n = need(src, "neurons", int, "certificate source")
    biases = need(src, "biases", list, "certificate source")
    files = need(src, "layer_files", list, "certificate source")
    images = need(src, "images", int, "certificate source")
    if len(files) != len(biases):
        raise Unreadable("certificate source: 'layer_files' and 'biases' differ in length")
    out = Net()
    out.rule = need(src, "rule", str, "certificate source")
    cap = src.get("cap")
    out.cap = None if cap is None else exact_number(str(cap), "certificate source: cap")
    names = [str(j + 1) for j in range(n)]
    for rel, b in zip(files, biases, strict=True):
        path = os.path.join(net_dir, rel)
        cols = [[] for _ in range(n)]
        for ln, f in lines(path):
            if len(f) != 3:
                raise Unreadable(f"{path}:{ln}: expected 'row col value'")
            i, j = int(f[0]) - 1, int(f[1]) - 1
            if not (0 <= i < n and 0 <= j < n):
                raise Unreadable(f"{path}:{ln}: a neuron outside 1..{n}")
            w = exact_number(f[2], f"{path}:{ln}")
            if w:
                cols[j].append((i, w))
        bias = None if b is None else [exact_number(str(b), "certificate source: biases")] * n
        out.layers.append((cols, bias, names))
    rows = {}
    mtx = str(inputs).endswith((".mtx", ".mtx.gz"))
    header = mtx
    for ln, f in lines(inputs):
        if header:  # the size line of a MatrixMarket file
            header = False
            continue
        if len(f) not in (2, 3):
            raise Unreadable(f"{inputs}:{ln}: expected 'row col [value]'")
        r, i = int(f[0]), int(f[1]) - 1
        v = exact_number(f[2], f"{inputs}:{ln}") if len(f) == 3 else Fraction(1)
        if r <= images and v and 0 <= i < n:
            rows.setdefault(r, {})[i] = v
    out.batch = [str(r) for r in range(1, images + 1)]
    out.rows = [rows.get(r, {}) for r in range(1, images + 1)]
    return out


def read_symdnn(src, net_dir, inputs):
    """A folder written by ``symdnn build`` (``network.json``, column convention: weight files
    ``out in value``, bias files ``neuron value``, the inputs ``feature batch value``)."""
    try:
        with open(os.path.join(net_dir, "network.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as exc:
        raise Unreadable(f"{net_dir}/network.json: {exc}") from None
    where = f"{net_dir}/network.json"
    out = Net()
    out.rule = need(meta, "bias_rule", str, where)
    if need(meta, "convention", str, where) != "column":
        raise Unreadable(f"{where}: only the column convention is read")
    ymax = meta.get("ymax")
    out.cap = None if ymax is None else exact_number(str(ymax), f"{where}: ymax")
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
        self.F = self._fmt(need(fj, "format", dict, f"formats.{name}.arithmetic"), name)
        self.A = self._fmt(need(fj, "accumulate", dict, f"formats.{name}.arithmetic"), name)
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
    def _fmt(d, name):
        where = f"formats.{name}.arithmetic"
        nm = need(d, "name", str, where)
        p, emin, emax = (need(d, k, int, f"{where}.{nm}") for k in ("precision", "emin", "emax"))
        top = exact_number(need(d, "max_finite", str, f"{where}.{nm}"), f"{where}.max_finite")
        if need(d, "rounding", str, f"{where}.{nm}") != "nearest-even":
            raise Unreadable(f"{where}.{nm}: rounding {d['rounding']!r} is not 'nearest-even'")
        if nm in KNOWN and KNOWN[nm] != (p, emin, emax):
            raise Refuted(f"{where}: {nm} has precision, emin, emax {KNOWN[nm]}, not "
                          f"{(p, emin, emax)}")
        return (p, emin, emax, top, bool(d.get("infinity", True)))

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
def run(net, fmts, want=frozenset()):
    """Recompute everything: ``(min_margins, per format results, last outputs)``; the
    bounds of the positions ``want`` (``(layer, row, neuron)``, 0-based) are kept."""
    L = len(net.layers)
    s_rows = [dict(r) for r in net.rows]
    mins = []
    res = {f: {"at_risk": {k: [0] * L for k in KINDS}, "max_error": [0] * L,
               "bounds": {}, "categories": 0, "argmax": 0} for f in fmts}
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
        for r, acc in enumerate(pre):
            ex = {}
            for j, (a, z) in acc.items():
                za, aa = abs(z), abs(a)
                mc = None if cap is None else abs(z - cap)
                ex[j] = (z, za, aa, mc, up(za))
                cands = [(za, 0)]
                if mc is not None and z > 0:
                    cands.append((mc, 1))
                if bias is not None and not dense:
                    cands.append((aa, 2))
                m = min(cands)
                if best is None or m < best:
                    best = m
            exact.append(ex)
            if not dense and any(j not in acc for j in struct[r]):
                best = (Fraction(0), 2) if best is None or best[0] > 0 else best
        mins.append(None if best is None else best[0])
        shared = {"weights": sorted({w for col in cols for _, w in col})}
        for f, ar in ars.items():
            lay = Layer(cols, bias, net.cap, ar, wmemo.setdefault(f, {}), shared)
            rs = res[f]
            new_e = []
            mx = 0
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
                            nz = Es == 0 or less(Es, aa.numerator, aa.denominator)
                            if not nz:
                                rs["at_risk"]["bias_rule"][l] += 1
                        relu = (Ez == 0 or less(Ez, za.numerator, za.denominator)) \
                            and (nz or z <= 0)
                        if not relu:
                            rs["at_risk"]["relu"][l] += 1
                        capok = True
                        if net.cap is not None:
                            Ec = add(Ez, lay.dcap)
                            ok = (Ec == 0 or less(Ec, mc.numerator, mc.denominator)) and \
                                (nz or z < net.cap)
                            if z > 0:
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
    if text in ("inf", "nan"):
        return INF
    return exact_number(text, where)


def at_least(written, fix):
    """Whether a written bound (Fraction or INF) is at least the checker's (fixed point)."""
    if written is INF:
        return True
    if fix is INF:
        return False
    return written * ONE >= fix


def check(cert_path, net_path, inputs_path):
    """Check a certificate; returns ``(exit status, lines)``."""
    try:
        with open(cert_path, encoding="utf-8") as f:
            cert = json.load(f)
    except OSError as exc:
        raise Unreadable(f"{cert_path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise Unreadable(f"{cert_path}: not JSON ({exc})") from None
    if need(cert, "checker", dict).get("format") != CERT_FORMAT:
        raise Unreadable(f"certificate: key 'checker.format' is not {CERT_FORMAT!r}")
    if need(cert, "bound_model_version", str) != BOUND_MODEL:
        raise Unreadable(f"certificate: key 'bound_model_version' is not {BOUND_MODEL!r}")
    src = need(cert, "source", dict)
    sums = need(cert, "sha256", dict)
    net_sums = need(sums, "network", dict, "certificate sha256")
    in_sum = need(sums, "inputs", str, "certificate sha256")
    for rel, h in sorted(net_sums.items()):
        if os.path.isabs(rel) or ".." in rel.split("/"):
            raise Unreadable(f"certificate sha256.network: {rel!r} is not inside NET")
        if sha256(os.path.join(net_path, rel)) != h:
            raise Refuted(f"the network file {rel} is not the one certified (sha256 differs)")
    if sha256(inputs_path) != in_sum:
        raise Refuted(f"the inputs {inputs_path} are not the ones certified (sha256 differs)")
    kind = need(src, "kind", str, "certificate source")
    if kind == "graph-challenge":
        net = read_challenge(src, net_path, inputs_path)
    elif kind == "symdnn-network":
        net = read_symdnn(src, net_path, inputs_path)
    else:
        raise Unreadable(f"certificate source: unknown kind {kind!r}")
    L = len(net.layers)
    if need(cert, "layers", int) != L:
        raise Refuted(f"the certificate says {cert['layers']} layers, the network has {L}")
    if need(cert, "inputs", int) != len(net.batch):
        raise Refuted(f"the certificate says {cert['inputs']} inputs, there are "
                      f"{len(net.batch)}")
    formats = need(cert, "formats", dict)
    ars = {}
    for name, fj in formats.items():
        ars[name] = Arith(need(fj, "arithmetic", dict, f"formats.{name}"), name)
    mins, res, _ = run(net, ars, wanted(formats, net))
    claimed = need(cert, "min_margin", list)
    if len(claimed) != L:
        raise Refuted(f"min_margin has {len(claimed)} layers, the network {L}")
    for l, (c, m) in enumerate(zip(claimed, mins, strict=True), 1):
        cm = None if c is None else exact_number(str(c), f"min_margin[{l - 1}]")
        if cm != m:
            raise Refuted(f"layer {l}: the smallest margin is {m}, not {c} as written")
    out = []
    every = True
    for name, fj in formats.items():
        r = res[name]
        where = f"formats.{name}"
        byk = need(fj, "at_risk_by_kind", dict, where)
        risk = need(fj, "at_risk", list, where)
        for kd in KINDS:
            lst = need(byk, kd, list, f"{where}.at_risk_by_kind")
            if len(lst) != L:
                raise Refuted(f"{where}.at_risk_by_kind.{kd}: {len(lst)} layers, not {L}")
            for l in range(L):
                if lst[l] < r["at_risk"][kd][l]:
                    raise Refuted(f"{name}, layer {l + 1}: {r['at_risk'][kd][l]} {kd} decisions "
                                  f"at risk, the certificate says {lst[l]}")
        if len(risk) != L or any(risk[l] != sum(byk[kd][l] for kd in KINDS) for l in range(L)):
            raise Refuted(f"{where}.at_risk is not the sum of at_risk_by_kind")
        cats = need(fj, "categories_at_risk", int, where)
        args = need(fj, "argmax_at_risk", int, where)
        if cats < r["categories"]:
            raise Refuted(f"{name}: {r['categories']} categories at risk, the certificate "
                          f"says {cats}")
        if args < r["argmax"]:
            raise Refuted(f"{name}: {r['argmax']} argmax at risk, the certificate says {args}")
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
        check_examples(fj, name, net, r, mins)
        mine = sum(sum(v) for v in r["at_risk"].values())
        every &= cert_ok
        out.append(f"{name} (accumulate {fj['arithmetic']['accumulate']['name']}): "
                   + ("certified" if cert_ok else
                      f"NOT certified, {sum(risk)} decisions at risk ({mine} under the "
                      f"checker's bound), {cats} categories and {args} argmax at risk")
                   + ": confirmed")
    if need(cert, "certified", bool) != every:
        raise Refuted(f"'certified' is {cert['certified']}, the formats say {every}")
    return (0 if every else 1), out


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


def check_examples(fj, name, net, r, mins):
    """Every example's margin is the exact one there, its bound at least the checker's."""
    where = f"formats.{name}.examples"
    for k, ex in enumerate(need(fj, "examples", list, f"formats.{name}")):
        kind = need(ex, "kind", str, f"{where}[{k}]")
        if kind not in KINDS:
            continue
        l = need(ex, "layer", int, f"{where}[{k}]") - 1
        if not 0 <= l < len(net.layers):
            raise Refuted(f"{where}[{k}]: no layer {l + 1}")
        names = net.layers[l][2]
        try:
            row = net.batch.index(str(ex["input"]))
            j = names.index(str(ex["neuron"]))
        except (ValueError, KeyError):
            raise Refuted(f"{where}[{k}]: no input {ex.get('input')!r} or neuron "
                          f"{ex.get('neuron')!r}") from None
        b = r["bounds"].get((l, row, j))
        if b is None:
            raise Refuted(f"{where}[{k}]: no decision at input {ex['input']}, neuron "
                          f"{ex['neuron']} in layer {l + 1}")
        mine = b[0] if kind == "bias_rule" else b[1]
        if not at_least(bound_value(ex.get("bound"), f"{where}[{k}].bound"), mine):
            raise Refuted(f"{where}[{k}]: the bound {ex.get('bound')} is below the model's")
        m = exact_number(str(need(ex, "margin", str, f"{where}[{k}]")), f"{where}[{k}]")
        if m != b[2][kind]:
            raise Refuted(f"{where}[{k}]: the exact {kind} margin at input {ex['input']}, "
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
