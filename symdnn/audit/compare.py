"""Per-layer comparison of a floating-point run with the exact run.

Entries are addressed by a linear key ``row * width + col`` (row: input, col: neuron), sorted.
The exact side gives integer numerators over one denominator; the float side float64 values
(of the run's format). Everything is vectorised; a handful of located examples of each kind of
finding is kept.

Definitions (a *pre-activation* is the value just before the ReLU, where the bias rule adds the
bias: with the Graph Challenge rule, the nonzero entries of ``Y W``):

* ``exact_zero``: pre-activations that are exactly 0 in exact arithmetic;
* ``zero_to_pos`` / ``zero_to_neg``: exactly 0, but positive / negative in the run;
* ``sign_flip``: exact pre-activation nonzero and the ReLU decision differs (exact > 0 but
  float <= 0, or exact < 0 but float > 0); an entry the run never computed counts as 0;
* ``missing``: the exact run has a pre-activation the float run lacks (its ``Y W`` is 0);
  ``spurious``: the reverse, ``spurious_pos`` those of them that are positive;
* ``cap_flip``: the decision to cap differs: the exact value exceeds YMAX but the run's value
  lies below YMAX rounded into the run's format, or the exact value does not exceed YMAX but
  the run's value lies above the rounded YMAX (a run value equal to the rounded YMAX agrees
  with either decision);
* ``post_zero_to_nonzero`` / ``post_nonzero_to_zero``: activations after the layer;
* ``max_ulp``: the largest distance, in units in the last place of the format, between an
  activation of the run and the correctly rounded exact activation, over the activations that
  are nonzero in both (the others are counted by ``post_*``); ``max_abs_err`` the largest
  absolute error there (evaluated in float64);
* ``min_margin_correct``: the smallest |exact pre-activation| whose ReLU decision the run still
  got right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from symdnn.domains.floats import round_exact, round_ratio, ulp_distance

__all__ = ["LayerFindings", "ExactSide", "compare_layer", "ULP_BINS", "EXAMPLES"]

#: upper edges of the ulp-error histogram bins: 0, 1, 2-3, 4-7, ... , >= 2**20
ULP_BINS = [0, 1, 3, 7, 15, 31, 63, 127, 255, 1023, 2**20 - 1]
#: located examples kept per kind of finding per layer
EXAMPLES = 3

COUNTS = ("exact_pre", "exact_zero", "zero_to_pos", "zero_to_neg", "sign_flip", "missing",
          "spurious", "spurious_pos", "cap_flip", "post_zero_to_nonzero",
          "post_nonzero_to_zero")


def _union_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Union of two sorted unique key arrays."""
    c = np.concatenate([a, b])
    c.sort(kind="stable")
    return c[np.r_[True, c[1:] != c[:-1]]] if len(c) else c


@dataclass
class LayerFindings:
    """What one layer of one run got wrong. Counts are None where the run did not expose
    what they need (a foreign run that returns only activations has no pre-activations);
    a layer a foreign run did not provide has ``provided`` False and every value None."""

    layer: int
    counts: dict
    max_ulp: int | None = 0
    max_abs_err: float | None = 0.0
    min_margin_correct: Fraction | None = None
    ulp_hist: list = field(default_factory=lambda: [0] * (len(ULP_BINS) + 1))
    examples: list = field(default_factory=list)
    provided: bool = True
    #: ``(row, column)`` of each example (0-based positions), to merge row chunks in order
    at: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for k in COUNTS:
            self.counts.setdefault(k, None)

    def to_json(self) -> dict:
        out = {"layer": self.layer, "provided": self.provided, **self.counts,
               "max_ulp": self.max_ulp, "max_abs_err": self.max_abs_err,
               "min_margin_correct": None if self.min_margin_correct is None
               else str(self.min_margin_correct)}
        return out


def _ints(nums: np.ndarray) -> np.ndarray:
    """Numerators as int64 when they fit (float64 holding integers included), else objects."""
    if nums.dtype == object or nums.dtype == np.int64:
        return nums
    return nums.astype(np.int64)


def _signs(nums: np.ndarray) -> np.ndarray:
    if nums.dtype == object:
        return np.array([(v > 0) - (v < 0) for v in nums], dtype=np.int8)
    return np.sign(nums).astype(np.int8)


