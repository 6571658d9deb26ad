#!/usr/bin/env python3
"""Independent checker of a symdnn certified suite: ``cd SUITE && python -I check.py``.

Written apart from symdnn, with the Python standard library only, to be read in one sitting.
It parses the suite's files itself, checks the sha256 of every file and that the folder holds
exactly the files the manifest lists, recomputes every layer exactly (Python integers over a
common denominator, entry by entry), derives the correctly rounded value of every output in
every listed format with its own rounding (integers on the bit patterns: one rounding, ties
to even, subnormals, overflow), and compares all of it with the suite's expected files.
Exit status 0 only when everything matches; 1 when something differs; 2 when the suite
cannot be read. The file format is described in docs/suite-format.md of symdnn.
"""

import argparse
import hashlib
import json
import os
import re
import stat
import sys
from fractions import Fraction

SUITE_FORMAT = "symdnn-suite/2"

# name: (exponent bits, fraction bits, has infinities); E4M3 (OCP "fn") has none, and its
# largest finite value is 448 (the all-ones pattern is NaN)
FORMATS = {"fp64": (11, 52, True), "fp32": (8, 23, True), "fp16": (5, 10, True),
           "bf16": (8, 7, True), "fp8_e4m3": (4, 3, False), "fp8_e5m2": (5, 2, True)}


MANIFEST_FIELDS = ("format", "generator", "created", "parameters", "values", "shapes",
                   "versions", "files")
PARAMETERS = ("neurons", "layers", "inputs", "features", "bias_rule", "cap", "formats",
              "convention", "source")


# The limits every symdnn reader applies (symdnn.io.text): an exact value has at most
# MAX_DIGITS characters and a decimal exponent at most MAX_EXPONENT in magnitude, a JSON
# integer at most MAX_DIGITS digits, JSON nesting at most MAX_NESTING; MAX_WORK bounds the
# neurons a layer with one bias for every neuron (rule "all") makes nonzero in every image.
MAX_EXPONENT = 10_000
MAX_DIGITS = 4000
MAX_NESTING = 64
MAX_WORK = 1 << 24
MAX_WEIGHT = 1 << 62  # a layer's weights over their common denominator are integers below it
_DECIMAL = re.compile(r"([+-]?)(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?\Z")
_RATIO = re.compile(r"[+-]?[0-9]+/[0-9]+\Z")
_CANONICAL = re.compile(r"-?[0-9]+(?:/[0-9]+)?\Z")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class Unreadable(Exception):
    """The suite cannot be read (exit status 2)."""


def exact_number(text):
    """The Fraction an exact value spells: an integer, ``p/q``, or a decimal with an optional
    exponent, in ASCII; ValueError saying why for anything else (the twin of symdnn's
    ``symdnn.io.text.exact_number``: both accept and refuse the same strings)."""
    if len(text) > MAX_DIGITS:
        raise ValueError(f"more than {MAX_DIGITS} characters")
    m = _DECIMAL.match(text)
    if m:
        if m.group(2) is not None and abs(int(m.group(2))) > MAX_EXPONENT:
            raise ValueError(f"the exponent is beyond +-{MAX_EXPONENT}")
        return Fraction(text)
    if _RATIO.match(text):
        num, den = text.split("/")
        if int(den) == 0:
            raise ValueError("a zero denominator")
        return Fraction(int(num), int(den))
    raise ValueError("not a decimal or p/q number")


def show(q):
    """A Fraction (or anything holding them) as text, never a number too long to print."""
    if isinstance(q, tuple):
        return "(" + ", ".join(show(v) for v in q) + ")"
    if isinstance(q, Fraction) and max(q.numerator.bit_length(),
                                       q.denominator.bit_length()) > 3 * MAX_DIGITS:
        return f"a number of about {q.numerator.bit_length() * 3 // 10} digits over one of " \
               f"about {q.denominator.bit_length() * 3 // 10}"
    return str(q)


