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


def test_help_lists_demo(capsys):
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_demo_checks_the_identity(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "37 categories x 33 features, 74 entries" in out
    assert "Y1 == I(37 categories), exactly: True" in out


def test_console_entry_point_runs_as_a_module():
    proc = subprocess.run([sys.executable, "-m", "symdnn.cli", "--version"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
