"""Semirings as values, named ``<add>_<mul>``, and their registry.

A :class:`Semiring` is built from an additive :class:`Monoid` (its operation, its identity, which
is the semiring's zero, and whether it is idempotent) and a multiplicative :class:`Monoid` (whose
identity is the semiring's one). Identities are *tokens* such as ``"-inf"``; a
:class:`~symdnn.domains.Domain` turns a token into its own element, so the zero of ``max_plus`` is
an exact minus infinity in ``QQ`` and ``-inf`` in ``fp16``.

Numeric semirings also state their *carrier*: the interval of the extended reals their values must
lie in for the semiring laws to hold (``max_times`` needs values >= 0, ``min_times`` values > 0).

Examples
--------
>>> from symdnn import semirings
>>> semirings.get("max_plus")
Semiring('max_plus')
>>> semirings.max_plus.add.identity, semirings.max_plus.mul.identity
('-inf', '0')
>>> semirings.max_plus.add.is_idempotent
True
>>> sorted(semirings.names())[:3]
['max_min', 'max_plus', 'max_times']
"""

from __future__ import annotations

from dataclasses import dataclass

from symdnn.errors import ArgumentError, UnknownSemiring

__all__ = [
    "Monoid",
    "Carrier",
    "Semiring",
    "get",
    "names",
    "register",
    "plus_times",
    "max_plus",
    "min_plus",
    "max_times",
    "min_times",
    "max_min",
    "min_max",
    "or_and",
    "union_intersect",
]


@dataclass(frozen=True)
class Monoid:
    """An associative, commutative binary operation with an identity.

    Parameters
    ----------
    op : str
        The operation's name: ``plus``, ``times``, ``max``, ``min``, ``or``, ``and``, ``union``
        or ``intersect``. Domains implement operations by these names.
    identity : str
        Token of the identity element (``"0"``, ``"1"``, ``"-inf"``, ``"+inf"``, ``"false"``,
        ``"true"``, ``"empty"``, ``"universe"``), resolved by a domain's ``const``.
    is_idempotent : bool
        Whether ``x op x == x`` for every x.
    """

    op: str
    identity: str
    is_idempotent: bool


@dataclass(frozen=True)
class Carrier:
    """An interval of the extended reals: the values a numeric semiring is defined on.

    ``lo`` and ``hi`` are tokens (``"-inf"``, ``"0"``, ``"+inf"``); ``lo_closed``/``hi_closed``
    say whether the end point itself belongs to the carrier.
    """

    lo: str
    lo_closed: bool
    hi: str
    hi_closed: bool

    def describe(self) -> str:
        """Interval notation, e.g. ``[0, +inf)``."""
        left = "[" if self.lo_closed else "("
        right = "]" if self.hi_closed else ")"
        return f"{left}{self.lo}, {self.hi}{right}"


@dataclass(frozen=True)
class Semiring:
    """A semiring (V, add, mul, zero, one) as a value.

    Parameters
    ----------
    name : str
        ``<add>_<mul>``, e.g. ``"max_plus"``.
    add, mul : Monoid
        The additive monoid (its identity is the zero) and multiplicative monoid (its identity is
        the one).
    kind : str
        The kind of domain the semiring is defined over: ``"numeric"``, ``"bool"`` or ``"set"``.
    carrier : Carrier or None
        For numeric semirings, the interval of extended reals its values must lie in.

    Notes
    -----
    The zero annihilates under ``mul``; an associative array never stores its semiring's zero.
    """

    name: str
    add: Monoid
    mul: Monoid
    kind: str
    carrier: Carrier | None = None

    @property
    def zero(self) -> str:
        """Token of the additive identity (the element an array never stores)."""
        return self.add.identity

    @property
    def one(self) -> str:
        """Token of the multiplicative identity."""
        return self.mul.identity

    def __repr__(self) -> str:
        return f"Semiring({self.name!r})"


_REGISTRY: dict[str, Semiring] = {}


def register(semiring: Semiring) -> Semiring:
    """Add a semiring to the registry under its name and return it.

    Raises
    ------
    ArgumentError
        If another semiring of that name is registered already.
    """
    if semiring.name in _REGISTRY and _REGISTRY[semiring.name] != semiring:
        raise ArgumentError(f"a different semiring named {semiring.name!r} is registered already")
    _REGISTRY[semiring.name] = semiring
    return semiring


def get(name: str | Semiring) -> Semiring:
    """Look a semiring up by name (a :class:`Semiring` is returned as it is).

    Raises
    ------
    UnknownSemiring
        If no semiring of that name is registered; the message lists the known names.

    Examples
    --------
    >>> get("plus_times").one
    '1'
    """
    if isinstance(name, Semiring):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownSemiring(f"unknown semiring {name!r}; known semirings: {known}") from None


def names() -> list[str]:
    """Names of the registered semirings, in registration order."""
    return list(_REGISTRY)


_REALS = Carrier("-inf", False, "+inf", False)
_plus = Monoid("plus", "0", False)
_times = Monoid("times", "1", False)
_max = Monoid("max", "-inf", True)
_min = Monoid("min", "+inf", True)

plus_times = register(Semiring("plus_times", _plus, _times, "numeric", _REALS))
max_plus = register(
    Semiring("max_plus", _max, Monoid("plus", "0", False), "numeric",
             Carrier("-inf", True, "+inf", False))
)
min_plus = register(
    Semiring("min_plus", _min, Monoid("plus", "0", False), "numeric",
             Carrier("-inf", False, "+inf", True))
)
max_times = register(
    Semiring("max_times", Monoid("max", "0", True), _times, "numeric",
             Carrier("0", True, "+inf", False))
)
min_times = register(
    Semiring("min_times", _min, _times, "numeric", Carrier("0", False, "+inf", True))
)
max_min = register(
    Semiring("max_min", _max, Monoid("min", "+inf", True), "numeric",
             Carrier("-inf", True, "+inf", True))
)
min_max = register(
    Semiring("min_max", _min, Monoid("max", "-inf", True), "numeric",
             Carrier("-inf", True, "+inf", True))
)
or_and = register(
    Semiring("or_and", Monoid("or", "false", True), Monoid("and", "true", True), "bool")
)
union_intersect = register(
    Semiring("union_intersect", Monoid("union", "empty", True),
             Monoid("intersect", "universe", True), "set")
)
