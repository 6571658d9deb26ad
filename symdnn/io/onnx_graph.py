"""ONNX graphs of feed-forward ReLU networks, validated, imported and evaluated exactly.

:func:`import_onnx` reads a model with the pure-Python decoder of :mod:`symdnn.io.onnxwire`,
checks every node against the operator registry of :mod:`symdnn.io.onnx_ops`, and returns an
:class:`ExactGraph`: the graph validated (operator sets, opsets, attributes, arity, wire types,
sizes before anything is allocated, names that would be ambiguous), which evaluates it in
exact rational arithmetic: every float initializer is the dyadic rational it stores, every
input the exact number it is given, and every operator is its real-number meaning (``Cast``
and ``CastLike`` into a float type round, correctly, as a cast must). A tensor is an
:class:`~symdnn.io.onnx_tensor.Exact`: an array of Python integers over one common positive
denominator, so a layer is one integer matrix product.

Operators (the default domain): ``MatMul`` (the weight on either side, any broadcast batch),
``Gemm`` (``alpha``, ``beta``, ``transA``, ``transB``), ``Add``, ``Sub``, ``Mul``, ``Div``
(floats), ``Relu``, ``Clip`` (bounds as inputs or, before opset 11, attributes), ``Sum``,
``Max``, ``Min``, ``Less``, ``Where``, ``Flatten``, ``Reshape``, ``Squeeze``, ``Unsqueeze``,
``Identity``, ``Constant``, ``Cast``, ``CastLike``. Anything else, an attribute an operator
does not take, or a shape that does not fit, is a :class:`~symdnn.errors.SymdnnError` naming
the node.

Examples
--------
>>> g = import_onnx(TEST_NANO)  # tests/data/vnncomp/benchmarks/test/test_nano.onnx
>>> g.input_names, g.input_shape, g.ops
(['model_in'], (1,), ['MatMul', 'Relu'])
>>> g([Fraction(1, 10)]).fractions()
[Fraction(1, 20)]
"""

from __future__ import annotations

import math
from fractions import Fraction  # noqa: F401  (the examples use it)
from typing import Any

import numpy as np

from symdnn.errors import GraphError, ValueDependentError
from symdnn.io.onnx_ops import MAX_OPSET, OPERATORS, OpRun, check_node
from symdnn.io.onnx_tensor import (
    MAX_ELEMENTS,
    MAX_LIVE,
    Exact,
    check_bits,
    check_size,
    const_of,
    exact_tensor,
)
from symdnn.io.onnxwire import ELEM_TYPES, Model, read_model, type_name

__all__ = ["OnnxGraph", "ExactGraph", "import_onnx"]


