"""Certificates anyone can re-check (issue 27): the standard-library checker
``symdnn/certify/check_cert.py`` and ``symdnn certify --check``.

The checker recomputes every margin exactly and every bound of the bound model in rational
arithmetic from the network's files and the inputs. It must confirm every certificate symdnn
writes on the test suite's networks (the Graph Challenge fixture, the paper's constructions,
the random networks of ``tests/test_certify.py``), agree with ``certify`` and with symdnn's
own re-check on every one, refuse a certificate whose margins, bounds, verdicts, network or
inputs were edited, and name the key of a malformed certificate (exit 2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symdnn.certify import check_cert as CC
from symdnn.certify.recheck import certify_challenge_files, certify_folder, recheck
from symdnn.constructions import build_construction
from symdnn.io.netdir import write_network
from tests.datafiles import data_file
from tests.test_certify import SPECS, spec
from tests.test_oracle_engines import build

CHECKER = Path(CC.__file__)
GC = "graphchallenge"


def _gc_dir() -> Path:
    return Path(data_file("graphchallenge/sparse-images-1024_subset.mtx")).parent


def stdlib_check(cert: dict | str, net: str, inputs: str, tmp: Path) -> tuple[int, str]:
    """Run the checker as a user would: its own file, ``python -I -S`` (no site-packages:
    the standard library only)."""
    p = tmp / "cert.json"
    p.write_text(cert if isinstance(cert, str) else json.dumps(cert), encoding="utf-8")
    r = subprocess.run([sys.executable, "-I", "-S", str(CHECKER), str(p), net, inputs],
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def own_check(cert: dict, net: str, inputs: str, tmp: Path) -> int:
    p = tmp / "cert-own.json"
    p.write_text(json.dumps(cert), encoding="utf-8")
    return recheck(str(p), net, inputs).status


# ------------------------------------------------------------------------------ networks
def _folder(tmp: Path, net, inputs, name: str) -> tuple[str, str]:
    d = write_network(str(tmp / name), net, inputs=inputs)
    return str(d), str(Path(d) / "inputs.tsv")


def _construction(tmp: Path, beta: str, **kw) -> tuple[str, str]:
    c = build_construction(betas=beta, **kw)
    return _folder(tmp, c.net, c.inputs, "c")


CASES = {
    # (how to make the folder, formats, accumulate)
    "words2-4/5": (lambda t: _construction(t, "4/5", builtin="words2", scheme="single"),
                   ["fp16", "bf16", "fp8_e4m3"], "same"),
    "words2-1": (lambda t: _construction(t, "1", builtin="words2", scheme="single"),
                 ["fp16", "bf16"], "same"),
    "comb-4/5": (lambda t: _construction(t, "4/5", sizes="2,2,2,2"),
                 ["fp16", "bf16", "fp8_e4m3", "fp8_e5m2"], None),
    **{f"random-{name}": ((lambda t, name=name: _folder(t, *build(spec(1, **SPECS[name])),
                                                         "r")),
                          ["fp64", "fp16", "bf16", "fp8_e5m2"], "same")
       for name in sorted(SPECS)},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_checker_confirms_certify_and_agrees_with_it(case, tmp_path):
    make, formats, acc = CASES[case]
    net, inputs = make(tmp_path)
    cert = certify_folder(net, formats=formats, accumulate=acc)
    js = json.loads(json.dumps(cert.to_json()))
    want = 0 if cert.certified else 1
    code, out = stdlib_check(js, net, inputs, tmp_path)
    assert code == want, out
    assert "the certificate is wrong" not in out and "confirmed" in out, out
    assert own_check(js, net, inputs, tmp_path) == want


def test_the_graph_challenge_fixture_is_confirmed(tmp_path):
    d = _gc_dir()
    cert = certify_challenge_files(str(d), layers=3, images=4)
    js = json.loads(json.dumps(cert.to_json()))
    inputs = str(d / "sparse-images-1024_subset.mtx")
    code, out = stdlib_check(js, str(d), inputs, tmp_path)
    assert code == (0 if cert.certified else 1) and "confirmed" in out, out
    assert own_check(js, str(d), inputs, tmp_path) == code
    assert js["source"]["layer_files"] == [f"neuron1024/n1024-l{k}.tsv.gz" for k in (1, 2, 3)]
    assert js["formats"]["fp16"]["arithmetic"]["format"]["precision"] == 11


def test_the_certificate_carries_what_a_checker_needs(tmp_path):
    net, inputs = CASES["words2-4/5"][0](tmp_path)
    js = certify_folder(net, formats=["bf16"], accumulate="same").to_json()
    assert js["checker"]["format"] == CC.CERT_FORMAT
    assert js["bound_model_version"] == CC.BOUND_MODEL
    assert js["sha256"]["inputs"] == CC.sha256(inputs)
    assert set(js["sha256"]["network"]) == {"network.json", "W0.tsv", "b0.tsv"}
    a = js["formats"]["bf16"]["arithmetic"]
    assert (a["format"]["precision"], a["format"]["emin"], a["format"]["emax"],
            a["format"]["rounding"]) == (8, -126, 127, "nearest-even")
    assert a["accumulate"]["name"] == "bf16" and "any order" in a["accumulation_model"]


# ------------------------------------------------- what a sweep of random networks found
#: networks of tests/test_certify.py whose second layer drew no bias but 0: symdnn reads a
#: zero bias as none, and so must the checker (it read the empty bias file as a bias of
#: zeros: a dense layer under rule "all", bias_rule decisions under "nonzero", and a bound
#: with one more rounding, so it refuted certify's max_error and counts)
ZERO_BIAS = {
    "huge-6-fp32": ("huge", ["fp8_e4m3", "bf16", "fp16"], "fp32"),
    "tiny-6-fp32": ("tiny", ["fp8_e4m3", "bf16", "fp16"], "fp32"),
    "tiny-6-same": ("tiny", ["fp8_e5m2", "fp16"], "same"),
}


def _checker_run(js: dict, net: str, inputs: str) -> tuple:
    cnet = CC.read_symdnn(js["source"], net, inputs, js["sha256"]["network"])
    ars = {f: CC.Arith(fj["arithmetic"], f) for f, fj in js["formats"].items()}
    return cnet, CC.run(cnet, ars)[1]


@pytest.mark.parametrize("case", sorted(ZERO_BIAS))
def test_a_layer_without_a_bias_is_read_so_by_the_checker(case, tmp_path):
    name, formats, acc = ZERO_BIAS[case]
    s = spec(6, L=5, **SPECS[name])
    assert s.layers[1][1] == {} and all(s.layers[k][1] for k in (0, 2, 3, 4))
    net, inputs = _folder(tmp_path, *build(s), "r")
    assert (Path(net) / "b1.tsv").read_text() == ""
    js = json.loads(json.dumps(certify_folder(net, formats=formats, accumulate=acc)
                               .to_json()))
    code, out = stdlib_check(js, net, inputs, tmp_path)
    assert code == 1 and "the certificate is wrong" not in out and "confirmed" in out, out
    cnet, res = _checker_run(js, net, inputs)
    assert [b is None for _, b, _ in cnet.layers] == [False, True, False, False, False]
    for f in formats:  # layer 2 as certify counts it, and its bound at most certify's
        fj, r = js["formats"][f], res[f]
        assert {k: fj["at_risk_by_kind"][k][1] for k in CC.KINDS} == \
            {k: r["at_risk"][k][1] for k in CC.KINDS}, f
        assert CC.at_least(CC.bound_value(fj["max_error"][1], f), r["max_error"][1]), f
    if case == "tiny-6-same":  # the checker counted 24 bias_rule decisions here
        assert js["formats"]["fp8_e5m2"]["at_risk_by_kind"]["bias_rule"][1] == 0
        assert res["fp8_e5m2"]["at_risk"]["relu"][1] == 24


def test_a_bias_file_of_zeros_is_no_bias(tmp_path):
    """Zeros written in the bias file, not an empty file: still no bias, to both."""
    name, formats, acc = ZERO_BIAS["tiny-6-same"]
    net, inputs = _folder(tmp_path, *build(spec(6, L=5, **SPECS[name])), "r")
    first = certify_folder(net, formats=formats, accumulate=acc).to_json()
    (Path(net) / "b1.tsv").write_text("L2n0\t0\nL2n3\t0/7\n")
    js = json.loads(json.dumps(certify_folder(net, formats=formats, accumulate=acc)
                               .to_json()))
    for f in formats:
        assert js["formats"][f]["at_risk_by_kind"] == first["formats"][f]["at_risk_by_kind"]
        assert js["formats"][f]["max_error"] == first["formats"][f]["max_error"]
    code, out = stdlib_check(js, net, inputs, tmp_path)
    assert code == 1 and "confirmed" in out, out
    assert _checker_run(js, net, inputs)[0].layers[1][1] is None


def test_weights_that_all_round_to_zero_are_not_exact(tmp_path):
    """fp8_e4m3 rounds every weight of the "tiny" networks (at most 2**-12) to 0: the
    implementation's sums are all 0, the exact ones are not (M = 0, D > 0). The bound model
    once called M = 0 exact, so the checker found none of layer 1's bias_rule decisions at
    risk; every one of them flips in the float model."""
    from tests import certify_model as CM
    from tests import oracle as O

    s = spec(6, L=5, **SPECS["tiny"])
    assert {O.round_value(w, "fp8_e4m3") for w in SPECS["tiny"]["weights"]} == {0}
    net, inputs = _folder(tmp_path, *build(s), "r")
    js = json.loads(json.dumps(certify_folder(net, formats=["fp8_e4m3"], accumulate="fp32")
                               .to_json()))
    _, res = _checker_run(js, net, inputs)
    assert js["formats"]["fp8_e4m3"]["at_risk_by_kind"]["bias_rule"][0] == 22
    assert res["fp8_e4m3"]["at_risk"]["bias_rule"][0] == 22
    exact = O.evaluate(s.layers, s.inputs, rule=s.rule, cap=s.cap, batch=s.batch)
    assert sum(len(v) for v in exact.pre[0].values()) == 21  # and one cancellation
    fl = CM.run(s.layers, s.inputs, fmt="fp8_e4m3", acc="fp32", rule=s.rule, cap=s.cap,
                batch=s.batch, order="seq", seed=1)
    assert fl["pre"][0] == {}  # every sum is 0: no bias added, no pre-activation


def test_weights_that_all_round_to_zero_are_not_exact_under_rule_all(tmp_path):
    """The same under rule "all" (dense): the bound model once gave E_z = |bhat - b| where
    M = 0 whatever D, so the checker found 1 and 3 ReLU decisions at risk where certify
    finds 22 and 24; every float pre-activation is fl(-2**-20) = 0, the exact ones are not."""
    from tests import certify_model as CM
    from tests import oracle as O

    s = spec(1, L=2, **dict(SPECS["tiny"], rule="all"))
    net, inputs = _folder(tmp_path, *build(s), "r")
    js = json.loads(json.dumps(certify_folder(net, formats=["fp8_e4m3"], accumulate="fp32")
                               .to_json()))
    _, res = _checker_run(js, net, inputs)
    fj, r = js["formats"]["fp8_e4m3"], res["fp8_e4m3"]
    assert fj["at_risk_by_kind"]["relu"] == r["at_risk"]["relu"] == [22, 24]
    exact = O.evaluate(s.layers, s.inputs, rule=s.rule, cap=s.cap, batch=s.batch)
    fl = CM.run(s.layers, s.inputs, fmt="fp8_e4m3", acc="fp32", rule=s.rule, cap=s.cap,
                batch=s.batch, order="seq", seed=1)
    assert set(fl["pre"][0].values()) == {0}
    top = max(v for row in exact.post[0].values() for v in row.values())
    assert top > 2 ** -19 and r["max_error"][0] >= CC.up(top)  # the float output is 0


def test_a_full_bias_cannot_be_read_by_the_checker_and_is_hashed(tmp_path):
    from symdnn.assoc import AssocArray
    from symdnn.network import FullBias, SparseDNN

    W = AssocArray.from_triples(["p", "q", "p"], ["a", "a", "b"], [1, 1, 1], domain="QQ")
    Y0 = AssocArray.from_triples(["a", "b"], ["i1", "i2"], [1, 1], domain="QQ")
    B = AssocArray.from_triples(["p"], ["i1"], [CC.Fraction(-1, 3)], domain="QQ")
    net, inputs = _folder(tmp_path, SparseDNN.from_layers([W], [FullBias(B)]), Y0, "n")
    js = certify_folder(net, formats=["bf16"]).to_json()
    assert "B0.tsv" in js["sha256"]["network"]
    code, out = stdlib_check(js, net, inputs, tmp_path)
    assert code == 2 and "CANNOT READ" in out and "full bias" in out, out


# ------------------------------------------------------------------------------- edits
@pytest.fixture
def words(tmp_path):
    """The words at beta 4/5: fp16 certified, fp8_e4m3 not (199 ReLU decisions at risk)."""
    net, inputs = CASES["words2-4/5"][0](tmp_path)
    js = json.loads(json.dumps(certify_folder(net, formats=["fp16", "fp8_e4m3"],
                                              accumulate="same").to_json()))
    assert stdlib_check(js, net, inputs, tmp_path)[0] == 1
    return js, net, inputs, tmp_path


def _refuted(js, net, inputs, tmp, words_in_message):
    code, out = stdlib_check(js, net, inputs, tmp)
    assert code == 1 and "the certificate is wrong" in out, out
    for w in words_in_message:
        assert w in out, out
    assert own_check(js, net, inputs, tmp) == 1


def test_an_edited_margin_is_refused(words):
    js, net, inputs, tmp = words
    js["min_margin"][0] = "1/4"  # it is 1/5
    _refuted(js, net, inputs, tmp, ["smallest margin is 1/5"])


def test_an_edited_example_margin_is_refused(words):
    js, net, inputs, tmp = words
    js["formats"]["fp8_e4m3"]["examples"][0]["margin"] = "5"
    _refuted(js, net, inputs, tmp, ["examples[0]", "margin"])


def test_an_edited_bound_is_refused(words):
    js, net, inputs, tmp = words
    assert float(js["formats"]["fp8_e4m3"]["max_error"][0]) > 0
    js["formats"]["fp8_e4m3"]["max_error"][0] = "0.0"
    _refuted(js, net, inputs, tmp, ["max_error"])


def test_an_edited_example_bound_is_refused(words):
    js, net, inputs, tmp = words
    js["formats"]["fp8_e4m3"]["examples"][0]["bound"] = "1e-30"
    _refuted(js, net, inputs, tmp, ["below the model"])


def test_an_edited_verdict_is_refused(words):
    """fp8_e4m3 claimed certified, with every count made consistent with the claim: the
    checker's own bound still finds the decisions at risk."""
    js, net, inputs, tmp = words
    f = js["formats"]["fp8_e4m3"]
    f.update(certified=True, categories_certified=True, categories_at_risk=0,
             argmax_at_risk=0, at_risk=[0], examples=[])
    f["at_risk_by_kind"] = {k: [0] for k in f["at_risk_by_kind"]}
    js["certified"] = True
    _refuted(js, net, inputs, tmp, ["fp8_e4m3", "relu decisions at risk"])


