"""The associative array: a sparse map from (row key, column key) pairs to semiring values.

Canonical form (documented, and what exact equality compares): row and column keys sorted and
unique, only keys that hold an entry (no empty rows or columns), and no stored entry equal to the
zero of the array's semiring. Arrays are immutable: every operation returns a new array, so a
failed operation leaves its operands as they were.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from symdnn import semirings as _sr
from symdnn.assoc import kernels as K
from symdnn.assoc.keys import Prefix, merge_keys, normalize_key, select, sorted_keys
from symdnn.assoc.printing import render
from symdnn.domains import (
    BOOL,
    FORMATS,
    FP64,
    QQ,
    SET,
    SYM,
    ZZ,
    Domain,
    FloatDomain,
    Infinity,
    RationalDomain,
    exact_parts,
    get_domain,
    round_values,
)
from symdnn.errors import (
    ArgumentError,
    ArgumentTypeError,
    DomainMismatch,
    KeyMismatch,
    KeyTypeError,
    SemiringMismatch,
    SymdnnError,
)
from symdnn.semirings import Semiring

__all__ = ["AssocArray", "infer_domain", "default_semiring"]

#: File formats of a whole array, by method name (``read_tsv``, ``write_tsv``). They live in
#: :mod:`symdnn.io`, which sits above this package, and register themselves here when imported
#: (``import symdnn`` imports them), so :class:`AssocArray` names them without importing io.
FILE_FORMATS: dict[str, Callable[..., Any]] = {}

#: Conversions to and from scipy.sparse, SymPy and networkx, by method name (``to_scipy``,
#: ``from_scipy``, ...). They live in :mod:`symdnn.assoc.convert`, which imports this module,
#: and register themselves here when imported (``symdnn.assoc`` imports it), so
#: :class:`AssocArray` names them without importing convert back.
CONVERSIONS: dict[str, Callable[..., Any]] = {}


def _provided(table: dict[str, Callable[..., Any]], name: str, module: str) -> Callable[..., Any]:
    try:
        return table[name]
    except KeyError:
        raise SymdnnError(f"AssocArray.{name} is provided by {module}, which is not "
                          "imported; import symdnn first") from None


def _file_format(name: str) -> Callable[..., Any]:
    return _provided(FILE_FORMATS, name, "symdnn.io.triples")


def _conversion(name: str) -> Callable[..., Any]:
    return _provided(CONVERSIONS, name, "symdnn.assoc.convert")


def default_semiring(domain: Domain) -> Semiring:
    """``plus_times`` for numbers, ``or_and`` for booleans, ``union_intersect`` for sets."""
    return {"numeric": _sr.plus_times, "bool": _sr.or_and, "set": _sr.union_intersect}[domain.kind]


def infer_domain(values: Sequence[Any]) -> Domain:
    """The domain a list of values most naturally lives in.

    Booleans give ``BOOL``, sets ``SET``, SymPy expressions ``SYM``, integers ``ZZ``, exact
    rationals (``Fraction``, ``fmpq``, ``"p/q"`` strings) ``QQ``, and floats ``fp64``: a float is
    never silently taken as exact; pass ``domain=QQ`` to take floats as the dyadic rationals they
    denote.
    """
    if isinstance(values, np.ndarray) and values.dtype != object:
        if values.dtype.kind == "b":
            return BOOL
        if values.dtype.kind in "iu":
            return ZZ
        for name, fmt in FORMATS.items():
            if fmt.dtype == values.dtype:
                return get_domain(name)
    kinds = set()
    for v in values:
        if isinstance(v, bool | np.bool_):
            kinds.add("bool")
        elif isinstance(v, set | frozenset):
            kinds.add("set")
        elif isinstance(v, float | np.floating):
            kinds.add("float")
        elif type(v).__module__.startswith("sympy"):
            kinds.add("sym" if not getattr(v, "is_Rational", False) else
                      ("int" if v.is_Integer else "rat"))
        elif isinstance(v, int | np.integer) or type(v).__name__ == "fmpz":
            kinds.add("int")
        else:
            kinds.add("rat")
    for kind, dom in (("set", SET), ("sym", SYM), ("float", FP64), ("rat", QQ), ("int", ZZ)):
        if kind in kinds:
            return dom
    return BOOL if kinds == {"bool"} else ZZ


def _values_vector(domain: Domain, values: Any, n: int) -> Any:
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype != object:
        if isinstance(domain, RationalDomain):
            if values.dtype.kind in "iub":
                return domain.from_ints(values.astype(np.int64))
            return domain.from_floats(values)
        if isinstance(domain, FloatDomain):
            return domain.from_array(values)
    if np.ndim(values) == 0 and not isinstance(values, set | frozenset | list | tuple):
        return domain.repeat(domain.convert(values), n)
    return domain.from_list(list(values))


class AssocArray:
    """A sparse associative array ``A : K1 x K2 -> V`` over a semiring (Kepner et al. §II).

    Build one with :meth:`from_triples`, :meth:`from_dict`, :meth:`identity`, :meth:`eye`,
    :meth:`ones` or a ``from_*`` conversion. Operators: ``A + B`` element-wise add (union of
    patterns), ``A * B`` element-wise multiply (intersection), ``A @ B`` array multiply with the
    inner keys aligned by key, all over the operands' semiring; the methods :meth:`ewise_add`,
    :meth:`ewise_mult` and :meth:`mxm` take ``semiring=`` to choose another.

    Examples
    --------
    >>> from symdnn import AssocArray
    >>> W = AssocArray.from_triples(["ad", "ad", "be", "be"], ["1a", "2d", "1b", "2e"], 1)
    >>> W
       1a 1b 2d 2e
    ad 1     1
    be    1     1
    >>> y = AssocArray.from_triples(["1a", "2d"], ["x", "x"], 1)
    >>> (W @ y).to_dict()
    {'ad': {'x': 2}}
    """

    __slots__ = ("_s", "_domain", "_semiring", "__weakref__")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self) -> None:
        raise ArgumentTypeError("build an AssocArray with from_triples, from_dict, identity, eye, "
                                "ones or one of the from_* conversions")

    @classmethod
    def _new(cls, store: K.Store, domain: Domain, semiring: Semiring) -> AssocArray:
        obj = object.__new__(cls)
        for arr in (store.indptr, store.indices):
            arr.flags.writeable = False
        obj._s = store
        obj._domain = domain
        obj._semiring = semiring
        return obj

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_triples(cls, rows: Any, cols: Any, values: Any = 1, *,
                     domain: str | Domain | None = None, semiring: str | Semiring | None = None,
                     dup: str = "error") -> AssocArray:
        """The paper's A(k1, k2, v): entry ``(rows[i], cols[i])`` holds ``values[i]``.

        Parameters
        ----------
        rows, cols : sequence of keys
            Row and column keys, one per entry (a NumPy integer array is read fast).
        values : sequence or scalar, default 1
            One value per entry, or one value for every entry.
        domain : str or Domain, optional
            ``"QQ"``, ``"ZZ"``, ``"SYM"``, ``"fp16"``, ...; inferred from the values when omitted
            (floats infer ``fp64``: pass ``domain="QQ"`` to take them as exact dyadic rationals).
        semiring : str or Semiring, optional
            The array's semiring (default ``plus_times`` for numbers); its zero is never stored.
        dup : {"error", "add", "first", "last"}
            What a repeated (row, col) pair does: raise :class:`DuplicateKeyError` naming the
            pair (default), combine with the semiring's addition, or keep the first or last.

        Raises
        ------
        KeyMismatch
            If ``rows``, ``cols`` and ``values`` differ in length.
        KeyTypeError
            For unhashable, NaN, mixed-type or unsortable keys.
        DomainError
            For a value outside the domain or the semiring's carrier.

        Examples
        --------
        >>> A = AssocArray.from_triples([1, 1, 2], ["a", "b", "a"], ["1/2", "1/3", 0],
        ...                             domain="QQ")
        >>> A.to_triples()
        ([1, 1], ['a', 'b'], [1/2, 1/3])
        """
        n = len(rows)
        if len(cols) != n:
            raise KeyMismatch(f"{n} row keys but {len(cols)} column keys")
        if np.ndim(values) != 0 and not isinstance(values, set | frozenset):
            if len(values) != n:
                raise KeyMismatch(f"{n} keys but {len(values)} values")
        dom = get_domain(domain) if domain is not None else (
            infer_domain(values if np.ndim(values) else [values]))
        sr = _sr.get(semiring) if semiring is not None else default_semiring(dom)
        rkeys, ri = _key_positions(rows, "row")
        ckeys, ci = _key_positions(cols, "column")
        vals = _values_vector(dom, values, n)
        K.check_values(dom, vals, sr)
        store = K.canonical(rkeys, ckeys, ri, ci, vals, dom, sr, dup=dup)
        return cls._new(store, dom, sr)

    @classmethod
    def from_dict(cls, d: dict, *, domain: str | Domain | None = None,
                  semiring: str | Semiring | None = None) -> AssocArray:
        """From a dict of dicts ``{row: {col: value}}`` (the inverse of :meth:`to_dict`).

        Examples
        --------
        >>> AssocArray.from_dict({"a": {"x": 1, "y": 2}}).to_dict()
        {'a': {'x': 1, 'y': 2}}
        """
        rows, cols, vals = [], [], []
        for r, inner in d.items():
            for c, v in inner.items():
                rows.append(r)
                cols.append(c)
                vals.append(v)
        return cls.from_triples(rows, cols, vals, domain=domain, semiring=semiring)

    @classmethod
    def empty(cls, *, domain: str | Domain = "ZZ",
              semiring: str | Semiring | None = None) -> AssocArray:
        """The array with no entries (the all-zero array of any shape)."""
        return cls.from_triples([], [], [], domain=domain, semiring=semiring)

    @classmethod
    def eye(cls, k1: Sequence[Any], k2: Sequence[Any], *, domain: str | Domain = "ZZ",
            semiring: str | Semiring | None = None) -> AssocArray:
        """The paper's I(k1, k2): the semiring's one at ``(k1[i], k2[i])`` for each i.

        Examples
        --------
        >>> AssocArray.eye(["ad", "ah"], ["a", "a"]).to_dict()
        {'ad': {'a': 1}, 'ah': {'a': 1}}
        """
        dom = get_domain(domain)
        sr = _sr.get(semiring) if semiring is not None else default_semiring(dom)
        return cls.from_triples(list(k1), list(k2), dom.const(sr.one), domain=dom, semiring=sr)

    @classmethod
    def identity(cls, keys: Iterable[Any], *, domain: str | Domain = "ZZ",
                 semiring: str | Semiring | None = None) -> AssocArray:
        """The identity I(k): the semiring's one on the diagonal of the given keys.

        Examples
        --------
        >>> AssocArray.identity(["a", "b"], semiring="max_plus").to_dict()
        {'a': {'a': 0}, 'b': {'b': 0}}
        """
        keys = list(dict.fromkeys(keys))
        return cls.eye(keys, keys, domain=domain, semiring=semiring)

    @classmethod
    def ones(cls, k1: Iterable[Any], k2: Iterable[Any], *, domain: str | Domain = "ZZ",
             semiring: str | Semiring | None = None) -> AssocArray:
        """The paper's 1(k1, k2): the semiring's one at every pair of keys.

        Examples
        --------
        >>> AssocArray.ones(["a", "b"], [1]).to_dict()
        {'a': {1: 1}, 'b': {1: 1}}
        """
        k1 = list(dict.fromkeys(k1))
        k2 = list(dict.fromkeys(k2))
        rows = [a for a in k1 for _ in k2]
        cols = [b for _ in k1 for b in k2]
        dom = get_domain(domain)
        sr = _sr.get(semiring) if semiring is not None else default_semiring(dom)
        return cls.from_triples(rows, cols, dom.const(sr.one), domain=dom, semiring=sr)

    # ---------------------------------------------------------------- properties
    @property
    def domain(self) -> Domain:
        """The value domain (``QQ``, ``fp16``, ...)."""
        return self._domain

    @property
    def semiring(self) -> Semiring:
        """The semiring whose zero the array never stores."""
        return self._semiring

    @property
    def shape(self) -> tuple[int, int]:
        """(number of row keys, number of column keys)."""
        return len(self._s.rows), len(self._s.cols)

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return len(self._s.indices)

    def row(self) -> tuple:
        """Keys of the non-empty rows (every row key, in canonical form), sorted."""
        return self._s.rows

    def col(self) -> tuple:
        """Keys of the non-empty columns, sorted."""
        return self._s.cols

    def triples(self) -> Iterator[tuple[Any, Any, Any]]:
        """Iterate over ``(row, col, value)`` in row-major key order."""
        rows, cols = self._s.rows, self._s.cols
        vals = self._domain.to_list(self._s.vals)
        for r, i, v in zip(self._s.row_index(), self._s.indices, vals, strict=True):
            yield rows[r], cols[i], v

    def get(self, row: Any, col: Any, default: Any = None) -> Any:
        """The value at ``(row, col)``; the semiring's zero (or ``default``) when absent."""
        s = self._s
        r = s.row_pos().get(normalize_key(row))
        c = s.col_pos().get(normalize_key(col))
        if r is not None and c is not None:
            lo, hi = s.indptr[r], s.indptr[r + 1]
            j = lo + np.searchsorted(s.indices[lo:hi], c)
            if j < hi and s.indices[j] == c:
                return self._domain.to_list(self._domain.take(self._s.vals, np.array([j])))[0]
        return self._domain.const(self._semiring.zero) if default is None else default

    # ---------------------------------------------------------------- algebra
    def _binary_setup(self, other: AssocArray, semiring: str | Semiring | None,
                      what: str) -> Semiring:
        if not isinstance(other, AssocArray):
            raise ArgumentTypeError(f"{what} needs an AssocArray, not {type(other).__name__}")
        if self._domain is not other._domain:
            raise DomainMismatch(
                f"{what} of arrays in domains {self._domain.name} and {other._domain.name}; "
                "convert one explicitly with convert_to()"
            )
        if semiring is None:
            if self._semiring is not other._semiring:
                raise SemiringMismatch(
                    f"{what} of arrays over {self._semiring.name} and {other._semiring.name}; "
                    "name the semiring with semiring=..."
                )
            return self._semiring
        sr = _sr.get(semiring)
        K.check_values(self._domain, self._s.vals, sr, "left operand value")
        K.check_values(other._domain, other._s.vals, sr, "right operand value")
        return sr

    def ewise_add(self, other: AssocArray, semiring: str | Semiring | None = None) -> AssocArray:
        """Element-wise addition ``C(k1,k2) = A(k1,k2) (+) B(k1,k2)`` (union of patterns).

        Examples
        --------
        >>> A = AssocArray.from_triples(["a"], ["x"], [1])
        >>> B = AssocArray.from_triples(["a", "b"], ["x", "y"], [-1, 5])
        >>> (A + B).to_dict()          # 1 + -1 cancels: no entry is stored
        {'b': {'y': 5}}
        >>> A.ewise_add(B, semiring="max_plus").to_dict()
        {'a': {'x': 1}, 'b': {'y': 5}}
        """
        return self._ewise(other, semiring, "element-wise add", K.ewise_union, "add")

    def _ewise(self, other: AssocArray, semiring: str | Semiring | None, what: str,
               kernel: Callable, monoid: str) -> AssocArray:
        """``kernel`` (union or intersection of the patterns) with the semiring's ``monoid``
        (``"add"`` or ``"mul"``), over the merged row and column keys."""
        sr = self._binary_setup(other, semiring, what)
        rows = merge_keys(self._s.rows, other._s.rows, "row")
        cols = merge_keys(self._s.cols, other._s.cols, "column")
        store = kernel(self._s, other._s, rows, cols, getattr(sr, monoid).op, self._domain, sr)
        return AssocArray._new(store, self._domain, sr)

    def ewise_mult(self, other: AssocArray, semiring: str | Semiring | None = None) -> AssocArray:
        """Element-wise multiplication ``C(k1,k2) = A(k1,k2) (x) B(k1,k2)`` (intersection).

        Examples
        --------
        >>> A = AssocArray.from_triples(["a", "b"], ["x", "x"], [2, 3])
        >>> B = AssocArray.from_triples(["a"], ["x"], [5])
        >>> (A * B).to_dict()
        {'a': {'x': 10}}
        """
        return self._ewise(other, semiring, "element-wise multiply", K.ewise_intersect, "mul")

    def mxm(self, other: AssocArray, semiring: str | Semiring | None = None) -> AssocArray:
        """Array multiply ``C(i,j) = (+)_k A(i,k) (x) B(k,j)``, inner keys aligned by key.

        ``plus_times`` over ``ZZ``/``QQ`` runs on integer-scaled sparse products at float speed
        while an exact bound allows (see :mod:`symdnn.intmm`); nothing is ever rounded.

        Examples
        --------
        >>> A = AssocArray.from_triples(["i", "i"], ["k1", "k2"], ["1/2", "1/3"], domain="QQ")
        >>> B = AssocArray.from_triples(["k2", "k1"], ["j", "j"], [3, 4], domain="QQ")
        >>> A.mxm(B).to_dict()
        {'i': {'j': 3}}
        >>> A.mxm(B, semiring="max_plus").to_dict()
        {'i': {'j': 9/2}}
        """
        sr = self._binary_setup(other, semiring, "array multiply")
        if self._s.cols and other._s.rows and \
                type(self._s.cols[0]) is not type(other._s.rows[0]):
            raise KeyTypeError(
                f"array multiply: column keys of type {type(self._s.cols[0]).__name__} cannot "
                f"align with row keys of type {type(other._s.rows[0]).__name__}"
            )
        store = K.spgemm(self._s, other._s, self._domain, sr)
        return AssocArray._new(store, self._domain, sr)

    def __add__(self, other: AssocArray) -> AssocArray:
        return self.ewise_add(other)

    def __mul__(self, other: AssocArray) -> AssocArray:
        return self.ewise_mult(other)

    def __matmul__(self, other: AssocArray) -> AssocArray:
        return self.mxm(other)

    def transpose(self) -> AssocArray:
        """The transpose ``A^T(k2, k1) = A(k1, k2)``."""
        s = self._s
        store = K.canonical(s.cols, s.rows, s.indices, s.row_index(), s.vals, self._domain,
                            self._semiring)
        return AssocArray._new(store, self._domain, self._semiring)

    @property
    def T(self) -> AssocArray:
        """Shorthand for :meth:`transpose`."""
        return self.transpose()

    def kron(self, other: AssocArray, semiring: str | Semiring | None = None) -> AssocArray:
        """Kronecker product ``C((k1,k3),(k2,k4)) = A(k1,k2) (x) B(k3,k4)``.

        Keys of the result are pairs, which sort in the order of their parts (order-preserving).

        Examples
        --------
        >>> f1 = AssocArray.from_triples(["1a", "1b"], ["1a", "1b"], 1)
        >>> f2 = AssocArray.from_triples(["2a"], ["2a"], 1)
        >>> f1.kron(f2).row()
        (('1a', '2a'), ('1b', '2a'))
        """
        sr = self._binary_setup(other, semiring, "Kronecker product")
        a, b = self._s, other._s
        nb_r, nb_c = len(b.rows), len(b.cols)
        ia = np.repeat(np.arange(self.nnz), other.nnz)
        ib = np.tile(np.arange(other.nnz), self.nnz)
        ri = a.row_index()[ia] * nb_r + b.row_index()[ib]
        ci = a.indices[ia] * nb_c + b.indices[ib]
        vals = self._domain.binop(sr.mul.op, self._domain.take(a.vals, ia),
                                  self._domain.take(b.vals, ib))
        rows = tuple((x, y) for x in a.rows for y in b.rows)
        cols = tuple((x, y) for x in a.cols for y in b.cols)
        store = K.canonical(rows, cols, ri, ci, vals, self._domain, sr)
        return AssocArray._new(store, self._domain, sr)

    def zero_norm(self) -> AssocArray:
        """The zero norm |A|_0: the value 1 (``True`` for booleans) wherever A has an entry.

        Examples
        --------
        >>> AssocArray.from_triples(["a", "a"], ["x", "y"], [5, -2]).zero_norm().to_dict()
        {'a': {'x': 1, 'y': 1}}
        """
        if self._domain.kind == "set":
            raise DomainMismatch("the zero norm is defined for numeric and boolean arrays")
        one = self._domain.const("true" if self._domain.kind == "bool" else "1")
        sr = self._semiring if self._domain.kind == "bool" else _sr.plus_times
        store = K.Store(self._s.rows, self._s.cols, self._s.indptr, self._s.indices,
                        self._domain.repeat(one, self.nnz))
        return AssocArray._new(store, self._domain, sr)

    def reduce(self, axis: int | None = None, *, monoid: str | None = None,
               key: Any = 1) -> AssocArray | Any:
        """Reduce with a monoid (default: the semiring's addition).

        Parameters
        ----------
        axis : {1, 0, None}
            1 reduces along each row (the paper's ``A 1``, a column array keyed ``key``),
            0 along each column (``1^T A``, a row array), None everything to one value.
        monoid : str, optional
            ``"plus"``, ``"times"``, ``"max"``, ``"min"`` (numbers), ``"or"``/``"and"``,
            ``"union"``/``"intersect"``.
        key : hashable
            Key of the single column (axis=1) or row (axis=0) of the result.

        Examples
        --------
        >>> A = AssocArray.from_triples(["a", "a", "b"], ["x", "y", "x"], [1, 2, 5])
        >>> A.reduce(1).to_dict()
        {'a': {1: 3}, 'b': {1: 5}}
        >>> A.reduce(0, monoid="max").to_dict()
        {1: {'x': 5, 'y': 2}}
        >>> A.reduce()
        8
        """
        op = monoid or self._semiring.add.op
        s, dom = self._s, self._domain
        if axis is None:
            if self.nnz == 0:
                return dom.const(self._semiring.zero)
            return dom.to_list(dom.reduceat(op, s.vals, np.array([0])))[0]
        if axis == 1:
            vals = dom.reduceat(op, s.vals, s.indptr[:-1]) if self.nnz else s.vals
            n = len(s.rows)
            store = K.canonical(s.rows, (normalize_key(key),), np.arange(n),
                                np.zeros(n, dtype=np.int64), vals, dom, self._semiring,
                                presorted=True)
            return AssocArray._new(store, dom, self._semiring)
        if axis == 0:
            return self.transpose().reduce(1, monoid=monoid, key=key).transpose()
        raise ArgumentError(f"axis must be 0, 1 or None, not {axis!r}")

    # ---------------------------------------------------------------- selection
    def __getitem__(self, index: tuple) -> AssocArray | Any:
        """``A[rows, cols]``: a sub-array, or one value when both are single keys.

        Each selector is ``:``, a key range ``lo:hi`` (inclusive at both ends), a
        :class:`~symdnn.Prefix`, a list of keys, or one key.

        Examples
        --------
        >>> A = AssocArray.from_triples(["a", "b", "c"], ["x", "y", "x"], [1, 2, 3])
        >>> A["a":"b", :].to_dict()
        {'a': {'x': 1}, 'b': {'y': 2}}
        >>> A["c", "x"]
        3
        """
        if not isinstance(index, tuple) or len(index) != 2:
            raise ArgumentTypeError("index an AssocArray with A[rows, cols]")
        rsel, csel = index
        if _is_single(rsel) and _is_single(csel):
            return self.get(rsel, csel)
        return self.sub(rsel, csel)

    def sub(self, rows: Any = slice(None), cols: Any = slice(None)) -> AssocArray:
        """The sub-array on the selected keys (see :meth:`__getitem__` for selectors)."""
        s = self._s
        rpos = select(s.rows, rows, "row")
        cpos = select(s.cols, cols, "column")
        counts = np.diff(s.indptr)[rpos]
        idx = np.repeat(s.indptr[rpos], counts) + _ranges(counts)
        keep = np.zeros(len(s.cols), dtype=bool)
        keep[cpos] = True
        idx = idx[keep[s.indices[idx]]]
        ri = s.row_index()[idx]
        store = K.canonical(s.rows, s.cols, ri, s.indices[idx], self._domain.take(s.vals, idx),
                            self._domain, self._semiring, presorted=True)
        return AssocArray._new(store, self._domain, self._semiring)

    def relabel(self, rows: Any = None, cols: Any = None, *, dup: str = "error") -> AssocArray:
        """The same entries under new keys: ``rows`` and ``cols`` map old keys to new ones (a
        function or a dict; None keeps them). Keys that merge follow the ``dup`` policy of
        :meth:`from_triples`.

        Examples
        --------
        >>> A = AssocArray.from_triples([("1a", "*")], [("*", "2b")], [1])
        >>> A.relabel(rows=lambda k: k[0], cols=lambda k: k[1]).to_dict()
        {'1a': {'2b': 1}}
        """
        def fn(m: Any) -> Any:
            if m is None:
                return lambda k: k
            if isinstance(m, dict):
                return lambda k: m.get(k, k)
            return m

        fr, fc = fn(rows), fn(cols)
        s = self._s
        new_rows = [normalize_key(fr(k)) for k in s.rows]
        new_cols = [normalize_key(fc(k)) for k in s.cols]
        rkeys, rmap = _key_positions(new_rows, "row")
        ckeys, cmap = _key_positions(new_cols, "column")
        store = K.canonical(rkeys, ckeys, rmap[s.row_index()], cmap[s.indices], s.vals,
                            self._domain, self._semiring, dup=dup)
        return AssocArray._new(store, self._domain, self._semiring)

    # ---------------------------------------------------------------- domains
    def convert_to(self, domain: str | Domain) -> AssocArray:
        """The same array in another domain: exact values convert exactly into exact domains
        and round correctly (one rounding) into float formats.

        Examples
        --------
        >>> A = AssocArray.from_triples(["a"], ["x"], [0.1])
        >>> A.convert_to("QQ").get("a", "x")
        3602879701896397/36028797018963968
        """
        dom = get_domain(domain)
        if dom is self._domain:
            return self
        src = self._domain
        if isinstance(src, RationalDomain) and isinstance(dom, RationalDomain):
            vals = dom.from_list(src.to_list(self._s.vals)) if dom.integer else self._s.vals
        elif isinstance(src, FloatDomain) and isinstance(dom, RationalDomain):
            vals = dom.from_floats(self._s.vals)
        elif isinstance(dom, FloatDomain) and isinstance(src, RationalDomain | FloatDomain):
            vals = round_values(self._s.vals, dom.format_)  # one rounding per value
        else:
            vals = dom.from_list(src.to_list(self._s.vals))
        sr = self._semiring if self._semiring.kind == dom.kind else default_semiring(dom)
        K.check_values(dom, vals, sr)
        s = self._s
        store = K.canonical(s.rows, s.cols, s.row_index(), s.indices, vals, dom, sr,
                            presorted=True)
        return AssocArray._new(store, dom, sr)

    def with_semiring(self, semiring: str | Semiring) -> AssocArray:
        """The same entries viewed over another semiring (its zero dropped, its carrier
        checked)."""
        sr = _sr.get(semiring)
        K.check_values(self._domain, self._s.vals, sr)
        s = self._s
        store = K.canonical(s.rows, s.cols, s.row_index(), s.indices, s.vals, self._domain, sr,
                            presorted=True)
        return AssocArray._new(store, self._domain, sr)

    # ---------------------------------------------------------------- comparison
    def isequal(self, other: AssocArray, *, check_domain: bool = True) -> bool:
        """Exact equality: same keys, same pattern, equal values (no tolerance).

        With ``check_domain=False`` arrays in different domains compare by exact value (a float
        equals the rational it denotes).
        """
        if not isinstance(other, AssocArray):
            return False
        a, b = self._s, other._s
        if a.rows != b.rows or a.cols != b.cols or not np.array_equal(a.indptr, b.indptr) \
                or not np.array_equal(a.indices, b.indices):
            return False
        if self._domain is other._domain:
            return bool(np.all(self._domain.equal(a.vals, b.vals)))
        if check_domain:
            return False
        va = [_exact_or_self(v) for v in self._domain.to_list(a.vals)]
        vb = [_exact_or_self(v) for v in other._domain.to_list(b.vals)]
        return va == vb

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        return isinstance(other, AssocArray) and self.isequal(other)

    def isclose(self, other: AssocArray, *, rel_tol: float = 1e-7,
                abs_tol: float = 0.0) -> bool:
        """Tolerant comparison in float64 (for float runs; exact paths use :meth:`isequal`).
        Entries present in one array only are compared with 0."""
        da = {(r, c): v for r, c, v in self.triples()}
        db = {(r, c): v for r, c, v in other.triples()}
        for k in set(da) | set(db):
            x = float(_exact_float(da.get(k, 0)))
            y = float(_exact_float(db.get(k, 0)))
            if not math.isclose(x, y, rel_tol=rel_tol, abs_tol=abs_tol):
                return False
        return True

    # ---------------------------------------------------------------- conversions
    def to_dict(self) -> dict:
        """``{row: {col: value}}`` in key order (see :meth:`from_dict`)."""
        out: dict = {}
        for r, c, v in self.triples():
            out.setdefault(r, {})[c] = v
        return out

    def to_triples(self) -> tuple[list, list, list]:
        """``(rows, cols, values)`` lists in row-major key order (see :meth:`from_triples`)."""
        rows, cols, vals = [], [], []
        for r, c, v in self.triples():
            rows.append(r)
            cols.append(c)
            vals.append(v)
        return rows, cols, vals

    def to_scipy(self, *, dtype: Any = None, format: str = "csr") -> tuple[Any, tuple, tuple]:
        """``(matrix, rows, cols)``; see :func:`symdnn.assoc.convert.to_scipy`."""
        return _conversion("to_scipy")(self, dtype=dtype, format=format)

    @classmethod
    def from_scipy(cls, M: Any, rows: Sequence[Any] | None = None,
                   cols: Sequence[Any] | None = None, **kw: Any) -> AssocArray:
        """From a scipy.sparse matrix; see :func:`symdnn.assoc.convert.from_scipy`."""
        return _conversion("from_scipy")(M, rows, cols, **kw)

    def to_sympy(self) -> tuple[Any, tuple, tuple]:
        """``(sympy.Matrix, rows, cols)``; see :func:`symdnn.assoc.convert.to_sympy`."""
        return _conversion("to_sympy")(self)

    @classmethod
    def from_sympy(cls, M: Any, rows: Sequence[Any] | None = None,
                   cols: Sequence[Any] | None = None, **kw: Any) -> AssocArray:
        """From a SymPy matrix; see :func:`symdnn.assoc.convert.from_sympy`."""
        return _conversion("from_sympy")(M, rows, cols, **kw)

    def to_networkx(self, *, weight: str = "weight") -> Any:
        """A ``networkx.DiGraph`` with edges ``row -> col``; see
        :func:`symdnn.assoc.convert.to_networkx`."""
        return _conversion("to_networkx")(self, weight=weight)

    @classmethod
    def from_networkx(cls, G: Any, **kw: Any) -> AssocArray:
        """From a networkx graph; see :func:`symdnn.assoc.convert.from_networkx`."""
        return _conversion("from_networkx")(G, **kw)

    @classmethod
    def read_tsv(cls, path: Any, **kw: Any) -> AssocArray:
        """Read TSV triples exactly; see :func:`symdnn.io.triples.read_tsv`."""
        return _file_format("read_tsv")(path, **kw)

    def write_tsv(self, path: Any) -> None:
        """Write TSV triples atomically; see :func:`symdnn.io.triples.write_tsv`."""
        _file_format("write_tsv")(self, path)

    def __repr__(self) -> str:
        return render(self)

    def _store(self) -> K.Store:
        return self._s


def _is_single(sel: Any) -> bool:
    return not isinstance(sel, slice | list | set | frozenset | np.ndarray | range | Prefix)


def _ranges(counts: np.ndarray) -> np.ndarray:
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


def _exact_or_self(v: Any) -> Any:
    try:
        return exact_parts(v)
    except Exception:
        return v


def _exact_float(v: Any) -> float:
    if isinstance(v, Infinity):
        return float(v)
    try:
        p = exact_parts(v)
    except Exception:
        return float(v)
    return float(p) if isinstance(p, Infinity) else p[0] / p[1]


def _key_positions(keys: Any, axis: str) -> tuple[tuple, np.ndarray]:
    """Sorted unique keys and each entry's position among them."""
    if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":
        uniq, inv = np.unique(keys, return_inverse=True)
        return tuple(int(k) for k in uniq), inv.astype(np.int64)
    norm = [normalize_key(k) for k in keys]
    uniq = sorted_keys(norm, axis)
    index = {k: i for i, k in enumerate(uniq)}
    return uniq, np.fromiter((index[k] for k in norm), dtype=np.int64, count=len(norm))
