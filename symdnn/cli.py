"""The ``symdnn`` command line: a thin front end over the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from symdnn import __version__

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
    return parser


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
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
