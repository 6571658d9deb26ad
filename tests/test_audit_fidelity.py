"""The audit never alters what it audits: a foreign run receives back exactly the object it
returned, unsorted and unconverted, so its findings are those of the run the implementation
makes on its own. The reference rule is chained here in plain scipy, outside symdnn, and its
ReLU decisions are counted against the exact pre-activations; the audit of the same callable
must count the same, layer by layer (issue 13: 336 exact zeros turned positive over the first
30 Graph Challenge layers, 48 of them in layer 5; sorting the indices between layers gave 352
and 64)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from symdnn.audit import Run, audit_graph_challenge, audit_network
from symdnn.engines import exact as EX
from symdnn.io import read_images, read_layer
from tests.datafiles import gc_images, gc_layer
from tests.test_audit import dyadic_net


def reference_rule(W, bias, Y):
    """The Graph Challenge reference rule in plain scipy, written for this test: Y W, the bias
    on the stored entries, ReLU, the cap at 32; the result exactly as scipy returns it."""
    Z = Y @ W
    Z.data += bias[Z.indices]
    Z.data[Z.data < 0] = 0
    Z.data[Z.data > 32] = 32
    Z.eliminate_zeros()
    return Z


def exact_pre_activations(gc_dir, layers, images):
    """Per layer, the sorted keys (row * 1024 + neuron) of the exact pre-activations and
    their signs, from the exact engine (checked against a Fraction oracle elsewhere)."""
    Y0 = read_images(gc_images(gc_dir), 1024)[:images].tocsr()
    Y0.sort_indices()
    st = EX.start(Y0.indptr.astype(np.int64), Y0.indices.astype(np.int64),
                  Y0.data.astype(np.int64), 1, Y0.shape)
    out = []
    for l in range(1, layers + 1):
        g = read_layer(gc_layer(gc_dir, l), 1024)
        lay = EX.ExactLayer(g.N, g.d, np.full(1024, -3, dtype=object), 10)
        st, info = EX.step(st, lay, rule="nonzero", cap=(32, 1), record=True)
        ptr, idx, num, _ = info.pre
        rows = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        keys = rows * 1024 + np.asarray(idx, dtype=np.int64)
        sign = np.sign(np.asarray(num, dtype=object).astype(float)).astype(int)
        o = np.argsort(keys)
        out.append((keys[o], sign[o]))
    return Y0, out


def test_the_audit_counts_what_the_run_does_on_its_own(gc_dir):
    L, images = 30, 1200
    Y0, exact = exact_pre_activations(gc_dir, L, images)
    # the run on its own, outside symdnn: each layer fed exactly its own previous output
    Y = sp.csr_matrix(Y0.astype(np.float64))
    bias = np.full(1024, -0.3)
    own_zero_to_pos, own_flips = [], []
    unsorted_seen = False
    for l in range(1, L + 1):
        g = read_layer(gc_layer(gc_dir, l), 1024)
        W = sp.csr_matrix((g.N.data * 0.0625, g.N.indices, g.N.indptr), shape=g.N.shape)
        Y = reference_rule(W, bias, Y)
        unsorted_seen |= not Y.has_sorted_indices
        C = Y.tocoo()
        active = np.zeros(images * 1024, dtype=bool)
        active[C.row.astype(np.int64) * 1024 + C.col] = C.data > 0
        keys, sign = exact[l - 1]
        own_zero_to_pos.append(int(np.count_nonzero((sign == 0) & active[keys])))
        own_flips.append(int(np.count_nonzero((sign != 0) & ((sign > 0) != active[keys]))))
    assert unsorted_seen, "scipy returned sorted indices: the test would prove nothing"
    assert sum(own_zero_to_pos) == 336 and own_zero_to_pos[4] == 48  # issue 13's numbers
    # the same callable, audited; it records what it receives and what it returns
    received, returned, snapshots = [], [], []

    def audited(W, bias, Y):
        received.append(Y)
        out = reference_rule(W, bias, Y)
        returned.append(out)
        snapshots.append((out.indptr.copy(), out.indices.copy(), out.data.copy()))
        return out

    rep = audit_graph_challenge(str(gc_dir), layers=L, images=images,
                                runs=[Run.layer_callable(audited, "fp64", "scipy")])
    js = rep.to_json()["runs"]["scipy"]
    assert js["zero_to_pos"] == own_zero_to_pos
    assert js["sign_flip"] == own_flips
    # fidelity, directly: each layer got the previous layer's object, untouched
    assert all(received[l] is returned[l - 1] for l in range(1, L))
    for out, (ptr, idx, data) in zip(returned, snapshots, strict=True):
        assert np.array_equal(out.indptr, ptr) and np.array_equal(out.indices, idx)
        assert np.array_equal(out.data, data)


def _active_keys(Y, images):
    """Positions (row * 1024 + neuron) a run's output holds positive, read in the test."""
    if sp.issparse(Y):
        C = Y.tocoo()
        r, c, v = C.row, C.col, C.data
    else:  # a graphblas.Matrix
        r, c, v = Y.to_coo()
    active = np.zeros(images * 1024, dtype=bool)
    active[np.asarray(r, dtype=np.int64) * 1024 + np.asarray(c, dtype=np.int64)] = \
        np.asarray(v) > 0
    return active


