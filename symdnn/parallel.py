"""Every core: a batch of inputs split into chunks of rows that run concurrently.

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

import math
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from symdnn._optional import require
from symdnn.engines import exact as EX
from symdnn.engines.resident import advance, as_state
from symdnn.engines.stream import LayerStream
from symdnn.errors import ArgumentError, MissingDependency, SymdnnError

__all__ = ["available_cores", "resolve_threads", "row_chunks", "merge_states",
           "ChunkPool", "resolve_kernel", "graphblas_threads", "KERNELS", "ExactBatch",
           "exact_pass", "Broadcast", "Tap", "dask_client", "dask_map", "wants_dask"]

#: the sparse-product kernels of the exact engine's float64 and int64 paths
KERNELS = ("auto", "scipy", "graphblas")
#: seconds to wait for a dask scheduler's first worker
WAIT_FOR_WORKERS = 30

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
        raise ArgumentError(f"threads must be a positive integer, not {threads!r}")
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
        raise ArgumentError(f"kernel must be one of {', '.join(KERNELS)}, not {kernel!r}")
    if kernel == "scipy":
        return kernel
    try:
        require("graphblas", "graphblas", what="the graphblas kernel",
                package="python-graphblas", pip="python-graphblas")
    except MissingDependency:
        if kernel == "graphblas":
            raise
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
        gb = require("graphblas", "graphblas", what="graphblas_threads",
                     package="python-graphblas")
        self.old = gb.ss.config["nthreads"]
        gb.ss.config["nthreads"] = self.n
        return self

    def __exit__(self, *exc: Any) -> None:
        gb = require("graphblas", "graphblas", what="graphblas_threads",
                     package="python-graphblas")
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


class ExactBatch:
    """An exact batch of inputs stepped through layers on every core, as the engine's
    :func:`~symdnn.engines.exact.step` steps it on one.

    With the ``graphblas`` kernel the whole batch stays in SuiteSparse:GraphBLAS
    (:mod:`symdnn.engines.resident`) on ``threads`` threads; with ``scipy`` it is cut into
    ``threads`` row chunks stepped concurrently. Either way :meth:`state` is exactly the
    single-chunk result.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from symdnn.engines import exact as EX
    >>> lay = EX.ExactLayer(sp.csr_matrix(np.array([[1, 2], [3, 0]])), 4, None, 1)
    >>> X = sp.csr_matrix(np.array([[1, 0], [0, 2], [1, 1]]))
    >>> with ExactBatch(X.indptr, X.indices, X.data, 1, X.shape, threads=2) as b:
    ...     _ = b.step(lay, rule="nonzero", cap=None)
    ...     st = b.state()
    >>> st.s, [int(v) for v in st.ints()]
    (4, [1, 2, 6, 4, 2])
    """

    def __init__(self, indptr: Any, indices: Any, numerators: Any, s: int, shape: tuple, *,
                 threads: int | None = None, kernel: str | None = None):
        self.threads = resolve_threads(threads)
        self.kernel = resolve_kernel(kernel)
        indptr = np.asarray(indptr, dtype=np.int64)
        indices = np.asarray(indices, dtype=np.int64)
        numerators = np.asarray(numerators)
        self.chunks = row_chunks(shape[0], 1 if self.kernel == "graphblas" else self.threads)
        self.states: list[Any] = []
        for a, b in self.chunks:
            lo, hi = indptr[a], indptr[b]
            self.states.append(EX.start(indptr[a:b + 1] - lo, indices[lo:hi],
                                        numerators[lo:hi], s, (b - a, shape[1])))
        self._pool = ChunkPool(len(self.chunks))
        self._gb = graphblas_threads(self.threads) if self.kernel == "graphblas" else None
        if self._gb is not None:
            self._gb.__enter__()

    @classmethod
    def of(cls, stream: LayerStream, *, threads: int | None = None,
           kernel: str | None = None) -> ExactBatch:
        """The inputs of a :class:`~symdnn.engines.LayerStream`, ready to step."""
        indptr, indices, nums, shape = stream.inputs
        return cls(indptr, indices, nums, stream.scale, shape, threads=threads, kernel=kernel)

    def step(self, lay: Any, *, rule: str, cap: tuple[int, int] | None) -> str:
        """One layer; returns the path the chunks took (``"float64"``, or several joined by
        ``+`` when chunks took different ones)."""
        if self.kernel == "graphblas":
            outs = [advance(self.states[0], lay, rule=rule, cap=cap)]
        elif lay.nb is not None and lay.nb.ndim == 2 and len(self.chunks) > 1:
            # a bias for each input (B_l): each chunk gets the rows of its own inputs
            parts = [(st, EX.ExactLayer(lay.NW, lay.dW, lay.nb[a:b], lay.db))
                     for st, (a, b) in zip(self.states, self.chunks, strict=True)]
            outs = self._pool.map(lambda p: EX.step(p[0], p[1], rule=rule, cap=cap), parts)
        else:
            outs = self._pool.map(lambda st: EX.step(st, lay, rule=rule, cap=cap),
                                  self.states)
        self.states = [o[0] for o in outs]
        return "+".join(dict.fromkeys(o[1].path for o in outs))

    def state(self) -> Any:
        """The whole batch as one :class:`~symdnn.engines.exact.ExactState`."""
        return merge_states([as_state(st) for st in self.states])

    def close(self) -> None:
        self._pool.__exit__(None, None, None)
        if self._gb is not None:
            self._gb.__exit__(None, None, None)
            self._gb = None

    def __enter__(self) -> ExactBatch:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def exact_pass(stream: LayerStream, *, threads: int | None = None, kernel: str | None = None,
               rows: tuple[int, int] | None = None,
               progress: Callable[[int, int], None] | None = None) -> tuple[Any, list[str]]:
    """The exact outputs of a stream's network on its inputs (or on its inputs ``rows[0] ..
    rows[1] - 1`` alone: what one dask task runs), stepped by :class:`ExactBatch`:
    ``(ExactState, paths)``, the path each layer took.

    Examples
    --------
    >>> from symdnn.engines import LayerStream
    >>> st = LayerStream.from_radixnet("radixnet:1024:2", images=6)
    >>> whole, paths = exact_pass(st, threads=2, kernel="scipy")
    >>> part, _ = exact_pass(st, rows=(4, 6), threads=1, kernel="scipy")
    >>> part.shape, paths
    ((2, 1024), ['float64', 'float64'])
    """
    if rows is not None:
        stream = stream.rows(*rows)
    paths = []
    with ExactBatch.of(stream, threads=threads, kernel=kernel) as batch:
        for l, lay in enumerate(stream.layers(), 1):
            paths.append(batch.step(lay.exact, rule=stream.rule, cap=stream.cap_pair))
            if progress:
                progress(l, stream.depth)
        return batch.state(), paths


class Broadcast:
    """One stream of items for ``n`` threads: ``Broadcast(items, n).taps[k]`` is thread
    ``k``'s iterator over every item. The items are drawn once, and kept only until every
    open tap has passed them; a tap more than ``ahead`` items ahead of the slowest waits, so
    memory stays a few items, not the whole stream. An exception raised by ``items``, or
    given to :meth:`Tap.close` by a failing thread, reaches every other tap.

    Examples
    --------
    >>> a, b = Broadcast(iter("xyz"), 2).taps
    >>> next(a), next(a), next(b), list(b), list(a)
    ('x', 'y', 'x', ['y', 'z'], ['z'])
    """

    def __init__(self, items: Iterable[Any], n: int, ahead: int = 2):
        if isinstance(ahead, bool) or not isinstance(ahead, int) or ahead < 1:
            raise ArgumentError(f"ahead must be a positive integer, not {ahead!r}")
        self._source = iter(items)
        self._cond = threading.Condition()
        self._buf: dict[int, Any] = {}
        self._pos = [0] * n
        self._drawn = 0
        self._done = False
        self._error: BaseException | None = None
        self.ahead = ahead
        self.taps = [Tap(self, k) for k in range(n)]

    def _slowest(self) -> float:
        return min(self._pos, default=0)

    def _next(self, k: int) -> Any:
        with self._cond:
            i = self._pos[k]
            while (self._error is None and i >= self._drawn and not self._done
                   and i - self._slowest() >= self.ahead):
                self._cond.wait()  # far ahead of the slowest: let it catch up
            if self._error is None and i >= self._drawn and not self._done:
                try:
                    self._buf[self._drawn] = next(self._source)
                    self._drawn += 1
                except StopIteration:
                    self._done = True
                except BaseException as exc:  # handed to every tap
                    self._error = exc
                self._cond.notify_all()
            if self._error is not None:
                raise self._error
            if i >= self._drawn:
                raise StopIteration
            item = self._buf[i]
            self._pos[k] = i + 1
            self._trim()
            return item

    def _trim(self) -> None:
        lo = self._slowest()
        for j in [j for j in self._buf if j < lo]:
            del self._buf[j]
        self._cond.notify_all()

    def _close(self, k: int, error: BaseException | None) -> None:
        with self._cond:
            self._pos[k] = float("inf")  # no longer holds the others back
            if error is not None and self._error is None:
                self._error = error
            self._trim()


class Tap:
    """One thread's iterator over a :class:`Broadcast`. A thread must ``close()`` its tap
    when it is done with it, also when it stops early (``close(error)`` with its exception
    stops the others too): an open tap left behind holds the others back.

    Examples
    --------
    >>> a, b = Broadcast(iter(range(5)), 2, ahead=1).taps
    >>> next(a)
    0
    >>> b.close()          # b is done: a no longer waits for it
    >>> list(a)
    [1, 2, 3, 4]
    """

    def __init__(self, hub: Broadcast, k: int):
        self._hub, self._k = hub, k

    def __iter__(self) -> Tap:
        return self

    def __next__(self) -> Any:
        return self._hub._next(self._k)

    def close(self, error: BaseException | None = None) -> None:
        self._hub._close(self._k, error)


def wants_dask(dask: str | bool | None) -> bool:
    """Whether ``dask`` asks for a cluster: an address, ``""`` or True (not None or False).

    Examples
    --------
    >>> wants_dask(None), wants_dask(False), wants_dask(""), wants_dask("tcp://h:8786")
    (False, False, True, True)
    """
    return dask is not None and dask is not False


def dask_client(dask: str | bool) -> tuple[Any, Any]:
    """A dask.distributed client (and the LocalCluster it started, or None): ``True`` or
    ``""`` starts a LocalCluster with one worker per core, a string is a scheduler address.
    An unreachable or silent address is a :class:`~symdnn.errors.SymdnnError` within 20 s.

    Examples
    --------
    >>> dask_client("foo://nowhere:1")
    Traceback (most recent call last):
    ...
    symdnn.errors.SymdnnError: dask='foo://nowhere:1': cannot reach the scheduler (...)
    """
    distributed = require("distributed", "dask", what="dask=", package="dask.distributed")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    if dask is True or dask == "":
        cluster = LocalCluster(n_workers=available_cores(), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:  # an unknown scheme is refused before a Client starts its IO loop: a second Client
        # after one that failed to connect can find no loop within 10 s (an AssertionError
        # inside distributed)
        from distributed.comm.addressing import parse_address
        from distributed.comm.registry import get_backend

        get_backend(parse_address(str(dask))[0])
    except (ValueError, TypeError) as exc:
        raise SymdnnError(f"dask={dask!r}: cannot reach the scheduler ({exc})") from None
    box: dict = {}

    def connect() -> None:
        try:
            box["client"] = Client(str(dask), timeout="10s")
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    # a daemon thread: a port that accepts connections but never answers as a scheduler
    # would make the client wait forever, and must not keep the process alive at exit
    t = threading.Thread(target=connect, name="symdnn-dask-connect", daemon=True)
    t.start()
    t.join(20)
    if t.is_alive():
        raise SymdnnError(f"dask={dask!r}: no dask scheduler answered in 20 s (is it a "
                          "scheduler's address, tcp://HOST:8786?)")
    exc = box.get("error")
    if isinstance(exc, OSError | ValueError | TypeError):
        raise SymdnnError(f"dask={dask!r}: cannot reach the scheduler ({exc})") from None
    if isinstance(exc, MemoryError):
        raise SymdnnError(f"dask={dask!r}: what answers there is not a dask scheduler")
    if exc is not None:
        raise exc
    return box["client"], None


def dask_map(dask: str | bool, task: Callable[..., T], n_rows: int, **kw: Any
             ) -> tuple[list[T], list[tuple[int, int]], int]:
    """``task(**kw, rows=(a, b))`` for one chunk of rows per worker of a dask cluster
    (:func:`dask_client`); returns ``(results in row order, chunks, workers)``. The client
    (and a LocalCluster it started) is closed afterwards.

    Examples
    --------
    >>> from distributed import LocalCluster
    >>> with LocalCluster(n_workers=2, processes=False, dashboard_address=None) as c:
    ...     dask_map(c.scheduler_address, lambda rows: sum(range(*rows)), 10)
    ([10, 35], [(0, 5), (5, 10)], 2)
    """
    client, cluster = dask_client(dask)
    try:
        if not client.scheduler_info()["workers"]:
            try:  # a scheduler whose workers are still starting, or that has none
                client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
            except TimeoutError:
                raise SymdnnError(f"dask={dask!r}: the scheduler has no workers (none came "
                                  f"in {WAIT_FOR_WORKERS} s; start some with 'dask worker "
                                  "ADDRESS')") from None
        workers = max(1, len(client.scheduler_info()["workers"]))
        chunks = row_chunks(n_rows, workers)
        futures = [client.submit(task, **kw, rows=c, pure=False) for c in chunks]
        return client.gather(futures), chunks, workers
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
