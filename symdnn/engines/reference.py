"""The per-entry reference engine: the simplest possible code, the oracle of the tests.

Dictionaries of neuron values, one input at a time, one output neuron at a time; products and
sums in the order of the input keys. Exact (``flint.fmpq``), symbolic (SymPy) and float (NumPy and
ml_dtypes scalars: every operation rounded to the accumulation format, each result rounded once
to the network's format) arithmetic share the loop.
"""

from __future__ import annotations

from typing import Any

import sympy

from symdnn.domains import Domain, FloatDomain
from symdnn.errors import SymdnnError

__all__ = ["SymbolicSignError", "run_reference"]


class SymbolicSignError(SymdnnError, ValueError):
    """The sign of a symbolic pre-activation cannot be decided, so the ReLU cannot be applied."""


def box_range(e: Any, bounds: dict) -> tuple[Any, Any] | None:
    """Exact minimum and maximum of ``e`` over a box of symbol bounds, when ``e`` is
    multilinear in the bounded symbols (then the extremes are at the corners), else None."""
    free = sorted(e.free_symbols, key=str)
    if not free or any(s not in bounds for s in free):
        return None
    poly = sympy.Poly(sympy.expand(e), *free)
    if any(d > 1 for monom in poly.monoms() for d in monom):
        return None
    values = []
    for corner in range(1 << len(free)):
        point = {s: bounds[s][(corner >> i) & 1] for i, s in enumerate(free)}
        values.append(e.subs(point))
    return min(values), max(values)


def _relu_symbolic(e: Any, where: str, mode: str, bounds: dict | None = None) -> Any:
    if e.is_number:
        return e if e > 0 else sympy.S.Zero
    pos = e > 0
    if pos is sympy.true:
        return e
    if (e <= 0) is sympy.true:
        return sympy.S.Zero
    rng = box_range(e, bounds) if bounds else None
    if rng is not None:
        lo, hi = rng
        if lo > 0:
            return e
        if hi <= 0:
            return sympy.S.Zero
    if mode == "piecewise":
        return sympy.Max(0, e)
    raise SymbolicSignError(
        f"cannot decide the sign of {e} at {where}; give the symbols assumptions "
        "(sympy.Symbol('b', positive=True)) or bounds (bounds={b: (0, 1)}), or use "
        "relu='piecewise'"
    )


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
    out_t = dom.dtype.type if floating else None
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
                    post = _relu_symbolic(pre, f"neuron {o!r} of layer {lnum} (input {b!r})",
                                          relu, bounds)
                else:
                    post = pre if pre > 0 else zero
                if cap is not None and post != 0:
                    if symbolic:
                        post = sympy.Min(post, cap) if (post <= cap) is not sympy.true else post
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
