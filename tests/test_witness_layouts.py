"""Every year's VNN-COMP layouts, the files tools actually wrote, the rules of each year, and a
batch that holds one network at a time (issue 26, items 3-5).

The trees are built here, small, in each year's layout; the networks are the competition's
test networks of ``tests/data`` (``test_nano`` is ``y = relu(x / 2)``, one input and one
output; ``test_sat`` has five of each). Expected margins are worked out by hand from that
formula, never by the code under test.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import shutil
import weakref
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from symdnn.cli import main
from symdnn.errors import ArgumentError, ParseError
from symdnn.io.vnnlib import parse_counterexample, parse_vnnlib
from symdnn.plotting import plot_margins
from symdnn.witness import batch as B
from symdnn.witness import graph as G
from symdnn.witness.batch import COLUMNS, replay_results
from symdnn.witness.rules import RULES, vnncomp_refused, vnncomp_replay
from symdnn.witness.summary import classify, markdown, summarize
from tests.datafiles import data_file, full_file, read_bytes

NANO = data_file("vnncomp/benchmarks/test/test_nano.onnx")
SAT = data_file("vnncomp/benchmarks/test/test_sat.onnx")
# y = x / 2 >= 1/4 on X_0 in [-1, 1]: x = 1/2 violates with margin 0, x = 1 with margin 1/4
NANO_PROP = ("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 -1)) "
             "(assert (<= X_0 1)) (assert (>= Y_0 0.25))\n")
SAT_PROP = ("".join(f"(declare-const X_{i} Real)" for i in range(5))
            + "".join(f"(declare-const Y_{i} Real)" for i in range(5))
            + "".join(f"(assert (>= X_{i} -1)) (assert (<= X_{i} 1))" for i in range(5))
            + "(assert (<= Y_0 1000000))\n")


def _write(path: Path, data: bytes | str, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    if gz:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw, mtime=0)
    path.write_bytes(raw)
    return path


def _ce(*xs: str, ys: tuple = ()) -> str:
    return "(" + "\n".join([f"(X_{i} {x})" for i, x in enumerate(xs)]
                           + [f"(Y_{i} {y})" for i, y in enumerate(ys)]) + ")\n"


def _row(report, **match) -> dict:
    rows = [r for r in report.rows if all(r.get(k) == v for k, v in match.items())]
    assert len(rows) == 1, (match, report.rows)
    return rows[0]


# ------------------------------------------------------------------ each year's layout
def _tree_2022(tmp: Path) -> tuple[Path, Path, dict]:
    """2022: <tool>/<cat>/<net>_<prop>.counterexample.gz; <cat>/onnx, <cat>/vnnlib, gzipped."""
    b = tmp / "bench" / "nano_cat"
    _write(b / "onnx" / "nano.onnx", read_bytes(NANO), gz=True)
    _write(b / "vnnlib" / "p_1.vnnlib", NANO_PROP, gz=True)
    _write(tmp / "res" / "tool" / "nano_cat" / "nano_p_1.counterexample", _ce("0.5"), gz=True)
    return tmp / "res", tmp / "bench", {"network": "nano", "property": "p_1"}


def _tree_2023(tmp: Path) -> tuple[Path, Path, dict]:
    """2023: the results' category carries the year (2023_nano_cat), the benchmarks repository
    the bare name under benchmarks/; plain files; the tool's results.csv at <tool>/."""
    b = tmp / "repo" / "benchmarks" / "nano_cat"
    _write(b / "onnx" / "nano.onnx", read_bytes(NANO))
    _write(b / "vnnlib" / "p_1.vnnlib", NANO_PROP)
    _write(tmp / "res" / "tool" / "2023_nano_cat" / "nano_p_1.counterexample", _ce("0.5"))
    _write(tmp / "res" / "tool" / "results.csv",
           "nano_cat,vnncomp2023_benchmarks/benchmarks/nano_cat/onnx/nano.onnx,"
           "vnncomp2023_benchmarks/benchmarks/nano_cat/vnnlib/p_1.vnnlib,1.0,sat,2.0\n")
    return tmp / "res", tmp / "repo", {"network": "nano", "property": "p_1"}


