"""The integrity of a certified suite: its canonical manifest, the root digest, and every
structural check that does not need arithmetic.

The manifest covers every byte that carries meaning: the sha256 of every file in the folder
and every parameter (formats, bias rule, biases, cap, convention, library versions). It is
stored in canonical form (:func:`canonical_json`), and the **root digest** of a suite is the
sha256 of those bytes: a user who records the digest printed by ``symdnn suite build`` can
later check, with ``symdnn suite verify --digest HEX``, that not one byte of the suite has
changed, the manifest included.

:func:`structure_problems` rejects a path that is absolute, holds ``..`` or is a symbolic
link; a file in the folder the manifest does not list; a listed file that is missing or whose
sha256 differs; a parameter that disagrees with the files (layers, formats, shapes, the
spelled weight values, per-layer biases); and a manifest field that is not understood. Each
problem names the file and what is wrong. The file format is documented in
docs/suite-format.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from symdnn.errors import ParseError
from symdnn.io.text import (
    MAX_DIGITS,
    check_utf8,
    exact_number,
    read_bytes,
    sha256_file,
    show_number,
    strict_json,
)

#: symdnn's output marker (written after the manifest, so not listed; see symdnn.io.outputs)
MARKER = ".symdnn-output.json"

__all__ = ["FORMAT", "canonical_json", "root_digest", "load_manifest", "structure_problems",
           "sha256_file", "MANIFEST_KEYS", "PARAMETER_KEYS"]  # sha256_file: symdnn.io.text

FORMAT = "symdnn-suite/2"
_CANONICAL = re.compile(r"-?[0-9]+(?:/[0-9]+)?\Z")

#: every top-level manifest field, and its JSON type
MANIFEST_KEYS = {"format": str, "generator": str, "created": str, "parameters": dict,
                 "values": dict, "shapes": dict, "versions": dict, "files": dict}
#: every parameter, and its JSON type(s); ``source`` is free-form description of the origin
PARAMETER_KEYS = {"neurons": int, "layers": int, "inputs": int, "features": int,
                  "bias_rule": str, "cap": (str, type(None)), "formats": list,
                  "convention": str, "source": dict}
KNOWN_FORMATS = ("fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2")


def canonical_json(doc: Any) -> bytes:
    """The canonical bytes of a JSON document: keys sorted, no insignificant whitespace,
    ASCII only, one final newline.

    Examples
    --------
    >>> canonical_json({"b": [1, "é"], "a": None})
    b'{"a":null,"b":[1,"\\\\u00e9"]}\\n'
    """
    return (json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                       allow_nan=False) + "\n").encode("ascii")


def root_digest(folder: str | os.PathLike) -> str:
    r"""The suite's root digest: the sha256 of its (canonical) manifest.json.

    Examples
    --------
    >>> import tempfile, pathlib, hashlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "manifest.json").write_bytes(canonical_json({"format": FORMAT}))
    >>> root_digest(d) == hashlib.sha256(b'{"format":"symdnn-suite/2"}\n').hexdigest()
    True
    """
    return hashlib.sha256(read_bytes(str(Path(folder) / "manifest.json"))).hexdigest()


def load_manifest(folder: str | os.PathLike) -> dict:
    """Read and check the manifest: canonical form, every field understood and of its type.

    Raises
    ------
    ParseError
        Naming manifest.json and what is wrong.
    """
    path = Path(folder) / "manifest.json"
    where = str(path)
    _regular_or_refuse(path, where)
    raw = read_bytes(where)  # a regular file only: never a FIFO or a device
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not JSON: {exc}", path=where) from None
    man = strict_json(text, path=where)
    if not isinstance(man, dict):
        raise ParseError("not a JSON object", path=where)
    if man.get("format") != FORMAT:
        raise ParseError(f"format {man.get('format')!r}, expected {FORMAT!r}", path=where)
    unknown = sorted(set(man) - set(MANIFEST_KEYS))
    if unknown:
        raise ParseError(f"field {unknown[0]!r} is not understood", path=where)
    for key, typ in MANIFEST_KEYS.items():
        if not isinstance(man.get(key), typ):
            raise ParseError(f"key {key!r} missing or not a {typ.__name__}", path=where)
    par = man["parameters"]
    unknown = sorted(set(par) - set(PARAMETER_KEYS))
    if unknown:
        raise ParseError(f"parameter {unknown[0]!r} is not understood", path=where)
    for key, typ in PARAMETER_KEYS.items():
        v = par.get(key, ...)
        if v is ... or isinstance(v, bool) or not isinstance(v, typ):
            raise ParseError(f"parameters.{key} missing or of the wrong type", path=where)
    for key, top in (("neurons", 1 << 24), ("layers", 1 << 20), ("inputs", 1 << 31),
                     ("features", 1 << 24)):
        if par[key] < (1 if key in ("neurons", "layers") else 0) or par[key] > top:
            raise ParseError(f"parameters.{key} = {par[key]} is out of range", path=where)
    for l, sh in man["shapes"].items():
        if not (isinstance(sh, list) and len(sh) == 2 and
                all(isinstance(v, int) and not isinstance(v, bool) and
                    1 <= v <= par["neurons"] for v in sh)):
            raise ParseError(f"shapes[{l!r}] must be [inputs, outputs], each 1..neurons",
                             path=where)
    for l, v in man["values"].items():
        ok = isinstance(v, str) if l.startswith("bias") else (
            isinstance(v, dict) and all(isinstance(a, str) and isinstance(b, str)
                                        for a, b in v.items()))
        if not ok:
            raise ParseError(f"values[{l!r}] must map strings to exact numbers as strings",
                             path=where)
        if l.startswith("bias"):
            _exact(v, where, f"values[{l!r}]")
            continue
        for spelled, value in v.items():
            _exact(spelled, where, f"values[{l!r}] spelling")
            _exact(value, where, f"values[{l!r}][{_shown(spelled)!r}]", canonical=True)
    if par["bias_rule"] not in ("all", "nonzero"):
        raise ParseError(f"parameters.bias_rule {par['bias_rule']!r} is not understood",
                         path=where)
    if par["convention"] != "row":
        raise ParseError(f"parameters.convention {par['convention']!r}: suites are written "
                         "in the row convention", path=where)
    if par["cap"] is not None and _exact(par["cap"], where, "parameters.cap") <= 0:
        raise ParseError(f"parameters.cap = {_shown(par['cap'])!r}: a cap is positive (a "
                         "cap <= 0 would make every output nonpositive)", path=where)
    for f in par["formats"]:
        if f not in KNOWN_FORMATS:
            raise ParseError(f"parameters.formats: {f!r} is not a known format", path=where)
    if len(set(par["formats"])) != len(par["formats"]):
        raise ParseError("parameters.formats lists a format twice", path=where)
    for rel, digest in man["files"].items():
        if not (isinstance(digest, str) and len(digest) == 64 and
                all(c in "0123456789abcdef" for c in digest)):
            raise ParseError(f"files[{rel!r}] is not a sha256 in hex", path=where)
    if not all(isinstance(v, str) for v in man["versions"].values()):
        raise ParseError("versions must map names to version strings", path=where)
    _consistent(man, where)
    if raw != canonical_json(man):
        raise ParseError("not in canonical form (keys sorted, no spaces; see "
                         "docs/suite-format.md): it was edited", path=where)
    return man


def required_files(par: dict) -> set[str]:
    """The files a manifest with parameters ``par`` must list: the layers, the expected file
    of each format and the exact one, the inputs, the categories and the checker.

    Examples
    --------
    >>> for rel in sorted(required_files({"neurons": 4, "layers": 1, "formats": ["fp16"]})):
    ...     print(rel)
    categories.tsv
    check.py
    expected/exact.tsv
    expected/fp16.tsv
    inputs.tsv
    network/n4-l1.tsv
    """
    n, L = par["neurons"], par["layers"]
    return {f"network/n{n}-l{l}.tsv" for l in range(1, L + 1)} | \
        {f"expected/{f}.tsv" for f in par["formats"]} | \
        {"expected/exact.tsv", "inputs.tsv", "categories.tsv", "check.py"}


def _consistent(man: dict, where: str) -> None:
    """Refuse a manifest that contradicts itself (docs/suite-format.md, "cannot be read"):
    shapes for exactly the layers 1..L, chained from ``features``; a values map for every
    layer and nothing else but ``bias{l}``; exactly the layer and expected files the
    parameters name, and the required files, listed (check.py's ``validate`` is its twin)."""
    par = man["parameters"]
    L = par["layers"]
    layers = [str(l) for l in range(1, L + 1)]
    if set(man["shapes"]) != set(layers):
        raise ParseError("shapes must hold exactly the layers 1..parameters.layers",
                         path=where)
    allowed = set(layers) | {f"bias{l}" for l in layers}
    if not set(layers) <= set(man["values"]) <= allowed:
        raise ParseError("values must hold a map for every layer 1..parameters.layers, and "
                         "nothing else but their bias{l}", path=where)
    if any(not isinstance(man["values"][l], dict) for l in layers):
        raise ParseError("values[l] of a layer must be a map", path=where)
    width = par["features"]
    for l in layers:
        if man["shapes"][l][0] != width:
            raise ParseError(f"shapes[{l!r}] takes {man['shapes'][l][0]} inputs, the layer "
                             f"before it gives {width} (parameters.features for layer 1)",
                             path=where)
        width = man["shapes"][l][1]
    listed = set(man["files"])
    need = required_files(par)
    for rel in sorted(need - listed):
        raise ParseError(f"files: {rel} is required by the parameters and not listed",
                         path=where)
    for rel in sorted(listed - need):
        if rel.startswith("expected/") or (rel.startswith("network/n") and
                                           rel.endswith(".tsv")):
            raise ParseError(f"files: {rel} is a layer or expected file the parameters do "
                             "not name", path=where)


def _can_stat(root: Path, parts: list[str]) -> bool:
    """Whether every prefix of a listed path can be looked at (a name longer than the file
    system allows cannot: it is missing, as check.py says)."""
    try:
        for k in range(1, len(parts) + 1):
            os.lstat(root.joinpath(*parts[:k]))
    except FileNotFoundError:
        return True  # missing is reported as such below
    except OSError:
        return False
    return True


def _regular_or_refuse(path: Path, where: str) -> None:
    """Refuse, before it is opened, a path that is not a regular file after following
    symbolic links (a FIFO would block, a device such as /dev/zero never ends)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", path=where) from None
    if not stat.S_ISREG(mode):
        raise ParseError("not a regular file", path=where)


def show_value(q: Any) -> str:
    """A Fraction (or a tuple holding them) as text, never a number too long to print
    (``str`` refuses an integer of more than 4300 digits; check.py's ``show`` is its twin).

    Examples
    --------
    >>> show_value(Fraction(1, 3)), show_value((Fraction(2), Fraction(-1, 2)))
    ('1/3', '(2, -1/2)')
    >>> show_value(Fraction(10**13000))
    'a number of about 12955 digits over one of about 0'
    """
    if isinstance(q, tuple):
        return "(" + ", ".join(show_value(v) for v in q) + ")"
    if isinstance(q, Fraction) and max(q.numerator.bit_length(),
                                       q.denominator.bit_length()) > 3 * MAX_DIGITS:
        return (f"a number of about {q.numerator.bit_length() * 3 // 10} digits over one of "
                f"about {q.denominator.bit_length() * 3 // 10}")
    return show_number(q)


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _exact(text: Any, where: str, what: str, *, canonical: bool = False) -> Fraction:
    """The exact value a manifest string spells (:func:`~symdnn.io.text.exact_number`);
    with ``canonical``, written as ``str(Fraction)`` writes it (an integer, or ``p/q`` in
    lowest terms), as the ``values`` map's values are."""
    if not isinstance(text, str):
        raise ParseError(f"{what} must be an exact number as a string", path=where)
    try:
        q = exact_number(text)
    except ValueError as exc:
        raise ParseError(f"{what} = {_shown(text)!r}: {exc}", path=where) from None
    if canonical and (not _CANONICAL.match(text) or str(q) != text):
        raise ParseError(f"{what} = {_shown(text)!r} is not written as an integer or p/q in "
                         "lowest terms", path=where)
    return q


def structure_problems(folder: str | os.PathLike, man: dict) -> list[str]:
    """Every problem of the folder against its manifest that needs no arithmetic."""
    root = Path(folder)
    problems = []
    listed = man["files"]
    safe = {}
    for rel in sorted(listed):
        parts = rel.split("/")
        p = root.joinpath(*parts)
        if rel.startswith("/") or os.path.isabs(rel) or "\\" in rel or \
                any(part in ("", ".", "..") for part in parts):
            problems.append(f"{rel}: a path outside the suite, or not written plainly (an "
                            "absolute path, or a '.', '..' or empty segment)")
        elif not _can_stat(root, parts):  # a name no file system holds (too long)
            problems.append(f"{rel}: listed in the manifest but missing")
        elif any(root.joinpath(*parts[:k]).is_symlink() for k in range(1, len(parts) + 1)):
            problems.append(f"{rel}: a symbolic link")
        elif not os.path.lexists(p):
            problems.append(f"{rel}: listed in the manifest but missing")
        elif not p.is_file():
            problems.append(f"{rel}: not a regular file")
        else:
            try:
                digest = sha256_file(p)
            except OSError as exc:
                problems.append(f"{rel}: cannot be read: {exc.strerror or exc}")
                continue
            if digest != listed[rel]:
                problems.append(f"{rel}: sha256 differs from the manifest")
            else:
                safe[rel] = p

    def unreadable(exc: OSError) -> None:
        where = os.path.relpath(exc.filename or root, root).replace(os.sep, "/")
        problems.append(f"{where}: cannot be read ({exc.strerror or exc}), so the folder "
                        "may hold files the manifest does not list")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        for name in sorted(filenames + [d for d in dirnames
                                        if os.path.islink(os.path.join(dirpath, d))]):
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
            if rel not in listed and rel not in ("manifest.json", MARKER):
                problems.append(f"{rel}: in the folder but not in the manifest")
    par = man["parameters"]
    n, L = par["neurons"], par["layers"]
    want = {f"network/n{n}-l{l}.tsv" for l in range(1, L + 1)}
    have = {r for r in listed if r.startswith("network/n") and r.endswith(".tsv")}
    for rel in sorted(want - have):
        problems.append(f"{rel}: parameters.layers is {L} but the manifest does not list it")
    for rel in sorted(have - want):
        problems.append(f"{rel}: a layer file beyond parameters.layers = {L}")
    fm = {f"expected/{f}.tsv" for f in par["formats"]} | {"expected/exact.tsv"}
    for rel in sorted(r for r in listed if r.startswith("expected/")):
        if rel not in fm:
            problems.append(f"{rel}: an expected file for a format not in parameters.formats "
                            f"{par['formats']}")
    for rel in sorted(fm - set(listed)):
        problems.append(f"{rel}: parameters.formats needs it, the manifest does not list it")
    for req in ("inputs.tsv", "categories.tsv", "check.py"):
        if req not in listed:
            problems.append(f"{req}: required, and not in the manifest")
    for l in range(1, L + 1):
        if str(l) not in man["shapes"] or str(l) not in man["values"]:
            problems.append(f"manifest.json: layer {l} has no shape or no values entry")
    extra_keys = set(man["shapes"]) - {str(l) for l in range(1, L + 1)}
    extra_keys |= set(man["values"]) - {str(l) for l in range(1, L + 1)} - \
        {f"bias{l}" for l in range(1, L + 1)}
    for k in sorted(extra_keys):
        problems.append(f"manifest.json: shapes/values entry {k!r} is not a layer")
    if "network/bias.tsv" in safe and any(f"bias{l}" in man["values"]
                                          for l in range(1, L + 1)):
        problems.append("network/bias.tsv: per-neuron biases given beside a one-value bias")
    problems += _values_problems(safe, man)
    return problems


#: a well-formed suite file of 3 or 4 fields: every line two ASCII-digit indices and the
#: rest, tab-separated, ended by \n (no blank line, no \r): the files symdnn writes
_REGULAR = {n: re.compile(r"(?:[0-9]{1,18}\t[0-9]{1,18}" + r"\t[^\t\n\r]+" * (n - 2) + r"\n)*")
            for n in (3, 4)}

def regular_rows(path: str | os.PathLike, fields: int,
                 limits: tuple[int, int]) -> tuple[Any, Any, list[tuple[str, ...]]] | None:
    r"""The lines of a suite file read at once, when the file is regular: every line two
    indices of ASCII digits within ``limits`` (1-based) and ``fields - 2`` non-empty fields,
    tab-separated, ended by ``
``, no blank line, no ``
``, no key twice. Returns ``(i, j,
    rest)`` (int64 arrays, 1-based, and the other fields per line) or None: the line-by-line
    reader (:func:`suite_lines`) then names the first problem, so the verdict and messages
    are those of the strict reader either way; this is only faster. ``rest`` holds one tuple
    per further field (a column of the file).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "e.tsv")
    >>> _ = open(p, "w").write("1\t2\t1/3\n2\t1\t5\n")
    >>> i, j, rest = regular_rows(p, 3, (2, 2))
    >>> i.tolist(), j.tolist(), rest
    ([1, 2], [2, 1], [('1/3', '5')])
    >>> regular_rows(p, 3, (1, 2)) is None          # image 2 is outside 1..1
    True
    """
    path = os.fspath(path)
    raw = read_bytes(path)
    check_utf8(raw, path)
    text = raw.decode("utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    if not _REGULAR[fields].fullmatch(text):
        return None
    if not text:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [()] * (fields - 2)
    flat = text[:-1].replace("\n", "\t").split("\t")  # regular: ``fields`` per line
    cols = [tuple(flat[k::fields]) for k in range(fields)]
    i = np.array(cols[0], dtype=np.int64)
    j = np.array(cols[1], dtype=np.int64)
    if i.min() < 1 or j.min() < 1 or i.max() > limits[0] or j.max() > limits[1]:
        return None
    key = (i - 1) * int(limits[1]) + (j - 1)
    if len(np.unique(key)) != len(key):
        return None
    return i, j, cols[2:]


def suite_lines(path: str | os.PathLike, fields: int) -> list[tuple[int, list[str]]]:
    r"""The non-blank lines of a suite file, each exactly ``fields`` tab-separated fields:
    strict UTF-8, split on ``\n`` only, a blank line is an empty one, and a ``\r`` is an
    error (docs/suite-format.md; check.py's ``read_lines`` is its twin).

    Raises
    ------
    ParseError
        Naming the file and line.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "c.tsv")
    >>> _ = open(p, "w", newline="").write("1\t2\n\n3\t4\n")
    >>> suite_lines(p, 2)                     # the blank line 2 is skipped
    [(1, ['1', '2']), (3, ['3', '4'])]
    >>> _ = open(p, "w", newline="").write("1\t2\r\n")
    >>> suite_lines(p, 2)
    Traceback (most recent call last):
    ...
    symdnn.errors.ParseError: ...c.tsv:1: a carriage return (lines end in \n only)
    """
    path = os.fspath(path)
    raw = read_bytes(path)
    check_utf8(raw, path)
    lines = raw.decode("utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    out = []
    for lineno, line in enumerate(lines, 1):
        if line == "":
            continue
        if "\r" in line:
            raise ParseError("a carriage return (lines end in \\n only)", path=path,
                             line=lineno)
        parts = line.split("\t")
        if len(parts) != fields:
            raise ParseError(f"expected {fields} tab-separated fields, found {len(parts)}",
                             path=path, line=lineno)
        out.append((lineno, parts))
    return out


def _readable_weight(parts: list[str], shape: Any, numbers: dict) -> bool:
    """Whether a layer line is two indices within ``shape`` and an exact value (``numbers``
    remembers each distinct spelling's verdict: a layer holds few)."""
    for text, top in zip(parts[:2], shape, strict=True):
        if not (text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS and
                1 <= int(text) <= top):
            return False
    if parts[2] not in numbers:
        try:
            exact_number(parts[2])
            numbers[parts[2]] = True
        except ValueError:
            numbers[parts[2]] = False
    return numbers[parts[2]]


def _values_problems(safe: dict, man: dict) -> list[str]:
    """The manifest's ``values`` (every weight as written -> its exact value) against the
    layer files: the same spellings, each denoting the stated value."""
    problems = []
    par = man["parameters"]
    for l in range(1, par["layers"] + 1):
        rel = f"network/n{par['neurons']}-l{l}.tsv"
        if rel not in safe or str(l) not in man["values"]:
            continue
        spelled = man["values"][str(l)]
        if not isinstance(spelled, dict):
            problems.append(f"manifest.json: values[{l!r}] is not a map")
            continue
        shape = man["shapes"].get(str(l), (0, 0))
        regular = regular_rows(safe[rel], 3, tuple(shape))
        if regular is not None:
            seen = set(regular[2][0])
            numbers: dict = {}
            if not all(_readable_weight(["1", "1", t], (1, 1), numbers) for t in seen):
                continue  # the recomputation reports the line that cannot be read
        else:
            try:
                lines = suite_lines(safe[rel], 3)
            except ParseError:
                continue  # as above
            numbers = {}
            if not all(_readable_weight(parts, shape, numbers) for _, parts in lines):
                continue  # as above
            seen = {parts[2] for _, parts in lines}
        if seen != set(spelled):
            diff = sorted(seen ^ set(spelled))[:3]
            problems.append(f"{rel}: the values written in it are not those of the manifest "
                            f"(e.g. {diff})")
            continue
        for text, value in spelled.items():  # both read by load_manifest
            if exact_number(text) != exact_number(value):
                problems.append(f"manifest.json: values[{l}][{_shown(text)!r}] = "
                                f"{_shown(value)!r}, but {_shown(text)} is "
                                f"{show_value(exact_number(text))}")
    return problems
