"""The exact engine with its activations resident in GraphBLAS (issue 16, the fast path of the
``graphblas`` kernel): every layer's values against a plain-Fraction oracle, and the path,
bound and denominator against the scipy engine's, on the cases the fast path decides itself
(the bias on nonzeros, cancellations to an exact zero, caps that are fractions, int64 values)
and on those it hands back to the engine (huge numbers, a bias that differs by neuron).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

from symdnn.engines import exact as EX
from tests.oracle import evaluate

pytest.importorskip("graphblas")
from symdnn.engines import resident as RS  # noqa: E402


def _layers(seed, *, n=12, L=5, wq=4, num=(-3, -1, 1, 2), bias=Fraction(-3, 10), rows=9,
            density=0.5, big=1):
    """Random integer-over-``wq`` weights (numerators times ``big``) with one bias for every
    neuron, as engine layers (row convention) and as the oracle's dicts (column convention),
    and integer inputs."""
    rng = np.random.default_rng(seed)
    eng, orc = [], []
    for _ in range(L):
        M = (rng.random((n, n)) < density) * rng.choice(num, (n, n)) * big
        W = sp.csr_matrix(M.astype(np.int64))
        nb = None if bias is None else np.full(n, bias.numerator, dtype=object)
        eng.append(EX.ExactLayer(W, wq, nb, 1 if bias is None else bias.denominator))
        weights = {(o, i): Fraction(int(M[i, o]), wq) for i in range(n) for o in range(n)
                   if M[i, o]}
        orc.append((weights, {} if bias is None else {o: bias for o in range(n)},
                    list(range(n))))
    X = ((rng.random((rows, n)) < 0.6) * rng.integers(1, 4, (rows, n))).astype(np.int64)
    return eng, orc, X


def _dense_layers(mats, d=1, bias=None):
    """Engine layers and oracle dicts of integer matrices (row convention) over ``d``."""
    n = mats[0].shape[1]
    eng = [EX.ExactLayer(sp.csr_matrix(np.asarray(M).astype(np.int64)), d,
                         None if bias is None else np.full(n, bias.numerator, dtype=object),
                         1 if bias is None else bias.denominator) for M in mats]
    orc = [({(o, i): Fraction(int(M[i, o]), d) for i in range(M.shape[0])
             for o in range(M.shape[1]) if M[i, o]},
            {} if bias is None else {o: bias for o in range(n)}, list(range(n))) for M in mats]
    return eng, orc


def _start(X):
    Y = sp.csr_matrix(X)
    Y.sort_indices()
    return EX.start(Y.indptr.astype(np.int64), Y.indices.astype(np.int64),
                    Y.data.astype(np.int64), 1, Y.shape)


def _values(st):
    st = RS.as_state(st)
    rows = np.repeat(np.arange(st.shape[0]), np.diff(st.indptr))
    return {(int(r), int(c)): Fraction(int(v), st.s)
            for r, c, v in zip(rows, st.indices, st.ints(), strict=True)}


def _check(eng, orc, X, *, rule, cap):
    """Layer by layer: the resident values equal the oracle's, and the path, bound and
    denominator equal the scipy engine's. Returns the number of layers the fast path handed
    to the engine."""
    ref = evaluate(orc, {r: {i: Fraction(int(X[r, i])) for i in range(X.shape[1]) if X[r, i]}
                         for r in range(X.shape[0])}, rule=rule, cap=cap,
                   batch=list(range(X.shape[0])))
    capt = None if cap is None else (cap.numerator, cap.denominator)
    a = b = _start(X)
    handed = 0
    for l, lay in enumerate(eng):
        with pytest.MonkeyPatch.context() as mp:
            real, calls = EX.step, []
            mp.setattr(EX, "step", lambda *a, calls=calls, real=real, **k:
                       calls.append(1) or real(*a, **k))
            a, ia = RS.advance(a, lay, rule=rule, cap=capt)
        handed += len(calls)
        b, ib = EX.step(b, lay, rule=rule, cap=capt, kernel="scipy")
        assert (ia.path, ia.bound_bits, ia.s) == (ib.path, ib.bound_bits, ib.s), l
        assert RS.as_state(a).s == b.s
        assert _values(a) == ref.nonzero_post(l) == _values(b), l
    return handed


@pytest.mark.parametrize("rule", ["nonzero", "all"])
@pytest.mark.parametrize("bias", [Fraction(-3, 10), Fraction(0), Fraction(1, 7), None])
@pytest.mark.parametrize("cap", [None, Fraction(32), Fraction(7, 3)])
def test_every_layer_equals_the_fraction_oracle(rule, bias, cap):
    for seed in range(3):
        eng, orc, X = _layers(seed, bias=bias)
        handed = _check(eng, orc, X, rule=rule, cap=cap)
        if not (rule == "all" and bias is not None and bias > 0):
            assert handed == 0  # the fast path took every layer
        else:  # a positive bias on every neuron makes the layer dense: the engine's
            assert handed == len(eng)


def test_cancellation_to_an_exact_zero_gets_no_bias_under_the_nonzero_rule():
    """``1/4 - 1/4 = 0``: GraphBLAS stores the zero; a positive bias must skip it."""
    W = sp.csr_matrix(np.array([[1, 1], [-1, 1]], dtype=np.int64))
    lay = EX.ExactLayer(W, 4, np.array([1, 1], dtype=object), 2)  # bias 1/2
    st, _ = RS.advance(_start(np.array([[1, 1]])), lay, rule="nonzero", cap=None)
    assert _values(st) == {(0, 1): Fraction(1, 2) + Fraction(1, 2)}  # column 0 is 0
    st, _ = RS.advance(_start(np.array([[1, 1]])), lay, rule="all", cap=None)
    assert _values(st) == {(0, 0): Fraction(1, 2), (0, 1): Fraction(1)}  # 0 + 1/2 under "all"


def test_int64_values_stay_resident_and_divide_exactly():
    """Numerators near 2**50: the bound is past 2**53 but below 2**62 (the int64 path)."""
    eng, orc, X = _layers(5, n=8, L=1, wq=3, num=(1, 2), big=1 << 49, bias=Fraction(-1, 6))
    st, info = RS.advance(_start(X), eng[0], rule="nonzero", cap=None)
    assert info.path == "int64" and isinstance(st, RS.Resident) and st.kind == "int64"
    assert _check(eng, orc, X, rule="nonzero", cap=None) == 0


def test_values_past_2_62_go_to_the_engine_and_come_back():
    """2**40 weights grow a value past int64 (limbs, in the engine); a layer that kills it
    leaves small values, and the state returns to GraphBLAS."""
    up = np.array([[1 << 40, 0], [0, 1]], dtype=object)
    kill = np.array([[-1, 0], [0, 1]], dtype=object)
    eng, orc = _dense_layers([up, up, kill, np.eye(2, dtype=object)])
    X = np.array([[1 << 15, 3]], dtype=np.int64)
    st, paths = _start(X), []
    for lay in eng:
        st, info = RS.advance(st, lay, rule="nonzero", cap=None)
        paths.append((info.path, type(st).__name__))
    assert paths == [("int64", "Resident"), ("limbs", "ExactState"),
                     ("limbs", "Resident"), ("float64", "Resident")]
    assert _values(st) == {(0, 1): Fraction(3)}
    assert _check(eng, orc, X, rule="nonzero", cap=None) == 2  # the two limbs layers


def test_empty_batch_empty_rows_and_an_empty_layer():
    eng, orc, X = _layers(2, n=6, L=3)
    X[1:3] = 0
    _check(eng, orc, X, rule="nonzero", cap=Fraction(5))
    _check(eng, orc, X[:0], rule="nonzero", cap=Fraction(5))
    empty = EX.ExactLayer(sp.csr_matrix((6, 6), dtype=np.int64), 4,
                          np.full(6, -1, dtype=object), 3)
    st, info = RS.advance(_start(X), empty, rule="nonzero", cap=None)
    assert st.nnz == 0 and info.s == 1
    st, _ = RS.advance(st, eng[0], rule="nonzero", cap=None)
    assert st.nnz == 0


def test_a_bias_that_differs_by_neuron_goes_to_the_engine():
    W = sp.csr_matrix(np.array([[1, 2], [3, 1]], dtype=np.int64))
    lay = EX.ExactLayer(W, 4, np.array([-1, -7], dtype=object), 4)
    st, _ = RS.advance(_start(np.array([[1, 1], [2, 0]])), lay, rule="nonzero", cap=None)
    assert isinstance(st, RS.Resident)  # converted back after the engine's step
    # (1 + 3)/4 - 1/4 and 2/4 - 1/4; the second neuron's (2 + 1)/4 - 7/4 and 4/4 - 7/4 die
    assert _values(st) == {(0, 0): Fraction(3, 4), (1, 0): Fraction(1, 4)}


def test_an_iso_product_from_graphblas(monkeypatch):
    """GraphBLAS may hand back one stored value for all entries (an iso matrix)."""
    from graphblas.core.ss.matrix import ss

    real = ss.export

    def export(self, *args, **kw):
        d = real(self, *args, **kw)
        v = d["values"]
        if len(v) > 1 and np.all(v == v[0]):
            d = dict(d, values=v[:1].copy(), is_iso=True)
        return d

    monkeypatch.setattr(ss, "export", export)
    P = sp.csr_matrix(np.eye(5, dtype=np.int64)[[1, 2, 3, 4, 0]])  # a permutation
    lay = EX.ExactLayer(P, 2, np.full(5, -1, dtype=object), 8)  # y/2 - 1/8
    st, _ = RS.advance(_start(np.full((3, 5), 2)), lay, rule="nonzero", cap=None)
    assert _values(st) == {(r, c): Fraction(7, 8) for r in range(3) for c in range(5)}


def test_the_graph_challenge_values_equal_the_scipy_engine():
    from symdnn.challenge import run_challenge
    from tests.datafiles import gc_folder

    gc = gc_folder(layers=20, images=60)
    a = run_challenge(str(gc), layers=20, images=60, kernel="graphblas")
    b = run_challenge(str(gc), layers=20, images=60, kernel="scipy", threads=1)
    assert a.paths == b.paths and _values(a.final) == _values(b.final)


def test_the_common_factor_is_that_of_every_value_not_of_the_first_ones():
    """The first 64 values are even and the 81st is odd: 2 divides the first ones only, so
    nothing may be divided out (a sample of the values proposes a factor, all must confirm)."""
    X = np.full((100, 1), 2, dtype=np.int64)
    X[80, 0] = 3
    lay = EX.ExactLayer(sp.csr_matrix(np.ones((1, 1), dtype=np.int64)), 2, None, 1)  # y/2
    st, info = RS.advance(_start(X), lay, rule="nonzero", cap=None)
    assert info.s == 2
    assert _values(st) == {(r, 0): Fraction(3 if r == 80 else 2, 2) for r in range(100)}
    X[80, 0] = 4  # now 2 divides every value
    st, info = RS.advance(_start(X), lay, rule="nonzero", cap=None)
    assert info.s == 1 and _values(st)[(80, 0)] == 2


def test_a_cap_of_zero_over_a_denominator_past_2_64():
    """Every value capped to 0: the common factor is the whole denominator, past int64
    (found by review: the scipy engine's division overflowed)."""
    st0 = EX.start(np.array([0, 2]), np.array([0, 1]), np.array([3, 4]), 5, (1, 2))
    lay = EX.ExactLayer(sp.csr_matrix(np.ones((2, 2), dtype=np.int64)), 2**65 + 1, None, 1)
    a, ia = RS.advance(st0, lay, rule="nonzero", cap=(0, 1))
    b, ib = EX.step(st0, lay, rule="nonzero", cap=(0, 1), kernel="scipy")
    assert (ia.path, ia.s) == (ib.path, ib.s) == ("float64", 1)
    assert _values(a) == _values(b) == {(0, 0): 0, (0, 1): 0}