def _tree_2024(tmp: Path) -> tuple[Path, Path, dict]:
    """2024: results.csv per <tool>/<year_cat>/, the network gzipped, the property not."""
    b = tmp / "bench" / "nano_cat"
    _write(b / "onnx" / "nano.onnx", read_bytes(NANO), gz=True)
    _write(b / "vnnlib" / "p_1.vnnlib", NANO_PROP)
    d = tmp / "res" / "tool" / "2024_nano_cat"
    _write(d / "nano_p_1.counterexample", _ce("0.5"), gz=True)
    _write(d / "results.csv", "nano_cat,x/nano_cat/onnx/nano.onnx,x/nano_cat/vnnlib/"
           "p_1.vnnlib,1,sat,2\n")
    return tmp / "res", tmp / "bench", {"network": "nano", "property": "p_1"}


def _tree_2025(tmp: Path) -> tuple[Path, Path, dict]:
    """2025's safenlp: files in onnx/medical and vnnlib/medical, the counterexample named
    medical_<network>_<property>."""
    b = tmp / "bench" / "safe"
    _write(b / "onnx" / "medical" / "nano.onnx", read_bytes(NANO), gz=True)
    _write(b / "vnnlib" / "medical" / "p_1.vnnlib", NANO_PROP, gz=True)
    _write(tmp / "res" / "tool" / "2025_safe" / "medical_nano_p_1.counterexample", _ce("0.5"),
           gz=True)
    return tmp / "res", tmp / "bench", {"network": "medical/nano", "property": "medical/p_1"}


def _tree_2021(tmp: Path) -> tuple[Path, Path, dict]:
    """2021: the files anywhere in the category's folder, an <cat>_instances.csv with paths
    relative to it (the property in nested folders)."""
    b = tmp / "bench" / "nano_cat"
    _write(b / "nets" / "nano.onnx", read_bytes(NANO))
    _write(b / "props" / "deep" / "p_1.vnnlib", NANO_PROP)
    _write(b / "nano_cat_instances.csv", "nets/nano.onnx,props/deep/p_1.vnnlib,60\n")
    _write(tmp / "res" / "tool" / "nano_cat" / "nano_p_1.counterexample", _ce("0.5"))
    return tmp / "res", tmp / "bench", {"network": "nano", "property": "p_1"}


@pytest.mark.parametrize("make", [_tree_2021, _tree_2022, _tree_2023, _tree_2024, _tree_2025],
                         ids=["2021", "2022", "2023", "2024", "2025"])
def test_each_years_layout_is_read(tmp_path, make):
    results, bench, names = make(tmp_path)
    r = replay_results(results, bench, onnxruntime=False)
    assert len(r.rows) == 1
    row = r.rows[0]
    assert row["error"] is None, row["error"]
    assert (row["network"], row["property"]) == (names["network"], names["property"])
    # y = 1/2 / 2 = 1/4 >= 1/4: on the boundary, genuine with margin 0 exactly
    assert row["genuine"] is True and F(row["margin"]) == 0
    assert row["vnncomp_rules"] == "2025" and row["malformed"] is None


def test_the_year_prefix_is_stripped_only_when_no_folder_has_the_full_name(tmp_path):
    results, bench, _ = _tree_2022(tmp_path)
    # a category really named 2023_x wins over x
    shutil.copytree(bench / "nano_cat", bench / "2023_nano_cat")
    (results / "tool" / "nano_cat").rename(results / "tool" / "2023_nano_cat")
    r = replay_results(results, bench, onnxruntime=False)
    assert r.rows[0]["error"] is None
    assert "2023_nano_cat" in r.rows[0]["counterexample"]


