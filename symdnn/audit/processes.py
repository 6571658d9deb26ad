"""An audit on every core in worker processes: the float runs hold the GIL, so threads
cannot run them at once; processes can.

The parent reads each layer once (the next file read while this one is handed out), rounds
its weights once into each format the runs use, pickles that once, and sends it to every
worker (:class:`~symdnn.parallel.Broadcast` keeps at most a few layers in memory, whatever
the depth). Each worker audits its own rows of the batch in lockstep
(:func:`~symdnn.audit.runner.run_lockstep`: the exact run and every float run) and returns
its findings, which merge into exactly the report of one process
(:func:`~symdnn.audit.chunks.merge_lockstep`). The rows are dealt out one at a time
(:data:`BLOCK`), in turn, so each worker gets a share of every part of the batch: how long
an input stays active varies along the batch, and consecutive halves can differ by a third.

Workers are forked (they start in a few milliseconds with the stream and the runs already
in memory); where the platform cannot fork, or for what must run in one chunk
(:func:`~symdnn.audit.chunks.chunkable`), the audit runs in threads instead. A worker ignores
Ctrl-C and dies with its parent; the parent kills its workers when it stops for any reason
(an error, an interrupt), so nothing is left running.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from symdnn.audit.chunks import merge_lockstep
from symdnn.audit.runner import Lockstep, Run, run_lockstep
from symdnn.engines.stream import LayerStream, StreamLayer
from symdnn.errors import SymdnnError
from symdnn.parallel import Broadcast

__all__ = ["BLOCK", "MIN_ROWS", "can_fork", "interleaved_rows", "select_rows",
           "process_lockstep"]

#: rows dealt out to the workers at a time: one, since the work of the Graph Challenge's
#: images comes in runs (blocks of 8 split it 42/58, single rows 53/47)
BLOCK = 1
#: the fewest inputs audited in worker processes (fewer are not worth a fork)
MIN_ROWS = 16
#: what the parent sends after the last layer
_END = pickle.dumps(None)


def can_fork() -> bool:
    """Whether worker processes can be forked here (POSIX).

    Examples
    --------
    >>> can_fork() in (True, False)
    True
    """
    return "fork" in multiprocessing.get_all_start_methods()


def interleaved_rows(n: int, parts: int, block: int = BLOCK) -> list[np.ndarray]:
    """The rows ``0 .. n - 1`` dealt to ``parts`` workers in blocks of ``block``, in turn
    (fewer parts when there are fewer blocks).

    Examples
    --------
    >>> [r.tolist() for r in interleaved_rows(7, 2, block=2)]
    [[0, 1, 4, 5], [2, 3, 6]]
    """
    blocks = -(-n // block)
    parts = max(1, min(parts, blocks))
    owner = (np.arange(n) // block) % parts
    return [np.flatnonzero(owner == k) for k in range(parts)]


def select_rows(stream: LayerStream, rows: np.ndarray) -> LayerStream:
    """The same network on the inputs ``rows`` only (0-based, increasing) of a stream with
    one bias for all inputs. ``block``: rows dealt out at a time.

    Examples
    --------
    >>> st = LayerStream.from_radixnet("radixnet:1024:2", images=5)
    >>> part = select_rows(st, np.array([0, 3]))
    >>> part.batch, part.inputs[3]
    ((1, 4), (2, 1024))
    """
    if stream.per_input_bias:
        raise SymdnnError("a stream with a bias for each input cannot be cut by rows")
    indptr, indices, nums, shape = stream.inputs
    rows = np.asarray(rows, dtype=np.int64)
    lens = np.diff(indptr)[rows]
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lens, out=ptr[1:])
    at = np.repeat(np.asarray(indptr, dtype=np.int64)[rows] - ptr[:-1], lens) + \
        np.arange(ptr[-1], dtype=np.int64)
    return replace(stream, inputs=(ptr, np.asarray(indices)[at], np.asarray(nums)[at],
                                   (len(rows), shape[1])),
                   batch=tuple(stream.batch[i] for i in rows), window=None, truth=None,
                   info={**stream.info, "inputs": len(rows)})


def _watch_parent(parent: int) -> None:
    """In a worker: end the process when its parent is gone (killed, say)."""
    try:  # Linux: the kernel sends SIGKILL when the parent dies
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(0.5)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="symdnn-watch-parent").start()


def _read_ahead(conn: Connection, ahead: int = 2) -> Iterator[bytes]:
    """What the parent sends, read by a thread up to ``ahead`` messages ahead, so that the
    next layer arrives while this one is audited (the parent need not wait for a worker's
    turn to hand it over)."""
    box: queue.Queue = queue.Queue(maxsize=ahead)

    def read() -> None:
        while True:
            try:
                blob = conn.recv_bytes()
            except BaseException as exc:  # noqa: BLE001 (handed to the worker)
                box.put(exc)
                return
            box.put(blob)
            if blob == _END:
                return

    threading.Thread(target=read, daemon=True, name="symdnn-audit-receive").start()
    while True:
        got = box.get()
        if isinstance(got, BaseException):
            raise got
        yield got


def _received(conn: Connection) -> Iterator[StreamLayer]:
    """The layers the parent sends, until it sends None."""
    for blob in _read_ahead(conn):
        item = pickle.loads(blob)
        if item is None:
            return
        if item == "stop":  # the parent could not go on (it failed reading a layer)
            raise SymdnnError("stopped by the parent")
        exact, weights, neurons = item
        yield StreamLayer(exact, weights.__getitem__, neurons)


def _worker(conn: Connection, stream: LayerStream, runs: list[Run], parent: int,
            report: bool) -> None:
    """One worker: the lockstep of its rows over the layers it receives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _watch_parent(parent)
    try:
        progress = (lambda l, L: conn.send(("layer", l))) if report else None
        out = run_lockstep(stream, runs, layers=_received(conn), progress=progress)
        for res in out.results:
            res.run = None  # the parent has them (a run folder need not pickle)
        msg = ("done", out)
    except BaseException as exc:  # noqa: BLE001 (handed to the parent)
        try:
            pickle.dumps(exc)
            msg = ("error", exc)
        except Exception:  # noqa: BLE001
            msg = ("error", SymdnnError(f"{type(exc).__name__}: {exc}"))
    try:
        conn.send(msg)
    except OSError:  # the parent is gone
        pass


