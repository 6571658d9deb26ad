"""Fetch the registry's data sets with pooch, and check every file on arrival.

A file is downloaded (or copied from a folder the user has) into a partial file under
``<root>/.partial/``, checked against the registry (size, checksums, line count, format),
handed to pooch, which checks its sha256 or md5 where the registry knows one, and only then
renamed into place. A failed or interrupted fetch leaves nothing at the file's place; the bytes
of an interrupted download stay in ``.partial/`` and the next fetch resumes from them (HTTP
range requests), while a file that fails a check is deleted. A file already in place is
checked again and kept; one that fails its checks is reported, never replaced.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from symdnn.data.registry import FETCHED_MARK, DataFile, _network_folder, data_root, dataset
from symdnn.errors import DataError
from symdnn.io.outputs import terminate_as_interrupt

__all__ = ["fetch", "verify_file", "FetchReport", "find_in"]

#: ``progress(done, total)``: bytes so far and the expected total (None when unknown).
ProgressFn = Callable[[int, "int | None"], None]

_CHUNK = 1 << 20
_NET_CHUNK = 1 << 16  # what an interrupted download keeps is at most this much short
_PARTIAL = ".partial"


@dataclass
class FetchReport:
    """What :func:`fetch` did, file by file.

    Attributes
    ----------
    root : Path
        The data root the files went to.
    files : list of (str, str)
        ``(path under the root, what happened)``: ``"downloaded"``, ``"copied"`` or
        ``"present"`` (already in place and checked again).

    Examples
    --------
    >>> r = FetchReport(Path("/data"), [("mnist/a.gz", "copied"), ("mnist/b.gz", "present")])
    >>> r.summary()
    '2 files in /data: 0 downloaded, 1 copied, 1 present'
    """

    root: Path
    files: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line: how many files were downloaded, copied, already present."""
        counts = {k: sum(1 for _, s in self.files if s == k)
                  for k in ("downloaded", "copied", "present")}
        return (f"{len(self.files)} files in {self.root}: " +
                ", ".join(f"{v} {k}" for k, v in counts.items()))

    def to_json(self) -> dict:
        """``root`` and ``files``: each file's path under the root and what happened."""
        return {"root": str(self.root),
                "files": [{"path": p, "status": s} for p, s in self.files]}

    def to_markdown(self) -> str:
        """The summary and one row per file, in Markdown."""
        rows = [f"| {p} | {s} |" for p, s in self.files]
        return "\n".join(["# symdnn data fetch", "", self.summary(), "",
                          "| file | status |", "|---|---|", *rows, ""])


# ---------------------------------------------------------------------------- the checks

def _gunzipped(path: Path):
    """The gunzipped content of ``path`` in chunks (a corrupt stream is a DataError)."""
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"not a complete gzip file ({exc})") from None


def _opened(f: DataFile, path: Path):
    return _gunzipped(path) if f.name.endswith(".gz") else _raw(path)


def _raw(path: Path):
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def _digest(kind: str, f: DataFile, path: Path) -> str:
    if kind in ("sha256", "md5"):
        h = hashlib.new(kind)
        for chunk in _raw(path):
            h.update(chunk)
        return h.hexdigest()
    if kind == "gunzip-sha256":
        h = hashlib.sha256()
        for chunk in _gunzipped(path):
            h.update(chunk)
        return h.hexdigest()
    # gunzip-gitblob: `git hash-object` of the content, sha1 over "blob SIZE\0" + content
    size = sum(len(c) for c in _gunzipped(path))
    h = hashlib.sha1(f"blob {size}\0".encode())
    for chunk in _gunzipped(path):
        h.update(chunk)
    return h.hexdigest()


#: The longest line a Graph Challenge text file may have (a file without line ends is refused
#: after this many bytes, not read whole).
MAX_LINE = 1 << 16

_IMAGE_LINE = re.compile(rb"^[1-9][0-9]*\t[1-9][0-9]*\t[-+0-9.eE]+\r?$")


def _check_kind(f: DataFile, path: Path) -> str | None:
    """Why ``path`` does not have the format of ``f`` (None when it does)."""
    if f.kind == "gc-network":
        return _check_network_names(f, path)
    if f.kind == "idx":
        head = next(iter(_gunzipped(path)), b"")
        if len(head) < 8 or head[:2] != b"\0\0" or head[2] != 8 or not 1 <= head[3] <= 4:
            return "not an IDX file of unsigned bytes"
        return None
    if f.kind in ("gc-images", "gc-truth"):
        lines = 0
        prev = 0
        tail = b""
        for chunk in _opened(f, path):
            data = tail + chunk
            parts = data.split(b"\n")
            tail = parts.pop()
            if len(tail) > MAX_LINE:
                return f"line {lines + len(parts) + 1} is longer than {MAX_LINE} bytes"
            for line in parts:
                lines += 1
                if f.kind == "gc-truth":
                    if not line.strip().isdigit() or not prev < int(line) <= 60000:
                        return f"line {lines}: not an image number above {prev}: {line[:40]!r}"
                    prev = int(line)
                elif lines <= 1000 and not _IMAGE_LINE.match(line):
                    return f"line {lines}: not row<TAB>col<TAB>value: {line[:60]!r}"
        if tail.strip():
            return "the last line does not end"
        if lines == 0:
            return "no lines"
        if f.lines is not None and lines != f.lines:
            return f"{lines} lines, the registry says {f.lines}"
    return None


