"""``symdnn ARGS`` run in a forked child of the test process: as a subprocess would run it
(its own stdout, stderr, exit status and working folder; killed past a time limit, so a
runaway in C such as ``10**999999999`` fails the test instead of hanging the run), without
the second or so a new interpreter spends importing symdnn."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

__all__ = ["run_cli"]


def run_cli(args: list[str], *, cwd: str | Path | None = None, limit: float = 60,
            memory: int | None = None) -> subprocess.CompletedProcess:
    """``symdnn ARGS`` in a forked child; ``returncode`` is the exit status main returns
    (``-9`` when the child was killed past ``limit`` seconds), ``memory`` caps what its
    address space may grow by, in bytes. An exception that escapes main is a traceback on
    stderr and status 99."""
    ctx = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp) / "out", Path(tmp) / "err"

        def child() -> None:
            import resource

            from symdnn.cli import main

            if memory is not None:  # on top of what the forked process has mapped already
                cap = _mapped() + memory
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
            if cwd is not None:
                os.chdir(cwd)
            sys.stdout = open(out, "w", encoding="utf-8")  # noqa: SIM115 (closed by _exit)
            sys.stderr = open(err, "w", encoding="utf-8")  # noqa: SIM115
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 (a traceback is what the test looks for)
                traceback.print_exc()
                code = 99
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code or 0)

        proc = ctx.Process(target=child)
        proc.start()
        proc.join(limit)
        if proc.is_alive():
            proc.kill()
            proc.join()
            code = -9
        else:
            code = proc.exitcode
        text = {p: p.read_text(encoding="utf-8", errors="replace") if p.exists() else ""
                for p in (out, err)}
    if code == -9:
        raise subprocess.TimeoutExpired(["symdnn", *map(str, args)], limit)
    return subprocess.CompletedProcess(["symdnn", *map(str, args)], code, text[out], text[err])


def _mapped() -> int:
    """The bytes of address space this process has mapped (Linux; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
