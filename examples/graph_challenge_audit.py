"""Audit fp64, fp32, fp16 and bf16 runs of the Graph Challenge against exact arithmetic and
write the report (JSON, Markdown, plots) to a new folder.

Run, from the repository root, on the small Graph Challenge cut shipped with the tests:

    python examples/graph_challenge_audit.py tests/data/graphchallenge gc-audit --layers 12

or, after ``symdnn data fetch graphchallenge-1024``, on the official network (120 layers by
default; DATA_DIR defaults to the folder ``symdnn data path graphchallenge-1024`` prints):

    python examples/graph_challenge_audit.py --images 1200

OUT_DIR (default ``gc-audit``) must not exist: the script stops with exit status 2 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from symdnn import SymdnnError
from symdnn.audit import audit_graph_challenge
from symdnn.plotting import plot_audit


def fail(message: str) -> None:
    """One line on stderr and exit status 2 (bad input or usage), as symdnn's commands do."""
    print(f"graph_challenge_audit.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def default_data() -> Path:
    """Where ``symdnn data fetch graphchallenge-1024`` puts the Graph Challenge."""
    try:
        from symdnn.data import dataset_path
    except ImportError:  # a symdnn without the data registry: $SYMDNN_DATA/graphchallenge
        return Path(os.environ.get("SYMDNN_DATA", "symdnn-data")) / "graphchallenge"
    return Path(dataset_path("graphchallenge-1024"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", type=Path, default=None,
                    help="the Graph Challenge folder (default: the fetched graphchallenge-1024)")
    ap.add_argument("out", nargs="?", default="gc-audit", help="a new folder for the report")
    ap.add_argument("--layers", type=int, default=120, help="number of layers (default 120)")
    ap.add_argument("--images", type=int, default=None, help="only the first N images")
    args = ap.parse_args()
    data = args.data or default_data()
    if not data.is_dir():
        fail(f"{data} not found: fetch it with 'symdnn data fetch graphchallenge-1024', or give "
             "a Graph Challenge folder such as tests/data/graphchallenge")
    if os.path.lexists(args.out):
        fail(f"{args.out} exists; give a new folder")
    try:
        report = audit_graph_challenge(str(data), formats=["fp64", "fp32", "fp16", "bf16"],
                                       layers=args.layers, images=args.images)
        for path in report.write(args.out, figures=plot_audit):
            print("wrote", path)
    except SymdnnError as exc:
        fail(str(exc))
    print(report.to_markdown())


if __name__ == "__main__":
    main()
