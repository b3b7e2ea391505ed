"""Concurrent writers and readers: no lost update, no torn snapshot.

Real threads with their own database connections, so these run on PostgreSQL (row locks; SQLite
serializes writers with 'database is locked') and skip with the reason elsewhere, unless
CORS_POLICIES_REQUIRE_SERVICES=1 makes that a failure.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client
from rest_framework.test import APIClient

from cors_policies.cache import snapshot
from cors_policies.models import CorsPolicy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("testproject.urls")]

WRITES_PER_CLIENT = 15


@pytest.fixture(autouse=True)
def _needs_postgresql(transactional_db: None, settings: Any) -> None:
    if connection.vendor != "postgresql":
        reason = "concurrent-writer tests need row locks: set DATABASE_URL=postgres://..."
        if os.environ.get("CORS_POLICIES_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    settings.CORS_POLICIES = {"REFRESH_INTERVAL": 0}  # every request checks the version


def _in_thread(target: Any, errors: list[BaseException], *args: Any) -> threading.Thread:
    def run() -> None:
        try:
            target(*args)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


def test_two_api_writers_lose_no_update_while_readers_hammer_the_middleware() -> None:
    """Each writer increments priority read-modify-write with If-Match, retrying on 412."""
    get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    policy = CorsPolicy.objects.create(
        name="health", path_pattern="/health", allowed_origins=["https://a.example.com"], allowed_methods=["GET"]
    )
    url = f"/api/cors/policies/{policy.pk}/"
    conflicts: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()
    verdicts: set[str | None] = set()

    def writer() -> None:
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(username="admin"))
        written = 0
        while written < WRITES_PER_CLIENT:
            current = client.get(url)
            assert current.status_code == 200
            response = client.patch(
                url, {"priority": current.json()["priority"] + 1}, format="json", HTTP_IF_MATCH=current["ETag"]
            )
            if response.status_code == 412:
                conflicts.append(1)
                continue
            assert response.status_code == 200, response.content
            written += 1

    def reader() -> None:
        client = Client()
        while not done.is_set():
            response = client.get("/health", HTTP_ORIGIN="https://a.example.com")
            assert response.status_code == 200
            verdicts.add(response.headers.get("Access-Control-Allow-Origin"))

    writers = [_in_thread(writer, errors) for _ in range(2)]
    readers = [_in_thread(reader, errors) for _ in range(2)]
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    done.set()
    for thread in readers:
        thread.join(timeout=30)
    assert errors == []
    policy.refresh_from_db()
    assert policy.priority == 2 * WRITES_PER_CLIENT  # every increment survived
    assert verdicts == {"https://a.example.com"}  # the readers never lost CORS while policies changed
    print(f"\n{len(conflicts)} writes were refused with 412 and retried")


def test_readers_see_a_whole_policy_set_never_a_mix() -> None:
    """A writer moves ten policies to generation k in one transaction; a snapshot must never mix k's."""
    CorsPolicy.objects.bulk_create(
        [
            CorsPolicy(name=f"gen-{n}", path_pattern=f"/gen/{n}", allowed_origins=["https://g0.example.com"])
            for n in range(10)
        ]
    )
    errors: list[BaseException] = []
    done = threading.Event()
    generations: set[str] = set()

    def writer() -> None:
        for k in range(1, 13):
            with transaction.atomic():
                for policy in CorsPolicy.objects.select_for_update().order_by("pk"):
                    policy.allowed_origins = [f"https://g{k}.example.com"]
                    policy.save(update_fields=["allowed_origins", "updated_at"])
            time.sleep(0.005)

    def reader() -> None:
        while not done.is_set():
            policy_set = snapshot.get()
            assert policy_set is not None
            seen = {origin for p in policy_set.policies for origin in p.exact_origins}
            assert len(seen) == 1, f"a torn snapshot: {sorted(seen)}"
            generations.update(seen)
            snapshot.expire()
            time.sleep(0.002)  # leave the writer some of the GIL

    writer_thread = _in_thread(writer, errors)
    readers = [_in_thread(reader, errors) for _ in range(3)]
    for thread in [writer_thread, *readers]:
        thread.start()
    writer_thread.join(timeout=120)
    done.set()
    for thread in readers:
        thread.join(timeout=30)
    assert errors == []
    assert len(generations) > 5, f"the readers saw too few generations to prove anything: {generations}"
