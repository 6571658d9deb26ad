"""The standalone checker every suite ships (``check.py``), loaded as a module for the tests
that call its functions in-process (it imports nothing from symdnn)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from symdnn.suite.build import CHECKER

__all__ = ["checker_module"]


def checker_module(name: str = "shipped_check") -> ModuleType:
    """A fresh copy of ``check.py`` as the module ``name``."""
    spec = importlib.util.spec_from_file_location(name, CHECKER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
