"""Outputs that never destroy a user's data: folders and files written to a temporary sibling
and renamed into place only when complete.

Rules, for every command and API function that writes:

* An output folder must be absent or empty. A folder that holds an earlier symdnn output of
  the same kind (recognised by the marker file :data:`MARKER` symdnn writes into every output
  folder last, with the size and time of every file it wrote) is replaced only with
  ``force=True``, and only while it holds nothing else and nothing in it changed; any other
  non-empty folder is refused, whatever ``force`` says. An output file that exists is
  replaced only with ``force=True``.
* The input of a command is never its output (nor inside it, nor around it).
* Everything is written to a temporary sibling (``.NAME.tmp-XXXX``) and renamed into place on
  success; on any error, and on SIGINT or SIGTERM, the temporary is removed and whatever was
  at the path before is left as it was. An empty folder the user gave is filled, not replaced:
  the temporary is made inside it and its entries are moved up on success, so the folder
  keeps its mode, owner and place (a private ``mkdir -m 700`` folder stays private; a mount
  point stays one).
* A command with several outputs writes them all or none (:func:`command_outputs`): each is
  written to its temporary, and all are renamed into place together at the end; when one
  fails, those already renamed are taken back out and what they replaced is put back.
* Files and folders get the permissions the umask gives (``0666``/``0777`` less the umask), not
  the ``0600``/``0700`` of :mod:`tempfile`; a folder that replaces an earlier output keeps the
  mode of the folder it replaces.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import secrets
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from symdnn._version import __version__
from symdnn.errors import OutputError

__all__ = ["MARKER", "OutputError", "output_folder", "output_file_path", "check_output_folder",
           "check_output_file", "umask_mode", "terminate_as_interrupt", "atomic_write",
           "command_outputs"]

#: The marker file in every output folder: ``{"kind": ..., "symdnn": version}``.
MARKER = ".symdnn-output.json"


def umask_mode(kind: str = "file") -> int:
    """The mode a new file (``0666``) or folder (``0777``) gets under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o666 if kind == "file" else 0o777) & ~mask


