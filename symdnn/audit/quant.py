"""Symmetric int8 quantization with per-layer scales, the kind of run pruning-and-quantization
pipelines produce (seed 002 of the paper's context).

Weights: ``s_w = max|W| / 127``, ``W_q = round(W / s_w)``. Activations, per layer and per batch:
``s_y = max|Y| / 127``, ``Y_q = round(Y / s_y)``, both clipped to [-127, 127] and rounded half to
even. The product ``Y_q W_q`` is exact in integers; it is scaled back in float32, the bias added
in float32 (with the Graph Challenge rule, only on nonzero products), then ReLU and cap.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["quantize_weights", "int8_step"]


def quantize_weights(W: sp.csr_matrix) -> tuple[sp.csr_matrix, float]:
    """``(W_q, s_w)`` with int8 values in an int64 CSR matrix."""
    m = float(np.max(np.abs(W.data))) if W.nnz else 1.0
    s = m / 127 if m > 0 else 1.0
    q = np.clip(np.rint(W.data / s), -127, 127).astype(np.int64)
    return sp.csr_matrix((q, W.indices, W.indptr), shape=W.shape), s


def int8_step(Y: sp.csr_matrix, Wq: sp.csr_matrix, s_w: float, bias: np.ndarray | None, *,
              rule: str, cap: float | None) -> tuple[sp.csr_matrix, tuple]:
    """One quantized layer. Returns the next activations (float32 values in a float64 CSR)
    and the pre-activations ``(indptr, indices, values)``."""
    m = float(np.max(np.abs(Y.data))) if Y.nnz else 0.0
    s_y = m / 127 if m > 0 else 1.0
    Yq = sp.csr_matrix((np.clip(np.rint(Y.data / s_y), -127, 127).astype(np.int64), Y.indices,
                        Y.indptr), shape=Y.shape)
    Z = (Yq @ Wq).tocsr()
    Z.sort_indices()
    vals = (Z.data.astype(np.float32) * np.float32(s_y * s_w)).astype(np.float32)
    indptr, indices = Z.indptr, Z.indices
    if rule == "nonzero":
        nz = Z.data != 0
        ck = np.concatenate([[0], np.cumsum(nz)])
        indptr, indices, vals = ck[indptr], indices[nz], vals[nz]
    R, n = Z.shape
    if bias is not None:
        b = bias.astype(np.float32)
        if rule == "all" and (b > 0).any():
            P = np.zeros((R, n), dtype=np.float32)
            rr = np.repeat(np.arange(R), np.diff(indptr))
            P[rr, indices] = vals
            P += b[None, :]
            rr, indices = np.nonzero(np.ones_like(P, dtype=bool))
            vals = P[rr, indices]
            indptr = np.arange(R + 1) * n
        else:
            vals = (vals + b[indices]).astype(np.float32)
    pre = (np.asarray(indptr).copy(), np.asarray(indices).copy(), vals.astype(np.float64))
    keep = vals > 0
    ck = np.concatenate([[0], np.cumsum(keep)])
    out = vals[keep]
    if cap is not None:
        out = np.minimum(out, np.float32(cap))
    return sp.csr_matrix((out.astype(np.float64), indices[keep], ck[indptr]), shape=(R, n)), pre
