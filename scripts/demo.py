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
    addr = next((arg for arg in argv if not arg.startswith("-")), None)
    if addr is None:
        addr = DEFAULT_ADDR
        argv = [*argv, addr]
    elif addr.isdigit():  # runserver takes a bare port and serves on 127.0.0.1
        addr = f"127.0.0.1:{addr}"
    print()
    print(f"Admin: http://{addr}/admin/  login: admin / admin")
    print(f"CORS playground: http://{addr}/playground/ (it calls the same server under its other name)")
    print("Stop the server with Ctrl+C.", flush=True)
    exec_in_venv([python, manage, "runserver", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
