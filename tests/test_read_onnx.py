"""read_onnx matches the ONNX graph as it is connected, and reads only what SparseDNN expresses.

Each accepted model is checked against two independent evaluators on a few inputs: the
plain-Fraction oracle of ``tests/onnx_oracle.py`` (the onnx package reads the file; the graph
run in exact rationals) with ``==``, and onnxruntime in float32, which must return the float32
rounding of symdnn's exact output. The inputs, weights and biases are small dyadic numbers, so
float32 arithmetic is exact and onnxruntime has no rounding to do, except in the bias test,
whose one rounding is the one named there. Each refused model is refused with a SymdnnError
that names the node at fault.
"""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
import scipy.sparse as sp

onnx = pytest.importorskip("onnx", reason="ONNX models are written with the onnx package: "
                                          "pip install 'symdnn[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="pip install 'symdnn[onnx]'")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from symdnn.assoc import AssocArray  # noqa: E402
from symdnn.audit.foreign import read_onnx  # noqa: E402
from symdnn.errors import SymdnnError  # noqa: E402
from tests.onnx_oracle import fraction_eval  # noqa: E402

N = helper.make_node


def _fr(v) -> F:
    return F(int(v.p), int(v.q))


def save(tmp_path, nodes, inits, n_in, n_out, *, opset=13, name="m", elem=TensorProto.FLOAT,
         check=True, extra_inputs=()):
    """Write a one-input, one-output graph ``x -> ... -> y`` and return its path."""
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", elem, [None, n_in])] +
        [helper.make_tensor_value_info(v, elem, [n_in, n_out]) for v in extra_inputs],
        [helper.make_tensor_value_info("y", elem, [None, n_out])],
        [numpy_helper.from_array(a, k) for k, a in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    if check:
        onnx.checker.check_model(model)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    return str(path)


def f32(*rows) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def round_f32(q: F) -> float:
    """``q`` rounded to the nearest float32, ties to even (an oracle of its own)."""
    c = np.float32(float(q))
    near = [np.nextafter(c, np.float32(-np.inf)), c, np.nextafter(c, np.float32(np.inf))]
    best = min(near, key=lambda f: (abs(F(float(f)) - q), int(f.view(np.uint32)) & 1))
    return float(best)


def symdnn_out(net, X) -> list[list[F]]:
    """``net`` run exactly on the rows of ``X`` (none of them zero), as Fractions."""
    rows = [f"s{k}" for k in range(len(X))]
    Y0 = AssocArray.from_scipy(sp.csr_matrix(np.asarray(X, dtype=np.float64)), rows,
                               list(net.inputs), domain="QQ")
    got = net.infer(Y0).output.to_dict()
    return [[_fr(got[r][k]) if k in got.get(r, {}) else F(0) for k in net.outputs]
            for r in rows]


def agrees(path, X) -> list[list[F]]:
    """read_onnx's network, run exactly on ``X``, equals the Fraction oracle exactly and
    rounds to what onnxruntime computes in float32; returns the exact output."""
    net = read_onnx(path)
    exact = symdnn_out(net, X)
    oracle = [fraction_eval(path, [F(float(v)) for v in row]) for row in X]
    assert exact == oracle
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": np.asarray(X, dtype=np.float32)})[0]
    assert got.tolist() == [[round_f32(v) for v in row] for row in exact]
    return exact


def refused(path, *what):
    """read_onnx refuses ``path`` with a SymdnnError whose message holds every ``what``."""
    with pytest.raises(SymdnnError) as err:
        read_onnx(path)
    for w in what:
        assert w in str(err.value), (w, str(err.value))
    return str(err.value)


W1 = f32([1, -0.5, 2], [0.25, 1, -1])           # 2 inputs -> 3
W2 = f32([1, 0.5], [-2, 1], [0.5, 0.25])          # 3 -> 2
B1 = f32(0.5, -0.25, 1)
X = [[1, 2], [-1, 0.5], [4, -3], [0.5, 0.25]]      # dyadic, no row zero


class TestLinearLayers:
    """No Relu/Clip after a layer: refused, never read with a ReLU."""

    def test_linear_last_layer_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"], name="mm1"), N("Relu", ["h"], ["a"]),
                 N("MatMul", ["a", "W2"], ["y"], name="logits")]
        p = save(tmp_path, nodes, {"W1": W1, "W2": W2}, 2, 2)
        refused(p, "node 2 (MatMul 'logits')", "last layer has no Relu")

    def test_linear_last_layer_with_bias_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Add", ["h", "b"], ["y"], name="bias")]
        refused(save(tmp_path, nodes, {"W1": W1, "b": B1}, 2, 3), "(Add 'bias')",
                "last layer has no Relu")

    def test_linear_hidden_layer_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"], name="hidden"),
                 N("MatMul", ["h", "W2"], ["o"], name="second"), N("Relu", ["o"], ["y"])]
        refused(save(tmp_path, nodes, {"W1": W1, "W2": W2}, 2, 2),
                "(MatMul 'second')", "(MatMul 'hidden')", "has no Relu or Clip")

    def test_relu_on_every_layer_accepted(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Add", ["h", "b"], ["hb"]),
                 N("Relu", ["hb"], ["a"]), N("MatMul", ["a", "W2"], ["o"]),
                 N("Relu", ["o"], ["y"])]
        p = save(tmp_path, nodes, {"W1": W1, "b": B1, "W2": W2}, 2, 2)
        assert read_onnx(p).ymax is None
        out = agrees(p, X)
        assert any(v == 0 for row in out for v in row) and any(v > 0 for row in out for v in row)


