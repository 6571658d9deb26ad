"""The small working example run by ``symdnn demo``: the paper's two-letter-word network
(Fig. 6) checked with associative-array algebra alone.

Builds ``W0 = I(f12, f1) (+) I(f12, f2)``, feeds ``Y0 = W0^T``, and runs one ReLU layer as the
paper's oscillating pair of semirings: ``W0 Y0`` over ``plus_times``, then ``(x) B0 (+) 0`` over
``max_plus``, and back to ``plus_times`` (which drops the zeros). With ``beta = 1`` the output is
the identity over the 37 categories, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from symdnn.assoc import AssocArray
from symdnn.data import words

__all__ = ["DemoResult", "two_letter_layer", "run_demo"]


@dataclass
class DemoResult:
    """What the demo computed."""

    W0: AssocArray
    Y0: AssocArray
    scores: AssocArray
    Y1: AssocArray
    is_identity: bool

    def report(self) -> str:
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