# ------------------------------------------------------------------ instances.csv
def _ambiguous_tree(tmp: Path, listed: str | None) -> tuple[Path, Path]:
    """Networks n and n_a, properties a_b and b: 'n_a_b' splits two ways."""
    b = tmp / "bench" / "c"
    for net in ("n", "n_a"):
        _write(b / "onnx" / f"{net}.onnx", read_bytes(NANO))
    _write(b / "vnnlib" / "a_b.vnnlib", NANO_PROP)
    _write(b / "vnnlib" / "b.vnnlib", NANO_PROP.replace("0.25", "0.5"))
    if listed:
        _write(b / "instances.csv", listed)
    _write(tmp / "res" / "t" / "c" / "n_a_b.counterexample", _ce("1"))
    return tmp / "res", tmp / "bench"


def test_an_ambiguous_name_is_refused_not_guessed(tmp_path):
    r = replay_results(*_ambiguous_tree(tmp_path, None), onnxruntime=False)
    row = r.rows[0]
    assert row["refusal"] == "ambiguous name" and "splits two ways" in row["error"]
    assert row["genuine"] is None


def test_instances_csv_decides_the_split(tmp_path):
    r = replay_results(*_ambiguous_tree(tmp_path, "onnx/n_a.onnx,vnnlib/b.vnnlib,300\n"),
                       onnxruntime=False)
    row = r.rows[0]
    assert (row["network"], row["property"]) == ("n_a", "b") and row["error"] is None
    # y = 1/2, property b: Y_0 >= 1/2: margin 0
    assert row["genuine"] is True and F(row["margin"]) == 0


def test_a_tools_results_csv_decides_the_split(tmp_path):
    results, bench = _ambiguous_tree(tmp_path, None)
    # the paths of the machine that ran it; re-rooted at the category's onnx/ and vnnlib/
    _write(results / "t" / "results.csv", "c,/home/x/benchmarks/c/onnx/n.onnx,"
           "/home/x/benchmarks/c/vnnlib/a_b.vnnlib,1.5,sat,3.0\n")
    row = replay_results(results, bench, onnxruntime=False).rows[0]
    assert (row["network"], row["property"]) == ("n", "a_b") and row["error"] is None
    # y = 1/2 >= 1/4: margin 1/4
    assert row["genuine"] is True and F(row["margin"]) == F(1, 4)


# ------------------------------------------------------------------ the files tools wrote
def test_a_marabou_file_without_its_closing_paren_is_read_and_marked(tmp_path):
    results, bench, _ = _tree_2022(tmp_path)
    f = results / "tool" / "nano_cat" / "nano_p_1.counterexample.gz"
    f.write_bytes(gzip.compress(b"((X_0 1)\n (Y_0 0.5)", mtime=0))
    r = replay_results(results, bench, onnxruntime=False)
    row = r.rows[0]
    assert row["error"] is None and "closing ')'" in row["malformed"]
    assert row["genuine"] is True and F(row["margin"]) == F(1, 4)


def test_only_the_assignments_own_paren_may_be_missing():
    with pytest.raises(Exception, match="never closed"):
        parse_counterexample("((X_0 1)\n (Y_0 0.5")
    with pytest.raises(Exception, match="never closed"):
        parse_counterexample("(((X_0 1)")
    assert parse_counterexample("((X_0 1))").malformed is None


def test_a_file_holding_several_counterexamples_gives_a_row_for_each(tmp_path):
    results, bench, _ = _tree_2022(tmp_path)
    f = results / "tool" / "nano_cat" / "nano_p_1.counterexample.gz"
    # three counterexamples of a one-input network: x = 1, 0.25, 0.5 (ROVER's batch)
    f.write_bytes(gzip.compress(_ce("1", "0.25", "0.5", ys=("0.5", "0.125", "0.25")).encode(),
                                mtime=0))
    r = replay_results(results, bench, onnxruntime=False)
    assert [(row["ce_index"], row["ce_count"]) for row in r.rows] == [(0, 3), (1, 3), (2, 3)]
    assert [row["genuine"] for row in r.rows] == [True, False, True]
    assert [F(row["margin"]) for row in r.rows] == [F(1, 4), F(-1, 8), 0]
    for row in r.rows:
        assert row["vnncomp_verdict"] == "wrong_shape" and "holds 3" in row["malformed"]
    r23 = replay_results(results, bench, onnxruntime=False, rules="2023")
    assert {row["vnncomp_verdict"] for row in r23.rows} == {None}


