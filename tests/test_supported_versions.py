"""The supported versions are written in five places; they say the same thing.

docs/install.md's table (the pairs CI tests), noxfile.py's MATRIX (the sessions), pyproject.toml's
classifiers and ``requires-python``, the README's line, and the legs of .ci/run (every session but Django 5.2
on 3.11, which is the README's own command, run last). Read as text: nox is not imported, and no TOML
parser is needed on Python 3.10.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def install_table() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "install.md").read_text()
    section = text.split("## Supported versions", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+\.\d+) \| ([\d., ]+) \|$", section, flags=re.MULTILINE)
    return {django: [python.strip() for python in pythons.split(",")] for django, pythons in rows}


def nox_matrix() -> dict[str, list[str]]:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "MATRIX":
            assert node.value is not None
            matrix: dict[str, list[str]] = ast.literal_eval(node.value)
            return matrix
    raise AssertionError("noxfile.py has no MATRIX")


def as_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_the_install_page_lists_exactly_the_nox_matrix() -> None:
    assert install_table() == nox_matrix()


def test_pyproject_classifiers_and_requires_python_say_what_is_tested() -> None:
    matrix = nox_matrix()
    pythons = sorted({python for pairs in matrix.values() for python in pairs}, key=as_version)
    text = (ROOT / "pyproject.toml").read_text()
    assert re.findall(r'"Framework :: Django :: (\d+\.\d+)"', text) == list(matrix)
    assert re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text) == pythons
    assert f'requires-python = ">={pythons[0]}"' in text


def test_the_readme_names_the_series_and_the_python_range() -> None:
    matrix = nox_matrix()
    pythons = sorted({python for pairs in matrix.values() for python in pairs}, key=as_version)
    series = list(matrix)
    line = f"Django {', '.join(series[:-1])} and {series[-1]}, on Python {pythons[0]} to {pythons[-1]}"
    assert line in (ROOT / "README.md").read_text()


def test_ci_runs_every_session() -> None:
    legs = set(re.findall(r"^\s*leg (django-\S+)", (ROOT / ".ci" / "run").read_text(), flags=re.MULTILINE))
    sessions = {f"django-{django}-py{python}" for django, pythons in nox_matrix().items() for python in pythons}
    assert legs == sessions - {"django-5.2-py3.11"}  # that one is `python3 scripts/test.py`, last
