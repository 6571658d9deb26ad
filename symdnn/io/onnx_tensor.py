"""Exact tensors of ONNX graphs, and the limits that keep exact evaluation bounded.

An :class:`Exact` is an array of Python integers over one common positive denominator, with
its ONNX element type; :func:`exact_tensor` makes one from exact numbers or floats (each the
dyadic rational it stores), and :func:`to_elem_type` rounds one back into an element type.
The limits (``MAX_*``) are checked by :mod:`symdnn.io.onnx_ops` and
:mod:`symdnn.io.onnx_graph` before anything of that size is allocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from symdnn.domains.floats import round_rationals
from symdnn.domains.rational import dyadic_vec
from symdnn.errors import GraphError, ValueDependentError
from symdnn.io.onnxwire import ELEM_TYPES, MAX_RANK, Node, TensorData, type_name

__all__ = ["Exact", "exact_tensor", "to_elem_type", "MAX_ELEMENTS", "MAX_LIVE",
           "MAX_LIMB_WORK", "MAX_BITS", "MAX_TENSOR_BITS"]

#: the most elements one tensor may have
MAX_ELEMENTS = 1 << 26
#: the most elements all the tensors alive at once may have
MAX_LIVE = 1 << 27
#: the most float64 multiply-adds of limbs one exact product (:mod:`symdnn.io.onnx_dense`: a
#: MatMul, Gemm, Conv or ConvTranspose) may take, about two minutes of BLAS on two cores; the
#: limbs are ``(53 - log2 K) / 2`` bits for an inner dimension K, so the count grows with the
#: product of the operands' bit lengths, as a product of big integers does
MAX_LIMB_WORK = 1 << 36
#: the most bits a numerator or the common denominator of a tensor may have
MAX_BITS = 1 << 16
#: the most bits all the numerators of one tensor may hold together
MAX_TENSOR_BITS = 1 << 32

#: the ONNX element types of floats, by their symdnn format name
FLOAT_FORMATS = {1: "fp32", 10: "fp16", 11: "fp64"}
#: the ONNX element types of integers, and of bool
INT_TYPES = {2, 3, 4, 5, 6, 7, 12, 13}
BOOL = 9


@dataclass
class Exact:
    """An exact tensor: ``num / den``, with ``num`` an object array of Python integers of any
    shape and ``den`` one positive integer; ``elem`` is its ONNX element type."""

    num: np.ndarray
    den: int
    elem: int = 1
    _bits: int | None = field(default=None, repr=False, compare=False)
    _nbits: int | None = field(default=None, repr=False, compare=False)
    #: what kernels derive from the values and keep for the next run (the limbs of a
    #: constant weight: :func:`symdnn.io.onnx_dense.limbs_of`); never part of the value
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.num.shape

    @property
    def bits(self) -> int:
        """The most bits of a numerator or of the denominator (computed once: the values
        of an ``Exact`` are never changed in place)."""
        if self._bits is None:
            big = self.den.bit_length()
            if self.num.size:
                big = max(big, int(np.max(np.abs(self.num))).bit_length())
            self._bits = big
        return self._bits

    @property
    def num_bits(self) -> int:
        """The bit length of the largest numerator in magnitude (0 when all are 0),
        computed once."""
        if self._nbits is None:
            n = self.num
            self._nbits = int(max(n.max(), -n.min())).bit_length() if n.size else 0
        return self._nbits

    def fractions(self) -> list:
        """The values as :class:`fractions.Fraction` (nested lists for more than one axis)."""
        d = self.den
        return np.vectorize(lambda n: Fraction(n, d), otypes=[object])(self.num).tolist() \
            if self.num.ndim else Fraction(int(self.num), d)

    def flat(self) -> list[Fraction]:
        """The values in C order, as a flat list of :class:`fractions.Fraction`."""
        d = self.den
        return [Fraction(int(n), d) for n in self.num.reshape(-1).tolist()]

    def reduced(self) -> Exact:
        """The same values over the smallest common denominator."""
        g = math.gcd(self.den, *self.num.reshape(-1).tolist())
        if g == 1:
            return self
        return Exact(obj(self.num // g), self.den // g, self.elem)


def obj(a: Any) -> np.ndarray:
    arr = np.asarray(a, dtype=object)
    return arr


def _ints(a: np.ndarray) -> np.ndarray:
    """An integer NumPy array as an object array of Python integers."""
    return np.array(a.tolist(), dtype=object).reshape(a.shape) if a.size else \
        np.zeros(a.shape, dtype=object)


def exact_tensor(values: Any, elem: int = 1) -> Exact:
    """Exact numbers as an :class:`Exact` tensor.

    ``values`` is a NumPy array (floats are the dyadic rationals they store, integers are
    integers), or nested lists of int, :class:`~fractions.Fraction` or anything
    :class:`~fractions.Fraction` reads exactly (a decimal string). NaN and infinities have
    no exact value and are refused.

    Examples
    --------
    >>> t = exact_tensor([Fraction(1, 3), 2, "0.25"])
    >>> t.num.tolist(), t.den
    ([4, 24, 3], 12)
    """
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind in "iub":
        return Exact(_ints(arr.astype(object) if arr.dtype.kind == "b" else arr), 1, elem)
    if arr.dtype.kind == "f" or arr.dtype.kind == "V" or arr.dtype.name == "bfloat16":
        return _from_floats(arr, elem)
    fr = [Fraction(v) if not isinstance(v, float) else _float_fraction(v)
          for v in np.asarray(arr, dtype=object).reshape(-1).tolist()]
    den = math.lcm(*(f.denominator for f in fr)) if fr else 1
    num = np.array([f.numerator * (den // f.denominator) for f in fr], dtype=object)
    return Exact(num.reshape(arr.shape), den, elem)


def _float_fraction(v: float) -> Fraction:
    if not math.isfinite(v):
        raise GraphError(f"{v} has no exact value")
    return Fraction(v)


#: the floats :func:`_from_floats` converts at a time (its temporaries are a few times this
#: many 8-byte words, whatever the tensor's size)
_CHUNK = 1 << 20


def _from_floats(arr: np.ndarray, elem: int) -> Exact:
    """Floats as the dyadic rationals they store (:func:`symdnn.domains.rational.dyadic_vec`,
    each in lowest terms), over their common denominator: the largest power of two.

    Done in chunks of :data:`_CHUNK` floats, in int64 where the numerators fit (a tensor of
    67 million weights, as VNN-COMP 2023's largest tllverifybench network has, then needs
    little beyond its own object array: zeros share Python's cached ``0``)."""
    a = np.asarray(arr)
    flat = a.reshape(-1)
    n = flat.size

    def chunks() -> Any:  # one float64 chunk alive at a time
        return ((s, flat[s:s + _CHUNK].astype(np.float64)) for s in range(0, n, _CHUNK))

    k = 0  # the common denominator is 2**k
    for s, x in chunks():
        bad = ~np.isfinite(x)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise GraphError(f"the value at flat position {s + i} is {x[i]}, which has no "
                             "exact value")
        if x.size:
            k = max(k, int(dyadic_vec(x).den.max()).bit_length() - 1)
    out = np.empty(n, dtype=object)
    for s, x in chunks():
        rv = dyadic_vec(x)
        if rv.num.dtype == np.int64 and rv.den.dtype == np.int64:
            shift = k - np.log2(rv.den.astype(np.float64)).astype(np.int64)  # dens: 2**j
            with np.errstate(all="ignore"):  # 2.0**shift may overflow: then not int64
                top = float(np.max(np.abs(rv.num) * 2.0 ** shift)) if rv.num.size else 0.0
            if top < 2.0 ** 61:
                out[s:s + x.size] = (rv.num << shift).tolist()
                continue
        out[s:s + x.size] = [int(m) << (k - int(d).bit_length() + 1)
                             for m, d in zip(rv.num.tolist(), rv.den.tolist(), strict=True)]
    return Exact(out.reshape(a.shape), 1 << k, elem)


def align(*ts: Exact) -> tuple[list[np.ndarray], int]:
    den = math.lcm(*(t.den for t in ts))
    return [t.num if t.den == den else t.num * (den // t.den) for t in ts], den


def to_elem_type(t: Exact, elem: int | None = None) -> np.ndarray:
    """The exact tensor rounded into an ONNX element type (its own by default), in one
    correct rounding for a float type; integers must fit their type exactly.

    Examples
    --------
    >>> to_elem_type(exact_tensor([Fraction(1, 3)]), 1)
    array([0.33333334], dtype=float32)
    """
    elem = t.elem if elem is None else elem
    if elem in FLOAT_FORMATS:
        flat = t.num.reshape(-1)
        out = round_rationals(flat, t.den, FLOAT_FORMATS[elem]) if flat.size else \
            np.zeros(0, ELEM_TYPES[elem][1])
        return np.asarray(out).astype(ELEM_TYPES[elem][1]).reshape(t.shape)
    if elem in INT_TYPES or elem == BOOL:
        dtype = ELEM_TYPES[elem][1]
        if t.den != 1 and any(n % t.den for n in t.num.reshape(-1).tolist()):
            raise GraphError(f"a value is not an integer, so it is not a {type_name(elem)}")
        vals = [n // t.den for n in t.num.reshape(-1).tolist()]
        if elem == BOOL:
            return np.array([v != 0 for v in vals], dtype=bool).reshape(t.shape)
        info = np.iinfo(dtype)
        bad = [v for v in vals if not info.min <= v <= info.max]
        if bad:
            raise GraphError(f"{bad[0]} does not fit {type_name(elem)}")
        return np.array(vals, dtype=dtype).reshape(t.shape)
    raise GraphError(f"element type {type_name(elem)} is not supported")



def const_of(t: TensorData, where: str) -> Exact:
    try:
        return exact_tensor(t.array, t.elem_type)
    except GraphError as exc:
        raise GraphError(f"{where}: tensor {t.name!r}: {exc}") from None


def check_size(shape: tuple, node: Any) -> None:
    where = node.label if isinstance(node, Node) else node
    if len(shape) > MAX_RANK:
        raise GraphError(f"{where}: a tensor of {len(shape)} dimensions (at most {MAX_RANK})")
    if math.prod(shape) > MAX_ELEMENTS or any(d > MAX_ELEMENTS for d in shape):
        raise GraphError(f"{where}: a tensor of shape {shape} is larger than "
                         f"{MAX_ELEMENTS} elements (or has a dimension that is)")


def check_bits(t: Exact, where: str) -> None:
    """Exact numbers may grow, but not without bound: a numerator or the denominator of more
    than :data:`MAX_BITS` bits is refused (a chain of squarings doubles them each time), and
    so is a tensor whose numerators hold more than :data:`MAX_TENSOR_BITS` together."""
    big = t.bits
    if big > MAX_BITS:
        raise ValueDependentError(f"{where}: an exact value needs more than {MAX_BITS} bits")
    if t.num.size * max(big, 1) > MAX_TENSOR_BITS:
        raise ValueDependentError(f"{where}: a tensor of {t.num.size} values of up to {big} "
                                  f"bits, more than {MAX_TENSOR_BITS} bits in all")