class OnnxGraph:
    """A model's graph, validated: every node an operator of the registry in the model's opset
    (its attributes, kinds and arity checked), one named output per node, no name written
    twice or over an input or initializer, every value read computed somewhere, a declared
    input of a supported type and size. No tensor is converted or evaluated.

    Parameters
    ----------
    model : Model
        What :func:`symdnn.io.onnxwire.read_model` read.
    ordered : bool
        Whether every node must come after the nodes it reads (ONNX's rule, and what
        :class:`ExactGraph` evaluates); ``False`` leaves the order to a reader that follows
        the data, as :func:`symdnn.audit.foreign.read_onnx` does.

    Attributes
    ----------
    model : Model
    nodes : list of Node
        The nodes, in file order.
    initializers : dict
        Name -> :class:`~symdnn.io.onnxwire.TensorData`.
    inputs, outputs : list of ValueInfo
        The runtime inputs (graph inputs without an initializer) and the outputs.
    input_names, output_names : list of str
    runs : list of type
        The :class:`~symdnn.io.onnx_ops.OpRun` class that evaluates each node.

    Raises
    ------
    GraphError
        Naming the node, for anything above.
    """

    def __init__(self, model: Model, *, ordered: bool = True):
        self.model = model
        self.opset = model.opset
        g = model.graph
        self.path = model.path
        self.nodes = list(g.nodes)
        self.initializers = g.initializers
        self.inputs = [v for v in g.inputs if v.name not in g.initializers]
        self.outputs = list(g.outputs)
        self.input_names = [v.name for v in self.inputs]
        self.output_names = [v.name for v in self.outputs]
        self.ops = [n.op_type for n in g.nodes]
        self._validate(ordered)

    def _validate(self, ordered: bool) -> None:
        g = self.model.graph
        if self.model.has_functions and any(n.op_type not in OPERATORS for n in g.nodes):
            raise GraphError("the model defines local functions, which are not supported")
        if not self.inputs:
            raise GraphError("the graph has no runtime input")
        if not self.outputs:
            raise GraphError("the graph has no output")
        if not 1 <= self.opset <= MAX_OPSET:
            raise GraphError(f"opset {self.opset} of the default domain is not supported "
                             f"(1 to {MAX_OPSET})")
        known = set(self.initializers) | set(self.input_names)
        runs: list[type[OpRun]] = []
        if len(known) != len(self.initializers) + len(self.input_names):
            raise GraphError("a graph input has the name of an initializer twice over")
        for node in g.nodes:
            if node.domain not in ("", "ai.onnx"):
                raise GraphError(f"{node.label}: operator {node.domain}.{node.op_type} is not "
                                 "supported (only the default domain)")
            if node.op_type not in OPERATORS:
                raise GraphError(f"{node.label}: operator {node.op_type} is not supported "
                                 f"(supported: {', '.join(sorted(OPERATORS))})")
            runs.append(check_node(node, self.opset))
            for name in node.inputs if ordered else ():
                if name and name not in known:
                    raise GraphError(f"{node.label}: input {name!r} is not computed before "
                                     "it (nodes must be in topological order)")
            lo, hi = runs[-1].n_outputs
            if not lo <= len(node.outputs) <= hi or not node.outputs[0]:
                raise GraphError(f"{node.label}: {len(node.outputs)} outputs, the first "
                                 f"{'named' if node.outputs and node.outputs[0] else 'unnamed'}"
                                 f" ({node.op_type} writes {lo if lo == hi else f'{lo} to {hi}'}"
                                 ", the first named)")
            for out in filter(None, node.outputs):
                if out in known:
                    raise GraphError(f"{node.label}: its output {out!r} is already the name "
                                     "of an input, an initializer or another output")
                known.add(out)
        for node in () if ordered else g.nodes:
            for name in node.inputs:
                if name and name not in known:
                    raise GraphError(f"{node.label}: input {name!r} is never computed")
        for v in self.outputs:
            if v.name not in known:
                raise GraphError(f"graph output {v.name!r} is never computed")
        for v in self.inputs:
            if v.elem_type is not None and v.elem_type not in ELEM_TYPES:
                raise GraphError(f"input {v.name!r} has type {type_name(v.elem_type)}, which is "
                                 "not supported")
            if v.shape is not None:
                check_size(self.shape_of(v.name), f"input {v.name!r}")
        last: dict[str, int] = {}
        for i, node in enumerate(g.nodes):
            for name in node.inputs:
                last[name] = i
        self._last_use = last
        self.runs = runs

    def shape_of(self, name: str) -> tuple[int, ...]:
        """The declared shape of an input, symbolic or missing dimensions taken as 1."""
        v = self.inputs[self.input_names.index(name)]
        if v.shape is None:
            raise GraphError(f"input {name!r} has no declared shape")
        return tuple(d if isinstance(d, int) and d > 0 else 1 for d in v.shape)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.shape_of(self.input_names[0])

    def elem_of(self, name: str) -> int:
        v = self.inputs[self.input_names.index(name)]
        return v.elem_type if v.elem_type is not None else 1