def test_an_inconsistent_verdict_is_refused(words):
    js, net, inputs, tmp = words
    js["formats"]["fp8_e4m3"]["certified"] = True
    _refuted(js, net, inputs, tmp, ["'certified'"])


def test_an_edited_network_is_refused(words):
    js, net, inputs, tmp = words
    w = Path(net) / "W0.tsv"
    lines = w.read_text().splitlines()
    a, b, _ = lines[0].split("\t")
    lines[0] = f"{a}\t{b}\t2"
    w.write_text("\n".join(lines) + "\n")
    _refuted(js, net, inputs, tmp, ["W0.tsv", "sha256"])


def test_an_edited_input_is_refused(words):
    js, net, inputs, tmp = words
    p = Path(inputs)
    p.write_text(p.read_text().replace("\t1\n", "\t3/2\n", 1))
    _refuted(js, net, inputs, tmp, ["inputs", "sha256"])


def test_the_hash_is_not_the_only_guard(words):
    """A network edited and its hash updated in the certificate: the checker recomputes
    from the files, and the margins no longer match."""
    js, net, inputs, tmp = words
    b = Path(net) / "b0.tsv"
    b.write_text(b.read_text().replace("-6/5", "-11/10"))
    js["sha256"]["network"]["b0.tsv"] = CC.sha256(str(b))
    code, out = stdlib_check(js, net, inputs, tmp)
    assert code == 1 and "smallest margin" in out, out


