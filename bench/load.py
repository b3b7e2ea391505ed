#!/usr/bin/env python3
"""Loopback load test: the demo under gunicorn, requests/second with and without the CORS middleware.

Usage (from the repository root, after ``python3 scripts/test.py`` made .venv; needs Debian's ``wrk``):

    .venv/bin/python bench/load.py [--rounds 3] [--seconds 10] [--workers 2] [--connections 16]

The two configurations alternate round by round (so a burst of other load on a shared machine hurts both
alike) and each reports its best round. Every request carries an allowed ``Origin``, so with the middleware
each one is decorated; without it the same request simply gets no CORS headers. wrk runs on the same
machine, so absolute numbers are low; the ratio is what to read.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "https://app.example.com"
TARGETS = {"GET /api/public/items/": "/api/public/items/", "GET /health": "/health"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(env: dict[str, str]) -> None:
    """Migrate a fresh SQLite database and load the demo policies into it."""
    for command in (["migrate", "--noinput", "-v", "0"], ["demo_setup"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603


def serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "testproject.wsgi"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/health", timeout=1):  # noqa: S310
                return server, base
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start within 30 s")


def wrk(url: str, seconds: int, connections: int) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", f"Origin: {ORIGIN}", url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    if "Non-2xx" in output:
        raise SystemExit(f"{url} answered errors under load:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    return float(match.group(1))


def check_headers(base: str, path: str, with_middleware: bool) -> None:
    """Prove each configuration is what it claims: CORS headers with the middleware, none without."""
    request = urllib.request.Request(base + path, headers={"Origin": ORIGIN})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        allow = response.headers.get("Access-Control-Allow-Origin")
    if (allow is not None) != with_middleware:
        raise SystemExit(f"{path}: Access-Control-Allow-Origin={allow!r} with_middleware={with_middleware}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "bench.load_settings",
            "DATABASE_URL": f"sqlite:///{tmp}/load.db",
        }
        env.pop("REDIS_URL", None)
        prepare(env)
        best: dict[tuple[str, bool], float] = {}
        for round_number in range(args.rounds):
            for with_middleware in (False, True):
                server, base = serve({**env, "CORS_BENCH_MIDDLEWARE": "1" if with_middleware else "0"}, args.workers)
                try:
                    for label, path in TARGETS.items():
                        check_headers(base, path, with_middleware)
                        wrk(base + path, 2, args.connections)  # warm up
                        rate = wrk(base + path, args.seconds, args.connections)
                        key = (label, with_middleware)
                        best[key] = max(best.get(key, 0.0), rate)
                        progress = f"round {round_number + 1} {label} middleware={with_middleware}: {rate:.0f}/s"
                        print(progress, file=sys.stderr)
                finally:
                    server.terminate()
                    server.wait(timeout=30)
    print(f"gunicorn {args.workers} sync workers, wrk -t2 -c{args.connections} -d{args.seconds}s", end="")
    print(f", best of {args.rounds} alternating rounds")
    print()
    print("| request | without CORS (req/s) | with cors_policies (req/s) | with / without |")
    print("| --- | ---: | ---: | ---: |")
    for label in TARGETS:
        without, with_ = best[(label, False)], best[(label, True)]
        print(f"| {label} | {without:.0f} | {with_:.0f} | {with_ / without:.3f} |")


if __name__ == "__main__":
    main()
