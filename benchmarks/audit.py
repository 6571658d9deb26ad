"""The Graph Challenge audit against the exact run alone, and the share of the comparison.

Both start from the files of the data set ``graphchallenge-1024`` (``symdnn data fetch
graphchallenge-1024``), as a user runs them: ``symdnn graph-challenge DATA_DIR`` (exact) and
``symdnn audit graph-challenge DATA_DIR --formats fp64,fp32,fp16,bf16`` (the exact run, four
float runs in lockstep, and the layer-by-layer comparison). Prints, inside one audit, the time
of the exact run, of all float runs and of everything else (reading the network files, preparing
each layer and comparing), and the ratio total / (exact + float runs); also the ratio of the
audit to the exact run alone, and the headline findings.

Run: python benchmarks/audit.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from _timing import data_dir, missing, peak

from symdnn.audit import audit_graph_challenge
from symdnn.challenge import run_challenge


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(missing("graphchallenge-1024", root))
        return
    t_exact, t_audit, reps = [], [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        res = run_challenge(str(root))
        t_exact.append(time.perf_counter() - t)
        t = time.perf_counter()
        reps.append(audit_graph_challenge(str(root), formats=["fp64", "fp32", "fp16", "bf16"]))
        t_audit.append(time.perf_counter() - t)
    te, ta = min(t_exact), min(t_audit)
    best = min(reps, key=lambda r: r.seconds["total"])
    s = best.seconds
    runs = sum(v for k, v in s.items() if k not in ("total", "exact"))
    rest = s["total"] - s["exact"] - runs
    print(f"exact run alone (from files): {te:6.2f} s   categories match truth: {res.matches}")
    print(f"audit, exact + 4 float runs + comparison (from files): {ta:6.2f} s")
    print(f"ratio audit / exact run alone: {ta / te:.2f}")
    print(f"inside the audit (best of {args.repeat}): exact {s['exact']:.2f} s, float runs "
          f"{runs:.2f} s, reading and comparing {rest:.2f} s, total {s['total']:.2f} s")
    print(f"ratio total / (exact + float runs): {s['total'] / (s['exact'] + runs):.2f}")
    rep = best
    for L in (30, 60, 120):  # peak memory, one float run, must not grow with depth
        top = peak(lambda L=L: audit_graph_challenge(str(root), formats=["fp64"], layers=L))
        print(f"peak memory of an fp64 audit over {L:3d} layers: {top / 2**20:6.1f} MiB")
    js = rep.to_json()
    print(f"    exact zero pre-activations: {sum(js['exact_zero'])} of {sum(js['exact_pre'])}")
    for name, r in js["runs"].items():
        t = r["totals"]
        print(f"    {name:14s} zero->pos {t['zero_to_pos']:6d}  zero->neg {t['zero_to_neg']:6d}"
              f"  ReLU flips {t['sign_flip']:7d}  max ulp {t['max_ulp']:11d}  categories "
              f"= exact: {r['categories_match_exact']}, = truth: {r['categories_match_truth']}")


if __name__ == "__main__":
    main()
