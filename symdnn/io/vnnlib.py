"""VNN-LIB properties and VNN-COMP counterexamples, read exactly.

A VNN-LIB property (the subset VNN-COMP uses) declares its inputs ``X_0 .. X_{n-1}`` and
outputs ``Y_0 .. Y_{m-1}`` as ``Real`` and asserts formulas built from ``<=`` and ``>=`` over
linear terms (numbers, variables, ``+``, ``-``, and ``*`` by a constant), ``and`` and ``or``;
``;`` starts a comment. Every number, decimal or scientific, is read as the exact rational it
writes. A counterexample, as VNN-COMP tools write it, is ``((X_0 v) ... (Y_0 v) ...)``,
optionally after a line ``sat``, optionally gzipped.

Both readers are pure Python (no C parser sees an untrusted file), iterative (a deeply
nested file cannot exhaust the stack: nesting is limited to :data:`MAX_DEPTH`), bounded (a
number is read by :func:`symdnn.io.text.exact_number`, with its limits on exponent and digits;
a constant made by products may hold at most :data:`MAX_BITS` bits, so that
``(* 1e10000 1e10000 ... X_0)`` cannot ask for megabytes of digits, and all the numbers of a
file at most :data:`MAX_TOTAL_BITS`; a variable's index is at most :data:`MAX_INDEX`), and
strict: anything else is a :class:`~symdnn.errors.ParseError` naming the file and the line.

Examples
--------
>>> p = parse_vnnlib('''
... (declare-const X_0 Real)
... (declare-const Y_0 Real)
... (assert (>= X_0 -1))
... (assert (<= X_0 1e-1))
... (assert (<= Y_0 (- 0.5 1)))
... ''')
>>> p.inputs, p.outputs, p.input_box()
(['X_0'], ['Y_0'], [(Fraction(-1, 1), Fraction(1, 10))])
>>> env = {"X_0": Fraction(1, 10), "Y_0": Fraction(-1)}
>>> p.holds(env), p.holds_inputs(env), p.holds_outputs(env)
(True, True, True)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from symdnn.errors import ArgumentError, ParseError
from symdnn.io.onnx_tensor import MAX_ELEMENTS
from symdnn.io.text import check_utf8, exact_number, read_bytes

__all__ = ["Linear", "Atom", "And", "Or", "Property", "Counterexample", "parse_vnnlib",
           "read_vnnlib", "parse_counterexample", "read_counterexample", "MAX_DEPTH",
           "MAX_BITS", "MAX_TOTAL_BITS", "MAX_INDEX", "MAX_VALUES"]

#: the deepest nesting of parentheses a file may have
MAX_DEPTH = 64
#: the most bits the numerator or the denominator of a constant or coefficient may have (as
#: the exact ONNX graph's tensors): every number the reader takes (at most 4000 digits and an
#: exponent of 10000, about 46 500 bits) fits; a product of huge constants does not
MAX_BITS = 1 << 16
#: the most bits all the numbers of one file may hold together (its literals and the
#: constants its products make): 2**27 bits is 16 MB of numbers, some thousand times what the
#: largest VNN-COMP property needs, and a few seconds of work
MAX_TOTAL_BITS = 1 << 27
#: the largest index of a variable ``X_i`` or ``Y_i`` (no network input or output has more
#: elements than a tensor may hold)
MAX_INDEX = MAX_ELEMENTS - 1
#: the largest file (after gunzipping) either reader takes
MAX_BYTES = 256 << 20
#: the most values (inputs and outputs together) a counterexample file may assign: ten times
#: the inputs of VNN-COMP's largest image networks (3 x 224 x 224), so a batch of ten fits
MAX_VALUES = 1 << 21

_NAME = re.compile(r"([XY])_(0|[1-9][0-9]*)\Z")
_TOKEN = re.compile(r"\s*(?:(;[^\n]*)|(\()|(\))|([^\s();]+))")
_IGNORED = {"check-sat", "get-model", "set-logic", "set-info", "set-option", "exit"}


# ------------------------------------------------------------------------- the formulas
@dataclass(frozen=True)
class Linear:
    """``sum(c * v for v, c in coefs) + const``, exact."""

    coefs: tuple[tuple[str, Fraction], ...]
    const: Fraction

    def value(self, env: dict[str, Fraction]) -> Fraction:
        return sum((c * env[v] for v, c in self.coefs), self.const)

    @property
    def variables(self) -> set[str]:
        return {v for v, _ in self.coefs}


@dataclass(frozen=True)
class Atom:
    """``expr <= 0`` (from ``(<= a b)`` as ``a - b``, or ``(>= a b)`` as ``b - a``), with
    the line it was written on and its text."""

    expr: Linear
    line: int
    text: str

    def holds(self, env: dict[str, Fraction]) -> bool:
        return self.expr.value(env) <= 0

    def slack(self, env: dict[str, Fraction]) -> Fraction:
        """How far inside (positive) or outside (negative) the atom ``env`` is."""
        return -self.expr.value(env)

    @property
    def variables(self) -> set[str]:
        return self.expr.variables


@dataclass(frozen=True)
class _Connective:
    parts: tuple
    line: int

    @property
    def variables(self) -> set[str]:
        return set().union(*(p.variables for p in self.parts))


class And(_Connective):
    """Every part holds."""

    def holds(self, env: dict[str, Fraction]) -> bool:
        return all(p.holds(env) for p in self.parts)


class Or(_Connective):
    """Some part holds."""

    def holds(self, env: dict[str, Fraction]) -> bool:
        return any(p.holds(env) for p in self.parts)


@dataclass
class Property:
    """A VNN-LIB property: the declared inputs and outputs (in index order) and the asserted
    formulas (their conjunction must hold for a counterexample)."""

    inputs: list[str]
    outputs: list[str]
    assertions: list
    path: str | None = None

    def _part(self, which: str) -> list:
        out = []
        for a in self.assertions:
            names = {v[0] for v in a.variables}
            if which == "X" and names <= {"X"} or which == "Y" and names == {"Y"}:
                out.append(a)
        return out

    @property
    def input_assertions(self) -> list:
        """The assertions over inputs alone (the input constraints)."""
        return self._part("X")

    @property
    def output_assertions(self) -> list:
        """The assertions over outputs alone (the output constraints)."""
        return self._part("Y")

    @property
    def mixed_assertions(self) -> list:
        """Assertions that name inputs and outputs together (allowed, rarely used)."""
        return [a for a in self.assertions if {v[0] for v in a.variables} == {"X", "Y"}]

    def holds(self, env: dict[str, Fraction]) -> bool:
        """Every assertion holds at ``env`` (exact values for every variable)."""
        return all(a.holds(env) for a in self.assertions)

    def holds_inputs(self, env: dict[str, Fraction]) -> bool:
        return all(a.holds(env) for a in self.input_assertions)

    def holds_outputs(self, env: dict[str, Fraction]) -> bool:
        return all(a.holds(env) for a in self.output_assertions)

    def input_box(self) -> list[tuple[Fraction | None, Fraction | None]] | None:
        """``[(lo, hi)]`` per input when the input constraints are a conjunction of bounds on
        single inputs (the usual box), else None (also when an assertion mixes inputs and
        outputs, as in ``(or (and (>= X_0 -1) (<= X_0 1) (>= Y_0 100)))``)."""
        if self.mixed_assertions:
            return None
        lo: dict = {}
        hi: dict = {}
        for a in self.input_assertions:
            if not isinstance(a, Atom) or len(a.expr.coefs) != 1:
                return None
            (v, c), = a.expr.coefs
            bound = -a.expr.const / c  # c v + const <= 0
            if c > 0:
                hi[v] = min(hi.get(v, bound), bound)
            else:
                lo[v] = max(lo.get(v, bound), bound)
        return [(lo.get(x), hi.get(x)) for x in self.inputs]


# ---------------------------------------------------------------------- s-expressions
def _tokens(text: str, path: str | None) -> Iterator[tuple[str, int]]:
    line, pos, n = 1, 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                return
            raise ParseError(f"cannot read {text[pos:pos + 20]!r}", path=path, line=line)
        line += text.count("\n", pos, m.start(m.lastindex))
        pos = m.end()
        if m.group(1) is not None:
            continue
        tok = m.group(m.lastindex)
        yield tok, line


def _sexprs(text: str, path: str | None) -> list[tuple[Any, int]]:
    """The top-level s-expressions: ``(list, line)`` with nested lists of ``(token, line)``
    atoms, built without recursion."""
    top, unclosed = _sexprs_open(text, path)
    if unclosed:
        raise ParseError("'(' never closed", path=path, line=unclosed[-1])
    return top


def _sexprs_open(text: str, path: str | None) -> tuple[list[tuple[Any, int]], list[int]]:
    """:func:`_sexprs`, and the lines of the parentheses still open at the end (innermost
    last), each closed there."""
    top: list = []
    stack: list = []
    for tok, line in _tokens(text, path):
        if tok == "(":
            if len(stack) >= MAX_DEPTH:
                raise ParseError(f"parentheses nested deeper than {MAX_DEPTH}", path=path,
                                 line=line)
            stack.append(([], line))
        elif tok == ")":
            if not stack:
                raise ParseError("')' without a matching '('", path=path, line=line)
            items, start = stack.pop()
            (stack[-1][0] if stack else top).append((items, start))
        else:
            if not stack:
                top.append((tok, line))
            else:
                stack[-1][0].append((tok, line))
    unclosed = [line for _, line in stack]
    while stack:
        items, start = stack.pop()
        (stack[-1][0] if stack else top).append((items, start))
    return top, unclosed


def _number(tok: str, path: str | None, line: int, budget: _Budget) -> Fraction:
    try:
        q = exact_number(tok, ratio=False)
    except ValueError as exc:
        raise ParseError(str(exc), path=path, line=line) from None
    budget.spend(q, line)
    return q


class _Budget:
    """The bits a file's numbers hold together, refused past :data:`MAX_TOTAL_BITS` (a file of
    a million ``1e10000`` would otherwise ask for gigabytes)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.bits = 0

    def spend(self, q: Fraction, line: int) -> None:
        self.bits += q.numerator.bit_length() + q.denominator.bit_length()
        if self.bits > MAX_TOTAL_BITS:
            raise ParseError(f"the numbers of this file hold more than {MAX_TOTAL_BITS} bits "
                             "together (a property or counterexample needs far fewer)",
                             path=self.path, line=line)