def _same_or_nested(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def _resolve(path: str | os.PathLike, what: str) -> Path:
    text = os.fspath(path)
    if not text or not text.strip():
        raise OutputError(f"{what}: an empty path")
    p = Path(text).expanduser()
    if p.name in ("", ".", ".."):
        raise OutputError(f"{what} {text!r}: give a path that names a new folder or file, "
                          "not the current or a parent folder")
    # the folder resolved, never the name itself: a link named PATH (even one pointing
    # nowhere) is what is there, and is refused as such, not followed to where it points
    parent = p.parent.resolve() if p.parent.exists() else p.parent
    if not parent.exists():
        raise OutputError(f"{what} {text!r}: its folder {str(p.parent)!r} does not exist")
    if not parent.is_dir():
        raise OutputError(f"{what} {text!r}: {str(p.parent)!r} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {text!r}: cannot write in {str(p.parent)!r}")
    return parent / p.name


def _read_marker(folder: Path) -> dict | None:
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        str(doc["kind"])
        return doc
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _check_inputs(out: Path, inputs: Sequence[str | os.PathLike], what: str) -> None:
    for src in inputs:
        if src is None:
            continue
        s = Path(os.fspath(src)).expanduser()
        if s.exists() and _same_or_nested(out, s.resolve()):
            raise OutputError(f"{what} {str(out)!r}: it is (or holds, or lies inside) the "
                              f"input {os.fspath(src)!r}; write the output somewhere else")


def _prepare_folder(out: Path, kind: str, force: bool, what: str) -> bool:
    """Check what is at ``out``; returns whether something there is to be replaced."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OutputError(f"{what} {str(out)!r} exists and is not a folder")
    if not out.exists():
        return False
    try:
        entries = list(out.iterdir())
    except OSError as exc:
        raise OutputError(f"{what} {str(out)!r}: cannot read it ({exc.strerror})") from None
    if not entries:
        return True
    doc = _read_marker(out)
    found = None if doc is None else doc["kind"]
    if found == kind:
        if not force:
            raise OutputError(f"{what} {str(out)!r} holds an earlier symdnn {kind}; "
                              "force=True replaces it")
        inv = _inventory(out)
        if not isinstance(doc.get("inventory"), dict) or inv != doc["inventory"]:
            theirs = set(inv["files"]) | set(inv["dirs"])
            ours = set((doc.get("inventory") or {}).get("files") or {}) | \
                set((doc.get("inventory") or {}).get("dirs") or [])
            changed = sorted(theirs - ours) or sorted(
                r for r in inv["files"]
                if inv["files"][r] != ((doc.get("inventory") or {}).get("files") or {}).get(r))
            raise OutputError(f"{what} {str(out)!r} holds an earlier symdnn {kind}, but also "
                              f"files symdnn did not write or that changed since "
                              f"(e.g. {changed[:3]}): refusing to replace it; move them "
                              "elsewhere first")
        return True
    if found is not None:
        raise OutputError(f"{what} {str(out)!r} holds a symdnn {found}, not a {kind}: "
                          "refusing to replace it")
    raise OutputError(f"{what} {str(out)!r} is not empty and was not written by symdnn: "
                      "refusing to touch it (give a new or empty folder)")


_SIGNAL_LOCK = threading.Lock()


@contextmanager
def terminate_as_interrupt(*, sigint: bool = False) -> Iterator[None]:
    """Within the block, SIGTERM (and with ``sigint`` SIGINT) raises
    :class:`KeyboardInterrupt` once, so that cleanup code runs; the previous handlers are
    restored after. A second signal while that interrupt is being handled (two SIGTERMs in a
    row, a second Ctrl-C) is ignored: it must not stop the cleanup half-way and leave a
    partial output. A no-op off the main thread.

    Examples
    --------
    >>> import os, signal
    >>> try:
    ...     with terminate_as_interrupt():
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ... except KeyboardInterrupt as exc:
    ...     print(exc)
    signal 15
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    pid = os.getpid()

    def handler(signum, frame):  # noqa: ARG001
        if os.getpid() != pid:  # a forked worker (multiprocessing): terminate as asked
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if _INTERRUPTED[0]:  # the first one is being handled: let its cleanup finish
            return
        _INTERRUPTED[0] = True
        raise KeyboardInterrupt(f"signal {signum}")

    sigs = [signal.SIGTERM] + ([signal.SIGINT] if sigint else [])
    with _SIGNAL_LOCK:
        outermost = _DEPTH[0] == 0
        if outermost:
            _INTERRUPTED[0] = False
        _DEPTH[0] += 1
        old = [signal.signal(sig, handler) for sig in sigs]
    try:
        yield
    finally:
        with _SIGNAL_LOCK:
            _DEPTH[0] -= 1
            if outermost or not _INTERRUPTED[0]:  # an interrupt still being handled keeps
                for sig, prev in zip(sigs, old, strict=True):  # the outer handler: no re-raise
                    signal.signal(sig, prev)


#: whether an interrupt has been raised in the outermost block, and how deep blocks nest
_INTERRUPTED = [False]
_DEPTH = [0]


@contextmanager
def _signals_blocked() -> Iterator[None]:
    """SIGINT and SIGTERM held back (delivered when the block ends), so that a second
    interrupt cannot stop a cleanup half-way."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _remove(path: Path) -> None:
    """Remove a temporary file or folder of ours, uninterruptibly."""
    with _signals_blocked():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists() or path.is_symlink():
            try:
                path.unlink()
            except OSError:
                pass


def _inventory(root: Path) -> dict:
    """Every file and folder under ``root`` but the marker: ``{"files": {rel: [size,
    mtime_ns]}, "dirs": [rel, ...]}``, to recognise later that nothing was added or changed."""
    files, dirs = {}, []
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            dirs.append(os.path.relpath(os.path.join(dirpath, d), root))
        for f in filenames:
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, root)
            if rel == MARKER:
                continue
            st = os.lstat(full)
            files[rel] = [st.st_size, st.st_mtime_ns]
    return {"files": files, "dirs": sorted(dirs)}


def _fix_modes(root: Path) -> None:
    fmode, dmode = umask_mode("file"), umask_mode("dir")
    os.chmod(root, dmode)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), dmode)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), fmode)


def _sibling(out: Path, tag: str) -> Path:
    return out.parent / f".{out.name}.{tag}-{secrets.token_hex(4)}"


def _discard(path: Path) -> None:
    """Remove a file or folder this command made (not interruptible)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        try:
            path.unlink()
        except OSError:
            pass


class _Placement:
    """One finished output in its temporary, waiting to be put at ``out``.

    ``mode`` is ``"file"`` (a file renamed over ``out``), ``"folder"`` (a sibling folder
    renamed to ``out``, moving an earlier output aside) or ``"fill"`` (``tmp`` lies inside the
    empty folder ``out``; its entries are moved up). ``check`` is called, signals held, just
    before: it raises when something changed ``out`` since it was checked.
    """

    def __init__(self, tmp: Path, out: Path, mode: str,
                 check: Callable[[], None] | None = None):
        self.tmp, self.out, self.mode, self.check = tmp, out, mode, check
        self.old: Path | None = None     # what ``out`` was, moved aside (or a hard link to it)
        self.moved: list[Path] = []      # "fill": the entries moved into ``out``

    def place(self) -> None:
        """Put the output in place; on an error, leave ``out`` as it was."""
        if self.check is not None:
            self.check()
        out = self.out
        if self.mode == "fill":
            try:
                for entry in sorted(self.tmp.iterdir()):
                    dest = out / entry.name
                    if os.path.lexists(dest):
                        raise OutputError(f"{str(out)!r}: {entry.name!r} appeared in it while "
                                          "symdnn was writing; nothing was written")
                    os.rename(entry, dest)
                    self.moved.append(dest)
                os.rmdir(self.tmp)
            except BaseException:
                self.undo()
                raise
            return
        if os.path.lexists(out):
            self.old = _sibling(out, "old")
            if not (self.mode == "file" and _hard_link(out, self.old)):
                os.replace(out, self.old)  # (a linked file stays in place until replaced)
        try:
            os.replace(self.tmp, out)
        except BaseException:
            if self.old is not None:
                os.replace(self.old, out)
                self.old = None
            raise

    def undo(self) -> None:
        """Take a placed output back out and put back what it replaced."""
        if self.mode == "fill":
            for dest in reversed(self.moved):
                _discard(dest)
            self.moved = []
            _discard(self.tmp)
            return
        if self.old is not None:
            if self.mode == "folder":
                gone = _sibling(self.out, "undo")
                os.replace(self.out, gone)
                os.replace(self.old, self.out)
                _discard(gone)
            else:
                os.replace(self.old, self.out)
            self.old = None
        else:
            _discard(self.out)

    def finish(self) -> None:
        """Drop what the output replaced."""
        if self.old is not None:
            _discard(self.old)
            self.old = None

    def abandon(self) -> None:
        """Remove the temporary of an output never placed."""
        _discard(self.tmp)


def _key(path: str | os.PathLike) -> str:
    p = os.path.abspath(os.fspath(path))
    return os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))


