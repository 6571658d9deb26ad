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
the node. The convolutional and shape operators live in :mod:`symdnn.io.onnx_nn` and
:mod:`symdnn.io.onnx_shape`.

Operators whose values are not rational (``Sigmoid``, ``Tanh``, ``Exp``, ``Sin``, ``Cos``,
``Softmax``, and ``BatchNormalization`` where ``sqrt(var + epsilon)`` is irrational;
:mod:`symdnn.io.onnx_real`) are evaluated only when :meth:`ExactGraph.run` is given a
precision: in certified enclosures (:mod:`symdnn.io.onnx_ball`), every value then a
:class:`~symdnn.io.onnx_ball.Ball` ``lo <= v <= hi`` or still exact. :attr:`ExactGraph.rational`
says whether a graph needs one.

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

from symdnn.errors import GraphError, NotRationalError, ValueDependentError
from symdnn.io import onnx_ball
from symdnn.io.onnx_ball import Ball
from symdnn.io.onnx_ops import MAX_OPSET, OPERATORS, OpRun, check_node
from symdnn.io.onnx_tensor import (
    INT_TYPES,
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

#: the precision of the import's dry run on zeros for a graph that is not rational
DRY_RUN_PREC = 16


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
        Initializer name -> its exact value (and, after :func:`import_onnx`, the values of
        the nodes it folded: see :attr:`folded`).
    folded : list of Node
        The nodes whose outputs do not depend on the inputs' values (``Shape`` arithmetic,
        operators on constants), evaluated once at import and kept as constants.
    input_names, output_names : list of str
        The runtime inputs (graph inputs without an initializer) and the outputs.
    input_shape : tuple of int
        The shape of the first input, a symbolic or missing dimension taken as 1 (as VNN-COMP
        does).
    """

    def __init__(self, model: Model):
        self.consts = {n: const_of(t, f"initializer {n!r}")
                       for n, t in model.graph.initializers.items()}
        self._rational: bool | None = None
        #: the nodes :func:`import_onnx` folded into constants (they do not run again)
        self.folded: list = []
        super().__init__(model)

    @property
    def rational(self) -> bool:
        """Whether every node is rational: no ``Sigmoid``, ``Exp``, ``Softmax``, ... and only
        ``BatchNormalization`` nodes whose variance is an initializer with
        ``sqrt(var + epsilon)`` rational for every channel. A rational graph evaluates
        exactly (``run(feeds)``); any other needs a precision (``run(feeds, prec=p)``)."""
        if self._rational is None:
            self._rational = all(self._node_rational(n, op)
                                 for n, op in zip(self.nodes, self.runs, strict=True))
        return self._rational

    def _node_rational(self, node: Any, op: type[OpRun]) -> bool:
        if getattr(op, "rational", True):
            return True
        if node.op_type != "BatchNormalization" or len(node.inputs) < 5:
            return False
        from symdnn.io.onnx_real import bn_epsilon, bn_scale
        var = self.consts.get(node.inputs[4])
        return var is not None and bn_scale(var, bn_epsilon(node)) is not None

    def run(self, feeds: dict[str, Any], prec: int | None = None) -> dict[str, Any]:
        """Evaluate the graph exactly, or in certified enclosures at ``prec`` bits.

        Parameters
        ----------
        feeds : dict
            Input name -> its value: an :class:`Exact`, a NumPy array, or (nested) lists of
            exact numbers. A flat list of the right length is reshaped to the input's shape.
        prec : int, optional
            None: exact only (a node that is not rational raises
            :class:`~symdnn.errors.NotRationalError`). An int: such a node, and every node
            after it that reads an enclosure, is evaluated in enclosures at this many bits
            (:mod:`symdnn.io.onnx_ball`).

        Returns
        -------
        dict
            Output name -> :class:`Exact`, or a :class:`~symdnn.io.onnx_ball.Ball` (an
            enclosure ``lo <= value <= hi``) where the value is not known exactly.

        Raises
        ------
        NotRationalError
            With ``prec=None``, at the first node whose value is not rational.
        UndecidedError
            Where a decision inside the graph (a comparison, an argmax) is not decided by
            the enclosures at ``prec`` bits.

        Examples
        --------
        >>> import onnx, onnx.helper as oh
        >>> m = oh.make_model(oh.make_graph([oh.make_node("Sigmoid", ["x"], ["y"])], "g",
        ...     [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        ...     [oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])]),
        ...     opset_imports=[oh.make_opsetid("", 13)])
        >>> from symdnn.io.onnxwire import parse_model
        >>> g = ExactGraph(parse_model(m.SerializeToString()))
        >>> g.rational
        False
        >>> y = g.run({"x": [1]}, prec=64)["y"]   # sigmoid(1) = 0.7310585786300048...
        >>> y.flat_lo()[0] < Fraction("0.7310585786300048792") < y.flat_hi()[0]
        True
        """
        if prec is not None and (not isinstance(prec, int) or prec < 2):
            raise GraphError(f"prec={prec!r} must be an int of at least 2 bits")
        try:
            return self._run(feeds, prec)
        except GraphError as exc:
            if self.path is None:
                raise
            raise type(exc)(f"{self.path}: {exc}") from None

    def _run(self, feeds: dict[str, Any], prec: int | None = None,
             static: dict[str, Exact] | None = None) -> dict[str, Any]:
        missing = [n for n in self.input_names if n not in feeds]
        if missing:
            raise GraphError(f"no value for input {missing[0]!r}")
        env: dict[str, Exact] = dict(self.consts)
        for name in self.input_names:
            env[name] = self._feed(name, feeds[name])
        keep = set(self.output_names) | set(self.consts)
        live = sum(t.num.size for t in env.values())
        known = set(self.consts)  # names whose value does not depend on the inputs' values
        shaped = known | set(self.input_names)  # names whose shape does not
        for i, (node, op) in enumerate(zip(self.nodes, self.runs, strict=True)):
            ins = [env[n] if n else None for n in node.inputs]
            if static is not None:
                _track_static(node, op, known, shaped)
            if prec is not None and any(isinstance(t, Ball) for t in ins):
                res = onnx_ball.evaluate(node, op, ins, prec)
            else:
                try:
                    res = op.run(node, ins)
                except NotRationalError:
                    if prec is None:
                        raise
                    res = onnx_ball.evaluate(node, op, ins, prec)
            for name, out in zip(node.outputs, res if isinstance(res, tuple) else (res,),
                                 strict=False):
                if not name:  # an optional output the graph leaves out
                    continue
                check_size(out.shape, node)
                for t in onnx_ball.endpoints(out) if isinstance(out, Ball) else (out,):
                    check_bits(t, node.label)
                    _check_int_range(t, node)
                env[name] = out
                live += _size(out)
                if static is not None and name in known and isinstance(out, Exact):
                    static[name] = out
            for name in set(node.inputs) | set(node.outputs):  # free what no later node reads
                if name and self._last_use.get(name, -1) <= i and name not in keep \
                        and name in env:
                    live -= _size(env.pop(name))
            if live > MAX_LIVE:
                raise GraphError(f"{node.label}: the tensors alive hold more than {MAX_LIVE} "
                                 "elements")
        return {n: env[n] for n in self.output_names}

    def _fold(self, static: dict[str, Exact]) -> None:
        """Fold the nodes whose outputs do not depend on the inputs' values (``Shape`` of a
        tensor, whose shape the declared input shapes fix, and every rational node that
        reads only constants and such outputs: ``ConstantOfShape``, ``Cast``, ``Gather``,
        ``Concat`` of shapes, ...) into constants, with the values the dry run computed
        exactly; the evaluation then runs only the nodes that read the inputs."""
        done = [i for i, n in enumerate(self.nodes)
                if n.outputs and all(o in static for o in filter(None, n.outputs))]
        if not done:
            return
        gone = set(done)
        self.consts.update(static)
        self.folded = [self.nodes[i] for i in done]
        self.nodes = [n for i, n in enumerate(self.nodes) if i not in gone]
        self.runs = [r for i, r in enumerate(self.runs) if i not in gone]
        read = {n for node in self.nodes for n in node.inputs if n} | set(self.output_names)
        for name in [n for n in self.consts if n not in read]:
            del self.consts[name]  # an initializer or folded value only folded nodes read
        last: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            for name in node.inputs:
                last[name] = i
        self._last_use = last

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

    def __call__(self, x: Any, prec: int | None = None) -> Any:
        """The first output at ``x`` (the first input, or a dict of inputs); see :meth:`run`
        for ``prec``."""
        feeds = x if isinstance(x, dict) else {self.input_names[0]: x}
        return self.run(feeds, prec)[self.output_names[0]]


def _check_int_range(t: Exact, node: Any) -> None:
    """An integer tensor's values must fit its type: ONNX's integer arithmetic wraps around
    (int8 ``Neg(-128)`` is ``-128``), which exact evaluation does not follow, so a value
    outside the type is refused rather than given unwrapped."""
    if t.elem not in INT_TYPES or not t.num.size:
        return
    info = np.iinfo(ELEM_TYPES[t.elem][1])
    lo, hi = min(t.num.flat), max(t.num.flat)
    if lo < info.min * t.den or hi > info.max * t.den:
        bad = lo if lo < info.min * t.den else hi
        raise ValueDependentError(f"{node.label}: the value {bad // t.den} does not fit "
                                  f"{type_name(t.elem)} (ONNX's integer arithmetic wraps "
                                  "around; symdnn does not emulate it)")


def _track_static(node: Any, op: type[OpRun], known: set, shaped: set) -> None:
    """Add ``node``'s outputs to ``known`` (their values do not depend on the inputs'
    values: a rational node reading only such values, or ``Shape`` of a tensor whose shape
    does not depend on them) and to ``shaped`` (their shapes do not).

    A shape depends on values where an operator reads them to make it: conservatively, every
    input after the first (``Reshape``'s shape, ``Slice``'s ends, ``Pad``'s pads, ``Expand``,
    ``Resize``, axes) must be known, and ``ConstantOfShape``'s first too."""
    ins = [n for n in node.inputs if n]
    outs = [n for n in node.outputs if n]
    if all(n in known for n in ins) and getattr(op, "rational", True):
        known.update(outs)
    elif node.op_type == "Shape" and ins and ins[0] in shaped:
        known.update(outs)
    first_known = not node.inputs or not node.inputs[0] or node.inputs[0] in known
    if all(n in shaped for n in ins) and all(n in known for n in node.inputs[1:] if n) and (
            node.op_type != "ConstantOfShape" or first_known):
        shaped.update(outs)


def _size(t: Any) -> int:
    return t.size if isinstance(t, Ball) else t.num.size


def import_onnx(path: Any) -> ExactGraph:
    """Import an ONNX model for exact evaluation.

    The file is decoded in pure Python (:func:`symdnn.io.onnxwire.read_model`; no C parser
    sees it), every node is checked, and the graph is run once on zeros so that a shape that
    does not fit is found now, naming its node (a graph that is not rational, in enclosures
    at a low precision).

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
        static: dict[str, Exact] = {}
        try:
            outs = g._run({n: np.zeros(g.shape_of(n), dtype=np.int64) for n in g.input_names},
                          prec=None if g.rational else DRY_RUN_PREC, static=static)
        except ValueDependentError:  # zeros are not the values it will see: no verdict
            return g
        except GraphError as exc:
            raise GraphError(f"{path}: {exc}") from None
        g._fold(static)
        for v in g.outputs:
            if v.elem_type is not None and v.elem_type != outs[v.name].elem:
                raise GraphError(f"{path}: output {v.name!r} is declared "
                                 f"{type_name(v.elem_type)} but computes "
                                 f"{type_name(outs[v.name].elem)}")
    return g
