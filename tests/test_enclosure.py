"""Certified enclosures of the operators that are not rational, and the verdicts they decide.

Every enclosure is checked against mpmath at 3,000 bits (an oracle that shares no code with
python-flint's arb), on points aimed at the hard cases: sigmoid near 0 and far out, exp in
float32's overflow range and beyond, sin and cos of huge arguments, softmax of mixed
magnitudes. The graphs are built with onnx.helper; onnxruntime's float32 outputs must lie
within a rigorous float error bound of the enclosure.
"""

from __future__ import annotations

import json
from fractions import Fraction as F

import mpmath
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from symdnn.errors import GraphError, NotRationalError, UndecidedError
from symdnn.io import onnx_ball
from symdnn.io.onnx_ball import RULES, Ball, arb_unary, ball, evaluate, round_out
from symdnn.io.onnx_graph import ExactGraph, import_onnx
from symdnn.io.onnx_ops import REGISTRY, op_for
from symdnn.io.onnx_tensor import Exact, exact_tensor
from symdnn.io.onnxwire import Attribute, Node, parse_model
from symdnn.io.vnnlib import parse_counterexample, parse_vnnlib, read_counterexample, read_vnnlib
from symdnn.witness.replay import replay, robustness_bounds
from tests.datafiles import FIXTURES

ORACLE_BITS = 3000


def mp(q: F) -> mpmath.mpf:
    """A rational as an mpf at the oracle's precision (exact for the dyadic endpoints)."""
    return mpmath.mpf(q.numerator) / q.denominator


def oracle(fn: str, x: F) -> mpmath.mpf:
    with mpmath.workprec(ORACLE_BITS):
        v = mp(x)
        return {"sigmoid": lambda: 1 / (1 + mpmath.exp(-v)), "tanh": lambda: mpmath.tanh(v),
                "exp": lambda: mpmath.exp(v), "sin": lambda: mpmath.sin(v),
                "cos": lambda: mpmath.cos(v)}[fn]()


def encloses(lo: F, v: mpmath.mpf, hi: F) -> bool:
    with mpmath.workprec(ORACLE_BITS):
        return mp(lo) <= v <= mp(hi)


def f32(v: float) -> F:
    return F(float(np.float32(v)))


HARD = {
    "sigmoid": [F(0), F(1, 2 ** 30), -F(1, 2 ** 30), f32(1e-8), F(100), F(-100), F(-1000),
                F(745), f32(0.1)],
    "tanh": [F(0), F(1, 2 ** 40), F(20), F(-20), f32(0.7), F(10 ** 4)],
    "exp": [F(0), f32(88.72283), f32(88.7229), F(700), F(-745), F(10 ** 4), F(-10 ** 4),
            f32(1e-30)],
    "sin": [F(2 ** 60), F(2 ** 100), F(1e22), f32(3.1415927), F(355), F(0)],
    "cos": [F(2 ** 60), F(2 ** 100), f32(1.5707964), F(0), F(-(2 ** 40))],
}


class TestArbAgainstMpmath:
    @pytest.mark.parametrize("fn", sorted(HARD))
    def test_enclosures_contain_the_true_value(self, fn):
        xs = HARD[fn]
        for prec in (64, 200):
            lo, hi = arb_unary(exact_tensor(xs), fn, prec)  # one tensor: one grid
            for x, a, b in zip(xs, lo.flat(), hi.flat(), strict=True):
                assert encloses(a, oracle(fn, x), b), (fn, x, prec)
            for x in xs:  # alone, each is tight: a few units of the precision relative to
                v = oracle(fn, x)  # |v| (to 1 for sin and cos, whose zeros cancel)
                (a,), (b,) = (t.flat() for t in arb_unary(exact_tensor([x]), fn, prec))
                assert encloses(a, v, b), (fn, x, prec)
                with mpmath.workprec(ORACLE_BITS):
                    scale = max(abs(v), mpmath.mpf(2) ** (-prec) if fn not in ("sin", "cos")
                                else 1)
                    assert mp(b - a) <= scale * mpmath.mpf(2) ** (8 - prec), (fn, x, prec)

    def test_sigmoid_of_zero_is_exactly_one_half(self):
        # arb's exp(0) is exactly 1: the enclosure is the point 1/2, so the value is exact
        assert ball(*arb_unary(exact_tensor([0]), "sigmoid", 64)) == exact_tensor([F(1, 2)])

    @pytest.mark.parametrize("fn", ["sigmoid", "tanh", "exp", "sin"])
    def test_widths_shrink_as_the_precision_rises(self, fn):
        x = exact_tensor([f32(0.3), F(5), -F(7, 3)])
        widths = []
        for prec in (64, 128, 256):
            lo, hi = arb_unary(x, fn, prec)
            widths.append(max(b - a for a, b in zip(lo.flat(), hi.flat(), strict=True)))
        assert widths[0] > widths[1] > widths[2] > 0
        assert widths[2] < F(1, 2 ** 240)

    def test_a_ball_of_the_input_gives_a_ball_that_holds_every_image(self):
        rng = np.random.default_rng(5)
        lo = exact_tensor([F(-3), F(1, 7), F(300)])
        hi = exact_tensor([F(2), F(1, 3), F(301)])
        for fn in ("sigmoid", "tanh", "exp", "sin", "cos"):
            a, b = arb_unary(Ball(lo, hi), fn, 64)
            for i, (p, q) in enumerate(zip(lo.flat(), hi.flat(), strict=True)):
                for t in [F(0), F(1)] + [F(int(k), 1000) for k in rng.integers(0, 1000, 5)]:
                    x = p + (q - p) * t
                    assert encloses(a.flat()[i], oracle(fn, x), b.flat()[i]), (fn, x)


