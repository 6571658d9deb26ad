"""Exact sign decisions for the symbolic runs of the reference engine.

A symbolic run (``arith="symbolic"``) applies the ReLU, the cap and the Graph Challenge bias
rule to SymPy expressions, so it must decide signs: is a pre-activation positive, is ``W y``
zero. :func:`signs` answers with the set of signs (-1, 0, 1) an expression can take over a box
of symbol bounds and under the symbols' SymPy assumptions. The set is always *sound*: every
sign the expression takes somewhere in the box is in it. It may hold more (then the caller
cannot decide and says so), never less. Only exact means are used, never floats:

* SymPy's assumption system (``is_positive``, ``is_nonnegative``, ...);
* ``Max``, ``Min``, ``Abs`` and ``Piecewise`` are split into their cases; a case whose
  condition is linear in one bounded symbol narrows that symbol's bounds (or is dropped when
  the narrowed box is empty);
* a rational function is decided by the signs of its numerator and its denominator;
* a polynomial multilinear in the bounded symbols takes its extremes at the corners of the
  box (exact range);
* a polynomial in one symbol is decided by counting its real roots exactly (Sturm sequences)
  on the interval, splitting it until each part holds at most one root;
* any other polynomial gets a rational interval enclosure, refined by splitting the box a
  bounded number of times.

Examples
--------
>>> import sympy
>>> t = sympy.Symbol("t")
>>> sorted(signs(t + 1, {t: (0, 1)})), sorted(signs(t, {t: (0, 1)}))
([1], [0, 1])
>>> sorted(signs(sympy.Max(0, t) - t, {t: (-1, 1)}))     # max(0, t) >= t, equal for t >= 0
[0, 1]
>>> sorted(signs(t / (t + 2) - 1, {t: (0, 1)}))          # -2 / (t + 2) < 0
[-1]
>>> sorted(signs(t**2 - t, {t: (0, 1)}))                 # in [-1/4, 0]
[-1, 0]
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy.core.relational import Relational

from symdnn.errors import ArgumentError

__all__ = ["ALL", "signs", "normalize_bounds"]

#: Every sign: nothing is known.
ALL: frozenset = frozenset({-1, 0, 1})

_CASES = 256      # cases (Max/Min/Piecewise branches) explored per call
_CORNERS = 12     # at most 2**12 corners for the multilinear rule
_SPLITS = 64      # sub-boxes for interval enclosures of other polynomials
_FACTOR_TERMS = 64  # factor polynomials of at most this many terms for a second enclosure
_PIECEWISE = (sympy.Max, sympy.Min, sympy.Abs, sympy.Piecewise)
_SYMPY_ERRORS = (sympy.PolynomialError, sympy.SympifyError, TypeError, ValueError,
                 NotImplementedError, ArithmeticError, RecursionError)


def normalize_bounds(bounds: dict | None) -> dict:
    """``{Symbol: (lo, hi)}`` with SymPy rationals, ``lo <= hi``.

    Keys may be symbols or their names; values pairs of exact numbers (ints, Fractions,
    strings such as ``"1/3"``, SymPy rationals).

    Raises
    ------
    ArgumentError
        When a bound is not an exact rational or ``lo > hi``.
    """
    out: dict = {}
    for k, v in (bounds or {}).items():
        s = k if isinstance(k, sympy.Symbol) else sympy.Symbol(str(k))
        try:
            lo, hi = (sympy.Rational(str(x)) if not isinstance(x, sympy.Rational) else x
                      for x in v)
        except (TypeError, ValueError, sympy.SympifyError) as exc:
            raise ArgumentError(f"bounds for {s}: {v!r} is not a pair of exact rationals") from exc
        if lo > hi:
            raise ArgumentError(f"bounds for {s}: the interval [{lo}, {hi}] is empty")
        out[s] = (lo, hi)
    return out


def _lookup(bounds: dict, e: Any) -> dict:
    """The box for the free symbols of ``e``: exact symbol match first, else by name when
    exactly one bounded symbol has that name (``bounds={"b": ...}`` for ``Symbol("b",
    positive=True)``)."""
    names: dict = {}
    for s in bounds:
        names.setdefault(s.name, []).append(s)
    box = {}
    for s in e.free_symbols:
        if s in bounds:
            box[s] = bounds[s]
        elif len(names.get(getattr(s, "name", None), ())) == 1:
            box[s] = bounds[names[s.name][0]]
    return box


def signs(e: Any, bounds: dict | None = None) -> frozenset:
    """The signs ``e`` can take where every bounded symbol lies in its closed interval.

    Parameters
    ----------
    e : sympy.Expr or number
    bounds : dict, optional
        ``{symbol: (lo, hi)}`` (see :func:`normalize_bounds`); symbols without bounds are
        constrained only by their SymPy assumptions.

    Returns
    -------
    frozenset of {-1, 0, 1}
        A sound over-approximation: ``{1}`` means ``e > 0`` everywhere on the box, ``{0, 1}``
        ``e >= 0``, ``{0}`` ``e == 0``, and :data:`ALL` that nothing could be decided.

    Examples
    --------
    >>> import sympy
    >>> b = sympy.Symbol("b")
    >>> sorted(signs(1 / (b + 2), {b: (0, 1)})), sorted(signs(b))
    ([1], [-1, 0, 1])
    """
    e = sympy.sympify(e)
    box = _lookup(normalize_bounds(bounds), e) if bounds else {}
    try:
        return _signs(e, box, [_CASES])
    except _SYMPY_ERRORS:  # SymPy could not follow one of the exact routes: undecided (sound)
        return ALL


def _number_signs(e: Any) -> frozenset:
    if e.is_Rational:
        return frozenset({1 if e.p > 0 else -1 if e.p < 0 else 0})
    if e is sympy.nan or e.has(sympy.zoo, sympy.nan):
        return ALL
    if e.is_zero:
        return frozenset({0})
    if e.is_extended_positive:
        return frozenset({1})
    if e.is_extended_negative:
        return frozenset({-1})
    return ALL


def _assumed(e: Any) -> frozenset:
    """What SymPy's assumptions alone say about the sign of ``e``."""
    if e.is_zero:
        return frozenset({0})
    out = set(ALL)
    if e.is_extended_positive or e.is_extended_negative or e.is_zero is False:
        out.discard(0)
    if e.is_extended_nonnegative:
        out.discard(-1)
    if e.is_extended_nonpositive:
        out.discard(1)
    return frozenset(out) or ALL