class _Outputs:
    """The outputs of one command (:func:`command_outputs`)."""

    def __init__(self, paths: Sequence[str | os.PathLike | None]):
        self.targets: set[str] = set()
        self.pending: list[_Placement] = []
        self.add(paths)

    def add(self, paths: Sequence[str | os.PathLike | None]) -> None:
        self.targets |= {_key(p) for p in paths if p is not None and os.fspath(p) != "-"}

    def claims(self, out: str | os.PathLike) -> bool:
        return _key(out) in self.targets

    def commit(self) -> None:
        done: list[_Placement] = []
        try:
            while self.pending:
                p = self.pending.pop(0)
                try:
                    p.place()
                except BaseException:
                    p.abandon()
                    raise
                done.append(p)
        except BaseException:
            for p in reversed(done):
                try:
                    p.undo()
                except OSError:
                    pass
            self.abort()
            raise
        for p in done:
            p.finish()

    def abort(self) -> None:
        while self.pending:
            self.pending.pop().abandon()


_ACTIVE: ContextVar[_Outputs | None] = ContextVar("symdnn_command_outputs", default=None)


def _put(placement: _Placement) -> None:
    """Put an output in place now, or, when it is one of the outputs of the command running
    (:func:`command_outputs`), when the command ends."""
    tx = _ACTIVE.get()
    if tx is not None and tx.claims(placement.out):
        tx.pending.append(placement)
        return
    with _signals_blocked():
        try:
            if placement.mode == "file":  # one rename, atomic: no old copy to keep
                os.replace(placement.tmp, placement.out)
            else:
                placement.place()
                placement.finish()
        except BaseException:
            placement.abandon()
            raise


