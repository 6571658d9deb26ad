"""Run folders in the audit: :func:`dump_runs` writes symdnn's own float runs as run files while
an audit compares them. Reading and writing run files lives in :mod:`symdnn.io.runfiles`
(its names stay importable from here)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from symdnn.errors import ArgumentError
from symdnn.io.outputs import output_folder
from symdnn.io.runfiles import FORMS, RunFolder, read_run_file, write_run_layer

__all__ = ["RunFolder", "write_run_layer", "dump_runs", "FORMS", "read_run_file"]


@contextmanager
def dump_runs(path: str | os.PathLike, *, form: str = "npz", force: bool = False,
              inputs: Sequence[str | os.PathLike] = (),
              what: str = "output folder") -> Iterator[Callable]:
    """A new folder holding symdnn's own float runs in the run-folder layout: yields the
    ``on_layer`` callback for :func:`symdnn.audit.audit_graph_challenge` and
    :func:`symdnn.audit.audit_network`, which writes ``{path}/{run}/layer-{l}.{form}`` and
    ``pre-{l}.{form}`` as each layer is compared (memory stays independent of depth). The
    folder is written to a temporary sibling and renamed into place only when the block ends
    without an error (see :func:`symdnn.io.outputs.output_folder`); ``runs.json`` in it
    names each run's format, to audit it back with ``--run NAME={path}/NAME:FORMAT``.
    ``what`` names the folder in error messages (the command line passes ``"--dump"``).

    Examples
    --------
    >>> import tempfile, os
    >>> from symdnn.constructions import selective
    >>> from symdnn.audit import audit_network
    >>> c = selective(["ad", "be"], "single", ["3/10"])
    >>> out = os.path.join(tempfile.mkdtemp(), "dump")
    >>> with dump_runs(out, form="tsv") as on_layer:
    ...     rep = audit_network(c.net, c.inputs, formats=["fp16"], on_layer=on_layer)
    >>> sorted(os.listdir(os.path.join(out, "fp16+acc_fp32")))
    ['layer-1.tsv', 'pre-1.tsv']
    """
    if form not in ("npz", "tsv"):
        raise ArgumentError(f"dump form {form!r}: npz or tsv")
    with output_folder(path, "audit-dump", force=force, inputs=inputs, what=what) as tmp:
        runs: dict = {}

        def on_layer(l: int, run: Any, pre: tuple | None, post: tuple, shape: tuple) -> None:
            if run.source != "symdnn":
                return
            d = tmp / run.name
            if run.name not in runs:
                d.mkdir()
                runs[run.name] = {"format": run.fmt, "accumulate": run.accumulate,
                                  "folder": run.name}
            write_run_layer(d, "layer", l, post[0], post[1], shape, form)
            if pre is not None:
                write_run_layer(d, "pre", l, pre[0], pre[1], shape, form)

        yield on_layer
        (tmp / "runs.json").write_text(json.dumps({"schema": "symdnn-run-dump/1",
                                                   "form": form, "runs": runs}, indent=1)
                                       + "\n", encoding="utf-8")