def _signs(e: Any, box: dict, budget: list) -> frozenset:
    fixed = {s: lo for s, (lo, hi) in box.items() if lo == hi and s in e.free_symbols}
    if fixed:
        e = e.subs(fixed)
    if e.is_number:
        return _number_signs(e)
    assumed = _assumed(e)
    if len(assumed) == 1:
        return assumed
    box = {s: v for s, v in box.items() if s in e.free_symbols}
    found = _split(e, box, budget)
    if found is None:
        found = _rational(e, box, budget)
    return (found & assumed) or assumed


def _innermost(e: Any) -> Any:
    cands = [a for a in e.atoms(*_PIECEWISE) if not any(x.has(*_PIECEWISE) for x in a.args)]
    return min(cands, key=sympy.default_sort_key) if cands else None


def _cases(a: Any) -> list[tuple[Any, list]]:
    """``(value, conditions)`` for each case of a Max / Min / Abs / Piecewise."""
    if isinstance(a, sympy.Abs):
        (x,) = a.args
        return [(x, [x >= 0]), (-x, [x <= 0])]
    if isinstance(a, (sympy.Max, sympy.Min)):
        ge = isinstance(a, sympy.Max)
        return [(x, [(x >= y) if ge else (x <= y) for y in a.args if y is not x])
                for x in a.args]
    out, before = [], []
    for expr, cond in a.args:
        conds = [cond] + [sympy.Not(c) for c in before]
        out.append((expr, conds))
        before.append(cond)
    return out


def _split(e: Any, box: dict, budget: list) -> frozenset | None:
    """Signs by cases of the innermost Max / Min / Abs / Piecewise, or None when there is none."""
    atom = _innermost(e)
    if atom is None:
        return None
    found: set = set()
    for value, conds in _cases(atom):
        if budget[0] <= 0:
            return ALL
        budget[0] -= 1
        sub = _narrow(box, conds)
        if sub is None:  # the case cannot happen on the box
            continue
        found |= _signs(e.xreplace({atom: value}), sub, budget)
        if found == ALL:
            break
    return frozenset(found)


def _narrow(box: dict, conds: list) -> dict | None:
    """The box narrowed by every condition that is linear in one bounded symbol (closed
    versions of strict ones: sound), or None when it becomes empty. Other conditions are
    ignored (sound: the case is then considered on a larger set)."""
    box = dict(box)
    todo = list(conds)
    while todo:
        c = todo.pop()
        if c is sympy.false:
            return None
        if isinstance(c, sympy.And):
            todo.extend(c.args)
            continue
        if not isinstance(c, Relational) or isinstance(c, sympy.Ne):
            continue
        d = sympy.expand(c.lhs - c.rhs)
        free = d.free_symbols
        if len(free) != 1:
            continue
        (s,) = free
        if s not in box:
            continue
        k, m = d.coeff(s, 1), d.coeff(s, 0)
        if not (k.is_Rational and m.is_Rational) or k == 0 or sympy.expand(d - k * s - m) != 0:
            continue
        root = -m / k
        lo, hi = box[s]
        op = c.rel_op  # d op 0 with d = k s + m
        if op == "==":
            lo, hi = max(lo, root), min(hi, root)
        elif (op in (">=", ">")) == (k > 0):
            lo = max(lo, root)   # s >= root
        else:
            hi = min(hi, root)   # s <= root
        if lo > hi:
            return None
        box[s] = (lo, hi)
    return box