def test_several_counterexamples_whose_outputs_do_not_divide_are_decided_on_their_x(tmp_path):
    results, bench, _ = _tree_2022(tmp_path)
    f = results / "tool" / "nano_cat" / "nano_p_1.counterexample.gz"
    f.write_bytes(gzip.compress(_ce("1", "0.25", ys=("0.5",)).encode(), mtime=0))
    rows = replay_results(results, bench, onnxruntime=False).rows
    assert [(row["ce_index"], row["genuine"], row["error"]) for row in rows] == [
        (0, True, None), (1, False, None)]  # x = 1 and 0.25, as in the test above
    assert all("do not divide among them and are set aside" in row["malformed"]
               for row in rows)


def test_inputs_that_are_no_multiple_are_refused(tmp_path):
    b = tmp_path / "bench" / "s"
    _write(b / "onnx" / "sat.onnx", read_bytes(SAT))
    _write(b / "vnnlib" / "p.vnnlib", SAT_PROP)
    _write(tmp_path / "res" / "t" / "s" / "sat_p.counterexample", _ce(*["0"] * 7))
    row = replay_results(tmp_path / "res", tmp_path / "bench", onnxruntime=False).rows[0]
    assert row["refusal"] == "inputs do not fit the network"
    assert "7 inputs, the network takes 5" in row["error"]


@pytest.mark.parametrize("n_y", [4, 6])
def test_outputs_missing_or_extra_are_set_aside_and_the_input_decided(tmp_path, n_y):
    b = tmp_path / "bench" / "s"
    _write(b / "onnx" / "sat.onnx", read_bytes(SAT))
    _write(b / "vnnlib" / "p.vnnlib", SAT_PROP)
    ce = tmp_path / "res" / "pyrat" / "s" / "sat_p.counterexample"
    _write(ce, _ce("0", "0", "0", "0", "0"))  # the same input, no outputs written
    plain = replay_results(tmp_path / "res", tmp_path / "bench", onnxruntime=False).rows[0]
    _write(ce, _ce("0", "0", "0", "0", "0", ys=("1",) * n_y))
    for rules, verdict in (("2023", "exec_doesnt_match"), ("2025", "exec_doesnt_match"),
                           ("2026", "replayed")):
        row = replay_results(tmp_path / "res", tmp_path / "bench", onnxruntime=True,
                             rules=rules).rows[0]
        assert row["refusal"] is None and row["error"] is None
        assert f"gives {n_y} output values, the network has 5" in row["malformed"]
        # the claim is X: decided exactly as the file without outputs is
        assert (row["genuine"], row["margin"]) == (plain["genuine"], plain["margin"])
        assert row["genuine"] in (True, False)
        if verdict == "replayed":  # 2026 ignores written outputs: onnxruntime's decide
            assert row["vnncomp_verdict"] in ("correct", "correct_up_to_tolerance",
                                              "spec_not_violated")
        else:
            assert row["vnncomp_verdict"] == verdict and not row["accepted_by_tolerance"]


def test_every_file_is_a_row(tmp_path):
    results, bench, _ = _tree_2022(tmp_path)
    d = results / "tool" / "nano_cat"
    _write(d / "nano_p_2.counterexample", "")  # empty: the tool found nothing
    _write(d / "nano_p_1.counterexample", _ce("0.5"))  # beside the .gz: a duplicate
    _write(results / "tool" / "loose.counterexample", _ce("0.5"))  # not in a category
    _write(results / "tool" / "other" / "nano_p_1.counterexample", _ce("0.5"))
    _write(d / "zz_unknown.counterexample", _ce("0.5"))
    r = replay_results(results, bench, onnxruntime=False)
    assert len(r.rows) == 6
    reasons = sorted(row["refusal"] or "decided" for row in r.rows)
    assert reasons == ["decided", "duplicate", "empty file", "misplaced file",
                       "no benchmark folder", "no network and property"]
    assert _row(r, refusal="empty file")["vnncomp_verdict"] == "no_ce"
    assert len(r.empty) == 1


