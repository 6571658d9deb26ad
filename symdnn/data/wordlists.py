"""The word lists shipped with symdnn (``words2``, ``words3``, ``words4``: the targets of the
selective construction) and a reader for word files. :mod:`symdnn.data` re-exports them."""

from __future__ import annotations

from importlib import resources

from symdnn.errors import ArgumentError, ParseError

__all__ = ["BUNDLED", "words", "read_words"]

BUNDLED = ("words2", "words3", "words4")


def words(name: str = "words2") -> list[str]:
    """A bundled word list, in file order, comments and blank lines skipped.

    Examples
    --------
    >>> ws = words("words2")
    >>> len(ws), ws[:3]
    (37, ['ad', 'ah', 'am'])
    """
    if name not in BUNDLED:
        raise ArgumentError(f"no bundled word list {name!r}; bundled: {', '.join(BUNDLED)}")
    text = resources.files("symdnn.data").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    return _parse(text)


def _parse(text: str) -> list[str]:
    return [w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")]


def read_words(path: str) -> list[str]:
    r"""Words from a text file, one per line (blank lines and ``#`` comments skipped).

    Raises
    ------
    ParseError
        If the file cannot be read, or a line holds more than one word (naming the line).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "w.txt")
    >>> _ = open(p, "w").write("# targets\nabcd\n\nbcde\n")
    >>> read_words(p)
    ['abcd', 'bcde']
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}", path=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError("not UTF-8 text", path=str(path),
                         line=raw[:exc.start].count(b"\n") + 1) from None
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.startswith("#") and len(line.split()) != 1:
            raise ParseError(f"one word per line, found {line.strip()!r}", path=str(path),
                             line=lineno)
    return _parse(text)
