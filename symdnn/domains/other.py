"""The symbolic domain (SymPy), booleans (for ``or_and``) and finite sets (for
``union_intersect``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import sympy

from symdnn.domains.base import Domain, Infinity
from symdnn.domains.rational import exact_parts
from symdnn.errors import DomainError

__all__ = ["SymbolicDomain", "BoolDomain", "SetDomain", "UNIVERSE", "Universe"]


def _objects(values: Iterable[Any]) -> np.ndarray:
    values = list(values)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


class _ObjectDomain(Domain):
    """Shared vector plumbing for domains whose elements are Python objects."""

    def from_list(self, values: list[Any]) -> np.ndarray:
        return _objects(self.convert(v) for v in values)

    def _ufunc(self, op: str) -> np.ufunc:
        raise NotImplementedError

    def binop(self, op: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _objects(self._ufunc(op)(x, y))

    def reduceat(self, op: str, x: np.ndarray, starts: np.ndarray) -> np.ndarray:
        return _objects(self._ufunc(op).reduceat(x, starts))


def _is_zero(e: sympy.Expr) -> bool:
    if e == 0:
        return True
    if e.is_Atom:
        return False
    return sympy.expand(e) == 0


_sym_eq = np.frompyfunc(lambda a, b: a == b or _is_zero(a - b), 2, 1)
_sym_zero = np.frompyfunc(_is_zero, 1, 1)


class SymbolicDomain(_ObjectDomain):
    """SymPy expressions: symbols in weights, biases, betas or inputs.

    Floats are converted to the dyadic rationals they denote and decimal strings to decimal
    rationals, so no float enters an expression. Equality is decided structurally, then by
    expanding the difference (exact for the polynomial expressions networks produce).

    Examples
    --------
    >>> from symdnn.domains import SYM
    >>> SYM.convert("beta_0 - 3/10")
    beta_0 - 3/10
    >>> SYM.convert(0.5)
    1/2
    """

    name = "SYM"
    kind = "numeric"
    is_exact = True

    def convert(self, value: Any) -> Any:
        if isinstance(value, sympy.Basic):
            if any(isinstance(a, sympy.Float) for a in sympy.preorder_traversal(value)):
                raise DomainError(f"{value!r} contains a float; give exact numbers")
            return value
        if isinstance(value, str):
            try:
                expr = sympy.sympify(value, rational=True)
            except (sympy.SympifyError, SyntaxError, TypeError):
                raise DomainError(f"cannot read {value!r} as a SymPy expression") from None
            return expr
        parts = exact_parts(value)
        if isinstance(parts, Infinity):
            return sympy.oo if parts.sign > 0 else -sympy.oo
        return sympy.Rational(*parts)

    def const(self, token: str) -> Any:
        table = {"0": sympy.S.Zero, "1": sympy.S.One, "-inf": -sympy.oo, "+inf": sympy.oo}
        if token not in table:
            raise self._unsupported(f"constant {token}")
        return table[token]

    def _ufunc(self, op: str) -> np.ufunc:
        if op == "plus":
            return np.add
        if op == "times":
            return np.multiply
        if op == "max":
            return np.frompyfunc(sympy.Max, 2, 1)
        if op == "min":
            return np.frompyfunc(sympy.Min, 2, 1)
        raise self._unsupported(op)

    def equal(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(_sym_eq(x, y), dtype=bool) if len(x) else np.zeros(0, dtype=bool)

    def is_const(self, x: np.ndarray, token: str) -> np.ndarray:
        if not len(x):
            return np.zeros(0, dtype=bool)
        if token == "0":
            return np.asarray(_sym_zero(x), dtype=bool)
        c = self.const(token) if token in ("1", "-inf", "+inf") else None
        return np.array([e == c for e in x], dtype=bool)

    def outside(self, x: np.ndarray, carrier: Any) -> np.ndarray:
        def bad(e: sympy.Expr) -> bool:
            checks = []
            if carrier.lo == "-inf" and not carrier.lo_closed:
                checks.append(e == -sympy.oo)
            if carrier.lo == "0":
                checks.append((e < 0) if carrier.lo_closed else (e <= 0))
            if carrier.hi == "+inf" and not carrier.hi_closed:
                checks.append(e == sympy.oo)
            return any(c is True or c == sympy.true for c in checks)

        return np.array([bad(e) for e in x], dtype=bool)

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        return [sympy.Rational(int(rng.integers(-30, 31)), int(rng.integers(1, 13)))
                for _ in range(n)]


class BoolDomain(Domain):
    """Booleans, the values of ``or_and``. Stored as a NumPy ``bool`` array."""

    name = "BOOL"
    kind = "bool"
    is_exact = True

    def convert(self, value: Any) -> bool:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        if isinstance(value, int | np.integer) and value in (0, 1):
            return bool(value)
        raise DomainError(f"{value!r} is not a boolean (domain BOOL takes True/False or 0/1)")

    def const(self, token: str) -> bool:
        if token in ("false", "true"):
            return token == "true"
        raise self._unsupported(f"constant {token}")

    def from_list(self, values: list[Any]) -> np.ndarray:
        return np.array([self.convert(v) for v in values], dtype=bool)

    def to_list(self, vec: np.ndarray) -> list[Any]:
        return [bool(v) for v in vec]

    def _ufunc(self, op: str) -> np.ufunc:
        table = {"or": np.logical_or, "and": np.logical_and}
        if op not in table:
            raise self._unsupported(op)
        return table[op]

    def binop(self, op: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._ufunc(op)(x, y)

    def reduceat(self, op: str, x: np.ndarray, starts: np.ndarray) -> np.ndarray:
        return self._ufunc(op).reduceat(x, starts)

    def equal(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x == y

    def is_const(self, x: np.ndarray, token: str) -> np.ndarray:
        if token in ("false", "true"):
            return x == (token == "true")
        return np.zeros(len(x), dtype=bool)

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        return [bool(b) for b in rng.integers(0, 2, n)]


class Universe:
    """The universal set: the identity of intersection (the one of ``union_intersect``)."""

    _inst: Universe | None = None

    def __new__(cls) -> Universe:
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst

    def __repr__(self) -> str:
        return "UNIVERSE"

    def __reduce__(self):
        return (Universe, ())


UNIVERSE = Universe()


def _union(a: Any, b: Any) -> Any:
    return UNIVERSE if a is UNIVERSE or b is UNIVERSE else a | b


def _intersect(a: Any, b: Any) -> Any:
    if a is UNIVERSE:
        return b
    if b is UNIVERSE:
        return a
    return a & b


class SetDomain(_ObjectDomain):
    """Finite sets (``frozenset``) of hashable elements, plus :data:`UNIVERSE`.

    Examples
    --------
    >>> from symdnn.domains import SET
    >>> sorted(SET.convert({1, 2}))
    [1, 2]
    """

    name = "SET"
    kind = "set"
    is_exact = True
    _ops = {"union": np.frompyfunc(_union, 2, 1), "intersect": np.frompyfunc(_intersect, 2, 1)}

    def convert(self, value: Any) -> Any:
        if value is UNIVERSE:
            return value
        if isinstance(value, set | frozenset | list | tuple):
            try:
                return frozenset(value)
            except TypeError:
                raise DomainError(f"set elements must be hashable: {value!r}") from None
        raise DomainError(f"{value!r} is not a set (domain SET)")

    def const(self, token: str) -> Any:
        if token == "empty":
            return frozenset()
        if token == "universe":
            return UNIVERSE
        raise self._unsupported(f"constant {token}")

    def format(self, element: Any) -> str:
        if element is UNIVERSE:
            return "U"
        return "{" + ",".join(sorted(map(str, element))) + "}"

    def _ufunc(self, op: str) -> np.ufunc:
        if op not in self._ops:
            raise self._unsupported(op)
        return self._ops[op]

    def equal(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.array([a == b for a, b in zip(x, y, strict=True)], dtype=bool)

    def is_const(self, x: np.ndarray, token: str) -> np.ndarray:
        c = self.const(token) if token in ("empty", "universe") else None
        return np.array([e == c for e in x], dtype=bool)

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        out: list[Any] = []
        for _ in range(n):
            if rng.random() < 0.1:
                out.append(UNIVERSE)
            else:
                out.append(frozenset(int(v) for v in rng.integers(0, 6, rng.integers(0, 4))))
        return out
