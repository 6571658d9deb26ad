"""One layer of a precision certificate: exact margins, the weights in a format, the
layer's pattern of products (the bounds and verdicts themselves: :mod:`symdnn.certify.phases`).

The error model and the propagation rule are stated in ``docs/certificates.md`` and proved in
``proofs/proof_certificate.py``. In short, for one neuron ``j`` of one input, with ``y`` the
exact layer input, ``e`` a bound on the error the implementation carries in (``|yhat - y| <=
e``), ``What = fl(W)``, ``bhat = fl(b)`` and ``n`` products in the sum:

* ``M = (|y| + e) (|What| + |dW|)`` bounds every product's magnitude summed,
  ``D = e (|What| + |dW|) + |y| |dW|`` the error of the inputs and weights, and the sum
  ``s = fl(What yhat)`` in any order is within ``E_s = D + gamma_n M + n eta`` of ``W y``
  (plus one rounding into the storage format when it is narrower than the accumulation);
* the bias rule ``nonzero`` adds ``bhat`` to ``s`` when ``s != 0`` (one more rounding),
  ``all`` sums the bias with the products in any order (``gamma_{n+1}``);
* ``E = 0`` where the computation is provably exact: no input or weight error, and every
  product, partial sum and the bias multiples of ``2**Q`` below ``2**(Q + p)`` (``Q`` from
  the lowest set bits of the row's inputs and the column's weights);
* ReLU and the cap are 1-Lipschitz; an output whose decision is certified inactive (or
  capped, with an exact cap) carries no error at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.certify.bounds import (
    POS,
    Arith,
    add_up,
    floor_pos,
    inflate,
    less_exact,
    ratio_bounds,
    ratio_lo,
    up_fraction,
    v2_floats,
    v2_ratios,
)

__all__ = ["BoundCache", "ExactView", "FormatWeights", "LayerVerdict", "exact_view",
           "format_weights", "input_error", "same_weights", "layer_pattern", "LayerPattern",
           "KINDS"]

#: the decisions of a layer: ReLU (neuron active or not), cap (output capped or not), and
#: the Graph Challenge rule's test of whether ``W y`` is nonzero (the bias is added or not)
KINDS = ("relu", "cap", "bias_rule")
INF = np.inf


def _keys(indptr: np.ndarray, indices: np.ndarray, width: int) -> np.ndarray:
    rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    return rows * width + np.asarray(indices, dtype=np.int64)


def _sorted_csr(M: sp.csr_matrix) -> sp.csr_matrix:
    M = M.tocsr()
    if not M.has_sorted_indices:
        M.sort_indices()
    return M


def _ints(a: np.ndarray) -> np.ndarray:
    """Integer numerators as int64 where they fit, else Python ints (objects)."""
    a = np.asarray(a)
    if a.dtype == object:
        return a
    return a.astype(np.int64)


@dataclass
class ExactView:
    """What the exact run knows about one layer, for every format: the pre-activation
    numerators ``P`` (over ``s``) at the positions ``keys`` (``row * width + neuron``,
    sorted) where the bias rule defines one, the numerators ``a`` of ``W y`` there, ``|y|``
    of the layer input as an upward float64 matrix, the lowest set bit of each input row
    (``NEG`` when some value of the row is not dyadic), and float64 bounds ``(lo, hi)`` of
    the margins as ``(lower bound, numerators)``: ``|P|/s`` (ReLU), ``|a|/s`` (bias rule),
    ``|P - capv|/s`` (cap), and an upper bound of ``|P|/s``."""

    layer: int
    shape: tuple
    s: int
    keys: np.ndarray
    P: np.ndarray
    a: np.ndarray
    yabs: Any
    qY: Any
    f2: int
    nb: np.ndarray | None
    db: int
    capv: int | None
    dense: bool
    relu_m: tuple = ()
    bias_m: tuple = ()
    cap_m: tuple = ()
    pos: np.ndarray | None = None
    over: np.ndarray | None = None
    b_hi: np.ndarray | None = None
    babs_hi: np.ndarray | None = None
    cap_hi: float = INF
    relu_hi: np.ndarray | None = None
    keys_pos: np.ndarray | None = None
    cap_num_pos: np.ndarray | None = None
    nonneg: bool = False


def _abs(x: np.ndarray) -> np.ndarray:
    if x.dtype == object:
        return np.array([abs(int(v)) for v in x], dtype=object)
    return np.abs(x)


def exact_view(layer: int, st: Any, info: Any, lay: Any, rule: str,
               cap: tuple[int, int] | None) -> ExactView:
    """The :class:`ExactView` of a layer from the exact state ``st`` before it, the record
    of :func:`symdnn.engines.exact.step` and the :class:`~symdnn.engines.exact.ExactLayer`."""
    R, n_out = st.shape[0], lay.NW.shape[1]
    p_ptr, p_idx, p_num, s_new = info.pre
    keys = _keys(p_ptr, p_idx, n_out)
    if len(keys) > 1 and np.any(keys[1:] < keys[:-1]):
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        P = _ints(np.asarray(p_num)[order])
    else:
        P = _ints(np.asarray(p_num))
    f2 = s_new // lay.db
    if lay.nb is None:
        a = P
    else:  # W y = P - f2 b: the bias numerators scaled once per neuron, then gathered
        nbs = np.asarray(lay.nb).astype(object) * f2
        if P.dtype != object and _fits(nbs.ravel()):
            nbs = nbs.astype(np.int64)
        cols = keys % n_out
        bb = nbs[keys // n_out, cols] if nbs.ndim == 2 else nbs[cols]
        a = P - bb if P.dtype == bb.dtype else P.astype(object) - bb
    dense = rule == "all" and lay.nb is not None
    if not dense:
        # The exact engine may record W y = 0 where no product reaches the neuron (its limb
        # path records every neuron of a row under rule "all"). Such an entry is no
        # decision here: a cancellation is one of the pattern's positions without an exact
        # entry (margin 0, see layer_verdicts), an empty sum is 0 in every implementation.
        # So the view is the same whichever path the engine took.
        nz = _nonzero(a)
        if not nz.all():
            keys, P, a = keys[nz], P[nz], a[nz]
    z = st.ints()
    qY = _LazyRows(z, st)
    capv = None if cap is None else cap[0] * (s_new // cap[1])
    ex = ExactView(layer, (R, n_out), s_new, keys, P, a, _LazyAbs(z, st), qY, f2, lay.nb,
                   lay.db, capv, dense)
    w = np.asarray(lay.NW.data)
    ex.nonneg = bool(w.size == 0 or (min(w) if w.dtype == object else w.min()) > 0) and \
        bool(np.asarray(z).size == 0 or (min(z) if np.asarray(z).dtype == object
                                         else np.asarray(z).min()) >= 0)
    Pa = _abs(P)
    lo, ex.relu_hi = ratio_bounds(Pa, s_new)
    ex.relu_m = _Margin(lo, Pa, s_new, ex.relu_hi)
    if lay.nb is not None and not dense:
        aa = _abs(a)
        ex.bias_m = _Margin(ratio_lo(aa, s_new), aa, s_new)
    ex.pos = _positive(P)
    if capv is not None:
        diff = _sub(P, capv)
        d = _abs(diff)
        ex.cap_m = _Margin(ratio_lo(d, s_new), d, s_new)
        ex.keys_pos, ex.cap_num_pos = keys[ex.pos], d[ex.pos]
        ex.over = (diff >= 0) if diff.dtype != object else np.array(
            [int(v) >= 0 for v in diff], dtype=bool)
        ex.cap_hi = float(ratio_bounds(np.array([capv], dtype=object), s_new)[1][0])
    if lay.nb is not None:
        nbr = np.asarray(lay.nb).ravel()
        b_lo, b_hi = ratio_bounds(nbr.astype(np.int64) if _fits(nbr) else nbr, lay.db)
        ex.b_hi = b_hi.reshape(np.shape(lay.nb))
        ex.babs_hi = np.maximum(np.abs(b_lo), np.abs(b_hi)).reshape(np.shape(lay.nb))
    return ex


class _LazyAbs:
    """``|y|`` of the layer input as an upward float64 CSR matrix (operands floored), built
    when a product first needs it: not at all where the exact ``W y`` stands for it."""

    def __init__(self, z: np.ndarray, st: Any) -> None:
        self.z, self.st, self._m = z, st, None

    def matrix(self) -> sp.csr_matrix:
        if self._m is None:
            _, hi = ratio_bounds(_abs(np.asarray(self.z)), self.st.s)
            self._m = sp.csr_matrix((floor_pos(hi), np.asarray(self.st.indices),
                                     np.asarray(self.st.indptr)), shape=self.st.shape)
        return self._m


class _LazyRows:
    """The lowest set bit of each row of the layer input (``NEG`` where some value of the
    row is not dyadic), computed when an exactness test first needs it."""

    def __init__(self, z: np.ndarray, st: Any) -> None:
        self.z, self.st, self._v = z, st, None

    def values(self) -> np.ndarray:
        if self._v is None:
            R = self.st.shape[0]
            v2 = v2_ratios(self.z, self.st.s)
            q = np.full(R, POS, dtype=np.int64)
            ptr = np.asarray(self.st.indptr)
            nz = np.flatnonzero(np.diff(ptr))  # rows with entries, in CSR order
            if len(nz):
                q[nz] = np.minimum.reduceat(v2, ptr[nz])
            self._v = q
        return self._v


@dataclass
class BoundCache:
    """What one certificate run remembers across its layers and formats (networks repeat
    their fan-in and their biases layer after layer): ``gamma_n`` with the underflow terms
    per accumulation format and fan-in, and the bias parts per bias and format. The run
    makes one and passes it along; nothing is remembered at module level, so two runs (or
    threads) never share or clear each other's entries."""

    gamma_eta: dict = field(default_factory=dict)
    bias: dict = field(default_factory=dict)


