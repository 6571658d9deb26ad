"""Random sparse networks for the engine tests (seeded, so every run builds the same ones)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from symdnn import AssocArray, SparseDNN


def random_net(seed: int, *, L: int = 6, n: int = 8, density: float = 0.4, wq: int = 16,
               wp: int = 9, pos: float = 0.8, bias: str | None = "-3/10", cap=32,
               rule: str = "all", convention: str = "column",
               per_neuron_bias: bool = False) -> SparseDNN:
    """Layers of n neurons keyed ``L{l}n{i}`` with weights +-p/wq (p <= wp)."""
    rng = np.random.default_rng(seed)
    Ws, biases = [], []
    for l in range(L):
        r, c, v = [], [], []
        for i in range(n):
            for j in range(n):
                if rng.random() < density:
                    r.append(f"L{l + 1}n{i}")
                    c.append(f"L{l}n{j}")
                    sign = 1 if rng.random() < pos else -1
                    v.append(Fraction(sign * int(rng.integers(1, wp + 1)), wq))
        W = AssocArray.from_triples(r, c, v, domain="QQ")
        Ws.append(W if convention == "column" else W.T)
        if per_neuron_bias:
            biases.append({f"L{l + 1}n{i}": Fraction(int(rng.integers(-9, 3)), 7)
                           for i in range(n)})
        else:
            biases.append(bias)
    neurons = [[f"L{l}n{i}" for i in range(n)] for l in range(L + 1)]
    return SparseDNN.from_layers(Ws, biases, convention=convention, bias_rule=rule, ymax=cap,
                                 neurons=neurons)


def random_inputs(net: SparseDNN, seed: int, batch: int = 5, density: float = 0.6) -> AssocArray:
    rng = np.random.default_rng(seed)
    r, c, v = [], [], []
    for b in range(batch):
        for f in net.inputs:
            if rng.random() < density:
                r.append(f)
                c.append(f"x{b}")
                v.append(Fraction(int(rng.integers(1, 9)), int(rng.integers(1, 4))))
    Y = AssocArray.from_triples(r, c, v, domain="QQ")
    return Y if net.convention == "column" else Y.T