class TestClip:
    """Clip(min, max) is ReLU capped at max only when its interval starts at 0."""

    def test_clip_min_half_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]),
                 N("Clip", ["h", "lo", "hi"], ["y"], name="clip_half")]
        p = save(tmp_path, nodes, {"W1": W1, "lo": np.float32(0.5), "hi": np.float32(6)}, 2, 3)
        refused(p, "node 1 (Clip 'clip_half')", "starts at 1/2, not 0")

    def test_clip_negative_min_refused_alone_accepted_after_relu(self, tmp_path):
        inits = {"W1": W1, "lo": np.float32(-1), "hi": np.float32(2)}
        alone = [N("MatMul", ["x", "W1"], ["h"]), N("Clip", ["h", "lo", "hi"], ["y"], name="c")]
        refused(save(tmp_path, alone, inits, 2, 3, name="alone"), "(Clip 'c')", "starts at -1")
        # Relu then Clip(-1, 2) is exactly Clip(0, 2): composed, not refused
        both = [N("MatMul", ["x", "W1"], ["h"]), N("Relu", ["h"], ["r"]),
                N("Clip", ["r", "lo", "hi"], ["y"])]
        p = save(tmp_path, both, inits, 2, 3, name="both")
        assert _fr(read_onnx(p).ymax) == 2
        out = agrees(p, X)
        assert F(2) in {v for row in out for v in row}  # the cap is reached

    def test_clip_without_min_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Clip", ["h", "", "hi"], ["y"], name="c")]
        refused(save(tmp_path, nodes, {"W1": W1, "hi": np.float32(6)}, 2, 3),
                "(Clip 'c')", "no lower bound")

    def test_clip_without_max_is_relu(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Clip", ["h", "lo"], ["y"])]
        p = save(tmp_path, nodes, {"W1": W1, "lo": np.float32(0)}, 2, 3)
        assert read_onnx(p).ymax is None
        agrees(p, X)

    def test_clip_attributes_before_opset_11(self, tmp_path):
        ok = [N("MatMul", ["x", "W1"], ["h"]), N("Clip", ["h"], ["y"], min=0.0, max=1.5)]
        p = save(tmp_path, ok, {"W1": W1}, 2, 3, opset=10, name="ok")
        assert _fr(read_onnx(p).ymax) == F(3, 2)
        agrees(p, X)
        bad = [N("MatMul", ["x", "W1"], ["h"]), N("Clip", ["h"], ["y"], min=0.5, name="c6")]
        refused(save(tmp_path, bad, {"W1": W1}, 2, 3, opset=10, name="bad"),
                "(Clip 'c6')", "starts at 1/2")

    def test_two_layers_different_caps_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Clip", ["h", "zero", "six"], ["a"]),
                 N("MatMul", ["a", "W2"], ["o"]),
                 N("Clip", ["o", "zero", "four"], ["y"], name="cap4")]
        inits = {"W1": W1, "W2": W2, "zero": np.float32(0), "six": np.float32(6),
                 "four": np.float32(4)}
        refused(save(tmp_path, nodes, inits, 2, 2), "node 3 (Clip 'cap4')", "the cap 4",
                "the cap 6", "one cap YMAX")

    def test_cap_on_some_layers_only_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Relu", ["h"], ["a"], name="plain"),
                 N("MatMul", ["a", "W2"], ["o"]), N("Clip", ["o", "zero", "six"], ["y"])]
        inits = {"W1": W1, "W2": W2, "zero": np.float32(0), "six": np.float32(6)}
        refused(save(tmp_path, nodes, inits, 2, 2), "(Relu 'plain')", "no cap", "the cap 6")

    def test_two_layers_same_cap_accepted(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Clip", ["h", "zero", "cap"], ["a"]),
                 N("MatMul", ["a", "W2"], ["o"]), N("Clip", ["o", "zero", "cap2"], ["y"])]
        inits = {"W1": W1, "W2": W2, "zero": np.float32(0), "cap": np.float32(2.5),
                 "cap2": np.float32(2.5)}
        p = save(tmp_path, nodes, inits, 2, 2)
        assert _fr(read_onnx(p).ymax) == F(5, 2)
        out = agrees(p, X)
        assert F(5, 2) in {v for row in out for v in row}

    def test_activations_in_a_row_compose_to_their_intersection(self, tmp_path):
        # layer 0: Clip(0, 8) then Clip(0, 2); layer 1: Relu then Clip(max=2): both [0, 2]
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Clip", ["h", "zero", "eight"], ["c"]),
                 N("Clip", ["c", "zero", "two"], ["a"]), N("MatMul", ["a", "W2"], ["o"]),
                 N("Relu", ["o"], ["r"]), N("Clip", ["r", "", "two"], ["y"])]
        inits = {"W1": W1, "W2": W2, "zero": np.float32(0), "eight": np.float32(8),
                 "two": np.float32(2)}
        p = save(tmp_path, nodes, inits, 2, 2)
        assert _fr(read_onnx(p).ymax) == 2
        agrees(p, X)

    def test_empty_interval_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Relu", ["h"], ["r"]),
                 N("Clip", ["r", "", "neg"], ["y"], name="below")]
        refused(save(tmp_path, nodes, {"W1": W1, "neg": np.float32(-1)}, 2, 3),
                "(Clip 'below')", "empty interval")