def _name(name: str, path: str | None, line: int) -> str:
    """``name`` when it is ``X_i`` or ``Y_i`` with ``i <= MAX_INDEX``, else a ParseError."""
    if not _NAME.match(name):
        raise ParseError(f"{_short(name)!r} is not an input X_i or an output Y_i", path=path,
                         line=line)
    if len(name) > 2 + len(str(MAX_INDEX)) or int(name[2:]) > MAX_INDEX:
        raise ParseError(f"{_short(name)}: the index is beyond {MAX_INDEX} (no network has "
                         "that many inputs or outputs)", path=path, line=line)
    return name


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n - 3] + "..."


def _bits(q: Fraction) -> int:
    return max(q.numerator.bit_length(), q.denominator.bit_length())


def _show(node: Any) -> str:
    items, _ = node
    if isinstance(items, str):
        return items
    return "(" + " ".join(_show(x) for x in items) + ")"


class _Reader:
    def __init__(self, path: str | None) -> None:
        self.path = path
        self.declared: dict[str, int] = {}
        self.budget = _Budget(path)

    def fail(self, msg: str, line: int) -> None:
        raise ParseError(msg, path=self.path, line=line)

    def term(self, node: Any) -> Linear:
        """A linear term, iteratively (a stack of pending operations)."""
        items, line = node
        if isinstance(items, str):
            if items in self.declared:
                return Linear(((items, Fraction(1)),), Fraction(0))
            if _NAME.match(items):
                self.fail(f"{_short(items)} is used before it is declared", line)
            return Linear((), _number(items, self.path, line, self.budget))
        if not items or not isinstance(items[0][0], str):
            self.fail(f"not a term: {_show(node)[:60]}", line)
        op = items[0][0]
        args = [self.term(a) for a in items[1:]]  # depth is bounded by MAX_DEPTH
        if op == "+" and args:
            return self.bounded(_add(args), node)
        if op == "-" and len(args) == 1:
            return _scale(args[0], Fraction(-1))
        if op == "-" and len(args) >= 2:
            return self.bounded(_add([args[0]] + [_scale(a, Fraction(-1)) for a in args[1:]]),
                                node)
        if op == "*" and len(args) >= 2:
            out = args[0]
            for a in args[1:]:  # bounded factor by factor: 400 huge ones stop at the second
                if not out.coefs:
                    out = self.bounded(_scale(a, out.const), node, new=True)
                elif not a.coefs:
                    out = self.bounded(_scale(out, a.const), node, new=True)
                else:
                    self.fail(f"not linear: {_show(node)[:60]} multiplies two variables",
                              line)
            return out
        self.fail(f"unknown or malformed term operator {op!r} in {_show(node)[:60]}", line)
        raise AssertionError  # unreachable

    def bounded(self, t: Linear, node: Any, *, new: bool = False) -> Linear:
        """``t``, when none of its numbers has more than :data:`MAX_BITS` bits; ``new``: its
        numbers are new (a product's), and count against the file's :class:`_Budget`."""
        numbers = (t.const, *(c for _, c in t.coefs))
        big = max(_bits(q) for q in numbers)
        if big > MAX_BITS:
            self.fail(f"a constant of {big} bits, more than the {MAX_BITS} a property may "
                      f"hold, in {_short(_show(node), 60)}", node[1])
        if new:
            for q in numbers:
                self.budget.spend(q, node[1])
        return t

    def formula(self, node: Any) -> Any:
        items, line = node
        if isinstance(items, str) or not items or not isinstance(items[0][0], str):
            self.fail(f"not a formula: {_show(node)[:60]}", line)
        op = items[0][0]
        args = items[1:]
        if op in ("and", "or"):
            if not args:
                self.fail(f"({op}) with nothing in it", line)
            parts = tuple(self.formula(a) for a in args)
            return And(parts, line) if op == "and" else Or(parts, line)
        if op in ("<=", ">="):
            if len(args) != 2:
                self.fail(f"({op} ...) takes two terms, not {len(args)}", line)
            a, b = self.term(args[0]), self.term(args[1])
            lhs, rhs = (a, b) if op == "<=" else (b, a)
            return Atom(self.bounded(_add([lhs, _scale(rhs, Fraction(-1))]), node), line,
                        _short(_show(node), 200))
        if op in ("<", ">", "=", "distinct", "not", "=>"):
            self.fail(f"{op!r} is not supported: VNN-LIB properties use <=, >=, and, or",
                      line)
        self.fail(f"unknown formula operator {op!r}", line)

    def declare(self, items: list, line: int) -> None:
        if len(items) != 3 or not all(isinstance(x[0], str) for x in items):
            self.fail("expected (declare-const NAME Real)", line)
        name, typ = _name(items[1][0], self.path, items[1][1]), items[2][0]
        if typ != "Real":
            self.fail(f"{name} is declared {typ}; only Real is supported", line)
        if name in self.declared:
            self.fail(f"{name} is declared twice (first on line {self.declared[name]})", line)
        self.declared[name] = line


