"""What every command shares: argument types that validate, progress on a terminal, JSON and
file outputs that never overwrite what they did not create."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from symdnn.domains import FORMATS
from symdnn.errors import ArgumentError, DomainError, OutputError
from symdnn.io.outputs import check_output_file
from symdnn.io.text import exact_number as _exact
from symdnn.results import render

__all__ = ["OPTION_OF", "cli_words", "Progress", "Status", "positive_int", "nonneg_int",
           "exact_number", "density", "int_list", "parse_betas", "parse_formats", "emit",
           "output_file", "HelpFormatter", "EXIT", "EXIT_TEXT", "command_group"]


#: The library's parameter names in messages, and the options that set them on the command
#: line: a library message says ``force=True`` or ``dask='tcp://h:1'``, the CLI user reads
#: ``--force`` or ``--dask 'tcp://h:1'``.
OPTION_OF = {"force": "--force", "dask": "--dask", "generate": "--generate",
             "fail_on": "--fail-on", "results": "--results", "benchmarks": "--benchmarks",
             "neurons": "--neurons", "layers": "--layers", "inputs": "--inputs",
             "source": "--from", "style": "--style", "contained": "--contained",
             "beta": "--beta", "betas": "--beta", "sizes": "--combinatoric"}
_API_WORD = re.compile(r"\b(" + "|".join(OPTION_OF) + r")=(True\b|\.\.\.)?"
                       r"|('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")


def cli_words(message: str) -> str:
    """A library message in the command line's words.

    Examples
    --------
    >>> cli_words("'out' exists; force=True replaces it")
    "'out' exists; --force replaces it"
    >>> cli_words("fail_on='max_ulp:x': the limit 'x' is not a number")
    "--fail-on 'max_ulp:x': the limit 'x' is not a number"
    >>> cli_words("a Graph Challenge folder needs neurons=N and layers=L")
    'a Graph Challenge folder needs --neurons N and --layers L'
    >>> cli_words("sizes='1000,1000': too many categories")
    "--combinatoric '1000,1000': too many categories"

    What the user wrote, quoted in the message, is left as written:

    >>> cli_words("generate='radixnet:neurons=64': not radixnet:NEURONS:LAYERS")
    "--generate 'radixnet:neurons=64': not radixnet:NEURONS:LAYERS"
    """
    def option(m: re.Match) -> str:
        if m.group(3) is not None:  # a quoted value: the user's own words
            return m.group(3)
        return OPTION_OF[m.group(1)] + ("" if m.group(2) or m.end() == len(message) or
                                        message[m.end()] in " ,;:)" else " ")

    return _API_WORD.sub(option, message)


#: Exit statuses of every command.
EXIT = {"ok": 0, "check_failed": 1, "bad_input": 2, "nothing_to_check": 3, "internal": 4,
        "interrupted": 130, "broken_pipe": 141}
#: The epilog of every command's help: what :data:`EXIT` means (here, not in
#: :mod:`symdnn.cli.parser`, so that :mod:`symdnn.cli.data` can use it without importing
#: the parser that imports it)
EXIT_TEXT = ("Exit status: 0 success, 1 a check failed, 2 bad input or usage, 3 nothing to "
             "check against, 4 internal error (please report), 130 interrupted.")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; every option's help ends with its default (when it has one
    that says something)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default is None or action.default is False or \
                action.default is argparse.SUPPRESS or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def _int_at_least(text: str, lo: int) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < lo:
        raise argparse.ArgumentTypeError(f"must be at least {lo}, not {v}")
    return v


def positive_int(text: str) -> int:
    """An integer >= 1 (argparse type)."""
    return _int_at_least(text, 1)


def nonneg_int(text: str) -> int:
    """An integer >= 0 (argparse type)."""
    return _int_at_least(text, 0)


def exact_number(text: str) -> Fraction:
    """A finite exact number: ``3/10``, ``0.3``, ``1e-3`` (argparse type), read by
    :func:`symdnn.io.text.exact_number` (so bounded: a ``1e999999999`` is refused at once, not
    expanded for minutes).

    Examples
    --------
    >>> exact_number(" 3/10 "), exact_number("1e-3")
    (Fraction(3, 10), Fraction(1, 1000))
    >>> exact_number("1e999999999")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: '1e999999999': the exponent is beyond +-10000
    """
    try:
        return _exact(text.strip())
    except DomainError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (write e.g. 3/10, 0.3 or 1)"
                                         if "not a decimal" in str(exc) else str(exc)) from None


def density(text: str) -> float:
    """A fraction in (0, 1] (argparse type)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"must lie in (0, 1], not {text}")
    return v