def softmax_oracle(xs: list[F]) -> list[mpmath.mpf]:
    with mpmath.workprec(ORACLE_BITS):
        m = max(mp(x) for x in xs)
        es = [mpmath.exp(mp(x) - m) for x in xs]
        s = sum(es)
        return [e / s for e in es]


class TestSoftmax:
    def test_mixed_magnitudes_are_enclosed(self):
        rows = [[F(1000), F(0), F(-1000), f32(1e-30)], [F(1), F(1), F(1), F(1)],
                [F(-745), F(-746), F(700), F(700)], [F(2 ** 60), F(0), F(1), F(-(2 ** 60))]]
        x = exact_tensor(rows)
        for prec in (64, 256):
            lo, hi = onnx_ball.softmax(x, 1, prec)
            for r, row in enumerate(rows):
                for i, v in enumerate(softmax_oracle(row)):
                    assert encloses(lo.fractions()[r][i], v, hi.fractions()[r][i]), (r, i)
        # equal entries: 1/4 exactly inside a tight enclosure
        assert lo.fractions()[1][0] <= F(1, 4) <= hi.fractions()[1][0]
        assert hi.fractions()[1][0] - lo.fractions()[1][0] < F(1, 2 ** 250)

    def test_a_ball_of_inputs_holds_the_softmax_of_every_point(self):
        rng = np.random.default_rng(17)
        lo = [[F(-1), F(2), F(0)], [F(30), F(-5), F(29)]]
        hi = [[F(1), F(3), F(1, 2)], [F(31), F(5), F(29)]]
        a, b = onnx_ball.softmax(Ball(exact_tensor(lo), exact_tensor(hi)), 1, 64)
        for r in range(2):
            for _ in range(8):
                t = [F(int(k), 4) for k in rng.integers(0, 5, size=3)]
                pt = [p + (q - p) * s for p, q, s in zip(lo[r], hi[r], t, strict=True)]
                for i, v in enumerate(softmax_oracle(pt)):
                    assert encloses(a.fractions()[r][i], v, b.fractions()[r][i]), (r, pt)

    @pytest.mark.parametrize("opset", [11, 13])
    def test_axis_semantics_before_and_after_opset_13(self, opset, tmp_path):
        rng = np.random.default_rng(13)
        x = rng.normal(size=(2, 3, 4)).astype(np.float32)
        g = graph_of([helper.make_node("Softmax", ["x"], ["y"], axis=1)], [], [2, 3, 4],
                     [2, 3, 4], opset, tmp_path)
        y = g({"x": x}, prec=128)
        xs = exact_tensor(x).fractions()
        for a in range(2):
            if opset >= 13:  # along axis 1 only
                for c in range(4):
                    col = softmax_oracle([xs[a][b][c] for b in range(3)])
                    for b in range(3):
                        assert encloses(y.lo.fractions()[a][b][c], col[b],
                                        y.hi.fractions()[a][b][c])
            else:  # the 3 x 4 block of each a, as one row of 12
                flat = softmax_oracle([xs[a][b][c] for b in range(3) for c in range(4)])
                for b in range(3):
                    for c in range(4):
                        assert encloses(y.lo.fractions()[a][b][c], flat[4 * b + c],
                                        y.hi.fractions()[a][b][c])
        ort = ort_run(g, x)
        mid = (np.array(y.lo.fractions(), dtype=object) + np.array(y.hi.fractions(),
                                                                  dtype=object)) / 2
        assert np.max(np.abs(ort.astype(np.float64) - mid.astype(np.float64))) < 1e-6


# ------------------------------------------------------------------------ graphs
def graph_of(nodes, inits, in_shape, out_shape, opset, tmp_path, name="g.onnx") -> ExactGraph:
    m = helper.make_model(
        helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     in_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
                          initializer=inits),
        opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    p = tmp_path / name
    p.write_bytes(m.SerializeToString())
    return import_onnx(p)


def ort_run(g: ExactGraph, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    sess = ort.InferenceSession(g.path if isinstance(g.path, str) else str(g.path),
                                providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x.astype(np.float32)})[0]


U32 = 2.0 ** -24


def gamma(k: int) -> float:
    return k * U32 / (1 - k * U32)


