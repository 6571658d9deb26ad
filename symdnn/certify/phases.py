"""One layer in one arithmetic, in the phases docs/certificates.md names: the bound
(:func:`layer_bounds`, zero where provably exact), the verdicts (:func:`layer_verdicts`),
the propagation into the next layer (:func:`carried_error`); :func:`certify_layer` runs
them in order. The run's memory (gamma_n, biases) is a :class:`~symdnn.certify.layer.BoundCache`
passed along."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.certify.bounds import FLOOR, NEG, POS, Arith
from symdnn.certify.layer import (
    _DEPTH,
    INF,
    KINDS,
    BoundCache,
    ExactView,
    FormatWeights,
    LayerPattern,
    LayerVerdict,
    _certified,
    _gamma_eta,
)

__all__ = ["certify_layer", "layer_bounds", "layer_verdicts", "carried_error"]


#: the inflation factor of every bound computed in float64 (see :data:`_DEPTH`)
_F = 1.0 + (2 * _DEPTH + 4) * 2.0 ** -53


def certify_layer(ex: ExactView, fw: FormatWeights, pat: LayerPattern, k: int, ar: Arith,
                  *, examples: int = 10, detail: bool = False,
                  cache: BoundCache | None = None) -> tuple[sp.csr_matrix, LayerVerdict]:
    """Bound every decision of one layer in one arithmetic (format ``k`` of the
    :class:`LayerPattern`); returns the error bound carried into the next layer (a CSR
    matrix of upward float64 bounds, no stored zeros) and the :class:`LayerVerdict`.
    ``detail`` keeps every decision at risk (``risky_keys``), every decision's bound
    (``bounds``: kind -> (keys, bounds)) and the bound carried out (``error_out``) in the
    verdict: for tests and small networks. ``cache``: the run's :class:`BoundCache` (a
    fresh one when not given).

    The phases of docs/certificates.md, in order: :func:`layer_bounds` (the bound, zero
    where provably exact), :func:`layer_verdicts` (each decision against its exact margin),
    :func:`carried_error` (propagation into the next layer)."""
    E_s, E_z, overflow = layer_bounds(ex, fw, pat, k, ar, BoundCache() if cache is None
                                      else cache)
    verdict, risky, nz_a, relu_a, cap_a = layer_verdicts(ex, fw, pat, k, E_s, E_z, detail)
    e_out = carried_error(ex, fw, pat, E_s, E_z, overflow, nz_a, relu_a, cap_a)
    R, n_out = ex.shape
    rows, cols = pat.rows, pat.cols
    keep = e_out > 0
    verdict.max_error = float(e_out.max()) if len(e_out) else 0.0
    ptr = np.zeros(R + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=R), out=ptr[1:])
    e_next = sp.csr_matrix((np.maximum(e_out[keep], FLOOR), cols[keep], ptr),
                           shape=(R, n_out))  # positive entries, raised to the floor
    if detail:
        verdict.error_out = (pat.U[keep], e_out[keep])
    risky.sort(key=lambda r: (r[0], KINDS.index(r[1])))
    verdict.examples = risky[:examples]
    return e_next, verdict


def _per(x: np.ndarray, pat: LayerPattern) -> Any:
    """A per-neuron (or per-position) array at the pattern's ``U``; a scalar when it is
    constant."""
    if x.ndim == 1 and len(x) and (x == x[0]).all():
        return x[0]
    return x[pat.rows, pat.cols] if x.ndim == 2 else x[pat.cols]


def _bias_at(fw: FormatWeights, pat: LayerPattern) -> tuple:
    """``(|bhat|, |bhat - b|, lowest set bit of bhat)`` at ``U`` (zeros without a bias)."""
    if fw.babs is not None:
        return _per(fw.babs, pat), _per(fw.db, pat), _per(fw.qb, pat)
    return 0.0, 0.0, POS


def layer_bounds(ex: ExactView, fw: FormatWeights, pat: LayerPattern, k: int, ar: Arith,
                 cache: BoundCache) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The bound (docs/certificates.md, "The bound"): at every position ``U`` of the layer,
    ``(E_s, E_z, overflow)``: the error bound of the sum of products, of the
    pre-activation, and where either may overflow (None when nothing can). Zero where the
    computation is provably exact."""
    rows = pat.rows
    py, pe, pd = pat.products[k]
    M = py + pe
    D = pe + pd
    has_b = fw.babs is not None
    babs, dbias, qb = _bias_at(fw, pat)
    # sums of n products: gamma_n (any order) and products that may underflow
    n_col = fw.n + (1 if ex.dense else 0)
    gam, eta_col = _gamma_eta(ar, n_col, cache)
    g = _per(gam, pat)
    # products that underflow (eta each at most, then through at most n more roundings, so
    # times (1 + gamma_n)): none where there are no products
    eta = np.where(M > 0, _per(eta_col, pat), 0.0)
    if ex.dense:  # the n products alone (an implementation that adds the bias after)
        gam0, eta0_col = _gamma_eta(ar, fw.n, cache)
    zabs = pat.zabs
    F = _F
    qW = _per(fw.qW, pat)

    def below(x: np.ndarray, with_b: bool, cand: np.ndarray) -> np.ndarray:
        """``cand & (x < 2**(Q + p))`` and ``x`` finite in both formats, ``Q`` the lowest
        set bit of the inputs times weights (and of the bias ``with_b``): a sum of multiples
        of ``2**Q`` below ``2**(Q + p)`` is exact in both formats."""
        out = np.zeros(len(x), dtype=bool)
        i = np.flatnonzero(cand)
        if len(i) == 0:
            return out
        if pat.qrow is None:
            pat.qrow = ex.qY.values()[rows]
            pat.dyadic = pat.qrow > NEG
        cand = cand & pat.dyadic  # a row with a value that is not dyadic is never exact
        i = np.flatnonzero(cand)
        if len(i) == 0:
            return out
        every = len(i) == len(x)
        qr = pat.qrow if every else pat.qrow[i]
        q = qr + (qW if np.ndim(qW) == 0 else (qW if every else qW[i]))
        np.clip(q, NEG, POS, out=q)
        if with_b:
            q = np.minimum(q, qb if np.ndim(qb) == 0 else (qb if every else qb[i]))
        xi = x if every else x[i]
        # x < 2**(q + p): frexp's exponent e has 2**(e - 1) <= x < 2**e (x = 0 is below)
        e2 = np.frexp(xi)[1]
        out[i] = (q >= ar.qmin) & ((e2 <= q + ar.p) | (xi == 0)) & (xi <= ar.max_finite)
        return out

    with np.errstate(over="ignore"):
        if ex.dense:
            # the bias summed with the products, in any order: n + 1 terms ...
            Mb = M + babs
            exact_z = below(Mb, True, (D == 0) & (dbias == 0))
            t = D + dbias + g * Mb + eta
            if not ar.same:
                t = t + ar.u_f * (zabs + t) + ar.eta_f
            # ... or added to the sum of the products (which may be stored in F first)
            g0 = _per(gam0, pat)
            eta0 = np.where(M > 0, _per(eta0_col, pat), 0.0)
            ts = D + g0 * M + eta0
            if not ar.same:
                ts = ts + ar.u_f * (M + ts) + ar.eta_f
            tb = ts + dbias
            tb = tb + ar.u_z * (zabs + tb) + (0.0 if ar.same else ar.eta_f)
            t = np.maximum(t, tb)
            E_z = np.where(exact_z, 0.0, _up(t, F))
            E_z = np.where(M == 0, dbias, E_z)  # no products: the bias alone, as stored
            E_s = E_z
        else:
            exact_s = below(M, False, D == 0) | (M == 0)  # an empty sum is exactly 0
            t = D + g * M + eta
            if not ar.same:  # the sum may be stored in the format before the bias is added
                t = t + ar.u_f * (M + t) + ar.eta_f
            E_s = _up(t, F)
            if exact_s.any():
                E_s[exact_s] = 0.0
            if has_b:
                base = E_s + dbias
                t = base + ar.u_z * (zabs + base) + (0.0 if ar.same else ar.eta_f)
                E_z = _up(t, F)
                if not (np.ndim(dbias) == 0 and dbias > 0):  # else the bias is never exact
                    exact_z = below(M + babs, True, exact_s & (dbias == 0))
                    if exact_z.any():
                        E_z[exact_z] = 0.0
            else:
                E_z = E_s
        # anything that may overflow in the formats is unbounded (first on the maxima)
        top = (np.max(M, initial=0.0) * (1.0 + np.max(g, initial=0.0))
               + np.max(babs, initial=0.0) + np.max(E_z, initial=0.0)) * F
        if not top < ar.max_finite:  # NaN included
            overflow = (M * (1.0 + g) + babs + E_z) * F >= ar.max_finite
            E_s = np.where(overflow, INF, E_s)
            E_z = np.where(overflow, INF, E_z)
        else:
            overflow = None
    return E_s, E_z, overflow


