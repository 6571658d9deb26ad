"""Certificates anyone can check (issue 12): a suite's manifest covers every byte, both
verifiers (symdnn's and the shipped standard-library check.py) reject each tampering, and the
shipped checker's rounding agrees bit for bit with the test oracle (tests/oracle.py), which
shares no code with it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import oracle
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symdnn.cli import main
from symdnn.errors import ParseError
from symdnn.suite import root_digest, verify_suite
from symdnn.suite.build import CHECKER
from symdnn.suite.integrity import canonical_json
from tests.shipped import checker_module

CHECK = checker_module("shipped_check")


@pytest.fixture
def suite(tmp_path) -> Path:
    assert main(["build", "--builtin", "words2", "--beta", "3/10", "--out",
                 str(tmp_path / "net")]) == 0
    assert main(["suite", "build", str(tmp_path / "net"), "--out", str(tmp_path / "s"),
                 "--formats", "fp32,fp16,bf16,fp8_e4m3", "--quiet"]) == 0
    return tmp_path / "s"


def _rehash(suite: Path, rel: str) -> None:
    man = json.loads((suite / "manifest.json").read_text())
    man["files"][rel] = hashlib.sha256((suite / rel).read_bytes()).hexdigest()
    (suite / "manifest.json").write_bytes(canonical_json(man))


def _shipped(suite: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "check.py"], cwd=suite, capture_output=True,
                          text=True, check=False)


def test_a_fresh_suite_passes_both_verifiers(suite, capsys):
    proc = _shipped(suite)
    assert proc.returncode == 0 and proc.stdout.startswith("VERIFIED"), proc.stdout
    check = verify_suite(suite)
    assert check.ok and check.checker["verdict"] == "VERIFIED", check.problems
    digest = root_digest(suite)
    assert main(["suite", "verify", str(suite), "--digest", digest, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "symdnn: VERIFIED" in out and "check.py: VERIFIED" in out


def test_the_shipped_checker_imports_only_the_standard_library():
    text = CHECKER.read_text()
    mods = {line.split()[1].split(".")[0] for line in text.splitlines()
            if line.startswith(("import ", "from "))}
    assert mods <= {"argparse", "hashlib", "json", "os", "re", "stat", "sys", "fractions"}
    assert len(text.splitlines()) <= 700


def test_attack_format_dropped_then_its_file_altered_and_rehashed(suite):
    man = json.loads((suite / "manifest.json").read_text())
    man["parameters"]["formats"].remove("fp16")
    (suite / "manifest.json").write_bytes(canonical_json(man))
    p = suite / "expected" / "fp16.tsv"
    p.write_text(p.read_text().replace("0x1", "0x0", 1))
    _rehash(suite, "expected/fp16.tsv")
    # the manifest contradicts itself (it lists an expected file its formats do not name):
    # it cannot be read, by either verifier
    with pytest.raises(ParseError, match="expected/fp16.tsv"):
        verify_suite(suite)
    assert _shipped(suite).returncode == 2


def test_attack_values_map_falsified(suite):
    man = json.loads((suite / "manifest.json").read_text())
    first = next(iter(man["values"]["1"]))
    man["values"]["1"][first] = "7/9"
    (suite / "manifest.json").write_bytes(canonical_json(man))
    check = verify_suite(suite, checker=False)
    assert any("values[1]" in q for q in check.problems)
    proc = _shipped(suite)
    assert proc.returncode == 1 and "the manifest says" in proc.stdout


def test_attack_path_outside_the_suite(suite):
    man = json.loads((suite / "manifest.json").read_text())
    man["files"]["../../../../../../etc/hostname"] = hashlib.sha256(
        Path("/etc/hostname").read_bytes()).hexdigest() if Path("/etc/hostname").exists() \
        else "0" * 64
    (suite / "manifest.json").write_bytes(canonical_json(man))
    check = verify_suite(suite)
    assert any("a path outside the suite" in q for q in check.problems)
    assert _shipped(suite).returncode == 1


def test_recorded_digest_catches_a_rewritten_manifest(suite, capsys):
    digest = root_digest(suite)
    p = suite / "expected" / "bf16.tsv"
    p.write_text(p.read_text() + "")  # unchanged bytes: still verified
    man = json.loads((suite / "manifest.json").read_text())
    man["created"] = "2000-01-01T00:00:00Z"  # any edit at all, consistently re-canonicalised
    (suite / "manifest.json").write_bytes(canonical_json(man))
    assert verify_suite(suite).ok  # self-consistent ...
    assert main(["suite", "verify", str(suite), "--digest", digest, "--quiet"]) == 1
    assert "root digest" in capsys.readouterr().out  # ... but not the suite recorded


@pytest.mark.parametrize("edit, words", [
    (lambda s: (s / "extra.txt").write_text("x"), "extra.txt: in the folder but not in"),
    (lambda s: (s / "categories.tsv").unlink(), "categories.tsv: listed in the manifest but "
                                                 "missing"),
    (lambda s: ((s / "inputs.tsv").unlink(), (s / "inputs.tsv").symlink_to(s / "check.py")),
     "inputs.tsv: a symbolic link"),
])
def test_folder_and_manifest_disagree(suite, edit, words):
    edit(suite)
    check = verify_suite(suite, checker=False)
    assert any(words in q for q in check.problems), check.problems


@pytest.mark.parametrize("mutate, words", [
    (lambda m: m.update(comment="trust me"), "field 'comment' is not understood"),
    (lambda m: m["parameters"].update(layers=2), "parameters.layers"),
    (lambda m: m["parameters"].update(extra=1), "parameter 'extra' is not understood"),
    (lambda m: m["parameters"].update(bias_rule="some"), "bias_rule"),
])
def test_manifest_fields_are_checked(suite, mutate, words):
    man = json.loads((suite / "manifest.json").read_text())
    mutate(man)
    (suite / "manifest.json").write_bytes(canonical_json(man))
    try:
        check = verify_suite(suite, checker=False)
        assert any(words in q for q in check.problems), check.problems
    except Exception as exc:  # refused outright, naming the field
        assert words in str(exc)


def test_a_hand_edited_manifest_is_not_canonical(suite):
    man = json.loads((suite / "manifest.json").read_text())
    (suite / "manifest.json").write_text(json.dumps(man, indent=1))
    with pytest.raises(Exception, match="canonical"):
        verify_suite(suite)


def test_shipped_checker_catches_a_wrong_rounding(suite):
    p = suite / "expected" / "fp16.tsv"
    lines = p.read_text().splitlines()
    r, c, hx, dec = lines[0].split("\t")
    v = float.fromhex(hx)
    import numpy as np

    w = float(np.nextafter(np.float16(v), np.float16(np.inf)))
    lines[0] = "\t".join([r, c, w.hex(), repr(w)])
    p.write_text("\n".join(lines) + "\n")
    _rehash(suite, "expected/fp16.tsv")
    proc = _shipped(suite)
    assert proc.returncode == 1 and "not the correctly rounded exact value" in proc.stdout


# --- the shipped checker's rounding against the independent oracle --------------------------

FMTS = ["fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"]


@given(st.sampled_from(FMTS), st.integers(-2**80, 2**80), st.integers(1, 2**80),
       st.integers(-160, 160))
def test_checker_rounding_equals_oracle(fmt, p, q, e):
    x = Fraction(p, q) * Fraction(2) ** e
    assert CHECK.round_bits(x, fmt) == oracle.round_fraction(x, fmt)


@pytest.mark.parametrize("fmt", FMTS)
def test_checker_rounding_on_midpoints_and_boundaries(fmt):
    cases = []
    for bits in range(0, 1 << 12):  # every pattern of the small formats, the low ones of others
        if fmt in ("fp64", "fp32"):
            bits = bits << 20  # spread over the exponent range
        try:
            lo = oracle.bits_to_fraction(bits, fmt)
        except ValueError:
            break
        if not isinstance(lo, str) and lo >= 0:
            cases.append(lo)
    cases = sorted(set(cases))
    for x in cases[:-1]:
        for y in (x, x * (1 + Fraction(1, 2**70)), x * (1 - Fraction(1, 2**70))):
            assert CHECK.round_bits(y, fmt) == oracle.round_fraction(y, fmt)
    for a, b in zip(cases, cases[1:], strict=False):
        mid = (a + b) / 2
        for y in (mid, mid + Fraction(1, 2**200), mid - Fraction(1, 2**200), -mid):
            assert CHECK.round_bits(y, fmt) == oracle.round_fraction(y, fmt)


# --- found by a hostile review: each must fail both verifiers (or symdnn's, where check.py
# --- documents that it does not look) ---------------------------------------------------

def _both_reject(suite: Path) -> None:

    try:
        check = verify_suite(suite, checker=False)
        assert not check.ok, "symdnn accepted a tampered suite"
    except ParseError:
        pass  # refused as unreadable
    proc = subprocess.run([sys.executable, "-I", str(CHECKER), str(suite)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stdout


def _prepend(path: Path, line: str) -> None:
    path.write_text(line + "\n" + path.read_text())


def test_a_repeated_expected_entry_is_rejected(suite):
    first = (suite / "expected" / "exact.tsv").read_text().splitlines()[0].split("\t")
    _prepend(suite / "expected" / "exact.tsv", f"{first[0]}\t{first[1]}\t999")
    _rehash(suite, "expected/exact.tsv")
    with pytest.raises(Exception, match="given twice"):
        verify_suite(suite, checker=False)
    proc = subprocess.run([sys.executable, "-I", str(CHECKER), str(suite)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "given twice" in proc.stderr


def test_a_weight_outside_the_layer_shape_is_rejected(suite):
    man = json.loads((suite / "manifest.json").read_text())
    rows, cols = man["shapes"]["1"]
    spelling = next(iter(man["values"]["1"]))
    p = suite / "network" / f"n{man['parameters']['neurons']}-l1.tsv"
    p.write_text(p.read_text() + f"{rows + 1}\t1\t{spelling}\n")
    _rehash(suite, p.relative_to(suite).as_posix())
    _both_reject(suite)


def test_an_overflowed_fp8_output_must_be_written_as_nan(tmp_path):
    assert main(["build", "--builtin", "words2", "--beta", "1", "--out", str(tmp_path / "n")]) \
        == 0
    from symdnn import AssocArray
    from symdnn.constructions import load_construction
    from symdnn.io.netdir import write_network

    c = load_construction(str(tmp_path / "n"))
    r, k, _ = zip(*c.inputs.triples(), strict=True)
    big = AssocArray.from_triples(list(r), list(k), [1000] * len(r), domain="QQ")
    write_network(tmp_path / "big", c.net, inputs=big, meta={"construction": "scaled"})
    assert main(["suite", "build", str(tmp_path / "big"), "--out", str(tmp_path / "s"),
                 "--formats", "fp8_e4m3", "--quiet"]) == 0
    s = tmp_path / "s"
    assert verify_suite(s).ok
    p = s / "expected" / "fp8_e4m3.tsv"
    assert "\tnan\tnan" in p.read_text()  # 1000 overflows E4M3, which has no infinity
    p.write_text(p.read_text().replace("\tnan\tnan", "\tinf\tinf"))
    _rehash(s, "expected/fp8_e4m3.tsv")
    _both_reject(s)


def test_thresholds_from_another_network_are_rejected(suite, tmp_path):
    import shutil

    assert main(["build", "--builtin", "words2", "--beta", "1/2", "--out",
                 str(tmp_path / "other")]) == 0
    shutil.rmtree(suite / "source")
    shutil.copytree(tmp_path / "other", suite / "source")
    man = json.loads((suite / "manifest.json").read_text())
    man["files"] = {k: v for k, v in man["files"].items() if not k.startswith("source/")}
    for p in sorted((suite / "source").rglob("*")):
        if p.is_file():
            man["files"][p.relative_to(suite).as_posix()] = hashlib.sha256(
                p.read_bytes()).hexdigest()
    (suite / "manifest.json").write_bytes(canonical_json(man))
    check = verify_suite(suite, checker=False)
    assert any("source/: not the network of this suite" in q for q in check.problems)


def test_a_replaced_checker_is_never_run(suite):
    (suite / "check.py").write_text("print('VERIFIED')\n")
    _rehash(suite, "check.py")
    check = verify_suite(suite)
    assert not check.ok and check.checker is None
    assert any("not the checker symdnn ships (not run)" in q for q in check.problems)


@pytest.mark.parametrize("value", ["1/0", "1e30", str(2**70)])
def test_odd_input_values_are_clean(suite, value):
    lines = (suite / "inputs.tsv").read_text().splitlines()
    r, c, _ = lines[0].split("\t")
    lines[0] = f"{r}\t{c}\t{value}"
    (suite / "inputs.tsv").write_text("\n".join(lines) + "\n")
    _rehash(suite, "inputs.tsv")
    try:
        check = verify_suite(suite, checker=False)
        assert not check.ok  # the outputs no longer match
    except Exception as exc:
        from symdnn.errors import SymdnnError

        assert isinstance(exc, SymdnnError), exc
