"""ONNX models and tensors decoded from the protobuf wire format in pure Python.

An ONNX file is a protocol-buffer message. The ``onnx`` package parses it with the protobuf
library's compiled parser; symdnn never hands an untrusted file to a C parser, so this module
decodes the part of the ONNX schema a feed-forward network uses (``ModelProto``,
``GraphProto``, ``NodeProto``, ``AttributeProto``, ``TensorProto``, ``ValueInfoProto``)
itself. Every length is checked against what is left of its message, every varint against
ten bytes, every element count against the tensor's dimensions, the whole file against
:data:`MAX_BYTES`; a nested graph (the body of an ``If`` or ``Loop``) is not decoded at all,
so no file can make the decoder recurse. Anything malformed is a
:class:`~symdnn.errors.ParseError` naming the file and what was being read.

The field numbers are those of ``onnx/onnx.proto`` (IR version 3 onwards); fields this module
does not use are skipped, as protobuf skips unknown fields.

Examples
--------
>>> import numpy as np
>>> raw = bytes([0x08, 0x02, 0x10, 0x01, 0x42, 0x01, 0x77, 0x4a, 0x08]) + \\
...     np.array([1.5, -0.25], "<f4").tobytes()
>>> t = parse_tensor(raw)
>>> t.name, t.dims, t.array.tolist()
('w', (2,), [1.5, -0.25])
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symdnn._optional import require
from symdnn.errors import ParseError
from symdnn.io.text import read_bytes

__all__ = ["TensorData", "Attribute", "Node", "ValueInfo", "Graph", "Model", "read_model",
           "parse_model", "read_tensor", "parse_tensor", "to_onnx_proto", "ELEM_TYPES",
           "MAX_BYTES", "MAX_ELEMENTS", "MAX_RANK"]

#: the largest model file (after gunzipping) the decoder takes
MAX_BYTES = 1 << 30
#: the most elements one tensor may declare
MAX_ELEMENTS = 1 << 26
#: the most dimensions one tensor may have (NumPy's own limit is 64)
MAX_RANK = 32

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5

#: ONNX element types: code -> (name, numpy dtype of the values, TensorProto field that
#: holds them when not in raw_data)
ELEM_TYPES: dict[int, tuple[str, Any, int]] = {
    1: ("float32", np.dtype("<f4"), 4),
    2: ("uint8", np.dtype("u1"), 5),
    3: ("int8", np.dtype("i1"), 5),
    4: ("uint16", np.dtype("<u2"), 5),
    5: ("int16", np.dtype("<i2"), 5),
    6: ("int32", np.dtype("<i4"), 5),
    7: ("int64", np.dtype("<i8"), 7),
    9: ("bool", np.dtype("?"), 5),
    10: ("float16", np.dtype("<f2"), 5),
    11: ("float64", np.dtype("<f8"), 10),
    12: ("uint32", np.dtype("<u4"), 11),
    13: ("uint64", np.dtype("<u8"), 11),
}
_TYPE_NAMES = {8: "string", 14: "complex64", 15: "complex128", 16: "bfloat16",
               17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2",
               20: "float8e5m2fnuz", 21: "uint4", 22: "int4"}


def type_name(code: int) -> str:
    """The ONNX name of an element type code (``1`` is ``"float32"``)."""
    if code in ELEM_TYPES:
        return ELEM_TYPES[code][0]
    return _TYPE_NAMES.get(code, f"type {code}")


# ------------------------------------------------------------------------ wire format
class _Reader:
    """Fields of one message, with the file and the message named in every error."""

    def __init__(self, buf: memoryview, path: str | None, what: str):
        self.buf = buf
        self.path = path
        self.what = what

    def fail(self, msg: str) -> ParseError:
        return ParseError(f"malformed ONNX ({self.what}): {msg}", path=self.path)

    def varint(self, pos: int) -> tuple[int, int]:
        buf, result, shift = self.buf, 0, 0
        for i in range(10):
            if pos >= len(buf):
                raise self.fail("a number runs past the end of its message")
            b = buf[pos]
            pos += 1
            result |= (b & 0x7F) << (7 * i)
            if b < 0x80:
                return result & 0xFFFFFFFFFFFFFFFF, pos
            shift += 7
        raise self.fail("a number longer than ten bytes")

    def fields(self) -> Iterator[tuple[int, int, Any]]:
        """``(field number, wire type, value)``: an int for VARINT, a memoryview for LEN and
        for the fixed-width types."""
        buf, pos, n = self.buf, 0, len(self.buf)
        while pos < n:
            key, pos = self.varint(pos)
            num, wt = key >> 3, key & 7
            if num == 0:
                raise self.fail("field number 0")
            if wt == VARINT:
                val, pos = self.varint(pos)
            elif wt == LEN:
                size, pos = self.varint(pos)
                if size > n - pos:
                    raise self.fail(f"field {num} claims {size} bytes, {n - pos} are left")
                val, pos = buf[pos:pos + size], pos + size
            elif wt in (I32, I64):
                size = 4 if wt == I32 else 8
                if size > n - pos:
                    raise self.fail(f"field {num} runs past the end of its message")
                val, pos = buf[pos:pos + size], pos + size
            else:
                raise self.fail(f"field {num} has wire type {wt} (groups are not ONNX)")
            yield num, wt, val

    def sub(self, val: Any, wt: int, what: str) -> _Reader:
        if wt != LEN:
            raise self.fail(f"{what} is not a message")
        return _Reader(val, self.path, what)

    def string(self, val: Any, wt: int, what: str) -> str:
        if wt != LEN:
            raise self.fail(f"{what} is not a string")
        try:
            return bytes(val).decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not UTF-8") from None

    def integer(self, val: Any, wt: int, what: str, *, signed: bool = True) -> int:
        if wt != VARINT:
            raise self.fail(f"{what} is not an integer")
        return val - (1 << 64) if signed and val >= 1 << 63 else val

    def varints(self, val: Any, wt: int, what: str) -> list[int]:
        """A repeated integer field's values: packed (LEN) or one (VARINT)."""
        if wt == VARINT:
            return [self.integer(val, wt, what)]
        if wt != LEN:
            raise self.fail(f"{what} is not a list of integers")
        r = _Reader(val, self.path, what)
        out, pos = [], 0
        while pos < len(val):
            v, pos = r.varint(pos)
            out.append(v - (1 << 64) if v >= 1 << 63 else v)
        return out

    def fixed(self, val: Any, wt: int, what: str, dtype: str) -> np.ndarray:
        """A repeated fixed-width field's values (packed or one) as a NumPy array."""
        size = np.dtype(dtype).itemsize
        if wt not in (LEN, I32 if size == 4 else I64):
            raise self.fail(f"{what} has the wrong wire type")
        if len(val) % size:
            raise self.fail(f"{what}: {len(val)} bytes is not a whole number of values")
        return np.frombuffer(bytes(val), dtype=dtype)


