"""Conversions between associative arrays and other representations: scipy.sparse, SymPy
matrices and networkx graphs. (TSV triple files are file formats: :mod:`symdnn.io.triples`.)

Each conversion comes as a symmetric pair (``to_scipy``/``from_scipy``, ...). Exact values never
pass through a float unless a float type is asked for, and then each value is rounded once,
correctly (:func:`symdnn.round_exact`).

The :class:`~symdnn.assoc.AssocArray` methods of the same names (``A.to_scipy()``,
``AssocArray.from_scipy(M)``, ...) are these functions: this module imports the array class,
so it registers them with it (:data:`symdnn.assoc.array.CONVERSIONS`) when imported, which
``symdnn.assoc`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import sympy

from symdnn.assoc import array as _array
from symdnn.assoc.array import AssocArray
from symdnn.domains import SYM, Domain, FloatDomain, RationalDomain, narrow, round_values
from symdnn.errors import DomainError, DomainMismatch, KeyTypeError

__all__ = [
    "to_scipy", "from_scipy", "to_sympy", "from_sympy", "to_networkx", "from_networkx",
]

_NP_FORMATS = {np.dtype(np.float64): "fp64", np.dtype(np.float32): "fp32",
               np.dtype(np.float16): "fp16"}


def to_scipy(A: AssocArray, *, dtype: Any = None, format: str = "csr") -> tuple[Any, tuple, tuple]:
    """The array as a scipy.sparse matrix with its row and column keys.

    Parameters
    ----------
    dtype : numpy dtype, optional
        Float arrays keep their format when scipy supports it; ``ZZ`` gives int64 (an error if a
        value does not fit); ``QQ`` needs a float dtype, and each value is rounded once,
        correctly, into it.

    Returns
    -------
    (matrix, rows, cols)

    Examples
    --------
    >>> A = AssocArray.from_triples(["a", "b"], ["x", "x"], ["1/3", 2], domain="QQ")
    >>> M, rows, cols = to_scipy(A, dtype=np.float32)
    >>> M.toarray().ravel().tolist(), rows, cols
    ([0.3333333432674408, 2.0], ('a', 'b'), ('x',))
    """
    s = A._store()
    dom = A.domain
    if isinstance(dom, FloatDomain) and dtype is None:
        if dom.dtype not in _NP_FORMATS:
            raise DomainMismatch(
                f"scipy.sparse does not store {dom.name}; pass dtype=np.float32 (exact widening)"
            )
        data = s.vals
    elif isinstance(dom, FloatDomain):
        fmt = _NP_FORMATS.get(np.dtype(dtype))
        if fmt is None:
            raise DomainMismatch(f"cannot convert {dom.name} to dtype {dtype}")
        data = narrow(s.vals, fmt).astype(dtype)  # one rounding (exact when widening)
    elif isinstance(dom, RationalDomain):
        if dtype is None or np.dtype(dtype).kind in "iu":
            if not np.all(s.vals.den == 1):
                raise DomainError(
                    "QQ values have no exact integer dtype; pass dtype=np.float64 to round "
                    "each value correctly"
                )
            if s.vals.num.dtype == object:
                raise DomainError("an integer value does not fit in int64")
            data = s.vals.num.astype(dtype or np.int64)
        else:
            fmt = _NP_FORMATS.get(np.dtype(dtype))
            if fmt is None:
                raise DomainMismatch(f"unsupported dtype {dtype} for scipy.sparse")
            data = round_values(s.vals, fmt).astype(dtype)
    elif dom.kind == "bool":
        data = s.vals.astype(dtype or bool)
    else:
        raise DomainMismatch(f"scipy.sparse cannot hold values of domain {dom.name}")
    M = sp.csr_matrix((data, s.indices, s.indptr), shape=A.shape)
    return M.asformat(format), A.row(), A.col()


def from_scipy(M: Any, rows: Sequence[Any] | None = None, cols: Sequence[Any] | None = None, *,
               domain: str | Domain | None = None, semiring: Any = None) -> AssocArray:
    """An associative array from a scipy.sparse matrix (or dense 2-D NumPy array).

    Rows and columns default to the integer positions. The domain defaults to the matrix's
    dtype (``fp64``, ``fp32``, ``fp16``, ``ZZ`` for integers, ``BOOL``); ``domain="QQ"`` reads
    floats as the exact dyadic rationals they are.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> A = from_scipy(sp.csr_matrix(np.array([[0.0, 0.5], [0.25, 0.0]])), ["a", "b"],
    ...                ["x", "y"], domain="QQ")
    >>> A.to_dict()
    {'a': {'y': 1/2}, 'b': {'x': 1/4}}
    """
    C = sp.coo_matrix(M)
    n, m = C.shape
    rows = list(range(n)) if rows is None else list(rows)
    cols = list(range(m)) if cols is None else list(cols)
    if len(rows) != n or len(cols) != m:
        raise KeyTypeError(f"matrix is {n} x {m} but {len(rows)} row and {len(cols)} column "
                           "keys were given")
    if domain is None:
        kind = C.dtype.kind
        domain = ("BOOL" if kind == "b" else "ZZ" if kind in "iu"
                  else _NP_FORMATS.get(C.dtype, "fp64"))
    r = _objects(rows)[C.row] if rows else []
    c = _objects(cols)[C.col] if cols else []
    if isinstance(rows[0] if rows else None, int) and rows == list(range(n)):
        r = C.row.astype(np.int64)
    if isinstance(cols[0] if cols else None, int) and cols == list(range(m)):
        c = C.col.astype(np.int64)
    return AssocArray.from_triples(r, c, np.asarray(C.data), domain=domain, semiring=semiring,
                                   dup="add")


def _objects(keys: list) -> np.ndarray:
    """A 1-D object array of keys (tuples stay tuples, not a second dimension)."""
    out = np.empty(len(keys), dtype=object)
    for i, k in enumerate(keys):
        out[i] = k
    return out


def to_sympy(A: AssocArray) -> tuple[Any, tuple, tuple]:
    """The array as a dense ``sympy.Matrix`` (exact values as SymPy numbers) with its keys.

    Examples
    --------
    >>> A = AssocArray.from_triples(["a"], ["x"], ["2/3"], domain="QQ")
    >>> to_sympy(A)[0]
    Matrix([[2/3]])
    """
    if A.domain.kind != "numeric":
        raise DomainMismatch(f"SymPy matrices hold numbers, not {A.domain.name} values")
    nr, nc = A.shape
    M = sympy.zeros(nr, nc)
    s = A._store()
    for r, c, v in zip(s.row_index(), s.indices, A.domain.to_list(s.vals), strict=True):
        M[int(r), int(c)] = SYM.convert(v)
    return M, A.row(), A.col()


def from_sympy(M: Any, rows: Sequence[Any] | None = None, cols: Sequence[Any] | None = None, *,
               domain: str | Domain = "SYM", semiring: Any = None) -> AssocArray:
    """An associative array from a SymPy matrix; zeros (of plus_times) are not stored.

    Examples
    --------
    >>> import sympy
    >>> from_sympy(sympy.Matrix([[0, sympy.Symbol("b")]]), ["r"], ["x", "y"]).to_dict()
    {'r': {'y': b}}
    """
    nr, nc = M.shape
    rows = list(range(nr)) if rows is None else list(rows)
    cols = list(range(nc)) if cols is None else list(cols)
    rr, cc, vv = [], [], []
    for i in range(nr):
        for j in range(nc):
            v = M[i, j]
            if v != 0:
                rr.append(rows[i])
                cc.append(cols[j])
                vv.append(v)
    return AssocArray.from_triples(rr, cc, vv, domain=domain, semiring=semiring)


def to_networkx(A: AssocArray, *, weight: str = "weight") -> Any:
    """A ``networkx.DiGraph`` with an edge ``row -> col`` carrying each value.

    Examples
    --------
    >>> G = to_networkx(AssocArray.from_triples(["a"], ["b"], [3]))
    >>> list(G.edges(data=True))
    [('a', 'b', {'weight': 3})]
    """
    import networkx as nx

    G = nx.DiGraph()
    G.add_nodes_from(A.row())
    G.add_nodes_from(A.col())
    G.add_edges_from((r, c, {weight: v}) for r, c, v in A.triples())
    return G


def from_networkx(G: Any, *, weight: str | None = "weight", domain: str | Domain | None = None,
                  semiring: Any = None) -> AssocArray:
    """An associative array with ``A(u, v)`` the weight of edge ``u -> v`` (1 when the edge has
    none, or when ``weight=None``).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "b")])
    >>> from_networkx(G).to_dict()
    {'a': {'b': 1}}
    """
    rows, cols, vals = [], [], []
    for u, v, data in G.edges(data=True):
        rows.append(u)
        cols.append(v)
        vals.append(1 if weight is None else data.get(weight, 1))
    return AssocArray.from_triples(rows, cols, vals, domain=domain, semiring=semiring)


# the AssocArray methods of the same names delegate here (symdnn.assoc imports this module)
_array.CONVERSIONS.update(to_scipy=to_scipy, from_scipy=from_scipy, to_sympy=to_sympy,
                          from_sympy=from_sympy, to_networkx=to_networkx,
                          from_networkx=from_networkx)
