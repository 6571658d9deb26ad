"""Precision certificates: which float formats reproduce every decision of a
network on given inputs, for any order of summation.

For every layer, input and neuron, the exact margin of each decision (``|z|`` at the ReLU,
``|z - YMAX|`` at the cap, ``|W y|`` where the Graph Challenge rule decides whether to add the
bias; the argmax gap and whether the output is nonzero at the end) is set against a rigorous
bound on how far any implementation in a format can be from the exact pre-activation, whatever
order it sums in (rounding of weights, bias and inputs; ``gamma_n`` for a sum of ``n``
products; the error carried in from the previous layer through ``|W|``; zero where the float
computation is provably exact). A decision is certified when its bound is below its margin,
or the bound is zero. The error model is in ``docs/certificates.md``, the propagation rule is
proved in ``proofs/proof_certificate.py``.
"""

from __future__ import annotations

from symdnn.certify.api import (
           DEFAULT_FORMATS,
           ariths,
           certify,
           certify_graph_challenge,
           certify_stream,
)
from symdnn.certify.bounds import Arith
from symdnn.certify.recheck import certify_challenge_files, certify_folder, recheck
from symdnn.certify.report import Certificate, FormatCertificate, LayerMargin

__all__ = ["certify", "certify_stream", "certify_graph_challenge", "Certificate",
           "FormatCertificate", "LayerMargin", "Arith", "ariths", "DEFAULT_FORMATS",
           "certify_folder", "certify_challenge_files", "recheck"]