def canonical_number(text):
    """The Fraction of an exact value written as ``str(Fraction)`` does: ``p/q`` in lowest
    terms or an integer; ValueError for any other spelling."""
    q = exact_number(text)
    if not _CANONICAL.match(text) or str(q) != text:
        raise ValueError(f"not written as {show(q)} (an integer or p/q in lowest terms)")
    return q


def strict_json(text):
    """A JSON document with the limits above (no NaN or Infinity, no float that overflows,
    no integer of more than MAX_DIGITS digits, nesting checked before parsing); ValueError
    saying why (the twin of ``symdnn.io.text.strict_json``)."""
    depth = deepest = 0
    for ch in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if ch in "[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise ValueError(f"nested deeper than {MAX_NESTING}")

    def constant(name):
        raise ValueError(f"{name} is not a finite number")

    def integer(digits):
        if len(digits.lstrip("-")) > MAX_DIGITS:
            raise ValueError(f"an integer of more than {MAX_DIGITS} digits")
        return int(digits)

    def real(spelled):
        v = float(spelled) if len(spelled) <= MAX_DIGITS else float("inf")
        if v in (float("inf"), float("-inf")):
            raise ValueError(f"{spelled[:20]!r} is beyond the range of a float")
        return v

    try:
        return json.loads(text, parse_constant=constant, parse_int=integer, parse_float=real)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def round_bits(x, fmt):
    """The bit pattern of the correctly rounded value of the Fraction ``x`` in ``fmt``."""
    ebits, fbits, has_inf = FORMATS[fmt]
    bias = (1 << (ebits - 1)) - 1
    emin = 1 - bias
    sign = 1 << (ebits + fbits) if x < 0 else 0
    a = abs(x)
    if a == 0:
        return sign
    n, d = a.numerator, a.denominator
    e = n.bit_length() - d.bit_length()  # floor(log2 a) is e or e - 1
    if (n << max(-e, 0)) < (d << max(e, 0)):
        e -= 1
    q = max(e, emin) - fbits  # exponent of the last significand bit
    num, den = (n << -q, d) if q < 0 else (n, d << q)
    m, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and m % 2 == 1):
        m += 1  # nearest, ties to even
    if m >= 1 << (fbits + 1):  # rounding carried into the next binade
        m >>= 1
        q += 1
    if m < 1 << fbits:  # subnormal (or zero): exponent field 0
        return sign | m
    field = q + fbits + bias
    emax_field = (1 << ebits) - 2 if has_inf else (1 << ebits) - 1
    top = (1 << fbits) - 1 if has_inf else (1 << fbits) - 2  # E4M3: 1.110b * 2**8 = 448
    if field > emax_field or (field == emax_field and (m - (1 << fbits)) > top):
        if has_inf:
            return sign | (((1 << ebits) - 1) << fbits)  # infinity
        return sign | (1 << (ebits + fbits)) - 1  # NaN
    return sign | (field << fbits) | (m - (1 << fbits))


def bits_value(bits, fmt):
    """The exact value of a finite bit pattern of ``fmt`` (a Fraction), or None."""
    ebits, fbits, has_inf = FORMATS[fmt]
    bias = (1 << (ebits - 1)) - 1
    field = (bits >> fbits) & ((1 << ebits) - 1)
    frac = bits & ((1 << fbits) - 1)
    sign = -1 if bits >> (ebits + fbits) else 1
    if has_inf and field == (1 << ebits) - 1:
        return None
    if field == 0:
        return sign * Fraction(frac, 1 << fbits) * Fraction(2) ** (1 - bias)
    return sign * (1 + Fraction(frac, 1 << fbits)) * Fraction(2) ** (field - bias)


def float_bits(value, fmt):
    """The bit pattern in ``fmt`` of a float64 value that the format represents exactly."""
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return round_bits(Fraction(10) ** 400 * (1 if value > 0 else -1), fmt)
    bits = round_bits(Fraction(value), fmt)
    if str(value).startswith("-") and value == 0:
        bits |= 1 << sum(FORMATS[fmt][:2])
    return bits