class TestGemm:
    def test_gemm_trans_b_with_bias_and_add(self, tmp_path):
        # Gemm(x, W1.T, C) with transB=1, then Add(b, .) with the bias first, then a Gemm
        # with no C and a (1, n) Add
        nodes = [N("Gemm", ["x", "W1t", "C"], ["h"], transB=1), N("Add", ["b", "h"], ["hb"]),
                 N("Relu", ["hb"], ["a"]), N("Gemm", ["a", "W2"], ["o"]),
                 N("Add", ["o", "b2"], ["ob"]), N("Relu", ["ob"], ["y"])]
        inits = {"W1t": np.ascontiguousarray(W1.T), "C": f32(0.25, 0.5, -2),
                 "b": f32(-0.5, 0.125, 1), "W2": W2, "b2": f32([0.75, -0.25])}
        p = save(tmp_path, nodes, inits, 2, 2)
        net = read_onnx(p)
        assert _fr(net.layers[0].W.get((0, 0), (1, 2))) == 2  # W1[0, 2], not W1t's
        assert {k: _fr(v) for k, v in net.layers[0].bias.items()} == \
            {(1, 0): F(-1, 4), (1, 1): F(5, 8), (1, 2): F(-1)}
        agrees(p, X)

    def test_gemm_scalar_bias(self, tmp_path):
        nodes = [N("Gemm", ["x", "W1", "c"], ["h"]), N("Relu", ["h"], ["y"])]
        p = save(tmp_path, nodes, {"W1": W1, "c": f32(-0.75)}, 2, 3)
        agrees(p, X)

    def test_gemm_alpha_refused(self, tmp_path):
        nodes = [N("Gemm", ["x", "W1"], ["h"], alpha=2.0, name="g"), N("Relu", ["h"], ["y"])]
        refused(save(tmp_path, nodes, {"W1": W1}, 2, 3), "(Gemm 'g')", "alpha")

    def test_matmul_weight_first_refused(self, tmp_path):
        nodes = [N("MatMul", ["Wt", "x"], ["h"], name="wx"), N("Relu", ["h"], ["y"])]
        p = save(tmp_path, nodes, {"Wt": W1}, 2, 3, check=False)
        refused(p, "(MatMul 'wx')", "other than its first")


