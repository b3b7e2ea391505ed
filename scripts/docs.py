#!/usr/bin/env python3
"""Build the documentation site: ``python3 scripts/docs.py`` (``mkdocs build --strict`` into ``site/``).

The docs get a virtual environment of their own, ``.venv-docs``, with MkDocs, the Material theme and the
project itself (the API reference page is rendered from the schema the app generates, see
``scripts/docs_hooks.py``). It is made on first use and reinstalled only when this file or ``pyproject.toml``
changes. Arguments replace ``build --strict``: ``python3 scripts/docs.py serve`` previews the site at
http://127.0.0.1:8000/ while you edit. Strict mode fails the build on a broken link or anchor, a missing
include, or a page left out of the navigation.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-docs"
STAMP = VENV / ".cors-policies-docs.sha256"
#: Pinned: a new release can add warnings, and strict mode turns those into failures.
REQUIREMENTS = ["mkdocs==1.6.1", "mkdocs-material==9.8.2", "pymdown-extensions==13.1.2"]


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(command: list[str]) -> None:
    print("$ " + " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.exit(f"error: `{' '.join(command)}` exited with {result.returncode}")


def ensure_docs_venv() -> Path:
    """Make ``.venv-docs`` if needed and install what the build needs when the requirements changed."""
    python = venv_python()
    if not python.exists():
        print(f"Creating a virtual environment for the docs in {VENV} ...", flush=True)
        run([sys.executable, "-m", "venv", *(["--clear"] if VENV.exists() else []), str(VENV)])
    digest = hashlib.sha256()
    for source in (Path(__file__), ROOT / "pyproject.toml"):
        digest.update(source.read_bytes())
    wanted = digest.hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        STAMP.unlink(missing_ok=True)
        run([str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS, "-e", str(ROOT)])
        STAMP.write_text(wanted + "\n")
    return python


def main(argv: list[str]) -> None:
    python = ensure_docs_venv()
    run([str(python), "-m", "mkdocs", *(argv or ["build", "--strict"])])


if __name__ == "__main__":
    main(sys.argv[1:])
