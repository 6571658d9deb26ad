"""Work the audit shares: one product ``Y W`` for the runs whose activations, weights and
kernel agree, and sorted keys looked up by one merge. Sharing must change nothing: every
finding of every run is that of the run audited alone, where nothing can be shared, and the
lookups are checked against a dictionary."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symdnn.audit import Run
from symdnn.audit import runner as RN
from symdnn.audit.compare import _lookup
from symdnn.audit.runner import ExactRun, RunSteps
from symdnn.engines import LayerStream
from symdnn.engines import floating as FL
from tests.datafiles import GC_FIXTURE, GC_FIXTURE_LAYERS
from tests.netgen import random_inputs, random_net

SHARING = [Run.format("fp32"), Run.format("fp16", "fp32"), Run.format("bf16", "fp32"),
           Run.format("fp64"), Run.format("fp16", "fp64"), Run.format("bf16"),
           Run.format("fp16"), Run.format("fp8_e4m3", "fp32")]


def _findings(stream, runs):
    """Every run's findings, layer by layer, and its categories, from one RunSteps."""
    ex, steps = ExactRun(stream), RunSteps(stream, runs)
    for l, lay in enumerate(stream.layers(), 1):
        steps.step(l, lay, *ex.step(lay))
    out = []
    for res in steps.finish(ex.final(), ex.width, ex.names):
        out.append(([(ly.to_json(), ly.ulp_hist, ly.examples) for ly in res.layers],
                    res.categories.tolist(), res.argmax))
    return out


def _stream(name):
    if name == "graph-challenge fixture":
        return LayerStream.from_graph_challenge(GC_FIXTURE, layers=GC_FIXTURE_LAYERS,
                                                images=40)
    if name == "radixnet":
        return LayerStream.from_radixnet("radixnet:1024:6:3", images=24)
    seed, rule = (3, "all") if name == "random all" else (8, "nonzero")
    net = random_net(seed, L=5, n=10, rule=rule, per_neuron_bias=seed == 8)
    return LayerStream.from_network(net, random_inputs(net, seed, 9))


@pytest.mark.parametrize("name", ["graph-challenge fixture", "radixnet", "random all",
                                  "random nonzero"])
def test_shared_products_change_no_finding(name, monkeypatch):
    """Eight runs, five of them accumulating in fp32 or fp64 alike, audited together (where
    products are shared) and each alone (where none can be): the same findings, bit for bit.
    On the Graph Challenge's networks (weights 1/16) products really are shared; the random
    networks' thirds keep every format's activations apart."""
    stream = _stream(name)
    made = []
    real = FL.float_product
    monkeypatch.setattr(RN, "float_product", lambda *a, **k: made.append(1) or real(*a, **k))
    together = _findings(stream, SHARING)
    if name in ("graph-challenge fixture", "radixnet"):
        assert len(made) < len(SHARING) * stream.depth  # shared at least once
    alone = [_findings(stream, [r])[0] for r in SHARING]
    assert together == alone


def test_a_product_is_shared_only_with_the_same_kernel_and_bits():
    """The same Y and W but another kernel, or a W whose zero has the other sign, or a NaN:
    a product of its own."""
    Y = sp.csr_matrix(np.array([[1.0, 2.0], [0.0, 3.0]]))
    W = sp.csr_matrix(np.array([[0.5, 0.0], [0.25, 1.0]]))
    from symdnn.domains import get_domain

    fp16, fp32, fp64 = (get_domain(f) for f in ("fp16", "fp32", "fp64"))
    made: list = []
    A = RunSteps._product(made, Y, W, fp16, fp32)
    assert RunSteps._product(made, Y.astype(np.float32), W.astype(np.float32), fp32,
                             fp32) is A  # fp32 and fp16 accumulating in fp32: one kernel
    assert RunSteps._product(made, Y, W, fp16, fp64) is not A  # another width
    assert RunSteps._product(made, Y, W, fp16, fp16) is not A  # in the format
    W0 = W.copy()
    W0.data[0] = -0.0
    W1 = W.copy()
    W1.data[0] = 0.0
    assert not RN._same_csr(W0, W1) and RN._same_csr(W1, W1.astype(np.float32))
    Wn = W.copy()
    Wn.data[0] = np.nan
    assert not RN._same_csr(Wn, Wn.copy())  # a NaN is never the same
    assert not RN._same_csr(W, W[:, :1])