def test_graphblas_and_scipy_runs_audited_as_they_run_on_their_own(gc_dir):
    from fractions import Fraction

    from symdnn.audit.foreign import graphblas_layer, scipy_layer
    from tests.oracle import round_value

    L, images = 10, 600
    Y0, exact = exact_pre_activations(gc_dir, L, images)
    fns = {"graphblas-fp64": (graphblas_layer("fp64"), "fp64"),
           "graphblas-fp32": (graphblas_layer("fp32"), "fp32"),
           "scipy-fp32": (scipy_layer(np.float32), "fp32")}
    own = {}
    for name, (fn, fmt) in fns.items():  # each chained on its own outputs, outside the audit
        b = float(round_value(Fraction(-3, 10), fmt))
        Y = sp.csr_matrix(Y0.astype(np.float64))
        counts = []
        for l in range(1, L + 1):
            g = read_layer(gc_layer(gc_dir, l), 1024)
            W = sp.csr_matrix((g.N.data * 0.0625, g.N.indices, g.N.indptr), shape=g.N.shape)
            Y = fn(W, np.full(1024, b), Y)
            active = _active_keys(Y, images)
            keys, sign = exact[l - 1]
            counts.append((int(np.count_nonzero((sign == 0) & active[keys])),
                           int(np.count_nonzero((sign != 0) & ((sign > 0) != active[keys])))))
        own[name] = counts
    rep = audit_graph_challenge(str(gc_dir), layers=L, images=images, runs=[
        Run.layer_callable(fn, fmt, name) for name, (fn, fmt) in fns.items()])
    js = rep.to_json()["runs"]
    for name in fns:
        assert list(zip(js[name]["zero_to_pos"], js[name]["sign_flip"], strict=True)) == \
            own[name], name
    # what these implementations do (the README's numbers are for all 1200 images)
    assert sum(js["graphblas-fp64"]["zero_to_pos"]) > 0
    assert sum(js["graphblas-fp32"]["zero_to_pos"]) == 0
    assert js["graphblas-fp32"]["categories_match_exact"]


def test_every_kind_of_output_is_read_without_being_changed():
    net, Y0 = dyadic_net()
    seen = []

    def as_dense(W, bias, Y):  # returns a NumPy array, receives it back
        seen.append(type(Y))
        A = Y.toarray() if sp.issparse(Y) else np.array(Y)
        Z = A @ W.toarray()
        Z = np.where(Z != 0, Z + bias[None, :], 0.0)
        Z = np.minimum(np.maximum(Z, 0), 32)
        Z.setflags(write=False)  # any write by the audit would raise
        return Z

    def as_coo_reversed(W, bias, Y):  # COO, entries in reverse order
        Z = (sp.csr_matrix(Y) @ W).tocoo()
        Z.data = Z.data + bias[Z.col]
        keep = Z.data > 0
        Z = sp.coo_matrix((np.minimum(Z.data[keep], 32)[::-1],
                           (Z.row[keep][::-1], Z.col[keep][::-1])), shape=Z.shape)
        for a in (Z.data, Z.row, Z.col):
            a.setflags(write=False)
        return Z

    rep = audit_network(net, Y0, formats=["fp64"],
                        runs=[Run.format("fp64"), Run.layer_callable(as_dense, "fp64", "dense"),
                              Run.layer_callable(as_coo_reversed, "fp64", "coo")])
    js = rep.to_json()["runs"]
    assert seen[0] is sp.csr_matrix and all(t is np.ndarray for t in seen[1:])
    for name in ("dense", "coo"):  # the dyadic network is exact in fp64, whatever the order
        assert js[name]["totals"]["max_ulp"] == 0 and js[name]["totals"]["sign_flip"] == 0
        assert js[name]["categories"] == js["fp64"]["categories"]


