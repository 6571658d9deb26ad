"""The Graph Challenge audit against the exact run alone, and the share of each run in it.

Both start from the files of the data set ``graphchallenge-1024`` (``symdnn data fetch
graphchallenge-1024``), as a user runs them: ``symdnn graph-challenge DATA_DIR`` (exact) and
``symdnn audit graph-challenge DATA_DIR --formats fp64,fp32,fp16,bf16`` (the exact run, four
float runs in lockstep, and the layer-by-layer comparison).

Every number printed is measured, and every ratio is taken between times of the same
repetition: each repetition runs the exact run alone, the audit as a user runs it (every
core) and the audit in one process on one chunk (``jobs=1, threads=1``), one after the other.
Printed: the best of each, the ratio audit / exact run alone of each repetition, and, from the
single-chunk audit of the repetition where it was fastest, the seconds the audit itself
recorded for its exact run and for each float run (one chunk: its parts ran one after the
other, inside its total). The headline findings and the peak memory of fp64 audits close.

Run: python benchmarks/audit.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from _timing import data_dir, missing, peak

from symdnn.audit import audit_graph_challenge
from symdnn.challenge import run_challenge

FORMATS = ["fp64", "fp32", "fp16", "bf16"]
ONE = {"jobs": 1, "threads": 1}  # one process, one chunk


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(missing("graphchallenge-1024", root))
        return
    reps = []  # one tuple per repetition: (exact s, audit s, single-chunk audit s, its report)
    for _ in range(args.repeat):
        t = time.perf_counter()
        res = run_challenge(str(root))
        te = time.perf_counter() - t
        t = time.perf_counter()
        rep = audit_graph_challenge(str(root), formats=FORMATS)
        ta = time.perf_counter() - t
        t = time.perf_counter()
        one = audit_graph_challenge(str(root), formats=FORMATS, **ONE)
        t1 = time.perf_counter() - t
        reps.append((te, ta, t1, one, rep))
    print(f"Graph Challenge 1024 x 120 x 1200 from its files, {args.repeat} repetitions")
    print(f"exact run alone: best {min(r[0] for r in reps):6.2f} s   categories match truth: "
          f"{res.matches}")
    print(f"audit, exact + 4 float runs + comparison, every core: best "
          f"{min(r[1] for r in reps):6.2f} s")
    print(f"audit in one process, one chunk: best {min(r[2] for r in reps):6.2f} s")
    print("ratio audit / exact run alone, each repetition: "
          + ", ".join(f"{ta / te:.2f}" for te, ta, *_ in reps))
    _, _, t1, one, _ = min(reps, key=lambda r: r[2])
    s = one.seconds
    runs = "  ".join(f"{k} {v:.2f} s" for k, v in s.items() if k not in ("total", "exact"))
    print(f"inside that one-chunk audit ({t1:.2f} s): total {s['total']:.2f} s, exact run "
          f"{s['exact']:.2f} s, float runs: {runs}")
    for L in (30, 60, 120):  # peak memory, one float run, must not grow with depth
        top = peak(lambda L=L: audit_graph_challenge(str(root), formats=["fp64"], layers=L,
                                                     **ONE))
        print(f"peak memory of an fp64 audit over {L:3d} layers: {top / 2**20:6.1f} MiB")
    js = reps[-1][4].to_json()
    print(f"    exact zero pre-activations: {sum(js['exact_zero'])} of {sum(js['exact_pre'])}")
    for name, r in js["runs"].items():
        t = r["totals"]
        print(f"    {name:14s} zero->pos {t['zero_to_pos']:6d}  zero->neg {t['zero_to_neg']:6d}"
              f"  ReLU flips {t['sign_flip']:7d}  max ulp {t['max_ulp']:11d}  categories "
              f"= exact: {r['categories_match_exact']}, = truth: {r['categories_match_truth']}")


if __name__ == "__main__":
    main()
