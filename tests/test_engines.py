"""Engines against each other: the fast exact engine against the per-entry reference on random
networks (float64, int64 and limb paths, hundreds of bits), the float engine against the
reference bit for bit, the three formulations of §II, symbolic runs against exact ones."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from symdnn import (
    AssocArray,
    DomainMismatch,
    KeyMismatch,
    SparseDNN,
    SymbolicSignError,
    formulations,
)
from symdnn.engines import exact as EX
from tests.netgen import random_inputs, random_net

CONFIGS = {
    "gc_like_all": dict(L=30, n=10, density=0.5, pos=0.9, bias="-3/10", cap=32, rule="all"),
    "gc_like_nonzero": dict(L=30, n=10, density=0.5, pos=0.9, bias="-3/10", cap=32,
                            rule="nonzero"),
    "positive_bias": dict(L=30, n=10, density=0.5, pos=0.7, bias="1/7", cap=None, rule="all"),
    "integers_no_bias": dict(L=8, n=8, density=0.5, pos=0.8, bias=None, cap=None, wq=1),
    "per_neuron_bias": dict(L=12, n=8, density=0.5, pos=0.8, per_neuron_bias=True, cap="5/2"),
    "row_convention": dict(L=30, n=10, density=0.5, pos=0.9, bias="-3/10", cap=32,
                           rule="nonzero", convention="row"),
}


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_exact_equals_reference(name, seed):
    net = random_net(seed, **CONFIGS[name])
    Y0 = random_inputs(net, seed)
    fast = net.infer(Y0)
    ref = net.infer(Y0, engine="reference")
    assert fast.output.nnz > 0  # the network is alive: the comparison means something
    assert fast.output.isequal(ref.output)
    assert fast.categories() == ref.categories()


def test_every_path_is_taken_and_values_reach_hundreds_of_bits():
    net = random_net(1, **{**CONFIGS["positive_bias"], "L": 60})
    Y0 = random_inputs(net, 1)
    fast = net.infer(Y0)
    assert {"float64", "int64", "limbs"} <= set(fast.paths)
    bits = max(abs(int(v.p)).bit_length() for _, _, v in fast.output.triples())
    assert bits >= 200
    assert fast.output.isequal(net.infer(Y0, engine="reference").output)


def test_recorded_layers_match_reference():
    net = random_net(2, **CONFIGS["gc_like_nonzero"])
    Y0 = random_inputs(net, 2)
    fast = net.infer(Y0, record=True)
    ref = net.infer(Y0, engine="reference", record=True)
    assert len(fast.layers) == len(ref.layers) == net.depth
    for lf, lr in zip(fast.layers, ref.layers, strict=True):
        assert lf.pre.isequal(lr.pre)
        assert lf.post.isequal(lr.post)


def test_recorded_pre_activations_with_bias_everywhere():
    net = random_net(0, **CONFIGS["positive_bias"])
    Y0 = random_inputs(net, 0)
    fast = net.infer(Y0, record=True)
    ref = net.infer(Y0, engine="reference", record=True)
    for lf, lr in zip(fast.layers, ref.layers, strict=True):
        assert lf.pre.isequal(lr.pre) and lf.post.isequal(lr.post)


@pytest.mark.parametrize("fmt,acc", [("fp64", None), ("fp32", None), ("fp16", None),
                                     ("bf16", None), ("fp16", "fp32"), ("bf16", "fp32"),
                                     ("fp8_e4m3", "fp32")])
@pytest.mark.parametrize("name", ["gc_like_nonzero", "per_neuron_bias", "positive_bias"])
def test_float_engine_equals_reference_bit_for_bit(fmt, acc, name):
    net = random_net(3, **{**CONFIGS[name], "L": 10})
    Y0 = random_inputs(net, 3)
    fast = net.infer(Y0, arith=fmt, accumulate=acc)
    ref = net.infer(Y0, arith=fmt, accumulate=acc, engine="reference")
    assert fast.output.domain.name == fmt
    assert fast.output.isequal(ref.output)


def test_float_run_differs_from_exact_where_rounding_matters():
    # 1/10 + 1/10 + 1/10 - 3/10 is 0 exactly, 5.55e-17 in fp64: the float run keeps it alive
    W = AssocArray.from_triples(["o"] * 3, ["a", "b", "c"], ["1/10"] * 3, domain="QQ")
    net = SparseDNN.from_layers([W], [{"o": "-3/10"}])
    Y0 = AssocArray.from_triples(["a", "b", "c"], ["x"] * 3, [1, 1, 1], domain="QQ")
    assert net.infer(Y0).output.nnz == 0
    out = net.infer(Y0, arith="fp64").output
    assert out.nnz == 1 and float(out.get("o", "x")) == 0.1 + 0.1 + 0.1 - 0.3


# ------------------------------------------------------------------ the three formulations
@given(seed=st.integers(0, 10**6), rule=st.sampled_from(["all", "nonzero"]),
       cap=st.sampled_from([None, 32, "3/2"]), conv=st.sampled_from(["column", "row"]),
       L=st.integers(1, 6))
def test_three_formulations_and_both_engines_agree(seed, rule, cap, conv, L):
    net = random_net(seed, L=L, n=6, density=0.5, pos=0.85, bias="-1/4", cap=cap, rule=rule,
                     convention=conv)
    Y0 = random_inputs(net, seed, batch=3)
    want = net.infer(Y0, engine="reference").output
    assert formulations.standard(net, Y0).isequal(want)
    assert formulations.oscillating(net, Y0).isequal(want)
    assert formulations.collapsed(net, Y0).isequal(want)
    assert net.infer(Y0).output.isequal(want)


@given(seed=st.integers(0, 10**6), L=st.integers(1, 5))
def test_standard_and_oscillating_agree_with_positive_biases(seed, L):
    net = random_net(seed, L=L, n=6, density=0.4, pos=0.6, bias="1/5", cap=None, rule="all")
    Y0 = random_inputs(net, seed, batch=3)
    want = net.infer(Y0).output
    assert formulations.standard(net, Y0).isequal(want)
    assert formulations.oscillating(net, Y0).isequal(want)


def test_collapsed_form_refuses_networks_it_would_get_wrong():
    net = random_net(0, L=3, n=4, bias="1/5", rule="all")
    with pytest.raises(Exception, match="positive bias"):
        formulations.collapsed(net, random_inputs(net, 0))


# ------------------------------------------------------------------ symbolic
def test_symbolic_bias_agrees_with_exact_runs_at_rational_values():
    b = sympy.Symbol("b", positive=True)
    W0 = AssocArray.from_triples(["h1", "h2"], ["x1", "x1"], [2, 3], domain="SYM")
    W1 = AssocArray.from_triples(["o", "o"], ["h1", "h2"], [1, 1], domain="SYM")
    net = SparseDNN.from_layers([W0, W1], [{"h1": b, "h2": b}, {"o": b}], domain="SYM")
    Y0 = AssocArray.from_triples(["x1"], ["i"], [1], domain="SYM")
    out = net.infer(Y0, arith="symbolic").output.get("o", "i")
    assert sympy.expand(out - (5 + 3 * b)) == 0
    for value in ("1/3", "2", "7/5"):
        Wq0 = AssocArray.from_triples(["h1", "h2"], ["x1", "x1"], [2, 3], domain="QQ")
        Wq1 = AssocArray.from_triples(["o", "o"], ["h1", "h2"], [1, 1], domain="QQ")
        netq = SparseDNN.from_layers([Wq0, Wq1], [{"h1": value, "h2": value}, {"o": value}])
        exact = netq.infer(AssocArray.from_triples(["x1"], ["i"], [1], domain="QQ"))
        assert out.subs(b, sympy.Rational(value)) == sympy.Rational(str(exact.output.get("o", "i")))


def test_undecidable_relu_names_the_neuron():
    b = sympy.Symbol("b")  # no sign assumption
    W = AssocArray.from_triples(["h"], ["x"], [1], domain="SYM")
    net = SparseDNN.from_layers([W], [{"h": b}], domain="SYM")
    Y0 = AssocArray.from_triples(["x"], ["i"], [1], domain="SYM")
    with pytest.raises(SymbolicSignError, match="neuron 'h' of layer 0"):
        net.infer(Y0, arith="symbolic")
    out = net.infer(Y0, arith="symbolic", relu="piecewise").output.get("h", "i")
    assert out == sympy.Max(0, b + 1)


# ------------------------------------------------------------------ errors and edges
def test_exact_inference_refuses_floats():
    W = AssocArray.from_triples(["o"], ["x"], [0.5])
    net = SparseDNN.from_layers([W], domain="fp64")
    with pytest.raises(DomainMismatch, match="convert_to"):
        net.infer(AssocArray.from_triples(["x"], ["i"], [1], domain="QQ"))
    W2 = AssocArray.from_triples(["o"], ["x"], [1], domain="QQ")
    with pytest.raises(DomainMismatch):
        SparseDNN.from_layers([W2]).infer(AssocArray.from_triples(["x"], ["i"], [0.5]))


def test_missing_keys_between_layers():
    W0 = AssocArray.from_triples(["h"], ["x"], [1], domain="QQ")
    W1 = AssocArray.from_triples(["o"], ["g"], [1], domain="QQ")
    with pytest.raises(KeyMismatch, match=r"layer 1 reads neurons \['g'\]"):
        SparseDNN.from_layers([W0, W1])


def test_non_finite_input_is_refused_in_exact_runs():
    from symdnn import DomainError

    net = SparseDNN.from_layers([AssocArray.from_triples(["o"], ["x"], [1], domain="QQ")])
    Y0 = AssocArray.from_triples(["x"], ["i"], [float("inf")], domain="QQ",
                                 semiring="max_min")
    with pytest.raises((DomainError, DomainMismatch)):
        net.infer(Y0.with_semiring("plus_times"))


def test_limb_arithmetic_round_trips():
    from symdnn.engines import limbs as LB

    rng = np.random.default_rng(0)
    vals = np.array([int(v) << int(s) for v, s in zip(rng.integers(-(2**40), 2**40, 50),
                                                      rng.integers(0, 300, 50), strict=True)],
                    dtype=object)
    for k in (20, 44):
        L = LB.from_ints(vals, k)
        assert list(LB.to_ints(L, k)) == list(vals)
        assert LB.sign(L).tolist() == [int(np.sign(v)) for v in vals]


def test_exact_state_paths_forced_by_magnitude():
    # a single neuron whose value doubles each layer: the path moves float64 -> int64 -> limbs
    L = 70
    Ws = [AssocArray.from_triples([f"n{l + 1}"], [f"n{l}"], [2], domain="QQ") for l in range(L)]
    net = SparseDNN.from_layers(Ws)
    out = net.infer(AssocArray.from_triples(["n0"], ["i"], [Fraction(3, 1)], domain="QQ"))
    assert out.output.get(f"n{L}", "i") == 3 * 2**L
    assert out.paths[0] == "float64" and "int64" in out.paths and out.paths[-1] == "limbs"
    assert EX.F64 == 2**53


@pytest.mark.parametrize("rule", ["all", "nonzero"])
@pytest.mark.parametrize("conv", ["column", "row"])
@pytest.mark.parametrize("L", [8, 40])
def test_full_bias_arrays(rule, conv, L):
    base = random_net(4, L=L, n=6, density=0.5, pos=0.8, bias=None, cap=None, rule=rule,
                      convention=conv)
    Y0 = random_inputs(base, 4, batch=4)
    rng = np.random.default_rng(4)
    Ws, Bs = [], []
    batch = Y0.col() if conv == "column" else Y0.row()
    for layer in base.layers:
        Ws.append(layer.W)
        outs = layer.outputs
        r = [o for o in outs for _ in batch]
        c = [b for _ in outs for b in batch]
        v = [Fraction(int(rng.integers(-2, 6)), 3) for _ in r]
        B = AssocArray.from_triples(r, c, v, domain="QQ")
        Bs.append(B if conv == "column" else B.T)
    neurons = [base.inputs] + [ly.outputs for ly in base.layers]
    net = SparseDNN.from_layers(Ws, Bs, convention=conv, bias_rule=rule, neurons=neurons)
    want = net.infer(Y0, engine="reference").output
    assert want.nnz > 0
    fast = net.infer(Y0)
    assert fast.output.isequal(want)
    if L == 40:
        assert "limbs" in fast.paths
    assert formulations.standard(net, Y0).isequal(want)
    assert formulations.oscillating(net, Y0).isequal(want)
    for fmt in ("fp64", "fp16"):
        assert net.infer(Y0, arith=fmt).output.isequal(
            net.infer(Y0, arith=fmt, engine="reference").output)
    rec = net.infer(Y0, record=True)
    ref = net.infer(Y0, engine="reference", record=True)
    assert all(a.pre.isequal(b.pre) for a, b in zip(rec.layers, ref.layers, strict=True))


def test_symbolic_betas_give_the_output_as_an_expression_in_beta():
    # the paper's model problem with beta as a symbol: y_1 = W0 Y0 + beta - fan_in on the diagonal
    beta = sympy.Symbol("beta", positive=True)
    W0 = AssocArray.from_triples(["ad", "ad", "be", "be"], ["1a", "2d", "1b", "2e"], 1,
                                 domain="SYM")
    net = SparseDNN.from_layers([W0], betas=[beta], domain="SYM")
    assert net.layers[0].bias == {"ad": beta - 2, "be": beta - 2}
    with pytest.raises(SymbolicSignError, match="beta - 2"):
        net.infer(W0.T, arith="symbolic")  # beta > 0 alone does not settle beta - 2
    out = net.infer(W0.T, arith="symbolic", bounds={beta: (0, 1)})
    assert out.output.to_dict() == {"ad": {"ad": beta}, "be": {"be": beta}}


def test_box_range_is_exact_for_multilinear_expressions():
    from symdnn.engines.reference import box_range

    b0, b1 = sympy.symbols("b0 b1")
    assert box_range(3 - 2 * b0 - b1, {b0: (0, 1), b1: (0, 1)}) == (0, 3)
    assert box_range(b0 * b1 - b0, {b0: (0, 2), b1: (0, 1)}) == (-2, 0)
    assert box_range(b0**2, {b0: (0, 1)}) is None  # not multilinear: no corner rule


def test_recorded_pre_activations_do_not_depend_on_the_engines_path():
    """Under the bias rule 'all' with no bias, the limb path (numerators past 2**62) recorded a
    pre-activation for every neuron of a non-empty row, W y = 0 included, where the float64
    and int64 paths record only the nonzero products: the audit's counts (exact_pre,
    exact_zero) and certify's pattern then depended on the path (found by the certify
    review, issue 25). The same inputs scaled by 2**70 take the limb path: same pattern."""
    import scipy.sparse as sp

    from symdnn.engines import exact as EX

    W = sp.csr_matrix(np.array([[1, 0, 0], [0, 2, 0], [1, 0, 0]], dtype=np.int64))
    lay = EX.ExactLayer(W, 1, None, 1)  # no bias; neuron 3 reads nothing present
    ptr, idx = np.array([0, 2, 3, 3]), np.array([0, 1, 2])  # row 3: an all-zero input
    patterns = []
    for scale in (1, 2**70):
        nums = np.array([3 * scale, -5 * scale, 7 * scale], dtype=object)
        st = EX.start(ptr, idx, nums, 1, (3, 3))
        _, info = EX.step(st, lay, rule="all", cap=None, record=True)
        p_ptr, p_idx, p_num, _ = info.pre
        patterns.append((list(p_ptr), list(p_idx), [int(v) // scale for v in p_num]))
        assert info.path == ("float64" if scale == 1 else "limbs")
    assert patterns[0] == patterns[1] == ([0, 2, 3, 3], [0, 1, 0], [3, -10, 7])
