"""Big integers as base-2**k limbs in int64 arrays, for exact products at float64 speed.

A value is ``sum_t L[t] * 2**(k t)`` with ``0 <= L[t] < 2**k`` for every limb but the top one,
which carries the sign (a radix-2**k two's complement). A sparse product multiplies each limb by
an integer matrix whose column sums stay below ``2**(53 - k)``, so every limb product is exact in
float64; :func:`normalize` then propagates the carries. Vectorised over entries: a limb array has
shape ``(T, n)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["from_ints", "to_ints", "normalize", "sign", "greater", "trim", "bits"]


def from_ints(values: np.ndarray, k: int, T: int | None = None) -> np.ndarray:
    """Split integers (int64, float64 holding integers, or Python ints) into ``(T, n)`` limbs."""
    n = len(values)
    if values.dtype == object:
        need = max((abs(int(v)).bit_length() for v in values), default=0) + 1
    else:
        values = values.astype(np.int64)
        need = int(np.abs(values).max()).bit_length() + 1 if n else 1
    T = max(T or 1, -(-need // k))
    out = np.zeros((T, n), dtype=np.int64)
    mask = (1 << k) - 1
    if values.dtype == object:
        rest = values.copy()
        for t in range(T - 1):
            out[t] = np.array([int(v) & mask for v in rest], dtype=np.int64)
            rest = np.array([int(v) >> k for v in rest], dtype=object)
        out[T - 1] = np.array([int(v) for v in rest], dtype=np.int64)
    else:
        rest = values.copy()
        for t in range(T - 1):
            out[t] = rest & mask
            rest >>= k
        out[T - 1] = rest
    return out


def to_ints(L: np.ndarray, k: int) -> np.ndarray:
    """Normalized limbs back to integers: int64 when they fit below 2**62, else Python ints."""
    T = L.shape[0]
    if bits(L, k) <= 62:
        acc = L[T - 1].astype(np.int64)
        for t in range(T - 2, -1, -1):  # acc is the value shifted right by k*t: never larger
            acc = (acc << k) + L[t]
        return acc
    acc = L[T - 1].astype(object)
    for t in range(T - 2, -1, -1):
        acc = acc * (1 << k) + L[t].astype(object)
    return acc


def normalize(P: np.ndarray, k: int) -> np.ndarray:
    """Propagate carries in place so that all limbs but the top lie in ``[0, 2**k)``.

    Each limb may hold any int64 below 2**62 in magnitude on entry; the top limb must have room
    for the carries it receives (callers allocate one spare limb).
    """
    for t in range(P.shape[0] - 1):
        c = P[t] >> k
        P[t] -= c << k
        P[t + 1] += c
    return P


def sign(P: np.ndarray) -> np.ndarray:
    """-1, 0 or 1 for each normalized value."""
    top = P[-1]
    low = (P[:-1] != 0).any(axis=0) if P.shape[0] > 1 else np.zeros(P.shape[1:], dtype=bool)
    return np.where(top < 0, -1, np.where((top > 0) | low, 1, 0)).astype(np.int8)


def greater(P: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Mask of ``P > C`` for normalized limbs; ``C`` has shape ``(T,)`` (one constant) or that
    of ``P``."""
    if C.ndim == 1:
        C = C.reshape((-1,) + (1,) * (P.ndim - 1))
    gt = np.zeros(P.shape[1:], dtype=bool)
    undecided = np.ones(P.shape[1:], dtype=bool)
    for t in range(P.shape[0] - 1, -1, -1):
        gt |= undecided & (P[t] > C[t])
        undecided &= P[t] == C[t]
    return gt


def trim(P: np.ndarray) -> np.ndarray:
    """Drop top limbs that are zero for every entry (values must be non-negative)."""
    T = P.shape[0]
    while T > 1 and not P[T - 1].any():
        T -= 1
    return P[:T]


def bits(P: np.ndarray, k: int) -> int:
    """An upper bound on the bit length of the largest magnitude held (normalized limbs)."""
    nz = np.flatnonzero(P.reshape(P.shape[0], -1).any(axis=1))
    if len(nz) == 0:
        return 0
    t = int(nz[-1])
    top = int(np.abs(P[t]).max())
    return t * k + top.bit_length() + 1
