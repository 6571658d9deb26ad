"""ONNX graphs of feed-forward ReLU networks, imported and evaluated exactly.

:func:`import_onnx` reads a model with the pure-Python decoder of :mod:`symdnn.io.onnxwire`,
checks every node against the operators below, and returns an :class:`ExactGraph`, which
evaluates the graph in exact rational arithmetic: every float initializer is the dyadic
rational it stores, every input the exact number it is given, and every operator is its
real-number meaning (``Cast`` and ``CastLike`` into a float type round, correctly, as a cast
must). A tensor is an :class:`Exact`: an array of Python integers over one common positive
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
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from symdnn.errors import GraphError, ValueDependentError
from symdnn.io.onnxwire import ELEM_TYPES, MAX_RANK, Model, Node, TensorData, read_model, type_name

__all__ = ["Exact", "ExactGraph", "import_onnx", "OPERATORS", "exact_tensor", "to_elem_type"]

#: the most elements one tensor may have
MAX_ELEMENTS = 1 << 26
#: the most elements all the tensors alive at once may have
MAX_LIVE = 1 << 27
#: the most multiply-adds one MatMul or Gemm may take, counted in 64-bit words of its
#: operands (a product of two 128-bit numbers counts 4)
MAX_WORK = 1 << 27
#: the most bits a numerator or the common denominator of a tensor may have
MAX_BITS = 1 << 16
#: the most bits all the numerators of one tensor may hold together
MAX_TENSOR_BITS = 1 << 32
#: the operator sets of the default domain the importer knows
MAX_OPSET = 25

_FLOAT_FORMATS = {1: "fp32", 10: "fp16", 11: "fp64"}
_INT_TYPES = {2, 3, 4, 5, 6, 7, 12, 13}
_BOOL = 9


# ------------------------------------------------------------------------ exact tensors
@dataclass
class Exact:
    """An exact tensor: ``num / den``, with ``num`` an object array of Python integers of any
    shape and ``den`` one positive integer; ``elem`` is its ONNX element type."""

    num: np.ndarray
    den: int
    elem: int = 1
    _bits: int | None = field(default=None, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.num.shape

    @property
    def bits(self) -> int:
        """The most bits of a numerator or of the denominator (computed once: the values
        of an ``Exact`` are never changed in place)."""
        if self._bits is None:
            big = self.den.bit_length()
            if self.num.size:
                big = max(big, int(np.max(np.abs(self.num))).bit_length())
            self._bits = big
        return self._bits

    def fractions(self) -> list:
        """The values as :class:`fractions.Fraction` (nested lists for more than one axis)."""
        d = self.den
        return np.vectorize(lambda n: Fraction(n, d), otypes=[object])(self.num).tolist() \
            if self.num.ndim else Fraction(int(self.num), d)

    def flat(self) -> list[Fraction]:
        """The values in C order, as a flat list of :class:`fractions.Fraction`."""
        d = self.den
        return [Fraction(int(n), d) for n in self.num.reshape(-1).tolist()]

    def reduced(self) -> Exact:
        """The same values over the smallest common denominator."""
        g = math.gcd(self.den, *self.num.reshape(-1).tolist())
        if g == 1:
            return self
        return Exact(_obj(self.num // g), self.den // g, self.elem)


def _obj(a: Any) -> np.ndarray:
    arr = np.asarray(a, dtype=object)
    return arr


def _ints(a: np.ndarray) -> np.ndarray:
    """An integer NumPy array as an object array of Python integers."""
    return np.array(a.tolist(), dtype=object).reshape(a.shape) if a.size else \
        np.zeros(a.shape, dtype=object)


def exact_tensor(values: Any, elem: int = 1) -> Exact:
    """Exact numbers as an :class:`Exact` tensor.

    ``values`` is a NumPy array (floats are the dyadic rationals they store, integers are
    integers), or nested lists of int, :class:`~fractions.Fraction` or anything
    :class:`~fractions.Fraction` reads exactly (a decimal string). NaN and infinities have
    no exact value and are refused.

    Examples
    --------
    >>> t = exact_tensor([Fraction(1, 3), 2, "0.25"])
    >>> t.num.tolist(), t.den
    ([4, 24, 3], 12)
    """
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind in "iub":
        return Exact(_ints(arr.astype(object) if arr.dtype.kind == "b" else arr), 1, elem)
    if arr.dtype.kind == "f" or arr.dtype.kind == "V" or arr.dtype.name == "bfloat16":
        return _from_floats(arr, elem)
    fr = [Fraction(v) if not isinstance(v, float) else _float_fraction(v)
          for v in np.asarray(arr, dtype=object).reshape(-1).tolist()]
    den = math.lcm(*(f.denominator for f in fr)) if fr else 1
    num = np.array([f.numerator * (den // f.denominator) for f in fr], dtype=object)
    return Exact(num.reshape(arr.shape), den, elem)


def _float_fraction(v: float) -> Fraction:
    if not math.isfinite(v):
        raise GraphError(f"{v} has no exact value")
    return Fraction(v)


def _from_floats(arr: np.ndarray, elem: int) -> Exact:
    """Floats as the dyadic rationals they store (:func:`symdnn.domains.rational.dyadic_vec`,
    each in lowest terms), over their common denominator: the largest power of two."""
    from symdnn.domains.rational import dyadic_vec

    x = np.asarray(arr).astype(np.float64)
    flat = x.reshape(-1)
    if not np.isfinite(flat).all():
        i = int(np.flatnonzero(~np.isfinite(flat))[0])
        raise GraphError(f"the value at flat position {i} is {flat[i]}, which has no "
                         "exact value")
    if flat.size == 0:
        return Exact(np.zeros(x.shape, dtype=object), 1, elem)
    rv = dyadic_vec(flat)
    den = max(int(d) for d in np.unique(rv.den))
    scale = np.asarray(rv.den, dtype=object)
    num = np.asarray(rv.num, dtype=object) * (den // scale if den > 1 else 1)
    return Exact(_obj(num).reshape(x.shape), den, elem)


def _align(*ts: Exact) -> tuple[list[np.ndarray], int]:
    den = math.lcm(*(t.den for t in ts))
    return [t.num if t.den == den else t.num * (den // t.den) for t in ts], den


def to_elem_type(t: Exact, elem: int | None = None) -> np.ndarray:
    """The exact tensor rounded into an ONNX element type (its own by default), in one
    correct rounding for a float type; integers must fit their type exactly.

    Examples
    --------
    >>> to_elem_type(exact_tensor([Fraction(1, 3)]), 1)
    array([0.33333334], dtype=float32)
    """
    from symdnn.domains.floats import round_rationals

    elem = t.elem if elem is None else elem
    if elem in _FLOAT_FORMATS:
        flat = t.num.reshape(-1)
        out = round_rationals(flat, t.den, _FLOAT_FORMATS[elem]) if flat.size else \
            np.zeros(0, ELEM_TYPES[elem][1])
        return np.asarray(out).astype(ELEM_TYPES[elem][1]).reshape(t.shape)
    if elem in _INT_TYPES or elem == _BOOL:
        dtype = ELEM_TYPES[elem][1]
        if t.den != 1 and any(n % t.den for n in t.num.reshape(-1).tolist()):
            raise GraphError(f"a value is not an integer, so it is not a {type_name(elem)}")
        vals = [n // t.den for n in t.num.reshape(-1).tolist()]
        if elem == _BOOL:
            return np.array([v != 0 for v in vals], dtype=bool).reshape(t.shape)
        info = np.iinfo(dtype)
        bad = [v for v in vals if not info.min <= v <= info.max]
        if bad:
            raise GraphError(f"{bad[0]} does not fit {type_name(elem)}")
        return np.array(vals, dtype=dtype).reshape(t.shape)
    raise GraphError(f"element type {type_name(elem)} is not supported")


# ------------------------------------------------------------------------ operators
def _const_of(t: TensorData, where: str) -> Exact:
    try:
        return exact_tensor(t.array, t.elem_type)
    except GraphError as exc:
        raise GraphError(f"{where}: tensor {t.name!r}: {exc}") from None


def _check_size(shape: tuple, node: Any) -> None:
    where = node.label if isinstance(node, Node) else node
    if len(shape) > MAX_RANK:
        raise GraphError(f"{where}: a tensor of {len(shape)} dimensions (at most {MAX_RANK})")
    if math.prod(shape) > MAX_ELEMENTS:
        raise GraphError(f"{where}: a tensor of shape {shape} is larger than "
                         f"{MAX_ELEMENTS} elements")


def _check_bits(t: Exact, where: str) -> None:
    """Exact numbers may grow, but not without bound: a numerator or the denominator of more
    than :data:`MAX_BITS` bits is refused (a chain of squarings doubles them each time), and
    so is a tensor whose numerators hold more than :data:`MAX_TENSOR_BITS` together."""
    big = t.bits
    if big > MAX_BITS:
        raise ValueDependentError(f"{where}: an exact value needs more than {MAX_BITS} bits")
    if t.num.size * max(big, 1) > MAX_TENSOR_BITS:
        raise ValueDependentError(f"{where}: a tensor of {t.num.size} values of up to {big} "
                                  f"bits, more than {MAX_TENSOR_BITS} bits in all")


def _broadcast(node: Node, *shapes: tuple) -> tuple:
    try:
        out = np.broadcast_shapes(*shapes)
    except ValueError:
        raise GraphError(f"{node.label}: shapes {' and '.join(map(str, shapes))} do not "
                         "broadcast") from None
    _check_size(out, node)
    return out


def _same_elem(node: Node, *ts: Exact) -> int:
    elems = {t.elem for t in ts}
    if len(elems) > 1:
        raise GraphError(f"{node.label}: inputs of different types "
                         f"({', '.join(sorted(type_name(e) for e in elems))})")
    return ts[0].elem


def _numeric(node: Node, *ts: Exact) -> None:
    for t in ts:
        if t.elem not in _FLOAT_FORMATS and t.elem not in _INT_TYPES:
            raise GraphError(f"{node.label}: input of type {type_name(t.elem)} is not a "
                             "number type")


def _add(node: Node, a: Exact, b: Exact, sign: int = 1) -> Exact:
    _numeric(node, a, b)
    elem = _same_elem(node, a, b)
    _broadcast(node, a.shape, b.shape)
    (na, nb), den = _align(a, b)
    return Exact(_obj(na + nb if sign > 0 else na - nb), den, elem)


def _mul(node: Node, a: Exact, b: Exact) -> Exact:
    _numeric(node, a, b)
    elem = _same_elem(node, a, b)
    _broadcast(node, a.shape, b.shape)
    return Exact(_obj(a.num * b.num), a.den * b.den, elem).reduced()


def _div(node: Node, a: Exact, b: Exact) -> Exact:
    _numeric(node, a, b)
    elem = _same_elem(node, a, b)
    if elem not in _FLOAT_FORMATS:
        raise GraphError(f"{node.label}: Div of integers (which truncates) is not supported")
    _broadcast(node, a.shape, b.shape)
    nb = b.num.reshape(-1).tolist()
    if any(v == 0 for v in nb):
        raise ValueDependentError(f"{node.label}: division by zero")
    L = 1
    for v in set(abs(v) for v in nb):
        L = math.lcm(L, v)
        if L.bit_length() > MAX_BITS:
            raise ValueDependentError(f"{node.label}: the divisors' common denominator needs "
                                      f"more than {MAX_BITS} bits")
    # a / b = (na / da) * (db / nb) = na * db * (L / nb) / (da * L)
    recip = np.array([b.den * (L // v) if v > 0 else -(b.den * (L // -v)) for v in nb],
                     dtype=object).reshape(b.shape)
    return Exact(_obj(a.num * recip), a.den * L, elem).reduced()


def _matmul(node: Node, a: Exact, b: Exact) -> Exact:
    _numeric(node, a, b)
    elem = _same_elem(node, a, b)
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise GraphError(f"{node.label}: MatMul of a scalar")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise GraphError(f"{node.label}: MatMul of shapes {sa} and {sb}: inner dimensions "
                         f"{ka} and {kb} differ")
    batch = _broadcast(node, sa[:-2] if len(sa) > 1 else (), sb[:-2] if len(sb) > 1 else ())
    m = sa[-2] if len(sa) > 1 else 1
    n = sb[-1] if len(sb) > 1 else 1
    _check_size(tuple(batch) + (m, n), node)
    words = -(-max(a.bits, 1) // 64) * -(-max(b.bits, 1) // 64)
    work = math.prod(batch) * m * n * max(ka, 1) * words
    if work > MAX_WORK:
        raise ValueDependentError(f"{node.label}: MatMul of shapes {sa} and {sb} is {work} "
                                  f"word multiply-adds, more than {MAX_WORK}")
    out = np.matmul(a.num, b.num)
    return Exact(_obj(out), a.den * b.den, elem).reduced()


def _relu(node: Node, x: Exact) -> Exact:
    _numeric(node, x)
    return Exact(_obj(np.where(x.num > 0, x.num, 0)), x.den, x.elem)


def _extreme(node: Node, ts: list[Exact], fn: Any) -> Exact:
    if not ts:
        raise GraphError(f"{node.label}: no inputs")
    _numeric(node, *ts)
    elem = _same_elem(node, *ts)
    _broadcast(node, *(t.shape for t in ts))
    nums, den = _align(*ts)
    out = nums[0]
    for n in nums[1:]:
        out = fn(out, n)
    return Exact(_obj(np.broadcast_to(out, np.broadcast_shapes(*(t.shape for t in ts)))
                      .copy()), den, elem)


def _sum(node: Node, ts: list[Exact]) -> Exact:
    return _extreme(node, ts, np.add)


def _maximum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(a >= b, a, b)


def _minimum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(a <= b, a, b)


def _clip(node: Node, x: Exact, lo: Exact | None, hi: Exact | None) -> Exact:
    _numeric(node, x)
    out = x
    for bound, fn in ((lo, _maximum), (hi, _minimum)):
        if bound is None:
            continue
        if bound.shape not in ((), (1,)):
            raise GraphError(f"{node.label}: a Clip bound must be a scalar, not of shape "
                             f"{bound.shape}")
        b = Exact(bound.num.reshape(()), bound.den, bound.elem)
        _same_elem(node, out, b)
        (n, m), den = _align(out, b)
        out = Exact(_obj(fn(n, m)), den, x.elem)
    return out


def _less(node: Node, a: Exact, b: Exact) -> Exact:
    _numeric(node, a, b)
    _same_elem(node, a, b)
    _broadcast(node, a.shape, b.shape)
    (na, nb), _ = _align(a, b)
    return Exact(_obj(np.where(na < nb, 1, 0)), 1, _BOOL)


def _where(node: Node, c: Exact, x: Exact, y: Exact) -> Exact:
    if c.elem != _BOOL:
        raise GraphError(f"{node.label}: the condition of Where must be bool, not "
                         f"{type_name(c.elem)}")
    elem = _same_elem(node, x, y)
    _broadcast(node, c.shape, x.shape, y.shape)
    (nx, ny), den = _align(x, y)
    return Exact(_obj(np.where(c.num != 0, nx, ny)), den, elem)


def _cast(node: Node, x: Exact, to: int) -> Exact:
    if to == _BOOL:
        return Exact(_obj(np.where(x.num != 0, 1, 0)), 1, _BOOL)
    if to in _FLOAT_FORMATS:
        if x.elem == _BOOL:
            return Exact(x.num.copy(), 1, to)
        try:
            return exact_tensor(to_elem_type(x, to), to)
        except GraphError as exc:
            raise ValueDependentError(f"{node.label}: Cast to {type_name(to)}: {exc} (it "
                                      "overflows)") from None
    if to in _INT_TYPES:
        if x.elem in _FLOAT_FORMATS:  # ONNX (and NumPy) truncate toward zero
            q = [abs(n) // x.den * (1 if n >= 0 else -1) for n in x.num.reshape(-1).tolist()]
            x = Exact(np.array(q, dtype=object).reshape(x.shape), 1, x.elem)
        try:
            return exact_tensor(to_elem_type(x, to), to)
        except GraphError as exc:
            raise ValueDependentError(f"{node.label}: Cast to {type_name(to)}: {exc}") \
                from None
    raise GraphError(f"{node.label}: Cast to {type_name(to)} is not supported")


def _shape_ints(node: Node, t: Exact, what: str) -> list[int]:
    if t.elem != 7 or t.den != 1:
        raise GraphError(f"{node.label}: {what} must be int64")
    return [int(v) for v in t.num.reshape(-1).tolist()]


def _reshape(node: Node, x: Exact, shape: list[int], allowzero: int) -> Exact:
    dims = list(shape)
    for i, d in enumerate(dims):
        if d == 0 and not allowzero:
            if i >= len(x.shape):
                raise GraphError(f"{node.label}: Reshape dimension {i} copies a dimension "
                                 f"{x.shape} does not have")
            dims[i] = x.shape[i]
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        raise GraphError(f"{node.label}: Reshape to {shape} is not a shape")
    if -1 in dims:
        rest = math.prod(d for d in dims if d != -1)
        total = math.prod(x.shape)
        if rest == 0 or total % rest:
            raise GraphError(f"{node.label}: cannot reshape {x.shape} to {shape}")
        dims[dims.index(-1)] = total // rest
    if math.prod(dims) != math.prod(x.shape):
        raise GraphError(f"{node.label}: cannot reshape {x.shape} to {shape}")
    _check_size(tuple(dims), node)
    return Exact(x.num.reshape(dims), x.den, x.elem)


def _axes(node: Node, axes: list[int], rank: int) -> list[int]:
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise GraphError(f"{node.label}: axis {a} is out of range for rank {rank}")
        out.append(a % rank)
    if len(set(out)) != len(out):
        raise GraphError(f"{node.label}: an axis is repeated in {axes}")
    return out


_ARITH = {"broadcast": "int"}
#: the attributes each operator takes, and their kinds (anything else is refused, naming the
#: node)
OPERATORS: dict[str, dict[str, str]] = {
    "MatMul": {}, "Gemm": {"alpha": "float", "beta": "float", "transA": "int",
                           "transB": "int", "broadcast": "int"},
    "Add": _ARITH, "Sub": _ARITH, "Mul": _ARITH, "Div": _ARITH, "Relu": {},
    "Clip": {"min": "float", "max": "float"}, "Sum": {}, "Max": {}, "Min": {}, "Less": {},
    "Where": {}, "Flatten": {"axis": "int"}, "Reshape": {"allowzero": "int", "shape": "ints"},
    "Squeeze": {"axes": "ints"}, "Unsqueeze": {"axes": "ints"}, "Identity": {},
    "Constant": {"value": "tensor", "value_float": "float", "value_floats": "floats",
                 "value_int": "int", "value_ints": "ints"},
    "Cast": {"to": "int", "saturate": "int"}, "CastLike": {"saturate": "int"},
}

#: (operator, attribute) -> the operator sets that have it: [first, last]
_ATTR_OPSETS = {("Gemm", "broadcast"): (1, 6), ("Add", "broadcast"): (1, 6),
                ("Sub", "broadcast"): (1, 6), ("Mul", "broadcast"): (1, 6),
                ("Div", "broadcast"): (1, 6), ("Clip", "min"): (1, 10),
                ("Clip", "max"): (1, 10), ("Reshape", "shape"): (1, 4),
                ("Reshape", "allowzero"): (14, MAX_OPSET), ("Squeeze", "axes"): (1, 12),
                ("Unsqueeze", "axes"): (1, 12), ("Cast", "saturate"): (19, MAX_OPSET),
                ("CastLike", "saturate"): (19, MAX_OPSET),
                ("Constant", "value_float"): (12, MAX_OPSET),
                ("Constant", "value_floats"): (12, MAX_OPSET),
                ("Constant", "value_int"): (12, MAX_OPSET),
                ("Constant", "value_ints"): (12, MAX_OPSET)}
#: operators that appeared after opset 1
_OP_OPSETS = {"Where": 9, "Less": 1, "CastLike": 15, "Sum": 1, "Max": 1, "Min": 1}
#: the inputs each operator takes, by opset: (first opset, least, most)
_ARITY = {"MatMul": (2, 2), "Gemm": (2, 3), "Add": (2, 2), "Sub": (2, 2), "Mul": (2, 2),
          "Div": (2, 2), "Relu": (1, 1), "Sum": (1, 2 ** 31), "Max": (1, 2 ** 31),
          "Min": (1, 2 ** 31), "Less": (2, 2), "Where": (3, 3), "Flatten": (1, 1),
          "Identity": (1, 1), "Constant": (0, 0), "Cast": (1, 1), "CastLike": (2, 2)}


def _check_node(node: Node, opset: int) -> None:
    """The node's attributes (their kinds, values and operator sets) and its inputs."""
    kinds = OPERATORS[node.op_type]
    if opset < _OP_OPSETS.get(node.op_type, 1):
        raise GraphError(f"{node.label}: {node.op_type} does not exist in opset {opset}")
    for name, a in node.attributes.items():
        if name not in kinds:
            raise GraphError(f"{node.label}: attribute {name!r} is not supported by "
                             f"{node.op_type}")
        if a.kind != kinds[name]:
            raise GraphError(f"{node.label}: attribute {name!r} must be {kinds[name]}, not "
                             f"{a.kind}")
        lo, hi = _ATTR_OPSETS.get((node.op_type, name), (1, MAX_OPSET))
        if not lo <= opset <= hi:
            raise GraphError(f"{node.label}: attribute {name!r} of {node.op_type} belongs to "
                             f"opsets {lo} to {hi}, not {opset}")
        if name in ("transA", "transB", "broadcast", "allowzero") and a.value not in (0, 1):
            raise GraphError(f"{node.label}: attribute {name!r} must be 0 or 1, not {a.value}")
    if node.op_type == "Cast":
        to = node.attributes.get("to")
        if to is None or to.value not in _FLOAT_FORMATS and to.value not in _INT_TYPES \
                and to.value != _BOOL:
            raise GraphError(f"{node.label}: Cast needs 'to', a supported element type")
    n_in = len(node.inputs)
    if node.op_type in _ARITY:
        lo, hi = _ARITY[node.op_type]
    elif node.op_type == "Clip":
        lo, hi = (1, 1) if opset < 11 else (1, 3)
    elif node.op_type == "Reshape":
        lo, hi = (1, 1) if opset < 5 else (2, 2)
    else:  # Squeeze, Unsqueeze
        lo, hi = (1, 1) if opset < 13 else (1, 2)
    if not lo <= n_in <= hi:
        raise GraphError(f"{node.label}: {n_in} inputs ({node.op_type} takes "
                         f"{lo if lo == hi else f'{lo} to {hi}'} in opset {opset})")
    if node.op_type == "Constant" and len(node.attributes) != 1:
        raise GraphError(f"{node.label}: Constant needs exactly one value attribute")


