"""Exact QQ array multiply against scipy float64 on the same inputs, in one process.

Two 2,000 x 2,000 associative arrays with 40,000 nonzeros each, small rationals p/q with
|p| <= 9 and q in 1..8, random positions (seed fixed). Each repetition runs both, one after
the other. Prints the best time of each, the ratio exact / float64 of each repetition (both
timed in it) and their median, product terms per second, and peak memory of each run.

Run: python benchmarks/assoc_mxm.py [--repeat 7] [--n 2000] [--nnz 40000]
"""

from __future__ import annotations

import argparse
import tracemalloc  # noqa: F401  (peak memory, via _timing)
from fractions import Fraction

import numpy as np
import scipy.sparse as sp
from _timing import paired, peak, ratios

from symdnn import AssocArray


def make(rng: np.random.Generator, n: int, nnz: int):
    lin = rng.choice(n * n, size=nnz, replace=False)
    r, c = lin // n, lin % n
    p = rng.integers(1, 10, nnz) * rng.choice([-1, 1], nnz)
    q = rng.integers(1, 9, nnz)
    values = [Fraction(int(a), int(b)) for a, b in zip(p, q, strict=True)]
    exact = AssocArray.from_triples(r, c, values, domain="QQ")
    floats = sp.csr_matrix((p / q, (r, c)), shape=(n, n))
    return exact, floats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--nnz", type=int, default=40000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    A, Af = make(rng, args.n, args.nnz)
    B, Bf = make(rng, args.n, args.nnz)
    terms = int(np.diff(Bf.indptr)[Af.indices].sum())

    times, out = paired({"float": lambda: Af @ Bf, "exact": lambda: A @ B}, args.repeat)
    t_float, t_exact, Cf, C = min(times["float"]), min(times["exact"]), out["float"], out["exact"]
    m_float = peak(lambda: Af @ Bf)
    m_exact = peak(lambda: A @ B)

    # the exact product, rounded once per entry, must agree with float64 to within its rounding
    Cx, _, _ = C.to_scipy(dtype=np.float64)
    Cf.eliminate_zeros()
    diff = abs(Cx - Cf).max()
    print(f"inputs: two {args.n} x {args.n} arrays, {A.nnz} and {B.nnz} nonzeros, "
          f"small rationals; {terms} product terms; result {C.nnz} nonzeros")
    print(f"scipy float64 SpGEMM : best {t_float * 1e3:8.2f} ms  {terms / t_float:12.4g} terms/s  "
          f"peak {m_float / 2**20:7.1f} MiB")
    print(f"symdnn exact QQ mxm  : best {t_exact * 1e3:8.2f} ms  {terms / t_exact:12.4g} terms/s  "
          f"peak {m_exact / 2**20:7.1f} MiB")
    print(f"ratio exact / float64, each repetition: {ratios(times['exact'], times['float'])}")
    print(f"max |exact rounded - float64| = {diff:.3g}")


if __name__ == "__main__":
    main()
