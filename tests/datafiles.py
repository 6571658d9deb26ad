"""Where the tests find their data: the full data sets in ``$SYMDNN_DATA``, the small real
copies in ``tests/data`` (see its README), the ONNX node tests in the installed ``onnx``.

A path is written as it lies under a data root (``vnncomp/benchmarks/acasxu/onnx/X.onnx``);
:func:`data_file` looks for it in ``$SYMDNN_DATA`` and then in ``tests/data``, as written or
gzipped, the way the competition and ``symdnn data fetch`` ship some of them. A test that needs
more than the fixtures hold asks :func:`full_file` (or marks itself with :func:`needs_gc`) and
is skipped, naming the command that fetches the data, where ``$SYMDNN_DATA`` lacks it.

Plain functions rather than conftest fixtures: test modules call them at import time, to
build their parameter lists.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

__all__ = ["FIXTURES", "GC_FIXTURE", "GC_FIXTURE_LAYERS", "GC_FIXTURE_IMAGES", "data_file",
           "data_folder", "fetch_hint", "full_file", "full_root", "gc_folder", "gc_full",
           "gc_has", "gc_images", "gc_layer", "needs_gc", "onnx_node_tests", "read_bytes",
           "read_text", "write_onnx_node_tests"]

FIXTURES = Path(__file__).resolve().parent / "data"
GC_FIXTURE = FIXTURES / "graphchallenge"
#: What the Graph Challenge fixture holds (tests/data/make_graphchallenge_fixture.py).
GC_FIXTURE_LAYERS, GC_FIXTURE_IMAGES = 12, 155

# the data sets of ``symdnn data fetch``, by the folder they fill under the data root
_DATASETS = (
    ("graphchallenge", "graphchallenge-1024", "the full Graph Challenge data (1024 neurons)"),
    ("mnist", "mnist", "the MNIST test set"),
    ("vnncomp/benchmarks/acasxu", "vnncomp-acasxu", "the full ACAS Xu benchmark"),
    ("vnncomp/benchmarks/mnist_fc", "vnncomp-mnist_fc", "the full mnist_fc benchmark"),
    ("vnncomp/benchmarks/test", "vnncomp-test", "the VNN-COMP test category"),
    ("vnncomp/results", "vnncomp-results", "the VNN-COMP 2022 results"),
    ("vnncomp-2023-2025/2023", "vnncomp-2023", "the VNN-COMP 2023 selection"),
    ("vnncomp-2023-2025/2024", "vnncomp-2024", "the VNN-COMP 2024 selection"),
    ("vnncomp-2023-2025/2025", "vnncomp-2025", "the VNN-COMP 2025 selection"),
)


def full_root() -> Path | None:
    """``$SYMDNN_DATA`` when it names a folder (the full data sets), else None."""
    root = os.environ.get("SYMDNN_DATA")
    return Path(root) if root and Path(root).is_dir() else None


def fetch_hint(rel: str) -> str:
    """What a test that needs ``rel`` from the full data says when it is skipped."""
    for folder, name, what in _DATASETS:
        if rel == folder or rel.startswith(folder + "/"):
            return f"needs {what}: symdnn data fetch {name} and set SYMDNN_DATA"
    return f"needs {rel} in $SYMDNN_DATA"


def _in(root: Path | None, rel: str) -> Path | None:
    if root is None:
        return None
    for p in (root / rel, root / f"{rel}.gz"):
        if p.exists():
            return p
    return None


def data_file(rel: str) -> Path:
    """``rel`` (or ``rel.gz``) in ``$SYMDNN_DATA``, else in ``tests/data``; skips without."""
    p = _in(full_root(), rel) or _in(FIXTURES, rel)
    if p is None:
        pytest.skip(fetch_hint(rel), allow_module_level=True)
    return p


def full_file(rel: str) -> Path:
    """``rel`` (or ``rel.gz``, a file or a folder) in ``$SYMDNN_DATA`` only; skips without."""
    p = _in(full_root(), rel)
    if p is None:
        pytest.skip(fetch_hint(rel), allow_module_level=True)
    return p


def data_folder(rel: str) -> Path:
    """The folder ``rel`` of ``$SYMDNN_DATA`` when it has one, else that of ``tests/data``."""
    root = full_root()
    if root is not None and (root / rel).is_dir():
        return root / rel
    return FIXTURES / rel


def read_bytes(path: Path) -> bytes:
    """A file's bytes, gunzipped when its name ends in ``.gz``."""
    data = Path(path).read_bytes()
    return gzip.decompress(data) if str(path).endswith(".gz") else data


