"""A suite is untrusted input (issue 25): on every suite both verifiers (symdnn's own and the
shipped standard-library ``check.py``) and ``suite grade`` answer in bounded time and memory,
give the same verdict, and refuse what they cannot read with exit status 2 and a message
naming the file, never a hang, a runaway allocation or a traceback.

Every test here builds one small suite (a copy of a module-wide one), tampers with it, and
runs the command in a forked child (tests/forked.py) or the shipped checker in a subprocess,
under a wall-clock limit: a hang fails the test instead of hanging the run."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symdnn.cli import main
from symdnn.errors import DomainError, ParseError
from symdnn.io.text import exact_number
from symdnn.suite import grade_suite, verify_suite
from symdnn.suite.build import CHECKER
from symdnn.suite.integrity import canonical_json
from tests.forked import run_cli
from tests.shipped import checker_module

LIMIT_S = 60  # a verifier that has not answered by then hangs


CHECK = checker_module("shipped_check_bounded")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bounded")
    assert main(["build", "--builtin", "words2", "--beta", "3/10", "--out",
                 str(d / "net")]) == 0
    assert main(["suite", "build", str(d / "net"), "--out", str(d / "s"),
                 "--formats", "fp32,fp16", "--quiet"]) == 0
    return d / "s"


@pytest.fixture
def suite(built, tmp_path) -> Path:
    shutil.copytree(built, tmp_path / "s", symlinks=True)
    return tmp_path / "s"


def _manifest(suite: Path) -> dict:
    return json.loads((suite / "manifest.json").read_text())


def _write_manifest(suite: Path, man: dict) -> None:
    (suite / "manifest.json").write_bytes(canonical_json(man))


def _rehash(suite: Path, rel: str) -> None:
    man = _manifest(suite)
    man["files"][rel] = hashlib.sha256((suite / rel).read_bytes()).hexdigest()
    _write_manifest(suite, man)


def _limit_memory() -> None:  # 4 GiB of address space: a runaway allocation fails fast
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=LIMIT_S,
                          check=False, preexec_fn=_limit_memory)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return run_cli(list(args), limit=LIMIT_S, memory=4 << 30)


def _shipped(suite: Path) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-I", str(CHECKER), str(suite)])


def _symdnn_verdict(suite: Path) -> int:
    """symdnn's own verdict as the exit status a checker gives: 0, 1, or 2 unreadable."""
    try:
        return 0 if verify_suite(suite, checker=False).ok else 1
    except ParseError:
        return 2


def _same_verdict(suite: Path) -> int:
    proc = _shipped(suite)
    assert "Traceback" not in proc.stderr, proc.stderr
    mine = _symdnn_verdict(suite)
    assert mine == proc.returncode, (mine, proc.stdout, proc.stderr)
    return mine


# --- item 1: an exponent of a billion in any exact value --------------------------------------

def _first_line_value(path: Path, value: str) -> None:
    lines = path.read_text().split("\n")
    parts = lines[0].split("\t")
    parts[2] = value
    lines[0] = "\t".join(parts)
    path.write_text("\n".join(lines))


@pytest.mark.parametrize("rehash", [False, True])
def test_a_huge_exponent_in_the_expected_file_is_refused_not_expanded(suite, rehash):
    _first_line_value(suite / "expected" / "exact.tsv", "1e999999999")
    if rehash:
        _rehash(suite, "expected/exact.tsv")
    # not rehashed, the sha256 already differs: FAILED (1), saying what was not recomputed;
    # rehashed, the file cannot be read (2)
    want = 2 if rehash else 1
    proc = _cli("suite", "verify", str(suite), "--quiet")
    assert proc.returncode == want, (proc.stdout, proc.stderr)
    said = proc.stdout + proc.stderr
    assert "expected/exact.tsv:1" in said and "exponent" in said
    proc = _shipped(suite)
    assert proc.returncode == want, proc.stderr
    assert "exact.tsv:1" in proc.stdout + proc.stderr


