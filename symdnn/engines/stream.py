"""One layer stream: a network and its inputs as the integer layers every exact pass steps
through.

The audit, the certificates, the suites and the Graph Challenge run all start the same way:
the inputs become integer numerators over one denominator (never rounded), and the network
becomes a sequence of layers, each an integer :class:`~symdnn.engines.exact.ExactLayer`
with, on demand, its weights and bias rounded once into a float format. A
:class:`LayerStream` is that step, made once:

* :meth:`LayerStream.from_network`: a :class:`~symdnn.SparseDNN` and its inputs (an
  AssocArray in the network's convention);
* :meth:`LayerStream.from_graph_challenge`: a Graph Challenge folder (the network
  :func:`symdnn.io.gcnetwork.challenge_network` describes, read one layer file at a time);
* :meth:`LayerStream.from_radixnet`: the RadiX-Net network ``symdnn generate radixnet``
  writes, made in memory one layer at a time.

A stream holds the inputs, the bias rule, the cap and the batch keys; its layers are made
anew by each call of :meth:`LayerStream.layers` (a folder's layers are read as they are
used, so memory does not depend on depth). :meth:`LayerStream.rows` is the same network on
a run of consecutive inputs (one chunk of a parallel run). A stream pickles as the recipe
that made it (the network and inputs, or the folder's path), so a dask worker remakes it
and reads the layer files itself.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.domains import get_domain, round_exact
from symdnn.domains.rational import RatVec
from symdnn.engines import exact as EX
from symdnn.engines.floating import float_layer
from symdnn.engines.inference import (
    _as_integers,
    _batch_view,
    _csr_over,
    batch_keys,
    compile_exact,
    compile_float,
)
from symdnn.errors import ArgumentError, DomainError, SymdnnError
from symdnn.generators.radixnet import parse_generate, radixnet_inputs, radixnet_layers
from symdnn.io.gcnetwork import (
    YMAX,
    ChallengeNetwork,
    challenge_network,
    check_counts,
    load_challenge,
)
from symdnn.io.graphchallenge import BIAS, read_layer
from symdnn.io.prefetch import prefetched

__all__ = ["LayerStream", "StreamLayer", "exact_numerators"]

#: ``(indptr, indices, numerators, shape)``: integer numerators of a batch x features CSR
Numerators = tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]


@dataclass
class StreamLayer:
    """One layer of a stream: the exact integer layer, the weights and bias rounded once into
    a float format on demand (``float_weights(fmt) -> (W, bias)``, ``W`` a scipy CSR matrix,
    inputs x outputs, ``bias`` float64 values of the format or None), and the keys of its
    output neurons."""

    exact: EX.ExactLayer
    float_weights: Callable[[str], tuple[sp.csr_matrix, np.ndarray | None]]
    neurons: tuple


def exact_numerators(A: Any, rows: tuple, cols: tuple) -> tuple[Numerators, int]:
    """The entries of an exact AssocArray over the given (super)sets of row and column keys
    as integer numerators over one common denominator ``s``: ``((indptr, indices,
    numerators, shape), s)``, numerators int64 or Python integers of any size.

    Examples
    --------
    >>> from symdnn.assoc import AssocArray
    >>> A = AssocArray.from_triples(["x", "y"], ["a", "b"], ["1/2", 3], domain="QQ")
    >>> (ptr, idx, num, shape), s = exact_numerators(A, ("x", "y"), ("a", "b", "c"))
    >>> ptr.tolist(), idx.tolist(), [int(v) for v in num], shape, s
    ([0, 1, 2], [0, 1], [1, 6], (2, 3), 2)
    """
    indptr, indices, (vals, order) = _csr_over(A, tuple(rows), tuple(cols))
    nums, s = _as_integers(RatVec(vals.num[order], vals.den[order]))
    return (indptr, indices, np.asarray(nums), (len(rows), len(cols))), int(s)


def _integer_csr(M: sp.spmatrix) -> Numerators:
    """An integer scipy matrix (the Graph Challenge's images) as numerators over 1."""
    M = M.tocsr(copy=True)
    M.sort_indices()
    data = np.asarray(M.data)
    if data.dtype.kind == "f":  # a float matrix of integers (below 2**53: exact)
        if data.size and (np.any(data != np.round(data)) or np.max(np.abs(data)) > 2.0**53):
            raise SymdnnError("the inputs must be integers")
        data = data.astype(np.int64)
    return (M.indptr.astype(np.int64), M.indices.astype(np.int64), data,
            (int(M.shape[0]), int(M.shape[1])))


def _window(nb: np.ndarray | None, window: tuple[int, int] | None) -> np.ndarray | None:
    """A bias for each input (one row per input) cut to the stream's rows."""
    if window is None or nb is None or np.ndim(nb) != 2:
        return nb
    return nb[window[0]:window[1]]


@dataclass(eq=False)
class LayerStream:
    """A network and its inputs as a stream of integer layers (see the module notes).

    Attributes
    ----------
    inputs : tuple
        ``(indptr, indices, numerators, shape)``: the inputs, batch x features, as integer
        numerators (int64, or Python integers of any size) over ``scale``. Never rounded.
    scale : int
        The inputs' common denominator.
    rule : {"all", "nonzero"}
        Where the bias is added (every neuron; the nonzero entries of ``Y W``).
    cap : Fraction or None
        The cap YMAX on every activation.
    batch : tuple
        The keys of the inputs (rows), in order.
    input_keys : tuple
        The keys of the features layer 1 reads.
    depth : int
        The number of layers.
    width : int
        The widest layer's number of neurons (the inputs included).
    info : dict
        What a report says about the network: ``name``, ``layers``, ``neurons`` (of the
        last layer), ``inputs``, ``bias_rule``, ``cap`` and, for the Graph Challenge,
        ``bias``.
    kind : {"network", "graph-challenge", "radixnet"}
        What made it.
    truth : numpy.ndarray or None
        The official categories of these inputs (1-based), where a truth file gives them.
    per_input_bias : bool
        Whether some layer has a bias for each input (a full ``B_l``).
    files : ChallengeFiles or None
        A Graph Challenge folder's files.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["1/3"])
    >>> st = LayerStream.from_network(c.net, c.inputs)
    >>> st.depth, st.batch, st.scale, st.rule
    (1, ('ad', 'be'), 1, 'all')
    >>> lay = next(st.layers())
    >>> lay.exact.dW, lay.exact.db, [str(k) for k in lay.neurons]
    (1, 3, ['ad', 'be'])
    >>> W, b = lay.float_weights("bf16")
    >>> b.tolist()                       # the bias -5/3 rounded once into bf16
    [-1.6640625, -1.6640625]
    >>> st.rows(1, 2).batch              # the second input alone
    ('be',)
    """

    inputs: Numerators
    scale: int
    rule: str
    cap: Fraction | None
    batch: tuple
    input_keys: tuple
    depth: int
    width: int
    info: dict
    kind: str
    make_layers: Callable[[], Iterator[StreamLayer]] = field(repr=False)
    recipe: tuple | None = field(default=None, repr=False)
    window: tuple[int, int] | None = None
    truth: np.ndarray | None = field(default=None, repr=False)
    per_input_bias: bool = False
    files: Any = field(default=None, repr=False)

    # ---- made from ---------------------------------------------------------------------

    @classmethod
    def from_network(cls, net: Any, inputs: Any, *, batch: Any = None,
                     name: str = "network") -> LayerStream:
        """The stream of a :class:`~symdnn.SparseDNN` on ``inputs`` (an AssocArray in the
        network's convention). ``batch`` lists the batch keys when some input is all zero
        (see :func:`symdnn.infer`)."""
        if not net.domain.is_exact:
            raise DomainError(f"a layer stream needs an exact network (integers, rationals), "
                              f"not one over {net.domain.name}")
        Yb = _batch_view(net, inputs)
        keys = tuple(batch_keys(Yb, batch))
        Ynum, s = exact_numerators(Yb, keys, net.inputs)
        exact = compile_exact(net, keys)
        floats: dict = {}

        def weights_for(l: int) -> Callable:
            def weights(fmt: str) -> tuple:
                if fmt not in floats:
                    floats[fmt] = compile_float(net, get_domain(fmt), keys)
                W, b = floats[fmt][l]
                return W, (None if b is None else np.asarray(b, dtype=np.float64))
            return weights

        layers = [StreamLayer(exact[l], weights_for(l), net.layers[l].outputs)
                  for l in range(net.depth)]
        cap = None if net.ymax is None else Fraction(int(net.ymax.p), int(net.ymax.q))
        info = {"name": name, "layers": net.depth, "neurons": len(net.outputs),
                "inputs": len(keys), "bias_rule": net.bias_rule,
                "cap": None if cap is None else str(cap)}
        width = max([len(net.inputs)] + [len(ly.outputs) for ly in net.layers])
        return cls(Ynum, s, net.bias_rule, cap, keys, tuple(net.inputs), net.depth, width,
                   info, "network", lambda: iter(layers),
                   recipe=("network", net, inputs, keys, name),  # the keys as resolved
                   per_input_bias=any(ly.nb is not None and np.ndim(ly.nb) == 2
                                      for ly in exact))

    @classmethod
    def from_graph_challenge(cls, data_dir: Any, *, neurons: int = 1024, layers: int = 120,
                             images: int | None = None, inputs: Any = None,
                             truth: bool = True) -> LayerStream:
        """The stream of a Graph Challenge folder (official or flat layout, or one
        ``symdnn generate radixnet`` wrote): its first ``images`` inputs (or those of the
        file ``inputs``), the network :func:`~symdnn.io.gcnetwork.challenge_network`
        describes, the layers read one file at a time (the next read while this one runs).
        ``truth=False`` leaves the folder's truth file unread (``stream.truth`` is None).

        Examples
        --------
        >>> import tempfile
        >>> from symdnn.generators import generate_radixnet
        >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=3)
        >>> st = LayerStream.from_graph_challenge(d, layers=2)
        >>> st.rule, st.cap, st.info["bias"], st.batch
        ('nonzero', Fraction(32, 1), '-3/10', (1, 2, 3))
        """
        files, Y0, found = load_challenge(str(data_dir), neurons, layers, images,
                                          inputs=inputs, truth=truth)
        net = challenge_network(data_dir, neurons, layers)  # the network graph-challenge runs
        paths = files.layers
        stream = cls._challenge(Y0, net, neurons, layers,
                                lambda: prefetched(lambda p: read_layer(p, neurons), paths),
                                "graph-challenge", ("graph-challenge", str(data_dir), neurons,
                                                    layers, images, inputs, truth))
        stream.truth, stream.files = found, files
        return stream

    @classmethod
    def from_radixnet(cls, spec: str, *, images: int | None = None) -> LayerStream:
        """The stream of the RadiX-Net network ``spec`` (``"radixnet:NEURONS:LAYERS[:SEED]"``)
        that ``symdnn generate radixnet`` would write (weights 1/16, the official bias for
        the width on nonzero entries, cap 32), made in memory one layer at a time, on
        ``images`` random inputs (default 64, density 0.2, from ``SEED``).

        Examples
        --------
        >>> st = LayerStream.from_radixnet("radixnet:1024:3:7", images=4)
        >>> st.depth, st.inputs[3], st.info["bias"]
        (3, (4, 1024), '-3/10')
        """
        neurons, layers, seed = parse_generate(spec)
        if neurons not in BIAS:
            raise ArgumentError(f"generate=: no official bias for {neurons} neurons (known: "
                                f"{sorted(BIAS)})")
        check_counts(neurons, layers, images)
        net = ChallengeNetwork([BIAS[neurons]] * layers, "nonzero", Fraction(YMAX),
                               f"generated RadiX-Net, official bias {BIAS[neurons]}")
        Y0 = radixnet_inputs(neurons, images or 64, seed=seed)
        return cls._challenge(Y0, net, neurons, layers,
                              lambda: radixnet_layers(neurons, layers), "radixnet",
                              ("radixnet", spec, images))

    @classmethod
    def _challenge(cls, Y0: sp.spmatrix, net: ChallengeNetwork, neurons: int, layers: int,
                   read: Callable[[], Iterator[Any]], kind: str, recipe: tuple) -> LayerStream:
        keys = tuple(range(1, neurons + 1))

        def make() -> Iterator[StreamLayer]:
            for g, bias in zip(read(), net.biases, strict=True):
                cache: dict = {}
                alike: dict = {}  # formats that round every distinct weight alike share one

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
                yield StreamLayer(EX.ExactLayer(g.N, g.d, nb, bias.denominator), weights, keys)

        n_img = Y0.shape[0]
        info = {"name": f"Graph Challenge {neurons} neurons", "layers": layers,
                "neurons": neurons, "inputs": n_img, "bias_rule": net.rule,
                "cap": None if net.cap is None else str(net.cap),
                "bias": str(net.biases[0]) if net.rule == "nonzero" else net.source}
        return cls(_integer_csr(Y0), 1, net.rule, net.cap, tuple(range(1, n_img + 1)), keys,
                   layers, neurons, info, kind, make, recipe=recipe,
                   per_input_bias=False)

    # ---- use ---------------------------------------------------------------------------

    def layers(self) -> Iterator[StreamLayer]:
        """The layers, first to last, made anew (a folder's files read again) by each call."""
        if self.window is None or not self.per_input_bias:
            return self.make_layers()
        return (StreamLayer(EX.ExactLayer(ly.exact.NW, ly.exact.dW,
                                          _window(ly.exact.nb, self.window), ly.exact.db),
                            self._window_weights(ly.float_weights), ly.neurons)
                for ly in self.make_layers())

    def _window_weights(self, weights: Callable) -> Callable:
        def cut(fmt: str) -> tuple:
            W, b = weights(fmt)
            return W, _window(b, self.window)
        return cut

    @property
    def cap_pair(self) -> tuple[int, int] | None:
        """The cap as ``(numerator, denominator)``, as the exact engine takes it."""
        return None if self.cap is None else (self.cap.numerator, self.cap.denominator)

    def cap_in(self, fmt: str) -> float | None:
        """The cap rounded once into a float format (None without a cap).

        Examples
        --------
        >>> LayerStream.from_radixnet("radixnet:1024:1", images=1).cap_in("fp8_e4m3")
        32.0
        """
        return None if self.cap is None else float(round_exact(self.cap, fmt))

    def input_entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, columns, numerators)`` of the inputs, 0-based, row by row (numerators
        over ``scale``, of any size).

        Examples
        --------
        >>> r, c, v = LayerStream.from_radixnet("radixnet:1024:1", images=2).input_entries()
        >>> len(r) == len(c) == len(v), set(v.tolist())
        (True, {1})
        """
        indptr, indices, nums, shape = self.inputs
        return np.repeat(np.arange(shape[0], dtype=np.int64), np.diff(indptr)), indices, nums

    def rows(self, a: int, b: int) -> LayerStream:
        """The same network on the inputs ``a .. b - 1`` only (0-based, of this stream).

        Examples
        --------
        >>> st = LayerStream.from_radixnet("radixnet:1024:2", images=5)
        >>> part = st.rows(3, 5)
        >>> part.batch, part.inputs[3], part.window
        ((4, 5), (2, 1024), (3, 5))
        """
        n = len(self.batch)
        try:
            if isinstance(a, bool) or isinstance(b, bool):
                raise TypeError
            a, b = operator.index(a), operator.index(b)
        except TypeError:
            raise ArgumentError(f"rows must be two integers, not {a!r} and {b!r}") from None
        if not (0 <= a <= b <= n):
            raise ArgumentError(f"rows {a}..{b} outside the stream's {n} inputs")
        indptr, indices, nums, shape = self.inputs
        lo, hi = int(indptr[a]), int(indptr[b])
        off = 0 if self.window is None else self.window[0]
        return replace(self, inputs=(indptr[a:b + 1] - lo, indices[lo:hi], nums[lo:hi],
                                     (b - a, shape[1])),
                       batch=self.batch[a:b], window=(off + a, off + b),
                       truth=None, info={**self.info, "inputs": b - a})

    def __reduce__(self) -> tuple:
        if self.recipe is None:
            raise SymdnnError("this layer stream was not made by a LayerStream.from_* "
                              "method, so it cannot be sent to another process")
        return (_remake, (self.recipe, self.window))


def _remake(recipe: tuple, window: tuple[int, int] | None) -> LayerStream:
    """A stream from its recipe (what a dask worker receives), cut to ``window``."""
    kind, *args = recipe
    if kind == "network":
        net, inputs, batch, name = args
        st = LayerStream.from_network(net, inputs, batch=batch, name=name)
    elif kind == "graph-challenge":
        data_dir, neurons, layers, images, inputs, truth = args
        st = LayerStream.from_graph_challenge(data_dir, neurons=neurons, layers=layers,
                                              images=images, inputs=inputs, truth=truth)
    else:
        spec, images = args
        st = LayerStream.from_radixnet(spec, images=images)
    return st if window is None else st.rows(*window)
