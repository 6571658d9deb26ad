"""Issue 10, items 4, 7, 10, 11 and 12: symbolic runs under the nonzero bias rule and with
bounds on non-polynomial pre-activations, the analysis of networks given explicit biases, the
threshold audit's agreement on the representable grid, and ``symdnn threshold`` refusing
networks that are not exact solutions.

Every symbolic answer is checked against exact (QQ) inference of the same network at rational
parameter values on both sides of the places where it changes form, with ``==``.
"""

from __future__ import annotations

import dataclasses
import json
import random
from fractions import Fraction

import flint
import pytest
import sympy

from symdnn import AssocArray, SparseDNN, SymbolicSignError
from symdnn.analysis import analyze, closed_form, support
from symdnn.audit.thresholds import threshold_audit
from symdnn.cli import main
from symdnn.constructions import selective
from symdnn.engines.reference import box_range
from symdnn.engines.symbolic import ALL, signs
from symdnn.errors import SymdnnError

R = sympy.Rational
t, b = sympy.symbols("t b")


# ------------------------------------------------------------------ helpers
def _net(make, p, *, rule="all", ymax=None):
    """The network ``make(p)`` builds, in SYM for a symbol ``p``, else in QQ (where a weight
    that is 0 at this ``p`` disappears, so the neurons are listed). A chain of neurons
    ``z0, z1, ...`` of weight 1 from ``x`` keeps every layer's column nonempty."""
    sym = isinstance(p, sympy.Basic)
    dom = "SYM" if sym else "QQ"
    weights, biases = make(p)
    weights = [w + [(f"z{l}", "x" if l == 0 else f"z{l - 1}", 1)]
               for l, w in enumerate(weights)]
    neurons = [["x"]] + [sorted({o for o, _, _ in w} | set(bias)) for w, bias in
                         zip(weights, biases, strict=True)]
    Ws = [AssocArray.from_triples([o for o, _, _ in w], [i for _, i, _ in w],
                                  [v for _, _, v in w], domain=dom) for w in weights]
    return SparseDNN.from_layers(Ws, biases, bias_rule=rule, ymax=ymax, neurons=neurons,
                                 domain=dom)


def _x(dom):
    return AssocArray.from_triples(["x"], ["i"], [1], domain=dom)


def _exact(make, v, **kw) -> dict:
    net = _net(make, Fraction(v), **kw)
    return {(k, c): R(str(val)) for k, c, val in net.infer(_x("QQ")).output.triples()}


def _at(out: AssocArray, sym, v) -> dict:
    vals = {(k, c): sympy.simplify(e.subs(sym, R(v))) for k, c, e in out.triples()}
    return {k: val for k, val in vals.items() if val != 0}


def _symbolic(make, sym, *, rule="all", ymax=None, **kw) -> AssocArray:
    return _net(make, sym, rule=rule, ymax=ymax).infer(_x("SYM"), arith="symbolic", **kw).output


def _agrees_with_exact(make, sym, values, *, rule="all", ymax=None, **kw) -> AssocArray:
    out = _symbolic(make, sym, rule=rule, ymax=ymax, **kw)
    for v in values:
        assert _at(out, sym, v) == _exact(make, v, rule=rule, ymax=ymax), v
    return out


# ------------------------------------------------------------------ item 4
def _weight_t_bias_1(p):
    return [[("h", "x", p)]], [{"h": 1}]


def test_nonzero_rule_symbolic_bias_not_added_where_wy_vanishes():
    # W y = t vanishes at t = 0, where the rule adds no bias: the answer is 0 there, not 1
    with pytest.raises(SymbolicSignError,
                       match=r"W y = t is zero.*neuron 'h' of layer 0 \(input 'i'\)"):
        _symbolic(_weight_t_bias_1, t, rule="nonzero")
    out = _agrees_with_exact(_weight_t_bias_1, t, ["-2", "-1", "-1/2", "0", "1/3", "2"],
                             rule="nonzero", relu="piecewise")
    assert out.get("h", "i").subs(t, 0) == 0
    assert out.get("h", "i") == sympy.Piecewise((0, sympy.Eq(t, 0)),
                                                (sympy.Max(0, t + 1), True))