class ExactGraph(OnnxGraph):
    """An imported ONNX graph, validated (:class:`OnnxGraph`, nodes in topological order) and
    evaluated exactly (see :func:`import_onnx`).

    Attributes
    ----------
    model : Model
        What the decoder read.
    consts : dict
        Initializer name -> its exact value.
    input_names, output_names : list of str
        The runtime inputs (graph inputs without an initializer) and the outputs.
    input_shape : tuple of int
        The shape of the first input, a symbolic or missing dimension taken as 1 (as VNN-COMP
        does).
    """

    def __init__(self, model: Model):
        self.consts = {n: const_of(t, f"initializer {n!r}")
                       for n, t in model.graph.initializers.items()}
        super().__init__(model)

    def run(self, feeds: dict[str, Any]) -> dict[str, Exact]:
        """Evaluate the graph exactly.

        Parameters
        ----------
        feeds : dict
            Input name -> its value: an :class:`Exact`, a NumPy array, or (nested) lists of
            exact numbers. A flat list of the right length is reshaped to the input's shape.

        Returns
        -------
        dict
            Output name -> :class:`Exact`.
        """
        try:
            return self._run(feeds)
        except GraphError as exc:
            if self.path is None:
                raise
            raise type(exc)(f"{self.path}: {exc}") from None

    def _run(self, feeds: dict[str, Any]) -> dict[str, Exact]:
        missing = [n for n in self.input_names if n not in feeds]
        if missing:
            raise GraphError(f"no value for input {missing[0]!r}")
        env: dict[str, Exact] = dict(self.consts)
        for name in self.input_names:
            env[name] = self._feed(name, feeds[name])
        keep = set(self.output_names) | set(self.consts)
        live = sum(t.num.size for t in env.values())
        for i, (node, op) in enumerate(zip(self.nodes, self.runs, strict=True)):
            res = op.run(node, [env[n] if n else None for n in node.inputs])
            for name, out in zip(node.outputs, res if isinstance(res, tuple) else (res,),
                                 strict=False):
                if not name:  # an optional output the graph leaves out
                    continue
                check_size(out.shape, node)
                check_bits(out, node.label)
                env[name] = out
                live += out.num.size
            for name in set(node.inputs) | set(node.outputs):  # free what no later node reads
                if name and self._last_use.get(name, -1) <= i and name not in keep \
                        and name in env:
                    live -= env.pop(name).num.size
            if live > MAX_LIVE:
                raise GraphError(f"{node.label}: the tensors alive hold more than {MAX_LIVE} "
                                 "elements")
        return {n: env[n] for n in self.output_names}

    def _feed(self, name: str, value: Any) -> Exact:
        elem = self.elem_of(name)
        if not isinstance(value, Exact):
            size = np.size(value) if isinstance(value, np.ndarray) else None
            if size is not None and size > MAX_ELEMENTS:
                raise GraphError(f"input {name!r}: {size} values, more than {MAX_ELEMENTS}")
        t = value if isinstance(value, Exact) else exact_tensor(value, elem)
        check_bits(t, f"input {name!r}")
        t = Exact(t.num, t.den, elem)
        v = self.inputs[self.input_names.index(name)]
        if v.shape is not None:
            shape = self.shape_of(name)
            if t.shape != shape:
                if math.prod(t.shape) != math.prod(shape):
                    raise GraphError(f"input {name!r}: {math.prod(t.shape)} values, its shape "
                                     f"{shape} holds {math.prod(shape)}")
                t = Exact(t.num.reshape(shape), t.den, elem)
        return t

    def __call__(self, x: Any) -> Exact:
        """The first output at ``x`` (the first input, or a dict of inputs)."""
        feeds = x if isinstance(x, dict) else {self.input_names[0]: x}
        return self.run(feeds)[self.output_names[0]]


def import_onnx(path: Any) -> ExactGraph:
    """Import an ONNX model for exact evaluation.

    The file is decoded in pure Python (:func:`symdnn.io.onnxwire.read_model`; no C parser
    sees it), every node is checked, and the graph is run once on zeros so that a shape that
    does not fit is found now, naming its node.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.onnx`` file, optionally gzipped.

    Returns
    -------
    ExactGraph

    Raises
    ------
    ParseError
        A malformed file.
    GraphError
        An operator, attribute, type or shape it does not support, naming the node.

    Examples
    --------
    >>> # ACASXU_1_1: tests/data/vnncomp/benchmarks/acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx.gz
    >>> g = import_onnx(ACASXU_1_1)
    >>> g.input_shape, g.ops.count("MatMul"), g.ops.count("Relu")
    ((1, 1, 1, 5), 7, 6)
    """
    model = read_model(path)
    try:
        g = ExactGraph(model)
    except GraphError as exc:
        raise GraphError(f"{path}: {exc}") from None
    if all(v.shape is not None for v in g.inputs):
        try:
            outs = g.run({n: np.zeros(g.shape_of(n), dtype=np.int64) for n in g.input_names})
        except ValueDependentError:  # zeros are not the values it will see: no verdict
            return g
        for v in g.outputs:
            if v.elem_type is not None and v.elem_type != outs[v.name].elem:
                raise GraphError(f"{path}: output {v.name!r} is declared "
                                 f"{type_name(v.elem_type)} but computes "
                                 f"{type_name(outs[v.name].elem)}")
    return g