@pytest.mark.parametrize("bad, message", [
    (lambda Z: Z[:, :-1], "returned shape"),
    (lambda Z: np.where(Z > 0, np.nan, Z), "not finite"),
    (lambda Z: Z.astype(complex), "complex"),
])
def test_a_malformed_output_is_a_clear_error_naming_run_and_layer(bad, message):
    from symdnn.errors import SymdnnError

    net, Y0 = dyadic_net()

    def fn(W, bias, Y):
        A = Y.toarray() if sp.issparse(Y) else Y.real
        Z = np.maximum(A[:, :W.shape[0]] @ W.toarray() + bias[None, :], 0)
        return bad(Z) if W.shape[1] == len(net.layers[2].outputs) and fn.calls == 2 else Z

    calls = {"n": 0}

    def counted(W, bias, Y):
        fn.calls = calls["n"]
        calls["n"] += 1
        return fn(W, bias, Y)

    with pytest.raises(SymdnnError, match=rf"run 'x', layer 3: .*{message}"):
        audit_network(net, Y0, formats=[], runs=[Run.layer_callable(counted, "fp64", "x")])


def test_a_duplicate_entry_in_a_returned_matrix_is_refused():
    from symdnn.audit.runner import entries
    from symdnn.errors import SymdnnError

    Y = sp.coo_matrix((np.array([1.0, 2.0]), (np.array([0, 0]), np.array([1, 1]))),
                      shape=(1, 2))
    with pytest.raises(SymdnnError, match="row 1, column 2 .* stored twice"):
        entries(Y, (1, 2), "layer 1")


def test_onnxruntime_every_layer_audited_against_a_fraction_oracle(tmp_path):
    """An ONNX export run by onnxruntime, every layer returned; its ReLU decisions counted
    here against tests/oracle.py (Fraction arithmetic), and the audit must count the same."""
    pytest.importorskip("onnxruntime")
    from fractions import Fraction

    from symdnn import AssocArray, SparseDNN
    from symdnn.audit.foreign import onnx_network, write_onnx
    from tests.oracle import evaluate

    rng = np.random.default_rng(21)
    n, L, B = 12, 4, 24
    neurons = [[f"x{j}" for j in range(n)]] + [[f"L{l}n{i}" for i in range(n)]
                                                for l in range(1, L + 1)]
    Ws, biases, layers = [], [], []
    for l in range(L):
        w = {}
        for i in range(n):
            for j in rng.choice(n, size=4, replace=False):
                w[(neurons[l + 1][i], neurons[l][j])] = Fraction(
                    int(rng.choice([-1, 1, 1])) * int(rng.integers(1, 6)), 10)
        b = {o: Fraction(-1, 10) for o in neurons[l + 1]}
        Ws.append(AssocArray.from_triples([i for (_, i) in w], [o for (o, _) in w],
                                          list(w.values()), domain="QQ"))
        biases.append(b)
        layers.append((w, b, neurons[l + 1]))
    net = SparseDNN.from_layers(Ws, biases, convention="row", bias_rule="all", ymax=32,
                                domain="QQ", neurons=neurons)
    X = rng.random((B, n)) < 0.5
    inputs = {f"s{k:02d}": {neurons[0][j]: Fraction(1) for j in np.flatnonzero(X[k])}
              for k in range(B)}
    Y0 = AssocArray.from_triples([b for b, f in inputs.items() for _ in f],
                                 [k for f in inputs.values() for k in f],
                                 [1] * int(X.sum()), domain="QQ")
    path = write_onnx(net, str(tmp_path / "m.onnx"))
    fn = onnx_network(path, every_layer=True)
    rep = audit_network(net, Y0, runs=[Run.network_callable(fn, "fp32", "ort")])
    js = rep.to_json()["runs"]["ort"]
    # the same outputs, counted here against the oracle's exact pre-activations
    batch = list(rep.batch)
    feats = sorted(neurons[0])
    Xin = np.array([[1.0 if f in inputs[b] else 0.0 for f in feats] for b in batch])
    outs = fn(__import__("scipy.sparse", fromlist=["csr_matrix"]).csr_matrix(Xin))
    exact = evaluate(layers, inputs, rule="all", cap=Fraction(32))
    want = []
    for l in range(L):
        cols = sorted(neurons[l + 1])
        ztp = sum(1 for r, b in enumerate(batch) for c, o in enumerate(cols)
                  if exact.pre[l][b][o] == 0 and outs[l][r, c] > 0)
        want.append(ztp)
    assert js["zero_to_pos"] == want
    assert sum(rep.exact_zero) > 0 and sum(want) > 0  # exact zeros decided, some wrongly
