"""What VNN-COMP's checker decides for a counterexample: the competition's float rules, by year.

:func:`vnncomp_replay` emulates the checker (``SCORING/counterexamples.py`` in the VNN-COMP
results repositories) in float64, as it computes, with its tolerances :data:`TOLERANCE` and
:data:`RTOL`. ``rules`` names the year whose checker it follows (:data:`RULES`):

``"2023"`` (ChristopherBrix/vnncomp2023_results)
    The tool's written outputs ``Y`` are compared with onnxruntime's (at ``X`` read as float64
    and cast to the network's input type): ``max|ort - Y| / max|Y| > RTOL`` is
    ``exec_doesnt_match`` (no relative check where ``max|Y| < 1e-6``; written outputs that
    numpy cannot subtract from onnxruntime's, none at all included, are
    ``exec_doesnt_match`` too). Then the property is judged **on the written outputs**, with the
    tolerance ``1e-4`` on the input box and on the property: ``correct`` or
    ``spec_not_violated``. This checker has no ``correct_up_to_tolerance``: what the tolerance
    lets through is ``correct``.
``"2025"`` (VNN-COMP/vnncomp2025_results, the 2024 checker with ``wrong_shape`` added)
    As 2023 (``IGNORE_CE_Y = False``: judged on the written outputs), and a witness accepted
    only with the tolerance, or whose written outputs differ at all from onnxruntime's, is
    ``correct_up_to_tolerance`` (accepted, not counted as proving the instance sat). An input
    of the wrong size is ``wrong_shape``.
``"2026"`` (VNN-COMP/vnncomp2026_results)
    The written outputs are ignored (``IGNORE_CE_Y = True``): the property is judged **on
    onnxruntime's outputs**, with no tolerance on the property. The input, cast to the
    network's input type, must lie in the box (``correct``) or within ``1e-4`` of it
    (``correct_up_to_tolerance``); otherwise ``spec_not_violated``. numpy 2 (pinned 2.2.6)
    compares that float32 input with each bound (``lb - tol``, ``ub + tol`` in float64) rounded
    to float32. Wrong sizes: ``wrong_shape``.

The 2022 checker (ChristopherBrix/vnncomp2022_results) differs from 2023 only in comparing the
outputs by an absolute ``max|ort - Y| < 1e-4``; 2021 checked no counterexample (conflicts were
settled by vote).
"""

from __future__ import annotations

from fractions import Fraction  # noqa: F401  (the examples use it)
from typing import Any

import numpy as np

from symdnn.errors import ArgumentError
from symdnn.io.vnnlib import And, Or, Property

__all__ = ["vnncomp_replay", "vnncomp_refused", "check_rules", "TOLERANCE", "RTOL", "RULES",
           "ACCEPTED"]

#: VNN-COMP's absolute tolerance on the input box and on the property
TOLERANCE = 1e-4
#: VNN-COMP's relative tolerance between the outputs a tool wrote and onnxruntime's
RTOL = 1e-3
#: the years whose rules :func:`vnncomp_replay` knows
RULES = ("2023", "2025", "2026")
#: the verdicts with which the competition accepts a witness
ACCEPTED = ("correct", "correct_up_to_tolerance")


def check_rules(rules: Any) -> str:
    """``rules`` as one of :data:`RULES`, or an :class:`~symdnn.errors.ArgumentError`.

    Examples
    --------
    >>> check_rules(2026)
    '2026'
    >>> check_rules("2024")
    Traceback (most recent call last):
    ...
    symdnn.errors.ArgumentError: rules='2024': give 2023, 2025 or 2026 (2024 is as 2025)
    """
    r = str(rules)
    if r not in RULES:
        raise ArgumentError(f"rules={r!r}: give {', '.join(RULES[:-1])} or {RULES[-1]} "
                            "(2024 is as 2025)")
    return r


def _is_input(atom: Any) -> bool:
    return all(v[0] == "X" for v in atom.variables)