def int_list(text: str) -> tuple[int, ...]:
    """Comma-separated integers >= 1 such as ``2,2,4`` (argparse type)."""
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"give integers separated by commas, not {text!r}")
    return tuple(positive_int(p) for p in parts)


def parse_betas(text: str) -> list[str] | str:
    """``"4/5,1"`` -> ``["4/5", "1"]``; a single value applies to every layer. Each must be a
    finite exact number.

    Examples
    --------
    >>> parse_betas("4/5, 1"), parse_betas("1")
    (['4/5', '1'], '1')
    """
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p for p in parts):
        raise ArgumentError(f"--beta: give exact numbers separated by commas, not {text!r}")
    for p in parts:
        try:
            _exact(p)
        except DomainError as exc:
            raise ArgumentError(f"--beta: not a finite exact number: {exc}") from None
    return parts[0] if len(parts) == 1 else parts


def parse_formats(text: str, *, allow: tuple = ()) -> list[str]:
    """Comma-separated float format names (plus any in ``allow``), at least one, each known."""
    names = [f.strip() for f in text.split(",") if f.strip()]
    if not names:
        raise ArgumentError(f"--formats: no formats given (known: {', '.join(FORMATS)})")
    for f in names:
        if f not in FORMATS and f not in allow:
            raise ArgumentError(f"--formats: unknown format {f!r} (known: "
                                f"{', '.join(list(FORMATS) + list(allow))})")
    if len(set(names)) != len(names):
        raise ArgumentError(f"--formats: a format is given twice in {text!r}")
    return names


def output_file(path: str | None, args: argparse.Namespace, what: str, *,
                suffixes: tuple | None = None) -> str | None:
    """Check an output file option before any work is done (``None`` passes through)."""
    if path is None or path == "-":
        return path

    inputs = input_paths(args)
    check_output_file(path, force=getattr(args, "force", False), inputs=inputs,
                      suffixes=suffixes, what=what)
    return path


#: every option or argument that names something a command reads
INPUT_ARGS = ("dir", "data_dir", "net_dir", "target", "inputs", "results", "words", "mnist",
              "labels", "net", "prop", "counterexample", "benchmarks")


def input_paths(args: argparse.Namespace) -> list[str]:
    """What the command reads: no output may be, hold or lie inside any of these."""
    return ([getattr(args, a) for a in INPUT_ARGS if isinstance(getattr(args, a, None), str)]
            + list(getattr(args, "run_paths", None) or []))


def parse_run_specs(items: list[str] | None, taken: list[str]) -> list[tuple[str, str, str]]:
    """``--run NAME=PATH[:FORMAT]`` options as ``(name, path, format)``; the format is fp64
    unless the text after the last colon names one. ``taken`` are the names of symdnn's own
    runs, which a foreign run may not reuse."""
    out: list[tuple[str, str, str]] = []
    for item in items or []:
        name, sep, rest = item.partition("=")
        name = name.strip()
        if not sep or not name or not rest:
            raise ArgumentError(f"--run {item!r}: write NAME=PATH or NAME=PATH:FORMAT")
        path, fmt = rest, "fp64"
        head, colon, tail = rest.rpartition(":")
        if colon and tail in FORMATS:
            path, fmt = head, tail
        elif colon and tail and "/" not in tail and tail.lower().startswith(("fp", "bf")):
            raise ArgumentError(f"--run {item!r}: unknown format {tail!r} (known: "
                                f"{', '.join(FORMATS)})")
        if not path:
            raise ArgumentError(f"--run {item!r}: no folder given")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}", name):
            raise ArgumentError(f"--run {item!r}: a run name is letters, digits and _ . + - "
                                "(at most 64, starting with a letter or digit)")
        if name in taken or name in [o[0] for o in out]:
            raise ArgumentError(f"--run {item!r}: the run name {name!r} is already taken; give "
                                "each run its own name")
        out.append((name, path, fmt))
    return out


def distinct_outputs(*paths: str | None) -> None:
    """Two outputs of one command must not be the same path, nor one inside the other."""
    given = [Path(os.path.abspath(p)) for p in paths if p not in (None, "-")]
    for i, a in enumerate(given):
        for b in given[i + 1:]:
            if a == b or a in b.parents or b in a.parents:
                raise OutputError(f"two outputs of this command are the same path or one "
                                  f"holds the other: {str(a)!r} and {str(b)!r}")


