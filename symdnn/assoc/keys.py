"""Row and column keys: normalisation, sorting, merging and selection.

Keys along one axis are hashable values of one kind (``str``, ``int``, ``float``, ``tuple`` ...),
sorted and unique. NumPy scalars become the Python scalars they hold, so ``np.int64(3)`` and ``3``
are the same key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symdnn.errors import KeyTypeError

__all__ = ["Prefix", "normalize_key", "sorted_keys", "merge_keys", "select"]


@dataclass(frozen=True)
class Prefix:
    """Selects the keys that start with ``prefix`` (a string, or a tuple for tuple keys).

    Examples
    --------
    >>> from symdnn import AssocArray, Prefix
    >>> A = AssocArray.from_triples(["ab", "ac", "b"], ["x", "x", "x"], [1, 2, 3])
    >>> A[Prefix("a"), :].row()
    ('ab', 'ac')
    """

    prefix: str | tuple

    def matches(self, key: Any) -> bool:
        p = self.prefix
        if isinstance(p, str):
            return isinstance(key, str) and key.startswith(p)
        return isinstance(key, tuple) and key[: len(p)] == p


def normalize_key(key: Any) -> Any:
    """A key as a plain hashable Python value; raises :class:`KeyTypeError` for bad keys."""
    if isinstance(key, str | int) and not isinstance(key, bool | np.generic):
        return key
    if isinstance(key, np.str_):
        return str(key)
    if isinstance(key, np.integer):
        return int(key)
    if isinstance(key, float | np.floating):
        f = float(key)
        if math.isnan(f):
            raise KeyTypeError("NaN cannot be a key: it is not equal to itself")
        return f
    if isinstance(key, tuple):
        return tuple(normalize_key(k) for k in key)
    try:
        hash(key)
    except TypeError:
        raise KeyTypeError(
            f"key {key!r} of type {type(key).__name__} is unhashable; use a str, int or tuple"
        ) from None
    return key


def _kind(key: Any) -> str:
    return type(key).__name__


def sorted_keys(keys: Iterable[Any], axis: str = "row") -> tuple:
    """Sorted unique keys; raises :class:`KeyTypeError` for mixed or unsortable keys."""
    uniq = set(keys)
    kinds = {_kind(k) for k in uniq}
    if len(kinds) > 1:
        examples = {}
        for k in uniq:
            examples.setdefault(_kind(k), k)
        shown = ", ".join(f"{t} (e.g. {v!r})" for t, v in sorted(examples.items()))
        raise KeyTypeError(f"{axis} keys mix types: {shown}; keys along one axis share one type")
    try:
        return tuple(sorted(uniq))
    except TypeError as exc:
        raise KeyTypeError(f"{axis} keys are not mutually sortable: {exc}") from None


def merge_keys(a: tuple, b: tuple, axis: str = "row") -> tuple:
    """The sorted union of two sorted key tuples."""
    if a == b:
        return a
    if a and b and _kind(a[0]) != _kind(b[0]):
        raise KeyTypeError(
            f"cannot align {axis} keys of type {_kind(a[0])} with {axis} keys of type "
            f"{_kind(b[0])} (e.g. {a[0]!r} and {b[0]!r})"
        )
    return sorted_keys(a + b, axis)


def positions(keys: tuple, targets: Sequence[Any]) -> np.ndarray:
    """Index of each target key in ``keys`` (-1 when absent)."""
    index = {k: i for i, k in enumerate(keys)}
    return np.fromiter((index.get(k, -1) for k in targets), dtype=np.int64, count=len(targets))


def select(keys: tuple, sel: Any, axis: str = "row") -> np.ndarray:
    """Sorted positions in ``keys`` picked by a selector.

    Selectors: ``slice(None)`` (``:``) for all; ``slice(lo, hi)`` for the keys ``lo <= k <= hi``
    (inclusive at both ends, like label slices in pandas); a :class:`Prefix`; a list, set or
    NumPy array of keys (keys that are absent select nothing); any other value is one key.
    """
    n = len(keys)
    if isinstance(sel, slice):
        if sel.step is not None:
            raise KeyTypeError(f"{axis} key ranges take no step")
        lo = 0
        hi = n
        try:
            if sel.start is not None:
                lo = int(np.searchsorted(_as_array(keys), normalize_key(sel.start), "left"))
            if sel.stop is not None:
                hi = int(np.searchsorted(_as_array(keys), normalize_key(sel.stop), "right"))
        except TypeError as exc:
            raise KeyTypeError(
                f"{axis} range {sel!r} does not compare with the keys: {exc}"
            ) from None
        return np.arange(lo, max(lo, hi), dtype=np.int64)
    if isinstance(sel, Prefix):
        return np.array([i for i, k in enumerate(keys) if sel.matches(k)], dtype=np.int64)
    if isinstance(sel, list | set | frozenset | np.ndarray | range):
        pos = positions(keys, [normalize_key(k) for k in sel])
        return np.unique(pos[pos >= 0])
    pos = positions(keys, [normalize_key(sel)])
    return pos[pos >= 0]


def _as_array(keys: tuple) -> Any:
    # searchsorted over Python objects keeps Python comparison semantics (tuples, str)
    arr = np.empty(len(keys), dtype=object)
    arr[:] = list(keys)
    return arr
