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

__all__ = ["LayerFindings", "compare_layer", "ULP_BINS", "EXAMPLES"]

#: upper edges of the ulp-error histogram bins: 0, 1, 2-3, 4-7, ... , >= 2**20
ULP_BINS = [0, 1, 3, 7, 15, 31, 63, 127, 255, 1023, 2**20 - 1]
#: located examples kept per kind of finding per layer
EXAMPLES = 3

COUNTS = ("exact_pre", "exact_zero", "zero_to_pos", "zero_to_neg", "sign_flip", "missing",
          "spurious", "spurious_pos", "cap_flip", "post_zero_to_nonzero",
          "post_nonzero_to_zero")


@dataclass
class LayerFindings:
    """What one layer of one run got wrong. Counts are None where the run did not expose
    what they need (a foreign run that returns only activations has no pre-activations)."""

    layer: int
    counts: dict
    max_ulp: int = 0
    max_abs_err: float = 0.0
    min_margin_correct: Fraction | None = None
    ulp_hist: list = field(default_factory=lambda: [0] * (len(ULP_BINS) + 1))
    examples: list = field(default_factory=list)

    def to_json(self) -> dict:
        out = {"layer": self.layer, **self.counts, "max_ulp": self.max_ulp,
               "max_abs_err": self.max_abs_err,
               "min_margin_correct": None if self.min_margin_correct is None
               else str(self.min_margin_correct)}
        return out


def _union_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Union of two sorted unique key arrays (a merge, not a hash)."""
    c = np.concatenate([a, b])
    c.sort(kind="stable")
    return c[np.r_[True, c[1:] != c[:-1]]] if len(c) else c


def _ints(nums: np.ndarray) -> np.ndarray:
    """Numerators as int64 when they fit (float64 holding integers included), else objects."""
    if nums.dtype == object:
        return nums
    return nums.astype(np.int64)


def _signs(nums: np.ndarray) -> np.ndarray:
    if nums.dtype == object:
        return np.array([(v > 0) - (v < 0) for v in nums], dtype=np.int8)
    return np.sign(nums).astype(np.int8)


def _lookup(keys: np.ndarray, where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``where`` in sorted ``keys`` and whether each is present."""
    pos = np.searchsorted(keys, where)
    pos_c = np.minimum(pos, max(len(keys) - 1, 0))
    found = (pos < len(keys)) & (keys[pos_c] == where) if len(keys) else np.zeros(len(where),
                                                                                   dtype=bool)
    return pos_c, found


def compare_layer(layer: int, width: int, exact_pre: tuple, exact_post: tuple,
                  run_pre: tuple | None, run_post: tuple, fmt: str, cap: Fraction | None,
                  names: tuple) -> LayerFindings:
    """Compare one layer. ``exact_*`` are ``(keys, numerators, s)``; ``run_*`` are
    ``(keys, float64 values)``; ``names`` maps (row, col) positions to keys for examples."""
    ek, en, es = exact_pre
    pk, pn, ps = exact_post
    en, pn = _ints(np.asarray(en)), _ints(np.asarray(pn))
    qk, qv = run_post
    counts: dict = {k: None for k in COUNTS}
    counts["exact_pre"] = int(len(ek))
    sg = _signs(en) if len(en) else np.zeros(0, dtype=np.int8)
    counts["exact_zero"] = int(np.count_nonzero(sg == 0))
    out = LayerFindings(layer, counts)
    rows, cols = names

    def example(kind: str, key: int, exact: Any, got: Any) -> None:
        if sum(1 for e in out.examples if e["kind"] == kind) < EXAMPLES:
            out.examples.append({"kind": kind, "layer": layer, "input": str(rows[key // width]),
                                 "neuron": str(cols[key % width]), "exact": str(exact),
                                 "float": float(got)})

    if run_pre is not None:
        fk, fv = run_pre
        pos, found = _lookup(fk, ek)
        v = np.where(found, fv[pos] if len(fv) else 0.0, 0.0)
        ztp = (sg == 0) & (v > 0)
        ztn = (sg == 0) & (v < 0) & found
        flip = (sg != 0) & ((sg > 0) != (v > 0))
        counts["zero_to_pos"] = int(ztp.sum())
        counts["zero_to_neg"] = int(ztn.sum())
        counts["sign_flip"] = int(flip.sum())
        counts["missing"] = int((~found).sum())
        _, back = _lookup(ek, fk)
        counts["spurious"] = int((~back).sum())
        counts["spurious_pos"] = int((~back & (fv > 0)).sum())
        if cap is not None:
            limit = cap.numerator * es
            if en.dtype != object and cap.denominator == 1 and limit < 2**62:
                over_e = en > limit
            else:
                over_e = np.array([int(x) * cap.denominator > limit for x in en], dtype=bool)
            # the run caps where its value exceeds YMAX as rounded into its own format; a value
            # equal to that rounded cap is the capped value whichever way it was decided
            cap_run = float(round_exact(cap, fmt))
            flip_c = (over_e & (v < cap_run)) | (~over_e & (v > cap_run))
            counts["cap_flip"] = int((flip_c & found).sum())
        else:
            counts["cap_flip"] = 0
        right = (sg != 0) & ~flip
        if right.any():
            m = np.min(np.abs(en[right]))
            out.min_margin_correct = Fraction(int(m), es)
        for kind, mask in (("zero_to_pos", ztp), ("zero_to_neg", ztn), ("sign_flip", flip)):
            for i in np.flatnonzero(mask)[:EXAMPLES]:
                example(kind, int(ek[i]), Fraction(int(en[i]), es), v[i])
        for i in np.flatnonzero(~back & (fv > 0))[:EXAMPLES]:
            example("spurious_pos", int(fk[i]), 0, fv[i])
    else:  # decisions read off the activations: active in the run <=> pre-activation > 0
        pos, found = _lookup(qk, ek)
        active = found & (qv[pos] > 0 if len(qv) else False)
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
    union = _union_sorted(pk, qk)
    ppos, pfound = _lookup(pk, union)
    qpos, qfound = _lookup(qk, union)
    exact_r = np.zeros(len(union), dtype=np.float64)
    if len(pk):
        rounded = round_ratio(pn, ps, fmt).astype(np.float64)
        exact_r = np.where(pfound, rounded[ppos], 0.0)
    got = np.where(qfound, qv[qpos] if len(qv) else 0.0, 0.0)
    counts["post_zero_to_nonzero"] = int((~pfound & (got != 0)).sum())
    counts["post_nonzero_to_zero"] = int((pfound & (got == 0)).sum())
    both = pfound & (got != 0)  # an exact zero turned nonzero (or back) is counted above
    if both.any():
        ul = ulp_distance(exact_r[both], got[both], fmt)
        out.max_ulp = int(ul.max())
        edges = np.array(ULP_BINS)
        hist = np.bincount(np.searchsorted(edges, ul, side="left"), minlength=len(edges) + 1)
        out.ulp_hist = [int(x) for x in hist]
        exact_f = round_ratio(pn, ps, "fp64")[ppos[both]]
        out.max_abs_err = float(np.max(np.abs(got[both] - exact_f)))
        idx = np.flatnonzero(both)
        for i in idx[np.flatnonzero(ul > 0)[:EXAMPLES]]:
            example("ulp", int(union[i]), Fraction(int(pn[ppos[i]]), ps), got[i])
    return out