def is_nan_bits(bits, fmt):
    ebits, fbits, has_inf = FORMATS[fmt]
    mag = bits & ((1 << (ebits + fbits)) - 1)
    return mag == (1 << (ebits + fbits)) - 1 if not has_inf else \
        (mag >> fbits) == (1 << ebits) - 1 and mag & ((1 << fbits) - 1) != 0


def open_regular(path, rel):
    """A file opened for reading in binary, only when it is a regular file (after following
    symbolic links): a FIFO, a device such as /dev/zero or a folder is refused before it is
    opened for reading, as it could block or never end."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise Unreadable(f"{rel}: not a regular file")
        fh = os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb")
    except OSError as exc:
        raise Unreadable(f"{rel}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # replaced since the stat
        fh.close()
        raise Unreadable(f"{rel}: not a regular file")
    return fh


def read_regular(path, rel):
    """The bytes of a regular file (see :func:`open_regular`)."""
    with open_regular(path, rel) as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise Unreadable(f"{rel}: cannot read: {exc.strerror or exc}") from None


def read_lines(path, fields, rel):
    """Non-blank lines of a suite text file, each exactly ``fields`` tab-separated fields:
    strict UTF-8, split on ``\\n`` only, a blank line is an empty one, and a ``\\r`` is an
    error (lines end in ``\\n``)."""
    raw = read_regular(path, rel)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = raw.count(b"\n", 0, exc.start) + 1
        raise Unreadable(f"{rel}:{lineno}: not UTF-8") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    out = []
    for lineno, line in enumerate(lines, 1):
        if line == "":
            continue
        if "\r" in line:
            raise Unreadable(f"{rel}:{lineno}: a carriage return (lines end in \\n only)")
        parts = line.split("\t")
        if len(parts) != fields:
            raise Unreadable(f"{rel}:{lineno}: expected {fields} tab-separated fields, found "
                             f"{len(parts)}")
        out.append((lineno, parts))
    return out


def keyed(path, fields, limits, rel):
    """``{(i, j): (line number, rest of the fields)}`` of a file whose lines are keyed by
    two indices; a repeated key is unreadable (two lines could be read two ways)."""
    out = {}
    for lineno, parts in read_lines(path, fields, rel):
        where = f"{rel}:{lineno}"
        key = (index(parts[0], limits[0], where), index(parts[1], limits[1], where))
        if key in out:
            raise Unreadable(f"{where}: {key} given twice (first on line {out[key][0]})")
        out[key] = (lineno, parts[2:])
    return out


def exact(text, where):
    try:
        return exact_number(text)
    except ValueError as exc:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise Unreadable(f"{where}: {shown!r} is not an exact number: {exc}") from None


def index(text, limit, where):
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise Unreadable(f"{where}: not an index: {shown!r}")
    i = int(text)
    if not 1 <= i <= limit:
        raise Unreadable(f"{where}: index {i if len(text) <= 40 else text[:37] + '...'} "
                         f"outside 1..{limit}")
    return i


def validate(man):
    """Every manifest field of the type and in the range the format says, and every exact
    value in it readable."""
    par = man["parameters"]

    def need(ok, what):
        if not ok:
            raise Unreadable(f"manifest.json: {what}")

    def number(text, what, read=exact_number):
        need(isinstance(text, str), f"{what} must be an exact number as a string")
        try:
            return read(text)
        except ValueError as exc:
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise Unreadable(f"manifest.json: {what} = {shown!r}: {exc}") from None

    for key in ("generator", "created"):
        need(isinstance(man[key], str), f"{key} must be a string")
    for key in ("values", "shapes", "versions", "files"):
        need(isinstance(man[key], dict), f"{key} must be an object")
    need(all(isinstance(v, str) for v in man["versions"].values()), "versions are strings")
    for key, top in (("neurons", 1 << 24), ("layers", 1 << 20), ("inputs", 1 << 31),
                     ("features", 1 << 24)):
        v = par[key]
        need(type(v) is int and (0 if key in ("inputs", "features") else 1) <= v <= top,
             f"parameters.{key} out of range")
    need(par["bias_rule"] in ("all", "nonzero"), "bias_rule is 'all' or 'nonzero'")
    need(par["convention"] == "row", "convention is 'row'")
    if par["cap"] is not None:
        need(number(par["cap"], "parameters.cap") > 0, "parameters.cap is not positive")
    need(isinstance(par["source"], dict), "source is an object")
    fm = par["formats"]
    need(isinstance(fm, list) and all(isinstance(f, str) and f in FORMATS for f in fm) and
         len(set(fm)) == len(fm), "formats are distinct known formats")
    need(all(isinstance(d, str) and len(d) == 64 and all(c in "0123456789abcdef" for c in d)
             for d in man["files"].values()), "files map paths to sha256 in hex")
    need(len(man["files"]) >= par["layers"], "parameters.layers is more than the files")
    for key, vals in man["values"].items():
        if key.startswith("bias"):
            number(vals, f"values[{key!r}]")
            continue
        need(isinstance(vals, dict), f"values[{key!r}] maps spellings to exact strings")
        for spelled, value in vals.items():
            number(spelled, f"values[{key!r}] spelling")
            number(value, f"values[{key!r}][{spelled!r}]", canonical_number)
    layers = [str(l) for l in range(1, par["layers"] + 1)]
    need(set(man["shapes"]) == set(layers), "shapes hold exactly the layers 1..layers")
    need(set(layers) <= set(man["values"]) <= set(layers) | {f"bias{l}" for l in layers},
         "values hold a map for every layer and nothing else but their bias{l}")
    width = par["features"]
    for l in layers:
        sh = man["shapes"][l]
        need(isinstance(sh, list) and len(sh) == 2 and
             all(type(v) is int and 1 <= v <= par["neurons"] for v in sh),
             f"shapes[{l}] is [inputs, outputs] within the width")
        need(sh[0] == width, f"shapes[{l}] takes {sh[0]} inputs, the layer before gives "
             f"{width} (parameters.features for layer 1)")
        width = sh[1]
        need(isinstance(man["values"][l], dict), f"values[{l}] is a map")
    layer_files = {f"network/n{par['neurons']}-l{l}.tsv" for l in layers}
    required = layer_files | {f"expected/{f}.tsv" for f in fm} | \
        {"expected/exact.tsv", "inputs.tsv", "categories.tsv", "check.py"}
    for rel in sorted(required - set(man["files"])):
        raise Unreadable(f"manifest.json: files: {rel} is required and not listed")
    for rel in sorted(set(man["files"]) - required):
        if rel.startswith("expected/") or (rel.startswith("network/n") and rel.endswith(".tsv")):
            raise Unreadable(f"manifest.json: files: {rel} is a layer or expected file the "
                             "parameters do not name")


def check_files(root, man, problems):
    """sha256 of every listed file; nothing unlisted; nothing outside the folder; a folder
    that cannot be listed is a problem (its files could be anything)."""
    listed = man["files"]
    for rel, digest in sorted(listed.items()):
        parts = rel.split("/")
        path = os.path.join(root, *parts)
        if rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
            problems.append(f"{rel}: a path outside the suite, or not written plainly (an "
                            "absolute path, or a '.', '..' or empty segment)")
        elif any(os.path.islink(os.path.join(root, *parts[:k])) for k in range(1, len(parts) + 1)):
            problems.append(f"{rel}: a symbolic link")
        elif not os.path.lexists(path):
            problems.append(f"{rel}: missing")
        else:
            try:
                with open_regular(path, rel) as fh:
                    h = hashlib.sha256()
                    for block in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023
                        h.update(block)
                if h.hexdigest() != digest:
                    problems.append(f"{rel}: sha256 differs from the manifest")
            except Unreadable as exc:
                problems.append(str(exc))
            except OSError as exc:
                problems.append(f"{rel}: cannot be read: {exc.strerror or exc}")

    def unreadable(exc):
        where = os.path.relpath(exc.filename or root, root).replace(os.sep, "/")
        problems.append(f"{where}: cannot be read ({exc.strerror or exc}), so the folder "
                        "may hold files the manifest does not list")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
            if rel not in listed and rel not in ("manifest.json", ".symdnn-output.json"):
                problems.append(f"{rel}: in the folder but not in the manifest")


def read_inputs(root, man):
    """``{image: {feature: Fraction}}`` of inputs.tsv, after checking the work estimate: the
    images that have no line are all-zero images, computed once for all of them."""
    par = man["parameters"]
    y = {}
    for (i, f), (lineno, (v,)) in keyed(os.path.join(root, "inputs.tsv"), 3,
                                        (par["inputs"], par["features"]),
                                        "inputs.tsv").items():
        y.setdefault(i, {})[f] = exact(v, f"inputs.tsv:{lineno}")
    if par["bias_rule"] == "all":
        dense = sum(man["shapes"][str(l)][1] for l in range(1, par["layers"] + 1)
                    if f"bias{l}" in man["values"])
        work = (len(y) + 1) * dense
        if work > MAX_WORK:
            raise Unreadable(f"manifest.json: a one-value bias on every neuron of layers "
                             f"{dense} neurons wide in all, for {len(y) + 1} distinct images, "
                             f"is {work} neuron values, more than the {MAX_WORK} a checker "
                             "computes")
    return y


def run_network(root, man, problems):
    """The exact outputs: ``({image: {neuron: Fraction}}, {neuron: Fraction})``, the rows of
    the images whose outputs differ from those of an all-zero image, and the all-zero
    image's row (which every other image 1..inputs has), recomputed entry by entry."""
    par = man["parameters"]
    n, L = par["neurons"], par["layers"]
    rule = par["bias_rule"]
    cap = None if par["cap"] is None else exact(par["cap"], "manifest.json: parameters.cap")
    rows = read_inputs(root, man)  # image -> {feature: Fraction}
    zero = {}  # the row of every image not in rows
    per_neuron = {}
    bias_file = os.path.join(root, "network", "bias.tsv")
    if os.path.isfile(bias_file):
        for (l, j), (lineno, (v,)) in keyed(bias_file, 3, (L, n), "network/bias.tsv").items():
            if f"bias{l}" in man["values"] or j > man["shapes"][str(l)][1]:
                raise Unreadable(f"network/bias.tsv:{lineno}: layer {l} neuron {j} has no "
                                 "such bias")
            per_neuron.setdefault(l, {})[j] = exact(v, f"network/bias.tsv:{lineno}")
    for l in range(1, L + 1):
        rows_in, cols_out = man["shapes"][str(l)]
        name = f"network/n{n}-l{l}.tsv"
        spelled = man["values"][str(l)]
        w = {}  # input neuron -> [(output neuron, weight numerator)]
        D, least = 1, None  # the common denominator, the least one of a nonzero weight
        seen = set()
        for (i, j), (lineno, (v,)) in keyed(os.path.join(root, *name.split("/")), 3,
                                            (rows_in, cols_out), name).items():
            q = exact(v, f"{name}:{lineno}")
            if v in spelled and canonical_number(spelled[v]) != q and v not in seen:
                problems.append(f"{name}:{lineno}: {v!r} is {show(q)}, the manifest says "
                                f"{spelled[v]!r}")
            seen.add(v)
            w.setdefault(i, []).append((j, q))
            if q and q.denominator != least and D % q.denominator:
                D = D * q.denominator // _gcd(D, q.denominator)
            if q:
                least = q.denominator if least is None else min(least, q.denominator)
            if least is not None and D >= MAX_WEIGHT * least:  # that weight is >= 2**62
                raise Unreadable(f"{name}:{lineno}: over the layer's common denominator a "
                                 f"weight needs an integer of magnitude 2**62 or more")
        if seen != set(spelled):
            problems.append(f"manifest.json: values[{l}] does not list exactly the spellings "
                            f"{name} uses")
        w = {i: [(j, (q * D).numerator) for j, q in row] for i, row in w.items()}
        for i, row in w.items():
            for j, num in row:
                if abs(num) >= MAX_WEIGHT:
                    raise Unreadable(f"{name}: the weight at {i}, {j} over the layer's common "
                                     "denominator needs an integer of magnitude 2**62 or more")
        if f"bias{l}" in man["values"]:  # one bias for every neuron
            b_all = exact(man["values"][f"bias{l}"], f"manifest.json: values['bias{l}']")
            bias, lit = {}, range(1, cols_out + 1) if b_all > 0 else ()
        else:
            b_all, bias = 0, per_neuron.get(l, {})
            lit = [j for j, b in bias.items() if b > 0]
        if rule != "all":
            lit = ()  # rule "nonzero": a neuron with no product stays 0

        layer = (w, D, lit, b_all, bias, rule, cap)
        zero_next = step(zero, layer)
        nxt = {}
        for img, acts in rows.items():
            out = step(acts, layer)
            if out != zero_next:  # an image whose row is the all-zero image's joins it
                nxt[img] = out
        rows, zero = nxt, zero_next
    return rows, zero


