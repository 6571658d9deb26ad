"""What a certificate needs to be checked by someone else, and symdnn's own re-check.

:func:`certify_folder` and :func:`certify_challenge_files` certify a network read from files
and record in the certificate where it came from (``source``) and the sha256 of every network
file and of the inputs (``sha256``); :func:`arithmetic_json` is the ``arithmetic`` entry of
each format (precision, exponent range, rounding, accumulation). :func:`recheck` is
``symdnn certify --check``: it verifies the hashes, certifies again with symdnn's own code and
compares every key. The standard-library checker is :mod:`symdnn.certify.check_cert`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from symdnn.certify.bounds import Arith
from symdnn.certify.report import Certificate
from symdnn.errors import ArgumentError, ParseError
from symdnn.io.text import read_bytes, sha256_file, strict_json

__all__ = ["MAX_CERT_BYTES", "CERT_FORMAT", "BOUND_MODEL", "ACCUMULATION_MODEL", "arithmetic_json",
           "certify_folder", "certify_challenge_files", "folder_files", "challenge_files",
           "recheck", "Recheck", "file_sha256"]

#: the certificate's layout, as ``symdnn.certify.check_cert`` reads it
CERT_FORMAT = "symdnn-certificate/1"
#: the bound model of docs/certificates.md ("The bound model, for checkers")
BOUND_MODEL = "symdnn-bound/1"
#: the largest certificate ``symdnn certify --check`` reads (its nesting is bounded by
#: :data:`symdnn.io.text.MAX_NESTING`, 64, as in ``check_cert.py``)
MAX_CERT_BYTES = 256 << 20
#: keys of the ``network`` block that a re-check does not compare: the name is the NET given
#: on the command line, which may be another path to the same files
MACHINE_KEYS = ("name",)
#: how ``network.bias`` begins for a Graph Challenge folder with a ``bias.tsv`` (the rest is
#: its path, which may differ; the biases themselves are ``source.biases``)
BIAS_FILE = "per-layer biases from "
ACCUMULATION_MODEL = ("any order and tree of summation; products and additions in the "
                      "accumulation format, each rounded to nearest; weights, biases, inputs, "
                      "outputs and the cap stored in the format (docs/certificates.md)")


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file, in hexadecimal.

    Examples
    --------
    >>> import tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x")
    >>> _ = open(p, "wb").write(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    try:
        return sha256_file(Path(path))
    except OSError as exc:  # missing, unreadable, or not a regular file (a FIFO would block)
        raise ParseError(f"{path}: {exc.strerror}" if exc.strerror else str(exc)) from None


def _fmt_json(f: Any) -> dict:
    return {"name": f.name, "precision": int(f.precision), "emin": int(f.emin),
            "emax": int(f.emax), "max_finite": str(f.max_finite), "infinity": bool(f.has_inf),
            "rounding": "nearest-even"}


def arithmetic_json(ar: Arith) -> dict:
    """The parameters a checker needs for one arithmetic: the storage and accumulation
    formats (precision with the implicit bit, emin, emax, largest finite value, rounding) and
    the accumulation model.

    Examples
    --------
    >>> a = arithmetic_json(Arith.of("fp16", "fp32"))
    >>> a["format"]["precision"], a["format"]["emin"], a["accumulate"]["name"]
    (11, -14, 'fp32')
    """
    return {"format": _fmt_json(ar.fmt), "accumulate": _fmt_json(ar.acc),
            "accumulation_model": ACCUMULATION_MODEL, "bound_model": BOUND_MODEL}


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise ArgumentError(f"{path} is not inside {root}: a checker finds the network's "
                            "files under NET") from None


def _rel_or_name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def certify_folder(folder: str, *, formats: Sequence[str] | str | None = None,
                   accumulate: str | None = None,
                   progress: Callable[[int, int], None] | None = None) -> Certificate:
    """Certify a folder written by ``symdnn build`` on its inputs, recording ``source`` and
    ``sha256`` (``network.json``, the weight and bias files, full biases included, the
    inputs) in the certificate.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.constructions import build_construction
    >>> from symdnn.io.netdir import write_network
    >>> c = build_construction(builtin="words2", betas="4/5")
    >>> d = write_network(os.path.join(tempfile.mkdtemp(), "n"), c.net, inputs=c.inputs)
    >>> cert = certify_folder(str(d), formats=["bf16"])
    >>> cert.certified, sorted(cert.sha256["network"])
    (True, ['W0.tsv', 'b0.tsv', 'network.json'])
    """
    from symdnn.certify.api import DEFAULT_FORMATS, certify
    from symdnn.constructions import load_construction

    c = load_construction(folder)
    cert = certify(c.net, c.inputs, formats=DEFAULT_FORMATS if formats is None else formats,
                   accumulate=accumulate, name=str(folder), progress=progress)
    cert.source, cert.sha256 = folder_files(folder)
    return cert


def folder_files(folder: str) -> tuple[dict, dict]:
    """``(source, sha256)`` of a folder written by ``symdnn build``: the bias rule, the cap
    and the inputs file; the sha256 of ``network.json``, the weight and bias files (a full
    bias ``B_l`` too), and the inputs.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.constructions import build_construction
    >>> from symdnn.io.netdir import write_network
    >>> c = build_construction(builtin="words2")
    >>> d = write_network(os.path.join(tempfile.mkdtemp(), "n"), c.net, inputs=c.inputs)
    >>> src, sums = folder_files(str(d))
    >>> src["kind"], src["inputs_file"], len(sums["inputs"])
    ('symdnn-network', 'inputs.tsv', 64)
    """
    root = Path(folder)
    spec = json.loads((root / "network.json").read_text(encoding="utf-8"))
    files = ["network.json"]
    for lay in spec.get("layers", []):
        files += [lay[k] for k in ("weights", "bias", "full_bias") if lay.get(k)]
    source = {"kind": "symdnn-network", "rule": spec.get("bias_rule"),
              "cap": None if spec.get("ymax") is None else str(spec["ymax"]),
              "inputs_file": spec.get("inputs")}
    sums = {"network": {f: file_sha256(root / f) for f in files},
            "inputs": file_sha256(root / spec["inputs"])}
    return source, sums


def certify_challenge_files(data_dir: str, *, formats: Sequence[str] | str | None = None,
                            neurons: int = 1024, layers: int = 120, images: int | None = None,
                            accumulate: str | None = None,
                            progress: Callable[[int, int], None] | None = None
                            ) -> Certificate:
    """:func:`~symdnn.certify.certify_graph_challenge`, recording ``source`` (rule, biases,
    cap, the layer files relative to ``data_dir``) and ``sha256`` (the layer files and the
    images file) in the certificate.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=3)
    >>> cert = certify_challenge_files(str(d), layers=2, formats=["fp64"])
    >>> cert.source["biases"], len(cert.sha256["network"])
    (['-3/10', '-3/10'], 2)
    """
    from symdnn.certify.api import DEFAULT_FORMATS, certify_graph_challenge

    cert = certify_graph_challenge(data_dir, formats=DEFAULT_FORMATS if formats is None
                                   else formats, neurons=neurons, layers=layers,
                                   images=images, accumulate=accumulate, progress=progress)
    cert.source, cert.sha256 = challenge_files(data_dir, neurons=neurons, layers=layers,
                                               images=len(cert.batch))
    return cert


def challenge_files(data_dir: str, *, neurons: int = 1024, layers: int = 120,
                    images: int) -> tuple[dict, dict]:
    """``(source, sha256)`` of a Graph Challenge folder as ``symdnn certify graph-challenge``
    reads it (the same files): the network's rule, biases and cap, the layer files relative
    to ``data_dir``; their sha256 and the images file's.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=3)
    >>> src, sums = challenge_files(str(d), layers=2, images=3)
    >>> src["biases"], src["cap"], len(sums["network"])
    (['-3/10', '-3/10'], '32', 2)
    """
    from symdnn.io.gcnetwork import challenge_network
    from symdnn.io.graphchallenge import find_challenge_files

    root = Path(data_dir)
    files = find_challenge_files(data_dir, neurons, layers)
    net = challenge_network(data_dir, neurons, layers)
    rel = [_rel(Path(p), root) for p in files.layers]
    paths = list(files.layers)
    if (root / "bias.tsv").is_file():  # the biases are read from it: hashed too
        rel.append("bias.tsv")
        paths.append(root / "bias.tsv")
    source = {"kind": "graph-challenge", "neurons": neurons, "layers": layers,
              "images": images, "rule": net.rule,
              "cap": None if net.cap is None else str(net.cap),
              "biases": [None if b is None else str(b) for b in net.biases],
              "layer_files": rel[:layers], "inputs_file": _rel_or_name(Path(files.images), root)}
    sums = {"network": {r: file_sha256(p) for r, p in zip(rel, paths, strict=True)},
            "inputs": file_sha256(files.images)}
    return source, sums


class Recheck:
    """What ``symdnn certify --check`` found: ``status`` (0 certified, 1 not certified or a
    claim refuted), ``lines`` to print, and the fresh certificate."""

    def __init__(self, status: int, lines: list[str], cert: Certificate | None) -> None:
        self.status, self.lines, self.cert = status, lines, cert

    def summary(self) -> str:
        return "\n".join(self.lines)


def _read_cert(path: str) -> dict:
    """The certificate: a regular file of at most :data:`MAX_CERT_BYTES` bytes, strict JSON
    (:func:`~symdnn.io.text.strict_json`: nesting bounded, no NaN or Infinity) without a
    repeated key."""
    data = read_bytes(path, limit=MAX_CERT_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError(f"{path}: not UTF-8") from None
    doc = strict_json(text, path=path, unique_keys=True)
    for key in ("checker", "bound_model_version", "source", "sha256", "formats"):
        if not isinstance(doc, dict) or key not in doc:
            raise ParseError(f"{path}: the key {key!r} is missing (a certificate written by "
                             "'symdnn certify ... --json' names its files)")
    return doc


def _inside(rel: Any, where: str) -> str:
    """A file name relative to NET: no absolute path, no ``..``, no empty part."""
    parts = rel.replace("\\", "/").split("/") if isinstance(rel, str) else None
    if not parts or os.path.isabs(rel) or any(x in ("", ".", "..") for x in parts):
        raise ParseError(f"{where}: {rel!r} is not a file name inside NET")
    return rel


def _accumulate(doc: dict) -> str | None:
    """The --accumulate that gives the certificate's (format, accumulation) pairs."""
    from symdnn.certify.api import ariths

    want = [(n, f["accumulate"]) for n, f in doc["formats"].items()]
    for acc in (None, "same", "fp32", "fp64"):
        try:
            got = [(a.fmt.name, a.acc.name) for a in ariths([n for n, _ in want], acc)]
        except ArgumentError:
            continue
        if got == want:
            return acc
    raise ParseError("formats: no --accumulate gives the certificate's accumulation formats")


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    """The keys where two JSON documents differ, JSON types included (``1`` is not
    ``true``)."""
    if type(old) is not type(new):
        return [f"{where.rstrip('.')}: written {json.dumps(old)[:80]}, recomputed "
                f"{json.dumps(new)[:80]}"]
    if isinstance(old, list) and len(old) == len(new):
        out = []
        for k, (a, b) in enumerate(zip(old, new, strict=True)):
            out += _differences(a, b, f"{where}{k}.")
        return out
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new)):
            if k == "seconds" and not where:
                continue
            if k not in old or k not in new:
                out.append(f"{where}{k}: {'missing' if k not in old else 'unexpected'}")
            else:
                out += _differences(old[k], new[k], f"{where}{k}.")
        return out
    if old != new:
        return [f"{where.rstrip('.')}: written {json.dumps(old)[:80]}, recomputed "
                f"{json.dumps(new)[:80]}"]
    return []