def test_nonzero_rule_symbolic_decided_by_bounds_and_assumptions():
    # provably nonzero: the bias is added
    out = _agrees_with_exact(_weight_t_bias_1, t, ["1/2", "1", "2"], rule="nonzero",
                             bounds={t: ("1/2", 2)})
    assert out.get("h", "i") == t + 1
    tp = sympy.Symbol("t", positive=True)
    assert _symbolic(_weight_t_bias_1, tp, rule="nonzero").get("h", "i") == tp + 1
    # provably zero on the box: no bias, the neuron is silent
    silent = _symbolic(_weight_t_bias_1, t, rule="nonzero", bounds={t: (0, 0)})
    assert silent.to_dict() == {"z0": {"i": 1}}
    # may vanish: a Piecewise (the ReLU decided on the other branch), recorded as such
    net = _net(_weight_t_bias_1, t, rule="nonzero")
    res = net.infer(_x("SYM"), arith="symbolic", relu="piecewise", bounds={t: (0, 2)},
                    record=True)
    want = sympy.Piecewise((0, sympy.Eq(t, 0)), (t + 1, True))
    assert res.output.get("h", "i") == want and res.layers[0].pre.get("h", "i") == want
    with pytest.raises(SymbolicSignError, match="do not decide"):
        net.infer(_x("SYM"), arith="symbolic", bounds={t: (0, 2)})


def test_nonzero_rule_symbolic_without_bias_needs_no_case():
    def make(p):
        return [[("h", "x", p)]], [{}]

    out = _agrees_with_exact(make, t, ["-1", "0", "1"], rule="nonzero", relu="piecewise")
    assert out.get("h", "i") == sympy.Max(0, t)
    assert _symbolic(make, t, rule="nonzero", bounds={t: (0, 2)}).get("h", "i") == t


def test_nonzero_rule_symbolic_through_a_max_of_an_earlier_layer():
    # h = max(0, t) vanishes for t <= 0: o gets its bias only for t > 0
    def make(p):
        return [[("h", "x", p)], [("o", "h", 1)]], [{}, {"o": 1}]

    out = _agrees_with_exact(make, t, ["-1", "-1/2", "0", "1/2", "1"], rule="nonzero",
                             relu="piecewise", bounds={t: (-1, 1)})
    m = sympy.Max(0, t)
    assert out.get("o", "i") == sympy.Piecewise((0, sympy.Eq(m, 0)), (m + 1, True))


# ------------------------------------------------------------------ item 7
def test_bounds_decide_pre_activations_containing_a_max():
    # h = Max(0, t - 1/2) (undecided on [0, 1]); o = h + 1 > 0 and g = h - 1 < 0 are decided
    def make(p):
        return ([[("h", "x", p)], [("o", "h", 1), ("g", "h", 1)]],
                [{"h": R(-1, 2)}, {"o": 1, "g": -1}])

    out = _agrees_with_exact(make, t, ["0", "1/4", "1/2", "3/4", "1"], relu="piecewise",
                             bounds={t: (0, 1)})
    assert out.get("o", "i") == sympy.Max(0, t - R(1, 2)) + 1
    assert out.to_dict().keys() == {"o", "z1"}


def test_bounds_decide_pre_activations_containing_an_undecided_cap():
    # h = Min(t, 1/2) (the cap undecided on [0, 1]); h - 1 < 0 and 1 - h >= 1/2 (so capped)
    # decided, m = h stays below the cap; 2h - 1/2 changes sign at t = 1/4:
    # SymbolicSignError, or Max with relu='piecewise'
    def make(p):
        return ([[("h", "x", p)],
                 [("o", "h", 1), ("g", "h", -1), ("m", "h", 1), ("k", "h", 2)]],
                [{}, {"o": -1, "g": 1, "k": R(-1, 2)}])

    half = R(1, 2)
    out = _agrees_with_exact(make, t, ["0", "1/4", "1/3", "1/2", "1"], ymax=half,
                             relu="piecewise", bounds={t: (0, 1)})
    assert out.get("g", "i") == half and out.get("o", "i") == 0
    assert out.get("m", "i") == sympy.Min(t, half)
    assert out.get("k", "i") == sympy.Max(0, 2 * sympy.Min(t, half) - half)
    with pytest.raises(SymbolicSignError, match=r"neuron 'k' of layer 1 \(input 'i'\)"):
        _symbolic(make, t, ymax=half, bounds={t: (0, 1)})
    # where the bounds decide the cap, no Min is left
    assert _symbolic(make, t, ymax=half, bounds={t: (1, 2)}).get("m", "i") == half


