"""A large certified suite: generate a RadiX-Net-style network (4096 neurons, 480 layers, 64
random 0/1 inputs), build its certified suite, verify it from its own files, and grade an
output file with one value altered by one ulp (it must fail, naming that output). Prints the
time of every step. Needs about 2.5 GB of disk and a few minutes.

Run: python benchmarks/suite_radixnet.py [--neurons 4096] [--layers 480] [--dir /tmp/rx]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from symdnn.generators import generate_radixnet
from symdnn.suite import build_suite, grade_suite, verify_suite


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=4096)
    ap.add_argument("--layers", type=int, default=480)
    ap.add_argument("--inputs", type=int, default=64)
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="symdnn-suite-"))
    try:
        t = time.perf_counter()
        generate_radixnet(work / "net", neurons=args.neurons, layers=args.layers,
                          inputs=args.inputs, density=0.5)
        t_gen = time.perf_counter() - t
        t = time.perf_counter()
        suite = build_suite(work / "net", work / "suite", neurons=args.neurons,
                            layers=args.layers)
        t_build = time.perf_counter() - t
        t = time.perf_counter()
        check = verify_suite(suite, checker=False)  # check.py is pure Python: hours here
        t_verify = time.perf_counter() - t
        rows = [ln.split("\t")[:3] for ln in
                (suite / "expected" / "fp32.tsv").read_text().splitlines()]
        i = len(rows) // 2
        v = np.float32(float.fromhex(rows[i][2]))
        rows[i][2] = float(np.nextafter(v, np.float32(0))).hex()
        (work / "results.tsv").write_text("".join("\t".join(r) + "\n" for r in rows))
        grade = grade_suite(suite, work / "results.tsv", fmt="fp32")
        files = sum(1 for p in suite.rglob("*") if p.is_file())
        print(f"RadiX-Net {args.neurons} neurons x {args.layers} layers, {args.inputs} inputs")
        print(f"    generate {t_gen:7.1f} s   build suite {t_build:7.1f} s ({files} files)   "
              f"verify {t_verify:7.1f} s")
        print(f"    verify: {'VERIFIED' if check.ok else 'FAILED'}: {'; '.join(check.checked)}")
        print("    grade, one output moved by one ulp: " + grade.summary(1).replace("\n", " |"))
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
