"""Hypothesis strategies aimed at the places where rounding and exact arithmetic go wrong.

Every rounding case is built *with its answer*: a value next to a rounding midpoint of a format
is made from the two neighbours ``lo < hi`` of that midpoint, so the correct result (``lo`` below
the midpoint, ``hi`` above, the even one on it) is known by construction and does not come from
any rounding code. Nothing here imports symdnn; the bit-level helpers come from
:mod:`tests.oracle` (standard library only).

Rounding strategies
-------------------
* :func:`near_midpoint`: rationals within 2**-60 relative of a midpoint of a format (both sides,
  and exactly on it), with dyadic and odd denominators beyond 2**64, at the subnormal
  boundaries (half the smallest subnormal, the normal/subnormal boundary), just below and
  above the overflow threshold (max_finite + ulp/2), negated half of the time.
* :func:`big_rationals`: numerators and denominators of 54 to 200 bits.
* :func:`narrowing_case`: a value of a wide float format one ulp (of that format) off a midpoint
  of a narrower format, or on it: narrowing must round once.

Network strategies
------------------
* :func:`networks`: small networks (1-3 layers, 2-4 neurons per layer) whose weights mix
  1/3**40, 2**70+1, the dyadic values of the floats 0.1 and 1e-10, biases like -1/10**14 and
  -2**53, fractional and huge inputs, empty layers, all-zero input columns, caps like 1/3.
  ``max_indegree=2`` keeps every neuron at two incoming weights at most, so that a float run's
  summation order cannot matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from hypothesis import strategies as st

from tests.oracle import FORMATS, bits_to_fraction, neighbours, round_fraction

ALL_FORMATS = list(FORMATS)
SMALL_FORMATS = ["fp16", "bf16", "fp8_e4m3", "fp8_e5m2"]


@dataclass(frozen=True)
class Case:
    """A value and the bit pattern its correct rounding into ``fmt`` must have."""

    value: Fraction
    fmt: str
    expected: int
    where: str  # "below", "on", "above": relative to the midpoint


# ---------------------------------------------------------------------------------------------
# patterns that sit at the boundaries of a format
# ---------------------------------------------------------------------------------------------
def special_patterns(fmt: str) -> list[int]:
    """Non-negative finite patterns at the edges: 0, the smallest subnormals, the last
    subnormal and the first normals, 1 and its neighbour below, the largest values."""
    f = FORMATS[fmt]
    one = f.bias << f.man_bits
    min_normal = 1 << f.man_bits
    top = f.max_finite_bits
    pats = {0, 1, 2, 3, min_normal - 1, min_normal, min_normal + 1, one - 1, one, one + 1,
            top - 1, top}
    return sorted(p for p in pats if 0 <= p <= top)


def finite_pattern(fmt: str) -> st.SearchStrategy[int]:
    """A non-negative finite pattern of ``fmt``, often at an edge."""
    f = FORMATS[fmt]
    return st.one_of(st.sampled_from(special_patterns(fmt)),
                     st.integers(0, f.max_finite_bits))


def _even_of(lo_bits: int, hi_overflows: bool, fmt: str) -> int:
    """The pattern a tie between ``lo_bits`` and its successor rounds to: the even significand
    (the successor is even when ``lo`` is odd; beyond the largest value that is an overflow)."""
    f = FORMATS[fmt]
    if lo_bits % 2 == 0:
        return lo_bits
    if hi_overflows:
        return f.inf_bits if f.has_inf else f.nan_bits
    return lo_bits + 1


def _hi_bits(lo_bits: int, hi_overflows: bool, fmt: str) -> int:
    f = FORMATS[fmt]
    if hi_overflows:
        return f.inf_bits if f.has_inf else f.nan_bits
    return lo_bits + 1


# relative nudges: dyadic ones down to 2**-200 and odd (3**k, large primes) ones beyond 2**64
_ODD = [3**40, 3**41, 5**30, 7**25, 2**61 - 1, 2**89 - 1, 10**20 + 39]


@st.composite
def relative_nudge(draw) -> Fraction:
    """A positive ``d <= 2**-60``: ``j / 2**k`` or ``1 / odd`` with an odd number beyond 2**60."""
    if draw(st.booleans()):
        k = draw(st.sampled_from([60, 61, 64, 65, 70, 90, 120, 200]))
        j = draw(st.integers(1, 255))
        return Fraction(j, 2 ** (k + 8))
    return Fraction(1, draw(st.sampled_from(_ODD)))


@st.composite
def _at(draw, fmt: str, lo_bits: int, negative: bool | None = None) -> Case:
    """Below, on or above the midpoint between ``lo_bits`` and its successor."""
    f = FORMATS[fmt]
    lo, hi, over = neighbours(lo_bits, fmt)
    mid = (lo + hi) / 2
    where = draw(st.sampled_from(["below", "on", "above"]))
    if where == "on":
        x, bits = mid, _even_of(lo_bits, over, fmt)
    else:
        d = draw(relative_nudge())
        if where == "below":
            x, bits = mid - mid * d, lo_bits
        else:
            x, bits = mid + mid * d, _hi_bits(lo_bits, over, fmt)
    neg = draw(st.booleans()) if negative is None else negative
    if neg:
        x, bits = -x, bits | f.sign_mask
    return Case(x, fmt, bits, where)


@st.composite
def near_midpoint(draw, fmt: str | None = None, *, negative: bool | None = None) -> Case:
    """A rational within 2**-60 (relative) of a midpoint of ``fmt``, or exactly on it, with the
    pattern its correct rounding must have."""
    fmt = fmt or draw(st.sampled_from(ALL_FORMATS))
    return draw(_at(fmt, draw(finite_pattern(fmt)), negative))


def overflow_threshold(fmt: str) -> Fraction:
    """max_finite + ulp/2: values above it overflow (and a tie on it goes to the even side)."""
    lo, hi, _ = neighbours(FORMATS[fmt].max_finite_bits, fmt)
    return (lo + hi) / 2


@st.composite
def boundary_value(draw, fmt: str | None = None) -> Case:
    """Just below / on / above the overflow threshold, half the smallest subnormal (the
    midpoint between 0 and it), and the normal/subnormal boundary (the midpoint between the
    largest subnormal and the smallest normal)."""
    fmt = fmt or draw(st.sampled_from(ALL_FORMATS))
    f = FORMATS[fmt]
    lo_bits = draw(st.sampled_from([f.max_finite_bits, 0, (1 << f.man_bits) - 1]))
    return draw(_at(fmt, lo_bits))


def _int_bits(n: int) -> st.SearchStrategy[int]:
    return st.integers(1 << (n - 1), (1 << n) - 1)


@st.composite
def big_rationals(draw, *, min_bits: int = 54, max_bits: int = 200) -> Fraction:
    """Numerators and denominators beyond 2**53 and 2**64 (54- to 200-bit), any sign, scaled so
    that most land within the range of the small formats."""
    nb = draw(st.sampled_from([b for b in (54, 60, 63, 64, 65, 70, 100, 200)
                               if min_bits <= b <= max_bits]))
    db = draw(st.sampled_from([b for b in (1, 54, 60, 64, 65, 70, 100, 200)
                               if b == 1 or min_bits <= b <= max_bits]))
    n = draw(_int_bits(nb))
    d = draw(_int_bits(db)) if db > 1 else 1
    shift = draw(st.integers(-20, 20)) - (nb - db)  # value near 2**shift' with |shift'| <= 20
    x = Fraction(n, d) * Fraction(2) ** shift
    x = Fraction(x.numerator, x.denominator)
    return -x if draw(st.booleans()) else x


def hard_rational(fmt: str) -> st.SearchStrategy[Case | Fraction]:
    """Any of the above for one format."""
    return st.one_of(near_midpoint(fmt), boundary_value(fmt), big_rationals())


# ---------------------------------------------------------------------------------------------
# float-to-float narrowing
# ---------------------------------------------------------------------------------------------
NARROWINGS = [(s, d) for s in ("fp64", "fp32", "fp16", "bf16") for d in ALL_FORMATS
              if FORMATS[s].p >= FORMATS[d].p + 2 and s != d]


@dataclass(frozen=True)
class NarrowCase:
    """A value of format ``src`` (its bit pattern) and the pattern of its one-step rounding
    into ``dst``."""

    src: str
    dst: str
    src_bits: int
    expected: int
    where: str


@cache
def _representable_los(src: str, dst: str) -> tuple[int, ...]:
    """The non-negative finite ``dst`` patterns whose upper midpoint (and the ``src`` values one
    ulp around it) are ``src`` values. Enumerated for 8- and 16-bit ``dst``."""
    f = FORMATS[dst]
    out = []
    for b in range(f.max_finite_bits + 1):
        lo, hi, _ = neighbours(b, dst)
        if _exact_in((lo + hi) / 2, src) is not None:
            out.append(b)
    return tuple(out)


def _exact_in(x: Fraction, fmt: str) -> int | None:
    """The pattern of ``x`` in ``fmt`` if ``x`` is a finite value of it (else None)."""
    b = round_fraction(x, fmt)
    return b if bits_to_fraction(b, fmt) == x else None


@st.composite
def narrowing_case(draw, src: str | None = None, dst: str | None = None) -> NarrowCase:
    """A ``src`` value on a midpoint of ``dst`` or one ``src`` ulp below or above it."""
    if src is None or dst is None:
        src, dst = draw(st.sampled_from(NARROWINGS))
    f, g = FORMATS[dst], FORMATS[src]
    covers = g.emin - g.p + 1 <= f.emin - f.p and g.max_finite > overflow_threshold(dst)
    if not covers:  # e.g. fp16 values into bf16: only part of bf16's range is reachable
        los = _representable_los(src, dst)
        lo_bits = draw(st.one_of(st.sampled_from([b for b in special_patterns(dst)
                                                  if b in set(los)]),
                                 st.sampled_from(los)))
    else:  # every midpoint of dst (down to the smallest subnormal) is a src value
        lo_bits = draw(finite_pattern(dst))
    lo, hi, over = neighbours(lo_bits, dst)
    mid_bits = _exact_in((lo + hi) / 2, src)
    assert mid_bits is not None
    where = draw(st.sampled_from(["below", "on", "above"]))
    if where == "on":
        sb, bits = mid_bits, _even_of(lo_bits, over, dst)
    elif where == "below":
        sb, bits = mid_bits - 1, lo_bits        # positive patterns are ordered like values
    else:
        sb, bits = mid_bits + 1, _hi_bits(lo_bits, over, dst)
        if bits_to_fraction(sb, src) in ("inf", "nan"):
            sb = mid_bits
            bits = _even_of(lo_bits, over, dst)
            where = "on"
    if draw(st.booleans()):
        sb, bits = sb | g.sign_mask, bits | f.sign_mask
    return NarrowCase(src, dst, sb, bits, where)


# ---------------------------------------------------------------------------------------------
# networks
# ---------------------------------------------------------------------------------------------
HARD_WEIGHTS = [Fraction(1, 3**40), Fraction(2**70 + 1), Fraction(0.1), Fraction(1e-10),
                Fraction(1, 5**30), Fraction(-(2**70 + 1)), -Fraction(0.1)]
MODERATE_WEIGHTS = [Fraction(1), Fraction(-1), Fraction(1, 3), Fraction(-2, 7), Fraction(3, 2),
                    Fraction(5, 16), Fraction(-5, 16), Fraction(1, 10), Fraction(7, 4),
                    Fraction(1, 2**20) + 1]
HARD_BIASES = [Fraction(-1, 10**14), Fraction(-(2**53)), Fraction(2**53 + 1),
               Fraction(1, 3**40)]
MODERATE_BIASES = [Fraction(1, 7), Fraction(2), Fraction(-3, 10), Fraction(1, 3),
                   Fraction(-1, 4), Fraction(5, 2), Fraction(-1, 3)]
HARD_INPUTS = [Fraction(2**53 + 1), Fraction(2**62 + 3), Fraction(10**30, 7), Fraction(10**5),
               Fraction(1, 3**40), Fraction(2**64 + 1, 3)]
MODERATE_INPUTS = [Fraction(1, 2), Fraction(1, 3), Fraction(1), Fraction(3), Fraction(7, 4),
                   Fraction(0.1), Fraction(2, 3), Fraction(5), Fraction(1, 2**12) + 2]
CAPS = [None, Fraction(1, 3), Fraction(32), Fraction(5, 2), Fraction(7, 3)]


def _pool(hard: list, moderate: list, hard_share: int) -> st.SearchStrategy[Fraction]:
    """Values from both lists; ``hard_share`` of 4 draws come from the hard list."""
    return st.integers(0, 3).flatmap(
        lambda k: st.sampled_from(hard if k < hard_share else moderate))


@dataclass
class NetSpec:
    """A network in the oracle's terms (column convention), with inputs and batch keys.

    ``layers[l] = (weights {(out, in): Fraction}, bias {out: Fraction}, outputs list)``;
    ``neurons[l]`` the neuron keys of layer l (``neurons[0]`` the input features);
    ``inputs {batch key: {feature: Fraction}}`` holds only nonzero values; ``batch`` every batch
    key, those whose features are all zero included (``present`` lists the others).
    """

    layers: list
    neurons: list
    rule: str
    cap: Fraction | None
    inputs: dict
    batch: list

    @property
    def present(self) -> list:
        return [b for b in self.batch if self.inputs.get(b)]

    def __repr__(self) -> str:  # short, for hypothesis' falsifying examples
        return (f"NetSpec(rule={self.rule!r}, cap={self.cap}, layers={self.layers!r}, "
                f"inputs={self.inputs!r}, batch={self.batch!r})")


@st.composite
def networks(draw, *, max_indegree: int | None = None, hard_share: int = 2,
             max_layers: int = 3, rule: str | None = None,
             allow_empty_layer: bool = True, huge: bool = True) -> NetSpec:
    """A small network with hard weights, biases, inputs and caps (see the module notes).

    ``hard_share`` (0-4): how many of 4 draws come from the hard pools; ``huge=False`` leaves
    out the values beyond 2**53 (for float formats whose range they would overflow).
    """
    hw = HARD_WEIGHTS if huge else [w for w in HARD_WEIGHTS if abs(w) < 2**53]
    hb = HARD_BIASES if huge else [b for b in HARD_BIASES if abs(b) < 2**20]
    hi = HARD_INPUTS if huge else [x for x in HARD_INPUTS if abs(x) < 2**20]
    weight = _pool(hw, MODERATE_WEIGHTS, hard_share)
    bias_v = _pool(hb, MODERATE_BIASES, hard_share)
    inp = _pool(hi, MODERATE_INPUTS, hard_share)
    L = draw(st.integers(1, max_layers))
    widths = [draw(st.integers(2, 4)) for _ in range(L + 1)]
    neurons = [[f"L{l}n{i}" for i in range(w)] for l, w in enumerate(widths)]
    empty_at = draw(st.integers(0, L - 1)) if allow_empty_layer and draw(
        st.integers(0, 4)) == 0 else None
    layers = []
    for l in range(L):
        weights = {}
        if l != empty_at:
            for o in neurons[l + 1]:
                k_max = len(neurons[l]) if max_indegree is None else min(max_indegree,
                                                                         len(neurons[l]))
                ins = draw(st.lists(st.sampled_from(neurons[l]), min_size=0, max_size=k_max,
                                    unique=True))
                for i in ins:
                    weights[(o, i)] = draw(weight)
        bias = {}
        for o in neurons[l + 1]:
            if draw(st.booleans()):
                bias[o] = draw(bias_v)
        layers.append((weights, bias, list(neurons[l + 1])))
    n_batch = draw(st.integers(1, 3))
    batch = [f"x{b}" for b in range(n_batch)]
    inputs = {}
    for b in batch:
        feats = draw(st.lists(st.sampled_from(neurons[0]), max_size=len(neurons[0]),
                              unique=True))
        row = {k: draw(inp) for k in feats}
        if row:
            inputs[b] = row
    return NetSpec(layers, neurons, rule or draw(st.sampled_from(["all", "nonzero"])),
                   draw(st.sampled_from(CAPS)), inputs, batch)


@st.composite
def midpoint_sum_network(draw, fmt: str, *, rule: str | None = None) -> NetSpec:
    """One layer whose neurons each add two products of ``fmt`` values: ``3 * 2**i`` times an
    odd significand (the product is exactly a midpoint of ``fmt``: ``p + 1`` significant bits,
    the last one set) and a tiny ``+-c * c``, far below float32's half ulp there. Rounded once
    from the exact (or float64) sum, the result leaves the midpoint by the tiny term's sign;
    rounded through float32 first it ties to even. A zero tiny term leaves an exact tie."""
    f = FORMATS[fmt]
    p = f.p
    c = max(f.min_subnormal, Fraction(1, 2**15))
    tiny = c * c
    # the midpoint product lies in [2**(top-1), 2**top): float32's half ulp there is
    # 2**(top-25), so tiny = 2**-2d needs top > 25 - 2d; and top <= emax + 1 keeps it in range
    s_min = max(0, 26 - (tiny.denominator.bit_length() - 1))
    n_out = draw(st.integers(1, 3))
    outs = [f"o{k}" for k in range(n_out)]
    weights, inputs_row, feats = {}, {}, []
    lo_sig = -(-(1 << p) // 3) | 1                  # the smallest odd >= 2**p / 3
    for k, o in enumerate(outs):
        b_sig = draw(st.integers(lo_sig, (1 << (p - 1)) - 1).map(lambda v: v | 1))
        # 3 * b_sig has p + 1 bits; the product is 3 * b_sig * 2**(top - p - 1)
        top = s_min + draw(st.integers(0, max(0, min(2, f.emax + 1 - s_min))))
        e_b = top - p - 1 - draw(st.integers(-1, 1))  # split the scale between the factors
        e_w = top - p - e_b
        w1 = Fraction(3) * Fraction(2) ** (e_w - 1)
        y1 = Fraction(b_sig) * Fraction(2) ** e_b
        sign = draw(st.sampled_from([1, -1, 0]))
        fa, fc = f"a{k}", f"c{k}"
        weights[(o, fa)] = w1
        inputs_row[fa] = y1
        feats.append(fa)
        if sign:
            weights[(o, fc)] = sign * c
            inputs_row[fc] = c
        feats.append(fc)
    bias = {}
    if draw(st.booleans()):
        bias[outs[0]] = draw(st.sampled_from([Fraction(1, 4), Fraction(-1, 2**20)]))
    neurons = [sorted(feats), outs]
    return NetSpec([(weights, bias, outs)], neurons,
                   rule or draw(st.sampled_from(["all", "nonzero"])), None, {"x": inputs_row},
                   ["x"])
