"""A construction by name (:func:`build_construction`, what ``symdnn build`` runs) or from a
network folder it wrote (:func:`load_construction`). :mod:`symdnn.constructions` re-exports
them."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from symdnn.constructions.base import Construction
from symdnn.constructions.combinatoric import MAX_CATEGORIES, MAX_SETS, check_size, combinatoric
from symdnn.constructions.images import mnist as mnist_construction
from symdnn.constructions.selective import selective
from symdnn.data import read_words
from symdnn.data import words as bundled
from symdnn.domains.rational import exact_parts
from symdnn.errors import ArgumentError, DomainError
from symdnn.io.netdir import write_network
from symdnn.io.text import exact_number
from symdnn.network import read_network

__all__ = ["build_construction", "load_construction"]


def build_construction(*, words: str | None = None, builtin: str | None = None,
                       sizes: str | None = None, mnist: str | None = None,
                       labels: str | None = None, count: int | None = None, start: int = 0,
                       contained: str = "report", scheme: str = "single", betas: object = "1",
                       layers: int = 2) -> Construction:
    """The construction that ``symdnn build`` names: exactly one of ``words`` (a file),
    ``builtin`` (a bundled list), ``sizes`` (``"2,2,2,2"``) or ``mnist`` (an IDX file)."""
    if sum(x is not None for x in (words, builtin, sizes, mnist)) != 1:
        raise ArgumentError("give exactly one of words, builtin, sizes or mnist")
    if words is not None or builtin is not None:
        ws = read_words(words) if words is not None else bundled(builtin)
        return selective(ws, scheme, betas)
    if sizes is not None:
        shown = repr(sizes) if len(sizes) <= 60 else repr(sizes[:57] + "...")
        parts = sizes.split(",")
        if len(parts) > MAX_SETS:  # before reading them: each becomes a list of features
            check_size([1] * len(parts), f"sizes={shown}")
        long = next((p.strip().lstrip("0") for p in parts
                     if len(p.strip().lstrip("0")) > 18), None)
        if long is not None and long.isdigit():  # int() of 5000 digits is refused by Python
            raise ArgumentError(f"sizes={shown}: a feature set of {len(long)}-digit size, more "
                                f"than the {MAX_CATEGORIES} categories a combinatoric network "
                                "may have")
        try:
            ns = [int(s) for s in parts]
        except ValueError:
            raise ArgumentError(f"sizes={shown}: feature set sizes must be integers") from None
        if any(n < 1 for n in ns):
            raise ArgumentError(f"sizes={shown}: feature set sizes must be positive")
        check_size(ns, f"sizes={shown}")  # before the features are named
        sets = [[f"{i}{chr(97 + j)}" if n <= 26 else f"{i}:{j}" for j in range(n)]
                for i, n in enumerate(ns, 1)]
        return combinatoric(sets, betas, layers=layers)
    beta = betas if isinstance(betas, str) else betas[0]
    return mnist_construction(mnist, labels, count=count, start=start, contained=contained,
                              beta=beta)


#: a beta of at most this many digits gives biases (beta times a fan-in, minus the weights)
#: far below the number reader's limit, and is not checked value by value
_SAFE_DIGITS = 3000


def _digits(q: Fraction) -> int:
    """An upper bound on the characters of ``p/q`` (without writing it out)."""
    return (q.numerator.bit_length() + q.denominator.bit_length()) * 30103 // 100000 + 4


def _readable_back(c: Construction) -> None:
    """Refuse a construction whose betas or biases, written exactly, are numbers the network
    reader (:func:`symdnn.io.text.exact_number`) would not take back: ``betas="1e10000"`` is
    read, and analysed, but ``10**10000`` written out has more digits than a network file may
    hold."""
    for lnum, ly in enumerate(c.net.layers):
        if ly.beta is None or _digits(Fraction(*exact_parts(ly.beta))) <= _SAFE_DIGITS:
            continue
        for what, v in [("the beta is", ly.beta),
                        *(("it makes a bias of", b) for b in ly.bias.values())]:
            q = Fraction(*exact_parts(v))
            try:
                if _digits(q) > 5000:  # str() of more than 4300 digits is itself refused
                    raise DomainError("has too many digits")
                exact_number(str(q))
            except (DomainError, ValueError):
                betas = c.params.get("betas")
                shown = repr(betas) if len(repr(betas)) <= 40 else repr(betas)[:37] + "..."
                raise ArgumentError(f"betas={shown}: in layer {lnum} {what} about "
                                    f"{_digits(q)} digits written exactly, more than a network "
                                    "file may hold (its reader takes 4000)") from None


def write_construction(c: Construction, folder: str | os.PathLike, *,
                       force: bool = False) -> Path:
    """Write a construction as the network folder :func:`load_construction` reads back (the
    network, the model problem's inputs, the expected outputs, and what built it).

    Raises
    ------
    ArgumentError
        When a beta, or a bias it makes, has more digits than the reader takes back (checked
        before anything is written).

    Examples
    --------
    >>> import tempfile, os
    >>> c = build_construction(builtin="words2")
    >>> d = write_construction(c, os.path.join(tempfile.mkdtemp(), "n"))
    >>> back = load_construction(str(d))
    >>> back.name == c.name, back.params == {"construction": c.name, **c.params}
    (True, True)
    """
    _readable_back(c)
    return write_network(folder, c.net, inputs=c.inputs, expected=c.expected,
                         meta={"construction": c.name, **c.params}, force=force)


def load_construction(folder: str) -> Construction:
    """A network folder written by ``symdnn build``, as a Construction (its model-problem
    inputs are required).

    Examples
    --------
    >>> import tempfile, os
    >>> from symdnn.io.netdir import write_network
    >>> c = build_construction(builtin="words2")
    >>> d = write_network(os.path.join(tempfile.mkdtemp(), "n"), c.net, inputs=c.inputs)
    >>> load_construction(str(d)).verify().identity
    True
    """
    net, info = read_network(folder)
    if info["inputs"] is None:
        raise ArgumentError(f"{folder} has no inputs.tsv: it was not written by symdnn build")
    meta = info["meta"]
    return Construction(meta.get("construction", "network"), net, info["inputs"],
                        info["expected"], tuple(net.outputs), tuple(net.inputs), meta)