def _gamma_eta(ar: Arith, n: np.ndarray, cache: BoundCache) -> tuple[np.ndarray, np.ndarray]:
    """``gamma_n`` and the underflow term ``n eta (1 + gamma_n)`` per neuron (remembered in
    ``cache``)."""
    key = (ar.acc.name, n.tobytes())
    memo = cache.gamma_eta
    if key not in memo:
        gam = ar.gamma(n)
        with np.errstate(over="ignore", invalid="ignore"):
            eta = np.nan_to_num(n * ar.eta_a * (1.0 + gam), nan=INF)
        if len(memo) > 64:
            memo.clear()
        memo[key] = (gam, eta)
    return memo[key]


@dataclass
class FormatWeights:
    """A layer's weights and bias as an implementation in one format holds them, with the
    rounding errors: ``Wab`` is ``|What| + |W - What|`` upward (the pattern of both),
    ``dW`` the errors alone (None when every weight is exact), ``n`` the number of products
    of each neuron, ``qW`` the lowest set bit of each neuron's weights; the bias magnitude
    ``babs``, its error ``db`` and lowest set bit ``qb`` per neuron (or per position)."""

    Wab: sp.csr_matrix
    dW: sp.csr_matrix | None
    n: np.ndarray
    qW: np.ndarray
    babs: np.ndarray | None
    db: np.ndarray | None
    qb: np.ndarray | None
    dcap: float = 0.0
    cap_f: float | None = None


