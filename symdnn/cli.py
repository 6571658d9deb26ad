"""The ``symdnn`` command line: a thin front end over the public API."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from symdnn import __version__
from symdnn.errors import SymdnnError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symdnn",
        description="Verify sparse ReLU deep neural networks in exact arithmetic "
                    "(Kepner et al., Sparse Deep Neural Network Exact Solutions, 2018).",
    )
    parser.add_argument("--version", action="version", version=f"symdnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo", help="run the paper's two-letter-word layer exactly and check Y1 == I",
        description="Build the two-letter-word network of the paper (Fig. 6), run one ReLU "
                    "layer over the oscillating semirings in exact arithmetic, and check that "
                    "the output is the identity.",
    )
    demo.set_defaults(func=_cmd_demo)

    gc = sub.add_parser(
        "graph-challenge", help="run the Sparse DNN Graph Challenge and check its categories",
        description="Run the MIT/IEEE Sparse DNN Graph Challenge from its files (official "
                    "layout DNN/neuronN/, MNIST/sparse-images-N.tsv, or the flat layout of the "
                    "shared data), print the categories and compare them with the official "
                    "truth. Exit status: 0 match, 1 mismatch, 3 no truth file to check against.",
    )
    gc.add_argument("data_dir", metavar="DATA_DIR")
    gc.add_argument("--neurons", type=int, default=1024, help="network width (default 1024)")
    gc.add_argument("--layers", type=int, default=120, help="number of layers (default 120)")
    gc.add_argument("--images", type=int, default=None,
                    help="use only the first N images (default: all in the file)")
    gc.add_argument("--arith", default="exact",
                    choices=["exact", "fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"],
                    help="arithmetic (default exact)")
    gc.add_argument("--accumulate", default=None,
                    help="float runs: accumulation format (default: the --arith format)")
    gc.add_argument("--quiet", action="store_true", help="no progress bar")
    gc.set_defaults(func=_cmd_graph_challenge)
    return parser


class Progress:
    """A one-line progress bar on stderr (a line every 10% when stderr is not a terminal)."""

    def __init__(self, label: str):
        self.label = label
        self.start = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        frac = done / total
        elapsed = time.perf_counter() - self.start
        if self.tty:
            bar = "#" * int(30 * frac)
            sys.stderr.write(f"\r{self.label} [{bar:<30}] {done}/{total} {elapsed:6.1f} s")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif int(10 * frac) != self.last:
            self.last = int(10 * frac)
            sys.stderr.write(f"{self.label}: {done}/{total} layers, {elapsed:.1f} s\n")


def _cmd_graph_challenge(args: argparse.Namespace) -> int:
    from symdnn.challenge import run_challenge

    progress = None if args.quiet else Progress(f"graph-challenge {args.arith}")
    result = run_challenge(args.data_dir, neurons=args.neurons, layers=args.layers,
                           images=args.images, arith=args.arith, accumulate=args.accumulate,
                           progress=progress)
    print(result.summary())
    if result.matches is None:
        return 3
    return 0 if result.matches else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from symdnn.demo import run_demo

    result = run_demo()
    print(result.report())
    return 0 if result.is_identity else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symdnn`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except SymdnnError as exc:
        print(f"symdnn {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
