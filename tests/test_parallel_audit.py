"""``audit`` and ``suite build`` on every core and over dask (issue 16, items 1 and 2): the
report and the suite are those of the single-chunk run, finding for finding and byte for
byte; the shared stream of layers stops every chunk when one fails.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from symdnn.audit import Run, audit_graph_challenge, audit_network
from symdnn.cli import main
from symdnn.errors import SymdnnError
from symdnn.parallel import Broadcast
from tests.datafiles import gc_folder, needs_gc

GC = gc_folder()  # the full data where $SYMDNN_DATA has it, else tests/data


def _report(rep):
    """The report's JSON without its timings."""
    j = json.loads(json.dumps(rep.to_json()))
    j.pop("seconds")
    for r in j["runs"].values():
        r.pop("seconds")
    return j


@pytest.fixture(scope="module")
def gc_one():
    """30 layers, 37 images, four formats, one chunk: the reference report."""
    return _report(audit_graph_challenge(str(GC), layers=30, images=37, jobs=1, threads=1))


@needs_gc(30, 37)
@pytest.mark.parametrize("threads, jobs", [(2, 1), (5, 1), (1, 2)])
def test_graph_challenge_audit_identical_on_any_number_of_threads(gc_one, threads, jobs):
    got = _report(audit_graph_challenge(str(GC), layers=30, images=37, threads=threads,
                                        jobs=jobs))
    assert got == gc_one
    # the findings that merge non-trivially are there: examples, margins, flips, ulps
    runs = gc_one["runs"].values()
    assert any(r["examples"] for r in runs)
    assert any(r["totals"]["sign_flip"] for r in runs)
    assert any(r["totals"]["zero_to_pos"] for r in runs)
    assert any(m is not None for r in runs for m in r["min_margin_correct"])


@needs_gc(30, 37)
def test_graph_challenge_audit_over_dask(gc_one, dask_address):
    got = _report(audit_graph_challenge(str(GC), layers=30, images=37, dask=dask_address))
    assert got == gc_one


@needs_gc(8, 23)
def test_run_folders_are_read_by_row_chunks(tmp_path):
    """An implementation's output files (here symdnn's fp16 run, dumped) audited in chunks:
    each chunk reads its rows of every file; the report is the single-chunk one."""
    dump = tmp_path / "dump"
    assert main(["audit", "graph-challenge", str(GC), "--layers", "8", "--images", "23",
                 "--formats", "fp16", "--dump", str(dump), "--dump-format", "tsv",
                 "--quiet", "--json", str(tmp_path / "a.json")]) in (0, 1)
    run = [Run.files(dump / "fp16+acc_fp32", "fp16", "impl")]
    one = audit_graph_challenge(str(GC), layers=8, images=23, runs=run, threads=1)
    run = [Run.files(dump / "fp16+acc_fp32", "fp16", "impl")]
    many = audit_graph_challenge(str(GC), layers=8, images=23, runs=run, threads=4)
    assert _report(many) == _report(one)
    assert _report(one)["runs"]["impl"]["totals"]["spurious"] > 0


@needs_gc(3, 9)
def test_a_bad_run_file_is_refused_as_without_threads(tmp_path):
    dump = tmp_path / "dump"
    main(["audit", "graph-challenge", str(GC), "--layers", "3", "--images", "9", "--formats",
          "fp32", "--dump", str(dump), "--dump-format", "tsv", "--quiet", "--json",
          str(tmp_path / "a.json")])
    f = dump / "fp32" / "layer-2.tsv"
    f.write_text(f.read_text() + "9\t1025\t1.0\n")  # neuron 1025 of 1024
    for threads in (1, 3):
        with pytest.raises(SymdnnError, match="layer-2.tsv"):
            audit_graph_challenge(str(GC), layers=3, images=9, threads=threads,
                                  runs=[Run.files(dump / "fp32", "fp32")])


