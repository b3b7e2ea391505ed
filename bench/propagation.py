#!/usr/bin/env python3
"""How long a committed change takes to reach every worker: push (Redis; PostgreSQL without Redis) and polling.

Usage (from the repository root, after ``python3 scripts/test.py`` made .venv; PostgreSQL and Redis running):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cors_policies_bench REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python bench/propagation.py [--changes 50] [--workers 4] [--modes redis,postgresql,polling]

The demo runs under gunicorn (``--workers`` sync workers) on loopback; this process changes the ``health``
policy through the ORM ``--changes`` times (a new allowed origin each time) while poller threads keep asking every
worker whether that origin is allowed now. A change's propagation time runs from just before its ``save()`` (the
commit, then the announce) to the moment the last worker served the new verdict, by the workers' own clock
(``tests/served_by.py`` stamps each response with ``time.monotonic()``, which Linux shares between processes).
Each mode runs in a process of its own with its own settings:

- ``redis``: ``PUSH="redis"``, a Redis cache, ``REFRESH_INTERVAL=30`` (so only push explains a fast change);
- ``postgresql``: no Redis (a per-process cache), ``PUSH="auto"`` (PostgreSQL ``LISTEN/NOTIFY``), interval 30;
- ``polling``: ``PUSH=False``, a Redis cache, ``REFRESH_INTERVAL=1.0``: how every change travelled before push.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PID_HEADER = "X-Served-By"  # tests/served_by.py
AT_HEADER = "X-Served-At"
OLD = "https://old.example.com"
#: Each poller's pause between requests (seconds): the probe must not take the CPU the workers need.
PAUSE = 0.002

#: A settings module for the served processes: the demo's, with CORS_POLICIES from the environment.
SETTINGS_MODULE = "push_served_settings"
_SETTINGS_SOURCE = """\
import json
import os

from testproject.settings import *  # noqa: F403

CORS_POLICIES = json.loads(os.environ["CORS_POLICIES_JSON"])
"""

MODES: dict[str, dict[str, Any]] = {
    "redis": {"redis": True, "policies": {"PUSH": "redis", "REFRESH_INTERVAL": 30.0}},
    "postgresql": {"redis": False, "policies": {"PUSH": "auto", "REFRESH_INTERVAL": 30.0}},
    "polling": {"redis": True, "policies": {"PUSH": False, "REFRESH_INTERVAL": 1.0}},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def served_environment(
    database_url: str, redis_url: str | None, policies: dict[str, Any], folder: str
) -> dict[str, str]:
    """The environment of a process with the demo's settings and ``policies`` as CORS_POLICIES."""
    Path(folder, f"{SETTINGS_MODULE}.py").write_text(_SETTINGS_SOURCE)
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "0", "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}"}
    env.update(DJANGO_SETTINGS_MODULE=SETTINGS_MODULE, CORS_POLICIES_JSON=json.dumps(policies))
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@contextmanager
def served(workers: int, env: dict[str, str], server: str = "gunicorn") -> Iterator[str]:
    """The demo under gunicorn (or uvicorn) with ``workers`` workers and ``env``; yields its base URL."""
    port = free_port()
    if server == "gunicorn":
        command = ["-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "tests.served_by:wsgi"]
    else:
        command = ["-m", "uvicorn", "tests.served_by:asgi", "--workers", str(workers), "--port", str(port)]
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed below, after the server stops)
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env, stdout=log, stderr=log)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                fetch(base, OLD)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"{server} did not start:\n{log.read().decode()[-3000:]}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def fetch(base: str, origin: str) -> tuple[str, str | None, float]:
    """(worker pid, Access-Control-Allow-Origin, when the worker served it) of GET /health from ``origin``."""
    request = urllib.request.Request(f"{base}/health", headers={"Origin": origin})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        headers = response.headers
        return headers[PID_HEADER], headers.get("Access-Control-Allow-Origin"), float(headers[AT_HEADER])


