"""The domains by name: one instance of each (``SYM``, ``BOOL``, ``SET``, ``FP64`` ...
``FP8_E5M2``; ``ZZ`` and ``QQ`` live in :mod:`symdnn.domains.rational`), :func:`get_domain`
and :func:`domain_names`. :mod:`symdnn.domains` re-exports them."""

from __future__ import annotations

from symdnn.domains import base as _base
from symdnn.domains.base import Domain
from symdnn.domains.floats import FORMATS, FloatDomain
from symdnn.domains.other import BoolDomain, SetDomain, SymbolicDomain
from symdnn.domains.rational import QQ, ZZ
from symdnn.errors import UnknownDomain

__all__ = ["SYM", "BOOL", "SET", "FP64", "FP32", "FP16", "BF16", "FP8_E4M3", "FP8_E5M2",
           "get_domain", "domain_names"]

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


# Domain.__reduce__ pickles a domain as get_domain(name) (base.py sits below this module)
_base.LOOKUP["get_domain"] = get_domain
