"""The independent, standard-library-only suite checker that every suite ships as
``check.py`` (see docs/suite-format.md). It imports nothing from symdnn; symdnn only copies
it into suites and runs it in a subprocess."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CHECKER"]

#: The checker's source file, copied into every suite as ``check.py``.
CHECKER = Path(__file__).with_name("check.py")
