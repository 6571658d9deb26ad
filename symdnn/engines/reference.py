"""The per-entry reference engine: the simplest possible code, the oracle of the tests.

Dictionaries of neuron values, one input at a time, one output neuron at a time; products and
sums in the order of the input keys. Exact (``flint.fmpq``), symbolic (SymPy) and float (NumPy and
ml_dtypes scalars: every operation rounded to the accumulation format, each result rounded once
to the network's format) arithmetic share the loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from symdnn.domains import Domain, FloatDomain, narrow
from symdnn.engines.symbolic import signs
from symdnn.errors import SymbolicSignError

__all__ = ["SymbolicSignError", "run_reference"]


def box_range(e: Any, bounds: dict) -> tuple[Any, Any] | None:
    """Exact minimum and maximum of ``e`` over a box of symbol bounds, when ``e`` is a
    polynomial multilinear in the bounded symbols (then the extremes are at the corners), else
    None (also for a Max, a Min, a Piecewise or a rational function: see
    :func:`symdnn.engines.symbolic.signs` for sign decisions on those)."""
    e = sympy.sympify(e)
    free = sorted(e.free_symbols, key=str)
    if not free or any(s not in bounds for s in free) or not e.is_polynomial(*free):
        return None
    try:
        poly = sympy.Poly(sympy.expand(e), *free)
    except sympy.PolynomialError:
        return None
    if any(d > 1 for monom in poly.monoms() for d in monom):
        return None
    values = []
    for corner in range(1 << len(free)):
        point = {s: bounds[s][(corner >> i) & 1] for i, s in enumerate(free)}
        values.append(e.subs(point))
    return min(values), max(values)


def _undecided(what: str, where: str, bounds: dict | None) -> SymbolicSignError:
    given = (f"the bounds {dict(bounds)} do not decide it" if bounds else
             "give the symbols assumptions (sympy.Symbol('b', positive=True)) or bounds "
             "(bounds={b: (0, 1)})")
    return SymbolicSignError(f"cannot decide {what} at {where}; {given}, or use "
                             "relu='piecewise'")


def _relu_symbolic(e: Any, where: str, mode: str, bounds: dict | None = None) -> Any:
    """``max(0, e)``, decided exactly by :func:`signs` where it can be: ``e`` when it is
    nonnegative on the box, 0 when nonpositive; otherwise ``Max(0, e)`` (a Piecewise
    branch by branch) with ``mode="piecewise"``, else :class:`SymbolicSignError`."""
    s = signs(e, bounds)
    if s == {0}:
        return sympy.S.Zero
    if s <= {0, 1}:
        return e
    if s <= {-1, 0}:
        return sympy.S.Zero
    if mode == "piecewise":
        if isinstance(e, sympy.Piecewise):
            return sympy.Piecewise(*[(_relu_symbolic(x, where, mode, bounds), c)
                                     for x, c in e.args])
        return sympy.Max(0, e)
    raise _undecided(f"the sign of {e}", where, bounds)


def _nonzero_rule_symbolic(wy: Any, bias: Any, pre: Any, where: str, mode: str,
                           bounds: dict | None) -> Any:
    """The Graph Challenge rule (bias only where ``W y`` is nonzero) for a symbolic ``wy``.

    Returns None when ``wy`` is zero on the whole box (the neuron is skipped), ``pre = wy +
    bias`` when it is nonzero everywhere (or the bias is zero), and where ``wy`` vanishes only
    for some parameter values ``Piecewise((0, Eq(wy, 0)), (pre, True))`` with
    ``mode="piecewise"``, else :class:`SymbolicSignError`."""
    s = signs(wy, bounds)
    if s == {0}:
        return None
    if 0 not in s or bias is None or signs(bias, bounds) == {0}:
        return pre
    if mode != "piecewise":
        raise _undecided(f"whether W y = {wy} is zero (the bias rule 'nonzero' adds the bias "
                         "only where it is not)", where, bounds)
    return sympy.Piecewise((sympy.S.Zero, sympy.Eq(wy, 0)), (pre, True))


def _cap_symbolic(post: Any, cap: Any, bounds: dict | None) -> Any:
    """``min(post, cap)``, decided by :func:`signs` where it can be, else ``Min(post, cap)``."""
    s = signs(post - cap, bounds)
    if s <= {-1, 0}:
        return post
    if s <= {0, 1}:
        return cap
    return sympy.Min(post, cap)


def run_reference(layers: list, rows: dict, batch_keys: list, dom: Domain, *, rule: str,
                  cap: Any, acc: Domain | None = None, relu: str = "decide",
                  record: bool = False, bounds: dict | None = None) -> tuple[dict, list | None]:
    """Run every input through every layer, entry by entry.

    ``layers`` holds ``(incoming, bias, outputs, full)`` per layer: ``incoming[out]`` is the
    list of ``(input key, weight)`` in input-key order, ``bias`` a dict, ``full`` None or a
    full bias ``{batch key: {neuron: value}}`` used instead of ``bias``. Returns the outputs
    ``{batch key: {neuron: value}}`` and, with ``record``, per layer
    ``(pre, post)`` dicts of the same shape.
    """
    symbolic = dom.name == "SYM"
    floating = isinstance(dom, FloatDomain)
    acc_t = (acc or dom).dtype.type if floating else None
    out_t = (lambda x: narrow(np.array([x]), dom.format_)[0]) if floating else None  # once
    zero = dom.const("0")
    records = [({}, {}) for _ in layers] if record else None
    result = {}
    for b in batch_keys:
        y = rows.get(b, {})
        for lnum, (incoming, bias_all, outputs, full) in enumerate(layers):
            bias = bias_all if full is None else full.get(b, {})
            new = {}
            for o in outputs:
                total = None
                for i, w in incoming.get(o, ()):
                    v = y.get(i)
                    if v is None:
                        continue
                    p = acc_t(w) * acc_t(v) if floating else w * v
                    total = p if total is None else total + p
                if floating and total is not None:
                    total = out_t(total)
                is_zero = total is None or (sympy.expand(total) == 0 if symbolic else total == 0)
                if rule == "nonzero" and is_zero:
                    continue
                pre = (zero if total is None else total) + bias.get(o, zero)
                if floating:
                    pre = out_t(pre)
                if symbolic:
                    where = f"neuron {o!r} of layer {lnum} (input {b!r})"
                    if rule == "nonzero":
                        pre = _nonzero_rule_symbolic(total, bias.get(o), pre, where, relu,
                                                     bounds)
                        if pre is None:
                            continue
                    post = _relu_symbolic(pre, where, relu, bounds)
                else:
                    post = pre if pre > 0 else zero
                if cap is not None and post != 0:
                    if symbolic:
                        post = _cap_symbolic(post, cap, bounds)
                    elif post > cap:
                        post = cap
                if records is not None:
                    records[lnum][0].setdefault(b, {})[o] = pre
                    if post != 0:
                        records[lnum][1].setdefault(b, {})[o] = post
                if post != 0:
                    new[o] = post
            y = new
        if y:
            result[b] = y
    return result, records
