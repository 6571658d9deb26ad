"""The combinatoric construction (paper §IV): a category for every combination of features,
built with Kronecker products of associative arrays.

Feature sets ``f_1, ..., f_k`` (distinctly labeled) give ``prod |f_i|`` categories, each the
tuple of one feature from every set. The two-layer solution pairs the sets: layer 0 has a neuron
per pair combination, ``W_0(f_12) = I(f_1) (x) 1(f_2) (+) 1(f_1) (x) I(f_2)`` (relabelled so its
columns are the features), and layer 1 reads every pair,
``W_1 = I(f_12) (x) 1(f_34) (+) 1(f_12) (x) I(f_34)`` for four sets. The single-layer solution is
``|W_1 W_0|_0``, equal to ``W_1 W_0`` over ``max_times``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from symdnn.assoc import AssocArray
from symdnn.constructions.base import Construction
from symdnn.errors import ArgumentError
from symdnn.network import SparseDNN

__all__ = ["combinatoric", "collapse", "check_size", "MAX_CATEGORIES", "MAX_SETS"]

STAR = "*"
#: the most categories (``prod |f_i|``) a combinatoric network may have: 2**20 take about
#: 25 s and 1 GB to build; 1000,1000,1000,1000 (10**12) would never finish
MAX_CATEGORIES = 1 << 20
#: the most feature sets (the construction's work grows with the square of their number; the
#: paper uses 4)
MAX_SETS = 64


def _count(n: int) -> str:
    """``n`` in digits, or as a power of ten when it has more than 30."""
    digits = len(str(n)) if n.bit_length() < 14000 else int(n.bit_length() * 0.30103) + 1
    return str(n) if digits <= 30 else f"about 10^{digits - 1}"


def check_size(sizes: Sequence[int], what: str = "feature sets") -> int:
    """The number of categories feature sets of these sizes make, refusing (before any work)
    more than :data:`MAX_SETS` sets or :data:`MAX_CATEGORIES` categories; ``what`` names the
    sets in the message.

    Raises
    ------
    ArgumentError
        Naming ``what``, the number of sets or categories, and the limit.

    Examples
    --------
    >>> check_size([2, 3, 4])
    24
    >>> check_size([1000] * 4, "sizes='1000,1000,1000,1000'")
    Traceback (most recent call last):
    symdnn.errors.ArgumentError: sizes='1000,1000,1000,1000': 1000000000000 categories, more \