def _holds_float(formula: Any, x: dict[str, float], tol: float,
                 out_tol: float | None = None, cast: Any = None) -> bool:
    """The competition's float64 check of one formula: a bound on one variable as
    ``x < lb - tol or x > ub + tol`` rejects, any other atom ``coef . v <= rhs + tol`` (as its
    ``prop_mat.dot(y) <= prop_rhs + tol``). ``out_tol`` (default ``tol``) is the tolerance of
    the atoms that name an output; ``cast`` rounds an input's ``lb - tol``, ``ub + tol`` before
    the comparison (2026: numpy 2 compares a float32 input with a Python float in float32)."""
    if isinstance(formula, list):
        return all(_holds_float(f, x, tol, out_tol, cast) for f in formula)
    if isinstance(formula, And):
        return all(_holds_float(p, x, tol, out_tol, cast) for p in formula.parts)
    if isinstance(formula, Or):
        return any(_holds_float(p, x, tol, out_tol, cast) for p in formula.parts)
    t = tol if out_tol is None or _is_input(formula) else out_tol
    e = formula.expr
    if len(e.coefs) == 1 and abs(e.coefs[0][1]) == 1:
        (v, c), = e.coefs
        bound = float(-e.const / c)
        rnd = cast if cast is not None and v[0] == "X" else float
        return not (x[v] > rnd(bound + t)) if c > 0 else not (x[v] < rnd(bound - t))
    coef = np.array([float(c) for _, c in e.coefs])
    vals = np.array([x[v] for v, _ in e.coefs])
    return bool(coef.dot(vals) <= float(-e.const) + t)


def _rel_error(y_ort: np.ndarray, y_file: list) -> float | None:
    """The checker's ``max|ort - Y| / max|Y|`` (0 where ``max|Y| < 1e-6``), or None where
    numpy cannot subtract them (the checker's ``ValueError``, which it makes 9999)."""
    yf = np.array([float(v) for v in y_file])
    try:
        diff = float(np.linalg.norm(y_ort - yf, ord=np.inf))
        norm = float(np.linalg.norm(yf, ord=np.inf))
    except ValueError:
        return None
    return 0.0 if norm < 1e-6 else diff / norm


