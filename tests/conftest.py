"""Shared fixtures: deterministic hypothesis settings and the data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Fixed seeds: hypothesis draws the same examples on every run and machine.
settings.register_profile(
    "symdnn", derandomize=True, deadline=None, max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("symdnn")

ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """``$SYMDNN_DATA`` or ``../shared/data`` beside the project root."""
    return Path(os.environ.get("SYMDNN_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    d = data_dir()
    if not d.is_dir():
        pytest.skip(f"data folder {d} not found (set SYMDNN_DATA to the shared data folder)")
    return d


@pytest.fixture
def gc_dir(shared_data) -> Path:
    """The shared Graph Challenge folder (1024 neurons, 120 layers, 1200 images)."""
    d = shared_data / "graphchallenge"
    if not d.is_dir():
        pytest.skip(f"{d} not found")
    return d


@pytest.fixture(scope="session")
def dask_address():
    """A two-worker dask LocalCluster (worker processes), shared by the tests that use it."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
