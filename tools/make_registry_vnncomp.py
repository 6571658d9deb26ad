"""Regenerate the VNN-COMP 2023-2025 rows of symdnn/data/registry.tsv from the selection's
MANIFEST.tsv.

Usage::

    python tools/make_registry_vnncomp.py COPY > rows.tsv

COPY is a copy of the selection, laid out as the data sets ``vnncomp-2023``,
``vnncomp-2024`` and ``vnncomp-2025`` put it under the data root's ``vnncomp-2023-2025``
folder: ``YEAR/benchmarks/...``, ``YEAR/results/...`` and ``MANIFEST.tsv`` (local path,
sha256, size, ``owner/repo@commit:path``). Every file of the copy is checked against the
manifest (sha256 and size) before a row is written, and a file of the copy that the manifest
does not list is an error. The rows replace the ``vnncomp-2023``/``-2024``/``-2025`` rows of
the registry (this is how they were made, not part of symdnn).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from symdnn.data.registry import manifest_rows


def main(copy: str) -> int:
    root = Path(copy)
    text = (root / "MANIFEST.tsv").read_text(encoding="utf-8")
    listed = set()
    bad = 0
    for line in text.splitlines()[1:]:
        if not line.strip():
            continue
        local, sha, size, _ = line.split("\t")
        listed.add(local)
        data = (root / local).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha or len(data) != int(size):
            print(f"{local}: does not match MANIFEST.tsv", file=sys.stderr)
            bad += 1
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and rel.split("/")[0].isdigit() and rel not in listed:
            print(f"{rel}: not in MANIFEST.tsv", file=sys.stderr)
            bad += 1
    if bad:
        return 1
    sys.stdout.write("".join(r + "\n" for r in manifest_rows(text)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
