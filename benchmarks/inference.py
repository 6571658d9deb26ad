"""Exact inference against scipy float64 on the same network and inputs, in one process.

Cases:
  (a) integer network, values below 2**53: 4096 neurons, 32 inputs per neuron, 120 layers,
      weights +-1, bias -1, cap 32, batch 64 of random 0/1 inputs at 20% density;
  (b) rational network whose exact values grow to about 500 bits: 1024 neurons, 32 inputs per
      neuron at random, weights +-9/16, bias -3/10, cap 32, 120 layers, batch 64 at 20%;
  (c) the Graph Challenge: 1024 neurons, 120 layers, every input of the data set
      ``graphchallenge-1024`` (``symdnn data fetch graphchallenge-1024``).

Both sides run on layers already in memory (reading files is not timed). The float64 baseline is
the reference rule written plainly with scipy.sparse: Z = Y W; bias on the nonzero entries of Z;
ReLU; cap. Each repetition runs both, one after the other. Prints the best time of each, the
ratio exact / float64 of each repetition (both timed in it) and their median, edges per second
(batch x network edges / best time, the Graph Challenge's rate) and the peak memory of each run
(tracemalloc).

Run: python benchmarks/inference.py [--case a|b|c|all] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tracemalloc
from fractions import Fraction

import numpy as np
import scipy.sparse as sp
from _timing import data_dir, missing, paired, peak, ratios

from symdnn.engines import exact as EX


def random_layers(n: int, L: int, per: int, weights: list[int], seed: int) -> list[sp.csr_matrix]:
    """L integer layers (inputs x outputs), each output reading ``per`` random inputs."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(L):
        rows = np.concatenate([rng.choice(n, per, replace=False) for _ in range(n)])
        cols = np.repeat(np.arange(n), per)
        vals = rng.choice(weights, n * per)
        M = sp.csr_matrix((vals.astype(np.int64), (rows, cols)), shape=(n, n))
        M.sort_indices()
        out.append(M)
    return out


