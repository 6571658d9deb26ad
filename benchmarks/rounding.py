"""Correct rounding of rationals into fp32 against numpy's float64 division plus cast.

10**6 rationals with 60-bit numerators (either sign) and 60-bit denominators (seed fixed).
numpy's ``(num / den).astype(float32)`` rounds three or four times (each 60-bit integer into
float64, the quotient, then float32) and is not correctly rounded; symdnn's
:func:`~symdnn.domains.floats.round_rationals` rounds each quotient once, correctly, deciding
the rare entries near a midpoint in integer arithmetic. Each repetition runs both, one after
the other. Prints the best time of each, the ratio of each repetition (both timed in it) and
their median, and how many entries the two disagree on, checked entry by entry
against :func:`~symdnn.round_exact` (integer arithmetic only) on the disagreements and on a
sample. A second part aims at midpoints: quotients within 2**-60 of an fp32 midpoint, where the
double rounding of the baseline goes wrong.

Run: python benchmarks/rounding.py [--n 1000000] [--repeat 9]
"""

from __future__ import annotations

import argparse
from fractions import Fraction

import numpy as np
from _timing import paired, ratios

from symdnn import round_exact
from symdnn.domains.floats import round_rationals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.n
    num = rng.integers(2**59, 2**60, n) * rng.choice([-1, 1], n)
    den = rng.integers(2**59, 2**60, n)

    def baseline():
        return (num.astype(np.float64) / den.astype(np.float64)).astype(np.float32)

    def ours():
        return round_rationals(num, den, "fp32")

    times, out = paired({"numpy": baseline, "ours": ours}, args.repeat)
    t_np, t_us, b, r = min(times["numpy"]), min(times["ours"]), out["numpy"], out["ours"]
    differ = np.flatnonzero(b != r)
    sample = rng.choice(n, size=2000, replace=False)
    wrong = sum(1 for i in np.union1d(differ, sample)
                if r[i] != round_exact(Fraction(int(num[i]), int(den[i])), "fp32"))
    print(f"{n} rationals, 60-bit numerators and denominators, into fp32")
    print(f"numpy float64 division + cast : best {t_np * 1e3:8.2f} ms")
    print(f"symdnn round_rationals       : best {t_us * 1e3:8.2f} ms")
    print(f"ratio correct / numpy, each repetition: {ratios(times['ours'], times['numpy'])}")
    print(f"entries where numpy differs: {len(differ)}; symdnn wrong on the checked "
          f"{len(np.union1d(differ, sample))}: {wrong}")

    # near midpoints: (2m + 1) / 2 * 2**e scaled by a 60-bit denominator, nudged by +-1
    m = rng.integers(2**23, 2**24, 100_000)
    e = rng.integers(-30, 30, 100_000)
    d = rng.integers(2**58, 2**59, 100_000)
    nums, dens = [], []
    for mi, ei, di in zip(m.tolist(), e.tolist(), d.tolist(), strict=True):
        c = Fraction(2 * mi + 1, 2) * Fraction(2) ** ei * di
        base = c.numerator // c.denominator
        for delta in (0, 1):
            if abs(base + delta) < 2**63:
                nums.append(base + delta)
                dens.append(di)
    na, da = np.array(nums, dtype=np.int64), np.array(dens, dtype=np.int64)
    rb = (na.astype(np.float64) / da.astype(np.float64)).astype(np.float32)
    rr = round_rationals(na, da, "fp32")
    truth = np.array([round_exact(Fraction(p, q), "fp32") for p, q in zip(nums, dens,
                                                                         strict=True)])
    print(f"{len(nums)} quotients within 2**-53 of an fp32 midpoint: numpy wrong on "
          f"{int(np.count_nonzero(rb != truth))}, symdnn wrong on "
          f"{int(np.count_nonzero(rr != truth))}")


if __name__ == "__main__":
    main()
