"""The ONNX operator registry (symdnn.io.onnx_ops) and the validated graph (io.onnx_graph).

The registry's signatures are checked against the ``onnx`` package's own operator schemas,
an independent oracle; the graph's validation on small explicit models.
"""

from __future__ import annotations

import numpy as np
import pytest

from symdnn.errors import GraphError
from symdnn.io.onnx_graph import ExactGraph, OnnxGraph
from symdnn.io.onnx_ops import MAX_OPSET, OPERATORS, REGISTRY, check_node, op_for
from symdnn.io.onnxwire import parse_model

onnx = pytest.importorskip("onnx", reason="the schemas and the models come from onnx")
from onnx import TensorProto, defs, helper, numpy_helper  # noqa: E402

_KINDS = {"int": "INT", "float": "FLOAT", "ints": "INTS", "floats": "FLOATS",
          "tensor": "TENSOR", "string": "STRING"}


def _spans():
    """(class, first opset, last opset) for every registered class."""
    for classes in REGISTRY.values():
        for i, c in enumerate(classes):
            last = classes[i + 1].since - 1 if i + 1 < len(classes) else MAX_OPSET
            yield c, c.since, last


class TestRegistryAgainstTheOnnxSchemas:
    def test_every_operator_is_registered_once_per_signature(self):
        assert set(OPERATORS) == set(REGISTRY)
        for op, classes in REGISTRY.items():
            assert [c.op_type for c in classes] == [op] * len(classes)
            assert [c.since for c in classes] == sorted({c.since for c in classes})

    @pytest.mark.parametrize("cls", [c for c, _, _ in _spans()], ids=lambda c: c.__name__)
    def test_a_class_starts_where_onnx_starts_a_version(self, cls):
        assert defs.get_schema(cls.op_type, cls.since).since_version == cls.since
        if cls is REGISTRY[cls.op_type][0] and cls.since > 1:
            with pytest.raises(defs.SchemaError):
                defs.get_schema(cls.op_type, cls.since - 1)

    @pytest.mark.parametrize("span", list(_spans()), ids=lambda s: s[0].__name__)
    def test_attributes_and_arity_are_onnx_ones(self, span):
        cls, first, last = span
        for opset in range(first, last + 1):
            schema = defs.get_schema(cls.op_type, opset)
            for name, kind in cls.attrs.items():
                assert name in schema.attributes, (cls.__name__, opset, name)
                if (cls.op_type, name, opset) not in _LENIENT_KIND:
                    assert schema.attributes[name].type.name == _KINDS[kind]
            lo, hi = cls.arity
            if (cls.op_type, opset) not in _LENIENT_ARITY:
                assert lo == schema.min_input or lo == 0 == schema.min_input
            assert min(hi, 2 ** 31 - 1) <= schema.max_input


#: where symdnn accepts more than the schema, on purpose (the graph is refused later, or the
#: value is checked by the operator): Gemm without C before opset 11 (ONNX made C optional
#: in 11), Unsqueeze without axes from opset 13 (refused when evaluated: "needs axes")
_LENIENT_ARITY = {("Gemm", o) for o in range(1, 11)} | \
    {("Unsqueeze", o) for o in range(13, MAX_OPSET + 1)}
#: Cast before opset 6 took 'to' as a string; symdnn reads only the integer form
_LENIENT_KIND = {("Cast", "to", o) for o in range(1, 6)}


class TestCheckNode:
    def node(self, op, inputs, **attrs):
        model = helper.make_model(
            helper.make_graph([helper.make_node(op, inputs, ["y"], name="n", **attrs)], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]))
        return parse_model(model.SerializeToString()).graph.nodes[0]

    def test_the_class_follows_the_opset(self):
        assert op_for("Clip", 10).__name__ == "Clip_1"
        assert op_for("Clip", 11).__name__ == "Clip_11"
        assert check_node(self.node("Clip", ["x"], min=0.0), 6).__name__ == "Clip_1"

    def test_an_attribute_outside_its_opsets_names_them(self):
        with pytest.raises(GraphError, match="attribute 'min' of Clip belongs to opsets 1 to "
                                             "10, not 11"):
            check_node(self.node("Clip", ["x"], min=0.0), 11)

    def test_an_operator_before_it_exists(self):
        with pytest.raises(GraphError, match="Where does not exist in opset 8"):
            check_node(self.node("Where", ["x", "x", "x"]), 8)

    def test_arity_by_opset(self):
        with pytest.raises(GraphError, match=r"3 inputs \(Clip takes 1 in opset 10\)"):
            check_node(self.node("Clip", ["x", "x", "x"]), 10)
        assert check_node(self.node("Clip", ["x", "x", "x"]), 11).arity == (1, 3)


def _model(nodes, opset=13) -> bytes:
    w = numpy_helper.from_array(np.eye(2, dtype=np.float32), "W")
    graph = helper.make_graph(nodes, "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
                              [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]) \
        .SerializeToString()


class TestOnnxGraph:
    def test_order_is_required_only_when_asked(self):
        nodes = [helper.make_node("Relu", ["h"], ["y"]),
                 helper.make_node("MatMul", ["x", "W"], ["h"])]
        m = parse_model(_model(nodes))
        assert OnnxGraph(m, ordered=False).ops == ["Relu", "MatMul"]
        with pytest.raises(GraphError, match="'h' is not computed before it"):
            OnnxGraph(m)

    def test_a_value_nothing_computes_is_refused_in_any_order(self):
        nodes = [helper.make_node("MatMul", ["x", "V"], ["y"], name="mm")]
        with pytest.raises(GraphError, match=r"\(MatMul 'mm'\): input 'V' is never computed"):
            OnnxGraph(parse_model(_model(nodes)), ordered=False)

    def test_the_exact_graph_is_the_validated_graph_evaluated(self):
        nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]),
                 helper.make_node("Relu", ["h"], ["y"])]
        g = ExactGraph(parse_model(_model(nodes)))
        assert isinstance(g, OnnxGraph)
        assert [c.__name__ for c in g.runs] == ["MatMul_1", "Relu_1"]
        assert g([3, -1]).num.tolist() == [[3, 0]]
