"""Whole networks in ONNX, for the audit and beside it:

* :func:`read_onnx`: an ONNX graph of MatMul/Gemm, Add, Relu and Clip layers read into a
  :class:`~symdnn.SparseDNN` *exactly* (every float weight becomes the dyadic rational it is);
  :func:`write_onnx`: the reverse, the weights rounded once, correctly, into float32 or
  float64; :func:`onnx_network`: the model run by onnxruntime, as a whole-network callable for
  :meth:`symdnn.audit.Run.network_callable`.

:func:`read_onnx` decodes the file in pure Python and needs neither onnx nor onnxruntime;
:func:`write_onnx` and :func:`onnx_network` import them lazily
(:func:`symdnn._optional.require`), and a missing one raises
:class:`~symdnn.errors.MissingDependency` naming the package to install. Re-exported by
:mod:`symdnn.audit.foreign`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn._optional import require
from symdnn.assoc import AssocArray
from symdnn.domains import QQ, round_exact, round_values
from symdnn.errors import ArgumentError, SymdnnError
from symdnn.io.onnx_graph import OnnxGraph
from symdnn.io.onnxwire import read_model, to_onnx_proto
from symdnn.io.outputs import atomic_write
from symdnn.network import SparseDNN

__all__ = ["read_onnx", "write_onnx", "onnx_network"]


def read_onnx(path: str, *, bias_rule: str = "all") -> Any:
    """Read an ONNX model of dense ReLU layers into an exact :class:`~symdnn.SparseDNN`.

    The graph is matched as it is connected, not in file order: from its one input (the
    graph inputs that are not initializers) the data must flow through every node, each
    node reading the value the previous one wrote and nothing else that is not an
    initializer, no value feeding two nodes, to the one graph output. Along that chain,
    every layer is::

        MatMul(x, W) | Gemm(x, W[, C])     the weights (Gemm: transB honoured)
        Add(., b) | Add(b, .)  (any number) the bias: C and every b, summed exactly
        Relu | Clip  (one or more)          the activation

    ``W`` is a float matrix, ``C`` and ``b`` are floats broadcast along the layer's outputs
    (shape ``()``, ``(1,)``, ``(n,)``, ``(1, 1)`` or ``(1, n)``), and every weight, bias and
    bound an initializer of finite values. Each becomes the dyadic rational it is; the biases
    of one layer are summed as rationals. Zero weights and biases are not stored. Neurons are
    keyed ``(layer, index)``, the inputs ``(0, index)``; the network uses the row convention
    ``Y W`` and ``bias_rule``.

    symdnn's activation is ``min(max(z, 0), YMAX)`` on every layer, with one ``YMAX`` (or
    none) for the whole network, so the activations of a layer must come to exactly that:
    ``Relu`` is ``[0, +inf)``, ``Clip(min, max)`` is ``[min, max]`` (bounds as inputs, or as
    attributes before opset 11; an absent bound is unbounded), and a run of them composes
    exactly into the intersection of their intervals (``Relu`` then ``Clip(max=6)`` is
    ``[0, 6]``). That interval must start at 0, and every layer must end at the same cap.

    The file is decoded in pure Python (:func:`symdnn.io.onnxwire.read_model`): no C parser
    sees it, and the ``onnx`` package is not needed. The graph is validated as the witness
    referee validates it (:class:`symdnn.io.onnx_graph.OnnxGraph`: each operator's attributes
    and inputs in the model's opset, one output per node, no name written twice), then matched
    as above. For any other feed-forward graph, see :func:`symdnn.witness.import_onnx`.

    Parameters
    ----------
    path : path
        The ``.onnx`` file.
    bias_rule : {"all", "nonzero"}
        The network's bias rule. ONNX's ``Add`` is ``"all"``; ``"nonzero"`` reads the same
        weights into a Graph Challenge network, which computes something else.

    Returns
    -------
    SparseDNN
        One layer per ``MatMul``/``Gemm``, in the domain QQ, ``ymax`` the common cap.

    Raises
    ------
    ParseError
        For a malformed file, naming it.
    SymdnnError
        Naming the node (``node <index> (<op> '<name>')``) or the value at fault, for:

        * an operator outside MatMul, Gemm, Add, Relu and Clip of the default domain, or one
          the graph's validation refuses (an attribute or a number of inputs the operator
          does not take in the model's opset, a node writing other than one value, a value
          written twice or over an input or initializer, a value read that nothing computes:
          a :class:`~symdnn.errors.GraphError`);
        * a graph that is not one chain: not exactly one input and one output, a value read
          by two nodes (a branch) or by none, the graph output read by a node, a node off
          the chain, a value written twice or over an initializer, a node reading the chain's
          value at the wrong operand or twice;
        * a weight, bias or Clip bound that is not an initializer, not float, not finite,
          or of a shape outside the above (a weight whose rows do not match the previous
          layer's outputs or the graph input); ``Gemm`` with ``transA`` or alpha or beta
          other than 1; ``MatMul(W, x)``;
        * a layer with no ``Relu``/``Clip`` after it, the last layer included (symdnn's
          networks apply ReLU on every layer: a linear output layer is refused, never read
          with a ReLU);
        * activations whose interval does not start at exactly 0 (``Clip(min=0.5)``, a
          ``Clip`` with a negative or no lower bound and no ``Relu``) or is empty;
        * layers with different caps (``Clip`` maxima, or a cap on some layers only): symdnn
          has one ``YMAX`` for the whole network.
    """
    model = read_model(path)
    for node in model.graph.nodes:
        if node.op_type not in _ONNX_OPS or node.domain not in ("", "ai.onnx"):
            op = node.op_type if node.domain in ("", "ai.onnx") else \
                f"{node.domain}.{node.op_type}"
            raise SymdnnError(f"{node.label}: operator {op} is not supported "
                              "(MatMul, Gemm, Add, Relu, Clip)")
    # the operators' opsets, attributes and arity, one output per node, no name written
    # twice: validated as the witness referee validates them; the order is the data's
    graph = OnnxGraph(model, ordered=False)
    chain = _onnx_chain(graph)
    layers = _onnx_layers(chain, graph, graph.opset)
    cap, cap_node = layers[0][2], layers[0][3]
    for l, (_, _, hi, node) in enumerate(layers):
        if (hi is None) != (cap is None) or hi != cap:
            def say(c: Any) -> str:
                return "no cap" if c is None else f"the cap {c}"
            raise SymdnnError(
                f"{node.label}: layer {l} has {say(hi)} but layer 0 has {say(cap)} "
                f"({cap_node.label}); symdnn's networks have one cap YMAX for all layers")
    arrays, bias_dicts = [], []
    for l, (W, bias, _, _) in enumerate(layers):
        r, c = np.nonzero(W)
        arrays.append(AssocArray.from_triples(
            [(l, int(i)) for i in r], [(l + 1, int(j)) for j in c], W[r, c], domain="QQ"))
        bias_dicts.append({(l + 1, j): v for j, v in enumerate(bias) if v != 0})
    neurons = [[(0, i) for i in range(layers[0][0].shape[0])]] + \
        [[(l + 1, j) for j in range(W.shape[1])] for l, (W, _, _, _) in enumerate(layers)]
    return SparseDNN.from_layers(arrays, bias_dicts, convention="row", bias_rule=bias_rule,
                                 ymax=cap, domain="QQ", neurons=neurons)


#: the operators :func:`read_onnx` reads
_ONNX_OPS = ("MatMul", "Gemm", "Add", "Relu", "Clip")


def _onnx_chain(graph: Any) -> list:
    """``[(node, x), ...]``: the nodes of the validated ``graph`` (an
    :class:`~symdnn.io.onnx_graph.OnnxGraph`: each node writes one value, no value is written
    twice) in data order, ``x`` the value each reads, checked to form one chain from the
    graph's one input to its one output."""
    consts = graph.initializers
    feeds = [v.name for v in graph.inputs if v.name not in consts]
    if len(feeds) != 1 or len(graph.outputs) != 1:
        raise SymdnnError(
            f"the graph has {len(feeds)} inputs besides its initializers {feeds[:3]} and "
            f"{len(graph.outputs)} outputs; read_onnx reads a chain from one input to one "
            "output")
    x, out = feeds[0], graph.outputs[0].name
    readers: dict[str, list] = {}
    writer: dict[str, Any] = {}
    for node in graph.nodes:
        for name in dict.fromkeys(i for i in node.inputs if i):
            readers.setdefault(name, []).append(node)
        writer[node.outputs[0]] = node
    chain: list = []
    while x != out:
        nxt = readers.get(x, [])
        src = writer[x].label if x in writer else "the graph input"
        if len(nxt) != 1:
            if not nxt:
                raise SymdnnError(f"{src}: its value {x!r} is read by no node and is not the "
                                  f"graph output {out!r}")
            raise SymdnnError(
                f"{src}: its value {x!r} is read by {len(nxt)} nodes "
                f"({', '.join(n.label for n in nxt)}); read_onnx reads a chain, each value "
                "read by the next node only")
        chain.append((nxt[0], x))
        x = [o for o in nxt[0].outputs if o][0]
    if readers.get(out):
        raise SymdnnError(f"{readers[out][0].label}: reads the graph output {out!r}, which "
                          "must be the last value of the chain")
    on = {id(n) for n, _ in chain}
    for node in graph.nodes:
        if id(node) not in on:
            raise SymdnnError(f"{node.label}: not on the chain from the graph input "
                              f"{feeds[0]!r} to the output {out!r}")
    if not chain:
        raise SymdnnError(f"the graph output {out!r} is its input: no layer to read")
    return chain


def _onnx_const(node: Any, name: str, consts: dict, what: str) -> np.ndarray:
    """The initializer ``name`` that ``node`` reads as its ``what``: float, finite."""
    if name not in consts:
        raise SymdnnError(f"{node.label}: its {what} {name!r} is not a constant initializer")
    a = consts[name].array
    if a.dtype.kind != "f" or not np.isfinite(a).all():
        raise SymdnnError(f"{node.label}: its {what} {name!r} must be finite floats, not "
                          f"{'non-finite values' if a.dtype.kind == 'f' else a.dtype}")
    return a


def _onnx_bias(node: Any, a: np.ndarray, n: int, what: str) -> list:
    """The exact values of bias ``a`` broadcast over ``n`` outputs."""
    if a.ndim > 2 or a.size not in (1, n) or (a.ndim == 2 and a.shape[0] != 1):
        raise SymdnnError(f"{node.label}: its {what} has shape {list(a.shape)}, not one value "
                          f"or one per output ({n}) along the last axis")
    vals = [QQ.convert(v) for v in a.reshape(-1).tolist()]  # a float is a dyadic rational
    return vals * n if len(vals) == 1 else vals


def _onnx_bound(node: Any, value: Any) -> Any:
    """A Clip bound as the rational it is, or None when absent."""
    if value is None:
        return None
    a = np.asarray(value)
    if a.size != 1 or a.dtype.kind != "f" or not np.isfinite(a).all():
        raise SymdnnError(f"{node.label}: a Clip bound must be one finite float, not "
                          f"{a.reshape(-1)[:3].tolist()} ({a.dtype})")
    return QQ.convert(a.reshape(-1)[0].item())


def _onnx_layers(chain: list, graph: Any, opset: int) -> list:
    """``[(W, bias, cap, node), ...]`` from the chain: ``W`` inputs x outputs (float64),
    ``bias`` the exact sum per output, ``cap`` the layer's cap (None: none) and ``node`` the
    activation that sets it."""
    consts = graph.initializers
    layers: list = []
    i = 0
    while i < len(chain):
        node, x = chain[i]
        ins = list(node.inputs)
        if node.op_type not in ("MatMul", "Gemm"):
            after = f" after layer {len(layers) - 1}'s activation" if layers else ""
            raise SymdnnError(f"{node.label}: {node.op_type}{after}; a layer starts with MatMul "
                              "or Gemm (MatMul|Gemm, Add*, then Relu or Clip)")
        if ins[0] != x or x in ins[1:]:
            raise SymdnnError(f"{node.label}: reads {x!r} as an operand other than its first "
                              f"(inputs {ins}); read_onnx reads x W, the weight second")
        attrs = {k: a.value for k, a in node.attributes.items()}
        W = _onnx_const(node, ins[1], consts, "weight")
        if node.op_type == "Gemm":
            if attrs.get("alpha", 1.0) != 1 or attrs.get("beta", 1.0) != 1 \
                    or attrs.get("transA", 0):
                raise SymdnnError(f"{node.label}: Gemm alpha/beta other than 1, or transA")
            if attrs.get("transB", 0):
                W = W.T
        if W.ndim != 2:
            raise SymdnnError(f"{node.label}: the weight must be a matrix, not of shape "
                              f"{list(W.shape)}")
        k, n = W.shape
        if layers and layers[-1][0].shape[1] != k:
            raise SymdnnError(f"{node.label}: the weight has {k} rows but the previous layer "
                              f"has {layers[-1][0].shape[1]} outputs")
        bias = [QQ.convert(0)] * n
        if node.op_type == "Gemm" and len(ins) > 2 and ins[2]:
            bias = _onnx_bias(node, _onnx_const(node, ins[2], consts, "bias C"), n, "bias C")
        i += 1
        while i < len(chain) and chain[i][0].op_type == "Add":
            add, x = chain[i]
            other = [v for v in add.inputs if v != x]
            if len(add.inputs) != 2 or len(other) != 1:
                raise SymdnnError(f"{add.label}: Add must read {x!r} and one constant bias")
            b = _onnx_bias(add, _onnx_const(add, other[0], consts, "bias"), n, "bias")
            bias = [u + v for u, v in zip(bias, b, strict=True)]  # rationals: exact
            i += 1
        lo = hi = lo_node = hi_node = None  # the interval [lo, hi] (None: unbounded)
        acts = []
        while i < len(chain) and chain[i][0].op_type in ("Relu", "Clip"):
            act, x = chain[i]
            acts.append(act)
            if act.inputs[0] != x or x in act.inputs[1:]:
                raise SymdnnError(f"{act.label}: must read {x!r} as its first input only")
            if act.op_type == "Relu":
                a, b = QQ.convert(0), None
            else:
                a, b = _onnx_clip_bounds(act, consts, opset)
            if a is not None and (lo is None or a > lo):
                lo, lo_node = a, act
            if b is not None and (hi is None or b < hi):
                hi, hi_node = b, act
            i += 1
        if not acts:
            last = chain[i - 1][0]
            if i == len(chain):
                raise SymdnnError(
                    f"{last.label}: the last layer has no Relu or Clip after it; symdnn's "
                    "networks apply ReLU on every layer, so a linear output layer cannot be "
                    "read")
            raise SymdnnError(
                f"{chain[i][0].label}: starts layer {len(layers) + 1} but layer "
                f"{len(layers)} (ending at {last.label}) has no Relu or Clip; symdnn's "
                "networks apply ReLU on every layer")
        if lo is None:
            raise SymdnnError(f"{acts[-1].label}: the activation of layer {len(layers)} has no "
                              "lower bound; symdnn's activation is ReLU, min(max(z, 0), YMAX)")
        if lo != 0:
            raise SymdnnError(
                f"{lo_node.label}: the activation of layer {len(layers)} starts at {lo}, not "
                "0; symdnn's activation is ReLU, min(max(z, 0), YMAX)")
        if hi is not None and hi < lo:
            raise SymdnnError(f"{hi_node.label}: the activation of layer {len(layers)} is "
                              f"the empty interval [{lo}, {hi}]")
        layers.append((np.asarray(W, dtype=np.float64), bias, hi, hi_node or acts[-1]))
    _onnx_check_ends(graph, layers, chain)
    return layers


def _onnx_clip_bounds(node: Any, consts: dict, opset: int) -> tuple:
    """``(min, max)`` of a Clip, exact, None where absent: inputs from opset 11 on,
    attributes before (the graph's validation has refused any other form)."""
    attrs = {k: a.value for k, a in node.attributes.items()}
    if opset < 11:
        return _onnx_bound(node, attrs.get("min")), _onnx_bound(node, attrs.get("max"))
    names = list(node.inputs[1:]) + ["", ""]
    return tuple(_onnx_bound(node, None if not nm else _onnx_const(node, nm, consts, what))
                 for nm, what in zip(names[:2], ("min", "max"), strict=True))


def _onnx_check_ends(graph: Any, layers: list, chain: list) -> None:
    """Refuse a graph input or output whose declared width differs from the layers'."""
    ends = ((graph.inputs, chain[0][1], layers[0][0].shape[0], "input", chain[0][0]),
            (graph.outputs, graph.outputs[0].name, layers[-1][0].shape[1], "output",
             chain[-1][0]))
    for infos, name, width, what, node in ends:
        info = next(v for v in infos if v.name == name)
        last = info.shape[-1] if info.shape else None
        if isinstance(last, int) and last != width:
            raise SymdnnError(f"{node.label}: the graph {what} {name!r} has {last} features "
                              f"but the layer has {width}")


#: ONNX element types of the formats :func:`write_onnx` writes
_ONNX_FORMATS = {"float32": ("fp32", np.float32, 1), "float64": ("fp64", np.float64, 11)}


def write_onnx(net: Any, path: str | os.PathLike, *, dtype: str = "float32") -> str:
    """Write a :class:`~symdnn.SparseDNN` as an ONNX model of dense layers.

    Every layer becomes ``MatMul(x, W)``, ``Add(., b)`` when it has a bias, then ``Relu``, or
    ``Clip(., 0, ymax)`` when the network has a cap. Each weight, bias and the cap is rounded
    once, correctly, into ``dtype`` (:func:`symdnn.domains.round_values`); a weight that
    rounds to 0 is a 0 of the dense matrix. The input is ``"input"`` of shape
    ``[batch, inputs]`` (batch dynamic), its columns the sorted input neurons; the output is
    ``"output"``, its columns the last layer's sorted output neurons. The file is written
    atomically; :func:`read_onnx` reads it back to the rounded weights exactly.

    Parameters
    ----------
    net : SparseDNN
        A network with ``bias_rule="all"`` and a bias per neuron (not a full ``B_l``), its
        values in an exact or float domain.
    path : path
        The ``.onnx`` file to write (replaced if it exists).
    dtype : {"float32", "float64"}

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    MissingDependency
        If the ``onnx`` package is not installed.
    SymdnnError
        For a network ONNX cannot express faithfully: ``bias_rule="nonzero"`` (``Add`` adds
        to every entry), a full bias ``B_l``, or weights outside a numeric domain.

    Examples
    --------
    >>> import os, tempfile
    >>> from symdnn.assoc import AssocArray
    >>> from symdnn.network import SparseDNN
    >>> W = AssocArray.from_triples(["x", "y"], ["u", "u"], ["1/3", 2], domain="QQ")
    >>> net = SparseDNN.from_layers([W], [{"u": "-1/2"}], convention="row", ymax=32)
    >>> path = write_onnx(net, os.path.join(tempfile.mkdtemp(), "net.onnx"))
    >>> back = read_onnx(path)
    >>> sorted(float(v) for _, _, v in back.layers[0].W.triples())  # 1/3 rounded once
    [0.3333333432674408, 2.0]
    >>> float(back.ymax), [float(v) for v in back.layers[0].bias.values()]
    (32.0, [-0.5])
    """
    onnx = require("onnx", "onnx", what="this adapter", pip="onnx")
    from onnx import helper, numpy_helper

    if dtype not in _ONNX_FORMATS:
        raise ArgumentError(f"dtype must be one of {sorted(_ONNX_FORMATS)}, not {dtype!r}")
    fmt, ndt, elem = _ONNX_FORMATS[dtype]
    if net.bias_rule != "all":
        raise SymdnnError(
            f"write_onnx: the network has bias_rule={net.bias_rule!r}; ONNX Add adds the bias "
            "to every entry, so only bias_rule='all' networks can be written faithfully")
    prev = tuple(net.inputs)
    nodes, inits = [], []
    x = "input"
    if net.ymax is not None:
        inits += [numpy_helper.from_array(np.zeros((), dtype=ndt), "zero"),
                  numpy_helper.from_array(np.asarray(round_exact(net.ymax, fmt), dtype=ndt),
                                          "ymax")]
    for l, layer in enumerate(net.layers):
        if layer.B is not None:
            raise SymdnnError(f"write_onnx: layer {l} has a full bias B_l (a value per input "
                              "and neuron), which an ONNX Add of a vector cannot express")
        W = layer.W if net.convention == "row" else layer.W.T
        try:
            M, rows, cols = W.to_scipy(dtype=ndt)  # one correct rounding per value
        except SymdnnError as exc:
            raise SymdnnError(f"write_onnx: layer {l}: {exc}") from None
        outs = tuple(layer.outputs)
        rpos = {k: i for i, k in enumerate(prev)}
        cpos = {k: j for j, k in enumerate(outs)}
        C = M.tocoo()
        dense = np.zeros((len(prev), len(outs)), dtype=ndt)
        dense[np.array([rpos[rows[i]] for i in C.row], dtype=np.int64),
              np.array([cpos[cols[j]] for j in C.col], dtype=np.int64)] = C.data
        inits.append(numpy_helper.from_array(dense, f"W{l}"))
        nodes.append(helper.make_node("MatMul", [x, f"W{l}"], [f"z{l}"], name=f"layer{l}_matmul"))
        x = f"z{l}"
        if layer.bias:
            b = round_values([layer.bias.get(k, 0) for k in outs], fmt).astype(ndt)
            inits.append(numpy_helper.from_array(b, f"b{l}"))
            nodes.append(helper.make_node("Add", [x, f"b{l}"], [f"zb{l}"], name=f"layer{l}_bias"))
            x = f"zb{l}"
        y = "output" if l == net.depth - 1 else f"y{l}"
        if net.ymax is None:
            nodes.append(helper.make_node("Relu", [x], [y], name=f"layer{l}_relu"))
        else:  # Clip(0, ymax) is the capped ReLU; a Relu before it would be fused by
            # onnxruntime, whose Relu-Clip fusion rejects a float64 'min'
            nodes.append(helper.make_node("Clip", [x, "zero", "ymax"], [y],
                                          name=f"layer{l}_relu_cap"))
        x, prev = y, outs
    graph = helper.make_graph(
        nodes, "symdnn",
        [helper.make_tensor_value_info("input", elem, ["batch", len(net.inputs)])],
        [helper.make_tensor_value_info("output", elem, ["batch", len(prev)])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="symdnn")
    model.ir_version = 7  # the IR of opset 13: readable by runtimes from ONNX 1.8 on
    onnx.checker.check_model(model)
    path = os.fspath(path)
    atomic_write(path, model.SerializeToString())
    return path


def onnx_network(path: str, *, every_layer: bool = False) -> Callable:
    """The model run by onnxruntime, as a whole-network callable ``fn(Y0) -> Y_L`` for
    :meth:`symdnn.audit.Run.network_callable` (the input cast to the model's input type,
    float32 or float64).

    With ``every_layer`` the output of every ``Relu`` and ``Clip`` node is made an output of
    the graph too, so ``fn`` returns ``[Y_1, ..., Y_L]`` as onnxruntime computed them (the
    arrays as onnxruntime returned them) and the audit compares every layer; the model's
    activations must be exactly one ``Relu`` or ``Clip`` per layer.

    Examples
    --------
    >>> import tempfile, os
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["1/2"])
    >>> p = write_onnx(c.net, os.path.join(tempfile.mkdtemp(), "m.onnx"))
    >>> from symdnn.audit import Run, audit_network
    >>> rep = audit_network(c.net, c.inputs, runs=[
    ...     Run.network_callable(onnx_network(p, every_layer=True), "fp32", "ort")])
    >>> js = rep.to_json()["runs"]["ort"]
    >>> js["layers_provided"], js["categories_match_exact"]
    ('all', True)

    Raises
    ------
    MissingDependency
        If onnxruntime (or, with ``every_layer``, onnx) is not installed.
    """
    ort = require("onnxruntime", "onnx", what="this adapter", pip="onnxruntime")
    onnx = require("onnx", "onnx", what="this adapter", pip="onnx")

    # onnxruntime parses bytes written from what the pure-Python decoder read, never the file
    model = to_onnx_proto(read_model(path))
    acts: list[str] = []
    if every_layer:
        outs = {o.name for o in model.graph.output}
        acts = [n.output[0] for n in model.graph.node if n.op_type in ("Relu", "Clip")]
        elem = model.graph.input[0].type.tensor_type.elem_type
        for a in acts:
            if a not in outs:
                model.graph.output.append(onnx.helper.make_tensor_value_info(a, elem, None))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    name = inp.name
    in_dt = np.float64 if inp.type == "tensor(double)" else np.float32

    def fn(Y0: sp.csr_matrix) -> Any:
        X = Y0.toarray().astype(in_dt)  # values of the run's format: the cast is exact
        if every_layer:
            return list(sess.run(acts, {name: X}))
        out = sess.run(None, {name: X})[0]
        return sp.csr_matrix(np.asarray(out, dtype=np.float64))
    return fn
