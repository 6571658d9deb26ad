"""The audit entry points: :func:`audit_graph_challenge` and :func:`audit_network`, the float
runs they compare (:func:`default_runs`), the exact layers they compare them with
(:func:`challenge_layers`, :func:`network_layers`), and the lockstep of one chunk of inputs that
one dask task runs. :mod:`symdnn.audit` re-exports the public names."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from symdnn.audit.chunks import _rows_input, dask_lockstep, lockstep
from symdnn.audit.report import AuditReport
from symdnn.audit.runner import AuditLayer, Run, run_lockstep
from symdnn.challenge import challenge_network, float_layer, load_challenge
from symdnn.domains import get_domain, round_exact
from symdnn.domains.rational import RatVec
from symdnn.engines import (
    _as_integers,
    _batch_view,
    _csr_over,
    batch_keys,
    compile_exact,
    compile_float,
)
from symdnn.engines.exact import ExactLayer
from symdnn.io.graphchallenge import read_layer
from symdnn.io.prefetch import prefetched
from symdnn.parallel import wants_dask

__all__ = ["audit_graph_challenge", "audit_network", "challenge_layers", "network_layers",
           "default_runs", "challenge_lockstep", "network_lockstep"]


def default_runs(formats: list[str], accumulate: str | None = None,
                 int8: bool = False) -> list[Run]:
    """One run per format. fp16, bf16 and fp8 have no scipy kernel: unless ``accumulate`` says
    otherwise they accumulate in fp32 (their products are exact there) and round each sum once
    into the format; ``accumulate="same"`` computes every product and sum in the format."""
    runs = []
    for f in formats:
        if f == "int8":
            runs.append(Run.int8())
            continue
        acc = accumulate
        if acc == "same":
            acc = f
        elif acc is None:
            acc = f if f in ("fp64", "fp32") else "fp32"
        runs.append(Run.format(f, acc))
    if int8 and not any(r.kind == "int8" for r in runs):
        runs.append(Run.int8())
    return runs


def audit_graph_challenge(data_dir: str, *, formats: list[str] = ("fp64", "fp32", "fp16",
                                                                   "bf16"),
                          neurons: int = 1024, layers: int = 120, images: int | None = None,
                          accumulate: str | None = None, runs: list[Run] | None = None,
                          progress: Callable[[int, int], None] | None = None,
                          on_layer: Callable | None = None, threads: int | None = None,
                          dask: str | bool | None = None) -> AuditReport:
    """Audit float runs of the Graph Challenge against exact arithmetic, layer by layer.

    The float runs compute ``Y W`` as the reference code does (sparse Y times sparse W, row
    convention, scipy CSR in the format where scipy has it, else see :func:`default_runs`),
    add the bias to the nonzero entries, apply the ReLU and the cap at 32. ``runs`` replaces
    the runs ``formats`` asks for (foreign runs among them: callables, or
    :meth:`Run.files` for an implementation's output files); ``on_layer`` is passed to
    :func:`~symdnn.audit.runner.run_lockstep` (for example :func:`symdnn.audit.files.dump_runs`).

    ``threads`` row chunks are audited at once (default: every core), sharing one read of
    each layer file; with ``dask`` (True for a LocalCluster, or a scheduler address) one
    chunk per worker of a dask.distributed cluster, each worker reading the files itself.
    The report is the same either way but for its seconds (:mod:`symdnn.audit.chunks`
    says what runs in one chunk regardless).
    """
    files, Y0, t = load_challenge(data_dir, neurons, layers, images)
    net = challenge_network(data_dir, neurons, layers)  # the network graph-challenge runs
    n_img = Y0.shape[0]
    truth = None if t is None else [int(x) for x in t]
    runs = list(runs) if runs is not None else default_runs(list(formats), accumulate)

    t0 = time.perf_counter()
    batch = tuple(range(1, n_img + 1))
    if wants_dask(dask):
        ez, ep, ecats, results, ex_s = dask_lockstep(
            dask, challenge_lockstep, n_img, runs, on_layer=on_layer, data_dir=str(data_dir),
            neurons=neurons, layers=layers, images=images)
        if progress:
            progress(layers, layers)
    else:
        ez, ep, ecats, results, ex_s = lockstep(
            challenge_layers(files, net, neurons), Y0, 1, runs, rule=net.rule, cap=net.cap,
            batch=batch, inputs=tuple(range(1, neurons + 1)), progress=progress,
            total=layers, on_layer=on_layer, threads=threads)
    total = time.perf_counter() - t0
    report = AuditReport(
        {"name": f"Graph Challenge {neurons} neurons", "layers": layers, "neurons": neurons,
         "inputs": n_img, "bias_rule": net.rule,
         "cap": None if net.cap is None else str(net.cap),
         "bias": str(net.biases[0]) if net.rule == "nonzero" else net.source},
        ez, ep, [batch[i] for i in ecats], truth, results,
        {"total": total, "exact": ex_s, **{r.run.name: r.seconds for r in results}}, batch)
    return report


def challenge_lockstep(*, data_dir: str, neurons: int, layers: int, images: int | None,
                       runs: list[Run], rows: tuple[int, int]) -> tuple:
    """The Graph Challenge's lockstep (:func:`~symdnn.audit.runner.run_lockstep`) over the
    images ``rows[0] .. rows[1] - 1`` only, from the files (what one dask task runs).

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=6)
    >>> ez, ep, rows, results, _ = challenge_lockstep(
    ...     data_dir=str(d), neurons=1024, layers=2, images=None, runs=[Run.format("fp32")],
    ...     rows=(2, 5))
    >>> rows.tolist(), len(results[0].layers)       # rows of the chunk, from 0
    ([0, 1, 2], 2)
    """
    files, Y0, _ = load_challenge(data_dir, neurons, layers, images)
    net = challenge_network(data_dir, neurons, layers)
    a, b = rows
    return run_lockstep(challenge_layers(files, net, neurons), Y0[a:b], 1, runs,
                        rule=net.rule, cap=net.cap, batch=tuple(range(a + 1, b + 1)),
                        inputs=tuple(range(1, neurons + 1)), total=layers)


def network_lockstep(*, net: Any, Y0: Any, batch: Any, runs: list[Run],
                     rows: tuple[int, int]) -> tuple:
    """A network's lockstep over the inputs ``rows[0] .. rows[1] - 1`` only (what one dask
    task of :func:`audit_network` runs).

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> c = selective(["ab", "cd", "ae", "bf"], "single", ["1/3"])
    >>> ez, ep, rows, results, _ = network_lockstep(net=c.net, Y0=c.inputs, batch=None,
    ...                                             runs=[Run.format("bf16")], rows=(1, 3))
    >>> ep, rows.tolist()     # one layer: 8 pre-activations for the two inputs; both select
    ([8], [0, 1])
    """
    layers, Ynum, s, batch = network_layers(net, Y0, batch)
    a, b = rows
    cap = None if net.ymax is None else Fraction(int(net.ymax.p), int(net.ymax.q))
    return run_lockstep(layers, _rows_input(Ynum, a, b), s, runs, rule=net.bias_rule, cap=cap,
                        batch=batch[a:b], inputs=net.inputs, total=net.depth)


def _per_input_bias(layers: list[AuditLayer]) -> bool:
    return any(ly.exact.nb is not None and np.ndim(ly.exact.nb) == 2 for ly in layers)


def audit_network(net: Any, Y0: Any, *, formats: list[str] = ("fp64", "fp32", "fp16", "bf16"),
                  accumulate: str | None = None, runs: list[Run] | None = None,
                  name: str = "network", batch: Any = None,
                  progress: Callable[[int, int], None] | None = None,
                  on_layer: Callable | None = None, threads: int | None = None,
                  dask: str | bool | None = None) -> AuditReport:
    """Audit float runs of a :class:`~symdnn.SparseDNN` on inputs ``Y0`` (an AssocArray in the
    network's convention), layer by layer.

    The exact run starts from the inputs as they are (integers and rationals of any size);
    each float run from their correct rounding into its format. ``batch`` lists the batch
    keys when some input is all zero (see :func:`symdnn.engines.infer`). ``threads`` and
    ``dask`` cut the inputs into chunks as :func:`audit_graph_challenge` does (a network
    with a bias for each input runs in one chunk, and refuses ``dask``; the network is sent
    to the workers).

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["3/10"])
    >>> rep = audit_network(c.net, c.inputs, formats=["fp16"])
    >>> run = rep.to_json()["runs"]["fp16+acc_fp32"]
    >>> run["sign_flip"], run["max_ulp"], run["categories_match_exact"]
    ([0], [1], True)
    """
    layers, Ynum, s, batch = network_layers(net, Y0, batch)
    runs = list(runs) if runs is not None else default_runs(list(formats), accumulate)
    cap = None if net.ymax is None else Fraction(int(net.ymax.p), int(net.ymax.q))
    t0 = time.perf_counter()
    whole = "a network with a bias for each input" if _per_input_bias(layers) else None
    if wants_dask(dask):
        ez, ep, ecats, results, ex_s = dask_lockstep(dask, network_lockstep, len(batch), runs,
                                                     on_layer=on_layer, whole=whole, net=net,
                                                     Y0=Y0, batch=batch)
        if progress:
            progress(net.depth, net.depth)
    else:
        ez, ep, ecats, results, ex_s = lockstep(
            layers, Ynum, s, runs, rule=net.bias_rule, cap=cap, batch=batch,
            inputs=net.inputs, progress=progress, total=net.depth, on_layer=on_layer,
            threads=threads, whole=whole)
    total = time.perf_counter() - t0
    return AuditReport(
        {"name": name, "layers": net.depth, "neurons": len(net.outputs), "inputs": len(batch),
         "bias_rule": net.bias_rule, "cap": None if cap is None else str(cap)},
        ez, ep, [batch[i] for i in ecats], None, results,
        {"total": total, "exact": ex_s, **{r.run.name: r.seconds for r in results}}, batch)


def challenge_layers(files: Any, net: Any, neurons: int) -> Iterator[AuditLayer]:
    """The layers of a Graph Challenge network, read from its files one at a time (the next
    is read while this one runs: memory two layers ahead at most), each exact and, on
    demand, in any float format (weights and bias rounded once each)."""
    keys = tuple(range(1, neurons + 1))
    read = prefetched(lambda p: read_layer(p, neurons), files.layers)
    for g, bias in zip(read, net.biases, strict=True):
        cache: dict = {}
        alike: dict = {}  # formats that round every distinct weight alike share one matrix

        def weights(fmt: str, g=g, cache=cache, alike=alike, bias=bias) -> tuple:
            if fmt not in cache:
                dom = get_domain(fmt)
                b = np.full(neurons, float(round_exact(bias, dom.format_)))
                key = (fmt == "fp32",  # fp32 matrices are stored as float32
                       tuple(float(round_exact(Fraction(f), dom.format_))
                             for f in sorted(set(g.values.values()))))
                if key not in alike:
                    alike[key] = float_layer(g, dom)
                cache[fmt] = (alike[key], b)
            return cache[fmt]

        nb = np.full(neurons, bias.numerator, dtype=object)
        yield AuditLayer(ExactLayer(g.N, g.d, nb, bias.denominator), weights, keys)


def network_layers(net: Any, Y0: Any, batch: Any = None) -> tuple[list, tuple, int, tuple]:
    """The layers of a :class:`~symdnn.SparseDNN` (exact and, on demand, in any float
    format) and its inputs ``Y0`` as integer numerators over one denominator, never rounded:
    ``(layers, (indptr, indices, numerators, shape), s, batch keys)``."""
    Yb = _batch_view(net, Y0)
    batch = batch_keys(Yb, batch)
    indptr, indices, (vals, order) = _csr_over(Yb, batch, net.inputs)
    nums, s = _as_integers(RatVec(vals.num[order], vals.den[order]))
    Ynum = (indptr, indices, np.asarray(nums), (len(batch), len(net.inputs)))
    exact_layers = compile_exact(net, batch)
    floats: dict = {}

    def weights_for(lnum: int) -> Callable:
        def weights(fmt: str) -> tuple:
            if fmt not in floats:
                floats[fmt] = compile_float(net, get_domain(fmt), batch)
            W, b = floats[fmt][lnum]
            return W, (None if b is None else np.asarray(b, dtype=np.float64))
        return weights

    layers = [AuditLayer(exact_layers[l], weights_for(l), net.layers[l].outputs)
              for l in range(net.depth)]
    return layers, Ynum, s, tuple(batch)
