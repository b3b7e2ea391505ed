#!/usr/bin/env python3
"""Run the demo: ``python3 scripts/demo.py [addr:port]``.

Creates ``.venv`` if needed (the app and its run-time dependencies only: no test tools), migrates the SQLite
database, creates the demo policies and the admin user, then starts Django's development server (on
127.0.0.1:8000 unless you pass another address) and prints the admin's and the CORS playground's addresses.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _venv import ROOT, ensure_venv, exec_in_venv, run

DEFAULT_ADDR = "127.0.0.1:8000"


def main(argv: list[str]) -> None:
    python = ensure_venv("demo")
    manage = ROOT / "manage.py"
    run([python, manage, "migrate", "--noinput"])
    run([python, manage, "demo_setup"])
    if not any(not arg.startswith("-") for arg in argv):
        argv = [*argv, DEFAULT_ADDR]
    # The demo's runserver prints the admin's and the playground's addresses once it has bound the port.
    exec_in_venv([python, manage, "runserver", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