def _pair_errors(num: np.ndarray, den: int, hat: np.ndarray) -> np.ndarray:
    """``|hat[i] - num[i]/den|`` upward, computed once per distinct pair."""
    out = np.empty(len(hat), dtype=np.float64)
    if len(hat) == 0:
        return out
    if num.dtype != object:
        # usually each numerator has one rounding: one error per distinct numerator
        uniq, first, inv = np.unique(num, return_index=True, return_inverse=True)
        hat_u = hat[first]
        if np.array_equal(hat_u[inv], hat, equal_nan=True):
            vals = [_err(float(h), int(n), den) for n, h in zip(uniq.tolist(),
                                                                hat_u.tolist(), strict=True)]
            return np.asarray(vals, dtype=np.float64)[inv]
        pairs = np.stack([num.astype(np.int64), hat.astype(np.float64).view(np.int64)], axis=1)
        uniq, inv = np.unique(pairs, axis=0, return_inverse=True)
        vals = [_err(float(np.int64(h).view(np.float64)), int(n), den)
                for n, h in uniq.tolist()]
        return np.asarray(vals, dtype=np.float64)[np.asarray(inv).ravel()]
    memo: dict = {}
    for i, (n, h) in enumerate(zip(num.tolist(), hat.tolist(), strict=True)):
        k = (int(n), float(h))
        if k not in memo:
            memo[k] = _err(k[1], k[0], den)
        out[i] = memo[k]
    return out


