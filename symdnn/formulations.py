"""The three formulations of the paper's §II, written with associative-array algebra only.

* :func:`standard`: ``Y_{l+1} = h(W_l Y_l + B_l)`` with ``B_l`` the bias replicated over the batch.
* :func:`oscillating`: ``W_l Y_l`` over ``plus_times``, then ``(x) B_l (+) 0`` over ``max_plus``
  (and the cap as ``(+) YMAX`` over ``min_plus``), back to ``plus_times``.
* :func:`collapsed`: ``W = (+)_l W_l``, ``B = (+)_l B_l`` and ``Y <- h(W Y + B)`` iterated L times.

They are slow and simple on purpose: they check the engines. Two conditions the paper leaves
implicit are enforced here:

* the oscillating form needs ``W_l Y_l`` with its zeros made explicit before it enters
  ``max_plus``, where a missing entry means ``-inf``, not 0 (with the bias rule ``"nonzero"``
  the sparse product is already right);
* the collapsed form equals the layered one only when a neuron cannot fire on its bias alone
  (every bias <= 0, or the bias rule ``"nonzero"``) and every neuron is labeled uniquely;
  :func:`collapsed` labels neurons ``(layer, key)`` itself and refuses other networks with
  :class:`~symdnn.SymdnnError`.
"""

from __future__ import annotations

from symdnn.assoc import AssocArray
from symdnn.errors import SymdnnError

__all__ = ["standard", "oscillating", "collapsed"]


def _column(net, Y0: AssocArray) -> tuple[list[AssocArray], AssocArray]:
    Ws = [ly.W if net.convention == "column" else ly.W.T for ly in net.layers]
    Y = Y0 if net.convention == "column" else Y0.T
    return Ws, Y


def _out(net, Y: AssocArray) -> AssocArray:
    return Y if net.convention == "column" else Y.T


def _bias_full(net, lnum: int, batch: tuple, semiring: str = "plus_times") -> AssocArray:
    """``B_l = b_l 1^T`` over the layer's neurons and the batch (zeros explicit in max_plus)."""
    layer = net.layers[lnum]
    if layer.B is not None:  # a full B_l, given directly
        B = layer.B if net.convention == "column" else layer.B.T
        have = {(r, c): v for r, c, v in B.triples()}
        rows, cols, vals = [], [], []
        for o in layer.outputs:
            for b in batch:
                rows.append(o)
                cols.append(b)
                vals.append(have.get((o, b), 0))
        return AssocArray.from_triples(rows, cols, vals, domain=net.domain, semiring=semiring)
    rows, cols, vals = [], [], []
    for o in layer.outputs:
        v = layer.bias.get(o, 0)
        for b in batch:
            rows.append(o)
            cols.append(b)
            vals.append(v)
    return AssocArray.from_triples(rows, cols, vals, domain=net.domain, semiring=semiring)


def _relu_cap(net, Z: AssocArray) -> AssocArray:
    """``h`` entry by entry: keep positive values, cap at YMAX."""
    rows, cols, vals = [], [], []
    for r, c, v in Z.triples():
        if v > 0:
            rows.append(r)
            cols.append(c)
            vals.append(net.ymax if net.ymax is not None and v > net.ymax else v)
    return AssocArray.from_triples(rows, cols, vals, domain=net.domain)


def standard(net, Y0: AssocArray) -> AssocArray:
    """``Y_{l+1} = h(W_l Y_l + B_l)``, layer by layer.

    Examples
    --------
    >>> from symdnn import AssocArray, SparseDNN
    >>> W = AssocArray.from_triples(["a", "b"], ["x", "x"], [2, -1], domain="QQ")
    >>> net = SparseDNN.from_layers([W], [{"a": -1, "b": 3}])
    >>> standard(net, AssocArray.from_triples(["x"], ["i"], [1], domain="QQ")).to_dict()
    {'a': {'i': 1}, 'b': {'i': 2}}
    """
    Ws, Y = _column(net, Y0)
    batch = Y.col()
    for lnum, W in enumerate(Ws):
        Z = W @ Y
        if net.layers[lnum].bias or net.layers[lnum].B is not None:
            B = _bias_full(net, lnum, batch)
            if net.bias_rule == "nonzero":
                B = B * Z.zero_norm().convert_to(net.domain)
            Z = Z + B
        Y = _relu_cap(net, Z)
    return _out(net, Y)