def _attr(node: Node, name: str, default: Any = None) -> Any:
    a = node.attributes.get(name)
    return default if a is None else a.value


class _Eval:
    """One evaluation of the graph: the values computed so far, by name."""

    def __init__(self, graph: ExactGraph, env: dict[str, Exact]):
        self.g = graph
        self.env = env

    def get(self, node: Node, i: int, optional: bool = False) -> Exact | None:
        if i >= len(node.inputs) or node.inputs[i] == "":
            if optional:
                return None
            raise GraphError(f"{node.label}: input {i} is missing")
        return self.env[node.inputs[i]]

    def run(self, node: Node) -> Exact:
        op = node.op_type
        get = self.get
        if op in ("Add", "Sub"):
            return _add(node, get(node, 0), get(node, 1), 1 if op == "Add" else -1)
        if op == "Mul":
            return _mul(node, get(node, 0), get(node, 1))
        if op == "Div":
            return _div(node, get(node, 0), get(node, 1))
        if op == "MatMul":
            return _matmul(node, get(node, 0), get(node, 1))
        if op == "Gemm":
            return self.gemm(node)
        if op == "Relu":
            return _relu(node, get(node, 0))
        if op == "Clip":
            x = get(node, 0)
            if self.g.opset < 11:
                lo = _attr(node, "min")
                hi = _attr(node, "max")
                return _clip(node, x, None if lo is None else exact_tensor([lo], x.elem),
                             None if hi is None else exact_tensor([hi], x.elem))
            return _clip(node, x, get(node, 1, True), get(node, 2, True))
        if op == "Sum":
            return _sum(node, [get(node, i) for i in range(len(node.inputs))])
        if op in ("Max", "Min"):
            return _extreme(node, [get(node, i) for i in range(len(node.inputs))],
                            _maximum if op == "Max" else _minimum)
        if op == "Less":
            return _less(node, get(node, 0), get(node, 1))
        if op == "Where":
            return _where(node, get(node, 0), get(node, 1), get(node, 2))
        if op == "Identity":
            return get(node, 0)
        if op == "Flatten":
            x = get(node, 0)
            axis = _attr(node, "axis", 1)
            r = len(x.shape)
            if not -r <= axis <= r:
                raise GraphError(f"{node.label}: Flatten axis {axis} for rank {r}")
            if axis < 0:
                axis += r
            shape = (math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))
            return Exact(x.num.reshape(shape), x.den, x.elem)
        if op == "Reshape":
            x = get(node, 0)
            if self.g.opset < 5:
                shape = list(_attr(node, "shape", []))
            else:
                shape = _shape_ints(node, get(node, 1), "the shape")
            return _reshape(node, x, shape, _attr(node, "allowzero", 0))
        if op in ("Squeeze", "Unsqueeze"):
            return self.squeeze(node, op == "Squeeze")
        if op == "Constant":
            return self.constant(node)
        if op == "Cast":
            return _cast(node, get(node, 0), _attr(node, "to"))
        if op == "CastLike":
            return _cast(node, get(node, 0), get(node, 1).elem)
        raise GraphError(f"{node.label}: operator {op} is not supported")  # pragma: no cover

    def gemm(self, node: Node) -> Exact:
        a, b = self.get(node, 0), self.get(node, 1)
        c = self.get(node, 2, optional=True)
        if len(a.shape) != 2 or len(b.shape) != 2:
            raise GraphError(f"{node.label}: Gemm needs matrices, not shapes {a.shape} and "
                             f"{b.shape}")
        if _attr(node, "transA", 0):
            a = Exact(a.num.T, a.den, a.elem)
        if _attr(node, "transB", 0):
            b = Exact(b.num.T, b.den, b.elem)
        out = _matmul(node, a, b)
        alpha, beta = _attr(node, "alpha", 1.0), _attr(node, "beta", 1.0)
        if alpha != 1.0:
            out = _mul(node, out, exact_tensor(np.float32(alpha).reshape(()), out.elem))
        if c is not None:
            try:
                np.broadcast_shapes(c.shape, out.shape)
                if np.broadcast_shapes(c.shape, out.shape) != out.shape:
                    raise ValueError
            except ValueError:
                raise GraphError(f"{node.label}: Gemm's C of shape {c.shape} does not "
                                 f"broadcast to {out.shape}") from None
            if beta != 1.0:
                c = _mul(node, c, exact_tensor(np.float32(beta).reshape(()), c.elem))
            out = _add(node, out, c)
        return out

    def squeeze(self, node: Node, squeeze: bool) -> Exact:
        x = self.get(node, 0)
        if self.g.opset >= 13 and len(node.inputs) > 1 and node.inputs[1]:
            axes = _shape_ints(node, self.get(node, 1), "axes")
        else:
            axes = _attr(node, "axes")
        if squeeze:
            r = len(x.shape)
            ax = [i for i, d in enumerate(x.shape) if d == 1] if axes is None else \
                _axes(node, list(axes), r)
            if any(x.shape[a] != 1 for a in ax):
                raise GraphError(f"{node.label}: cannot squeeze axes {axes} of {x.shape}")
            shape = tuple(d for i, d in enumerate(x.shape) if i not in ax)
        else:
            if axes is None:
                raise GraphError(f"{node.label}: Unsqueeze needs axes")
            r = len(x.shape) + len(axes)
            _check_size((1,) * r, node)
            ax = _axes(node, list(axes), r)
            it = iter(x.shape)
            shape = tuple(1 if i in ax else next(it) for i in range(r))
        return Exact(x.num.reshape(shape), x.den, x.elem)

    def constant(self, node: Node) -> Exact:
        (name, a), = node.attributes.items()
        if name == "value":
            return _const_of(a.value, node.label)
        if name in ("value_float", "value_floats"):
            return exact_tensor(np.asarray(a.value, np.float32), 1)
        return exact_tensor(np.asarray(a.value, np.int64), 7)