def test_bounds_decide_non_polynomial_weights():
    def make(p):
        w = 1 / (p + 2)
        return [[("h", "x", w), ("g", "x", w)]], [{"h": R(-1, 3), "g": R(-2, 5)}]

    # 1/(b+2) - 1/3 is in [0, 1/6] on [0, 1]: decided; 1/(b+2) - 2/5 changes sign at b = 1/2
    with pytest.raises(SymbolicSignError, match=r"neuron 'g' of layer 0"):
        _symbolic(make, b, bounds={b: (0, 1)})
    out = _agrees_with_exact(make, b, ["0", "1/3", "1/2", "2/3", "1"], relu="piecewise",
                             bounds={b: (0, 1)})
    assert out.get("h", "i") == 1 / (b + 2) - R(1, 3)
    assert out.get("g", "i") == sympy.Max(0, 1 / (b + 2) - R(2, 5))
    out = _agrees_with_exact(make, b, ["0", "1/4", "2/5"], bounds={b: (0, "2/5")})
    assert out.get("g", "i") == 1 / (b + 2) - R(2, 5)


def test_box_range_declines_non_polynomials_instead_of_raising():
    assert box_range(sympy.Max(0, t) + 1, {t: (0, 1)}) is None
    assert box_range(1 / (t + 2), {t: (0, 1)}) is None
    assert box_range(sympy.Min(t, R(1, 2)), {t: (0, 1)}) is None


def test_signs_decides_exactly_where_it_can():
    a, c = sympy.symbols("a c")
    assert signs(t**2 - t, {t: (0, 1)}) == {-1, 0}            # exact roots, not intervals
    assert signs(t**2 - t + R(1, 5), {t: (0, 1)}) == ALL     # two roots inside
    assert signs(t**2 - t + R(1, 5), {t: (R(1, 3), R(2, 3))}) == {-1}
    assert signs(t**2 - t + R(1, 4), {t: (0, 1)}) == {0, 1}   # a double root at 1/2
    assert signs(sympy.Max(0, t) - t, {t: (-1, 1)}) == {0, 1}
    assert signs(sympy.Abs(t) + 1, {t: (-1, 1)}) == {1}
    assert signs((t - 1) / (t + 2), {t: (2, 3)}) == {1}
    assert signs(a**2 * c + 1, {a: (-1, 1), c: (-R(1, 2), 1)}) == {1}
    assert signs(sympy.Piecewise((t, t > 0), (-t, True)), {t: (-1, 1)}) == {0, 1}
    assert signs(t - R(1, 2), {t: (0, 1)}) == ALL
    assert signs(t) == ALL and signs(sympy.Symbol("p", positive=True)) == {1}
    assert signs(1 / t, {t: (-1, 1)}) == ALL                   # undefined at 0: undecided
    with pytest.raises(SymdnnError, match="empty"):
        signs(t, {t: (1, 0)})


def test_signs_is_sound_on_random_expressions():
    # every sign the expression takes at sample points of the box is in the answer
    rng = random.Random(10)
    x, y = sympy.symbols("x y")

    def expr(d):
        if d == 0 or rng.random() < 0.3:
            return rng.choice([x, y, R(rng.randint(-3, 3), rng.randint(1, 3))])
        u, v = expr(d - 1), expr(d - 1)
        return rng.choice([u + v, u * v, u - v, sympy.Max(u, v), sympy.Min(u, v),
                           sympy.Piecewise((u, v > 0), (v, True)), u / (v**2 + 1)])

    decided = 0
    for _ in range(60):
        e = expr(3)
        box = {}
        for s in (x, y):
            lo = R(rng.randint(-4, 2), 2)
            box[s] = (lo, lo + R(rng.randint(0, 4), 2))
        got = signs(e, box)
        decided += got != ALL
        for _ in range(12):
            pt = {s: lo + (hi - lo) * R(rng.randint(0, 6), 6) for s, (lo, hi) in box.items()}
            v = e.subs(pt)
            assert v.is_Rational and (v.p > 0) - (v.p < 0) in got, (e, box, pt)
    assert decided > 30


# ------------------------------------------------------------------ item 10
def _with_biases(c, bias_of):
    """The construction with every layer's bias given explicitly (``bias_of(l, neuron, b)``)."""
    net = c.net
    biases = [{k: bias_of(l, k, v) for k, v in ly.bias.items()} for l, ly in enumerate(net.layers)]
    net2 = SparseDNN.from_layers([ly.W for ly in net.layers], biases,
                                 neurons=[net.inputs] + [ly.outputs for ly in net.layers])
    return dataclasses.replace(c, net=net2)


def _selected_at(c, cat, feature, r) -> bool:
    feats = sorted(c.feature_sets()[cat])
    vals = [r if f == feature else 1 for f in feats]
    Y0 = AssocArray.from_triples(feats, [cat] * len(feats), vals, domain="QQ")
    out = {k: v for k, _, v in c.net.infer(Y0).output.triples()}
    best = max(out.values(), default=0)
    return best > 0 and out.get(cat) == best and sum(v == best for v in out.values()) == 1


