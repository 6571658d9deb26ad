"""The VNN-COMP 2023, 2024 and 2025 data sets of ``symdnn data``: their registry rows, made
from the selection's MANIFEST (:func:`symdnn.data.registry.manifest_rows`), and ``symdnn data
fetch vnncomp-<year> --from DIR``, offline, checked by sha256.

The copies are made from real files: the 2025 ``2025_test`` benchmark's network and property
are byte for byte the competition's test category that ``tests/data`` ships, so the fetch is
checked against the real registry rows with no download and no ``$SYMDNN_DATA``. Where
``$SYMDNN_DATA`` holds the selection (``symdnn data fetch vnncomp-2023 vnncomp-2024
vnncomp-2025``), every file there is checked against the registry too, and the referee replays
what the fetch wrote. Expected digests come from :mod:`hashlib`, never from symdnn's checks.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from symdnn.cli import main
from symdnn.data import DATASETS, Dataset, dataset_path
from symdnn.data.registry import VNNCOMP_YEARS, manifest_rows
from symdnn.errors import DataError
from tests.datafiles import FIXTURES, fetch_hint, full_root

YEARS = [f"vnncomp-{y}" for y in VNNCOMP_YEARS]
#: files per year (benchmarks and results), and how many are counterexamples
FILES = {"vnncomp-2023": (1434, 1167), "vnncomp-2024": (929, 700), "vnncomp-2025": (892, 713)}
TEST_CATEGORY = FIXTURES / "vnncomp" / "benchmarks" / "test"
# the 2025_test benchmark's files that are also the fixtures' test category, unchanged
SAME_AS_FIXTURE = {"benchmarks/2025_test/onnx/test_sat.onnx": TEST_CATEGORY / "test_sat.onnx",
                   "benchmarks/2025_test/vnnlib/test_prop.vnnlib":
                       TEST_CATEGORY / "test_prop.vnnlib"}


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _only(monkeypatch, name: str, inner: set[str]) -> Dataset:
    """Data set ``name`` cut down to the rows whose path inside its folder is in ``inner``."""
    ds = DATASETS[name]
    files = tuple(f for f in ds.files if f.path.removeprefix(ds.folder + "/") in inner)
    assert len(files) == len(inner), sorted(inner)
    cut = Dataset(ds.name, ds.folder, ds.title, ds.source, ds.licence, files)
    monkeypatch.setitem(DATASETS, name, cut)
    return cut


def _fetch(*args: str) -> int:
    return main(["data", "fetch", *args, "--quiet"])


# ------------------------------------------------------------------ the registry rows

class TestRegistry:
    def test_three_years_each_in_its_folder(self, tmp_path):
        for name in YEARS:
            ds = DATASETS[name]
            year = name.rsplit("-", 1)[1]
            assert ds.folder == f"vnncomp-2023-2025/{year}"
            assert dataset_path(name, tmp_path) == tmp_path / "vnncomp-2023-2025" / year
            n, ces = FILES[name]
            assert len(ds.files) == n
            assert sum(".counterexample" in f.name for f in ds.files) == ces
            tops = {f.path.split("/")[2] for f in ds.files}
            assert tops == {"benchmarks", "results"}, tops

    def test_every_row_has_a_pinned_url_a_sha256_and_a_size(self):
        url = re.compile(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+$")
        for name in YEARS:
            for f in DATASETS[name].files:
                assert url.match(f.url), f.url
                assert [k for k, _ in f.checks] == ["sha256"] and f.kind == "file", f
                assert f.size is not None and f.size > 0, f
                assert f.path.startswith(DATASETS[name].folder + "/"), f

    def test_sizes(self):
        assert [DATASETS[n].size for n in YEARS] == [23850706, 10561041, 4685213]

    def test_the_files_shared_with_the_fixtures_have_the_fixtures_sha256(self):
        ds = DATASETS["vnncomp-2025"]
        by_path = {f.path.removeprefix(ds.folder + "/"): f for f in ds.files}
        for inner, fixture in SAME_AS_FIXTURE.items():
            f = by_path[inner]
            assert dict(f.checks)["sha256"] == _sha(fixture)
            assert f.size == fixture.stat().st_size

    def test_listed(self, monkeypatch, tmp_path, capsys):
        monkeypatch.setenv("SYMDNN_DATA", str(tmp_path))
        assert main(["data", "list", "--json"]) == 0
        rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["datasets"]}
        for name in YEARS:
            assert rows[name]["status"] == "no"
            assert rows[name]["files"] == FILES[name][0]
            assert rows[name]["where"] == str(dataset_path(name, tmp_path))


class TestManifestRows:
    HEAD = "local_path\tsha256\tbytes\tsource(repo@commit:path)\r\n"
    SHA = "0f" * 32

    def test_a_row(self):
        text = (self.HEAD + f"2024/results/cora/2024_x/a=1_b.counterexample.gz\t{self.SHA}\t9\t"
                "ChristopherBrix/vnncomp2024_results@" + "c" * 40 +
                ":cora/x/a=1 b!.counterexample.gz\r\n\r\n")
        (row,) = manifest_rows(text)
        assert row.split("\t") == [
            "vnncomp-2024", "vnncomp-2023-2025/2024/results/cora/2024_x/a=1_b.counterexample.gz",
            "https://raw.githubusercontent.com/ChristopherBrix/vnncomp2024_results/" + "c" * 40
            + "/cora/x/a=1%20b!.counterexample.gz", "9", f"sha256:{self.SHA}", "-", "file"]

    @pytest.mark.parametrize("line", [
        "2024/a\tabc\t9\to/r@c:p",                      # sha256 too short
        f"2022/a\t{'0f' * 32}\t9\to/r@c:p",              # not a year of the selection
        f"2024/a\t{'0f' * 32}\tnine\to/r@c:p",           # size
        f"2024/a\t{'0f' * 32}\t9\tnowhere",              # source
        f"2024/a\t{'0f' * 32}\t9",                       # three fields
    ])
    def test_malformed_lines_are_refused_naming_the_line(self, line):
        with pytest.raises(DataError, match="MANIFEST.tsv:2"):
            manifest_rows(self.HEAD + line + "\n")

    def test_the_rows_are_those_of_the_registry_file(self):
        """The registry's rows, written back as a manifest, give the registry's rows again."""
        for name in YEARS:
            ds = DATASETS[name]
            lines = [self.HEAD]
            for f in ds.files[:5] + ds.files[-5:]:
                repo_commit_path = f.url.removeprefix("https://raw.githubusercontent.com/")
                owner, repo, commit, path = repo_commit_path.split("/", 3)
                lines.append("\t".join([f.path.removeprefix("vnncomp-2023-2025/"),
                                        dict(f.checks)["sha256"], str(f.size),
                                        f"{owner}/{repo}@{commit}:{path}"]) + "\n")
            rows = manifest_rows("".join(lines))
            want = ["\t".join([f.dataset, f.path, f.url, str(f.size),
                               f"sha256:{dict(f.checks)['sha256']}", "-", f.kind])
                    for f in ds.files[:5] + ds.files[-5:]]
            assert rows == want


# ------------------------------------------------------------------ fetch --from, offline

def _mirror(tmp_path: Path, files: dict[str, Path], *, under: str) -> Path:
    """A folder laid out as a copy of a data set: ``under/<path inside the data set>``."""
    mirror = tmp_path / "mirror"
    for inner, src in files.items():
        dst = mirror / under / inner
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return mirror


class TestFetchFrom:
    def test_from_a_mirror_with_the_real_rows(self, monkeypatch, tmp_path, capsys):
        _only(monkeypatch, "vnncomp-2025", set(SAME_AS_FIXTURE))
        mirror = _mirror(tmp_path, SAME_AS_FIXTURE, under="2025")  # the year's own layout
        root = tmp_path / "root"
        assert _fetch("vnncomp-2025", "--from", str(mirror), "--to", str(root)) == 0
        assert capsys.readouterr().out.strip() == str(root / "vnncomp-2023-2025" / "2025")
        for inner, src in SAME_AS_FIXTURE.items():
            got = root / "vnncomp-2023-2025" / "2025" / inner
            assert got.read_bytes() == src.read_bytes()
        # fetched again: checked and kept
        assert _fetch("vnncomp-2025", "--from", str(mirror), "--to", str(root)) == 0

    def test_a_tampered_file_is_refused_and_not_put_in_place(self, monkeypatch, tmp_path,
                                                             capsys):
        _only(monkeypatch, "vnncomp-2025", set(SAME_AS_FIXTURE))
        mirror = _mirror(tmp_path, SAME_AS_FIXTURE, under="vnncomp-2023-2025/2025")
        prop = mirror / "vnncomp-2023-2025/2025/benchmarks/2025_test/vnnlib/test_prop.vnnlib"
        text = prop.read_bytes()
        prop.write_bytes(text.replace(b"0", b"1", 1))  # same size, one digit changed
        assert len(prop.read_bytes()) == len(text) and _sha(prop) != _sha(
            SAME_AS_FIXTURE["benchmarks/2025_test/vnnlib/test_prop.vnnlib"])
        root = tmp_path / "root"
        assert _fetch("vnncomp-2025", "--from", str(mirror), "--to", str(root)) == 2
        err = capsys.readouterr().err
        assert "test_prop.vnnlib" in err and "sha256" in err
        assert not (root / "vnncomp-2023-2025/2025/benchmarks/2025_test/vnnlib/"
                    "test_prop.vnnlib").exists()

    def test_a_wrong_file_at_its_path_then_the_right_one_found_by_name(self, monkeypatch,
                                                                       tmp_path):
        """Regression: the copy is searched by name only after the file at the registry path
        has failed, and that search still finds the right file."""
        _only(monkeypatch, "vnncomp-2025", set(SAME_AS_FIXTURE))
        mirror = _mirror(tmp_path, SAME_AS_FIXTURE, under="vnncomp-2023-2025/2025")
        onnx = mirror / "vnncomp-2023-2025/2025/benchmarks/2025_test/onnx/test_sat.onnx"
        onnx.write_bytes(b"not the network")
        other = mirror / "elsewhere" / "test_sat.onnx"
        other.parent.mkdir()
        shutil.copyfile(SAME_AS_FIXTURE["benchmarks/2025_test/onnx/test_sat.onnx"], other)
        root = tmp_path / "root"
        assert _fetch("vnncomp-2025", "--from", str(mirror), "--to", str(root)) == 0
        got = root / "vnncomp-2023-2025/2025/benchmarks/2025_test/onnx/test_sat.onnx"
        assert got.read_bytes() == other.read_bytes()

    def test_a_missing_file_is_named(self, monkeypatch, tmp_path, capsys):
        _only(monkeypatch, "vnncomp-2025", set(SAME_AS_FIXTURE))
        mirror = _mirror(tmp_path, {k: v for k, v in SAME_AS_FIXTURE.items()
                                    if k.endswith(".onnx")}, under="2025")
        assert _fetch("vnncomp-2025", "--from", str(mirror), "--to", str(tmp_path / "r")) == 2
        assert "test_prop.vnnlib" in capsys.readouterr().err


# ------------------------------------------------------------------ the real selection

def _selection(name: str) -> Path:
    """The year's folder in ``$SYMDNN_DATA``, or skip naming the fetch command."""
    root = full_root()
    folder = dataset_path(name, root) if root is not None else None
    if folder is None or not folder.is_dir():
        pytest.skip(fetch_hint(DATASETS[name].folder))
    return folder