# ------------------------------------------------------------------------ the schema
@dataclass
class TensorData:
    """A decoded ``TensorProto``: its values as a NumPy array of the element type's dtype."""

    name: str
    elem_type: int
    dims: tuple[int, ...]
    array: np.ndarray

    @property
    def type_name(self) -> str:
        return type_name(self.elem_type)


@dataclass
class Attribute:
    """A decoded ``AttributeProto``: ``value`` is a float, int, bytes, :class:`TensorData`
    or a list of them; a graph attribute is kept as ``None`` with ``kind`` ``"graph"``."""

    name: str
    kind: str
    value: Any


@dataclass
class Node:
    op_type: str
    inputs: list[str]
    outputs: list[str]
    name: str = ""
    domain: str = ""
    attributes: dict[str, Attribute] = field(default_factory=dict)
    index: int = 0

    @property
    def label(self) -> str:
        """How errors name the node: its name, or its operator and position."""
        return (f"node {self.index} ({self.op_type} {self.name!r})" if self.name else
                f"node {self.index} ({self.op_type})")


@dataclass
class ValueInfo:
    """A graph input or output: its name, element type (``None`` if not a tensor) and shape
    (``None`` where unknown; a dimension is an int, a symbolic name, or ``None``)."""

    name: str
    elem_type: int | None = None
    shape: tuple | None = None