def layer_verdicts(ex: ExactView, fw: FormatWeights, pat: LayerPattern, k: int,
                   E_s: np.ndarray, E_z: np.ndarray, detail: bool) -> tuple:
    """The verdicts (docs/certificates.md, "Verdicts"): each decision's bound against its
    exact margin. ``(verdict, risky, nz_a, relu_a, cap_a)``: the layer's
    :class:`LayerVerdict` (counts, and ``zero_margin``), the decisions at risk, and per
    exact entry whether ``W y`` is certainly nonzero and the ReLU and cap decisions are
    certain."""
    U, at, has_a = pat.U, pat.at, pat.has_a
    py = pat.products[k][0]
    has_b = fw.babs is not None
    verdict = LayerVerdict(ex.layer, ex.s)
    if detail:
        verdict.risky_keys = {}
    risky: list = []
    Ez_a, Es_a = E_z[at], E_s[at]
    # is W y nonzero? (certain where the sum's bound is below |W y|, or zero)
    if has_b and not ex.dense:
        nz_a = _certified(Es_a, ex.bias_m, ex.s)
    else:
        nz_a = np.ones(len(at), dtype=bool)
    pos = ex.pos
    relu_a = _certified(Ez_a, ex.relu_m, ex.s) & (nz_a | ~pos)
    no_a = ~has_a
    extra = np.flatnonzero(no_a & ((py > 0) | (E_s > 0))) if not ex.dense else \
        np.zeros(0, dtype=np.int64)
    if has_b and not ex.dense:
        _count(verdict, "relu", ex.keys, relu_a, Ez_a, ex.relu_m[1], risky)
    elif not ex.dense:  # no bias: W y that cancels to zero is a pre-activation of 0
        _count(verdict, "relu", np.r_[ex.keys, U[extra]], np.r_[relu_a, E_s[extra] == 0],
               np.r_[Ez_a, E_s[extra]], np.r_[ex.relu_m[1], np.zeros(len(extra), int)],
               risky)
    else:
        _count(verdict, "relu", ex.keys, relu_a, Ez_a, ex.relu_m[1], risky)
    cap_a = np.ones(len(at), dtype=bool)
    if ex.capv is not None:
        Ec = Ez_a + fw.dcap if fw.dcap else Ez_a
        if fw.dcap:
            Ec = np.nextafter(Ec, INF)
        ok = _certified(Ec, ex.cap_m, ex.s) & (nz_a | ~ex.over)
        cap_a = np.where(pos, ok, True)
        _count(verdict, "cap", ex.keys_pos, ok[pos], Ec[pos], ex.cap_num_pos, risky)
    if has_b and not ex.dense:
        _count(verdict, "bias_rule", ex.keys, nz_a, Es_a, ex.bias_m[1], risky)
        if len(extra):  # where W y is exactly 0: a margin of 0
            _count(verdict, "bias_rule", U[extra], E_s[extra] == 0, E_s[extra],
                   np.zeros(len(extra), dtype=np.int64), risky)
    cancel = np.flatnonzero(no_a & (py > 0)) if not ex.dense else np.zeros(0, np.int64)
    verdict.zero_margin = int(U[cancel[0]]) if len(cancel) else None
    return verdict, risky, nz_a, relu_a, cap_a


