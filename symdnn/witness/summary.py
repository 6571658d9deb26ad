"""The summary people look at: per benchmark and tool, what the witnesses are, and a plot of
their margins.

Each row of a batch (:func:`symdnn.witness.batch.replay_results`) is one of :data:`CLASSES`:

``genuine``
    in the box and violating, exactly;
``tolerance_only``
    not genuine, yet accepted thanks to the tolerance: by the competition's replay where it
    ran (``vnncomp_verdict`` ``correct`` or ``correct_up_to_tolerance``), otherwise, exactly,
    within :data:`~symdnn.witness.rules.TOLERANCE` of the box and of the property;
``outside_box``
    the input as written is outside the box (and not within the tolerance);
``not_violating``
    in the box, but the exact outputs satisfy the property;
``undecided``
    an enclosure could not decide it (``undecided``: a margin exactly zero where no
    precision decides);
``refused``
    not replayed, for the reason its ``refusal`` names.

The margins plot is :func:`symdnn.plotting.plot_margins`.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Any

from symdnn.witness.rules import ACCEPTED, TOLERANCE

__all__ = ["CLASSES", "LABELS", "classify", "summarize", "refusals", "markdown"]

#: what a row is, in the order of the table's columns
CLASSES = ("genuine", "tolerance_only", "outside_box", "not_violating", "undecided", "refused")
#: the column headers
LABELS = {"genuine": "genuine", "tolerance_only": "genuine only thanks to the tolerance",
          "outside_box": "outside the box", "not_violating": "not violating",
          "undecided": "undecided", "refused": "refused"}
_TOL = Fraction(TOLERANCE)


def _q(v: Any) -> Fraction | None:
    """A row's exact number (a rational string), or None for none (an infinite margin)."""
    if v is None or v == "":
        return None
    try:
        return Fraction(v)
    except (ValueError, ZeroDivisionError, TypeError):
        return None


def classify(row: dict) -> str:
    """The class of one row (:data:`CLASSES`).

    Examples
    --------
    >>> classify({"genuine": True, "error": None})
    'genuine'
    >>> classify({"genuine": False, "input_in_box": False, "input_margin": "-1/100000",
    ...           "margin": "1", "vnncomp_verdict": None})
    'tolerance_only'
    >>> classify({"error": "operator Conv is not supported"})
    'refused'
    """
    if row.get("error"):
        return "refused"
    if row.get("undecided") or row.get("genuine") is None:
        return "undecided"
    if row.get("genuine") is True:
        return "genuine"
    verdict = row.get("vnncomp_verdict")
    if verdict is not None:
        within = verdict in ACCEPTED
    else:
        m, im = _q(row.get("margin")), _q(row.get("input_margin"))
        within = (m is None or m >= -_TOL) and (im is None or im >= -_TOL)
    if within:
        return "tolerance_only"
    return "outside_box" if row.get("input_in_box") is False else "not_violating"


def summarize(rows: list[dict]) -> list[dict]:
    """Per benchmark (category) and tool, sorted: ``benchmark``, ``tool``, ``witnesses`` and
    the count of each of :data:`CLASSES`.

    Examples
    --------
    >>> summarize([{"category": "acasxu", "tool": "t", "genuine": True},
    ...            {"category": "acasxu", "tool": "t", "error": "x"}])[0]["refused"]
    1
    """
    table: dict[tuple[str, str], Counter] = {}
    for r in rows:
        key = (str(r.get("category") or ""), str(r.get("tool") or ""))
        table.setdefault(key, Counter())[classify(r)] += 1
    return [{"benchmark": b, "tool": t, "witnesses": sum(c.values()),
             **{k: c[k] for k in CLASSES}} for (b, t), c in sorted(table.items())]


def refusals(rows: list[dict]) -> list[tuple[str, int]]:
    """The refused rows by their ``refusal`` reason, most frequent first.

    Examples
    --------
    >>> refusals([{"error": "e", "refusal": "empty file"}, {"error": None}])
    [('empty file', 1)]
    """
    c = Counter(str(r.get("refusal") or "not replayable") for r in rows if r.get("error"))
    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))


def _cell(v: Any) -> str:
    return str("" if v is None else v).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], body: list[list[Any]]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in body] + [""])


def markdown(rows: list[dict], *, rules: str | None = None) -> str:
    """The Markdown summary, ready to paste: the table per benchmark and tool (with a total),
    the refusals by reason, and the witnesses not genuine or accepted only thanks to the
    tolerance, one line each.

    Examples
    --------
    >>> print(markdown([{"category": "acasxu", "tool": "t", "genuine": True}]).splitlines()[4])
    | acasxu | t | 1 | 1 | 0 | 0 | 0 | 0 | 0 |
    """
    summ = summarize(rows)
    lines = ["# Counterexamples replayed exactly", ""]
    if rules:
        lines += [f"VNN-COMP's verdicts by the {rules} rules.", ""]
    total = {k: sum(s[k] for s in summ) for k in ("witnesses", *CLASSES)}
    lines += _table(["benchmark", "tool", "witnesses"] + [LABELS[k] for k in CLASSES],
                    [[s["benchmark"], s["tool"], s["witnesses"]] + [s[k] for k in CLASSES]
                     for s in summ]
                    + [["**total**", "", total["witnesses"]] + [total[k] for k in CLASSES]])
    refused = refusals(rows)
    if refused:
        lines += ["## Refused, by reason", ""] + _table(["reason", "files"],
                                                         [list(r) for r in refused])
    cols = ["tool", "category", "network", "property", "ce_index", "margin_float",
            "input_margin", "vnncomp_verdict"]
    for cls, title in (("tolerance_only", "Genuine only thanks to the tolerance"),
                       ("outside_box", "Outside the box"),
                       ("not_violating", "Not violating"), ("undecided", "Undecided")):
        sel = [r for r in rows if classify(r) == cls]
        if sel:
            extra = ["undecided_reason"] if cls == "undecided" else ["reason"]
            lines += [f"## {title}", ""] + _table(cols + extra,
                                                   [[r.get(c) for c in cols + extra]
                                                    for r in sel])
    return "\n".join(lines)


_COLORS = {"genuine": "tab:green", "tolerance_only": "tab:orange",
           "outside_box": "tab:red", "not_violating": "tab:purple", "undecided": "tab:gray"}