# ------------------------------------------------------------------ the rules per year
def test_the_three_rules_decide_differently():
    p = parse_vnnlib("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 0)) "
                     "(assert (<= X_0 1)) (assert (<= Y_0 0))")
    half = [F(1, 2)]
    # the tool wrote Y_0 = 5e-5 and onnxruntime computes the same: within the tolerance only
    got = [vnncomp_replay(p, half, [5e-5], [F("5e-5")], rules=r) for r in RULES]
    assert got == ["correct", "correct_up_to_tolerance", "spec_not_violated"]
    # the tool wrote no outputs: through 2025 numpy cannot compare them
    got = [vnncomp_replay(p, half, [-1.0], [], rules=r) for r in RULES]
    assert got == ["exec_doesnt_match", "exec_doesnt_match", "correct"]
    # the written Y_0 = -1 violates, onnxruntime's 5e-3 does not: which outputs decide
    got = [vnncomp_replay(p, half, [5e-3], [F(-1)], rules=r, rtol=1e9) for r in RULES]
    assert got == ["correct", "correct_up_to_tolerance", "spec_not_violated"]
    # X_0 = 1 + 1e-8: outside the box in float64, inside once cast to float32 (2026)
    x = [F("1.00000001")]
    got = [vnncomp_replay(p, x, [-1.0], [F(-1)], rules=r) for r in RULES]
    assert got == ["correct", "correct_up_to_tolerance", "correct"]
    # X_0 <= 0.1 at x = 0.1: float32(0.1) > 0.1, but numpy 2 compares it with float32(0.1)
    q = parse_vnnlib("(declare-const X_0 Real) (declare-const Y_0 Real) (assert (>= X_0 0)) "
                     "(assert (<= X_0 0.1)) (assert (<= Y_0 0))")
    assert vnncomp_replay(q, [F("0.1")], [-1.0], rules="2026") == "correct"
    assert vnncomp_replay(q, [F("0.1000001")], [-1.0], rules="2026") == \
        "correct_up_to_tolerance"
    # outside by 2e-4: rejected by all
    got = [vnncomp_replay(p, [F("1.0002")], [-1.0], [F(-1)], rules=r) for r in RULES]
    assert got == ["spec_not_violated"] * 3


def test_unknown_rules_are_refused(tmp_path):
    with pytest.raises(ArgumentError, match="rules='2024'"):
        vnncomp_replay(parse_vnnlib(NANO_PROP), [F(0)], [0.0], rules="2024")
    with pytest.raises(ArgumentError, match="rules="):
        replay_results(tmp_path, tmp_path, rules="2022")
    with pytest.raises(SystemExit) as exc:  # argparse: the choices named, exit 2
        main(["witness", "--results", str(tmp_path), "--benchmarks", str(tmp_path),
              "--rules", "2024"])
    assert exc.value.code == 2
    assert vnncomp_refused(300, 30, 20, 2) == "wrong_shape"


def test_rules_reach_the_rows_and_the_verdict(tmp_path):
    pytest.importorskip("onnxruntime")
    results, bench, _ = _tree_2022(tmp_path)
    f = results / "tool" / "nano_cat" / "nano_p_1.counterexample.gz"
    # x = 0.5 gives y = 0.25 exactly; the tool wrote 0.2500001 (within rtol, not equal)
    f.write_bytes(gzip.compress(_ce("0.5", ys=("0.2500001",)).encode(), mtime=0))
    got = {r: replay_results(results, bench, rules=r).rows[0] for r in RULES}
    assert {r: row["vnncomp_rules"] for r, row in got.items()} == {r: r for r in RULES}
    assert [got[r]["vnncomp_verdict"] for r in RULES] == ["correct", "correct_up_to_tolerance",
                                                          "correct"]
    assert all(row["genuine"] for row in got.values())


