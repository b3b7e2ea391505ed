"""The snapshot contract: no queries when warm, changes seen at once here and within the interval elsewhere,
and outages that keep the last answer instead of turning into 500s."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, transaction
from django.test import Client

from cors_policies import snapshot as snapshot_module
from cors_policies.engine import PolicySet
from cors_policies.models import CorsPolicy, PolicySetVersion
from cors_policies.snapshot import load_policy_set, read_db_version, read_shared_version, snapshot, version_key
from tests.conftest import FakeClock
from tests.factories import CorsPolicyFactory

pytestmark = [pytest.mark.urls("tests.urls"), pytest.mark.django_db]

APP = "https://app.example.com"
OTHER = "https://other.example.com"


def allow_origin(client: Client, origin: str = APP, path: str = "/t/echo") -> str | None:
    response = client.get(path, HTTP_ORIGIN=origin)
    assert response.status_code == 200
    return response.headers.get("Access-Control-Allow-Origin")


@pytest.fixture
def policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP])


@pytest.fixture
def locmem(settings: Any) -> None:
    """A per-process cache: the version then comes from the database (whatever the suite runs on)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def file_cache(settings: Any, tmp_path: Path) -> None:
    """A cache that separate processes share (FileBasedCache), standing in for Redis or Memcached."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
    }


class TestWarmPath:
    def test_warm_requests_make_no_queries_and_compile_nothing(
        self, client: Client, policy: CorsPolicy, django_assert_num_queries: Any
    ) -> None:
        assert allow_origin(client) == APP  # cold: loads the snapshot
        with (
            django_assert_num_queries(0),
            mock.patch.object(snapshot_module, "build", side_effect=AssertionError("compiled")),
        ):
            for _ in range(20):
                assert allow_origin(client) == APP
                assert allow_origin(client, "https://evil.test") is None

    def test_interval_check_with_unchanged_version_does_not_rebuild(
        self, client: Client, policy: CorsPolicy, clock: FakeClock, django_assert_num_queries: Any, locmem: None
    ) -> None:
        allow_origin(client)
        built = snapshot.current
        clock.advance(1.5)
        with django_assert_num_queries(1):  # the version, from the database (LocMemCache is per process)
            assert allow_origin(client) == APP
        assert snapshot.current is built


class TestInvalidation:
    def test_a_change_is_seen_on_the_next_request_in_this_process(
        self, client: Client, policy: CorsPolicy, settings: Any, committed: Callable[[], Any]
    ) -> None:
        settings.CORS_POLICIES = {"REFRESH_INTERVAL": 3600}
        assert allow_origin(client, OTHER) is None
        with committed():
            policy.allowed_origins = [APP, OTHER]
            policy.save()
        assert allow_origin(client, OTHER) == OTHER

    def test_other_processes_see_a_change_after_the_refresh_interval(
        self, client: Client, policy: CorsPolicy, clock: FakeClock, locmem: None
    ) -> None:
        allow_origin(client)
        # A write by another process: the version moves in the database, but no hook runs here.
        CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
        clock.advance(0.9)
        assert allow_origin(client) == APP  # within the interval: the snapshot is still served
        clock.advance(0.2)
        assert allow_origin(client) is None
        assert allow_origin(client, OTHER) == OTHER

    @pytest.mark.parametrize(
        "change",
        [
            lambda p: CorsPolicy.objects.filter(pk=p.pk).update(enabled=False),
            lambda p: CorsPolicy.objects.filter(pk=p.pk).delete(),
            lambda p: p.delete(),
            lambda p: CorsPolicy.objects.bulk_update([_disabled(p)], ["enabled"]),
        ],
        ids=["queryset-update", "queryset-delete", "instance-delete", "bulk-update"],
    )
    def test_bulk_and_single_writes_invalidate_on_commit(
        self, client: Client, policy: CorsPolicy, committed: Callable[[], Any], change: Callable[[CorsPolicy], Any]
    ) -> None:
        assert allow_origin(client) == APP
        with committed():
            change(policy)
        assert allow_origin(client) is None

    def test_bulk_create_invalidates_and_normalizes(self, client: Client, committed: Callable[[], Any]) -> None:
        assert allow_origin(client) is None
        with committed():
            CorsPolicy.objects.bulk_create(
                [CorsPolicy(name="bulk", path_pattern="/t/**", allowed_origins=["HTTPS://App.Example.com:443"])]
            )
        assert CorsPolicy.objects.get(name="bulk").allowed_origins == [APP]
        assert allow_origin(client) == APP

    def test_every_write_bumps_the_shared_version(self, policy: CorsPolicy) -> None:
        before = read_db_version()
        CorsPolicy.objects.filter(pk=policy.pk).update(priority=5)
        policy.save()
        assert read_db_version() == before + 2

    def test_a_rolled_back_change_is_never_served(
        self, client: Client, policy: CorsPolicy, committed: Callable[[], Any]
    ) -> None:
        version = read_db_version()
        assert allow_origin(client) == APP
        with committed(), pytest.raises(RuntimeError), transaction.atomic():
            CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
            raise RuntimeError("rolled back")
        assert read_db_version() == version
        snapshot.expire()
        assert allow_origin(client) == APP

    def test_first_change_creates_the_version_row(self, db: None) -> None:
        PolicySetVersion.objects.all().delete()
        CorsPolicyFactory()
        assert read_db_version() == 1

    def test_disabled_policies_are_not_served(self, client: Client, make_policy: Callable[..., CorsPolicy]) -> None:
        make_policy(path_pattern="/t/echo", allowed_origins=[APP], enabled=False)
        assert allow_origin(client) is None
        assert snapshot.current is not None and len(snapshot.current) == 0


def _disabled(policy: CorsPolicy) -> CorsPolicy:
    policy.enabled = False
    return policy


@pytest.mark.usefixtures("locmem")
class TestOutages:
    def test_database_down_keeps_the_last_snapshot_and_logs(
        self, client: Client, policy: CorsPolicy, clock: FakeClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        assert allow_origin(client) == APP
        clock.advance(2)
        with mock.patch.object(snapshot_module, "read_db_version", side_effect=OperationalError("database is down")):
            with caplog.at_level(logging.ERROR, logger="cors_policies"):
                assert allow_origin(client) == APP
                assert allow_origin(client) == APP  # within the interval: no retry, no second log line
            assert [r.getMessage() for r in caplog.records] == [
                "cors_policies: could not load CORS policies (keeping the last snapshot); retrying in 1.0s"
            ]
            clock.advance(2)
            assert allow_origin(client) == APP
        assert len(caplog.records) == 2  # one line per interval while the outage lasts

    def test_database_down_at_start_serves_without_cors_and_recovers(
        self, client: Client, policy: CorsPolicy, clock: FakeClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        with (
            mock.patch.object(snapshot_module, "build", side_effect=OperationalError("database is down")),
            caplog.at_level(logging.ERROR, logger="cors_policies"),
        ):
            response = client.get("/t/echo", HTTP_ORIGIN=APP)
            assert response.status_code == 200
            assert not response.has_header("Access-Control-Allow-Origin")
        assert "serving without CORS headers" in caplog.records[0].getMessage()
        clock.advance(1.1)
        assert allow_origin(client) == APP

    def test_async_database_down_never_errors(self, policy: CorsPolicy) -> None:
        from asgiref.sync import async_to_sync
        from django.test import AsyncClient

        with mock.patch.object(snapshot_module, "build", side_effect=OperationalError("down")):
            response = async_to_sync(AsyncClient().get)("/t/echo", headers={"Origin": APP})
        assert response.status_code == 200
        assert not response.has_header("Access-Control-Allow-Origin")

    def test_invalid_rows_are_skipped_and_logged_not_fatal(
        self, client: Client, policy: CorsPolicy, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Written around the validators (raw ORM update): the snapshot skips it, the rest still serves.
        CorsPolicyFactory(name="broken", path_pattern="/t/echo", priority=10)
        CorsPolicy.objects.filter(name="broken").update(allowed_origins=["https://ok.test/with/path"])
        with caplog.at_level(logging.ERROR, logger="cors_policies"):
            assert allow_origin(client) == APP
        assert "policy" in caplog.text and "'broken' skipped" in caplog.text


class TestSharedCache:
    def test_version_is_read_from_the_shared_cache(
        self, file_cache: None, policy: CorsPolicy, clock: FakeClock
    ) -> None:
        from django.core.cache import cache

        assert read_shared_version() == read_db_version()
        assert cache.get(version_key()) == read_db_version()
        cache.set(version_key(), 12345)
        assert read_shared_version() == 12345

    def test_commit_publishes_the_version_to_the_cache(
        self, file_cache: None, policy: CorsPolicy, committed: Callable[[], Any]
    ) -> None:
        from django.core.cache import cache

        with committed():
            policy.save()
        assert cache.get(version_key()) == read_db_version()

    def test_other_process_change_propagates_through_the_cache(
        self, file_cache: None, client: Client, policy: CorsPolicy, clock: FakeClock, django_assert_num_queries: Any
    ) -> None:
        from django.core.cache import cache

        assert allow_origin(client) == APP
        clock.advance(1.1)
        with django_assert_num_queries(0):  # the version comes from the cache
            assert allow_origin(client) == APP
        CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
        cache.set(version_key(), read_db_version())  # what the other process's commit hook does
        clock.advance(1.1)
        assert allow_origin(client, OTHER) == OTHER

    def test_cache_down_falls_back_to_the_database_version(
        self, file_cache: None, client: Client, policy: CorsPolicy, clock: FakeClock
    ) -> None:
        assert allow_origin(client) == APP
        CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
        clock.advance(1.1)
        with mock.patch("django.core.cache.backends.filebased.FileBasedCache.get", side_effect=ConnectionError):
            assert allow_origin(client, OTHER) == OTHER

    def test_publish_failure_is_logged_not_raised(
        self, file_cache: None, policy: CorsPolicy, committed: Callable[[], Any], caplog: pytest.LogCaptureFixture
    ) -> None:
        with (
            mock.patch("django.core.cache.backends.filebased.FileBasedCache.set", side_effect=ConnectionError),
            caplog.at_level(logging.WARNING, logger="cors_policies"),
            committed(),
        ):
            policy.save()
        assert "could not publish the policy version" in caplog.text

    def test_the_cache_holds_the_new_version_before_this_process_is_told_to_look(
        self, file_cache: None, policy: CorsPolicy, committed: Callable[[], Any]
    ) -> None:
        """Else a request of the writing process, checking in between, would read the old number and keep
        the old policies for an interval."""
        from django.core.cache import cache

        cached_when_expired: list[Any] = []
        with (
            mock.patch.object(
                snapshot, "expire", side_effect=lambda: cached_when_expired.append(cache.get(version_key()))
            ),
            committed(),
        ):
            policy.save()
        assert cached_when_expired == [read_db_version()]

    def test_a_change_published_during_a_refresh_is_checked_again_on_the_next_request(
        self, file_cache: None, client: Client, policy: CorsPolicy, clock: FakeClock
    ) -> None:
        """A refresh that read the old version while another thread published a change must not push the
        next check back by an interval (seen in Chromium: a favicon request racing the test's write)."""
        assert allow_origin(client) == APP
        from django.core.cache import cache

        CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])  # bumps the version
        cache.set(version_key(), read_db_version())  # what the commit hook publishes
        old = read_db_version() - 1
        clock.advance(1.1)

        def old_version_then_a_publish() -> int:
            snapshot.expire()  # what the writing thread's on-commit hook does meanwhile
            return old

        with mock.patch.object(snapshot_module, "read_shared_version", side_effect=old_version_then_a_publish):
            snapshot.get()  # this refresh saw the old number and keeps the old set ...
        assert snapshot.needs_refresh()  # ... but does not wait an interval to look again
        assert allow_origin(client, OTHER) == OTHER  # the very next request serves the change

    def test_after_a_change_a_request_waits_for_a_refresh_under_way_instead_of_serving_the_old_set(
        self, policy: CorsPolicy, clock: FakeClock
    ) -> None:
        """The refresh under way may have read the old version; the writing process serves the change on its
        next request all the same (without a change, requests never wait for another thread's refresh)."""
        old = snapshot.get()
        assert old is not None
        new = PolicySet.build([], version=old.version + 1)
        served: list[PolicySet | None] = []
        with (
            mock.patch.object(snapshot_module, "read_shared_version", return_value=old.version + 1),
            mock.patch.object(snapshot_module, "build", return_value=(new, {})),
        ):
            clock.advance(1.1)
            snapshot._lock.acquire()  # another thread's refresh is under way
            try:
                waiting = threading.Thread(target=lambda: served.append(snapshot.get()))
                waiting.start()
                waiting.join(5)
                assert served == [old]  # an interval check does not wait: it serves the current set
                snapshot.expire()  # a change committed in this process
                waiting = threading.Thread(target=lambda: served.append(snapshot.get()))
                waiting.start()
                waiting.join(0.2)
                assert waiting.is_alive()  # it waits rather than serve the old set
            finally:
                snapshot._lock.release()
            waiting.join(5)
        assert served == [old, new]


def test_load_policy_set_reads_enabled_policies_in_one_query(db: None, django_assert_num_queries: Any) -> None:
    CorsPolicyFactory.create_batch(3)
    CorsPolicyFactory(enabled=False)
    with django_assert_num_queries(1):
        policy_set = load_policy_set(version=7)
    assert len(policy_set) == 3
    assert policy_set.version == 7
