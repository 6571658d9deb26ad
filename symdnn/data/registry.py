"""The registry of the real data sets symdnn works on: where each file comes from, what it
must look like, and where it lives once fetched.

Each data set is a list of :class:`DataFile` rows of the package file ``registry.tsv``
(its header says where every checksum comes from). The data root is ``$SYMDNN_DATA`` when
set, else pooch's OS cache for symdnn (``~/.cache/symdnn`` on Linux); every file lives
under the root at its registry ``path``, which is also the layout symdnn's commands read:
``graphchallenge/`` is a Graph Challenge data folder, ``vnncomp/benchmarks/<category>`` and
``vnncomp/results`` are what ``symdnn witness`` reads, and ``vnncomp-2023-2025/<year>`` holds a
year's ``benchmarks/`` and ``results/`` (the VNN-COMP 2023, 2024 and 2025 selection).

The rows of that selection are made from its ``MANIFEST.tsv`` by :func:`manifest_rows`
(``tools/make_registry_vnncomp.py``); ``registry.tsv`` is what symdnn reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from symdnn.errors import DataError

__all__ = ["DataFile", "Dataset", "DATASETS", "data_root", "dataset_path", "dataset",
           "is_fetched", "CHECKS", "KINDS", "DataListing", "listing", "manifest_rows",
           "VNNCOMP_YEARS"]

#: The checksum kinds a registry row may name.
CHECKS = ("sha256", "md5", "gunzip-sha256", "gunzip-gitblob")
#: The format checks a registry row may name.
KINDS = ("file", "gc-network", "gc-images", "gc-truth", "idx")


@dataclass(frozen=True)
class DataFile:
    """One file of the registry.

    Attributes
    ----------
    dataset : str
        The data set it belongs to.
    path : str
        Where it lives under the data root (``/``-separated).
    url : str
        Where it is downloaded from.
    size : int or None
        Its size in bytes, when known.
    checks : tuple of (str, str)
        ``(kind, hex digest)`` pairs (see :data:`CHECKS`); empty when no checksum is known.
    lines : int or None
        The number of lines of its (gunzipped) text, when known.
    kind : str
        The format it must have on arrival (see :data:`KINDS`).

    Examples
    --------
    >>> f = dataset("graphchallenge-1024").files[-1]
    >>> f.name, f.lines, f.verified_by
    ('neuron1024-l1920-categories.tsv', 1812, 'gc-truth format, 1812 lines')
    """

    dataset: str
    path: str
    url: str
    size: int | None
    checks: tuple[tuple[str, str], ...]
    lines: int | None
    kind: str

    @property
    def name(self) -> str:
        """The file name (the last part of :attr:`path`)."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def verified_by(self) -> str:
        """What decides that the file is the right one, in words."""
        if self.checks:
            return ", ".join(k for k, _ in self.checks)
        return f"{self.kind} format" + (f", {self.lines} lines" if self.lines else "")


@dataclass(frozen=True)
class Dataset:
    """A named data set: its files, where it is read from, and what it is.

    Attributes
    ----------
    name : str
        What ``symdnn data fetch NAME`` takes.
    folder : str
        The folder under the data root that commands read (``symdnn data path NAME``).
    title, source, licence : str
        One line each, for ``symdnn data list`` and the docs.
    files : tuple of DataFile

    Examples
    --------
    >>> ds = dataset("vnncomp-acasxu")
    >>> ds.folder, len(ds.files), ds.size
    ('vnncomp/benchmarks/acasxu', 56, 2316268)
    """

    name: str
    folder: str
    title: str
    source: str
    licence: str
    files: tuple[DataFile, ...]

    @property
    def size(self) -> int | None:
        """The total size in bytes, or None when the registry does not know every size."""
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(sizes)  # type: ignore[misc]


_GC = ("the MIT/IEEE Sparse DNN Graph Challenge (graphchallenge.mit.edu)",
       "as published by the Graph Challenge")
_VNN = ("as published in the VNN-COMP repositories (github.com/ChristopherBrix/"
        "vnncomp2022_benchmarks, vnncomp2022_results; stanleybak/vnncomp2021)")
