"""The ``symdnn`` command line: a thin front end over the public API.

One handler decides every exit status: 0 success, 1 a check failed (mismatch, not exact,
policy violated), 2 bad input or usage, 3 nothing to check against, 4 internal error (the
exception and "please report", the traceback only with ``--debug``), 130 interrupted; a
closed pipe ends the command quietly (status 141, as a shell reports SIGPIPE).
"""

from __future__ import annotations

from symdnn.cli.entry import (
    OPTION_OF,  # noqa: F401 (not in __all__, importable as before)
    build_parser,
    cli_words,  # noqa: F401 (not in __all__, importable as before)
    main,
)

__all__ = ["main", "build_parser"]
