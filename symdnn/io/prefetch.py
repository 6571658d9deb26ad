"""Read ahead: the next files are read in a background thread while the current one is used.

Decompression (zlib) and NumPy's vector operations release the GIL, so on a machine with two
or more cores reading layer ``l + 1`` overlaps computing layer ``l``. At most ``ahead``
results wait in memory, so memory stays independent of the number of files; results come in
order, and an error reading a file is raised when its turn comes, as a plain loop would.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["prefetched"]

T = TypeVar("T")


def prefetched(fn: Callable[[Any], T], items: Iterable[Any], *, ahead: int = 2) -> Iterator[T]:
    """``fn(item)`` for every item, in order, with up to ``ahead`` of them computed ahead in
    one background thread.

    Examples
    --------
    >>> list(prefetched(lambda x: x * x, range(5)))
    [0, 1, 4, 9, 16]
    """
    it = iter(items)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="symdnn-read")
    waiting: deque[Future] = deque()
    try:
        for item in it:
            waiting.append(pool.submit(fn, item))
            if len(waiting) >= ahead:
                break
        while waiting:
            done = waiting.popleft()
            for item in it:  # keep `ahead` in flight
                waiting.append(pool.submit(fn, item))
                break
            yield done.result()
    finally:
        # Never wait for the reader here: a generator left unfinished (an error, a break) is
        # closed by the garbage collector, which may run inside another thread's start while
        # that thread holds the lock a finishing thread needs; joining the reader there
        # deadlocks. Cancelled, the reader ends after the file in hand, on its own.
        pool.shutdown(wait=False, cancel_futures=True)