def process_lockstep(stream: LayerStream, runs: list[Run], jobs: int, *,
                     progress: Callable[[int, int], None] | None = None,
                     block: int = BLOCK) -> Lockstep:
    """:func:`~symdnn.audit.runner.run_lockstep` in ``jobs`` worker processes, each on its
    blocks of rows (:func:`interleaved_rows`), the layers read once here and sent to all;
    exactly the same result. Only symdnn's own float runs (``Run.format``), on a stream with
    one bias for all inputs. ``block``: rows dealt out at a time.

    Examples
    --------
    >>> st = LayerStream.from_radixnet("radixnet:1024:3", images=20)
    >>> two = process_lockstep(st, [Run.format("bf16")], 2)
    >>> one = run_lockstep(st, [Run.format("bf16")])
    >>> two.exact_rows.tolist() == one.exact_rows.tolist()
    True
    >>> [ly.to_json() for ly in two.results[0].layers] == \\
    ...     [ly.to_json() for ly in one.results[0].layers]
    True
    """
    if any(r.kind != "float" for r in runs):
        raise SymdnnError("worker processes run symdnn's own float formats only")
    rows = interleaved_rows(len(stream.batch), jobs, block)
    fmts = sorted({r.fmt for r in runs})
    ctx = multiprocessing.get_context("fork")
    me = os.getpid()
    conns, procs, senders = [], [], []
    hub = None
    errors: list[BaseException] = []
    try:
        for k, sel in enumerate(rows):
            here, there = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(there, select_rows(stream, sel), runs, me,
                                                  progress is not None and k == 0),
                            name=f"symdnn-audit-{k}", daemon=True)
            p.start()
            there.close()
            conns.append(here)
            procs.append(p)

        def payloads() -> Iterator[bytes]:
            for lay in stream.layers():
                yield pickle.dumps((lay.exact, {f: lay.float_weights(f) for f in fmts},
                                    lay.neurons), protocol=pickle.HIGHEST_PROTOCOL)

        hub = Broadcast(payloads(), len(rows))

        def send(k: int) -> None:
            tap = hub.taps[k]
            try:
                for blob in tap:
                    conns[k].send_bytes(blob)
                conns[k].send_bytes(_END)
            except BaseException as exc:  # noqa: BLE001 (a read error, or a worker gone)
                errors.append(exc)
                tap.close(exc)
                try:
                    conns[k].send_bytes(pickle.dumps("stop"))
                except OSError:
                    pass
                return
            tap.close()

        for k in range(len(rows)):
            t = threading.Thread(target=send, args=(k,), daemon=True,
                                 name=f"symdnn-audit-send-{k}")
            t.start()
            senders.append(t)
        parts: list[Any] = [None] * len(rows)
        waiting = dict(enumerate(conns))
        while waiting:
            for c in wait(list(waiting.values())):
                k = conns.index(c)
                try:
                    kind, val = c.recv()
                except (EOFError, OSError):
                    read = [e for e in errors if not isinstance(e, OSError)]
                    if read:  # the parent failed reading a layer: that is the error
                        raise read[0] from None
                    raise SymdnnError(f"audit worker {k + 1} of {len(rows)} died "
                                      f"(exit status {procs[k].exitcode})") from None
                if kind == "layer":
                    progress(val, stream.depth)
                    continue
                if kind == "error":
                    read = [e for e in errors if not isinstance(e, OSError)]
                    raise read[0] if read else val
                parts[k] = val
                del waiting[k]
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        for p in procs:
            p.join()
        for c in conns:
            c.close()
        for t in senders:
            t.join(5)
    return merge_lockstep(parts, rows, runs)