class TestGraphs:
    def test_exact_evaluation_refuses_and_a_precision_encloses(self, tmp_path):
        g = graph_of([helper.make_node("Sigmoid", ["x"], ["y"])], [], [1, 3], [1, 3], 13,
                     tmp_path)
        assert not g.rational
        with pytest.raises(NotRationalError, match=r"node 0 \(Sigmoid\).*not rational"):
            g([[1, 2, 3]])
        y = g([[1, 2, 3]], prec=64)
        assert isinstance(y, Ball)
        for x, a, b in zip((1, 2, 3), y.flat_lo(), y.flat_hi(), strict=True):
            assert encloses(a, oracle("sigmoid", F(x)), b)

    def test_the_import_dry_run_checks_shapes_of_a_graph_that_is_not_rational(self, tmp_path):
        w = numpy_helper.from_array(np.ones((3, 2), np.float32), "W")
        with pytest.raises(GraphError, match=r"node 1 \(MatMul\).*inner dimensions 2 and 3"):
            graph_of([helper.make_node("Sigmoid", ["x"], ["s"]),
                      helper.make_node("MatMul", ["s", "W"], ["y"])], [w], [1, 2], [1, 2], 13,
                     tmp_path)

    def test_onnxruntime_lies_within_a_rigorous_float_bound_of_the_enclosure(self, tmp_path):
        """Gemm, Sigmoid, Gemm, Tanh, Gemm: the float32 error bound carried layer by layer
        (Higham's gamma_{k+1} (|W||y| + |b|) for a Gemm, the input error through |W|, the
        functions 1-Lipschitz (sigmoid 1/4) plus 16 units in the last place for
        onnxruntime's own sigmoid and tanh, whose error it does not document)."""
        rng = np.random.default_rng(26)
        sizes = [6, 8, 8, 3]
        ws = [rng.normal(size=(sizes[i + 1], sizes[i])).astype(np.float32)
              for i in range(3)]
        bs = [rng.normal(size=(sizes[i + 1],)).astype(np.float32) for i in range(3)]
        inits, nodes, cur = [], [], "x"
        acts = ["Sigmoid", "Tanh", None]
        for i in range(3):
            inits += [numpy_helper.from_array(ws[i], f"W{i}"),
                      numpy_helper.from_array(bs[i], f"b{i}")]
            nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [f"g{i}"],
                                          transB=1))
            cur = f"g{i}"
            if acts[i]:
                nodes.append(helper.make_node(acts[i], [cur], [f"a{i}"]))
                cur = f"a{i}"
        nodes[-1].output[0] = "y"
        g = graph_of(nodes, inits, [1, 6], [1, 3], 13, tmp_path)
        for trial in range(3):
            x = rng.normal(size=(1, 6)).astype(np.float32)
            y = g(x, prec=64)
            ort = ort_run(g, x).astype(np.float64).reshape(-1)
            err = np.zeros(6)
            val = np.abs(x.astype(np.float64).reshape(-1))
            for i in range(3):
                aw = np.abs(ws[i].astype(np.float64))
                k = sizes[i]
                val = aw @ val + np.abs(bs[i])
                err = aw @ err + gamma(k + 1) * (val + aw @ err)
                if acts[i] == "Sigmoid":
                    err, val = err / 4 + 16 * U32, np.ones_like(val)
                elif acts[i] == "Tanh":
                    err, val = err + 16 * U32, np.ones_like(val)
            bound = 1.01 * err
            assert np.max(bound) < 1e-3  # the check means something
            for j, (a, b) in enumerate(zip(y.flat_lo(), y.flat_hi(), strict=True)):
                assert float(a) - bound[j] <= ort[j] <= float(b) + bound[j], (trial, j)

    def test_batchnorm_with_rational_square_roots_is_exact(self, tmp_path):
        eps = 2.0 ** -20
        var = np.array([2.25 - eps, 1 - eps, 0.25 - eps], np.float32)  # sqrt: 3/2, 1, 1/2
        assert [F(float(v)) + F(eps) for v in var] == [F(9, 4), F(1), F(1, 4)]
        params = dict(scale=np.array([1, -2, 0.5], np.float32),
                      B=np.array([0.25, 0, -1], np.float32),
                      mean=np.array([0.5, -0.125, 3], np.float32), var=var)
        inits = [numpy_helper.from_array(v, k) for k, v in params.items()]
        g = graph_of([helper.make_node("BatchNormalization", ["x", "scale", "B", "mean", "var"],
                                       ["y"], epsilon=eps)], inits, [2, 3, 2], [2, 3, 2], 15,
                     tmp_path)
        assert g.rational
        rng = np.random.default_rng(9)
        x = rng.normal(size=(2, 3, 2)).astype(np.float32)
        y = g({"x": x})  # no precision: exact
        assert isinstance(y, Exact)
        s = [F(3, 2), F(1), F(1, 2)]
        xs = exact_tensor(x).fractions()
        want = [[[(xs[n][c][h] - F(float(params["mean"][c]))) * F(float(params["scale"][c]))
                  / s[c] + F(float(params["B"][c])) for h in range(2)] for c in range(3)]
                for n in range(2)]
        assert y.fractions() == want
        # with a precision the same exact tensor: no enclosure
        y64 = g({"x": x}, prec=64)
        assert isinstance(y64, Exact) and y64.fractions() == want

    @pytest.mark.parametrize("opset", [7, 9, 15])
    def test_batchnorm_with_irrational_square_roots_is_enclosed(self, opset, tmp_path):
        params = dict(scale=np.array([1.5, -1], np.float32), B=np.array([0.1, 2], np.float32),
                      mean=np.array([0.3, -1], np.float32), var=np.array([2, 0.7], np.float32))
        inits = [numpy_helper.from_array(v, k) for k, v in params.items()]
        g = graph_of([helper.make_node("BatchNormalization", ["x", "scale", "B", "mean", "var"],
                                       ["y"])], inits, [1, 2, 3], [1, 2, 3], opset, tmp_path)
        assert not g.rational
        x = np.array([[[0.5, -3, 100], [1e-3, 7, -0.25]]], np.float32)
        with pytest.raises(NotRationalError, match="BatchNormalization"):
            g({"x": x})
        y = g({"x": x}, prec=128)
        xs = exact_tensor(x).fractions()
        eps = F(float(np.float32(1e-5)))
        with mpmath.workprec(ORACLE_BITS):
            for c in range(2):
                p = {k: F(float(v[c])) for k, v in params.items()}
                for h in range(3):
                    v = (mp(xs[0][c][h] - p["mean"]) * mp(p["scale"])
                         / mpmath.sqrt(mp(p["var"] + eps)) + mp(p["B"]))
                    assert encloses(y.lo.fractions()[0][c][h], v, y.hi.fractions()[0][c][h])
        assert y.width() < F(1, 2 ** 110)
        ort = ort_run(g, x).astype(np.float64)
        lo = np.array(y.lo.fractions(), dtype=object).astype(np.float64)
        assert np.max(np.abs(ort - lo)) < 1e-4

    def test_batchnorm_in_training_mode_is_refused(self, tmp_path):
        inits = [numpy_helper.from_array(np.ones(2, np.float32), k)
                 for k in ("s", "b", "m", "v")]
        with pytest.raises(GraphError, match="training_mode=1 is not supported"):
            graph_of([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                                       training_mode=1)], inits, [1, 2], [1, 2], 15, tmp_path)


