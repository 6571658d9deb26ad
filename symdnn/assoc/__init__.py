"""Associative arrays over semirings (Kepner et al. §II and Appendix A)."""

from __future__ import annotations

from symdnn.assoc import convert as _convert  # noqa: F401 (registers AssocArray.to_scipy ...)
from symdnn.assoc.array import AssocArray, default_semiring, infer_domain
from symdnn.assoc.keys import Prefix

__all__ = ["AssocArray", "Prefix", "default_semiring", "infer_domain"]
