"""Text rendering of associative arrays: a labeled table for small arrays, like the paper's
figures, and a summary with the first entries for large ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from symdnn.assoc.array import AssocArray

__all__ = ["render", "format_key"]

MAX_ROWS = 30
MAX_COLS = 16


def format_key(key: Any) -> str:
    """Keys as text: strings bare, tuples joined with commas."""
    if isinstance(key, tuple):
        return ",".join(format_key(k) for k in key)
    return str(key)


def render(A: AssocArray) -> str:
    nr, nc = A.shape
    dom, sr = A.domain, A.semiring
    if A.nnz == 0:
        return f"AssocArray(empty, domain={dom.name}, semiring={sr.name})"
    if nr > MAX_ROWS or nc > MAX_COLS:
        head = [f"AssocArray: {nr} x {nc}, {A.nnz} entries, domain={dom.name}, "
                f"semiring={sr.name}"]
        for i, (r, c, v) in enumerate(A.triples()):
            if i == 8:
                head.append("  ...")
                break
            head.append(f"  ({format_key(r)}, {format_key(c)})  {dom.format(v)}")
        return "\n".join(head)
    rows = [format_key(k) for k in A.row()]
    cols = [format_key(k) for k in A.col()]
    cells = [[""] * nc for _ in range(nr)]
    store = A._store()
    vals = dom.to_list(store.vals)
    for r, c, v in zip(store.row_index(), store.indices, vals, strict=True):
        cells[r][c] = dom.format(v)
    widths = [max([len(cols[j])] + [len(cells[i][j]) for i in range(nr)]) for j in range(nc)]
    rw = max(len(r) for r in rows)
    lines = [(" " * rw + " " + " ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
             .rstrip()]
    for i, r in enumerate(rows):
        line = r.ljust(rw) + " " + " ".join(
            cells[i][j].ljust(widths[j]) for j in range(nc))
        lines.append(line.rstrip())
    return "\n".join(lines)
