"""Helpers shared by the benchmark scripts: best-of-N wall time, peak memory, the data folder."""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The shortest of ``repeat`` runs, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def peak(fn: Callable[[], Any]) -> int:
    """Peak traced memory of one (untimed) run, in bytes."""
    tracemalloc.start()
    fn()
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top


def data_dir(sub: str) -> Path:
    """``$SYMDNN_DATA/sub``, by default ``../shared/data/sub`` beside the project root."""
    root = os.environ.get("SYMDNN_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    return Path(root) / sub