sorted_keys = st.lists(st.integers(0, 60), max_size=40, unique=True).map(
    lambda v: np.array(sorted(v), dtype=np.int64))


@settings(max_examples=300, deadline=None)
@given(sorted_keys, sorted_keys)
def test_lookup_by_merge_against_a_dictionary(keys, where):
    pos, found = _lookup(keys, where)
    at = {int(k): i for i, k in enumerate(keys)}
    assert found.tolist() == [int(w) in at for w in where]
    assert [int(p) for p, f in zip(pos, found, strict=True) if f] == \
        [at[int(w)] for w in where if int(w) in at]
    assert all(0 <= p < max(len(keys), 1) for p in pos)  # absent ones: a valid index


def test_lookup_of_unsorted_wheres_and_large_keys():
    keys = np.array([3, 2**40, 2**62], dtype=np.int64)
    where = np.array([2**62, 5, 3, 2**40 + 1], dtype=np.int64)  # not sorted: searched
    pos, found = _lookup(keys, where)
    assert found.tolist() == [True, False, True, False] and pos[0] == 2 and pos[2] == 0
    pos, found = _lookup(keys, np.sort(where))
    assert found.tolist() == [True, False, False, True] and pos[0] == 0 and pos[3] == 2


@pytest.mark.parametrize("fmt,acc", [("fp32", "fp16"), ("fp64", "bf16"), ("fp16", "bf16"),
                                     ("bf16", "fp8_e4m3")])
def test_an_accumulation_symdnn_has_no_kernel_for_is_refused(fmt, acc):
    """scipy multiplies in fp32 and fp64 only: a run asking for another accumulation than
    its own format is refused by name, not left to fail inside scipy."""
    from symdnn.errors import ArgumentError

    with pytest.raises(ArgumentError, match=f"cannot accumulate in {acc}"):
        Run.format(fmt, acc)
    assert Run.format(fmt, "fp64").accumulate == "fp64"
    assert Run.format(fmt).accumulate == fmt


# ------------------------------------------- a float layer of a narrow format, against the oracle
@settings(max_examples=60, deadline=None)
@given(fmt=st.sampled_from(["fp16", "bf16", "fp8_e4m3", "fp8_e5m2"]),
       acc=st.sampled_from(["fp32", "fp64", None]), rule=st.sampled_from(["nonzero", "all"]),
       bits=st.lists(st.tuples(st.integers(0, 2**16 - 1), st.integers(0, 2**16 - 1)),
                     min_size=1, max_size=12), capped=st.booleans())