# ------------------------------------------------------------------ the bounded batch
def _three_networks(tmp: Path) -> tuple[Path, Path]:
    b = tmp / "bench" / "c"
    for name, src in (("a", NANO), ("b", NANO), ("s", SAT)):
        _write(b / "onnx" / f"{name}.onnx", read_bytes(src))
    _write(b / "vnnlib" / "p.vnnlib", NANO_PROP)
    _write(b / "vnnlib" / "q.vnnlib", SAT_PROP)
    d = tmp / "res"
    for tool, x in (("t1", "0.5"), ("t2", "1"), ("t3", "-1")):
        _write(d / tool / "c" / "a_p.counterexample", _ce(x))
        _write(d / tool / "c" / "b_p.counterexample", _ce(x), gz=True)
        _write(d / tool / "c" / "s_q.counterexample", _ce(x, "0", "0", "0", "0"))
    return d, tmp / "bench"


def test_each_network_is_imported_once_and_released_before_the_next(tmp_path, monkeypatch):
    results, bench = _three_networks(tmp_path)
    real = G.import_onnx
    alive: list[weakref.ref] = []
    imported: list[str] = []

    def counting(path):
        gc.collect()
        # the networks imported before this one are gone: one in memory at a time
        assert all(ref() is None for ref in alive), "a network outlived its counterexamples"
        g = real(path)
        alive.append(weakref.ref(g))
        imported.append(Path(path).name)
        return g

    monkeypatch.setattr(G, "import_onnx", counting)
    r = replay_results(results, bench, onnxruntime=False)
    assert sorted(imported) == ["a.onnx", "b.onnx", "s.onnx"]  # once each, 9 files
    assert len(r.rows) == 9 and not r.errors
    gc.collect()
    assert all(ref() is None for ref in alive)
    # the rows come back in the order of the files, not of the networks
    assert [Path(row["counterexample"]).parent.parent.name for row in r.rows] == \
        ["t1"] * 3 + ["t2"] * 3 + ["t3"] * 3


def test_jobs_2_gives_the_rows_of_jobs_1(tmp_path):
    results, bench = _three_networks(tmp_path)
    one = replay_results(results, bench, onnxruntime=False)
    seen = []
    two = replay_results(results, bench, onnxruntime=False, jobs=2,
                         progress=lambda d, t: seen.append((d, t)))
    assert two.rows == one.rows and len(one.rows) == 9
    assert seen[-1] == (9, 9)
    with pytest.raises(ArgumentError, match="jobs"):
        replay_results(results, bench, jobs=0)


def test_a_worker_that_dies_gives_refused_rows_not_an_internal_error(tmp_path, monkeypatch):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    class DyingPool:  # runs the first network, then its worker "dies" (kill -9, OOM)
        def __init__(self, **kw):
            self.n = 0

        def submit(self, fn, task):
            f = Future()
            if self.n == 0:
                f.set_result(fn(task))
            else:
                f.set_exception(BrokenProcessPool("A child process terminated abruptly"))
            self.n += 1
            return f

        def shutdown(self, **kw):
            pass

    monkeypatch.setattr(B, "ProcessPoolExecutor", DyingPool)
    results, bench = _three_networks(tmp_path)
    rows = replay_results(results, bench, onnxruntime=False, jobs=2).rows
    died = [r for r in rows if r.get("refusal") == "worker died"]
    assert len(rows) == 9 and len(died) == 6
    assert all("died (killed, or out of memory)" in r["error"] for r in died)


