"""The repository's virtual environment, made and kept up to date with the standard library only.

``ensure_venv(profile)`` creates ``.venv`` at the repository root with the Python that runs the script and
installs the project into it, editable, with what the profile needs:

- ``"demo"``: the app and its run-time dependencies only (``pip install -e .``), what ``scripts/demo.py`` needs;
- ``"dev"``: the whole development toolchain (``pip install -e '.[dev]'``: the test suite, lint, types, docs).

pip picks the newest Django that the Python supports (5.2 on 3.10 and 3.11, 6.x from 3.12), so
``python3.13 scripts/test.py`` tests Django 6.1. A venv made by another Python version is made again.
A stamp records the Python version, a hash of ``pyproject.toml`` and the profiles installed, so a second
run with nothing changed starts in a second; ``dev`` includes everything ``demo`` needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".cors-policies-install.json"
MIN_PYTHON = (3, 10)

#: What ``pip install -e`` gets per profile, and which profiles each one also satisfies.
PROFILES: dict[str, str] = {"demo": ".", "dev": ".[dev]"}
COVERS: dict[str, set[str]] = {"demo": {"demo"}, "dev": {"demo", "dev"}}


def venv_bin(name: str) -> Path:
    """Path of an executable inside the venv (``bin/`` on POSIX, ``Scripts/`` on Windows)."""
    folder = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / folder / f"{name}{suffix}"


def _requirements_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def _python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _read_stamp() -> dict[str, object]:
    try:
        data = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _venv_python_version() -> str | None:
    """``3.11`` from the venv's ``pyvenv.cfg``, or None when there is no venv (or it cannot be read)."""
    try:
        lines = (VENV / "pyvenv.cfg").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            return ".".join(value.strip().split(".")[:2])
    return None


def run(command: list[str | Path]) -> None:
    printable = " ".join(str(part) for part in command)
    print(f"$ {printable}", flush=True)
    result = subprocess.run([str(part) for part in command], cwd=ROOT, check=False)  # noqa: S603
    if result.returncode != 0:
        print(f"error: `{printable}` exited with {result.returncode}", file=sys.stderr, flush=True)
        sys.exit(result.returncode)


def _create() -> None:
    found = _venv_python_version()
    if found is not None and found != _python_version():
        print(f"{VENV} was made with Python {found}; making it again with Python {_python_version()} ...", flush=True)
        shutil.rmtree(VENV)
    print(f"Creating a virtual environment in {VENV} (Python {_python_version()}) ...", flush=True)
    command = [sys.executable, "-m", "venv", *(["--clear"] if VENV.exists() else []), str(VENV)]
    if subprocess.run(command, check=False).returncode != 0:  # noqa: S603
        sys.exit(f"error: could not create {VENV} (on Debian or Ubuntu: apt-get install python3-venv)")
    # The pip a venv starts with can be years old; a current one reads today's package metadata.
    run([venv_bin("python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])


def ensure_venv(profile: str = "dev") -> Path:
    """Make ``.venv`` if needed, install what ``profile`` needs if it is not there yet; return its python."""
    if sys.version_info < MIN_PYTHON:
        sys.exit(f"error: Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed, this is {sys.version.split()[0]}")
    python = venv_bin("python")
    if not python.exists() or _venv_python_version() != _python_version():
        _create()
    wanted = _requirements_hash()
    stamp = _read_stamp()
    installed = stamp.get("profiles") if stamp.get("pyproject") == wanted else None
    covered: set[str] = set()
    for name in installed if isinstance(installed, list) else []:
        covered |= COVERS.get(str(name), set())
    if profile not in covered:
        what = "the app" if profile == "demo" else "the project and its development tools"
        print(f"Installing {what} into .venv ...", flush=True)
        STAMP.unlink(missing_ok=True)
        run([python, "-m", "pip", "install", "-e", PROFILES[profile]])
        profiles = sorted({profile, *(installed if isinstance(installed, list) else [])})
        STAMP.write_text(json.dumps({"python": _python_version(), "pyproject": wanted, "profiles": profiles}) + "\n")
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
