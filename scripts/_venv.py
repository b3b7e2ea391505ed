"""The repository's virtual environment, made and kept up to date with the standard library only.

``ensure_venv()`` creates ``.venv`` at the repository root when it is missing and installs the project with
its test extras (``pip install -e '.[test]'``). It records a hash of ``pyproject.toml`` in the venv and skips
the install when that hash still matches, so the second run starts in a second.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".cors-policies-install.sha256"
MIN_PYTHON = (3, 10)


def venv_bin(name: str) -> Path:
    """Path of an executable inside the venv (``bin/`` on POSIX, ``Scripts/`` on Windows)."""
    folder = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / folder / f"{name}{suffix}"


def _requirements_hash() -> str:
    digest = hashlib.sha256()
    digest.update((ROOT / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def run(command: list[str | Path]) -> None:
    printable = " ".join(str(part) for part in command)
    print(f"$ {printable}", flush=True)
    result = subprocess.run([str(part) for part in command], cwd=ROOT, check=False)  # noqa: S603
    if result.returncode != 0:
        print(f"error: `{printable}` exited with {result.returncode}", file=sys.stderr, flush=True)
        sys.exit(result.returncode)


def ensure_venv() -> Path:
    """Make ``.venv`` if needed, install the project into it if ``pyproject.toml`` changed; return its python."""
    if sys.version_info < MIN_PYTHON:
        sys.exit(f"error: Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed, this is {sys.version.split()[0]}")
    python = venv_bin("python")
    if not python.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        command = [sys.executable, "-m", "venv", *(["--clear"] if VENV.exists() else []), str(VENV)]
        if subprocess.run(command, check=False).returncode != 0:  # noqa: S603
            sys.exit(f"error: could not create {VENV} (on Debian or Ubuntu: apt-get install python3-venv)")
    wanted = _requirements_hash()
    current = STAMP.read_text().strip() if STAMP.exists() else ""
    if current != wanted:
        print("Installing the project and its test tools into .venv ...", flush=True)
        STAMP.unlink(missing_ok=True)
        run([python, "-m", "pip", "install", "-e", ".[test]"])
        STAMP.write_text(wanted + "\n")
    return python


def exec_in_venv(command: list[str | Path]) -> None:
    """Replace this process with ``command`` run from the repository root with the venv first on PATH."""
    os.chdir(ROOT)
    env = dict(os.environ)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = str(venv_bin("python").parent) + os.pathsep + env.get("PATH", "")
    args = [str(part) for part in command]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "nt":  # no real exec on Windows: run it and pass the exit code on
        sys.exit(subprocess.run(args, env=env, check=False).returncode)  # noqa: S603
    os.execve(args[0], args, env)  # noqa: S606
