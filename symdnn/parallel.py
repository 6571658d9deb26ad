"""Every core: a batch of inputs split into chunks of rows that run concurrently (issue 16).

Each input row of a network runs independently of the others, so the batch is cut into
contiguous chunks, one per thread, and every layer steps all the chunks at once. Where
python-graphblas is installed, the exact engine's float64 and int64 products run in
SuiteSparse:GraphBLAS instead (the ``graphblas`` kernel), which uses the cores itself, on the
whole batch at once; they are exact there (the engine's bound keeps every partial sum an
integer below 2**53, or 2**63), so the result is the same. The kernels
(scipy's sparse products, NumPy's vector operations) release the GIL, so threads run in
parallel; the layer is read and compiled once and shared. The results are gathered in input
order and are identical to a single-chunk run: exact values are exact whatever the chunking,
and a float row is computed from that row alone, in the same order. (Each chunk's exact
values may carry a different common denominator; :func:`merge_states` brings them to one.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from symdnn.errors import SymdnnError

__all__ = ["available_cores", "resolve_threads", "row_chunks", "merge_states",
           "ChunkPool", "resolve_kernel", "graphblas_threads", "KERNELS"]

#: the sparse-product kernels of the exact engine's float64 and int64 paths
KERNELS = ("auto", "scipy", "graphblas")

T = TypeVar("T")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one).

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int | None) -> int:
    """``threads``, or every available core when it is None.

    Examples
    --------
    >>> resolve_threads(3)
    3
    >>> resolve_threads(None) >= 1
    True
    """
    if threads is None:
        return available_cores()
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
        raise SymdnnError(f"threads must be a positive integer, not {threads!r}")
    return int(threads)


def resolve_kernel(kernel: str | None) -> str:
    """``"graphblas"`` when asked, or for ``"auto"``/None when python-graphblas is installed;
    else ``"scipy"``.

    Examples
    --------
    >>> resolve_kernel("scipy")
    'scipy'
    """
    kernel = kernel or "auto"
    if kernel not in KERNELS:
        raise SymdnnError(f"kernel must be one of {', '.join(KERNELS)}, not {kernel!r}")
    if kernel == "scipy":
        return kernel
    try:
        import graphblas  # noqa: F401
    except ImportError:
        if kernel == "graphblas":
            from symdnn.audit.foreign import MissingDependency

            raise MissingDependency("the graphblas kernel needs python-graphblas: pip install "
                                    "python-graphblas") from None
        return "scipy"
    return "graphblas"


class graphblas_threads:
    """``with graphblas_threads(n):`` SuiteSparse:GraphBLAS uses ``n`` threads, then what it
    used before.

    Examples
    --------
    >>> import graphblas as gb
    >>> before = gb.ss.config["nthreads"]
    >>> with graphblas_threads(1):
    ...     gb.ss.config["nthreads"]
    1
    >>> gb.ss.config["nthreads"] == before
    True
    """

    def __init__(self, n: int):
        self.n = n
        self.old = None

    def __enter__(self) -> graphblas_threads:
        import graphblas as gb

        self.old = gb.ss.config["nthreads"]
        gb.ss.config["nthreads"] = self.n
        return self

    def __exit__(self, *exc: Any) -> None:
        import graphblas as gb

        gb.ss.config["nthreads"] = self.old


def row_chunks(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous, nearly equal ``(start, stop)`` row ranges covering ``0..n``
    (fewer when there are fewer rows; one empty range for an empty batch).

    Examples
    --------
    >>> row_chunks(10, 3)
    [(0, 3), (3, 6), (6, 10)]
    >>> row_chunks(2, 4)
    [(0, 1), (1, 2)]
    """
    parts = max(1, min(parts, n))
    cuts = [n * i // parts for i in range(parts + 1)]
    return [(cuts[i], cuts[i + 1]) for i in range(parts)]


class ChunkPool:
    """``pool.map(fn, chunks)``: in threads when there is more than one chunk, else inline;
    results in the order of the chunks.

    Examples
    --------
    >>> with ChunkPool(2) as pool:
    ...     pool.map(lambda c: sum(range(*c)), row_chunks(10, 2))
    [10, 35]
    """

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="symdnn-chunk") \
            if workers > 1 else None

    def map(self, fn: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
        if self._pool is None or len(items) <= 1:
            return [fn(x) for x in items]
        return list(self._pool.map(fn, items))

    def __enter__(self) -> ChunkPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def merge_states(states: Sequence[Any]) -> Any:
    """Exact engine states of consecutive row chunks as one state over the whole batch.

    Each chunk carries its own common denominator (the engine divides out what its own
    values share, so it depends on the values); the numerators are brought to the least
    common multiple of them and concatenated in row order, as the engine's ``start`` stores
    them. The values are exactly those of the chunks.

    Examples
    --------
    >>> import numpy as np
    >>> from symdnn.engines import exact as EX
    >>> a = EX.start(np.array([0, 1]), np.array([0]), np.array([1]), 2, (1, 3))  # 1/2
    >>> b = EX.start(np.array([0, 1]), np.array([2]), np.array([1]), 3, (1, 3))  # 1/3
    >>> m = merge_states([a, b])
    >>> m.s, [int(v) for v in m.ints()], m.indptr.tolist()
    (6, [3, 2], [0, 1, 2])
    """
    import math

    from symdnn.engines import exact as EX

    if len(states) == 1:
        return states[0]
    den = math.lcm(*(st.s for st in states))
    indptr = [np.zeros(1, dtype=np.int64)]
    off = 0
    for st in states:
        indptr.append(np.asarray(st.indptr[1:], dtype=np.int64) + off)
        off += st.nnz
    indices = np.concatenate([np.asarray(st.indices, dtype=np.int64) for st in states])
    nums = []
    for st in states:
        a, f = st.ints(), den // st.s
        if f != 1:
            a = np.asarray(a, dtype=object) * f
        nums.append(a)
    data = np.concatenate([np.asarray(a, dtype=object) for a in nums]) \
        if any(a.dtype == object for a in nums) else np.concatenate(nums)
    rows = sum(st.shape[0] for st in states)
    return EX.start(np.concatenate(indptr), indices, data, den, (rows, states[0].shape[1]))