# ------------------------------------------------------------------ the summary
def test_summary_counts_each_class_and_reads_undecided_rows():
    rows = [{"category": "c", "tool": "t", "genuine": True, "error": None},
            {"category": "c", "tool": "t", "genuine": False, "input_in_box": False,
             "input_margin": "-1/20000", "margin": "1", "vnncomp_verdict": None},
            {"category": "c", "tool": "t", "genuine": False, "input_in_box": False,
             "input_margin": "-1", "margin": "1", "vnncomp_verdict": None},
            {"category": "c", "tool": "t", "genuine": False, "input_in_box": True,
             "input_margin": "0", "margin": "-1", "vnncomp_verdict": "spec_not_violated"},
            {"category": "c", "tool": "t", "genuine": False, "input_in_box": True,
             "input_margin": "0", "margin": "-1", "vnncomp_verdict": "correct"},
            {"category": "c", "tool": "u", "genuine": None, "undecided": True,
             "undecided_reason": "a margin exactly 0 under Sigmoid", "decided_by": None},
            {"category": "d", "tool": "t", "error": "x", "refusal": "empty file"}]
    assert [classify(r) for r in rows] == ["genuine", "tolerance_only", "outside_box",
                                           "not_violating", "tolerance_only", "undecided",
                                           "refused"]
    s = summarize(rows)
    assert [(x["benchmark"], x["tool"], x["witnesses"]) for x in s] == \
        [("c", "t", 5), ("c", "u", 1), ("d", "t", 1)]
    assert (s[0]["genuine"], s[0]["tolerance_only"], s[0]["outside_box"],
            s[0]["not_violating"]) == (1, 2, 1, 1)
    md = markdown(rows, rules="2026")
    assert "| c | t | 5 | 1 | 2 | 1 | 1 | 0 | 0 |" in md
    assert "| **total** |  | 7 | 1 | 2 | 1 | 1 | 1 | 1 |" in md
    assert "| empty file | 1 |" in md and "a margin exactly 0 under Sigmoid" in md


