"""Certified enclosures of ONNX tensors: what a graph computes where a value is not rational.

A :class:`Ball` is a pair ``(lo, hi)`` of :class:`~symdnn.io.onnx_tensor.Exact` tensors
(dyadic rationals in practice) with ``lo <= v <= hi`` for every true value ``v``. Once a node
reads a ball, or its operator is not rational (``Sigmoid``, ``Exp``, an irrational
``BatchNormalization``), :func:`evaluate` computes its output as a ball by the operator's rule
in :data:`RULES`:

* **monotone** operators (``Relu``, ``Add``, ``Concat``, ``Reshape``, ``MaxPool``, ...) run
  their exact kernel on the lower and on the upper endpoints; ``Sub`` and ``Neg`` swap the
  endpoints of the subtracted input;
* **bilinear** operators (``MatMul``, ``Gemm``, ``Conv``, ``ConvTranspose``, ``Mul``) run on
  centres and radii: with ``a = ca ± ra`` and ``b = cb ± rb``, ``f(a, b)`` lies in
  ``f(ca, cb) ± (|f(|ca|, rb)| + |f(ra, |cb|)| + |f(ra, rb)|)`` (sums of products); a bias
  goes through the centre and adds its own radius;
* **decisions** (``Less``, ``Equal``, ``Where``'s condition, ``ArgMax``) are taken only when
  the enclosure decides them, otherwise :class:`~symdnn.errors.UndecidedError`;
* **functions that are not rational** are evaluated in python-flint's ``arb`` ball
  arithmetic at the working precision, and the ``arb`` bounds become exact dyadic endpoints.

After every rule the endpoints are rounded outward to the working precision ``prec``
(relative to the tensor's largest magnitude, :func:`round_out`), so numbers stay bounded.

Examples
--------
>>> from symdnn.io.onnx_tensor import exact_tensor
>>> b = Ball(exact_tensor([0, 1]), exact_tensor([Fraction(1, 2), 1]))
>>> b.shape, b.flat_lo(), b.flat_hi()
((2,), [Fraction(0, 1), Fraction(1, 1)], [Fraction(1, 2), Fraction(1, 1)])
>>> lo, hi = arb_unary(exact_tensor([0]), "sigmoid", 64)
>>> lo.flat(), hi.flat()          # exp(0) = 1 exactly, so sigmoid(0) = 1/2 exactly
([Fraction(1, 2)], [Fraction(1, 2)])
>>> lo, hi = arb_unary(exact_tensor([1]), "sigmoid", 64)
>>> float(lo.flat()[0]), 0 < hi.flat()[0] - lo.flat()[0] <= 2 ** -60
(0.7310585786300049, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from symdnn.errors import GraphError, UndecidedError, ValueDependentError
from symdnn.io.onnx_tensor import FLOAT_FORMATS, MAX_BITS, Exact, align, obj
from symdnn.io.onnxwire import Node

__all__ = ["Ball", "ball", "endpoints", "centre_radius", "round_out", "arb_unary",
           "evaluate", "RULES", "NOT_RATIONAL", "Tensor", "workprec"]

#: the operators whose values are not rational in general (evaluated in ``arb``)
NOT_RATIONAL = frozenset({"Sigmoid", "Tanh", "Softmax", "Exp", "Sin", "Cos",
                          "BatchNormalization"})


@dataclass(frozen=True)
class Ball:
    """An enclosure of a tensor: every true value ``v`` has ``lo <= v <= hi`` (elementwise);
    ``lo`` and ``hi`` are exact tensors of one shape and element type."""

    lo: Exact
    hi: Exact

    @property
    def shape(self) -> tuple[int, ...]:
        return self.lo.shape

    @property
    def elem(self) -> int:
        return self.lo.elem

    @property
    def size(self) -> int:
        return self.lo.num.size

    @property
    def bits(self) -> int:
        return max(self.lo.bits, self.hi.bits)

    def flat_lo(self) -> list[Fraction]:
        """The lower endpoints in C order, as Fractions."""
        return self.lo.flat()

    def flat_hi(self) -> list[Fraction]:
        """The upper endpoints in C order, as Fractions."""
        return self.hi.flat()

    def width(self) -> Fraction:
        """The largest ``hi - lo``."""
        (a, b), den = align(self.lo, self.hi)
        return Fraction(int(np.max(b - a)) if a.size else 0, den)


#: a value of a graph: exact, or enclosed
Tensor = Exact | Ball


def endpoints(t: Tensor) -> tuple[Exact, Exact]:
    """``(lo, hi)`` of a ball, ``(t, t)`` of an exact tensor.

    Examples
    --------
    >>> from symdnn.io.onnx_tensor import exact_tensor
    >>> b = ball(exact_tensor([Fraction(1, 3)]), exact_tensor([Fraction(1, 2)]))
    >>> [t.flat() for t in endpoints(b)]
    [[Fraction(1, 3)], [Fraction(1, 2)]]
    """
    return (t.lo, t.hi) if isinstance(t, Ball) else (t, t)


def ball(lo: Exact, hi: Exact) -> Tensor:
    """The ball ``[lo, hi]``, or the exact tensor where the two are equal.

    Examples
    --------
    >>> from symdnn.io.onnx_tensor import exact_tensor
    >>> isinstance(ball(exact_tensor([1]), exact_tensor([2])), Ball)
    True
    >>> ball(exact_tensor([1]), exact_tensor([1])).flat()   # a point: exact
    [Fraction(1, 1)]
    """
    (a, b), den = align(lo, hi)
    if a.shape != b.shape:
        raise GraphError(f"internal: endpoints of shapes {a.shape} and {b.shape}")
    if not a.size or bool(np.all(a == b)):
        return lo
    return Ball(lo, Exact(hi.num, hi.den, lo.elem))


def centre_radius(t: Tensor) -> tuple[Exact, Exact | None]:
    """``(c, r)`` with every value in ``c ± r``; ``r`` is None for an exact tensor."""
    if not isinstance(t, Ball):
        return t, None
    (a, b), den = align(t.lo, t.hi)
    return (Exact(obj(a + b), 2 * den, t.elem).reduced(),
            Exact(obj(b - a), 2 * den, t.elem).reduced())


def _abs(t: Exact) -> Exact:
    return Exact(obj(np.abs(t.num)), t.den, t.elem)


def _zeros(t: Exact) -> Exact:
    return Exact(np.zeros(t.shape, dtype=object), 1, t.elem)


def _top(nums: np.ndarray, den: int) -> int:
    """An upper bound on ``log2`` of the largest ``|num| / den`` (0 for all zeros)."""
    big = int(np.max(np.abs(nums))) if nums.size else 0
    return big.bit_length() - den.bit_length() + 1 if big else -(1 << 30)


def _shift(prec: int, top: int) -> int:
    """The denominator's exponent ``s`` (``2**s``) that keeps ``prec`` bits below ``2**top``;
    at most ``2 * prec``: values below ``2**-2prec`` are enclosed by ``±2**-2prec``."""
    return min(prec - top, 2 * prec)


def round_out(lo: Exact, hi: Exact, prec: int) -> tuple[Exact, Exact]:
    """``lo`` rounded down and ``hi`` up to multiples of ``2**-s``, where ``s`` keeps
    ``prec`` bits relative to the largest magnitude of the two (at most ``2 * prec``).

    Integer tensors are left as they are. A tensor already on that grid is unchanged.

    Examples
    --------
    >>> from symdnn.io.onnx_tensor import exact_tensor
    >>> lo, hi = round_out(exact_tensor([Fraction(1, 3)]), exact_tensor([Fraction(1, 3)]), 8)
    >>> lo.flat(), hi.flat()
    ([Fraction(85, 256)], [Fraction(43, 128)])
    """
    if lo.elem not in FLOAT_FORMATS:
        return lo, hi
    s = _shift(prec, max(_top(lo.num, lo.den), _top(hi.num, hi.den)))

    def fix(t: Exact, up: bool) -> Exact:
        d = t.den
        if d & (d - 1) == 0 and d.bit_length() - 1 <= max(s, 0):
            return t  # already on the grid
        n = t.num
        if s >= 0:
            q = -((-n * (1 << s)) // d) if up else (n * (1 << s)) // d
            return Exact(obj(q), 1 << s, t.elem).reduced()
        k = d << -s
        q = -((-n) // k) if up else n // k
        return Exact(obj(q * (1 << -s)), 1, t.elem)

    return fix(lo, False), fix(hi, True)


# ------------------------------------------------------------------------ arb
def _flint() -> Any:
    from symdnn._optional import require
    return require("flint", "exact", what="certified enclosures (python-flint's arb)",
                   package="python-flint", pip="python-flint")


@contextmanager
def workprec(flint: Any, prec: int) -> Iterator[None]:
    """``arb`` arithmetic at ``prec`` bits inside the block (the context's precision restored
    after it, whatever happens)."""
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        yield
    finally:
        flint.ctx.prec = old


def _arb(n: int, d: int, flint: Any) -> Any:
    return flint.arb(flint.fmpq(int(n), int(d)))


def _dyadics(values: list, shape: tuple, elem: int, prec: int, where: str) -> tuple[Exact, Exact]:
    """``arb`` balls as exact endpoints: ``lower()`` rounded down and ``upper()`` up to one
    dyadic grid (:func:`round_out`'s). Call it inside the ``workprec`` block that made them:
    ``lower()`` and ``upper()`` round to the context's precision."""
    los, his = [], []
    for v in values:
        if not v.is_finite():
            raise ValueDependentError(f"{where}: a value has no finite enclosure")
        los.append(tuple(int(z) for z in v.lower().man_exp()))
        his.append(tuple(int(z) for z in v.upper().man_exp()))
    top = max((int(m).bit_length() + e for m, e in los + his if m), default=-(1 << 30))
    if top > MAX_BITS:
        raise ValueDependentError(f"{where}: a value of about 2^{top}, more than {MAX_BITS} "
                                  "bits")
    s = _shift(prec, top)

    def fix(m: int, e: int, up: bool) -> int:
        k = e + s
        q = m << k if k >= 0 else (-((-m) >> -k) if up else m >> -k)
        return q if s >= 0 else q << -s

    den = 1 << s if s >= 0 else 1
    lo = Exact(np.array([fix(m, e, False) for m, e in los], dtype=object).reshape(shape),
               den, elem).reduced()
    hi = Exact(np.array([fix(m, e, True) for m, e in his], dtype=object).reshape(shape),
               den, elem).reduced()
    return lo, hi


def _sigmoid(x: Any) -> Any:
    return 1 / (1 + (-x).exp())


#: the elementwise functions :func:`arb_unary` knows, and whether each is nondecreasing
UNARY: dict[str, tuple[Callable, bool]] = {
    "sigmoid": (_sigmoid, True),
    "tanh": (lambda x: x.tanh(), True),
    "exp": (lambda x: x.exp(), True),
    "sin": (lambda x: x.sin(), False),
    "cos": (lambda x: x.cos(), False),
}


def arb_unary(x: Tensor, fn: str, prec: int, where: str = "") -> tuple[Exact, Exact]:
    """An enclosure of an elementwise function (a name of :data:`UNARY`) of ``x``, in ``arb``
    at ``prec`` bits: a nondecreasing one of each endpoint, the others of the ball that holds
    both endpoints.

    Examples
    --------
    >>> from symdnn.io.onnx_tensor import exact_tensor
    >>> lo, hi = arb_unary(exact_tensor([2 ** 60]), "sin", 64)
    >>> float(lo.flat()[0]), float(hi.flat()[0] - lo.flat()[0]) < 2 ** -60
    (-0.8306492176372546, True)
    """
    flint = _flint()
    f, increasing = UNARY[fn]
    lo, hi = endpoints(x)
    ln, hn = lo.num.reshape(-1).tolist(), hi.num.reshape(-1).tolist()
    with workprec(flint, prec):
        if increasing:
            vals = [f(_arb(a, lo.den, flint)).union(f(_arb(b, hi.den, flint)))
                    for a, b in zip(ln, hn, strict=True)]
        else:
            vals = [f(_arb(a, lo.den, flint).union(_arb(b, hi.den, flint)))
                    for a, b in zip(ln, hn, strict=True)]
        return _dyadics(vals, lo.shape, lo.elem, prec, where)


def softmax(x: Tensor, axis: int, prec: int, where: str = "") -> tuple[Exact, Exact]:
    """An enclosure of ``softmax`` of ``x`` along ``axis`` (one axis, already in range).

    ``y_i = 1 / (1 + sum_{j != i} exp(x_j - x_i))`` increases with ``x_i`` and decreases
    with the others, so its lower bound takes ``lo_i`` and every other ``hi_j``, and the upper
    bound the reverse; the sums are taken as ``exp(x_j - M)`` with ``M`` the row's largest
    upper endpoint (no overflow), without cancellation (prefix and suffix sums).
    """
    flint = _flint()
    lo, hi = endpoints(x)
    lm, hm = np.moveaxis(lo.num, axis, -1), np.moveaxis(hi.num, axis, -1)
    shape = lm.shape
    n = shape[-1] if shape else 1
    rows_l, rows_h = lm.reshape(-1, n), hm.reshape(-1, n)
    out: list = []
    with workprec(flint, prec):
        for rl, rh in zip(rows_l.tolist(), rows_h.tolist(), strict=True):
            big = max(Fraction(v, hi.den) for v in rh)
            m = flint.arb(flint.fmpq(big.numerator, big.denominator))
            el = [(_arb(v, lo.den, flint) - m).exp() for v in rl]
            eh = [(_arb(v, hi.den, flint) - m).exp() for v in rh]
            rest_l, rest_h = _others(el, flint), _others(eh, flint)
            out.append([_softmax_one(el[i], eh[i], rest_l[i], rest_h[i], flint)
                        for i in range(n)])
        vals = [v for row in out for v in row]
        a, b = _dyadics(vals, shape, lo.elem, prec, where)
    a = Exact(np.moveaxis(a.num, -1, axis), a.den, a.elem)
    b = Exact(np.moveaxis(b.num, -1, axis), b.den, b.elem)
    return a, b


def _others(es: list, flint: Any) -> list:
    """``sum_{j != i} es[j]`` for every ``i``, from prefix and suffix sums (no subtraction,
    so no cancellation), in linear time."""
    zero = flint.arb(0)
    pre, suf = [zero], [zero]
    for e in es[:-1]:
        pre.append(pre[-1] + e)
    for e in reversed(es[1:]):
        suf.append(suf[-1] + e)
    return [p + q for p, q in zip(pre, reversed(suf), strict=True)]


def _softmax_one(el: Any, eh: Any, rest_l: Any, rest_h: Any, flint: Any) -> Any:
    """The ball from ``el / (el + rest_h)`` (the least) to ``eh / (eh + rest_l)``, in [0, 1]."""
    zero, one = flint.arb(0), flint.arb(1)
    low = el / (el + rest_h)
    high = eh / (eh + rest_l)
    low = low.lower().max(zero) if low.is_finite() else zero
    high = high.upper().min(one) if high.is_finite() else one
    return low.union(high)


# ------------------------------------------------------------------------ rules
Rule = Callable[[Node, Any, list, int], Any]


def _point(node: Node, t: Tensor | None, i: int) -> Exact | None:
    """Input ``i`` where the rule needs it exact."""
    if isinstance(t, Ball):
        raise UndecidedError(f"{node.label}: {node.op_type}'s input {i} is only enclosed "
                             f"(width {float(t.width()):.3g}), and the operator needs its "
                             "exact value")
    return t


def _pairs(node: Node, lo_out: Any, hi_out: Any) -> Any:
    if isinstance(lo_out, tuple):
        return tuple(ball(a, b) for a, b in zip(lo_out, hi_out, strict=True))
    return ball(lo_out, hi_out)


def monotone(data: tuple[int, ...] | None = None, signs: dict[int, int] | None = None) -> Rule:
    """The rule of an operator nondecreasing in its inputs ``data`` (all when None), or
    nonincreasing in those ``signs`` maps to -1; any other input must be exact."""
    signs = signs or {}

    def rule(node: Node, op: Any, ins: list, prec: int) -> Any:
        los, his = [], []
        for i, t in enumerate(ins):
            if t is None or not isinstance(t, Ball):
                los.append(t)
                his.append(t)
                continue
            if data is not None and i not in data and i not in signs:
                _point(node, t, i)
            a, b = (t.hi, t.lo) if signs.get(i) == -1 else (t.lo, t.hi)
            los.append(a)
            his.append(b)
        return _pairs(node, op.run(node, los), op.run(node, his))

    return rule


def _decision(data: tuple[int, ...] | None = None, signs: dict[int, int] | None = None) -> Rule:
    """A comparison monotone in its inputs: decided only where both ends agree."""
    inner = monotone(data, signs)

    def rule(node: Node, op: Any, ins: list, prec: int) -> Any:
        out = inner(node, op, ins, prec)
        if isinstance(out, Ball):
            raise UndecidedError(f"{node.label}: {node.op_type} is not decided by the "
                                 f"enclosures of its inputs at {prec} bits")
        return out

    return rule


def passthrough(node: Node, op: Any, ins: list, prec: int) -> Any:
    """An operator that reads only shapes (``Shape``): the lower endpoints stand for it."""
    return op.run(node, [t.lo if isinstance(t, Ball) else t for t in ins])


def bilinear(node: Node, op: Any, ins: list, prec: int) -> Any:
    """``MatMul``, ``Gemm``, ``Conv``, ``ConvTranspose``, ``Mul``: inputs 0 and 1 by centre
    and radius; an input 2 (the bias) added through the centre and its radius."""
    a, b = ins[0], ins[1]
    bias = ins[2] if len(ins) > 2 else None
    ca, ra = centre_radius(a)
    cb, rb = centre_radius(b)
    cc, rc = centre_radius(bias) if bias is not None else (None, None)
    centre = op.run(node, [ca, cb] + ([cc] if bias is not None else []) + ins[3:])
    terms = []
    if rb is not None:
        terms.append(op.run(node, [_abs(ca), rb]))
    if ra is not None:
        terms.append(op.run(node, [ra, _abs(cb)]))
        if rb is not None:
            terms.append(op.run(node, [ra, rb]))
    if rc is not None:
        terms.append(op.run(node, [_zeros(ca), _zeros(cb), rc]))
    if not terms:
        return centre
    (c, *rs), den = align(centre, *terms)
    r = sum((np.abs(t) for t in rs), np.zeros(c.shape, dtype=object))
    r = np.broadcast_to(r, c.shape)
    return ball(Exact(obj(c - r), den, centre.elem).reduced(),
                Exact(obj(c + r), den, centre.elem).reduced())


def _div(node: Node, op: Any, ins: list, prec: int) -> Any:
    """``a / b`` as ``a * (1 / b)``, ``1 / b`` an interval where ``b``'s excludes 0."""
    from symdnn.io.onnx_ops import op_for
    a, b = ins
    if not isinstance(b, Ball):
        c, r = centre_radius(a)
        centre = op.run(node, [c, b])
        rad = op.run(node, [r, _abs(b)])
        (cn, rn), den = align(centre, rad)
        return ball(Exact(obj(cn - rn), den, centre.elem), Exact(obj(cn + rn), den, centre.elem))
    (lo, hi), _ = align(b.lo, b.hi)
    if not bool(np.all((lo > 0) | (hi < 0))):
        raise UndecidedError(f"{node.label}: the divisor's enclosure contains 0")
    one = Exact(np.ones(b.shape, dtype=object), 1, b.elem)
    r_lo, r_hi = op.run(node, [one, b.hi]), op.run(node, [one, b.lo])  # 1/x decreasing
    r_lo, r_hi = round_out(r_lo, r_hi, prec)
    return bilinear(node, op_for("Mul", 14), [a, ball(r_lo, r_hi)], prec)


def _abs_rule(node: Node, op: Any, ins: list, prec: int) -> Any:
    x = ins[0]
    (lo, hi), den = align(x.lo, x.hi)
    low = np.where(lo >= 0, lo, np.where(hi <= 0, -hi, 0))
    high = np.where(-lo >= hi, -lo, hi)
    return ball(Exact(obj(low), den, x.elem), Exact(obj(high), den, x.elem))


def _equal(node: Node, op: Any, ins: list, prec: int) -> Any:
    """``Equal`` where the enclosures decide it: both exact and equal, or disjoint."""
    from symdnn.io.onnx_tensor import BOOL
    (al, ah, bl, bh), _ = align(*endpoints(ins[0]), *endpoints(ins[1]))
    true = (al == ah) & (bl == bh) & (al == bl)
    false = (ah < bl) | (bh < al)
    if not bool(np.all(true | false)):
        raise UndecidedError(f"{node.label}: Equal is not decided by the enclosures of its "
                             f"inputs at {prec} bits")
    return Exact(obj(np.where(true, 1, 0)), 1, BOOL)


def _argmax(node: Node, op: Any, ins: list, prec: int) -> Any:
    """``ArgMax`` where the enclosure decides it: one element's lower end above every other
    element's upper end (or the whole row exact)."""
    x = ins[0]
    attrs = {k: a.value for k, a in node.attributes.items()}
    axis, keep, last = attrs.get("axis", 0), attrs.get("keepdims", 1), \
        attrs.get("select_last_index", 0)
    r = len(x.shape)
    if not -r <= axis < r:
        raise GraphError(f"{node.label}: axis {axis} is out of range for rank {r}")
    axis %= r
    (lo, hi), _ = align(x.lo, x.hi)
    lo, hi = np.moveaxis(lo, axis, -1), np.moveaxis(hi, axis, -1)
    n = lo.shape[-1]
    rl, rh = lo.reshape(-1, n).tolist(), hi.reshape(-1, n).tolist()
    idx = []
    for row_l, row_h in zip(rl, rh, strict=True):
        if row_l == row_h:
            m = max(row_l)
            k = (n - 1 - row_l[::-1].index(m)) if last else row_l.index(m)
        else:
            k = max(range(n), key=lambda j: row_l[j])
            if any(row_h[j] >= row_l[k] for j in range(n) if j != k):
                raise UndecidedError(f"{node.label}: ArgMax is not decided by the enclosure "
                                     f"of its input at {prec} bits")
        idx.append(k)
    shape = lo.shape[:-1]
    out = np.array(idx, dtype=object).reshape(shape)
    if keep:
        out = np.expand_dims(out, axis)
    return Exact(obj(out), 1, 7)


def _pow(node: Node, op: Any, ins: list, prec: int) -> Any:
    """``Pow`` with an exact integer exponent: monotone pieces of ``x**n``."""
    x, e = ins[0], _point(node, ins[1], 1)
    if any(v % e.den for v in e.num.reshape(-1).tolist()):
        raise GraphError(f"{node.label}: Pow of an enclosure needs an integer exponent")
    shape = np.broadcast_shapes(x.shape, e.shape)
    lo = np.broadcast_to(np.array(x.flat_lo(), dtype=object).reshape(x.shape), shape)
    hi = np.broadcast_to(np.array(x.flat_hi(), dtype=object).reshape(x.shape), shape)
    ex = np.broadcast_to(e.num // e.den, shape)
    los, his = [], []
    for a, b, n in zip(lo.reshape(-1).tolist(), hi.reshape(-1).tolist(),
                       ex.reshape(-1).tolist(), strict=True):
        n = int(n)
        if n < 0 and a <= 0 <= b:
            raise UndecidedError(f"{node.label}: Pow with exponent {n} of an enclosure that "
                                 "contains 0")
        pa, pb = a ** n, b ** n
        if n % 2 == 0 and a < 0 < b:
            los.append(Fraction(0) if n > 0 else min(pa, pb))
            his.append(max(pa, pb))
        else:
            los.append(min(pa, pb))
            his.append(max(pa, pb))
    from symdnn.io.onnx_tensor import exact_tensor
    return ball(exact_tensor(np.array(los, dtype=object).reshape(shape), x.elem),
                exact_tensor(np.array(his, dtype=object).reshape(shape), x.elem))


def _resize(node: Node, op: Any, ins: list, prec: int) -> Any:
    a = node.attributes.get("mode")
    mode = a.value.decode() if a is not None and isinstance(a.value, bytes) else \
        (a.value if a is not None else "nearest")
    if mode == "cubic":  # its weights are not all nonnegative
        raise GraphError(f"{node.label}: Resize mode 'cubic' of an enclosure is not supported")
    return monotone((0,))(node, op, ins, prec)


def _scatter(node: Node, op: Any, ins: list, prec: int) -> Any:
    a = node.attributes.get("reduction")
    red = a.value.decode() if a is not None and isinstance(a.value, bytes) else \
        (a.value if a is not None else "none")
    if red == "mul":
        raise GraphError(f"{node.label}: ScatterND reduction 'mul' of an enclosure is not "
                         "supported")
    return monotone((0, 2))(node, op, ins, prec)


def _real(name: str) -> Rule:
    def rule(node: Node, op: Any, ins: list, prec: int) -> Any:
        return ball(*arb_unary(ins[0], name, prec, node.label))
    return rule


def _softmax_rule(node: Node, op: Any, ins: list, prec: int) -> Any:
    return op.enclose(node, ins, prec)


def _batchnorm_rule(node: Node, op: Any, ins: list, prec: int) -> Any:
    return op.enclose(node, ins, prec)


_ALL = monotone()
_FIRST = monotone((0,))

#: op_type -> its enclosure rule ``rule(node, op_class, inputs, prec)``; an operator missing
#: here is refused, naming the node, when it meets an enclosure
RULES: dict[str, Rule] = {
    # nondecreasing in every input
    "Relu": _ALL, "Add": _ALL, "Sum": _ALL, "Max": _ALL, "Min": _ALL, "Clip": _ALL,
    "Concat": _ALL, "Identity": _ALL, "Flatten": _ALL, "Transpose": _ALL, "Floor": _ALL,
    "Sign": _ALL, "Cast": _ALL, "CastLike": monotone((0,), {1: 1}),
    # nondecreasing in the data, the other inputs (shapes, axes, indices) exact
    "Reshape": _FIRST, "Squeeze": _FIRST, "Unsqueeze": _FIRST, "Expand": _FIRST,
    "Slice": _FIRST, "Gather": _FIRST, "Split": _FIRST, "Dropout": _FIRST,
    "MaxPool": _FIRST, "AveragePool": _FIRST, "ReduceSum": _FIRST, "ReduceMean": _FIRST,
    "GlobalMaxPool": _FIRST, "GlobalAveragePool": _FIRST,
    "Pad": monotone((0, 2)), "Resize": _resize, "ScatterND": _scatter,
    "Where": monotone((1, 2)),
    # antitone in the subtracted input
    "Neg": monotone((), {0: -1}), "Sub": monotone((0,), {1: -1}),
    # bilinear
    "MatMul": bilinear, "Gemm": bilinear, "Conv": bilinear, "ConvTranspose": bilinear,
    "Mul": bilinear, "Div": _div,
    # piecewise
    "Abs": _abs_rule, "Pow": _pow,
    # decisions
    "Less": _decision((), {0: -1, 1: 1}), "Greater": _decision((), {0: 1, 1: -1}),
    "Equal": _equal, "ArgMax": _argmax,
    # shapes only
    "Shape": passthrough, "ConstantOfShape": _decision((), {}), "Constant": _ALL,
    # not rational: arb
    "Sigmoid": _real("sigmoid"), "Tanh": _real("tanh"), "Exp": _real("exp"),
    "Sin": _real("sin"), "Cos": _real("cos"), "Softmax": _softmax_rule,
    "BatchNormalization": _batchnorm_rule,
}


def evaluate(node: Node, op: Any, ins: list, prec: int, op_type: str | None = None) -> Any:
    """The enclosure of a node's output(s) from its inputs (exact tensors or balls), by its
    operator's rule (that of ``op_type`` when given: an operator made of others, as
    ``BatchNormalization`` is of ``Sub``, ``Mul`` and ``Add``), rounded outward to ``prec``
    bits.

    Raises
    ------
    GraphError
        Naming the node, for an operator with no rule.
    UndecidedError
        Where the rule needs a decision the enclosures do not make.
    """
    op_type = op_type or node.op_type
    rule = RULES.get(op_type)
    if rule is None and getattr(op, "monotone", False):
        rule = _FIRST  # nondecreasing in its first input (the registry says so)
    if rule is None:
        raise GraphError(f"{node.label}: {op_type} of an enclosure is not supported "
                         f"(operators with a rule: {', '.join(sorted(RULES))})")
    out = rule(node, op, ins, prec)
    if isinstance(out, tuple):
        return tuple(_rounded(o, prec) for o in out)
    return _rounded(out, prec)


def _rounded(t: Tensor, prec: int) -> Tensor:
    if not isinstance(t, Ball):
        return t
    return ball(*round_out(t.lo, t.hi, prec))


def contains(t: Tensor, values: Any) -> bool:
    """Whether every one of ``values`` (exact numbers, C order) lies in the enclosure.

    Examples
    --------
    >>> from symdnn.io.onnx_tensor import exact_tensor
    >>> b = ball(exact_tensor([0, 1]), exact_tensor([1, 2]))
    >>> contains(b, [Fraction(1, 2), 2]), contains(b, [2, 2])
    (True, False)
    """
    lo, hi = endpoints(t)
    return all(a <= Fraction(v) <= b for a, v, b in
               zip(lo.flat(), list(values), hi.flat(), strict=True))

