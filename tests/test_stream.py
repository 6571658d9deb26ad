"""The one layer stream (symdnn.engines.LayerStream) that the audit, certificates, suites and the
Graph Challenge run all start from, checked against a plain-Fraction forward pass written here.

The hard cases: inputs and weights beyond 2**64 (a copy that casts numerators to int64, as the
suite's private copy once did, overflows or wraps), a bias for each input cut into row chunks,
a cap, the nonzero-entry bias rule, and a stream sent to another process by its recipe.
"""

from __future__ import annotations

import pickle
from fractions import Fraction

import numpy as np
import pytest

from symdnn import SparseDNN
from symdnn.assoc import AssocArray
from symdnn.audit import audit_network, audit_stream
from symdnn.certify import certify, certify_stream
from symdnn.engines import LayerStream
from symdnn.engines import exact as EX
from symdnn.errors import ArgumentError, SymdnnError
from symdnn.io.netdir import write_network
from symdnn.parallel import exact_pass
from symdnn.suite import build_suite, verify_suite
from tests.datafiles import GC_FIXTURE as GC_SMALL

BIG = 2**70 + 1  # beyond int64 and uint64


def forward(weights, biases, x, *, rule="all", cap=None):
    """The network's function in plain Fractions: ``y_j = h(sum_i x_i W_ij + b_j)``, the bias
    on every neuron (rule "all") or only where ``sum_i x_i W_ij`` is nonzero; ReLU; cap."""
    for W, b in zip(weights, biases, strict=True):
        out = {}
        for j in {j for (_, j) in W}:
            z = sum((x.get(i, 0) * w for (i, jj), w in W.items() if jj == j), Fraction(0))
            if rule == "all" or z != 0:
                z += b.get(j, 0)
            y = max(z, Fraction(0))
            if cap is not None:
                y = min(y, cap)
            if y:
                out[j] = y
        x = out
    return x


def _net(weights, biases, **kw):
    Ws = [AssocArray.from_triples([i for (i, _) in W], [j for (_, j) in W],
                                  [str(v) for v in W.values()], domain="QQ") for W in weights]
    return SparseDNN.from_layers(Ws, [{k: str(v) for k, v in b.items()} for b in biases],
                                 convention="row", domain="QQ", **kw)


def _inputs(rows):
    trip = [(r, f, v) for r, x in rows.items() for f, v in x.items()]
    return AssocArray.from_triples([t[0] for t in trip], [t[1] for t in trip],
                                   [str(t[2]) for t in trip], domain="QQ")


def _outputs(state, batch, keys):
    ptr, idx, num, s = EX.values_of(state)
    out = {b: {} for b in batch}
    for r in range(len(batch)):
        for k in range(ptr[r], ptr[r + 1]):
            out[batch[r]][keys[idx[k]]] = Fraction(int(num[k]), s)
    return out


# a network with mixed magnitudes: a weight beyond 2**64, one of 1/2**70, a bias that needs
# both, and three inputs, one of them beyond 2**64
WEIGHTS = [
    {("a", "p"): Fraction(BIG), ("b", "p"): Fraction(-1, 3), ("b", "q"): Fraction(1, 2**70),
     ("c", "q"): Fraction(5)},
    {("p", "u"): Fraction(1, BIG), ("q", "u"): Fraction(-7, 2), ("q", "v"): Fraction(3)},
]
BIASES = [{"p": Fraction(-1, 7), "q": Fraction(BIG, 3)}, {"u": Fraction(1, 2), "v": Fraction(-2)}]
INPUTS = {"x1": {"a": Fraction(BIG), "b": Fraction(3, 5)},
          "x2": {"b": Fraction(-9), "c": Fraction(1, 3)},
          "x3": {"a": Fraction(1, 2**64), "c": Fraction(-BIG, 11)}}


def test_network_stream_inputs_are_the_exact_values_unrounded():
    st = LayerStream.from_network(_net(WEIGHTS, BIASES), _inputs(INPUTS))
    indptr, indices, nums, shape = st.inputs
    got = {}
    for r in range(shape[0]):
        for k in range(indptr[r], indptr[r + 1]):
            got[(st.batch[r], st.input_keys[indices[k]])] = Fraction(int(nums[k]), st.scale)
    assert got == {(b, f): v for b, x in INPUTS.items() for f, v in x.items()}
    assert st.batch == ("x1", "x2", "x3") and st.depth == 2 and st.width == 3


