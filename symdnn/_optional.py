"""Optional dependencies, imported in one place and reported clearly when missing.

symdnn runs on numpy and scipy alone; onnx, onnxruntime, python-graphblas, dask.distributed
and torch are pip extras (``pyproject.toml``: ``[project.optional-dependencies]``). Code that
needs one calls :func:`require` at the point of use, never at module top, so ``import symdnn``
loads none of them, and a missing one is a :class:`~symdnn.errors.MissingDependency` (an
``ImportError``) naming what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from symdnn.errors import MissingDependency

__all__ = ["require"]


def require(module: str, extra: str, *, what: str | None = None, package: str | None = None,
            pip: str | None = None) -> ModuleType:
    """The module ``module``, imported; or a :class:`~symdnn.errors.MissingDependency` saying
    ``"{what} needs {package}: pip install {pip}"``.

    Parameters
    ----------
    module : str
        The module to import (``"graphblas"``, ``"distributed"``, ``"onnx.helper"``).
    extra : str
        The symdnn pip extra that installs it (``"graphblas"``, ``"dask"``, ``"onnx"``).
    what : str, optional
        What needs the module, for the message (default ``"this"``).
    package : str, optional
        The name to show for what is missing (default ``module``), e.g. ``"python-graphblas"``
        for the module ``graphblas``.
    pip : str, optional
        What to ``pip install`` (default ``'symdnn[extra]'``).

    Returns
    -------
    types.ModuleType
        The imported module.

    Raises
    ------
    MissingDependency
        When ``module`` cannot be imported.

    Examples
    --------
    >>> require("math", "none").sqrt(4.0)
    2.0
    >>> require("no_such_module_xyz", "dask", what="dask=")
    Traceback (most recent call last):
    ...
    symdnn.errors.MissingDependency: dask= needs no_such_module_xyz: pip install 'symdnn[dask]'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(
            f"{what or 'this'} needs {package or module}: "
            f"pip install {pip or repr(f'symdnn[{extra}]')}") from None
