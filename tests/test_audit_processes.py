"""The audit in worker processes (``jobs``): the report is that of one process, finding for
finding and byte for byte (JSON and Markdown); a worker that fails or dies, a layer file that
cannot be read, or Ctrl-C stops the audit with no output written and no process left behind.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from symdnn.audit import Run, audit_graph_challenge, audit_network
from symdnn.audit import api as API
from symdnn.audit import processes as PR
from symdnn.audit.runner import run_lockstep
from symdnn.engines import LayerStream
from symdnn.errors import SymdnnError
from tests.datafiles import GC_FIXTURE, GC_FIXTURE_IMAGES, GC_FIXTURE_LAYERS
from tests.test_parallel_audit import _report as _json  # the report without its timings

pytestmark = pytest.mark.skipif(not PR.can_fork(), reason="worker processes are forked")
FORMATS = ["fp64", "fp32", "fp16", "bf16"]


def _no_children():
    assert multiprocessing.active_children() == []


@pytest.fixture(scope="module")
def gc_one():
    rep = audit_graph_challenge(str(GC_FIXTURE), layers=GC_FIXTURE_LAYERS, jobs=1, threads=1)
    return _json(rep), rep.to_markdown()


@pytest.mark.parametrize("jobs", [2, 3])
def test_graph_challenge_fixture_identical_in_processes(gc_one, jobs, monkeypatch):
    used = []
    real = API.process_lockstep
    monkeypatch.setattr(API, "process_lockstep", lambda *a, **k: used.append(a[2]) or
                        real(*a, **k))
    rep = audit_graph_challenge(str(GC_FIXTURE), layers=GC_FIXTURE_LAYERS, jobs=jobs)
    assert used == [jobs]  # the workers did run
    assert _json(rep) == gc_one[0]
    assert rep.to_markdown() == gc_one[1]
    # what merges non-trivially across interleaved rows is there
    runs = gc_one[0]["runs"].values()
    assert gc_one[0]["network"]["inputs"] == GC_FIXTURE_IMAGES
    assert sum(len(r["examples"]) for r in runs) > 10
    assert any(r["totals"]["sign_flip"] for r in runs)
    assert not all(r["categories_match_exact"] for r in runs)
    _no_children()


def _same_lockstep(a, b):
    assert a.exact_zero == b.exact_zero and a.exact_pre == b.exact_pre
    assert a.exact_rows.tolist() == b.exact_rows.tolist()
    for x, y in zip(a.results, b.results, strict=True):
        assert [ly.to_json() for ly in x.layers] == [ly.to_json() for ly in y.layers]
        assert [ly.examples for ly in x.layers] == [ly.examples for ly in y.layers]
        assert [ly.ulp_hist for ly in x.layers] == [ly.ulp_hist for ly in y.layers]
        assert x.categories.tolist() == y.categories.tolist()
        assert x.argmax == y.argmax


@pytest.mark.parametrize("jobs", [2, 3, 4])
def test_a_construction_identical_in_processes(jobs):
    """A small exact-solution network, three runs: the parent keeps one or none, the
    workers the rest (one, two or three workers)."""
    from symdnn.constructions import selective

    c = selective(["ab", "cd", "ae", "bf", "ce", "df", "ad"], "single", ["1/3"])
    st = LayerStream.from_network(c.net, c.inputs)
    runs = [Run.format(f) for f in ("fp16", "bf16", "fp8_e4m3")]
    _same_lockstep(PR.process_lockstep(st, runs, jobs), run_lockstep(st, runs))
    _no_children()


def test_a_generated_network_identical_in_processes():
    st = LayerStream.from_radixnet("radixnet:1024:6:3", images=40)
    runs = API.default_runs(FORMATS)
    one = run_lockstep(st, runs)
    assert any(ly.examples for r in one.results for ly in r.layers)
    _same_lockstep(PR.process_lockstep(st, runs, 3), one)


def test_a_bias_for_each_input_identical_in_processes():
    """Runs hold every row: a stream with a bias for each input goes to workers too (rows
    dealt out could not cut it), and its findings are those of one process."""
    from fractions import Fraction

    from symdnn.assoc import AssocArray
    from symdnn.network import SparseDNN

    rng = np.random.default_rng(11)
    keys = [f"x{k}" for k in range(20)]
    trip = [(k, n, str(Fraction(int(rng.integers(-9, 10)), int(rng.integers(1, 8)))))
            for k in keys for n in ("p", "q", "r")]
    B = AssocArray.from_triples(*map(list, zip(*trip, strict=True)), domain="QQ")
    W = AssocArray.from_triples(["a", "b", "a", "c", "b"], ["p", "p", "q", "r", "r"],
                                ["1/3", "2/7", "-1/10", "5/9", "3/11"], domain="QQ")
    net = SparseDNN.from_layers([W], [B], convention="row", domain="QQ")
    Y0 = AssocArray.from_triples([k for k in keys for _ in "abc"], list("abc") * len(keys),
                                 [str(Fraction(int(rng.integers(1, 30)), 7))
                                  for _ in range(3 * len(keys))], domain="QQ")
    st = LayerStream.from_network(net, Y0)
    assert st.per_input_bias
    runs = [Run.format(f) for f in ("fp16", "bf16", "fp8_e5m2")]
    one = run_lockstep(st, runs)
    assert any(ly.max_ulp for r in one.results for ly in r.layers)
    _same_lockstep(PR.process_lockstep(st, runs, 3), one)
    _no_children()


def test_a_network_audit_identical_with_jobs(monkeypatch):
    from symdnn.constructions import selective

    monkeypatch.setattr(API, "MIN_ROWS", 2)  # a batch of 4 is cut too
    c = selective(["ab", "cd", "ae", "bf"], "single", ["1/3"])
    one = audit_network(c.net, c.inputs, jobs=1)
    two = audit_network(c.net, c.inputs, jobs=2)
    assert _json(two) == _json(one) and two.to_markdown() == one.to_markdown()


def test_deal_runs_gives_every_run_once_and_spares_the_parent():
    for n in range(0, 9):
        for jobs in range(1, 6):
            mine, groups = PR.deal_runs(n, jobs)
            dealt = sorted(mine + [i for g in groups for i in g])
            assert dealt == list(range(n))
            assert all(groups) and len(groups) <= max(0, jobs - 1)
            loads = [len(g) for g in groups]
            if groups:  # the parent (reading, exact run) never takes more than a worker
                assert len(mine) + PR.PARENT_LOAD - 1 <= min(loads) + PR.PARENT_LOAD
                assert max(loads) - min(loads) <= 1
    assert PR.deal_runs(4, 2) == ([0], [[1, 2, 3]])


def test_deal_runs_keeps_runs_that_share_products_together():
    """fp32 and the formats accumulating in fp32 share their products: a worker holds them
    all, the parent the run that shares nothing (fp64), wherever it stands in the list."""
    from symdnn.domains import get_domain
    from symdnn.engines.floating import product_key

    runs = [("fp16", "fp32"), ("fp64", "fp64"), ("bf16", "fp32"), ("fp32", "fp32")]
    keys = [product_key(get_domain(f), get_domain(a)) for f, a in runs]
    assert PR.deal_runs(4, 2, keys=keys) == ([1], [[0, 2, 3]])
    mine, groups = PR.deal_runs(4, 3, keys=keys)  # two workers: one key split, none idle
    assert mine == [] and sorted(map(len, groups)) == [2, 2] and [1] not in groups
    for n in range(1, 7):  # any keys: every run once, the counts those of deal_runs(n, jobs)
        for jobs in range(1, 5):
            keys = [k % 3 for k in range(n)]
            mine, groups = PR.deal_runs(n, jobs, keys=keys)
            plain = PR.deal_runs(n, jobs)
            assert sorted(mine + [i for g in groups for i in g]) == list(range(n))
            assert (len(mine), [len(g) for g in groups]) == \
                (len(plain[0]), [len(g) for g in plain[1]])


# ------------------------------------------------------------------ failures stop everything
def test_a_failing_worker_stops_the_audit(monkeypatch):
    def boom(*a, **k):
        raise ValueError("worker failed on purpose")

    monkeypatch.setattr(PR, "RunSteps", boom)  # the forked workers inherit it
    st = LayerStream.from_radixnet("radixnet:1024:2", images=20)
    with pytest.raises(ValueError, match="on purpose"):  # one run: the worker holds it
        PR.process_lockstep(st, [Run.format("fp32")], 2)
    _no_children()


def test_a_worker_that_dies_is_an_error(monkeypatch):
    monkeypatch.setattr(PR, "RunSteps", lambda *a, **k: os._exit(9))  # as kill -9 would
    st = LayerStream.from_radixnet("radixnet:1024:2", images=20)
    with pytest.raises(SymdnnError, match="worker .* died"):
        PR.process_lockstep(st, [Run.format("fp32")], 2)
    _no_children()


def test_a_bad_layer_file_is_refused_as_in_one_process(tmp_path):
    import shutil

    d = tmp_path / "gc"
    shutil.copytree(GC_FIXTURE, d)
    bad = sorted((d / "neuron1024").glob("n1024-l5.*"))[0]
    bad.write_bytes(b"1\t2\tnot-a-number\n")
    errors = []
    for jobs in (1, 2):
        with pytest.raises(SymdnnError) as exc:
            audit_graph_challenge(str(d), layers=GC_FIXTURE_LAYERS, jobs=jobs, threads=1)
        errors.append(str(exc.value))
    assert errors[0] == errors[1] and "n1024-l5" in errors[0]
    _no_children()


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting for its parent counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2:].split()[0] in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_leaves_no_output_and_no_process(tmp_path, monkeypatch):
    """Ctrl-C while the workers run (sent by a worker at its third layer, so it lands there
    every time): exit status 130, no report, no JSON, every worker ended."""
    from tests.forked import run_cli

    pids = tmp_path / "pids"
    real = PR._read_ahead

    def interrupted(conn, *rest):
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\n")
        for l, item in enumerate(real(conn, *rest), 1):
            if l == 5:  # two messages a layer: the third layer's
                os.kill(os.getppid(), signal.SIGINT)
            yield item

    monkeypatch.setattr(PR, "_read_ahead", interrupted)  # what the forked workers run
    out = tmp_path / "out"
    out.mkdir()
    got = run_cli(["audit", "graph-challenge", GC_FIXTURE, "--layers", GC_FIXTURE_LAYERS,
                   "--jobs", "3", "--json", out / "a.json", "--report", out / "rep"],
                  limit=60)
    assert got.returncode == 130, got.stderr
    assert "interrupted" in got.stderr
    workers = [int(x) for x in pids.read_text().split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 5
    while not all(_gone(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert all(_gone(p) for p in workers)
    assert list(out.iterdir()) == []


def test_argmax_examples_merge_in_batch_order():
    """Rows dealt in turn: the first ten changed inputs of the batch, in its order."""
    from symdnn.audit.chunks import merge_lockstep
    from symdnn.audit.runner import Lockstep, RunResult

    rows = [np.array([0, 1, 4, 5, 8]), np.array([2, 3, 6, 7])]
    parts = []
    for sel in rows:
        res = RunResult(None, [], np.array([0, len(sel) - 1]))
        res.argmax_at = list(range(len(sel)))
        res.argmax = {"changes": len(sel), "examples": [{"input": str(sel[j])}
                                                        for j in res.argmax_at]}
        parts.append(Lockstep([], [], np.array([len(sel) - 1]), [res], 0.0))
    m = merge_lockstep(parts, rows, [Run.format("fp32")])
    assert [e["input"] for e in m.results[0].argmax["examples"]] == [str(i) for i in range(9)]
    assert m.results[0].argmax["changes"] == 9
    assert m.results[0].categories.tolist() == [0, 2, 7, 8]
    assert m.exact_rows.tolist() == [7, 8]


# ------------------------------------------------------------------ what travels to a worker
@pytest.mark.parametrize("nums", [
    np.array([0, 1, -1, 127, -128], dtype=np.int64),          # int8's ends
    np.array([128, -129, 32767, -32768], dtype=np.int64),     # int16's
    np.array([2**31 - 1, -2**31], dtype=np.int64),            # int32's
    np.array([2**31, -2**31 - 1, 2**62], dtype=np.int64),     # beyond: stays int64
    np.array([3.0, -7.0, 2.0**40], dtype=np.float64),         # integers held in float64
    np.array([2.0**53, 5.0], dtype=np.float64),
    np.array([10**30, -3], dtype=object),                      # Python integers
    np.array([], dtype=np.float64),
])
def test_squeezed_exact_layers_come_back_value_for_value(nums):
    """_squeeze narrows and _unsqueeze widens: every key and numerator comes back as the same
    integer (checked one by one with Python ints), the activations' keys too, whether they
    were sent or taken from the positive pre-activations."""
    n = len(nums)
    ek = np.arange(n, dtype=np.int64) * (2**33 if n and nums.dtype == object else 3)
    positive = np.array([int(v) > 0 for v in nums], dtype=bool)
    for pk in (ek[positive], ek[:0]):  # the positive ones (derived), or others (sent)
        pn = np.arange(len(pk), dtype=np.int64) + 1
        pre, post = (ek, nums, 7), (pk, pn, 5)
        (ek2, en2, es2), (pk2, pn2, ps2) = PR._unsqueeze(*PR._squeeze(pre, post))
        assert [int(v) for v in ek2] == [int(v) for v in ek] and es2 == 7 and ps2 == 5
        assert [int(v) for v in en2] == [int(v) for v in nums]
        assert [int(v) for v in pk2] == [int(v) for v in pk]
        assert [int(v) for v in pn2] == [int(v) for v in pn]
        assert en2.dtype in (np.int64, np.float64, object) and ek2.dtype == np.int64


def test_squeeze_keeps_non_integers_and_nan_as_they_are():
    """A float64 array that is not all integers (or holds a NaN) travels unchanged."""
    for a in (np.array([0.5, 1.0]), np.array([np.nan, 1.0]), np.array([1.0, np.inf])):
        assert PR._narrowest(a) is a
    assert PR._narrowest(np.array([-128.0, 127.0])).dtype == np.int8


def test_repeated_values_travel_as_one_bit_for_bit():
    """_thin sends an array of one value as that value; the sign of a zero, a NaN's payload
    and the dtype come back as they were; mixed signs of zero are not one value, and what
    it cannot look at bit by bit travels as it is."""
    import ml_dtypes

    nan = np.frombuffer(np.uint64(0x7FF8000000000123).tobytes(), dtype=np.float64)[0]
    for a in (np.full(5, -0.0), np.full(4, nan), np.full(3, 0.0625, dtype=np.float32),
              np.full(3, 1.5, dtype=np.float16), np.ones(6, dtype=bool),
              np.full(2, -3, dtype=np.int64)):
        t = PR._thin(a)
        assert isinstance(t, PR._Repeated)
        back = PR._thick(pickle_round_trip(t))
        assert back.dtype == a.dtype and back.tobytes() == a.tobytes()
    for a in (np.array([0.0, -0.0]), np.array([1.0, 2.0]), np.array([7.0]), np.zeros(0),
              np.zeros((2, 2)), np.arange(6.0)[::2],
              np.full(3, 3, dtype=ml_dtypes.bfloat16)):  # not a NumPy kind: as it is
        assert PR._thin(a) is a


def pickle_round_trip(x):
    import pickle

    return pickle.loads(pickle.dumps(x, protocol=5))


def test_weights_travel_once_per_matrix_and_come_back_equal():
    """Formats that round every weight alike share one matrix: it travels once and every
    format gets it back with the same indices and bit-identical values."""
    st = LayerStream.from_radixnet("radixnet:1024:1", images=2)
    lay = next(st.layers())
    sent = PR._weights_out(lay, ["fp16", "bf16", "fp32"])
    mats, which = sent
    assert len(mats) == 2 and which["fp16"][0] == which["bf16"][0] != which["fp32"][0]
    got = PR._weights_in(pickle_round_trip(sent))
    for f in ("fp16", "bf16", "fp32"):
        W, b = lay.float_weights(f)
        W2, b2 = got[f]
        assert W2.dtype == W.dtype and W2.data.tobytes() == W.data.tobytes()
        assert np.array_equal(W2.indices, W.indices) and np.array_equal(W2.indptr, W.indptr)
        assert b2.dtype == b.dtype and b2.tobytes() == b.tobytes()


def test_the_window_bounds_messages_and_bytes_but_lets_a_large_one_pass_alone():
    w = PR._Window(2, 100)
    assert w.enter(60) and not w.enter(60, timeout=0.01)  # bytes full
    assert w.enter(40) and not w.enter(0, timeout=0.01)   # count full
    w.leave(60)
    w.leave(40)
    assert w.enter(10**9)                                   # too large: alone it goes
    assert not w.enter(1, timeout=0.01)
    w.leave(10**9)
    assert w.n == 0 and w.bytes == 0