def _add(terms: list[Linear]) -> Linear:
    coefs: dict[str, Fraction] = {}
    const = Fraction(0)
    for t in terms:
        const += t.const
        for v, c in t.coefs:
            coefs[v] = coefs.get(v, Fraction(0)) + c
    return Linear(tuple(sorted((v, c) for v, c in coefs.items() if c != 0)), const)


def _scale(t: Linear, k: Fraction) -> Linear:
    if k == 0:
        return Linear((), Fraction(0))
    return Linear(tuple((v, c * k) for v, c in t.coefs), t.const * k)


def _indexed(names: list[str], kind: str, path: str | None) -> list[str]:
    idx = sorted(int(n[2:]) for n in names)  # at most MAX_INDEX: see _name
    if idx != list(range(len(idx))):
        missing = next(i for i, k in enumerate(idx) if i != k)  # the first gap
        raise ParseError(f"{kind}_{missing} is not declared, though {kind}_{idx[-1]} is",
                         path=path)
    return [f"{kind}_{i}" for i in idx]


def parse_vnnlib(text: str, *, path: str | None = None) -> Property:
    """A VNN-LIB property from its text (see the module docstring); ``path`` names the file
    in errors."""
    r = _Reader(path)
    assertions = []
    for node in _sexprs(text, path):
        items, line = node
        if isinstance(items, str) or not items or not isinstance(items[0][0], str):
            r.fail(f"expected a command such as (assert ...), not {_show(node)[:60]}", line)
        cmd = items[0][0]
        if cmd == "declare-const":
            r.declare(items, line)
        elif cmd == "assert":
            if len(items) != 2:
                r.fail("(assert ...) takes one formula", line)
            assertions.append(r.formula(items[1]))
        elif cmd in _IGNORED:
            continue
        else:
            r.fail(f"unknown command {cmd!r}", line)
    xs = [n for n in r.declared if n[0] == "X"]
    ys = [n for n in r.declared if n[0] == "Y"]
    if not xs:
        raise ParseError("no input X_i is declared", path=path)
    if not ys:
        raise ParseError("no output Y_i is declared", path=path)
    if not assertions:
        raise ParseError("no assertion: the property says nothing", path=path)
    return Property(_indexed(xs, "X", path), _indexed(ys, "Y", path), assertions, path)


