"""What a precision certificate says: exact margins per layer, and per format the verdict,
the decisions at risk per layer and kind, and the first of them named."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from symdnn.certify.bounds import Arith
from symdnn.certify.layer import KINDS, LayerVerdict
from symdnn.results import markdown_from_text

__all__ = ["Certificate", "FormatCertificate", "LayerMargin"]

#: formats from the fewest significand bits to the most (the "smallest" that certifies)
ORDER = ("fp8_e5m2", "fp8_e4m3", "bf16", "fp16", "fp32", "fp64")


@dataclass
class LayerMargin:
    """The smallest exact margin among a layer's decisions and where it is (0-based input
    and neuron positions), and the number of exact pre-activations."""

    layer: int
    value: Fraction | None
    row: int | None
    neuron: int | None
    kind: str | None
    decisions: int


@dataclass
class FormatCertificate:
    """The verdict for one arithmetic: a :class:`~symdnn.certify.layer.LayerVerdict` per
    layer and the final decisions of every input."""

    arith: Arith
    layers: list[LayerVerdict] = field(default_factory=list)
    final: dict = field(default_factory=dict)

    @property
    def at_risk(self) -> list[int]:
        """Decisions at risk in each layer (ReLU, cap and bias rule together)."""
        return [v.total_at_risk for v in self.layers]

    @property
    def categories_at_risk(self) -> int:
        return int((~self.final["category_ok"]).sum()) if self.final else 0

    @property
    def argmax_at_risk(self) -> int:
        return int((~self.final["argmax_ok"]).sum()) if self.final else 0

    @property
    def certified(self) -> bool:
        """Every decision of every layer and every final decision is certified."""
        return sum(self.at_risk) == 0 and self.categories_at_risk == 0 and \
            self.argmax_at_risk == 0

    @property
    def categories_certified(self) -> bool:
        return self.categories_at_risk == 0


class Certificate:
    """A precision certificate (see :func:`symdnn.certify.certify`).

    Attributes
    ----------
    info : dict
        What was certified (network, layers, inputs, bias rule, cap).
    margins : list of LayerMargin
        Per layer, the smallest exact margin and where.
    formats : list of FormatCertificate
        Per arithmetic, the verdicts.
    batch, neurons : tuple
        The keys of the inputs and of the last layer's neurons.
    seconds : dict
        ``total`` and ``exact`` (the exact run inside the certificate).
    """

    def __init__(self, info: dict, margins: list[LayerMargin], formats: list[FormatCertificate],
                 batch: tuple, neurons: tuple, seconds: dict) -> None:
        self.info = info
        self.margins = margins
        self.formats = formats
        self.batch = batch
        self.neurons = neurons
        self.seconds = seconds
        self.neuron_names: list[tuple] = []
        #: where the network and inputs came from, and their sha256 (set when read from files)
        self.source: dict | None = None
        self.sha256: dict | None = None

    def __getitem__(self, name: str) -> FormatCertificate:
        for f in self.formats:
            if f.arith.fmt.name == name or f.arith.name == name:
                return f
        raise KeyError(name)

    @property
    def certified(self) -> bool:
        """Every format asked for is certified."""
        return all(f.certified for f in self.formats)

    @property
    def smallest_certified(self) -> str | None:
        """The format with the fewest significand bits, among those asked for, that certifies
        every decision (None when none does)."""
        ok = [f.arith.fmt.name for f in self.formats if f.certified]
        ok.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER)))
        return ok[0] if ok else None

    def _neuron(self, layer: int, j: int) -> str:
        names = self.neuron_names[layer - 1] if layer - 1 < len(self.neuron_names) else None
        return str(names[j]) if names is not None else str(j + 1)

    def _examples(self, fc: FormatCertificate, limit: int = 10) -> list[dict]:
        out = []
        for v in fc.layers:
            width = len(self.neuron_names[v.layer - 1]) if self.neuron_names else None
            for key, kind, num, bound in v.examples:
                if len(out) >= limit:
                    return out
                w = width or max(1, len(self.neurons))
                out.append({"layer": v.layer, "input": str(self.batch[key // w]),
                            "neuron": self._neuron(v.layer, key % w), "kind": kind,
                            "margin": str(Fraction(num, v.s)), "bound": repr(bound)})
        fin = fc.final
        if fin:
            for kind, okk, marg in (("category", "category_ok", "top"),
                                    ("argmax", "argmax_ok", "gap")):
                for r in np.flatnonzero(~fin[okk])[:limit - len(out)].tolist():
                    m = fin[marg][r]
                    out.append({"layer": len(fc.layers), "input": str(self.batch[r]),
                                "neuron": None, "kind": kind,
                                "margin": None if m is None else str(m),
                                "bound": repr(float(fin["error"][r]))})
        return out[:limit]

    def to_json(self) -> dict:
        """Everything as JSON values: margins as exact rational strings, bounds as float64
        ``repr`` strings (each an upper bound, exact as written)."""
        fin_margin: dict[str, Any] = {}
        if self.formats and self.formats[0].final:
            fin = self.formats[0].final
            gaps = [g for g in fin["gap"] if g is not None]
            tops = [t for t in fin["top"]]
            fin_margin = {"argmax": str(min(gaps)) if gaps else None,
                          "category": str(min(tops)) if tops else None}
        from symdnn.certify.recheck import BOUND_MODEL, CERT_FORMAT

        out = {
            "checker": {"format": CERT_FORMAT,
                        "program": "python -m symdnn.certify.check_cert CERT.json NET INPUTS "
                                   "(symdnn/certify/check_cert.py: standard library only)"},
            "bound_model_version": BOUND_MODEL,
            "network": self.info,
            "model": ("any order of summation; values stored in the format, products and sums "
                      "in the accumulation format, each operation rounded to nearest; see "
                      "docs/certificates.md"),
            "layers": len(self.margins),
            "inputs": len(self.batch),
            "decisions": [{k: v for k, v in (self.formats[0].layers[i].decisions.items()
                                             if self.formats else [])}
                          for i in range(len(self.margins))],
            "min_margin": [None if m.value is None else str(m.value) for m in self.margins],
            "min_margin_at": [None if m.value is None else
                              {"input": str(self.batch[m.row]),
                               "neuron": self._neuron(m.layer, m.neuron), "kind": m.kind}
                              for m in self.margins],
            "final_min_margin": fin_margin,
            "formats": {f.arith.fmt.name: self._format_json(f) for f in self.formats},
            "certified": self.certified,
            "smallest_certified": self.smallest_certified,
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }
        if self.source is not None:
            out["source"] = self.source
        if self.sha256 is not None:
            out["sha256"] = self.sha256
        return out

    def _format_json(self, f: FormatCertificate) -> dict:
        from symdnn.certify.recheck import arithmetic_json

        return {
            "arithmetic": arithmetic_json(f.arith),
            "format": f.arith.fmt.name,
            "accumulate": f.arith.acc.name,
            "certified": f.certified,
            "categories_certified": f.categories_certified,
            "at_risk": f.at_risk,
            "at_risk_by_kind": {k: [v.at_risk.get(k, 0) for v in f.layers] for k in KINDS},
            "exact_decisions": [int(sum(v.exact.values())) for v in f.layers],
            "max_error": [repr(v.max_error) for v in f.layers],
            "categories_at_risk": f.categories_at_risk,
            "argmax_at_risk": f.argmax_at_risk,
            "examples": self._examples(f),
        }

    def to_markdown(self) -> str:
        """The verdict per format and the smallest margins, in Markdown."""
        return markdown_from_text("symdnn certify", self.summary())

    def summary(self) -> str:
        """A few lines for people: the verdict per format and the smallest margins."""
        name = self.info.get("name", "network")
        lines = [f"Precision certificate: {name}, {len(self.margins)} layers, "
                 f"{len(self.batch)} inputs (any summation order)"]
        zero = [m.layer for m in self.margins if m.value == 0]
        mins = [m.value for m in self.margins if m.value is not None]
        if mins:
            lines.append(f"smallest exact margin: {min(mins)}"
                         + (f" (zero in {len(zero)} layers, first layer {zero[0]})"
                            if zero else ""))
        for f in self.formats:
            acc = "" if f.arith.same else f" (accumulate {f.arith.acc.name})"
            risk = f.at_risk
            if f.certified:
                lines.append(f"{f.arith.fmt.name}{acc}: CERTIFIED: every decision of every "
                             "input, any order of summation")
                continue
            n_l = sum(1 for r in risk if r)
            cats = ("categories certified" if f.categories_certified else
                    f"{f.categories_at_risk} categories at risk")
            first = self._examples(f, 1)
            ex = ""
            if first:
                e = first[0]
                ex = (f"; first: layer {e['layer']}, input {e['input']}, neuron {e['neuron']}, "
                      f"{e['kind']}, margin {e['margin']}, bound {e['bound']}")
            lines.append(f"{f.arith.fmt.name}{acc}: NOT certified: {sum(risk)} decisions at "
                         f"risk in {n_l} layers, {cats}, {f.argmax_at_risk} argmax at risk"
                         f"{ex}")
        sm = self.smallest_certified
        lines.append(f"smallest certified format: {sm}" if sm else
                     "no format asked for certifies every decision")
        return "\n".join(lines)
