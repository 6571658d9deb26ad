"""Exactness of the bias rule ``b = beta |W 1|_0 - W 1`` for the selective construction.

Single layer over words of n letters: category c's pre-activation on the input of word w is
``k + beta - n`` where ``k = |c and w agree|`` counts matching positions (0 <= k <= n). For
``0 < beta <= 1`` it is positive exactly when ``k = n``, that is ``w = c``, where it equals beta;
so ``Y_1 = beta I``. (With beta = 0 nothing fires: Y_1 = 0.)

Two layers (pairs, then the word), every beta in (0, 1]: a pair neuron takes
``beta_0`` when both its letters match and is off otherwise, so the word neuron gets
``m beta_0 + beta_1 - M`` from its ``M`` pairs of which ``m`` match; positive only for ``m = M``
(given ``beta_0 <= 1``) if and only if ``M beta_0 + beta_1 - M > 0``: the betas must satisfy
``beta_1 > M (1 - beta_0)``, or no word fires on its own input.
"""

from __future__ import annotations

import sympy

from symdnn.constructions import selective

beta, b0, b1 = sympy.symbols("beta beta_0 beta_1", positive=True)


def test_single_layer_fires_only_on_the_full_match():
    for n in range(1, 8):
        for k in range(n + 1):
            pre = k + beta - n
            if k < n:  # at most 0 for every beta in (0, 1]
                assert sympy.simplify(pre.subs(beta, 1)) <= 0
                assert sympy.diff(pre, beta) > 0  # largest at beta = 1
            else:
                assert pre == beta


def test_two_layer_condition():
    for M in range(1, 6):
        for m in range(M + 1):
            pre = m * b0 + b1 - M
            if m < M:  # (M-1) b0 + b1 - M <= 0 for betas in (0, 1]
                assert pre.subs({b0: 1, b1: 1}) <= 0
            else:
                assert sympy.expand(pre - (b1 - M * (1 - b0))) == 0


def test_exact_verifier_agrees_at_the_boundary():
    # four-letter words, pairs: M = 2; beta_1 > 2 (1 - beta_0): at beta_0 = 1/2 need beta_1 > 1
    assert not selective(["abcd", "abce"], "pairs", ["1/2", 1]).verify().exact
    assert selective(["abcd", "abce"], "pairs", ["3/5", 1]).verify().exact