# ---------------------------------------------------------------------------- unreadable
def test_malformed_certificates_cannot_be_read_and_name_the_key(words):
    js, net, inputs, tmp = words
    code, out = stdlib_check("{not json", net, inputs, tmp)
    assert code == 2 and out.startswith("CANNOT READ") and "not JSON" in out, out
    for key in ("sha256", "bound_model_version", "formats"):
        bad = {k: v for k, v in js.items() if k != key}
        code, out = stdlib_check(bad, net, inputs, tmp)
        assert code == 2 and f"'{key}'" in out, out
    bad = json.loads(json.dumps(js))
    bad["formats"]["fp16"]["at_risk_by_kind"] = "none"
    code, out = stdlib_check(bad, net, inputs, tmp)
    assert code == 2 and "'at_risk_by_kind'" in out, out
    bad = json.loads(json.dumps(js))
    del bad["formats"]["fp16"]["arithmetic"]["format"]["precision"]
    code, out = stdlib_check(bad, net, inputs, tmp)
    assert code == 2 and "'precision'" in out, out
    code, out = stdlib_check(js, net, os.path.join(net, "missing.tsv"), tmp)
    assert code == 2 and "missing.tsv" in out, out


def test_symdnn_check_names_the_key_of_a_malformed_certificate(words):
    from symdnn.errors import SymdnnError

    js, net, inputs, tmp = words
    for key in ("sha256", "source"):
        p = tmp / "bad.json"
        p.write_text(json.dumps({k: v for k, v in js.items() if k != key}))
        with pytest.raises(SymdnnError, match=f"'{key}'"):
            recheck(str(p), net, inputs)
    bad = json.loads(json.dumps(js))
    del bad["formats"]["fp16"]["accumulate"]
    p.write_text(json.dumps(bad))
    with pytest.raises(SymdnnError, match="formats.fp16.accumulate"):
        recheck(str(p), net, inputs)


