"""Every command of README.md and docs/*.md runs when pasted, in order, into one fresh folder.

The ```bash blocks of README.md, then of docs/index.md and every page it links to (in the
index's order), are run command by command in one new temporary folder that holds copies of
the repository's ``tests/data`` and ``examples`` (so repository-relative paths work), with
``SYMDNN_DATA`` pointing at an empty temporary folder and the repository's own symdnn first on
the path. The conventions the pages follow (docs/testing.md says them for readers):

* each command runs on its own (``bash -c``) in that folder; a line ending in ``\\`` continues
  on the next; comment-only lines are skipped;
* a command must exit with status 0, or with N when its last line carries ``# exit N``;
* a block whose first line is ``# needs: WHAT`` is not run (it needs a download, a clone, a
  cluster or the reader's own files); such blocks are counted by reason, and only their shell
  syntax is checked (``bash -n``).

Each ```python block of the same pages runs on its own in a fresh interpreter and must exit 0.

Marked slow: ``python -m pytest -m slow tests/test_docs_paste.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

pytestmark = pytest.mark.slow

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")
_NEEDS = re.compile(r"^#\s*needs:\s*(?P<what>.+)$")
_EXIT = re.compile(r"(?:^|\s)#\s*exit\s+(?P<status>\d+)\b")
_LINK = re.compile(r"\]\((?P<page>[\w.-]+\.md)\)")
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9-]*>")  # <YOUR-RUN-FOLDER>, only in blocks not run
_TIMEOUT = 300  # seconds, one command


class DocsPasteSummary(UserWarning):
    """What the docs paste test ran and skipped (shown in pytest's warnings summary)."""


@dataclass(frozen=True)
class Block:
    """One ```bash block: where it starts (page, line of its first command line) and its
    lines, with the fence's indentation removed."""

    page: str
    line: int
    lines: tuple[str, ...]

    @property
    def needs(self) -> str | None:
        """The reason the block is not run, from a first line ``# needs: WHAT``, else None."""
        first = next((ln.strip() for ln in self.lines if ln.strip()), "")
        m = _NEEDS.match(first)
        return m["what"].strip() if m else None


@dataclass(frozen=True)
class Command:
    """One command of a block: its text (continuation lines joined by bash itself), where it
    starts, and the exit status the page states for it."""

    page: str
    line: int
    text: str
    status: int


def pages() -> list[Path]:
    """README.md, docs/index.md, then the pages the index links to, in its order."""
    index = DOCS / "index.md"
    order = [ROOT / "README.md", index]
    for m in _LINK.finditer(index.read_text(encoding="utf-8")):
        page = DOCS / m["page"]
        if page.is_file() and page not in order:
            order.append(page)
    return order


def blocks(path: Path, language: str = "bash") -> list[Block]:
    """The ```bash (or other ``language``) blocks of a Markdown page, also inside list items."""
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or not m["lang"]:
            i += 1
            continue
        indent, lang, start = m["indent"], m["lang"], i + 1
        j = start
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        if lang == language:
            body = tuple(ln[len(indent):] if ln.startswith(indent) else ln.lstrip()
                         for ln in lines[start:j])
            out.append(Block(str(path.relative_to(ROOT)), start + 1, body))
        i = j + 1
    return out


def commands(block: Block) -> list[Command]:
    """The commands of a block that is run, each with its expected exit status."""
    out: list[Command] = []
    current: list[str] = []
    first = 0
    for k, raw in enumerate(block.lines):
        if not current:
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            first = block.line + k
        current.append(raw)
        if raw.rstrip().endswith("\\"):
            continue
        m = _EXIT.search(current[-1])
        out.append(Command(block.page, first, "\n".join(current), int(m["status"]) if m else 0))
        current = []
    if current:
        raise AssertionError(f"{block.page}:{first}: a command ends in '\\' at the block's end")
    return out


def _workspace(tmp: Path) -> tuple[Path, dict[str, str]]:
    """The fresh folder the commands run in, and their environment."""
    work = tmp / "paste"
    work.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "tests" / "data", work / "tests" / "data", ignore=ignore)
    shutil.copytree(ROOT / "examples", work / "examples", ignore=ignore)
    data = tmp / "symdnn-data"
    data.mkdir()
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "symdnn"  # the repository's symdnn, whatever is installed
    shim.write_text(f"#!{sys.executable}\nimport sys\n\nfrom symdnn.cli import main\n\n"
                    "if __name__ == '__main__':  # dask's worker processes import it again\n"
                    "    sys.exit(main())\n", encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    env = dict(os.environ)
    env.update({
        "SYMDNN_DATA": str(data),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                                 env.get("PATH", "")]),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return work, env


def test_every_page_is_listed_in_the_index():
    listed = {p.name for p in pages()}
    missing = sorted(p.name for p in DOCS.glob("*.md") if p.name not in listed)
    assert not missing, f"docs/index.md does not link to: {', '.join(missing)}"


def test_python_blocks_run(tmp_path):
    work, env = _workspace(tmp_path)
    failures = []
    found = [b for page in pages() for b in blocks(page, "python")]
    assert found, "no ```python block found"
    for block in found:
        r = subprocess.run([sys.executable, "-c", "\n".join(block.lines)], cwd=work, env=env,
                           capture_output=True, text=True, timeout=_TIMEOUT)
        if r.returncode:
            failures.append(f"{block.page}:{block.line}: exit {r.returncode}\n"
                            + "\n".join(r.stderr.strip().splitlines()[-6:]))
    assert not failures, "\n".join(failures)


def test_docs_paste_in_order_into_one_fresh_folder(tmp_path):
    work, env = _workspace(tmp_path)
    all_blocks = [b for page in pages() for b in blocks(page)]
    assert all_blocks, "no ```bash block found"
    skipped: Counter[str] = Counter()
    failures: list[str] = []
    ran = blocks_run = 0
    took: list[tuple[float, Command]] = []
    t0 = time.perf_counter()
    for block in all_blocks:
        if block.needs is not None:
            reason = re.split(r"[(,;:]", block.needs)[0].strip()
            skipped[reason] += 1
            text = _PLACEHOLDER.sub("PLACEHOLDER", "\n".join(block.lines))
            syntax = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
            if syntax.returncode:
                failures.append(f"{block.page}:{block.line}: shell syntax: "
                                f"{syntax.stderr.strip()}")
            continue
        blocks_run += 1
        for cmd in commands(block):
            ran += 1
            start = time.perf_counter()
            try:
                r = subprocess.run(["bash", "-c", cmd.text], cwd=work, env=env,
                                   capture_output=True, text=True, timeout=_TIMEOUT)
                status, err = r.returncode, (r.stderr or r.stdout).strip()
            except subprocess.TimeoutExpired:
                status, err = None, f"still running after {_TIMEOUT} s"
            took.append((time.perf_counter() - start, cmd))
            if status != cmd.status:
                tail = "\n        ".join(err.splitlines()[-6:])
                failures.append(f"{cmd.page}:{cmd.line}: exit {status}, the page says "
                                f"{cmd.status}:\n    $ {cmd.text}\n        {tail}")
    seconds = time.perf_counter() - t0
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
    slowest = "; ".join(f"{s:.0f} s {c.page}:{c.line}"
                        for s, c in sorted(took, key=lambda x: -x[0])[:3])
    summary = (f"docs paste: {ran} commands in {blocks_run} blocks run in {seconds:.0f} s "
               f"(slowest: {slowest}); {sum(skipped.values())} blocks skipped ({why})")
    print(summary)
    assert not failures, summary + "\n" + "\n".join(failures)
    warnings.warn(summary, DocsPasteSummary, stacklevel=1)
