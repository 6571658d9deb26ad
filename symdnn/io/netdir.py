"""The network folder written by ``symdnn build`` and read by ``verify``, ``threshold``,
``audit`` and ``suite``.

Layout::

    network.json      what built it, convention, bias rule, cap, key encoding, per-layer files
    W0.tsv ...        weights, one ``row<TAB>col<TAB>value`` line per entry (exact: "p/q")
    b0.tsv ...        biases, ``neuron<TAB>value``
    B0.tsv ...        a full bias B_l (a value per neuron and input), in the network's
                      convention (``neuron<TAB>input<TAB>value`` in the column convention,
                      ``input<TAB>neuron<TAB>value`` in the row one), for the layers that have
                      one (their ``full_bias`` in ``network.json``; the format is then
                      ``symdnn-network/2``, which older readers refuse instead of misreading)
    inputs.tsv        the model problem's inputs Y0 (features x categories), when known
    expected.tsv      the expected Y_L, when known

Keys are written as text when they are strings, else as JSON (tuples become lists); the key
encoding is recorded in ``network.json``. The folder is written to a temporary sibling and
renamed into place, so a failure never leaves a half-written network.

This module reads a folder into plain parts (:func:`read_network_parts`); building the network
from them is :func:`symdnn.network.read_network`'s job, as ``network`` sits above ``io``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from symdnn.assoc import AssocArray
from symdnn.domains import get_domain
from symdnn.errors import ParseError, SymdnnError
from symdnn.io.outputs import output_folder
from symdnn.io.text import domain_value, read_text, tsv_lines, unique_pairs

__all__ = ["write_network", "read_network_parts", "FORMAT", "FORMAT_FULL_BIAS"]

FORMAT = "symdnn-network/1"
#: The format of a folder with a full bias ``B_l`` in some layer (``full_bias`` files).
FORMAT_FULL_BIAS = "symdnn-network/2"


def _enc(key: Any, mode: str) -> str:
    if mode == "str":
        return key
    return json.dumps(list(key) if isinstance(key, tuple) else key, separators=(",", ":"))


def _dec(text: str, mode: str) -> Any:
    """The key a text field encodes; ParseError (with a message) for one that is not a key."""
    if mode == "str":
        return text
    try:
        raw = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ParseError("a key nested too deeply") from None
    except ValueError as exc:
        raise ParseError(f"{text[:40]!r} is not a JSON key: {exc}") from None

    def tup(v: Any, depth: int = 0) -> Any:
        if isinstance(v, list):
            return tuple(tup(x, depth + 1) for x in v)
        if isinstance(v, str | int | float | bool) and depth < 100:
            return v
        raise ParseError(f"{text[:40]!r}: a key is a string, a number or a list of them")
    return tup(raw)


def _no_constant(name: str) -> Any:
    raise ParseError(f"{name} is not allowed")


def _mode(keys: list) -> str:
    return "str" if all(isinstance(k, str) and "\t" not in k and "\n" not in k
                        for k in keys) else "json"


def _write_triples(path: Path, A: AssocArray, mode: str) -> None:
    dom = A.domain
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for r, c, v in A.triples():
            fh.write(f"{_enc(r, mode)}\t{_enc(c, mode)}\t{dom.format(v)}\n")


def _read_triples(path: Path, mode: str, domain: str, *, rows: set | None = None,
                  cols: set | None = None, what: str = "") -> AssocArray:
    """Read ``row<TAB>col<TAB>value`` lines strictly; keys outside ``rows``/``cols`` (when
    given) and repeated (row, col) pairs are errors naming the line."""
    dom = get_domain(domain)
    where = str(path)
    rr, cc, vals = [], [], []
    seen: dict = {}
    for lineno, parts in tsv_lines(where, 3):
        try:
            r, c = _dec(parts[0], mode), _dec(parts[1], mode)
        except ValueError as exc:
            raise ParseError(f"bad key: {exc}", path=where, line=lineno) from None
        try:
            v = domain_value(dom, parts[2])
        except ValueError as exc:
            raise ParseError(f"bad value: {exc}", path=where, line=lineno) from None
        for key, allowed, axis in ((r, rows, "row"), (c, cols, "column")):
            if allowed is not None and key not in allowed:
                raise ParseError(f"{axis} key {key!r} is not among the declared {what} "
                                 "(network.json)", path=where, line=lineno)
        if (r, c) in seen:
            raise ParseError(f"repeated entry ({r!r}, {c!r}), first on line {seen[r, c]}",
                             path=where, line=lineno)
        seen[r, c] = lineno
        rr.append(r)
        cc.append(c)
        vals.append(v)
    try:
        return AssocArray.from_triples(rr, cc, vals, domain=dom)
    except SymdnnError as exc:
        raise ParseError(str(exc), path=where) from None


def _read_bias(path: Path, mode: str, dom: Any, outputs: set, lnum: int) -> dict:
    where = str(path)
    bias: dict = {}
    seen: dict = {}
    for lineno, parts in tsv_lines(where, 2, describe="neuron<TAB>value"):
        try:
            k = _dec(parts[0], mode)
        except ValueError as exc:
            raise ParseError(f"bad key: {exc}", path=where, line=lineno) from None
        if k not in outputs:
            raise ParseError(f"a bias for neuron {k!r}, which layer {lnum} does not declare "
                             "(network.json)", path=where, line=lineno)
        if k in seen:
            raise ParseError(f"repeated bias for neuron {k!r}, first on line {seen[k]}",
                             path=where, line=lineno)
        try:
            bias[k] = domain_value(dom, parts[1])
        except ValueError as exc:
            raise ParseError(f"bad value: {exc}", path=where, line=lineno) from None
        seen[k] = lineno
    return bias


def write_network(folder: str | os.PathLike, net: Any, *, inputs: AssocArray | None = None,
                  expected: AssocArray | None = None, meta: dict | None = None,
                  force: bool = False) -> Path:
    """Write a network (a :class:`~symdnn.network.SparseDNN`, and optionally its inputs and
    expected outputs) as a folder.

    Returns the folder's path. The folder must be absent or empty, or hold an earlier network
    written by symdnn (replaced only with ``force=True``, once the new one is complete); see
    :func:`symdnn.io.outputs.output_folder`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["1/2"])
    >>> d = write_network(pathlib.Path(tempfile.mkdtemp()) / "net", c.net, inputs=c.inputs)
    >>> sorted(p.name for p in d.iterdir())
    ['.symdnn-output.json', 'W0.tsv', 'b0.tsv', 'inputs.tsv', 'network.json']
    >>> from symdnn.network import read_network
    >>> net, info = read_network(d)
    >>> net.layers[0].bias == c.net.layers[0].bias, info["inputs"].isequal(c.inputs)
    (True, True)
    """
    folder = Path(folder)
    keys: list = list(net.inputs)
    for ly in net.layers:
        keys.extend(ly.outputs)
        if ly.B is not None:
            keys.extend(ly.B.col() if net.convention == "column" else ly.B.row())
    if inputs is not None:
        keys.extend(inputs.col())
    mode = _mode(keys)
    with output_folder(folder, "network", force=force) as tmp:
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
            if ly.B is not None:
                _write_triples(tmp / f"B{lnum}.tsv", ly.B, mode)
                layers[-1]["full_bias"] = f"B{lnum}.tsv"
        full = any(ly.B is not None for ly in net.layers)
        doc = {
            "format": FORMAT_FULL_BIAS if full else FORMAT, "domain": net.domain.name,
            "convention": net.convention,
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
    return folder


class _Spec:
    """Typed access to ``network.json``: every missing key or wrong type is a ParseError
    naming the file and the key."""

    def __init__(self, path: Path):
        self.path = str(path)

    def error(self, key: str, msg: str) -> ParseError:
        return ParseError(f"key {key!r}: {msg}", path=self.path)

    def get(self, d: dict, key: str, types: tuple, *, where: str = "",
            optional: bool = False, desc: str = "") -> Any:
        name = f"{where}{key}"
        if key not in d:
            if optional:
                return None
            raise ParseError(f"missing key {name!r}", path=self.path)
        v = d[key]
        if v is None and optional:
            return None
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            want = desc or " or ".join(t.__name__ for t in types)
            raise self.error(name, f"must be {want}, not {json.dumps(v)[:40]}")
        return v

    def keys(self, d: dict, key: str, mode: str, *, where: str = "") -> list:
        raw = self.get(d, key, (list,), where=where, desc="a list of encoded keys")
        out, seen = [], set()
        for i, k in enumerate(raw):
            name = f"{where}{key}[{i}]"
            if not isinstance(k, str):
                raise self.error(name, f"must be a string, not {json.dumps(k)[:40]}")
            try:
                dk = _dec(k, mode)
            except ValueError as exc:
                raise self.error(name, str(exc)) from None
            if dk in seen:
                raise self.error(name, f"repeated neuron {dk!r}")
            seen.add(dk)
            out.append(dk)
        return out

    def member(self, folder: Path, d: dict, key: str, *, where: str = "",
               optional: bool = False) -> Path | None:
        name = self.get(d, key, (str,), where=where, optional=optional, desc="a file name")
        if name is None or (optional and name == ""):
            return None
        if name in ("", ".", "..") or any(ch in name for ch in "/\\\0"):
            raise self.error(f"{where}{key}", f"must name a file in the folder, not {name!r}")
        return folder / name

    def number(self, dom: Any, d: dict, key: str, *, where: str = "") -> Any:
        v = self.get(d, key, (str, int), where=where, optional=True,
                     desc="an exact number (a string such as \"32\" or \"1/2\")")
        if v is None:
            return None
        try:
            return domain_value(dom, str(v))
        except ValueError as exc:
            raise self.error(f"{where}{key}", f"not an exact number: {exc}") from None


def _load_json(spec: Path) -> Any:
    text = read_text(str(spec))
    try:
        return json.loads(text, object_pairs_hook=unique_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not JSON: {exc.msg}", path=str(spec), line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"not valid JSON: {exc or 'nested too deeply'}",
                         path=str(spec)) from None


def read_network_parts(folder: str | os.PathLike) -> tuple[dict, dict]:
    """Read a network folder as plain parts: ``(parts, info)``, with ``parts`` the keyword
    arguments of :meth:`SparseDNN.from_layers <symdnn.network.SparseDNN.from_layers>` and
    ``info`` holding ``inputs`` and ``expected`` (AssocArrays or None) and ``meta``.
    :func:`symdnn.network.read_network` builds the network from them.

    A layer's bias is a dict ``{neuron: value}``, or, for a layer with a full bias
    (``full_bias``), the AssocArray ``B_l``: :func:`symdnn.network.read_network` passes it
    on as a :class:`~symdnn.network.FullBias`, since a plain AssocArray over one input
    would read as a bias per neuron.

    Reading policy: ``network.json`` must be UTF-8 JSON (no repeated keys, no NaN/Infinity)
    with every key of the layout and its type (``format``, ``domain``, ``convention``,
    ``bias_rule``, ``keys``, ``ymax``, ``inputs_neurons``, ``layers`` with ``weights``,
    ``bias``, ``beta``, ``neurons``); ``ymax`` and ``beta`` are exact numbers of the domain
    (or null); file names are plain names inside the folder. Data files are UTF-8 lines of
    exactly 3 (weights, inputs, expected) or 2 (bias) tab-separated fields; values are finite
    elements of the domain (exact decimals or ``p/q``; see
    :func:`symdnn.io.text.domain_value`); keys are the declared neurons of their layer (a
    bias or weight for an undeclared neuron is an error), and a repeated entry or bias is an
    error naming both lines.

    Raises
    ------
    ParseError
        For a missing or malformed ``network.json`` (naming the file and the key) or data
        file (naming the file and line).
    """
    folder = Path(folder)
    spec = folder / "network.json"
    doc = _load_json(spec)
    S = _Spec(spec)
    if not isinstance(doc, dict):
        raise ParseError("must hold a JSON object", path=str(spec))
    fmt = S.get(doc, "format", (str,))
    if fmt not in (FORMAT, FORMAT_FULL_BIAS):
        raise ParseError(f"format is {fmt!r}, expected {FORMAT!r} or {FORMAT_FULL_BIAS!r}",
                         path=str(spec))
    domain = S.get(doc, "domain", (str,))
    try:
        dom = get_domain(domain)
    except SymdnnError as exc:
        raise S.error("domain", str(exc)) from None
    convention = S.get(doc, "convention", (str,))
    if convention not in ("column", "row"):
        raise S.error("convention", f"must be 'column' or 'row', not {convention!r}")
    bias_rule = S.get(doc, "bias_rule", (str,))
    if bias_rule not in ("all", "nonzero"):
        raise S.error("bias_rule", f"must be 'all' or 'nonzero', not {bias_rule!r}")
    mode = S.get(doc, "keys", (str,))
    if mode not in ("str", "json"):
        raise S.error("keys", f"must be 'str' or 'json', not {mode!r}")
    if "ymax" not in doc:
        raise ParseError("missing key 'ymax'", path=str(spec))
    ymax = S.number(dom, doc, "ymax")
    meta = S.get(doc, "meta", (dict,), optional=True) or {}
    layers = S.get(doc, "layers", (list,), desc="a list of layers")
    if not layers:
        raise S.error("layers", "a network needs at least one layer")
    neurons = [S.keys(doc, "inputs_neurons", mode)]
    Ws, biases, betas = [], [], []
    for lnum, ly in enumerate(layers):
        where = f"layers[{lnum}]."
        if not isinstance(ly, dict):
            raise S.error(f"layers[{lnum}]", f"must be an object, not {json.dumps(ly)[:40]}")
        outs = S.keys(ly, "neurons", mode, where=where)
        neurons.append(outs)
        ins_set, outs_set = set(neurons[lnum]), set(outs)
        wpath = S.member(folder, ly, "weights", where=where)
        bpath = S.member(folder, ly, "bias", where=where)
        if "beta" not in ly:
            raise ParseError(f"missing key '{where}beta'", path=str(spec))
        betas.append(S.number(dom, ly, "beta", where=where))
        rows, cols = (outs_set, ins_set) if convention == "column" else (ins_set, outs_set)
        Ws.append(_read_triples(wpath, mode, domain, rows=rows, cols=cols,
                                what=f"neurons of layer {lnum}"))
        bias = _read_bias(bpath, mode, dom, outs_set, lnum)
        if "full_bias" in ly:
            if fmt != FORMAT_FULL_BIAS:
                raise S.error(f"{where}full_bias", f"needs format {FORMAT_FULL_BIAS!r}")
            Bpath = S.member(folder, ly, "full_bias", where=where)
            if bias:
                raise S.error(f"{where}full_bias", "a layer has a bias per neuron or a full "
                              "bias, not both")
            rows, cols = (outs_set, None) if convention == "column" else (None, outs_set)
            bias = _read_triples(Bpath, mode, domain, rows=rows, cols=cols,
                                 what=f"neurons of layer {lnum}")
        biases.append(bias)
    info = {"meta": meta, "inputs": None, "expected": None}
    for name, keys in (("inputs", set(neurons[0])), ("expected", set(neurons[-1]))):
        p = S.member(folder, doc, name, optional=True)
        if p is None:
            continue
        rows, cols = (keys, None) if convention == "column" else (None, keys)
        info[name] = _read_triples(p, mode, domain, rows=rows, cols=cols,
                                   what="input features" if name == "inputs"
                                   else "output neurons")
    parts = {"weights": Ws, "biases": biases, "betas": betas, "convention": convention,
             "bias_rule": bias_rule, "ymax": ymax, "domain": domain, "neurons": neurons}
    return parts, info