@dataclass
class Graph:
    name: str
    nodes: list[Node]
    initializers: dict[str, TensorData]
    inputs: list[ValueInfo]
    outputs: list[ValueInfo]


@dataclass
class Model:
    ir_version: int
    opsets: dict[str, int]
    graph: Graph
    producer: str = ""
    path: str | None = None
    has_functions: bool = False

    @property
    def opset(self) -> int:
        """The version of the default (``ai.onnx``) operator set."""
        return self.opsets.get("", self.opsets.get("ai.onnx", 1))


def _tensor(r: _Reader) -> TensorData:
    dims: list[int] = []
    elem, name = 0, ""
    raw = None
    parts: dict[int, list] = {}
    for num, wt, val in r.fields():
        if num == 1:
            dims += r.varints(val, wt, "tensor dims")
        elif num == 2:
            elem = r.integer(val, wt, "tensor data_type")
        elif num == 3:
            raise r.fail("segmented tensors are not supported")
        elif num == 8:
            name = r.string(val, wt, "tensor name")
        elif num == 9:
            if wt != LEN:
                raise r.fail("raw_data is not bytes")
            raw = val
        elif num == 13 or (num == 14 and wt == VARINT and val != 0):
            raise r.fail(f"tensor {name!r}: external data is not supported (the weights must "
                         "be inside the file)")
        elif num == 6:
            raise r.fail(f"tensor {name!r}: string tensors are not supported")
        elif num in (4, 5, 7, 10, 11):
            parts.setdefault(num, []).append((wt, val))
    what = f"tensor {name!r}"
    if elem not in ELEM_TYPES:
        raise r.fail(f"{what}: element type {type_name(elem)} is not supported")
    if any(d < 0 for d in dims):
        raise r.fail(f"{what}: a negative dimension in {dims}")
    if len(dims) > MAX_RANK or any(d > MAX_ELEMENTS for d in dims):
        raise r.fail(f"{what}: dimensions {dims[:8]}{'...' if len(dims) > 8 else ''} are "
                     f"more than {MAX_RANK} or larger than {MAX_ELEMENTS}")
    count = 1
    for d in dims:
        count *= d
        if count > MAX_ELEMENTS:
            raise r.fail(f"{what}: {dims} is more than {MAX_ELEMENTS} elements")
    _, dtype, home = ELEM_TYPES[elem]
    if raw is not None:
        if any(k != home for k in parts) or parts.get(home):
            raise r.fail(f"{what}: values both in raw_data and in a typed field")
        if len(raw) != count * dtype.itemsize:
            raise r.fail(f"{what}: raw_data has {len(raw)} bytes, {dims} of {type_name(elem)}"
                         f" needs {count * dtype.itemsize}")
        arr = np.frombuffer(bytes(raw), dtype=dtype)
    else:
        if any(k != home for k in parts):
            raise r.fail(f"{what}: values in a field that does not hold {type_name(elem)}")
        chunks = parts.get(home, [])
        if home == 4:
            vals = np.concatenate([r.fixed(v, w, what, "<f4") for w, v in chunks] or
                                  [np.zeros(0, "<f4")])
        elif home == 10:
            vals = np.concatenate([r.fixed(v, w, what, "<f8") for w, v in chunks] or
                                  [np.zeros(0, "<f8")])
        else:
            ints = [x for w, v in chunks for x in r.varints(v, w, what)]
            vals = _ints_as(ints, elem, dtype, r, what)
        if vals.size != count:
            raise r.fail(f"{what}: {vals.size} values for dimensions {dims}")
        arr = vals.astype(dtype, copy=False)
    return TensorData(name, elem, tuple(dims), arr.reshape(dims))


