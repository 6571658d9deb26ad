"""Perturbation analysis: Fig. 10 reproduced, the closed form against the piecewise-exact
evaluation and against direct exact inference on both sides of every threshold of every
built-in construction, the piecewise engine against direct inference at sample points of random
rational networks, flags, formats and the CLI."""

from __future__ import annotations

import json
from fractions import Fraction

import flint
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symdnn import AssocArray, SparseDNN, SymdnnError
from symdnn.analysis import analyze, beta_symbols, closed_form, piecewise, support
from symdnn.cli import main
from symdnn.constructions import Construction, selective
from symdnn.data import words
from symdnn.plotting import plot_thresholds
from tests.netgen import random_net

b0, b1, b2 = beta_symbols(3)


def test_figure_10_left_one_layer_beta_zero():
    rep = analyze(selective(words("words2"), "single", [0]))
    assert {p.r_d for p in rep.pairs} == {1}
    assert all(not p.false_alarm for p in rep.pairs)
    assert rep.pairs[0].closed_expr == 1 - b0
    assert not rep.exact  # beta = 0 leaves Y_L = 0 at r = 1: flagged, still analysed


def test_figure_10_right_two_layers():
    rep = analyze(selective(words("words4"), "pairs", ["4/5", 1]))
    assert rep.exact and {p.r_d for p in rep.pairs} == {flint.fmpq(2, 5)}
    assert all(p.closed_expr == 3 - 2 * b0 - b1 and p.agrees for p in rep.pairs)
    assert all(not p.false_alarm for p in rep.pairs)  # P_fa = 0, as the paper says
    # ... yet other categories fire without being selected: exciting the l of "able" to r = 2
    # lifts its pair "le" to 9/5, so "file", "male", ... (sharing "le") reach 4/5 < 8/5
    pair = next(p for p in rep.pairs if p.category == "able" and p.feature == "3l")
    assert {"file", "male", "rule", "tile"} <= set(pair.fires) and not pair.false_alarm
    xs, pd, pfa = rep.curves()
    assert xs == [0, flint.fmpq(2, 5), 2] and pd == [0, 1] and pfa == [0, 0]


def test_chain_scheme_path_counts_and_thresholds():
    c = selective([w for w in words("words4") if w[0] in "ab"], "chain")
    sub = support(c.net, "able")
    assert [sub.paths[(0, f)] for f in ("1a", "2b", "3l", "4e")] == [1, 3, 3, 1]
    assert (sub.paths_from(1), sub.paths_from(2)) == (4, 2)
    cf = closed_form(sub, "2b", [1, 1, 1])
    assert sympy.expand(cf.expr - (1 - (b2 + 4 * (b0 - 1) + 2 * (b1 - 1)) / 3)) == 0
    rep = analyze(c)
    assert [str(p.r_d) for p in rep.by_category()["able"]] == ["0", "2/3", "2/3", "0"]


def test_betas_that_never_select_give_null_thresholds_and_are_flagged():
    rep = analyze(selective(words("words4")[:20], "chain", ["1/2", "3/4", 1]))
    assert not rep.exact
    d = rep.to_json()
    assert d["exact"] is False and "NOT an exact solution" in d["warning"]
    assert d["thresholds"]["that"] == [None, "3/2", "3/2", None]


def _selected(Y: AssocArray) -> dict:
    """Per input column, the unique positive maximum's key (or None)."""
    best: dict = {}
    for r, c, v in Y.triples():
        best.setdefault(c, []).append((v, r))
    out = {}
    for c, vals in best.items():
        vals.sort(reverse=True)
        top = vals[0]
        out[c] = top[1] if top[0] > 0 and (len(vals) == 1 or vals[1][0] < top[0]) else None
    return out