# ------------------------------------------------------------------------ rules
ISSUE_OPS = """Relu Gemm Add MatMul Constant Conv Reshape Flatten Sub Concat Slice Gather Mul
Transpose Sigmoid Div BatchNormalization ConstantOfShape Unsqueeze ReduceSum Equal
ConvTranspose Expand Where Pow Softmax Shape Dropout Split Cos Neg Sin MaxPool ArgMax Cast
Sign Clip Max Min Resize ScatterND Squeeze ReduceMean AveragePool Pad Tanh Exp""".split()


def node(op: str, n_in: int = 2, **attrs) -> Node:
    return Node(op, [f"i{k}" for k in range(n_in)], ["o"], name="t",
                attributes={k: Attribute(k, "int" if isinstance(v, int) else "float", v)
                            for k, v in attrs.items()})


def rand_ball(rng, shape, den=64, exact=False):
    c = rng.integers(-200, 200, size=shape)
    r = np.zeros(shape, int) if exact else rng.integers(0, 40, size=shape)
    lo = Exact(np.array((c - r).tolist(), dtype=object).reshape(shape), den)
    hi = Exact(np.array((c + r).tolist(), dtype=object).reshape(shape), den)
    return ball(lo, hi)


def sample(rng, t):
    """A random exact point of the enclosure (an end, or a point between)."""
    lo, hi = onnx_ball.endpoints(t)
    a, b = np.array(lo.flat(), dtype=object), np.array(hi.flat(), dtype=object)
    w = [F(int(k), 8) for k in rng.integers(0, 9, size=a.size)]
    return exact_tensor(np.array([p + (q - p) * s for p, q, s in zip(a, b, w, strict=True)],
                                 dtype=object).reshape(lo.shape))


def inside(t, point: Exact) -> bool:
    lo, hi = onnx_ball.endpoints(t)
    return all(a <= v <= b for a, v, b in zip(lo.flat(), point.flat(), hi.flat(),
                                              strict=True))