def _ints_as(ints: list[int], elem: int, dtype: np.dtype, r: _Reader, what: str) -> np.ndarray:
    """Integer-field values as the element type: float16 stored as its bit pattern, the
    unsigned 64-bit types taken unsigned, every value range-checked."""
    if elem == 10:
        bits = [v & 0xFFFFFFFF for v in ints]
        if any(b > 0xFFFF for b in bits):
            raise r.fail(f"{what}: a float16 bit pattern wider than 16 bits")
        return np.array(bits, dtype="<u2").view("<f2")
    if elem in (12, 13):
        ints = [v & 0xFFFFFFFFFFFFFFFF for v in ints]
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is not None and any(not info.min <= v <= info.max for v in ints):
        raise r.fail(f"{what}: a value outside the range of {type_name(elem)}")
    if elem == 9 and any(v not in (0, 1) for v in ints):
        raise r.fail(f"{what}: a bool that is neither 0 nor 1")
    return np.array(ints, dtype=dtype)


_ATTR_KINDS = {1: "float", 2: "int", 3: "string", 4: "tensor", 5: "graph", 6: "floats",
               7: "ints", 8: "strings", 9: "tensors", 10: "graphs", 11: "sparse_tensor",
               12: "sparse_tensors", 13: "type_proto", 14: "type_protos"}


def _attribute(r: _Reader) -> Attribute:
    name, kind = "", None
    vals: dict[str, Any] = {}
    for num, wt, val in r.fields():
        if num == 1:
            name = r.string(val, wt, "attribute name")
        elif num == 20:
            kind = _ATTR_KINDS.get(r.integer(val, wt, "attribute type"), "unknown")
        elif num == 2:
            if wt != I32:
                raise r.fail(f"attribute {name!r}: f is not a float")
            vals["float"] = float(r.fixed(val, wt, "attribute f", "<f4")[0])
        elif num == 3:
            vals["int"] = r.integer(val, wt, "attribute i")
        elif num == 4:
            if wt != LEN:
                raise r.fail("attribute s is not bytes")
            vals["string"] = bytes(val)
        elif num == 5:
            vals["tensor"] = _tensor(r.sub(val, wt, f"attribute {name!r} tensor"))
        elif num in (6, 11):
            vals["graph"] = None  # a subgraph: never decoded
        elif num == 7:
            vals.setdefault("floats", []).extend(
                float(x) for x in r.fixed(val, wt, "attribute floats", "<f4"))
        elif num == 8:
            vals.setdefault("ints", []).extend(r.varints(val, wt, "attribute ints"))
        elif num == 9:
            if wt != LEN:
                raise r.fail(f"attribute {name!r}: strings are not bytes")
            vals.setdefault("strings", []).append(bytes(val))
        elif num == 10:
            vals.setdefault("tensors", []).append(
                _tensor(r.sub(val, wt, f"attribute {name!r} tensors")))
        elif num == 21:
            kind = "ref"
    if kind is None:  # IR version 1 files leave the type out: infer it from the one value
        if len(vals) != 1:
            raise r.fail(f"attribute {name!r} has no type")
        kind = next(iter(vals))
    if kind == "ref":
        raise r.fail(f"attribute {name!r} refers to a function attribute")
    if kind in ("floats", "ints", "strings", "tensors"):
        return Attribute(name, kind, vals.get(kind, []))
    if kind not in vals and kind != "graph":
        if kind in ("float", "int", "string"):  # proto3 leaves a zero value out
            return Attribute(name, kind, {"float": 0.0, "int": 0, "string": b""}[kind])
        raise r.fail(f"attribute {name!r} of type {kind} has no value")
    return Attribute(name, kind, vals.get(kind))


def _node(r: _Reader, index: int) -> Node:
    node = Node("", [], [], index=index)
    for num, wt, val in r.fields():
        if num == 1:
            node.inputs.append(r.string(val, wt, "node input"))
        elif num == 2:
            node.outputs.append(r.string(val, wt, "node output"))
        elif num == 3:
            node.name = r.string(val, wt, "node name")
        elif num == 4:
            node.op_type = r.string(val, wt, "node op_type")
        elif num == 7:
            node.domain = r.string(val, wt, "node domain")
        elif num == 5:
            a = _attribute(r.sub(val, wt, f"attribute of node {index}"))
            if a.name in node.attributes:
                raise r.fail(f"node {index}: attribute {a.name!r} is given twice")
            node.attributes[a.name] = a
    if not node.op_type:
        raise r.fail(f"node {index} has no op_type")
    return node