def _dense_max_plus(A: AssocArray, rows: tuple, cols: tuple, dom) -> AssocArray:
    """A over max_plus on the full key grid, its plus_times zeros written out as 0."""
    have = {(r, c): v for r, c, v in A.triples()}
    rr, cc, vv = [], [], []
    for r in rows:
        for c in cols:
            rr.append(r)
            cc.append(c)
            vv.append(have.get((r, c), 0))
    return AssocArray.from_triples(rr, cc, vv, domain=dom, semiring="max_plus")


def oscillating(net, Y0: AssocArray) -> AssocArray:
    """``Y_{l+1} = W_l Y_l (x) B_l (+) 0``: plus_times, then max_plus, then back.

    Examples
    --------
    >>> from symdnn import AssocArray, SparseDNN
    >>> W = AssocArray.from_triples(["a", "b"], ["x", "x"], [2, -1], domain="QQ")
    >>> net = SparseDNN.from_layers([W], [{"a": -1, "b": 3}])
    >>> oscillating(net, AssocArray.from_triples(["x"], ["i"], [1], domain="QQ")).to_dict()
    {'a': {'i': 1}, 'b': {'i': 2}}
    """
    Ws, Y = _column(net, Y0)
    batch = Y.col()
    dom = net.domain
    for lnum, W in enumerate(Ws):
        outs = net.layers[lnum].outputs
        Z = W @ Y
        if net.bias_rule == "nonzero":
            Zm = Z.with_semiring("max_plus")
        else:
            Zm = _dense_max_plus(Z, outs, batch, dom)
        has_bias = net.layers[lnum].bias or net.layers[lnum].B is not None
        pre = Zm * _bias_full(net, lnum, batch, "max_plus") if has_bias else Zm
        post = pre + AssocArray.ones(outs, batch, domain=dom, semiring="max_plus")  # max(., 0)
        if net.ymax is not None:
            cap = AssocArray.from_triples([o for o in outs for _ in batch],
                                          [b for _ in outs for b in batch], net.ymax,
                                          domain=dom, semiring="min_plus")
            post = post.with_semiring("min_plus") + cap  # min(., YMAX)
        Y = post.with_semiring("plus_times")  # the zeros leave
    return _out(net, Y)


def collapsed(net, Y0: AssocArray) -> AssocArray:
    """``W = (+)_l W_l``, ``B = (+)_l B_l``, then ``Y <- h(W Y + B)`` L times.

    Every neuron is labeled ``(layer, key)`` first, the unique labeling the paper assumes (it
    also lets layers whose keys have different types share one array).

    Raises
    ------
    SymdnnError
        If a neuron could fire on its bias alone (bias rule ``"all"`` with a positive bias),
        when the collapsed iteration is not the network.

    Examples
    --------
    >>> from symdnn import AssocArray, SparseDNN
    >>> W0 = AssocArray.from_triples(["h"], ["x"], [2], domain="QQ")
    >>> W1 = AssocArray.from_triples(["o"], ["h"], [3], domain="QQ")
    >>> net = SparseDNN.from_layers([W0, W1], [{"h": -1}, {"o": -1}])
    >>> collapsed(net, AssocArray.from_triples(["x"], ["i"], [1], domain="QQ")).to_dict()
    {'o': {'i': 2}}
    """
    for lnum, layer in enumerate(net.layers):
        if net.bias_rule == "all" and (any(v > 0 for v in layer.bias.values()) or (
                layer.B is not None and any(v > 0 for _, _, v in layer.B.triples()))):
            raise SymdnnError(f"layer {lnum} has a positive bias: with bias rule 'all' a neuron "
                              "fires on its bias alone, and the collapsed iteration differs")
    Ws, Y = _column(net, Y0)
    batch = Y.col()
    W = None
    for lnum, Wl in enumerate(Ws):
        Wt = Wl.relabel(rows=lambda k, n=lnum + 1: (n, k), cols=lambda k, n=lnum: (n, k))
        W = Wt if W is None else W + Wt
    B = None
    for lnum, layer in enumerate(net.layers):
        if layer.bias or layer.B is not None:
            Bl = _bias_full(net, lnum, batch).relabel(rows=lambda k, n=lnum + 1: (n, k))
            B = Bl if B is None else B + Bl
    Y = Y.relabel(rows=lambda k: (0, k))
    for _ in range(net.depth):
        Z = W @ Y
        if B is not None:
            Bz = B * Z.zero_norm().convert_to(net.domain) if net.bias_rule == "nonzero" else B
            Z = Z + Bz
        Y = _relu_cap(net, Z)
    last = [(net.depth, k) for k in net.outputs]
    return _out(net, Y.sub(last, slice(None)).relabel(rows=lambda k: k[1]))