#: The VNN-COMP years of the selection ``vnncomp-2023-2025`` (data sets ``vnncomp-<year>``).
VNNCOMP_YEARS = (2023, 2024, 2025)
#: Where that selection lives under the data root: one folder per year, each holding the
#: competition's ``benchmarks/<category>/{onnx,vnnlib}`` and ``results/<tool>/<category>``.
VNNCOMP_SELECTION = "vnncomp-2023-2025"
_VNN_NEW = ("as published in the VNN-COMP repositories of each year (github.com/ChristopherBrix/"
            "vnncomp20{22,23,24}_benchmarks, vnncomp20{23,24}_results, VNN-COMP/"
            "vnncomp2025_results) and, for the 2025 benchmarks, hlecates/artifact-ijcar26-luna; "
            "each benchmark under its authors' licence")
_ABOUT = {
    **{f"graphchallenge-{n}": ("graphchallenge",
                               f"Graph Challenge network of {n} neurons (1920 layers), its "
                               "60000 inputs and the truth for 120, 480 and 1920 layers", *_GC)
       for n in (1024, 4096, 16384, 65536)},
    "mnist": ("mnist", "MNIST test set: 10000 images and labels (IDX, gzip)",
              "Y. LeCun, C. Cortes, C. Burges (yann.lecun.com/exdb/mnist), via a mirror",
              "CC BY-SA 3.0, as stated by its authors"),
    "vnncomp-acasxu": ("vnncomp/benchmarks/acasxu",
                       "VNN-COMP ACAS Xu: 45 networks, 10 properties", "VNN-COMP 2022", _VNN),
    "vnncomp-mnist_fc": ("vnncomp/benchmarks/mnist_fc",
                         "VNN-COMP mnist_fc: 3 networks, 30 properties", "VNN-COMP 2022",
                         _VNN),
    "vnncomp-test": ("vnncomp/benchmarks/test",
                     "VNN-COMP test networks with known answers", "VNN-COMP 2021", _VNN),
    "vnncomp-results": ("vnncomp/results",
                        "every tool's VNN-COMP 2022 results and counterexamples for acasxu "
                        "and mnist_fc", "VNN-COMP 2022", _VNN),
    **{f"vnncomp-{y}": (f"{VNNCOMP_SELECTION}/{y}", title, f"VNN-COMP {y}", _VNN_NEW)
       for y, title in (
           (2023, "VNN-COMP 2023 selection: 12 benchmarks (convolutional and ResNet, "
                  "Sigmoid, fully connected), 1167 counterexample files"),
           (2024, "VNN-COMP 2024 selection: 5 benchmarks (Concat, Slice, Gather, Transpose, "
                  "Sigmoid, fully connected), 700 counterexample files"),
           (2025, "VNN-COMP 2025 selection: 6 benchmarks (convolutional, fully connected), "
                  "713 counterexample files"))},
}


def _parse_checks(text: str, where: str) -> tuple[tuple[str, str], ...]:
    if text == "-":
        return ()
    out = []
    for item in text.split(","):
        kind, _, digest = item.partition(":")
        if kind not in CHECKS or not digest:
            raise DataError(f"{where}: unknown check {item!r}")
        out.append((kind, digest.lower()))
    return tuple(out)