def test_exact_pass_of_a_network_stream_matches_the_fraction_oracle():
    st = LayerStream.from_network(_net(WEIGHTS, BIASES), _inputs(INPUTS))
    state, _ = exact_pass(st, threads=2, kernel="scipy")
    expect = {b: forward(WEIGHTS, BIASES, x) for b, x in INPUTS.items()}
    assert _outputs(state, st.batch, ("u", "v")) == expect


def test_rows_of_a_stream_are_the_rows_of_the_whole_run():
    st = LayerStream.from_network(_net(WEIGHTS, BIASES), _inputs(INPUTS))
    part = st.rows(1, 3)
    assert part.batch == ("x2", "x3") and part.window == (1, 3)
    state, _ = exact_pass(part, threads=1, kernel="scipy")
    assert _outputs(state, part.batch, ("u", "v")) == {
        b: forward(WEIGHTS, BIASES, INPUTS[b]) for b in ("x2", "x3")}
    # rows of rows count from the part, and the window from the whole
    assert part.rows(1, 2).batch == ("x3",) and part.rows(1, 2).window == (2, 3)


def test_a_bias_for_each_input_is_cut_with_the_rows():
    W = [{("a", "p"): Fraction(1), ("b", "p"): Fraction(2), ("a", "q"): Fraction(-1)}]
    inputs = {"i1": {"a": Fraction(1)}, "i2": {"a": Fraction(2)}, "i3": {"b": Fraction(1)}}
    B = {"i1": {"p": Fraction(-1, 2), "q": Fraction(2)}, "i2": {"p": Fraction(-3), "q": 5},
         "i3": {"p": Fraction(BIG), "q": Fraction(1, 3)}}  # a bias for each input
    trip = [(k, n, v) for k, b in B.items() for n, v in b.items()]
    Bfull = AssocArray.from_triples([t[0] for t in trip], [t[1] for t in trip],
                                    [str(t[2]) for t in trip], domain="QQ")
    net = SparseDNN.from_layers([AssocArray.from_triples(["a", "b", "a"], ["p", "p", "q"],
                                                         ["1", "2", "-1"], domain="QQ")],
                                [Bfull], convention="row", domain="QQ")
    st = LayerStream.from_network(net, _inputs(inputs))
    assert st.per_input_bias
    for a, b in ((0, 3), (1, 3), (2, 3), (0, 1)):
        part = st.rows(a, b)
        state, _ = exact_pass(part, threads=1, kernel="scipy")
        assert _outputs(state, part.batch, ("p", "q")) == {
            k: forward(W, [B[k]], inputs[k]) for k in part.batch}
        _, fb = next(part.layers()).float_weights("fp64")
        assert fb.shape == (b - a, 2)
        assert [Fraction(float(v)) for v in fb[:, 0]] == [Fraction(float(B[k]["p"]))
                                                          for k in part.batch]


def test_graph_challenge_stream_is_the_official_network():
    st = LayerStream.from_graph_challenge(GC_SMALL, layers=2, images=7)
    assert (st.rule, st.cap, st.scale, st.kind) == ("nonzero", Fraction(32), 1, "graph-challenge")
    assert st.batch == tuple(range(1, 8)) and st.input_keys == tuple(range(1, 1025))
    lay = next(st.layers())
    assert Fraction(int(lay.exact.nb[0]), lay.exact.db) == Fraction(-3, 10)
    # the bias rounded once into fp16: the fp16 value nearest -3/10
    _, b = lay.float_weights("fp16")
    near = Fraction(float(b[0]))
    up, down = np.nextafter(np.float16(b[0]), np.float16(1)), \
        np.nextafter(np.float16(b[0]), np.float16(-1))
    assert all(abs(near + Fraction(3, 10)) < abs(Fraction(float(n)) + Fraction(3, 10))
               for n in (up, down))


