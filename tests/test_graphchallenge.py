"""Graph Challenge files and runs: exact and float runs against the official truth on the
full data and against the truth of tests/data (derived with Fractions by its generator),
readers and writers, errors that name the file and line, and the CLI."""

from __future__ import annotations

import gzip
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from symdnn import ParseError
from symdnn.challenge import run_challenge
from symdnn.cli import main
from symdnn.io import (
    find_challenge_files,
    read_categories,
    read_images,
    read_layer,
    write_categories,
    write_images,
    write_layer,
)
from tests.datafiles import GC_FIXTURE, gc_images, gc_layer


def test_exact_run_matches_the_official_truth(gc_dir):
    r = run_challenge(str(gc_dir), arith="exact", images=1200)
    assert r.images == 1200 and len(r.categories) == 19
    assert r.matches is True
    assert r.categories[:3].tolist() == [287, 295, 386]
    assert {p for ps in r.paths for p in ps.split("+")} <= {"float64", "int64"}


@pytest.mark.parametrize("arith", ["fp64", "fp32"])
def test_fp64_and_fp32_runs_keep_the_categories(gc_dir, arith):
    assert run_challenge(str(gc_dir), arith=arith, images=400).matches is True


def test_subset_truth_files_agree(gc_dir):
    subset = gc_dir / "neuron1024-l120-categories_subset.mtx"
    if not subset.is_file():
        pytest.skip(f"needs {subset.name} (LAGraph's truth for the first 1200 images, "
                    "data/dnn_data) in $SYMDNN_DATA/graphchallenge")
    full = read_categories(gc_dir / "neuron1024-l120-categories.tsv")
    subset = read_categories(subset)
    assert np.array_equal(full[full <= 1200], subset) and len(subset) == 19


def test_exact_run_matches_the_fixture_truth():
    r = run_challenge(str(GC_FIXTURE), layers=12, arith="exact")
    assert r.images == 155 and r.categories.tolist() == [152, 153, 155]
    assert r.matches is True
    assert {p for ps in r.paths for p in ps.split("+")} <= {"float64", "int64"}


@pytest.mark.parametrize("arith", ["fp64", "fp32"])
def test_fp64_and_fp32_runs_keep_the_fixture_categories(arith):
    assert run_challenge(str(GC_FIXTURE), layers=12, arith=arith).matches is True


def test_layer_values_are_read_exactly(gc_data):
    g = read_layer(gc_layer(gc_data, 1), 1024)
    assert g.d == 16 and set(g.N.data.tolist()) == {1}
    assert g.values == {"6.250000e-02": Fraction(1, 16)}
    assert np.all(np.diff(g.N.indptr) == 32)


# ------------------------------------------------------------------ readers and writers
def test_layer_round_trip(tmp_path):
    N = sp.csr_matrix((np.array([1, -3, 5]), ([0, 1, 2], [1, 2, 0])), shape=(3, 3))
    write_layer(tmp_path / "l.tsv.gz", N, 10)
    g = read_layer(tmp_path / "l.tsv.gz", 3)
    assert g.d == 10 and (g.N != N).nnz == 0
    text = gzip.open(tmp_path / "l.tsv.gz", "rt").read()
    assert "2\t3\t-0.3\n" in text  # exact decimal, 1-based


def test_non_decimal_values_are_written_as_fractions(tmp_path):
    write_layer(tmp_path / "l.tsv", sp.csr_matrix(np.array([[1]])), 3)
    assert (tmp_path / "l.tsv").read_text() == "1\t1\t1/3\n"
    assert read_layer(tmp_path / "l.tsv").values == {"1/3": Fraction(1, 3)}


def test_images_and_categories_round_trip(tmp_path):
    M = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0]]))
    write_images(tmp_path / "img.tsv", M)
    assert (read_images(tmp_path / "img.tsv", 3) != M).nnz == 0
    write_categories(tmp_path / "cat.tsv", np.array([5, 2]))
    assert read_categories(tmp_path / "cat.tsv").tolist() == [2, 5]


