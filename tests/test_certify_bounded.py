"""Certify never crashes on an exact network (issue 25, items 11 and 12), and stays sound.

Two crashes found by the review, each a small exact network for which a certificate
(certified or not) is expected:

* a neuron of a rule-``"all"`` layer with no bias and no incoming weight from any input
  that is present, while the layer input's numerators pass 2**62 (the exact engine's limb
  path): ``RuntimeError`` "an exact pre-activation outside the bound's pattern";
* a cap whose numerator, scaled to the layer's denominator, passes int64 (``ymax = 7/3``
  beside a bias ``1/2**61``): ``OverflowError`` in the margins.

Then hypothesis families aimed at the same corners: numerators past 2**62, 2**63 and 2**64
in exactly one layer, neurons with no incoming weight that fire on their bias alone, caps
whose scaled denominators pass int64, tiny dyadic biases beside thirds, mixed magnitudes.
Each example asserts that :func:`symdnn.certify.certify` returns a certificate, and that
every decision it certifies agrees with the float runs of :mod:`tests.certify_model` (random
orders and trees, via :func:`tests.test_certify.check_runs`) and, for neurons of at most
four terms, with every summation order and tree (:func:`tests.certify_model.all_sums`).
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import certify_model as CM
from tests import hardvalues as H
from tests.test_certify import check_runs

F = Fraction


def _item11() -> H.NetSpec:
    """Issue 25, item 11: the input of layer 2 is 1 + 2**-62 (numerator past 2**62), and
    layer 2's only neuron ``o`` has its one weight from ``g``, which is never present."""
    layers = [({("h", "a"): F(1)}, {"h": F(1, 2 ** 62)}, ["h", "g"]),
              ({("o", "g"): F(1)}, {}, ["o"])]
    return H.NetSpec(layers, [["a"], ["h", "g"], ["o"]], "all", None, {"x": {"a": F(1)}},
                     ["x"])


def _item12(rule: str = "all") -> H.NetSpec:
    """Issue 25, item 12: the cap 7/3 over the layer's denominator 3 * 2**61 is
    7 * 2**61, past int64."""
    layers = [({("h", "a"): F(1)}, {"h": F(1, 2 ** 61)}, ["h"])]
    return H.NetSpec(layers, [["a"], ["h"]], rule, F(7, 3), {"x": {"a": F(1, 4)}}, ["x"])


# ------------------------------------------------------------------- the two crashes
@pytest.mark.parametrize("fmt,acc", [("fp32", None), ("fp16", None), ("fp64", None),
                                     ("bf16", "same")])
def test_item11_a_neuron_with_no_present_input_beside_numerators_past_2_62(fmt, acc):
    seen = check_runs(_item11(), fmt, acc, runs=6, exhaustive=True)
    assert seen["checked"] > 0 and seen["complete"]


@pytest.mark.parametrize("rule", ["all", "nonzero"])
@pytest.mark.parametrize("fmt,acc", [("fp32", None), ("fp16", None), ("fp64", None)])
def test_item12_a_cap_past_int64_at_the_layers_denominator(rule, fmt, acc):
    seen = check_runs(_item12(rule), fmt, acc, runs=6, exhaustive=True)
    assert seen["checked"] > 0 and seen["complete"]


def test_all_sums_are_every_tree():
    """The exhaustive model: 1 + 2**-53 + 2**-53 in fp64 is 1 in one tree (ties to even,
    twice) and 1 + 2**-52 in the other; three terms have three trees, four have fifteen."""
    e = F(1, 2 ** 53)
    assert CM.all_sums([F(1), e, e], "fp64") == {F(1), 1 + 2 * e}
    assert CM.all_sums([F(1), F(2), F(4), F(8)], "fp64") == {F(15)}
    assert CM.all_sums([], "fp16") == {F(0)}


# ------------------------------------------------------------------ random families
#: the formats: fp32 (the issue's), fp16 storing and summing in fp32 or in itself, bf16,
#: fp64, fp8 (every rounding shows)
ARITHS = [("fp32", None), ("fp16", None), ("fp16", "same"), ("bf16", None), ("fp64", None),
          ("fp8_e4m3", "same")]