def _lookup(keys: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``where`` in sorted unique ``keys`` and whether each is present (the
    position of an absent one is some valid index)."""
    if len(keys) == len(where) and np.array_equal(keys, where):  # the usual case: one pattern
        return np.arange(len(keys)), np.ones(len(keys), dtype=bool)
    nk = len(keys)
    if not nk:
        return np.zeros(len(where), dtype=np.int64), np.zeros(len(where), dtype=bool)
    if len(where) > 1 and np.any(where[1:] < where[:-1]):  # not sorted: a binary search each
        pos = np.minimum(np.searchsorted(keys, where), nk - 1)
        return pos, keys[pos] == where
    # Both sorted: one merge (a stable sort of two sorted runs merges them in linear time,
    # where a binary search for each key misses the cache at every step). Of the keys, as
    # many lie at or before where[j] as precede it in the merge, less the j earlier wheres.
    merged = np.argsort(np.concatenate((keys, where)), kind="stable")
    pos = np.flatnonzero(merged >= nk) - np.arange(len(where))
    np.subtract(pos, 1, out=pos)
    np.maximum(pos, 0, out=pos)
    return pos, keys[pos] == where


class ExactSide:
    """One layer of the exact run, prepared once for every run compared with it:
    pre-activations ``(keys, numerators, s)`` and activations ``(keys, numerators, s)``, their
    signs, and their correct roundings into each format (computed on first use)."""

    def __init__(self, pre: tuple, post: tuple, cap: Fraction | None) -> None:
        self.ek, en, self.es = pre
        self.pk, pn, self.ps = post
        self.en, self.pn = _ints(np.asarray(en)), _ints(np.asarray(pn))
        self.sg = _signs(self.en) if len(self.en) else np.zeros(0, dtype=np.int8)
        self.exact_zero = int(np.count_nonzero(self.sg == 0))
        self.cap = cap
        self._over: np.ndarray | None = None
        self._rounded: dict = {}

    @property
    def over_cap(self) -> np.ndarray:
        """Where the exact pre-activation exceeds the cap."""
        if self._over is None:
            cap, en = self.cap, self.en
            limit = cap.numerator * self.es
            if en.dtype != object and cap.denominator == 1 and abs(limit) < 2**62:
                self._over = en > limit
            else:
                self._over = np.array([int(x) * cap.denominator > limit for x in en],
                                      dtype=bool)
        return self._over

    @property
    def min_nonzero(self) -> int | None:
        """The smallest nonzero |pre-activation| numerator, or None."""
        if not hasattr(self, "_min_nz"):
            nz = self.sg != 0
            self._min_nz = int(np.min(np.abs(self.en[nz]))) if nz.any() else None
        return self._min_nz

    def rounded(self, fmt: str) -> np.ndarray:
        """The activations correctly rounded into ``fmt`` (as float64)."""
        if fmt not in self._rounded:
            self._rounded[fmt] = (round_ratio(self.pn, self.ps, fmt).astype(np.float64)
                                  if len(self.pk) else np.zeros(0))
        return self._rounded[fmt]


def compare_layer(layer: int, width: int, exact_pre: tuple | ExactSide,
                  exact_post: tuple | None, run_pre: tuple | None, run_post: tuple, fmt: str,
                  cap: Fraction | None, names: tuple) -> LayerFindings:
    """Compare one layer. ``exact_*`` are ``(keys, numerators, s)`` (or ``exact_pre`` an
    :class:`ExactSide` and ``exact_post`` None); ``run_*`` are ``(keys, float64 values)``
    with sorted unique keys; ``names`` maps (row, col) positions to keys for examples."""
    ex = exact_pre if isinstance(exact_pre, ExactSide) else ExactSide(exact_pre, exact_post,
                                                                      cap)
    ek, en, es, sg = ex.ek, ex.en, ex.es, ex.sg
    pk, pn, ps = ex.pk, ex.pn, ex.ps
    qk, qv = run_post
    counts: dict = {k: None for k in COUNTS}
    counts["exact_pre"] = int(len(ek))
    counts["exact_zero"] = ex.exact_zero
    out = LayerFindings(layer, counts)
    rows, cols = names

    def example(kind: str, key: int, exact: Any, got: Any) -> None:
        if sum(1 for e in out.examples if e["kind"] == kind) < EXAMPLES:
            out.at.append((key // width, key % width))
            out.examples.append({"kind": kind, "layer": layer, "input": str(rows[key // width]),
                                 "neuron": str(cols[key % width]), "exact": str(exact),
                                 "float": float(got)})

    if run_pre is not None:
        fk, fv = run_pre
        same = len(fk) == len(ek) and np.array_equal(fk, ek)  # the usual case: one pattern
        if same:
            v, found = fv, None
        else:
            pos, found = _lookup(fk, ek)
            v = np.where(found, fv[pos], 0.0) if len(fv) else np.zeros(len(ek))
        zero = sg == 0
        pos_v = v > 0
        ztp = zero & pos_v
        ztn = zero & (v < 0)
        if found is not None:
            ztn &= found
        flip = ~zero & ((sg > 0) != pos_v)
        counts["zero_to_pos"] = int(np.count_nonzero(ztp))
        counts["zero_to_neg"] = int(np.count_nonzero(ztn))
        counts["sign_flip"] = int(np.count_nonzero(flip))
        if same:
            counts["missing"] = counts["spurious"] = counts["spurious_pos"] = 0
            spur_pos = np.zeros(0, dtype=bool)
        else:
            counts["missing"] = int(len(found) - np.count_nonzero(found))
            _, back = _lookup(ek, fk)
            counts["spurious"] = int(len(back) - np.count_nonzero(back))
            spur_pos = ~back & (fv > 0)
            counts["spurious_pos"] = int(np.count_nonzero(spur_pos))
        if cap is not None:
            over_e = ex.over_cap
            # the run caps where its value exceeds YMAX as rounded into its own format; a value
            # equal to that rounded cap is the capped value whichever way it was decided
            cap_run = float(round_exact(cap, fmt))  # YMAX in the run's format
            flip_c = np.where(over_e, v < cap_run, v > cap_run)
            if found is not None:
                flip_c &= found
            counts["cap_flip"] = int(np.count_nonzero(flip_c))
        else:
            counts["cap_flip"] = 0
        if not flip.any():
            m = ex.min_nonzero
            if m is not None:
                out.min_margin_correct = Fraction(m, es)
        else:
            right = (sg != 0) & ~flip
            if right.any():
                out.min_margin_correct = Fraction(int(np.min(np.abs(en[right]))), es)
        for kind, mask in (("zero_to_pos", ztp), ("zero_to_neg", ztn), ("sign_flip", flip)):
            for i in np.flatnonzero(mask)[:EXAMPLES]:
                example(kind, int(ek[i]), Fraction(int(en[i]), es), v[i])
        for i in np.flatnonzero(spur_pos)[:EXAMPLES]:
            example("spurious_pos", int(fk[i]), 0, fv[i])
    else:  # decisions read off the activations: active in the run <=> pre-activation > 0
        pos, found = _lookup(qk, ek)
        active = found & (qv[pos] > 0) if len(qv) else np.zeros(len(ek), dtype=bool)
        ztp = (sg == 0) & active
        flip = (sg != 0) & ((sg > 0) != active)
        counts["zero_to_pos"] = int(ztp.sum())
        counts["sign_flip"] = int(flip.sum())
        _, back = _lookup(ek, qk)
        counts["spurious_pos"] = int((~back & (qv > 0)).sum())
        for kind, mask in (("zero_to_pos", ztp), ("sign_flip", flip)):
            for i in np.flatnonzero(mask)[:EXAMPLES]:
                example(kind, int(ek[i]), Fraction(int(en[i]), es),
                        qv[pos[i]] if found[i] else 0.0)
    # activations after the layer, against the correctly rounded exact ones
    if len(pk) == len(qk) and np.array_equal(pk, qk):
        union = pk
        ppos = qpos = np.arange(len(pk))
        pfound = np.ones(len(pk), dtype=bool)
        got = qv
    else:
        union = _union_sorted(pk, qk)
        ppos, pfound = _lookup(pk, union)
        qpos, qfound = _lookup(qk, union)
        got = np.where(qfound, qv[qpos], 0.0) if len(qv) else np.zeros(len(union))
    counts["post_zero_to_nonzero"] = int((~pfound & (got != 0)).sum())
    counts["post_nonzero_to_zero"] = int((pfound & (got == 0)).sum())
    both = pfound & (got != 0)  # an exact zero turned nonzero (or back) is counted above
    if both.any():
        at = ppos[both]
        gb = got[both]
        ul = ulp_distance(ex.rounded(fmt)[at], gb, fmt)
        out.max_ulp = int(ul.max())
        edges = np.array(ULP_BINS)
        hist = np.bincount(np.searchsorted(edges, ul, side="left"), minlength=len(edges) + 1)
        out.ulp_hist = [int(x) for x in hist]
        out.max_abs_err = float(np.max(np.abs(gb - ex.rounded("fp64")[at])))
        idx = np.flatnonzero(both)
        for i in idx[np.flatnonzero(ul > 0)[:EXAMPLES]]:
            example("ulp", int(union[i]), Fraction(int(pn[ppos[i]]), ps), got[i])
    return out
