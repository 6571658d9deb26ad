"""A float implementation of a sparse ReLU network that sums in any order, for testing
precision certificates against (issue 14).

It shares no code with symdnn: values are ``Fraction``, every rounding is
:func:`tests.oracle.round_value` (stdlib integer arithmetic), and each neuron's sum is formed
in an order and tree shape drawn from a seeded generator:

* ``"seq"``: the terms in a random permutation, added left to right;
* ``"pair"``: a random permutation, then pairwise (a balanced tree);
* ``"tree"``: two terms drawn at random are added and put back, until one is left.

The model of an implementation in format ``fmt`` accumulating in ``acc``: weights, biases,
inputs and the cap are rounded once into ``fmt``; each product of two ``fmt`` values is
rounded into ``acc``; each addition is rounded into ``acc``. Rule ``"all"`` (drawn at
random): the bias is one more term of the sum, in any position, and the sum is rounded into
``fmt``; or the products are summed, the sum maybe rounded into ``fmt``, and the bias added
as below. Rule ``"nonzero"``:
the products are summed; the sum may (drawn at random) be rounded into ``fmt`` first; where
it is zero the neuron outputs 0, else the bias is added, rounded into ``acc`` and into
``fmt`` (or straight into ``fmt``, drawn at random). ReLU, then the cap rounded into ``fmt``.
"""

from __future__ import annotations

import random
from fractions import Fraction

from tests import oracle as O

ORDERS = ("seq", "pair", "tree")


def _rnd(v, fmt: str):
    if isinstance(v, str):
        return v
    return O.round_value(v, fmt)


def _add(a, b, fmt: str):
    return _rnd(O._xadd(a, b), fmt)


def _combine(terms: list, order: str, fmt: str, rng: random.Random):
    """The sum of ``terms`` (values of ``fmt``-rounded arithmetic) in one order."""
    terms = list(terms)
    rng.shuffle(terms)
    if order == "seq":
        total = terms[0]
        for t in terms[1:]:
            total = _add(total, t, fmt)
        return total
    if order == "pair":
        while len(terms) > 1:
            nxt = [_add(terms[i], terms[i + 1], fmt) for i in range(0, len(terms) - 1, 2)]
            if len(terms) % 2:
                nxt.append(terms[-1])
            terms = nxt
        return terms[0]
    while len(terms) > 1:
        i, j = sorted(rng.sample(range(len(terms)), 2))
        b = terms.pop(j)
        a = terms.pop(i)
        terms.append(_add(a, b, fmt))
    return terms[0]


def run(layers: list, inputs: dict, *, fmt: str, acc: str | None = None, rule: str = "all",
        cap: Fraction | None = None, batch: list, order: str, seed: int) -> dict:
    """One float run: ``{"pre": [{(b, o): z}], "post": [{(b, o): y}]}`` per layer, with the
    pre-activation wherever the implementation computed one (rule ``"nonzero"``: where its
    sum was nonzero). ``layers`` as :func:`tests.oracle.evaluate` takes them (column
    convention, ``(weights {(out, in): w}, bias {out: b}, outputs)``)."""
    A = acc or fmt
    rng = random.Random(seed)
    parts = [O._layer_parts(layer) for layer in layers]
    rounded = []
    for incoming, bias, outs in parts:
        inc = {o: [(i, _rnd(Fraction(w), fmt)) for i, w in lst] for o, lst in incoming.items()}
        rounded.append((inc, {o: _rnd(Fraction(v), fmt) for o, v in bias.items()}, outs))
    capf = None if cap is None else _rnd(Fraction(cap), fmt)
    pre = [{} for _ in layers]
    post = [{} for _ in layers]
    for b in batch:
        y = {k: _rnd(Fraction(v), fmt) for k, v in inputs.get(b, {}).items() if v != 0}
        for lnum, (inc, bias, outs) in enumerate(rounded):
            new = {}
            for o in outs:
                terms = [_rnd(O._xmul(w, y[i]), A) for i, w in inc.get(o, ()) if i in y]
                bo = bias.get(o)
                if rule == "all" and (bo is None or rng.random() < 0.5):
                    if bo is not None:  # the bias is one more term, anywhere in the tree
                        terms.append(bo)
                    s = _combine(terms, order, A, rng) if terms else Fraction(0)
                    z = _rnd(s, fmt)
                elif rule == "all":  # W y first (maybe stored in the format), then + b
                    s = _combine(terms, order, A, rng) if terms else Fraction(0)
                    if A != fmt and rng.random() < 0.5:
                        s = _rnd(s, fmt)
                    z = _rnd(_add(s, bo, A), fmt) if rng.random() < 0.5 else \
                        _rnd(O._xadd(s, bo), fmt)
                else:
                    s = _combine(terms, order, A, rng) if terms else Fraction(0)
                    if A != fmt and rng.random() < 0.5:
                        s = _rnd(s, fmt)  # stored in the format before the bias is added
                    if s == 0:
                        new[o] = Fraction(0)
                        continue
                    if bo is None:
                        z = _rnd(s, fmt)
                    elif rng.random() < 0.5:
                        z = _rnd(_add(s, bo, A), fmt)
                    else:
                        z = _rnd(O._xadd(s, bo), fmt)
                pre[lnum][(b, o)] = z
                h = z if O._xpos(z) else Fraction(0)
                if capf is not None and O._xgt(h, capf):
                    h = capf
                new[o] = h
            post[lnum].update({(b, o): v for o, v in new.items()})
            y = {k: v for k, v in new.items() if v != 0}
    return {"pre": pre, "post": post}