def test_format_parameters_that_lie_are_refused(words):
    js, net, inputs, tmp = words
    js["formats"]["fp16"]["arithmetic"]["format"]["precision"] = 24
    code, out = stdlib_check(js, net, inputs, tmp)
    assert code == 1 and "fp16 has 11" in out and "precision" in out, out


def test_cli_certify_json_then_check(tmp_path, capsys):
    from symdnn.cli import main

    net, inputs = CASES["words2-1"][0](tmp_path)
    out = str(tmp_path / "c.json")
    assert main(["certify", net, "--formats", "fp16,bf16", "--accumulate", "same",
                 "--json", out, "--quiet"]) == 0
    assert main(["certify", "--check", out, net, inputs, "--quiet"]) == 0
    assert "CERTIFIED" in capsys.readouterr().out
    assert stdlib_check(Path(out).read_text(), net, inputs, tmp_path)[0] == 0
    js = json.loads(Path(out).read_text())
    js["min_margin"][0] = "1"
    Path(out).write_text(json.dumps(js))
    assert main(["certify", "--check", out, net, inputs, "--quiet"]) == 1
    assert "min_margin" in capsys.readouterr().out


def test_fl_rounds_to_nearest_even_with_subnormals_and_overflow():
    fp16 = (11, -14, 15, CC.Fraction(65504), True)
    e4m3 = (4, -6, 8, CC.Fraction(448), False)
    F = CC.Fraction
    assert CC.fl(F(1) + F(1, 2 ** 11), fp16) == 1  # a tie: to even
    assert CC.fl(F(1) + F(3, 2 ** 11), fp16) == F(1) + F(2, 2 ** 10)
    assert CC.fl(F(1, 2 ** 25), fp16) == 0 and CC.fl(F(3, 2 ** 26), fp16) == F(1, 2 ** 24)
    assert CC.fl(F(3, 2 ** 25), fp16) == F(1, 2 ** 23)  # a tie between subnormals
    assert CC.fl(F(65519), fp16) == 65504 and CC.fl(F(65520), fp16) is None
    assert CC.fl(F(464), e4m3) == 448 and CC.fl(F(465), e4m3) is None
    assert CC.fl(F(-1, 3), fp16) == -CC.fl(F(1, 3), fp16)


