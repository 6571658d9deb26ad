"""The exact verifier of the model problem (paper §III).

Feed ``Y0 = W0^T`` of the single-layer solution (one input per category, carrying exactly that
category's features) and decide, in exact arithmetic, whether ``Y_L`` is the identity (every
beta 1) or at least a positive diagonal. Every category that fails is reported with the inputs
it fails on and why, in terms of the inputs: one category's features contained in another's,
or an input that dies at a named layer because the betas leave no margin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from symdnn import formulations
from symdnn.assoc import AssocArray
from symdnn.errors import ArgumentError
from symdnn.results import markdown_from_text

__all__ = ["Failure", "Verification", "verify", "FORMULATIONS"]

FORMULATIONS = ("fast", "reference", "standard", "oscillating", "collapsed")


@dataclass(frozen=True)
class Failure:
    """A category that breaks exactness.

    ``kind`` is ``"silent"`` (it does not fire on its own input) or ``"crosstalk"`` (it fires
    on the inputs of other categories, listed in ``inputs``).
    """

    category: Any
    kind: str
    inputs: tuple
    reason: str


@dataclass
class Verification:
    """The verdict on a construction.

    Attributes
    ----------
    exact : bool
        ``Y_L`` is a positive diagonal over all categories.
    identity : bool
        ``Y_L`` is the identity.
    output : AssocArray
        The exact ``Y_L`` (categories x inputs).
    diagonal : dict
        ``{category: Y_L(c, c)}`` for the categories that fire on their own input.
    failures : list of Failure
    formulation : str
        How ``Y_L`` was computed (``fast``, ``reference``, ``standard``, ``oscillating``,
        ``collapsed``).
    seconds : float
    categories : tuple
        Every category key of the construction, in order.
    """

    exact: bool
    identity: bool
    output: AssocArray
    diagonal: dict
    failures: list[Failure] = field(default_factory=list)
    formulation: str = "fast"
    seconds: float = 0.0
    categories: tuple = ()

    def failing(self) -> list:
        """The categories that fail, sorted."""
        return sorted({f.category for f in self.failures}, key=repr)

    def summary(self, limit: int = 10) -> str:
        """A few lines for people."""
        n = len(self.diagonal) + len({f.category for f in self.failures
                                      if f.kind == "silent"})
        if self.identity:
            head = f"exact: Y_L is the identity over {n} categories"
        elif self.exact:
            vals = sorted({str(v) for v in self.diagonal.values()})
            head = f"exact: Y_L is a positive diagonal over {n} categories (values {vals[:5]})"
        else:
            head = f"NOT exact: {len(self.failing())} of {n} categories fail"
        lines = [head + f" [{self.formulation}, {self.seconds:.2f} s]"]
        for f in self.failures[:limit]:
            lines.append(f"  {f.category!r} ({f.kind}): {f.reason}")
        if len(self.failures) > limit:
            lines.append(f"  ... and {len(self.failures) - limit} more")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The verdict and every failure in Markdown."""
        return markdown_from_text("symdnn verify", self.summary(limit=len(self.failures)))

    def to_json(self) -> dict:
        """A JSON-ready dict (exact values as strings)."""
        return {
            "exact": self.exact, "identity": self.identity, "formulation": self.formulation,
            "categories": [str(c) for c in self.categories],
            "diagonal": {str(k): str(v) for k, v in self.diagonal.items()},
            "failures": [{"category": str(f.category), "kind": f.kind,
                          "inputs": [str(i) for i in f.inputs], "reason": f.reason}
                         for f in self.failures],
        }


def _output(construction, formulation: str, chunk: int | None) -> AssocArray:
    net, Y0 = construction.net, construction.inputs
    if formulation == "fast":
        return net.infer(Y0, chunk=chunk).output
    if formulation == "reference":
        return net.infer(Y0, engine="reference").output

    if formulation in ("standard", "oscillating", "collapsed"):
        return getattr(formulations, formulation)(net, Y0)
    raise ArgumentError(f"formulation must be one of {FORMULATIONS}, not {formulation!r}")


def _silent_reasons(construction, cats: list) -> dict:
    """Where each category's own input dies: one recorded exact run over all of them."""
    net = construction.net
    Y = construction.inputs.sub(slice(None), list(cats))
    run = net.infer(Y, record=True)
    betas = ", ".join(str(ly.beta) for ly in net.layers)
    out: dict = {}
    for lnum, rec in enumerate(run.layers):
        alive = set(rec.post.col())
        tops: dict = {}
        for _, c, v in rec.pre.triples():
            if c not in tops or v > tops[c]:
                tops[c] = v
        for c in cats:
            if c not in out and c not in alive:
                out[c] = (f"its own input dies at layer {lnum}: the largest pre-activation "
                          f"there is {tops.get(c, 0)} <= 0 (betas {betas})")
    for c in cats:
        out.setdefault(c, f"it does not reach the output (betas {betas})")
    return out


def _crosstalk_reason(fs: dict, cat: Any, others: list) -> str:
    mine = fs.get(cat, frozenset())
    parts = []
    for w in others[:3]:
        theirs = fs.get(w, frozenset())
        if mine == theirs:
            parts.append(f"{cat!r} and {w!r} have the same features")
        elif mine <= theirs:
            parts.append(f"the {len(mine)} features of {cat!r} are contained in the "
                         f"{len(theirs)} of {w!r}, so both fire on {w!r}")
        else:
            parts.append(f"{cat!r} shares {len(mine & theirs)} of its {len(mine)} features "
                         f"with {w!r}, enough to fire with these betas")
    more = f" (and {len(others) - 3} more inputs)" if len(others) > 3 else ""
    return "; ".join(parts) + more


def verify(construction, *, formulation: str = "fast", chunk: int | None = 20000) -> Verification:
    """Decide exactly whether a construction solves the model problem.

    Parameters
    ----------
    construction : Construction
    formulation : str
        ``"fast"`` (the fast exact engine, in chunks of ``chunk`` inputs), ``"reference"``, or
        one of the paper's formulations ``"standard"``, ``"oscillating"``, ``"collapsed"``.

    Returns
    -------
    Verification

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> v = verify(selective(["ad", "ah", "be"], "single", ["1/2"]))
    >>> v.exact, v.identity, sorted(map(str, v.diagonal.values()))
    (True, False, ['1/2', '1/2', '1/2'])
    """
    t0 = time.perf_counter()
    out = _output(construction, formulation, chunk)
    diag: dict = {}
    off: dict = {}
    for r, c, v in out.triples():
        if r == c:
            diag[r] = v
        else:
            off.setdefault(r, []).append(c)
    failures = []
    silent = [cat for cat in construction.categories if cat not in diag]
    if silent:
        reasons = _silent_reasons(construction, silent)
        failures.extend(Failure(cat, "silent", (cat,), reasons[cat]) for cat in silent)
    if off:
        fs = construction.feature_sets()
        for cat in sorted(off, key=repr):
            others = sorted(off[cat], key=repr)
            failures.append(Failure(cat, "crosstalk", tuple(others),
                                    _crosstalk_reason(fs, cat, others)))
    exact = not failures
    identity = exact and all(v == 1 for v in diag.values())
    return Verification(exact, identity, out, diag, failures, formulation,
                        time.perf_counter() - t0, tuple(construction.categories))
