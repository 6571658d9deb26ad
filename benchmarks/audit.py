"""The Graph Challenge audit against the exact run alone (issue 6: at most 3 times).

Both start from the files in $SYMDNN_DATA/graphchallenge (default ../shared/data), as a user
runs them: ``symdnn graph-challenge DATA_DIR`` (exact) and ``symdnn audit graph-challenge
DATA_DIR --formats fp64,fp32,fp16,bf16`` (the exact run, four float runs in lockstep, and the
layer-by-layer comparison). Prints best-of-N times, the ratio, the audit's breakdown and its
headline numbers.

Run: python benchmarks/audit.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from _timing import data_dir

from symdnn.audit import audit_graph_challenge
from symdnn.challenge import run_challenge


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    root = data_dir("graphchallenge")
    if not root.is_dir():
        print(f"skipped: {root} not found (set SYMDNN_DATA)")
        return
    t_exact, t_audit, rep = [], [], None
    for _ in range(args.repeat):
        t = time.perf_counter()
        res = run_challenge(str(root))
        t_exact.append(time.perf_counter() - t)
        t = time.perf_counter()
        rep = audit_graph_challenge(str(root), formats=["fp64", "fp32", "fp16", "bf16"])
        t_audit.append(time.perf_counter() - t)
    te, ta = min(t_exact), min(t_audit)
    s = rep.seconds
    runs = sum(v for k, v in s.items() if k not in ("total", "exact"))
    print(f"exact run alone (from files): {te:6.2f} s   categories match truth: {res.matches}")
    print(f"audit, exact + 4 float runs + comparison (from files): {ta:6.2f} s")
    print(f"ratio audit / exact: {ta / te:.2f}  (target <= 3)")
    print(f"    inside the audit: exact {s['exact']:.2f} s, float runs {runs:.2f} s, reading "
          f"and comparing {s['total'] - s['exact'] - runs:.2f} s")
    js = rep.to_json()
    print(f"    exact zero pre-activations: {sum(js['exact_zero'])} of {sum(js['exact_pre'])}")
    for name, r in js["runs"].items():
        t = r["totals"]
        print(f"    {name:14s} zero->pos {t['zero_to_pos']:6d}  zero->neg {t['zero_to_neg']:6d}"
              f"  ReLU flips {t['sign_flip']:7d}  max ulp {t['max_ulp']:11d}  categories "
              f"= exact: {r['categories_match_exact']}, = truth: {r['categories_match_truth']}")


if __name__ == "__main__":
    main()