BUILTINS = [
    ("words2", "single", [1]), ("words2", "single", ["1/2"]), ("words3", "three2", [1, 1]),
    ("words3", "chain", ["9/10", 1]), ("words4", "pairs", ["4/5", 1]),
    pytest.param("words4", "chain", [1, 1, 1], marks=pytest.mark.slow),
    pytest.param("words4", "chain", ["1/2", "3/4", 1], marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name,scheme,betas", BUILTINS)
def test_three_routes_agree_on_every_pair(name, scheme, betas):
    c = selective(words(name), scheme, betas)
    rep = analyze(c, verify=False)
    assert all(p.agrees for p in rep.pairs)  # closed form == piecewise-exact
    fsets = c.feature_sets()
    rows, cols, vals, want = [], [], [], {}
    for i, p in enumerate(rep.pairs):
        points = []
        if p.r_d is not None:
            up = p.r_d + (2 - p.r_d) / 1000
            points.append((up, p.category))
            if p.r_d > 0:
                points.append((p.r_d - flint.fmpq(1, 10**6), None))
        else:
            points.append((flint.fmpq(2), None))
        for j, (r, expect) in enumerate(points):
            key = f"{i}:{j}"
            want[key] = (expect, p)
            for f in fsets[p.category]:
                rows.append(f)
                cols.append(key)
                vals.append(r if f == p.feature else 1)
    Y0 = AssocArray.from_triples(rows, cols, vals, domain="QQ")
    got = _selected(c.net.infer(Y0).output)
    for key, (expect, p) in want.items():
        sel = got.get(key)
        if expect is None:
            assert sel != p.category, (key, p.category, p.feature, p.r_d)
        else:
            assert sel == expect, (key, p.category, p.feature, p.r_d)


@settings(max_examples=25)
@given(seed=st.integers(0, 10**6), cap=st.sampled_from([None, "3/2", 4]))
def test_piecewise_outputs_equal_direct_inference_at_sample_points(seed, cap):
    net = random_net(seed, L=4, n=5, density=0.6, pos=0.7, bias="-1/5", cap=cap, wq=4, wp=5)
    rng = np.random.default_rng(seed)
    feats = list(net.inputs)
    base_rows, base_cols, base_vals, pert = [], [], [], []
    for j in range(4):
        for f in feats:
            if rng.random() < 0.7:
                base_rows.append(f)
                base_cols.append(f"s{j}")
                base_vals.append(Fraction(int(rng.integers(1, 5)), 2))
        pert.append(feats[int(rng.integers(len(feats)))])
    base = AssocArray.from_triples(base_rows, base_cols, base_vals, domain="QQ")
    starts = base.col()
    pert = pert[:len(starts)]
    traces = piecewise(net, base, pert)
    for key, f, tr in zip(starts, pert, traces, strict=True):
        assert tr.pieces[0].lo == 0 and tr.pieces[-1].hi == 2
        for p, q in zip(tr.pieces[:-1], tr.pieces[1:], strict=True):
            assert p.hi == q.lo
        for r in (flint.fmpq(0), flint.fmpq(1, 3), flint.fmpq(1), flint.fmpq(7, 5),
                  flint.fmpq(2)) + tuple(b.r for b in tr.breakpoints):
            col = {k: v for k, c, v in base.triples() if c == key}
            col[f] = r
            Y = AssocArray.from_triples(list(col), ["x"] * len(col), list(col.values()),
                                        domain="QQ")
            exact = {k: v for k, _, v in net.infer(Y).output.triples()}
            piece = next(p for p in tr.pieces if p.lo <= r <= p.hi)
            got = {k: a + b * r for k, (a, b) in piece.outputs.items() if a + b * r != 0}
            assert got == exact, (seed, key, f, r)


def test_a_capped_network_where_the_closed_form_fails_names_the_neuron():
    c = selective(["abcd", "abce", "bcde", "xbcd"], "chain")
    net = SparseDNN.from_layers([ly.W for ly in c.net.layers], betas=[1, 1, 1], ymax="1/2")
    rep = analyze(Construction("capped", net, c.inputs, None, c.categories, c.features))
    bad = [p for p in rep.pairs if not p.agrees]
    assert bad and not rep.exact
    p = next(p for p in bad if p.feature == "1a")
    assert p.clip == (1, "12:ab", flint.fmpq(1, 2)) and "reaches the cap" in p.note


def test_symbolic_betas_give_expressions():
    c = selective(["abcd", "abce"], "pairs")
    cf = closed_form(support(c.net, "abcd"), "3c", [b0, b1])
    assert cf.expr == 3 - 2 * b0 - b1 and cf.value == 3 - 2 * b0 - b1


def test_formats(tmp_path):
    rep = analyze(selective(["ab", "cd"], "single", ["1/2"]))
    csv_text = rep.to_csv()
    assert csv_text.splitlines()[0].startswith("category,feature,r_d")
    assert "ab,1a,1/2,1/2" in csv_text
    assert "| ab | 1a | 1/2 |" in rep.to_markdown()
    plot_thresholds(rep, str(tmp_path / "f.svg"))
    assert "<svg" in (tmp_path / "f.svg").read_text()


def test_analysis_refuses_what_it_cannot_do():
    W = AssocArray.from_triples(["o"], ["x"], [1], domain="QQ")
    net = SparseDNN.from_layers([W], [{"o": "-1/2"}], bias_rule="nonzero")
    with pytest.raises(SymdnnError, match="bias rule 'all'"):
        piecewise(net, AssocArray.from_triples(["x"], ["i"], [1], domain="QQ"), ["x"])
    net2 = SparseDNN.from_layers([W], [{"o": "-1/2"}])
    with pytest.raises(SymdnnError, match="not an input"):
        piecewise(net2, AssocArray.from_triples(["x"], ["i"], [1], domain="QQ"), ["y"])


def test_cli_threshold_json(tmp_path, capsys):
    (tmp_path / "w.txt").write_text("abcd\nabce\nbcde\n")
    assert main(["threshold", "--words", str(tmp_path / "w.txt"), "--scheme", "pairs",
                 "--beta", "4/5,1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["exact"] is True
    assert d["thresholds"] == {w: ["2/5"] * 4 for w in ("abcd", "abce", "bcde")}
    assert d["false_alarm"] == {w: [False] * 4 for w in ("abcd", "abce", "bcde")}


def test_cli_threshold_from_a_built_folder(tmp_path, capsys):
    assert main(["build", "--builtin", "words2", "--beta", "0", "--out",
                 str(tmp_path / "n")]) == 0
    capsys.readouterr()
    # beta = 0 is not an exact solution: no thresholds without --force (issue 10, item 12)
    assert main(["threshold", str(tmp_path / "n"), "--csv", str(tmp_path / "t.csv")]) == 1
    cap = capsys.readouterr()
    assert "r_d:" not in cap.out and "NOT an exact solution" in cap.err
    assert not (tmp_path / "t.csv").exists()
    assert main(["threshold", str(tmp_path / "n"), "--plot", str(tmp_path / "f.png"),
                 "--csv", str(tmp_path / "t.csv"), "--force"]) == 0
    out = capsys.readouterr().out
    assert "WARNING: NOT an exact solution" in out and "r_d: 1 x74" in out
    assert (tmp_path / "t.csv").read_text().count("\n") == 75
    with pytest.raises(SystemExit):
        main(["threshold", "--builtin", "words9"])
    assert main(["threshold"]) == 2
