"""Certified suites and the RadiX-Net generator: build, verify from the suite's own files,
detect tampering, grade implementations (an output one ulp off is named), stream to disk."""

from __future__ import annotations

import json

import numpy as np
import pytest

from symdnn.cli import main
from symdnn.errors import SymdnnError
from symdnn.generators import default_radices, generate_radixnet, radixnet_layer
from symdnn.suite import build_suite, grade_suite, verify_suite


def test_radixnet_layers_are_regular():
    radices, b = default_radices(1024)
    assert radices == (2,) * 6 and b == 16
    for l in range(8):
        W = radixnet_layer(radices, b, l)
        assert W.shape == (1024, 1024)
        assert set(np.diff(W.indptr)) == {32}  # every neuron feeds 32 ...
        assert set(np.bincount(W.indices, minlength=1024)) == {32}  # ... and reads 32
    # mixed radix: strides 1, 2, ...: layer 1 of radices (2, 2) links j and j + 2 (mod 4)
    assert radixnet_layer((2, 2), 1, 1)[0].indices.tolist() == [0, 2]
    with pytest.raises(SymdnnError, match="cannot make 1000 neurons"):
        default_radices(1000)
    with pytest.raises(SymdnnError, match="power of two"):
        default_radices(48 * 16)


@pytest.fixture(scope="module")
def rx(tmp_path_factory):
    d = tmp_path_factory.mktemp("rx")
    generate_radixnet(d, neurons=1024, layers=6, inputs=8, density=0.5, seed=1)
    return d


@pytest.fixture(scope="module")
def suite(rx, tmp_path_factory):
    return build_suite(rx, tmp_path_factory.mktemp("s") / "suite", neurons=1024, layers=6,
                       formats=("fp64", "fp32", "bf16"))


def test_generated_network_runs_as_a_graph_challenge(rx, capsys):
    assert main(["graph-challenge", str(rx), "--neurons", "1024", "--layers", "6",
                 "--quiet"]) == 3  # no truth file: exit 3
    assert "categories (8)" in capsys.readouterr().out


def test_suite_verifies_from_its_own_files(suite):
    man = json.loads((suite / "manifest.json").read_text())
    # six layers, six other files and the shipped checker (the output marker is not listed)
    assert man["format"] == "symdnn-suite/2" and len(man["files"]) == 6 + 6 + 1
    assert man["values"]["1"] == {"0.0625": "1/16"} and man["values"]["bias1"] == "-3/10"
    check = verify_suite(suite)
    assert check.ok, check.problems
    assert "6 layers recomputed exactly" in check.checked


def test_tampering_is_caught(suite, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(suite, bad)
    path = bad / "network" / "n1024-l3.tsv"
    lines = path.read_text().splitlines()
    lines[0] = lines[0].rsplit("\t", 1)[0] + "\t0.125"
    path.write_text("\n".join(lines) + "\n")
    check = verify_suite(bad)
    assert not check.ok
    assert any("n1024-l3.tsv: sha256 differs" in p for p in check.problems)
    assert any("expected/exact.tsv" in p for p in check.problems)  # recomputation differs too


def test_an_output_one_ulp_off_is_named(suite, tmp_path):
    lines = (suite / "expected" / "fp32.tsv").read_text().splitlines()
    rows = [ln.split("\t")[:3] for ln in lines]
    i = len(rows) // 3
    v = np.float32(float.fromhex(rows[i][2]))
    rows[i][2] = float(np.nextafter(v, np.float32(np.inf))).hex()
    res = tmp_path / "r.tsv"
    res.write_text("".join("\t".join(r) + "\n" for r in rows))
    g = grade_suite(suite, res, fmt="fp32")
    assert not g.ok and len(g.off) == 1
    assert (g.off[0]["image"], g.off[0]["neuron"], g.off[0]["ulps"]) == \
        (int(rows[i][0]), int(rows[i][1]), 1)
    good = tmp_path / "ok.tsv"
    good.write_text("".join("\t".join(r[:3]) + "\n" for r in
                            (ln.split("\t") for ln in lines)))
    assert grade_suite(suite, good, fmt="fp32").ok
    assert grade_suite(suite, good, fmt="fp32", max_ulp=0).ok


def test_exact_grading_and_the_cli(suite, tmp_path, capsys):
    exact = suite / "expected" / "exact.tsv"
    assert main(["suite", "grade", str(suite), str(exact)]) == 0
    lines = exact.read_text().splitlines()
    img, neu, val = lines[0].split("\t")
    lines[0] = f"{img}\t{neu}\t{val}1"  # a different rational
    (tmp_path / "r.tsv").write_text("\n".join(lines) + "\n")
    assert main(["suite", "grade", str(suite), str(tmp_path / "r.tsv")]) == 1
    assert f"image {img}, neuron {neu}" in capsys.readouterr().out
    assert main(["suite", "verify", str(suite), "--quiet"]) == 0


def test_suite_from_a_built_word_network(tmp_path):
    assert main(["build", "--builtin", "words2", "--beta", "3/10", "--out",
                 str(tmp_path / "n")]) == 0
    s = build_suite(tmp_path / "n", tmp_path / "suite")
    assert (s / "thresholds.csv").is_file() and (s / "network" / "keys-l1.tsv").is_file()
    check = verify_suite(s)
    assert check.ok and "74 thresholds" in check.checked
    keys = (s / "network" / "keys-l1.tsv").read_text().splitlines()
    assert keys[0] == '1\t"ad"'


def test_suite_build_is_atomic(tmp_path):
    from symdnn import ParseError

    with pytest.raises(ParseError):
        build_suite(tmp_path / "missing", tmp_path / "suite", neurons=1024, layers=2)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_generator_streams_layers(tmp_path):
    seen = []
    generate_radixnet(tmp_path, neurons=1024, layers=3, inputs=2,
                      progress=lambda l, L: seen.append((l, L)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert len(list((tmp_path / "DNN" / "neuron1024").iterdir())) == 3