def test_the_cli_writes_the_table_the_plot_and_the_columns(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    results, bench, _ = _tree_2022(tmp_path)
    md, png, js = tmp_path / "s.md", tmp_path / "m.png", tmp_path / "r.json"
    rc = main(["witness", "--results", str(results), "--benchmarks", str(bench),
               "--no-onnxruntime", "--markdown", str(md), "--plot", str(png), "--json",
               str(js), "--rules", "2023", "--jobs", "1", "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "| nano_cat | tool | 1 | 1 | 0 | 0 | 0 | 0 | 0 |" in out
    assert md.read_text().strip() == out.strip()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads(js.read_text())
    assert doc["vnncomp_rules"] == "2023" and set(COLUMNS) <= set(doc["rows"][0]) | {
        "decided_by", "precision", "undecided", "undecided_reason", "ce_index", "ce_count"}
    # --jobs 0, a plot of the wrong kind, and batch options for one witness: exit 2
    with pytest.raises(SystemExit) as exc:
        main(["witness", "--results", str(results), "--benchmarks", str(bench), "--jobs", "0"])
    assert exc.value.code == 2
    assert main(["witness", "--results", str(results), "--benchmarks", str(bench),
                 "--plot", str(tmp_path / "m.txt")]) == 2
    ce = next((results / "tool" / "nano_cat").iterdir())
    assert main(["witness", str(NANO), str(NANO), str(ce), "--plot", str(png)]) == 2


def test_plot_margins_is_a_figure_of_the_decided_rows(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(3)
    rows = [{"category": f"b{i % 3}", "tool": "t", "genuine": m >= 0, "input_in_box": True,
             "margin": str(F(float(m))), "input_margin": "0", "margin_float": float(m),
             "vnncomp_verdict": None} for i, m in enumerate(rng.normal(0, 1e-3, 30))]
    rows.append({"category": "b9", "tool": "t", "error": "x", "refusal": "empty file"})
    p = tmp_path / "m.svg"
    plot_margins(rows, p)
    text = p.read_text()
    assert "<svg" in text and "b9" in text  # a benchmark with only refusals has its slot


# ------------------------------------------------------------------ the real files
def _real(year: str) -> Path:
    """A year of the VNN-COMP 2023-2025 selection in $SYMDNN_DATA (skips, naming the fetch,
    without)."""
    return full_file(f"vnncomp-2023-2025/{year}/results").parent


def _subtree(tmp: Path, year: Path, picks: list[tuple[str, str]]) -> tuple[Path, Path]:
    """A results tree of a few real tools' categories (links to the real files)."""
    for tool, cat in picks:
        (tmp / "res" / tool).mkdir(parents=True, exist_ok=True)
        (tmp / "res" / tool / cat).symlink_to(year / "results" / tool / cat)
    return tmp / "res", year / "benchmarks"


def test_real_rover_files_are_decided_part_by_part(tmp_path):
    year = _real("2025")
    r = replay_results(*_subtree(tmp_path, year, [("rover", "2025_cersyve")]),
                       onnxruntime=False)
    multi = [row for row in r.rows if row.get("ce_count")]
    assert multi and all(row["vnncomp_verdict"] == "wrong_shape" for row in multi)
    assert all(row["error"] is None for row in multi)
    files = {row["counterexample"] for row in multi}
    assert len(multi) == sum(next(row["ce_count"] for row in multi
                                  if row["counterexample"] == f) for f in files)


def test_real_marabou_and_pyrat_files(tmp_path):
    year = _real("2023")
    r = replay_results(*_subtree(tmp_path, year, [("marabou", "2023_acasxu"),
                                                  ("pyrat", "2023_acasxu")]),
                       onnxruntime=False)
    marabou = [row for row in r.rows if row["tool"] == "marabou"]
    malformed = [row for row in marabou if row["malformed"]]
    assert len(malformed) == 2 and all(row["error"] is None for row in malformed)
    pyrat = [row for row in r.rows if row["tool"] == "pyrat" and row["malformed"]]
    # PyRAT wrote one value per output constraint of prop_2 (4), not the network's 5 outputs:
    # set aside, and the input decided
    assert pyrat and all("output values, the network has 5" in row["malformed"]
                         and row["error"] is None and row["genuine"] is not None
                         for row in pyrat)


@pytest.mark.slow
@pytest.mark.parametrize("year", ["2023", "2024", "2025"])
def test_real_year_every_file_is_a_row(year):
    p = _real(year)
    files = [f for f in (p / "results").rglob("*") if f.name.endswith(B._CE_SUFFIXES)]
    r = replay_results(p / "results", p / "benchmarks", onnxruntime=False, jobs=2)
    assert len({row["counterexample"] for row in r.rows}) == len(files)
    assert all(row["error"] is None or row["refusal"] for row in r.rows)
    assert not [row for row in r.rows if row["refusal"] == "internal error"]


@pytest.mark.slow
def test_interrupted_parallel_batch_leaves_no_files(tmp_path):
    """Ctrl-C while --jobs 2 runs: exit 130 soon, the workers stopped, no output written."""
    import subprocess
    import sys

    results, bench = _three_networks(tmp_path)
    code = ("import os, signal, sys, time\n"
            "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "from symdnn.cli import main\n"
            "import symdnn.witness.batch as b\n"
            "orig = b.wait\n"
            "def interrupted(*a, **k):\n"
            "    os.kill(os.getpid(), signal.SIGINT); time.sleep(0.2); return orig(*a, **k)\n"
            "b.wait = interrupted\n"
            "if __name__ == '__main__':\n"
            f"    sys.exit(main(['witness', '--results', {str(results)!r}, '--benchmarks', "
            f"{str(bench)!r}, '--json', {str(tmp_path / 'o.json')!r}, '--jobs', '2', "
            "'--no-onnxruntime']))\n")
    script = tmp_path / "run.py"
    script.write_text(code)
    root = str(Path(__file__).resolve().parents[1])  # this checkout, not an installed one
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=120, env=env)
    assert p.returncode == 130, p.stderr
    assert not (tmp_path / "o.json").exists()


def test_a_fifo_named_as_a_counterexample_is_a_row_not_a_hang(tmp_path):
    results, bench, _ = _tree_2022(tmp_path)
    fifo = results / "tool" / "nano_cat" / "nano_p_9.counterexample"
    os.mkfifo(fifo)
    rows = {Path(r["counterexample"]).name: r
            for r in replay_results(results, bench, onnxruntime=False).rows}
    assert rows["nano_p_9.counterexample"]["refusal"] == "not a regular file"


def test_a_counterexample_of_more_values_than_any_network_takes_is_refused_at_once(
        monkeypatch):
    from symdnn.io import vnnlib
    monkeypatch.setattr(vnnlib, "MAX_VALUES", 10)
    ok = "(" + " ".join(f"(X_{i} 0.5)" for i in range(10)) + ")"
    assert len(parse_counterexample(ok).inputs) == 10
    with pytest.raises(ParseError, match="more than 10 values"):
        parse_counterexample("(" + " ".join(f"(X_{i} 0.5)" for i in range(11)) + ")")
