"""Regenerate the VNN-COMP rows of symdnn/data/registry.tsv from a verified local copy.

Usage::

    python tools/make_registry.py COPY_2022 COPY_2021_TEST > rows.tsv

COPY_2022 is a copy of the VNN-COMP 2022 files laid out as the competition's repositories
(``benchmarks/{acasxu,mnist_fc}/...`` from ChristopherBrix/vnncomp2022_benchmarks and
``results/TOOL/{acasxu,mnist_fc}/...`` from ChristopherBrix/vnncomp2022_results);
COPY_2021_TEST is the ``benchmarks/test`` folder of stanleybak/vnncomp2021. The sha256 and
size of every file are those of the copy: check the copy against the repositories before use
(this is how the registry's rows were made, not part of symdnn).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

BENCH_2022 = ("https://github.com/ChristopherBrix/vnncomp2022_benchmarks/raw/"
              "c96a9c0fc7745e901f5f267a5e327c5d44d4e87d/benchmarks/")
RESULTS_2022 = "https://github.com/ChristopherBrix/vnncomp2022_results/raw/main/"
TEST_2021 = "https://github.com/stanleybak/vnncomp2021/raw/main/benchmarks/test/"


def row(dataset: str, rel: str, url: str, path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return "\t".join([dataset, rel, url, str(path.stat().st_size), f"sha256:{digest}", "-",
                      "file"])


def main(copy2022: str, test2021: str) -> None:
    c22, t21 = Path(copy2022), Path(test2021)
    for cat in ("acasxu", "mnist_fc"):
        base = c22 / "benchmarks" / cat
        for p in sorted(base.rglob("*")):
            if p.is_file():
                r = p.relative_to(base).as_posix()
                print(row(f"vnncomp-{cat}", f"vnncomp/benchmarks/{cat}/{r}",
                          f"{BENCH_2022}{cat}/{r}", p))
    for p in sorted((c22 / "results").rglob("*")):
        parts = p.relative_to(c22 / "results").parts
        if p.is_file() and len(parts) == 3 and parts[1] in ("acasxu", "mnist_fc") \
                and p.name != ".gitkeep":
            r = "/".join(parts)
            print(row("vnncomp-results", f"vnncomp/results/{r}", f"{RESULTS_2022}{r}", p))
    for p in sorted(t21.iterdir()):
        if p.is_file():
            print(row("vnncomp-test", f"vnncomp/benchmarks/test/{p.name}",
                      f"{TEST_2021}{p.name}", p))


if __name__ == "__main__":
    main(*sys.argv[1:])