def random_inputs(batch: int, n: int, density: float, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    M = sp.csr_matrix((rng.random((batch, n)) < density).astype(np.int64))
    M.sort_indices()
    return M


def float_run(Y0: sp.csr_matrix, Ws: list[sp.csr_matrix], bias: float, ymax: float):
    Y = Y0
    for W in Ws:
        Z = Y @ W
        Z.data += bias
        Z.data[Z.data < 0] = 0
        Z.data[Z.data > ymax] = ymax
        Z.eliminate_zeros()
        Y = Z
    return Y


def exact_run(Y0: sp.csr_matrix, layers: list, rule: str, cap: tuple[int, int]):
    st = EX.start(Y0.indptr.astype(np.int64), Y0.indices.astype(np.int64),
                  Y0.data.astype(np.int64), 1, Y0.shape)
    paths = []
    for lay in layers:
        st, info = EX.step(st, lay, rule=rule, cap=cap)
        paths.append(info.path)
    return st, paths


def measure(name: str, Y0, float_Ws, float_bias, exact_layers, rule, repeat):
    edges = sum(W.nnz for W in float_Ws) * Y0.shape[0]
    Yf = sp.csr_matrix(Y0, dtype=np.float64)
    times, out = paired({"float": lambda: float_run(Yf, float_Ws, float_bias, 32.0),
                         "exact": lambda: exact_run(Y0, exact_layers, rule, (32, 1))}, repeat)
    t_f, t_e, out_f, (st, paths) = min(times["float"]), min(times["exact"]), out["float"], \
        out["exact"]
    m_f = peak(lambda: float_run(Yf, float_Ws, float_bias, 32.0))
    m_e = peak(lambda: exact_run(Y0, exact_layers, rule, (32, 1)))
    bits = EX.values_of(st)[2]
    maxbits = max((abs(int(v)).bit_length() for v in bits), default=0)
    counts = {p: paths.count(p) for p in dict.fromkeys(paths)}
    active = st.nnz / (st.shape[0] * st.shape[1])
    print(f"({name}) {Y0.shape[0]} inputs, {len(float_Ws)} layers, {float_Ws[0].shape[0]} "
          f"neurons, {edges / Y0.shape[0]:.0f} edges; final activity {active:.0%}, "
          f"largest exact numerator {maxbits} bits, denominator {st.s.bit_length()} bits")
    print(f"    exact paths: {counts}")
    print(f"    scipy float64 : best {t_f:8.3f} s  {edges / t_f:10.4g} edges/s  "
          f"peak {m_f / 2**20:7.1f} MiB")
    print(f"    symdnn exact  : best {t_e:8.3f} s  {edges / t_e:10.4g} edges/s  "
          f"peak {m_e / 2**20:7.1f} MiB")
    print(f"    ratio exact / float64, each repetition: {ratios(times['exact'], times['float'])}")
    rows_f = np.flatnonzero(np.diff(out_f.indptr))
    rows_e = np.flatnonzero(np.diff(st.indptr))
    print(f"    nonzero rows: exact {len(rows_e)}, float64 {len(rows_f)}, "
          f"same: {np.array_equal(rows_e, rows_f)}")


def case_a(repeat: int) -> None:
    Ws = random_layers(4096, 120, 32, [-1, 1], seed=1)
    Y0 = random_inputs(64, 4096, 0.2, seed=2)
    nb = np.full(4096, -1, dtype=object)
    layers = [EX.ExactLayer(W, 1, nb, 1) for W in Ws]
    measure("a", Y0, [W.astype(np.float64) for W in Ws], -1.0, layers, "all", repeat)


def case_b(repeat: int) -> None:
    Ws = random_layers(1024, 120, 32, [-9, 9], seed=3)
    Y0 = random_inputs(64, 1024, 0.2, seed=4)
    nb = np.full(1024, -3, dtype=object)
    layers = [EX.ExactLayer(W, 16, nb, 10) for W in Ws]
    floats = [(W.astype(np.float64) / 16).tocsr() for W in Ws]
    measure("b", Y0, floats, float(Fraction(-3, 10)), layers, "nonzero", repeat)


def case_c(repeat: int) -> None:
    from symdnn.io import find_challenge_files, read_images, read_layer

    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(f"(c) {missing('graphchallenge-1024', root)}")
        return
    files = find_challenge_files(root, 1024, 120)
    gl = [read_layer(p, 1024) for p in files.layers]
    Y0 = read_images(files.images, 1024)
    Y0.sort_indices()
    nb = np.full(1024, -3, dtype=object)
    layers = [EX.ExactLayer(g.N, g.d, nb, 10) for g in gl]
    floats = [sp.csr_matrix((np.full(g.N.nnz, 0.0625), g.N.indices, g.N.indptr),
                            shape=g.N.shape) for g in gl]
    measure("c", Y0, floats, -0.3, layers, "nonzero", repeat)


def depth(repeat: int) -> None:
    """Peak memory of the streamed exact Graph Challenge run at several depths."""
    from symdnn.io import find_challenge_files

    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(f"(depth) {missing('graphchallenge-1024', root)}")
        return
    files = find_challenge_files(root, 1024, 120)
    all_layers = files.layers
    for L in (30, 60, 120):
        files.layers = all_layers[:L]
        tracemalloc.start()
        _stream(files)
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"(depth) exact Graph Challenge streamed over {L:3d} layers: peak "
              f"{top / 2**20:6.1f} MiB")


def _stream(files) -> None:
    from symdnn.io import read_images, read_layer

    Y0 = read_images(files.images, 1024)
    Y0.sort_indices()
    st = EX.start(Y0.indptr.astype(np.int64), Y0.indices.astype(np.int64),
                  Y0.data.astype(np.int64), 1, Y0.shape)
    nb = np.full(1024, -3, dtype=object)
    for p in files.layers:
        g = read_layer(p, 1024)
        st, _ = EX.step(st, EX.ExactLayer(g.N, g.d, nb, 10), rule="nonzero", cap=(32, 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="all", choices=["a", "b", "c", "depth", "all"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for name, fn in (("a", case_a), ("b", case_b), ("c", case_c), ("depth", depth)):
        if args.case in (name, "all"):
            fn(args.repeat)


if __name__ == "__main__":
    main()
