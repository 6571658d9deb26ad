"""symdnn._optional.require: one place that imports an optional dependency and, when it is
missing, raises MissingDependency naming the pip extra. Absence is simulated with
``sys.modules[name] = None``, which makes ``import name`` raise ImportError."""

from __future__ import annotations

import math
import sys

import pytest

from symdnn._optional import require
from symdnn.errors import MissingDependency, SymdnnError


class TestRequire:
    def test_returns_the_module(self):
        assert require("math", "none") is math

    @pytest.mark.parametrize("module, extra", [
        ("graphblas", "graphblas"), ("distributed", "dask"), ("dask", "dask"),
        ("onnx", "onnx"), ("onnxruntime", "onnx"), ("torch", "torch"),
    ])
    def test_missing_names_the_extra(self, monkeypatch, module, extra):
        monkeypatch.setitem(sys.modules, module, None)
        with pytest.raises(MissingDependency) as info:
            require(module, extra)
        assert str(info.value) == f"this needs {module}: pip install 'symdnn[{extra}]'"

    def test_missing_dependency_is_an_import_error_of_the_tree(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "graphblas", None)
        with pytest.raises(ImportError):
            require("graphblas", "graphblas")
        with pytest.raises(SymdnnError):
            require("graphblas", "graphblas")

    def test_message_parts(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "graphblas", None)
        with pytest.raises(MissingDependency) as info:
            require("graphblas", "graphblas", what="the graphblas kernel",
                    package="python-graphblas", pip="python-graphblas")
        assert str(info.value) == ("the graphblas kernel needs python-graphblas: "
                                   "pip install python-graphblas")

    def test_submodule_of_a_missing_package(self, monkeypatch):
        for name in ("onnx", "onnx.helper"):
            monkeypatch.setitem(sys.modules, name, None)
        with pytest.raises(MissingDependency, match=r"pip install 'symdnn\[onnx\]'$"):
            require("onnx.helper", "onnx", package="onnx")

    def test_no_cause_chained(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "torch", None)
        with pytest.raises(MissingDependency) as info:
            require("torch", "torch")
        assert info.value.__cause__ is None and info.value.__suppress_context__