def _value_info(r: _Reader) -> ValueInfo:
    vi = ValueInfo("")
    for num, wt, val in r.fields():
        if num == 1:
            vi.name = r.string(val, wt, "value name")
        elif num == 2:
            t = r.sub(val, wt, f"type of {vi.name!r}")
            for n2, w2, v2 in t.fields():
                if n2 == 1:  # tensor_type
                    tt = t.sub(v2, w2, f"tensor type of {vi.name!r}")
                    for n3, w3, v3 in tt.fields():
                        if n3 == 1:
                            vi.elem_type = tt.integer(v3, w3, "elem_type")
                        elif n3 == 2:
                            vi.shape = _shape(tt.sub(v3, w3, f"shape of {vi.name!r}"))
    return vi


def _shape(r: _Reader) -> tuple:
    dims: list = []
    for num, wt, val in r.fields():
        if num == 1:
            d: Any = None
            dr = r.sub(val, wt, "dimension")
            for n2, w2, v2 in dr.fields():
                if n2 == 1:
                    d = dr.integer(v2, w2, "dim_value")
                elif n2 == 2:
                    d = dr.string(v2, w2, "dim_param")
            dims.append(d)
            if len(dims) > MAX_RANK:
                raise r.fail(f"a shape of more than {MAX_RANK} dimensions")
    return tuple(dims)


def _graph(r: _Reader) -> Graph:
    g = Graph("", [], {}, [], [])
    for num, wt, val in r.fields():
        if num == 1:
            g.nodes.append(_node(r.sub(val, wt, f"node {len(g.nodes)}"), len(g.nodes)))
        elif num == 2:
            g.name = r.string(val, wt, "graph name")
        elif num == 5:
            t = _tensor(r.sub(val, wt, f"initializer {len(g.initializers)}"))
            if t.name in g.initializers:
                raise r.fail(f"initializer {t.name!r} is given twice")
            g.initializers[t.name] = t
        elif num == 15:
            raise r.fail("sparse initializers are not supported")
        elif num == 11:
            g.inputs.append(_value_info(r.sub(val, wt, "graph input")))
        elif num == 12:
            g.outputs.append(_value_info(r.sub(val, wt, "graph output")))
    return g


def parse_model(data: bytes, *, path: str | None = None) -> Model:
    """Decode the bytes of an ONNX model (see :func:`read_model`)."""
    r = _Reader(memoryview(data), path, "model")
    ir, opsets, graph, producer, funcs = 0, {}, None, "", False
    for num, wt, val in r.fields():
        if num == 1:
            ir = r.integer(val, wt, "ir_version")
        elif num == 2:
            producer = r.string(val, wt, "producer_name")
        elif num == 7:
            if graph is not None:
                raise r.fail("two graphs")
            graph = _graph(r.sub(val, wt, "graph"))
        elif num == 8:
            o = r.sub(val, wt, "opset_import")
            dom, ver = "", 1
            for n2, w2, v2 in o.fields():
                if n2 == 1:
                    dom = o.string(v2, w2, "opset domain")
                elif n2 == 2:
                    ver = o.integer(v2, w2, "opset version")
            opsets[dom] = ver
        elif num == 25:
            funcs = True
    if graph is None:
        raise r.fail("no graph (is this an ONNX model?)")
    return Model(ir, opsets, graph, producer, path, funcs)