def test_a_network_audit_identical_in_chunks():
    from symdnn.constructions import selective

    c = selective(["ab", "cd", "ae", "bf"], "single", ["1/3"])
    one = _report(audit_network(c.net, c.inputs, threads=1, jobs=1))
    assert _report(audit_network(c.net, c.inputs, threads=3, jobs=1)) == one


def test_a_network_audit_over_dask(dask_address):
    from symdnn.constructions import selective

    c = selective(["ab", "cd", "ae", "bf"], "single", ["1/3"])
    one = _report(audit_network(c.net, c.inputs, threads=1))
    assert _report(audit_network(c.net, c.inputs, dask=dask_address)) == one


def test_foreign_callables_see_the_whole_batch():
    """An implementation's code is called as it would be on its own: once per layer, with
    every input, from one thread, whatever --threads says; dask refuses it."""
    from symdnn.constructions import selective

    c = selective(["ab", "cd", "ae", "bf"], "single", ["1/3"])
    seen = []

    def layer(W, b, Y):
        seen.append((Y.shape[0], threading.get_ident()))
        return Y @ W

    audit_network(c.net, c.inputs, runs=[Run.layer_callable(layer)], threads=4)
    assert len({s for s, _ in seen}) == 1 and seen[0][0] == 4 and len(seen) == c.net.depth
    with pytest.raises(SymdnnError, match="foreign callable"):
        audit_network(c.net, c.inputs, runs=[Run.layer_callable(layer)], dask="tcp://x:1")


