"""Checking the semiring laws of the paper's Appendix A on a semiring over a domain.

In an exact domain every law must hold, and :func:`check_laws` finding a counterexample means a
bug. In a float format some laws fail (float addition is not associative), and
:func:`check_laws` returns the concrete counterexamples instead of failing.

One identity printed in Appendix A, ``A (x) (B (x) C) = (A (x) B) (x) (A (x) C)``, is not a law of
semirings: it holds when multiplication is idempotent (``max_min``, ``or_and``) and fails for
``plus_times`` (``2 * (3 * 5) = 30`` but ``(2 * 3) * (2 * 5) = 60``). It is available as the law
``"mul_self_distributive"``, outside the default set, so that claim can be checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symdnn import semirings as _sr
from symdnn.domains import Domain, FloatDomain, get_domain
from symdnn.errors import DomainMismatch
from symdnn.semirings import Semiring

__all__ = ["LAWS", "LawViolation", "LawReport", "check_laws"]


@dataclass(frozen=True)
class LawViolation:
    """One instance where a law fails: ``lhs != rhs`` for these operands."""

    law: str
    operands: tuple
    lhs: Any
    rhs: Any


@dataclass
class LawReport:
    """What :func:`check_laws` checked and found."""

    semiring: str
    domain: str
    checked: dict[str, int] = field(default_factory=dict)
    counterexamples: list[LawViolation] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """True when no counterexample was found."""
        return not self.counterexamples

    def failing(self) -> list[str]:
        """Names of the laws with at least one counterexample."""
        return sorted({c.law for c in self.counterexamples})

    def __str__(self) -> str:
        head = f"{self.semiring} over {self.domain}: "
        if self.holds:
            return head + f"all {len(self.checked)} laws hold on the samples"
        lines = [head + "counterexamples to " + ", ".join(self.failing())]
        seen = set()
        for c in self.counterexamples:
            if c.law not in seen:
                seen.add(c.law)
                lines.append(f"  {c.law}: operands {c.operands}: {c.lhs!r} != {c.rhs!r}")
        return "\n".join(lines)


# Each law: (arity, lhs, rhs) with lhs/rhs functions of (add, mul, zero, one, *operands),
# where add/mul act on whole vectors.
Law = tuple[int, Callable[..., Any], Callable[..., Any]]

LAWS: dict[str, Law] = {
    "add_commutative": (2, lambda ad, mu, z, o, a, b: ad(a, b),
                        lambda ad, mu, z, o, a, b: ad(b, a)),
    "mul_commutative": (2, lambda ad, mu, z, o, a, b: mu(a, b),
                        lambda ad, mu, z, o, a, b: mu(b, a)),
    "add_associative": (3, lambda ad, mu, z, o, a, b, c: ad(ad(a, b), c),
                        lambda ad, mu, z, o, a, b, c: ad(a, ad(b, c))),
    "mul_associative": (3, lambda ad, mu, z, o, a, b, c: mu(mu(a, b), c),
                        lambda ad, mu, z, o, a, b, c: mu(a, mu(b, c))),
    "left_distributive": (3, lambda ad, mu, z, o, a, b, c: mu(a, ad(b, c)),
                          lambda ad, mu, z, o, a, b, c: ad(mu(a, b), mu(a, c))),
    "right_distributive": (3, lambda ad, mu, z, o, a, b, c: mu(ad(b, c), a),
                           lambda ad, mu, z, o, a, b, c: ad(mu(b, a), mu(c, a))),
    "add_identity": (1, lambda ad, mu, z, o, a: ad(a, z), lambda ad, mu, z, o, a: a),
    "mul_identity": (1, lambda ad, mu, z, o, a: mu(a, o), lambda ad, mu, z, o, a: a),
    "annihilator": (1, lambda ad, mu, z, o, a: mu(a, z), lambda ad, mu, z, o, a: z),
}
DEFAULT_LAWS = tuple(LAWS)
LAWS["mul_self_distributive"] = (
    3, lambda ad, mu, z, o, a, b, c: mu(a, mu(b, c)),
    lambda ad, mu, z, o, a, b, c: mu(mu(a, b), mu(a, c)),
)


def check_laws(semiring: str | Semiring, domain: str | Domain, *, samples: int = 400,
               seed: int = 0, values: Sequence[Any] | None = None,
               laws: Sequence[str] = DEFAULT_LAWS) -> LawReport:
    """Check the semiring laws on random (or given) elements of a domain.

    Parameters
    ----------
    semiring, domain : str or object
        E.g. ``"max_plus"`` and ``"QQ"``.
    samples : int
        How many operand tuples to draw per law.
    seed : int
        Seed of the random draws (results are reproducible).
    values : sequence, optional
        Elements to draw operands from instead of the domain's own sampler.
    laws : sequence of str
        Names from :data:`LAWS` (default: every law of a semiring).

    Returns
    -------
    LawReport
        ``report.holds`` is True when no law failed; ``report.counterexamples`` lists the
        operands, left side and right side of each failure.

    Raises
    ------
    DomainMismatch
        If the semiring is not defined over the domain's kind of values.

    Examples
    --------
    >>> check_laws("max_plus", "QQ").holds
    True
    >>> report = check_laws("plus_times", "fp16")
    >>> "add_associative" in report.failing()
    True
    """
    sr = _sr.get(semiring)
    dom = get_domain(domain)
    if sr.kind != dom.kind:
        raise DomainMismatch(f"semiring {sr.name} is not defined over domain {dom.name}")
    rng = np.random.default_rng(seed)
    pool = list(values) if values is not None else dom.sample(rng, max(4 * samples, 64))
    vec = dom.from_list(pool)
    if sr.carrier is not None:
        vec = dom.take(vec, np.flatnonzero(~dom.outside(vec, sr.carrier)))
    n = dom.size(vec)
    report = LawReport(sr.name, dom.name)
    if n == 0:
        return report

    def add(x: Any, y: Any) -> Any:
        return dom.binop(sr.add.op, x, y)

    def mult(x: Any, y: Any) -> Any:
        return dom.binop(sr.mul.op, x, y)

    zero = dom.repeat(dom.const(sr.zero), samples)
    one = dom.repeat(dom.const(sr.one), samples)
    for name in laws:
        arity, lhs_f, rhs_f = LAWS[name]
        ops = [dom.take(vec, rng.integers(0, n, samples)) for _ in range(arity)]
        lhs = lhs_f(add, mult, zero, one, *ops)
        rhs = rhs_f(add, mult, zero, one, *ops)
        ok = dom.equal(lhs, rhs)
        if isinstance(dom, FloatDomain):  # NaN on both sides: the law holds (both undefined)
            with np.errstate(invalid="ignore"):
                ok |= np.isnan(lhs.astype(np.float64)) & np.isnan(rhs.astype(np.float64))
        report.checked[name] = samples
        lhs_l, rhs_l = dom.to_list(lhs), dom.to_list(rhs)
        op_l = [dom.to_list(o) for o in ops]
        for i in np.flatnonzero(~ok):
            report.counterexamples.append(LawViolation(
                name, tuple(o[i] for o in op_l), lhs_l[i], rhs_l[i]))
    return report
