"""The network folder written by ``symdnn build`` and read by ``verify``, ``threshold``,
``audit`` and ``suite``.

Layout::

    network.json      what built it, convention, bias rule, cap, key encoding, per-layer files
    W0.tsv ...        weights, one ``row<TAB>col<TAB>value`` line per entry (exact: "p/q")
    b0.tsv ...        biases, ``neuron<TAB>value``
    inputs.tsv        the model problem's inputs Y0 (features x categories), when known
    expected.tsv      the expected Y_L, when known

Keys are written as text when they are strings, else as JSON (tuples become lists); the key
encoding is recorded in ``network.json``. The folder is written to a temporary sibling and
renamed into place, so a failure never leaves a half-written network.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from symdnn.assoc import AssocArray
from symdnn.domains import get_domain
from symdnn.errors import ParseError
from symdnn.network import SparseDNN

__all__ = ["write_network", "read_network", "FORMAT"]

FORMAT = "symdnn-network/1"


def _enc(key: Any, mode: str) -> str:
    if mode == "str":
        return key
    return json.dumps(list(key) if isinstance(key, tuple) else key, separators=(",", ":"))


def _dec(text: str, mode: str) -> Any:
    if mode == "str":
        return text
    def tup(v: Any) -> Any:
        return tuple(tup(x) for x in v) if isinstance(v, list) else v
    return tup(json.loads(text))


def _mode(keys: list) -> str:
    return "str" if all(isinstance(k, str) and "\t" not in k and "\n" not in k
                        for k in keys) else "json"


def _write_triples(path: Path, A: AssocArray, mode: str) -> None:
    dom = A.domain
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for r, c, v in A.triples():
            fh.write(f"{_enc(r, mode)}\t{_enc(c, mode)}\t{dom.format(v)}\n")


def _read_triples(path: Path, mode: str, domain: str) -> AssocArray:
    dom = get_domain(domain)
    rows, cols, vals = [], [], []
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}", path=str(path)) from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                raise ParseError(f"expected 3 tab-separated fields, found {len(parts)}",
                                 path=str(path), line=lineno)
            try:
                rows.append(_dec(parts[0], mode))
                cols.append(_dec(parts[1], mode))
                vals.append(dom.convert(parts[2]))
            except (ValueError, json.JSONDecodeError) as exc:
                raise ParseError(f"bad field: {exc}", path=str(path), line=lineno) from None
    return AssocArray.from_triples(rows, cols, vals, domain=dom)


def write_network(folder: str | os.PathLike, net: SparseDNN, *, inputs: AssocArray | None = None,
                  expected: AssocArray | None = None, meta: dict | None = None) -> Path:
    """Write a network (and optionally its inputs and expected outputs) as a folder.

    Returns the folder's path. An existing folder of that name is replaced only once the new
    one is complete.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["1/2"])
    >>> d = write_network(pathlib.Path(tempfile.mkdtemp()) / "net", c.net, inputs=c.inputs)
    >>> sorted(p.name for p in d.iterdir())
    ['W0.tsv', 'b0.tsv', 'inputs.tsv', 'network.json']
    >>> net, info = read_network(d)
    >>> net.layers[0].bias == c.net.layers[0].bias, info["inputs"].isequal(c.inputs)
    (True, True)
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    keys: list = list(net.inputs)
    for ly in net.layers:
        keys.extend(ly.outputs)
    if inputs is not None:
        keys.extend(inputs.col())
    mode = _mode(keys)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
    try:
        layers = []
        for lnum, ly in enumerate(net.layers):
            _write_triples(tmp / f"W{lnum}.tsv", ly.W, mode)
            with open(tmp / f"b{lnum}.tsv", "w", encoding="utf-8", newline="\n") as fh:
                for k in ly.outputs:
                    if k in ly.bias:
                        fh.write(f"{_enc(k, mode)}\t{net.domain.format(ly.bias[k])}\n")
            layers.append({"weights": f"W{lnum}.tsv", "bias": f"b{lnum}.tsv",
                           "beta": None if ly.beta is None else str(ly.beta),
                           "neurons": [_enc(k, mode) for k in ly.outputs]})
        doc = {
            "format": FORMAT, "domain": net.domain.name, "convention": net.convention,
            "bias_rule": net.bias_rule, "ymax": None if net.ymax is None else str(net.ymax),
            "keys": mode, "inputs_neurons": [_enc(k, mode) for k in net.inputs],
            "layers": layers, "meta": meta or {},
        }
        if inputs is not None:
            _write_triples(tmp / "inputs.tsv", inputs, mode)
            doc["inputs"] = "inputs.tsv"
        if expected is not None:
            _write_triples(tmp / "expected.tsv", expected, mode)
            doc["expected"] = "expected.tsv"
        with open(tmp / "network.json", "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
            fh.write("\n")
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def read_network(folder: str | os.PathLike) -> tuple[SparseDNN, dict]:
    """Read a network folder: ``(net, info)`` with ``info`` holding ``inputs`` and ``expected``
    (AssocArrays or None) and ``meta``.

    Raises
    ------
    ParseError
        For a missing or malformed ``network.json`` or data file (naming file and line).
    """
    folder = Path(folder)
    spec = folder / "network.json"
    try:
        doc = json.loads(spec.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}", path=str(spec)) from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"not JSON: {exc.msg}", path=str(spec), line=exc.lineno) from None
    if doc.get("format") != FORMAT:
        raise ParseError(f"format is {doc.get('format')!r}, expected {FORMAT!r}",
                         path=str(spec))
    mode, domain = doc["keys"], doc["domain"]
    dom = get_domain(domain)
    Ws, biases, betas = [], [], []
    neurons = [[_dec(k, mode) for k in doc["inputs_neurons"]]]
    for ly in doc["layers"]:
        Ws.append(_read_triples(folder / ly["weights"], mode, domain))
        bias = {}
        bpath = folder / ly["bias"]
        try:
            text = bpath.read_text(encoding="utf-8")
        except OSError as exc:
            raise ParseError(f"cannot read: {exc.strerror}", path=str(bpath)) from None
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                raise ParseError("expected neuron<TAB>value", path=str(bpath), line=lineno)
            bias[_dec(parts[0], mode)] = dom.convert(parts[1])
        biases.append(bias)
        betas.append(ly.get("beta"))
        neurons.append([_dec(k, mode) for k in ly["neurons"]])
    net = SparseDNN.from_layers(Ws, biases, betas=betas, convention=doc["convention"],
                                bias_rule=doc["bias_rule"], ymax=doc["ymax"], domain=domain,
                                neurons=neurons)
    info = {"meta": doc.get("meta", {}), "inputs": None, "expected": None}
    for name in ("inputs", "expected"):
        if doc.get(name):
            info[name] = _read_triples(folder / doc[name], mode, domain)
    return net, info
