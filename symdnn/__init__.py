"""symdnn: verify sparse ReLU deep neural networks in exact arithmetic.

Built on the associative-array algebra of Kepner, Gadepally, Jananthan, Milechin and Samsi,
"Sparse Deep Neural Network Exact Solutions" (2018).

Examples
--------
>>> import symdnn
>>> A = symdnn.AssocArray.from_triples(["a", "b"], ["x", "x"], ["1/2", "1/3"], domain="QQ")
>>> A.reduce()
5/6
>>> float(symdnn.round_exact(A.reduce(), "bf16"))
0.83203125

Which float formats reproduce every decision of a network, for any summation order:

>>> from symdnn.constructions import selective
>>> c = selective(["ad", "be"], "single", ["1"])
>>> symdnn.certify.certify(c.net, c.inputs, formats=["bf16", "fp8_e4m3"]).smallest_certified
'fp8_e4m3'
"""

from __future__ import annotations

from symdnn import certify, semirings
from symdnn._version import __version__
from symdnn.assoc import AssocArray, Prefix
from symdnn.domains import (
    BF16,
    BOOL,
    FP8_E4M3,
    FP8_E5M2,
    FP16,
    FP32,
    FP64,
    NEG_INF,
    POS_INF,
    QQ,
    SET,
    SYM,
    ZZ,
    get_domain,
    round_exact,
)
from symdnn.engines import InferenceResult, SymbolicSignError, infer
from symdnn.errors import (
    DomainError,
    DomainMismatch,
    DuplicateKeyError,
    KeyMismatch,
    KeyTypeError,
    ParseError,
    SemiringMismatch,
    SymdnnError,
    UnknownDomain,
    UnknownSemiring,
)
from symdnn.io import triples as _triples  # noqa: F401 (registers AssocArray.read/write_tsv)
from symdnn.laws import LawReport, check_laws
from symdnn.network import FullBias, SparseDNN
from symdnn.verification import Verification, verify

__all__ = [
    "AssocArray", "Prefix", "SparseDNN", "FullBias", "infer", "InferenceResult",
    "SymbolicSignError", "verify", "Verification", "certify", "semirings", "get_domain",
    "round_exact", "check_laws", "LawReport",
    "ZZ", "QQ", "SYM", "BOOL", "SET", "FP64", "FP32", "FP16", "BF16", "FP8_E4M3", "FP8_E5M2",
    "POS_INF", "NEG_INF",
    "SymdnnError", "KeyTypeError", "DomainError", "DomainMismatch", "SemiringMismatch",
    "UnknownSemiring", "UnknownDomain", "KeyMismatch", "DuplicateKeyError", "ParseError",
    "__version__",
]
