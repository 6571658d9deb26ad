"""P_fa = 0 for single-layer word networks, for every r in [0, 2] and beta in (0, 1].

Perturb letter f of word c to r. Category c gets ``y_c = r - 1 + beta``. Another category c'
sharing k' <= n - 1 letters with c gets ``y' = k' + (r - 1) [f in c'] + beta - n``.
If f is in c': ``y' - y_c = k' - n <= -1 < 0``. If not: ``y' = k' + beta - n <= beta - 1 <= 0``,
so c' is not positive. Either way c' is never the unique positive maximum: P_fa(r) = 0.
"""

from __future__ import annotations

import sympy

from symdnn.analysis import analyze
from symdnn.constructions import selective
from symdnn.data import words

r, beta = sympy.symbols("r beta", real=True)


def test_case_analysis():
    for n in range(1, 7):
        y_c = r - 1 + beta
        for kp in range(n):
            shares_f = kp + (r - 1) + beta - n
            assert sympy.expand(shares_f - y_c) == kp - n  # always < 0
            lacks_f = kp + beta - n
            assert lacks_f.subs(beta, 1) <= 0  # never positive for beta <= 1


def test_exact_analysis_agrees():
    for b in ("1", "1/2", "1/10"):
        rep = analyze(selective(words("words2"), "single", [b]), verify=False)
        assert not any(p.false_alarm for p in rep.pairs)
