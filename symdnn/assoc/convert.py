"""Conversions between associative arrays and other representations: scipy.sparse, SymPy
matrices, networkx graphs and TSV triple files.

Each conversion comes as a symmetric pair (``to_scipy``/``from_scipy``, ...). Exact values never
pass through a float unless a float type is asked for, and then each value is rounded once,
correctly (:func:`symdnn.round_exact`).
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from symdnn.assoc.array import AssocArray
from symdnn.domains import (
    SYM,
    Domain,
    FloatDomain,
    RationalDomain,
    get_domain,
    narrow,
    round_values,
)
from symdnn.errors import DomainError, DomainMismatch, KeyTypeError, OutputError, ParseError

__all__ = [
    "to_scipy", "from_scipy", "to_sympy", "from_sympy", "to_networkx", "from_networkx",
    "read_tsv", "write_tsv", "atomic_write",
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
    import scipy.sparse as sp

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
    import scipy.sparse as sp

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
    import sympy

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


def atomic_write(path: str | os.PathLike, write: Callable[[io.TextIOBase], None], *,
                 compress: bool | None = None) -> None:
    """Write a text file atomically: to a temporary file in the same folder, then rename.

    A failure part-way (or SIGINT/SIGTERM) leaves any previous file untouched and no partial
    file behind; the file gets the mode the umask gives. Whether an existing file may be
    replaced at all is the caller's decision (see :func:`symdnn.io.outputs.check_output_file`).
    """
    from symdnn.io.outputs import terminate_as_interrupt, umask_mode

    path = os.fspath(path)
    if os.path.isdir(path):
        raise OutputError(f"{path!r} is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    compress = path.endswith(".gz") if compress is None else compress
    with terminate_as_interrupt():
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-",
                                       suffix=os.path.basename(path))
        except OSError as exc:
            raise OutputError(f"cannot write {path!r}: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "wb") as raw:
                if compress:
                    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
                            io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as fh:
                        write(fh)
                else:
                    with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as fh:
                        write(fh)
            os.chmod(tmp, umask_mode("file"))  # mkstemp makes 0600 whatever the umask
            os.replace(tmp, path)
        except BaseException:
            from symdnn.io.outputs import _remove

            _remove(Path(tmp))
            raise


def read_tsv(path: str | os.PathLike, *, domain: str | Domain = "QQ",
             key_type: Callable[[str], Any] = str, semiring: Any = None,
             dup: str = "error") -> AssocArray:
    """Read a file of ``row<TAB>col<TAB>value`` lines (``.gz`` is decompressed).

    Blank lines and lines starting with ``#`` are skipped; every other line holds exactly
    three tab-separated fields. Values are read exactly: in ``QQ``, ``0.3`` is 3/10 and
    ``6.25e-02`` is 1/16; they must be finite (see :func:`symdnn.io.text.domain_value`).
    ``key_type`` converts the key strings (``int`` for numbered neurons). The file must be
    UTF-8 and, when named ``.gz``, a complete gzip stream.

    Raises
    ------
    ParseError
        Naming the file and line of a malformed line, key or value, of bytes that are not
        UTF-8, or (under ``dup="error"``) of a repeated (row, col) pair, with the line of its
        first occurrence; naming the file for a missing file or a corrupt gzip stream.
    """
    from symdnn.errors import DuplicateKeyError
    from symdnn.io.text import domain_value, tsv_lines

    path = os.fspath(path)
    dom = get_domain(domain)
    rows, cols, vals = [], [], []
    seen: dict = {}
    for lineno, parts in tsv_lines(path, 3, comment="#", verb="open"):
        try:
            r, c = key_type(parts[0]), key_type(parts[1])
            first = seen.get((r, c)) if dup == "error" else None
        except (TypeError, ValueError) as exc:
            raise ParseError(f"bad key: {exc}", path=path, line=lineno) from None
        if first is not None:
            raise ParseError(f"repeated entry ({r!r}, {c!r}), first on line {first}",
                             path=path, line=lineno)
        try:
            v = domain_value(dom, parts[2])
        except ValueError as exc:
            raise ParseError(f"bad value {parts[2][:40]!r}: {exc}", path=path,
                             line=lineno) from None
        if dup == "error":
            seen[r, c] = lineno
        rows.append(r)
        cols.append(c)
        vals.append(v)
    try:
        return AssocArray.from_triples(rows, cols, vals, domain=dom, semiring=semiring,
                                       dup=dup)
    except (KeyTypeError, DuplicateKeyError, DomainError) as exc:
        raise ParseError(str(exc), path=path) from None


def write_tsv(A: AssocArray, path: str | os.PathLike) -> None:
    """Write ``row<TAB>col<TAB>value`` lines, exact values as ``p/q``, atomically.

    Raises
    ------
    KeyTypeError
        For keys that do not survive a round trip through text (tuples, or strings holding a
        tab or newline).
    """
    dom = A.domain

    def check(k: Any) -> str:
        if isinstance(k, tuple) or (isinstance(k, str) and any(ch in k for ch in "\t\r\n")):
            raise KeyTypeError(f"key {k!r} cannot be written to a TSV triple file")
        return str(k)

    def write(fh: io.TextIOBase) -> None:
        for r, c, v in A.triples():
            fh.write(f"{check(r)}\t{check(c)}\t{dom.format(v)}\n")

    atomic_write(path, write)