def carried_error(ex: ExactView, fw: FormatWeights, pat: LayerPattern, E_s: np.ndarray,
                  E_z: np.ndarray, overflow: np.ndarray | None, nz_a: np.ndarray,
                  relu_a: np.ndarray, cap_a: np.ndarray) -> np.ndarray:
    """Propagation (docs/certificates.md, "Propagation"): the error carried into the next
    layer at every position ``U``: zero where the decision is certain and exact, else
    Lipschitz (ReLU and the cap are 1-Lipschitz); infinite where the bound overflows."""
    rows, cols, at, no_a = pat.rows, pat.cols, pat.at, ~pat.has_a
    two_d = fw.babs is not None and np.ndim(fw.babs) == 2
    F = _F
    pos = ex.pos
    Ez_a = E_z[at]
    e_out = E_z.copy()
    inactive = relu_a & ~pos
    e_a = np.where(inactive, 0.0, Ez_a)
    if ex.capv is not None:
        capped = pos & ex.over & cap_a & nz_a
        e_a = np.where(capped, fw.dcap, _up(e_a + fw.dcap, F) if fw.dcap else e_a)
    risk_a = ~nz_a & ~inactive
    if risk_a.any():  # the implementation may output 0 instead: the exact value counts
        vhi = np.minimum(np.where(pos, ex.relu_hi, 0.0), ex.cap_hi)
        e_a = np.where(risk_a, np.maximum(e_a, _up(vhi + fw.dcap, F)), e_a)
    e_out[at] = e_a
    if not ex.dense:
        if fw.babs is not None:  # exact output 0; the implementation may add the bias to a
            # nonzero sum
            bh = ex.b_hi[rows[no_a], cols[no_a]] if two_d else ex.b_hi[cols[no_a]]
            t = np.nextafter(bh + E_z[no_a], INF)  # <= 0: no float output is positive
            e_out[no_a] = np.where(E_s[no_a] == 0, 0.0, np.maximum(t, 0.0))
        else:
            e_out[no_a] = E_s[no_a]
    if overflow is not None:
        e_out = np.where(overflow, INF, e_out)
    nan = np.isnan(e_out)  # never let a NaN read as "no error"
    if nan.any():
        e_out[nan] = INF
    return e_out


