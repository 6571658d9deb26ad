"""The selective construction (paper §V): exact networks that pick target words.

A *scheme* says how letters are grouped layer by layer: a list of layers, each a list of groups
of 1-based letter positions. Layer 0 groups read the input features (one per position and
letter); a group of layer l+1 reads the groups of layer l it contains, which must cover it; the
last layer is one group, the whole word, whose neurons are the categories. Only neurons that
some target word needs are created, so a network over 37 two-letter words has 16 + 17 features.

Schemes are written ``"12,34/1234"`` (layers split by ``/``, groups by ``,``; positions as
digits, or dot-separated numbers ``"1.2.10"`` for words longer than nine letters), or named:

* ``single``: one layer, the whole word (the paper's Fig. 6 for two-letter words);
* ``pairs``: consecutive pairs, then the word (the paper's two-layer scheme ``12,34/1234``);
* ``chain``: sliding n-grams of growing size (``12,23,34/123,234/1234``, the paper's three-layer
  scheme for four-letter words);
* ``three2``: ``12,3/123``, a two-layer scheme for three-letter words.

Keys say what they are: feature ``2d`` is letter d at position 2, neuron ``12:ad`` the letters
a, d at positions 1 and 2, and a category is its word.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from symdnn.assoc import AssocArray
from symdnn.constructions.base import Construction
from symdnn.errors import ArgumentError, SchemeError
from symdnn.network import SparseDNN

__all__ = ["parse_scheme", "builtin_scheme", "selective", "SCHEMES"]

SCHEMES = ("single", "pairs", "chain", "three2")


def builtin_scheme(name: str, n: int) -> list[list[tuple[int, ...]]]:
    """A named scheme for words of length ``n``.

    Examples
    --------
    >>> builtin_scheme("chain", 4)
    [[(1, 2), (2, 3), (3, 4)], [(1, 2, 3), (2, 3, 4)], [(1, 2, 3, 4)]]
    >>> builtin_scheme("pairs", 5)
    [[(1, 2), (3, 4), (5,)], [(1, 2, 3, 4, 5)]]
    """
    full = tuple(range(1, n + 1))
    if name == "single":
        return [[full]]
    if name == "pairs":
        if n < 3:
            return [[full]]
        groups = [tuple(range(i, min(i + 2, n + 1))) for i in range(1, n + 1, 2)]
        return [groups, [full]]
    if name == "chain":
        if n < 2:
            return [[full]]
        return [[tuple(range(i, i + k)) for i in range(1, n - k + 2)] for k in range(2, n + 1)]
    if name == "three2":
        if n != 3:
            raise SchemeError(f"scheme three2 is for three-letter words, not {n}-letter ones")
        return [[(1, 2), (3,)], [(1, 2, 3)]]
    raise SchemeError(f"unknown scheme {name!r}; built-in schemes: {', '.join(SCHEMES)}")


def parse_scheme(spec: str | Sequence[Sequence[Sequence[int]]], n: int) -> list[list[tuple]]:
    """A scheme from its text (``"12,34/1234"``), a name, or nested lists, checked for words of
    length ``n``.

    Raises
    ------
    SchemeError
        When a position is outside 1..n, a group is not covered by the groups below it that it
        contains, layer 0 misses a position, or the last layer is not the whole word.

    Examples
    --------
    >>> parse_scheme("12,34/1234", 4)
    [[(1, 2), (3, 4)], [(1, 2, 3, 4)]]
    """
    if isinstance(spec, str):
        if spec in SCHEMES:
            return builtin_scheme(spec, n)
        layers = []
        for layer_text in spec.split("/"):
            groups = []
            for g in layer_text.split(","):
                g = g.strip()
                if not g:
                    raise SchemeError(f"empty group in scheme {spec!r}")
                try:
                    pos = [int(p) for p in (g.split(".") if "." in g else list(g))]
                except ValueError:
                    raise SchemeError(f"group {g!r} of scheme {spec!r} is not positions") from None
                groups.append(tuple(sorted(set(pos))))
            layers.append(groups)
    else:
        layers = [[tuple(sorted(set(int(p) for p in g))) for g in layer] for layer in spec]
    full = tuple(range(1, n + 1))
    for lnum, layer in enumerate(layers):
        for g in layer:
            bad = [p for p in g if not 1 <= p <= n]
            if bad:
                raise SchemeError(f"layer {lnum} group {_label(g)} has positions {bad} outside "
                                  f"1..{n}")
    covered = set().union(*layers[0]) if layers[0] else set()
    if covered != set(full):
        raise SchemeError(f"layer 0 does not cover positions {sorted(set(full) - covered)}")
    for lnum in range(1, len(layers)):
        for g in layers[lnum]:
            inside = [h for h in layers[lnum - 1] if set(h) <= set(g)]
            union = set().union(*inside) if inside else set()
            if union != set(g):
                raise SchemeError(
                    f"group {_label(g)} of layer {lnum} is not covered by the groups of layer "
                    f"{lnum - 1} it contains (missing positions {sorted(set(g) - union)})")
    if layers[-1] != [full]:
        raise SchemeError(f"the last layer must be the whole word {_label(full)}, "
                          f"not {[_label(g) for g in layers[-1]]}")
    return layers


def _label(g: Sequence[int]) -> str:
    return "".join(str(p) for p in g) if max(g, default=0) <= 9 else ".".join(map(str, g))


def _feature(p: int, letter: str, n: int) -> str:
    return f"{p}{letter}" if n <= 9 else f"{p}:{letter}"


def selective(words: Sequence[str], scheme: Any = "single", betas: Any = 1, *,
              domain: str = "QQ") -> Construction:
    """The selective construction over target words.

    Parameters
    ----------
    words : sequence of str
        Target categories, all of one length.
    scheme : str or nested sequence
        A built-in name or a scheme (see the module notes).
    betas : number, str, sympy symbol, or one per layer
        The betas of the bias rule ``b_l = beta_l |W_l 1|_0 - W_l 1`` (exact rationals or
        symbols; symbols need ``domain="SYM"``).

    Raises
    ------
    ArgumentError
        For an empty list, words of mixed length, duplicate words, or a number of betas that
        is not the scheme's number of layers.
    SchemeError
        For a scheme that does not fit (see :func:`parse_scheme`).

    Examples
    --------
    >>> from symdnn.data import words
    >>> c = selective(words("words2"))
    >>> c.net.layers[0].W.shape          # 37 categories over 16 + 17 features (Fig. 6)
    (37, 33)
    >>> c.verify().identity
    True
    """
    words = list(words)
    if not words:
        raise ArgumentError("the word list is empty")
    n = len(words[0])
    odd = [w for w in words if len(w) != n]
    if odd:
        raise ArgumentError(f"words must share one length: {words[0]!r} has {n} letters but "
                            f"{odd[0]!r} has {len(odd[0])}")
    if n == 0:
        raise ArgumentError("words must have at least one letter")
    seen: set = set()
    for w in words:
        if w in seen:
            raise ArgumentError(f"duplicate category {w!r}")
        seen.add(w)
    layers = parse_scheme(scheme, n)
    L = len(layers)
    beta_list = list(betas) if isinstance(betas, list | tuple) else [betas] * L
    if len(beta_list) != L:
        raise ArgumentError(f"scheme has {L} layers but {len(beta_list)} betas were given")
    feats = sorted({_feature(p, w[p - 1], n) for w in words for p in range(1, n + 1)})

    def neuron(lnum: int, g: tuple, w: str) -> str:
        if lnum == L - 1:
            return w
        return f"{_label(g)}:{''.join(w[p - 1] for p in g)}"

    Ws = []
    for lnum, layer in enumerate(layers):
        rows, cols = [], []
        for w in words:
            for g in layer:
                out = neuron(lnum, g, w)
                if lnum == 0:
                    srcs = [_feature(p, w[p - 1], n) for p in g]
                else:
                    srcs = [neuron(lnum - 1, h, w) for h in layers[lnum - 1]
                            if set(h) <= set(g)]
                for s in srcs:
                    rows.append(out)
                    cols.append(s)
        pairs = sorted(set(zip(rows, cols, strict=True)))
        Ws.append(AssocArray.from_triples([p[0] for p in pairs], [p[1] for p in pairs], 1,
                                          domain=domain))
    net = SparseDNN.from_layers(Ws, betas=beta_list, domain=domain)
    single = AssocArray.from_triples(
        [w for w in words for _ in range(n)],
        [_feature(p, w[p - 1], n) for w in words for p in range(1, n + 1)], 1, domain=domain)
    inputs = single.T
    cats = tuple(sorted(words))
    expected = AssocArray.identity(cats, domain=domain) if all(
        str(b) == "1" for b in beta_list) else None
    return Construction("selective", net, inputs, expected, cats, tuple(feats),
                        {"scheme": [[_label(g) for g in layer] for layer in layers],
                         "betas": [str(b) for b in beta_list], "words": len(words),
                         "length": n})