def _read_text(path: Any) -> tuple[str, str]:
    p = str(path)
    data = read_bytes(p, limit=MAX_BYTES)
    check_utf8(data, p)
    return data.decode("utf-8"), p


def read_vnnlib(path: Any) -> Property:
    """Read a ``.vnnlib`` (or ``.vnnlib.gz``) file; see :func:`parse_vnnlib`.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "p.vnnlib")
    >>> _ = open(path, "w").write("(declare-const X_0 Real)(declare-const Y_0 Real)"
    ...                           "(assert (<= Y_0 X_0))")
    >>> read_vnnlib(path).outputs
    ['Y_0']
    """
    text, p = _read_text(path)
    return parse_vnnlib(text, path=p)


# ---------------------------------------------------------------------- counterexamples
@dataclass
class Counterexample:
    """The values of a counterexample, exact, by name, and as input and output lists.

    ``malformed`` says why the file is not well formed where it was read all the same, as
    VNN-COMP's checker reads it (None for a well-formed file): an assignment whose closing
    parenthesis is missing at the end of the file (Marabou wrote such files)."""

    values: dict[str, Fraction]
    inputs: list[Fraction]
    outputs: list[Fraction]
    path: str | None = None
    malformed: str | None = None

    def split(self, k: int) -> list[Counterexample]:
        """The ``k`` counterexamples of a file that holds ``k`` of them one after another:
        ``X_0 .. X_{k n - 1}`` and ``Y_0 .. Y_{k m - 1}`` (or no outputs), the ``i``-th taking
        the ``i``-th ``n`` inputs and ``m`` outputs (as some tools, ROVER in VNN-COMP 2025,
        wrote a batch).

        Raises
        ------
        ArgumentError
            When the inputs or the outputs do not divide into ``k`` equal parts.

        Examples
        --------
        >>> c = parse_counterexample("((X_0 1) (X_1 2) (X_2 3) (X_3 4) (Y_0 5) (Y_1 6))")
        >>> [(p.inputs, p.outputs) for p in c.split(2)]  # doctest: +NORMALIZE_WHITESPACE
        [([Fraction(1, 1), Fraction(2, 1)], [Fraction(5, 1)]),
         ([Fraction(3, 1), Fraction(4, 1)], [Fraction(6, 1)])]
        """
        nx, ny = len(self.inputs), len(self.outputs)
        if k < 1 or nx % k or ny % k:
            raise ArgumentError(f"{self.path + ': ' if self.path else ''}{nx} inputs and "
                                f"{ny} outputs do not make {k} counterexamples")
        n, m = nx // k, ny // k
        parts = []
        for i in range(k):
            xs, ys = self.inputs[i * n:(i + 1) * n], self.outputs[i * m:(i + 1) * m]
            values = {f"X_{j}": v for j, v in enumerate(xs)}
            values.update({f"Y_{j}": v for j, v in enumerate(ys)})
            parts.append(Counterexample(values, xs, ys, self.path, self.malformed))
        return parts


