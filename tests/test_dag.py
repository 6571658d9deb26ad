"""The package DAG: symdnn's packages import only downward (docs: DESIGN.md, "Architecture").

Every import in ``symdnn/`` -- at module top, inside a function, under ``if TYPE_CHECKING`` --
is mapped to the top-level package or module it reaches (``symdnn.io.text`` -> ``io``;
``from symdnn import semirings`` -> ``semirings``) and must point to a strictly lower level of
``LEVELS``. Imports inside a package (``io`` -> ``io``) are that package's own business.
``symdnn/__init__.py`` is the facade: it may import anything, and nothing imports it.
Doctest lines are text, not imports, and are not checked.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "symdnn"

#: lowest first; an import must point to a strictly lower level. The coarse order of
#: DESIGN.md -- errors < domains, semirings < assoc < io < network, engines < analysis, audit,
#: certify, witness, suite < plotting, cli -- refined where the packages use each other.
LEVELS: list[set[str]] = [
    {"errors", "_version"},
    {"intmm", "_optional"},  # _optional imports errors, so sits just above it
    {"domains", "semirings"},
    {"assoc", "laws"},
    {"io", "formulations"},
    {"results", "generators"},  # the result protocol; the RadiX-Net writer (errors, io only)
    {"engines", "verification"},  # the engines' LayerStream makes RadiX-Net layers in memory
    {"network"},
    {"data"},
    {"constructions", "parallel"},
    {"challenge", "analysis", "witness"},
    {"audit"},
    {"certify", "suite"},
    {"plotting"},
    {"demo"},
    {"cli"},
]
RANK = {name: i for i, level in enumerate(LEVELS) for name in level}

#: arrows that still climb, each with what remains to be done; empty when the DAG holds
KNOWN: set[tuple[str, str]] = set()


def _unit(path: pathlib.Path) -> str:
    """The top-level package or module a file of symdnn belongs to."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return "__init__" if parts == ("__init__",) else parts[0]


def _targets(node: ast.AST) -> list[str]:
    """The top-level symdnn units an import statement reaches."""
    if isinstance(node, ast.Import):
        return [a.name.split(".")[1] for a in node.names
                if a.name.startswith("symdnn.")] + \
               ["__init__" for a in node.names if a.name == "symdnn"]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        mod = node.module.split(".")
        if mod[0] != "symdnn":
            return []
        if len(mod) > 1:
            return [mod[1]]
        # ``from symdnn import x``: a submodule is that unit, anything else is the facade
        return [a.name if a.name in RANK else "__init__" for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.level:
        raise AssertionError(f"relative import at line {node.lineno}: symdnn uses absolute ones")
    return []


def imports() -> list[tuple[str, str, str]]:
    """``(source unit, target unit, "file:line")`` for every symdnn import in the package."""
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        src = _unit(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for dst in _targets(node) if isinstance(node, ast.Import | ast.ImportFrom) else ():
                if dst != src:
                    out.append((src, dst, f"{path.relative_to(ROOT.parent)}:{node.lineno}"))
    return out


def test_every_unit_has_a_level():
    units = {_unit(p) for p in ROOT.rglob("*.py")} - {"__init__"}
    assert units - RANK.keys() == set(), "give each new module a level in LEVELS"


def test_imports_point_down():
    climbing = []
    for src, dst, where in imports():
        if src == "__init__":
            continue  # the facade re-exports from everywhere
        if dst == "__init__" or RANK[dst] >= RANK[src]:
            if (src, dst) not in KNOWN:
                climbing.append(f"{where}: {src} -> {dst}")
    assert climbing == [], "imports that climb the package DAG:\n" + "\n".join(climbing)


def test_known_exceptions_still_exist():
    """A known exception that has been fixed must leave KNOWN, so the test tightens."""
    seen = {(s, d) for s, d, _ in imports()}
    assert KNOWN - seen == set()


@pytest.mark.parametrize("case", [
    ("from symdnn import semirings as _sr", ["semirings"]),
    ("from symdnn import __version__", ["__init__"]),
    ("from symdnn.io.text import tsv_lines", ["io"]),
    ("import symdnn.plotting", ["plotting"]),
    ("import numpy", []),
])
def test_import_mapping(case):
    source, expected = case
    assert _targets(ast.parse(source).body[0]) == expected


HEAVY = {"onnx", "onnxruntime", "graphblas", "dask", "distributed", "torch", "matplotlib"}


def test_import_symdnn_loads_nothing_optional_or_heavy():
    code = ("import symdnn, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(HEAVY)!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT.parent)
    assert out.stdout.strip() == "[]"


def test_io_registers_the_array_file_methods():
    """assoc imports nothing from io; io registers AssocArray.read_tsv/.write_tsv, and any import
    of symdnn (which always runs symdnn/__init__.py first) does so."""
    code = "from symdnn.assoc.array import FILE_FORMATS; print(sorted(FILE_FORMATS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT.parent)
    assert out.stdout.strip() == "['read_tsv', 'write_tsv']"


def test_assoc_registers_the_array_conversions():
    """array imports nothing from convert (convert imports array); convert registers
    AssocArray.to_scipy ... from_networkx, and symdnn.assoc imports it."""
    code = "from symdnn.assoc.array import CONVERSIONS; print(sorted(CONVERSIONS))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT.parent)
    assert out.stdout.strip() == str(sorted(["to_scipy", "from_scipy", "to_sympy", "from_sympy",
                                             "to_networkx", "from_networkx"]))
