"""An independent oracle for symdnn: correct rounding and exact network evaluation.

This module shares no code with symdnn and imports nothing outside the Python standard library
(``fractions``, ``math``, ``dataclasses``). It is written to be read and checked by hand:

* :data:`FORMATS`: the six binary formats (precision, exponent range, bias, field widths).
* :func:`round_fraction`: an exact rational rounded to a format, returned as the *bit pattern*
  (an unsigned int) of the correctly rounded value: round to nearest, ties to even, gradual
  underflow through the subnormals, overflow to +-inf (to NaN in ``fp8_e4m3``, which has no
  infinity), and -0 for a negative value that rounds to zero. Integer arithmetic only: no
  ``float()`` anywhere on the way.
* :func:`bits_to_fraction`: a bit pattern decoded to its exact value (a ``Fraction``), or one of
  the strings ``"nan"``, ``"inf"``, ``"-inf"``.
* :func:`narrow_bits`: a value of one format (given by its bit pattern) rounded once into another.
* :func:`evaluate`: a sparse ReLU network evaluated entry by entry in exact rationals, with
  both bias rules and a rational cap.
* :func:`evaluate_float`: a model of a float run of the same network (every weight, bias, input
  and the cap rounded once into the format; products and sums in an accumulation format; one
  rounding from that format into the network's format).

Formats (``p`` counts the implicit bit; a normal value is ``m * 2**(e - p + 1)`` with
``2**(p-1) <= m < 2**p`` and ``emin <= e <= emax``; subnormals have ``e = emin``, ``m < 2**(p-1)``):

=========  ==  =====  =====  ====  =====  ===================================
format      p   emin   emax  bias  width  specials
=========  ==  =====  =====  ====  =====  ===================================
fp64       53  -1022   1023  1023     64  IEEE inf / NaN
fp32       24   -126    127   127     32  IEEE inf / NaN
fp16       11    -14     15    15     16  IEEE inf / NaN
bf16        8   -126    127   127     16  IEEE inf / NaN
fp8_e4m3    4     -6      8     7      8  OCP E4M3FN: no inf; S.1111.111 is NaN; max 448
fp8_e5m2    3    -14     15    15      8  IEEE inf / NaN; max 57344
=========  ==  =====  =====  ====  =====  ===================================
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "Format", "FORMATS", "NAN", "INF", "NEG_INF", "round_fraction", "bits_to_fraction",
    "narrow_bits", "is_nan_bits", "sign_bit", "neighbours", "round_value", "Result",
    "evaluate", "evaluate_float", "floor_log2",
]

NAN, INF, NEG_INF = "nan", "inf", "-inf"


@dataclass(frozen=True)
class Format:
    """A binary floating-point format, described by its fields."""

    name: str
    exp_bits: int
    man_bits: int          # stored mantissa bits (p - 1)
    bias: int
    has_inf: bool          # False: OCP E4M3FN (all-ones exponent is still a normal binade)

    @property
    def width(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def p(self) -> int:
        """Precision: significand bits including the implicit one."""
        return self.man_bits + 1

    @property
    def emin(self) -> int:
        return 1 - self.bias

    @property
    def emax(self) -> int:
        top = (1 << self.exp_bits) - 1        # the all-ones exponent field
        return (top - 1 if self.has_inf else top) - self.bias

    @property
    def max_significand(self) -> int:
        """Largest significand of the top binade: all ones, except E4M3FN where all ones is NaN."""
        full = (1 << self.p) - 1
        return full if self.has_inf else full - 1

    @property
    def max_finite(self) -> Fraction:
        return Fraction(self.max_significand) * Fraction(2) ** (self.emax - self.p + 1)

    @property
    def min_subnormal(self) -> Fraction:
        return Fraction(1, 2 ** (self.p - 1 - self.emin))

    @property
    def min_normal(self) -> Fraction:
        return Fraction(2) ** self.emin

    @property
    def sign_mask(self) -> int:
        return 1 << (self.width - 1)

    @property
    def max_finite_bits(self) -> int:
        """Bit pattern of +max_finite."""
        return ((self.emax + self.bias) << self.man_bits) | (self.max_significand
                                                              - (1 << self.man_bits))

    @property
    def inf_bits(self) -> int | None:
        return ((1 << self.exp_bits) - 1) << self.man_bits if self.has_inf else None

    @property
    def nan_bits(self) -> int:
        """The canonical quiet NaN (positive)."""
        top = ((1 << self.exp_bits) - 1) << self.man_bits
        if self.has_inf:
            return top | (1 << (self.man_bits - 1))
        return top | ((1 << self.man_bits) - 1)


FORMATS: dict[str, Format] = {
    f.name: f for f in (
        Format("fp64", 11, 52, 1023, True),
        Format("fp32", 8, 23, 127, True),
        Format("fp16", 5, 10, 15, True),
        Format("bf16", 8, 7, 127, True),
        Format("fp8_e4m3", 4, 3, 7, False),
        Format("fp8_e5m2", 5, 2, 15, True),
    )
}


def _fmt(fmt: str | Format) -> Format:
    return fmt if isinstance(fmt, Format) else FORMATS[fmt]


def floor_log2(a: int, b: int) -> int:
    """``floor(log2(a / b))`` for positive integers ``a``, ``b``."""
    e = a.bit_length() - b.bit_length()
    # now 2**(e-1) < a/b < 2**(e+1); step down once if a/b < 2**e
    if e >= 0:
        if a < (b << e):
            e -= 1
    elif (a << -e) < b:
        e -= 1
    return e


def _div_round_half_even(n: int, d: int) -> int:
    """``n / d`` (n >= 0, d > 0) rounded to the nearest integer, ties to even."""
    q, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and q % 2 == 1):
        q += 1
    return q


def _overflow_bits(f: Format, negative: bool) -> int:
    if f.has_inf:
        return f.inf_bits | (f.sign_mask if negative else 0)
    return f.nan_bits | (f.sign_mask if negative else 0)


def round_fraction(x: Fraction | int | str, fmt: str | Format) -> int:
    """The bit pattern of ``x`` correctly rounded into ``fmt``.

    ``x`` is an exact rational (``Fraction`` or ``int``), or one of ``"inf"``, ``"-inf"``,
    ``"nan"``. Round to nearest, ties to even, with an unbounded exponent above and the
    format's subnormals below; a result beyond the largest finite value overflows to +-inf
    (NaN for ``fp8_e4m3``). A negative value that rounds to zero gives -0.
    """
    f = _fmt(fmt)
    if isinstance(x, str):
        if x == NAN:
            return f.nan_bits
        if x in (INF, NEG_INF):
            return _overflow_bits(f, x == NEG_INF)
        raise ValueError(f"not a value: {x!r}")
    x = Fraction(x)
    negative = x < 0
    sign = f.sign_mask if negative else 0
    a, b = abs(x.numerator), x.denominator
    if a == 0:
        return 0
    e = floor_log2(a, b)                     # 2**e <= |x| < 2**(e+1)
    q = max(e, f.emin) - (f.p - 1)           # weight of the last significand bit
    # m = round(|x| / 2**q), ties to even, in integers
    if q >= 0:
        m = _div_round_half_even(a, b << q)
    else:
        m = _div_round_half_even(a << -q, b)
    if m == 0:
        return sign                          # underflow to (signed) zero
    if m == 1 << f.p:                        # rounding carried into the next binade
        m >>= 1
        q += 1
    # the value is now m * 2**q with m < 2**p
    if q + f.p - 1 > f.emax or (q + f.p - 1 == f.emax and m > f.max_significand):
        return _overflow_bits(f, negative)
    if m < (1 << f.man_bits):                # subnormal: exponent field 0
        return sign | m
    efield = q + f.p - 1 + f.bias
    return sign | (efield << f.man_bits) | (m - (1 << f.man_bits))


def sign_bit(bits: int, fmt: str | Format) -> bool:
    return bool(bits & _fmt(fmt).sign_mask)


def is_nan_bits(bits: int, fmt: str | Format) -> bool:
    f = _fmt(fmt)
    mag = bits & (f.sign_mask - 1)
    top = ((1 << f.exp_bits) - 1) << f.man_bits
    if f.has_inf:
        return mag > top
    return mag == top | ((1 << f.man_bits) - 1)


def bits_to_fraction(bits: int, fmt: str | Format) -> Fraction | str:
    """The exact value of a bit pattern: a ``Fraction`` (both zeros give 0), or ``"nan"``,
    ``"inf"``, ``"-inf"``."""
    f = _fmt(fmt)
    if not 0 <= bits < (1 << f.width):
        raise ValueError(f"{bits} is not a {f.width}-bit pattern")
    negative = bool(bits & f.sign_mask)
    efield = (bits >> f.man_bits) & ((1 << f.exp_bits) - 1)
    man = bits & ((1 << f.man_bits) - 1)
    if is_nan_bits(bits, f):
        return NAN
    if f.has_inf and efield == (1 << f.exp_bits) - 1:
        return NEG_INF if negative else INF
    if efield == 0:
        m, e = man, f.emin
    else:
        m, e = man | (1 << f.man_bits), efield - f.bias
    v = Fraction(m) * Fraction(2) ** (e - f.man_bits)
    return -v if negative else v


def narrow_bits(bits: int, src: str | Format, dst: str | Format) -> int:
    """A value of format ``src`` rounded once into ``dst`` (the sign of zero and of NaN-free
    specials is kept)."""
    v = bits_to_fraction(bits, src)
    if isinstance(v, Fraction) and v == 0:
        return _fmt(dst).sign_mask if sign_bit(bits, src) else 0
    return round_fraction(v, dst)


def neighbours(bits: int, fmt: str | Format) -> tuple[Fraction, Fraction, bool]:
    """For a non-negative finite pattern ``bits``: its value ``lo``, the next larger value ``hi``
    (for the largest finite value: ``max + ulp``, the first value beyond the format), and whether
    ``hi`` is an overflow."""
    f = _fmt(fmt)
    lo = bits_to_fraction(bits, f)
    if bits == f.max_finite_bits:
        ulp = Fraction(2) ** (f.emax - f.p + 1)
        return lo, lo + ulp, True
    return lo, bits_to_fraction(bits + 1, f), False


def round_value(v: Fraction | str, fmt: str | Format) -> Fraction | str:
    """An exact value (or ``"inf"``/``"-inf"``/``"nan"``) rounded into ``fmt`` and decoded back:
    the value the format holds (zeros unsigned)."""
    return bits_to_fraction(round_fraction(v, fmt), fmt)


# ---------------------------------------------------------------------------------------------
# network evaluation
# ---------------------------------------------------------------------------------------------
@dataclass
class Result:
    """What :func:`evaluate` / :func:`evaluate_float` computed.

    ``outputs[b][o]`` is the output of neuron ``o`` for batch key ``b`` (every neuron of the last
    layer, zeros included); ``pre[l][b][o]`` the pre-activation at layer ``l`` where the bias
    rule defines one (rule ``"nonzero"``: only where ``W y`` is nonzero); ``post[l][b][o]`` the
    activation after layer ``l``. Float runs: ``saw_nan`` says whether any NaN arose (an input,
    a product, a sum, a pre-activation), ``saw_inf`` whether a pre- or post-activation is
    infinite.
    """

    outputs: dict
    pre: list
    post: list
    saw_nan: bool = False
    saw_inf: bool = False

    @property
    def finite(self) -> bool:
        """No NaN arose and no pre- or post-activation is infinite."""
        return not (self.saw_nan or self.saw_inf)

    @staticmethod
    def _nz(d: dict) -> dict:
        return {(b, o): v for b, row in d.items() for o, v in row.items() if v != 0}

    def nonzero_outputs(self) -> dict:
        """``{(batch key, neuron): value}`` for the nonzero outputs."""
        return self._nz(self.outputs)

    def nonzero_pre(self, layer: int) -> dict:
        return self._nz(self.pre[layer])

    def nonzero_post(self, layer: int) -> dict:
        return self._nz(self.post[layer])


def _layer_parts(layer: tuple) -> tuple[dict, dict, list]:
    """``(weights, bias)`` or ``(weights, bias, outputs)``: the output neurons are the given
    ones together with every neuron the weights or the bias name."""
    weights, bias = layer[0], layer[1]
    outs = set(layer[2]) if len(layer) > 2 and layer[2] is not None else set()
    outs |= {o for (o, _) in weights} | set(bias)
    incoming: dict = {}
    for (o, i), w in weights.items():
        incoming.setdefault(o, []).append((i, w))
    for o in incoming:
        incoming[o].sort(key=lambda t: t[0])  # input-key order
    return incoming, bias, sorted(outs)


def evaluate(layers: list, inputs: dict, *, rule: str = "all", cap: Fraction | None = None,
             batch: list | None = None) -> Result:
    """Evaluate ``y_{l+1} = h(W_l y_l + b_l)`` exactly, entry by entry, in ``Fraction``.

    Parameters
    ----------
    layers : list of ``(weights, bias)`` or ``(weights, bias, outputs)``
        ``weights = {(out, in): Fraction}`` (column convention), ``bias = {out: Fraction}``,
        ``outputs`` an optional list of output neurons (neurons with no weight and no bias).
    inputs : dict
        ``{batch key: {feature: Fraction}}``.
    rule : ``"all"`` or ``"nonzero"``
        ``"all"``: the bias is added to every neuron. ``"nonzero"`` (Graph Challenge): the bias
        is added only where ``W y`` is exactly nonzero; elsewhere the neuron outputs 0 and has
        no pre-activation.
    cap : Fraction, optional
        ``h(z) = min(max(z, 0), cap)``; no cap when None.
    batch : list, optional
        The batch keys to run (default: the keys of ``inputs``). A key with no features still
        runs and gives ``h(b)`` under rule ``"all"``.
    """
    if rule not in ("all", "nonzero"):
        raise ValueError(rule)
    parts = [_layer_parts(layer) for layer in layers]
    keys = list(inputs) if batch is None else list(batch)
    pre = [{} for _ in layers]
    post = [{} for _ in layers]
    outputs = {}
    for b in keys:
        y = {k: Fraction(v) for k, v in inputs.get(b, {}).items() if v != 0}
        for lnum, (incoming, bias, outs) in enumerate(parts):
            new = {}
            for o in outs:
                terms = [Fraction(w) * y[i] for i, w in incoming.get(o, ()) if i in y]
                wy = sum(terms, Fraction(0))
                if rule == "nonzero" and wy == 0:
                    new[o] = Fraction(0)
                    continue
                z = wy + Fraction(bias.get(o, 0))
                pre[lnum].setdefault(b, {})[o] = z
                h = z if z > 0 else Fraction(0)
                if cap is not None and h > cap:
                    h = Fraction(cap)
                new[o] = h
            post[lnum][b] = dict(new)
            y = {k: v for k, v in new.items() if v != 0}
        outputs[b] = post[-1][b] if layers else {}
    return Result(outputs, pre, post)


# ---- extended values for float runs: Fraction, or "inf", "-inf", "nan" ----------------------
def _xmul(a, b):
    if NAN in (a, b):
        return NAN
    if isinstance(a, str) or isinstance(b, str):
        fa = a if isinstance(a, Fraction) else None
        fb = b if isinstance(b, Fraction) else None
        if fa == 0 or fb == 0:
            return NAN                               # 0 * inf
        neg = ((a == NEG_INF) if isinstance(a, str) else a < 0) != \
              ((b == NEG_INF) if isinstance(b, str) else b < 0)
        return NEG_INF if neg else INF
    return a * b


def _xadd(a, b):
    if NAN in (a, b):
        return NAN
    if isinstance(a, str) and isinstance(b, str):
        return a if a == b else NAN                  # inf + -inf
    if isinstance(a, str):
        return a
    if isinstance(b, str):
        return b
    return a + b


def _xpos(a) -> bool:
    """``a > 0`` (False for NaN)."""
    if isinstance(a, str):
        return a == INF
    return a > 0


def _xgt(a, b) -> bool:
    """``a > b`` for a non-NaN ``a`` and a finite ``b``."""
    if isinstance(a, str):
        return a == INF
    return a > b


def evaluate_float(layers: list, inputs: dict, *, fmt: str, acc: str | None = None,
                   rule: str = "all", cap: Fraction | None = None,
                   batch: list | None = None) -> Result:
    """A float run of the network of :func:`evaluate`, in format ``fmt`` accumulating in
    ``acc`` (default: ``fmt``).

    The model:

    1. every weight, bias, input and the cap is rounded once, from its exact value, into
       ``fmt``;
    2. every product of two ``fmt`` values is computed exactly and rounded to ``acc``; the
       products of a neuron are summed in input-key order, each partial sum rounded to ``acc``;
    3. the sum (an ``acc`` value) is rounded once into ``fmt``;
    4. rule ``"nonzero"``: where that ``fmt`` value is zero (or the neuron has no product at all)
       the neuron has no pre-activation and outputs 0; otherwise (and always under ``"all"``)
       the bias is added: the exact sum of the two ``fmt`` values rounded to ``fmt``;
    5. ReLU: ``z if z > 0 else 0`` (NaN gives 0 and sets ``saw_nan``); the cap is
       ``min(h, cap rounded into fmt)``.

    The summation order is the sorted input-key order; a fast engine may add in another order,
    so compare with one only where the order cannot matter (at most two products per neuron, or
    every partial sum exact). Zeros are unsigned here (a -0 never changes a later nonzero
    value in this computation). Values are ``Fraction`` or ``"inf"``, ``"-inf"``, ``"nan"``.
    """
    A = acc or fmt

    def to_f(v):
        return round_value(v, fmt)

    def to_a(v):
        return round_value(v, A)

    parts = [_layer_parts(layer) for layer in layers]
    rounded = []
    for incoming, bias, outs in parts:
        inc = {o: [(i, to_f(Fraction(w))) for i, w in lst] for o, lst in incoming.items()}
        bs = {o: to_f(Fraction(v)) for o, v in bias.items()}
        rounded.append((inc, bs, outs))
    capf = None if cap is None else to_f(Fraction(cap))
    if capf is not None and not isinstance(capf, Fraction):
        raise ValueError(f"cap {cap} does not round to a finite {fmt} value")
    keys = list(inputs) if batch is None else list(batch)
    pre = [{} for _ in layers]
    post = [{} for _ in layers]
    outputs = {}
    saw_nan = False
    for b in keys:
        y = {}
        for k, v in inputs.get(b, {}).items():
            if v != 0:  # a stored entry stays one even when it rounds to 0 (0 * inf = NaN)
                y[k] = to_f(Fraction(v))
                saw_nan |= y[k] == NAN
        for lnum, (inc, bias, outs) in enumerate(rounded):
            new = {}
            for o in outs:
                total = None
                for i, w in inc.get(o, ()):
                    if i not in y:
                        continue
                    prod = to_a(_xmul(w, y[i]))
                    total = prod if total is None else to_a(_xadd(total, prod))
                s = Fraction(0) if total is None else to_f(total)
                if rule == "nonzero" and (total is None or s == 0):
                    new[o] = Fraction(0)
                    continue
                z = to_f(_xadd(s, bias.get(o, Fraction(0))))
                saw_nan |= z == NAN
                pre[lnum].setdefault(b, {})[o] = z
                h = z if _xpos(z) else Fraction(0)
                if capf is not None and _xgt(h, capf):
                    h = capf
                new[o] = h
            post[lnum][b] = dict(new)
            y = {k: v for k, v in new.items() if v != 0}
        outputs[b] = post[-1][b] if layers else {}
    saw_inf = any(isinstance(v, str) and v != NAN
                  for layer in (pre + post) for row in layer.values() for v in row.values())
    return Result(outputs, pre, post, saw_nan, saw_inf)