@pytest.mark.parametrize("name", YEARS)
def test_the_fetched_selection_matches_the_registry(name):
    folder = _selection(name)
    root = folder.parents[1]
    files = DATASETS[name].files
    here = {p.relative_to(root).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {f.path for f in files} <= here, "a registry file is missing: fetch it again"
    for f in files:
        assert _sha(root / f.path) == dict(f.checks)["sha256"], f.path


def test_the_referee_reads_what_fetch_copies(monkeypatch, tmp_path, capsys):
    """A few real 2025 files, fetched from a mirror (so each passes the registry's sha256),
    then replayed by ``symdnn witness`` from the data root."""
    folder = _selection("vnncomp-2025")
    ces = sorted((folder / "results").glob("*/2025_test/*.counterexample*"))
    files = {p.relative_to(folder).as_posix(): p for p in ces}
    files.update(SAME_AS_FIXTURE)
    _only(monkeypatch, "vnncomp-2025", set(files))
    mirror = _mirror(tmp_path, files, under="2025")
    root = tmp_path / "root"
    assert _fetch("vnncomp-2025", "--from", str(mirror), "--to", str(root)) == 0
    year = root / "vnncomp-2023-2025" / "2025"
    capsys.readouterr()
    code = main(["witness", "--results", str(year / "results"), "--benchmarks",
                 str(year / "benchmarks"), "--no-onnxruntime", "--json",
                 str(tmp_path / "w.json"), "--quiet"])
    doc = json.loads((tmp_path / "w.json").read_text())
    assert doc["counterexamples"] == len(ces) > 0 and doc["errors"] == 0, doc["rows"]
    assert code in (0, 1)
