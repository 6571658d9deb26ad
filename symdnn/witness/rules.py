"""What VNN-COMP's checker decides for a counterexample: the competition's float rules.

:func:`vnncomp_replay` emulates the checker (``counterexamples.py`` in the VNN-COMP results
repositories) in float64, as it does, with its tolerances :data:`TOLERANCE` and
:data:`RTOL`. ``rules`` names the year whose checker it follows.
"""

from __future__ import annotations

from fractions import Fraction  # noqa: F401  (the examples use it)
from typing import Any

import numpy as np

from symdnn.io.vnnlib import And, Or, Property

__all__ = ["vnncomp_replay", "TOLERANCE", "RTOL", "RULES"]

#: VNN-COMP's absolute tolerance on the input box and on the property
TOLERANCE = 1e-4
#: VNN-COMP's relative tolerance between the outputs a tool wrote and onnxruntime's
RTOL = 1e-3
#: the years whose rules :func:`vnncomp_replay` knows
RULES = ("2023", "2025", "2026")


def _holds_float(formula: Any, x: dict[str, float], tol: float) -> bool:
    """The competition's float64 check of one formula, with tolerance ``tol``: a bound on
    one variable as ``x < lb - tol or x > ub + tol`` rejects, any other atom
    ``coef . v <= rhs + tol`` (as its ``prop_mat.dot(y) <= prop_rhs + tol``)."""
    if isinstance(formula, list):
        return all(_holds_float(f, x, tol) for f in formula)
    if isinstance(formula, And):
        return all(_holds_float(p, x, tol) for p in formula.parts)
    if isinstance(formula, Or):
        return any(_holds_float(p, x, tol) for p in formula.parts)
    e = formula.expr
    if len(e.coefs) == 1 and abs(e.coefs[0][1]) == 1:
        (v, c), = e.coefs
        bound = float(-e.const / c)
        return not (x[v] > bound + tol) if c > 0 else not (x[v] < bound - tol)
    coef = np.array([float(c) for _, c in e.coefs])
    vals = np.array([x[v] for v, _ in e.coefs])
    return bool(coef.dot(vals) <= float(-e.const) + tol)


def vnncomp_replay(prop: Property, x_written: list[Fraction], y_ort: np.ndarray | None,
                   y_file: list[Fraction] | None = None, *, tol: float = TOLERANCE,
                   rtol: float = RTOL, rules: str = "2025") -> str | None:
    """What VNN-COMP's float replay decides for a counterexample.

    The input is read as float64 (``float`` of the decimal); onnxruntime's float32 outputs
    ``y_ort`` (at that input cast to float32) decide the property. Returns

    * ``"exec_doesnt_match"``: the tool wrote outputs, and they differ from onnxruntime's by
      more than ``rtol`` relative to their largest magnitude;
    * ``"correct"``: inside the box and violating with no tolerance;
    * ``"correct_up_to_tolerance"``: only with the tolerance ``tol`` on the box and on the
      property;
    * ``"spec_not_violated"``: not even with it;
    * ``None``: no onnxruntime outputs to replay with.

    Examples
    --------
    >>> from symdnn.io.vnnlib import parse_vnnlib
    >>> p = parse_vnnlib("(declare-const X_0 Real) (declare-const Y_0 Real) "
    ...                  "(assert (<= X_0 1)) (assert (<= Y_0 0))")
    >>> vnncomp_replay(p, [Fraction(1, 2)], [0.0]), vnncomp_replay(p, [Fraction(1, 2)], [5e-5])
    ('correct', 'correct_up_to_tolerance')
    >>> vnncomp_replay(p, [Fraction("1.00009")], [0.0])   # outside the box by 9e-5
    'correct_up_to_tolerance'
    """
    if y_ort is None:
        return None
    y = np.asarray(y_ort, dtype=np.float64)
    if y_file:
        yf = np.array([float(v) for v in y_file])
        if yf.shape == y.shape:
            diff = float(np.max(np.abs(y - yf))) if y.size else 0.0
            norm = float(np.max(np.abs(yf))) if y.size else 0.0
            rel = 0.0 if norm < 1e-6 else diff / norm
            if rel > rtol:
                return "exec_doesnt_match"
        else:
            return "exec_doesnt_match"
    env = {f"X_{i}": float(v) for i, v in enumerate(x_written)}
    env.update({f"Y_{i}": float(v) for i, v in enumerate(y)})
    if _holds_float(prop.assertions, env, 0.0):
        return "correct"
    if _holds_float(prop.assertions, env, tol):
        return "correct_up_to_tolerance"
    return "spec_not_violated"