def _read_bytes(path: Any, limit: int) -> tuple[bytes, str]:
    """A regular file's bytes, gunzipped (by its name or its first bytes), at most ``limit``."""
    p = str(path)
    data = read_bytes(p, limit=limit)
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.open(io.BytesIO(data)) as gz:
                data = gz.read(limit + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise ParseError(f"not a readable gzip file ({exc})", path=p) from None
        if len(data) > limit:
            raise ParseError(f"larger than {limit} bytes", path=p)
    return data, p


def read_model(path: Any) -> Model:
    """Read an ONNX model file (optionally gzipped), decoded in pure Python.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Model
        Its operator sets, and its graph: nodes with decoded attributes, initializers as
        :class:`TensorData`, and the inputs' and outputs' types and shapes.

    Raises
    ------
    ParseError
        For anything malformed, naming the file.

    Examples
    --------
    >>> m = read_model(TEST_NANO)  # tests/data/vnncomp/benchmarks/test/test_nano.onnx
    >>> [n.op_type for n in m.graph.nodes], m.opset
    (['MatMul', 'Relu'], 14)
    """
    data, p = _read_bytes(path, MAX_BYTES)
    return parse_model(data, path=p)


def parse_tensor(data: bytes, *, path: str | None = None) -> TensorData:
    """Decode the bytes of one ``TensorProto`` (as the ONNX backend tests store them)."""
    return _tensor(_Reader(memoryview(data), path, "tensor"))


def read_tensor(path: Any) -> TensorData:
    """Read a ``TensorProto`` file (``input_0.pb``), decoded in pure Python.

    Examples
    --------
    >>> t = read_tensor(RELU_INPUT)  # onnx's node test test_relu: test_data_set_0/input_0.pb
    >>> t.type_name, t.dims
    ('float32', (3, 4, 5))
    """
    data, p = _read_bytes(path, MAX_BYTES)
    return parse_tensor(data, path=p)


def to_onnx_proto(model: Model) -> Any:
    """The decoded model written back as an ``onnx.ModelProto``, from what this module read.

    Hand onnxruntime (or any other C parser) this, serialized, never the untrusted file: the
    bytes it then parses are ones the ``onnx`` package wrote from checked values. Needs the
    ``onnx`` package (a :class:`~symdnn.errors.MissingDependency` naming the ``onnx`` extra
    when it is not installed); a node with a graph attribute (``If``, ``Loop``), never
    decoded, is refused.

    Examples
    --------
    >>> m = read_model(TEST_NANO)  # tests/data/vnncomp/benchmarks/test/test_nano.onnx
    >>> [n.op_type for n in to_onnx_proto(m).graph.node]
    ['MatMul', 'Relu']
    """
    onnx = require("onnx", "onnx", what="to_onnx_proto")
    from onnx import helper, numpy_helper

    g = model.graph
    kinds = {"float": onnx.AttributeProto.FLOAT, "int": onnx.AttributeProto.INT,
             "string": onnx.AttributeProto.STRING, "tensor": onnx.AttributeProto.TENSOR,
             "floats": onnx.AttributeProto.FLOATS, "ints": onnx.AttributeProto.INTS,
             "strings": onnx.AttributeProto.STRINGS, "tensors": onnx.AttributeProto.TENSORS}

    def tensor(t: TensorData) -> Any:
        return numpy_helper.from_array(np.ascontiguousarray(t.array), t.name)

    def attr(n: Node, a: Attribute) -> Any:
        if a.kind not in kinds:
            raise ParseError(f"{n.label}: attribute {a.name!r} holds a {a.kind}, which is not "
                             "supported", path=model.path)
        v = a.value
        if a.kind == "tensor":
            v = tensor(v)
        elif a.kind == "tensors":
            v = [tensor(t) for t in v]
        return helper.make_attribute(a.name, v, attr_type=kinds[a.kind])

    nodes = []
    for n in g.nodes:
        node = helper.make_node(n.op_type, n.inputs, n.outputs, name=n.name or None,
                                domain=n.domain or None)
        node.attribute.extend(attr(n, a) for a in n.attributes.values())
        nodes.append(node)

    def info(v: ValueInfo) -> Any:
        return helper.make_tensor_value_info(v.name, v.elem_type or 1,
                                             None if v.shape is None else list(v.shape))

    gp = helper.make_graph(nodes, g.name or "graph", [info(v) for v in g.inputs],
                           [info(v) for v in g.outputs],
                           initializer=[tensor(t) for t in g.initializers.values()])
    out = helper.make_model(gp, opset_imports=[helper.make_opsetid(d, v)
                                               for d, v in model.opsets.items()] or None)
    out.ir_version = max(model.ir_version, 3)
    return out
