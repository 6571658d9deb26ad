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

import itertools
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


def _relu_cap(z, capf):
    """ReLU, then the cap as the format holds it: a cap that overflowed to infinity caps
    nothing; one that is NaN (fp8_e4m3 has no infinity) makes every positive output NaN
    (an implementation's ``min`` may return either operand)."""
    h = z if O._xpos(z) else Fraction(0)
    if capf is None or h == 0:
        return h
    if isinstance(capf, str):
        return h if capf == O.INF else O.NAN
    return capf if O._xgt(h, capf) else h


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
                new[o] = _relu_cap(z, capf)
            post[lnum].update({(b, o): v for o, v in new.items()})
            y = {k: v for k, v in new.items() if v != 0}
    return {"pre": pre, "post": post}


# ------------------------------------------------------------------ every order, exhaustively
def all_sums(terms: list, fmt: str) -> set:
    """Every value a sum of ``terms`` can take in ``fmt`` arithmetic, over every order and
    every tree (each addition rounded into ``fmt``; addition is commutative, so the trees
    are the ways to split the terms into two groups, recursively). For a few terms only:
    five terms have 105 trees."""
    terms = list(terms)
    if not terms:
        return {Fraction(0)}
    memo: dict = {}

    def rec(idx: tuple) -> set:
        if len(idx) == 1:
            return {terms[idx[0]]}
        if idx in memo:
            return memo[idx]
        out = set()
        first, rest = idx[0], idx[1:]
        for mask in range(1 << len(rest)):  # the group holding the first term
            left = (first,) + tuple(r for k, r in enumerate(rest) if mask >> k & 1)
            right = tuple(r for k, r in enumerate(rest) if not mask >> k & 1)
            if not right:
                continue
            for a in rec(left):
                for b in rec(right):
                    out.add(_add(a, b, fmt))
        memo[idx] = out
        return out

    return rec(tuple(range(len(terms))))


def _neuron_options(terms: list, bo, rule: str, fmt: str, A: str) -> set:
    """Every pre-activation the model of :func:`run` allows for one neuron (``None``: rule
    ``"nonzero"`` saw a zero sum and output 0 without a pre-activation)."""
    out: set = set()
    sums = all_sums(terms, A)
    stored = sums | ({_rnd(s, fmt) for s in sums} if A != fmt else set())
    if rule == "all":
        if bo is None:
            return {_rnd(s, fmt) for s in sums}
        out |= {_rnd(s, fmt) for s in all_sums(terms + [bo], A)}  # the bias a leaf
        for s in stored:  # or added to the sum
            out.add(_rnd(_add(s, bo, A), fmt))
            out.add(_rnd(O._xadd(s, bo), fmt))
        return out
    for s in stored:
        if s == 0:
            out.add(None)
        elif bo is None:
            out.add(_rnd(s, fmt))
        else:
            out.add(_rnd(_add(s, bo, A), fmt))
            out.add(_rnd(O._xadd(s, bo), fmt))
    return out


def all_runs(layers: list, inputs: dict, *, fmt: str, acc: str | None = None,
             rule: str = "all", cap: Fraction | None = None, key, limit: int = 2000
             ) -> tuple[list, bool]:
    """Every float run of the model of :func:`run` on the input ``key`` alone: every
    summation order and tree of every neuron, every choice of where the bias goes and of
    storing the sum, combined over the neurons and layers. ``(runs, complete)``: the runs in
    the form :func:`run` returns (rows other than ``key`` absent), and whether they are all
    of them (False when more than ``limit`` distinct runs were cut to ``limit``)."""
    A = acc or fmt
    parts = [O._layer_parts(layer) for layer in layers]
    capf = None if cap is None else _rnd(Fraction(cap), fmt)
    y0 = {k: _rnd(Fraction(v), fmt) for k, v in inputs.get(key, {}).items() if v != 0}
    paths = [((), (), y0)]  # (pre per layer, post per layer, the layer's input)
    complete = True
    for incoming, bias, outs in parts:
        inc = {o: [(i, _rnd(Fraction(w), fmt)) for i, w in lst] for o, lst in incoming.items()}
        bz = {o: _rnd(Fraction(v), fmt) for o, v in bias.items()}
        nxt: dict = {}
        for pre, post, y in paths:
            opts = []
            for o in outs:
                terms = [_rnd(O._xmul(w, y[i]), A) for i, w in inc.get(o, ()) if i in y]
                zs = sorted(_neuron_options(terms, bz.get(o), rule, fmt, A), key=repr)
                opts.append([(o, z) for z in zs])
            for combo in itertools.product(*opts):
                p, q = {}, {}
                for o, z in combo:
                    h = Fraction(0)
                    if z is not None:
                        p[(key, o)] = z
                        h = _relu_cap(z, capf)
                    q[(key, o)] = h
                sig = (pre + (tuple(sorted(p.items(), key=repr)),),
                       post + (tuple(sorted(q.items(), key=repr)),))
                if sig not in nxt:
                    nxt[sig] = {o: v for (_, o), v in q.items() if v != 0}
                if len(nxt) >= limit:
                    complete = False
                    break
            if not complete:
                break
        paths = [(pre, post, y) for (pre, post), y in nxt.items()]
    runs = [{"pre": [dict(p) for p in pre], "post": [dict(q) for q in post]}
            for pre, post, _ in paths]
    return runs, complete