def step(acts, layer):
    """One image's next row ``{neuron: Fraction}`` from its row ``acts``."""
    w, D, lit, b_all, bias, rule, cap = layer
    s = 1  # every activation and weight of this image as an integer over s
    for v in acts.values():
        s = s * v.denominator // _gcd(s, v.denominator)
    z = {}  # W y as integers over s * D
    for f, v in acts.items():
        a = (v * s).numerator
        for j, wq in w.get(f, ()):
            z[j] = z.get(j, 0) + a * wq
    out = {}
    for j in set(z).union(lit):  # a neuron with no product and no positive bias stays 0
        wy = Fraction(z.get(j, 0), s * D)
        if rule == "nonzero" and wy == 0:
            continue
        pre = wy + (b_all or bias.get(j, 0))
        if pre > 0:
            out[j] = pre if cap is None or pre <= cap else cap
    return out


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def expand(rows, zero, inputs, bound):
    """``{(image, neuron): value}`` of every nonzero output, or None when the all-zero
    images alone have more than ``bound`` of them (then no expected file can list them all:
    they are not enumerated)."""
    out = {(i, j): v for i, row in rows.items() for j, v in row.items()}
    others = inputs - len(rows)
    if zero and others:
        if others * len(zero) > bound:
            return None
        for i in range(1, inputs + 1):
            if i not in rows:
                out.update(((i, j), v) for j, v in zero.items())
    return out