@contextmanager
def command_outputs(paths: Sequence[str | os.PathLike | None]) -> Iterator[None]:
    """The outputs of one command, written all or none.

    Within the block, every output at one of ``paths`` (``None`` and ``"-"`` are skipped)
    written by :func:`atomic_write`, :func:`output_file_path` or :func:`output_folder` stays
    in its temporary; when the block ends without an error they are all put in place
    together, signals held. When one of them cannot be (a full disk), those already placed
    are taken back out and what they replaced is put back; on an error or interrupt in the
    block, the temporaries are removed. Either way nothing the command wrote is left, and
    nothing that was there before is lost. Outputs elsewhere (inside a temporary folder, a
    scratch file) are written as usual. A block inside another joins it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> try:
    ...     with command_outputs([root / "a.txt", root / "b.txt"]):
    ...         atomic_write(root / "a.txt", b"a")
    ...         raise OSError(28, "No space left on device")  # writing b.txt fails
    ... except OSError:
    ...     pass
    >>> list(root.iterdir())
    []
    >>> with command_outputs([root / "a.txt", root / "b.txt"]):
    ...     atomic_write(root / "a.txt", b"a")
    ...     atomic_write(root / "b.txt", b"b")
    ...     print(sorted(p.name for p in root.iterdir() if not p.name.startswith(".")))
    []
    >>> sorted(p.name for p in root.iterdir())
    ['a.txt', 'b.txt']
    """
    outer = _ACTIVE.get()
    if outer is not None:
        outer.add(paths)
        yield
        return
    tx = _Outputs(paths)
    token = _ACTIVE.set(tx)
    try:
        with terminate_as_interrupt():
            try:
                yield
                with _signals_blocked():
                    tx.commit()
            except BaseException:
                with _signals_blocked():
                    tx.abort()
                raise
    finally:
        _ACTIVE.reset(token)


@contextmanager
def output_folder(path: str | os.PathLike, kind: str, *, force: bool = False,
                  inputs: Sequence[str | os.PathLike] = (),
                  what: str = "output folder") -> Iterator[Path]:
    """Write a folder atomically: yields a temporary sibling to fill, renamed to ``path``
    when the block ends without an error.

    Parameters
    ----------
    path : path
        The folder to create: absent, empty, or (with ``force``) an earlier symdnn output of
        the same ``kind``.
    kind : str
        What the folder holds (``"network"``, ``"suite"``, ``"radixnet"``, ...), written to
        its :data:`MARKER`.
    force : bool
        Replace an earlier symdnn output of the same kind.
    inputs : paths
        The command's inputs; the output may not be, hold or lie inside any of them.

    Raises
    ------
    OutputError
        When the path cannot be written without losing data, or at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with output_folder(root / "out", "example") as tmp:
    ...     _ = (tmp / "a.txt").write_text("hello")
    >>> sorted(p.name for p in (root / "out").iterdir())
    ['.symdnn-output.json', 'a.txt']
    >>> (root / "mine").mkdir(); _ = (root / "mine" / "notes.txt").write_text("keep")
    >>> with output_folder(root / "mine", "example") as tmp:
    ...     pass
    Traceback (most recent call last):
    ...
    symdnn.errors.OutputError: output folder '...mine' is not empty and was not written by ...
    """
    out = _resolve(path, what)
    _check_inputs(out, inputs, what)
    replace = _prepare_folder(out, kind, force, what)
    empty = replace and not any(out.iterdir())
    if empty:  # the user's own empty folder: filled, so that it keeps its mode and place
        tmp = out / f".symdnn.tmp-{secrets.token_hex(4)}"
        mode = None
    else:
        tmp = _sibling(out, "tmp")
        mode = stat.S_IMODE(os.stat(out).st_mode) if replace else None

    def unchanged() -> None:
        if empty:
            others = [p.name for p in out.iterdir() if p != tmp]
            if others:
                raise OutputError(f"{what} {str(out)!r}: {others[:3]} appeared in it while "
                                  "symdnn was writing; nothing was written")
        elif replace:
            _prepare_folder(out, kind, force, what)
        elif os.path.lexists(out):
            raise OutputError(f"{what} {str(out)!r} appeared while symdnn was writing; "
                              "nothing was written")

    with terminate_as_interrupt():
        try:  # inside the try: a signal held back during mkdir arrives before the yield
            with _signals_blocked():
                os.mkdir(tmp)
            yield tmp
            _fix_modes(tmp)
            if mode is not None:  # replacing an earlier output: keep that folder's mode
                os.chmod(tmp, mode)
            # the marker last: it lists what this command wrote, so that a later --force
            # replaces the folder only while it holds nothing else
            (tmp / MARKER).write_text(json.dumps({"kind": kind, "symdnn": __version__,
                                                  "inventory": _inventory(tmp)}) + "\n",
                                      encoding="utf-8")
            os.chmod(tmp / MARKER, umask_mode("file"))
        except BaseException:
            _remove(tmp)
            raise
        _put(_Placement(tmp, out, "fill" if empty else "folder", unchanged))


