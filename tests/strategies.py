"""Hypothesis strategies: values of every exact domain, and small associative arrays whose keys
come from a small pool so that operands overlap partially."""

from __future__ import annotations

from fractions import Fraction

import sympy
from hypothesis import strategies as st

from symdnn import AssocArray, semirings
from symdnn.domains import NEG_INF, POS_INF, UNIVERSE

KEYS = ["a", "b", "c", "d"]
x, y = sympy.symbols("x y")

# (semiring, domain) pairs on which every law must hold exactly
EXACT_PAIRS = [
    (s, d)
    for s in ("plus_times", "max_plus", "min_plus", "max_times", "min_times", "max_min",
              "min_max")
    for d in ("ZZ", "QQ", "SYM")
] + [("or_and", "BOOL"), ("union_intersect", "SET")]


def _fractions(integer: bool, big: bool) -> st.SearchStrategy:
    bound = 2**200 if big else 40
    nums = st.integers(-bound, bound)
    if integer:
        return nums.map(Fraction)
    return st.builds(Fraction, nums, st.integers(1, 2**90 if big else 12))


def values(semiring: str, domain: str, big: bool = False) -> st.SearchStrategy:
    """Values in the domain and in the semiring's carrier, zero excluded (it is never stored)."""
    if domain == "BOOL":
        return st.just(True)
    if domain == "SET":
        return st.one_of(st.frozensets(st.integers(0, 5), max_size=3), st.just(UNIVERSE))
    base = _fractions(domain == "ZZ", big)
    carrier = semirings.get(semiring).carrier
    if carrier.lo == "0":
        base = base.map(abs).filter(lambda v: v > 0 or carrier.lo_closed)
    strat = base
    if semiring in ("max_min", "min_max"):
        strat = st.one_of(base, st.sampled_from([POS_INF, NEG_INF]))
    if domain == "SYM":
        strat = strat.map(lambda v: sympy.oo if v is POS_INF else -sympy.oo if v is NEG_INF
                          else sympy.Rational(v.numerator, v.denominator))
        if semiring == "plus_times":
            strat = st.one_of(strat, st.sampled_from([x, y, x + 1, 2 * y - x]))
    return strat


@st.composite
def arrays(draw, semiring: str, domain: str, big: bool = False,
           rows: list = KEYS, cols: list = KEYS) -> AssocArray:
    entries = draw(st.dictionaries(st.tuples(st.sampled_from(rows), st.sampled_from(cols)),
                                   values(semiring, domain, big), max_size=8))
    r = [k[0] for k in entries]
    c = [k[1] for k in entries]
    return AssocArray.from_triples(r, c, list(entries.values()), domain=domain,
                                   semiring=semiring)