class TestRules:
    def test_every_operator_of_the_issue_has_a_rule(self):
        assert set(ISSUE_OPS) - set(RULES) == set()

    def test_every_registered_operator_has_a_rule(self):
        missing = {op for op, classes in REGISTRY.items() if op not in RULES
                   and not any(getattr(c, "monotone", False) for c in classes)}
        assert missing == set()

    @pytest.mark.parametrize("op,shapes,attrs", [
        ("MatMul", [(3, 4), (4, 2)], {}),
        ("Gemm", [(3, 4), (2, 4), (2,)], {"transB": 1, "alpha": -0.5, "beta": -2.0}),
        ("Mul", [(3, 4), (4,)], {}),
        ("Add", [(3, 4), (3, 4)], {}),
        ("Sub", [(3, 4), (3, 4)], {}),
        ("Div", [(3, 4), (4,)], {}),
        ("Relu", [(5,)], {}), ("Neg", [(5,)], {}), ("Abs", [(5,)], {}),
        ("Max", [(5,), (5,)], {}), ("Min", [(5,), (5,)], {}), ("Sum", [(5,), (5,), (5,)], {}),
    ])
    def test_enclosures_hold_the_exact_value_at_every_point(self, op, shapes, attrs):
        if op not in REGISTRY:
            pytest.skip(f"{op} is not registered")
        rng = np.random.default_rng(len(op) * 7 + len(shapes))
        cls = op_for(op, 14)
        nd = node(op, len(shapes), **attrs)
        for trial in range(4):
            ins = [rand_ball(rng, s, exact=(trial == 3 and i == 1)) for i, s in enumerate(shapes)]
            if op == "Div":  # a divisor whose enclosure excludes 0
                lo, hi = onnx_ball.endpoints(ins[1])
                shift = Exact(np.full(shapes[1], 300, dtype=object), 64)
                ins[1] = ball(Exact(lo.num + shift.num, 64), Exact(hi.num + shift.num, 64))
            out = evaluate(nd, cls, ins, 64)
            for _ in range(6):
                pt = [sample(rng, t) for t in ins]
                assert inside(out, cls.run(nd, pt)), (op, trial)

    @pytest.mark.parametrize("op,attrs,shape,consts", [
        ("Concat", {"axis": 1}, (2, 3), [np.ones((2, 2), np.float32)]),
        ("Slice", {}, (4, 5), [np.array([1, 0], np.int64), np.array([3, 5], np.int64),
                               np.array([0, 1], np.int64), np.array([1, 2], np.int64)]),
        ("Gather", {"axis": 1}, (3, 4), [np.array([3, 0, 0], np.int64)]),
        ("Pad", {}, (2, 3), [np.array([1, 0, 0, 2], np.int64), np.array(-1.5, np.float32)]),
        ("Transpose", {"perm": [1, 0]}, (2, 3), []),
        ("MaxPool", {"kernel_shape": [2, 2]}, (1, 1, 3, 4), []),
        ("AveragePool", {"kernel_shape": [2, 2], "pads": [1, 1, 0, 0],
                         "count_include_pad": 1}, (1, 1, 3, 4), []),
        ("ReduceSum", {"keepdims": 0}, (3, 4), [np.array([1], np.int64)]),
        ("ReduceMean", {"axes": [0]}, (3, 4), []),
        ("Expand", {}, (3, 1), [np.array([2, 3, 4], np.int64)]),
        ("Sign", {}, (6,), []), ("Floor", {}, (6,), []),
        ("Clip", {}, (6,), [np.array(-0.5, np.float32), np.array(1.25, np.float32)]),
        ("Where", {}, (4,), [np.array([True, False, True, False]), np.ones(4, np.float32)]),
        ("Pow", {}, (5,), [np.array(2, np.int64)]),
        ("Pow", {}, (5,), [np.array(3, np.int64)]),
        ("Resize", {"mode": "nearest"}, (1, 1, 2, 3),
         [np.array([], np.float32), np.array([1, 1, 2, 1.5], np.float32)]),
        ("ScatterND", {}, (4, 3), [np.array([[1], [3]], np.int64), np.ones((2, 3), np.float32)]),
        ("Dropout", {}, (5,), []),
        ("GlobalAveragePool", {}, (1, 2, 3, 3), []), ("GlobalMaxPool", {}, (1, 2, 3, 3), []),
        ("Unsqueeze", {}, (2, 3), [np.array([0, 3], np.int64)]),
    ])
    def test_registered_operators_enclose_every_point(self, op, attrs, shape, consts):
        if op not in REGISTRY:
            pytest.skip(f"{op} is not registered")
        names = [f"c{i}" for i in range(len(consts))]
        ins = ["x"] + names if op != "Where" else [names[0], "x", names[1]]
        m = helper.make_model(helper.make_graph(
            [helper.make_node(op, ins, ["y"], **attrs)], "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            initializer=[numpy_helper.from_array(c, n) for n, c in zip(names, consts,
                                                                       strict=True)]),
            opset_imports=[helper.make_opsetid("", 17)])
        g = ExactGraph(parse_model(m.SerializeToString()))
        nd, cls = g.nodes[0], g.runs[0]
        rng = np.random.default_rng(sum(map(ord, op)) + len(consts))
        for _ in range(3):
            x = rand_ball(rng, shape)
            args = [g.consts[n] if n != "x" else x for n in ins]
            out = evaluate(nd, cls, args, 64)
            for _ in range(5):
                pt = [sample(rng, t) if isinstance(t, Ball) else t for t in args]
                want = cls.run(nd, pt)
                for o, v in zip(*((out, want) if isinstance(want, tuple) else
                                  ((out,), (want,))), strict=True):
                    assert inside(o, v), op

    def test_conv_enclosure_holds_the_exact_value(self):
        if "Conv" not in REGISTRY:
            pytest.skip("Conv is not registered")
        rng = np.random.default_rng(31)
        cls = op_for("Conv", 14)
        nd = Node("Conv", ["x", "w", "b"], ["o"], name="c",
                  attributes={"pads": Attribute("pads", "ints", [1, 1, 1, 1])})
        ins = [rand_ball(rng, (1, 2, 4, 4)), rand_ball(rng, (3, 2, 3, 3), exact=True),
               rand_ball(rng, (3,))]
        out = evaluate(nd, cls, ins, 64)
        for _ in range(4):
            pt = [sample(rng, t) for t in ins]
            assert inside(out, cls.run(nd, pt))
        if "ConvTranspose" in REGISTRY:  # and its transpose, the weight a ball too
            ct = op_for("ConvTranspose", 14)
            nd = Node("ConvTranspose", ["x", "w"], ["o"], name="t",
                      attributes={"strides": Attribute("strides", "ints", [2, 2])})
            ins = [rand_ball(rng, (1, 2, 3, 3)), rand_ball(rng, (2, 3, 2, 2))]
            out = evaluate(nd, ct, ins, 64)
            for _ in range(4):
                pt = [sample(rng, t) for t in ins]
                assert inside(out, ct.run(nd, pt))

    def test_decisions_are_taken_only_where_the_enclosure_decides(self):
        lo, hi = exact_tensor([F(1), F(5)]), exact_tensor([F(2), F(6)])
        far = Ball(lo, hi)
        less = op_for("Less", 14)
        out = evaluate(node("Less"), less, [far, exact_tensor([F(3), F(3)])], 64)
        assert out.num.tolist() == [1, 0]
        with pytest.raises(UndecidedError, match=r"node 0 \(Less 't'\): Less is not decided"):
            evaluate(node("Less"), less, [far, exact_tensor([F(3, 2), F(3)])], 64)
        am = Node("ArgMax", ["x"], ["o"], name="a",
                  attributes={"axis": Attribute("axis", "int", 1)})
        x = Ball(exact_tensor([[F(1), F(7), F(3)]]), exact_tensor([[F(2), F(8), F(4)]]))
        if "ArgMax" in REGISTRY:
            assert evaluate(am, op_for("ArgMax", 13), [x], 64).num.tolist() == [[1]]
            y = Ball(exact_tensor([[F(1), F(7), F(3)]]), exact_tensor([[F(2), F(8), F(7)]]))
            with pytest.raises(UndecidedError, match="ArgMax is not decided"):
                evaluate(am, op_for("ArgMax", 13), [y], 64)
        where = op_for("Where", 14)
        cond = Ball(Exact(np.array([0], dtype=object), 1, 9), Exact(np.array([1], dtype=object),
                                                                   1, 9))
        with pytest.raises(UndecidedError, match="input 0 is only enclosed"):
            evaluate(node("Where", 3), where, [cond, lo, hi], 64)

    def test_an_operator_with_no_rule_names_the_node(self):
        x = Ball(exact_tensor([F(0)]), exact_tensor([F(1)]))
        with pytest.raises(GraphError, match=r"node 0 \(Hardmax 't'\): Hardmax of an "
                                             "enclosure is not supported"):
            evaluate(node("Hardmax", 1), type("Hardmax_13", (), {}), [x], 64)

    def test_endpoints_are_rounded_outward_and_bounded(self):
        rng = np.random.default_rng(2)
        for _ in range(20):
            a = F(int(rng.integers(-10 ** 9, 10 ** 9)), int(rng.integers(1, 10 ** 9)))
            b = a + F(int(rng.integers(0, 10 ** 6)), int(rng.integers(1, 10 ** 12)))
            lo, hi = round_out(exact_tensor([a]), exact_tensor([b]), 40)
            assert lo.flat()[0] <= a and b <= hi.flat()[0]
            assert lo.den & (lo.den - 1) == 0 and lo.bits <= 90 and hi.bits <= 90


