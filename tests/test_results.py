"""The one result protocol (:mod:`symdnn.results`): every result type offers ``summary()``,
``to_json()`` and ``to_markdown()``, and :func:`symdnn.results.render` writes any of them to
stdout or, atomically and never over an existing file without ``force``, to a file.

One module parametrized over every result type: a result type added to symdnn is added to
``BUILDERS`` here, or the protocol test does not cover it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symdnn.errors import ArgumentError, OutputError
from symdnn.results import Result, markdown_from_text, render, rendered

VNN = Path(__file__).parent / "data" / "vnncomp"
ACAS = VNN / "benchmarks" / "acasxu"
CE = VNN / "results" / "mn_bab" / "acasxu" / "ACASXU_run2a_1_2_batch_2000_prop_2.counterexample.gz"


def _words():
    from symdnn.constructions import selective
    from symdnn.data import words

    return selective(words("words2"), "single", ["3/10"])


def verification(tmp):
    from symdnn.constructions import selective

    return selective(["ad", "ae", "be"], "single", ["2"]).verify()  # crosstalk: not exact


def threshold_report(tmp):
    from symdnn.analysis import analyze
    from symdnn.constructions import selective

    return analyze(selective(["ad", "ae", "be"], "single", ["4/5"]))


def audit_report(tmp):
    from symdnn.audit import audit_network

    c = _words()
    return audit_network(c.net, c.inputs, formats=["fp16"], name="words2")


def certificate(tmp):
    from symdnn.certify import certify

    c = _words()
    return certify(c.net, c.inputs, formats=["fp16", "fp8_e4m3"], accumulate="same")


def witness(tmp):
    from symdnn.io.vnnlib import read_counterexample, read_vnnlib
    from symdnn.witness import import_onnx
    from symdnn.witness.replay import replay

    graph = import_onnx(ACAS / "onnx" / "ACASXU_run2a_1_2_batch_2000.onnx.gz")
    return replay(graph, read_vnnlib(ACAS / "vnnlib" / "prop_2.vnnlib.gz"),
                  read_counterexample(CE), onnxruntime=False, labels={"network": "n.onnx"})


def witness_batch(tmp):
    from symdnn.witness.batch import replay_results

    return replay_results(VNN / "results", VNN / "benchmarks", onnxruntime=False)


def _suite(tmp):
    from symdnn.io.netdir import write_network
    from symdnn.suite import build_suite

    c = _words()
    write_network(tmp / "net", c.net, inputs=c.inputs)
    return build_suite(tmp / "net", tmp / "suite", formats=("fp32",))


def suite_check(tmp):
    from symdnn.suite import verify_suite

    suite = _suite(tmp)
    (suite / "categories.tsv").write_text("1\n")
    return verify_suite(suite)


def grade(tmp):
    from symdnn.suite import grade_suite

    suite = _suite(tmp)
    return grade_suite(suite, suite / "expected" / "exact.tsv")


def challenge_result(tmp):
    from symdnn.challenge import run_challenge
    from symdnn.generators import generate_radixnet

    out = generate_radixnet(tmp / "rx", neurons=1024, layers=2, inputs=4, style="exact",
                            density=0.9, seed=1)
    return run_challenge(str(out), neurons=1024, layers=2)


def fetch_report(tmp):
    from symdnn.data import FetchReport

    return FetchReport(root=tmp, files=[("mnist/train.gz", "copied"),
                                        ("mnist/test.gz", "present")])


def data_listing(tmp):
    from symdnn.data import listing

    return listing(tmp)


def demo_result(tmp):
    from symdnn.demo import run_demo

    return run_demo()


BUILDERS = [verification, threshold_report, audit_report, certificate, witness, witness_batch,
            suite_check, grade, challenge_result, fetch_report, data_listing, demo_result]

#: types whose verdict needs detail after its first line (failures, one line per format)
MULTILINE = {"verification", "threshold_report", "certificate", "suite_check", "grade",
             "challenge_result", "data_listing"}


@pytest.fixture(scope="module", params=BUILDERS, ids=lambda b: b.__name__)
def result(request, tmp_path_factory):
    return request.param.__name__, request.param(tmp_path_factory.mktemp(request.param.__name__))


class TestProtocol:
    def test_is_a_result(self, result):
        assert isinstance(result[1], Result)

    def test_summary_starts_with_the_verdict_line(self, result):
        name, r = result
        text = r.summary()
        assert isinstance(text, str) and text.strip() and text == text.rstrip("\n")
        if name not in MULTILINE:
            assert len(text.splitlines()) == 1, text

    def test_to_json_round_trips(self, result):
        doc = result[1].to_json()
        assert isinstance(doc, dict)
        assert json.loads(json.dumps(doc)) == doc  # JSON types only: no tuple, no Fraction

    def test_to_markdown_is_text(self, result):
        md = result[1].to_markdown()
        assert isinstance(md, str) and md.strip()


class TestRender:
    @pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
    def test_to_stdout_is_what_print_writes(self, result, fmt, capsys):
        assert render(result[1], fmt, "-") is None
        assert capsys.readouterr().out == rendered(result[1], fmt) + "\n"

    def test_json_is_the_to_json(self, result):
        assert json.loads(rendered(result[1], "json")) == result[1].to_json()

    @pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
    def test_to_a_file_ends_in_one_newline(self, result, fmt, tmp_path, capsys):
        path = tmp_path / f"out.{fmt}"
        assert render(result[1], fmt, str(path)) == path
        text = rendered(result[1], fmt)
        assert path.read_text() == (text if text.endswith("\n") else text + "\n")
        assert capsys.readouterr().out == ""

    def test_an_existing_file_is_replaced_only_with_force(self, result, tmp_path):
        path = tmp_path / "out.json"
        path.write_text("mine\n")
        with pytest.raises(OutputError, match="--json"):
            render(result[1], "json", path, what="--json")
        assert path.read_text() == "mine\n"
        render(result[1], "json", path, force=True)
        assert json.loads(path.read_text()) == result[1].to_json()


def test_render_refuses_an_output_inside_an_input(tmp_path):
    v = verification(tmp_path)
    (tmp_path / "net").mkdir()
    with pytest.raises(OutputError):
        render(v, "json", tmp_path / "net" / "v.json", inputs=[tmp_path / "net"])
    assert not (tmp_path / "net" / "v.json").exists()


def test_render_refuses_an_unknown_format():
    with pytest.raises(ArgumentError, match="fmt"):
        rendered(verification(None), "html")


def test_old_names_are_the_markdown(tmp_path):
    """``BatchReport.markdown()`` and ``DemoResult.report()`` stay, as ``to_markdown()``."""
    b, d = witness_batch(tmp_path), demo_result(tmp_path)
    assert b.markdown() == b.to_markdown() and d.report() == d.to_markdown()


def test_suite_check_json_splits_symdnn_from_check_py(tmp_path):
    check = suite_check(tmp_path)
    doc = check.to_json()
    assert doc["verified"] is False and doc["symdnn"]["verified"] is False
    assert doc["symdnn"]["problems"] == ["categories.tsv: sha256 differs from the manifest",
                                         "categories.tsv: differs from the recomputed "
                                         "categories"]
    assert doc["check.py"]["exit"] == 1
    assert check.summary().splitlines()[0].startswith("symdnn: FAILED: ")


def test_threshold_summary_counts_the_pairs():
    r = threshold_report(None)
    head, rd, agree = r.summary().splitlines()[:3]
    assert head.startswith(f"{len(r.pairs)} (category, feature) pairs in ")
    assert head.endswith("betas 4/5")
    assert rd.startswith("r_d: ")
    assert agree == f"closed form agrees on {len(r.pairs)} of {len(r.pairs)} pairs; " \
                    f"false alarms on {sum(bool(p.false_alarm) for p in r.pairs)}"


def test_markdown_from_text_lists_the_detail():
    assert markdown_from_text("t", "v\n  a\n  b") == "# t\n\nv\n\n- a\n- b\n"
    assert markdown_from_text("t", "v") == "# t\n\nv\n"


def test_winners_name_the_unique_largest_positive_output():
    from symdnn.constructions import selective

    c = selective(["ad", "ae", "be"], "single", ["3/10"])
    assert c.net.infer(c.inputs).winners() == [("ad", "ad", 1), ("ae", "ae", 1), ("be", "be", 1)]
    c = selective(["ad", "ae", "be"], "single", ["2"])  # crosstalk: 1 beside each 2
    assert c.net.infer(c.inputs).winners() == [("ad", "ad", 2), ("ae", "ae", 3), ("be", "be", 2)]


def test_winners_give_none_for_a_tie():
    from symdnn.assoc import AssocArray
    from symdnn.engines import InferenceResult

    out = AssocArray.from_triples(["n1", "n2", "n1"], ["x", "x", "y"], [2, 2, 3], domain="QQ")
    res = InferenceResult(out, None, [], "exact", "fast", "column", ("x", "y", "z"))
    assert res.winners() == [("x", None, 2), ("y", "n1", 1), ("z", None, 0)]


def test_data_listing_marks_what_is_in_place(tmp_path):
    from symdnn.data import DATASETS, listing

    found = listing(tmp_path)
    assert found.chosen and [r["name"] for r in found.rows] == list(DATASETS)
    assert {r["status"] for r in found.rows} == {"no"}
    assert "(set SYMDNN_DATA" not in found.summary().splitlines()[0]


def test_audit_json_is_strict_json_when_a_run_overflows(tmp_path):
    """fp16 overflows to inf (60000 * 2 > 65504) and inf - inf is NaN: the audit's JSON once
    held the tokens Infinity and NaN, which strict JSON parsers refuse."""
    import json

    from symdnn import AssocArray, SparseDNN
    from symdnn.audit import audit_network
    from symdnn.results import rendered

    W0 = AssocArray.from_triples(["a", "a"], ["p", "q"], ["60000", "60000"], domain="QQ")
    W1 = AssocArray.from_triples(["p", "q"], ["u", "u"], ["1", "-1"], domain="QQ")
    net = SparseDNN.from_layers([W0, W1], [{"p": "0"}, {"u": "1"}], convention="row",
                                domain="QQ")
    Y = AssocArray.from_triples(["i"], ["a"], ["2"], domain="QQ")
    rep = audit_network(net, Y, formats=["fp16"], accumulate="same", threads=1)

    def refuse(token):
        raise ValueError(f"not JSON: {token}")

    text = rendered(rep, "json")
    doc = json.loads(text, parse_constant=refuse)
    run = doc["runs"]["fp16"]
    assert "inf" in json.dumps(run)          # the overflow is reported, as a string
    rep.write(tmp_path / "rep")
    json.loads((tmp_path / "rep" / "report.json").read_text(), parse_constant=refuse)