def _check_network_names(f: DataFile, path: Path) -> str | None:
    try:
        with tarfile.open(path, "r:gz") as tar:
            names = _layer_members(f, tar)
    except (tarfile.TarError, OSError, EOFError) as exc:
        return f"not a complete tar.gz ({exc})"
    except DataError as exc:
        return str(exc)
    if len(names) != 1920:
        return f"{len(names)} layers, not 1920"
    return None


def _layer_members(f: DataFile, tar: tarfile.TarFile) -> dict[int, tarfile.TarInfo]:
    """The archive's layer files by layer number; anything else in it is an error."""
    net = _network_folder(f)
    n = net.removeprefix("neuron")
    pat = re.compile(rf"^(?:\./)?{net}/n{n}-l([1-9][0-9]*)\.tsv$")
    layers: dict[int, tarfile.TarInfo] = {}
    for m in tar:
        if m.isdir() and m.name.rstrip("/") in (net, f"./{net}", "."):
            continue
        hit = pat.match(m.name)
        if not hit or not m.isfile() or int(hit.group(1)) > 1920 or int(hit.group(1)) in layers:
            raise DataError(f"unexpected member {m.name!r}")
        layers[int(hit.group(1))] = m
    return layers


def verify_file(f: DataFile, path: str | os.PathLike, *,
                shown: str | os.PathLike | None = None) -> None:
    """Check ``path`` against registry row ``f``: size, every checksum, line count, format.

    ``shown`` is the name messages give the file (default ``path``).

    Raises
    ------
    DataError
        Naming the file and the first check it fails.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.data.registry import DataFile
    >>> p = Path(tempfile.mkdtemp()) / "t.tsv"
    >>> _ = p.write_text("3\\n17\\n")
    >>> verify_file(DataFile("x", "t.tsv", "", 5, (), 2, "gc-truth"), p)
    >>> verify_file(DataFile("x", "t.tsv", "", 5, (), 3, "gc-truth"), p)
    Traceback (most recent call last):
    ...
    symdnn.errors.DataError: ...t.tsv: 2 lines, the registry says 3
    """
    path = Path(path)
    where = f"{shown if shown is not None else path}"

    def bad(why: str) -> DataError:
        return DataError(f"{where}: {why}", path=str(path), url=f.url)

    size = path.stat().st_size
    if f.size is not None and size != f.size:
        raise bad(f"{size} bytes, the registry says {f.size}")
    try:
        for kind, want in f.checks:
            got = _digest(kind, f, path)
            if got != want:
                raise bad(f"{kind} is {got}, the registry says {want}")
        why = _check_kind(f, path)
    except DataError as exc:
        if exc.path is not None:
            raise
        raise bad(str(exc)) from None
    if why:
        raise bad(why)


# ---------------------------------------------------------------------------- transfers

def find_in(source: str | os.PathLike, f: DataFile) -> list[Path]:
    """The files of a folder the user has that may be registry file ``f``, best first: the
    one at its registry path, the one at its path inside the data set's folder, then every
    file of its name below ``source``.

    Examples
    --------
    >>> import tempfile
    >>> from symdnn.data import dataset
    >>> d = Path(tempfile.mkdtemp())
    >>> f = dataset("vnncomp-test").files[-1]
    >>> (d / "copy").mkdir(); _ = (d / "copy" / f.name).write_bytes(b"")
    >>> [p.relative_to(d).as_posix() for p in find_in(d, f)]
    ['copy/test_unsat.onnx']
    """
    return list(_candidates(source, f))


def _candidates(source: str | os.PathLike, f: DataFile) -> Iterator[Path]:
    """:func:`find_in`, lazily: the folder is searched by name only when the files at the
    registry path and at the path inside the data set's folder have not passed (a copy of
    thousands of files is then read once per file, not walked once per file)."""
    src = Path(source)
    folder = dataset(f.dataset).folder
    inner = f.path.removeprefix(folder + "/")
    found = [c for c in (src / f.path, src / inner) if c.is_file()]
    yield from found
    yield from sorted(p for p in src.rglob(f.name) if p.is_file() and p not in found)


