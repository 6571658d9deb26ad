"""The closed form of the perturbation threshold r_d, derived again (the paper's Appendix B has
three slips; see ``proofs/proof_rd_closed_form.py``).

Perturb one input feature f of category c: ``y_0 = 1 + (r - 1) e_f`` on c's features. While
every neuron of the sub-DNN supporting c stays active (and below the cap), the layers act
linearly with ``b_l = beta_l 1 - cW_l 1``, and by induction over layers

    y_L(c) = (r - 1) P_f + sum_{l=0}^{L-2} (beta_l - 1) N_l + beta_{L-1},

where ``P_f`` is the weighted number of paths from f to c and ``N_l`` the weighted number of
paths from the outputs of layer l to c. Hence ``y_L(c) > 0`` exactly when ``r > r_d`` with

    r_d = 1 - (beta_{L-1} + sum_{l=0}^{L-2} (beta_l - 1) N_l) / P_f.

One layer: ``r_d = 1 - beta_0``. The paper's two-layer (f12, f34) scheme: ``3 - 2 beta_0 -
beta_1``, 2/5 at beta_0 = 4/5, beta_1 = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy

from symdnn.analysis.subdnn import SubDNN
from symdnn.errors import SymdnnError

__all__ = ["ClosedForm", "closed_form", "beta_symbols"]


def _num(x: Any) -> Any:
    """An exact number (int, fmpz, fmpq, Fraction, str) or SymPy expression as SymPy."""
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, int):
        return sympy.Integer(x)
    if hasattr(x, "denominator") or hasattr(x, "q"):
        p, q = (x.p, x.q) if hasattr(x, "q") else (x.numerator, x.denominator)
        return sympy.Rational(int(p), int(q))
    if type(x).__name__ == "fmpz":
        return sympy.Integer(int(x))
    return sympy.sympify(str(x), rational=True)


@lru_cache(maxsize=4096)
def _expr(P_f: Any, N: tuple, betas: tuple) -> tuple[Any, Any]:
    L = len(betas)
    syms = beta_symbols(L)
    numer = syms[L - 1] + sum((syms[l] - 1) * _num(N[l]) for l in range(L - 1))
    expr = sympy.expand(1 - numer / _num(P_f))
    value = expr.subs({s: _num(b) for s, b in zip(syms, betas, strict=True)})
    return expr, value


def beta_symbols(L: int) -> list[sympy.Symbol]:
    """``beta_0 ... beta_{L-1}`` as SymPy symbols."""
    return [sympy.Symbol(f"beta_{l}") for l in range(L)]


@dataclass(frozen=True)
class ClosedForm:
    """The closed-form threshold of one (category, feature) pair.

    ``expr`` is a SymPy expression in ``beta_0 ...``; ``value`` the exact value at the
    network's betas (a SymPy number, or an expression when the betas are symbols); both None
    when the feature has no path to the category (perturbing it cannot change c)."""

    P_f: Any
    N: tuple
    expr: Any
    value: Any

    @property
    def condition(self) -> str:
        """When the closed form holds."""
        return ("every neuron of the sub-DNN supporting the category is active (and below "
                "the cap) for r above the threshold")


def closed_form(sub: SubDNN, feature: Any, betas: list) -> ClosedForm:
    """The closed form for one feature of the category a :class:`SubDNN` supports.

    Parameters
    ----------
    sub : SubDNN
    feature : Any
        An input feature.
    betas : list
        The beta of every layer (the closed form holds for biases ``beta_l 1 - cW_l 1``).

    Raises
    ------
    SymdnnError
        When a layer has no beta (its bias was given explicitly): there is no closed form;
        :func:`symdnn.analysis.analyze` then gives the exact piecewise answer alone.

    Examples
    --------
    >>> from symdnn.constructions import selective
    >>> from symdnn.analysis.subdnn import support
    >>> c = selective(["abcd", "abce"], "pairs", ["4/5", 1])
    >>> cf = closed_form(support(c.net, "abcd"), "1a", [sympy.Rational(4, 5), 1])
    >>> cf.expr, cf.value
    (-2*beta_0 - beta_1 + 3, 2/5)
    """
    missing = [l for l, b in enumerate(betas) if b is None]
    if missing:
        raise SymdnnError(f"no closed form for feature {feature!r}: layer {missing[0]} has an "
                          "explicit bias, not a beta")
    L = len(betas)
    P_f = sub.paths.get((0, feature), 0)
    N = tuple(sub.paths_from(l + 1) for l in range(L - 1))
    if P_f == 0:
        return ClosedForm(0, N, None, None)
    expr, value = _expr(_num(P_f), tuple(_num(n) for n in N), tuple(_num(b) for b in betas))
    return ClosedForm(P_f, N, expr, value)
