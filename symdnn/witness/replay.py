"""One verifier counterexample replayed exactly against its VNN-LIB property.

VNN-COMP accepts a counterexample when onnxruntime, in float32, finds its input inside the
box and its outputs violating the property, both up to an absolute tolerance of ``1e-4``.
:func:`replay` decides the same questions exactly:

``input_in_box``
    the input as written (decimal rationals) satisfies every input constraint;
``input_in_box_float32``
    so does that input rounded to float32, once and correctly (what a float32
    implementation is fed; for a network whose input is float16 or float64, rounded to that
    type instead, and ``input_type`` says which);
``violates``
    the network computed exactly at the float32 input satisfies the output constraints
    (VNN-LIB asserts the *negation* of the safety property, so this is a genuine violation);
    an input variable in an output constraint takes the value as written (the point the
    counterexample claims), so ``(assert (and (<= X_0 1) (>= Y_0 2)))`` and the same atoms
    as two assertions decide alike;
``violates_as_written``
    the same at the input as written, the network as a function of real numbers;
``margin``
    the exact robustness of the output constraints at the float32 input: for an atom
    ``a <= b`` it is ``b - a``, for ``and`` the least of its parts, for ``or`` the greatest.
    It is ``>= 0`` exactly when the constraints hold: the slack of the tightest satisfied
    disjunct, or (negative) how far the nearest one is from holding;
``genuine``
    ``input_in_box and violates``;
``vnncomp_verdict``
    what the competition's replay decides (:func:`vnncomp_replay`).

An assertion that names inputs and outputs together belongs to the output side (its input
atoms are evaluated with the outputs); for ``input_in_box`` its output atoms count as true.

A network that is not rational (``Sigmoid``, ``Softmax``, an irrational
``BatchNormalization``, ...; ``graph.rational`` is false) is evaluated in certified
enclosures (:mod:`symdnn.io.onnx_ball`) at :data:`START_PRECISION` bits, doubled up to
:data:`MAX_PRECISION` (within :data:`TIME_BUDGET` seconds) until the signs of ``margin`` and
``margin_as_written`` are decided: ``decided_by`` is then ``"enclosure"`` and ``precision``
the bits used. A margin whose enclosure still contains 0 (an exact 0 always does) is never
guessed: ``undecided`` is true, ``undecided_reason`` names the margin and the precision,
and the booleans that depend on it (``violates``, ``genuine``) are None.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from symdnn._optional import require
from symdnn.domains.floats import round_rationals
from symdnn.errors import (
    ArgumentError,
    ArgumentTypeError,
    DomainError,
    SymdnnError,
    UndecidedError,
    ValueDependentError,
)
from symdnn.io.onnx_ball import endpoints
from symdnn.io.onnx_graph import ExactGraph
from symdnn.io.onnx_tensor import Exact, exact_tensor
from symdnn.io.onnxwire import to_onnx_proto, type_name
from symdnn.io.vnnlib import And, Atom, Counterexample, Or, Property
from symdnn.witness.rules import RTOL, TOLERANCE, vnncomp_replay

__all__ = ["Witness", "replay", "robustness", "robustness_bounds", "vnncomp_replay",
           "onnxruntime_outputs", "TOLERANCE", "RTOL", "START_PRECISION", "MAX_PRECISION",
           "TIME_BUDGET"]

_INF = math.inf
#: the first precision (bits) of the enclosures of a network that is not rational
START_PRECISION = 64
#: the most bits the precision is doubled to
MAX_PRECISION = 4096
#: seconds of enclosure evaluations after which the precision is not raised again
TIME_BUDGET = 60.0


# ------------------------------------------------------------------------ robustness
def robustness(formula: Any, env: dict[str, Fraction], keep: Any = None) -> Fraction | float:
    """The exact robustness of a formula at ``env``: ``>= 0`` exactly when it holds.

    An atom ``expr <= 0`` gives ``-expr``; ``and`` the least of its parts, ``or`` the
    greatest, a list (a conjunction of assertions) the least, and an empty one ``inf``.
    ``keep(atom)`` false makes an atom count as true (``inf``).

    Examples
    --------
    >>> from symdnn.io.vnnlib import parse_vnnlib
    >>> p = parse_vnnlib('''(declare-const X_0 Real) (declare-const Y_0 Real)
    ...     (declare-const Y_1 Real)
    ...     (assert (or (and (<= Y_0 1) (>= Y_1 2)) (<= Y_0 -5)))''')
    >>> robustness(p.assertions, {"Y_0": Fraction(1, 2), "Y_1": Fraction(9, 4)})
    Fraction(1, 4)
    >>> robustness(p.assertions, {"Y_0": 3, "Y_1": 7})
    Fraction(-2, 1)
    """
    if isinstance(formula, list):
        parts = [robustness(f, env, keep) for f in formula]
        return min(parts, default=_INF)
    if isinstance(formula, Atom):
        if keep is not None and not keep(formula):
            return _INF
        return -formula.expr.value(env)
    if isinstance(formula, And):
        return min((robustness(p, env, keep) for p in formula.parts), default=_INF)
    if isinstance(formula, Or):
        return max((robustness(p, env, keep) for p in formula.parts), default=-_INF)
    raise ArgumentTypeError(f"not a formula: {formula!r}")  # pragma: no cover


def robustness_bounds(formula: Any, env: dict[str, tuple], keep: Any = None) -> tuple:
    """An enclosure ``(lo, hi)`` of the robustness of a formula when each variable lies in an
    interval ``env[v] = (lo, hi)``: exact, since an atom is linear (each coefficient takes the
    end of its variable's interval that bounds the sum), ``and`` the least and ``or`` the
    greatest of the parts' bounds.

    Examples
    --------
    >>> from symdnn.io.vnnlib import parse_vnnlib
    >>> p = parse_vnnlib('''(declare-const X_0 Real) (declare-const Y_0 Real)
    ...     (declare-const Y_1 Real) (assert (<= Y_0 Y_1))''')
    >>> robustness_bounds(p.assertions, {"Y_0": (Fraction(1), Fraction(2)),
    ...                                  "Y_1": (Fraction(3), Fraction(4))})
    (Fraction(1, 1), Fraction(3, 1))
    """
    if isinstance(formula, list):
        parts = [robustness_bounds(f, env, keep) for f in formula]
        return (min((a for a, _ in parts), default=_INF),
                min((b for _, b in parts), default=_INF))
    if isinstance(formula, Atom):
        if keep is not None and not keep(formula):
            return _INF, _INF
        e = formula.expr  # robustness -(sum c v + const)
        lo = hi = -e.const
        for v, c in e.coefs:
            a, b = env[v]
            lo -= c * (b if c > 0 else a)
            hi -= c * (a if c > 0 else b)
        return lo, hi
    if isinstance(formula, (And, Or)):
        parts = [robustness_bounds(p, env, keep) for p in formula.parts]
        f, empty = (min, _INF) if isinstance(formula, And) else (max, -_INF)
        return (f((a for a, _ in parts), default=empty), f((b for _, b in parts), default=empty))
    raise ArgumentTypeError(f"not a formula: {formula!r}")  # pragma: no cover


# ------------------------------------------------------------------------ onnxruntime
def onnxruntime_outputs(graph: ExactGraph, x: np.ndarray) -> np.ndarray:
    """The first output of onnxruntime (CPU) at ``x`` (cast to the model's input type, as
    the competition's checker does), flat. The session is made once per graph, from the
    model written back by :func:`~symdnn.io.onnxwire.to_onnx_proto`.

    Raises
    ------
    MissingDependency
        When onnxruntime or onnx is not installed (naming the ``onnx`` extra).
    SymdnnError
        When onnxruntime refuses the model or fails to run it (its message is kept).

    Examples
    --------
    >>> from symdnn.witness import import_onnx
    >>> g = import_onnx(TEST_NANO)  # tests/data/vnncomp/benchmarks/test/test_nano.onnx
    >>> onnxruntime_outputs(g, np.array([0.25])).tolist()
    [0.125]
    """
    sess = getattr(graph, "_ort_session", None)
    if sess is None:
        ort = require("onnxruntime", "onnx", what="the VNN-COMP replay")
        model = to_onnx_proto(graph.model)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 4  # its errors come back as exceptions
        try:
            sess = ort.InferenceSession(model.SerializeToString(), opts,
                                        providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own errors have no common base class
            raise SymdnnError(f"onnxruntime refuses the model: {exc}") from None
        graph._ort_session = sess
    inp = sess.get_inputs()[0]
    dtype = {"tensor(double)": np.float64, "tensor(float16)": np.float16}.get(inp.type,
                                                                             np.float32)
    try:
        out = sess.run(None, {inp.name: x.astype(dtype).reshape(graph.input_shape)})
    except Exception as exc:
        raise SymdnnError(f"onnxruntime cannot run the model: {exc}") from None
    return np.asarray(out[0]).reshape(-1)


def _s(v: Any) -> Any:
    """An exact value as JSON: a rational string ``"p/q"`` (of any length: Python's limit on
    printing integers of more than 4300 digits is lifted for it), or null for none/inf."""
    if v is None or isinstance(v, float) and math.isinf(v):
        return None
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return str(v)
    finally:
        sys.set_int_max_str_digits(old)


@dataclass
class Witness:
    """The exact replay of one counterexample (see the module docstring for each key).

    For a network that is not rational, ``decided_by`` is ``"enclosure"``: ``margin``,
    ``margin_as_written``, ``outputs`` and ``outputs_as_written`` are then None and their
    certified enclosures are in the ``*_bounds`` fields (``(lo, hi)`` pairs); ``violates``
    and ``violates_as_written`` are None where their margin is undecided.
    """

    input_in_box: bool
    input_in_box_float32: bool
    violates: bool | None
    violates_as_written: bool | None
    margin: Fraction | float | None
    margin_as_written: Fraction | float | None
    input_margin: Fraction | float
    input_margin_float32: Fraction | float
    outputs: list[Fraction] | None
    outputs_as_written: list[Fraction] | None
    outputs_onnxruntime: list[float] | None
    vnncomp_verdict: str | None
    x_float32: list[float]
    checker_input_differs: bool
    onnxruntime_error: str | None = None
    input_type: str = "float32"
    labels: dict = field(default_factory=dict)
    decided_by: str = "exact"
    precision: int | None = None
    undecided_reason: str | None = None
    margin_bounds: tuple | None = None
    margin_as_written_bounds: tuple | None = None
    outputs_bounds: tuple | None = None
    outputs_as_written_bounds: tuple | None = None

    @property
    def undecided(self) -> bool:
        """Whether a decision of the verdict (``violates`` or ``violates_as_written``) is
        left undecided by the enclosures."""
        return self.violates is None or self.violates_as_written is None

    @property
    def genuine(self) -> bool | None:
        """In the box and violating; None where ``violates`` is undecided (an input outside
        the box decides it: False)."""
        if not self.input_in_box:
            return False
        return self.violates

    @property
    def accepted_by_tolerance(self) -> bool | None:
        """VNN-COMP accepts it, but it is not genuine (or the replay needed the tolerance);
        None where that depends on an undecided ``genuine``."""
        if self.vnncomp_verdict == "correct_up_to_tolerance":
            return True
        if self.vnncomp_verdict != "correct":
            return False
        return None if self.genuine is None else not self.genuine

    def _margin_text(self, bounds: tuple | None, exact: Any, sign: int = 1) -> str:
        if self.decided_by == "exact" or bounds is None:
            return _approx(sign * exact) if exact is not None else "unknown"
        lo, hi = (bounds[0], bounds[1]) if sign > 0 else (-bounds[1], -bounds[0])
        return f"{_approx((lo + hi) / 2)} ± {_approx((hi - lo) / 2)}"

    def _how(self) -> str:
        return "exactly" if self.decided_by == "exact" else \
            f"decided by enclosure at {self.precision} bits"

    def reason(self) -> str:
        """Why it is, or is not, genuine, in words."""
        if self.genuine is None:
            return f"UNDECIDED: {self.undecided_reason}"
        extra = f"; UNDECIDED: {self.undecided_reason}" if self.undecided else ""
        if self.genuine:
            return f"genuine: in the box and violating, {self._how()}{extra}"
        why = []
        if not self.input_in_box:
            why.append(f"the input is outside the box by {_approx(-self.input_margin)}")
        if self.violates is False:
            why.append("the exact outputs miss the property by "
                       f"{self._margin_text(self.margin_bounds, self.margin, -1)}"
                       + ("" if self.decided_by == "exact" else f" ({self._how()})"))
        return "not genuine: " + "; ".join(why) + extra

    def to_json(self) -> dict:
        """The keys of ``symdnn witness --json``; exact numbers as rational strings.

        With ``decided_by: "enclosure"``, ``margin``, ``margin_as_written``, ``outputs`` and
        ``outputs_as_written`` are null and each has ``_lower`` and ``_upper`` keys (rational
        strings, or lists of them); ``margin_float`` and ``outputs_float`` are the midpoints.
        """
        enc = self.decided_by != "exact"
        mid_m = _mid(self.margin_bounds) if enc else self.margin
        j = {
            **self.labels,
            "genuine": self.genuine,
            "input_in_box": self.input_in_box,
            "input_in_box_float32": self.input_in_box_float32,
            "violates": self.violates,
            "violates_as_written": self.violates_as_written,
            "margin": _s(self.margin),
            "margin_float": _f(mid_m),
            "margin_as_written": _s(self.margin_as_written),
            "input_margin": _s(self.input_margin),
            "input_margin_float32": _s(self.input_margin_float32),
            "vnncomp_verdict": self.vnncomp_verdict,
            "accepted_by_tolerance": self.accepted_by_tolerance,
            "outputs": None if self.outputs is None else [_s(v) for v in self.outputs],
            "outputs_float": [_f(v) for v in (self.outputs or [])] if not enc else
            None if self.outputs_bounds is None else
            [_f(_mid(b)) for b in zip(*self.outputs_bounds, strict=True)],
            "outputs_as_written": None if self.outputs_as_written is None else
            [_s(v) for v in self.outputs_as_written],
            "outputs_onnxruntime": self.outputs_onnxruntime,
            "x_float32": self.x_float32,
            "input_type": self.input_type,
            "checker_input_differs": self.checker_input_differs,
            "onnxruntime_error": self.onnxruntime_error,
            "decided_by": self.decided_by,
            "precision": self.precision,
            "undecided": self.undecided,
            "undecided_reason": self.undecided_reason,
        }
        if enc:
            for key, b in (("margin", self.margin_bounds),
                           ("margin_as_written", self.margin_as_written_bounds)):
                j[f"{key}_lower"] = None if b is None else _s(b[0])
                j[f"{key}_upper"] = None if b is None else _s(b[1])
            for key, b in (("outputs", self.outputs_bounds),
                           ("outputs_as_written", self.outputs_as_written_bounds)):
                j[f"{key}_lower"] = None if b is None else [_s(v) for v in b[0]]
                j[f"{key}_upper"] = None if b is None else [_s(v) for v in b[1]]
        j["reason"] = self.reason()
        return j

    def to_markdown(self) -> str:
        """The verdict, the margins and the VNN-COMP replay, in Markdown."""
        j = self.to_json()
        keys = ["genuine", "input_in_box", "violates", "margin"]
        if self.decided_by != "exact":  # the ends, in a few digits (the JSON has them exactly)
            b = self.margin_bounds
            j["margin"] = "unknown" if b is None else f"[{_approx(b[0])}, {_approx(b[1])}]"
        keys += ["input_margin", "vnncomp_verdict", "accepted_by_tolerance", "decided_by"]
        if self.decided_by != "exact":
            keys.append("precision")
        if self.undecided:
            keys.append("undecided_reason")
        rows = [f"| {k} | {j[k]} |" for k in keys]
        return "\n".join(["# symdnn witness", "", self.summary(), "", "| | |", "|---|---|",
                          *rows, ""])

    def summary(self) -> str:
        """One line for a person."""
        name = " ".join(os.path.basename(str(self.labels[k])) for k in ("network", "property")
                        if self.labels.get(k))
        vc = self.vnncomp_verdict or ("not replayed (" + (self.onnxruntime_error or
                                                         "no onnxruntime") + ")")
        head = f"{name + ': ' if name else ''}"
        if self.genuine is None:
            return f"{head}{self.reason()}; VNN-COMP replay: {vc}"
        verdict = "GENUINE" if self.genuine else "NOT GENUINE"
        how = "" if self.decided_by == "exact" else f"; {self._how()}"
        tail = "" if self.genuine else f"; {self.reason()[len('not genuine: '):]}"
        if self.genuine and self.undecided:
            tail = f"; UNDECIDED: {self.undecided_reason}"
        return (f"{head}{verdict} (margin {self._margin_text(self.margin_bounds, self.margin)}"
                f", input margin {_approx(self.input_margin)}{how}); VNN-COMP replay: {vc}"
                + tail)


def _mid(b: tuple | None) -> Fraction | None:
    """The midpoint of an enclosure ``(lo, hi)``: a point inside it."""
    return None if b is None else (b[0] + b[1]) / 2


def _f(v: Any) -> float | None:
    """The nearest float64, or null when there is none (beyond its range, or infinite)."""
    if v is None or isinstance(v, float) and math.isinf(v):
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return None if math.isinf(f) else f


def _approx(v: Any) -> str:
    """A few digits for people; a power of two where float64 cannot show the value."""
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    f = _f(v)
    if f is None or f == 0:
        q = Fraction(v)
        e = abs(q.numerator).bit_length() - q.denominator.bit_length()
        return f"{'-' if q < 0 else ''}~2^{e}"
    return f"{f:.6g}"


def _where(path: str | None) -> str:
    """``"path: "`` for a message about a file, or nothing when there is no file."""
    return f"{path}: " if path else ""


def _is_input_atom(a: Atom) -> bool:
    return all(v[0] == "X" for v in a.variables)


def replay(graph: ExactGraph, prop: Property, ce: Counterexample, *,
           onnxruntime: bool = True, labels: dict | None = None,
           rules: str = "2025", max_precision: int = MAX_PRECISION,
           time_budget: float = TIME_BUDGET) -> Witness:
    """Replay one counterexample exactly (in certified enclosures for a network that is not
    rational: see the module docstring).

    Parameters
    ----------
    graph : ExactGraph
        The network (:func:`~symdnn.witness.import_onnx`); its first input and output.
    prop : Property
        The VNN-LIB property (:func:`~symdnn.io.vnnlib.read_vnnlib`).
    ce : Counterexample
        The verifier's counterexample (:func:`~symdnn.io.vnnlib.read_counterexample`).
    onnxruntime : bool
        Also replay it in onnxruntime float32 (``outputs_onnxruntime`` and
        ``vnncomp_verdict``; None when onnxruntime is not installed, or refuses the model,
        and then ``onnxruntime_error`` says why).
    labels : dict, optional
        Carried into the JSON (tool, category, network, property, files).
    rules : str
        Which year's competition rules ``vnncomp_verdict`` applies
        (:func:`symdnn.witness.rules.vnncomp_replay`).
    max_precision : int
        For a network that is not rational: the most bits the enclosures' precision is
        doubled to (from :data:`START_PRECISION`).
    time_budget : float
        For a network that is not rational: seconds after which the precision is not
        raised again.

    Returns
    -------
    Witness

    Raises
    ------
    ArgumentError
        When the counterexample, the property and the network do not agree in size (a
        counterexample need not give outputs, but those it gives are one per network output).
    DomainError
        When a counterexample's input overflows the network's input format.
    SymdnnError
        When the network's input is not a float tensor.

    Examples
    --------
    >>> from symdnn.io.vnnlib import parse_counterexample, parse_vnnlib
    >>> from symdnn.witness import import_onnx
    >>> g = import_onnx(TEST_NANO)  # tests/data/vnncomp/benchmarks/test/test_nano.onnx
    >>> p = parse_vnnlib('''(declare-const X_0 Real) (declare-const Y_0 Real)
    ...     (assert (>= X_0 -1)) (assert (<= X_0 1)) (assert (<= Y_0 0.05))''')
    >>> w = replay(g, p, parse_counterexample("((X_0 0.1))"), onnxruntime=False)
    >>> w.violates_as_written, w.margin_as_written   # 0.1 / 2 <= 0.05: on the boundary
    (True, Fraction(0, 1))
    >>> w.outputs, w.violates, w.margin               # but float32(0.1) / 2 is above it
    ([Fraction(13421773, 268435456)], False, Fraction(-1, 1342177280))
    """
    n_in = math.prod(graph.input_shape)
    x = list(ce.inputs)
    if len(x) != n_in:
        raise ArgumentError(f"{_where(ce.path)}the counterexample has {len(x)} inputs, the "
                            f"network takes {n_in}")
    if len(prop.inputs) != n_in:
        raise ArgumentError(f"{_where(prop.path)}the property declares {len(prop.inputs)} "
                            f"inputs, the network takes {n_in}")
    elem = graph.elem_of(graph.input_names[0])
    fmt = {1: ("fp32", "float32", np.float32), 10: ("fp16", "float16", np.float16),
           11: ("fp64", "float64", np.float64)}.get(elem)
    if fmt is None:
        raise SymdnnError(f"the network's input is {type_name(elem)}; a counterexample's "
                          "decimals are replayed into a float input only")
    t_written = exact_tensor(x)
    with np.errstate(over="ignore"):  # an overflow is found just below, and named
        x32 = np.asarray(round_rationals(t_written.num, t_written.den, fmt[0])).astype(fmt[2])
    if not np.isfinite(x32).all():
        i = int(np.flatnonzero(~np.isfinite(x32))[0])
        raise DomainError(f"{_where(ce.path)}X_{i} = {_approx(x[i])} overflows {fmt[1]}: a "
                          f"{fmt[1]} network cannot be fed it, so it is not replayed")
    feed32, feedw = exact_tensor(x32), Exact(t_written.num, t_written.den)
    output_side = [a for a in prop.assertions if any(v[0] == "Y" for v in a.variables)]
    x32f = [Fraction(float(v)) for v in x32]
    if graph.rational:
        y32 = graph(feed32).flat()
        yw = graph(feedw).flat()
        n_out = len(y32)
    else:
        enc = _enclose(graph, output_side, x, {"margin": feed32, "margin_as_written": feedw},
                       max_precision, time_budget)
        n_out = enc.n_out
    if n_out is not None and len(prop.outputs) != n_out:
        raise ArgumentError(f"{_where(prop.path)}the property declares {len(prop.outputs)} "
                            f"outputs, the network has {n_out}")
    if n_out is not None and ce.outputs and len(ce.outputs) != n_out:  # optional, not wrong
        raise ArgumentError(f"{_where(ce.path)}the counterexample gives {len(ce.outputs)} "
                            f"outputs, the network has {n_out}")

    def env(xs: list, ys: list) -> dict:
        e = {f"X_{i}": v for i, v in enumerate(xs)}
        e.update({f"Y_{i}": v for i, v in enumerate(ys)})
        return e

    # the counterexample's point is X as written; the outputs are the network's at the float32
    # input (what a float32 implementation computes from it), or at X itself. The input margins
    # read only X (an output atom counts as true), so they are exact for every network.
    in_m = robustness(prop.assertions, env(x, []), keep=_is_input_atom)
    in_m32 = robustness(prop.assertions, env(x32f, []), keep=_is_input_atom)
    x_checker = np.array([float(v) for v in x], dtype=np.float64)
    y_ort, ort_error = None, None
    if onnxruntime:
        try:
            y_ort = onnxruntime_outputs(graph, x_checker)
        except SymdnnError as exc:
            ort_error = str(exc)
    verdict = vnncomp_replay(prop, x, y_ort, ce.outputs, rules=rules)
    common = dict(
        input_in_box=in_m >= 0, input_in_box_float32=in_m32 >= 0,
        input_margin=in_m, input_margin_float32=in_m32,
        outputs_onnxruntime=None if y_ort is None else [float(v) for v in y_ort],
        vnncomp_verdict=verdict, x_float32=[float(v) for v in x32],
        checker_input_differs=bool((x_checker.astype(fmt[2]) != x32).any()),
        onnxruntime_error=ort_error, input_type=fmt[1], labels=dict(labels or {}))
    if graph.rational:
        m32 = robustness(output_side, env(x, y32))
        mw = robustness(output_side, env(x, yw))
        return Witness(violates=m32 >= 0, violates_as_written=mw >= 0, margin=m32,
                       margin_as_written=mw, outputs=y32, outputs_as_written=yw, **common)
    m, mw = enc.margins["margin"], enc.margins["margin_as_written"]
    return Witness(
        violates=_sign(m), violates_as_written=_sign(mw), margin=None, margin_as_written=None,
        outputs=None, outputs_as_written=None, decided_by="enclosure",
        precision=enc.precision, undecided_reason=enc.reason, margin_bounds=m,
        margin_as_written_bounds=mw, outputs_bounds=enc.outputs["margin"],
        outputs_as_written_bounds=enc.outputs["margin_as_written"], **common)


def _sign(b: tuple | None) -> bool | None:
    """Whether the margin is ``>= 0``, where its enclosure decides it (else None)."""
    if b is None:
        return None
    if b[0] >= 0:
        return True
    if b[1] < 0:
        return False
    return None


_WHAT = {"margin": "margin (at the float32 input)",
         "margin_as_written": "margin_as_written (at the input as written)"}


@dataclass
class _Enclosed:
    n_out: int | None = None
    precision: int = 0
    margins: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    reason: str | None = None


def _enclose(graph: ExactGraph, output_side: list, x: list, feeds: dict,
             max_precision: int, time_budget: float) -> _Enclosed:
    """Each margin's enclosure at the float32 input and as written, the precision doubled
    from :data:`START_PRECISION` until both signs are decided, ``max_precision`` is reached
    or ``time_budget`` seconds are spent (a margin decided early is not evaluated again)."""
    res = _Enclosed()
    todo = dict(feeds)
    why: dict[str, str] = {}
    p, start = START_PRECISION, time.monotonic()
    limit = ""
    while not limit:
        for key in list(todo):
            try:
                lo, hi = endpoints(graph(todo[key], prec=p))
            except UndecidedError as exc:
                why[key] = f"{exc} (at {p} bits)"
                res.margins.setdefault(key, None)
                res.outputs.setdefault(key, None)
                continue
            except ValueDependentError as exc:  # too large at this precision: keep the last
                if p == START_PRECISION:  # no precision holds it: undecided, with why
                    why[key] = f"{exc} (at {p} bits)"
                    res.margins.setdefault(key, None)
                    res.outputs.setdefault(key, None)
                    res.precision = p
                    limit = "no enclosure at any precision"
                    continue
                limit = f"not raised past {p // 2} bits ({exc})"
                break
            ylo, yhi = lo.flat(), hi.flat()
            res.n_out = len(ylo)
            e = {f"X_{i}": (v, v) for i, v in enumerate(x)}
            e.update({f"Y_{i}": (a, b) for i, (a, b) in enumerate(zip(ylo, yhi, strict=True))})
            if res.n_out < max((int(v[2:]) + 1 for a in output_side for v in a.variables
                                if v[0] == "Y"), default=0):
                return res  # the caller refuses the sizes
            m = robustness_bounds(output_side, e)
            res.margins[key], res.outputs[key] = m, (ylo, yhi)
            if _sign(m) is not None:
                del todo[key]
                why.pop(key, None)
            else:
                why[key] = (f"the enclosure of {_WHAT[key]} is [{_approx(m[0])}, "
                            f"{_approx(m[1])}] at {p} bits, which contains 0")
        if limit:
            break
        res.precision = p
        if not todo:
            return res
        spent = time.monotonic() - start
        if p * 2 > max_precision:
            limit = f"the most tried (max_precision={max_precision})"
        elif spent > time_budget:
            limit = f"not raised further: {spent:.1f} s spent (time_budget={time_budget})"
        p *= 2
    res.reason = "; ".join(f"{why[k]}: {limit}" for k in feeds if k in why)
    return res