class _Transfer:
    """A pooch downloader: bytes into ``<root>/.partial/<path>.part`` (resuming what an
    interrupted download left), checked, then moved to pooch's temporary file."""

    def __init__(self, f: DataFile, root: Path, source: Path | None,
                 progress: ProgressFn | None):
        self.f, self.source, self.progress = f, source, progress
        self.part = root / _PARTIAL / (f.path + ".part")
        self.shown = root / f.path

    def __call__(self, url: str, output_file: str, pooch: object,
                 check_only: bool = False) -> bool | None:
        if check_only:
            return True
        self.part.parent.mkdir(parents=True, exist_ok=True)
        if self.source is not None:
            self._copy()  # checked file by file
        else:
            self._download(url)
        try:
            verify_file(self.f, self.part, shown=self.shown)
        except DataError:
            self.part.unlink(missing_ok=True)
            raise
        os.replace(self.part, output_file)
        return None

    def _copy(self) -> None:
        """The first file of the source folder that passes every check of the registry."""
        why = []
        for src in _candidates(self.source, self.f):  # type: ignore[arg-type]
            total = src.stat().st_size
            done = 0
            with open(src, "rb") as fi, open(self.part, "wb") as fo:
                while chunk := fi.read(_CHUNK):
                    fo.write(chunk)
                    done += len(chunk)
                    if self.progress:
                        self.progress(done, total)
            try:
                verify_file(self.f, self.part, shown=src)
                return
            except DataError as exc:
                why.append(f"{src}: {str(exc).split(': ', 1)[1]}")
        self.part.unlink(missing_ok=True)
        raise DataError(f"{self.source}: no file that matches the registry's {self.f.path}" +
                        (" (" + "; ".join(why) + ")" if why else
                         f" (looked for it there, and for a file named {self.f.name} below)"),
                        path=str(self.source), url=self.f.url)

    def _download(self, url: str) -> None:
        import requests

        have = self.part.stat().st_size if self.part.is_file() else 0
        want = self.f.size
        if want is not None and have > want:
            self.part.unlink()
            have = 0
        # the bytes as stored: a server must not gzip a .gz file once more on the way
        headers = {"Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        done = have
        try:
            with requests.get(url, headers=headers, stream=True, timeout=(20, 120)) as r:
                if r.status_code == 416 and have:  # nothing left to send: start again
                    self.part.unlink()
                    return self._download(url)
                r.raise_for_status()
                if r.status_code != 206 or not r.headers.get(
                        "Content-Range", "").startswith(f"bytes {have}-"):
                    have = done = 0  # the whole file (again)
                length = r.headers.get("Content-Length")
                total = have + int(length) if length and length.isdigit() else want
                if want is not None and total != want:
                    raise DataError(f"cannot download {url}: the server sends {total} bytes, "
                                    f"the registry says {want}", path=self.f.path, url=url)
                with open(self.part, "ab" if have else "wb") as fh:
                    for chunk in r.iter_content(_NET_CHUNK):
                        fh.write(chunk)
                        done += len(chunk)
                        if total is not None and done > total:
                            raise DataError(f"cannot download {url}: more than the {total} "
                                            "bytes announced", path=self.f.path, url=url)
                        if self.progress:
                            self.progress(done, total)
        except requests.exceptions.RequestException as exc:
            err = DataError(f"cannot download {url}: {_reason(exc, done)}", path=self.f.path,
                            url=url)
            err.offline = isinstance(exc, (requests.exceptions.ConnectionError,
                                           requests.exceptions.Timeout)) and done == 0
            raise err from None
        if total is not None and done < total:
            raise DataError(f"cannot download {url}: the transfer ended after {done} of "
                            f"{total} bytes", path=self.f.path, url=url)


def _reason(exc: Exception, done: int) -> str:
    """A short reason for a failed request (no traceback-sized repr)."""
    import requests

    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"the connection broke after {done} bytes (fetch again to resume)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        for key in ("Name or service not known", "Temporary failure in name resolution",
                    "Connection refused", "Network is unreachable", "timed out",
                    "IncompleteRead", "Connection broken"):
            if key in text:
                return key
        return "no connection"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    return type(exc).__name__


def _pooch_hash(f: DataFile) -> str | None:
    for kind, digest in f.checks:
        if kind in ("sha256", "md5"):
            return f"{kind}:{digest}"
    return None


