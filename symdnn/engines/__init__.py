"""Inference engines behind one interface, :func:`infer`.

* ``engine="fast"``, ``arith="exact"``: the integer-scaled exact engine
  (:mod:`symdnn.engines.exact`), exact at float speed while a bound allows, multi-limb beyond.
* ``engine="fast"``, ``arith="fp64" | "fp32" | "fp16" | "bf16" | "fp8_e4m3" | "fp8_e5m2"``: the
  float engine on scipy.sparse (:mod:`symdnn.engines.floating`).
* ``engine="reference"``: the per-entry engine (:mod:`symdnn.engines.reference`), for every
  arithmetic including ``"symbolic"``; the oracle the tests compare the fast engines with.

All engines compute the same function: ``Y_{l+1} = h(W_l Y_l + b_l)`` in the network's
convention, with its bias rule and cap.
"""

from __future__ import annotations

# compile_float, batch_keys and round_vec are importable from here as before, though not in
# __all__
from symdnn.engines.inference import (
    InferenceResult,
    LayerRecord,
    SymbolicSignError,
    batch_keys,  # noqa: F401
    compile_exact,
    compile_float,  # noqa: F401
    infer,
    round_vec,  # noqa: F401
)
from symdnn.engines.stream import LayerStream, StreamLayer, exact_numerators

__all__ = ["infer", "InferenceResult", "LayerRecord", "SymbolicSignError", "compile_exact",
           "LayerStream", "StreamLayer", "exact_numerators"]
