"""Every engine, arithmetic and bias rule against the independent oracle (issue 10).

Networks come from :func:`tests.hardvalues.networks` (weights like 1/3**40, 2**70+1, the
dyadic 0.1 and 1e-10; biases like -1/10**14 and -2**53; huge and fractional inputs; empty layers;
caps like 1/3). Exact runs (fast and reference engines, both conventions, with and without
``record``) must equal :func:`tests.oracle.evaluate` with ``==``; float runs on networks where
every neuron has at most two incoming weights (so the summation order cannot matter) must
equal :func:`tests.oracle.evaluate_float` value for value. Then one regression test per item of
issue 10 that concerns rounding, the exact engine, recording, batch keys and the audit.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symdnn import AssocArray, SparseDNN
from symdnn.audit import audit_network
from tests import hardvalues as H
from tests import oracle as O

FLOAT_RUNS = [("fp64", None), ("fp32", None), ("fp32", "fp64")] + [
    (f, a) for f in ("fp16", "bf16", "fp8_e4m3", "fp8_e5m2") for a in (None, "fp32", "fp64")]



def filtered(n: int):
    """The profile's settings with ``n`` examples, tolerating the NaN filter below."""
    return settings(max_examples=n, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


# ---------------------------------------------------------------------------------- helpers
def build(spec: H.NetSpec, convention: str = "column") -> tuple[SparseDNN, AssocArray]:
    """The symdnn network and input array of a NetSpec."""
    Ws = []
    for weights, _, _ in spec.layers:
        outs = [o for (o, _) in weights]
        ins = [i for (_, i) in weights]
        vals = list(weights.values())
        W = AssocArray.from_triples(outs, ins, vals, domain="QQ") if convention == "column" \
            else AssocArray.from_triples(ins, outs, vals, domain="QQ")
        Ws.append(W)
    biases = [dict(bias) for _, bias, _ in spec.layers]
    net = SparseDNN.from_layers(Ws, biases, convention=convention, bias_rule=spec.rule,
                                ymax=spec.cap, neurons=spec.neurons)
    feats, keys, vals = [], [], []
    for b, row in spec.inputs.items():
        for k, v in row.items():
            feats.append(k)
            keys.append(b)
            vals.append(v)
    Y0 = AssocArray.from_triples(feats, keys, vals, domain="QQ") if convention == "column" \
        else AssocArray.from_triples(keys, feats, vals, domain="QQ")
    return net, Y0


def value(v):
    """An engine's value as the oracle writes it: Fraction, or "inf", "-inf", "nan"."""
    if hasattr(v, "p") and hasattr(v, "q"):        # flint.fmpq
        return Fraction(int(v.p), int(v.q))
    if isinstance(v, Fraction | int):
        return Fraction(v)
    x = float(v)
    if math.isnan(x):
        return O.NAN
    if math.isinf(x):
        return O.INF if x > 0 else O.NEG_INF
    return Fraction(x)


def entries(A: AssocArray, convention: str) -> dict:
    """``{(batch key, neuron): value}`` of the nonzero entries of an engine's array."""
    out = {}
    for r, c, v in A.triples():
        b, o = (c, r) if convention == "column" else (r, c)
        x = value(v)
        if x != 0:
            out[(b, o)] = x
    return out


def check_result(res, want: O.Result, convention: str, record: bool) -> None:
    assert entries(res.output, convention) == want.nonzero_outputs()
    if record:
        assert res.layers is not None and len(res.layers) == len(want.pre)
        for lnum, rec in enumerate(res.layers):
            assert entries(rec.pre, convention) == want.nonzero_pre(lnum), f"pre, layer {lnum}"
            assert entries(rec.post, convention) == want.nonzero_post(lnum), \
                f"post, layer {lnum}"


def oracle_exact(spec: H.NetSpec, batch: list | None = None) -> O.Result:
    return O.evaluate(spec.layers, spec.inputs, rule=spec.rule, cap=spec.cap,
                      batch=spec.present if batch is None else batch)


def oracle_float(spec: H.NetSpec, fmt: str, acc: str | None,
                 batch: list | None = None) -> O.Result:
    return O.evaluate_float(spec.layers, spec.inputs, fmt=fmt, acc=acc, rule=spec.rule,
                            cap=spec.cap, batch=spec.present if batch is None else batch)


# ====================================================================== exact, property tests
@given(spec=H.networks(), conv=st.sampled_from(["column", "row"]),
       engine=st.sampled_from(["fast", "reference"]))
def test_exact_engines_equal_oracle(spec, conv, engine):
    net, Y0 = build(spec, conv)
    res = net.infer(Y0, arith="exact", engine=engine)
    check_result(res, oracle_exact(spec), conv, record=False)


@given(spec=H.networks(), conv=st.sampled_from(["column", "row"]),
       engine=st.sampled_from(["fast", "reference"]))
def test_exact_engines_record_equal_oracle(spec, conv, engine):
    net, Y0 = build(spec, conv)
    res = net.infer(Y0, arith="exact", engine=engine, record=True)
    check_result(res, oracle_exact(spec), conv, record=True)


@given(spec=H.networks(max_layers=2), conv=st.sampled_from(["column", "row"]),
       engine=st.sampled_from(["fast", "reference"]))
def test_exact_engines_with_batch_keys_equal_oracle(spec, conv, engine):
    net, Y0 = build(spec, conv)
    res = net.infer(Y0, arith="exact", engine=engine, batch=spec.batch)
    check_result(res, oracle_exact(spec, batch=spec.batch), conv, record=False)


# ====================================================================== float, property tests
@pytest.mark.parametrize("fmt,acc", FLOAT_RUNS)
@filtered(12)
@given(data=st.data(), conv=st.sampled_from(["column", "row"]),
       engine=st.sampled_from(["fast", "reference"]), record=st.booleans())
def test_float_engines_equal_oracle_on_indegree_two(fmt, acc, data, conv, engine, record):
    spec = data.draw(H.networks(max_indegree=2, huge=fmt in ("fp64", "fp32", "bf16")),
                     label="spec")
    want = oracle_float(spec, fmt, acc)
    assume(want.finite)  # ReLU of NaN and infinite activations are not specified
    net, Y0 = build(spec, conv)
    res = net.infer(Y0, arith=fmt, accumulate=acc, engine=engine, record=record)
    assert res.output.domain.name == fmt
    check_result(res, want, conv, record)


@pytest.mark.parametrize("fmt,acc", [("fp64", None), ("bf16", "fp64"), ("fp16", None),
                                     ("fp8_e4m3", "fp32")])
@filtered(10)
@given(data=st.data(), engine=st.sampled_from(["fast", "reference"]))
def test_float_engines_with_batch_keys_equal_oracle(fmt, acc, data, engine):
    spec = data.draw(H.networks(max_indegree=2, max_layers=2, huge=False), label="spec")
    want = oracle_float(spec, fmt, acc, batch=spec.batch)
    assume(want.finite)
    net, Y0 = build(spec)
    res = net.infer(Y0, arith=fmt, accumulate=acc, engine=engine, batch=spec.batch)
    check_result(res, want, "column", record=False)


# ====================================================================== regressions, issue 10
def one_layer(weights: dict, bias: dict, inputs: dict, *, rule="all", cap=None,
              outputs=None, features=None) -> H.NetSpec:
    outs = sorted({o for o, _ in weights} | set(bias) | set(outputs or ()))
    feats = sorted({i for _, i in weights} | {k for r in inputs.values() for k in r}
                   | set(features or ()))
    return H.NetSpec([(weights, bias, outs)], [feats, outs], rule, cap, inputs, list(inputs))


def all_engines_exact(spec: H.NetSpec, record: bool = True):
    want = oracle_exact(spec)
    for conv in ("column", "row"):
        net, Y0 = build(spec, conv)
        for engine in ("fast", "reference"):
            res = net.infer(Y0, engine=engine, record=record)
            check_result(res, want, conv, record)
    return want


def test_fp8_fast_and_reference_agree_with_fp64_accumulation():
    # 256 + 16 + 2**-18 is exact in float64; float32 rounds it to 272, the midpoint between the
    # E4M3 values 256 and 288, which then ties to 256: the correct single rounding is 288
    spec = one_layer({("o", "a"): Fraction(1), ("o", "b"): Fraction(1),
                      ("o", "c"): Fraction(1, 2**9)},
                     {}, {"x": {"a": Fraction(256), "b": Fraction(16), "c": Fraction(1, 2**9)}})
    want = oracle_float(spec, "fp8_e4m3", "fp64")
    assert want.nonzero_outputs() == {("x", "o"): Fraction(288)}
    for conv in ("column", "row"):
        net, Y0 = build(spec, conv)
        outs = {}
        for engine in ("fast", "reference"):
            res = net.infer(Y0, arith="fp8_e4m3", accumulate="fp64", engine=engine,
                            record=True)
            outs[engine] = entries(res.output, conv)
            check_result(res, want, conv, record=True)
        assert outs["fast"] == outs["reference"]


@pytest.mark.parametrize("fmt", ["bf16", "fp8_e5m2", "fp16"])
def test_small_formats_fp64_accumulation_rounds_once(fmt):
    # 1 + ulp/2 + 2**-30 (three exact products) lies just above the midpoint between 1 (even)
    # and 1 + ulp, within float32's half ulp of it: float64 -> float32 -> fmt ties down to 1;
    # rounded once it is 1 + ulp
    f = O.FORMATS[fmt]
    lo, hi, _ = O.neighbours(f.bias << f.man_bits, fmt)          # 1 and 1 + ulp
    c = Fraction(1, 2**15)
    spec = one_layer({("o", "a"): Fraction(1), ("o", "b"): Fraction(1), ("o", "c"): c},
                     {}, {"x": {"a": Fraction(1), "b": (hi - lo) / 2, "c": c}})
    assert lo == 1 and O.round_value(c, fmt) == c
    want = oracle_float(spec, fmt, "fp64")
    assert want.nonzero_outputs() == {("x", "o"): hi}
    for engine in ("fast", "reference"):
        net, Y0 = build(spec)
        check_result(net.infer(Y0, arith=fmt, accumulate="fp64", engine=engine), want,
                     "column", record=False)


def test_exact_engine_limb_path_large_colsum():
    spec = one_layer({("o", "a"): Fraction(1)}, {"o": Fraction(-1, 10**14)},
                     {"x": {"a": Fraction(10**5)}})
    want = all_engines_exact(spec)
    assert want.nonzero_outputs() == {("x", "o"): 10**5 - Fraction(1, 10**14)}


def test_exact_engine_limb_path_many_inputs_with_tiny_bias():
    feats = [f"f{i}" for i in range(40)]
    spec = one_layer({("o", k): Fraction(1) for k in feats}, {"o": Fraction(-1, 10**14)},
                     {"x": {k: Fraction(10**5 + i) for i, k in enumerate(feats)}})
    all_engines_exact(spec)


def test_exact_engine_weight_beyond_2_62():
    spec = one_layer({("o", "a"): Fraction(2**70 + 1), ("o", "b"): Fraction(-3),
                      ("p", "b"): Fraction(2**70 + 1)},
                     {"o": Fraction(1, 7)},
                     {"x": {"a": Fraction(3), "b": Fraction(2**62 + 3)},
                      "y": {"a": Fraction(1, 2)}})
    want = all_engines_exact(spec)
    assert want.nonzero_outputs()[("y", "o")] == Fraction(2**70 + 1, 2) + Fraction(1, 7)


def test_exact_engine_mixed_denominators():
    spec = one_layer({("o", "a"): Fraction(1, 3**40), ("o", "b"): Fraction(1, 5**30),
                      ("p", "a"): Fraction(1, 5**30)},
                     {"o": Fraction(-1, 10**14), "p": Fraction(1, 3)},
                     {"x": {"a": Fraction(3**41), "b": Fraction(5**29)},
                      "y": {"b": Fraction(7, 2)}})
    want = all_engines_exact(spec)
    assert want.nonzero_outputs()[("x", "o")] == 3 + Fraction(1, 5) - Fraction(1, 10**14)


def test_exact_engine_float_weights_mixed_scale():
    # Python floats entering QQ become the dyadic rationals they denote
    spec = one_layer({("o", "a"): Fraction(0.1), ("o", "b"): Fraction(1e-10)},
                     {"o": Fraction(-3, 10)}, {"x": {"a": Fraction(3), "b": Fraction(10**10)}})
    want = all_engines_exact(spec)
    W = AssocArray.from_triples(["o", "o"], ["a", "b"], [0.1, 1e-10], domain="QQ")
    net = SparseDNN.from_layers([W], [{"o": Fraction(-3, 10)}])
    Y0 = AssocArray.from_triples(["a", "b"], ["x", "x"], [3, 10**10], domain="QQ")
    for engine in ("fast", "reference"):
        assert entries(net.infer(Y0, engine=engine).output, "column") == \
            want.nonzero_outputs()
    assert want.nonzero_outputs()[("x", "o")] == 3 * Fraction(0.1) + 10**10 * Fraction(1e-10) \
        - Fraction(3, 10)


@pytest.mark.parametrize("rule", ["all", "nonzero"])
def test_exact_engine_empty_layer(rule):
    neurons = [["a", "b"], ["h1", "h2"], ["g1", "g2"], ["o1", "o2"]]
    layers = [({("h1", "a"): Fraction(1, 3), ("h2", "b"): Fraction(2)}, {"h1": Fraction(1, 5)},
               neurons[1]),
              ({}, {"g1": Fraction(3, 2), "g2": Fraction(-1)}, neurons[2]),   # no weights
              ({("o1", "g1"): Fraction(1), ("o2", "g2"): Fraction(1),
                ("o2", "g1"): Fraction(-1, 7)}, {"o2": Fraction(1)}, neurons[3])]
    spec = H.NetSpec(layers, neurons, rule, None, {"x": {"a": Fraction(3), "b": Fraction(1)}},
                     ["x"])
    want = all_engines_exact(spec)
    if rule == "all":
        assert want.nonzero_outputs() == {("x", "o1"): Fraction(3, 2),
                                          ("x", "o2"): 1 - Fraction(3, 14)}
    else:
        assert want.nonzero_outputs() == {}
    for fmt in ("fp64", "bf16"):
        wantf = oracle_float(spec, fmt, None)
        for engine in ("fast", "reference"):
            net, Y0 = build(spec)
            check_result(net.infer(Y0, arith=fmt, engine=engine, record=True), wantf,
                         "column", record=True)


def test_audit_integer_inputs_beyond_2_53():
    spec = one_layer({("o", "a"): Fraction(1)}, {"o": Fraction(-(2**53))},
                     {"x": {"a": Fraction(2**53 + 1)}})
    want = oracle_exact(spec)
    assert want.pre[0] == {"x": {"o": Fraction(1)}}
    net, Y0 = build(spec)
    js = audit_network(net, Y0, formats=["fp64"]).to_json()
    assert js["exact_pre"] == [1]
    assert js["exact_zero"] == [0]
    assert js["exact_categories"] == ["x"]
    run = js["runs"]["fp64"]
    # fp64 rounds the input to 2**53: its pre-activation is 0, a real sign flip
    wantf = oracle_float(spec, "fp64", None)
    assert wantf.pre[0] == {"x": {"o": Fraction(0)}}
    assert run["sign_flip"] == [1]
    assert run["categories"] == [] and run["categories_match_exact"] is False


@pytest.mark.parametrize("fmt", list(O.FORMATS))
def test_audit_fractional_inputs(fmt):
    spec = one_layer({("o", "a"): Fraction(1), ("p", "b"): Fraction(1)}, {},
                     {"x": {"a": Fraction(1, 2), "b": Fraction(1, 3)},
                      "y": {"b": Fraction(2, 3)}})
    net, Y0 = build(spec)
    js = audit_network(net, Y0, formats=[fmt]).to_json()
    assert js["exact_categories"] == ["x", "y"]
    (run,) = js["runs"].values()
    assert run["format"] == fmt
    # every output is the input rounded once into fmt: the correctly rounded exact value
    assert run["totals"]["max_ulp"] == 0
    assert run["totals"]["sign_flip"] == 0
    assert run["categories_match_exact"] is True


@pytest.mark.parametrize("engine", ["fast", "reference"])
@pytest.mark.parametrize("arith", ["exact", "fp64", "fp16"])
def test_record_nonzero_rule_layer_without_preactivations(engine, arith):
    # layer 0 reads only b; the input has only a: W y is 0 everywhere, so under the nonzero
    # rule layer 0 has no pre-activation at all, and neither has layer 1
    neurons = [["a", "b"], ["h"], ["o"]]
    layers = [({("h", "b"): Fraction(1)}, {"h": Fraction(1, 3)}, ["h"]),
              ({("o", "h"): Fraction(1)}, {"o": Fraction(2)}, ["o"])]
    spec = H.NetSpec(layers, neurons, "nonzero", Fraction(5, 2),
                     {"x": {"a": Fraction(1)}}, ["x"])
    want = oracle_exact(spec) if arith == "exact" else oracle_float(spec, arith, None)
    assert want.pre == [{}, {}] and want.nonzero_outputs() == {}
    for conv in ("column", "row"):
        net, Y0 = build(spec, conv)
        res = net.infer(Y0, arith=arith, engine=engine, record=True)
        check_result(res, want, conv, record=True)


@pytest.mark.parametrize("engine", ["fast", "reference"])
@pytest.mark.parametrize("arith", ["exact", "fp32", "bf16"])
def test_all_zero_input_column_keeps_batch_key(engine, arith):
    spec = H.NetSpec([({("o", "a"): Fraction(1, 3)}, {"o": Fraction(1, 7)}, ["o", "p"])],
                     [["a", "b"], ["o", "p"]], "all", None,
                     {"x": {"a": Fraction(3)}}, ["x", "zero"])   # "zero": no features at all
    want = oracle_exact(spec, batch=spec.batch) if arith == "exact" else \
        oracle_float(spec, arith, None, batch=spec.batch)
    assert ("zero", "o") in want.nonzero_outputs()
    for conv in ("column", "row"):
        net, Y0 = build(spec, conv)
        res = net.infer(Y0, arith=arith, engine=engine, batch=["x", "zero"], record=True)
        check_result(res, want, conv, record=True)
        assert "zero" in res.categories()


@pytest.mark.parametrize("side", [1, -1])
def test_audit_cap_flip_uses_rounded_cap(side):
    # exact pre-activation 1/3 +- 2**-40 with YMAX = 1/3: capped (+) or not (-) in exact
    # arithmetic. Every format but fp64 rounds the input and the cap to the same value, so
    # its run computes exactly the rounded cap, which agrees with either decision: no cap flip.
    # (float64(1/3) lies above fp16(1/3): judging fp16 against float64(YMAX) flips; judging
    # "value > rounded cap" flips the + case, "value >= rounded cap" the - case.)
    third = Fraction(1, 3)
    spec = one_layer({("o", "a"): Fraction(1)}, {},
                     {"x": {"a": third + side * Fraction(1, 2**40)}}, cap=third)
    fmts = ["fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"]
    for fmt in fmts[1:]:
        w = oracle_float(spec, fmt, None)
        assert w.nonzero_pre(0) == {("x", "o"): O.round_value(third, fmt)}
        assert w.nonzero_outputs() == {("x", "o"): O.round_value(third, fmt)}
    net, Y0 = build(spec)
    js = audit_network(net, Y0, formats=fmts).to_json()
    assert set(js["runs"]) >= {"fp64", "fp32"} and len(js["runs"]) == len(fmts)
    for name, run in js["runs"].items():
        assert run["totals"]["cap_flip"] == 0, name
        assert run["totals"]["max_ulp"] == 0, name
        assert run["totals"]["sign_flip"] == 0, name


def test_convert_to_bf16_from_float64_one_rounding():
    x = 1 + 2**-8 + 2**-40
    A = AssocArray.from_triples(["a", "b"], ["x", "x"], [x, -x], domain="fp64")
    got = {(r, c): value(v) for r, c, v in A.convert_to("bf16").triples()}
    want = O.bits_to_fraction(O.round_fraction(Fraction(x), "bf16"), "bf16")
    assert want == Fraction(1.0078125)
    assert got == {("a", "x"): want, ("b", "x"): -want}


def test_float_weights_biases_inputs_cap_round_once():
    # every value enters the format from its exact rational in one rounding (bf16, fp16, fp8)
    x = 1 + Fraction(1, 2**8) + Fraction(1, 2**60)      # just above a bf16 midpoint
    spec = one_layer({("o", "a"): x, ("p", "a"): Fraction(1)}, {"p": x - 1},
                     {"k": {"a": x}}, cap=Fraction(7, 3))
    for fmt in ("bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "fp32"):
        want = oracle_float(spec, fmt, None)
        for engine in ("fast", "reference"):
            net, Y0 = build(spec)
            check_result(net.infer(Y0, arith=fmt, engine=engine, record=True), want, "column",
                         record=True)


@pytest.mark.parametrize("fmt,acc", [(f, a) for f in ("fp16", "bf16", "fp8_e4m3", "fp8_e5m2")
                                     for a in (None, "fp32", "fp64")] + [("fp32", "fp64")])
@filtered(15)
@given(data=st.data(), engine=st.sampled_from(["fast", "reference"]),
       conv=st.sampled_from(["column", "row"]))
def test_float_engines_round_sums_near_midpoints_like_oracle(fmt, acc, data, engine, conv):
    # each neuron's two products sum to a midpoint of fmt plus or minus a tiny term: an
    # implementation that rounds the accumulated sum into fmt twice (through float32) fails
    spec = data.draw(H.midpoint_sum_network(fmt), label="spec")
    want = oracle_float(spec, fmt, acc)
    assume(want.finite)
    net, Y0 = build(spec, conv)
    res = net.infer(Y0, arith=fmt, accumulate=acc, engine=engine, record=True)
    check_result(res, want, conv, record=True)
