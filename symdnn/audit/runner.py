"""Run exact arithmetic and any number of floating-point runs in lockstep, layer by layer,
comparing each layer as it goes (memory independent of depth).

A run is one of:

* ``Run.format("fp16", accumulate="fp32")``: symdnn's own float engine in that format;
* ``Run.int8()``: symmetric int8 quantization with per-layer scales (:mod:`symdnn.audit.quant`);
* ``Run.layer_callable(fn, fmt)``: a foreign implementation of one layer,
  ``fn(W, bias, Y) -> Y_next``. ``W`` is a scipy CSR matrix (inputs x outputs) of float64
  values: the exact weights correctly rounded into ``fmt``; ``bias`` a float64 vector (values
  of ``fmt``, 0 where a neuron has none). For layer 1, ``Y`` is the input (scipy CSR, batch x
  inputs, float64 values rounded into ``fmt``); for every later layer it is *the very object*
  ``fn`` returned for the layer before, unmodified: the audit never sorts, copies or converts
  what it audits, so the run is the one the implementation makes on its own;
* ``Run.network_callable(fn, fmt)``: a foreign implementation of the whole network,
  ``fn(Y0) -> [Y_1, ..., Y_L]`` or just ``Y_L`` (the layers not returned are reported as not
  provided);
* ``Run.files(folder, fmt)``: an implementation's own output files (see
  :mod:`symdnn.io.runfiles`): any subset of layers, the last one required.

What a foreign run returns for a layer may be a scipy sparse matrix or array, a NumPy array,
a ``graphblas.Matrix`` or a torch tensor (dense or sparse), batch x outputs; :func:`entries`
reads it without changing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.audit.compare import ExactSide, LayerFindings, compare_layer
from symdnn.audit.quant import int8_step, quantize_weights
from symdnn.domains import FloatDomain, accumulation_format, get_domain, round_ratio
from symdnn.engines import exact as EX
from symdnn.engines.floating import float_product, float_step, product_key
from symdnn.engines.stream import LayerStream, StreamLayer
from symdnn.errors import ArgumentError, SymdnnError
from symdnn.io.runfiles import RunFolder

__all__ = ["Run", "RunResult", "Lockstep", "ExactRun", "RunSteps", "run_lockstep", "entries"]


@dataclass
class Run:
    """One floating-point run to audit (see the module notes for the kinds)."""

    name: str
    kind: str
    fmt: str
    accumulate: str | None = None
    fn: Callable | None = None
    source: str = "symdnn"
    folder: Any = None

    @classmethod
    def format(cls, fmt: str, accumulate: str | None = None) -> Run:
        dom = get_domain(fmt)
        if not isinstance(dom, FloatDomain):
            raise ArgumentError(f"{fmt!r} is not a float format")
        acc = accumulation_format(fmt, accumulate or "same")
        if acc not in (fmt, "fp32", "fp64"):  # scipy multiplies in fp32 and fp64 only
            raise ArgumentError(f"a run in {fmt} cannot accumulate in {acc}: only in its own "
                                "format ('same'), fp32 or fp64")
        name = fmt if acc == fmt else f"{fmt}+acc_{acc}"
        return cls(name, "float", fmt, acc)

    @classmethod
    def int8(cls) -> Run:
        return cls("int8", "int8", "fp32", "int32")

    @classmethod
    def layer_callable(cls, fn: Callable, fmt: str = "fp64", name: str = "foreign") -> Run:
        return cls(name, "layer", _float_format(fmt), None, fn, "foreign")

    @classmethod
    def network_callable(cls, fn: Callable, fmt: str = "fp64", name: str = "foreign") -> Run:
        return cls(name, "network", _float_format(fmt), None, fn, "foreign")

    @classmethod
    def files(cls, folder: Any, fmt: str = "fp64", name: str = "files") -> Run:
        """The outputs an implementation wrote to ``folder`` (a path, or a
        :class:`~symdnn.io.runfiles.RunFolder`), computed in ``fmt``."""
        return cls(name, "files", _float_format(fmt), None, None, "files", folder)


def _float_format(fmt: str) -> str:
    dom = get_domain(fmt)
    if not isinstance(dom, FloatDomain):
        raise ArgumentError(f"{fmt!r} is not a float format (fp64, fp32, fp16, bf16, fp8_e4m3, "
                            "fp8_e5m2)")
    return dom.name


@dataclass
class RunResult:
    """Findings of one run, layer by layer, and its final categories."""

    run: Run
    layers: list[LayerFindings] = field(default_factory=list)
    categories: np.ndarray | None = None
    argmax: dict | None = None
    seconds: float = 0.0
    #: the 0-based input row of each of ``argmax["examples"]``, to merge row chunks in order
    argmax_at: list = field(default_factory=list, repr=False)


@dataclass
class Lockstep:
    """What one lockstep of the exact run and the float runs found.

    Attributes
    ----------
    exact_zero : list of int
        Per layer, the exact pre-activations that are zero.
    exact_pre : list of int
        Per layer, the number of exact pre-activations (the entries of ``Y W``).
    exact_rows : numpy.ndarray
        The inputs (0-based rows) with a nonzero exact output: the exact categories.
    results : list of RunResult
        The findings of each run, in the order of the runs.
    exact_seconds : float
        The time the exact run took.

    Examples
    --------
    See :func:`run_lockstep`: ``found.exact_pre`` and ``found.exact_rows`` there.
    """

    exact_zero: list[int]
    exact_pre: list[int]
    exact_rows: np.ndarray
    results: list[RunResult]
    exact_seconds: float


def _same_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    """Whether two CSR matrices hold the same entries in the same order, value for value (the
    sign of a zero too; a NaN is never the same), whatever their dtypes."""
    if a is b:
        return True
    if a.shape != b.shape or a.nnz != b.nnz or not np.array_equal(a.indptr, b.indptr) \
            or not np.array_equal(a.indices, b.indices):
        return False
    x, y = a.data, b.data
    return bool(np.array_equal(x, y) and np.array_equal(np.signbit(x), np.signbit(y)))


def _keys(indptr: np.ndarray, indices: np.ndarray, width: int) -> np.ndarray:
    rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    return rows * width + np.asarray(indices, dtype=np.int64)


def _sorted(keys: np.ndarray, *vals: np.ndarray) -> tuple:
    if len(keys) and np.any(keys[1:] < keys[:-1]):
        o = np.argsort(keys, kind="stable")
        return (keys[o],) + tuple(v[o] for v in vals)
    return (keys,) + vals


def _coo_parts(Y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """``(rows, cols, values, shape)`` of whatever a foreign run returned, read without
    changing it (new arrays where a conversion is needed, never in place)."""
    if sp.issparse(Y):
        if Y.format == "csr":
            rows = np.repeat(np.arange(Y.shape[0], dtype=np.int64), np.diff(Y.indptr))
            return rows, np.asarray(Y.indices, dtype=np.int64), np.asarray(Y.data), Y.shape
        C = Y.tocoo(copy=True)
        return (np.asarray(C.row, dtype=np.int64), np.asarray(C.col, dtype=np.int64),
                np.asarray(C.data), C.shape)
    mod = type(Y).__module__ or ""
    if mod.startswith("graphblas") and hasattr(Y, "to_coo"):
        r, c, v = Y.to_coo()
        return (np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64), np.asarray(v),
                (int(Y.nrows), int(Y.ncols)))
    if mod.startswith("torch"):
        T = Y.detach()
        if T.layout != __import__("torch").strided:
            T = T.to_dense()
        Y = T.cpu().numpy()
    A = np.asarray(Y)
    if A.ndim != 2:
        raise SymdnnError(f"returned an array of {A.ndim} dimensions, expected 2 "
                          "(batch x neurons)")
    r, c = np.nonzero(A)
    return r.astype(np.int64), c.astype(np.int64), A[r, c], A.shape


def entries(Y: Any, shape: tuple, what: str, *, keep_zeros: bool = False) -> tuple:
    """``(keys, values)`` of a layer's output as a foreign run returned it: sorted linear keys
    ``row * width + col`` and float64 values (exact: every format converts to float64
    exactly), stored zeros dropped unless ``keep_zeros``. ``Y`` itself is never modified.

    Raises
    ------
    SymdnnError
        Naming ``what`` when the shape is wrong, an entry lies outside it, a value is not a
        finite real number, or an entry is stored twice.

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np
    >>> Y = sp.csr_matrix((np.array([2.0, 1.0]), np.array([1, 0]), np.array([0, 2])),
    ...                   shape=(1, 2))
    >>> entries(Y, (1, 2), "layer 1")
    (array([0, 1]), array([1., 2.]))
    >>> Y.indices.tolist()  # unsorted, as returned
    [1, 0]
    """
    try:
        rows, cols, vals, got = _coo_parts(Y)
    except SymdnnError as exc:
        raise SymdnnError(f"{what}: {exc}") from None
    got = tuple(int(x) for x in got)
    if got != tuple(shape):
        raise SymdnnError(f"{what}: returned shape {got}, expected {tuple(shape)} (batch x "
                          "neurons)")
    if vals.dtype.kind not in "fiub":
        if vals.dtype.kind == "c":
            raise SymdnnError(f"{what}: complex values")
        try:
            vals = vals.astype(np.float64)  # bf16 and fp8 (ml_dtypes) convert exactly
        except (TypeError, ValueError):
            raise SymdnnError(f"{what}: values of type {vals.dtype} are not numbers") from None
    if vals.dtype.kind == "f" and vals.dtype.itemsize > 8:  # longdouble: widen-check
        wide = vals
        vals = wide.astype(np.float64)
        if np.any((vals.astype(wide.dtype) != wide) & np.isfinite(vals)):
            raise SymdnnError(f"{what}: {wide.dtype} values that are not fp64 values")
    vals = np.asarray(vals, dtype=np.float64)
    if len(rows) and (rows.min() < 0 or cols.min() < 0 or rows.max() >= shape[0]
                      or cols.max() >= shape[1]):
        raise SymdnnError(f"{what}: an entry lies outside the shape {tuple(shape)}")
    bad = np.flatnonzero(~np.isfinite(vals))
    if len(bad):
        i = int(bad[0])
        raise SymdnnError(f"{what}: {len(bad)} value(s) not finite, first {vals[i]!r} at "
                          f"row {int(rows[i]) + 1}, column {int(cols[i]) + 1} (1-based)")
    keys = rows * int(shape[1]) + cols
    keys, vals = _sorted(keys, vals)
    if len(keys) > 1:
        dup = np.flatnonzero(keys[1:] == keys[:-1])
        if len(dup):
            k = int(keys[dup[0]])
            raise SymdnnError(f"{what}: the entry at row {k // shape[1] + 1}, column "
                              f"{k % shape[1] + 1} (1-based) is stored twice")
    if not keep_zeros:
        nz = vals != 0
        if not nz.all():
            keys, vals = keys[nz], vals[nz]
    return keys, vals


def _argmax_keys(keys: np.ndarray, vals: np.ndarray, rows: int, width: int) -> np.ndarray:
    """Per row, the column of the unique positive maximum, or -1 (none, or a tie)."""
    out = np.full(rows, -1, dtype=np.int64)
    if not len(keys):
        return out
    r = keys // width
    if vals.dtype == object:
        for i in range(rows):
            a, b = np.searchsorted(r, [i, i + 1])
            if a == b:
                continue
            v = vals[a:b]
            m = max(v)
            hits = [k for k in range(b - a) if v[k] == m]
            if m > 0 and len(hits) == 1:
                out[i] = keys[a + hits[0]] % width
        return out
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    mx = np.maximum.reduceat(vals, starts)
    seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(keys)]))
    at = vals == mx[seg]
    n_at = np.add.reduceat(at.astype(np.int64), starts)
    first = np.flatnonzero(at)[np.searchsorted(np.flatnonzero(at), starts)]
    ok = (mx > 0) & (n_at == 1)
    out[r[starts[ok]]] = keys[first[ok]] % width
    return out


def _not_provided(l: int) -> LayerFindings:
    ly = LayerFindings(l, {}, provided=False)
    ly.max_ulp = None
    ly.max_abs_err = None
    return ly


class ExactRun:
    """The exact side of a lockstep: the exact network of a stream run layer by layer,
    recording what every run is compared with (see :func:`run_lockstep`).

    :meth:`step` gives a layer's pre-activations ``(keys, numerators, s)`` (sorted linear
    keys ``row * width + column``) and activations ``(keys, numerators, s)``; after the last
    layer, :meth:`final` gives the output's ``(keys, numerators)`` and :attr:`rows` its
    nonzero rows.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> from symdnn.engines import LayerStream
    >>> c = selective(["ab", "cd"], "single", ["1/3"])
    >>> st = LayerStream.from_network(c.net, c.inputs)
    >>> ex = ExactRun(st)
    >>> (keys, nums, s), post = ex.step(next(st.layers()))
    >>> len(keys), ex.zero, ex.rows.tolist()
    (4, [0], [0, 1])
    """

    def __init__(self, stream: LayerStream) -> None:
        indptr0, indices0, nums0, shape0 = stream.inputs
        self.stream = stream
        self.state = EX.start(indptr0, indices0, nums0, stream.scale, shape0)
        self.zero: list[int] = []
        self.pre: list[int] = []
        self.seconds = 0.0
        self.width = len(stream.input_keys)
        self.names: tuple = tuple(stream.input_keys)

    def step(self, lay: StreamLayer) -> tuple[tuple, tuple]:
        """One layer: ``(pre, post)``."""
        self.width = width = len(lay.neurons)
        self.names = lay.neurons
        t = time.perf_counter()
        self.state, info = EX.step(self.state, lay.exact, rule=self.stream.rule,
                                   cap=self.stream.cap_pair, record=True)
        p_ptr, p_idx, p_num, p_s = info.pre
        post = EX.values_of(self.state)
        self.seconds += time.perf_counter() - t
        ek, en = _sorted(_keys(p_ptr, p_idx, width), np.asarray(p_num))
        pre = (ek, en, p_s)
        post = (_keys(post[0], post[1], width), np.asarray(post[2]), post[3])
        self.zero.append(int(np.count_nonzero(en == 0)))
        self.pre.append(int(len(ek)))
        return pre, post

    def final(self) -> tuple[np.ndarray, np.ndarray]:
        """The exact output's ``(keys, numerators)``."""
        e_ptr, e_idx, e_num, _ = EX.values_of(self.state)
        return _keys(e_ptr, e_idx, self.width), np.asarray(e_num)

    @property
    def rows(self) -> np.ndarray:
        """The inputs (0-based rows) with a nonzero exact output."""
        return np.flatnonzero(np.diff(EX.values_of(self.state)[0]))


