"""What every construction returns: the network, its intended inputs and expected outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from symdnn.assoc import AssocArray
from symdnn.network import SparseDNN
from symdnn.verification import verify

__all__ = ["Construction"]


@dataclass
class Construction:
    """An exact-solution network with the inputs it is built for.

    Attributes
    ----------
    name : str
        ``"selective"``, ``"combinatoric"`` or ``"images"``.
    net : SparseDNN
        The network (column convention).
    inputs : AssocArray
        The model problem's input ``Y0 = W0^T`` of the single-layer solution: features x
        categories, one column per category.
    expected : AssocArray or None
        ``Y_L`` for an exact solution: the identity when every beta is 1; None when the betas
        make a positive diagonal whose values :func:`symdnn.verify` reports.
    categories, features : tuple
        Category keys (the output neurons) and input feature keys.
    params : dict
        What built it (scheme, betas, word list, ...), for reports and files.
    """

    name: str
    net: SparseDNN
    inputs: AssocArray
    expected: AssocArray | None
    categories: tuple
    features: tuple
    params: dict = field(default_factory=dict)

    def verify(self, **kw: Any):
        """Run the model problem and check ``Y_L``; see :func:`symdnn.verify`."""
        return verify(self, **kw)

    def summary(self) -> str:
        """What was built, in a line: the construction, its categories, features, layers and
        weights; a second line when some images contain others (the solution cannot be
        exact).

        Examples
        --------
        >>> from symdnn.constructions import selective
        >>> print(selective(["ad", "be", "cf"], "single", ["1"]).summary())
        selective, 3 categories, 6 features, 1 layer, 6 weights
        """
        depth = self.net.depth
        lines = [f"{self.name}, {len(self.categories)} categories, {len(self.features)} "
                 f"features, {depth} layer{'s' if depth != 1 else ''}, "
                 f"{sum(ly.W.nnz for ly in self.net.layers)} weights"]
        if self.params.get("contained"):
            lines.append(f"note: {len(self.params['contained'])} pairs of images where one is "
                         "contained in the other: the solution cannot be exact (use "
                         "contained=drop)")
        return "\n".join(lines)

    def feature_sets(self) -> dict:
        """``{category: frozenset of its input features}`` (the columns of ``inputs``)."""
        out: dict = {}
        for f, c, _ in self.inputs.triples():
            out.setdefault(c, set()).add(f)
        return {c: frozenset(s) for c, s in out.items()}