than the 1048576 a combinatoric network may have
    """
    if len(sizes) > MAX_SETS:
        raise ArgumentError(f"{what}: {len(sizes)} feature sets, more than the {MAX_SETS} a "
                            "combinatoric network may have")
    total = 1
    for n in sizes:
        total *= n
    if total > MAX_CATEGORIES:
        raise ArgumentError(f"{what}: {_count(total)} categories, more than the "
                            f"{MAX_CATEGORIES} a combinatoric network may have")
    return total


def _unnest(key: Any, m: int) -> list:
    """The m components of a key built by m - 1 nested Kronecker products."""
    if m == 1:
        return [key]
    left, right = key
    return _unnest(left, m - 1) + [right]


def _joined(parts: list) -> tuple:
    """Components joined into one flat tuple (tuple components are spliced in)."""
    out: tuple = ()
    for p in parts:
        out += p if isinstance(p, tuple) else (p,)
    return out


def _chain(parts: list[AssocArray]) -> AssocArray:
    out = parts[0]
    for p in parts[1:]:
        out = out.kron(p)
    return out


def _product_layer(groups: list[tuple], domain: str) -> AssocArray:
    """``(+)_i  1 (x) ... (x) I(G_i) (x) ... (x) 1``: each combination reads one key of every
    group. Rows are flat tuples of the chosen keys, columns the keys of each group."""
    m = len(groups)
    total = None
    for i in range(m):
        parts = [AssocArray.identity(h, domain=domain) if j == i
                 else AssocArray.ones(h, [STAR], domain=domain) for j, h in enumerate(groups)]
        term = _chain(parts).relabel(rows=lambda k: _joined(_unnest(k, m)),
                                     cols=lambda k, i=i: _unnest(k, m)[i])
        total = term if total is None else total + term
    return total


def collapse(W1: AssocArray, W0: AssocArray, *, how: str = "zero_norm") -> AssocArray:
    """The single-layer solution ``|W_1 W_0|_0`` (``how="zero_norm"``) or ``W_1 W_0`` over
    ``max_times`` (``how="max_times"``).

    Examples
    --------
    >>> c = combinatoric([["1a", "1b"], ["2a"], ["3a"]])
    >>> W0, W1 = (ly.W for ly in c.net.layers)
    >>> collapse(W1, W0).to_dict()[("1a", "2a", "3a")]
    {'1a': 1, '2a': 1, '3a': 1}
    >>> collapse(W1, W0).isequal(collapse(W1, W0, how="max_times"))
    True
    """
    if how == "zero_norm":
        return (W1 @ W0).zero_norm().convert_to(W0.domain)
    if how == "max_times":
        return W1.mxm(W0, semiring="max_times").with_semiring("plus_times")
    raise ArgumentError(f"how must be 'zero_norm' or 'max_times', not {how!r}")


def combinatoric(feature_sets: Sequence[Sequence[Any]], betas: Any = 1, *, layers: int = 2,
                 domain: str = "QQ") -> Construction:
    """The combinatoric exact solution over feature sets.

    Parameters
    ----------
    feature_sets : sequence of sequences of keys
        ``f_1 ... f_k``; keys must be distinct across all sets.
    betas : number or one per layer
    layers : {2, 1}
        The two-layer solution (pairs of sets, then categories) or the collapsed single layer.

    Raises
    ------
    ArgumentError
        For no sets, an empty set, a key that appears twice, or more sets or categories than
        :func:`check_size` allows.

    Examples
    --------
    >>> c = combinatoric([["1a", "1b"], ["2a", "2b"], ["3a", "3b"], ["4a", "4b"]])
    >>> len(c.categories), c.categories[0]
    (16, ('1a', '2a', '3a', '4a'))
    >>> c.verify().identity
    True
    """
    sets = [list(dict.fromkeys(s)) for s in feature_sets]
    if not sets:
        raise ArgumentError("no feature sets given")
    check_size([len(s) for s in sets])
    seen: dict = {}
    for i, s in enumerate(sets):
        if not s:
            raise ArgumentError(f"feature set {i} is empty")
        for k in s:
            if k in seen:
                raise ArgumentError(f"feature {k!r} appears in sets {seen[k]} and {i}: feature "
                                    "sets must be distinctly labeled")
            seen[k] = i
    if layers not in (1, 2):
        raise ArgumentError(f"layers must be 1 or 2, not {layers}")
    beta_list = list(betas) if isinstance(betas, list | tuple) else [betas] * layers
    if len(beta_list) != layers:
        raise ArgumentError(f"{layers} layers but {len(beta_list)} betas")
    pairs = [sets[i:i + 2] for i in range(0, len(sets), 2)]
    W0 = None
    for p in pairs:
        term = _product_layer(p, domain)
        W0 = term if W0 is None else W0 + term
    groups = [sorted(_product_layer(p, domain).row()) for p in pairs]
    W1 = _product_layer(groups, domain)
    single = collapse(W1, W0)
    net = SparseDNN.from_layers([W0, W1] if layers == 2 else [single], betas=beta_list,
                                domain=domain)
    cats = single.row()
    expected = AssocArray.identity(cats, domain=domain) if all(
        str(b) == "1" for b in beta_list) else None
    return Construction("combinatoric", net, single.T, expected, cats, single.col(),
                        {"set_sizes": [len(s) for s in sets], "layers": layers,
                         "betas": [str(b) for b in beta_list]})