NORMAL_W = [F(1), F(-1), F(2), F(1, 2), F(1, 3), F(-2, 5), F(3, 4), F(5)]
NORMAL_B = [F(0), F(1, 3), F(-1, 3), F(1, 4), F(-1, 2), F(7, 3)]
MIXED = [F(2 ** 20), F(1, 2 ** 20), F(-3, 2 ** 30), F(10 ** 6, 3)]
INPUTS = [F(1), F(1, 4), F(3), F(1, 3), F(1, 2 ** 10), F(-1, 3), F(-2)]
CAPS = [F(7, 3), F(1, 3), F(5, 7), F(2), F(10, 3), F(2 ** 70, 3), F(1, 2 ** 52)]


def _past(e: int) -> list:
    """Values whose numerators pass ``2**e`` over a layer's common denominator."""
    t = F(1, 2 ** e)
    return [t, -t, 1 + t, 1 - t, F(3, 2 ** (e - 1)), F(2 ** e + 1)]


@st.composite
def bounded_nets(draw, *, cap_bias: bool = False, bias_alone: bool = False) -> H.NetSpec:
    """A network of 1 to 3 layers of 1 to 3 neurons (so at most three products a neuron:
    every order can be tried) where exactly one layer's weights or biases make numerators
    pass 2**62, 2**63, 2**64 or 2**65. ``bias_alone``: some neurons have no incoming weight
    and fire on their bias (or not). ``cap_bias``: a cap with an odd denominator beside
    biases ``1/2**61`` and the like, so that the cap scaled to the layer's denominator
    passes int64."""
    L = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 3)) for _ in range(L + 1)]
    big = draw(st.integers(0, L - 1))
    e = draw(st.sampled_from([61, 62, 63, 64, 65]))
    rule = draw(st.sampled_from(["all", "nonzero"]))
    cap = draw(st.sampled_from(CAPS)) if cap_bias else draw(st.none() | st.sampled_from(CAPS))
    mixed = draw(st.booleans())
    neurons = [[f"L{l}n{i}" for i in range(w)] for l, w in enumerate(widths)]
    layers = []
    for l in range(L):
        wpool = NORMAL_W + (MIXED if mixed else []) + (_past(e) if l == big else [])
        bpool = NORMAL_B + (MIXED if mixed else []) + (_past(e) if l == big else [])
        if cap_bias and l == big:
            bpool = [F(1, 2 ** e), F(-1, 2 ** e), F(1, 2 ** 61)]
        w, b = {}, {}
        for o in neurons[l + 1]:
            alone = bias_alone and draw(st.booleans())
            for i in neurons[l]:
                if not alone and draw(st.booleans()):
                    w[(o, i)] = draw(st.sampled_from(wpool))
            bv = draw(st.sampled_from(bpool))
            if bv != 0:
                b[o] = bv
        layers.append((w, b, neurons[l + 1]))
    batch = [f"x{k}" for k in range(draw(st.integers(1, 2)))]
    inputs = {k: {f: draw(st.sampled_from(INPUTS)) for f in neurons[0]
                  if draw(st.integers(0, 3))} for k in batch}
    return H.NetSpec(layers, neurons, rule, cap, inputs, batch)


_RUNS = {"networks": 0, "runs": 0}


def _sound(s: H.NetSpec, arith: tuple) -> None:
    """Certify returns a certificate, and no float run of the model (random orders, and
    every order and tree of every neuron) contradicts a decision it certifies."""
    seen = check_runs(s, arith[0], arith[1], runs=2, exhaustive=True, limit=300)
    _RUNS["networks"] += 1
    _RUNS["runs"] += seen["runs"]


@settings(max_examples=100)
@given(bounded_nets(), st.sampled_from(ARITHS))
def test_numerators_past_int64_in_one_layer(s, arith):
    _sound(s, arith)


@settings(max_examples=100)
@given(bounded_nets(bias_alone=True), st.sampled_from(ARITHS))
def test_neurons_with_no_incoming_weight_fire_on_their_bias(s, arith):
    _sound(s, arith)


@settings(max_examples=100)
@given(bounded_nets(cap_bias=True), st.sampled_from(ARITHS))
def test_caps_whose_scaled_denominators_pass_int64(s, arith):
    _sound(s, arith)


@pytest.mark.slow
@settings(max_examples=2000)
@given(bounded_nets(bias_alone=True, cap_bias=True) | bounded_nets() |
       bounded_nets(bias_alone=True), st.sampled_from(ARITHS))
def test_sweep_of_every_family(s, arith):
    _sound(s, arith)
