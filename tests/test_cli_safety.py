"""The command line never loses data, never leaves half-written outputs, and answers bad input
with a clean error and exit status 2 (issue 11). Each test names what it guards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symdnn.cli import main
from tests.datafiles import GC_FIXTURE, full_file


def _tree(root: Path) -> dict:
    """Every file under ``root`` with its bytes (what a user had)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture
def user_folder(tmp_path) -> Path:
    d = tmp_path / "mine"
    (d / "sub").mkdir(parents=True)
    (d / "thesis.tex").write_text("years of work\n")
    (d / "sub" / "data.csv").write_text("1,2,3\n")
    return d


@pytest.fixture
def net(tmp_path) -> Path:
    assert main(["build", "--builtin", "words2", "--out", str(tmp_path / "net")]) == 0
    return tmp_path / "net"


# --- data loss -------------------------------------------------------------------------------

@pytest.mark.parametrize("force", [[], ["--force"]])
def test_build_never_deletes_a_folder_it_did_not_write(user_folder, capsys, force):
    before = _tree(user_folder)
    assert main(["build", "--builtin", "words2", "--out", str(user_folder)] + force) == 2
    assert "not empty and was not written by symdnn" in capsys.readouterr().err
    assert _tree(user_folder) == before


def test_suite_build_never_deletes_a_folder_it_did_not_write(net, user_folder, capsys):
    before = _tree(user_folder)
    assert main(["suite", "build", str(net), "--out", str(user_folder), "--force",
                 "--quiet"]) == 2
    assert _tree(user_folder) == before


def test_suite_build_refuses_its_own_input_as_output(net, capsys):
    before = _tree(net)
    assert main(["suite", "build", str(net), "--out", str(net), "--force", "--quiet"]) == 2
    assert "input" in capsys.readouterr().err
    assert _tree(net) == before
    assert main(["suite", "build", str(net), "--out", str(net / "inside"), "--quiet"]) == 2
    assert _tree(net) == before


def test_replacing_an_earlier_output_of_the_same_kind_needs_force(net, tmp_path, capsys):
    before = _tree(net)
    assert main(["build", "--builtin", "words3", "--out", str(net)]) == 2
    assert "--force" in capsys.readouterr().err
    assert _tree(net) == before
    assert main(["build", "--builtin", "words3", "--out", str(net), "--force"]) == 0
    assert json.loads((net / "network.json").read_text())["meta"]["words"] != \
        json.loads(before["network.json"])["meta"]["words"]
    # an output of another kind is never replaced, even with --force
    assert main(["suite", "build", str(net), "--out", str(tmp_path / "s"), "--quiet"]) == 0
    assert main(["build", "--builtin", "words2", "--out", str(tmp_path / "s"),
                 "--force"]) == 2
    assert "holds a symdnn suite" in capsys.readouterr().err


def test_an_empty_folder_is_a_fine_output(tmp_path):
    (tmp_path / "empty").mkdir()
    assert main(["build", "--builtin", "words2", "--out", str(tmp_path / "empty")]) == 0
    assert (tmp_path / "empty" / "network.json").is_file()


def test_existing_output_files_are_replaced_only_with_force(net, tmp_path, capsys):
    out = tmp_path / "rd.csv"
    out.write_text("mine\n")
    assert main(["threshold", str(net), "--csv", str(out)]) == 2
    assert out.read_text() == "mine\n"
    assert main(["threshold", str(net), "--csv", str(out), "--force"]) == 0
    assert out.read_text().startswith("category")


# --- atomic outputs --------------------------------------------------------------------------