def test_robustness_bounds_against_every_corner():
    p = parse_vnnlib("(declare-const X_0 Real) (declare-const Y_0 Real) (declare-const Y_1 Real)"
                     "(assert (or (and (<= Y_0 Y_1) (>= Y_1 0.5)) (<= (- Y_0 (* 2 Y_1)) X_0)))")
    from symdnn.witness.replay import robustness
    box = {"Y_0": (F(-1), F(2)), "Y_1": (F(1, 4), F(3, 4))}
    lo, hi = robustness_bounds(p.assertions, {**box, "X_0": (F(1, 3), F(1, 3))})
    vals = [robustness(p.assertions, {"X_0": F(1, 3), "Y_0": a, "Y_1": b})
            for a in (F(-1), F(0), F(2)) for b in (F(1, 4), F(1, 2), F(3, 4))]
    assert lo <= min(vals) and max(vals) <= hi
    assert lo == min(vals) or hi == max(vals)


# ------------------------------------------------------------------------ verdicts
def one_minus_half_sum(tmp_path, name="ones.onnx"):
    """y = sigmoid(x) + sigmoid(-x): exactly 1 for every x, never a rational evaluation."""
    return graph_of([helper.make_node("Sigmoid", ["x"], ["a"]),
                     helper.make_node("Neg", ["x"], ["n"]),
                     helper.make_node("Sigmoid", ["n"], ["b"]),
                     helper.make_node("Add", ["a", "b"], ["y"])], [], [1], [1], 13, tmp_path,
                    name)


PROP = "(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 -1)) " \
       "(assert (<= X_0 1)) (assert ({op} Y_0 {c}))"


