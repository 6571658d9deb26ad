"""Cross-check floating-point runs against exact arithmetic and report precisely where and why
they depart from the truth: ReLU decisions that flip, exact zeros that turn positive,
caps, categories, ulps; for symdnn's own formats, int8, or any foreign implementation."""

from __future__ import annotations

from symdnn.audit.api import audit_graph_challenge, audit_network, audit_stream, default_runs
from symdnn.audit.compare import LayerFindings, compare_layer
from symdnn.audit.report import POLICY_KINDS, AuditReport, parse_policy
from symdnn.audit.runner import Lockstep, Run, RunResult

__all__ = [
    "Run", "RunResult", "Lockstep", "AuditReport", "LayerFindings", "audit_stream",
    "audit_graph_challenge", "audit_network", "compare_layer", "parse_policy",
    "POLICY_KINDS", "default_runs",
]