def emit(result: Any, fmt: str, dest: str, args: argparse.Namespace, what: str = "--json", *,
         say: bool = True) -> None:
    """Render ``result`` (:func:`symdnn.results.render`) to stdout (``dest`` ``"-"``) or to
    a file, which only ``--force`` replaces; ``say``: name the file written on stderr."""
    written = render(result, fmt, dest, force=getattr(args, "force", False),
                     inputs=input_paths(args), what=what)
    if written is not None and say:
        print(f"wrote {dest}", file=sys.stderr)


class Progress:
    """Progress on stderr: a one-line bar on a terminal; otherwise (a log, a pipe, a batch
    job) a plain line at most every :attr:`EVERY` seconds and one at the end.

    ``progress(done, total)`` is what the library's ``progress=`` arguments call; ``total``
    may be None when unknown. With ``unit="bytes"`` the counts are shown as sizes.
    """

    #: Seconds between two lines when stderr is not a terminal.
    EVERY = 5.0

    def __init__(self, label: str, unit: str = "layers"):
        self.label = label
        self.unit = unit
        self.tty = sys.stderr.isatty()
        self.restart(label)

    def restart(self, label: str) -> None:
        """Start counting again, for the next item (a file, a stage) named ``label``."""
        self.label = label
        self.start = self.last = time.perf_counter()
        self.pending = ""

    def _amount(self, done: int, total: int | None) -> str:
        if self.unit != "bytes":
            return f"{done}/{total if total is not None else '?'} {self.unit}"
        mb = f"{done / 1e6:.1f}"
        return f"{mb}/{total / 1e6:.1f} MB" if total else f"{mb} MB"

    def __call__(self, done: int, total: int | None) -> None:
        now = time.perf_counter()
        elapsed = now - self.start
        amount = self._amount(done, total)
        finished = total is not None and done >= total
        if self.tty:
            frac = min(done / total, 1.0) if total else 0.0
            bar = "#" * int(30 * frac)
            sys.stderr.write(f"\r{self.label} [{bar:<30}] {amount} {elapsed:6.1f} s")
            if finished:
                sys.stderr.write("\n")
            sys.stderr.flush()
            return
        line = f"{self.label}: {amount} ({elapsed:.1f} s)"
        if (finished and elapsed >= 1.0) or now - self.last >= self.EVERY:
            print(line, file=sys.stderr, flush=True)
            self.last, self.pending = now, ""
        else:
            self.pending = line

    def close(self) -> None:
        """End the display: the last count not yet shown, and the bar's line."""
        if self.pending and not self.tty:
            print(self.pending, file=sys.stderr, flush=True)
        self.pending = ""


class Status:
    """``with Status("threshold", "analysing 2384 pairs"):`` shows what is running: on a
    terminal one line, cleared when done; otherwise the line once, as a log line."""

    def __init__(self, label: str, what: str, *, quiet: bool = False):
        self.text = f"{label}: {what} ..."
        self.tty = sys.stderr.isatty()
        self.quiet = quiet

    def __enter__(self) -> Status:
        if self.quiet:
            return self
        if self.tty:
            sys.stderr.write(self.text)
            sys.stderr.flush()
        else:
            print(self.text, file=sys.stderr, flush=True)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def call_progress(quiet: bool, label: str) -> Callable[[int, int], None] | None:
    """A :class:`Progress` unless ``--quiet``."""
    return None if quiet else Progress(label)


def command_group(sub: argparse._SubParsersAction, name: str, help: str, description: str,
                  dest: str, metavar: str) -> argparse._SubParsersAction:
    """A command made of actions (``symdnn suite build``, ``symdnn data fetch``): its parser,
    with the help, description and exit codes every command shows, and the subparsers its
    actions are added to (one is required).

    Examples
    --------
    >>> p = argparse.ArgumentParser(prog="symdnn")
    >>> actions = command_group(p.add_subparsers(dest="command"), "suite", "suites",
    ...                         "Certified suites.", "suite_command", "ACTION")
    >>> _ = actions.add_parser("verify")
    >>> p.parse_args(["suite", "verify"]).suite_command
    'verify'
    """
    p = sub.add_parser(name, help=help, description=description, epilog=EXIT_TEXT,
                       formatter_class=HelpFormatter)
    return p.add_subparsers(dest=dest, metavar=metavar, required=True)
