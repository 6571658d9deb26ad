"""Value domains: exact (``ZZ``, ``QQ`` via python-flint), symbolic (``SYM``, SymPy), boolean,
finite sets, and the float formats ``fp64`` ... ``fp8_e5m2``.

The domain does the bookkeeping; elements stay raw scalars. Mixing domains is always explicit
(``AssocArray.convert_to``).

Examples
--------
>>> from symdnn.domains import get_domain, QQ
>>> get_domain("QQ") is QQ
True
>>> get_domain("bf16")
bf16
"""

from __future__ import annotations

from symdnn.domains.base import NEG_INF, POS_INF, Domain, Infinity
from symdnn.domains.floats import (
    FORMATS,
    FloatDomain,
    FloatFormat,
    accumulation_format,
    get_format,
    narrow,
    round_exact,
    round_ratio,
    round_rationals,
    round_values,
    ulp_distance,
)
from symdnn.domains.other import UNIVERSE, BoolDomain, SetDomain, SymbolicDomain
from symdnn.domains.rational import QQ, ZZ, RationalDomain, RatVec, exact_parts
from symdnn.domains.registry import (
    BF16,
    BOOL,
    FP8_E4M3,
    FP8_E5M2,
    FP16,
    FP32,
    FP64,
    SET,
    SYM,
    domain_names,
    get_domain,
)

__all__ = [
    "Domain", "Infinity", "POS_INF", "NEG_INF", "RatVec", "RationalDomain", "ZZ", "QQ",
    "SymbolicDomain", "SYM", "BoolDomain", "BOOL", "SetDomain", "SET", "UNIVERSE",
    "FloatDomain", "FloatFormat", "FORMATS", "get_format", "round_exact", "round_ratio",
    "round_rationals", "round_values", "narrow", "ulp_distance", "exact_parts",
    "accumulation_format",
    "get_domain", "domain_names", "FP64", "FP32", "FP16", "BF16", "FP8_E4M3", "FP8_E5M2",
]
