"""Outages with real components: a Redis and a PostgreSQL of the test's own are stopped mid-run.

The machine's shared services are never touched: each test starts a private redis-server and a private
PostgreSQL cluster (initdb + pg_ctl, as user postgres) on free loopback ports, runs the demo under
gunicorn against them, stops one, and checks that requests keep the last correct answers (never a 500),
that changes still propagate, and that recovery needs no restart. Skips with the reason where the
binaries are missing, unless CORS_POLICIES_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bench.propagation import ROOT, free_port
from tests.served_by import PID_HEADER

PG_BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"))), "")
A = "https://a.example.com"
B = "https://b.example.com"


def _require(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CORS_POLICIES_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _run(*command: str, env: dict[str, str] | None = None, daemon: bool = False) -> str:
    """Run a command; a ``daemon`` (a server that stays behind) must not inherit captured pipes."""
    if daemon:
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=60)
        assert result.returncode == 0, f"{' '.join(command)} failed"
        return ""
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


class Redis:
    def __init__(self, port: int, directory: str) -> None:
        self.port = port
        self.directory = directory
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        _run(
            "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
            "--appendonly", "no", "--dir", self.directory, "--pidfile", f"{self.directory}/redis.pid",
            daemon=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).returncode:
            assert time.monotonic() < deadline, "redis did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)


@pytest.fixture
def redis_server() -> Iterator[Redis]:
    _require(shutil.which("redis-server") is not None, "redis-server is not installed")
    with tempfile.TemporaryDirectory() as directory:
        server = Redis(free_port(), directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()


class Postgres:
    """A throwaway cluster owned by user postgres, with fsync off for speed."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str, daemon: bool = False) -> str:
        return _run("runuser", "-u", "postgres", "--", *command, daemon=daemon)

    def init(self) -> None:
        shutil.chown(self.directory, "postgres")
        self._as_postgres(f"{PG_BIN}/initdb", "-D", f"{self.directory}/data", "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = f"{self.directory}/server.log"
        self._as_postgres(
            f"{PG_BIN}/pg_ctl", "-D", f"{self.directory}/data", "-o", options, "-l", log, "-w", "start", daemon=True
        )

    def stop(self) -> None:
        self._as_postgres(f"{PG_BIN}/pg_ctl", "-D", f"{self.directory}/data", "-m", "immediate", "-w", "stop")


@pytest.fixture
def postgres_server() -> Iterator[Postgres]:
    _require(bool(PG_BIN) and shutil.which("runuser") is not None, "PostgreSQL server binaries are not installed")
    directory = tempfile.mkdtemp(prefix="cors-pg-")
    server = Postgres(directory)
    try:
        server.init()
        server.start()
        yield server
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                f"{PG_BIN}/pg_ctl",
                "-D",
                f"{directory}/data",
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(directory, ignore_errors=True)


def _env(database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "0", "PYTHONPATH": str(ROOT)}
    env["DJANGO_SETTINGS_MODULE"] = "testproject.settings"
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(env: dict[str, str], *args: str) -> str:
    return _run(sys.executable, str(ROOT / "manage.py"), *args, env=env)


def set_origins(env: dict[str, str], *origins: str) -> None:
    """Write through the ORM in another process, as the admin or the API would."""
    code = (
        "from cors_policies.models import CorsPolicy;"
        f"CorsPolicy.objects.update_or_create(name='health', defaults=dict(path_pattern='/health',"
        f" allowed_origins={list(origins)!r}, allowed_methods=['GET']))"
    )
    manage(env, "shell", "-c", code)


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "tests.served_by:wsgi"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    status(base, A)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"gunicorn did not start:\n{log.read().decode()[-3000:]}") from None
                    time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=15)


def status(base: str, origin: str) -> tuple[int, str | None, str]:
    request = urllib.request.Request(f"{base}/health", headers={"Origin": origin})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("Access-Control-Allow-Origin"), response.headers[PID_HEADER]
    except urllib.error.HTTPError as error:
        return error.code, None, ""


def verdicts(base: str, origin: str, count: int = 40) -> set[tuple[int, str | None]]:
    """The distinct (status, Access-Control-Allow-Origin) answers over ``count`` requests."""
    return {status(base, origin)[:2] for _ in range(count)}


def warm_all(base: str, origin: str, workers: int = 2) -> None:
    """Poll until every worker has answered (so each has loaded its snapshot): the kernel may hand
    all of a burst of requests to one worker."""
    pids: set[str] = set()
    deadline = time.monotonic() + 20
    while len(pids) < workers:
        assert time.monotonic() < deadline, f"only workers {pids} answered"
        code, allowed, pid = status(base, origin)
        assert (code, allowed) == (200, origin)
        pids.add(pid)


def wait_for(base: str, origin: str, expected: tuple[int, str | None], seconds: float) -> float:
    """Seconds until ``count`` requests in a row (all workers) give ``expected``; fails past ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if verdicts(base, origin) == {expected}:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"still {verdicts(base, origin)} after {seconds} s, expected {expected}")


def test_redis_outage_keeps_answers_and_falls_back_to_the_database(
    postgres_server: Postgres, redis_server: Redis
) -> None:
    env = _env(postgres_server.url, redis_server.url)
    manage(env, "migrate", "--noinput", "-v0")
    set_origins(env, A)
    with gunicorn(env) as base:
        warm_all(base, A)
        redis_server.stop()
        assert verdicts(base, A, 80) == {(200, A)}  # the last answers, no 500
        set_origins(env, B)  # publishing to Redis fails; workers read the database's version
        wait_for(base, B, (200, B), 3)
        assert verdicts(base, A) == {(200, None)}
        redis_server.start()  # back, empty: the version is read from the database and cached again
        set_origins(env, A)
        wait_for(base, A, (200, A), 3)


def test_database_outage_keeps_the_snapshot_and_new_workers_recover(postgres_server: Postgres) -> None:
    env = _env(postgres_server.url, None)  # LocMemCache: every version check reads the database
    manage(env, "migrate", "--noinput", "-v0")
    set_origins(env, A)
    with gunicorn(env) as base:
        warm_all(base, A)
        postgres_server.stop()
        time.sleep(1.2)  # past REFRESH_INTERVAL: every worker has tried, and failed, to check
        assert verdicts(base, A, 80) == {(200, A)}  # the last snapshot keeps serving, no 500
        with gunicorn(env) as fresh:  # started while the database is down
            assert verdicts(fresh, A) == {(200, None)}  # no CORS headers, but no error either
            postgres_server.start()
            recovered = wait_for(fresh, A, (200, A), 5)
            assert recovered <= 2.0, f"new workers took {recovered:.2f} s to recover"
        assert verdicts(base, A) == {(200, A)}
