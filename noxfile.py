"""The test matrix: the suite on each supported Django, on the machine's Python.

``.venv/bin/python -m nox`` runs every session; ``.venv/bin/python -m nox -s django-4.2`` runs one, and
arguments after ``--`` go to pytest (``-s django-4.2 -- -k engine``). The virtualenvs live under
``.venv/nox`` (already ignored by git); ``-r`` reuses them between runs. ``.ci/run`` runs ``django-4.2``:
Django 5.2 is what its first two legs already run.
"""

from __future__ import annotations

import nox

nox.options.envdir = ".venv/nox"
nox.options.error_on_missing_interpreters = True


def run_suite(session: nox.Session, django: str) -> None:
    """Install the project with its test extras on the given Django feature release, then run pytest."""
    session.install("-e", ".[test]", f"django~={django}.0")
    session.run("python", "-c", "import django; print('Django', django.get_version())")
    session.run("python", "-m", "pytest", *session.posargs)


# One session per Django version the package supports (pyproject's classifiers).
@nox.session(name="django-4.2", python=None)
def django_42(session: nox.Session) -> None:
    run_suite(session, "4.2")


@nox.session(name="django-5.2", python=None)
def django_52(session: nox.Session) -> None:
    run_suite(session, "5.2")
