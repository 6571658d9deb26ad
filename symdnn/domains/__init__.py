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
from symdnn.errors import UnknownDomain

__all__ = [
    "Domain", "Infinity", "POS_INF", "NEG_INF", "RatVec", "RationalDomain", "ZZ", "QQ",
    "SymbolicDomain", "SYM", "BoolDomain", "BOOL", "SetDomain", "SET", "UNIVERSE",
    "FloatDomain", "FloatFormat", "FORMATS", "get_format", "round_exact", "round_ratio",
    "round_rationals", "round_values", "narrow", "ulp_distance", "exact_parts",
    "get_domain", "domain_names", "FP64", "FP32", "FP16", "BF16", "FP8_E4M3", "FP8_E5M2",
]

SYM = SymbolicDomain()
BOOL = BoolDomain()
SET = SetDomain()
FP64, FP32, FP16, BF16, FP8_E4M3, FP8_E5M2 = (FloatDomain(n) for n in FORMATS)

_DOMAINS: dict[str, Domain] = {
    d.name: d for d in (ZZ, QQ, SYM, BOOL, SET, FP64, FP32, FP16, BF16, FP8_E4M3, FP8_E5M2)
}
_ALIASES = {"symbolic": "SYM", "float64": "fp64", "float32": "fp32", "float16": "fp16",
            "bfloat16": "bf16", "int": "ZZ", "rational": "QQ", "bool": "BOOL", "set": "SET"}


def get_domain(name: str | Domain) -> Domain:
    """Look a domain up by name (``"QQ"``, ``"fp16"``, ``"SYM"``, ...).

    Raises
    ------
    UnknownDomain
        For an unknown name; the message lists the known ones.

    Examples
    --------
    >>> get_domain("float16"), get_domain("rational"), get_domain("SYM")
    (fp16, QQ, SYM)
    """
    if isinstance(name, Domain):
        return name
    key = _ALIASES.get(name, name) if isinstance(name, str) else name
    try:
        return _DOMAINS[key]
    except (KeyError, TypeError):
        raise UnknownDomain(
            f"unknown domain {name!r}; known domains: {', '.join(_DOMAINS)}"
        ) from None


def domain_names() -> list[str]:
    """Names of every domain."""
    return list(_DOMAINS)
