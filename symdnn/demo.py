"""``symdnn demo``: the paper's two-letter-word network end to end, in well under a minute.

1. Build ``W0 = I(f12, f1) (+) I(f12, f2)`` (Fig. 6), feed ``Y0 = W0^T`` and run one ReLU layer
   as the paper's oscillating pair of semirings with associative-array algebra alone; verify
   exactly that ``Y1`` is the identity over the 37 categories.
2. Derive every threshold r_d exactly and reproduce Fig. 10 (one layer at beta = 0; two layers
   at beta = (4/5, 1) over the bundled four-letter words).
3. Audit fp32, fp16 and bf16 runs of the network at beta = 3/10 against exact arithmetic,
   thresholds included (every representable r for fp16 and bf16).
4. Write ``report.md`` with the figures into the output folder (``./symdnn-demo``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from symdnn.analysis import analyze
from symdnn.assoc import AssocArray
from symdnn.audit import audit_network
from symdnn.audit.thresholds import threshold_audit
from symdnn.constructions import selective
from symdnn.data import words
from symdnn.io.outputs import atomic_write, output_folder
from symdnn.plotting import plot_audit, plot_thresholds, spy

__all__ = ["DemoResult", "two_letter_layer", "run_demo", "full_demo"]


@dataclass
class DemoResult:
    """What the demo computed."""

    W0: AssocArray
    Y0: AssocArray
    scores: AssocArray
    Y1: AssocArray
    is_identity: bool

    def summary(self) -> str:
        """One line: whether ``Y1`` is the identity, exactly."""
        return (f"symdnn demo: Y1 == I({len(self.W0.row())} categories), exactly: "
                f"{self.is_identity}")

    def to_json(self) -> dict:
        """The sizes of ``W0`` and the verdict."""
        return {"categories": len(self.W0.row()), "features": len(self.W0.col()),
                "entries": int(self.W0.nnz), "is_identity": bool(self.is_identity)}

    def report(self) -> str:
        """The same as :meth:`to_markdown` (its older name)."""
        return self.to_markdown()

    def to_markdown(self) -> str:
        """What the demo computed, for people: ``W0``, ``W0 Y0`` and ``Y1`` on the first five
        categories, and the verdict."""
        n = len(self.W0.row())
        sample = self.W0.row()[:5]
        lines = [
            "symdnn demo: the two-letter-word network of Kepner et al. (2018), Fig. 6",
            f"  W0 = I(f12, f1) (+) I(f12, f2): {n} categories x {len(self.W0.col())} features,"
            f" {self.W0.nnz} entries",
            "  W0 Y0 over plus_times (2 on the diagonal, 1 where two words share a letter),",
            "  first five categories:",
            _indent(repr(self.scores.sub(list(sample), list(sample)))),
            "  Y1 = (W0 Y0) (x) B0 (+) 0 over max_plus, back in plus_times:",
            _indent(repr(self.Y1.sub(list(sample), list(sample)))),
            f"  Y1 == I({n} categories), exactly: {self.is_identity}",
        ]
        return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def two_letter_layer(ws: list[str] | None = None) -> AssocArray:
    """``W0 = I(f12, f1) (+) I(f12, f2)`` over words, features keyed ``1a``, ``2d``, ...

    Examples
    --------
    >>> W0 = two_letter_layer(["ad", "be"])
    >>> W0.to_dict()
    {'ad': {'1a': 1, '2d': 1}, 'be': {'1b': 1, '2e': 1}}
    """
    ws = words("words2") if ws is None else ws
    first = AssocArray.eye(ws, [f"1{w[0]}" for w in ws])
    second = AssocArray.eye(ws, [f"2{w[1]}" for w in ws])
    return first + second


def run_demo() -> DemoResult:
    """Build the two-letter network, run one layer exactly and check ``Y1 == I``.

    Examples
    --------
    >>> run_demo().is_identity
    True
    """
    W0 = two_letter_layer()
    Y0 = W0.T
    cats = W0.row()
    scores = W0 @ Y0  # plus_times: 2 on the diagonal, 1 where two words share a letter
    # b0 = beta |W0 1|_0 - W0 1 with beta = 1: one minus the fan-in of each category
    fan_in = W0.reduce(1)
    minus_one = AssocArray.from_triples(list(cats), [1] * len(cats), -1)
    b0 = fan_in.zero_norm() + fan_in * minus_one
    # B0 = b0 |Y0 1|_0^T: the bias replicated along the inputs
    B0 = b0 @ AssocArray.ones([1], Y0.col())
    # one ReLU layer over the oscillating semirings: (W0 Y0) (x) B0 (+) 0 over max_plus, where
    # (x) is + and (+) is max; the all-zero array is the max_plus ones array 1(cats, inputs)
    pre = scores.with_semiring("max_plus") * B0.with_semiring("max_plus")
    Y1 = (pre + AssocArray.ones(cats, Y0.col(), semiring="max_plus")).with_semiring("plus_times")
    identity = AssocArray.identity(cats)
    return DemoResult(W0, Y0, scores, Y1, Y1.isequal(identity))


def full_demo(out: str = "symdnn-demo", *, force: bool = False) -> tuple[bool, str]:
    """Everything ``symdnn demo`` does; returns ``(all checks passed, path of report.md)``.

    ``out`` must be absent, empty, or an earlier demo folder (replaced only with
    ``force=True``); it is written to a temporary sibling and renamed when complete.
    """
    with output_folder(out, "demo", force=force) as tmp:
        ok, _ = _full_demo(str(tmp))
    return ok, os.path.join(out, "report.md")


def _full_demo(out: str) -> tuple[bool, str]:
    t0 = time.perf_counter()
    algebra = run_demo()
    two = selective(words("words2"))
    ver = two.verify()
    spy(two.net.layers[0].W, os.path.join(out, "fig6.png"),
        title="Fig. 6: W0 over the 37 two-letter words")
    rd1 = analyze(two, verify=False)
    left = analyze(selective(words("words2"), "single", [0]))
    plot_thresholds(left, os.path.join(out, "fig10-left.png"),
                    title="Fig. 10 (left): one layer, beta = 0")
    right = analyze(selective(words("words4"), "pairs", ["4/5", 1]))
    plot_thresholds(right, os.path.join(out, "fig10-right.png"),
                    title="Fig. 10 (right): two layers, beta = (4/5, 1)")
    c310 = selective(words("words2"), "single", ["3/10"])
    audit = audit_network(c310.net, c310.inputs, formats=["fp32", "fp16", "bf16"],
                          name="two-letter words, beta = 3/10")
    audit.thresholds = threshold_audit(c310, ["fp32", "fp16", "bf16"])
    plot_audit(audit, out)
    checks = {
        "Y1 is the identity over the oscillating semirings": algebra.is_identity,
        "the verifier finds Y_L = I": ver.identity,
        "beta = 1: r_d = 0 for all 74 pairs": {str(p.r_d) for p in rd1.pairs} == {"0"},
        "Fig. 10 left: r_d = 1 for all 74 pairs": {str(p.r_d) for p in left.pairs} == {"1"},
        "Fig. 10 right: r_d = 2/5 for all 2384 pairs":
            {str(p.r_d) for p in right.pairs} == {"2/5"},
        "no false alarm anywhere": not any(p.false_alarm for p in left.pairs + right.pairs),
    }
    fp16 = audit.thresholds["fp16"]["pairs"][0]
    lines = [
        "# symdnn demo", "",
        "The two-letter-word network of Kepner et al. (2018), in exact arithmetic.", "",
        "## 1. The network (Fig. 6), verified", "", "![Fig. 6](fig6.png)", "",
        f"W0 has {two.net.layers[0].W.shape[0]} categories and "
        f"{two.net.layers[0].W.shape[1]} features (16 first letters + 17 second letters). "
        "One ReLU layer over the oscillating semirings (plus_times, then max_plus) gives "
        f"Y1 = I exactly: {algebra.is_identity}. The verifier agrees: {ver.summary()}.", "",
        "## 2. Thresholds and Fig. 10", "",
        "Perturb one letter of a word's own input to r in [0, 2]; r_d is where the word stops "
        "being selected. With beta = 1 every r_d is 0. Fig. 10, exactly:", "",
        "![Fig. 10 left](fig10-left.png) ![Fig. 10 right](fig10-right.png)", "",
        f"- left, one layer, beta = 0: r_d = 1 for all {len(left.pairs)} pairs (flagged: not "
        "an exact solution, Y_L = 0 at r = 1);",
        f"- right, two layers, beta = (4/5, 1): r_d = 3 - 2 beta_0 - beta_1 = 2/5 for all "
        f"{len(right.pairs)} pairs; P_fa = 0.", "",
        "## 3. Float runs against exact (beta = 3/10)", "", audit.to_markdown(), "",
        f"The exact threshold is {fp16['exact_r_d']}; in fp16 the bias 3/10 - 2 rounds, and "
        f"the threshold becomes {fp16['float_r_d']}: at r = "
        f"{', '.join(fp16['first_mismatches'][:1])} "
        "the fp16 run misses a detection.", "",
        "![findings](findings_per_layer.png) ![ulps](ulp_histogram.png)", "",
        "## Checks", "",
    ] + [f"- [{'x' if ok else ' '}] {name}" for name, ok in checks.items()] + [
        "", f"Made in {time.perf_counter() - t0:.1f} s by `symdnn demo`.", ""]
    path = os.path.join(out, "report.md")
    text = "\n".join(lines)
    atomic_write(path, lambda fh: fh.write(text))
    return all(checks.values()), path