def test_analyze_explicit_biases_matches_exact_inference():
    c = selective(["abcd", "abce", "bcde"], "pairs", ["4/5", 1])
    same = _with_biases(c, lambda l, k, v: v)                 # the beta biases, given as such
    rep, ref = analyze(same), analyze(c)
    assert [ly.beta for ly in same.net.layers] == [None, None] and rep.exact
    assert [p.r_d for p in rep.pairs] == [p.r_d for p in ref.pairs]
    assert all(p.closed_form is None and p.agrees is None and "explicit bias" in p.note
               for p in rep.pairs)
    d = rep.to_json()
    assert d["betas"] == [None, None] and d["closed_form_agrees"] is None
    assert rep.to_csv().splitlines()[1].split(",")[5] == ""    # agrees: not applicable
    # biases no beta makes: neuron-dependent, so the thresholds differ from pair to pair
    shift = {0: flint.fmpq(0), 1: flint.fmpq(-1, 10), 2: flint.fmpq(1, 20)}
    odd = _with_biases(c, lambda l, k, v: v + shift[sum(map(ord, str(k))) % 3] if l == 0
                       else v)
    rep = analyze(odd)
    assert len({p.r_d for p in rep.pairs}) > 1
    eps = flint.fmpq(1, 10**6)
    for p in rep.pairs:
        assert p.r_d is not None
        assert _selected_at(odd, p.category, p.feature, 2)
        assert _selected_at(odd, p.category, p.feature, p.r_d + eps)
        assert not _selected_at(odd, p.category, p.feature, p.r_d - eps) or p.r_d == 0
        top = p.detect[-1]
        assert _selected_at(odd, p.category, p.feature, p.r_d) == top.lo_closed


def test_closed_form_needs_betas():
    c = selective(["abcd", "abce"], "pairs", ["4/5", 1])
    with pytest.raises(SymdnnError, match="layer 0 has an explicit bias"):
        closed_form(support(c.net, "abcd"), "1a", [None, 1])


# ------------------------------------------------------------------ item 11
def test_threshold_audit_agrees_on_non_dyadic_threshold():
    # chain scheme at beta = 1: r_d = 2/3 for the inner letters (three paths), not a value of
    # any binary format; fp16 and fp8 decide every representable r as exact arithmetic does
    c = selective(["able", "acid", "bake"], "chain")
    res = threshold_audit(c, ["fp16", "fp8_e4m3"])
    for fmt, grid_rd in (("fp16", "1365/2048"), ("fp8_e4m3", "5/8")):
        inner = [p for p in res[fmt]["pairs"] if p["exact_r_d"] == "2/3"]
        assert len(inner) == 6
        for p in inner:
            assert p["mismatches"] == 0 and p["agrees"] is True
            assert p["exact_grid_r_d"] == p["float_r_d"] == grid_rd
        # the outer letters (r_d = 0) really do differ: a tiny r is lost in 1 + r
        assert all(p["agrees"] is (p["mismatches"] == 0) for p in res[fmt]["pairs"])
        assert res[fmt]["agree"] == sum(p["agrees"] for p in res[fmt]["pairs"]) >= 6


# ------------------------------------------------------------------ item 12
def test_cli_threshold_refuses_network_that_is_not_exact(capsys):
    assert main(["threshold", "--builtin", "words4", "--scheme", "chain",
                 "--beta", "1/2,3/4,1", "--json"]) == 1
    cap = capsys.readouterr()
    d = json.loads(cap.out)
    assert d["exact"] is False and d["thresholds"] is None and d["pairs"] == []
    assert "dies at layer 1" in d["reason"] and "NOT an exact solution" in cap.err
    assert "--force" in cap.err


def test_cli_threshold_force_gives_flagged_thresholds(tmp_path, capsys):
    (tmp_path / "w.txt").write_text("able\nacid\nbake\n")
    args = ["threshold", "--words", str(tmp_path / "w.txt"), "--scheme", "chain",
            "--beta", "1/2,3/4,1"]
    assert main(args + ["--csv", str(tmp_path / "t.csv")]) == 1
    cap = capsys.readouterr()
    assert "r_d:" not in cap.out and "dies at layer 1" in cap.err
    assert not (tmp_path / "t.csv").exists()
    assert main(args + ["--force"]) == 0
    cap = capsys.readouterr()
    assert "WARNING: NOT an exact solution" in cap.out and "r_d:" in cap.out
    assert "--force" in cap.err
    assert main(args + ["--force", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["exact"] is False and "dies at layer 1" in d["reason"]
    assert d["thresholds"]["able"] == [None, "3/2", "3/2", None]
