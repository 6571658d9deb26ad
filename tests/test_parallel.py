"""Every core (issue 16, item 1): a batch cut into chunks gives the single-chunk result, bit
for bit, in exact and float runs, on every path of the exact engine (float64, int64, limbs).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from symdnn.challenge import run_challenge
from symdnn.engines import exact as EX
from symdnn.errors import SymdnnError
from symdnn.parallel import ChunkPool, merge_states, resolve_threads, row_chunks
from tests.datafiles import gc_folder, needs_gc

GC = gc_folder()  # the full data where $SYMDNN_DATA has it, else tests/data


def _values(st):
    """The exact activations as {(row, column): Fraction}, whatever the order of the entries
    within a row and whatever common denominator carries them."""
    from fractions import Fraction

    rows = np.repeat(np.arange(st.shape[0]), np.diff(st.indptr))
    return dict(zip(zip(rows.tolist(), st.indices.tolist(), strict=True),
                    (Fraction(int(v), st.s) for v in st.ints()), strict=True))


@needs_gc(12, 150)
@pytest.mark.parametrize("threads", [3, pytest.param(2, marks=pytest.mark.slow),
                                     pytest.param(7, marks=pytest.mark.slow)])
def test_exact_graph_challenge_identical_on_any_number_of_threads(threads):
    one = run_challenge(str(GC), layers=12, images=150, threads=1, kernel="scipy")
    many = run_challenge(str(GC), layers=12, images=150, threads=threads, kernel="scipy")
    assert one.categories.tolist() == many.categories.tolist()
    assert _values(one.final) == _values(many.final)
    assert {p for ps in many.paths for p in ps.split("+")} <= {"float64", "int64", "limbs"}


@needs_gc(12, 150)
@pytest.mark.parametrize("arith", ["fp32", pytest.param("fp64", marks=pytest.mark.slow),
                                   pytest.param("fp16", marks=pytest.mark.slow), "bf16"])
def test_float_graph_challenge_identical_bit_for_bit(arith):
    one = run_challenge(str(GC), layers=12, images=150, arith=arith, threads=1)
    many = run_challenge(str(GC), layers=12, images=150, arith=arith, threads=3)
    a, b = one.final, many.final
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert a.data.tobytes() == b.data.tobytes()
    assert one.categories.tolist() == many.categories.tolist()


@needs_gc(2, 7)
@pytest.mark.parametrize("layers, images, threads", [(1, 5, 5), (2, 7, 3), (1, 2, 2)])
def test_chunks_whose_denominators_differ(layers, images, threads):
    """The engine divides out what a chunk's values share, so chunks may end with different
    denominators (found by review: merging refused them)."""
    one = run_challenge(str(GC), layers=layers, images=images, threads=1, kernel="scipy")
    many = run_challenge(str(GC), layers=layers, images=images, threads=threads,
                         kernel="scipy")
    assert _values(one.final) == _values(many.final)
    assert one.categories.tolist() == many.categories.tolist()


@needs_gc(12, 3)
def test_more_threads_than_images():
    one = run_challenge(str(GC), layers=12, images=3, threads=1, kernel="scipy")
    many = run_challenge(str(GC), layers=12, images=3, threads=8, kernel="scipy")
    assert many.threads == 8 and _values(one.final) == _values(many.final)


@needs_gc(120, 3)
@pytest.mark.slow
def test_more_threads_than_images_and_the_truth():
    r = run_challenge(str(GC), layers=120, images=3, threads=8)
    assert r.matches is True and len(r.categories) == len(r.truth)


def _growing_network(seed=3, n=96, L=14):
    """Weights 9/16 (a few -9/16), bias -3/10 on nonzeros: the values outgrow float64 and
    int64 within a few layers, so the limbs path runs too."""
    rng = np.random.default_rng(seed)
    layers = []
    for _ in range(L):
        rows = np.concatenate([rng.choice(n, 8, replace=False) for _ in range(n)])
        cols = np.repeat(np.arange(n), 8)
        W = sp.csr_matrix((rng.choice([-9, 9, 9, 9], n * 8).astype(np.int64), (rows, cols)),
                          shape=(n, n))
        layers.append(EX.ExactLayer(W, 16, np.full(n, -3, dtype=object), 10))
    Y0 = sp.csr_matrix((rng.random((37, n)) < 0.3).astype(np.int64))
    Y0.sort_indices()
    return Y0, layers


def _run(Y0, layers, workers, kernel="scipy"):
    chunks = row_chunks(Y0.shape[0], workers)
    states = [EX.start(Y0[a:b].indptr.astype(np.int64), Y0[a:b].indices.astype(np.int64),
                       Y0[a:b].data.astype(np.int64), 1, Y0[a:b].shape) for a, b in chunks]
    paths = []
    with ChunkPool(len(chunks)) as pool:
        for lay in layers:
            outs = pool.map(lambda st, lay=lay: EX.step(st, lay, rule="nonzero", cap=None,
                                                        kernel=kernel), states)
            states = [o[0] for o in outs]
            paths.append({o[1].path for o in outs})
    return merge_states(states), paths


def test_limbs_path_identical_in_chunks():
    Y0, layers = _growing_network()
    one, p1 = _run(Y0, layers, 1)
    assert p1[-1] == {"limbs"}  # the values did outgrow int64
    assert max(int(v).bit_length() for v in one.ints()) > 64
    for w in (2, 5):
        many, _ = _run(Y0, layers, w)
        assert _values(many) == _values(one)


def test_row_chunks_cover_the_batch_in_order():
    for n in (0, 1, 5, 100):
        for parts in (1, 2, 3, 8):
            ch = row_chunks(n, parts)
            assert ch[0][0] == 0 and ch[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(ch, ch[1:], strict=False))
            assert len(ch) == max(1, min(parts, n))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "2"])
def test_threads_must_be_a_positive_integer(bad):
    with pytest.raises(SymdnnError, match="positive integer"):
        resolve_threads(bad)


def test_graphblas_kernel_identical_on_every_path():
    """SuiteSparse:GraphBLAS computes the float64 and int64 products (exact under the
    engine's bounds); the limbs layers stay in scipy. Values identical to scipy's run."""
    pytest.importorskip("graphblas")
    Y0, layers = _growing_network()
    ref, paths = _run(Y0, layers, 1)
    assert {"float64", "int64", "limbs"} <= set().union(*paths)
    for workers in (1, 3):
        got, _ = _run(Y0, layers, workers, kernel="graphblas")
        assert _values(got) == _values(ref)


@needs_gc(12, 150)
def test_graphblas_kernel_on_the_graph_challenge():
    pytest.importorskip("graphblas")
    one = run_challenge(str(GC), layers=12, images=150, threads=1, kernel="scipy")
    gb = run_challenge(str(GC), layers=12, images=150, threads=2, kernel="graphblas")
    assert gb.kernel == "graphblas" and _values(gb.final) == _values(one.final)


def test_unknown_kernel_is_refused():
    from symdnn.parallel import resolve_kernel

    with pytest.raises(SymdnnError, match="kernel must be one of"):
        resolve_kernel("cuda")


# ------------------------------------------------------------------ networks without files
def test_generated_in_memory_equals_the_written_network(tmp_path):
    from symdnn.generators import generate_radixnet

    d = generate_radixnet(tmp_path / "rx", neurons=1024, layers=3, inputs=20, seed=3)
    files = run_challenge(str(d), layers=3, kernel="scipy")
    mem = run_challenge(generate="radixnet:1024:3:3", images=20)
    assert len(files.categories) > 0
    assert files.categories.tolist() == mem.categories.tolist()
    assert _values(files.final) == _values(mem.final)
    fl = run_challenge(str(d), layers=3, arith="bf16")
    fm = run_challenge(generate="radixnet:1024:3:3", images=20, arith="bf16")
    assert fl.final.data.tobytes() == fm.final.data.tobytes()


def test_a_wide_generated_network_runs_without_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run_challenge(generate="radixnet:16384:2:1", images=4)
    assert r.neurons == 16384 and r.layers == 2 and r.truth is None
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("spec, msg", [
    ("radixnet:1000:3", "cannot make 1000 neurons"), ("radix:1024:3", "radixnet:NEURONS"),
    ("radixnet:1024", "radixnet:NEURONS"), ("radixnet:1024:x", "integers"),
    ("radixnet:1024:0", "LAYERS >= 1"), ("radixnet:2048:3", "no official bias"),
])
def test_bad_generate_specs(spec, msg):
    with pytest.raises(SymdnnError, match=msg):
        run_challenge(generate=spec)


def test_cli_generate(capsys):
    from symdnn.cli import main

    assert main(["graph-challenge", "--generate", "radixnet:1024:2:3", "--images", "5",
                 "--threads", "2"]) == 3  # no truth to check against
    assert "categories (5)" in capsys.readouterr().out
    assert main(["graph-challenge", "--generate", "radixnet:1024:2", "--layers", "4"]) == 2
    assert main(["graph-challenge"]) == 2


# ------------------------------------------------------------------ dask.distributed
@needs_gc(12, 150)
def test_dask_runs_equal_the_local_run(dask_address):
    for arith in ("exact", "fp32"):
        local = run_challenge(str(GC), layers=12, images=150, arith=arith, threads=1,
                              kernel="scipy")
        far = run_challenge(str(GC), layers=12, images=150, arith=arith, dask=dask_address)
        assert far.workers == "dask, 2 workers"
        assert local.categories.tolist() == far.categories.tolist()
        if arith == "exact":
            assert _values(local.final) == _values(far.final)
        else:
            assert local.final.data.tobytes() == far.final.data.tobytes()
            assert np.array_equal(local.final.indices, far.final.indices)
    gen = run_challenge(generate="radixnet:1024:3:3", images=20, dask=dask_address)
    assert _values(gen.final) == _values(run_challenge(generate="radixnet:1024:3:3",
                                                       images=20).final)


def test_dask_runs_the_rows_asked_for(dask_address):
    """rows= was ignored under dask (the whole batch ran), and numbered its categories from
    the chunk while keeping the whole truth (a false MISMATCH). The shipped fixture: 12
    layers, 155 images, truth 152, 153, 155."""
    from tests.datafiles import GC_FIXTURE

    far = run_challenge(str(GC_FIXTURE), layers=12, rows=(140, 155), dask=dask_address)
    assert far.images == 15 and far.categories.tolist() == [152, 153, 155] and far.matches


def test_dask_missing_is_a_clear_error(monkeypatch):
    import sys

    # None in sys.modules makes any import of it (import statement or importlib) fail
    for name in ("distributed", "dask"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(SymdnnError, match=r"pip install 'symdnn\[dask\]'"):
        run_challenge(generate="radixnet:1024:2", dask=True)


@pytest.mark.slow  # waits out the client's timeout
def test_dask_address_that_answers_nothing():
    pytest.importorskip("distributed")
    with pytest.raises(SymdnnError, match="cannot reach the scheduler"):
        run_challenge(generate="radixnet:1024:2", dask="tcp://127.0.0.1:9")


@pytest.mark.parametrize("addr", ["notanaddress", "foo://x:1"])
def test_dask_malformed_address_is_bad_input(addr):
    pytest.importorskip("distributed")
    from symdnn.cli import main

    assert main(["graph-challenge", "--generate", "radixnet:1024:2", "--dask", addr]) == 2


def test_generate_spec_with_spaces_and_with_a_folder(capsys):
    from symdnn.cli import main

    with pytest.raises(SymdnnError, match="radixnet:NEURONS"):
        run_challenge(generate="radixnet: 1024:3")
    assert main(["graph-challenge", "somewhere", "--generate", "radixnet:1024:2"]) == 2
    assert "not both" in capsys.readouterr().err


def test_fp64_run_of_fraction_weights(tmp_path):
    """A layer file may write p/q weights (the reader takes them); fp64 rounds them once."""
    from symdnn.generators import generate_radixnet

    d = generate_radixnet(tmp_path / "rx", neurons=1024, layers=2, inputs=6, seed=1)
    for f in (d / "DNN" / "neuron1024").glob("*.tsv"):
        f.write_text(f.read_text().replace("0.0625", "1/15"))
    r = run_challenge(str(d), layers=2, arith="fp64")
    ex = run_challenge(str(d), layers=2)
    assert r.final.nnz > 0 and r.categories.tolist() == ex.categories.tolist()


def test_an_unfinished_prefetch_is_closed_without_waiting_for_its_reader():
    """A layer stream left unfinished (an error, a break) is closed, perhaps by the garbage
    collector inside another thread's start; closing must not join the reader, which may be
    deep in a slow file (joining there deadlocked a test run)."""
    import threading
    import time

    from symdnn.io.prefetch import prefetched

    started, release = threading.Event(), threading.Event()

    def slow(x):
        if x == 1:
            started.set()
            release.wait(10)
        return x

    gen = prefetched(slow, range(5))
    assert next(gen) == 0
    assert started.wait(5)  # the reader is inside item 1
    t = time.perf_counter()
    gen.close()
    assert time.perf_counter() - t < 2
    release.set()