def check(root):
    problems, checked = [], []
    raw = read_regular(os.path.join(root, "manifest.json"), "manifest.json")
    try:
        man = strict_json(raw.decode("utf-8"))
    except ValueError as exc:
        raise Unreadable(f"manifest.json: cannot read: {exc}") from None
    if not isinstance(man, dict) or man.get("format") != SUITE_FORMAT:
        raise Unreadable(f"manifest.json: not a {SUITE_FORMAT} manifest")
    if sorted(man) != sorted(MANIFEST_FIELDS) or not isinstance(man["parameters"], dict) or \
            sorted(man["parameters"]) != sorted(PARAMETERS):
        raise Unreadable("manifest.json: fields missing or not understood")
    validate(man)
    canonical = json.dumps(man, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                           allow_nan=False) + "\n"
    if raw != canonical.encode("ascii"):  # edited by hand: its root digest is not its own
        raise Unreadable("manifest.json: not in canonical form (keys sorted, no spaces, one "
                         "final newline; see docs/suite-format.md)")
    try:
        check_files(root, man, problems)
        checked.append(f"{len(man['files'])} file hashes")
        try:
            compare(root, man, problems, checked)
        except Unreadable as exc:
            if not problems:
                raise
            # the files already disagree with the manifest: say what could not be recomputed
            problems.append(f"not recomputed: {exc}")
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise Unreadable(f"manifest.json or a file it names is malformed: "
                         f"{type(exc).__name__}: {exc}") from None
    return problems, checked