def test_a_narrow_float_layer_rounds_each_bias_sum_once(fmt, acc, rule, bits, capped):
    """One float layer (y times 1, plus b) in fp16, bf16 or fp8: each pre-activation is the
    exact y + b rounded once into the format, each activation its ReLU capped at 2, against
    the standard-library oracle (``tests/oracle.py``). The sums that float32 holds but the
    format does not (1 + 2**-11 in fp16, say) are where a missing rounding shows."""
    from symdnn.domains import get_domain
    from tests import oracle as O

    f = O.FORMATS[fmt]
    width = 1 + f.exp_bits + f.man_bits
    pairs = []
    for a, b in bits:
        ya, yb = (O.bits_to_fraction(x % (1 << width), fmt) for x in (a, b))
        if isinstance(ya, Fraction) and isinstance(yb, Fraction) and ya != 0:
            pairs.append((ya, yb))
    if not pairs:
        return
    n = len(pairs)
    Y = sp.csr_matrix(np.array([[float(y) for y, _ in pairs]]))
    W = sp.identity(n, format="csr", dtype=np.float64)
    bias = np.array([float(b) for _, b in pairs])
    dom = get_domain(fmt)
    acc_dom = get_domain(acc or fmt)
    cap = 2.0 if capped else None
    out, pre = FL.float_step(Y, W, bias, rule=rule, cap=cap, dom=dom, acc=acc_dom, record=True)
    want_pre = [O.round_value(y + b, fmt) for y, b in pairs]
    if not all(isinstance(v, Fraction) for v in want_pre):
        return  # overflow to infinity or NaN: not what this test is about
    assert [Fraction(float(v)) for v in pre[2]] == want_pre
    want_post = {j: min(v, Fraction(2)) if capped else v for j, v in enumerate(want_pre) if v > 0}
    got = out.tocoo()
    assert {int(c): Fraction(float(v)) for c, v in zip(got.col, got.data, strict=True)} == \
        want_post


def test_one_plus_half_an_ulp_in_fp16_is_one():
    """The case the property above aims at, spelt out: 1 + 2**-11 is a tie in fp16 (it rounds
    to the even 1) but a float32 value; 1 + 3 * 2**-12 rounds up."""
    from symdnn.domains import get_domain

    Y = sp.csr_matrix(np.array([[1.0, 1.0]]))
    W = sp.identity(2, format="csr", dtype=np.float64)
    bias = np.array([2.0**-11, 3 * 2.0**-12])
    out, pre = FL.float_step(Y, W, bias, rule="nonzero", cap=None, dom=get_domain("fp16"),
                             acc=get_domain("fp32"), record=True)
    assert pre[2].tolist() == [1.0, 1.0 + 2.0**-10]


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "fp8_e4m3", "fp8_e5m2"])
@pytest.mark.parametrize("rule", ["all", "nonzero"])
def test_a_cap_that_is_no_value_of_the_format_is_rounded_into_it(fmt, rule):
    """float_step's cap is rounded into the format, as its values are: 0.1 caps at the
    format's rounding of 0.1 (the oracle's), never at float32's 0.1 (found by an attack);
    a cap beyond fp8_e4m3's range is its NaN."""
    from symdnn.domains import get_domain
    from tests import oracle as O

    Y = sp.csr_matrix(np.array([[1.0]]))
    W = sp.csr_matrix(np.array([[1.0]]))
    dom = get_domain(fmt)
    out, _ = FL.float_step(Y, W, np.array([-0.5]), rule=rule, cap=0.1, dom=dom, acc=dom)
    assert [Fraction(v) for v in out.data] == [O.round_value(Fraction(0.1), fmt)]
    out, _ = FL.float_step(Y, W, np.array([-0.5]), rule=rule, cap=1000.0, dom=dom, acc=dom)
    want = O.round_value(Fraction(1, 2), fmt) if O.round_value(1000, fmt) != O.NAN else O.NAN
    got = out.data.tolist()
    assert (np.isnan(got).all() and got) if want == O.NAN else \
        [Fraction(v) for v in got] == [want]


def test_a_layer_is_compared_once_and_only_after_it_is_advanced():
    """RunSteps.compare refuses a layer advance did not step (or one compared already)."""
    from symdnn.errors import SymdnnError

    stream = LayerStream.from_radixnet("radixnet:1024:2", images=3)
    ex, steps = ExactRun(stream), RunSteps(stream, [Run.format("bf16")])
    lay = next(stream.layers())
    pre, post = ex.step(lay)
    with pytest.raises(SymdnnError, match="layer 1 compared before it was advanced"):
        steps.compare(1, lay, pre, post)
    steps.advance(1, lay)
    steps.compare(1, lay, pre, post)
    with pytest.raises(SymdnnError, match="before it was advanced"):
        steps.compare(1, lay, pre, post)
    assert len(steps.results[0].layers) == 1
