"""The one exception tree of symdnn.

Every error symdnn raises on purpose is a :class:`SymdnnError`; the subclasses also derive from
the built-in exception a caller would naturally catch (``ValueError``, ``TypeError``), so
``except ValueError`` keeps working. Messages name the offending key, layer, file or line.
"""

from __future__ import annotations

__all__ = [
    "SymdnnError",
    "KeyTypeError",
    "DomainError",
    "DomainMismatch",
    "SemiringMismatch",
    "UnknownSemiring",
    "UnknownDomain",
    "KeyMismatch",
    "DuplicateKeyError",
    "ParseError",
    "OutputError",
    "DataError",
    "ArgumentError",
    "ArgumentTypeError",
    "MissingDependency",
    "SchemeError",
    "SymbolicSignError",
    "GraphError",
    "ValueDependentError",
    "NotRationalError",
    "UndecidedError",
    "RefusedError",
]


class SymdnnError(Exception):
    """Base class of every error raised by symdnn."""


class KeyTypeError(SymdnnError, TypeError):
    """Keys that are unhashable, unsortable, NaN, or of mixed types along one axis."""


class DomainError(SymdnnError, ValueError):
    """A value that lies outside a domain or outside a semiring's carrier set."""


class DomainMismatch(SymdnnError, TypeError):
    """Operands in different domains; convert one explicitly with ``convert_to``."""


class SemiringMismatch(SymdnnError, TypeError):
    """Operands that carry different semirings and no semiring was named for the operation."""


class UnknownSemiring(SymdnnError, ValueError):
    """A semiring name that is not in the registry."""


class UnknownDomain(SymdnnError, ValueError):
    """A domain name that is not known."""


class KeyMismatch(SymdnnError, ValueError):
    """Keys that do not line up where an operation needs them to."""


class DuplicateKeyError(SymdnnError, ValueError):
    """A repeated (row, column) pair under the ``dup="error"`` policy."""


class ParseError(SymdnnError, ValueError):
    """A malformed input file; the message names the file and the line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class OutputError(SymdnnError, ValueError):
    """An output path that cannot be written without losing data, or cannot be written at
    all (a folder that is not symdnn's, a path under a file, a missing parent folder)."""


class DataError(SymdnnError, ValueError):
    """A data set that cannot be fetched, or a file that does not match the data registry;
    the message names the file (and the URL it came from)."""

    def __init__(self, message: str, *, path: str | None = None, url: str | None = None):
        super().__init__(message)
        self.path = path
        self.url = url


class ArgumentError(SymdnnError, ValueError):
    """An argument whose value cannot be used; the message names the parameter as the API
    does (``fail_on='x'``), and the command line shows it as its option (``--fail-on 'x'``)."""


class ArgumentTypeError(SymdnnError, TypeError):
    """An argument of a type that cannot be used (an ``AssocArray`` expected, a plain value
    given); the message names the parameter or the operation."""


class MissingDependency(SymdnnError, ImportError):
    """An optional package symdnn needs for this adapter is not installed."""


class SchemeError(SymdnnError, ValueError):
    """A scheme that cannot build an exact network for the given words."""


class SymbolicSignError(SymdnnError, ValueError):
    """The sign of a symbolic pre-activation cannot be decided, so the ReLU cannot be applied."""


class GraphError(SymdnnError, ValueError):
    """An ONNX graph that cannot be imported or evaluated exactly; names the node."""


class ValueDependentError(GraphError):
    """A failure that depends on the values, not the graph (a division by zero, a value too
    large to hold): the import's dry run on zeros ignores it."""


class NotRationalError(GraphError):
    """An operator whose value is not rational (``Sigmoid``, ``Exp``, a ``BatchNormalization``
    whose ``sqrt(var + epsilon)`` is irrational) met by an exact evaluation: evaluate the
    graph in certified enclosures instead (``ExactGraph.run(feeds, prec=...)``)."""


class UndecidedError(ValueDependentError):
    """A decision (a comparison, an argmax, a condition) that the enclosure of its inputs
    does not decide: the true values lie on both sides within the enclosure's width."""


class RefusedError(SymdnnError, ValueError):
    """A verifier's counterexample the referee cannot decide, for a named reason
    (``refusal``, a short phrase such as ``"outputs do not fit the network"``), with the
    competition's verdict (``verdict``) where the refusal decides it."""

    def __init__(self, refusal: str, msg: str, verdict: str | None = None):
        super().__init__(msg)
        self.refusal = refusal
        self.verdict = verdict
