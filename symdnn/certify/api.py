"""The certificate entry points: :func:`certify` (a network and its inputs),
:func:`certify_graph_challenge` (a Graph Challenge folder), both thin wrappers of
:func:`certify_stream` (any :class:`~symdnn.engines.LayerStream`), and :func:`ariths`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from symdnn.assoc import AssocArray
from symdnn.certify.bounds import Arith
from symdnn.certify.report import Certificate
from symdnn.certify.run import run_certificate
from symdnn.domains.floats import FORMATS, accumulation_format, get_format
from symdnn.engines.stream import LayerStream
from symdnn.errors import ArgumentError, SymdnnError
from symdnn.network import SparseDNN

__all__ = ["certify", "certify_stream", "certify_graph_challenge", "ariths", "DEFAULT_FORMATS"]

DEFAULT_FORMATS = ("fp64", "fp32", "fp16", "bf16")


def ariths(formats: Sequence[str], accumulate: str | None = None) -> list[Arith]:
    """The arithmetic of each format: by default fp64 and fp32 accumulate in themselves and
    the narrower formats in fp32 (as :func:`symdnn.audit.default_runs`); ``accumulate="same"``
    accumulates each format in itself, ``"fp32"``/``"fp64"`` every narrower format there.

    Examples
    --------
    >>> [a.name for a in ariths(["fp64", "fp16"])]
    ['fp64', 'fp16+acc_fp32']
    >>> [a.name for a in ariths(["bf16"], "same")]
    ['bf16']
    """
    out = []
    if isinstance(formats, str):
        formats = [f.strip() for f in formats.split(",") if f.strip()]
    if not formats:
        raise ArgumentError("no format to certify")
    for f in formats:
        if f not in FORMATS:
            raise ArgumentError(f"cannot certify {f!r}: a float format is needed "
                                f"({', '.join(FORMATS)})")
        if accumulate not in (None, "same") and accumulate not in FORMATS:
            raise ArgumentError(f"unknown accumulation format {accumulate!r}")
        acc = accumulation_format(f, accumulate)
        fa, aa = get_format(f), get_format(acc)
        if aa.precision < fa.precision:  # never accumulate narrower than the format
            acc, aa = f, fa
        if aa.emin > fa.emin or aa.max_finite < fa.max_finite:
            raise ArgumentError(f"cannot accumulate {f} in {acc}: its exponent range is "
                                f"narrower (an accumulation format holds every {f} value)")
        out.append(Arith.of(f, acc))
    if len({a.fmt.name for a in out}) != len(out):
        raise ArgumentError(f"a format is asked for twice: {', '.join(formats)}")
    return out


def certify(net: SparseDNN, inputs: AssocArray, *,
            formats: Sequence[str] | str | None = DEFAULT_FORMATS,
            accumulate: str | None = None, batch: Any = None, name: str = "network",
            progress: Callable[[int, int], None] | None = None,
            detail: bool = False) -> Certificate:
    """Certify which float formats reproduce every decision of ``net`` on ``inputs``.

    Parameters
    ----------
    net : SparseDNN
        The network, exact (integers, rationals).
    inputs : AssocArray
        Its inputs in the network's convention (the exact run starts from them as they are;
        an implementation in a format from their correct rounding).
    formats : sequence of str, or str
        Float formats: ``fp64``, ``fp32``, ``fp16``, ``bf16``, ``fp8_e4m3``, ``fp8_e5m2``
        (a list, or one comma-separated string; default the first four).
    accumulate : str, optional
        See :func:`ariths` (default: fp32 for the formats narrower than fp32).
    batch : sequence, optional
        The batch keys, when some input is all zero (see :func:`symdnn.infer`).
    detail : bool
        Keep every decision at risk and every error bound in each layer's verdict
        (``risky_keys``, ``error_out``): for small networks and tests.

    Returns
    -------
    Certificate
        ``certified`` per format, decisions at risk per layer, exact margins.

    Examples
    --------
    The paper's two-letter words, one layer, beta = 1: every value is a small integer, so
    every format down to bf16 computes it exactly, zero margins included:

    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "ae", "be"], "single", ["1"])
    >>> cert = certify(c.net, c.inputs, formats=["fp16", "bf16"])
    >>> cert.certified, cert.smallest_certified, cert.to_json()["min_margin"]
    (True, 'bf16', ['0'])

    With bias -3/10 nothing is exact any more, but the margins are wide:

    >>> c = selective(["ad", "be"], "single", ["3/10"])
    >>> cert = certify(c.net, c.inputs, formats=["bf16"])
    >>> cert["bf16"].certified, cert.to_json()["min_margin"]
    (True, ['3/10'])
    """
    ariths(DEFAULT_FORMATS if formats is None else formats, accumulate)  # refuse them first
    if not net.domain.is_exact:
        raise SymdnnError(f"certify needs an exact network (integers, rationals), not one "
                          f"over {net.domain.name}")
    stream = LayerStream.from_network(net, inputs, batch=batch, name=name)
    return certify_stream(stream, formats, accumulate=accumulate, progress=progress,
                          detail=detail)


def certify_stream(stream: LayerStream, formats: Sequence[str] | str | None = DEFAULT_FORMATS,
                   *, accumulate: str | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   detail: bool = False) -> Certificate:
    """Certify which float formats reproduce every decision of the network of ``stream`` on
    its inputs (see :func:`certify` for the parameters).

    Examples
    --------
    >>> st = LayerStream.from_radixnet("radixnet:1024:2:3", images=4)
    >>> cert = certify_stream(st, ["fp64", "bf16"])
    >>> cert["fp64"].categories_certified, cert.info["name"]
    (True, 'Graph Challenge 1024 neurons')
    """
    ars = ariths(DEFAULT_FORMATS if formats is None else formats, accumulate)
    if stream.cap is not None and stream.cap <= 0:
        raise SymdnnError(f"the cap YMAX must be positive, not {stream.cap}")
    if len(stream.batch) == 0:
        raise ArgumentError("no inputs: a certificate over no inputs would say nothing")
    return run_certificate(stream, ars, progress=progress, detail=detail)


def certify_graph_challenge(data_dir: str, *,
                            formats: Sequence[str] | str | None = DEFAULT_FORMATS,
                            neurons: int = 1024, layers: int = 120, images: int | None = None,
                            accumulate: str | None = None,
                            progress: Callable[[int, int], None] | None = None,
                            detail: bool = False) -> Certificate:
    """Certify the Graph Challenge network (the one ``symdnn graph-challenge`` runs: the
    official bias on the nonzero entries of ``Y W`` and the cap at 32, or a folder's
    ``bias.tsv``) on its first ``images`` inputs, layer by layer from its files.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.generators import generate_radixnet
    >>> d = generate_radixnet(tempfile.mkdtemp(), neurons=1024, layers=3, inputs=5)
    >>> cert = certify_graph_challenge(str(d), layers=3, formats=["fp64", "bf16"])
    >>> cert["fp64"].categories_certified, sum(cert["bf16"].at_risk) > 0
    (True, True)
    >>> cert.to_json()["min_margin"]
    ['1/80', '1/80', '1/80']
    """
    ariths(DEFAULT_FORMATS if formats is None else formats, accumulate)  # refuse them first
    stream = LayerStream.from_graph_challenge(data_dir, neurons=neurons, layers=layers,
                                              images=images)
    return certify_stream(stream, formats, accumulate=accumulate, progress=progress,
                          detail=detail)

