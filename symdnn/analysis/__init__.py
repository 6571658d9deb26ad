"""Perturbation analysis (paper §VI, Appendix B done right): sub-DNNs by path analysis, the
closed-form threshold, exact piecewise-linear evaluation in the perturbation, P_d and P_fa."""

from __future__ import annotations

from symdnn.analysis.perturbation import PairResult, ThresholdReport, analyze
from symdnn.analysis.piecewise import Interval, piecewise
from symdnn.analysis.subdnn import SubDNN, layered_graph, reached, support
from symdnn.analysis.thresholds import ClosedForm, beta_symbols, closed_form

__all__ = [
    "analyze", "ThresholdReport", "PairResult", "piecewise", "Interval", "layered_graph",
    "support", "reached", "SubDNN", "closed_form", "ClosedForm", "beta_symbols",
]
