"""Many worker processes: a change must reach every one within REFRESH_INTERVAL + 0.5 s.

Real servers (gunicorn, uvicorn) on loopback against the suite's PostgreSQL database, with Redis as the
shared cache and with per-process LocMemCache. They need a database other processes can open, so they
run on the PostgreSQL leg of CI and skip (with the reason) on SQLite, unless
CORS_POLICIES_REQUIRE_SERVICES=1 makes a skip a failure.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token

from bench.propagation import fetch as fetch_with_time
from bench.propagation import served
from cors_policies.models import CorsPolicy

ROOT = Path(__file__).resolve().parent.parent
REFRESH_INTERVAL = 1.0  # the demo settings' value
BOUND = REFRESH_INTERVAL + 0.5
OLD = "https://old.example.com"
NEW = "https://new.example.com"

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql(transactional_db: None) -> None:
    if connection.vendor != "postgresql":
        reason = "multi-process tests need a database other processes can open: set DATABASE_URL=postgres://..."
        if os.environ.get("CORS_POLICIES_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def serve(server: str, workers: int, *, redis: bool) -> Iterator[str]:
    """The demo under ``server`` on a free loopback port, with its own settings (testproject's): its base URL."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_DEBUG": "0", "PYTHONPATH": str(ROOT)}
    env["DJANGO_SETTINGS_MODULE"] = "testproject.settings"
    if not redis:
        env.pop("REDIS_URL", None)  # LocMemCache: the shared version must come from the database
    elif "REDIS_URL" not in env:
        pytest.skip("REDIS_URL is not set")
    with served(workers, env, server) as base:
        yield base


def fetch(base: str, origin: str) -> tuple[str, str | None]:
    """(worker pid, Access-Control-Allow-Origin) of a GET /health from ``origin``."""
    pid, allowed, _ = fetch_timed(base, origin)
    return pid, allowed


fetch_timed = fetch_with_time  # also when (this machine's monotonic clock) the worker served it


class Observations:
    """Per worker: the last time it served the old verdict, and whether it has served the new one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_old: dict[str, float] = {}
        self.first_new: dict[str, float] = {}

    def record(self, pid: str, allowed: str | None, served_at: float) -> None:
        with self.lock:
            if allowed == NEW:
                self.first_new.setdefault(pid, served_at)
            else:
                self.last_old[pid] = max(served_at, self.last_old.get(pid, served_at))


def poll(base: str, until: float, stop: threading.Event, seen: Observations) -> None:
    """Hammer the server until ``until`` or ``stop``, recording every answer."""
    while not stop.is_set() and time.monotonic() < until:
        seen.record(*fetch_timed(base, NEW))


def _record_pid(base: str, results: list[str]) -> None:
    results.append(fetch(base, OLD)[0])


def worker_pids(base: str, workers: int) -> set[str]:
    pids: set[str] = set()
    deadline = time.monotonic() + 20
    while len(pids) < workers and time.monotonic() < deadline:
        results: list[str] = []
        threads = [threading.Thread(target=_record_pid, args=(base, results)) for _ in range(workers * 4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        pids.update(results)
    assert len(pids) == workers, f"only saw workers {pids}"
    return pids


def change_through_the_api(base: str) -> None:
    """PATCH the policy's origins through the REST API of one of the workers, as an operator's script would."""
    policy = CorsPolicy.objects.get(name="health")
    token = Token.objects.create(user=get_user_model().objects.create_superuser("ops", "ops@example.com", "pw"))
    request = urllib.request.Request(
        f"{base}/api/cors/policies/{policy.pk}/",
        data=json.dumps({"allowed_origins": [NEW]}).encode(),
        headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read())["allowed_origins"] == [NEW]


def measure_convergence(base: str, workers: int) -> dict[str, float]:
    """Change the policy through the REST API; per worker, how long after that it still served the old verdict.

    Measured on the server side (when each response was served, by the machine-wide monotonic clock),
    so a worker the kernel happens not to hand requests to for a while is not counted as stale.
    """
    pids = worker_pids(base, workers)
    for _ in range(workers * 8):  # every worker has loaded and serves the old verdict
        assert fetch(base, OLD)[1] == OLD
    changed = time.monotonic()  # before the request: the measured staleness can only be overstated
    change_through_the_api(base)
    seen = Observations()
    stop = threading.Event()
    threads = [threading.Thread(target=poll, args=(base, changed + BOUND + 5, stop, seen)) for _ in range(workers * 2)]
    for thread in threads:
        thread.start()
    while len(seen.first_new) < workers and any(t.is_alive() for t in threads):
        time.sleep(0.02)
    time.sleep(0.2)  # a little more traffic: any late stale answer would show now
    stop.set()
    for thread in threads:
        thread.join()
    assert set(seen.first_new) == pids, f"workers {pids - set(seen.first_new)} never served the change"
    return {pid: max(seen.last_old.get(pid, changed) - changed, 0.0) for pid in pids}


@pytest.mark.parametrize(
    ("server", "workers", "redis"),
    [("gunicorn", 4, True), ("gunicorn", 4, False), ("uvicorn", 2, True)],
    ids=["gunicorn-4-redis", "gunicorn-4-locmem", "uvicorn-2-redis"],
)
def test_every_worker_converges_within_the_bound(server: str, workers: int, redis: bool) -> None:
    CorsPolicy.objects.create(name="health", path_pattern="/health", allowed_origins=[OLD], allowed_methods=["GET"])
    with serve(server, workers, redis=redis) as base:
        delays = measure_convergence(base, workers)
    slowest = max(delays.values())
    print(f"\n{server} x{workers} ({'redis' if redis else 'locmem'}): stale for at most {slowest:.3f} s: {delays}")
    assert slowest <= BOUND, f"a worker served the old verdict {slowest:.3f} s after the change (bound {BOUND} s)"
