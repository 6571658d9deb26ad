"""symdnn's exact engine on every core against python-graphblas fp64 on every core.

(a) The Graph Challenge, 1024 neurons x 120 layers (data set ``graphchallenge-1024``, every
    input of the folder), both from layers already in memory (each in its own format: symdnn's
    compiled integer layers, GraphBLAS FP64 matrices) and the same input images, in one process:
    symdnn's exact run on every core, with the graphblas kernel as ``run_challenge`` runs it
    (the activations resident in GraphBLAS, :mod:`symdnn.engines.resident`) and with the scipy
    kernel (row chunks stepped concurrently, :mod:`symdnn.parallel`), against the GraphBLAS
    reference formulation (LAGraph's ``LAGraph_dnn``: ``plus_times`` mxm, the bias on the
    entries, ``select valuegt 0``, ``min`` with 32) in SuiteSparse:GraphBLAS, which uses every
    core by itself. Prints the ratio exact / GraphBLAS; the single-thread exact run is printed
    too, and both runs' categories are checked against the official truth.

(b) The same Graph Challenge from its files through a two-worker dask LocalCluster
    (``run_challenge(..., dask=ADDRESS)``; each worker reads every layer file once, for its
    half of the images), against the local run from the same files on every core; the
    cluster's start is timed apart. Its overhead: dask time minus local time.

(c) A RadiX-Net network generated in memory (``--generate radixnet:65536:120``: 65,536
    neurons, 120 layers, 32 inputs a neuron, weights 1/16, bias -0.45 on nonzeros, cap 32) on
    256 random inputs (density 0.2, seed 0): symdnn's exact run as ``run_challenge`` does it,
    each layer made and run in turn, against GraphBLAS fp64 on the same layers made the same
    way; time, edges per second (inputs x edges / time) and peak memory (tracemalloc: NumPy
    and scipy allocations; GraphBLAS's own are not traced). Layers are made inside both
    timings; the time to make them alone is printed too.

(d) ``audit`` of the same Graph Challenge from its files on one core (the process pinned to
    one CPU, as on a 1-core machine), in one process on every core (``jobs=1``: its layer
    reads overlap the computing), and in one worker process per core (``jobs``: the layers
    read once and sent to every worker), interleaved, each ratio between runs of the same
    repetition, and their median (a busy host slows the runs on two cores more than the one
    on one core); the exact run alone in the same repetitions; the reports (JSON and
    Markdown) checked identical. ``suite build`` on one thread and on every core.

Run: python benchmarks/parallel.py [--repeat 5] [--skip-c] [--cases abcd]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _timing import best, data_dir, missing, paired, ratios

from symdnn.engines import exact as EX
from symdnn.engines import resident as RS
from symdnn.parallel import ChunkPool, available_cores, row_chunks


def _gc(root):
    from symdnn.io import find_challenge_files, read_categories, read_images, read_layer

    files = find_challenge_files(root, 1024, 120)
    gl = [read_layer(p, 1024) for p in files.layers]
    Y0 = read_images(files.images, 1024).tocsr()
    Y0.sort_indices()
    truth = read_categories(files.truth)
    return gl, Y0, truth[truth <= Y0.shape[0]]


def exact_run(Y0, layers, workers: int, kernel: str = "scipy"):
    cap = (32, 1)
    if kernel == "graphblas":  # as run_challenge runs it: the activations stay in GraphBLAS
        st = EX.start(Y0.indptr.astype(np.int64), Y0.indices.astype(np.int64),
                      Y0.data.astype(np.int64), 1, Y0.shape)
        for lay in layers:
            st = RS.advance(st, lay, rule="nonzero", cap=cap)[0]
        return np.flatnonzero(np.diff(RS.as_state(st).indptr)) + 1
    chunks = row_chunks(Y0.shape[0], workers)
    states = [EX.start(Y0[a:b].indptr.astype(np.int64), Y0[a:b].indices.astype(np.int64),
                       Y0[a:b].data.astype(np.int64), 1, Y0[a:b].shape) for a, b in chunks]
    with ChunkPool(len(chunks)) as pool:
        for lay in layers:
            states = [o[0] for o in pool.map(
                lambda st, lay=lay: EX.step(st, lay, rule="nonzero", cap=cap), states)]
    return np.concatenate([np.flatnonzero(np.diff(st.indptr)) + a
                           for st, (a, _) in zip(states, chunks, strict=True)]) + 1


def graphblas_run(Y0, Ws, bias: float):
    import graphblas as gb
    from graphblas import binary, select, semiring

    Y = gb.io.from_scipy_sparse(Y0.astype(np.float64))
    for W in Ws:
        Z = Y.mxm(W, semiring.plus_times[gb.dtypes.FP64]).new()
        Z << Z.apply(binary.plus, right=bias)
        Z << select.valuegt(Z, 0.0)
        Z << Z.apply(binary.min, right=32.0)
        Y = Z
    rows = np.unique(Y.to_coo()[0])
    return rows.astype(np.int64) + 1


def case_a(repeat: int) -> None:
    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(f"(a) {missing('graphchallenge-1024', root)}")
        return
    import graphblas as gb
    import scipy.sparse as sp

    gl, Y0, truth = _gc(root)
    nb = np.full(1024, -3, dtype=object)
    layers = [EX.ExactLayer(g.N, g.d, nb, 10) for g in gl]
    Ws = [gb.io.from_scipy_sparse(sp.csr_matrix((np.full(g.N.nnz, 0.0625), g.N.indices,
                                                 g.N.indptr), shape=g.N.shape))
          for g in gl]
    cores = available_cores()
    gb.ss.config["nthreads"] = cores
    runs = {f"symdnn exact, graphblas kernel, {cores} threads": lambda: exact_run(
                Y0, layers, cores, "graphblas"),
            f"symdnn exact, scipy kernel, {cores} row chunks": lambda: exact_run(
                Y0, layers, cores, "scipy"),
            "symdnn exact, scipy kernel, 1 thread": lambda: exact_run(Y0, layers, 1, "scipy"),
            "GraphBLAS fp64 (the baseline)": lambda: graphblas_run(Y0, Ws, -0.3)}
    for fn in runs.values():  # warm the layers' caches, as a long run would be
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    cats: dict = {}
    for _ in range(repeat):  # interleaved, so all see the same machine
        for k, fn in runs.items():
            t, cats[k] = best(fn, 1)
            times[k].append(t)
    print(f"(a) Graph Challenge 1024 x 120 x 1200, layers in memory, {cores} cores, best of "
          f"{repeat}")
    for k in runs:
        print(f"    {k:46s}: {min(times[k]):7.3f} s   categories match truth: "
              f"{np.array_equal(cats[k], truth)}")
    ratios = [min(v[i] for k, v in times.items() if k.startswith("symdnn"))
              / times["GraphBLAS fp64 (the baseline)"][i] for i in range(repeat)]
    print("    ratio fastest exact / GraphBLAS fp64, each repetition: "
          + ", ".join(f"{r:.2f}" for r in ratios))


def case_b(repeat: int) -> None:
    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(f"(b) {missing('graphchallenge-1024', root)}")
        return
    try:
        from distributed import LocalCluster
    except ImportError:
        print("(b) skipped: dask.distributed is not installed (pip install 'symdnn[dask]')")
        return
    from symdnn.challenge import run_challenge

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    t_start = time.perf_counter() - t0
    try:
        addr = cluster.scheduler_address
        run_challenge(str(root), dask=addr)  # the workers import symdnn once
        tl, td = [], []
        for _ in range(repeat):
            t, loc = best(lambda: run_challenge(str(root)), 1)
            tl.append(t)
            t, far = best(lambda: run_challenge(str(root), dask=addr), 1)
            td.append(t)
    finally:
        cluster.close()
    lo, da = min(tl), min(td)
    print("(b) Graph Challenge 1024 x 120 x 1200 from its files, best of "
          f"{repeat}: two-worker dask LocalCluster against the local run")
    print(f"    cluster start (once)        : {t_start:7.2f} s")
    print(f"    local, every core           : {lo:7.2f} s   match: {loc.matches}")
    print(f"    dask, 2 workers             : {da:7.2f} s   match: {far.matches}   identical: "
          f"{np.array_equal(loc.categories, far.categories)}")
    print("    dask overhead over local, each repetition: "
          + ", ".join(f"{d - l:+.2f} s ({d / l:.2f} x)" for l, d in zip(tl, td, strict=True)))


def case_c() -> None:
    import graphblas as gb
    from graphblas import binary, select, semiring

    from symdnn.challenge import run_challenge
    from symdnn.generators.radixnet import radixnet_inputs, radixnet_layers

    spec, n, L, batch = "radixnet:65536:120", 65536, 120, 256
    t0 = time.perf_counter()
    edges = sum(g.N.nnz for g in radixnet_layers(n, L))
    t_make = time.perf_counter() - t0

    def exact():
        return run_challenge(generate=spec, images=batch)

    def graphblas():
        Y = gb.io.from_scipy_sparse(radixnet_inputs(n, batch, seed=0).astype(np.float64))
        for g in radixnet_layers(n, L):
            W = gb.io.from_scipy_sparse(g.N.astype(np.float64) / 16)
            Z = Y.mxm(W, semiring.plus_times[gb.dtypes.FP64]).new()
            Z << Z.apply(binary.plus, right=-0.45)
            Z << select.valuegt(Z, 0.0)
            Z << Z.apply(binary.min, right=32.0)
            Y = Z
        return np.unique(Y.to_coo()[0]) + 1

    import tracemalloc

    tracemalloc.start()
    t0 = time.perf_counter()
    r = exact()
    te = time.perf_counter() - t0
    peak_e = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    t0 = time.perf_counter()
    cats_g = graphblas()
    tg = time.perf_counter() - t0
    print(f"(c) generated RadiX-Net {n} neurons x {L} layers ({edges:,} edges), {batch} inputs, "
          "no files")
    print(f"    making the layers alone        : {t_make:7.2f} s")
    print(f"    symdnn exact ({r.kernel} kernel) : {te:7.2f} s   {batch * edges / te:.3e} "
          f"edges/s   peak {peak_e / 2**20:.1f} MiB   final nonzeros {r.final.nnz}")
    print(f"    GraphBLAS fp64                 : {tg:7.2f} s   {batch * edges / tg:.3e} "
          "edges/s")
    print(f"    ratio exact / GraphBLAS fp64: {te / tg:.2f}   same categories: "
          f"{np.array_equal(r.categories, cats_g)} ({len(r.categories)})")


def _one_core(fn):
    """``fn()`` with this process (and what it starts) on one core, as on a 1-core machine."""
    import os

    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        return fn()
    finally:
        os.sched_setaffinity(0, cores)


def case_d(repeat: int) -> None:
    """``audit`` and ``suite build`` of the Graph Challenge on one core and on every core."""
    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(f"(d) {missing('graphchallenge-1024', root)}")
        return
    import json
    import os
    import shutil
    import tempfile

    from symdnn.audit import audit_graph_challenge
    from symdnn.challenge import run_challenge
    from symdnn.suite import build_suite

    def report(**kw):
        rep = audit_graph_challenge(str(root), formats=["fp64", "fp32", "fp16", "bf16"], **kw)
        j = rep.to_json()
        j.pop("seconds")
        for r in j["runs"].values():
            r.pop("seconds")
        return json.dumps(j, sort_keys=True), rep.to_markdown()

    tmp = tempfile.mkdtemp()

    def suite(threads):
        out = f"{tmp}/s{threads}"
        shutil.rmtree(out, ignore_errors=True)
        build_suite(root, out, neurons=1024, layers=120, formats=("fp32", "bf16"),
                    threads=threads)
        return (open(f"{out}/expected/exact.tsv").read(), open(f"{out}/expected/bf16.tsv")
                .read())

    cores = available_cores()
    print(f"(d) audit (exact + fp64, fp32, fp16, bf16) and suite build (fp32, bf16) of the "
          f"Graph Challenge 1024 x 120 x 1200 from its files, {repeat} repetitions")
    pinned = hasattr(os, "sched_setaffinity")
    runs = {"audit, 1 core (pinned)": lambda: _one_core(report) if pinned else None,
            "audit, 1 process on every core (jobs=1)": lambda: report(jobs=1),
            f"audit, {cores} cores (jobs={cores})": lambda: report(),
            f"exact run alone, {cores} cores": lambda: run_challenge(str(root)).matches}
    try:
        for fn in runs.values():  # once untimed: imports and first-use caches
            fn()
        times, out = paired(runs, repeat)  # interleaved, so all see the same machine
        k1, kj, kn, ke = runs
        for k in runs:
            print(f"    {k:42s}: best {min(times[k]):6.2f} s")
        if pinned:
            print(f"    audit, {cores} cores / 1 core, each repetition: "
                  f"{ratios(times[k1], times[kn])}   reports identical (JSON and Markdown): "
                  f"{out[k1] == out[kn]}")
        print(f"    audit, {cores} cores / jobs=1, each repetition: "
              f"{ratios(times[kj], times[kn])}   reports identical: {out[kj] == out[kn]}")
        print(f"    audit on {cores} cores / exact run alone, each repetition: "
              f"{ratios(times[kn], times[ke])}   exact categories match truth: {out[ke]}")
        st, so = paired({"one": lambda: suite(1), "all": lambda: suite(cores)}, repeat)
        print(f"    suite build 1 thread: best {min(st['one']):6.2f} s   {cores} threads: best "
              f"{min(st['all']):6.2f} s   speed-up, each repetition: "
              f"{ratios(st['one'], st['all'])}   identical: {so['one'] == so['all']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-c", action="store_true", help="leave out case (c)")
    ap.add_argument("--cases", default="abcd", help="the cases to run (default abcd)")
    args = ap.parse_args()
    t = time.perf_counter()
    if "a" in args.cases:
        case_a(args.repeat)
    if "b" in args.cases:
        case_b(min(args.repeat, 3))
    if "c" in args.cases and not args.skip_c:
        case_c()
    if "d" in args.cases:
        case_d(args.repeat)
    print(f"(total {time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":  # (dask's worker processes import this module: keep the guard)
    main()