@pytest.mark.parametrize("fmt", sorted(CC.KNOWN))
def test_fl_against_the_oracles_rounding(fmt):
    """The checker's rounding equals the test oracle's (integers on bit patterns) on seeded
    random rationals across the range, ties, subnormals and overflow included."""
    import random

    from symdnn.domains.floats import get_format
    from tests import oracle as O

    f = get_format(fmt)
    params = (f.precision, f.emin, f.emax, f.max_finite, f.has_inf)
    rng = random.Random(27)
    F = CC.Fraction
    for _ in range(400):
        e = rng.randint(f.emin - f.precision - 2, f.emax + 1)
        x = F(rng.randint(1, 1 << (f.precision + 2)), 1 << (f.precision + 1)) * F(2) ** e
        if rng.random() < 0.3:
            x = F(rng.randint(-1000, 1000), rng.randint(1, 999))
        want = O.round_value(x, fmt)
        got = CC.fl(x, params)
        if isinstance(want, str):  # inf or nan: an overflow
            assert got is None, (x, want)
        else:
            assert got == want, (x, want, got)


# -------------------------------------------- forged certificates (the hostile review)
def _refused(js, net, inputs, tmp, want=(1, 2), words_in_message=()):
    """Both checkers refuse the certificate: exit 1 or 2 (never 0, CERTIFIED)."""
    from symdnn.errors import SymdnnError

    code, out = stdlib_check(js, net, inputs, tmp)
    assert code in want and not out.startswith("CERTIFIED"), out
    for w in words_in_message:
        assert w in out, out
    try:
        own = own_check(js, net, inputs, tmp) if isinstance(js, dict) else None
    except SymdnnError:
        own = 2
    if own is None:
        p = tmp / "cert-own.json"
        p.write_text(js, encoding="utf-8")
        try:
            own = recheck(str(p), net, inputs).status
        except SymdnnError:
            own = 2
    assert own in (1, 2), own
    return out