def vnncomp_replay(prop: Property, x_written: list[Fraction], y_ort: np.ndarray | None,
                   y_file: list[Fraction] | None = None, *, tol: float = TOLERANCE,
                   rtol: float = RTOL, rules: str = "2025",
                   input_dtype: Any = np.float32) -> str | None:
    """What VNN-COMP's float replay decides for a counterexample, by the rules of a year.

    Parameters
    ----------
    prop : Property
        The VNN-LIB property.
    x_written : list of Fraction
        The input as the file writes it (the checker reads each decimal as a float64).
    y_ort : array or None
        onnxruntime's outputs at that input cast to ``input_dtype``, flat; None when there
        are none (onnxruntime missing or refusing the model): the verdict is None.
    y_file : list of Fraction, optional
        The outputs the tool wrote. Through 2025 they decide the property, and a file that
        gives none is ``exec_doesnt_match``; but None here (the caller gives no file's
        outputs) judges the property on ``y_ort``, as 2026 does. 2026 ignores them.
    tol, rtol : float
        The absolute tolerance (input box, and property through 2025) and the relative one
        between written and replayed outputs.
    rules : {"2023", "2025", "2026"}
        Whose checker to follow (see the module docstring).
    input_dtype : numpy dtype
        The network's input type: 2026 checks the box on the input cast to it.

    Returns
    -------
    str or None
        ``"correct"``, ``"correct_up_to_tolerance"`` (not in 2023), ``"exec_doesnt_match"``
        (not in 2026), ``"spec_not_violated"``, or None.

    Raises
    ------
    ArgumentError
        For a ``rules`` year not in :data:`RULES`.

    Examples
    --------
    >>> from symdnn.io.vnnlib import parse_vnnlib
    >>> p = parse_vnnlib("(declare-const X_0 Real) (declare-const Y_0 Real) "
    ...                  "(assert (<= X_0 1)) (assert (<= Y_0 0))")
    >>> vnncomp_replay(p, [Fraction(1, 2)], [0.0]), vnncomp_replay(p, [Fraction(1, 2)], [5e-5])
    ('correct', 'correct_up_to_tolerance')
    >>> vnncomp_replay(p, [Fraction("1.00009")], [0.0])   # outside the box by 9e-5
    'correct_up_to_tolerance'

    The tool wrote ``Y_0 = 5e-5``, onnxruntime computes ``-1``: through 2025 the written
    output decides (and differs from onnxruntime's), in 2026 onnxruntime's:

    >>> [vnncomp_replay(p, [Fraction(1, 2)], [-1.0], [Fraction("5e-5")], rules=r,
    ...                 rtol=1e9) for r in RULES]
    ['correct', 'correct_up_to_tolerance', 'correct']
    >>> [vnncomp_replay(p, [Fraction(1, 2)], [-1.0], [], rules=r) for r in RULES]
    ['exec_doesnt_match', 'exec_doesnt_match', 'correct']
    """
    rules = check_rules(rules)
    if y_ort is None:
        return None
    y = np.asarray(y_ort, dtype=np.float64).reshape(-1)
    x64 = [float(v) for v in x_written]
    if rules == "2026":
        # the input cast to the network's type; numpy 2 (the checker pins 2.2.6) compares it
        # with each Python-float bound in that type: the bound is rounded to it first
        dt = np.dtype(input_dtype)
        xs = [float(v) for v in np.asarray(x64, dtype=np.float64).astype(dt)]

        def cast(b: float) -> float:
            return float(dt.type(b))

        env = {f"X_{i}": v for i, v in enumerate(xs)}
        env.update({f"Y_{i}": float(v) for i, v in enumerate(y)})
        if _holds_float(prop.assertions, env, 0.0, cast=cast):
            return "correct"
        if _holds_float(prop.assertions, env, tol, 0.0, cast=cast):
            return "correct_up_to_tolerance"
        return "spec_not_violated"
    used = y
    rel = 0.0
    if y_file is not None:
        r = _rel_error(y, y_file) if len(y_file) else None
        if r is None or r > rtol:
            return "exec_doesnt_match"
        rel = r
        used = np.array([float(v) for v in y_file])
    env = {f"X_{i}": v for i, v in enumerate(x64)}
    env.update({f"Y_{i}": float(v) for i, v in enumerate(used)})
    if not _holds_float(prop.assertions, env, tol):
        return "spec_not_violated"
    if rules == "2023":
        return "correct"
    if rel > 0 or not _holds_float(prop.assertions, env, 0.0):
        return "correct_up_to_tolerance"
    return "correct"


def vnncomp_refused(n_x: int, n_in: int, n_y: int, n_out: int | None, *,
                    rules: str = "2025") -> str | None:
    """The competition's verdict on a file whose sizes do not fit the network, decided
    before any replay: ``n_x`` inputs written for ``n_in``, ``n_y`` outputs for ``n_out``.

    ``"wrong_shape"`` for inputs of the wrong size (2025, 2026; the 2023 checker stopped with
    an error: None); written outputs that numpy cannot subtract from onnxruntime's are
    ``"exec_doesnt_match"`` through 2025 (2026 ignores them: None, the file is replayed);
    None otherwise.

    Examples
    --------
    >>> vnncomp_refused(300, 30, 20, 2), vnncomp_refused(300, 30, 20, 2, rules="2023")
    ('wrong_shape', None)
    >>> vnncomp_refused(5, 5, 4, 5), vnncomp_refused(5, 5, 4, 5, rules="2026")
    ('exec_doesnt_match', None)
    """
    rules = check_rules(rules)
    if n_x != n_in:
        return None if rules == "2023" else "wrong_shape"
    if rules != "2026" and n_out is not None and n_y != n_out and 1 not in (n_y, n_out):
        return "exec_doesnt_match"
    return None