def _err(h: float, n: int, den: int) -> float:
    """``|h - n/den|`` upward; infinite for an infinity or NaN (an overflowed rounding)."""
    if not np.isfinite(h):
        return INF
    return up_fraction(abs(Fraction(h) - Fraction(n, den)))


def same_weights(A: sp.csr_matrix, B: sp.csr_matrix) -> bool:
    """Whether two float CSR matrices hold the same values at the same positions, stored
    alike (then their :class:`FormatWeights` weight parts are the same)."""
    if A is B:
        return True
    return (A.shape == B.shape and A.nnz == B.nnz and np.array_equal(A.indptr, B.indptr)
            and np.array_equal(A.indices, B.indices)
            and np.array_equal(np.asarray(A.data, dtype=np.float64),
                               np.asarray(B.data, dtype=np.float64)))


def format_weights(lay: Any, What: sp.csr_matrix, bhat: np.ndarray | None, ar: Arith,
                   cap: Fraction | None, cap_f: float | None,
                   like: FormatWeights | None = None,
                   cache: BoundCache | None = None) -> FormatWeights:
    """The :class:`FormatWeights` of an exact layer ``lay`` whose weights an implementation
    in ``ar`` holds as ``What`` (float values of the format, same shape) and bias ``bhat``.
    ``like``: the weights of another format whose ``What`` is the same (see
    :func:`same_weights`); its weight part is reused. ``cache``: the run's
    :class:`BoundCache` (a fresh one when not given)."""
    babs, dbias, qb = _bias_parts(lay, bhat, BoundCache() if cache is None else cache)
    dcap = 0.0 if cap is None else _err(cap_f, cap.numerator, cap.denominator)
    if like is not None:
        return FormatWeights(like.Wab, like.dW, like.n, like.qW, babs, dbias, qb, dcap, cap_f)
    n_in, n_out = lay.NW.shape
    E = lay.NW if isinstance(lay.NW, sp.csr_matrix) else None
    if E is not None:
        E = _sorted_csr(E.copy())
        e_ptr, e_idx, e_num = E.indptr, E.indices, E.data
    else:  # IntCSR of Python ints
        M = sp.csr_matrix((np.arange(lay.NW.nnz, dtype=np.float64) + 1, lay.NW.indices,
                           lay.NW.indptr), shape=lay.NW.shape)
        M.sort_indices()
        e_ptr, e_idx = M.indptr, M.indices
        e_num = np.asarray(lay.NW.data)[M.data.astype(np.int64) - 1]
    H = _sorted_csr(sp.csr_matrix(What, dtype=np.float64, copy=True))
    same = np.array_equal(e_ptr, H.indptr) and np.array_equal(e_idx, H.indices)
    if same:
        uk = _keys(e_ptr, e_idx, n_out)  # the same pattern (the usual case)
        num = np.asarray(e_num)
        num = num if num.dtype == object else num.astype(np.int64)
        hat = H.data
    else:
        ek, hk = _keys(e_ptr, e_idx, n_out), _keys(H.indptr, H.indices, n_out)
        uk = np.union1d(ek, hk)
        num = np.zeros(len(uk), dtype=object if np.asarray(e_num).dtype == object
                       else np.int64)
        num[np.searchsorted(uk, ek)] = e_num
        hat = np.zeros(len(uk))
        hat[np.searchsorted(uk, hk)] = H.data
    err = _pair_errors(num, lay.dW, hat)
    wab = floor_pos(add_up(np.where(np.isfinite(hat), np.abs(hat), INF), err))
    cols = uk % n_out
    if same:  # keys in CSR order already
        ptr, idx = np.asarray(e_ptr), np.asarray(e_idx)
    else:
        rows = uk // n_out
        ptr = np.zeros(n_in + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_in), out=ptr[1:])
        idx = cols
    Wab = sp.csr_matrix((wab, idx, ptr), shape=(n_in, n_out))
    dW = None
    if np.any(err > 0):
        dW = sp.csr_matrix((floor_pos(err), idx, ptr), shape=(n_in, n_out))
    n = np.bincount(cols, minlength=n_out).astype(np.int64)
    qW = np.full(n_out, POS, dtype=np.int64)
    v2 = v2_floats(hat)
    np.minimum.at(qW, cols, v2)
    return FormatWeights(Wab, dW, n, qW, babs, dbias, qb, dcap, cap_f)


