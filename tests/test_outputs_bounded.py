"""Issue 25, items 13, 15, 16 and 17: a full bias says what it is; a command's outputs are
committed together; SIGTERM is an interrupt in every phase; a user's empty --out folder keeps
its mode. Each test names what it guards."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from symdnn import AssocArray, SparseDNN
from symdnn.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _tree(root: Path) -> dict:
    """Every file under ``root`` with its bytes, and every folder (what a user had)."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


# --- 13: a full bias B_l says what it is -----------------------------------------------------

def _two_inputs():
    """Column convention: neurons p, q read feature a; inputs i1 and i2 (a = 1 in both)."""
    W = AssocArray.from_triples(["p", "q"], ["a", "a"], [1, 1], domain="QQ")
    Y0 = AssocArray.from_triples(["a", "a"], ["i1", "i2"], [1, 1], domain="QQ")
    return W, Y0


def test_full_bias_over_one_input_biases_only_that_input():
    from symdnn.network import FullBias

    W, Y0 = _two_inputs()
    B = AssocArray.from_triples(["p", "q"], ["i1", "i1"], [2, 3], domain="QQ")  # over i1 only
    net = SparseDNN.from_layers([W], [FullBias(B)])
    assert net.layers[0].B is not None and net.layers[0].bias == {}
    out = net.infer(Y0).output.to_dict()
    assert out == {"p": {"i1": 3, "i2": 1}, "q": {"i1": 4, "i2": 1}}


def test_a_plain_one_row_array_in_column_convention_is_a_full_bias_over_one_neuron():
    """One neuron x two inputs: a B_l (docs: per-neuron biases are one column here), not a
    bias for neurons named i1 and i2."""
    W, Y0 = _two_inputs()
    B = AssocArray.from_triples(["p", "p"], ["i1", "i2"], [2, 5], domain="QQ")
    net = SparseDNN.from_layers([W], [B])
    assert net.layers[0].B is not None
    assert net.layers[0].outputs == ("p", "q")
    assert net.infer(Y0).output.to_dict() == {"p": {"i1": 3, "i2": 6}, "q": {"i1": 1, "i2": 1}}


def test_a_plain_one_column_array_in_row_convention_is_a_full_bias_over_one_neuron():
    W = AssocArray.from_triples(["a", "a"], ["p", "q"], [1, 1], domain="QQ")  # in x out
    Y0 = AssocArray.from_triples(["i1", "i2"], ["a", "a"], [1, 1], domain="QQ")
    B = AssocArray.from_triples(["i1", "i2"], ["p", "p"], [2, 5], domain="QQ")  # batch x p
    net = SparseDNN.from_layers([W], [B], convention="row")
    assert net.layers[0].B is not None
    assert net.infer(Y0).output.to_dict() == {"i1": {"p": 3, "q": 1}, "i2": {"p": 6, "q": 1}}


def test_a_per_neuron_bias_in_its_documented_shape_is_unchanged():
    W, Y0 = _two_inputs()
    col = AssocArray.from_triples(["p", "q"], ["x", "x"], [2, 3], domain="QQ")
    net = SparseDNN.from_layers([W], [col])
    assert net.layers[0].B is None and net.layers[0].bias == {"p": 2, "q": 3}
    Wr = W.T
    row = AssocArray.from_triples(["x", "x"], ["p", "q"], [2, 3], domain="QQ")
    net = SparseDNN.from_layers([Wr], [row], convention="row")
    assert net.layers[0].B is None and net.layers[0].bias == {"p": 2, "q": 3}


def test_full_bias_round_trips_through_a_network_folder(tmp_path):
    from symdnn.network import FullBias, read_network, write_network

    W, Y0 = _two_inputs()
    B = AssocArray.from_triples(["p"], ["i1"], [Fraction(1, 3)], domain="QQ")  # 1 x 1
    net = SparseDNN.from_layers([W], [FullBias(B)])
    write_network(tmp_path / "n", net, inputs=Y0)
    back, info = read_network(tmp_path / "n")
    assert back.layers[0].B is not None and back.layers[0].B.isequal(net.layers[0].B)
    assert back.infer(info["inputs"]).output.isequal(net.infer(Y0).output)
    got = {n: {i: Fraction(str(v)) for i, v in row.items()}
           for n, row in back.infer(Y0).output.to_dict().items()}
    assert got == {"p": {"i1": Fraction(4, 3), "i2": 1}, "q": {"i1": 1, "i2": 1}}


