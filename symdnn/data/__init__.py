"""Word lists shipped with symdnn (package data)."""

from __future__ import annotations

from importlib import resources

__all__ = ["words"]


def words(name: str = "words2") -> list[str]:
    """A bundled word list, in file order, comments and blank lines skipped.

    Examples
    --------
    >>> ws = words("words2")
    >>> len(ws), ws[:3]
    (37, ['ad', 'ah', 'am'])
    """
    text = resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
    return [w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")]