@pytest.mark.parametrize("where", ["cap", "value", "spelling", "bias", "input"])
def test_a_huge_exponent_in_the_manifest_or_inputs_is_refused(suite, where):
    man = _manifest(suite)
    if where == "cap":
        man["parameters"]["cap"] = "1e999999999"
    elif where == "value":
        k = next(iter(man["values"]["1"]))
        man["values"]["1"][k] = "1e999999999"
    elif where == "spelling":
        k = next(iter(man["values"]["1"]))
        p = suite / "network" / "n37-l1.tsv"
        p.write_text(p.read_text().replace(f"\t{k}\n", "\t1e999999999\n"))
        man["values"]["1"]["1e999999999"] = man["values"]["1"].pop(k)
        man["files"]["network/n37-l1.tsv"] = hashlib.sha256(p.read_bytes()).hexdigest()
    elif where == "bias":
        man["values"]["bias1"] = "1e999999999"
    else:
        _first_line_value(suite / "inputs.tsv", "1e999999999")
        man["files"]["inputs.tsv"] = hashlib.sha256(
            (suite / "inputs.tsv").read_bytes()).hexdigest()
    _write_manifest(suite, man)
    proc = _cli("suite", "verify", str(suite), "--quiet")
    assert proc.returncode in (1, 2), (proc.stdout, proc.stderr)
    assert "exponent" in proc.stdout + proc.stderr
    proc = _shipped(suite)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr
    assert "exponent" in proc.stdout + proc.stderr


# --- item 2: declared sizes that the files do not back -----------------------------------------

def test_two_billion_declared_images_are_not_looped_over(suite):
    man = _manifest(suite)
    man["parameters"]["inputs"] = 2**31
    _write_manifest(suite, man)
    proc = _cli("suite", "verify", str(suite), "--quiet")
    shipped = _shipped(suite)
    # the images no line mentions are all-zero images: here their outputs are zero, so the
    # suite is consistent; what matters is that both answer at once, and alike
    assert proc.returncode == shipped.returncode == 0, (proc.stdout, proc.stderr,
                                                        shipped.stdout, shipped.stderr)


def test_two_billion_declared_images_with_nonzero_outputs_fail_at_once(suite):
    man = _manifest(suite)
    man["parameters"]["inputs"] = 2**31
    man["parameters"]["bias_rule"] = "all"
    man["values"]["bias1"] = "1"  # every all-zero image now has outputs nobody lists
    _write_manifest(suite, man)
    assert _same_verdict(suite) in (1, 2)
    proc = _cli("suite", "verify", str(suite), "--quiet")
    assert proc.returncode in (1, 2), (proc.stdout, proc.stderr)


def test_a_wide_declared_layer_is_bounded_by_the_work_estimate(suite):
    man = _manifest(suite)
    man["parameters"]["neurons"] = 1 << 24
    n = man["parameters"]["neurons"]
    (suite / "network" / "n37-l1.tsv").rename(suite / "network" / f"n{n}-l1.tsv")
    man["files"][f"network/n{n}-l1.tsv"] = man["files"].pop("network/n37-l1.tsv")
    man["shapes"]["1"] = [n, n]
    man["parameters"]["bias_rule"] = "all"
    man["values"]["bias1"] = "1"
    man["parameters"]["inputs"] = 2**31
    _write_manifest(suite, man)
    assert _same_verdict(suite) in (1, 2)


# --- item 3: grade reads the implementation's values with the same limits ----------------------

def test_grade_refuses_a_huge_exponent_in_the_results(suite, tmp_path):
    res = tmp_path / "results.tsv"
    res.write_text("1\t1\t1e999999999\n")
    proc = _cli("suite", "grade", str(suite), str(res))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "results.tsv:1" in proc.stderr and "exponent" in proc.stderr


@pytest.mark.parametrize("line", ["\u0661\t1\t1", "+1\t1\t1", "1\t1\t1_0", "1\t1\t 1",
                                  "1\t1\tinf", "1\t1\t1/0", "9" * 5000 + "\t1\t1"])