def test_a_stream_pickles_as_its_recipe_and_keeps_its_window():
    for st in (LayerStream.from_network(_net(WEIGHTS, BIASES), _inputs(INPUTS)),
               LayerStream.from_graph_challenge(GC_SMALL, layers=2, images=5),
               LayerStream.from_radixnet("radixnet:1024:2:5", images=6)):
        part = st.rows(1, 3)
        back = pickle.loads(pickle.dumps(part))
        assert back.batch == part.batch and back.window == part.window
        for x, y in zip(back.inputs[:3], part.inputs[:3], strict=True):
            assert [int(v) for v in x] == [int(v) for v in y]
        a, b = exact_pass(back, threads=1, kernel="scipy")[0], \
            exact_pass(part, threads=1, kernel="scipy")[0]
        assert [int(v) for v in a.ints()] == [int(v) for v in b.ints()] and a.s == b.s


def test_a_stream_without_a_recipe_refuses_to_pickle_and_rows_are_checked():
    st = LayerStream.from_radixnet("radixnet:1024:1", images=3)
    with pytest.raises(ArgumentError, match="rows 2..5 outside"):
        st.rows(2, 5)
    import dataclasses

    bare = dataclasses.replace(st, recipe=None)
    with pytest.raises(SymdnnError, match="cannot be sent to another process"):
        pickle.dumps(bare)


def test_audit_and_certify_of_a_stream_are_those_of_the_network():
    net, Y = _net(WEIGHTS, BIASES), _inputs(INPUTS)
    st = LayerStream.from_network(net, Y)
    a = audit_stream(st, formats=["fp32"], threads=1).to_json()
    b = audit_network(net, Y, formats=["fp32"], threads=2).to_json()
    for rep in (a, b):
        rep.pop("seconds", None)
        for run in rep["runs"].values():
            run.pop("seconds", None)
    assert a == b
    c1 = certify_stream(st, ["fp64", "bf16"]).to_json()
    c2 = certify(net, Y, formats=["fp64", "bf16"]).to_json()
    c1.pop("seconds", None)
    c2.pop("seconds", None)
    assert c1 == c2


def test_a_suite_keeps_inputs_beyond_int64(tmp_path):
    """The suite's private copy of the stream cast input numerators to int64: an input
    beyond 2**63 failed. Now the suite runs the one stream, exact at any size (its layer
    files are read back with the Graph Challenge reader, whose numerators stay below 2**62:
    a weight beyond that is refused by name, not written into a suite that cannot verify)."""
    weights = [{k: (v if abs(v.numerator) < 2**40 and v.denominator < 2**40 else Fraction(3, 4))
                for k, v in W.items()} for W in WEIGHTS]
    net = _net(weights, BIASES)
    write_network(tmp_path / "net", net, inputs=_inputs(INPUTS))
    suite = build_suite(tmp_path / "net", tmp_path / "suite", formats=("fp64",), threads=1)
    assert verify_suite(suite).ok
    write_network(tmp_path / "big", _net(WEIGHTS, BIASES), inputs=_inputs(INPUTS))
    with pytest.raises(ArgumentError, match="layer 1: a weight's numerator"):
        build_suite(tmp_path / "big", tmp_path / "suite2", formats=("fp64",), threads=1)
    assert not (tmp_path / "suite2").exists()
    got = {}
    for line in (suite / "expected" / "exact.tsv").read_text().splitlines():
        r, c, v = line.split("\t")
        got[(int(r), int(c))] = Fraction(v)
    expect = {}
    for r, b in enumerate(("x1", "x2", "x3"), 1):
        for k, v in forward(weights, BIASES, INPUTS[b]).items():
            expect[(r, ("u", "v").index(k) + 1)] = v
    assert got == expect


# ---- what a hostile review of the stream found (each failed before its fix) ---------------

