#!/usr/bin/env python3
"""Build the documentation site: ``python3 scripts/docs.py`` (``mkdocs build --strict`` into ``site/``).

The site is built from the repository's ``.venv`` (the ``dev`` extras include ``docs``), with the project
installed, because the API reference page is rendered from the schema the app generates (see
``scripts/docs_hooks.py``). Arguments replace ``build --strict``: ``python3 scripts/docs.py serve`` previews
the site at http://127.0.0.1:8000/ while you edit. Strict mode fails the build on a broken link or anchor,
a missing include, or a page left out of the navigation.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _venv import ensure_venv, exec_in_venv


def main(argv: list[str]) -> None:
    python = ensure_venv("dev")
    exec_in_venv([python, "-m", "mkdocs", *(argv or ["build", "--strict"])])


if __name__ == "__main__":
    main(sys.argv[1:])
