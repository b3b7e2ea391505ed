#!/usr/bin/env python3
"""Run the checks: ``python3 scripts/test.py [pytest arguments]``.

Without arguments: ruff check, ruff format --check, mypy, the layer contracts (lint-imports, .importlinter),
then the whole test suite with branch coverage (the threshold is in pyproject.toml). With arguments
(``-k engine``, a test path...): only pytest, with those arguments and without coverage. Stops at the first
failing step with its exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _venv import ensure_venv, exec_in_venv, run, venv_bin


def main(argv: list[str]) -> None:
    python = ensure_venv("dev")
    if argv:
        exec_in_venv([python, "-m", "pytest", *argv])
    run([python, "-m", "ruff", "check", "."])
    run([python, "-m", "ruff", "format", "--check", "."])
    run([python, "-m", "mypy", "cors_policies"])
    run([str(venv_bin("lint-imports"))])
    exec_in_venv([python, "-m", "pytest", "--cov", "--cov-branch", "--cov-report=term-missing"])


if __name__ == "__main__":
    main(sys.argv[1:])
