"""Shared fixtures: deterministic hypothesis settings, the Graph Challenge folders (the data
itself is found by :mod:`tests.datafiles`) and a dask cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.datafiles import GC_FIXTURE_IMAGES, GC_FIXTURE_LAYERS, fetch_hint, gc_folder, gc_full

# Fixed seeds: hypothesis draws the same examples on every run and machine.
settings.register_profile(
    "symdnn", derandomize=True, deadline=None, max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("symdnn")


@pytest.fixture
def gc_dir() -> Path:
    """The full Graph Challenge folder, ``$SYMDNN_DATA/graphchallenge`` (120 layers; flat or
    official layout); skips without it."""
    d = gc_full()
    if d is None:
        pytest.skip(fetch_hint("graphchallenge"))
    return d


@pytest.fixture
def gc_data() -> Path:
    """A Graph Challenge folder of at least 12 layers and 155 images: the full one where
    ``$SYMDNN_DATA`` has it, else ``tests/data/graphchallenge``."""
    return gc_folder(GC_FIXTURE_LAYERS, GC_FIXTURE_IMAGES)


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