@pytest.fixture(scope="module")
def gc_cert():
    d = _gc_dir()
    js = json.loads(json.dumps(certify_challenge_files(str(d), layers=2, images=3,
                                                        formats=["fp16"]).to_json()))
    return js, str(d), str(d / "sparse-images-1024_subset.mtx")


@pytest.mark.parametrize("edit", ["dev_null", "order", "no_bias", "zero_bias", "cap",
                                  "rule", "unhashed", "images"])
def test_the_graph_challenge_is_read_as_defined_not_as_the_certificate_says(edit, gc_cert,
                                                                              tmp_path):
    """The layer files read are the hashed ones, in symdnn's order; the biases, the rule
    and the cap are the Graph Challenge's own, whatever ``source`` says."""
    js, net, inputs = gc_cert
    js = json.loads(json.dumps(js))
    src = js["source"]
    if edit == "dev_null":
        src["layer_files"] = ["/dev/null"] * 2
    elif edit == "order":
        src["layer_files"] = src["layer_files"][::-1]
    elif edit == "no_bias":
        src["biases"] = [None, None]
    elif edit == "zero_bias":
        src["biases"] = ["0", "0"]
    elif edit == "cap":
        src["cap"] = "1/16"
    elif edit == "rule":
        src["rule"] = "all"
    elif edit == "images":  # more images than the file holds
        src["images"] = js["inputs"] = js["network"]["inputs"] = 1 << 20
    else:
        del js["sha256"]["network"][src["layer_files"][1]]
    code, out = stdlib_check(js, net, inputs, tmp_path)
    assert code == 1 and "the certificate is wrong" in out, out
    if edit in ("order", "unhashed"):  # symdnn's own re-check, once per kind of edit
        assert own_check(js, net, inputs, tmp_path) == 1


