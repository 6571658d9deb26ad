"""RadiX-Net-style sparse layers (Kepner and Robinett, "RadiX-Net: Structured Sparse Matrices
for Deep Neural Networks", 2019), the topology family of the Graph Challenge networks.

A mixed-radix system ``N = (N_1, ..., N_k)`` over ``n' = N_1 ... N_k`` base neurons gives layer l
the radix ``r = N_{l mod k}`` and stride ``s = N_1 ... N_{(l mod k) - 1}``: base neuron j feeds
``j + m s (mod n')`` for ``m = 0 ... r - 1``. A Kronecker product with a ``b x b`` block of ones
extends the width to ``n = n' b``, every neuron then having ``r b`` inputs and outputs.

Weights and biases are either Graph-Challenge-style (weight 1/16, the official bias for the
width, cap 32) or the exact-solution rule (weight 1, ``b = beta - fan-in``). Layers are written
one at a time in the official layout (``DNN/neuron{n}/n{n}-l{l}.tsv``), so memory does not
depend on depth.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from symdnn.errors import ArgumentError, SymdnnError
from symdnn.io.graphchallenge import BIAS, GCLayer, write_images, write_layer
from symdnn.io.outputs import output_folder
from symdnn.io.text import exact_number

__all__ = ["default_radices", "radixnet_layer", "generate_radixnet", "radixnet_layers",
           "radixnet_inputs", "parse_generate"]


def default_radices(neurons: int, fan_in: int = 32) -> tuple[tuple[int, ...], int]:
    """Radix-2 layers and a Kronecker factor giving ``neurons`` neurons of ``fan_in`` inputs:
    ``((2,) * k, b)`` with ``2 b = fan_in`` and ``2**k b = neurons``.

    Examples
    --------
    >>> default_radices(4096)
    ((2, 2, 2, 2, 2, 2, 2, 2), 16)
    """
    b = fan_in // 2
    if fan_in % 2 or b < 1 or neurons % b:
        raise ArgumentError(f"cannot make {neurons} neurons with {fan_in} inputs each")
    base = neurons // b
    k = base.bit_length() - 1
    if 1 << k != base or k < 1:
        raise ArgumentError(f"{neurons} / {b} = {base} is not a power of two")
    return (2,) * k, b


def radixnet_layer(radices: Sequence[int], kron: int, layer: int) -> sp.csr_matrix:
    """The 0/1 pattern of layer ``layer`` (0-based), inputs x outputs, as an int64 CSR matrix.

    Examples
    --------
    >>> W = radixnet_layer((2, 2), 1, 1)
    >>> W.toarray().tolist()
    [[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]
    """
    radices = list(radices)
    if not radices or any(r < 1 for r in radices) or kron < 1:
        raise ArgumentError("radices and the Kronecker factor must be positive")
    base = int(np.prod(radices))
    i = layer % len(radices)
    r, stride = radices[i], int(np.prod(radices[:i]))
    j = np.repeat(np.arange(base), r)
    m = np.tile(np.arange(r), base)
    P = sp.csr_matrix((np.ones(base * r, dtype=np.int64), (j, (j + m * stride) % base)),
                      shape=(base, base))
    P.sum_duplicates()
    P.data[:] = 1
    if kron > 1:
        P = sp.kron(P, sp.csr_matrix(np.ones((kron, kron), dtype=np.int64)), format="csr")
    P.sort_indices()
    return P


def generate_radixnet(out: str | os.PathLike, *, neurons: int = 1024, layers: int = 120,
                      radices: Sequence[int] | None = None, kron: int | None = None,
                      style: str = "graph-challenge", beta: Fraction = Fraction(1),
                      inputs: int = 64, density: float = 0.2, seed: int = 0,
                      progress: Callable[[int, int], None] | None = None,
                      force: bool = False) -> Path:
    """Write a RadiX-Net-style network and random 0/1 inputs in the official layout.

    Parameters
    ----------
    out : folder
        Receives ``DNN/neuron{n}/n{n}-l{l}.tsv`` (l = 1..layers) and
        ``MNIST/sparse-images-{n}.tsv``.
    style : {"graph-challenge", "exact"}
        Weights 1/16 with the official bias for the width (``-0.3`` for 1024, ``-0.35`` for
        4096, ...; widths without one need ``style="exact"``), or weights 1 with the
        exact-solution bias ``beta - fan-in`` (written to ``bias.tsv``).
    force : bool
        Replace an earlier generated network at ``out``. The folder is written to a temporary
        sibling and renamed into place when complete (an interrupted run leaves nothing);
        ``out`` must be absent, empty, or (with ``force``) an earlier generated network.

    Examples
    --------
    >>> import tempfile, os
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=4)
    >>> sorted(os.listdir(d / "DNN" / "neuron1024"))
    ['n1024-l1.tsv', 'n1024-l2.tsv']
    """
    for name, v, lo in (("neurons", neurons, 1), ("layers", layers, 1), ("inputs", inputs, 1),
                        ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
            raise ArgumentError(f"{name} must be an integer >= {lo}, not {v!r}")
    if not (isinstance(density, int | float) and 0 < density <= 1):
        raise ArgumentError(f"density must lie in (0, 1], not {density!r}")
    if style not in ("graph-challenge", "exact"):
        raise ArgumentError(f"style must be 'graph-challenge' or 'exact', not {style!r}")
    if radices is None or kron is None:
        if radices is not None or kron is not None:
            raise ArgumentError("give both radices and kron, or neither")
        radices, kron = default_radices(neurons)
    if not radices or any(int(r) < 1 for r in radices) or int(kron) < 1:
        raise ArgumentError("radices and the Kronecker factor must be positive")
    if int(np.prod(radices)) * kron != neurons:
        raise ArgumentError(f"radices {tuple(radices)} x {kron} give "
                            f"{int(np.prod(radices)) * kron} neurons, not {neurons}")
    if style == "graph-challenge" and neurons not in BIAS:
        raise ArgumentError(f"no official bias for {neurons} neurons; use style='exact'")
    biases = _exact_biases(beta, [int(r) * int(kron) for r in radices]) \
        if style == "exact" else None
    if inputs * neurons > 1 << 31:
        raise ArgumentError(f"{inputs} inputs x {neurons} neurons: the random inputs would take "
                            "more memory than this generator allows (2**31 entries)")

    fan_in = int(radices[0]) * kron
    need = layers * neurons * fan_in * 20  # about 20 bytes a weight line
    parent = Path(out).expanduser().absolute().parent
    free = shutil.disk_usage(parent).free if parent.is_dir() else None
    if free is not None and need > free:
        raise SymdnnError(f"{layers} layers of {neurons} neurons need about {need / 1e9:.1f} "
                          f"GB; {parent} has {free / 1e9:.1f} GB free")
    with output_folder(out, "radixnet", force=force) as root:
        net_dir = root / "DNN" / f"neuron{neurons}"
        net_dir.mkdir(parents=True)
        (root / "MNIST").mkdir()
        d = 16 if style == "graph-challenge" else 1
        for l in range(layers):
            P = radixnet_layer(radices, kron, l)
            write_layer(net_dir / f"n{neurons}-l{l + 1}.tsv", P, d)
            if progress:
                progress(l + 1, layers)
        if biases is not None:
            (root / "bias.tsv").write_text(
                "".join(f"{l + 1}\t{biases[l % len(biases)]}\n" for l in range(layers)),
                encoding="utf-8")
        rng = np.random.default_rng(seed)
        Y = sp.csr_matrix((rng.random((inputs, neurons)) < density).astype(np.int64))
        write_images(root / "MNIST" / f"sparse-images-{neurons}.tsv", Y)
    root = Path(out)
    return root


def _exact_biases(beta: object, fan_ins: list[int]) -> list[str]:
    """The exact-solution bias ``beta - fan-in`` for each fan-in, as ``bias.tsv`` writes it;
    ``beta`` (a number, or a string read by :func:`symdnn.io.text.exact_number`) must give
    biases that the network's reader takes back (at most its digit limit).

    Examples
    --------
    >>> _exact_biases("4/5", [32, 2])
    ['-156/5', '-6/5']
    >>> _exact_biases("1e999999999", [32])
    Traceback (most recent call last):
    symdnn.errors.ArgumentError: beta='1e999999999': '1e999999999': the exponent is beyond +-10000
    """
    try:  # repr() of an integer of more than 4300 digits is itself a ValueError
        shown = repr(beta) if len(repr(beta)) <= 40 else repr(beta)[:37] + "..."
    except ValueError:
        shown = "(a number of thousands of digits)"
    try:
        b = exact_number(beta.strip()) if isinstance(beta, str) else Fraction(beta)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError) as exc:
        raise ArgumentError(f"beta={shown}: {exc}") from None
    out = []
    for f in fan_ins:
        try:  # str() of an integer of more than 4300 digits is a ValueError
            text = str(b - f)
            exact_number(text)
        except ValueError:
            raise ArgumentError(f"beta={shown}: the bias beta - {f} has more digits than a "
                                "bias.tsv may hold") from None
        out.append(text)
    return out


def parse_generate(spec: str) -> tuple[int, int, int]:
    """``radixnet:NEURONS:LAYERS[:SEED]`` as ``(neurons, layers, seed)``.

    Examples
    --------
    >>> parse_generate("radixnet:65536:120")
    (65536, 120, 0)
    >>> parse_generate("radixnet:1024:3:7")
    (1024, 3, 7)
    """
    parts = spec.split(":")
    if parts[0] != "radixnet" or len(parts) not in (3, 4) or any(
            p != p.strip() or not p for p in parts):
        raise ArgumentError(f"generate={spec!r}: write radixnet:NEURONS:LAYERS[:SEED]")
    try:
        vals = [int(p) for p in parts[1:]]
    except ValueError:
        raise ArgumentError(f"generate={spec!r}: NEURONS, LAYERS and SEED are integers") \
            from None
    neurons, layers = vals[0], vals[1]
    seed = vals[2] if len(vals) == 3 else 0
    if neurons < 2 or layers < 1 or seed < 0:
        raise ArgumentError(f"generate={spec!r}: NEURONS >= 2, LAYERS >= 1, SEED >= 0")
    default_radices(neurons)  # refuses a width it cannot make
    return neurons, layers, seed


def radixnet_layers(neurons: int, layers: int, *, style: str = "graph-challenge"):
    """The layers :func:`generate_radixnet` writes, made in memory one at a time, as the
    Graph Challenge reader returns them (:class:`symdnn.io.graphchallenge.GCLayer`): the
    engine runs a network of any size without touching disk, in memory independent of depth.

    Examples
    --------
    >>> g = next(radixnet_layers(1024, 120))
    >>> g.N.shape, g.N.nnz, g.d, g.values
    ((1024, 1024), 32768, 16, {'0.0625': Fraction(1, 16)})
    """
    radices, kron = default_radices(neurons)
    d, text = (16, "0.0625") if style == "graph-challenge" else (1, "1")
    for l in range(layers):
        yield GCLayer(radixnet_layer(radices, kron, l), d, {text: Fraction(1, d)},
                      f"radixnet:{neurons}:layer {l + 1}")


def radixnet_inputs(neurons: int, inputs: int, *, seed: int = 0,
                    density: float = 0.2) -> sp.csr_matrix:
    """The random 0/1 inputs :func:`generate_radixnet` writes (same seed, same inputs).

    Examples
    --------
    >>> radixnet_inputs(1024, 3, seed=1).shape
    (3, 1024)
    """
    if inputs * neurons > 1 << 31:
        raise ArgumentError(f"{inputs} inputs x {neurons} neurons: more than 2**31 entries")
    rng = np.random.default_rng(seed)
    Y = sp.csr_matrix((rng.random((inputs, neurons)) < density).astype(np.int64))
    Y.sort_indices()
    return Y