class TestVerdicts:
    def test_an_exactly_zero_margin_is_undecided_with_the_reason(self, tmp_path):
        g = one_minus_half_sum(tmp_path)
        w = replay(g, parse_vnnlib(PROP.format(op=">=", c="1")),
                   parse_counterexample("((X_0 0.5))"), onnxruntime=False, max_precision=256)
        j = json.loads(json.dumps(w.to_json()))
        assert j["decided_by"] == "enclosure" and j["precision"] == 256
        assert j["undecided"] is True and j["genuine"] is None and j["violates"] is None
        assert "margin (at the float32 input)" in j["undecided_reason"]
        assert "256 bits" in j["undecided_reason"] and "contains 0" in j["undecided_reason"]
        assert F(j["margin_lower"]) < 0 < F(j["margin_upper"])
        assert isinstance(j["margin_float"], float) and abs(j["margin_float"]) < 1e-70
        assert j["margin"] is None and j["input_in_box"] is True
        assert w.summary().startswith("ones.onnx: UNDECIDED") or "UNDECIDED" in w.summary()
        assert "UNDECIDED" in w.to_markdown() and w.reason().startswith("UNDECIDED: ")

    def test_sigmoid_of_zero_is_decided_since_arb_computes_it_exactly(self, tmp_path):
        g = one_minus_half_sum(tmp_path)
        w = replay(g, parse_vnnlib(PROP.format(op=">=", c="1")),
                   parse_counterexample("((X_0 0))"), onnxruntime=False)
        assert w.genuine is True and w.precision == 64 and w.margin_bounds == (0, 0)

    @pytest.mark.parametrize("op,violates", [(">=", True), ("<=", False)])
    def test_a_margin_of_two_to_the_minus_200_is_decided_at_a_raised_precision(
            self, op, violates, tmp_path):
        g = one_minus_half_sum(tmp_path)
        tiny = F(1, 2 ** 200)
        c = 1 - tiny  # as a decimal of 200 digits: exact
        dec = "0." + str(c.numerator * 5 ** 200).zfill(200)
        assert F(dec) == c
        w = replay(g, parse_vnnlib(PROP.format(op=op, c=dec)),
                   parse_counterexample("((X_0 0.5))"), onnxruntime=False)
        j = w.to_json()
        assert j["decided_by"] == "enclosure" and j["precision"] > 64
        assert j["precision"] <= 512 and j["undecided"] is False
        assert j["violates"] is violates and j["genuine"] is violates
        m_lo, m_hi = F(j["margin_lower"]), F(j["margin_upper"])
        want = tiny if violates else -tiny
        assert m_lo <= want <= m_hi and (m_lo > 0 or m_hi < 0)
        assert f"decided by enclosure at {j['precision']} bits" in w.summary()
        assert "±" in w.summary() and "| margin | [" in w.to_markdown()

    def test_a_decision_inside_the_network_that_no_precision_takes_is_undecided(self,
                                                                                 tmp_path):
        one = numpy_helper.from_array(np.ones(1, np.float32), "one")
        g = graph_of([helper.make_node("Sigmoid", ["x"], ["a"]),
                      helper.make_node("Neg", ["x"], ["n"]),
                      helper.make_node("Sigmoid", ["n"], ["b"]),
                      helper.make_node("Add", ["a", "b"], ["s"]),  # exactly 1
                      helper.make_node("Less", ["s", "one"], ["c"]),
                      helper.make_node("Where", ["c", "x", "n"], ["y"])], [one], [1], [1], 13,
                     tmp_path)
        w = replay(g, parse_vnnlib(PROP.format(op="<=", c="5")),
                   parse_counterexample("((X_0 0.5))"), onnxruntime=False, max_precision=128)
        assert w.undecided and w.genuine is None and w.precision == 128
        assert "Less is not decided" in w.undecided_reason
        assert w.to_json()["outputs_lower"] is None
        # at x = 0 every value is exact in arb: Less decides (1 < 1 is false), y = -0
        w0 = replay(g, parse_vnnlib(PROP.format(op="<=", c="5")),
                    parse_counterexample("((X_0 0))"), onnxruntime=False)
        assert w0.genuine is True and w0.precision == 64

    def test_the_time_budget_stops_the_doubling(self, tmp_path):
        g = one_minus_half_sum(tmp_path)
        w = replay(g, parse_vnnlib(PROP.format(op=">=", c="1")),
                   parse_counterexample("((X_0 0.5))"), onnxruntime=False, time_budget=0)
        assert w.undecided and w.precision == 64 and "time_budget=0" in w.undecided_reason

    def test_outside_the_box_is_decided_even_when_the_margin_is_not(self, tmp_path):
        g = one_minus_half_sum(tmp_path)
        w = replay(g, parse_vnnlib(PROP.format(op=">=", c="1")),
                   parse_counterexample("((X_0 0.5))".replace("0.5", "1.5")),
                   onnxruntime=False, max_precision=64)
        assert w.genuine is False and w.undecided and w.violates is None
        assert "outside the box" in w.reason() and "UNDECIDED" in w.reason()

    def test_a_value_no_precision_can_hold_leaves_the_witness_undecided(self, tmp_path):
        # exp(1e5) is about 2^144270: past the 65,536-bit limit at any precision
        g = graph_of([helper.make_node("Exp", ["x"], ["e"]),
                      helper.make_node("Sigmoid", ["e"], ["y"])], [], [1], [1], 13, tmp_path)
        p = parse_vnnlib("(declare-const X_0 Real) (declare-const Y_0 Real) "
                         "(assert (>= X_0 0)) (assert (<= X_0 100000)) (assert (>= Y_0 0.9))")
        w = replay(g, p, parse_counterexample("((X_0 100000))"), onnxruntime=False)
        assert w.undecided and w.genuine is None and w.input_in_box
        assert "more than 65536 bits" in w.undecided_reason
        w = replay(g, p, parse_counterexample("((X_0 50))"), onnxruntime=False)
        assert w.genuine is True and w.decided_by == "enclosure"

    def test_the_command_exits_1_on_an_undecided_witness(self, tmp_path, capsys):
        from symdnn.cli import main
        one_minus_half_sum(tmp_path)
        (tmp_path / "p.vnnlib").write_text(PROP.format(op=">=", c="1"))
        (tmp_path / "x.counterexample").write_text("((X_0 0.5) (Y_0 1.0))")
        code = main(["witness", str(tmp_path / "ones.onnx"), str(tmp_path / "p.vnnlib"),
                     str(tmp_path / "x.counterexample"), "--no-onnxruntime"])
        out = capsys.readouterr().out
        assert code == 1 and "UNDECIDED" in out and "GENUINE" not in out.replace(
            "NOT GENUINE", "")

    def test_onnxruntime_replay_still_runs_on_enclosed_networks(self, tmp_path):
        g = one_minus_half_sum(tmp_path)
        w = replay(g, parse_vnnlib(PROP.format(op="<=", c="2")),
                   parse_counterexample("((X_0 0.5) (Y_0 1.0))"))
        assert w.genuine is True and w.vnncomp_verdict == "correct"
        assert w.outputs_onnxruntime == [1.0]
        # a file with no outputs: the 2023 and 2025 checkers refuse it, 2026's judge ort's
        for rules, verdict in (("2025", "exec_doesnt_match"), ("2026", "correct")):
            w = replay(g, parse_vnnlib(PROP.format(op="<=", c="2")),
                       parse_counterexample("((X_0 0.5))"), rules=rules)
            assert w.vnncomp_verdict == verdict
        j = w.to_json()
        assert j["outputs"] is None and len(j["outputs_lower"]) == 1
        assert F(j["outputs_lower"][0]) < 1 < F(j["outputs_upper"][0])
        assert j["outputs_float"] == [1.0]