def read_text(path: Path) -> str:
    return read_bytes(path).decode()


# ------------------------------------------------------------------ the Graph Challenge
def gc_layer(folder: Path, layer: int) -> Path | None:
    """Layer ``layer`` of the 1024-neuron network in the flat layout (``neuron1024/``) or the
    official one (``DNN/neuron1024/``), gzipped or not."""
    for sub in ("neuron1024", "DNN/neuron1024"):
        p = _in(folder, f"{sub}/n1024-l{layer}.tsv")
        if p is not None:
            return p
    return None


def gc_images(folder: Path) -> Path | None:
    """The input images: the 1200-image subset (flat layout) or the official file."""
    for rel in ("sparse-images-1024_subset.mtx", "sparse-images-1024.tsv",
                "MNIST/sparse-images-1024.tsv"):
        p = _in(folder, rel)
        if p is not None:
            return p
    return None


def gc_full() -> Path | None:
    """``$SYMDNN_DATA/graphchallenge`` when it holds the 1024-neuron network, else None."""
    root = full_root()
    folder = root / "graphchallenge" if root is not None else None
    return folder if folder is not None and gc_layer(folder, 1) is not None else None


def gc_has(layers: int = 0, images: int = 0) -> bool:
    """Whether :func:`gc_folder` holds that many layers and images (the full data does)."""
    return gc_full() is not None or (layers <= GC_FIXTURE_LAYERS and images <= GC_FIXTURE_IMAGES)


def _gc_hint(layers: int, images: int) -> str:
    return (f"{layers} layers and {images} images are more than tests/data holds; "
            + fetch_hint("graphchallenge"))


def needs_gc(layers: int = 0, images: int = 0) -> pytest.MarkDecorator:
    """Skip unless :func:`gc_folder` holds ``layers`` layers and ``images`` images."""
    return pytest.mark.skipif(not gc_has(layers, images), reason=_gc_hint(layers, images))


def gc_folder(layers: int = 0, images: int = 0) -> Path:
    """The full Graph Challenge folder where ``$SYMDNN_DATA`` has one, else the fixture's
    (12 layers, 155 images; the first 150 are those of the full data); skips when the
    fixture is asked for more than it holds."""
    if not gc_has(layers, images):
        pytest.skip(_gc_hint(layers, images))
    return gc_full() or GC_FIXTURE


# ------------------------------------------------------------------ the ONNX node tests
#: The operators whose ONNX backend node tests the importer is checked against.
NODE_OPERATORS = ("relu", "add", "sub", "mul", "matmul", "gemm", "clip", "sum", "max", "min")


def onnx_node_tests(operators: tuple[str, ...] = NODE_OPERATORS) -> list:
    """The installed ``onnx``'s backend node test cases of these operators (module names of
    ``onnx.backend.test.case.node``), in name order; [] without ``onnx``.

    Wheels of onnx 1.23 no longer ship ``onnx/backend/test/data/node``; the cases are made
    from ``onnx.backend.test.case.node``, the code that writes that folder, each from
    ``numpy.random.seed(0)`` as there (the files are byte for byte those of the folder).
    Importing only these operators' modules takes a fraction of collecting every case.
    """
    try:
        import importlib

        import onnx.backend.test.case.node as cases
    except ImportError:
        return []
    for op in operators:
        importlib.import_module(f"{cases.__name__}.{op}")
    # the list the modules' expect() calls fill as they are imported (onnx has no public
    # accessor but collect_testcases(), which imports and runs every operator's cases)
    found = getattr(cases, "_NodeTestCases", None)
    if found is None:
        found = cases.collect_testcases()
    keep = [c for c in found if c.name.split("_")[1] in operators]
    return sorted(keep, key=lambda c: c.name)


def write_onnx_node_tests(folder: Path, cases: list) -> Path:
    """Write cases as onnx's node test folders: ``NAME/model.onnx`` and
    ``NAME/test_data_set_0/{input,output}_K.pb``."""
    from onnx import numpy_helper

    for c in cases:
        d = folder / c.name / "test_data_set_0"
        d.mkdir(parents=True, exist_ok=True)
        (folder / c.name / "model.onnx").write_bytes(c.model.SerializeToString())
        inputs, outputs = c.data_sets[0]
        for kind, values, infos in (("input", inputs, c.model.graph.input),
                                    ("output", outputs, c.model.graph.output)):
            for k, (v, info) in enumerate(zip(values, infos, strict=False)):
                (d / f"{kind}_{k}.pb").write_bytes(
                    numpy_helper.from_array(v, info.name).SerializeToString())
    return folder