class RunSteps:
    """The float side of a lockstep: every run's state and findings, stepped layer by layer
    against the exact run's layers (see :func:`run_lockstep`).

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> from symdnn.engines import LayerStream
    >>> c = selective(["ab", "cd"], "single", ["1/3"])
    >>> st = LayerStream.from_network(c.net, c.inputs)
    >>> ex, steps = ExactRun(st), RunSteps(st, [Run.format("bf16")])
    >>> for l, lay in enumerate(st.layers(), 1):
    ...     steps.step(l, lay, *ex.step(lay))
    >>> res = steps.finish(ex.final(), ex.width, ex.names)[0]
    >>> res.layers[0].max_ulp, res.categories.tolist()
    (1, [0, 1])
    """

    def __init__(self, stream: LayerStream, runs: list[Run],
                 on_layer: Callable[[int, Run, tuple | None, tuple, tuple], None] | None = None
                 ) -> None:
        indptr0, indices0, nums0, shape0 = stream.inputs
        s0 = stream.scale
        self.stream, self.on_layer = stream, on_layer
        self.results = [RunResult(r) for r in runs]
        self.total = total = stream.depth
        self.quant: dict = {}
        self.last_post: list[Any] = [None] * len(self.results)
        inputs_in: dict = {}

        def rounded_input(fmt: str) -> sp.csr_matrix:
            if fmt not in inputs_in:
                vals = round_ratio(nums0, s0, fmt).astype(np.float64)  # one rounding a value
                inputs_in[fmt] = sp.csr_matrix((vals, indices0, indptr0), shape=shape0)
            return inputs_in[fmt].copy()  # each run owns its input

        self.net_outputs: dict = {}
        self._got: list[tuple | None] = [None] * len(self.results)  # advanced, not compared
        self._at: int | None = None  # the layer advanced last
        self.states: list[Any] = []
        for res in self.results:
            r = res.run
            t = time.perf_counter()
            if r.kind == "network":
                outs = r.fn(rounded_input(r.fmt))
                self.net_outputs[r.name] = list(outs) if isinstance(outs, list | tuple) \
                    else [outs]
                if total is not None and len(self.net_outputs[r.name]) not in (1, total):
                    raise SymdnnError(f"run {r.name!r}: the network callable returned "
                                      f"{len(self.net_outputs[r.name])} layers; expected "
                                      f"{total} (every layer) or 1 (the last)")
            elif r.kind == "files":
                if not isinstance(r.folder, RunFolder):
                    r.folder = RunFolder(r.folder, fmt=r.fmt, name=r.name)
                r.folder.check(total, (len(stream.batch), None))
            res.seconds += time.perf_counter() - t
            self.states.append(rounded_input(r.fmt) if r.kind in ("float", "int8", "layer")
                               else None)

    def step(self, l: int, lay: StreamLayer, pre: tuple, post: tuple) -> None:
        """Layer ``l`` of every run, compared with the exact ``pre`` and ``post``:
        :meth:`advance`, then :meth:`compare`."""
        self.advance(l, lay)
        self.compare(l, lay, pre, post)

    def advance(self, l: int, lay: StreamLayer) -> None:
        """Layer ``l`` of every run that computes its layers here (symdnn's own formats,
        int8, layer callables), kept for :meth:`compare`. It needs nothing of the exact run,
        so a worker process steps its runs while the parent runs the exact layer."""
        stream, rule = self.stream, self.stream.rule
        width = len(lay.neurons)
        shape = (len(stream.batch), width)
        made: list[tuple[str, Any, Any, sp.csr_matrix]] = []  # this layer's products
        self._got = [None] * len(self.results)
        self._at = l
        for i, res in enumerate(self.results):
            r = res.run
            t = time.perf_counter()
            if r.kind in ("float", "int8"):  # symdnn's own runs: pre-activations too
                if r.kind == "float":
                    W, b = lay.float_weights(r.fmt)
                    dom, acc = get_domain(r.fmt), get_domain(r.accumulate)
                    A = self._product(made, self.states[i], W, dom, acc)
                    Y, pre_f = float_step(self.states[i], W, b, rule=rule,
                                          cap=stream.cap_in(r.fmt), dom=dom, acc=acc,
                                          record=True, product=A)
                else:
                    W, b = lay.float_weights("fp32")
                    if l not in self.quant:
                        self.quant.clear()
                        self.quant[l] = quantize_weights(W)
                    Wq, s_w = self.quant[l]
                    Y, pre_f = int8_step(self.states[i], Wq, s_w, b, rule=rule,
                                         cap=stream.cap_in("fp32"))
                self.states[i] = Y
                res.seconds += time.perf_counter() - t
                self._got[i] = (_sorted(_keys(pre_f[0], pre_f[1], width),
                                        np.asarray(pre_f[2])),
                                _sorted(_keys(Y.indptr, Y.indices, width),
                                        Y.data.astype(np.float64)))
            elif r.kind == "layer":
                W, b = lay.float_weights(r.fmt)
                W64 = W.astype(np.float64) if W.dtype != np.float64 else W.copy()
                bias = (np.zeros(width) if b is None else np.array(b, dtype=np.float64))
                Y = r.fn(W64, bias, self.states[i])
                res.seconds += time.perf_counter() - t
                self.states[i] = Y  # the run's own output is what it receives next, as it is
                self._got[i] = (None, entries(Y, shape, f"run {r.name!r}, layer {l}"))

    def compare(self, l: int, lay: StreamLayer, pre: tuple, post: tuple) -> None:
        """Layer ``l`` of every run (as :meth:`advance` left it, or as a network callable
        or a run's files give it) compared with the exact ``pre`` and ``post``."""
        if self._at != l:
            raise SymdnnError(f"layer {l} compared before it was advanced")
        self._at = None
        batch, cap = self.stream.batch, self.stream.cap
        width = len(lay.neurons)
        shape = (len(batch), width)
        L = self.total
        ex = ExactSide(pre, post, cap)
        names = (batch, lay.neurons)
        for i, res in enumerate(self.results):
            r = res.run
            t = time.perf_counter()
            if self._got[i] is not None:
                run_pre, run_post = self._got[i]
                self._got[i] = None
            elif r.kind == "network":
                outs = self.net_outputs[r.name]
                k = l - 1 if len(outs) > 1 else (0 if l == L else None)
                if k is None:
                    res.layers.append(_not_provided(l))
                    continue
                run_pre, run_post = None, entries(outs[k], shape, f"run {r.name!r}, layer {l}")
                outs[k] = None  # memory independent of depth
            else:  # files: reading them is the run's own time
                got = r.folder.layer(l, shape)
                res.seconds += time.perf_counter() - t
                if got is None:
                    res.layers.append(_not_provided(l))
                    continue
                run_pre, run_post = got
            self.last_post[i] = run_post if l == L or L is None else None
            if self.on_layer is not None:
                self.on_layer(l, r, run_pre, run_post, shape)
            res.layers.append(compare_layer(l, width, ex, None, run_pre, run_post, r.fmt,
                                            cap, names))

    @staticmethod
    def _product(made: list, Y: sp.csr_matrix, W: sp.csr_matrix, dom: FloatDomain,
                 acc: FloatDomain) -> sp.csr_matrix:
        """``Y W`` for one run (:func:`~symdnn.engines.floating.float_product`), or the
        product another run of this layer made from the same ``Y`` and ``W`` with the same
        kernel: formats that accumulate alike (fp32, and fp16 or bf16 accumulating in fp32)
        often hold the same activations for many layers, and one product serves them all."""
        key = product_key(dom, acc)
        for k, W0, Y0, A in made:
            if k == key and _same_csr(W0, W) and _same_csr(Y0, Y):
                return A
        A = float_product(Y, W, dom=dom, acc=acc)
        made.append((key, W, Y, A))
        return A

    def finish(self, final: tuple[np.ndarray, np.ndarray], width: int,
               out_names: tuple) -> list[RunResult]:
        """Every run's categories and argmax against the exact output ``final`` (its
        ``(keys, numerators)``, keys over ``width`` columns named ``out_names``)."""
        batch = self.stream.batch
        ek, e_vals = final
        e_arg = _argmax_keys(ek, e_vals, len(batch), width)
        for i, res in enumerate(self.results):
            got = self.last_post[i]
            if got is None:
                continue
            keys, vals = got
            res.categories = np.unique(keys // width)
            f_arg = _argmax_keys(keys, vals, len(batch), width)
            changed = np.flatnonzero(f_arg != e_arg)
            res.argmax = {"changes": int(len(changed)),
                          "examples": [{"input": str(batch[j]),
                                        "exact": None if e_arg[j] < 0
                                        else str(out_names[e_arg[j]]),
                                        "float": None if f_arg[j] < 0
                                        else str(out_names[f_arg[j]])}
                                       for j in changed[:10]]}
            res.argmax_at = [int(j) for j in changed[:10]]
        return self.results


def run_lockstep(stream: LayerStream, runs: list[Run], *,
                 layers: Iterable[StreamLayer] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 on_layer: Callable[[int, Run, tuple | None, tuple, tuple], None] | None = None,
                 ) -> Lockstep:
    """Run the exact network of ``stream`` and every run together, layer by layer.

    The exact run starts from the stream's input numerators as they are; each float run
    from their correct rounding into its format. ``layers`` replaces ``stream.layers()``
    (the same layers, shared with other chunks: see :mod:`symdnn.audit.chunks`).
    ``on_layer(l, run, pre, post, shape)`` is called for every layer a run provides, with its
    pre-activations (``(keys, values)`` or None) and activations (``(keys, values)``), for
    example to write them out. The exact side is an :class:`ExactRun`, the runs a
    :class:`RunSteps` (worker processes hold runs of their own against one exact run:
    :mod:`symdnn.audit.processes`).

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> from symdnn.engines import LayerStream
    >>> c = selective(["ab", "cd", "ae", "bf"], "single", ["1/3"])
    >>> found = run_lockstep(LayerStream.from_network(c.net, c.inputs), [Run.format("bf16")])
    >>> found.exact_pre, found.exact_rows.tolist(), found.results[0].layers[0].max_ulp
    ([16], [0, 1, 2, 3], 1)
    """
    exact = ExactRun(stream)
    steps = RunSteps(stream, runs, on_layer)
    L = stream.depth
    layers = stream.layers() if layers is None else layers
    for l, lay in enumerate(layers, 1):
        pre, post = exact.step(lay)
        steps.step(l, lay, pre, post)
        if progress:
            progress(l, L or l)
    results = steps.finish(exact.final(), exact.width, exact.names)
    return Lockstep(exact.zero, exact.pre, exact.rows, results, exact.seconds)