def test_every_file_read_must_be_hashed_and_inside_net(words):
    js, net, inputs, tmp = words
    for edit in ("W0.tsv", "network.json"):
        bad = json.loads(json.dumps(js))
        del bad["sha256"]["network"][edit]
        _refused(bad, net, inputs, tmp, (1, 2), ["sha256.network", edit])
    for name in ("inputs.tsv", "/etc/hostname", "../c/W0.tsv"):
        bad = json.loads(json.dumps(js))
        bad["sha256"]["network"][name] = CC.sha256(os.path.join(net, "W0.tsv"))
        _refused(bad, net, inputs, tmp)
    bad = json.loads(json.dumps(js))
    del bad["sha256"]["inputs"]
    _refused(bad, net, inputs, tmp, (2,), ["'inputs'"])


def test_format_parameters_must_be_those_of_the_named_format(words):
    """A renamed format, another format's arithmetic, a widened accumulation, a max_finite
    that hides an overflow, no format at all: never CERTIFIED."""
    js, net, inputs, tmp = words
    f16 = js["formats"]["fp16"]["arithmetic"]

    def forged(edit):
        bad = json.loads(json.dumps(js))
        f = bad["formats"]["fp8_e4m3"]
        edit(bad, f)
        f.update(certified=True, categories_certified=True, categories_at_risk=0,
                 argmax_at_risk=0, at_risk=[0], examples=[])
        f["at_risk_by_kind"] = {k: [0] for k in f["at_risk_by_kind"]}
        bad["certified"] = True
        return bad

    def renamed(d, f):
        for k in ("format", "accumulate"):
            f["arithmetic"][k].update(name="fp8_e4m3 ", precision=53, emin=-1022, emax=1023)
    _refused(forged(renamed), net, inputs, tmp, (2,), ["'fp8_e4m3 '"])
    _refused(forged(lambda d, f: f.update(arithmetic=json.loads(json.dumps(f16)))),
             net, inputs, tmp, (1,))
    _refused(forged(lambda d, f: f["arithmetic"].update(accumulate=f16["accumulate"] | {
        "name": "fp32", "precision": 24, "emin": -126, "emax": 127,
        "max_finite": "340282346638528859811704183484516925440"})), net, inputs, tmp, (1,),
        ["accumulate"])
    _refused(forged(lambda d, f: f["arithmetic"]["format"].update(infinity=True)),
             net, inputs, tmp, (1,), ["infinity"])
    bad = json.loads(json.dumps(js))
    bad["formats"]["fp16"]["arithmetic"]["format"]["max_finite"] = "1e10000"
    _refused(bad, net, inputs, tmp, (1,), ["max_finite"])
    bad = json.loads(json.dumps(js))
    bad["formats"], bad["certified"] = {}, True
    _refused(bad, net, inputs, tmp, (2,), ["'formats' is empty"])


def test_every_key_a_checker_can_recompute_is_confirmed(words):
    """Each key edited alone (the verdicts left as they are): both checkers refuse it.
    Margins must be written as certify writes them (``str`` of a Fraction)."""
    js0, net, inputs, tmp = words
    edits = {
        "smallest": lambda js, f8: js.update(smallest_certified="fp8_e4m3"),
        "min_at": lambda js, f8: js["min_margin_at"][0].update(neuron="zz"),
        "final": lambda js, f8: js["final_min_margin"].update(argmax="1/1000"),
        "exact": lambda js, f8: f8.update(exact_decisions=[10 ** 6]),
        "decisions": lambda js, f8: js.update(decisions=[{"relu": 1, "cap": 5}]),
        "format_str": lambda js, f8: f8.update(accumulate="fp32"),
        "network": lambda js, f8: js["network"].update(bias_rule="nonzero"),
        "network_cap": lambda js, f8: js["network"].update(cap="7"),
        "nan": lambda js, f8: f8["max_error"].__setitem__(0, "nan"),
        "ratio": lambda js, f8: js["min_margin"].__setitem__(0, "2/10"),
        "exponent": lambda js, f8: js["min_margin"].__setitem__(0, "0.2e0"),
        "space": lambda js, f8: js["min_margin"].__setitem__(0, "1/5 "),
        "float": lambda js, f8: js["min_margin"].__setitem__(0, 0.2),
        "example_margin": lambda js, f8: f8["examples"][0].update(
            margin=f8["examples"][0]["margin"] + " "),
        "certified_int": lambda js, f8: js["formats"]["fp16"].update(certified=1),
    }
    for name, edit in edits.items():
        js = json.loads(json.dumps(js0))
        edit(js, js["formats"]["fp8_e4m3"])
        assert json.dumps(js) != json.dumps(js0), name
        _refused(js, net, inputs, tmp)