def test_grade_reads_results_strictly(suite, tmp_path, line):
    res = tmp_path / "results.tsv"
    res.write_text(line + "\n")
    with pytest.raises(ParseError, match="results.tsv:1"):
        grade_suite(suite, res)


# --- item 7: the same verdict from both verifiers on strictly-read files -----------------------

def _edit(suite: Path, rel: str, transform) -> None:
    p = suite / rel
    p.write_bytes(transform(p.read_bytes()))
    _rehash(suite, rel)


TAMPERINGS = {
    "categories plus sign": ("categories.tsv", lambda b: b.replace(b"1\n", b"+1\n", 1)),
    "categories Arabic-Indic digit": ("categories.tsv",
                                      lambda b: b.replace(b"1\n", "\u0661\n".encode(), 1)),
    "categories leading space": ("categories.tsv", lambda b: b.replace(b"1\n", b" 1\n", 1)),
    "inputs split by U+2028": ("inputs.tsv",
                               lambda b: b.replace(b"\n", "\u2028".encode(), 1)),
    "inputs split by a form feed": ("inputs.tsv", lambda b: b.replace(b"\n", b"\x0c", 1)),
    "inputs with CRLF": ("inputs.tsv", lambda b: b.replace(b"\n", b"\r\n")),
    "inputs underscore": ("inputs.tsv", lambda b: b.replace(b"\t1\n", b"\t1_0\n", 1)),
    "inputs Arabic-Indic value": ("inputs.tsv",
                                  lambda b: b.replace(b"\t1\n", "\t\u0661\n".encode(), 1)),
    "inputs plus index": ("inputs.tsv", lambda b: b"+" + b),
    "inputs blank line of spaces": ("inputs.tsv", lambda b: b"  \n" + b),
    "exact CRLF": ("expected/exact.tsv", lambda b: b.replace(b"\n", b"\r\n")),
    "layer with CRLF": ("network/n37-l1.tsv", lambda b: b.replace(b"\n", b"\r\n")),
    "layer with spaces": ("network/n37-l1.tsv", lambda b: b.replace(b"\t", b" ", 1)),
    "layer plus index": ("network/n37-l1.tsv", lambda b: b"+" + b),
    "layer double tab": ("network/n37-l1.tsv", lambda b: b.replace(b"\t", b"\t\t", 1)),
    "fp32 CRLF": ("expected/fp32.tsv", lambda b: b.replace(b"\n", b"\r\n")),
    "categories huge index": ("categories.tsv", lambda b: b"9" * 5000 + b"\n" + b),
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_both_verifiers_reject_a_loosely_written_file(suite, name):
    rel, transform = TAMPERINGS[name]
    _edit(suite, rel, transform)
    assert _same_verdict(suite) == 2


def test_a_path_with_a_dot_segment_is_refused_by_both(suite):
    man = _manifest(suite)
    man["files"]["./inputs.tsv"] = man["files"]["inputs.tsv"]
    _write_manifest(suite, man)
    assert _same_verdict(suite) == 1
    assert any("./inputs.tsv" in p for p in verify_suite(suite, checker=False).problems)


# --- item 8: an entry the walk cannot read is an error ---------------------------------------

def test_an_unreadable_folder_is_an_error_for_both(suite, monkeypatch):
    """Tests run as root, for whom a chmod-000 folder is readable: ``os.scandir`` (which
    ``os.walk`` calls) is made to fail on one folder, as it does for a user without the
    permission, and the error must reach the verdict instead of being skipped."""
    (suite / "hidden").mkdir()
    (suite / "hidden" / "unlisted.txt").write_text("not in the manifest\n")
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("hidden"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    check = verify_suite(suite, checker=False)
    assert not check.ok and any("hidden" in p and "cannot be read" in p
                                for p in check.problems), check.problems
    problems, _ = CHECK.check(str(suite))
    assert any("hidden" in p and "cannot be read" in p for p in problems), problems


# --- item 9: manifests that are JSON only to a lenient reader -------------------------------

MANIFEST_ATTACKS = {
    "NaN": lambda raw: raw.replace(b'"source":{', b'"source":{"x":NaN,', 1),
    "1e400": lambda raw: raw.replace(b'"source":{', b'"source":{"x":1e400,', 1),
    "deep nesting": lambda raw: raw.replace(b'"source":{', b'"source":{"x":' + b"[" * 100_000
                                            + b"]" * 100_000 + b",", 1),
    "5000-digit integer": lambda raw: raw.replace(b'"source":{', b'"source":{"x":'
                                                  + b"7" * 5000 + b",", 1),
    "5000-digit inputs": lambda raw: raw.replace(b'"inputs":', b'"inputs":' + b"1" * 5000
                                                 + b",\"x\":", 1),
}


@pytest.mark.parametrize("name", sorted(MANIFEST_ATTACKS))
def test_a_manifest_only_a_lenient_reader_accepts_cannot_be_read(suite, name):
    p = suite / "manifest.json"
    p.write_bytes(MANIFEST_ATTACKS[name](p.read_bytes()))
    proc = _cli("suite", "verify", str(suite), "--quiet")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "manifest.json" in proc.stderr and "internal error" not in proc.stderr
    proc = _shipped(suite)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "manifest.json" in proc.stderr


# --- item 10: grade checks the suite before it grades ----------------------------------------

def test_grade_refuses_a_suite_whose_hashes_do_not_match(suite, tmp_path):
    p = suite / "expected" / "fp32.tsv"
    lines = p.read_text().splitlines()
    i, j, _, _ = lines[0].split("\t")
    v = 0.25
    lines[0] = f"{i}\t{j}\t{v.hex()}\t{v!r}"
    p.write_text("\n".join(lines) + "\n")
    res = tmp_path / "results.tsv"
    res.write_text("".join(f"{ln.split(chr(9))[0]}\t{ln.split(chr(9))[1]}\t"
                           f"{ln.split(chr(9))[2]}\n" for ln in lines))
    proc = _cli("suite", "grade", str(suite), str(res), "--format", "fp32")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "expected/fp32.tsv" in proc.stderr and "sha256" in proc.stderr


def test_grade_of_a_suite_with_garbage_categories_is_bad_input(suite, tmp_path):
    (suite / "categories.tsv").write_text("garbage\n")
    res = tmp_path / "results.tsv"
    shutil.copyfile(suite / "expected" / "exact.tsv", res)
    proc = _cli("suite", "grade", str(suite), str(res))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "categories.tsv" in proc.stderr


def test_grade_still_passes_a_correct_implementation(suite):
    assert grade_suite(suite, suite / "expected" / "exact.tsv").ok


# --- the one number parser and its standard-library twin ------------------------------------

NUMBERS = ["0", "-0", "+3", "1/3", "-1/3", "1/0", "0.1", ".5", "5.", "1e3", "1E-3", "1e+3",
           "1e10000", "1e10001", "1e-10000", "1e-10001", "1e999999999", "1_0", " 1", "1 ",
           "\u0661", "inf", "nan", "-inf", "Infinity", "1/-3", "+1/3", "0x10", "", "e3", "1e",
           "..5", "1..", "9" * 4000, "9" * 4001, "1/" + "9" * 3998, "1\n", "\t1", "1.5/2",
           "1e" + "0" * 3990 + "5", "0" * 3999 + "1"]


@pytest.mark.parametrize("text", NUMBERS)
def test_the_twins_accept_and_refuse_the_same_numbers(text):
    _twins_agree(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789+-./eE_ \u0661\u2028xia", max_size=12))
def test_the_twins_agree_on_any_short_string(text):
    _twins_agree(text)


def _twins_agree(text: str) -> None:
    try:
        mine = exact_number(text)
    except DomainError:
        mine = None
    try:
        theirs = CHECK.exact_number(text)
    except ValueError:
        theirs = None
    assert mine == theirs and (mine is None or isinstance(theirs, Fraction)), text


JSONS = ['{"a":1}', '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":1e400}',
         '{"a":1.5}', '{"a":' + "1" * 4000 + "}", '{"a":' + "1" * 4001 + "}",
         "[" * 64 + "]" * 64, "[" * 65 + "]" * 65, "[" * 100_000 + "]" * 100_000,
         '{"a":"[[[[[[[[["}', '{"a":"\\"[[["}', "{", '{"a":1}x', '"\\ud800"', "-0", "1E5"]


@pytest.mark.parametrize("text", JSONS, ids=range(len(JSONS)))
def test_the_twins_read_the_same_json(text):
    from symdnn.io.text import strict_json

    try:
        mine = strict_json(text)
    except ParseError:
        mine = "refused"
    try:
        theirs = CHECK.strict_json(text)
    except ValueError:
        theirs = "refused"
    assert mine == theirs


def test_the_twins_share_their_limits():
    from symdnn.io import text
    from symdnn.suite import verify

    assert (CHECK.MAX_DIGITS, CHECK.MAX_EXPONENT, CHECK.MAX_NESTING, CHECK.MAX_WORK) == \
        (text.MAX_DIGITS, text.MAX_EXPONENT, text.MAX_NESTING, verify.MAX_WORK)


# --- hostile suites: random byte edits, rehashed, must get the same verdict from both -----

FUZZ_FILES = ["inputs.tsv", "categories.tsv", "expected/exact.tsv", "expected/fp32.tsv",
              "network/n37-l1.tsv"]
FUZZ_TOKENS = [b"\r", b"\t", b"\n", b" ", b"+", b"-", b"0", b"1", b"/", b".", b"e", b"\x0c",
               "\u2028".encode(), "\u0661".encode(), b"_", b"9" * 30, b"1e5", b"1/0", b"x",
               b"1e99999", b""]


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_get_the_same_verdict_from_both(built, tmp_path, seed):
    """Found by this fuzzing before it became a test: a layer line symdnn's spelling check
    read leniently (FAILED) while check.py could not read it (unreadable)."""
    import random

    rng = random.Random(seed)
    for it in range(15):
        d = tmp_path / f"s{it}"
        shutil.copytree(built, d, symlinks=True)
        rel = rng.choice(FUZZ_FILES)
        b = bytearray((d / rel).read_bytes())
        for _ in range(rng.randint(1, 3)):
            pos, op = rng.randrange(len(b) + 1), rng.random()
            if op < 0.4:
                b[pos:pos + 1] = rng.choice(FUZZ_TOKENS)
            elif op < 0.7:
                b[pos:pos] = rng.choice(FUZZ_TOKENS)
            else:
                b[pos:pos + rng.randint(1, 4)] = b""
        (d / rel).write_bytes(bytes(b))
        if rng.random() < 0.9:
            _rehash(d, rel)
        mine = _symdnn_verdict(d)
        try:
            theirs = 1 if CHECK.check(str(d))[0] else 0
        except CHECK.Unreadable:
            theirs = 2
        assert mine == theirs, (rel, bytes(b))


def test_the_fast_reader_reads_what_the_line_reader_reads(suite, tmp_path):
    """``regular_rows`` (the whole file at once) gives the line reader's fields for every
    regular file of a suite, and gives up (None) on every file the line reader would have to
    judge: the verdicts and messages are the line reader's either way."""
    from symdnn.suite.integrity import regular_rows, suite_lines

    for rel, fields in (("inputs.tsv", 3), ("expected/exact.tsv", 3),
                        ("expected/fp32.tsv", 4)):
        got = regular_rows(suite / rel, fields, (1 << 40, 1 << 40))
        lines = [parts for _, parts in suite_lines(suite / rel, fields)]
        assert got is not None and len(lines) > 0
        i, j, rest = got
        assert [[str(a), str(b), *r] for a, b, *r in zip(i.tolist(), j.tolist(), *rest,
                                                         strict=True)] == lines
    good = "1\t1\t1/2\n2\t3\t4\n"
    assert regular_rows(_text(tmp_path, good), 3, (2, 3)) is not None
    for bad, limits in (("1\t1\t1/2\n\n2\t3\t4\n", (2, 3)),      # a blank line
                        ("1\t1\t1/2\r\n", (2, 3)),                # CRLF
                        ("+1\t1\t1\n", (2, 3)),                   # a sign
                        ("\u0661\t1\t1\n", (2, 3)),              # an Arabic-Indic digit
                        ("1 \t1\t1\n", (2, 3)),                   # a space
                        ("1\t1\t\n", (2, 3)),                     # an empty field
                        ("1\t1\t1\t1\n", (2, 3)),                 # a field too many
                        ("0\t1\t1\n", (2, 3)),                    # 0 is not 1-based
                        ("1\t4\t1\n", (2, 3)),                    # beyond the limit
                        ("1\t1\t1\n1\t1\t2\n", (2, 3)),           # a key twice
                        ("1" * 19 + "\t1\t1\n", (2, 3))):         # beyond int64
        assert regular_rows(_text(tmp_path, bad), 3, limits) is None, repr(bad)


def _text(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "f.tsv"
    p.write_bytes(text.encode("utf-8"))
    return p


def _float_of(bits: int, fmt: str) -> float:
    """The float64 of a bit pattern of ``fmt`` (an infinity or NaN included)."""
    if CHECK.is_nan_bits(bits, fmt):
        return float("nan")
    v = CHECK.bits_value(bits, fmt)
    negative = bits >> sum(CHECK.FORMATS[fmt][:2])
    if v is None:
        return float("-inf") if negative else float("inf")
    return -0.0 if negative and v == 0 else float(v)


def _regenerate(suite: Path) -> dict:
    """Rewrite the expected files and categories from check.py's own recomputation (for
    tampered networks whose true outputs both verifiers must then agree on)."""
    man = _manifest(suite)
    rows, zero = CHECK.run_network(str(suite), man, [])
    out = CHECK.expand(rows, zero, man["parameters"]["inputs"], 10**9)
    keys = sorted(out)
    (suite / "expected" / "exact.tsv").write_text("".join(f"{i}\t{j}\t{out[(i, j)]}\n"
                                                          for i, j in keys))
    for fmt in man["parameters"]["formats"]:
        vals = [_float_of(CHECK.round_bits(out[k], fmt), fmt) for k in keys]
        (suite / "expected" / f"{fmt}.tsv").write_text("".join(
            f"{i}\t{j}\t{v.hex()}\t{v!r}\n" for (i, j), v in zip(keys, vals, strict=True)))
    (suite / "categories.tsv").write_text("".join(f"{i}\n" for i in sorted({i for i, _ in keys})))
    for rel in ["expected/exact.tsv", "categories.tsv"] + \
            [f"expected/{f}.tsv" for f in man["parameters"]["formats"]]:
        _rehash(suite, rel)
    return out


def test_an_image_whose_outputs_are_the_zero_images_keeps_them(suite):
    """With a positive bias the all-zero image has outputs. symdnn's verifier dropped an
    image with input lines whose outputs equal those, then gave it none: it VERIFIED a suite
    that left the image's outputs out, and FAILED the right one (found attacking issue 25)."""
    man = _manifest(suite)
    shutil.rmtree(suite / "source")
    (suite / "thresholds.csv").unlink()
    man["files"] = {k: v for k, v in man["files"].items()
                    if not k.startswith("source/") and k != "thresholds.csv"}
    man["values"]["bias1"] = "1"
    _write_manifest(suite, man)
    lines = (suite / "inputs.tsv").read_text().splitlines()
    (suite / "inputs.tsv").write_text("".join(
        (ln.rsplit("\t", 1)[0] + "\t0\n") if ln.startswith("1\t") else ln + "\n"
        for ln in lines))
    _rehash(suite, "inputs.tsv")
    out = _regenerate(suite)
    assert any(i == 1 for i, _ in out)        # image 1 has outputs: those of a zero image
    assert _same_verdict(suite) == 0
    exact = suite / "expected" / "exact.tsv"
    exact.write_text("".join(ln + "\n" for ln in exact.read_text().splitlines()
                             if not ln.startswith("1\t")))   # image 1's outputs left out
    _rehash(suite, "expected/exact.tsv")
    assert _same_verdict(suite) == 1


# --- issue 25, second review: caps, non-regular files, huge numbers, self-contradictions -----

@pytest.mark.parametrize("cap", ["0", "-1", "0/7", "-1/2"])
def test_a_cap_that_is_not_positive_cannot_be_read(suite, cap):
    man = _manifest(suite)
    man["parameters"]["cap"] = cap
    _write_manifest(suite, man)
    assert _same_verdict(suite) == 2
    said = _shipped(suite).stderr
    assert "parameters.cap" in said
    with pytest.raises(ParseError, match="parameters.cap"):
        verify_suite(suite, checker=False)


def _not_regular(path: Path, kind: str) -> None:
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize("kind", ["fifo", "zero"])
@pytest.mark.parametrize("rel", ["manifest.json", "inputs.tsv", "categories.tsv",
                                 "network/n37-l1.tsv", "expected/exact.tsv"])
def test_a_path_that_is_not_a_regular_file_is_refused_unread(suite, rel, kind):
    _not_regular(suite / rel, kind)
    want = 2 if rel == "manifest.json" else 1
    for proc in (_shipped(suite), _cli("suite", "verify", "--no-checker", "--quiet",
                                       str(suite))):
        assert proc.returncode == want, (proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert rel in proc.stdout + proc.stderr


@pytest.mark.parametrize("where", ["bias", "bias-small", "value"])
def test_a_number_too_long_to_print_gets_a_clean_message(suite, where):
    man = _manifest(suite)
    if where == "bias":
        man["values"]["bias1"] = "1e10000"
    elif where == "bias-small":
        man["values"]["bias1"] = "1e-5000"
    else:
        k = next(iter(man["values"]["1"]))
        man["values"]["1"][k] = "1e5000"
    _write_manifest(suite, man)
    _same_verdict(suite)
    proc = _cli("suite", "verify", "--no-checker", "--quiet", str(suite))
    for said in (proc.stdout + proc.stderr, _shipped(suite).stdout + _shipped(suite).stderr):
        assert "ValueError" not in said and "4300" not in said and "Traceback" not in said, said


def _set_weight(suite: Path, value: str) -> None:
    """Line 1 of layer 1 weighs ``value``, the manifest's values map and hashes kept true."""
    p = suite / "network" / "n37-l1.tsv"
    _first_line_value(p, value)
    man = _manifest(suite)
    used = {line.split("\t")[2] for line in p.read_text().splitlines() if line}
    man["values"]["1"] = {k: v for k, v in man["values"]["1"].items() if k in used}
    man["values"]["1"][value] = str(exact_number(value))
    _write_manifest(suite, man)
    _rehash(suite, "network/n37-l1.tsv")


@pytest.mark.parametrize("value", ["1e30", "-1e30", str(2**63 - 1), str(2**62), "1e-30",
                                   "1/" + "7" * 30])
def test_a_weight_beyond_two_to_the_62_over_the_common_denominator_cannot_be_read(suite,
                                                                                    value):
    _set_weight(suite, value)
    try:
        _regenerate(suite)  # the outputs such weights give (before the bound, check.py's)
    except CHECK.Unreadable:
        pass
    assert _same_verdict(suite) == 2
    assert "2**62" in _shipped(suite).stderr


def test_a_weight_just_below_two_to_the_62_is_read(suite):
    _set_weight(suite, str(2**62 - 1))
    _regenerate(suite)
    assert _shipped(suite).returncode == 0
    # symdnn reads it too; it only adds that source/ (thresholds.csv's network) now differs
    assert [p[:8] for p in verify_suite(suite, checker=False).problems] == ["source/:"]


def _drop_file(suite: Path, man: dict, rel: str) -> None:
    (suite / rel).unlink()
    del man["files"][rel]


CONTRADICTIONS = {
    "extra shape": lambda s, m: m["shapes"].__setitem__("7", [1, 1]),
    "bias99": lambda s, m: m["values"].__setitem__("bias99", "1"),
    "biasX": lambda s, m: m["values"].__setitem__("biasX", "1"),
    "value map x": lambda s, m: m["values"].__setitem__("x", {}),
    "no shape 1": lambda s, m: m["shapes"].pop("1"),
    "no values 1": lambda s, m: m["values"].pop("1"),
    "features": lambda s, m: m["parameters"].__setitem__("features",
                                                          m["parameters"]["features"] + 1),
    "layers": lambda s, m: m["parameters"].__setitem__("layers", 2),
    "neurons": lambda s, m: m["parameters"].__setitem__("neurons",
                                                         m["parameters"]["neurons"] + 1),
    "no files": lambda s, m: m.__setitem__("files", {}),
    "all formats": lambda s, m: m["parameters"].__setitem__(
        "formats", ["fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"]),
    "no inputs": lambda s, m: _drop_file(s, m, "inputs.tsv"),
    "no categories": lambda s, m: _drop_file(s, m, "categories.tsv"),
    "no exact": lambda s, m: _drop_file(s, m, "expected/exact.tsv"),
}


@pytest.mark.parametrize("name", sorted(CONTRADICTIONS))
def test_a_manifest_that_contradicts_itself_cannot_be_read_by_either(suite, name):
    man = _manifest(suite)
    CONTRADICTIONS[name](suite, man)
    _write_manifest(suite, man)
    assert _same_verdict(suite) == 2


@pytest.mark.parametrize("edit", ["space", "no final newline", "indented"])
def test_a_manifest_not_in_canonical_form_cannot_be_read_by_either(suite, edit):
    raw = (suite / "manifest.json").read_bytes()
    if edit == "space":
        raw = raw.replace(b'":', b'": ', 1)
    elif edit == "no final newline":
        raw = raw.rstrip(b"\n")
    else:
        raw = json.dumps(json.loads(raw), indent=1, sort_keys=True).encode() + b"\n"
    (suite / "manifest.json").write_bytes(raw)
    assert _same_verdict(suite) == 2
    assert "canonical" in _shipped(suite).stderr


def test_weights_whose_common_denominator_has_5000_digits_get_a_clean_message(suite):
    p = suite / "network" / "n37-l1.tsv"
    lines = p.read_text().split("\n")
    weights = ["1/" + "7" * 2500, "1/" + "1" * 2499 + "3"]
    for k, w in enumerate(weights):
        parts = lines[k].split("\t")
        parts[2] = w
        lines[k] = "\t".join(parts)
    p.write_text("\n".join(lines))
    man = _manifest(suite)
    used = {line.split("\t")[2] for line in p.read_text().splitlines() if line}
    man["values"]["1"] = {k: v for k, v in man["values"]["1"].items() if k in used}
    man["values"]["1"].update({w: w for w in weights})
    _write_manifest(suite, man)
    _rehash(suite, "network/n37-l1.tsv")
    proc = _cli("suite", "verify", "--no-checker", "--quiet", str(suite))
    said = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "2**62" in said, said
    assert "ValueError" not in said and "4300" not in said
    assert _same_verdict(suite) == 2


def test_a_foreign_checker_is_named_in_the_summary(suite):
    """A suite whose check.py is not the one symdnn ships FAILS (it is never run); the text
    said 'symdnn: VERIFIED' and 'check.py: not run (--no-checker)' and nothing else, so the
    exit status 1 had no reason on screen."""
    (suite / "check.py").write_text((suite / "check.py").read_text() + "# edited\n")
    _rehash(suite, "check.py")
    check = verify_suite(suite, checker=False)
    assert not check.ok
    assert "check.py: not the checker symdnn ships" in check.summary()


def test_a_listed_name_too_long_for_the_file_system_is_missing_for_both(suite):
    """A manifest listing a 300-character file name: symdnn's look at it raised
    ENAMETOOLONG (cannot be read, exit 2) where check.py reports it missing (exit 1)."""
    man = _manifest(suite)
    man["files"]["x" * 300] = "0" * 64
    _write_manifest(suite, man)
    assert _same_verdict(suite) == 1
