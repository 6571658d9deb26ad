"""Perturbation analysis of an exact-solution network (paper §VI), done exactly.

For every category c and every feature f of c, feature f of c's own input takes the value r in
[0, 2] (deletion at 0, excitement at 2). With *selected* meaning the unique positive maximum of
the output:

* ``P_d(r) = 1`` when c is selected, ``P_fa(r) = 1`` when another category is; both are exact
  unions of intervals (:mod:`symdnn.analysis.piecewise`);
* ``r_d`` is the smallest r in [0, 2] with c selected for every r' in (r, 2], or None when c
  is not selected at r = 2;
* the closed form (:mod:`symdnn.analysis.thresholds`) is compared with it; where they differ the
  report names the neuron of c's sub-DNN that clips first as r comes down from 2, and where.
  The closed form needs the betas; a network given explicit biases gets the exact piecewise
  answer alone (``closed_form`` None, ``agrees`` None).

A network that is not an exact solution (its verifier fails) is flagged, with the reason: its
thresholds are still well defined and given, unless ``exact_only=True`` withholds them (the
design's rule, and the default of ``symdnn threshold``).
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from typing import Any

import flint
import sympy

from symdnn.analysis.piecewise import Interval, Piece, merge, piecewise
from symdnn.analysis.subdnn import layered_graph, support
from symdnn.analysis.thresholds import closed_form
from symdnn.assoc import AssocArray
from symdnn.domains import QQ

__all__ = ["PairResult", "ThresholdReport", "analyze", "selected_interval"]

R_LO, R_HI = flint.fmpq(0), flint.fmpq(2)


def selected_interval(piece: Piece, cat: Any) -> Interval | None:
    """Where on the piece ``cat`` is the unique positive maximum (an interval, or None).

    Examples
    --------
    >>> import flint
    >>> p = Piece(flint.fmpq(0), flint.fmpq(2), {"a": (flint.fmpq(-1), flint.fmpq(1))})
    >>> str(selected_interval(p, "a"))       # a = r - 1 > 0
    '(1, 2]'
    """
    lo, hi, lo_c, hi_c = piece.lo, piece.hi, True, True
    a_c, b_c = piece.outputs.get(cat, (flint.fmpq(0), flint.fmpq(0)))
    cons = [(a_c, b_c)] + [(a_c - a, b_c - b) for k, (a, b) in piece.outputs.items()
                           if k != cat]
    for a, b in cons:  # a + b r > 0
        if b == 0:
            if a <= 0:
                return None
            continue
        root = -a / b
        if b > 0 and (root > lo or (root == lo and lo_c)):
            lo, lo_c = root, False
        elif b < 0 and (root < hi or (root == hi and hi_c)):
            hi, hi_c = root, False
    if lo < hi or (lo == hi and lo_c and hi_c):
        return Interval(lo, hi, lo_c, hi_c)
    return None


def _q(x: Any) -> flint.fmpq:
    return QQ.convert(x)


def _fires(piece: Piece, cat: Any) -> bool:
    a, b = piece.outputs.get(cat, (0, 0))
    return a + b * piece.lo > 0 or a + b * piece.hi > 0


def _fmt(x: Any) -> str | None:
    return None if x is None else str(x)


@dataclass
class PairResult:
    """The analysis of one (category, feature) pair.

    ``closed_form`` / ``closed_expr`` are None, and ``agrees`` is None, when the network's
    biases were given explicitly (no betas, so no closed form); ``r_d``, ``detect`` and
    ``false_alarm`` are the exact piecewise answer in every case."""

    category: Any
    feature: Any
    r_d: flint.fmpq | None
    detect: list[Interval]
    false_alarm: list[Interval]
    fires: tuple
    closed_form: Any
    closed_expr: Any
    agrees: bool | None
    clip: tuple | None = None
    note: str = ""

    def to_json(self) -> dict:
        return {
            "category": str(self.category), "feature": str(self.feature),
            "r_d": _fmt(self.r_d), "closed_form": _fmt(self.closed_form),
            "closed_form_expr": _fmt(self.closed_expr), "agrees": self.agrees,
            "detect": [str(i) for i in self.detect],
            "false_alarm": [str(i) for i in self.false_alarm],
            "fires": [str(k) for k in self.fires], "note": self.note,
        }


def _not_exact_reason(ver: Any) -> str | None:
    """One line: how many categories fail the model problem, and the first failure."""
    if ver is None or ver.exact:
        return None
    n = len(ver.diagonal) + len({f.category for f in ver.failures if f.kind == "silent"})
    f = ver.failures[0]
    return (f"the model problem fails for {len(ver.failing())} of {n} categories; first "
            f"{f.category!r} ({f.kind}): {f.reason}")


@dataclass
class ThresholdReport:
    """Thresholds of every analysed pair, with the network's exactness.

    Attributes
    ----------
    exact : bool
        The network solves the model problem (see :func:`symdnn.verify`).
    pairs : list of PairResult
        Empty when ``withheld``.
    betas : list
        Per layer the beta that made its bias, None for a layer given an explicit bias.
    withheld : bool
        The network is not an exact solution and :func:`analyze` was asked
        (``exact_only=True``) to give no thresholds for it.
    """

    exact: bool
    pairs: list[PairResult]
    betas: list
    seconds: float = 0.0
    verification: Any = None
    params: dict = field(default_factory=dict)
    withheld: bool = False

    @property
    def reason(self) -> str | None:
        """Why the network is not an exact solution (how many categories fail, and the first
        failure the verifier found), or None when it is one."""
        if self.exact:
            return None
        return _not_exact_reason(self.verification) or "the model problem fails"

    @property
    def has_closed_form(self) -> bool:
        """Every layer's bias came from a beta, so the closed form r_d applies."""
        return bool(self.betas) and all(b is not None for b in self.betas)

    def by_category(self) -> dict:
        """``{category: [PairResult in feature order]}``."""
        out: dict = {}
        for p in self.pairs:
            out.setdefault(p.category, []).append(p)
        return out

    def to_json(self) -> dict:
        """The CLI's JSON: ``exact``, ``thresholds`` and ``false_alarm`` per category (one
        entry per feature in feature order, for words the letter positions), and details."""
        cats = self.by_category()
        judged = [p.agrees for p in self.pairs if p.agrees is not None]
        if self.exact:
            warning = None
        elif self.withheld:
            warning = ("NOT an exact solution (see 'symdnn verify'): no thresholds are given "
                       "for it")
        else:
            warning = ("NOT an exact solution: the model problem fails (see 'symdnn verify'); "
                       "the thresholds are well defined but do not describe an exact network")
        return {
            "exact": self.exact,
            "reason": self.reason,
            "betas": [_fmt(b) for b in self.betas],
            "thresholds": None if self.withheld else
            {str(c): [_fmt(p.r_d) for p in ps] for c, ps in cats.items()},
            "false_alarm": None if self.withheld else
            {str(c): [bool(p.false_alarm) for p in ps] for c, ps in cats.items()},
            "closed_form_agrees": all(judged) if judged else None,
            "pairs": [p.to_json() for p in self.pairs],
            "warning": warning,
        }

    def summary(self, limit: int = 5) -> str:
        """How many pairs, the r_d values found, and whether the closed form agrees (the
        first ``limit`` pairs where it does not)."""
        if self.withheld:
            return f"NOT an exact solution: no thresholds are given for it: {self.reason}"
        counts: dict = {}
        for p in self.pairs:
            counts[str(p.r_d)] = counts.get(str(p.r_d), 0) + 1
        judged = [p for p in self.pairs if p.agrees is not None]
        agree = sum(bool(p.agrees) for p in judged)
        alarms = sum(bool(p.false_alarm) for p in self.pairs)
        lines = [f"{len(self.pairs)} (category, feature) pairs in {self.seconds:.2f} s; "
                 + (f"betas {', '.join(map(str, self.betas))}" if self.has_closed_form
                    else "explicit biases (no closed form)"),
                 "r_d: " + ", ".join(f"{k} x{n}" for k, n in sorted(counts.items())),
                 f"closed form agrees on {agree} of {len(judged)} pairs; false alarms on "
                 f"{alarms}"]
        lines += [f"  {p.category!r} {p.feature!r}: r_d {p.r_d}, closed form {p.closed_form}: "
                  f"{p.note}" for p in [p for p in judged if not p.agrees][:limit]]
        return "\n".join(lines)

    def to_csv(self) -> str:
        """One row per pair, sortable by category and feature."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["category", "feature", "r_d", "closed_form", "closed_form_expr", "agrees",
                    "false_alarm", "detect", "fires"])
        for p in self.pairs:
            w.writerow([p.category, p.feature, _fmt(p.r_d) or "", _fmt(p.closed_form) or "",
                        _fmt(p.closed_expr) or "", "" if p.agrees is None else p.agrees,
                        bool(p.false_alarm),
                        " ".join(str(i) for i in p.detect), " ".join(map(str, p.fires))])
        return buf.getvalue()

    def to_markdown(self, limit: int | None = None) -> str:
        """A Markdown table of r_d, one row per pair (``limit`` rows at most)."""
        head = ["| category | feature | r_d | closed form | agrees | false alarm |",
                "|---|---|---|---|---|---|"]
        if not self.exact:
            head.insert(0, f"**NOT an exact solution: thresholds "
                           f"{'withheld' if self.withheld else 'flagged'}.** {self.reason}\n")
        agrees = {None: "-", True: "yes", False: "NO"}
        rows = [f"| {p.category} | {p.feature} | {_fmt(p.r_d) or '-'} | "
                f"{_fmt(p.closed_expr) or '-'} = {_fmt(p.closed_form) or '-'} | "
                f"{agrees[p.agrees]} | {'yes' if p.false_alarm else 'no'} |"
                for p in self.pairs[:limit]]
        return "\n".join(head + rows) + "\n"

    def curves(self) -> tuple[list, list, list]:
        """Exact ``P_d`` and ``P_fa`` averaged over all pairs, as step functions: the sorted
        breakpoints ``xs`` and, between/at them, the fractions of pairs detected / alarmed.

        Returns ``(xs, pd, pfa)`` where ``pd[i]`` is the value on ``(xs[i], xs[i+1])``."""
        xs = sorted({R_LO, R_HI} | {e for p in self.pairs for iv in p.detect + p.false_alarm
                                    for e in (iv.lo, iv.hi)})
        n = max(len(self.pairs), 1)
        pd, pfa = [], []
        for a, b in zip(xs[:-1], xs[1:], strict=True):
            m = (a + b) / 2
            pd.append(sum(any(m in iv for iv in p.detect) for p in self.pairs) / n)
            pfa.append(sum(any(m in iv for iv in p.false_alarm) for p in self.pairs) / n)
        return xs, pd, pfa


def analyze(construction: Any, *, pairs: list | None = None, verify: Any = True,
            exact_only: bool = False, r_lo: Any = 0, r_hi: Any = 2) -> ThresholdReport:
    """Thresholds of every (category, feature) pair of a construction.

    Parameters
    ----------
    construction : Construction
        Its network may have betas (then each pair also gets the closed form of r_d) or
        explicit biases (then only the exact piecewise answer, which is always defined).
    pairs : list of (category, feature), optional
        Default: every feature of every category, in category then feature order.
    verify : bool or Verification
        Also run the model-problem verifier, to flag networks that are not exact (or pass its
        verdict, already computed). False: the network is taken to be exact.
    exact_only : bool
        Give no thresholds for a network that is not an exact solution: the report then has
        no pairs, ``withheld`` is True and ``reason`` says why.

    Returns
    -------
    ThresholdReport

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> rep = analyze(selective(["abcd", "abce", "bcde"], "pairs", ["4/5", 1]))
    >>> {str(p.r_d) for p in rep.pairs}, rep.exact
    ({'2/5'}, True)
    >>> bad = analyze(selective(["ad", "be"], "single", [0]), exact_only=True)
    >>> bad.exact, bad.withheld, bad.pairs
    (False, True, [])
    """
    t0 = time.perf_counter()
    net = construction.net
    fsets = construction.feature_sets()
    if pairs is None:
        pairs = [(c, f) for c in construction.categories for f in sorted(fsets[c])]
    if isinstance(verify, bool):
        ver = construction.verify() if verify else None
    else:
        ver = verify
    exact = ver.exact if ver is not None else True
    betas = [ly.beta for ly in net.layers]
    if exact_only and not exact:
        return ThresholdReport(exact, [], betas, time.perf_counter() - t0, ver,
                               dict(construction.params), withheld=True)
    explicit = [l for l, b in enumerate(betas) if b is None]

    cols = [f"p{i:07d}" for i in range(len(pairs))]
    rows, ccs = [], []
    for key, (c, _) in zip(cols, pairs, strict=True):
        for f in fsets[c]:
            rows.append(f)
            ccs.append(key)
    base = AssocArray.from_triples(rows, ccs, 1, domain=net.domain)
    traces = piecewise(net, base, [f for _, f in pairs], r_lo=r_lo, r_hi=r_hi)
    G = layered_graph(net)
    subs: dict = {}
    results = []
    for (c, f), tr in zip(pairs, traces, strict=True):
        if c not in subs:
            subs[c] = support(net, c, G)
        cf = None if explicit else closed_form(subs[c], f, betas)
        detect = merge([iv for p in tr.pieces if (iv := selected_interval(p, c)) is not None])
        alarm = merge([iv for p in tr.pieces for k in p.outputs if k != c and _fires(p, k)
                       if (iv := selected_interval(p, k)) is not None])
        fires = tuple(sorted({k for p in tr.pieces for k in p.outputs if k != c
                              and _fires(p, k)}, key=repr))
        top = next((iv for iv in detect if iv.hi == _q(r_hi) and iv.hi_closed), None)
        r_d = None if top is None else top.lo
        cf_val = None
        if cf is None:
            agrees = None
        else:
            if cf.value is not None and cf.value.is_Rational:
                v = flint.fmpq(int(cf.value.p), int(cf.value.q))
                cf_val = None if v >= _q(r_hi) else max(v, _q(r_lo))
            agrees = cf_val == r_d if cf.value is None or cf.value.is_Rational else False
        clip, note = None, ""
        if agrees is None:
            note = (f"no closed form: layer{'s' if len(explicit) > 1 else ''} "
                    f"{', '.join(map(str, explicit))} {'have' if len(explicit) > 1 else 'has'} "
                    "an explicit bias, not a beta; r_d is the exact piecewise answer")
        elif not agrees:  # the regime change nearest to r = 2 inside c's sub-DNN
            cands = [b for b in tr.breakpoints if (b.layer, b.key) in subs[c].nodes]
            if cands:
                b = max(cands, key=lambda x: x.r)
                clip = (b.layer, b.key, b.r)
                note = (f"neuron {b.key!r} of layer {b.layer} in the sub-DNN of {c!r} "
                        f"{'clips' if b.kind == 'relu' else 'reaches the cap'} at r = {b.r}, "
                        "so the closed form does not hold")
            elif alarm:
                note = "another category is selected, so the closed form does not hold"
            else:
                note = "the closed form does not describe this pair"
        results.append(PairResult(c, f, r_d, detect, alarm, fires,
                                  None if cf is None else cf.value,
                                  None if cf is None else cf.expr, agrees, clip, note))
    return ThresholdReport(exact, results, betas, time.perf_counter() - t0, ver,
                           dict(construction.params))


del sympy