# ------------------------------------------------------------------ the shared layer stream
def test_broadcast_draws_once_and_keeps_only_a_few():
    drawn = []

    def items():
        for i in range(50):
            drawn.append(i)
            yield i

    hub = Broadcast(items(), 3, ahead=2)
    out = [[] for _ in range(3)]

    def consume(k):
        for x in hub.taps[k]:
            out[k].append(x)
            assert len(hub._buf) <= 3  # at most `ahead` items kept beyond the slowest
        hub.taps[k].close()

    ts = [threading.Thread(target=consume, args=(k,)) for k in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(10)
    assert drawn == list(range(50)) and all(o == list(range(50)) for o in out)


def test_broadcast_failure_reaches_every_tap():
    def items():
        yield 1
        raise OSError("disk gone")

    a, b = Broadcast(items(), 2).taps
    assert next(a) == 1 and next(b) == 1
    with pytest.raises(OSError, match="disk gone"):
        next(a)
    with pytest.raises(OSError, match="disk gone"):
        next(b)
    a, b = Broadcast(iter(range(10)), 2, ahead=1).taps
    next(a)
    a.close(ValueError("chunk 0 failed"))  # a failing thread stops the other
    with pytest.raises(ValueError, match="chunk 0 failed"):
        list(b)


@needs_gc(12, 30)
def test_a_failing_chunk_does_not_hang_the_others(monkeypatch):
    """One chunk raises at layer 3: the audit fails with its error, promptly."""
    import symdnn.audit.runner as R

    real = R.compare_layer

    def boom(layer, *a, **k):
        if layer == 3 and threading.current_thread().name.endswith("_1"):
            raise RuntimeError("chunk failed")
        return real(layer, *a, **k)

    monkeypatch.setattr(R, "compare_layer", boom)
    with pytest.raises(RuntimeError, match="chunk failed"):
        audit_graph_challenge(str(GC), layers=12, images=30, threads=3, jobs=1,
                              formats=["fp32"])


# ------------------------------------------------------------------ suite build
def _suite_files(root):
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == ".symdnn-output.json":  # the output folder's inventory: times
                continue
            if p.name == "manifest.json":
                m = json.loads(data)
                m.pop("created", None)
                data = json.dumps(m, sort_keys=True).encode()
            out[str(p.relative_to(root))] = data
    return out


@needs_gc(6)  # every image the folder holds
def test_suite_build_identical_on_threads_and_dask(tmp_path, dask_address):
    args = ["suite", "build", str(GC), "--neurons", "1024", "--layers", "6", "--formats",
            "fp32,bf16", "--quiet"]
    for name, extra in (("one", ["--threads", "1"]), ("three", ["--threads", "3"]),
                        ("far", ["--dask", dask_address])):
        assert main(args + ["--out", str(tmp_path / name)] + extra) == 0, name
    one = _suite_files(tmp_path / "one")
    assert len(one) > 5
    assert _suite_files(tmp_path / "three") == one
    assert _suite_files(tmp_path / "far") == one
    assert main(["suite", "verify", str(tmp_path / "three"), "--no-checker"]) == 0


def test_suite_build_of_a_network_folder_in_chunks(tmp_path):
    from symdnn.constructions import selective
    from symdnn.io.netdir import write_network
    from symdnn.suite import build_suite

    c = selective(["ab", "cd", "ae", "bf"], "single", ["1/3"])
    write_network(tmp_path / "net", c.net, inputs=c.inputs, meta={"construction": "selective"})
    a = build_suite(tmp_path / "net", tmp_path / "a", formats=("fp16",), threads=1)
    b = build_suite(tmp_path / "net", tmp_path / "b", formats=("fp16",), threads=3)
    assert _suite_files(a) == _suite_files(b)


@pytest.mark.parametrize("cmd", [["audit", "graph-challenge", str(GC), "--layers", "2"],
                                 ["suite", "build", str(GC), "--neurons", "1024", "--layers",
                                  "2"]])
def test_cli_refuses_a_malformed_dask_address(cmd, tmp_path):
    pytest.importorskip("distributed")
    extra = ["--out", str(tmp_path / "s")] if cmd[0] == "suite" else []
    assert main(cmd + extra + ["--dask", "foo://x:1", "--quiet"]) == 2
    assert not (tmp_path / "s").exists()


@needs_gc(4, 17)
def test_cli_audit_threads(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["audit", "graph-challenge", str(GC), "--layers", "4", "--images", "17",
                 "--formats", "fp32", "--threads", "3", "--json", str(out), "--quiet"])
    assert code in (0, 1)
    j = json.loads(out.read_text())
    assert j["network"]["inputs"] == 17 and len(j["exact_zero"]) == 4
    assert np.all(np.diff(j["exact_categories"]) > 0)


@needs_gc(6, 20)
def test_int8_runs_in_one_chunk_and_refuses_dask():
    """int8 scales each layer's activations by the whole batch's largest (found by review:
    row chunks each had their own scale, and the report changed with --threads)."""
    one = _report(audit_graph_challenge(str(GC), layers=6, images=20, formats=["int8"],
                                        threads=1))
    assert _report(audit_graph_challenge(str(GC), layers=6, images=20, formats=["int8"],
                                         threads=3)) == one
    with pytest.raises(SymdnnError, match="int8"):
        audit_graph_challenge(str(GC), layers=6, images=20, formats=["int8"],
                              dask="tcp://127.0.0.1:9")


def test_a_scheduler_without_workers_is_an_error_not_a_hang(monkeypatch):
    """Found by review: tasks were submitted to a scheduler with no workers and waited
    forever."""
    distributed = pytest.importorskip("distributed")
    import symdnn.parallel as P
    from symdnn.challenge import run_challenge

    monkeypatch.setattr(P, "WAIT_FOR_WORKERS", 1)
    with distributed.LocalCluster(n_workers=0, processes=False,
                                  dashboard_address=None) as cluster:
        with pytest.raises(SymdnnError, match="no workers"):
            run_challenge(generate="radixnet:1024:2", images=4,
                          dask=cluster.scheduler_address)


def test_broadcast_needs_a_positive_lead():
    with pytest.raises(ValueError, match="positive integer"):
        Broadcast(iter(()), 2, ahead=0)


@needs_gc(2, 4)
def test_dask_refuses_a_dump(tmp_path, capsys):
    assert main(["audit", "graph-challenge", str(GC), "--layers", "2", "--images", "4",
                 "--formats", "fp32", "--dump", str(tmp_path / "d"), "--dask",
                 "tcp://127.0.0.1:9", "--quiet"]) == 2
    assert "cannot cut this audit" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
