"""The names symdnn's doctests use for real files: the small copies in ``tests/data`` (see its
README), so that the examples run in any clone, and an ONNX backend node test made by the
installed ``onnx``."""

from __future__ import annotations

import pytest

from tests.datafiles import FIXTURES, onnx_node_tests, write_onnx_node_tests

VNNCOMP = FIXTURES / "vnncomp"


@pytest.fixture(scope="session", autouse=True)
def _data_for_doctests(doctest_namespace, tmp_path_factory):
    doctest_namespace.update(
        TESTS_DATA=FIXTURES,
        TEST_NANO=VNNCOMP / "benchmarks" / "test" / "test_nano.onnx",
        ACASXU_1_1=VNNCOMP / "benchmarks" / "acasxu" / "onnx" /
        "ACASXU_run2a_1_1_batch_2000.onnx.gz",
        VNNCOMP_BENCHMARKS=VNNCOMP / "benchmarks",
        VNNCOMP_RESULTS=VNNCOMP / "results",
    )
    relu = onnx_node_tests(("relu",))
    if relu:  # without onnx, the examples that need it fail on the missing name
        folder = write_onnx_node_tests(tmp_path_factory.mktemp("onnx-node"), relu)
        doctest_namespace["RELU_INPUT"] = folder / "test_relu" / "test_data_set_0" / "input_0.pb"