@pytest.mark.parametrize("text,match", [
    ("1\t2\t0.5\n3\t4\n", r"l\.tsv:2: expected 3 fields"),
    ("1\t2\t0.5\nx\t4\t1\n", r"l\.tsv:2: field 1 is not an integer"),
    ("1\t2\t0.5\n0\t4\t1\n", r"l\.tsv:2: field 1 must be a 1-based index"),
    ("1\t2\t0.5\n2\t2\tabc\n", r"l\.tsv:2: bad value"),
    ("1\t2\t0.5\n\n1\t2\t0.25\n", r"l\.tsv:3: repeated entry \(1, 2\)"),
    ("1\t2\t0.5\n9\t2\t0.25\n", r"l\.tsv:2: index beyond the network width 4"),
])
def test_malformed_layer_lines_name_file_and_line(tmp_path, text, match):
    p = tmp_path / "l.tsv"
    p.write_text(text)
    with pytest.raises(ParseError, match=match):
        read_layer(p, 4)


def test_truncated_gzip_and_missing_file(tmp_path):
    p = tmp_path / "l.tsv.gz"
    p.write_bytes(gzip.compress(b"1\t2\t0.5\n" * 100)[:30])
    with pytest.raises(ParseError, match="l.tsv.gz"):
        read_layer(p)
    with pytest.raises(ParseError, match="cannot read"):
        read_layer(tmp_path / "nope.tsv")


def test_images_must_be_integers(tmp_path):
    p = tmp_path / "img.tsv"
    p.write_text("1\t1\t1\n2\t3\t0.5\n")
    with pytest.raises(ParseError, match=r"img\.tsv:2: image values must be integers"):
        read_images(p, 4)


def test_missing_layer_is_named(tmp_path):
    (tmp_path / "neuron1024").mkdir()
    (tmp_path / "neuron1024" / "n1024-l1.tsv").write_text("1\t1\t1\n")
    with pytest.raises(ParseError, match="layer 2 of 3 is missing"):
        find_challenge_files(tmp_path, 1024, 3)


# ------------------------------------------------------------------ command line
def make_official_layout(folder: Path, truth: Path, out: Path, *, layers: int,
                         images: int) -> Path:
    """The official folder layout over a data folder's layer files and first images."""
    (out / "DNN").mkdir()
    os.symlink(gc_layer(folder, 1).parent, out / "DNN" / "neuron1024")
    (out / "MNIST").mkdir()
    write_images(out / "MNIST" / "sparse-images-1024.tsv",
                 read_images(gc_images(folder), 1024)[:images])
    t = read_categories(truth)
    write_categories(out / "DNN" / f"neuron1024-l{layers}-categories.tsv", t[t <= images])
    return out


@pytest.fixture
def official_layout(gc_dir, tmp_path) -> Path:
    """The official folder layout over the full layer files and the first 300 images."""
    truth = next(p for p in (gc_dir / "neuron1024-l120-categories.tsv",
                             gc_dir / "DNN" / "neuron1024-l120-categories.tsv") if p.is_file())
    return make_official_layout(gc_dir, truth, tmp_path, layers=120, images=300)


@pytest.fixture
def official_fixture_layout(tmp_path) -> Path:
    """The same over the fixture's 12 layers and 155 images."""
    return make_official_layout(GC_FIXTURE, GC_FIXTURE / "neuron1024-l12-categories_subset.tsv",
                                tmp_path, layers=12, images=155)


def test_cli_graph_challenge_match(official_layout, capsys):
    assert main(["graph-challenge", str(official_layout), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "categories (2): 287, 295" in out and "MATCH" in out


def test_cli_graph_challenge_mismatch_exits_1(official_layout, capsys):
    write_categories(official_layout / "DNN" / "neuron1024-l120-categories.tsv",
                     np.array([287, 296]))
    assert main(["graph-challenge", str(official_layout), "--quiet"]) == 1
    assert "MISMATCH: missing [296], extra [295]" in capsys.readouterr().out


def test_cli_graph_challenge_match_on_the_fixture(official_fixture_layout, capsys):
    assert main(["graph-challenge", str(official_fixture_layout), "--layers", "12",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "categories (3): 152, 153, 155" in out and "MATCH" in out


def test_cli_graph_challenge_mismatch_on_the_fixture_exits_1(official_fixture_layout, capsys):
    write_categories(official_fixture_layout / "DNN" / "neuron1024-l12-categories.tsv",
                     np.array([152, 154]))
    assert main(["graph-challenge", str(official_fixture_layout), "--layers", "12",
                 "--quiet"]) == 1
    assert "MISMATCH: missing [154], extra [153, 155]" in capsys.readouterr().out


def test_cli_graph_challenge_bad_folder_exits_2(tmp_path, capsys):
    assert main(["graph-challenge", str(tmp_path / "none")]) == 2
    assert "no such data folder" in capsys.readouterr().err
