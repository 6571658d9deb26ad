"""The :class:`Domain` interface and the exact infinities shared by every domain.

A domain does the arithmetic bookkeeping (as SymPy's ``K.zero``, ``K.convert``) on *vectors*: the
storage of an associative array's values. What a vector is depends on the domain (a NumPy array
for floats, numerator/denominator arrays for ``QQ``); callers only pass vectors back to the domain
that made them. Elements handed to users are plain scalars: ``flint.fmpq``, ``sympy.Expr``,
NumPy float scalars, ``frozenset``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from symdnn.errors import DomainError

__all__ = ["Domain", "Infinity", "POS_INF", "NEG_INF", "segment_lengths"]

#: How a domain is found again by name when unpickled: ``"get_domain"``, the function
#: :func:`symdnn.domains.get_domain`. It lives in :mod:`symdnn.domains.registry`, which imports
#: this module, and registers itself here when imported (``symdnn.domains`` imports it), so
#: :meth:`Domain.__reduce__` names it without importing the registry back.
LOOKUP: dict[str, Callable[[str], Any]] = {}


class Infinity:
    """Exact plus or minus infinity, for the zeros and ones of the tropical semirings.

    ``POS_INF`` and ``NEG_INF`` are the only instances. They compare with every exact number
    (``flint.fmpq``, ``int``, ``Fraction``) and with each other, and equal the float infinity of
    the same sign (a float infinity is exactly infinite).

    Examples
    --------
    >>> from symdnn.domains import POS_INF, NEG_INF
    >>> import flint
    >>> NEG_INF < flint.fmpq(-10**9) < POS_INF
    True
    >>> -POS_INF is NEG_INF
    True
    """

    __slots__ = ("sign",)
    _instances: dict[int, Infinity] = {}

    def __new__(cls, sign: int) -> Infinity:
        sign = 1 if sign > 0 else -1
        inst = cls._instances.get(sign)
        if inst is None:
            inst = super().__new__(cls)
            object.__setattr__(inst, "sign", sign)
            cls._instances[sign] = inst
        return inst

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Infinity is immutable")

    def __reduce__(self):
        return (Infinity, (self.sign,))

    def __repr__(self) -> str:
        return "inf" if self.sign > 0 else "-inf"

    __str__ = __repr__

    def __float__(self) -> float:
        return math.inf * self.sign

    def __neg__(self) -> Infinity:
        return Infinity(-self.sign)

    def __hash__(self) -> int:
        return hash(float(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Infinity):
            return other.sign == self.sign
        if isinstance(other, float | np.floating):
            return float(other) == float(self)
        return False

    def _key(self, other: object) -> int:
        # -1: self < other, 0: equal, 1: self > other
        if isinstance(other, Infinity):
            return (self.sign > other.sign) - (self.sign < other.sign)
        return self.sign

    def __lt__(self, other: object) -> bool:
        return self._key(other) < 0

    def __le__(self, other: object) -> bool:
        return self._key(other) <= 0

    def __gt__(self, other: object) -> bool:
        return self._key(other) > 0

    def __ge__(self, other: object) -> bool:
        return self._key(other) >= 0


POS_INF = Infinity(1)
NEG_INF = Infinity(-1)


def segment_lengths(starts: np.ndarray, total: int) -> np.ndarray:
    """Lengths of the segments ``[starts[i], starts[i+1])``, the last ending at ``total``."""
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    if len(starts):
        ends[-1] = total
    return ends - starts


class Domain:
    """Interface of a value domain. Subclasses implement every method below.

    Attributes
    ----------
    name : str
        Short name (``"QQ"``, ``"fp16"``).
    kind : str
        ``"numeric"``, ``"bool"`` or ``"set"``: which semirings the domain can carry.
    is_exact : bool
        Whether arithmetic in the domain is exact.
    """

    name: str = "?"
    kind: str = "numeric"
    is_exact: bool = True

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self):
        # pickled as ``get_domain(name)``: unpickling gives back the one instance of the domain
        try:
            get_domain = LOOKUP["get_domain"]
        except KeyError:
            raise DomainError("domains are unpickled by symdnn.domains.registry.get_domain, "
                              "which is not imported; import symdnn first") from None
        return (get_domain, (self.name,))

    # -- scalars ---------------------------------------------------------------------------
    def convert(self, value: Any) -> Any:
        """Convert one value into an element of this domain, or raise :class:`DomainError`."""
        raise NotImplementedError

    def const(self, token: str) -> Any:
        """The element a semiring identity token (``"0"``, ``"-inf"``, ...) denotes here."""
        raise NotImplementedError

    def format(self, element: Any) -> str:
        """A short exact text form of an element (``"3/10"``, ``"-inf"``)."""
        return str(element)

    # -- vectors ---------------------------------------------------------------------------
    def from_list(self, values: list[Any]) -> Any:
        """A vector from a list of values, each converted with :meth:`convert`."""
        raise NotImplementedError

    # The vector plumbing below serves every domain whose vectors are NumPy arrays (floats,
    # booleans, Python objects); QQ, whose vectors are numerator/denominator pairs, overrides it.

    def to_list(self, vec: Any) -> list[Any]:
        """The elements of a vector, as a list."""
        return list(vec)

    def size(self, vec: Any) -> int:
        """The number of elements of a vector."""
        return len(vec)

    def take(self, vec: Any, idx: np.ndarray) -> Any:
        """The elements at positions ``idx``, as a vector."""
        return vec[idx]

    def concat(self, vecs: list[Any]) -> Any:
        """The vectors one after the other, as one vector."""
        return np.concatenate(vecs) if vecs else self.from_list([])

    def repeat(self, element: Any, n: int) -> Any:
        """A vector of ``n`` copies of one element."""
        return self.take(self.from_list([element]), np.zeros(n, dtype=np.int64))

    def binop(self, op: str, x: Any, y: Any) -> Any:
        """Element-wise ``x op y`` for aligned vectors of equal length."""
        raise NotImplementedError

    def reduceat(self, op: str, x: Any, starts: np.ndarray) -> Any:
        """Reduce each non-empty segment ``x[starts[i]:starts[i+1]]`` with ``op``."""
        raise NotImplementedError

    def equal(self, x: Any, y: Any) -> np.ndarray:
        """Element-wise exact equality of two aligned vectors, as a boolean array."""
        raise NotImplementedError

    def is_const(self, x: Any, token: str) -> np.ndarray:
        """Boolean mask of the entries equal to the element ``const(token)``."""
        raise NotImplementedError

    def outside(self, x: Any, carrier: Any) -> np.ndarray:
        """Boolean mask of entries outside a semiring's carrier interval."""
        return np.zeros(self.size(x), dtype=bool)

    def sample(self, rng: np.random.Generator, n: int) -> list[Any]:
        """``n`` random elements, for :func:`symdnn.check_laws`."""
        raise NotImplementedError

    def _unsupported(self, op: str) -> DomainError:
        return DomainError(f"operation {op!r} is not defined over domain {self.name}")