RATIONAL = [("acasxu", "ACASXU_run2a_1_1_batch_2000", "prop_2",
             "mn_bab/acasxu/ACASXU_run2a_1_2_batch_2000_prop_2")]


def test_the_rational_path_is_unchanged_on_the_fixtures():
    bench = FIXTURES / "vnncomp" / "benchmarks"
    for d in ("acasxu/onnx", "mnist_fc/onnx", "test"):
        for f in sorted((bench / d).glob("*.onnx*")):
            assert import_onnx(f).rational, f
    ce = FIXTURES / "vnncomp" / "results" / "mn_bab" / "acasxu" / \
        "ACASXU_run2a_1_2_batch_2000_prop_2.counterexample.gz"
    g = import_onnx(bench / "acasxu" / "onnx" / "ACASXU_run2a_1_2_batch_2000.onnx.gz")
    w = replay(g, read_vnnlib(bench / "acasxu" / "vnnlib" / "prop_2.vnnlib.gz"),
               read_counterexample(ce), onnxruntime=False)
    j = w.to_json()
    assert (j["decided_by"], j["precision"], j["undecided"], j["undecided_reason"]) == \
        ("exact", None, False, None)
    assert isinstance(w.margin, F) and j["margin"] == str(w.margin)
    assert not any(k.endswith(("_lower", "_upper")) for k in j)
    assert "decided by enclosure" not in w.summary()


def test_onnx_checker_accepts_the_built_models(tmp_path):
    g = one_minus_half_sum(tmp_path)
    onnx.checker.check_model(onnx.load(str(g.path)))
    assert ExactGraph(parse_model((tmp_path / "ones.onnx").read_bytes())).ops == \
        ["Sigmoid", "Neg", "Sigmoid", "Add"]


def test_the_2023_dist_shift_counterexamples_are_decided_at_64_bits():
    """The real sigmoid network of VNN-COMP 2023 (Gemm, Relu, Sigmoid, Reshape): Marabou's five
    counterexamples, each violating and decided by enclosure at the first precision; four are
    genuine, the fifth's input is outside the box."""
    from tests.datafiles import full_file
    root = full_file("vnncomp-2023-2025/2023")
    bench = root / "benchmarks" / "2023_dist_shift"
    g = import_onnx(bench / "onnx" / "mnist_concat.onnx.gz")
    assert not g.rational
    genuine = []
    for ce in sorted((root / "results" / "marabou" / "2023_dist_shift").glob("*.counterexample*")):
        prop = ce.name.split(".counterexample")[0][len("mnist_concat_"):]
        w = replay(g, read_vnnlib(bench / "vnnlib" / f"{prop}.vnnlib.gz"),
                   read_counterexample(ce), onnxruntime=False)
        assert (w.decided_by, w.precision, w.undecided) == ("enclosure", 64, False)
        assert w.violates is True
        genuine.append(w.genuine)
        assert w.genuine or not w.input_in_box
    assert genuine.count(True) == 4 and len(genuine) == 5
