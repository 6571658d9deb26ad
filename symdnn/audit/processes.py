"""An audit on every core in worker processes: the float runs hold the GIL, so threads
cannot run them at once; processes can.

The runs are dealt out whole (:func:`deal_runs`), each process holding its runs over every
input of the batch. The parent reads each layer once (the next file read while this one is
used), runs the exact network itself (:class:`~symdnn.audit.runner.ExactRun`), sends every
worker the layer's weights rounded once into the formats of its runs together with the exact
pre-activations and activations its runs are compared with, and then steps its own share of
the runs while the workers step theirs (:class:`~symdnn.audit.runner.RunSteps`, the code one
process runs). The findings come back whole, so the report is exactly that of one process,
and nothing is computed twice: no row of the exact run, no layer of a float run. Arrays
travel out of band (pickle protocol 5) through pipes widened to hold a layer.

Workers are forked (they start in a few milliseconds with the stream and the runs already
in memory); where the platform cannot fork, the audit runs in threads instead. A worker
ignores Ctrl-C and dies with its parent; the parent kills its workers when it stops for any
reason (an error, an interrupt), so nothing is left running.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from symdnn.audit.runner import ExactRun, Lockstep, Run, RunSteps
from symdnn.engines.stream import LayerStream, StreamLayer
from symdnn.errors import SymdnnError

__all__ = ["MIN_ROWS", "AHEAD", "PARENT_LOAD", "can_fork", "deal_runs", "process_lockstep"]

#: the fewest inputs audited in worker processes (fewer are not worth a fork)
MIN_ROWS = 16
#: layers the parent may run ahead of the slowest worker (memory: that many layers a worker)
AHEAD = 2
#: the parent's share of the work before any run is dealt, in runs: reading the layers and
#: the exact run cost about two float runs on the Graph Challenge
PARENT_LOAD = 2


def can_fork() -> bool:
    """Whether worker processes can be forked here (POSIX).

    Examples
    --------
    >>> can_fork() in (True, False)
    True
    """
    return "fork" in multiprocessing.get_all_start_methods()


def deal_runs(n: int, jobs: int, parent_load: float = PARENT_LOAD
              ) -> tuple[list[int], list[list[int]]]:
    """The runs ``0 .. n - 1`` dealt to ``jobs`` processes: ``(the parent's, each
    worker's)``. Each run goes to the least loaded process, the parent starting with
    ``parent_load`` runs' worth of work (it reads the layers and runs the exact network),
    a worker first on a tie; workers left without a run are not started.

    Examples
    --------
    >>> deal_runs(4, 2)  # the Graph Challenge's audit on two cores
    ([3], [[0, 1, 2]])
    >>> deal_runs(4, 4), deal_runs(1, 2), deal_runs(3, 1), deal_runs(2, 10**20)
    (([], [[0, 3], [1], [2]]), ([], [[0]]), ([0, 1, 2], []), ([], [[0], [1]]))
    """
    load = [float(parent_load)] + [0.0] * max(0, min(jobs - 1, n))  # no idle workers
    dealt: list[list[int]] = [[] for _ in load]
    for i in range(n):
        k = min(range(1, len(load)), key=load.__getitem__, default=0)
        if load[0] < load[k]:
            k = 0
        dealt[k].append(i)
        load[k] += 1
    return dealt[0], [d for d in dealt[1:] if d]


def _pack(item: Any) -> list:
    """``item`` as the parts of one message: a header (the pickle, and the sizes of its
    buffers), then each array's bytes as they lie in memory (pickle protocol 5, out of
    band: no copy into the pickle here, none out of it in the worker)."""
    bufs: list = []
    head = pickle.dumps(item, protocol=5, buffer_callback=bufs.append)
    raws = [b.raw() for b in bufs]
    return [pickle.dumps((head, [r.nbytes for r in raws]), protocol=5), *raws]


def _recv(conn: Connection) -> Any:
    """One message of :func:`_pack`, unpickled; its arrays are writable, in fresh memory."""
    head, sizes = pickle.loads(conn.recv_bytes())
    bufs = [bytearray(n) for n in sizes]
    for b in bufs:
        if conn.recv_bytes_into(b) != len(b):
            raise SymdnnError("a message from the parent was cut short")
    return pickle.loads(head, buffers=bufs)


def _send(conn: Connection, parts: list) -> None:
    for part in parts:
        conn.send_bytes(part)


#: what the parent sends after the last layer
_END = _pack(None)


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


def _read_ahead(conn: Connection, ahead: int = 2) -> Iterator[Any]:
    """What the parent sends, read by a thread up to ``ahead`` messages ahead, so that the
    next layer arrives while this one is audited (the parent need not wait for a worker's
    turn to hand it over)."""
    box: queue.Queue = queue.Queue(maxsize=ahead)

    def read() -> None:
        while True:
            try:
                item = _recv(conn)
            except BaseException as exc:  # noqa: BLE001 (handed to the worker)
                box.put(exc)
                return
            box.put(item)
            if item is None:
                return

    threading.Thread(target=read, daemon=True, name="symdnn-audit-receive").start()
    while True:
        got = box.get()
        if isinstance(got, BaseException):
            raise got
        yield got


def _worker(conn: Connection, tell: Connection, stream: LayerStream, runs: list[Run],
            parent: int) -> None:
    """One worker: its runs stepped over the layers the parent sends on ``conn``, then
    finished against the exact output; the findings (or the error) go back on ``tell``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _watch_parent(parent)
    try:
        steps = RunSteps(stream, runs)
        msg = ("error", SymdnnError("the parent sent no end"))
        for item in _read_ahead(conn):
            if item is None:
                break
            if item[0] == "layer":
                _, l, weights, neurons, pre, post = item
                steps.step(l, StreamLayer(None, weights.__getitem__, neurons), pre, post)
            elif item[0] == "end":
                results = steps.finish(*item[1:])
                for res in results:
                    res.run = None  # the parent has them
                msg = ("done", results)
                break
            else:  # the parent could not go on
                raise SymdnnError("stopped by the parent")
    except BaseException as exc:  # noqa: BLE001 (handed to the parent)
        try:
            pickle.dumps(exc)
            msg = ("error", exc)
        except Exception:  # noqa: BLE001
            msg = ("error", SymdnnError(f"{type(exc).__name__}: {exc}"))
    try:
        tell.send(msg)
    except OSError:  # the parent is gone
        pass


