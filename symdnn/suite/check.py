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
import gzip
import hashlib
import json
import os
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


class Unreadable(Exception):
    """The suite cannot be read (exit status 2)."""


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


def read_lines(path, fields):
    """Non-blank lines of a text file (``.gz`` too), each split into exactly ``fields``."""
    try:
        raw = gzip.decompress(open(path, "rb").read()) if path.endswith(".gz") else \
            open(path, "rb").read()
        text = raw.decode("utf-8")
    except (OSError, EOFError, ValueError) as exc:
        raise Unreadable(f"{path}: cannot read: {exc}") from None
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != fields:
            raise Unreadable(f"{path}:{lineno}: expected {fields} tab-separated fields")
        out.append((lineno, parts))
    return out


def keyed(path, fields, limits, rel):
    """``{(i, j): rest of the fields}`` of a file whose lines are keyed by two indices; a
    repeated key is unreadable (two lines could be read two ways)."""
    out = {}
    for lineno, parts in read_lines(path, fields):
        where = f"{rel}:{lineno}"
        key = (index(parts[0], limits[0], where), index(parts[1], limits[1], where))
        if key in out:
            raise Unreadable(f"{where}: {key} given twice")
        out[key] = parts[2:]
    return out


def exact(text, where):
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise Unreadable(f"{where}: not an exact number: {text!r}") from None


def index(text, limit, where):
    if not (text.isascii() and text.isdigit()):
        raise Unreadable(f"{where}: not an index: {text!r}")
    i = int(text)
    if not 1 <= i <= limit:
        raise Unreadable(f"{where}: index {i} outside 1..{limit}")
    return i


def validate(man):
    """Every manifest field of the type and in the range the format says."""
    par = man["parameters"]

    def need(ok, what):
        if not ok:
            raise Unreadable(f"manifest.json: {what}")

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
    need(par["cap"] is None or isinstance(par["cap"], str), "cap is null or a string")
    need(isinstance(par["source"], dict), "source is an object")
    fm = par["formats"]
    need(isinstance(fm, list) and len(set(fm)) == len(fm) and all(f in FORMATS for f in fm),
         "formats are distinct known formats")
    for l in range(1, par["layers"] + 1):
        sh = man["shapes"].get(str(l))
        need(isinstance(sh, list) and len(sh) == 2 and
             all(type(v) is int and 1 <= v <= par["neurons"] for v in sh),
             f"shapes[{l}] is [inputs, outputs] within the width")
        vals = man["values"].get(str(l))
        need(isinstance(vals, dict) and all(isinstance(a, str) and isinstance(b, str)
                                            for a, b in vals.items()),
             f"values[{l}] maps spellings to exact strings")
    layer_files = {f"network/n{par['neurons']}-l{l}.tsv" for l in range(1, par["layers"] + 1)}
    for rel in man["files"]:
        if rel.startswith("network/n") and rel.endswith(".tsv") and rel not in layer_files:
            raise Unreadable(f"manifest.json: {rel} is a layer beyond parameters.layers")


def check_files(root, man, problems):
    """sha256 of every listed file; nothing unlisted; nothing outside the folder."""
    listed = man["files"]
    for rel, digest in sorted(listed.items()):
        parts = rel.split("/")
        path = os.path.join(root, *parts)
        if rel.startswith("/") or ".." in parts or "" in parts or "\\" in rel:
            problems.append(f"{rel}: a path outside the suite")
        elif any(os.path.islink(os.path.join(root, *parts[:k])) for k in range(1, len(parts) + 1)):
            problems.append(f"{rel}: a symbolic link")
        elif not os.path.isfile(path):
            problems.append(f"{rel}: missing")
        else:
            with open(path, "rb") as fh:
                if hashlib.sha256(fh.read()).hexdigest() != digest:
                    problems.append(f"{rel}: sha256 differs from the manifest")
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
            if rel not in listed and rel not in ("manifest.json", ".symdnn-output.json"):
                problems.append(f"{rel}: in the folder but not in the manifest")


