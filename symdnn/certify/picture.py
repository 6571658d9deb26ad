"""A certificate's picture: per layer, the smallest exact margin against each format's error
bound, and the decisions at risk, as a report folder (``report.md``, ``details.json`` and a
PNG), written like the audit's (:meth:`symdnn.audit.AuditReport.write`).

:func:`certificate_layers` and :func:`decisions_at_risk` read what the plot and the Markdown
show off a :class:`~symdnn.certify.Certificate`, so the two cannot disagree;
:func:`write_certificate_report` writes the folder. The plot itself is
:func:`symdnn.plotting.plot_certificate`: plotting sits above certify in the package DAG, so
the caller hands it in as ``plot`` (as ``symdnn audit --report`` hands ``plot_audit`` to the
audit report).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy as np

from symdnn.certify.layer import KINDS
from symdnn.certify.report import Certificate, FormatCertificate
from symdnn.io.outputs import output_folder
from symdnn.results import json_text

__all__ = ["REPORT_KIND", "FIGURE", "LayerRow", "AtRisk", "certificate_layers",
           "decisions_at_risk", "exact_text", "bound_text", "certificate_markdown",
           "write_certificate_report"]

#: the kind written into the report folder's marker (see :mod:`symdnn.io.outputs`)
REPORT_KIND = "certificate-report"
#: the file name of the plot in the report folder
FIGURE = "certificate.png"
#: an exact rational longer than this is shown as a float approximation in the Markdown
SHORT = 24
#: decisions at risk listed per format in the Markdown (all of them in ``details.json``)
MD_LIMIT = 50


@dataclass(frozen=True)
class LayerRow:
    """One layer of a certificate: its smallest exact margin and where (``None`` when the
    layer has no decision), the number of exact pre-activations, and per format (its name)
    the error bound (the largest of the error carried out of the layer and of the bounds
    of the decisions at risk the certificate names, a float64 upper bound; ``0.0`` where
    nothing is rounded, ``inf`` on overflow) and the number of decisions at risk (exact)."""

    layer: int
    margin: Fraction | None
    where: dict | None
    decisions: int
    bound: dict
    at_risk: dict


@dataclass(frozen=True)
class AtRisk:
    """A decision at risk as the certificate names it: the format, the layer (``"final"``
    for the category and argmax of an input), input and neuron (``None`` for a final
    decision), kind, exact margin and its bound (float64, an upper bound)."""

    format: str
    layer: int | str
    input: str
    neuron: str | None
    kind: str
    margin: Fraction | None
    bound: float


def _name(fc: FormatCertificate) -> str:
    return fc.arith.fmt.name


def _neuron(result: Certificate, layer: int, j: int) -> str:
    names = result.neuron_names
    return str(names[layer - 1][j]) if layer - 1 < len(names) else str(j + 1)


def _width(result: Certificate, layer: int) -> int:
    names = result.neuron_names
    w = len(names[layer - 1]) if layer - 1 < len(names) else 0
    return w or max(1, len(result.neurons))


def _layer_bound(v: Any) -> float:
    """The largest error bound of a layer's verdict: of the error carried out of the layer
    and of the decisions at risk it names (a decision whose bound is not carried out, a
    test of whether ``W y`` is nonzero, can be at risk where nothing is carried)."""
    return max([float(v.max_error)] + [float(b) for _, _, _, b in v.examples])


def certificate_layers(result: Certificate) -> list[LayerRow]:
    """Per layer, the smallest exact margin and each format's bound and decisions at risk.

    Examples
    --------
    >>> from symdnn.certify import certify
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["3/10"])
    >>> row = certificate_layers(certify(c.net, c.inputs, formats=["bf16"]))[0]
    >>> row.margin, row.at_risk, row.bound["bf16"] > 0
    (Fraction(3, 10), {'bf16': 0}, True)
    """
    out = []
    for i, m in enumerate(result.margins):
        where = None
        if m.value is not None and m.row is not None:
            where = {"input": str(result.batch[m.row]),
                     "neuron": _neuron(result, m.layer, m.neuron), "kind": m.kind}
        verdicts = [(_name(fc), fc.layers[i]) for fc in result.formats if i < len(fc.layers)]
        out.append(LayerRow(m.layer, m.value, where, int(m.decisions),
                            {n: _layer_bound(v) for n, v in verdicts},
                            {n: v.total_at_risk for n, v in verdicts}))
    return out


def decisions_at_risk(result: Certificate, fmt: str) -> list[AtRisk]:
    """The decisions at risk that the certificate names for format ``fmt``: layer by layer
    the first of each kind that the layer's verdict keeps (``LayerVerdict.examples``; the
    rest are counted in ``at_risk``, not named), then every final category and argmax at
    risk (layer ``"final"``).

    Examples
    --------
    >>> from symdnn.certify import certify
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["4/5"])
    >>> cert = certify(c.net, c.inputs, formats=["fp8_e4m3"], accumulate="same")
    >>> r = decisions_at_risk(cert, "fp8_e4m3")[0]
    >>> r.layer, r.kind, r.margin <= r.bound
    (1, 'relu', True)
    """
    fc = result[fmt]
    out = []
    for v in fc.layers:
        w = _width(result, v.layer)
        for key, kind, num, bound in v.examples:
            out.append(AtRisk(_name(fc), v.layer, str(result.batch[key // w]),
                              _neuron(result, v.layer, key % w), kind, Fraction(num, v.s),
                              float(bound)))
    fin = fc.final
    if fin:
        for kind, ok, marg in (("category", "category_ok", "top"), ("argmax", "argmax_ok", "gap")):
            for r in np.flatnonzero(~np.asarray(fin[ok])).tolist():
                m = fin[marg][r]
                out.append(AtRisk(_name(fc), "final", str(result.batch[r]), None, kind,
                                  None if m is None else Fraction(m), float(fin["error"][r])))
    return out


def exact_text(x: Fraction | None, short: int = SHORT) -> str:
    """An exact rational as ``p/q`` when that is at most ``short`` characters, else a float
    approximation (``~1.2346e-17``; ``~2^-1100`` beyond float64's range).

    Examples
    --------
    >>> exact_text(Fraction(3, 10)), exact_text(Fraction(1, 3 ** 50)), exact_text(None)
    ('3/10', '~1.3930e-24', '-')
    """
    if x is None:
        return "-"
    s = str(x)
    if len(s) <= short:
        return s
    f = float(x) if abs(x) < 2 ** 1000 else math.inf
    if f == 0 or not math.isfinite(f):
        k = abs(x.numerator).bit_length() - x.denominator.bit_length()
        return f"~{'-' if x < 0 else ''}2^{k}"
    return f"~{f:.5g}" if 1e-3 <= abs(f) < 1e6 else f"~{f:.4e}"


def bound_text(b: float) -> str:
    """A bound (an upper bound in float64) for people: rounded up to 4 digits, so what is
    shown is still an upper bound; ``0 (exact)`` and ``inf (overflow)`` spelled out.

    Examples
    --------
    >>> bound_text(0.0), bound_text(2.0 ** -12), bound_text(1 / 3), bound_text(math.inf)
    ('0 (exact)', '0.0002442', '0.3334', 'inf (overflow)')
    """
    if b == 0:
        return "0 (exact)"
    if not math.isfinite(b):
        return "inf (overflow)"
    with localcontext() as ctx:
        ctx.rounding = ROUND_CEILING
        spec = ".4g" if 1e-4 <= b < 1e6 else ".3e"
        return format(Decimal(b), spec)


def _verdict_line(fc: FormatCertificate) -> str:
    risk = fc.at_risk
    return (f"| {_name(fc)} | {fc.arith.acc.name} | "
            f"{'CERTIFIED' if fc.certified else 'NOT certified'} | {sum(risk)} | "
            f"{sum(1 for r in risk if r)} | {fc.categories_at_risk} | {fc.argmax_at_risk} |")


def certificate_markdown(result: Certificate, *, figure: str | None = FIGURE) -> str:
    """The report's Markdown: the verdict per format, the plot (``figure``, a file name
    beside the Markdown; None for none), the table of layers (smallest exact margin, each
    format's bound and decisions at risk) and the decisions at risk the certificate names.

    Examples
    --------
    >>> from symdnn.certify import certify
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["4/5"])
    >>> md = certificate_markdown(certify(c.net, c.inputs, formats=["fp8_e4m3", "bf16"],
    ...                                   accumulate="same"))
    >>> "| fp8_e4m3 | fp8_e4m3 | NOT certified |" in md, "| bf16 | bf16 | CERTIFIED |" in md
    (True, True)
    """
    info = result.info
    names = [_name(fc) for fc in result.formats]
    rows = certificate_layers(result)
    lines = [f"# Precision certificate: {info.get('name', 'network')}", "",
             f"{len(result.margins)} layers, {len(result.batch)} inputs, any order of "
             "summation (the model: docs/certificates.md). A decision is at risk when its "
             "error bound reaches its exact margin.", "",
             "| format | accumulate | verdict | decisions at risk | layers with any | "
             "categories at risk | argmax at risk |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [_verdict_line(fc) for fc in result.formats]
    sm = result.smallest_certified
    lines += ["", f"Smallest certified format: {sm}." if sm else
              "No format asked for certifies every decision."]
    if figure:
        lines += ["", f"![smallest exact margin and error bound per layer]({figure})", "",
                  "Markers: the smallest exact margin of each layer (a triangle at the "
                  "bottom: margin 0). Lines: each format's error bound, the largest of the "
                  "error carried out of the layer and of the bounds of its decisions at risk "
                  "(a dot at the bottom: 0, nothing rounded; at the top: overflow). A cross: "
                  "the format has decisions at risk in that layer."]
    lines += ["", "## Layers", "",
              "Exact margins are rationals (`~` where a float approximation is shown: the "
              "exact value is in `details.json`); bounds are upper bounds, rounded up. "
              "Each cell: bound, and decisions at risk when there are any.", "",
              "| layer | pre-activations | smallest exact margin | where (input, neuron, kind) | "
              + " | ".join(f"{n} bound" for n in names) + " |",
              "| --- " * (4 + len(names)) + "|"]
    for r in rows:
        where = "-" if r.where is None else \
            f"{r.where['input']}, {r.where['neuron']}, {r.where['kind']}"
        cells = []
        for n in names:
            c = bound_text(r.bound[n])
            if r.at_risk[n]:
                c += f" **{r.at_risk[n]} at risk**"
            cells.append(c)
        lines.append(f"| {r.layer} | {r.decisions} | {exact_text(r.margin)} | {where} | "
                     + " | ".join(cells) + " |")
    lines += ["", "## Decisions at risk"]
    for fc in result.formats:
        n = _name(fc)
        lines += ["", f"### {n} (accumulate {fc.arith.acc.name})", ""]
        if fc.certified:
            lines.append("None: CERTIFIED, every decision of every input, any order of "
                         "summation.")
            continue
        risky = decisions_at_risk(result, n)
        per_layer = {r.layer: r.at_risk[n] for r in rows if r.at_risk[n]}
        lines.append("Layers with decisions at risk: "
                     + (", ".join(f"{l} ({k})" for l, k in per_layer.items()) or "none")
                     + f"; categories at risk: {fc.categories_at_risk}, argmax at risk: "
                     f"{fc.argmax_at_risk}.")
        named = {}
        for r in risky:
            named[r.layer] = named.get(r.layer, 0) + 1
        unnamed = sum(max(0, k - named.get(l, 0)) for l, k in per_layer.items())
        lines += ["", "| layer | input | neuron | kind | exact margin | bound |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for r in risky[:MD_LIMIT]:
            lines.append(f"| {r.layer} | {r.input} | {r.neuron or '-'} | {r.kind} | "
                         f"{exact_text(r.margin)} | {bound_text(r.bound)} |")
        notes = []
        if len(risky) > MD_LIMIT:
            notes.append(f"{len(risky) - MD_LIMIT} more named in `details.json`")
        if unnamed:
            notes.append(f"{unnamed} more counted in their layers but not named by the "
                         "certificate (it keeps the first of each kind per layer)")
        if notes:
            lines += ["", "; ".join(notes) + "."]
    return "\n".join(lines) + "\n"


def _details(result: Certificate) -> dict:
    """Every number of the report exactly: margins as ``p/q`` strings, bounds as float64
    ``repr`` strings (upper bounds, exact as written)."""
    def risk_json(r: AtRisk) -> dict:
        return {"layer": r.layer, "input": r.input, "neuron": r.neuron, "kind": r.kind,
                "margin": None if r.margin is None else str(r.margin),
                "bound": repr(r.bound)}

    return {
        "schema": "symdnn-certificate-report/1",
        "network": result.info,
        "source": getattr(result, "source", None),
        "sha256": getattr(result, "sha256", None),
        "inputs": len(result.batch),
        "certified": result.certified,
        "smallest_certified": result.smallest_certified,
        "layers": [{"layer": r.layer, "decisions": r.decisions,
                    "min_margin": None if r.margin is None else str(r.margin),
                    "min_margin_at": r.where,
                    "bound": {n: repr(b) for n, b in r.bound.items()},
                    "at_risk": r.at_risk} for r in certificate_layers(result)],
        "formats": {_name(fc): {
            "accumulate": fc.arith.acc.name, "certified": fc.certified,
            "at_risk": fc.at_risk,
            "at_risk_by_kind": {k: [v.at_risk.get(k, 0) for v in fc.layers] for k in KINDS},
            "categories_at_risk": fc.categories_at_risk, "argmax_at_risk": fc.argmax_at_risk,
            "decisions_at_risk": [risk_json(r) for r in decisions_at_risk(result, _name(fc))],
        } for fc in result.formats},
    }


def write_certificate_report(result: Certificate, folder: str | os.PathLike, *,
                             force: bool = False,
                             plot: Callable[[Certificate, str], Any] | None = None,
                             inputs: Sequence[str | os.PathLike] = ()) -> list[str]:
    """Write a certificate's report folder: ``report.md``, ``details.json`` and, with
    ``plot``, the figure ``certificate.png``.

    The folder is written to a temporary sibling and renamed when complete
    (:func:`symdnn.io.outputs.output_folder`): an error or interrupt leaves nothing.

    Parameters
    ----------
    result : Certificate
        What :func:`symdnn.certify.certify` (or ``certify_stream``,
        ``certify_graph_challenge``) returned.
    folder : path
        A new or empty folder, or an earlier certificate report (replaced only with
        ``force``); any other non-empty folder is refused and left untouched.
    force : bool
        Replace an earlier certificate report.
    plot : callable, optional
        ``plot(result, path)`` draws the figure at ``path``: give
        :func:`symdnn.plotting.plot_certificate` (plotting sits above certify, so this
        module cannot name it). Without it, no figure and no image in the Markdown.
    inputs : paths
        The files or folders certified: the report may not be, hold or lie inside any.

    Returns
    -------
    list of str
        The paths written, under ``folder``.

    Raises
    ------
    OutputError
        When ``folder`` cannot be written without losing data, or at all.

    Examples
    --------
    >>> import os, tempfile
    >>> from symdnn.certify import certify
    >>> from symdnn.constructions import selective
    >>> c = selective(["ad", "be"], "single", ["4/5"])
    >>> cert = certify(c.net, c.inputs, formats=["fp8_e4m3", "bf16"], accumulate="same")
    >>> out = os.path.join(tempfile.mkdtemp(), "cert-report")
    >>> [os.path.basename(p) for p in write_certificate_report(cert, out)]
    ['report.md', 'details.json']
    """
    with output_folder(folder, REPORT_KIND, force=force, inputs=inputs,
                       what="certificate report folder") as tmp:
        names = ["report.md", "details.json"]
        if plot is not None:
            plot(result, str(tmp / FIGURE))
            names.append(FIGURE)
        (tmp / "report.md").write_text(
            certificate_markdown(result, figure=FIGURE if plot is not None else None),
            encoding="utf-8")
        (tmp / "details.json").write_text(json_text(_details(result)) + "\n",
                                          encoding="utf-8")
    return [os.path.join(os.fspath(folder), n) for n in names]