@contextmanager
def output_file_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling path (same suffix) for a writer that needs a file name
    (matplotlib's ``savefig``); renamed to ``path`` on success, removed on any error or
    interrupt, so the file at ``path`` is either the old one or the complete new one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with output_file_path(p) as tmp:
    ...     _ = tmp.write_text("done")
    >>> p.read_text()
    'done'
    """
    out = Path(os.fspath(path))
    tmp = out.parent / f".{out.stem}.tmp-{secrets.token_hex(4)}{out.suffix}"
    with terminate_as_interrupt():
        try:
            yield tmp
            os.chmod(tmp, umask_mode("file"))
        except BaseException:
            _remove(tmp)
            raise
        _put(_Placement(tmp, out, "file"))


def check_output_folder(path: str | os.PathLike, kind: str, *, force: bool = False,
                        inputs: Sequence[str | os.PathLike] = (),
                        what: str = "output folder") -> Path:
    """Check, before any work is done, that :func:`output_folder` will accept ``path``;
    returns it. Raises :class:`~symdnn.errors.OutputError` otherwise.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_folder(root / "new", "network").name
    'new'
    >>> _ = (root / "mine.txt").write_text("x")
    >>> check_output_folder(root / "mine.txt", "network")
    Traceback (most recent call last):
    ...
    symdnn.errors.OutputError: output folder '...mine.txt' exists and is not a folder
    """
    out = _resolve(path, what)
    _check_inputs(out, inputs, what)
    _prepare_folder(out, kind, force, what)
    return out


def check_output_file(path: str | os.PathLike, *, force: bool = False,
                      inputs: Sequence[str | os.PathLike] = (),
                      suffixes: Sequence[str] | None = None, what: str = "output file") -> Path:
    """Check that a file can be written at ``path`` without losing data; returns it.

    An existing file is replaced only with ``force``; a folder, a path under a file, or a
    missing parent folder is an error, and so is a suffix outside ``suffixes``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_file(root / "a.csv").name
    'a.csv'
    >>> check_output_file(root, what="--csv")
    Traceback (most recent call last):
    ...
    symdnn.errors.OutputError: --csv '...' is a folder; give a file name
    """
    text = os.fspath(path)
    p = Path(text)
    if p.is_dir():
        raise OutputError(f"{what} {text!r} is a folder; give a file name")
    out = _resolve(path, what)
    _check_inputs(out, inputs, what)
    if suffixes is not None and out.suffix.lower() not in suffixes:
        raise OutputError(f"{what} {text!r}: the file name must end in "
                          f"{' or '.join(suffixes)}")
    if out.is_symlink() or out.exists():
        if not out.is_file():
            raise OutputError(f"{what} {text!r} exists and is not a regular file")
        if not force:
            raise OutputError(f"{what} {text!r} exists; force=True replaces it")
    return out


def atomic_write(path: str | os.PathLike, write: Callable[[io.TextIOBase], None] | bytes, *,
                 compress: bool | None = None) -> None:
    r"""Write a file atomically: to a temporary file in the same folder, then rename.

    ``write`` is called with a UTF-8 text stream (gzipped when ``path`` ends in ``.gz`` or
    ``compress`` says so), or is the file's bytes. A failure part-way (or SIGINT/SIGTERM)
    leaves any previous file untouched and no partial file behind; the file gets the mode
    the umask gives. Whether an existing file may be replaced at all is the caller's decision
    (see :func:`check_output_file`).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> atomic_write(p, lambda fh: fh.write("one\n"))
    >>> atomic_write(p + ".bin", b"\x00\x01")
    >>> open(p).read(), open(p + ".bin", "rb").read(), sorted(os.listdir(os.path.dirname(p)))
    ('one\n', b'\x00\x01', ['a.txt', 'a.txt.bin'])
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise OutputError(f"{path!r} is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    compress = path.endswith(".gz") if compress is None else compress
    with terminate_as_interrupt():
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-",
                                       suffix=os.path.basename(path))
        except OSError as exc:
            raise OutputError(f"cannot write {path!r}: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "wb") as raw:
                if isinstance(write, bytes):
                    raw.write(write)
                elif compress:
                    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
                            io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as fh:
                        write(fh)
                else:
                    with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as fh:
                        write(fh)
            os.chmod(tmp, umask_mode("file"))  # mkstemp makes 0600 whatever the umask
        except BaseException:
            _remove(Path(tmp))
            raise
        _put(_Placement(Path(tmp), Path(path), "file"))


def _hard_link(src: str | os.PathLike, dst: str | os.PathLike) -> bool:
    """Whether ``dst`` could be made a hard link to ``src`` (not on every file system)."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        return False
    return True