def _bias_parts(lay: Any, bhat: np.ndarray | None, cache: BoundCache) -> tuple:
    """``(|bhat|, |bhat - b| upward, lowest set bit of bhat)``, or Nones without a bias
    (remembered in ``cache`` for the last few biases: networks repeat them layer after
    layer)."""
    if lay.nb is None:
        return None, None, None
    nb = np.asarray(lay.nb)
    key = None
    if nb.size <= 1 << 16:
        key = (lay.db, nb.shape, tuple(nb.ravel().tolist()),
               np.asarray(bhat, dtype=np.float64).tobytes())
        if key in cache.bias:
            return cache.bias[key]
    out = _bias_parts_of(lay, bhat)
    if key is not None:
        if len(cache.bias) > 16:
            cache.bias.clear()
        cache.bias[key] = out
    return out


def _bias_parts_of(lay: Any, bhat: np.ndarray | None) -> tuple:
    bh = np.broadcast_to(np.asarray(bhat, dtype=np.float64), np.shape(lay.nb)).ravel()
    nbv = np.asarray(lay.nb).ravel()
    if nbv.dtype != object or _fits(nbv):
        nbv = nbv.astype(np.int64)
    dbias = _pair_errors(nbv, lay.db, bh).reshape(np.shape(lay.nb))
    babs = np.where(np.isfinite(bh), np.abs(bh), INF)  # an overflow (inf or NaN): unbounded
    return (babs.reshape(np.shape(lay.nb)), dbias, v2_floats(bh).reshape(np.shape(lay.nb)))


def input_error(nums: np.ndarray, s: int, rounded: np.ndarray) -> np.ndarray:
    """``|rounded[i] - nums[i]/s|`` upward: the error of an input rounded into a format."""
    nums = np.asarray(nums)
    return _pair_errors(nums if nums.dtype == object else nums.astype(np.int64), s,
                        np.asarray(rounded, dtype=np.float64))


@dataclass
class LayerVerdict:
    """One layer in one format: per decision kind the number of decisions, of decisions at
    risk, and of decisions whose bound is zero (the float computation is exact there); the
    first decisions at risk (``(key, kind, margin numerator, bound)``, margins over ``s``);
    the largest error bound carried out, and the first position where ``W y`` is
    structurally nonzero but cancels to an exact zero (a decision with margin 0)."""

    layer: int
    s: int
    decisions: dict = field(default_factory=dict)
    at_risk: dict = field(default_factory=dict)
    exact: dict = field(default_factory=dict)
    examples: list = field(default_factory=list)
    max_error: float = 0.0
    zero_margin: int | None = None
    risky_keys: dict | None = None
    error_out: tuple | None = None
    bounds: dict = field(default_factory=dict)

    @property
    def total_at_risk(self) -> int:
        return int(sum(self.at_risk.values()))


