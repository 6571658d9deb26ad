"""Exact dense products of integer matrices at BLAS speed: big integers split into limbs.

An integer ``v`` is split, sign and magnitude, into limbs ``v = sum_t L[t] * 2**(k t)`` with
``|L[t]| < 2**k`` (every limb carries the sign of ``v``). For a product of inner dimension
``K``, limb sizes ``ka`` and ``kb`` are chosen with ``K * 2**(ka + kb) <= 2**53``: every
partial sum of a limb product is then an integer of magnitude below ``2**53``, which float64
holds exactly whatever the order BLAS adds in, so ``A[s] @ B[t]`` in float64 *is* the exact
integer product of the two limbs. The limb products of one shift are summed in int64, the
carries propagated, and the limbs put back together as Python integers (through bytes).

Operands that fit a limb each (``bits(a) + bits(b) + log2 K <= 53``) take one float64 product:
float32 weights times float32 inputs over a common power of two do, for the first layer.

:func:`split` works before any reshaping that only copies values (the im2col of a
convolution copies each input ``prod(kernel)`` times: it is done on the int64 limbs, not on
Python integers); :func:`limb_matmul` multiplies limbs; :func:`int_matmul` is both for two
integer arrays.

Examples
--------
>>> import numpy as np
>>> a = np.array([[3, -(2 ** 100)], [1, 2]], dtype=object)
>>> b = np.array([[2 ** 70 + 1], [5]], dtype=object)
>>> int_matmul(a, b).tolist() == [[3 * (2 ** 70 + 1) - 5 * 2 ** 100], [2 ** 70 + 11]]
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from symdnn.errors import ArgumentError
from symdnn.io.onnx_tensor import Exact

__all__ = ["Limbs", "limb_bits", "split", "limbs_of", "limbs_view", "limb_matmul", "int_matmul",
           "limb_work", "maxbits", "to_ints"]

#: float64 holds every integer of magnitude at most 2**53 exactly
F64_BITS = 53
#: the most limb products of one shift summed in int64 (each below 2**53: no overflow)
_MAX_TERMS = 1 << 9
#: the most bytes of float64 limb products one GEMM writes
_CHUNK = 1 << 28


@dataclass
class Limbs:
    """Integers as limbs: ``value = sum_t L[t] * 2**(k t)``, ``L`` of shape ``(T, *shape)``
    (int64, ``|L[t]| < 2**k``, every limb with the value's sign)."""

    L: np.ndarray
    k: int
    #: the float64 stackings :func:`limb_matmul` builds, kept for a constant's next product
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def T(self) -> int:
        return self.L.shape[0]

    def rows(self) -> np.ndarray:
        """The limbs in float64, stacked along the rows: ``(..., T * M, K)``."""
        got = self.memo.get("rows")
        if got is None:
            got = self.memo["rows"] = np.concatenate(list(self.L.astype(np.float64)),
                                                     axis=-2)
        return got

    def cols(self, ts: range) -> np.ndarray:
        """The limbs ``ts`` in float64, stacked along the columns: ``(..., K, len(ts) * N)``
        (kept when they are all the limbs)."""
        if len(ts) < self.T:
            return np.concatenate([self.L[t].astype(np.float64) for t in ts], axis=-1)
        got = self.memo.get("cols")
        if got is None:
            got = self.memo["cols"] = np.concatenate(
                [self.L[t].astype(np.float64) for t in ts], axis=-1)
        return got


def limbs_view(t: Exact, k: int, key: object, fn: Callable[[Limbs], np.ndarray]) -> Limbs:
    """``Limbs(fn(limbs_of(t, k).L), k)`` (a reshape or a transpose of the limbs), kept with
    ``t`` under ``key`` as :func:`limbs_of` keeps the limbs, stackings included."""
    got = t.memo.get(("view", key, k))
    if got is None:
        got = Limbs(fn(limbs_of(t, k).L), k)
        if t.num.size <= MEMO_ELEMENTS:
            t.memo[("view", key, k)] = got
    return got


def maxbits(num: np.ndarray) -> int:
    """The bit length of the largest magnitude in an integer array (0 when all are 0).

    Examples
    --------
    >>> maxbits(np.array([3, -8, 0])), maxbits(np.array([2 ** 70], dtype=object))
    (4, 71)
    """
    if num.size == 0:
        return 0
    if num.dtype != object:
        return int(np.max(np.abs(num.astype(np.int64)))).bit_length()
    return int(max(num.max(), -num.min())).bit_length()


def limb_bits(K: int, bits_a: int, bits_b: int) -> tuple[int, int]:
    """Limb sizes ``(ka, kb)`` for a product of inner dimension ``K`` of integers of at most
    ``bits_a`` and ``bits_b`` bits, with ``K * 2**(ka + kb) <= 2**53``: the bound that makes
    every float64 partial sum of a limb product exact. An operand that fits one limb keeps
    it, the other gets the rest; else both get half.

    Examples
    --------
    >>> limb_bits(1024, 24, 24)   # both split in half: 1024 * 2**(21 + 21) <= 2**53
    (21, 21)
    >>> limb_bits(1024, 8, 60)    # the 8-bit operand keeps one limb
    (8, 35)
    """
    budget = F64_BITS - max(K - 1, 0).bit_length()  # 2**budget * K <= 2**53
    bits_a, bits_b = max(bits_a, 1), max(bits_b, 1)
    if bits_a + bits_b <= budget:
        return bits_a, budget - bits_a
    half = budget // 2
    if bits_a <= half:
        return bits_a, budget - bits_a
    if bits_b <= half:
        return budget - bits_b, bits_b
    return half, half


def split(num: np.ndarray, k: int, bits: int | None = None) -> Limbs:
    """Integers (int64 or Python ints in an object array) as :class:`Limbs` of ``k`` bits.

    Examples
    --------
    >>> s = split(np.array([-(2 ** 20) - 3, 5], dtype=object), 16)
    >>> s.L.tolist()
    [[-3, 5], [-16, 0]]
    """
    shape = num.shape
    flat = num.reshape(-1)
    n = flat.size
    bits = maxbits(flat) if bits is None else bits
    T = max(1, -(-bits // k))
    mask = (1 << k) - 1
    out = np.empty((T, n), dtype=np.int64)
    if bits <= 62:
        v = flat.astype(np.int64) if flat.dtype != object else \
            np.array(flat.tolist(), dtype=np.int64).reshape(n)
        sgn = np.sign(v)
        m = np.abs(v)
        for t in range(T):
            out[t] = (m >> (t * k)) & mask
    else:
        vals = flat.tolist()
        nw = -(-bits // 64)
        nb = 8 * nw
        buf = b"".join(abs(v).to_bytes(nb, "little") for v in vals)
        words = np.frombuffer(buf, dtype="<u8").reshape(n, nw)
        umask = np.uint64(mask)
        for t in range(T):
            o = t * k
            w, r = divmod(o, 64)
            limb = words[:, w] >> np.uint64(r)
            if r + k > 64 and w + 1 < nw:
                limb = limb | (words[:, w + 1] << np.uint64(64 - r))
            out[t] = (limb & umask).astype(np.int64)
        sgn = (flat > 0).astype(np.int64) - (flat < 0).astype(np.int64)
    out *= sgn
    return Limbs(out.reshape((T,) + shape), k)


#: the most elements whose limbs :func:`limbs_of` keeps with their tensor (32 MiB of int64
#: a limb): the weights of networks up to a few million parameters
MEMO_ELEMENTS = 1 << 22


def limbs_of(t: Exact, k: int) -> Limbs:
    """The numerators of an exact tensor as :class:`Limbs` of ``k`` bits, kept with the
    tensor (whose values never change) when it is small enough: a network's weights are split
    once, not at every run."""
    got = t.memo.get(("limbs", k))
    if got is not None:
        return got
    out = split(t.num, k, t.num_bits)
    if t.num.size <= MEMO_ELEMENTS:
        t.memo[("limbs", k)] = out
    return out


def _combine(R: list[np.ndarray], step: int) -> np.ndarray:
    """``sum_u R[u] * 2**(step u)`` (int64 arrays of one shape, each below 2**62 in
    magnitude) as an object array of Python integers."""
    P = np.stack(R)
    shape = P.shape[1:]
    P = P.reshape(len(R), -1)
    n = P.shape[1]
    for u in range(len(R) - 1):  # carries: every limb but the top in [0, 2**step)
        c = P[u] >> step
        P[u] -= c << step
        P[u + 1] += c
    T = len(R)
    if (T - 1) * step + int(np.max(np.abs(P[-1]))).bit_length() <= 62 if n else True:
        acc = P[-1].copy()
        for u in range(T - 2, -1, -1):
            acc = (acc << step) + P[u]
        return np.array(acc.tolist(), dtype=object).reshape(shape)
    nw = -(-((T - 1) * step) // 64) + 2  # the low limbs, then room for the signed top
    words = np.zeros((n, nw), dtype=np.uint64)
    for u in range(T - 1):
        w, r = divmod(u * step, 64)
        lu = P[u].astype(np.uint64)
        words[:, w] |= lu << np.uint64(r)
        if r + step > 64:
            words[:, w + 1] |= lu >> np.uint64(64 - r)
    top = P[-1]
    w, r = divmod((T - 1) * step, 64)
    words[:, w] |= top.view(np.uint64) << np.uint64(r)
    hi = top >> 63 if r == 0 else top >> (64 - r)  # arithmetic: the sign extends
    words[:, w + 1] |= hi.view(np.uint64)
    if w + 2 < nw:
        words[:, w + 2:] = (top >> 63).view(np.uint64)[:, None]
    b = words.tobytes()
    nb = 8 * nw
    vals = [int.from_bytes(b[i * nb:(i + 1) * nb], "little", signed=True) for i in range(n)]
    return np.array(vals, dtype=object).reshape(shape)


def to_ints(a: Limbs) -> np.ndarray:
    """:class:`Limbs` back to an object array of Python integers."""
    return _combine(list(a.L), a.k)


def limb_matmul(a: Limbs, b: Limbs) -> np.ndarray:
    """The exact product ``a @ b`` (NumPy's matmul broadcasting over leading axes) of two
    limb arrays whose limb sizes satisfy ``K * 2**(a.k + b.k) <= 2**53`` (:func:`limb_bits`),
    as an object array of Python integers.

    Raises
    ------
    ArgumentError
        If the limb sizes break that bound (the float64 products would not be exact).
    """
    K = a.L.shape[-1]
    if K * (1 << (a.k + b.k)) > 1 << F64_BITS:
        raise ArgumentError(f"limbs of {a.k} and {b.k} bits over {K} terms are not exact in "
                         "float64")
    TA, TB = a.T, b.T
    if TA == 1:
        step, shift = b.k, (lambda s, t: t)
    elif TB == 1:
        step, shift = a.k, (lambda s, t: s)
    elif a.k == b.k:
        step, shift = a.k, (lambda s, t: s + t)
    else:  # limbs of different sizes: split the larger again to the smaller size
        kk = min(a.k, b.k)
        return limb_matmul(_resplit(a, kk), _resplit(b, kk))
    n_shift = max(shift(s, t) for s in range(TA) for t in range(TB)) + 1
    R: list[np.ndarray | None] = [None] * n_shift
    count = [0] * n_shift
    # one GEMM for all of a's limbs stacked by rows against a group of b's limbs stacked by
    # columns; groups small enough that the float64 result stays below _CHUNK bytes
    Acat = a.rows()
    M, N = a.L.shape[-2], b.L.shape[-1]
    batch = np.broadcast_shapes(a.L.shape[1:-2], b.L.shape[1:-2])
    per_t = 8 * TA * M * N * max(math.prod(batch), 1)
    group = max(1, min(TB, _CHUNK // max(per_t, 1)))
    for t0 in range(0, TB, group):
        ts = range(t0, min(TB, t0 + group))
        Bcat = b.cols(ts)
        P = np.matmul(Acat, Bcat).astype(np.int64)  # exact: every sum is below 2**53
        P = P.reshape(batch + (TA, M, len(ts), N))
        for s in range(TA):
            for j, t in enumerate(ts):
                u = shift(s, t)
                Pi = P[..., s, :, j, :]
                R[u] = Pi.copy() if R[u] is None else R[u] + Pi
                count[u] += 1
                if count[u] >= _MAX_TERMS:  # move the excess up before int64 overflows
                    R, count = _carry(R, count, u, step)
    shape = next(r.shape for r in R if r is not None)
    return _combine([r if r is not None else np.zeros(shape, np.int64) for r in R], step)


def _carry(R: list, count: list, u: int, step: int) -> tuple[list, list]:
    c = R[u] >> step
    R[u] = R[u] - (c << step)
    count[u] = 1
    if u + 1 == len(R):
        R.append(None)
        count.append(0)
    R[u + 1] = c if R[u + 1] is None else R[u + 1] + c
    count[u + 1] += 1
    return R, count


def _resplit(a: Limbs, k: int) -> Limbs:
    if a.k == k:
        return a
    return split(to_ints(a), k)


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The exact product ``a @ b`` of two integer arrays (int64 or Python ints; NumPy's
    matmul shapes, both at least 2-D), as an object array of Python integers.

    Examples
    --------
    >>> a = np.array([[2 ** 64 + 1, -3]], dtype=object)
    >>> b = np.array([[2 ** 60], [5]], dtype=object)
    >>> int_matmul(a, b)[0, 0] == (2 ** 64 + 1) * 2 ** 60 - 15
    True
    """
    K = a.shape[-1]
    ba, bb = maxbits(a), maxbits(b)
    if K == 0 or ba == 0 or bb == 0:
        shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
        return np.zeros(shape, dtype=object)
    ka, kb = limb_bits(K, ba, bb)
    return limb_matmul(split(a, ka, ba), split(b, kb, bb))


def limb_work(K: int, m: int, n: int, bits_a: int, bits_b: int) -> int:
    """The float64 multiply-adds :func:`int_matmul` takes for an ``(m, K) @ (K, n)`` product
    of integers of ``bits_a`` and ``bits_b`` bits."""
    ka, kb = limb_bits(K, bits_a, bits_b)
    ta, tb = max(1, -(-bits_a // ka)), max(1, -(-bits_b // kb))
    return ta * tb * m * n * K

