"""Audit fp64, fp32, fp16 and bf16 runs of the Graph Challenge against exact arithmetic and
write the report (JSON, Markdown, plots).

Run: python examples/graph_challenge_audit.py [DATA_DIR] [OUT_DIR]
     (defaults: $SYMDNN_DATA/graphchallenge, or ../shared/data/graphchallenge; ./gc-audit)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from symdnn.audit import audit_graph_challenge


def main(data: str | None = None, out: str = "gc-audit") -> None:
    data = data or str(Path(os.environ.get(
        "SYMDNN_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) /
        "graphchallenge")
    report = audit_graph_challenge(data, formats=["fp64", "fp32", "fp16", "bf16"])
    for path in report.write(out):
        print("wrote", path)
    print(report.to_markdown())


if __name__ == "__main__":
    main(*sys.argv[1:])
