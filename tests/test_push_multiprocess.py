"""Push across real worker processes: with ``REFRESH_INTERVAL=30``, a change reaches every worker in far less than
the interval, so only push can explain it; through Redis pub/sub, and through PostgreSQL LISTEN/NOTIFY without Redis.

The demo runs under gunicorn with 4 workers (and uvicorn with 2, under ASGI) against the suite's PostgreSQL
database; one worker commits the change (a PATCH through the REST API) and announces it, the others hear it. The
bound below is generous (a shared CI machine); the figures are in bench/propagation.py and docs/performance.md.
Like tests/test_multiprocess.py these skip on SQLite or without ``REDIS_URL``, unless
``CORS_POLICIES_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from bench.propagation import served, served_environment
from cors_policies.models import CorsPolicy
from tests.test_multiprocess import OLD, _database_url, _needs_postgresql, measure_convergence

__all__ = ["_needs_postgresql"]  # its autouse fixture: these tests skip (or fail) without PostgreSQL

pytestmark = [pytest.mark.django_db(transaction=True)]

REFRESH_INTERVAL = 30.0
#: A change must reach every worker within this many seconds: a fifteenth of the interval, so polling cannot pass.
PUSH_BOUND = 2.0


@pytest.mark.parametrize(
    ("server", "workers", "transport"),
    [("gunicorn", 4, "redis"), ("gunicorn", 4, "postgresql"), ("uvicorn", 2, "postgresql")],
    ids=["gunicorn-4-redis", "gunicorn-4-postgresql-without-redis", "uvicorn-2-postgresql-without-redis"],
)
def test_a_change_reaches_every_worker_by_push(server: str, workers: int, transport: str) -> None:
    redis_url = os.environ.get("REDIS_URL", "").strip() or None
    if transport == "redis" and redis_url is None:
        reason = "this test needs Redis: set REDIS_URL=redis://..."
        if os.environ.get("CORS_POLICIES_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    policies = {"REFRESH_INTERVAL": REFRESH_INTERVAL, "PUSH": transport}
    CorsPolicy.objects.create(name="health", path_pattern="/health", allowed_origins=[OLD], allowed_methods=["GET"])
    with tempfile.TemporaryDirectory() as folder:
        env = served_environment(_database_url(), redis_url if transport == "redis" else None, policies, folder)
        with served(workers, env, server) as base:
            delays = measure_convergence(base, workers)
    slowest = max(delays.values())
    print(f"\n{server} x{workers} push through {transport}: stale for at most {slowest:.3f} s: {delays}")
    assert slowest <= PUSH_BOUND, f"a worker served the old verdict {slowest:.3f} s after the change"
