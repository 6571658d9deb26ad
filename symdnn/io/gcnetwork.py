"""The network a Graph Challenge folder describes besides its weights (the bias of every layer,
the bias rule, the cap), and the files, inputs and truth of one configuration.

Every command that reads a challenge folder (``graph-challenge``, ``audit``, ``certify``,
``suite build``) runs the network :func:`challenge_network` returns, through
:meth:`symdnn.engines.LayerStream.from_graph_challenge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from symdnn.errors import ArgumentError, ParseError
from symdnn.io.graphchallenge import BIAS, find_challenge_files, read_categories, read_images

__all__ = ["YMAX", "ChallengeNetwork", "read_bias_file", "challenge_network", "check_counts",
           "load_challenge"]

#: the official cap on every activation
YMAX = 32


@dataclass
class ChallengeNetwork:
    """What a challenge folder's network computes besides its weights: the bias of every
    layer, the bias rule and the cap.

    The official networks: the width's official bias on the nonzero entries of ``Y W``, cap
    32. A folder with a ``bias.tsv`` (``layer<TAB>bias`` for every layer, written by
    ``symdnn generate radixnet --style exact``): those biases on every neuron, no cap. Every
    command that reads a challenge folder (``graph-challenge``, ``audit``, ``suite build``)
    runs this same network.
    """

    biases: list[Fraction]
    rule: str
    cap: Fraction | None
    source: str


def read_bias_file(path: Any, layers: int) -> list[Fraction]:
    r"""Read a ``bias.tsv``: one ``layer<TAB>value`` line for each layer 1..``layers``, values
    exact. Raises :class:`~symdnn.errors.ParseError` naming the file and line.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "bias.tsv")
    >>> _ = open(p, "w").write("1\t-31/2\n2\t-15\n")
    >>> read_bias_file(p, 2)
    [Fraction(-31, 2), Fraction(-15, 1)]
    >>> read_bias_file(p, 3)
    Traceback (most recent call last):
    ...
    symdnn.errors.ParseError: ...bias.tsv: no bias for layer 3 (of 3)
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise ParseError("not UTF-8 text", path=str(path), line=line) from None
    found: dict[int, Fraction] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ParseError(f"expected 2 fields (layer, bias), found {len(parts)}",
                             path=str(path), line=lineno)
        try:
            l = int(parts[0])
        except ValueError:
            raise ParseError(f"not a layer number: {parts[0]!r}", path=str(path),
                             line=lineno) from None
        try:
            v = Fraction(parts[1])
        except (ValueError, ZeroDivisionError):
            raise ParseError(f"not an exact number: {parts[1]!r}", path=str(path),
                             line=lineno) from None
        if not 1 <= l <= layers:
            raise ParseError(f"layer {l} outside 1..{layers}", path=str(path), line=lineno)
        if l in found:
            raise ParseError(f"layer {l} given twice", path=str(path), line=lineno)
        found[l] = v
    missing = [l for l in range(1, layers + 1) if l not in found]
    if missing:
        raise ParseError(f"no bias for layer {missing[0]} (of {layers})", path=str(path))
    return [found[l] for l in range(1, layers + 1)]


def challenge_network(data_dir: Any, neurons: int, layers: int) -> ChallengeNetwork:
    """The biases, rule and cap of the network in a challenge folder (see
    :class:`ChallengeNetwork`).

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp() + "/rx", layers=2, inputs=1, style="exact")
    >>> net = challenge_network(d, 1024, 2)
    >>> net.rule, net.cap, [str(b) for b in net.biases]
    ('all', None, ['-31', '-31'])
    """
    bias_file = Path(data_dir) / "bias.tsv"
    if bias_file.is_file():
        return ChallengeNetwork(read_bias_file(bias_file, layers), "all", None,
                                f"per-layer biases from {bias_file}")
    if neurons not in BIAS:
        raise ArgumentError(f"no official bias for {neurons} neurons (known: {sorted(BIAS)}) "
                            f"and no bias.tsv in {data_dir}")
    return ChallengeNetwork([BIAS[neurons]] * layers, "nonzero", Fraction(YMAX),
                            f"official bias {BIAS[neurons]} on nonzero entries, cap {YMAX}")


def check_counts(neurons: int, layers: int, images: int | None) -> None:
    """Refuse a configuration whose counts are not positive integers (naming the parameter).

    Examples
    --------
    >>> check_counts(1024, 120, None)
    >>> check_counts(1024, 0, None)
    Traceback (most recent call last):
    ...
    symdnn.errors.ArgumentError: layers must be a positive integer, not 0
    """
    for name, v in (("neurons", neurons), ("layers", layers)):
        if not isinstance(v, int | np.integer) or v < 1:
            raise ArgumentError(f"{name} must be a positive integer, not {v!r}")
    if images is not None and (not isinstance(images, int | np.integer) or images < 1):
        raise ArgumentError(f"images must be a positive integer, not {images!r}")


def load_challenge(data_dir: str, neurons: int, layers: int, images: int | None, *,
                   inputs: Any = None,
                   truth: bool = True) -> tuple[Any, sp.csr_matrix, np.ndarray | None]:
    """The files of a configuration, its input images (the first ``images`` of the folder's
    image file, or of the file ``inputs``), and the truth restricted to them (None without a
    truth file, for another inputs file, or when ``truth`` is False: then the truth file is
    not read at all).

    Raises
    ------
    ArgumentError
        When ``images`` asks for more images than the file holds.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=2, inputs=4)
    >>> files, Y0, t = load_challenge(d, 1024, 2, 3)
    >>> Y0.shape, t
    ((3, 1024), None)
    """
    check_counts(neurons, layers, images)
    files = find_challenge_files(data_dir, neurons, layers)
    source = files.images if inputs is None else inputs
    Y0 = read_images(source, neurons)
    if images is not None:
        if images > Y0.shape[0]:
            raise ArgumentError(f"{images} images asked for, but {source} holds "
                                f"{Y0.shape[0]}")
        Y0 = Y0[:images]
    found = None
    if truth and inputs is None and files.truth is not None:
        t = read_categories(files.truth)
        found = t[t <= Y0.shape[0]]
    return files, Y0, found