class TestChain:
    """The graph must be one chain, followed through the values, not the file order."""

    def test_relu_applied_to_a_branch_refused(self, tmp_path):
        # the Relu reads h, the MatMul's output, not hb = h + b: h feeds two nodes
        nodes = [N("MatMul", ["x", "W1"], ["h"], name="mm"), N("Add", ["h", "b"], ["hb"]),
                 N("Relu", ["h"], ["a"], name="wrong"), N("MatMul", ["a", "W2"], ["o"]),
                 N("Relu", ["o"], ["y"])]
        p = save(tmp_path, nodes, {"W1": W1, "b": B1, "W2": W2}, 2, 2)
        refused(p, "node 0 (MatMul 'mm')", "read by 2 nodes", "(Relu 'wrong')")

    def test_relu_on_an_unused_value_refused(self, tmp_path):
        # a dead node: the Relu reads an initializer and its result goes nowhere
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Relu", ["h"], ["y"]),
                 N("Relu", ["b"], ["dead"], name="stray")]
        refused(save(tmp_path, nodes, {"W1": W1, "b": B1}, 2, 3), "(Relu 'stray')",
                "not on the chain")

    def test_output_not_the_last_value_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["y"]), N("Relu", ["y"], ["after"], name="late")]
        refused(save(tmp_path, nodes, {"W1": W1}, 2, 3), "(Relu 'late')",
                "reads the graph output")

    def test_weight_from_a_graph_input_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "Win"], ["h"]), N("Relu", ["h"], ["y"])]
        p = save(tmp_path, nodes, {}, 2, 3, extra_inputs=["Win"])
        refused(p, "2 inputs", "'Win'")

    def test_unsupported_operator_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Sigmoid", ["h"], ["y"], name="sig")]
        refused(save(tmp_path, nodes, {"W1": W1}, 2, 3), "(Sigmoid 'sig')", "not supported")

    def test_nonfinite_weight_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"], name="mm"), N("Relu", ["h"], ["y"])]
        bad = W1.copy()
        bad[0, 1] = np.inf
        refused(save(tmp_path, nodes, {"W1": bad}, 2, 3), "(MatMul 'mm')", "finite")

    def test_mismatched_widths_refused(self, tmp_path):
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Relu", ["h"], ["a"]),
                 N("MatMul", ["a", "W3"], ["o"], name="narrow"), N("Relu", ["o"], ["y"])]
        p = save(tmp_path, nodes, {"W1": W1, "W3": f32([1], [1])}, 2, 1, check=False)
        refused(p, "(MatMul 'narrow')", "2 rows", "3 outputs")

    def test_nodes_out_of_file_order_follow_the_data(self, tmp_path):
        """A chain listed backwards is read by following the values; the oracle runs the
        same graph listed in order."""
        nodes = [N("MatMul", ["x", "W1"], ["h"]), N("Add", ["h", "b"], ["hb"]),
                 N("Relu", ["hb"], ["a"]), N("MatMul", ["a", "W2"], ["o"]),
                 N("Relu", ["o"], ["y"])]
        inits = {"W1": W1, "b": B1, "W2": W2}
        ordered = save(tmp_path, nodes, inits, 2, 2, name="ordered")
        backwards = save(tmp_path, nodes[::-1], inits, 2, 2, name="backwards", check=False)
        oracle = [fraction_eval(ordered, [F(v) for v in row]) for row in X]
        assert symdnn_out(read_onnx(backwards), X) == oracle


class TestExactBias:
    def test_bias_sum_is_exact_where_float64_rounds(self, tmp_path):
        """Gemm's C and an Add's b are float32 values 2**60 apart: their float64 sum rounds
        (1 + 2**-60 is 1.0), their exact sum does not."""
        tiny = 2.0 ** -60
        assert np.float64(1.0) + np.float64(tiny) == 1.0  # what the float64 sum would hold
        C = f32(tiny, -tiny, 2.0 ** -100)
        b = f32(1.0, 1.0, 2.0 ** 20)
        nodes = [N("Gemm", ["x", "W1", "C"], ["h"]), N("Add", ["h", "b"], ["hb"]),
                 N("Relu", ["hb"], ["y"])]
        p = save(tmp_path, nodes, {"W1": W1, "C": C, "b": b}, 2, 3)
        net = read_onnx(p)
        held = {k: _fr(v) for k, v in net.layers[0].bias.items()}
        assert held == {(1, 0): 1 + F(1, 2**60), (1, 1): 1 - F(1, 2**60),
                        (1, 2): 2**20 + F(1, 2**100)}
        # onnxruntime rounds (x W + C) then adds b; for these inputs x W + C rounds to x W
        # and the result to the float32 rounding of the exact value, which agrees() checks
        out = agrees(p, [[0.5, 0.25], [1, 0.5]])
        assert out[0][0] == F(25, 16) + F(1, 2**60)  # 1/2 + 1/16 + 1 + 2**-60