def test_files_that_are_not_regular_are_refused(words):
    js, net, inputs, tmp = words
    fifo = tmp / "fifo"
    os.mkfifo(fifo)
    code, out = stdlib_check(js, net, str(fifo), tmp)
    assert code == 2 and "fifo: not a regular file" in out, out
    from symdnn.errors import SymdnnError

    p = tmp / "c.json"
    p.write_text(json.dumps(js))
    for cert, ins in ((str(p), str(fifo)), ("/dev/zero", inputs), (str(fifo), inputs)):
        with pytest.raises(SymdnnError, match="not a regular file"):
            recheck(cert, net, ins)
    r = subprocess.run([sys.executable, "-I", "-S", str(CHECKER), "/dev/zero", net, inputs],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "/dev/zero: not a regular file" in r.stdout, r.stdout


def test_malformed_json_is_refused_naming_the_key(words):
    """Deep nesting, a repeated key, a count as a string, sha256.network as a list: exit 2,
    never a traceback."""
    js, net, inputs, tmp = words
    deep = "[" * 100_000 + "]" * 100_000
    assert "nested deeper" in _refused(deep, net, inputs, tmp, (2,))
    text = json.dumps(js)
    dup = text.replace('"certified": false,', '"certified": true, "certified": false,', 1)
    assert dup != text
    assert "'certified' is repeated" in _refused(dup, net, inputs, tmp, (2,))
    bad = json.loads(text)
    bad["formats"]["fp8_e4m3"]["at_risk_by_kind"]["relu"] = ["199"]
    assert "'relu'" in _refused(bad, net, inputs, tmp, (2,))
    bad = json.loads(text)
    bad["sha256"]["network"] = list(bad["sha256"]["network"])
    assert "'network'" in _refused(bad, net, inputs, tmp, (2,))
    bad = json.loads(text)
    bad["layers"] = "1"
    assert "'layers'" in _refused(bad, net, inputs, tmp, (2,))


def test_a_graph_challenge_bias_file_is_hashed_and_read(tmp_path):
    """A folder with a bias.tsv (``symdnn generate radixnet --style exact``): its biases are
    the network's, so it is hashed, and the certificate's ``source.biases`` must be them."""
    from symdnn.generators import generate_radixnet
    from symdnn.io.graphchallenge import find_challenge_files

    d = str(generate_radixnet(str(tmp_path / "rx"), layers=2, inputs=3, style="exact"))
    js = json.loads(json.dumps(certify_challenge_files(d, layers=2, formats=["fp16"])
                               .to_json()))
    assert "bias.tsv" in js["sha256"]["network"]
    imgs = str(find_challenge_files(d, 1024, 2).images)
    code, out = stdlib_check(js, d, imgs, tmp_path)
    assert code in (0, 1) and "confirmed" in out, out
    assert own_check(js, d, imgs, tmp_path) == code
    bad = json.loads(json.dumps(js))
    bad["source"]["biases"] = ["-30", "-31"]
    _refused(bad, d, imgs, tmp_path, (1,), ["source.biases"])
    bad = json.loads(json.dumps(js))
    del bad["sha256"]["network"]["bias.tsv"]
    _refused(bad, d, imgs, tmp_path, (1,), ["bias.tsv"])
