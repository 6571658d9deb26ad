"""The audit report: JSON (schema ``symdnn-audit/1``), Markdown, plots, and a CI policy.

JSON fields (stable): ``schema``; ``network`` (name, layers, neurons, inputs, bias_rule, cap);
``exact_zero`` and ``exact_pre`` (per layer, layer 1 first: pre-activations exactly zero, and
all pre-activations, in exact arithmetic); ``exact_categories``; ``truth`` (categories, or
null) and ``exact_matches_truth``; ``runs``: per run name, ``format``, ``accumulate``,
``source`` (``symdnn``, ``foreign`` for a callable, ``files`` for an implementation's output
files), ``layers_provided`` (``"all"``, or the layers a foreign run provided: per-layer values
of the others are null and the totals are over the provided ones), per layer lists
``zero_to_pos``, ``zero_to_neg``,
``sign_flip``, ``cap_flip``, ``missing``, ``spurious``, ``spurious_pos``,
``post_zero_to_nonzero``, ``post_nonzero_to_zero``, ``max_ulp``, ``max_abs_err``,
``min_margin_correct`` (null where a run did not expose what a count needs), the totals,
``ulp_histogram`` (bins ``0``, ``1``, ``2-3``, ``4-7``, ...), ``categories``,
``categories_match_exact``, ``categories_match_truth``, ``argmax_changes`` (inputs whose
unique positive maximum differs from exact) with examples, ``first_departure`` (the first
decision that differs, or else the first activation off by an ulp) and ``examples``
(located findings: kind, layer, input, neuron, exact value, float value); ``thresholds`` (for
exact-solution networks audited with thresholds: per format the float r_d and P_d against the
exact ones, see :mod:`symdnn.audit.thresholds`); ``seconds``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symdnn.audit.compare import COUNTS, ULP_BINS
from symdnn.audit.runner import RunResult
from symdnn.errors import ArgumentError
from symdnn.io.outputs import output_folder
from symdnn.io.runfiles import layer_ranges
from symdnn.results import json_text

__all__ = ["AuditReport", "POLICY_KINDS", "parse_policy"]

SCHEMA = "symdnn-audit/1"
POLICY_KINDS = ("categories", "truth", "sign_flip", "zero_to_pos", "zero_to_neg", "cap_flip",
                "missing", "spurious", "spurious_pos", "max_ulp")


def ulp_bin_labels() -> list[str]:
    """The labels of the ulp histogram's bins, as the audit's JSON and figures name them.

    Examples
    --------
    >>> ulp_bin_labels()[:4], ulp_bin_labels()[-1]
    (['0', '1', '2-3', '4-7'], '>=1048576')
    """
    labels, lo = [], 0
    for hi in ULP_BINS:
        labels.append(str(hi) if hi == lo else f"{lo}-{hi}")
        lo = hi + 1
    labels.append(f">={lo}")
    return labels


def parse_policy(items: list[str]) -> list[tuple[str, float]]:
    """``["sign_flip", "max_ulp:4"]`` -> ``[("sign_flip", 0), ("max_ulp", 4)]``: a run fails when
    its total (its largest, for max_ulp) exceeds the limit; ``categories``/``truth`` fail on a
    mismatch."""
    out = []
    for it in items:
        kind, sep, lim = it.partition(":")
        if kind not in POLICY_KINDS:
            raise ArgumentError(f"fail_on={it!r}: unknown kind {kind!r}; known: "
                             f"{', '.join(POLICY_KINDS)}")
        if sep and not lim.strip():
            raise ArgumentError(f"fail_on={it!r}: give a limit after the colon, or none")
        try:
            limit = float(lim) if sep else 0.0
        except ValueError:
            raise ArgumentError(f"fail_on={it!r}: the limit {lim!r} is not a number") from None
        if not (limit >= 0 and limit != float("inf")):
            raise ArgumentError(f"fail_on={it!r}: the limit must be a finite number >= 0")
        out.append((kind, limit))
    return out


@dataclass
class AuditReport:
    """Everything an audit found (see the module notes for the JSON schema)."""

    network: dict
    exact_zero: list
    exact_pre: list
    exact_categories: list
    truth: list | None
    runs: list[RunResult]
    seconds: dict = field(default_factory=dict)
    batch: tuple = ()
    thresholds: dict | None = None

    def _cats(self, rows: np.ndarray | None) -> list | None:
        if rows is None:
            return None
        return [self.batch[i] if self.batch else int(i) for i in rows]

    def run_json(self, res: RunResult) -> dict:
        r = res.run
        per = {k: [ly.counts[k] for ly in res.layers] for k in COUNTS
               if k not in ("exact_pre", "exact_zero")}
        given = [ly for ly in res.layers if ly.provided]
        totals = {k: (None if any(ly.counts[k] is None for ly in given) else
                      int(sum(ly.counts[k] for ly in given))) for k in per}
        hist = np.sum([ly.ulp_hist for ly in given], axis=0) if given else []
        cats = self._cats(res.categories)
        examples = [e for ly in given for e in ly.examples]
        first = next((e for ly in given for e in ly.examples if e["kind"] != "ulp"),
                     None) or next((e for ly in given for e in ly.examples), None)
        return {
            "format": r.fmt, "accumulate": r.accumulate, "source": r.source,
            "layers_provided": [ly.layer for ly in given]
            if len(given) < len(res.layers) else "all",
            **per,
            "max_ulp": [ly.max_ulp for ly in res.layers],
            "max_abs_err": [ly.max_abs_err for ly in res.layers],
            "min_margin_correct": [None if ly.min_margin_correct is None
                                   else str(ly.min_margin_correct) for ly in res.layers],
            "totals": {**totals, "max_ulp": max((ly.max_ulp for ly in given), default=0)},
            "ulp_histogram": dict(zip(ulp_bin_labels(), [int(x) for x in hist], strict=True))
            if len(hist) else {},
            "categories": cats,
            "categories_match_exact": None if cats is None else cats == self.exact_categories,
            "categories_match_truth": None if cats is None or self.truth is None
            else cats == self.truth,
            "argmax_changes": None if res.argmax is None else res.argmax["changes"],
            "argmax_examples": None if res.argmax is None else res.argmax["examples"],
            "first_departure": first,
            "examples": examples[:200],
            "seconds": round(res.seconds, 4),
        }

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA, "network": self.network,
            "exact_zero": self.exact_zero, "exact_pre": self.exact_pre,
            "exact_categories": self.exact_categories, "truth": self.truth,
            "exact_matches_truth": None if self.truth is None
            else self.exact_categories == self.truth,
            "runs": {res.run.name: self.run_json(res) for res in self.runs},
            "thresholds": self.thresholds,
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }

    def violations(self, policy: list[tuple[str, float]]) -> list[str]:
        """Human-readable policy violations (empty when the policy holds)."""
        out = []
        for res in self.runs:
            js = self.run_json(res)
            for kind, lim in policy:
                if kind == "categories" and js["categories_match_exact"] is False:
                    out.append(f"{res.run.name}: categories differ from exact")
                elif kind == "truth" and js["categories_match_truth"] is False:
                    out.append(f"{res.run.name}: categories differ from the truth")
                elif kind == "max_ulp" and js["totals"]["max_ulp"] > lim:
                    out.append(f"{res.run.name}: max_ulp {js['totals']['max_ulp']} > {lim:g}")
                elif kind in js["totals"] and kind != "max_ulp":
                    v = js["totals"][kind]
                    if v is not None and v > lim:
                        out.append(f"{res.run.name}: {kind} {v} > {lim:g}")
        return out

    def summary(self) -> str:
        """One line: the network, and per run whether its categories equal the exact ones."""
        runs = "; ".join(
            f"{res.run.name}: categories "
            + {None: "not compared", True: "= exact", False: "DIFFER from exact"}[
                self.run_json(res)["categories_match_exact"]]
            for res in self.runs)
        return (f"audit {self.network.get('name', 'network')}: {len(self.runs)} run"
                f"{'s' if len(self.runs) != 1 else ''}" + (f"; {runs}" if runs else ""))

    def to_markdown(self) -> str:
        """A summary a person reads first."""
        n = self.network
        lines = [f"# symdnn audit: {n.get('name', 'network')}", "",
                 f"{n.get('layers')} layers, {n.get('neurons')} neurons, {n.get('inputs')} "
                 f"inputs, bias rule {n.get('bias_rule')}, cap {n.get('cap')}.", "",
                 f"Exact arithmetic: {sum(self.exact_pre)} pre-activations, "
                 f"{sum(self.exact_zero)} of them exactly zero; "
                 f"{len(self.exact_categories)} categories"
                 + ("" if self.truth is None else
                    f" ({'match' if self.exact_categories == self.truth else 'DO NOT match'} "
                    "the truth)") + ".", "",
                 "| run | accumulate | zero->pos | zero->neg | ReLU flips | cap flips | "
                 "max ulp | categories = exact | = truth |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for res in self.runs:
            js = self.run_json(res)
            t = js["totals"]

            def f(v: Any) -> str:
                return "-" if v is None else str(v)

            lines.append(f"| {res.run.name} | {js['accumulate'] or '-'} | "
                         f"{f(t['zero_to_pos'])} | {f(t['zero_to_neg'])} | "
                         f"{f(t['sign_flip'])} | {f(t['cap_flip'])} | {t['max_ulp']} | "
                         f"{f(js['categories_match_exact'])} | "
                         f"{f(js['categories_match_truth'])} |")
        if self.thresholds:
            lines += ["", "| format | r values checked | pairs with float r_d = exact and "
                      "P_d agreeing everywhere | points where P_d differs |", "|---|---|---|---|"]
            for f, t in self.thresholds.items():
                lines.append(f"| {f} | {t['grid_kind']} | {t['agree']} of {len(t['pairs'])} | "
                             f"{t['mismatched_points']} |")
        for res in self.runs:
            js = self.run_json(res)
            if js["layers_provided"] != "all":
                given = layer_ranges(js["layers_provided"])
                lines.append(f"\n{res.run.name}: layers provided {given} of {len(res.layers)}; "
                             "its totals are over those")
        for res in self.runs:
            js = self.run_json(res)
            if js["first_departure"]:
                e = js["first_departure"]
                lines.append(f"\n{res.run.name}: first departure at layer {e['layer']}, input "
                             f"{e['input']}, neuron {e['neuron']}: {e['kind']} (exact "
                             f"{e['exact']}, float {e['float']!r})")
        return "\n".join(lines) + "\n"

    def write(self, folder: str, *, force: bool = False,
              figures: Callable[[AuditReport, str], list[str]] | None = None) -> list[str]:
        """``report.json``, ``report.md`` and the plots in a new folder, written to a
        temporary sibling and renamed when complete (``folder`` must be absent, empty, or an
        earlier audit report, replaced only with ``force=True``).

        The plots are drawn by ``figures(report, folder)`` (give
        :func:`symdnn.plotting.plot_audit`, as ``symdnn audit --report`` does; plotting sits
        above audit, so this module cannot name it); without it, no plots."""
        with output_folder(folder, "audit-report", force=force) as tmp:
            js = json_text(self.to_json())
            (tmp / "report.json").write_text(js + "\n", encoding="utf-8")
            (tmp / "report.md").write_text(self.to_markdown(), encoding="utf-8")
            plots = figures(self, str(tmp)) if figures is not None else []
            names = ["report.json", "report.md"] + [os.path.basename(p) for p in plots]
        return [os.path.join(folder, n) for n in names]
