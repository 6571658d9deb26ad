"""The sparse ReLU network: labeled layers, biases, betas, the cap, and the two conventions.

``y_{l+1} = h(W_l y_l + b_l)`` with ``h(x) = min(max(x, 0), YMAX)`` (no cap when ``ymax`` is
None). In the paper's *column* convention ``W_l`` has output neurons as rows and inputs as
columns, and a batch is a neurons x batch array; in the Graph Challenge *row* convention
``Y_{l+1} = h(Y_l W_l + b_l)``, ``W_l`` is inputs x outputs and a batch is batch x neurons.

The bias rule ``"all"`` adds ``b_l`` to every neuron; ``"nonzero"`` (the Graph Challenge's) adds
it only where ``W_l y_l`` is nonzero.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symdnn.assoc import AssocArray
from symdnn.domains import QQ, Domain, get_domain
from symdnn.engines import infer
from symdnn.errors import ArgumentError, ArgumentTypeError, KeyMismatch, ParseError, SymdnnError
from symdnn.io.netdir import read_network_parts, write_network

__all__ = ["Layer", "FullBias", "SparseDNN", "exact_bias", "read_network", "write_network"]


@dataclass(frozen=True)
class FullBias:
    """Says that an associative array is a full bias ``B_l``: a value per neuron and input
    (neurons x inputs in the column convention, inputs x neurons in the row convention);
    an input it does not list gets no bias.

    A plain AssocArray bias is read by its shape (see :meth:`SparseDNN.from_layers`), which
    cannot tell a ``B_l`` over one input from a bias per neuron; ``FullBias`` can.

    Examples
    --------
    >>> W = AssocArray.from_triples(["p", "q"], ["a", "a"], 1)
    >>> B = AssocArray.from_triples(["p"], ["i1"], 2)          # only input i1, only neuron p
    >>> net = SparseDNN.from_layers([W], [FullBias(B)])
    >>> Y0 = AssocArray.from_triples(["a", "a"], ["i1", "i2"], 1)
    >>> net.infer(Y0).output.to_dict()
    {'p': {'i1': 3, 'i2': 1}, 'q': {'i1': 1, 'i2': 1}}
    """

    B: AssocArray

    def __post_init__(self) -> None:
        if not isinstance(self.B, AssocArray):
            raise ArgumentTypeError(f"FullBias holds an AssocArray, not a "
                                    f"{type(self.B).__name__}")


@dataclass(frozen=True)
class Layer:
    """One layer: weights, bias and (optionally) the beta that made the bias.

    Attributes
    ----------
    W : AssocArray
        Weights in the network's convention (column: out x in; row: in x out).
    bias : dict
        ``{output neuron key: value}``; neurons not listed have bias 0.
    beta : Any
        The beta of the exact-solution bias rule, when the bias came from it (else None).
    inputs, outputs : tuple
        Sorted neuron keys read and written by the layer.
    B : AssocArray or None
        A full bias ``B_l`` (a value per neuron and input: neurons x batch in the column
        convention, batch x neurons in the row convention), used instead of ``bias``.
    """

    W: AssocArray
    bias: dict
    beta: Any
    inputs: tuple
    outputs: tuple
    B: AssocArray | None = None


def exact_bias(W: AssocArray, beta: Any, *, convention: str = "column") -> dict:
    """The paper's bias ``b = beta |W 1|_0 - W 1``: beta minus each neuron's weighted fan-in.

    Examples
    --------
    >>> W = AssocArray.from_triples(["ad", "ad"], ["1a", "2d"], 1)
    >>> exact_bias(W, "4/5")
    {'ad': -6/5}
    """
    Wc = W if convention == "column" else W.T
    if Wc.domain.name == "ZZ":
        Wc = Wc.convert_to(QQ)
    beta_v = Wc.domain.convert(beta)
    fan = Wc.reduce(1)
    out = {r: beta_v - v for r, _, v in fan.triples()}
    return {r: b for r, b in out.items() if b != 0}  # a zero bias is no bias


@dataclass
class SparseDNN:
    """A sparse ReLU network of labeled layers.

    Build one with :meth:`from_layers`. Run it with :meth:`infer` (see :mod:`symdnn.engines`).

    Examples
    --------
    >>> W0 = AssocArray.from_triples(["ad", "ad", "be", "be"], ["1a", "2d", "1b", "2e"], 1)
    >>> net = SparseDNN.from_layers([W0], betas=[1])
    >>> net.layers[0].bias
    {'ad': -1, 'be': -1}
    >>> Y0 = W0.T                       # the paper's model problem: Y_L must be the identity
    >>> net.infer(Y0).output.to_dict()
    {'ad': {'ad': 1}, 'be': {'be': 1}}
    """

    layers: list[Layer]
    convention: str = "column"
    bias_rule: str = "all"
    ymax: Any = None
    domain: Domain = field(default=QQ)

    @classmethod
    def from_layers(cls, weights: Sequence[AssocArray], biases: Sequence[Any] | None = None, *,
                    betas: Sequence[Any] | None = None, convention: str = "column",
                    bias_rule: str = "all", ymax: Any = None,
                    domain: str | Domain | None = None,
                    neurons: Sequence[Sequence[Any]] | None = None) -> SparseDNN:
        """A network from its weight arrays and, per layer, a bias or a beta.

        Parameters
        ----------
        weights : sequence of AssocArray
            ``W_0 ... W_{L-1}`` in the chosen convention.
        biases : sequence, optional
            Per layer one of: a dict ``{neuron: value}``; one value for every output neuron;
            a :class:`FullBias` ``B_l`` (a value per neuron and input; inputs it does not
            list get no bias); or a plain AssocArray, read by its shape: with one column
            (column convention) or one row (row convention) it is a bias per neuron (the
            other key is ignored), any other shape is a full ``B_l``. A ``B_l`` over a single
            input has the shape of a bias per neuron: give it as ``FullBias(B)``.
        betas : sequence, optional
            Per layer the beta of the exact-solution rule ``b = beta |W 1|_0 - W 1``; used for
            layers whose bias is not given.
        convention : {"column", "row"}
        bias_rule : {"all", "nonzero"}
        ymax : number, optional
            The cap of the ReLU (32 in the Graph Challenge).
        domain : str or Domain, optional
            Domain of the weights (default: that of the first weight array, converted to QQ when
            it is ZZ).
        neurons : sequence of L+1 key sequences, optional
            The neurons of every layer, inputs first. Needed when a neuron has no incoming
            weight (its value is then ``h(b)``); by default a layer's neurons are the keys its
            weights and bias mention.

        Raises
        ------
        KeyMismatch
            If a layer reads a neuron that the previous layer does not write, or a weight
            names a neuron outside the given ``neurons``.
        """
        if convention not in ("column", "row"):
            raise ArgumentError(f"convention must be 'column' or 'row', not {convention!r}")
        if bias_rule not in ("all", "nonzero"):
            raise ArgumentError(f"bias_rule must be 'all' or 'nonzero', not {bias_rule!r}")
        if not weights:
            raise ArgumentError("a network needs at least one layer")
        dom = get_domain(domain) if domain is not None else weights[0].domain
        if dom.name == "ZZ":
            dom = QQ
        layers = []
        L = len(weights)
        if neurons is not None and len(neurons) != L + 1:
            raise KeyMismatch(f"neurons must list L + 1 = {L + 1} key sets, not {len(neurons)}")
        for lnum, W in enumerate(weights):
            if W.domain is not dom:
                W = W.convert_to(dom)
            if W.semiring.name != "plus_times":
                W = W.with_semiring("plus_times")
            outputs = W.row() if convention == "column" else W.col()
            inputs = W.col() if convention == "column" else W.row()
            if neurons is not None:
                for given_keys, used, what in ((neurons[lnum + 1], outputs, "output"),
                                               (neurons[lnum], inputs, "input")):
                    extra = set(used) - set(given_keys)
                    if extra:
                        raise KeyMismatch(
                            f"layer {lnum}: weights name {what} neurons "
                            f"{sorted(extra, key=repr)[:3]} not among its declared neurons")
                outputs = tuple(sorted(set(neurons[lnum + 1])))
                inputs = tuple(sorted(set(neurons[lnum])))
            beta = betas[lnum] if betas is not None and lnum < len(betas) else None
            if beta is not None:
                beta = (QQ if dom.name == "ZZ" else dom).convert(beta)
            given = biases[lnum] if biases is not None and lnum < len(biases) else None
            full = None
            if given is None and beta is not None:
                bias = exact_bias(W, beta, convention=convention)
            elif isinstance(given, FullBias) or (isinstance(given, AssocArray) and
                                                  not _per_neuron(given, convention)):
                full = given.B if isinstance(given, FullBias) else given
                full = full if full.domain is dom else full.convert_to(dom)
                bias = {}
            else:
                bias = _bias_dict(given, outputs, dom, lnum, convention)
            extra = set(bias) if full is None else set(
                full.row() if convention == "column" else full.col())
            if neurons is not None and extra - set(outputs):
                raise KeyMismatch(
                    f"layer {lnum}: a bias names neurons "
                    f"{sorted(extra - set(outputs), key=repr)[:3]} not among its declared "
                    "neurons")
            outputs = tuple(sorted(set(outputs) | extra))
            layers.append(Layer(W, bias, beta, tuple(inputs), outputs, full))
        for lnum in range(1, L):
            missing = set(layers[lnum].inputs) - set(layers[lnum - 1].outputs)
            if missing:
                ex = sorted(missing, key=repr)[:3]
                raise KeyMismatch(
                    f"layer {lnum} reads neurons {ex} that layer {lnum - 1} does not write "
                    f"({len(missing)} missing keys between layers)"
                )
        cap = None if ymax is None else dom.convert(ymax)
        return cls(layers, convention, bias_rule, cap, dom)

    @property
    def depth(self) -> int:
        """Number of layers L."""
        return len(self.layers)

    @property
    def inputs(self) -> tuple:
        """Keys of the input features (the neurons layer 0 reads)."""
        return self.layers[0].inputs

    @property
    def outputs(self) -> tuple:
        """Keys of the output neurons (categories)."""
        return self.layers[-1].outputs

    def infer(self, Y0: Any, **kw: Any) -> Any:
        """Run the network; see :func:`symdnn.engines.infer` for the options."""
        return infer(self, Y0, **kw)


def read_network(folder: str | os.PathLike) -> tuple[SparseDNN, dict]:
    """Read a network folder (written by :func:`write_network`): ``(net, info)`` with ``info``
    holding ``inputs`` and ``expected`` (AssocArrays or None) and ``meta``.

    The folder is read by :func:`symdnn.io.netdir.read_network_parts`, whose docstring states
    the reading policy; this function builds the network from what it read.

    Raises
    ------
    ParseError
        For a missing or malformed ``network.json`` (naming the file and the key) or data
        file (naming the file and line), or a network that does not fit together.
    """
    parts, info = read_network_parts(folder)
    # the folder says which layers hold a full B_l (an AssocArray among the parts)
    parts["biases"] = [FullBias(b) if isinstance(b, AssocArray) else b
                       for b in parts["biases"]]
    try:
        net = SparseDNN.from_layers(**parts)
    except SymdnnError as exc:
        raise ParseError(f"the network does not fit together: {exc}",
                         path=str(Path(folder) / "network.json")) from None
    return net, info


def _per_neuron(given: AssocArray, convention: str) -> bool:
    """Whether a plain AssocArray bias has the shape of a bias per neuron: one column in the
    column convention, one row in the row convention (or no entries at all)."""
    r, c = given.shape
    return given.nnz == 0 or (c == 1 if convention == "column" else r == 1)


def _bias_dict(given: Any, outputs: tuple, dom: Domain, lnum: int, convention: str) -> dict:
    if given is None:
        return {}
    if isinstance(given, dict):
        return {k: dom.convert(v) for k, v in given.items() if dom.convert(v) != 0}
    if isinstance(given, AssocArray):  # one column (column convention) or one row (row)
        if convention == "column":
            return {k: dom.convert(v) for k, _, v in given.triples()}
        return {k: dom.convert(v) for _, k, v in given.triples()}
    if np.ndim(given) == 0:
        v = dom.convert(given)
        return {} if v == 0 else {k: v for k in outputs}
    raise ArgumentTypeError(f"bias of layer {lnum}: give a dict, an AssocArray, a FullBias "
                            "or one value")