def _spgemm_up(Y: sp.csr_matrix, W: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """``Y @ W`` for nonnegative floored operands, inflated to an upper bound."""
    M = _sorted_csr(Y @ W)
    M.data = inflate(M.data, n)
    return M


def _on(keys: np.ndarray, M: sp.csr_matrix | None, width: int) -> np.ndarray:
    """The values of ``M`` at sorted ``keys`` (zero where ``M`` has no entry)."""
    out = np.zeros(len(keys))
    if M is None or M.nnz == 0:
        return out
    mk = _keys(M.indptr, M.indices, width)
    out[np.searchsorted(keys, mk)] = M.data
    return out


class _Margin:
    """Exact margins ``num / s`` with a float64 lower bound, and an upper bound computed
    once, when first needed (most decisions are settled by the lower bound)."""

    __slots__ = ("lo", "num", "s", "_hi")

    def __init__(self, lo: np.ndarray, num: np.ndarray, s: int,
                 hi: np.ndarray | None = None) -> None:
        self.lo, self.num, self.s, self._hi = lo, num, s, hi

    def __getitem__(self, i: int) -> np.ndarray:  # (lo, num) as a pair
        return (self.lo, self.num)[i]

    @property
    def hi(self) -> np.ndarray:
        if self._hi is None:
            self._hi = ratio_bounds(self.num, self.s)[1]
        return self._hi


def _certified(bound: np.ndarray, margin: _Margin, s: int) -> np.ndarray:
    """``bound == 0`` or ``bound < m`` exactly, for margins ``m = num / s``: a float screen
    with the lower bound, then the upper bound, and Fractions between the two."""
    ok = (bound == 0) | (bound < margin.lo)
    unsure = np.flatnonzero(~ok)
    if len(unsure):
        near = bound[unsure] < margin.hi[unsure]
        if near.any():
            i = unsure[near]
            ok[i] = less_exact(bound[i], margin.num[i], s)
    return ok


#: every bound below is a short expression of float64 additions and multiplications of
#: nonnegative normal numbers (or exact zeros), each rounded to nearest; multiplying the
#: result by this covers at most 40 roundings on any path (see :func:`inflate`)
_DEPTH = 40


@dataclass
class LayerPattern:
    """The positions a layer's bounds live on, shared by every format: the union ``U``
    (sorted keys) of the patterns of ``|y| Wab`` and ``e Wab`` of all formats, where the
    exact pre-activations are in it (``at``), and per format the products on ``U``:
    ``(py, pe, pd)`` for ``|y| Wab``, ``e Wab`` and ``|y| |dW|``."""

    U: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    at: np.ndarray
    has_a: np.ndarray
    zabs: np.ndarray
    products: list
    qrow: np.ndarray | None = None
    dyadic: np.ndarray | None = None


#: stored on the union pattern where a product has no entry; every real bound entry is a
#: sum of products of two numbers of at least 2**-400, so at least 2**-800
_MARK = 2.0 ** -1070


def _aligned(A: sp.csr_matrix | None, mark: sp.csr_matrix) -> np.ndarray:
    """The values of ``A`` (pattern within ``mark``'s) on ``mark``'s pattern, 0 elsewhere:
    ``A + mark`` is merged by scipy in one pass and has exactly ``mark``'s pattern."""
    if A is None or A.nnz == 0:
        return np.zeros(mark.nnz)
    T = A + mark  # A's pattern is within mark's: the same number of entries proves it
    if T.nnz != mark.nnz:
        raise RuntimeError("bound product outside the layer's pattern (please report)")
    v = T.data
    return np.where(v <= 2.0 ** -1000, 0.0, v)


def _exact_product(ex: ExactView) -> sp.csr_matrix:
    """``W y`` upward on the exact pre-activations' positions, as a CSR matrix (for
    nonnegative weights and inputs, where it equals ``|W| |y|``)."""
    R, n_out = ex.shape
    hi = ex.bias_m.hi if ex.nb is not None else ex.relu_hi
    rows = ex.keys // n_out
    ptr = np.zeros(R + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=R), out=ptr[1:])
    return sp.csr_matrix((floor_pos(hi), ex.keys % n_out, ptr), shape=(R, n_out))