def _unpack_network(f: DataFile, archive: Path, *, remove: bool) -> None:
    """Unpack ``neuronN.tar.gz`` beside itself into ``neuronN/`` (through a temporary
    sibling), mark the folder as fetched, and remove the archive when ``remove``."""
    net = archive.parent / _network_folder(f)
    stage = Path(tempfile.mkdtemp(prefix=f".tmp-{net.name}-", dir=archive.parent))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for layer, member in sorted(_layer_members(f, tar).items()):
                src = tar.extractfile(member)
                if src is None:
                    raise DataError(f"{archive}: layer {layer} cannot be read", path=str(archive))
                with src, open(stage / Path(member.name).name, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
        (stage / FETCHED_MARK).write_text(json.dumps(
            {"url": f.url, "checks": dict(f.checks), "layers": 1920}) + "\n")
        os.chmod(stage, 0o777 & ~_umask())
        os.replace(stage, net)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if remove:
        archive.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _network_complete(f: DataFile, net: Path) -> bool:
    n = _network_folder(f).removeprefix("neuron")
    return all((net / f"n{n}-l{layer}.tsv").is_file() for layer in range(1, 1921))


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed fetch made, deepest first, where they are still empty."""
    for p in folders:
        try:
            p.rmdir()
        except OSError:
            break


def _fetch_one(f: DataFile, root: Path, source: Path | None,
               progress: ProgressFn | None) -> str:
    import pooch

    target = root / f.path
    if f.kind == "gc-network":
        net = target.parent / _network_folder(f)
        if (net / FETCHED_MARK).is_file():
            if not _network_complete(f, net):
                raise DataError(f"{net}: layer files are missing; it was left alone (remove "
                                "the folder and fetch again)", path=str(net))
            return "present"
        if net.exists():
            raise DataError(f"{net} exists and symdnn did not unpack it; it was left alone "
                            "(move it away to fetch the network here)", path=str(net))
        if target.exists():  # an archive someone put there: checked, unpacked, kept
            verify_file(f, target)
            _unpack_network(f, target, remove=False)
            return "present"
    elif target.exists():
        verify_file(f, target)
        return "present"
    pooch.get_logger().setLevel("WARNING")
    made = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
    try:
        pooch.retrieve(f.url, known_hash=_pooch_hash(f), fname=target.name,
                       path=target.parent, progressbar=False,
                       downloader=_Transfer(f, root, source, progress))
    except ValueError as exc:  # pooch: the checksum does not match (or ours: a DataError)
        _remove_empty(made)
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{target}: {exc}".replace(" Deleted download for safety.", "") +
                        " (nothing was kept)", path=str(target), url=f.url) from None
    except BaseException:
        _remove_empty(made)
        raise
    if f.kind == "gc-network":
        _unpack_network(f, target, remove=True)
    return "copied" if source is not None else "downloaded"


def fetch(names: Iterable[str], *, to: str | os.PathLike | None = None,
          source: str | os.PathLike | None = None, progress: ProgressFn | None = None,
          on_file: Callable[[DataFile], None] | None = None) -> FetchReport:
    """Fetch data sets into the data root, checking every file against the registry.

    Parameters
    ----------
    names : iterable of str
        Data set names (see :data:`symdnn.data.DATASETS`).
    to : path, optional
        The data root to fetch into (default :func:`symdnn.data.data_root`).
    source : path, optional
        Copy the files from this folder (a copy or mirror the user has) instead of
        downloading them; each is found at its registry path, at its path inside the data
        set's folder, or as the only file of its name below ``source``.
    progress : callable, optional
        ``progress(done, total)`` in bytes while a file arrives (total None when unknown).
    on_file : callable, optional
        Called with each :class:`DataFile` before it is fetched or checked.

    Returns
    -------
    FetchReport

    Raises
    ------
    DataError
        For an unknown name; naming the file and URL of a download that fails (no network,
        HTTP error, truncated transfer), and the file of one that fails a check. Files
        fetched before the failure stay (each is complete and checked).

    Examples
    --------
    Copy the VNN-COMP test networks from a folder that holds them (here the test fixtures
    of a symdnn clone, ``tests/data``), into a new data root:

    >>> import tempfile
    >>> r = fetch(["vnncomp-test"], to=tempfile.mkdtemp(), source=TESTS_DATA)
    >>> r.summary().split(": ")[1]
    '0 downloaded, 11 copied, 0 present'
    """
    sets = [dataset(n) for n in dict.fromkeys(names)]
    root = data_root(to)
    report = FetchReport(root)
    src = Path(source) if source is not None else None
    if src is not None and not src.is_dir():
        raise DataError(f"{src}: no such folder to copy from", path=str(src))

    with terminate_as_interrupt():
        for ds in sets:
            for f in ds.files:
                if on_file:
                    on_file(f)
                report.files.append((f.path, _fetch_one(f, root, src, progress)))
    partial = root / _PARTIAL
    if partial.is_dir() and not any(p.is_file() for p in partial.rglob("*")):
        shutil.rmtree(partial, ignore_errors=True)
    return report
