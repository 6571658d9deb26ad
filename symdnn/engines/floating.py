"""The float engine: scipy.sparse in the network's float format.

fp64 and fp32 run in scipy's SpGEMM in that format. fp16, bf16 and fp8 have no scipy kernels:
with ``accumulate`` wider than the format (fp32, fp64) the products (exact in fp32 for these
formats) and sums run in scipy at that width and each result is rounded once to the format;
with ``accumulate`` equal to the format every product and every partial sum is rounded to the
format, in input-key order. Bias, ReLU and cap are applied in the format.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn import intmm
from symdnn.domains import FloatDomain, narrow, round_exact

__all__ = ["float_step", "float_product", "product_key", "float_layer"]


def _spgemm_in_format(Y: sp.csr_matrix, W: sp.csr_matrix, dom: FloatDomain) -> sp.csr_matrix:
    R, n_out = Y.shape[0], W.shape[1]
    rows = np.flatnonzero(np.diff(Y.indptr))
    r, c, ia, ib = intmm.expand_products(Y.indptr.astype(np.int64), Y.indices.astype(np.int64),
                                         W.indptr.astype(np.int64),
                                         W.indices.astype(np.int64), rows)
    prod = narrow(Y.data[ia] * W.data[ib], dom.format_)  # exact in float64, rounded once
    lin = r * n_out + c
    order = np.argsort(lin, kind="stable")
    lin = lin[order]
    if len(lin) == 0:
        return sp.csr_matrix((R, n_out), dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, lin[1:] != lin[:-1]])
    sums = dom.reduceat("plus", prod[order], starts)
    lin = lin[starts]
    M = sp.csr_matrix((sums.astype(np.float64), (lin // n_out, lin % n_out)), shape=(R, n_out))
    return M


def float_product(Y: sp.csr_matrix, W: sp.csr_matrix, *, dom: FloatDomain,
                  acc: FloatDomain) -> sp.csr_matrix:
    """``Y W`` as :func:`float_step` computes it, before the one rounding into ``dom``: with
    ``acc`` wider than ``dom`` in scipy's SpGEMM at that width, else in the format. Its
    indices are sorted. Runs whose ``Y``, ``W`` and kernel agree share one product
    (:func:`product_key`).

    Examples
    --------
    >>> from symdnn.domains import get_domain
    >>> Y = sp.csr_matrix(np.array([[1.0, 2.0]]))
    >>> W = sp.csr_matrix(np.array([[0.5, 0.0], [0.25, 1.0]]))
    >>> float_product(Y, W, dom=get_domain("bf16"), acc=get_domain("fp32")).toarray()
    array([[1., 2.]], dtype=float32)
    """
    if acc.name == dom.name and dom.name not in ("fp64", "fp32"):
        A = _spgemm_in_format(Y, W, dom)
    else:  # scipy at the accumulation width (casts into it are exact: they only widen)
        A = Y.astype(acc.dtype, copy=False) @ W.astype(acc.dtype, copy=False)
    A = A.tocsr()
    if not A.has_sorted_indices:  # two linear transposes: faster than sorting every row
        A = A.tocsc().tocsr()
    return A


def product_key(dom: FloatDomain, acc: FloatDomain) -> str:
    """The kernel :func:`float_product` runs for ``dom`` accumulating in ``acc``: two runs
    with the same key and bitwise equal ``Y`` and ``W`` get the same product.

    Examples
    --------
    >>> from symdnn.domains import get_domain
    >>> fp32, fp16, bf16 = (get_domain(f) for f in ("fp32", "fp16", "bf16"))
    >>> product_key(fp16, fp32) == product_key(bf16, fp32) == product_key(fp32, fp32)
    True
    >>> product_key(fp16, fp16) == product_key(bf16, bf16)
    False
    """
    if acc.name == dom.name and dom.name not in ("fp64", "fp32"):
        return f"in {dom.name}"
    return f"scipy {acc.dtype}"


def float_step(Y: sp.csr_matrix, W: sp.csr_matrix, bias: np.ndarray | None, *, rule: str,
               cap: float | None, dom: FloatDomain, acc: FloatDomain,
               record: bool = False, product: sp.csr_matrix | None = None
               ) -> tuple[sp.csr_matrix, tuple | None]:
    """One layer in floating point. ``Y`` and ``W`` hold values of the format (as float64
    arrays for fp16/bf16/fp8, in the format's dtype for fp64/fp32). Returns the next ``Y`` and,
    with ``record``, the pre-activations ``(indptr, indices, values)``. ``product`` is
    :func:`float_product` of ``Y`` and ``W`` where it is known already (it is not
    modified)."""
    dt = dom.dtype
    A = float_product(Y, W, dom=dom, acc=acc) if product is None else product
    if acc.name != dom.name:  # one rounding from acc
        A = sp.csr_matrix((narrow(A.data, dom.format_).astype(A.dtype), A.indices, A.indptr),
                          shape=A.shape)
    R, n_out = A.shape
    store = np.float64 if dom.name != "fp32" else np.float32
    full = bias is not None and bias.ndim == 2
    if full or (rule == "all" and ((bias is not None and (bias > 0).any()) or record)):
        P = A.toarray().astype(dt)
        where = P != 0 if rule == "nonzero" else np.ones(P.shape, dtype=bool)
        if bias is not None:
            b2 = bias.astype(dt) if full else bias.astype(dt)[None, :]
            P = np.where(where, (P + b2).astype(dt), P).astype(dt)
        r, c = np.nonzero(where)
        indptr = np.zeros(R + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=R), out=indptr[1:])
        vals, indices = P[r, c], c
        pre = (indptr.copy(), c.copy(), vals.astype(np.float64)) if record else None
    else:
        # Narrower formats work in float32, which holds all their values: a sum rounded to
        # float32 and then once into the format is the sum rounded once into the format
        # (float32 has 24 >= 2p + 2 bits), as NumPy and ml_dtypes compute it themselves, at
        # a tenth of the cost; comparisons and the cap's minimum are exact in any width.
        wide = dom.name not in ("fp64", "fp32")
        if wide:
            dt = np.dtype(np.float32)
        vals = A.data.astype(dt)
        indptr, indices = A.indptr, A.indices
        if rule == "nonzero":
            keep0 = vals != 0
            ck = np.concatenate([[0], np.cumsum(keep0)])
            indptr, indices, vals = ck[indptr], indices[keep0], vals[keep0]
        if bias is not None:
            vals = (vals + bias.astype(dt)[indices]).astype(dt)
            if wide:  # one rounding into the format
                vals = vals.astype(dom.dtype).astype(dt)
        pre = (indptr.copy(), indices.copy(), vals.astype(np.float64)) if record else None
    keep = vals > 0
    ck = np.concatenate([[0], np.cumsum(keep)])
    vals = vals[keep]
    if cap is not None:  # the cap in the format (callers pass it rounded once already)
        vals = np.minimum(vals, dt.type(dom.dtype.type(cap))).astype(dt)
    out = sp.csr_matrix((vals.astype(store), indices[keep], ck[indptr]), shape=(R, n_out))
    return out, pre


def float_layer(g: Any, dom: FloatDomain) -> sp.csr_matrix:
    """A layer's weights in a float format: each distinct decimal string rounded once.

    Examples
    --------
    >>> from symdnn.domains import get_domain
    >>> from symdnn.generators.radixnet import radixnet_layers
    >>> g = next(radixnet_layers(1024, 1))
    >>> W = float_layer(g, get_domain("bf16"))
    >>> W.shape, set(W.data.tolist())          # 1/16 is a bf16 value
    ((1024, 1024), {0.0625})
    """
    store = np.float32 if dom.name == "fp32" else np.float64
    by_num = {}
    for s, f in g.values.items():
        num = int(f * g.d)
        # a decimal string parsed as a float64 is one correct rounding; p/q is rounded here
        by_num[num] = float(s) if dom.name == "fp64" and "/" not in s else \
            float(round_exact(Fraction(f), dom.format_))
    nums = g.N.data
    if len(by_num) == 1:  # one value a layer, as in the Graph Challenge's files
        data = np.full(len(nums), next(iter(by_num.values())), dtype=store)
    else:
        uniq, inv = np.unique(nums, return_inverse=True)
        data = np.array([by_num[int(u)] for u in uniq], dtype=store)[inv]
    return sp.csr_matrix((data, g.N.indices, g.N.indptr), shape=g.N.shape)
