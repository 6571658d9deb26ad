"""Data: the real data sets symdnn works on (a registry, fetched with pooch and checked), and
the word lists shipped with symdnn.

>>> from symdnn.data import DATASETS, dataset_path
>>> sorted(DATASETS)[:3]
['graphchallenge-1024', 'graphchallenge-16384', 'graphchallenge-4096']
"""

from __future__ import annotations

from importlib import resources

from symdnn.data.fetcher import FetchReport, fetch, find_in, verify_file
from symdnn.data.registry import (
    DATASETS,
    DataFile,
    DataListing,
    Dataset,
    data_root,
    dataset,
    dataset_path,
    is_fetched,
    listing,
)

__all__ = ["words", "read_words", "BUNDLED", "DATASETS", "DataFile", "Dataset", "data_root",
           "dataset", "dataset_path", "is_fetched", "fetch", "verify_file", "find_in",
           "FetchReport", "DataListing", "listing"]

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
        from symdnn.errors import ArgumentError

        raise ArgumentError(f"no bundled word list {name!r}; bundled: {', '.join(BUNDLED)}")
    text = resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
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
    from symdnn.errors import ParseError

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