def parse_counterexample(text: str, *, path: str | None = None) -> Counterexample:
    """``((X_0 v) ... (Y_0 v) ...)``, optionally after ``sat``: the values exact. Inputs
    must be ``X_0 .. X_{n-1}`` without a gap, outputs likewise (there may be none).

    An assignment whose closing parenthesis is missing at the end of the file is read (the
    competition's checker reads it: it drops the first and the last character and splits the
    rest at ``)``), and ``malformed`` says so; any other unbalanced parenthesis is an error.

    Examples
    --------
    >>> c = parse_counterexample("sat ((X_0 0.1) (X_1 -2e-3) (Y_0 7))")
    >>> c.inputs, c.outputs, c.malformed
    ([Fraction(1, 10), Fraction(-1, 500)], [Fraction(7, 1)], None)
    >>> c = parse_counterexample("((X_0 0.5)\\n (Y_0 1)")
    >>> c.inputs, c.malformed
    ([Fraction(1, 2)], "the closing ')' of the assignment opened on line 1 is missing")
    """
    if text.count("(") > MAX_VALUES + 1:  # before any tokenising: each value opens one
        raise ParseError(f"more than {MAX_VALUES} values: no network takes that many",
                         path=path, line=1)
    nodes, unclosed = _sexprs_open(text, path)
    malformed = None
    if unclosed:
        inner = nodes[-1][0] if nodes and not isinstance(nodes[-1][0], str) else None
        # only the assignment's own closing parenthesis may be missing: its last pair closed
        if (len(unclosed) != 1 or inner is None or not inner or isinstance(inner[-1][0], str)
                or text.rstrip()[-1:] != ")"):
            raise ParseError("'(' never closed", path=path, line=unclosed[-1])
        malformed = f"the closing ')' of the assignment opened on line {unclosed[0]} is missing"
    if nodes and nodes[0][0] == "sat":
        nodes = nodes[1:]
    if not nodes:
        raise ParseError("empty: no assignment ((X_0 v) ...)", path=path)
    if len(nodes) != 1 or isinstance(nodes[0][0], str):
        raise ParseError("expected one assignment ((X_0 v) (X_1 v) ...)", path=path,
                         line=nodes[min(1, len(nodes) - 1)][1])
    values: dict[str, Fraction] = {}
    seen: dict[str, int] = {}
    budget = _Budget(path)
    for items, line in nodes[0][0]:
        if isinstance(items, str) or len(items) != 2 or not all(
                isinstance(x[0], str) for x in items):
            raise ParseError("expected (NAME value)", path=path, line=line)
        name, val = _name(items[0][0], path, items[0][1]), items[1][0]
        if name in seen:
            raise ParseError(f"{name} is given twice (first on line {seen[name]})",
                             path=path, line=line)
        seen[name] = line
        values[name] = _number(val, path, line, budget)
    xs = [n for n in values if n[0] == "X"]
    ys = [n for n in values if n[0] == "Y"]
    if not xs:
        raise ParseError("no input X_i in the assignment", path=path)
    xs = _indexed(xs, "X", path)
    ys = _indexed(ys, "Y", path) if ys else []
    return Counterexample(values, [values[n] for n in xs], [values[n] for n in ys], path,
                          malformed)


def read_counterexample(path: Any) -> Counterexample:
    """Read a counterexample file (``.gz`` gunzipped); see :func:`parse_counterexample`."""
    text, p = _read_text(path)
    return parse_counterexample(text, path=p)