def _widen(conn: Connection, size: int = 1 << 20) -> None:
    """A pipe that holds a layer (1 MiB, Linux's default limit for a user), where the default
    64 KiB would make the parent and a worker take turns some twenty times a layer."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError):  # not Linux, or a smaller limit: the default then
        pass


def process_lockstep(stream: LayerStream, runs: list[Run], jobs: int, *,
                     progress: Callable[[int, int], None] | None = None) -> Lockstep:
    """:func:`~symdnn.audit.runner.run_lockstep` with the runs dealt to ``jobs`` worker
    processes (:func:`deal_runs`) and the exact run here; exactly the same result. Only
    symdnn's own float runs (``Run.format``).

    Examples
    --------
    >>> from symdnn.audit.runner import run_lockstep
    >>> st = LayerStream.from_radixnet("radixnet:1024:3", images=20)
    >>> runs = [Run.format("bf16"), Run.format("fp16")]
    >>> two = process_lockstep(st, runs, 2)
    >>> one = run_lockstep(st, runs)
    >>> two.exact_rows.tolist() == one.exact_rows.tolist()
    True
    >>> [ly.to_json() for ly in two.results[1].layers] == \\
    ...     [ly.to_json() for ly in one.results[1].layers]
    True
    """
    if any(r.kind != "float" for r in runs):
        raise SymdnnError("worker processes run symdnn's own float formats only")
    mine, groups = deal_runs(len(runs), jobs)
    fmts = [sorted({runs[i].fmt for i in g}) for g in groups]
    ctx = multiprocessing.get_context("fork")
    me = os.getpid()
    conns: list[Connection] = []  # what each worker tells
    outs: list[Connection] = []  # where each worker's layers go
    procs: list = []
    senders: list[threading.Thread] = []
    boxes: list[queue.Queue] = []
    failed = threading.Event()
    quit_ = threading.Event()
    try:
        for g in groups:
            take, give = ctx.Pipe(duplex=False)  # layers: parent -> worker
            hear, tell = ctx.Pipe(duplex=False)  # the findings: worker -> parent
            _widen(give)
            p = ctx.Process(target=_worker, args=(take, tell, stream, [runs[i] for i in g],
                                                  me),
                            name=f"symdnn-audit-{len(procs)}", daemon=True)
            p.start()
            take.close()
            tell.close()
            outs.append(give)
            conns.append(hear)
            procs.append(p)

        def send(k: int) -> None:
            box = boxes[k]
            while not quit_.is_set():
                try:
                    parts = box.get(timeout=0.2)
                except queue.Empty:
                    continue
                try:
                    _send(outs[k], parts)
                except OSError:  # the worker is gone: its message, or its exit, says why
                    failed.set()
                    return
                if parts is _END:
                    return

        for k in range(len(groups)):
            boxes.append(queue.Queue(maxsize=AHEAD))
            t = threading.Thread(target=send, args=(k,), daemon=True,
                                 name=f"symdnn-audit-send-{k}")
            t.start()
            senders.append(t)

        def put(k: int, parts: list) -> bool:
            """Hand ``parts`` to worker ``k``'s sender; False once a worker stopped taking
            layers (it failed or died: its own message says why)."""
            while not failed.is_set():
                try:
                    boxes[k].put(parts, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        exact = ExactRun(stream)
        own = RunSteps(stream, [runs[i] for i in mine]) if mine else None
        stopped = False
        layers = stream.layers()
        with contextlib.ExitStack() as on_exit:  # a generator closed here, even on a break
            if hasattr(layers, "close"):
                on_exit.callback(layers.close)
            for l, lay in enumerate(layers, 1):
                pre, post = exact.step(lay)
                for k in range(len(groups)):
                    stopped = stopped or not put(k, _pack((
                        "layer", l, {f: lay.float_weights(f) for f in fmts[k]}, lay.neurons,
                        pre, post)))
                if stopped:
                    break
                if own is not None:  # while the workers do theirs
                    own.step(l, lay, pre, post)
                if progress:
                    progress(l, stream.depth or l)
        final = exact.final()
        if not stopped:
            end = _pack(("end", final, exact.width, exact.names))
            stopped = not all([put(k, end) and put(k, _END) for k in range(len(groups))])
        results: list[Any] = [None] * len(runs)
        if own is not None and not stopped:
            for i, res in zip(mine, own.finish(final, exact.width, exact.names), strict=True):
                results[i] = res
        waiting = dict(enumerate(conns))
        while waiting:
            for c in wait(list(waiting.values())):
                k = conns.index(c)
                try:
                    kind, val = c.recv()
                except (EOFError, OSError):
                    raise SymdnnError(f"audit worker {k + 1} of {len(groups)} died "
                                      f"(exit status {procs[k].exitcode})") from None
                if kind == "error":
                    raise val
                for i, res in zip(groups[k], val, strict=True):
                    res.run = runs[i]
                    results[i] = res
                del waiting[k]
    finally:
        quit_.set()
        for p in procs:
            if p.is_alive():
                p.kill()
        for p in procs:
            p.join()
        for c in conns + outs:
            c.close()
        for t in senders:
            t.join(5)
    return Lockstep(exact.zero, exact.pre, exact.rows, results, exact.seconds)