def run_network(root, man):
    """The exact outputs ``{(image, neuron): Fraction}``, recomputed entry by entry."""
    par = man["parameters"]
    n, L = par["neurons"], par["layers"]
    rule = par["bias_rule"]
    cap = None if par["cap"] is None else exact(par["cap"], "manifest cap")
    y = {}  # image -> {feature: Fraction}
    for (i, f), (v,) in keyed(os.path.join(root, "inputs.tsv"), 3,
                              (par["inputs"], par["features"]), "inputs.tsv").items():
        y.setdefault(i, {})[f] = exact(v, f"inputs.tsv image {i} feature {f}")
    per_neuron = {}
    bias_file = os.path.join(root, "network", "bias.tsv")
    if os.path.isfile(bias_file):
        for (l, j), (v,) in keyed(bias_file, 3, (L, n), "network/bias.tsv").items():
            if f"bias{l}" in man["values"] or j > man["shapes"][str(l)][1]:
                raise Unreadable(f"network/bias.tsv: layer {l} neuron {j} has no such bias")
            per_neuron.setdefault(l, {})[j] = exact(v, "network/bias.tsv")
    for l in range(1, L + 1):
        rows_in, cols_out = man["shapes"][str(l)]
        name = f"network/n{n}-l{l}.tsv"
        spelled = man["values"][str(l)]
        w = {}  # input neuron -> [(output neuron, weight numerator)]
        dens = set()
        seen = set()
        for (i, j), (v,) in keyed(os.path.join(root, *name.split("/")), 3,
                                  (rows_in, cols_out), name).items():
            q = exact(v, name)
            if spelled.get(v) != str(q):
                raise Unreadable(f"{name}: {v!r} is {q}, the manifest says {spelled.get(v)!r}")
            seen.add(v)
            w.setdefault(i, []).append((j, q))
            dens.add(q.denominator)
        if seen != set(spelled):
            raise Unreadable(f"manifest.json: values[{l}] lists spellings {name} does not use")
        D = 1
        for d in dens:
            D = D * d // _gcd(D, d)
        w = {i: [(j, (q * D).numerator) for j, q in row] for i, row in w.items()}
        if f"bias{l}" in man["values"]:
            b = exact(man["values"][f"bias{l}"], f"manifest bias{l}")
            bias = {j: b for j in range(1, cols_out + 1)}
        else:
            bias = per_neuron.get(l, {})
        y_next = {}
        for img in range(1, par["inputs"] + 1):
            acts = y.get(img, {})
            s = 1  # every activation and weight of this image as an integer over s
            for v in acts.values():
                s = s * v.denominator // _gcd(s, v.denominator)
            ints = {f: (v * s).numerator for f, v in acts.items()}
            z = {}  # W y as integers over s * D
            for f, a in ints.items():
                for j, wq in w.get(f, ()):
                    z[j] = z.get(j, 0) + a * wq
            out = {}
            for j in range(1, cols_out + 1):
                wy = Fraction(z.get(j, 0), s * D)
                if rule == "nonzero" and wy == 0:
                    continue
                pre = wy + bias.get(j, 0)
                if pre > 0:
                    out[j] = pre if cap is None or pre <= cap else cap
            if out:
                y_next[img] = out
        y = y_next
    return {(i, j): v for i, row in y.items() for j, v in row.items()}


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def check(root):
    problems, checked = [], []
    try:
        with open(os.path.join(root, "manifest.json"), "rb") as fh:
            raw = fh.read()
        man = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise Unreadable(f"manifest.json: cannot read: {exc}") from None
    if not isinstance(man, dict) or man.get("format") != SUITE_FORMAT:
        raise Unreadable(f"manifest.json: not a {SUITE_FORMAT} manifest")
    if sorted(man) != sorted(MANIFEST_FIELDS) or not isinstance(man["parameters"], dict) or \
            sorted(man["parameters"]) != sorted(PARAMETERS):
        raise Unreadable("manifest.json: fields missing or not understood")
    validate(man)
    canonical = json.dumps(man, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                           allow_nan=False) + "\n"
    if raw != canonical.encode("ascii"):
        problems.append("manifest.json: not in canonical form")
    try:
        check_files(root, man, problems)
        checked.append(f"{len(man['files'])} file hashes")
        outputs = run_network(root, man)
        checked.append(f"{man['parameters']['layers']} layers recomputed exactly")
        par = man["parameters"]
        last = man["shapes"][str(par["layers"])][1]
        want = {k: exact(v, "expected/exact.tsv") for k, (v,) in
                keyed(os.path.join(root, "expected", "exact.tsv"), 3, (par["inputs"], last),
                      "expected/exact.tsv").items()}
        if want != outputs:
            bad = sorted(set(want.items()) ^ set(outputs.items()))
            problems.append(f"expected/exact.tsv: {len(bad)} entries differ from the "
                            f"recomputation, first {bad[0]}")
        checked.append(f"{len(outputs)} exact outputs")
        formats = man["parameters"]["formats"]
        for rel in sorted(man["files"]):
            if rel.startswith("expected/") and rel not in \
                    ["expected/exact.tsv"] + [f"expected/{f}.tsv" for f in formats]:
                problems.append(f"{rel}: an expected file for a format not in the manifest's "
                                f"formats {formats}")
        for fmt in formats:
            if fmt not in FORMATS:
                raise Unreadable(f"manifest.json: unknown format {fmt!r}")
            rel = f"expected/{fmt}.tsv"
            got = {}
            for k, (hx, dec) in keyed(os.path.join(root, "expected", f"{fmt}.tsv"), 4,
                                      (par["inputs"], last), rel).items():
                try:
                    value = float.fromhex(hx)
                except (ValueError, OverflowError):
                    raise Unreadable(f"{rel}: not a hex float: {hx!r}") from None
                if value.hex() != hx or repr(value) != dec:
                    problems.append(f"{rel}: {hx} {dec} is not written as float.hex() and "
                                    "repr()")
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
        listed = [int(line[1][0]) for line in read_lines(os.path.join(root, "categories.tsv"), 1)]
        if listed != cats:
            problems.append("categories.tsv: differs from the recomputed categories")
        checked.append(f"{len(cats)} categories")
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise Unreadable(f"manifest.json or a file it names is malformed: "
                         f"{type(exc).__name__}: {exc}") from None
    return problems, checked


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
