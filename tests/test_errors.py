"""symdnn's one error tree: every exception class lives in :mod:`symdnn.errors`, no library
code raises a bare built-in ``ValueError``/``TypeError``, and a bad argument raises an
:class:`~symdnn.errors.ArgumentError` that is also a ``ValueError`` and names the parameter."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import symdnn
from symdnn import errors
from symdnn.errors import ArgumentError, ArgumentTypeError, MissingDependency, SymdnnError

ROOT = Path(symdnn.__file__).parent

#: Modules that are not part of the library proper: the suite checker and the certificate
#: checker are standalone, standard-library-only scripts (they import nothing from symdnn, so
#: they keep their own exceptions); ``__main__`` modules run the CLI when imported.
NOT_LIBRARY = {"symdnn.suite.check", "symdnn.certify.check_cert", "symdnn.cli.__main__"}

#: Files whose argument checks still raise built-in exceptions, with the reason. Remove an
#: entry as soon as its file is converted.
PENDING: dict[str, str] = {}


def _library_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(symdnn.__path__, "symdnn.")]
    return sorted(set(names) - NOT_LIBRARY)


def _sources() -> list[tuple[str, ast.Module]]:
    out = []
    for p in sorted(ROOT.rglob("*.py")):
        rel = p.relative_to(ROOT).as_posix()
        if rel in ("suite/check.py", "certify/check_cert.py"):
            continue
        out.append((rel, ast.parse(p.read_text(encoding="utf-8"), filename=str(p))))
    return out


class TestTree:
    def test_all_names_symdnn_errors_defined_in_errors(self):
        assert errors.__all__, "symdnn.errors exports nothing"
        for name in errors.__all__:
            cls = getattr(errors, name)
            assert inspect.isclass(cls) and issubclass(cls, SymdnnError), name
            assert cls.__module__ == "symdnn.errors", f"{name} is defined in {cls.__module__}"
            assert cls.__doc__, f"{name} has no docstring"

    def test_every_exception_class_in_errors_is_exported(self):
        defined = {n for n, c in vars(errors).items()
                   if inspect.isclass(c) and issubclass(c, BaseException)
                   and c.__module__ == "symdnn.errors"}
        assert defined == set(errors.__all__)

    def test_argument_errors_are_both_symdnn_and_builtin(self):
        assert issubclass(ArgumentError, SymdnnError) and issubclass(ArgumentError, ValueError)
        assert issubclass(ArgumentTypeError, SymdnnError)
        assert issubclass(ArgumentTypeError, TypeError)

    @pytest.mark.parametrize("module, name", [
        ("symdnn.constructions.selective", "SchemeError"),
        ("symdnn.engines.reference", "SymbolicSignError"),
        ("symdnn.engines", "SymbolicSignError"),
        ("symdnn", "SymbolicSignError"),
        ("symdnn.audit.foreign", "MissingDependency"),
        ("symdnn.witness.graph", "GraphError"),
        ("symdnn.witness.graph", "ValueDependentError"),
    ])
    def test_moved_classes_keep_their_old_import_paths(self, module, name):
        """Regression guard: the classes moved into symdnn.errors are the same objects
        under the names callers used before."""
        if module == "symdnn.audit.foreign":
            pytest.importorskip("scipy")
        assert getattr(importlib.import_module(module), name) is getattr(errors, name)

    def test_no_exception_class_outside_errors(self):
        stray, skipped = [], []
        for name in _library_modules():
            try:
                mod = importlib.import_module(name)
            except ImportError as exc:  # an optional dependency (onnx, torch, dask, ...)
                if not isinstance(exc, MissingDependency) and \
                        (exc.name is None or exc.name.split(".")[0] == "symdnn"):
                    raise
                skipped.append(name)
                continue
            for attr, obj in vars(mod).items():
                if inspect.isclass(obj) and issubclass(obj, BaseException) and \
                        obj.__module__ == name and name != "symdnn.errors":
                    stray.append(f"{name}.{attr}")
        assert not stray, f"exception classes outside symdnn.errors: {stray}"
        assert len(skipped) < 5, f"too many modules skipped: {skipped}"

    def test_no_exception_class_statement_outside_errors(self):
        """The source too, so that a class defined inside a function is found as well."""
        known = set(errors.__all__) | {"Exception", "BaseException", "ValueError",
                                       "TypeError", "ImportError"}
        stray = []
        for rel, tree in _sources():
            if rel == "errors.py":
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                             for b in node.bases}
                    if bases & known or any(b.endswith(("Error", "Exception")) for b in bases):
                        stray.append(f"{rel}:{node.lineno} {node.name}")
        assert not stray, f"exception classes outside symdnn.errors: {stray}"


class TestNoBuiltinRaises:
    def test_no_raise_of_builtin_value_or_type_error(self):
        found = []
        for rel, tree in _sources():
            if rel in PENDING:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and \
                        isinstance(node.exc.func, ast.Name) and \
                        node.exc.func.id in ("ValueError", "TypeError"):
                    found.append(f"symdnn/{rel}:{node.lineno} raise {node.exc.func.id}(...)")
        assert not found, "raise a symdnn.errors class instead:\n" + "\n".join(found)

    def test_pending_files_exist(self):
        for rel in PENDING:
            assert (ROOT / rel).is_file(), f"PENDING names symdnn/{rel}, which is gone"


# ------------------------------------------------------------------ bad arguments, by example
def _net():
    from symdnn.constructions import selective

    return selective(["ad", "be"], "single", ["3/10"])


def _bad_calls():
    from symdnn import AssocArray, SparseDNN
    from symdnn.constructions.combinatoric import collapse
    from symdnn.constructions.images import images
    from symdnn.parallel import resolve_threads
    from symdnn.verification import verify

    A = AssocArray.from_triples(["a", "b"], ["x", "y"], [1, 2])
    c = _net()
    return [
        ("arith", lambda: c.net.infer(c.inputs, arith="ZZ")),
        ("engine", lambda: c.net.infer(c.inputs, engine="quantum")),
        ("axis", lambda: A.reduce(axis=2)),
        ("dup", lambda: AssocArray.from_triples(["a", "a"], ["x", "x"], [1, 2], dup="sum")),
        ("convention", lambda: SparseDNN.from_layers([A], convention="diagonal")),
        ("bias_rule", lambda: SparseDNN.from_layers([A], bias_rule="some")),
        ("formulation", lambda: verify(c, formulation="guess")),
        ("how", lambda: collapse(A, A.T, how="min_plus")),
        ("contained", lambda: images(np.zeros((1, 2, 2), dtype=bool), contained="keep")),
        ("threads", lambda: resolve_threads(0)),
    ]


@pytest.mark.parametrize("param, call", _bad_calls(), ids=[p for p, _ in _bad_calls()])
def test_bad_argument_raises_argument_error_naming_it(param, call):
    with pytest.raises(ArgumentError) as info:
        call()
    assert isinstance(info.value, SymdnnError) and isinstance(info.value, ValueError)
    assert param in str(info.value), f"the message does not name {param}: {info.value}"


def test_bad_generator_argument_raises_argument_error(tmp_path):
    from symdnn.generators.radixnet import generate_radixnet

    with pytest.raises(ArgumentError, match="style"):
        generate_radixnet(tmp_path / "out", neurons=1024, layers=1, style="pretty")
    assert not (tmp_path / "out").exists()


def test_wrong_type_raises_argument_type_error():
    c = _net()
    with pytest.raises(ArgumentTypeError, match="Y0 must be an AssocArray") as info:
        c.net.infer({"ad": 1})
    assert isinstance(info.value, SymdnnError) and isinstance(info.value, TypeError)


# ------------------------------------------------------------------ the command line
@pytest.mark.parametrize("argv, words", [
    (["generate", "radixnet", "--neurons", "96", "--layers", "2"], "is not a power of two"),
    (["graph-challenge", "--generate", "radixnet:1024:0"], "--generate 'radixnet:1024:0'"),
])
def test_cli_bad_argument_value_exits_2_with_one_line(argv, words, tmp_path, capsys):
    from symdnn.cli import main

    if argv[0] == "generate":
        argv = argv + ["--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("symdnn ") and ": error: " in err, err
    assert words in err and "generate=" not in err  # the CLI speaks in flags, not name=