# ------------------------------------------------------------------------ the graph
class ExactGraph:
    """An imported ONNX graph, evaluated exactly (see :func:`import_onnx`).

    Attributes
    ----------
    model : Model
        What the decoder read.
    input_names, output_names : list of str
        The runtime inputs (graph inputs without an initializer) and the outputs.
    input_shape : tuple of int
        The shape of the first input, a symbolic or missing dimension taken as 1 (as VNN-COMP
        does).
    """

    def __init__(self, model: Model):
        self.model = model
        self.opset = model.opset
        g = model.graph
        self.path = model.path
        self.consts = {n: _const_of(t, f"initializer {n!r}") for n, t in g.initializers.items()}
        self.inputs = [v for v in g.inputs if v.name not in g.initializers]
        self.outputs = list(g.outputs)
        self.input_names = [v.name for v in self.inputs]
        self.output_names = [v.name for v in self.outputs]
        self.ops = [n.op_type for n in g.nodes]
        self._validate()

    def _validate(self) -> None:
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
        known = set(self.consts) | set(self.input_names)
        if len(known) != len(self.consts) + len(self.input_names):
            raise GraphError("a graph input has the name of an initializer twice over")
        for node in g.nodes:
            if node.domain not in ("", "ai.onnx"):
                raise GraphError(f"{node.label}: operator {node.domain}.{node.op_type} is not "
                                 "supported (only the default domain)")
            if node.op_type not in OPERATORS:
                raise GraphError(f"{node.label}: operator {node.op_type} is not supported "
                                 f"(supported: {', '.join(sorted(OPERATORS))})")
            _check_node(node, self.opset)
            for name in node.inputs:
                if name and name not in known:
                    raise GraphError(f"{node.label}: input {name!r} is not computed before "
                                     "it (nodes must be in topological order)")
            if len(node.outputs) != 1 or not node.outputs[0]:
                raise GraphError(f"{node.label}: a node must have exactly one named output")
            if node.outputs[0] in known:
                raise GraphError(f"{node.label}: its output {node.outputs[0]!r} is already "
                                 "the name of an input, an initializer or another output")
            known.add(node.outputs[0])
        for v in self.outputs:
            if v.name not in known:
                raise GraphError(f"graph output {v.name!r} is never computed")
        for v in self.inputs:
            if v.elem_type is not None and v.elem_type not in ELEM_TYPES:
                raise GraphError(f"input {v.name!r} has type {type_name(v.elem_type)}, which is "
                                 "not supported")
            if v.shape is not None:
                _check_size(self.shape_of(v.name), f"input {v.name!r}")
        last: dict[str, int] = {}
        for i, node in enumerate(g.nodes):
            for name in node.inputs:
                last[name] = i
        self._last_use = last

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
        ev = _Eval(self, env)
        keep = set(self.output_names) | set(self.consts)
        live = sum(t.num.size for t in env.values())
        for i, node in enumerate(self.model.graph.nodes):
            out = ev.run(node)
            _check_size(out.shape, node)
            _check_bits(out, node.label)
            env[node.outputs[0]] = out
            live += out.num.size
            for name in set(node.inputs) | {node.outputs[0]}:  # free what no later node reads
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
        _check_bits(t, f"input {name!r}")
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