# --- 15: a command's outputs are committed together ------------------------------------------

def _disk_full(*a, **k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_threshold_leaves_no_csv_or_markdown_when_the_plot_fails(tmp_path, monkeypatch):
    import symdnn.plotting as P

    monkeypatch.setattr(P, "plot_thresholds", _disk_full)
    argv = ["threshold", "--builtin", "words2", "--csv", str(tmp_path / "t.csv"),
            "--markdown", str(tmp_path / "t.md"), "--plot", str(tmp_path / "t.png")]
    assert main(argv) == 2
    assert list(tmp_path.iterdir()) == []


def test_threshold_failing_plot_restores_files_it_would_replace(tmp_path, monkeypatch):
    import matplotlib.figure

    (tmp_path / "t.csv").write_text("mine\n")
    (tmp_path / "t.md").write_text("notes\n")
    before = _tree(tmp_path)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _disk_full)
    argv = ["threshold", "--builtin", "words2", "--csv", str(tmp_path / "t.csv"),
            "--markdown", str(tmp_path / "t.md"), "--plot", str(tmp_path / "t.png"), "--force"]
    assert main(argv) == 2
    assert _tree(tmp_path) == before


def test_threshold_writes_every_output_when_nothing_fails(tmp_path):
    argv = ["threshold", "--builtin", "words2", "--csv", str(tmp_path / "t.csv"),
            "--markdown", str(tmp_path / "t.md"), "--plot", str(tmp_path / "t.png")]
    assert main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.md", "t.png"]


def test_build_leaves_no_network_when_the_plot_fails(tmp_path, monkeypatch):
    import matplotlib.figure

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _disk_full)
    assert main(["build", "--builtin", "words2", "--out", str(tmp_path / "n"), "--plot",
                 str(tmp_path / "w.png")]) == 2
    assert list(tmp_path.iterdir()) == []


def test_build_failing_plot_keeps_the_earlier_network(tmp_path, monkeypatch):
    import matplotlib.figure

    assert main(["build", "--builtin", "words2", "--out", str(tmp_path / "n")]) == 0
    before = _tree(tmp_path)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _disk_full)
    assert main(["build", "--builtin", "words3", "--out", str(tmp_path / "n"), "--plot",
                 str(tmp_path / "w.png"), "--force"]) == 2
    assert _tree(tmp_path) == before