def manifest_rows(manifest: str, *, folder: str = VNNCOMP_SELECTION) -> list[str]:
    r"""The ``registry.tsv`` rows of a VNN-COMP selection, from the text of its ``MANIFEST.tsv``.

    The manifest has a header line, then one file a line: ``local_path``, ``sha256``,
    ``bytes`` and ``source``, tab-separated, where ``local_path`` starts with the year and
    ``source`` is ``owner/repo@commit:path`` in a public GitHub repository. Each becomes a row
    of data set ``vnncomp-<year>`` at ``<folder>/<local_path>`` under the data root,
    downloaded from ``raw.githubusercontent.com`` at that commit, checked by its sha256 and
    size, kind ``file``. ``tools/make_registry_vnncomp.py`` writes the rows of the registry
    this way (checking the copy's files against the manifest first); symdnn itself never
    reads a manifest.

    Raises
    ------
    DataError
        For a line that is not four fields, a year that is not one of :data:`VNNCOMP_YEARS`,
        a malformed sha256, size or source, naming the line.

    Examples
    --------
    >>> text = ("local_path\tsha256\tbytes\tsource(repo@commit:path)\r\n"
    ...         "2025/results/nnenum/2025_test/t_p.counterexample.gz\t" + "ab" * 32 +
    ...         "\t70\tVNN-COMP/vnncomp2025_results@7a4d1ff:nnenum/2025_test/t_p."
    ...         "counterexample.gz\r\n")
    >>> print(manifest_rows(text)[0].replace("\t", "\n"))  # doctest: +ELLIPSIS
    vnncomp-2025
    vnncomp-2023-2025/2025/results/nnenum/2025_test/t_p.counterexample.gz
    https://raw.githubusercontent.com/VNN-COMP/vnncomp2025_results/7a4d1ff/nnenum/2025_test/t_p.counterexample.gz
    70
    sha256:abab...abab
    -
    file
    """
    rows = []
    lines = manifest.splitlines()
    for i, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        where = f"MANIFEST.tsv:{i}"
        fields = line.split("\t")
        if len(fields) != 4:
            raise DataError(f"{where}: {len(fields)} fields, not 4")
        local, sha, size, source = fields
        year = local.split("/", 1)[0]
        repo, _, rest = source.partition("@")
        commit, _, path = rest.partition(":")
        if (year not in {str(y) for y in VNNCOMP_YEARS} or len(sha) != 64
                or not size.isdigit() or repo.count("/") != 1 or not commit or not path):
            raise DataError(f"{where}: not a file of a VNN-COMP year with its sha256, size "
                            f"and source: {line!r}")
        int(sha, 16)
        url = f"https://raw.githubusercontent.com/{repo}/{commit}/{quote(path, safe='/!=')}"
        rows.append("\t".join([f"vnncomp-{year}", f"{folder}/{local}", url, size,
                               f"sha256:{sha.lower()}", "-", "file"]))
    return rows


def _load() -> dict[str, Dataset]:
    text = resources.files(__package__).joinpath("registry.tsv").read_text(encoding="utf-8")
    files: dict[str, list[DataFile]] = {name: [] for name in _ABOUT}
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        where = f"registry.tsv:{i}"
        ds, path, url, size, checks, lines, kind = line.split("\t")
        if ds not in files or kind not in KINDS:
            raise DataError(f"{where}: unknown data set {ds!r} or kind {kind!r}")
        files[ds].append(DataFile(ds, path, url, None if size == "-" else int(size),
                                  _parse_checks(checks, where),
                                  None if lines == "-" else int(lines), kind))
    return {name: Dataset(name, about[0], about[1], about[2], about[3], tuple(files[name]))
            for name, about in _ABOUT.items()}


#: Every data set symdnn knows, by name.
DATASETS: dict[str, Dataset] = _load()


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder data sets are fetched into and read from.

    ``root`` when given, else ``$SYMDNN_DATA`` when set, else pooch's OS cache for symdnn.

    Examples
    --------
    >>> data_root("/elsewhere")
    PosixPath('/elsewhere')
    """
    if root is not None:
        return Path(root)
    env = os.environ.get("SYMDNN_DATA")
    if env:
        return Path(env)
    import pooch

    return Path(pooch.os_cache("symdnn"))


def dataset(name: str) -> Dataset:
    """The data set called ``name``.

    Raises
    ------
    DataError
        For a name the registry does not have (the message lists those it has).

    Examples
    --------
    >>> ds = dataset("vnncomp-test")
    >>> ds.folder, len(ds.files), ds.files[0].name
    ('vnncomp/benchmarks/test', 11, 'README.md')
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"no data set {name!r}; known: {', '.join(DATASETS)}") from None


def dataset_path(name: str, root: str | os.PathLike | None = None) -> Path:
    """Where data set ``name`` lives under the data root (whether fetched or not): the folder
    symdnn's commands take.

    Examples
    --------
    >>> dataset_path("graphchallenge-1024", "/data")
    PosixPath('/data/graphchallenge')
    >>> dataset_path("vnncomp-results", "/data")
    PosixPath('/data/vnncomp/results')
    """
    return data_root(root) / dataset(name).folder