def compare(root, man, problems, checked):
    """Recompute the network and compare every expected file and categories.tsv."""
    par = man["parameters"]
    rows, zero = run_network(root, man, problems)
    checked.append(f"{par['layers']} layers recomputed exactly")
    last = man["shapes"][str(par["layers"])][1]
    want = {k: exact(v, f"expected/exact.tsv:{lineno}") for k, (lineno, (v,)) in
            keyed(os.path.join(root, "expected", "exact.tsv"), 3, (par["inputs"], last),
                  "expected/exact.tsv").items()}
    listed = [index(parts[0], par["inputs"], f"categories.tsv:{lineno}") for lineno, parts in
              read_lines(os.path.join(root, "categories.tsv"), 1, "categories.tsv")]
    outputs = expand(rows, zero, par["inputs"], len(want))
    if outputs is None:
        problems.append(f"expected/exact.tsv: every image without an input line has "
                        f"{len(zero)} nonzero outputs, {par['inputs'] - len(rows)} such "
                        f"images, more than the file's {len(want)} entries")
        return
    if want != outputs:
        bad = sorted(set(want.items()) ^ set(outputs.items()))
        problems.append(f"expected/exact.tsv: {len(bad)} entries differ from the "
                        f"recomputation, first {show(bad[0])}")
    checked.append(f"{len(outputs)} exact outputs")
    formats = par["formats"]
    for rel in sorted(man["files"]):
        if rel.startswith("expected/") and rel not in \
                ["expected/exact.tsv"] + [f"expected/{f}.tsv" for f in formats]:
            problems.append(f"{rel}: an expected file for a format not in the manifest's "
                            f"formats {formats}")
    for fmt in formats:
        rel = f"expected/{fmt}.tsv"
        got = {}
        for k, (lineno, (hx, dec)) in keyed(os.path.join(root, "expected", f"{fmt}.tsv"), 4,
                                            (par["inputs"], last), rel).items():
            try:
                value = float.fromhex(hx)
            except (ValueError, OverflowError):
                raise Unreadable(f"{rel}:{lineno}: not a hex float: {hx[:40]!r}") from None
            if value.hex() != hx or repr(value) != dec:
                problems.append(f"{rel}:{lineno}: {hx[:40]} {dec[:40]} is not written as "
                                "float.hex() and repr()")
            bits = float_bits(value, fmt)
            finite = value == value and value not in (float("inf"), float("-inf"))
            if bits != "nan" and ((is_nan_bits(bits, fmt) and value == value) or
                                  (finite and bits_value(bits, fmt) != Fraction(value))):
                problems.append(f"{rel}: {hx} is not a value of {fmt}")
            got[k] = bits
        mine = {k: round_bits(v, fmt) for k, v in outputs.items()}
        differ = sorted(k for k in set(got) | set(mine) if got.get(k) != mine.get(k)
                        and not (is_nan_bits(mine.get(k, 0), fmt) and got.get(k) == "nan"))
        if differ:
            problems.append(f"{rel}: {len(differ)} outputs are not the correctly rounded "
                            f"exact value, first at image {differ[0][0]}, neuron "
                            f"{differ[0][1]}")
        checked.append(f"{len(got)} {fmt} outputs")
    cats = sorted({i for i, _ in outputs})
    if listed != cats:
        problems.append("categories.tsv: differs from the recomputed categories")
    checked.append(f"{len(cats)} categories")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", nargs="?", default=os.path.dirname(os.path.abspath(__file__)),
                    help="the suite folder (default: the folder of this file)")
    args = ap.parse_args(argv)
    try:
        problems, checked = check(args.suite)
    except Unreadable as exc:
        print(f"check.py: cannot check the suite: {exc}", file=sys.stderr)
        return 2
    print(("VERIFIED: " if not problems else "FAILED: ") + "; ".join(checked))
    for p in problems:
        print(f"  {p}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