def test_interrupted_generate_leaves_nothing(tmp_path, monkeypatch):
    import symdnn.generators.radixnet as R

    calls = []

    def boom(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    real = R.radixnet_layer
    monkeypatch.setattr(R, "radixnet_layer", boom)
    assert main(["generate", "radixnet", "--layers", "6", "--inputs", "2", "--out",
                 str(tmp_path / "rx"), "--quiet"]) == 130
    assert list(tmp_path.iterdir()) == []


def test_generate_into_an_earlier_network_replaces_it_whole(tmp_path):
    out = tmp_path / "rx"
    assert main(["generate", "radixnet", "--layers", "3", "--style", "exact", "--inputs", "2",
                 "--out", str(out), "--quiet"]) == 0
    assert (out / "bias.tsv").is_file()
    assert main(["generate", "radixnet", "--layers", "2", "--inputs", "2", "--out", str(out),
                 "--quiet", "--force"]) == 0
    layers = sorted(p.name for p in (out / "DNN" / "neuron1024").iterdir())
    assert layers == ["n1024-l1.tsv", "n1024-l2.tsv"]  # no stale third layer
    assert not (out / "bias.tsv").exists()              # no stale bias file


def test_graph_challenge_and_suite_run_the_same_network(tmp_path, capsys):
    """A generated exact-style folder: graph-challenge uses its bias.tsv as suite build does."""
    from symdnn.challenge import run_challenge
    from symdnn.suite import build_suite

    out = tmp_path / "rx"
    assert main(["generate", "radixnet", "--layers", "3", "--style", "exact", "--beta", "1",
                 "--inputs", "6", "--density", "0.9", "--out", str(out), "--quiet"]) == 0
    r = run_challenge(str(out), neurons=1024, layers=3)
    s = build_suite(out, tmp_path / "suite", formats=("fp64",), neurons=1024, layers=3)
    cats = [int(x) for x in (s / "categories.tsv").read_text().split()]
    assert r.categories.tolist() == cats
    assert main(["graph-challenge", str(out), "--layers", "3", "--quiet"]) == 3  # no truth


def test_sigterm_during_suite_build_leaves_nothing(tmp_path):
    out = tmp_path / "rx"
    assert main(["generate", "radixnet", "--layers", "40", "--inputs", "64", "--out",
                 str(out), "--quiet"]) == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = subprocess.Popen([sys.executable, "-m", "symdnn.cli", "suite", "build", str(out),
                             "--neurons", "1024", "--layers", "40", "--out",
                             str(tmp_path / "suite"), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".suite.tmp-")
                                             for p in tmp_path.iterdir()):
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["build", "--builtin", "words2", "--out", str(tmp_path / "n")]) == 0
        assert main(["threshold", str(tmp_path / "n"), "--csv", str(tmp_path / "t.csv")]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "n").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "n" / "network.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == 0o644


# --- bad input: clean errors, exit 2 ---------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["graph-challenge", "DATA", "--images", "-3"],
    ["graph-challenge", "DATA", "--images", "0"],
    ["graph-challenge", "DATA", "--layers", "0"],
    ["graph-challenge", "DATA", "--layers", "-5"],
    ["generate", "radixnet", "--layers", "-3", "--out", "OUT"],
    ["generate", "radixnet", "--neurons", "0", "--out", "OUT"],
    ["generate", "radixnet", "--seed", "-1", "--out", "OUT"],
    ["generate", "radixnet", "--inputs", "-1", "--out", "OUT"],
    ["generate", "radixnet", "--beta", "abc", "--out", "OUT"],
    ["generate", "radixnet", "--radices", "a,b", "--kron", "1", "--out", "OUT"],
    ["generate", "radixnet", "--density", "2", "--out", "OUT"],
    ["build", "--mnist", "M", "--start", "-5", "--out", "OUT"],
    ["build", "--mnist", "M", "--count", "-2", "--out", "OUT"],
    ["build", "--mnist", "M", "--count", "0", "--out", "OUT"],
])
def test_nonsense_counts_are_usage_errors(argv, tmp_path, capsys):
    argv = [str(tmp_path / a) if a in ("DATA", "OUT", "M") else a for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "OUT").exists()


def test_images_beyond_the_file_are_an_error(capsys):
    gc = GC_FIXTURE  # 155 images
    assert main(["graph-challenge", str(gc), "--images", "5000", "--layers", "1",
                 "--quiet"]) == 2
    assert "5000 images asked for" in capsys.readouterr().err


