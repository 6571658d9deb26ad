"""The float audit: planted errors (one wrong rounding, one dropped edge, one sign flip) found
and located exactly in a network whose fp64 run is exact; the Graph Challenge audit against an
independent count; reports, policies, the CLI; int8, ONNX and the correct rounding of arrays."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from symdnn import AssocArray
from symdnn.audit import Run, audit_graph_challenge, audit_network
from symdnn.audit.foreign import MissingDependency, scipy_layer, torch_layer
from symdnn.cli import main
from symdnn.domains import round_exact, round_ratio, ulp_distance
from tests.datafiles import GC_FIXTURE, gc_images, gc_layer
from tests.netgen import random_net


def dyadic_net(seed=5, L=6):
    """Weights k/16, bias -1/4, cap 32, Graph Challenge rule: fp64 computes it exactly."""
    net = random_net(seed, L=L, n=12, density=0.35, pos=0.8, wq=16, wp=12, bias="-1/4",
                     cap=32, rule="nonzero", convention="row")
    rng = np.random.default_rng(seed)
    rows, cols, vals = [], [], []
    for b in range(8):
        for f in net.inputs:
            if rng.random() < 0.6:
                rows.append(f"x{b}")
                cols.append(f)
                vals.append(Fraction(int(rng.integers(1, 9)), 2))
    return net, AssocArray.from_triples(rows, cols, vals, domain="QQ")


def run_of(report, name):
    return next(r for r in report.runs if r.run.name == name)


def test_fp64_is_exact_on_the_dyadic_network():
    net, Y0 = dyadic_net()
    rep = audit_network(net, Y0, formats=["fp64"])
    js = rep.to_json()["runs"]["fp64"]
    assert js["totals"]["max_ulp"] == 0 and js["totals"]["sign_flip"] == 0
    assert js["first_departure"] is None and js["categories_match_exact"]
    assert rep.exact_pre[-1] > 0


def planted(kind: str, at_layer: int, net):
    """A foreign per-layer implementation with one planted error at one layer."""
    good = scipy_layer(np.float64, rule="nonzero", cap=32.0)
    seen = {"layer": 0, "where": None}

    def fn(W, bias, Y):
        seen["layer"] += 1
        if seen["layer"] != at_layer:
            return good(W, bias, Y)
        W = W.copy().tocsr()
        if kind == "rounding":
            out = good(W, bias, Y).tocsr()
            i = int(np.flatnonzero(out.data)[0])
            out.data[i] = np.nextafter(out.data[i], np.inf)
            row = int(np.searchsorted(out.indptr, i, side="right") - 1)
            seen["where"] = (row, int(out.indices[i]))
            return out
        # the first stored weight whose output neuron is active for some input
        out = good(W, bias, Y).tocsr()
        active_cols = set(out.indices.tolist())
        C = W.tocoo()
        e = next(k for k in range(C.nnz) if C.col[k] in active_cols)
        seen["where"] = (None, int(C.col[e]))
        if kind == "dropped_edge":
            C.data[e] = 0.0
        else:  # sign flip
            C.data[e] = -C.data[e]
        return good(sp.csr_matrix(C), bias, Y)

    return fn, seen


@pytest.mark.parametrize("kind", ["rounding", "dropped_edge", "sign_flip"])
@pytest.mark.parametrize("at_layer", [2, 4])
def test_planted_errors_are_found_and_located(kind, at_layer):
    net, Y0 = dyadic_net()
    fn, seen = planted(kind, at_layer, net)
    rep = audit_network(net, Y0, formats=[], runs=[Run.layer_callable(fn, "fp64", "foreign")])
    res = run_of(rep, "foreign")
    # nothing before the planted layer
    for ly in res.layers[: at_layer - 1]:
        assert ly.max_ulp == 0 and not ly.examples and not ly.counts["sign_flip"]
    hit = res.layers[at_layer - 1]
    row, col = seen["where"]
    neuron = net.layers[at_layer - 1].outputs[col]
    assert hit.examples, kind
    assert all(e["layer"] == at_layer for e in hit.examples)
    if kind == "rounding":
        assert hit.max_ulp == 1
        assert hit.examples[0]["neuron"] == str(neuron)
        assert hit.examples[0]["input"] == str(rep.batch[row])
        assert hit.counts["sign_flip"] == 0
    else:
        assert {e["neuron"] for e in hit.examples} == {str(neuron)}
    js = rep.to_json()["runs"]["foreign"]
    assert js["first_departure"]["layer"] == at_layer
    assert js["zero_to_neg"][0] is None  # a foreign run exposes no pre-activations


def test_whole_network_callable_final_only():
    net, Y0 = dyadic_net()
    W = [ly.W for ly in net.layers]

    def whole(Y):
        f = scipy_layer(np.float64)
        for Wl, ly in zip(W, net.layers, strict=True):
            M, rows, cols = Wl.to_scipy(dtype=np.float64)
            b = np.array([float(ly.bias.get(k, 0)) for k in ly.outputs])
            Y = f(M, b, Y)
        Y = Y.tocsr()
        Y.data[0] *= 3  # one wrong output
        return Y

    rep = audit_network(net, Y0, formats=[], runs=[Run.network_callable(whole, "fp64", "w")])
    res = run_of(rep, "w")
    assert [ly.layer for ly in res.layers] == list(range(1, net.depth + 1))
    assert [ly.provided for ly in res.layers] == [False] * (net.depth - 1) + [True]
    assert res.layers[-1].max_ulp > 0
    js = rep.to_json()["runs"]["w"]
    assert js["layers_provided"] == [net.depth]
    assert js["max_ulp"][:-1] == [None] * (net.depth - 1) and js["max_ulp"][-1] > 0
    assert js["totals"]["max_ulp"] == js["max_ulp"][-1]


def test_policy_and_exit_status(tmp_path, capsys):
    assert main(["build", "--builtin", "words2", "--beta", "3/10", "--out",
                 str(tmp_path / "n")]) == 0  # 3/10 is not a float: every format rounds it
    code = main(["audit", str(tmp_path / "n"), "--formats", "fp64,bf16,fp8_e4m3", "--quiet",
                 "--json", str(tmp_path / "a.json"), "--report", str(tmp_path / "rep")])
    js = json.loads((tmp_path / "a.json").read_text())
    assert js["schema"] == "symdnn-audit/1"
    assert set(js["runs"]) == {"fp64", "bf16+acc_fp32", "fp8_e4m3+acc_fp32"}
    for run in js["runs"].values():
        for key in ("zero_to_pos", "zero_to_neg", "sign_flip", "max_ulp"):
            assert len(run[key]) == 1
        assert "categories_match_exact" in run
    assert code == (0 if all(r["categories_match_exact"] for r in js["runs"].values()) else 1)
    assert {p.name for p in (tmp_path / "rep").iterdir()} == {
        "report.json", "report.md", "findings_per_layer.png", "ulp_histogram.png",
        ".symdnn-output.json"}
    assert main(["audit", str(tmp_path / "n"), "--formats", "fp8_e4m3", "--quiet",
                 "--fail-on", "max_ulp:0"]) == 1
    assert "policy violated" in capsys.readouterr().err
    assert main(["audit", "graph-challenge", "--quiet"]) == 2


def test_int8_run_reports():
    net, Y0 = dyadic_net()
    rep = audit_network(net, Y0, formats=["int8"])
    js = rep.to_json()["runs"]["int8"]
    assert js["accumulate"] == "int32" and len(js["sign_flip"]) == net.depth


def test_torch_adapter_names_the_missing_package():
    try:
        import torch  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependency, match="pip install torch"):
            torch_layer()
    else:
        pytest.skip("torch is installed")


# ------------------------------------------------------------------ ONNX
def test_onnx_model_read_exactly_and_audited(tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    from symdnn.audit.foreign import onnx_network, read_onnx

    rng = np.random.default_rng(0)
    W1 = (rng.integers(-3, 4, (6, 5)) * 0.1).astype(np.float32)
    b1 = np.full(5, -0.05, dtype=np.float32)
    W2 = (rng.integers(-3, 4, (5, 3)) * 0.1).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "W1"], ["h"]),
             helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["a"]),
             helper.make_node("MatMul", ["a", "W2"], ["o"]),
             helper.make_node("Relu", ["o"], ["y"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])],
        [numpy_helper.from_array(W1, "W1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(W2, "W2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = str(tmp_path / "m.onnx")
    onnx.save(model, path)
    net = read_onnx(path)
    i, j = np.argwhere(W1 != 0)[0]
    import flint

    exact = flint.fmpq(*float(W1[i, j]).as_integer_ratio())  # the float32 value, exactly
    assert net.layers[0].W.get((0, int(i)), (1, int(j))) == exact
    X = (rng.random((4, 6)) < 0.7).astype(np.float64)
    Y0 = AssocArray.from_scipy(sp.csr_matrix(X), [f"s{k}" for k in range(4)],
                               [(0, k) for k in range(6)], domain="QQ")
    rep = audit_network(net, Y0, formats=["fp32"],
                        runs=[Run.format("fp32"), Run.network_callable(onnx_network(path),
                                                                       "fp32", "onnxruntime")])
    ort = rep.to_json()["runs"]["onnxruntime"]
    assert ort["source"] == "foreign" and ort["totals"]["max_ulp"] <= 4


# ------------------------------------------------------------------ rounding arrays
@given(st.lists(st.integers(-(2**200), 2**200), min_size=1, max_size=20),
       st.integers(1, 2**120), st.sampled_from(["fp64", "fp32", "fp16", "bf16", "fp8_e5m2"]))
def test_round_ratio_is_correct_rounding(nums, s, fmt):
    got = round_ratio(np.array(nums, dtype=object), s, fmt)
    want = [round_exact(Fraction(n, s), fmt) for n in nums]
    assert [float(g) for g in got] == [float(w) for w in want]


def test_ulp_distance_counts_representable_values():
    one = np.array([1.0])
    assert ulp_distance(one, np.nextafter(one, 2), "fp64").tolist() == [1]
    assert ulp_distance(np.float16([-0.0]), np.float16([0.0]), "fp16").tolist() == [0]
    assert ulp_distance(np.float16([-2**-24]), np.float16([2**-24]), "fp16").tolist() == [2]


# ------------------------------------------------------------------ the Graph Challenge
def test_graph_challenge_audit_counts_against_an_independent_run(gc_dir):
    audit_against_an_independent_run(gc_dir, layers=120, images=300)


def test_graph_challenge_audit_of_the_fixture_against_an_independent_run():
    """12 layers, 155 images: the categories of the fixture's truth, which its generator
    derived with Fractions."""
    js = audit_against_an_independent_run(GC_FIXTURE, layers=12, images=155)
    assert js["exact_categories"] == [152, 153, 155]


def audit_against_an_independent_run(folder, *, layers, images) -> dict:
    from symdnn.io import read_images, read_layer

    rep = audit_graph_challenge(str(folder), formats=["fp64"], layers=layers, images=images)
    js = rep.to_json()
    assert js["exact_matches_truth"] and js["runs"]["fp64"]["categories_match_truth"]
    # independent: exact layers 1..3 in Python fractions-free integers (16^3 * 5 scaling), fp64
    # in plain scipy; count pre-activations exactly zero and positive in fp64, at layer 3
    Y = read_images(gc_images(folder), 1024)[:images].astype(np.int64)
    Yf = Y.astype(np.float64)
    Ye, s = Y.copy(), 1
    for l in range(1, 4):
        N = read_layer(gc_layer(folder, l), 1024).N
        Z = (Ye @ N).tocsr()  # exact: numerators over 16 s
        s16 = 16 * s
        num = Z.data * 10 - 3 * s16  # pre-activation = num / (10 * 16 s)
        Zf = (Yf @ N.astype(np.float64) * 0.0625).tocsr()
        Zf.data += -0.3
        if l == 3:
            exact_zero = Z.copy()
            exact_zero.data = (num == 0).astype(np.int64)
            fpos = Zf.copy()
            fpos.data = (Zf.data > 0).astype(np.int64)
            both = exact_zero.multiply(fpos)
            assert js["exact_zero"][2] == int(exact_zero.sum())
            assert js["runs"]["fp64"]["zero_to_pos"][2] == int(both.sum())
        keep = num > 0
        Ye = sp.csr_matrix((np.where(keep, np.minimum(num, 32 * 10 * s16), 0), Z.indices,
                            Z.indptr), shape=Z.shape)
        Ye.eliminate_zeros()
        s = 10 * s16
        Zf.data[Zf.data < 0] = 0
        Zf.data[Zf.data > 32] = 32
        Zf.eliminate_zeros()
        Yf = Zf
    return js


def test_threshold_audit_finds_the_shift_rounding_the_bias_causes(tmp_path, capsys):
    from symdnn.audit.thresholds import representable_grid, threshold_audit
    from symdnn.constructions import selective

    # one layer, beta = 3/10: exact r_d = 7/10. The bias 3/10 - 2 = -17/10 rounds in fp16 to
    # -(1 + 717/1024), so the fp16 threshold is the fp16 value 717/1024 itself
    c = selective(["ad", "be"], "single", ["3/10"])
    shifted = Fraction(round_exact(Fraction(17, 10), "fp16").item()) - 1
    res = threshold_audit(c, ["fp16", "fp8_e4m3"])
    assert res["fp16"]["grid"] == len(representable_grid("fp16")) == 16385
    p = res["fp16"]["pairs"][0]
    assert p["exact_r_d"] == "7/10" and Fraction(p["float_r_d"]) == shifted
    assert p["mismatches"] == 1 and float(p["first_mismatches"][0]) == float(shifted)
    assert main(["build", "--words", _words(tmp_path), "--beta", "3/10", "--out",
                 str(tmp_path / "n")]) == 0
    capsys.readouterr()
    main(["audit", str(tmp_path / "n"), "--formats", "fp16", "--thresholds", "--quiet",
          "--json", "-"])
    js = json.loads(capsys.readouterr().out)
    assert js["thresholds"]["fp16"]["pairs"][0]["mismatches"] == 1
    assert js["runs"]["fp16+acc_fp32"]["argmax_changes"] == 0


def test_thresholds_accumulate_as_the_runs_do(tmp_path, capsys):
    """--accumulate same made the runs accumulate in fp16 while the threshold audit of the same
    command accumulated in fp32 (the CLI mapped "same" to the default): each format's
    thresholds must be computed in the arithmetic of its run, and int8 has none."""
    assert main(["build", "--words", _words(tmp_path), "--beta", "3/10", "--out",
                 str(tmp_path / "n")]) == 0
    for acc, runs in ((["--accumulate", "same"], {"fp16": "fp16", "bf16": "bf16"}),
                      ([], {"fp16+acc_fp32": "fp32", "bf16+acc_fp32": "fp32"}),
                      (["--accumulate", "fp64"], {"fp16+acc_fp64": "fp64",
                                                  "bf16+acc_fp64": "fp64"})):
        capsys.readouterr()
        main(["audit", str(tmp_path / "n"), "--formats", "fp16,bf16,int8", "--thresholds",
              "--quiet", "--json", "-", *acc])
        js = json.loads(capsys.readouterr().out)
        assert set(js["runs"]) == set(runs) | {"int8"}
        assert {f: t["accumulate"] for f, t in js["thresholds"].items()} == \
            {"fp16": list(runs.values())[0], "bf16": list(runs.values())[1]}
        for name, a in runs.items():
            assert js["runs"][name]["accumulate"] == a


def _words(tmp_path) -> str:
    (tmp_path / "w.txt").write_text("ad\nbe\n")
    return str(tmp_path / "w.txt")
