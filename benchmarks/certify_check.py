"""Checking the Graph Challenge precision certificate again, against writing it.

From the files of the data set ``graphchallenge-1024`` (``symdnn data fetch
graphchallenge-1024``), in one process and one run of each: ``symdnn certify graph-challenge
DATA_DIR --formats fp64,fp32,fp16,bf16 --json CERT`` (certify, hash the files, write the JSON),
then ``symdnn certify --check CERT DATA_DIR IMAGES`` (symdnn's own re-check: the hashes, the
certificate again, every key compared), then the standard-library checker
``symdnn/certify/check_cert.py`` on the same files (skip it with --no-stdlib). Prints each
time as measured in this run, the ratio of each check to the certify run, and the verdicts.
The issue's targets, on the full network (120 layers, 1200 images): the standard-library
checker within 10 minutes, symdnn's own within 2x the certify run.

Run: python benchmarks/certify_check.py [--layers 120] [--images 1200] [--no-stdlib]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

from _timing import data_dir, missing

from symdnn.certify.recheck import certify_challenge_files, recheck

FORMATS = ["fp64", "fp32", "fp16", "bf16"]


def _stdlib_checker():
    """The checker loaded from its file, as a user runs it (no symdnn import inside it)."""
    import symdnn.certify as C

    path = Path(C.__file__).parent / "check_cert.py"
    spec = importlib.util.spec_from_file_location("check_cert_standalone", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=120)
    ap.add_argument("--images", type=int, default=None, help="default: every image (1200)")
    ap.add_argument("--no-stdlib", action="store_true",
                    help="skip the standard-library checker")
    args = ap.parse_args()
    root = data_dir("graphchallenge-1024")
    if not root.is_dir():
        print(missing("graphchallenge-1024", root))
        return
    tmp = Path(tempfile.mkdtemp())
    cert_path = tmp / "cert.json"
    t0 = time.perf_counter()
    cert = certify_challenge_files(str(root), formats=FORMATS, layers=args.layers,
                                   images=args.images)
    js = cert.to_json()
    cert_path.write_text(json.dumps(js), encoding="utf-8")
    t_cert = time.perf_counter() - t0
    images = Path(root) / js["source"]["inputs_file"]
    print(f"network: {args.layers} layers, {js['inputs']} images, formats {', '.join(FORMATS)}")
    print(f"certify (from files, hashes, JSON):     {t_cert:8.2f} s   certified: "
          f"{js['certified']}")
    t0 = time.perf_counter()
    r = recheck(str(cert_path), str(root), str(images))
    t_own = time.perf_counter() - t0
    print(f"symdnn certify --check:                 {t_own:8.2f} s   ratio to certify "
          f"{t_own / t_cert:.2f}   exit {r.status}: {r.lines[0]}")
    if not args.no_stdlib:
        CC = _stdlib_checker()
        t0 = time.perf_counter()
        try:
            status, lines = CC.check(str(cert_path), str(root), str(images))
            head = "CERTIFIED" if status == 0 else "NOT CERTIFIED (every claim confirmed)"
        except (CC.Refuted, CC.Unreadable) as exc:
            status, lines, head = 1, [], f"refused: {exc}"
        t_std = time.perf_counter() - t0
        print(f"standard-library check_cert.py:        {t_std:8.2f} s   ratio to certify "
              f"{t_std / t_cert:.1f}   exit {status}: {head}")
        for line in lines:
            print(f"    {line}")


if __name__ == "__main__":
    main()