@pytest.mark.parametrize("argv, words", [
    (["build", "--builtin", "words2", "--beta", "inf", "--out", "OUT"], "--beta"),
    (["build", "--builtin", "words2", "--beta", "1,,2", "--out", "OUT"], "--beta"),
    (["audit", "NET", "--formats", ""], "no formats"),
    (["audit", "NET", "--formats", "fp64,fp99"], "fp99"),
    (["audit", "NET", "STRAY"], "only for TARGET graph-challenge"),
    (["audit", "NET", "--images", "3"], "only for TARGET graph-challenge"),
    (["audit", "graph-challenge", "DATA", "--thresholds"], "--thresholds"),
    (["suite", "build", "NET", "--out", "OUT", "--formats", ""], "no formats"),
    (["threshold", "NET", "--plot", "OUT.xyz"], ".png"),
    (["threshold", "NET", "--csv", "DIRFILE"], "is a folder"),
    (["threshold", "NET", "--json", "DIRFILE"], "is a folder"),
    (["verify", "NET", "--json", "FILE/under"], "is not a folder"),
    (["build", "--builtin", "words2", "--out", ""], "empty path"),
    (["build", "--builtin", "words2", "--out", "."], "not the current"),
    (["build", "--builtin", "words2", "--out", "FILE/net"], "is not a folder"),
    (["build", "--builtin", "words2", "--out", "/proc/symdnn-net"], "/proc"),
    (["build", "--builtin", "words2", "--out", "FILE"], "not a folder"),
])
def test_bad_arguments_are_clean_errors(argv, words, net, tmp_path, capsys):
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "DIRFILE").mkdir()
    (tmp_path / "DATA").mkdir()
    subst = {"NET": str(net), "OUT": str(tmp_path / "OUT"), "STRAY": str(tmp_path),
             "DATA": str(tmp_path / "DATA"), "DIRFILE": str(tmp_path / "DIRFILE"),
             "FILE": str(tmp_path / "FILE")}
    argv = [subst.get(a, a) if "/" not in a or a.startswith("/proc") else
            subst.get(a.split("/")[0], a.split("/")[0]) + "/" + a.split("/", 1)[1]
            for a in argv]
    argv = [str(tmp_path / "OUT.xyz") if a == "OUT.xyz" else a for a in argv]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "OUT").exists()


def test_an_internal_error_exits_4_and_asks_for_a_report(monkeypatch, capsys):
    import symdnn.cli.commands as C

    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(C, "_cmd_demo", broken)
    from symdnn.cli import parser as P

    monkeypatch.setattr(P.C, "_cmd_demo", broken)
    assert main(["demo"]) == 4
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: a bug" in err and "please report" in err
    assert "Traceback" not in err
    with pytest.raises(RuntimeError):
        main(["--debug", "demo"])


