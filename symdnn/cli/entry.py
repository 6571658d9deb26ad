"""The entry point of the ``symdnn`` command (:func:`main`): it parses the command line, runs
the command's handler, and turns every outcome into an exit status and, for an error, one line
in the command line's words (:func:`cli_words`). SIGTERM is an interrupt like Ctrl-C for the
whole command, in every phase: exit status 130 and one line saying so. :mod:`symdnn.cli`
re-exports it."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from symdnn.cli.parser import build_parser as _build
from symdnn.cli.support import EXIT, OPTION_OF, cli_words
from symdnn.errors import SymdnnError
from symdnn.io.outputs import terminate_as_interrupt

__all__ = ["main", "build_parser", "cli_words", "OPTION_OF"]


def build_parser():
    """The ``symdnn`` argument parser (see :mod:`symdnn.cli.parser`)."""
    return _build()


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so that the interpreter's final flush
    does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symdnn`` console script; returns the exit status.

    SIGTERM raises :class:`KeyboardInterrupt` from the start to the end (as SIGINT does), so
    that a terminated command cleans up what it was writing and exits 130 with one line,
    whatever phase it was in; a second SIGTERM or Ctrl-C while it cleans up is ignored."""
    with terminate_as_interrupt(sigint=True):
        try:
            return _main(argv)
        except KeyboardInterrupt:  # while parsing, or in the messages after the command
            print("\nsymdnn: interrupted; nothing was left half-written", file=sys.stderr)
            return EXIT["interrupted"]


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        print("\nsymdnn: error: give a COMMAND", file=sys.stderr)
        return EXIT["bad_input"]
    name = args.command + "".join(f" {getattr(args, a)}" for a in ("suite_command",
                                                                   "gen_command",
                                                                   "data_command")
                                  if getattr(args, a, None))
    try:
        return int(args.func(args))
    except SymdnnError as exc:
        print(f"symdnn {name}: error: {cli_words(str(exc))}", file=sys.stderr)
        return EXIT["bad_input"]
    except BrokenPipeError:
        _silence_stdout()
        return EXIT["broken_pipe"]
    except KeyboardInterrupt:
        print(f"\nsymdnn {name}: interrupted; nothing was left half-written",
              file=sys.stderr)
        return EXIT["interrupted"]
    except OSError as exc:  # a file that vanished, a full disk, a folder we may not read
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"symdnn {name}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT["bad_input"]
    except MemoryError:
        print(f"symdnn {name}: error: out of memory (try fewer inputs or --images)",
              file=sys.stderr)
        return EXIT["internal"]
    except Exception as exc:  # a bug: say so, and how to report it
        if args.debug:
            raise
        print(f"symdnn {name}: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in symdnn; please report it with the command line "
              "(run again with 'symdnn --debug ...' for the traceback).", file=sys.stderr)
        return EXIT["internal"]
