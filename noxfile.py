"""The test matrix: each supported Django series on the Pythons CI tests it on (issue 18).

``.venv/bin/python -m nox -l`` lists the sessions; ``-s django-6.1-py3.13`` runs one, and arguments after
``--`` go to pytest (``-s django-4.2-py3.10 -- -k engine``). One session per series also runs the
out-of-tree install test (tests/test_install.py, ``INSTALL_TEST``) against that series. Interpreters are
found under pyenv (``$PYENV_ROOT/versions``) or as ``python3.X`` on PATH. The virtualenvs live in ``.nox``
(ignored by git); ``-r`` reuses them.

On the newest pair (Django 6.1, Python 3.13) deprecation warnings from Django and DRF are errors, so the
next Django release cannot break the app silently.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.envdir = ".nox"
nox.options.error_on_missing_interpreters = True
nox.options.default_venv_backend = "venv"

#: Django series → the Pythons each is tested on (pyproject's classifiers say the same).
MATRIX: dict[str, list[str]] = {
    "4.2": ["3.10", "3.11"],
    "5.2": ["3.11", "3.13"],
    "6.0": ["3.12", "3.13"],
    "6.1": ["3.12", "3.13"],
}
NEWEST = ("6.1", "3.13")
#: The pair whose session also runs the out-of-tree install test (tests/test_install.py) for its series.
INSTALL_TEST = {("4.2", "3.10"), ("5.2", "3.13"), ("6.0", "3.12"), ("6.1", "3.13")}

#: Deprecations from Django (by class: these aliases exist in every supported series) and DRF (by module).
STRICT_WARNINGS = [
    "-W",
    "error::django.utils.deprecation.RemovedInNextVersionWarning",
    "-W",
    "error::django.utils.deprecation.RemovedAfterNextVersionWarning",
    "-W",
    r"error::DeprecationWarning:rest_framework(\..*)?",
    "-W",
    r"error::PendingDeprecationWarning:rest_framework(\..*)?",
]


def interpreter(version: str) -> str:
    """The pyenv build of ``version`` when there is one (its shims need ``pyenv global``), else ``python3.X``."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted((root / "versions").glob(f"{version}.*/bin/python{version}"), reverse=True):
        return str(candidate)
    return shutil.which(f"python{version}") or f"python{version}"


def suite(django: str, python: str) -> None:
    def run(session: nox.Session) -> None:
        session.install("-e", ".[test]", f"django~={django}.0")
        session.run("python", "-c", "import sys, django; print('Django', django.get_version(), 'on', sys.version)")
        options = STRICT_WARNINGS if (django, python) == NEWEST else []
        env = {"CORS_POLICIES_INSTALL_TEST": "1"} if (django, python) in INSTALL_TEST else {}
        session.run("python", "-m", "pytest", *options, *session.posargs, env=env)

    run.__doc__ = f"The whole suite on Django {django}, Python {python}" + (
        ", with the out-of-tree install test." if (django, python) in INSTALL_TEST else "."
    )
    nox.session(name=f"django-{django}-py{python}", python=interpreter(python))(run)


for _django, _pythons in MATRIX.items():
    for _python in _pythons:
        suite(_django, _python)
