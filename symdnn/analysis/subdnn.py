"""Sub-DNNs by path analysis on the layered graph (paper §VI), with networkx.

The layered graph has a node ``(l, key)`` for every neuron of layer l (l = 0 for the input
features, L for the categories) and an edge ``(l, i) -> (l + 1, o)`` weighted ``W_l(o, i)``. The
sub-DNN supporting category c is everything with a path to ``(L, c)``; the part of it that
feature f reaches is what also has a path from ``(0, f)``. Weighted path counts to c drive the
closed form of the threshold (:mod:`symdnn.analysis.thresholds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from symdnn.assoc import AssocArray
from symdnn.errors import KeyMismatch
from symdnn.network import SparseDNN

__all__ = ["layered_graph", "SubDNN", "support", "reached"]


def layered_graph(net: SparseDNN) -> nx.DiGraph:
    """The network as a directed graph of ``(layer, key)`` nodes with ``weight`` on edges.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> G = layered_graph(selective(["ad", "be"]).net)
    >>> sorted(G.predecessors((1, "ad")))
    [(0, '1a'), (0, '2d')]
    """
    G = nx.DiGraph()
    for l, keys in enumerate([net.inputs] + [ly.outputs for ly in net.layers]):
        G.add_nodes_from(((l, k) for k in keys), layer=l)
    for l, ly in enumerate(net.layers):
        W = ly.W if net.convention == "column" else ly.W.T
        G.add_edges_from(((l, i), (l + 1, o), {"weight": w}) for o, i, w in W.triples())
    return G


@dataclass
class SubDNN:
    """The sub-DNN supporting one category.

    Attributes
    ----------
    category : key
    nodes : set
        ``(layer, key)`` nodes with a path to the category (the category included).
    paths : dict
        ``{(layer, key): weighted number of paths to the category}``.
    layers : list of AssocArray
        ``cW_l``: each layer's weights restricted to the sub-DNN (column convention).
    graph : networkx.DiGraph
        The induced subgraph.
    """

    category: Any
    nodes: set
    paths: dict
    layers: list
    graph: nx.DiGraph

    def paths_from(self, layer: int) -> Any:
        """Weighted number of paths from all neurons of a layer to the category
        (``(prod cW) 1`` evaluated at c)."""
        cache = self.__dict__.setdefault("_from", {})
        if layer not in cache:
            cache[layer] = sum((n for (l, _), n in self.paths.items() if l == layer), 0)
        return cache[layer]


def support(net: SparseDNN, category: Any, G: nx.DiGraph | None = None) -> SubDNN:
    """The sub-DNN supporting ``category``, walking back from it.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> s = support(selective(["abcd", "abce"], "chain").net, "abcd")
    >>> s.paths[(0, "2b")], s.paths_from(1)       # 3 paths from the feature 2b; 4 from layer 1
    (3, 4)
    """
    G = layered_graph(net) if G is None else G
    L = net.depth
    top = (L, category)
    if top not in G:
        raise KeyMismatch(f"{category!r} is not a category of the network")
    nodes = nx.ancestors(G, top) | {top}
    paths: dict = {top: 1}
    for l in range(L - 1, -1, -1):
        for node in (n for n in nodes if n[0] == l):
            paths[node] = sum(d["weight"] * paths[v] for _, v, d in G.out_edges(node, data=True)
                              if v in paths)
    layers = []
    for l, ly in enumerate(net.layers):
        W = ly.W if net.convention == "column" else ly.W.T
        rows = [k for (m, k) in nodes if m == l + 1]
        cols = [k for (m, k) in nodes if m == l]
        layers.append(W.sub(rows, cols) if rows and cols else AssocArray.empty(domain=W.domain))
    return SubDNN(category, nodes, paths, layers, G.subgraph(nodes).copy())


def reached(sub: SubDNN, feature: Any) -> set:
    """The nodes of a sub-DNN that feature ``feature`` reaches (``fW`` of the paper)."""
    start = (0, feature)
    if start not in sub.graph:
        return set()
    return nx.descendants(sub.graph, start) | {start}
