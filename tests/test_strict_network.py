"""Networks and inputs that used to be accepted silently with a different meaning (issue 11):
inputs over features the network does not read, biases for neurons it does not declare."""

from __future__ import annotations

import pytest

from symdnn import AssocArray, SparseDNN
from symdnn.errors import KeyMismatch


def _net(**kw):
    W = AssocArray.from_triples(["o"], ["a"], [1], domain="QQ")
    return SparseDNN.from_layers([W], [{"o": "-1/2"}], **kw)


def test_inputs_keyed_by_unknown_features_are_refused():
    Y = AssocArray.from_triples(["a", "typo"], ["x", "x"], [1, 5], domain="QQ")
    with pytest.raises(KeyMismatch, match="'typo'"):
        _net().infer(Y)


def test_bias_for_an_undeclared_neuron_is_refused():
    W = AssocArray.from_triples(["o"], ["a"], [1], domain="QQ")
    with pytest.raises(KeyMismatch, match="'ghost'"):
        SparseDNN.from_layers([W], [{"o": 1, "ghost": 1}], neurons=[["a"], ["o"]])


def test_bias_only_neuron_is_kept_when_neurons_are_not_declared():
    """Without declared neurons a bias key is a neuron with no incoming weight: h(b)."""
    W = AssocArray.from_triples(["o"], ["a"], [1], domain="QQ")
    net = SparseDNN.from_layers([W], [{"o": 1, "p": 2}])
    Y = AssocArray.from_triples(["a"], ["x"], [1], domain="QQ")
    assert net.infer(Y).output.to_dict() == {"o": {"x": 2}, "p": {"x": 2}}