def recheck(cert_path: str, net: str, inputs: str, *,
            progress: Callable[[int, int], None] | None = None) -> Recheck:
    """``symdnn certify --check CERT.json NET INPUTS``: the sha256 of the network's files
    (under ``NET``) and of ``INPUTS`` against the certificate, then the certificate computed
    again by symdnn and compared key by key (all but ``seconds``).

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.constructions import build_construction
    >>> from symdnn.io.netdir import write_network
    >>> c = build_construction(builtin="words2", betas="4/5")
    >>> t = tempfile.mkdtemp()
    >>> d = write_network(os.path.join(t, "n"), c.net, inputs=c.inputs)
    >>> p = os.path.join(t, "cert.json")
    >>> _ = open(p, "w").write(json.dumps(certify_folder(str(d), formats=["bf16"]).to_json()))
    >>> recheck(p, str(d), os.path.join(str(d), "inputs.tsv")).status
    0
    """
    doc = _read_cert(cert_path)
    sums, src = doc["sha256"], doc["source"]
    if not isinstance(sums, dict) or not isinstance(src, dict) or \
            not isinstance(doc["formats"], dict):
        raise ParseError(f"{cert_path}: the keys 'sha256', 'source' and 'formats' must be "
                         "objects")
    if not doc["formats"]:
        raise ParseError(f"{cert_path}: the key 'formats' is empty (a certificate speaks for "
                         "the formats it lists)")
    for name, f in doc["formats"].items():
        if not isinstance(f, dict) or not isinstance(f.get("accumulate"), str):
            raise ParseError(f"{cert_path}: the key 'formats.{name}.accumulate' is missing")
    if not isinstance(sums.get("network"), dict) or not isinstance(sums.get("inputs"), str) \
            or not all(isinstance(h, str) for h in sums["network"].values()):
        raise ParseError(f"{cert_path}: the key 'sha256' must hold 'network' (an object of "
                         "sha256 strings) and 'inputs' (a sha256 string)")
    for rel, h in sorted(sums["network"].items()):
        p = Path(net) / _inside(rel, f"{cert_path}: sha256.network")
        if file_sha256(p) != h:
            return Recheck(1, [f"NOT CERTIFIED: the network file {rel} is not the one "
                               "certified (sha256 differs)"], None)
    if file_sha256(inputs) != sums["inputs"]:
        return Recheck(1, [f"NOT CERTIFIED: the inputs {inputs} are not the ones certified "
                           "(sha256 differs)"], None)
    formats = list(doc["formats"])
    acc = _accumulate(doc)
    kind = src.get("kind")
    if kind == "graph-challenge":
        size = {}
        for k in ("neurons", "layers", "images"):
            if not isinstance(src.get(k), int) or isinstance(src[k], bool):
                raise ParseError(f"{cert_path}: the key 'source.{k}' is missing or not an "
                                 "integer")
            size[k] = src[k]
        cert = certify_challenge_files(net, formats=formats, accumulate=acc,
                                       progress=progress, **size)
        if cert.sha256["inputs"] != sums["inputs"]:
            raise ArgumentError(f"INPUTS: give the images file the certificate names "
                                f"({src.get('inputs_file')})")
    elif kind == "symdnn-network":
        own = Path(net) / str(src.get("inputs_file"))
        if not own.is_file() or file_sha256(own) != sums["inputs"]:
            raise ArgumentError(f"INPUTS: the folder's own inputs file {own} must be the one "
                                "certified")
        cert = certify_folder(net, formats=formats, accumulate=acc, progress=progress)
    else:
        raise ParseError(f"{cert_path}: source.kind {kind!r} is not known")
    new = json.loads(json.dumps(cert.to_json()))
    old = json.loads(json.dumps(doc))
    for d in (old, new):  # the name given on the command line may differ
        if isinstance(d.get("network"), dict):
            for k in MACHINE_KEYS:
                d["network"].pop(k, None)
            bias = d["network"].get("bias")
            if isinstance(bias, str) and bias.startswith(BIAS_FILE):  # names NET's path
                d["network"]["bias"] = BIAS_FILE
    diff = _differences(old, new)
    if diff:
        return Recheck(1, ["NOT CERTIFIED: the certificate is wrong: " + diff[0]]
                       + [f"  {d}" for d in diff[1:10]], cert)
    if cert.certified:
        return Recheck(0, ["CERTIFIED (recomputed by symdnn: every key agrees)"], cert)
    return Recheck(1, ["NOT CERTIFIED: some format is not certified (recomputed by symdnn: "
                       "every key agrees)"], cert)
