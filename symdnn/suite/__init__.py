"""Certified reference suites: build one (:mod:`~symdnn.suite.build`), verify it two
independent ways (:mod:`~symdnn.suite.verify`), grade an implementation against it
(:mod:`~symdnn.suite.grade`); :mod:`~symdnn.suite.integrity` holds the manifest, hash and
folder-structure checks, and ``check.py`` is the standard-library-only checker every suite
ships (it imports nothing from symdnn). The format: docs/suite-format.md."""

from __future__ import annotations

from symdnn.suite.build import build_suite
from symdnn.suite.grade import Grade, grade_suite
from symdnn.suite.integrity import FORMAT, root_digest
from symdnn.suite.verify import SuiteCheck, run_checker, verify_suite

__all__ = ["build_suite", "verify_suite", "grade_suite", "run_checker", "root_digest",
           "SuiteCheck", "Grade", "FORMAT"]
