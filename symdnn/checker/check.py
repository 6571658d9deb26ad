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


def exact(text, where):
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise Unreadable(f"{where}: not an exact number: {text!r}") from None


def index(text, limit, where):
    try:
        i = int(text)
    except ValueError:
        raise Unreadable(f"{where}: not an index: {text!r}") from None
    if not 1 <= i <= limit:
        raise Unreadable(f"{where}: index {i} outside 1..{limit}")
    return i


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
    for lineno, (r, c, v) in read_lines(os.path.join(root, "inputs.tsv"), 3):
        where = f"inputs.tsv:{lineno}"
        i, f = index(r, par["inputs"], where), index(c, par["features"], where)
        if f in y.setdefault(i, {}):
            raise Unreadable(f"{where}: repeated entry")
        y[i][f] = exact(v, where)
    per_neuron = {}
    bias_file = os.path.join(root, "network", "bias.tsv")
    if os.path.isfile(bias_file):
        for lineno, (l, j, v) in read_lines(bias_file, 3):
            where = f"network/bias.tsv:{lineno}"
            per_neuron.setdefault(index(l, L, where), {})[index(j, n, where)] = exact(v, where)
    for l in range(1, L + 1):
        rows_in, cols_out = man["shapes"][str(l)]
        name = f"network/n{n}-l{l}.tsv"
        spelled = man["values"][str(l)]
        w = {}  # input neuron -> [(output neuron, weight numerator)]
        dens = set()
        for lineno, (r, c, v) in read_lines(os.path.join(root, *name.split("/")), 3):
            where = f"{name}:{lineno}"
            i, j = index(r, rows_in, where), index(c, cols_out, where)
            q = exact(v, where)
            if spelled.get(v) != str(q):
                raise Unreadable(f"{where}: {v!r} is {q}, the manifest says {spelled.get(v)!r}")
            w.setdefault(i, []).append((j, q))
            dens.add(q.denominator)
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
    canonical = json.dumps(man, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                           allow_nan=False) + "\n"
    if raw != canonical.encode("ascii"):
        problems.append("manifest.json: not in canonical form")
    try:
        check_files(root, man, problems)
        checked.append(f"{len(man['files'])} file hashes")
        outputs = run_network(root, man)
        checked.append(f"{man['parameters']['layers']} layers recomputed exactly")
        want = {}
        for lineno, (r, c, v) in read_lines(os.path.join(root, "expected", "exact.tsv"), 3):
            want[(int(r), int(c))] = exact(v, f"expected/exact.tsv:{lineno}")
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
            for lineno, (r, c, hx, dec) in read_lines(os.path.join(root, "expected",
                                                                   f"{fmt}.tsv"), 4):
                try:
                    value = float.fromhex(hx)
                except ValueError:
                    raise Unreadable(f"{rel}:{lineno}: not a hex float: {hx!r}") from None
                if repr(value) != dec:
                    problems.append(f"{rel}:{lineno}: decimal {dec} is not {hx}")
                got[(int(r), int(c))] = float_bits(value, fmt)
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
    except (KeyError, TypeError, ValueError, IndexError) as exc:
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
