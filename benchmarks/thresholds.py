"""Time of the exact perturbation analysis: every (category, letter position) pair of
the paper's three-layer scheme (12,23,34/123,234/1234) over the bundled four-letter words, each
pair evaluated as an exact piecewise-linear function of r on [0, 2], P_d and P_fa read off,
and the closed form checked against it. Also the two-layer scheme at the
betas of Fig. 10.

Run: python benchmarks/thresholds.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

from symdnn.analysis import analyze
from symdnn.constructions import selective
from symdnn.data import words


def run(label: str, scheme: str, betas: list, repeat: int) -> None:
    c = selective(words("words4"), scheme, betas)
    best, rep = None, None
    for _ in range(repeat):
        t = time.perf_counter()
        rep = analyze(c, verify=False)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    n = len(rep.pairs)
    agree = sum(p.agrees for p in rep.pairs)
    alarms = sum(bool(p.false_alarm) for p in rep.pairs)
    print(f"{label}: {n} pairs ({len(c.categories)} words x 4 positions)")
    print(f"    analysis {best:6.2f} s   {n / best:8.1f} pairs/s   {1e3 * best / n:6.3f} ms/pair")
    print(f"    closed form agrees on {agree} of {n}; false alarms on {alarms}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    run("three-layer scheme, betas 1, 1, 1", "chain", [1, 1, 1], args.repeat)
    run("two-layer scheme, betas 4/5, 1 (Fig. 10 right)", "pairs", ["4/5", 1], args.repeat)


if __name__ == "__main__":
    main()