def _rational(e: Any, box: dict, budget: list) -> frozenset:
    num, den = sympy.fraction(sympy.together(e))
    if den.is_number:
        d = _number_signs(den)
        if d not in (frozenset({1}), frozenset({-1})):
            return ALL
        p = _poly_signs(sympy.expand(num), box)
        return p if d == frozenset({1}) else frozenset(-s for s in p)
    sd = _signs(den, box, budget)
    if 0 in sd:  # undefined somewhere on the box
        return ALL
    sn = _signs(num, box, budget)
    return frozenset(a * b for a in sn for b in sd)


def _poly_signs(p: Any, box: dict) -> frozenset:
    if p.is_number:
        return _number_signs(p)
    free = sorted(p.free_symbols, key=sympy.default_sort_key)
    if any(s not in box for s in free) or not p.is_polynomial(*free):
        return _assumed(p)
    try:
        poly = sympy.Poly(p, *free)
    except sympy.PolynomialError:
        return _assumed(p)
    if not (poly.domain.is_ZZ or poly.domain.is_QQ):  # irrational coefficients
        return _assumed(p)
    if len(free) <= _CORNERS and all(d <= 1 for m in poly.monoms() for d in m):
        vals = [poly.eval({s: box[s][(c >> i) & 1] for i, s in enumerate(free)})
                for c in range(1 << len(free))]
        return _range_signs(min(vals), max(vals))
    if len(free) == 1:
        return _univariate(poly, *box[free[0]])
    return _enclosure_signs(p, box)


def _range_signs(lo: Any, hi: Any) -> frozenset:
    """The signs of every value in [lo, hi] (or of a sound enclosure of them)."""
    out = set()
    if lo < 0:
        out.add(-1)
    if lo <= 0 <= hi:
        out.add(0)
    if hi > 0:
        out.add(1)
    return frozenset(out)


def _univariate(poly: sympy.Poly, lo: Any, hi: Any) -> frozenset:
    """Exact signs of a rational polynomial in one variable on [lo, hi]: count its distinct
    real roots (Sturm), and halve the interval until each part holds at most one."""
    q = poly.sqf_part()
    out: set = set()
    stack = [(lo, hi)]
    while stack:
        a, b = stack.pop()
        sa, sb = _number_signs(poly.eval(a)), _number_signs(poly.eval(b))
        n = q.count_roots(a, b)
        if n == 0:
            out |= sa
        elif n == 1:  # one root: the sign on either side is the sign at the end point
            out |= sa | sb | {0}
        else:
            m = (a + b) / 2
            stack += [(a, m), (m, b)]
    return frozenset(out)


def _enclose(e: Any, box: dict) -> tuple[Any, Any] | None:
    """A rational interval containing every value of ``e`` on the box (interval arithmetic),
    or None for an expression it does not handle."""
    if e.is_Rational:
        return e, e
    if e.is_Symbol:
        return box.get(e)
    if e.is_Add or e.is_Mul:
        parts = [_enclose(a, box) for a in e.args]
        if any(p is None for p in parts):
            return None
        lo, hi = parts[0]
        for a, b in parts[1:]:
            if e.is_Add:
                lo, hi = lo + a, hi + b
            else:
                prods = [lo * a, lo * b, hi * a, hi * b]
                lo, hi = min(prods), max(prods)
        return lo, hi
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        base = _enclose(e.base, box)
        if base is None:
            return None
        a, b = base
        n = int(e.exp)
        if n % 2 or a >= 0:
            return a**n, b**n
        if b <= 0:
            return b**n, a**n
        return sympy.S.Zero, max(a**n, b**n)
    return None


def _enclosure_signs(p: Any, box: dict) -> frozenset:
    forms = [p]
    if len(sympy.Add.make_args(p)) <= _FACTOR_TERMS:
        factored = sympy.factor(p)
        if factored != p:
            forms.append(factored)
    boxes = [box]
    out: set = set()
    splits = 0
    while boxes:
        b = boxes.pop()
        best = ALL
        for f in forms:
            rng = _enclose(f, b)
            if rng is not None:
                best = best & _range_signs(*rng)
        if len(best) > 1 and splits < _SPLITS:
            s = max(b, key=lambda x: b[x][1] - b[x][0])
            lo, hi = b[s]
            if hi > lo:
                splits += 1
                m = (lo + hi) / 2
                boxes += [{**b, s: (lo, m)}, {**b, s: (m, hi)}]
                continue
        out |= best
        if out == ALL:
            break
    return frozenset(out)
