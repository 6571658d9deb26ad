"""Counterexamples replayed exactly: ``symdnn witness`` (issue 15, items 3-5).

The oracles are independent of the code under test: the network's outputs come from the
plain-Fraction evaluator of ``tests/onnx_oracle.py`` (onnx reads the trusted file), the
float32 input from ``tests/oracle.py``'s rounding, and every margin from the property written
out by hand here (prop_2 says Y_0 is maximal; mnist's says the label's score is not).
The constructed counterexamples sit inside the box, on its boundary, just outside it, and
violate exactly or only within the competition's 1e-4.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from symdnn.cli import main
from symdnn.errors import MissingDependency, SymdnnError
from symdnn.io.vnnlib import parse_counterexample, parse_vnnlib, read_counterexample, read_vnnlib
from symdnn.witness import import_onnx
from symdnn.witness.batch import COLUMNS, replay_results
from symdnn.witness.replay import onnxruntime_outputs, replay, robustness, vnncomp_replay
from tests.datafiles import FIXTURES, data_file, read_bytes
from tests.onnx_oracle import fraction_eval
from tests.oracle import bits_to_fraction, round_fraction

# Each file is looked up in $SYMDNN_DATA, then in tests/data (tests.datafiles), where
# ACAS Xu's networks and properties are gzipped as the competition ships them.
ACAS = "vnncomp/benchmarks/acasxu"
# the three real counterexamples of one tool in VNN-COMP 2022, all to ACAS Xu's prop_2
CES = [data_file(f"vnncomp/results/mn_bab/acasxu/ACASXU_run2a_{n}_batch_2000_prop_2"
                 ".counterexample.gz") for n in ("1_2", "2_1", "2_2")]
PROP2 = data_file(f"{ACAS}/vnnlib/prop_2.vnnlib")


def acas_net(n: str) -> Path:
    return data_file(f"{ACAS}/onnx/ACASXU_run2a_{n}_batch_2000.onnx")


def net_of(ce: Path) -> Path:
    return data_file(f"{ACAS}/onnx/{ce.name.split('_prop_')[0]}.onnx")


def vnncomp_test(name: str) -> Path:
    """A network or property of the VNN-COMP test category."""
    return data_file(f"vnncomp/benchmarks/test/{name}")


def f32(v: F) -> F:
    return bits_to_fraction(round_fraction(v, "fp32"), "fp32")


def prop2_margin(y: list[F]) -> F:
    """prop_2 asserts Y_j <= Y_0 for j = 1..4: the least Y_0 - Y_j."""
    return min(y[0] - y[j] for j in range(1, 5))


def exact_dec(v) -> str:
    """A terminating decimal written out exactly (the files are decimal)."""
    v = F(v)
    for k in range(400):
        if (v * 10 ** k).denominator == 1:
            return dec(v, k) if k else str(v.numerator)
    raise AssertionError(f"{v} is not a terminating decimal")


def ce_text(xs, ys=()) -> str:
    items = [f"(X_{i} {exact_dec(v)})" for i, v in enumerate(xs)] + \
        [f"(Y_{i} {exact_dec(v)})" for i, v in enumerate(ys)]
    return "(" + "\n".join(items) + ")\n"


def dec(v: F, digits: int = 25) -> str:
    """A decimal close to v (the counterexample files are decimal)."""
    if digits == 0:
        return str(v.numerator // v.denominator)
    s = f"{abs(v.numerator) * 10 ** digits // v.denominator:0{digits + 1}d}"
    sign = "-" if v < 0 else ""
    return f"{sign}{s[:-digits]}.{s[-digits:]}"


@pytest.fixture(scope="module")
def graphs():
    return {p: import_onnx(net_of(p)) for p in CES}


# ------------------------------------------------------------------ the real ones
def test_three_real_counterexamples_are_genuine_with_the_oracle_margin(graphs):
    assert len(CES) == 3
    prop = read_vnnlib(PROP2)
    for path in CES:
        ce = read_counterexample(path)
        w = replay(graphs[path], prop, ce, rules="2023")  # 2025: its Y differ from ort's
        x32 = [f32(v) for v in ce.inputs]
        y32 = fraction_eval(net_of(path), x32)
        assert w.outputs == y32
        assert w.margin == prop2_margin(y32) > 0
        yw = fraction_eval(net_of(path), ce.inputs)
        assert w.outputs_as_written == yw and w.margin_as_written == prop2_margin(yw)
        box = prop.input_box()
        in_m = min(min(x - lo, hi - x) for x, (lo, hi) in zip(ce.inputs, box, strict=True))
        assert w.input_margin == in_m >= 0
        assert w.input_in_box and w.input_in_box_float32 and w.violates and w.genuine
        assert w.vnncomp_verdict == "correct"
        assert not w.accepted_by_tolerance


def test_real_counterexample_sits_on_the_box_boundary(graphs):
    # X_0 = 0.6 and X_4 = -0.5 are the lower bounds: in the box with margin exactly 0
    path = CES[0]
    w = replay(graphs[path], read_vnnlib(PROP2), read_counterexample(path))
    assert w.input_margin == 0 and w.input_in_box
    assert f32(F("0.6")) > F("0.6")  # float32(0.6) rounds up: still inside
    assert w.input_margin_float32 == 0  # X_4 = -0.5 is exact in float32


# ------------------------------------------------------------------ constructed
def tool_ce(graph, xs):
    """A counterexample as a tool writes one: its inputs, and onnxruntime's outputs there
    (the 2023 and 2025 checkers compare the two, and refuse a file with no outputs as
    ``exec_doesnt_match``)."""
    try:
        ys = onnxruntime_outputs(graph, np.array([float(F(v)) for v in xs]))
    except SymdnnError:  # no onnxruntime (or it cannot run the model): no outputs written
        return parse_counterexample(ce_text(xs))
    return parse_counterexample(ce_text(xs, [F(float(y)) for y in ys]))


def _replay(graph, prop_text, xs, ys=None):
    ce = tool_ce(graph, xs) if ys is None else parse_counterexample(ce_text(xs, ys))
    return replay(graph, parse_vnnlib(prop_text), ce)


def test_just_outside_the_box_is_accepted_only_by_the_tolerance(graphs):
    path = CES[0]
    ce = read_counterexample(path)
    xs = list(ce.inputs)
    xs[0] = F("0.59999")  # 1e-5 below the bound 0.6
    w = replay(graphs[path], read_vnnlib(PROP2), tool_ce(graphs[path], xs))
    assert not w.input_in_box and w.input_margin == F("-0.00001")
    assert not w.genuine
    y32 = fraction_eval(net_of(path), [f32(v) for v in xs])
    assert w.violates and w.margin == prop2_margin(y32)
    assert w.vnncomp_verdict == "correct_up_to_tolerance" and w.accepted_by_tolerance


def test_far_outside_the_box_is_rejected_by_both(graphs):
    path = CES[0]
    xs = list(read_counterexample(path).inputs)
    xs[0] = F("0.5998")
    w = replay(graphs[path], read_vnnlib(PROP2), tool_ce(graphs[path], xs))
    assert not w.input_in_box and w.vnncomp_verdict == "spec_not_violated"


def _y0_property(c: str) -> str:
    return ("".join(f"(declare-const X_{i} Real)" for i in range(5)) +
            "".join(f"(declare-const Y_{i} Real)" for i in range(5)) +
            "(assert (>= X_0 -1)) (assert (<= X_0 1)) (assert (>= X_1 -1)) "
            "(assert (<= X_1 1)) (assert (>= X_2 -1)) (assert (<= X_2 1)) "
            "(assert (>= X_3 -1)) (assert (<= X_3 1)) (assert (>= X_4 -1)) "
            f"(assert (<= X_4 1)) (assert (>= Y_0 {c}))")


def test_violating_only_within_the_tolerance(graphs):
    path = CES[1]
    g = graphs[path]
    xs = read_counterexample(path).inputs
    y0 = fraction_eval(net_of(path), [f32(v) for v in xs])[0]
    c = F(dec(y0 + F(5, 10 ** 5)))  # Y_0 >= y0 + 5e-5: misses by 5e-5
    w = _replay(g, _y0_property(dec(c)), xs)
    assert w.input_in_box and not w.violates and w.margin == y0 - c < 0
    assert not w.genuine
    assert w.vnncomp_verdict == "correct_up_to_tolerance" and w.accepted_by_tolerance


def test_violating_by_a_hair_is_genuine(graphs):
    path = CES[1]
    xs = read_counterexample(path).inputs
    y0 = fraction_eval(net_of(path), [f32(v) for v in xs])[0]
    c = F(dec(y0 - F(1, 10 ** 20)))  # far below float32's resolution
    w = _replay(graphs[path], _y0_property(dec(c)), xs)
    assert w.genuine and w.margin == y0 - c and 0 < w.margin < F(2, 10 ** 20)


def test_float32_rounding_of_the_input_decides():
    # test_nano is y = relu(x / 2): at x = 0.1 as written y = 0.05 exactly, but a float32
    # implementation is fed float32(0.1) > 0.1
    g = import_onnx(vnncomp_test("test_nano.onnx"))
    prop = ("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 -1)) "
            "(assert (<= X_0 1)) (assert (<= Y_0 0.05))")
    w = _replay(g, prop, [F("0.1")])
    assert w.violates_as_written and w.margin_as_written == 0
    assert not w.violates and w.margin == F("0.05") - f32(F("0.1")) / 2
    # and the box: X_0 <= 0.1 holds as written, not for float32(0.1)
    prop_box = ("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 -1)) "
                "(assert (<= X_0 0.1)) (assert (<= Y_0 1))")
    w = _replay(g, prop_box, [F("0.1")])
    assert w.input_in_box and not w.input_in_box_float32 and w.genuine


def test_disjunction_of_input_boxes():
    # ACAS Xu prop_6: two boxes differing in the sign of X_1
    g = import_onnx(acas_net("1_1"))
    prop = read_vnnlib(data_file(f"{ACAS}/vnnlib/prop_6.vnnlib"))
    base = [F("0.3"), F("0.2"), F("-0.4995"), F(0), F(0)]
    for x1, inside in ((F("0.2"), True), (F("-0.2"), True), (F(0), False)):
        xs = base[:]
        xs[1] = x1
        w = replay(g, prop, parse_counterexample(ce_text(xs)))
        assert w.input_in_box is inside
        # the second box's X_1 bound -0.11140846, the first's 0.11140846
        margins = [min(xs[0] + F("0.129289109"), F("0.700434925") - xs[0],
                       (x1 - F("0.11140846")) if k == 0 else (F("-0.11140846") - x1),
                       (F("0.499999896") - x1) if k == 0 else (x1 + F("0.499999896")),
                       F("-0.499204121") - xs[2], xs[2] + F("0.499999896"), F("0.5"), F("0.5"))
                   for k in (0, 1)]
        assert w.input_margin == max(margins)
        # prop_6's outputs are a disjunction too: some Y_j <= Y_0, robustness the greatest
        y = fraction_eval(acas_net("1_1"), [f32(v) for v in xs])
        assert w.outputs == y and w.margin == max(y[0] - y[j] for j in range(1, 5))
        assert w.violates is (w.margin >= 0)


@pytest.mark.slow
def test_output_disjunction_on_mnist():
    net = data_file("vnncomp/benchmarks/mnist_fc/onnx/mnist-net_256x2.onnx")
    prop = read_vnnlib(data_file("vnncomp/benchmarks/mnist_fc/vnnlib/prop_0_0.03.vnnlib"))
    box = prop.input_box()
    xs = [(lo + hi) / 2 for lo, hi in box]  # the box's centre: the image itself
    w = replay(import_onnx(net), prop, parse_counterexample(ce_text([dec(v) for v in xs])))
    xw = [F(dec(v)) for v in xs]
    y = fraction_eval(net, [f32(v) for v in xw])
    assert w.outputs == y
    assert w.margin == max(y[j] - y[4] for j in range(10) if j != 4) < 0  # prop: label 4
    assert w.input_in_box and not w.violates and not w.genuine
    assert w.vnncomp_verdict == "spec_not_violated"


def test_written_outputs_that_differ_from_the_network():
    path = CES[2]
    ce = read_counterexample(path)
    ys = [v * 2 for v in ce.outputs]
    w = replay(import_onnx(net_of(path)), read_vnnlib(PROP2),
               parse_counterexample(ce_text(ce.inputs, ys)))
    assert w.genuine  # the exact replay ignores what the tool wrote
    assert w.vnncomp_verdict == "exec_doesnt_match"


def test_sizes_must_agree():
    g = import_onnx(acas_net("1_1"))
    from symdnn.errors import SymdnnError

    with pytest.raises(SymdnnError, match="4 inputs, the network takes 5"):
        replay(g, read_vnnlib(PROP2), parse_counterexample(ce_text([0, 0, 0, 0])))
    p = parse_vnnlib("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (<= Y_0 1))")
    with pytest.raises(SymdnnError, match="declares 1 inputs"):
        replay(g, p, parse_counterexample(ce_text([0] * 5)))


# ------------------------------------------------------------------ the pieces
def test_robustness_is_zero_on_the_boundary_and_signs_right():
    p = parse_vnnlib("(declare-const Y_0 Real) (declare-const Y_1 Real) (declare-const X_0 "
                     "Real) (assert (or (and (<= Y_0 1) (>= Y_1 2)) (<= Y_0 -5)))")
    assert robustness(p.assertions, {"Y_0": F(1), "Y_1": F(2)}) == 0
    assert robustness(p.assertions, {"Y_0": F(1), "Y_1": F(3, 2)}) == F(-1, 2)
    assert robustness(p.assertions, {"Y_0": F(-6), "Y_1": F(0)}) == 1
    assert robustness([], {}) == float("inf")


def test_vnncomp_replay_emulates_the_float_checks():
    p = parse_vnnlib("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 0)) "
                     "(assert (<= X_0 1)) (assert (<= Y_0 0))")
    assert vnncomp_replay(p, [F(1, 2)], [0.0]) == "correct"
    assert vnncomp_replay(p, [F(1, 2)], [0.00009]) == "correct_up_to_tolerance"
    assert vnncomp_replay(p, [F(1, 2)], [0.00011]) == "spec_not_violated"
    assert vnncomp_replay(p, [F("1.00009")], [0.0]) == "correct_up_to_tolerance"
    assert vnncomp_replay(p, [F("-0.00011")], [0.0]) == "spec_not_violated"
    assert vnncomp_replay(p, [F(1, 2)], [0.0], [F(1)]) == "exec_doesnt_match"
    assert vnncomp_replay(p, [F(1, 2)], [1.0], [F("1.0005")]) == "spec_not_violated"
    assert vnncomp_replay(p, [F(1, 2)], None) is None


# ------------------------------------------------------------------ the command
def test_cli_single_genuine_and_json_keys(tmp_path, capsys):
    path = CES[0]
    out = tmp_path / "w.json"
    rc = main(["witness", str(net_of(path)), str(PROP2), str(path), "--json", str(out),
               "--rules", "2023"])
    assert rc == 0
    doc = json.loads(out.read_text())
    assert doc["vnncomp_rules"] == "2023" and doc["malformed"] is None
    for key in ("input_in_box", "input_in_box_float32", "violates", "violates_as_written",
                "margin", "vnncomp_verdict", "genuine", "outputs", "outputs_onnxruntime"):
        assert key in doc
    assert doc["genuine"] is True and doc["vnncomp_verdict"] == "correct"
    assert F(doc["margin"]) == prop2_margin(fraction_eval(
        net_of(path), [f32(v) for v in read_counterexample(path).inputs]))
    line = capsys.readouterr().out.strip()
    assert "GENUINE" in line and len(line.splitlines()) == 1
    # an existing --json file is refused, and left as it was
    rc = main(["witness", str(net_of(path)), str(PROP2), str(path), "--json", str(out),
               "--rules", "2023"])
    assert rc == 2 and json.loads(out.read_text()) == doc


def test_cli_not_genuine_exits_1_and_bad_input_2(tmp_path, capsys):
    path = CES[0]
    xs = list(read_counterexample(path).inputs)
    xs[0] = F("0.59999")
    ce = tmp_path / "out.counterexample"
    ce.write_text(ce_text(xs))
    assert main(["witness", str(net_of(path)), str(PROP2), str(ce)]) == 1
    assert "NOT GENUINE" in capsys.readouterr().out
    bad = tmp_path / "bad.counterexample"
    bad.write_text("((X_0 0.1) (X_1 zz))")
    assert main(["witness", str(net_of(path)), str(PROP2), str(bad)]) == 2
    assert "bad.counterexample:1" in capsys.readouterr().err
    assert main(["witness", str(net_of(path)), str(PROP2)]) == 2
    assert main(["witness", str(net_of(path)), str(PROP2), str(path), "--csv", "x.csv"]) == 2
    assert main(["witness", str(PROP2), str(PROP2), str(path)]) == 2  # not an ONNX file
    err = capsys.readouterr().err
    assert "prop_2.vnnlib" in err and "internal error" not in err


def _results_tree(tmp_path: Path) -> tuple[Path, Path]:
    res = tmp_path / "results" / "tool_a" / "acasxu"
    res.mkdir(parents=True)
    for p in CES:
        shutil.copy(p, res / p.name)
    ce = read_counterexample(CES[0])
    xs = list(ce.inputs)
    xs[0] = F("0.59999")
    (res / "ACASXU_run2a_1_2_batch_2000_prop_2x.counterexample").write_text(ce_text(xs))
    (res / "ACASXU_run2a_1_1_batch_2000_prop_2.counterexample").write_text("")
    (res / "ACASXU_run2a_1_3_batch_2000_prop_2.counterexample.gz").write_bytes(
        gzip.compress(b"((X_0 1) (X_0 2))"))
    (res / "nonet_prop_2.counterexample").write_text(ce_text([0] * 5))
    bench = tmp_path / "bench" / "acasxu"
    (bench / "onnx").mkdir(parents=True)
    (bench / "vnnlib").mkdir()
    for n in ("1_1", "1_2", "1_3", "2_1", "2_2"):  # gunzipped: this tree holds plain files
        (bench / "onnx" / f"ACASXU_run2a_{n}_batch_2000.onnx").write_bytes(
            read_bytes(acas_net(n)))
    (bench / "vnnlib" / "prop_2.vnnlib").write_bytes(read_bytes(PROP2))
    (bench / "vnnlib" / "prop_2x.vnnlib").write_bytes(read_bytes(PROP2))
    return tmp_path / "results", tmp_path / "bench"


def test_batch_mode_rows_summary_and_files(tmp_path, capsys):
    results, bench = _results_tree(tmp_path)
    js, cs = tmp_path / "rows.json", tmp_path / "rows.csv"
    # 2026: the property on onnxruntime's outputs (prop_2x's file writes none)
    rc = main(["witness", "--results", str(results), "--benchmarks", str(bench), "--json",
               str(js), "--csv", str(cs), "--rules", "2026"])
    assert rc == 1
    md = capsys.readouterr().out
    doc = json.loads(js.read_text())
    # every file is a row: the empty one too, refused with its reason
    assert doc["counterexamples"] == 7 and doc["genuine"] == 3 and doc["not_genuine"] == 1
    assert doc["errors"] == 3 and doc["accepted_only_by_tolerance"] == 1
    assert len(doc["empty_files"]) == 1 and doc["vnncomp_rules"] == "2026"
    assert doc["refusals"] == {"empty file": 1, "no network and property": 1,
                               "unreadable file": 1}
    assert doc["summary"] == [{"benchmark": "acasxu", "tool": "tool_a", "witnesses": 7,
                               "genuine": 3, "tolerance_only": 1, "outside_box": 0,
                               "not_violating": 0, "undecided": 0, "refused": 3}]
    bad = {r["network"] or r["counterexample"]: r for r in doc["rows"] if r["error"]}
    assert any("given twice" in r["error"] for r in bad.values())
    assert any("no network and property" in r["error"] for r in bad.values())
    tol = [r for r in doc["rows"] if r.get("accepted_by_tolerance")]
    assert [r["property"] for r in tol] == ["prop_2x"]
    assert tol[0]["tool"] == "tool_a" and tol[0]["category"] == "acasxu"
    assert "| acasxu | tool_a | 7 | 3 | 1 | 0 | 0 | 0 | 3 |" in md
    assert "## Genuine only thanks to the tolerance" in md and "prop_2x" in md
    lines = cs.read_text().splitlines()
    assert lines[0].split(",") == COLUMNS and len(lines) == 8


def test_batch_on_the_shipped_results():
    r = replay_results(FIXTURES / "vnncomp" / "results", FIXTURES / "vnncomp" / "benchmarks")
    assert len(r.rows) == 3 and len(r.genuine) == 3 and not r.errors
    assert {row["network"] for row in r.rows} == {p.name.split("_prop_")[0] for p in CES}


def test_batch_needs_both_folders(tmp_path):
    assert main(["witness", "--results", str(tmp_path)]) == 2
    assert main(["witness", "--results", str(tmp_path / "no"), "--benchmarks",
                 str(tmp_path)]) == 2
    assert main(["witness", "--results", str(tmp_path), "--benchmarks", str(tmp_path)]) == 3


def test_interrupted_batch_leaves_no_files(tmp_path):
    """Ctrl-C in the middle: exit 130, and neither --json nor --csv is written."""
    results, bench = _results_tree(tmp_path)
    code = ("import signal, os, sys, threading, time\n"
            # a parent that ignores SIGINT (a test runner's worker) passes that on: undo it
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "from symdnn.cli import main\n"
            "import symdnn.witness.replay as r\n"
            "orig = r.replay\n"
            "def slow(*a, **k):\n"
            "    os.kill(os.getpid(), signal.SIGINT); time.sleep(0.2); return orig(*a, **k)\n"
            "r.replay = slow\n"
            f"sys.exit(main(['witness', '--results', {str(results)!r}, '--benchmarks', "
            f"{str(bench)!r}, '--json', {str(tmp_path / 'o.json')!r}, '--csv', "
            f"{str(tmp_path / 'o.csv')!r}]))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 130, p.stderr
    assert not (tmp_path / "o.json").exists() and not (tmp_path / "o.csv").exists()


# ------------------------------------------------------------------ known answers
def _test_points(n: int):
    import random

    box = read_vnnlib(vnncomp_test("test_prop.vnnlib")).input_box()
    rng = random.Random(1)
    return [[lo + (hi - lo) * F(rng.randint(0, 1000), 1000) for lo, hi in box]
            for _ in range(n)]


def _test_prop_margin(y):
    """test_prop asserts Y_0 <= Y_j for j = 1..4 (COC minimal)."""
    return min(y[j] - y[0] for j in range(1, 5))


def test_known_answers_sat_has_a_genuine_witness_unsat_has_none():
    prop = read_vnnlib(vnncomp_test("test_prop.vnnlib"))
    sat, unsat = vnncomp_test("test_sat.onnx"), vnncomp_test("test_unsat.onnx")
    x = _test_points(1)[0]
    g = import_onnx(sat)
    w = replay(g, prop, tool_ce(g, x))
    y = fraction_eval(sat, [f32(v) for v in x])
    assert w.genuine and w.margin == _test_prop_margin(y) > 0
    assert w.vnncomp_verdict == "correct"
    g = import_onnx(unsat)
    for k, x in enumerate(_test_points(20)):
        w = replay(g, prop, parse_counterexample(ce_text(x)), onnxruntime=False)
        assert w.input_in_box and not w.violates
        if k < 3:
            assert w.margin == _test_prop_margin(fraction_eval(unsat, [f32(v) for v in x]))


# ------------------------------------------------------------------ found by review
def test_a_mixed_assertion_decides_as_the_same_atoms_apart():
    # y = x / 2 (test_nano); x = 0.2 is on the box's boundary as written, float32(0.2) is not
    g = import_onnx(vnncomp_test("test_nano.onnx"))
    head = "(declare-const X_0 Real) (declare-const Y_0 Real) "
    apart = head + "(assert (>= X_0 0)) (assert (<= X_0 0.2)) (assert (>= Y_0 0.1))"
    mixed = head + "(assert (and (>= X_0 0) (<= X_0 0.2) (>= Y_0 0.1)))"
    a, m = _replay(g, apart, [F("0.2")]), _replay(g, mixed, [F("0.2")])
    assert f32(F("0.2")) > F("0.2")
    for w in (a, m):
        assert w.input_in_box and not w.input_in_box_float32 and w.violates and w.genuine
    assert a.margin == f32(F("0.2")) / 2 - F("0.1") and m.margin == 0  # X_0 <= 0.2: slack 0


def test_onnxruntime_refusing_a_model_is_reported_not_a_crash(tmp_path, capsys):
    from onnx import helper

    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", 1, [0, 1])],
                          [helper.make_tensor_value_info("y", 1, [0, 1])])
    p = tmp_path / "dim0.onnx"  # a declared dimension 0, which the checker feeds as 1
    p.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
                  .SerializeToString())
    prop = tmp_path / "p.vnnlib"
    prop.write_text("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (<= X_0 1)) "
                    "(assert (>= Y_0 0))")
    ce = tmp_path / "c.counterexample"
    ce.write_text("((X_0 0.5))")
    w = replay(import_onnx(p), read_vnnlib(prop), read_counterexample(ce))
    assert w.genuine and w.vnncomp_verdict is None
    assert "onnxruntime" in w.onnxruntime_error and "invalid dimensions" in w.onnxruntime_error
    assert main(["witness", str(p), str(prop), str(ce)]) == 0
    assert "not replayed (onnxruntime cannot run" in capsys.readouterr().out


@pytest.mark.parametrize("missing", ["onnxruntime", "onnx"])
def test_a_missing_onnxruntime_names_the_extra_and_the_exact_replay_goes_on(monkeypatch,
                                                                              missing):
    g = import_onnx(vnncomp_test("test_nano.onnx"))  # a fresh graph: no session made yet
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(MissingDependency, match=rf"needs {missing}: pip install 'symdnn\[onnx\]'"):
        onnxruntime_outputs(g, np.array([0.25]))
    w = _replay(g, "(declare-const X_0 Real) (declare-const Y_0 Real) (assert (<= X_0 1)) "
                   "(assert (>= Y_0 0))", [F(1, 2)])
    assert w.genuine and w.vnncomp_verdict is None and w.outputs_onnxruntime is None
    assert w.onnxruntime_error.endswith(f"needs {missing}: pip install 'symdnn[onnx]'")
    assert f"VNN-COMP replay: not replayed ({w.onnxruntime_error})" in w.summary()


def test_a_name_that_splits_two_ways_is_an_error_row(tmp_path):
    res = tmp_path / "r" / "t" / "c"
    res.mkdir(parents=True)
    shutil.copy(CES[0], res / "n_a_b.counterexample.gz")
    bench = tmp_path / "b" / "c"
    (bench / "onnx").mkdir(parents=True)
    (bench / "vnnlib").mkdir()
    for net in ("n", "n_a"):
        (bench / "onnx" / f"{net}.onnx").write_bytes(read_bytes(net_of(CES[0])))
    for prop in ("a_b", "b"):
        (bench / "vnnlib" / f"{prop}.vnnlib").write_bytes(read_bytes(PROP2))
    r = replay_results(tmp_path / "r", tmp_path / "b", onnxruntime=False)
    assert len(r.rows) == 1 and "splits two ways" in r.rows[0]["error"]


def test_json_holds_values_beyond_float_and_4300_digits(tmp_path, capsys):
    # test_nano at X_0 = 1e-5000: the exact values have thousands of digits, floats are 0
    prop = tmp_path / "p.vnnlib"
    prop.write_text("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 0)) "
                    "(assert (<= X_0 1)) (assert (<= Y_0 1))")
    ce = tmp_path / "c.counterexample"
    ce.write_text("((X_0 1e-5000))")
    out = tmp_path / "w.json"
    assert main(["witness", str(vnncomp_test("test_nano.onnx")), str(prop), str(ce),
                 "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["input_margin"] == "1/1" + "0" * 5000  # X_0 >= 0 by exactly 1e-5000
    assert doc["x_float32"] == [0.0] and doc["input_in_box_float32"] is True
    assert "input margin ~2^-16609" in capsys.readouterr().out  # 10^-5000 = 2^-16609.6


def _identity_net(tmp_path, elem):
    from onnx import helper

    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", elem, [1])],
                          [helper.make_tensor_value_info("y", elem, [1])])
    p = tmp_path / f"id{elem}.onnx"
    p.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
                  .SerializeToString())
    return import_onnx(p)


def test_the_input_is_rounded_to_the_networks_own_input_type(tmp_path):
    head = "(declare-const X_0 Real) (declare-const Y_0 Real) (assert (<= X_0 1)) "
    # float16(0.1) = 0.0999755859375 < 0.1: Y_0 >= 0.1 fails in a float16 network
    w = _replay(_identity_net(tmp_path, 10), head + "(assert (>= Y_0 0.1))", [F("0.1")])
    assert w.input_type == "float16" and w.outputs == [F(1638, 16384)] and not w.violates
    assert w.vnncomp_verdict == "correct_up_to_tolerance"  # it misses by 2.4e-5 only
    # float64(0.1) is 0.1000000000000000055511151231257827...: exactly on this bound
    bound = "0.1000000000000000055511151231257827021181583404541015625"
    w = _replay(_identity_net(tmp_path, 11), head + f"(assert (<= Y_0 {bound}))", [F("0.1")])
    assert w.input_type == "float64" and w.outputs == [F(0.1)] and w.margin == 0
    assert w.genuine and w.vnncomp_verdict == "correct"
    from symdnn.errors import SymdnnError

    with pytest.raises(SymdnnError, match="input is int64"):
        _replay(_identity_net(tmp_path, 7), head + "(assert (<= Y_0 1))", [F(1, 2)])


def test_batch_replays_a_name_once_and_imports_a_bad_network_once(tmp_path):
    results, bench = _results_tree(tmp_path)
    res = results / "tool_a" / "acasxu"
    shutil.copy(CES[1], res / CES[1].name.replace(".gz", ""))  # the same, not gzipped
    import gzip as gz

    (res / CES[1].name.replace(".gz", "")).write_bytes(gz.decompress(CES[1].read_bytes()))
    bad = bench / "acasxu" / "onnx" / "ACASXU_run2a_2_2_batch_2000.onnx"
    bad.write_bytes(b"\x3a\x05junk!")
    import symdnn.witness.graph as G

    calls = []
    real = G.import_onnx
    G.import_onnx = lambda p: calls.append(p) or real(p)
    try:
        r = replay_results(results, bench, onnxruntime=False)
    finally:
        G.import_onnx = real
    dup = [row for row in r.rows if row["error"] and "the same counterexample" in row["error"]]
    assert len(dup) == 1
    assert sum(1 for c in calls if c == bad) == 1
    assert any(row["error"] and "malformed ONNX" in row["error"] for row in r.rows)


def test_a_hair_above_a_float32_tie_and_past_2_to_the_64():
    """1 + 2^-24 + 1e-30 lies a hair above the midpoint of 1 and 1 + 2^-23: one correct
    rounding gives 1 + 2^-23; the checker's decimal -> float64 -> float32 loses the hair
    and ties to even, 1. And an input of 2^70 + 1/3 stays exact through the network."""
    g = import_onnx(vnncomp_test("test_nano.onnx"))  # y = relu(x / 2)
    x = 1 + F(1, 2 ** 24) + F(1, 10 ** 30)
    head = "(declare-const X_0 Real) (declare-const Y_0 Real) (assert (<= X_0 1e30)) "
    w = _replay(g, head + f"(assert (>= Y_0 {exact_dec(F(1, 2) + F(1, 2 ** 25))}))", [x])
    assert f32(x) == 1 + F(1, 2 ** 23) and w.x_float32 == [float(f32(x))]
    assert w.checker_input_differs
    assert w.outputs == [f32(x) / 2] and w.violates  # exactly: (1 + 2^-23)/2 >= 1/2 + 2^-25
    assert w.outputs_onnxruntime == [0.5]  # fed float32(float64(x)) = 1
    assert w.vnncomp_verdict == "correct_up_to_tolerance"
    big = F(2 ** 70) + F(1, 3)
    w = replay(g, parse_vnnlib(head + "(assert (>= Y_0 0))"),
               parse_counterexample(f"((X_0 {exact_dec(F(2 ** 70))}.{'3' * 40}))"))
    assert w.outputs_as_written == [F(2 ** 70) / 2 + F("0." + "3" * 40) / 2]
    assert w.outputs == [f32(big) / 2] and w.genuine


def test_an_input_beyond_float32_is_refused_naming_the_file_and_the_variable(tmp_path):
    g = import_onnx(vnncomp_test("test_nano.onnx"))
    ce = tmp_path / "x.counterexample"
    ce.write_text("((X_0 1e39))")
    p = parse_vnnlib("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (<= Y_0 0))")
    with pytest.raises(SymdnnError, match=r"x\.counterexample: X_0 = 1e\+39 overflows float32"):
        replay(g, p, read_counterexample(ce), onnxruntime=False)