def test_the_recipe_holds_the_resolved_batch_keys_not_the_callers_object():
    """A stream sent to a worker must be the stream here: the recipe once kept the caller's
    batch= object, so an iterator failed to pickle and a list changed after the fact gave the
    worker other rows (and a silently different dask audit)."""
    net, Y = _net(WEIGHTS, BIASES), _inputs(INPUTS)
    keys = ["x1", "x2", "x3", "x4"]  # x4: an all-zero input
    st = LayerStream.from_network(net, Y, batch=keys)
    keys.insert(0, "x0")
    back = pickle.loads(pickle.dumps(st.rows(1, 3)))
    assert back.batch == st.rows(1, 3).batch == ("x2", "x3")
    it = LayerStream.from_network(net, Y, batch=iter(["x3", "x1", "x2"]))
    assert pickle.loads(pickle.dumps(it)).batch == it.batch == ("x1", "x2", "x3")


def test_a_suite_of_a_challenge_folder_does_not_read_its_truth(tmp_path):
    import shutil

    folder = tmp_path / "gc"
    shutil.copytree(GC_SMALL, folder)
    truth = next(folder.glob("*categories*"))
    truth.rename(folder / truth.name.replace("-l12-", "-l2-"))  # the truth of 2 layers...
    (folder / truth.name.replace("-l12-", "-l2-")).write_text("152\nxyz\n")  # ...unreadable
    suite = build_suite(folder, tmp_path / "suite", formats=("fp32",), neurons=1024,
                        layers=2, threads=1)                      # a suite has no use for it
    assert verify_suite(suite).ok
    with pytest.raises(SymdnnError, match=r"categories.*:2: "):
        LayerStream.from_graph_challenge(folder, layers=2)        # the run does read it


def test_images_beyond_an_inputs_file_are_refused(tmp_path):
    import scipy.sparse as sp

    from symdnn.io import write_images

    p = tmp_path / "in.tsv"
    write_images(p, sp.csr_matrix(np.eye(3, 1024, dtype=np.int64)))
    assert LayerStream.from_graph_challenge(GC_SMALL, layers=1, inputs=p, images=2).batch == (1, 2)
    with pytest.raises(ArgumentError, match="4 images asked for, but .*in.tsv holds 3"):
        LayerStream.from_graph_challenge(GC_SMALL, layers=1, inputs=p, images=4)


def test_certify_stream_refuses_what_certify_refuses():
    from symdnn.errors import DomainError

    W = [{("a", "p"): Fraction(1)}]
    capped = _net(W, [{"p": Fraction(1, 2)}], ymax="0")
    with pytest.raises(SymdnnError, match="the cap YMAX must be positive, not 0"):
        certify_stream(LayerStream.from_network(capped, _inputs({"i": {"a": Fraction(1)}})),
                       ["fp16"])
    floaty = SparseDNN.from_layers([AssocArray.from_triples(["a"], ["p"], [0.5],
                                                            domain="fp64")], [{"p": 0.25}],
                                   convention="row", domain="fp64")
    with pytest.raises(DomainError, match="needs an exact network .* not one over fp64"):
        LayerStream.from_network(floaty, AssocArray.from_triples(["i"], ["a"], [1.0],
                                                                 domain="fp64"))


def test_run_stream_is_for_challenge_streams_and_rows_keep_image_numbers():
    from symdnn.challenge import run_challenge, run_stream

    st = LayerStream.from_network(_net(WEIGHTS, BIASES), _inputs(INPUTS))
    with pytest.raises(ArgumentError, match="for a SparseDNN use symdnn.infer"):
        run_stream(st)
    whole = run_challenge(str(GC_SMALL), layers=12, threads=1, kernel="scipy")
    assert whole.categories.tolist() == [152, 153, 155] and whole.matches
    part = run_challenge(str(GC_SMALL), layers=12, rows=(150, 155), threads=1,
                         kernel="scipy")
    assert part.categories.tolist() == [152, 153, 155] and part.matches  # image numbers
    early = run_challenge(str(GC_SMALL), layers=12, rows=(0, 151), threads=2, kernel="scipy")
    assert early.categories.tolist() == [] and early.matches


def test_rows_must_be_integers():
    st = LayerStream.from_radixnet("radixnet:1024:1", images=4)
    for a, b in ((1.0, 3), (True, 3), ("1", 3), (None, 2)):
        with pytest.raises(ArgumentError, match="rows must be two integers"):
            st.rows(a, b)
    assert st.rows(np.int64(1), np.int32(3)).window == (1, 3)
    assert type(st.rows(np.int64(1), 3).window[0]) is int
