"""The console script: version, help, and the demo's exit status and output."""

from __future__ import annotations

import subprocess
import sys

import pytest

from symdnn import __version__
from symdnn.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"symdnn {__version__}"


def test_bare_symdnn_prints_usage_and_exits_2(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "demo" in err and "usage: symdnn" in err


def test_demo_checks_everything_and_writes_a_report(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "37 categories x 33 features, 74 entries" in out
    assert "Y1 == I(37 categories), exactly: True" in out and "all checks pass" in out
    report = (tmp_path / "report.md").read_text()
    assert "- [x] Fig. 10 right: r_d = 2/5 for all 2384 pairs" in report
    assert "717/1024" in report
    assert {p.name for p in tmp_path.iterdir()} >= {"fig6.png", "fig10-left.png",
                                                    "fig10-right.png", "report.md"}


def test_console_entry_point_runs_as_a_module():
    proc = subprocess.run([sys.executable, "-m", "symdnn.cli", "--version"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_infer_prints_the_selected_category(tmp_path, capsys):
    assert main(["build", "--builtin", "words2", "--out", str(tmp_path / "n")]) == 0
    capsys.readouterr()
    assert main(["infer", str(tmp_path / "n"), "--arith", "fp16",
                 "--out", str(tmp_path / "y.tsv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ad\tad\t1 outputs nonzero" and len(lines) == 37
    assert (tmp_path / "y.tsv").read_text().startswith("ad\tad\t1.0")