def layer_pattern(ex: ExactView, fws: list[FormatWeights], errs: list[sp.csr_matrix]
                  ) -> LayerPattern:
    """The :class:`LayerPattern` of a layer for the formats' weights ``fws`` and the errors
    ``errs`` they carry in."""
    R, n_out = ex.shape
    pys: list = []
    prods = []
    exact_py = None
    for fw, e in zip(fws, errs, strict=True):
        nmax = int(fw.n.max()) if len(fw.n) else 0
        if fw.dW is None and ex.nonneg and not ex.dense:
            # weights exact in the format, weights and inputs nonnegative: |y| |W| is the
            # exact W y, already known at the exact pre-activations (an upper bound of it)
            if exact_py is None:
                exact_py = _exact_product(ex)
            prods.append((exact_py, _spgemm_up(e, fw.Wab, nmax) if e.nnz else None, None))
            continue
        Py = next((P for W, P in pys if W is fw.Wab), None)
        if Py is None:
            Py = _spgemm_up(ex.yabs.matrix(), fw.Wab, nmax)
            pys.append((fw.Wab, Py))
        Pe = _spgemm_up(e, fw.Wab, nmax) if e.nnz else None
        Pd = _spgemm_up(ex.yabs.matrix(), fw.dW, nmax) if fw.dW is not None else None
        prods.append((Py, Pe, Pd))
    if ex.dense:
        U = np.arange(R * n_out, dtype=np.int64)
        products = [tuple(np.zeros(len(U)) if P is None else P.toarray().ravel() for P in t)
                    for t in prods]
    else:
        S = None
        for Py, Pe, _ in prods:
            for P in (Py, Pe):
                if P is not None:
                    S = P if S is None else S + P
        S = _sorted_csr(S)
        mark = sp.csr_matrix((np.full(S.nnz, _MARK), S.indices, S.indptr), shape=S.shape)
        U = _keys(S.indptr, S.indices, n_out)
        done: dict = {}  # formats with the same weights share |y| Wab: aligned once

        def on_u(P: sp.csr_matrix | None) -> np.ndarray:
            if P is None:
                return np.zeros(len(U))
            if id(P) not in done:
                done[id(P)] = P.data if P is S else _aligned(P, mark)
            return done[id(P)]

        products = [tuple(on_u(P) for P in t) for t in prods]
    rows, cols = U // n_out, U % n_out
    at = np.searchsorted(U, ex.keys)
    if len(at) and (at.max() >= len(U) or np.any(U[at] != ex.keys)):
        raise RuntimeError(f"layer {ex.layer}: an exact pre-activation outside the bound's "
                           "pattern (please report)")
    has_a = np.zeros(len(U), dtype=bool)
    has_a[at] = True
    # |z| upward: the exact pre-activation where there is one, the bias alone elsewhere
    if ex.babs_hi is not None:
        zabs = ex.babs_hi[rows, cols] if np.ndim(ex.babs_hi) == 2 else ex.babs_hi[cols]
    else:
        zabs = np.zeros(len(U))
    zabs[at] = ex.relu_hi
    return LayerPattern(U, rows, cols, at, has_a, zabs, products)


def _fits(a: np.ndarray) -> bool:
    return len(a) == 0 or max(abs(int(a.min())), abs(int(a.max()))) < 2 ** 62


def _sub(x: np.ndarray, c: int) -> np.ndarray:
    if x.dtype == object or abs(c) >= 2 ** 52:
        return np.array([int(v) - c for v in x], dtype=object)
    return x.astype(np.int64) - c


def _positive(x: np.ndarray) -> np.ndarray:
    if x.dtype == object:
        return np.array([int(v) > 0 for v in x], dtype=bool)
    return x > 0


def _nonzero(x: np.ndarray) -> np.ndarray:
    if x.dtype == object:
        return np.array([int(v) != 0 for v in x], dtype=bool)
    return x != 0