def is_fetched(f: DataFile, root: str | os.PathLike | None = None) -> bool:
    """Whether file ``f`` is in place under the root (a network archive: unpacked).

    This looks only at what is there; :func:`symdnn.data.fetch` checks the contents.

    Examples
    --------
    >>> import tempfile
    >>> is_fetched(dataset("mnist").files[0], tempfile.mkdtemp())
    False
    """
    target = data_root(root) / f.path
    if f.kind == "gc-network":
        return (target.parent / _network_folder(f) / FETCHED_MARK).is_file()
    return target.is_file()


#: The file written into an unpacked network folder once every layer is in place.
FETCHED_MARK = ".symdnn-fetched.json"


def _network_folder(f: DataFile) -> str:
    """``neuron1024`` for ``.../neuron1024.tar.gz``."""
    return f.name.removesuffix(".tar.gz")


def _size(n: int | None) -> str:
    """A size for people: ``"?"`` when unknown, else B, kB, MB or GB."""
    if n is None:
        return "?"
    x = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if x < 1000 or unit == "GB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1000
    return f"{n} B"  # unreachable


@dataclass
class DataListing:
    """Every data set of the registry, with whether its files are in place (see
    :func:`listing`).

    Attributes
    ----------
    root : Path
        The data root looked at.
    rows : list of dict
        Per data set: ``name``, ``size``, ``files``, ``fetched`` (how many are in place),
        ``status`` (``fetched``, ``partly`` or ``no``), ``where``, ``source``, ``title``,
        ``licence``.
    chosen : bool
        The root was given (not taken from ``$SYMDNN_DATA`` or the cache).

    Examples
    --------
    >>> import tempfile
    >>> ls = listing(tempfile.mkdtemp())
    >>> sorted(ls.to_json()), ls.summary().splitlines()[1].split()[:3]
    (['datasets', 'root'], ['name', 'size', 'fetched'])
    """

    root: Path
    rows: list[dict] = field(default_factory=list)
    chosen: bool = False

    def to_json(self) -> dict:
        """``root`` and ``datasets`` (the rows)."""
        return {"root": str(self.root), "datasets": self.rows}

    def summary(self) -> str:
        """The root, then a table: name, size, fetched, source, and on a second line where."""
        lines = [f"data root: {self.root}"
                 + ("" if self.chosen else "  (set SYMDNN_DATA to change it)"),
                 f"{'name':<21} {'size':>9} {'fetched':>9}  source / where"]
        for r in self.rows:
            got = r["status"] if r["status"] != "partly" else f"{r['fetched']}/{r['files']}"
            lines.append(f"{r['name']:<21} {_size(r['size']):>9} {got:>9}  {r['source']}")
            lines.append(f"{'':<21} {'':>9} {'':>9}  {r['where']}")
        lines.append("sizes '?': the registry does not know every size; the files are checked "
                     "by format and line count on arrival")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """One table row per data set."""
        rows = [f"| {r['name']} | {_size(r['size'])} | {r['status']} | {r['source']} | "
                f"{r['where']} |" for r in self.rows]
        return "\n".join(["# symdnn data", "", f"data root: {self.root}", "",
                          "| name | size | fetched | source | where |", "|---|---|---|---|---|",
                          *rows, ""])


def listing(root: str | os.PathLike | None = None) -> DataListing:
    """Every data set of the registry: its size and source, how many of its files are in
    place under the data root, and the folder symdnn's commands read.

    Examples
    --------
    >>> import tempfile
    >>> ls = listing(tempfile.mkdtemp())
    >>> ls.rows[0]["name"], ls.rows[0]["status"]
    ('graphchallenge-1024', 'no')
    """
    where = data_root(root)
    rows = []
    for ds in DATASETS.values():
        have = sum(is_fetched(f, where) for f in ds.files)
        rows.append({"name": ds.name, "size": ds.size, "files": len(ds.files),
                     "fetched": have, "status": "fetched" if have == len(ds.files) else
                     ("partly" if have else "no"), "where": str(dataset_path(ds.name, where)),
                     "source": ds.source, "title": ds.title, "licence": ds.licence})
    return DataListing(where, rows, chosen=root is not None and os.fspath(root) != "")
