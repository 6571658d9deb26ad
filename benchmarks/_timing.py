"""Helpers shared by the benchmark scripts: best-of-N wall time, paired repetitions, peak memory,
the data folder."""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

# where each data set lives under the data root, for a symdnn without `symdnn data`
_FOLDERS = {"graphchallenge-1024": "graphchallenge", "mnist": "mnist",
            "vnncomp-acasxu": "vnncomp/benchmarks/acasxu",
            "vnncomp-mnist_fc": "vnncomp/benchmarks/mnist_fc",
            "vnncomp-results": "vnncomp/results"}


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The shortest of ``repeat`` runs, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def paired(fns: dict[str, Callable[[], Any]], repeat: int) -> tuple[dict[str, list[float]],
                                                                   dict[str, Any]]:
    """Each function of ``fns`` timed once per repetition, one after the other within the
    repetition (so all see the same machine): ``(times, results)``, ``times[k][i]`` the time of
    ``fns[k]`` in repetition ``i`` and ``results[k]`` its last result. A ratio is then taken
    between two times of one repetition, never between the bests of different ones."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    out: dict[str, Any] = {}
    for _ in range(repeat):
        for k, fn in fns.items():
            t = time.perf_counter()
            out[k] = fn()
            times[k].append(time.perf_counter() - t)
    return times, out


def ratios(top: list[float], bottom: list[float]) -> str:
    """``top[i] / bottom[i]`` of each repetition, and their median, as printed."""
    r = sorted(a / b for a, b in zip(top, bottom, strict=True))
    each = ", ".join(f"{a / b:.2f}" for a, b in zip(top, bottom, strict=True))
    mid = r[len(r) // 2] if len(r) % 2 else (r[len(r) // 2 - 1] + r[len(r) // 2]) / 2
    return f"{each} (median {mid:.2f})"


def peak(fn: Callable[[], Any]) -> int:
    """Peak traced memory of one (untimed) run, in bytes."""
    tracemalloc.start()
    fn()
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top


def data_dir(name: str) -> Path:
    """The folder of data set ``name``, as ``symdnn data path NAME`` prints it (under
    ``$SYMDNN_DATA`` when set, else symdnn's data cache)."""
    try:
        from symdnn.data import dataset_path
    except ImportError:
        return Path(os.environ.get("SYMDNN_DATA", "symdnn-data")) / _FOLDERS[name]
    return Path(dataset_path(name))


def missing(name: str, path: Path) -> str:
    """What to say when data set ``name`` is not at ``path``."""
    return (f"skipped: {path} not found; fetch it with `symdnn data fetch {name}` "
            "(or set SYMDNN_DATA to a folder that has it)")