#: added to every bound that is not zero: covers a last product that underflowed
_TINY = 2.0 ** -1060


def _up(t: np.ndarray, F: float) -> np.ndarray:
    """An upper bound from ``t`` computed with at most ``_DEPTH`` roundings of nonnegative
    values: ``t F`` plus a tiny absolute term; exactly zero stays zero (every term was)."""
    return np.where(t > 0, t * F + _TINY, t)


def _count(verdict: LayerVerdict, kind: str, keys: np.ndarray, ok: np.ndarray,
           bound: np.ndarray, margin: np.ndarray, risky: list) -> None:
    """Add decisions of one kind to the verdict (counts accumulate over calls)."""
    verdict.decisions[kind] = verdict.decisions.get(kind, 0) + int(len(keys))
    bad = np.flatnonzero(~ok)
    verdict.at_risk[kind] = verdict.at_risk.get(kind, 0) + int(len(bad))
    verdict.exact[kind] = verdict.exact.get(kind, 0) + int((bound == 0).sum())
    if verdict.risky_keys is not None:
        old = verdict.risky_keys.get(kind, np.zeros(0, dtype=np.int64))
        verdict.risky_keys[kind] = np.r_[old, np.asarray(keys)[bad]]
        ok_, ob = verdict.bounds.get(kind, (np.zeros(0, np.int64), np.zeros(0)))
        verdict.bounds[kind] = (np.r_[ok_, np.asarray(keys)], np.r_[ob, bound])
    for i in bad[:10].tolist():
        risky.append((int(keys[i]), kind, abs(int(margin[i])), float(bound[i])))