def test_ctrl_c_exits_130(monkeypatch, capsys):
    from symdnn.cli import parser as P

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(P.C, "_cmd_demo", interrupted)
    assert main(["demo"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_a_closed_pipe_exits_quietly(net):
    proc = subprocess.run(f"{sys.executable} -m symdnn.cli infer {net} | head -c 10",
                          shell=True, capture_output=True, text=True, check=False)
    assert proc.stdout == "ad\tad\t1 ou" and proc.stderr == ""


def test_verify_json_lists_the_categories(net, tmp_path, capsys):
    assert main(["verify", str(net), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["exact"] is True and len(doc["categories"]) == 37 and "ad" in doc["categories"]
    assert main(["verify", str(net), "--json", str(tmp_path / "v.json")]) == 0
    assert json.loads((tmp_path / "v.json").read_text())["categories"] == doc["categories"]


def test_every_option_has_help():
    import argparse

    from symdnn.cli import build_parser

    def walk(p: argparse.ArgumentParser, name: str):
        assert p.description, f"{name} has no description"
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sub_name, sub in a.choices.items():
                    yield from walk(sub, f"{name} {sub_name}")
            elif a.option_strings and a.dest != "help":
                yield name, a

    for name, action in walk(build_parser(), "symdnn"):
        assert action.help, f"{name} {action.option_strings} has no help"


# --- suites with missing or malformed parts --------------------------------------------------

@pytest.fixture
def suite(net, tmp_path) -> Path:
    assert main(["suite", "build", str(net), "--out", str(tmp_path / "suite"), "--formats",
                 "fp32", "--quiet"]) == 0
    return tmp_path / "suite"


@pytest.mark.parametrize("key", ["files", "parameters", "values", "shapes"])
def test_suite_manifest_with_a_missing_key_is_a_clean_error(suite, key, capsys):
    man = json.loads((suite / "manifest.json").read_text())
    del man[key]
    (suite / "manifest.json").write_text(json.dumps(man))
    assert main(["suite", "verify", str(suite), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"key {key!r} missing" in err and "manifest.json" in err


def test_suite_with_a_missing_file_fails_or_errs_cleanly(suite, capsys):
    (suite / "inputs.tsv").unlink()
    code = main(["suite", "verify", str(suite), "--quiet"])
    captured = capsys.readouterr()
    assert code in (1, 2) and "Traceback" not in captured.err
    assert "inputs.tsv" in captured.out + captured.err


def test_suite_listing_a_path_outside_it_is_refused(suite, capsys):
    man = json.loads((suite / "manifest.json").read_text())
    man["files"]["../../../../../../etc/hostname"] = "0" * 64
    from symdnn.suite.integrity import canonical_json

    (suite / "manifest.json").write_bytes(canonical_json(man))
    assert main(["suite", "verify", str(suite), "--quiet"]) == 1
    assert "a path outside the suite" in capsys.readouterr().out


def test_grade_rounds_decimal_results_once_into_the_format(suite, tmp_path, capsys):
    """A correctly rounded fp32 implementation that prints 9 significant digits passes."""
    lines = (suite / "expected" / "fp32.tsv").read_text().splitlines()
    out = []
    for line in lines:
        r, c, hexv = line.split("\t")[:3]
        out.append(f"{r}\t{c}\t{float.fromhex(hexv):.9g}")
    (tmp_path / "res.tsv").write_text("\n".join(out) + "\n")
    assert main(["suite", "grade", str(suite), str(tmp_path / "res.tsv"), "--format",
                 "fp32"]) == 0


def test_stray_byte_matrixmarket_file_exits_2_not_a_signal(tmp_path):
    """scipy's mmread segfaults on such a file; the command must answer with exit 2."""
    import shutil

    gc = GC_FIXTURE
    data = tmp_path / "gc"
    (data / "neuron1024").mkdir(parents=True)
    layer = next((gc / "neuron1024").glob("n1024-l1.tsv*"))
    shutil.copy(layer, data / "neuron1024" / layer.name)
    text = (gc / "sparse-images-1024_subset.mtx").read_bytes().rstrip(b"\n") + b"x"
    (data / "sparse-images-1024_subset.mtx").write_bytes(text)
    proc = subprocess.run([sys.executable, "-m", "symdnn.cli", "graph-challenge", str(data),
                           "--layers", "1", "--quiet"], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "sparse-images-1024_subset.mtx:" in proc.stderr and "Traceback" not in proc.stderr


# --- found by a hostile review of the above --------------------------------------------------

def test_force_never_deletes_files_added_beside_an_earlier_output(net, capsys):
    (net / "my-notes.txt").write_text("mine")
    assert main(["build", "--builtin", "words3", "--out", str(net), "--force"]) == 2
    assert "files symdnn did not write" in capsys.readouterr().err
    assert (net / "my-notes.txt").read_text() == "mine"


def test_a_forged_marker_does_not_unlock_a_user_folder(user_folder, capsys):
    (user_folder / ".symdnn-output.json").write_text('{"kind": "network"}')
    before = _tree(user_folder)
    assert main(["build", "--builtin", "words2", "--out", str(user_folder), "--force"]) == 2
    assert _tree(user_folder) == before


def test_a_changed_file_in_an_earlier_output_blocks_force(net, capsys):
    (net / "W0.tsv").write_text((net / "W0.tsv").read_text() + "# edited by hand\n")
    assert main(["build", "--builtin", "words3", "--out", str(net), "--force"]) == 2
    assert "W0.tsv" in capsys.readouterr().err


@pytest.mark.parametrize("opt", ["--json", "--csv", "--markdown"])
def test_an_input_file_is_never_an_output(tmp_path, opt, capsys):
    words = tmp_path / "words.txt"
    words.write_text("ab\ncd\n")
    assert main(["threshold", "--words", str(words), opt, str(words), "--force"]) == 2
    assert words.read_text() == "ab\ncd\n"


def test_a_failed_plot_leaves_the_old_file(tmp_path, monkeypatch):
    import matplotlib.figure

    old = tmp_path / "fig.png"
    old.write_bytes(b"OLD")

    def half(self, path, *a, **k):
        Path(path).write_bytes(b"PARTIAL")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half)
    assert main(["threshold", "--builtin", "words2", "--plot", str(old), "--force"]) == 2
    assert old.read_bytes() == b"OLD"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]


def test_two_outputs_of_one_command_may_not_collide(net, tmp_path, capsys):
    assert main(["audit", str(net), "--report", str(tmp_path / "r"), "--json",
                 str(tmp_path / "r" / "a.json"), "--quiet"]) == 2
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("argv, words", [
    (["build", "--builtin", "words2", "--labels", "L", "--out", "OUT"], "only for --mnist"),
    (["build", "--builtin", "words2", "--layers", "1", "--out", "OUT"], "--combinatoric"),
    (["generate", "radixnet", "--beta", "5", "--out", "OUT"], "--style exact"),
    (["infer", "NET", "--accumulate", "fp32"], "--accumulate"),
    (["audit", "NET", "--fail-on", "categories:-5"], "finite number >= 0"),
    (["audit", "NET", "--fail-on", "sign_flip:nan"], "finite number >= 0"),
    (["audit", "NET", "--fail-on", "categories:abc"], "not a number"),
    (["audit", "NET", "--fail-on", "categories:"], "give a limit"),
])
def test_options_that_do_not_apply_or_make_no_sense_are_errors(argv, words, net, tmp_path,
                                                                capsys):
    subst = {"NET": str(net), "OUT": str(tmp_path / "OUT"), "L": str(tmp_path / "L")}
    assert main([subst.get(a, a) for a in argv]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "OUT").exists()


def test_accumulating_in_fp8_is_refused_cleanly(net, capsys):
    with pytest.raises(SystemExit):
        main(["infer", str(net), "--arith", "fp16", "--accumulate", "fp8_e4m3"])
    from symdnn.constructions import load_construction
    from symdnn.errors import SymdnnError

    c = load_construction(str(net))
    with pytest.raises(SymdnnError, match="accumulate"):
        c.net.infer(c.inputs, arith="fp16", accumulate="fp8_e4m3")


def test_mnist_counts_beyond_the_file_are_errors(tmp_path, capsys):
    imgs = full_file("mnist/t10k-images-idx3-ubyte.gz")
    for extra in (["--start", "10000"], ["--count", "10001"], ["--start", "9999", "--count", "5"]):
        assert main(["build", "--mnist", str(imgs), "--out", str(tmp_path / "m")] + extra) == 2
        assert "holds 10000" in capsys.readouterr().err


def test_non_utf8_words_file_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "w.txt").write_bytes(b"ab\n\xff\xfe\n")
    assert main(["build", "--words", str(tmp_path / "w.txt"), "--out", str(tmp_path / "n")]) == 2
    assert "w.txt:2: not UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize("edit, words", [
    (lambda lines: lines + [lines[0]], "given twice"),
    (lambda lines: [lines[0] + "\textra"] + lines[1:], "3 tab-separated fields"),
    (lambda lines: ["0\t1\t1"] + lines[1:], "1-based"),
    (lambda lines: [lines[0].rsplit("\t", 1)[0] + "\tnan"] + lines[1:], "not a finite"),
])
def test_grade_reads_results_strictly(suite, tmp_path, edit, words, capsys):
    lines = (suite / "expected" / "exact.tsv").read_text().splitlines()
    (tmp_path / "r.tsv").write_text("\n".join(edit(lines)) + "\n")
    assert main(["suite", "grade", str(suite), str(tmp_path / "r.tsv")]) == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("command", ["audit", "certify"])
def test_a_report_path_that_is_a_link_pointing_nowhere_is_refused(net, tmp_path, capsys,
                                                                  command):
    """A dangling link named by --report is what is there: refused, never followed to make
    the folder it points at (which nobody named)."""
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "rep"
    link.symlink_to(tmp_path / "elsewhere" / "target")
    assert main([command, str(net), "--formats", "fp16", "--report", str(link),
                 "--quiet"]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert list((tmp_path / "elsewhere").iterdir()) == [] and link.is_symlink()
    out = tmp_path / "out.json"
    out.symlink_to(tmp_path / "elsewhere" / "x.json")  # a file output alike
    assert main([command, str(net), "--formats", "fp16", "--json", str(out), "--quiet"]) == 2
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_certify_refuses_one_path_for_two_outputs_before_any_work(net, tmp_path, capsys):
    for rep, js in (("X", "X"), ("D", "D/details.json")):
        assert main(["certify", str(net), "--formats", "fp16", "--report", str(tmp_path / rep),
                     "--json", str(tmp_path / js), "--quiet"]) == 2
        err = capsys.readouterr()
        assert "two outputs" in err.err and "Precision certificate" not in err.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net"]


def test_a_huge_jobs_count_is_every_process_there_is_work_for(net, tmp_path):
    """--jobs 10**20 deals the runs out as --jobs 3 would (one process a run at most)."""
    outs = []
    for jobs in ("100000000000000000000", "1"):
        p = tmp_path / f"a{len(outs)}.json"
        assert main(["audit", str(net), "--formats", "fp16,bf16", "--jobs", jobs, "--json",
                     str(p), "--quiet"]) == 0
        js = json.loads(p.read_text())
        js.pop("seconds")
        for r in js["runs"].values():
            r.pop("seconds")
        outs.append(js)
    assert outs[0] == outs[1]
