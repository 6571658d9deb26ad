"""An audit on every core in worker processes: the float runs hold the GIL, so threads
cannot run them at once; processes can.

The runs are dealt out whole (:func:`deal_runs`), each process holding its runs over every
input of the batch; runs that may share their products
(:func:`~symdnn.engines.floating.product_key`) go to one process. The parent reads each
layer once (the next file read while this one is used) and, for each layer:

1. sends every worker the layer's weights rounded once into the formats of its runs, so that
   the workers step their runs (:meth:`~symdnn.audit.runner.RunSteps.advance`) while
2. the parent runs the exact layer itself (:class:`~symdnn.audit.runner.ExactRun`), then
   sends the exact pre-activations and activations that the workers compare their runs with
   (:meth:`~symdnn.audit.runner.RunSteps.compare`), and steps its own share of the runs.

The findings come back whole, so the report is exactly that of one process, and nothing is
computed twice: no row of the exact run, no layer of a float run. Arrays travel out of band
(pickle protocol 5) through pipes widened to hold a layer, integers in the narrowest type
that holds them (:func:`_squeeze`); each worker reads up to :data:`AHEAD` layers (and
:data:`AHEAD_BYTES`) ahead, as the early layers cost the parent more and the later ones the
workers.

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

import numpy as np
import scipy.sparse as sp

from symdnn.audit.runner import ExactRun, Lockstep, Run, RunSteps
from symdnn.domains import get_domain
from symdnn.engines.floating import product_key
from symdnn.engines.stream import LayerStream, StreamLayer
from symdnn.errors import SymdnnError

__all__ = ["MIN_ROWS", "AHEAD", "AHEAD_BYTES", "PARENT_LOAD", "can_fork", "deal_runs",
           "process_lockstep"]

#: the fewest inputs audited in worker processes (fewer are not worth a fork)
MIN_ROWS = 16
#: layers a worker reads ahead of its runs, so the parent runs that far ahead of the slowest
#: worker (and a pipe's worth more): the early layers cost the parent more (reading, the
#: exact run) and the later ones the workers, so a short window would make each wait for
#: the other in turn
AHEAD = 8
#: the bytes a worker reads ahead, at most (one larger message is read alone)
AHEAD_BYTES = 64 << 20
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


def deal_runs(n: int, jobs: int, parent_load: float = PARENT_LOAD,
              keys: list | None = None) -> tuple[list[int], list[list[int]]]:
    """The runs ``0 .. n - 1`` dealt to ``jobs`` processes: ``(the parent's, each
    worker's)``. Each process takes as many runs as keeps the loads even, the parent starting
    with ``parent_load`` runs' worth of work (it reads the layers and runs the exact network)
    and a worker taking the extra run of a tie; workers left without a run are not started.

    ``keys`` (one a run: :func:`~symdnn.engines.floating.product_key`) keeps runs that may
    share their products together: the runs are taken in order of their key's number of
    runs, then of where the key first appears, the parent's first, so that the parent gets
    the runs that share nothing and a worker all the runs of one key where counts allow.

    Examples
    --------
    >>> deal_runs(4, 2)
    ([0], [[1, 2, 3]])
    >>> deal_runs(4, 2, keys=["f32", "f32", "f64", "f32"])  # the Graph Challenge's audit
    ([2], [[0, 1, 3]])
    >>> deal_runs(4, 4), deal_runs(1, 2), deal_runs(3, 1), deal_runs(2, 10**20)
    (([], [[0, 1], [2], [3]]), ([], [[0]]), ([0, 1, 2], []), ([], [[0], [1]]))
    """
    load = [float(parent_load)] + [0.0] * max(0, min(jobs - 1, n))  # no idle workers
    counts = [0] * len(load)
    for _ in range(n):
        k = min(range(1, len(load)), key=load.__getitem__, default=0)
        if load[0] < load[k]:
            k = 0
        counts[k] += 1
        load[k] += 1
    keys = list(range(n)) if keys is None else list(keys)
    size = {k: keys.count(k) for k in keys}
    first = {k: keys.index(k) for k in keys}
    order = sorted(range(n), key=lambda i: (size[keys[i]], first[keys[i]], i))
    dealt, at = [], 0
    for c in counts:
        dealt.append(sorted(order[at:at + c]))
        at += c
    return dealt[0], [d for d in dealt[1:] if d]


_SMALL = (np.int8, np.int16, np.int32)


def _narrowest(a: np.ndarray, ascending: bool = False) -> np.ndarray:
    """Integers (int64, or float64 holding integers) in the narrowest of int8, int16 and
    int32 that holds every one of them exactly; any other array as it is. ``ascending``:
    ``a`` is sorted, its least and largest at its ends."""
    if a.dtype.kind not in "if" or not len(a):
        return a
    lo, hi = (a[0], a[-1]) if ascending else (a.min(), a.max())
    for t in _SMALL:
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:  # False for NaN
            b = a.astype(t)
            return b if a.dtype.kind == "i" or np.array_equal(b, a) else a
    return a


def _squeeze(pre: tuple, post: tuple) -> tuple:
    """A layer's exact ``(pre, post)`` as the parent sends them: keys and numerators in the
    narrowest integer type that holds them, the activations' keys left out where they are
    the keys of the positive pre-activations (the worker takes them from there); about a
    third of the bytes on the Graph Challenge. :func:`_unsqueeze` undoes it exactly."""
    ek, en, es = pre  # ek sorted, as ExactRun.step sorts it
    pk, pn, ps = post
    derived = False
    if en.dtype != object:
        positive = en > 0
        derived = len(pk) == np.count_nonzero(positive) and np.array_equal(ek[positive], pk)
    return ((_narrowest(ek, ascending=True), _narrowest(en), es),
            (None if derived else _narrowest(pk), _narrowest(pn), ps))


def _unsqueeze(pre: tuple, post: tuple) -> tuple:
    """What :func:`_squeeze` sent, as :class:`~symdnn.audit.runner.ExactRun` gave it (int64
    where the parent had int64 or float64 integers)."""
    def wide(a: np.ndarray) -> np.ndarray:
        return a.astype(np.int64) if a.dtype.type in _SMALL else a

    ek, en, es = pre
    pk, pn, ps = post
    ek, en = wide(ek), wide(en)
    return (ek, en, es), (ek[en > 0] if pk is None else wide(pk), wide(pn), ps)


class _Repeated:
    """An array of one value repeated (a Graph Challenge layer's weights, its bias), sent as
    that value and its count."""

    __slots__ = ("one", "n")

    def __init__(self, one: np.ndarray, n: int) -> None:
        self.one, self.n = one, n

    def __reduce__(self) -> tuple:
        return (_Repeated, (self.one, self.n))


def _thin(a: Any) -> Any:
    """``a`` as a :class:`_Repeated` where it is a flat array of one value repeated, bit for
    bit (the sign of a zero too); else as it is."""
    if isinstance(a, np.ndarray) and a.ndim == 1 and len(a) > 1 and a.dtype.kind in "biuf" \
            and a.itemsize in (1, 2, 4, 8) and a.flags.c_contiguous:
        u = a.view(f"u{a.itemsize}")
        if (u == u[0]).all():
            return _Repeated(a[:1].copy(), len(a))
    return a


def _thick(a: Any) -> Any:
    """What :func:`_thin` made, as the array it was."""
    return np.repeat(a.one, a.n) if isinstance(a, _Repeated) else a


def _weights_out(lay: StreamLayer, fmts: list[str]) -> tuple:
    """A layer's float weights in ``fmts`` as the parent sends them: each distinct matrix
    once (formats that round every weight alike share one), repeated values as one."""
    mats: list = []
    which: dict = {}
    for f in fmts:
        W, b = lay.float_weights(f)
        k = next((i for i, M in enumerate(mats) if M is W), None)
        if k is None:
            mats.append(W)
            k = len(mats) - 1
        which[f] = (k, _thin(b))
    return [(M.indptr, M.indices, _thin(M.data), M.shape) for M in mats], which


def _weights_in(sent: tuple) -> dict:
    """What :func:`_weights_out` sent, as ``{format: (W, bias)}``."""
    mats, which = sent
    Ws = [sp.csr_matrix((_thick(data), indices, indptr), shape=shape)
          for indptr, indices, data, shape in mats]
    return {f: (Ws[k], _thick(b)) for f, (k, b) in which.items()}


def _pack(item: Any) -> list:
    """``item`` as the parts of one message: a header (the pickle, and the sizes of its
    buffers), then each array's bytes as they lie in memory (pickle protocol 5, out of
    band: no copy into the pickle here, none out of it in the worker)."""
    bufs: list = []
    head = pickle.dumps(item, protocol=5, buffer_callback=bufs.append)
    raws = [b.raw() for b in bufs]
    return [pickle.dumps((head, [r.nbytes for r in raws]), protocol=5), *raws]


class _Window:
    """At most ``count`` messages and ``size`` bytes in flight between a producer and a
    consumer (one message larger than ``size`` goes when nothing else is in flight)."""

    def __init__(self, count: int, size: int) -> None:
        self.count, self.size = count, size
        self.n = self.bytes = 0
        self.cv = threading.Condition()

    def enter(self, nbytes: int, timeout: float | None = None) -> bool:
        """Room for a message of ``nbytes``; False when ``timeout`` passed first."""
        with self.cv:
            if not self.cv.wait_for(lambda: self.n == 0 or (
                    self.n < self.count and self.bytes + nbytes <= self.size), timeout):
                return False
            self.n += 1
            self.bytes += nbytes
            return True

    def leave(self, nbytes: int) -> None:
        with self.cv:
            self.n -= 1
            self.bytes -= nbytes
            self.cv.notify_all()


def _recv(conn: Connection, window: _Window | None = None) -> tuple[Any, int]:
    """One message of :func:`_pack`, unpickled (its arrays writable, in fresh memory), and
    its size; read once ``window`` has room for it."""
    head = conn.recv_bytes()
    pickled, sizes = pickle.loads(head)
    nbytes = len(head) + sum(sizes)
    if window is not None:
        window.enter(nbytes)
    bufs = [bytearray(n) for n in sizes]
    for b in bufs:
        if conn.recv_bytes_into(b) != len(b):
            raise SymdnnError("a message from the parent was cut short")
    return pickle.loads(pickled, buffers=bufs), nbytes


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


def _read_ahead(conn: Connection, window: _Window) -> Iterator[Any]:
    """What the parent sends, read by a thread as far ahead as ``window`` allows, so that
    the next layer arrives while this one is audited (the parent need not wait for a
    worker's turn to hand it over)."""
    box: queue.Queue = queue.Queue()

    def read() -> None:
        while True:
            try:
                item, nbytes = _recv(conn, window)
            except BaseException as exc:  # noqa: BLE001 (handed to the worker)
                box.put((exc, None))
                return
            box.put((item, nbytes))
            if item is None:
                return

    threading.Thread(target=read, daemon=True, name="symdnn-audit-receive").start()
    while True:
        got, nbytes = box.get()
        if nbytes is None:
            raise got
        window.leave(nbytes)
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
        lay = None
        for item in _read_ahead(conn, _Window(2 * AHEAD, AHEAD_BYTES)):  # 2 messages a layer
            if item is None:
                break
            if item[0] == "layer":  # stepped at once, while the parent runs it exactly
                _, l, weights, neurons = item
                lay = StreamLayer(None, _weights_in(weights).__getitem__, neurons)
                steps.advance(l, lay)
            elif item[0] == "exact":
                _, l, pre, post = item
                steps.compare(l, lay, *_unsqueeze(pre, post))
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
    mine, groups = deal_runs(len(runs), jobs, keys=[
        product_key(get_domain(r.fmt), get_domain(r.accumulate)) for r in runs])
    fmts = [sorted({runs[i].fmt for i in g}) for g in groups]
    ctx = multiprocessing.get_context("fork")
    me = os.getpid()
    conns: list[Connection] = []  # what each worker tells
    outs: list[Connection] = []  # where each worker's layers go
    procs: list = []
    gone: set[int] = set()  # workers no longer taking layers
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

        def put(k: int, parts: list) -> bool:
            """Write ``parts`` to worker ``k``; False once it stopped taking layers (it failed
            or died: its own message says why). A worker reads ahead as far as its window
            allows, and the pipe holds a layer more: no thread needed here to hand them on."""
            if k in gone:
                return False
            try:
                _send(outs[k], parts)
                return True
            except OSError:
                gone.add(k)
                return False

        exact = ExactRun(stream)
        own = RunSteps(stream, [runs[i] for i in mine]) if mine else None
        stopped = False
        layers = stream.layers()
        with contextlib.ExitStack() as on_exit:  # a generator closed here, even on a break
            if hasattr(layers, "close"):
                on_exit.callback(layers.close)
            for l, lay in enumerate(layers, 1):
                for k in range(len(groups)):  # the workers start on the layer at once
                    stopped = stopped or not put(k, _pack((
                        "layer", l, _weights_out(lay, fmts[k]), lay.neurons)))
                pre, post = exact.step(lay)
                if groups:
                    sent = _pack(("exact", l, *_squeeze(pre, post)))
                for k in range(len(groups)):
                    stopped = stopped or not put(k, sent)
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
                    procs[k].join(5)  # reaped, so that its exit status is known
                    raise SymdnnError(f"audit worker {k + 1} of {len(groups)} died "
                                      f"(exit status {procs[k].exitcode})") from None
                if kind == "error":
                    raise val
                for i, res in zip(groups[k], val, strict=True):
                    res.run = runs[i]
                    results[i] = res
                del waiting[k]
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        for p in procs:
            p.join()
        for c in conns + outs:
            c.close()
    return Lockstep(exact.zero, exact.pre, exact.rows, results, exact.seconds)