def test_a_failed_rename_at_commit_undoes_the_renames_before_it(tmp_path, monkeypatch):
    from symdnn.io import outputs as O

    (tmp_path / "b.txt").write_text("old b\n")
    before = _tree(tmp_path)
    real = os.replace

    def third_fails(src, dst):
        if os.fspath(dst).endswith("c.txt"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    with pytest.raises(OSError):
        with O.command_outputs([tmp_path / "a.txt", tmp_path / "b.txt",
                                tmp_path / "c.txt"]):
            O.atomic_write(tmp_path / "a.txt", b"a")
            O.atomic_write(tmp_path / "b.txt", b"new b")
            monkeypatch.setattr(os, "replace", third_fails)
            O.atomic_write(tmp_path / "c.txt", b"c")
    monkeypatch.setattr(os, "replace", real)
    assert _tree(tmp_path) == before


# --- 16: SIGTERM exits 130 with the one-line message in every phase ---------------------------

def _sigterm_in(phase: str, argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``symdnn ARGV`` in a subprocess whose ``phase`` (a name in symdnn.cli.commands)
    signals that it started and then sleeps; SIGTERM it there."""
    ready = cwd / "ready.flag"
    code = ("import sys, time, pathlib\n"
            "import symdnn.cli.commands as C\n"
            "def slow(*a, **k):\n"
            f"    pathlib.Path({str(ready)!r}).write_text('x')\n"
            "    time.sleep(60)\n"
            f"C.{phase} = slow\n"
            "from symdnn.cli import main\n"
            f"sys.exit(main({argv!r}))\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not ready.exists() and proc.poll() is None:
        time.sleep(0.02)
    assert ready.exists(), proc.communicate()[1]
    ready.unlink()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.fixture(scope="module")
def network(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("net") / "net"
    assert main(["build", "--builtin", "words2", "--out", str(d)]) == 0
    return d


@pytest.mark.parametrize("name, phase, argv", [
    ("build", "build_construction", ["build", "--builtin", "words2", "--out", "OUT",
                                     "--plot", "OUT.png", "--quiet"]),
    ("graph-challenge", "run_challenge", ["graph-challenge", "DATA", "--json", "OUT.json",
                                          "--quiet"]),
    ("certify", "certify", ["certify", "NET", "--json", "OUT.json", "--quiet"]),
    ("witness", "replay_results", ["witness", "--results", "R", "--benchmarks", "B",
                                   "--json", "OUT.json", "--csv", "OUT.csv", "--quiet"]),
])
def test_sigterm_before_writing_exits_130_with_the_message(name, phase, argv, network,
                                                           tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    argv = [str(network) if a == "NET" else a for a in argv]
    rc, err = _sigterm_in(phase, argv, work)
    assert rc == 130, err
    assert err.strip().splitlines() == [f"symdnn {name}: interrupted; nothing was left "
                                        "half-written"]
    assert list(work.iterdir()) == []


# --- 17: a user's empty --out folder keeps its mode --------------------------------------------

def test_an_empty_private_out_folder_stays_private(tmp_path):
    out = tmp_path / "private"
    out.mkdir()
    os.chmod(out, 0o700)
    ino = out.stat().st_ino
    old = os.umask(0o022)
    try:
        assert main(["build", "--builtin", "words2", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    assert (out / "network.json").is_file()
    assert os.stat(out).st_mode & 0o7777 == 0o700
    assert os.stat(out).st_ino == ino  # the user's own folder, filled
    assert sorted(p.name for p in tmp_path.iterdir()) == ["private"]


def test_a_failed_command_leaves_the_empty_folder_empty(tmp_path, monkeypatch):
    import matplotlib.figure

    out = tmp_path / "private"
    out.mkdir()
    os.chmod(out, 0o700)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _disk_full)
    assert main(["build", "--builtin", "words2", "--out", str(out), "--plot",
                 str(tmp_path / "w.png")]) == 2
    assert list(out.iterdir()) == []
    assert os.stat(out).st_mode & 0o7777 == 0o700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["private"]


def test_audit_leaves_no_report_or_dump_when_the_json_fails(network, tmp_path, monkeypatch):
    import symdnn.results as R

    monkeypatch.setattr(R, "atomic_write", _disk_full)
    assert main(["audit", str(network), "--formats", "fp16", "--report", str(tmp_path / "r"),
                 "--dump", str(tmp_path / "d"), "--json", str(tmp_path / "a.json"),
                 "--quiet"]) == 2
    assert list(tmp_path.iterdir()) == []


def test_a_forced_replacement_keeps_the_folders_mode(tmp_path):
    out = tmp_path / "n"
    assert main(["build", "--builtin", "words2", "--out", str(out)]) == 0
    os.chmod(out, 0o700)
    assert main(["build", "--builtin", "words3", "--out", str(out), "--force"]) == 0
    assert os.stat(out).st_mode & 0o7777 == 0o700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n"]


def test_a_second_signal_during_cleanup_is_ignored():
    """Two SIGTERMs in a row (as `timeout` and a process manager both send): the second
    arrived while the first's cleanup ran, raised inside it, and left a partial output and a
    traceback (found attacking issue 25). Now the first interrupt's cleanup finishes; nested
    blocks (main's, an output's) count as one."""
    from symdnn.io.outputs import terminate_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    done = []
    with pytest.raises(KeyboardInterrupt), terminate_as_interrupt(sigint=True):
        with terminate_as_interrupt():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # interrupted at once
            except KeyboardInterrupt:
                os.kill(os.getpid(), signal.SIGTERM)   # the second, during the cleanup
                os.kill(os.getpid(), signal.SIGINT)    # and a Ctrl-C
                time.sleep(0.05)
                done.append("inner cleanup")
                raise
        done.append("not reached")
    assert done == ["inner cleanup"]
    assert signal.getsignal(signal.SIGTERM) is before
    with pytest.raises(KeyboardInterrupt), terminate_as_interrupt():  # armed again
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