class Probe:
    """Poller threads asking every worker, without pause, whether the current target origin is allowed."""

    def __init__(self, base: str, threads: int) -> None:
        self.base = base
        self.lock = threading.Lock()
        self.target = OLD
        self.first_new: dict[str, float] = {}
        self.pids: set[str] = set()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.poll, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def poll(self) -> None:
        while not self.stopping.wait(PAUSE):
            target = self.target
            try:
                pid, allowed, at = fetch(self.base, target)
            except OSError:
                continue
            with self.lock:
                self.pids.add(pid)
                if allowed == target == self.target:
                    self.first_new.setdefault(pid, at)

    def aim(self, origin: str) -> None:
        with self.lock:
            self.target, self.first_new = origin, {}

    def all_served(self, workers: int, timeout: float) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.first_new) >= workers:
                    return dict(self.first_new)
            time.sleep(0.005)
        raise RuntimeError(f"only {sorted(self.first_new)} of {workers} workers served the change in {timeout} s")

    def close(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


def measure(mode: str, changes: int, workers: int) -> dict[str, Any]:
    """In this process (settings of ``mode``): ``changes`` changes, each one's commit-to-every-worker time."""
    import django

    django.setup()
    from cors_policies.models import CorsPolicy

    CorsPolicy.objects.filter(name="health").delete()
    policy = CorsPolicy.objects.create(
        name="health", path_pattern="/health", allowed_origins=[OLD], allowed_methods=["GET"]
    )
    times: list[float] = []
    saved: list[float] = []  # how long save() itself took (the commit and the announce included)
    with served(workers, dict(os.environ)) as base:
        probe = Probe(base, threads=workers)
        try:
            deadline = time.monotonic() + 20
            while len(probe.pids) < workers and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # every worker has loaded its snapshot and started its listener
            for number in range(changes):
                origin = f"https://v{number}.example.com"
                probe.aim(origin)
                time.sleep(0.2)  # the probe asks for the new origin, still refused, everywhere
                started = time.monotonic()
                policy.allowed_origins = [origin]
                policy.save()  # commit, then the on-commit hook announces
                saved.append(time.monotonic() - started)
                served_at = probe.all_served(
                    workers, timeout=10 + 2 * float(MODES[mode]["policies"]["REFRESH_INTERVAL"])
                )
                times.append(max(served_at.values()) - started)
        finally:
            probe.close()
    return {"mode": mode, "changes": changes, "workers": workers, "seconds": times, "saved": saved}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--polling-changes", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--modes", default="redis,postgresql,polling")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one mode, in its own process
    args = parser.parse_args()
    if args.measure:
        changes = args.polling_changes if args.measure == "polling" else args.changes
        print(json.dumps(measure(args.measure, changes, args.workers)))
        return
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        raise SystemExit("set DATABASE_URL=postgres://... and REDIS_URL=redis://... (workers share the database)")
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(migrate, cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "testproject.settings"}, check=True)  # noqa: S603
    print(f"gunicorn, {args.workers} workers; commit to every worker serving the change, in ms")
    print("| mode | REFRESH_INTERVAL | changes | p50 | p95 | max | save() itself, p50 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode in args.modes.split(","):
        config = MODES[mode]
        with tempfile.TemporaryDirectory() as folder:
            env = served_environment(database_url, redis_url if config["redis"] else None, config["policies"], folder)
            command = [sys.executable, str(Path(__file__).resolve()), "--measure", mode, "--workers", str(args.workers)]
            command += ["--changes", str(args.changes), "--polling-changes", str(args.polling_changes)]
            output = subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout  # noqa: S603
        result = json.loads(output.strip().splitlines()[-1])
        ms = [1000 * s for s in result["seconds"]]
        interval = config["policies"]["REFRESH_INTERVAL"]
        label = {"redis": "push, Redis", "postgresql": "push, PostgreSQL (no Redis)", "polling": "polling (Redis)"}[
            mode
        ]
        print(
            f"| {label} | {interval} | {len(ms)} | {percentile(ms, 0.5):.0f} | {percentile(ms, 0.95):.0f} | "
            f"{max(ms):.0f} | {percentile([1000 * s for s in result['saved']], 0.5):.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
