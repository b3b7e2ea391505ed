"""The snapshot off the request path: the rebuild thread (lazy, coalescing, fork-safe, failures keep the last set),
the committing process serving its change at once, the push hook, and incremental rebuilds that recompile only
the policies that changed."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, transaction
from django.test import Client

from cors_policies import snapshot as snapshot_module
from cors_policies.engine import PolicySet
from cors_policies.models import CorsPolicy
from cors_policies.snapshot import build, snapshot
from tests.conftest import FakeClock
from tests.factories import CorsPolicyFactory

APP = "https://app.example.com"
OTHER = "https://other.example.com"


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.fixture
def threaded() -> Iterator[None]:
    snapshot.background = True
    yield
    snapshot.background = False
    snapshot.stop()  # before the test database is flushed: the thread may be reading it


def allowed(path: str = "/t/echo", origin: str = APP) -> bool:
    policy_set = snapshot.get()
    assert policy_set is not None
    decision = policy_set.evaluate(origin=origin, method="GET", path=path)
    return decision is not None and decision.allowed


@pytest.fixture
def compiled() -> Iterator[list[int]]:
    """The ids of the policies compiled, in order."""
    ids: list[int] = []
    real = snapshot_module.CompiledPolicy

    def compile_one(spec: Any) -> Any:
        ids.append(spec.id)
        return real(spec)

    with mock.patch.object(snapshot_module, "CompiledPolicy", side_effect=compile_one):
        yield ids


@pytest.mark.django_db
class TestIncremental:
    def test_one_change_recompiles_that_policy_and_reuses_the_others(
        self, compiled: list[int], django_assert_num_queries: Any
    ) -> None:
        policies = CorsPolicyFactory.create_batch(20)
        first, entries = build(1)
        assert sorted(compiled) == sorted(p.pk for p in policies)
        changed = policies[7]
        CorsPolicy.objects.filter(pk=changed.pk).update(allowed_origins=[OTHER])
        compiled.clear()
        with django_assert_num_queries(2):  # the stamps, then the changed row
            second, _ = build(2, entries)
        assert compiled == [changed.pk]
        reused = {p.id: p for p in second.policies}
        assert all(reused[p.id] is p for p in first.policies if p.id != changed.pk)
        assert reused[changed.pk].spec.allowed_origins == (OTHER,) or list(reused[changed.pk].spec.allowed_origins) == [
            OTHER
        ]

    def test_a_change_of_answers_only_shares_the_index(self, compiled: list[int]) -> None:
        policies = CorsPolicyFactory.create_batch(10, path_pattern="/t/**")
        first, entries = build(1)
        CorsPolicy.objects.filter(pk=policies[0].pk).update(allowed_origins=[OTHER], allow_credentials=True)
        compiled.clear()
        with mock.patch.object(snapshot_module, "PolicySet", side_effect=AssertionError("indexed again")):
            second, _ = build(2, entries, first)
        assert compiled == [policies[0].pk] and second.version == 2
        assert [p.id for p in second.policies] == [p.id for p in first.policies]
        decision = second.evaluate(origin=OTHER, method="GET", path="/t/x")
        assert decision is not None and decision.allowed and decision.policy is not None
        assert decision.policy.id == policies[0].pk and decision.policy.spec.allow_credentials
        assert ("Access-Control-Allow-Credentials", "true") in decision.headers

    def test_a_change_of_path_indexes_again(self) -> None:
        policies = CorsPolicyFactory.create_batch(3, path_pattern="/t/**")
        first, entries = build(1)
        CorsPolicy.objects.filter(pk=policies[0].pk).update(path_pattern="/t/exact", priority=1)
        second, _ = build(2, entries, first)
        assert second.match("/t/exact") is not None and second.match("/t/exact").id == policies[0].pk  # type: ignore[union-attr]

    def test_additions_deletions_and_disabled_policies(self, compiled: list[int]) -> None:
        keep, gone, off = CorsPolicyFactory.create_batch(3)
        _, entries = build(1)
        gone.delete()
        CorsPolicy.objects.filter(pk=off.pk).update(enabled=False)
        new = CorsPolicyFactory()
        compiled.clear()
        policy_set, entries = build(2, entries)
        assert compiled == [new.pk]
        assert sorted(p.id for p in policy_set.policies) == sorted([keep.pk, new.pk])
        assert sorted(entries) == sorted([keep.pk, new.pk])

    def test_a_skipped_policy_stays_reported_until_it_changes(self, caplog: pytest.LogCaptureFixture) -> None:
        broken = CorsPolicyFactory(name="broken")
        CorsPolicy.objects.filter(pk=broken.pk).update(allowed_origins=["https://ok.test/with/path"])
        policy_set, entries = build(1)
        assert len(policy_set) == 0 and len(policy_set.errors) == 1
        CorsPolicyFactory()
        with caplog.at_level(logging.ERROR, logger="cors_policies"):
            policy_set, entries = build(2, entries)
        assert len(policy_set) == 1
        assert "'broken' skipped" in caplog.text
        CorsPolicy.objects.filter(pk=broken.pk).update(allowed_origins=[APP])
        assert len(build(3, entries)[0]) == 2

    def test_the_same_set_as_a_full_build(self) -> None:
        policies = CorsPolicyFactory.create_batch(12, path_pattern="/t/**")
        _, entries = build(1)
        for index, policy in enumerate(policies[:5]):
            CorsPolicy.objects.filter(pk=policy.pk).update(priority=index, path_pattern=f"/t/{index}/**")
        incremental, _ = build(2, entries)
        full, _ = build(2)
        assert [p.spec for p in incremental.policies] == [p.spec for p in full.policies]

    def test_moves_additions_and_removals_edit_the_previous_index(self, compiled: list[int]) -> None:
        policies = CorsPolicyFactory.create_batch(12, path_pattern="/t/**", allowed_origins=[APP])
        first, entries = build(1)
        CorsPolicy.objects.filter(pk=policies[0].pk).update(path_pattern="/t/exact")
        CorsPolicy.objects.filter(pk=policies[1].pk).update(priority=3, allowed_origins=[OTHER])
        policies[2].delete()
        CorsPolicy.objects.filter(pk=policies[3].pk).update(enabled=False)
        CorsPolicy.objects.filter(pk=policies[4].pk).update(allowed_origins=["https://bad.test/path"])  # skipped
        added = CorsPolicyFactory(path_pattern="/t/new/**", allowed_origins=[OTHER])
        compiled.clear()
        with mock.patch.object(snapshot_module, "PolicySet", side_effect=AssertionError("indexed again")):
            second, _ = build(2, entries, first)
        assert sorted(compiled) == sorted([policies[0].pk, policies[1].pk, policies[4].pk, added.pk])
        full, _ = build(2)
        assert [p.spec for p in second.policies] == [p.spec for p in full.policies]
        assert second.errors == full.errors and len(second.errors) == 1 and "skipped" in second.errors[0]
        for path in ("/t/exact", "/t/x", "/t/new/y"):
            assert second.match(path) is not None and full.match(path) is not None
            assert second.match(path).id == full.match(path).id  # type: ignore[union-attr]
        assert second.match("/t/new/y").id == policies[1].pk  # type: ignore[union-attr]  # priority 3 outranks
        assert [p.id for p in first.policies] == [p.id for p in entries_policies(entries)]  # the old set unchanged

    def test_many_changes_index_afresh(self) -> None:
        policies = CorsPolicyFactory.create_batch(40, path_pattern="/t/**")
        first, entries = build(1)
        CorsPolicy.objects.filter(pk__in=[p.pk for p in policies[:20]]).update(path_pattern="/u/**")
        with mock.patch.object(PolicySet, "updated", side_effect=AssertionError("edited")):
            second, _ = build(2, entries, first)
        assert [p.spec for p in second.policies] == [p.spec for p in build(2)[0].policies]

    def test_the_garbage_collector_is_back_on_after_a_build(self) -> None:
        CorsPolicyFactory.create_batch(3)
        assert gc.isenabled()
        build(1)
        assert gc.isenabled()
        gc.disable()
        try:
            build(1)
            assert not gc.isenabled()  # it was off: left off
        finally:
            gc.enable()
        with (
            mock.patch.object(snapshot_module, "compile_row", side_effect=RuntimeError("bug")),
            pytest.raises(RuntimeError),
        ):
            build(1)
        assert gc.isenabled()


@pytest.mark.django_db
class TestAnnouncedChanges:
    """Each announcement names the policies its change wrote: a process that heard every version since the one it
    serves reads only those rows, and anything less certain falls back to comparing every row's stamp."""

    @pytest.fixture(autouse=True)
    def _writes(self, django_capture_on_commit_callbacks: Any) -> None:
        self.capture = django_capture_on_commit_callbacks

    def elsewhere(self, write: Callable[[], Any]) -> tuple[int, frozenset[int] | None]:
        """Run ``write`` as another process would (its commit hooks run, but not this process's snapshot's)."""
        from cors_policies import invalidation

        heard: list[tuple[int, frozenset[int] | None]] = []
        with (
            mock.patch.object(snapshot, "committed"),
            mock.patch.object(invalidation.push, "announce", side_effect=lambda alias, v, i: heard.append((v, i))),
            self.capture(execute=True),
        ):
            write()
        [announced] = heard
        return announced

    def rebuilt_from_the_stamps(self) -> PolicySet | None:
        """The next request's rebuild, which must read the shared version (and so compare every row's stamp)."""
        with mock.patch.object(
            snapshot_module, "read_shared_version", wraps=snapshot_module.read_shared_version
        ) as read:
            policy_set = snapshot.get()
        read.assert_called_once()
        return policy_set

    def test_every_version_heard_reads_only_the_rows_it_names(
        self, compiled: list[int], django_assert_num_queries: Any
    ) -> None:
        policies = CorsPolicyFactory.create_batch(10, path_pattern="/t/**", allowed_origins=[APP])
        deleted = policies[1].pk
        assert allowed()
        heard = [
            self.elsewhere(lambda: CorsPolicy.objects.filter(pk=policies[0].pk).update(allowed_origins=[OTHER])),
            self.elsewhere(lambda: policies[1].delete()),
            self.elsewhere(lambda: CorsPolicyFactory(path_pattern="/t/new", allowed_origins=[OTHER])),
        ]
        added = CorsPolicy.objects.get(path_pattern="/t/new")
        assert [ids for _, ids in heard] == [
            frozenset({policies[0].pk}),
            frozenset({deleted}),
            frozenset({added.pk}),
        ]
        for version, ids in heard:
            snapshot.changed(version, ids)  # what push's listener does for each message
        compiled.clear()
        with django_assert_num_queries(1):  # the named rows; not the version, not every row's stamp
            policy_set = snapshot.get()
        assert policy_set is not None and policy_set.version == heard[-1][0]
        assert sorted(compiled) == sorted([policies[0].pk, added.pk])
        assert [p.spec for p in policy_set.policies] == [p.spec for p in build(0)[0].policies]
        assert allowed("/t/new", OTHER) and not allowed("/t/new", APP)

    def test_a_version_not_heard_compares_every_stamp(self, compiled: list[int]) -> None:
        policies = CorsPolicyFactory.create_batch(3, path_pattern="/t/**", allowed_origins=[APP])
        assert allowed()
        lost = self.elsewhere(
            lambda: CorsPolicy.objects.filter(pk=policies[0].pk).update(priority=5, path_pattern="/t/x")
        )
        heard = self.elsewhere(lambda: CorsPolicy.objects.filter(pk=policies[1].pk).update(allowed_origins=[OTHER]))
        snapshot.changed(*heard)  # the message before it never arrived
        compiled.clear()
        policy_set = self.rebuilt_from_the_stamps()
        assert policy_set is not None and policy_set.version == heard[0] == lost[0] + 1
        assert sorted(compiled) == sorted([policies[0].pk, policies[1].pk])  # both rows' stamps moved
        assert [p.spec for p in policy_set.policies] == [p.spec for p in build(0)[0].policies]

    @pytest.mark.parametrize("how", ["raw", "too-many"])
    def test_a_change_that_named_no_rows_compares_every_stamp(self, how: str, compiled: list[int]) -> None:
        from cors_policies import invalidation

        policies = CorsPolicyFactory.create_batch(4, path_pattern="/t/**", allowed_origins=[APP])
        assert allowed()

        def write() -> None:
            if how == "raw":
                with transaction.atomic():
                    CorsPolicy.objects.filter(pk=policies[2].pk).update(allowed_origins=[OTHER])
                    invalidation.changed()  # as after a write in raw SQL: any policy
            else:
                with mock.patch.object(invalidation, "MAX_ANNOUNCED_IDS", 2):
                    CorsPolicy.objects.update(allowed_origins=[OTHER])

        heard = self.elsewhere(write)
        assert heard[1] is None
        snapshot.changed(*heard)
        compiled.clear()
        policy_set = self.rebuilt_from_the_stamps()
        assert policy_set is not None and policy_set.version == heard[0]
        expected = [policies[2].pk] if how == "raw" else [p.pk for p in policies]
        assert sorted(compiled) == sorted(expected)
        assert [p.spec for p in policy_set.policies] == [p.spec for p in build(0)[0].policies]
        served = {p.id: list(p.spec.allowed_origins) for p in policy_set.policies}
        assert served[policies[2].pk] == [OTHER]

    def test_a_storm_of_announcements_is_one_rebuild(self, compiled: list[int]) -> None:
        policies = CorsPolicyFactory.create_batch(5, path_pattern="/t/**", allowed_origins=[APP])
        current = snapshot.get()
        assert current is not None
        first = current.version
        rebuilds = snapshot.rebuilds
        CorsPolicy.objects.filter(pk=policies[3].pk).update(allowed_origins=[OTHER])
        for version in range(first + 1, first + 1001):  # 1,000 changes, each naming one policy
            snapshot.changed(
                version, frozenset({policies[version % 2].pk if version < first + 1000 else policies[3].pk})
            )
        compiled.clear()
        policy_set = snapshot.get()
        assert snapshot.rebuilds == rebuilds + 1
        assert policy_set is not None and policy_set.version == first + 1000
        assert sorted(compiled) == sorted({policies[0].pk, policies[1].pk, policies[3].pk})

    def test_more_versions_than_are_kept_compares_every_stamp(self) -> None:
        policies = CorsPolicyFactory.create_batch(2, path_pattern="/t/**", allowed_origins=[APP])
        current = snapshot.get()
        assert current is not None
        for version in range(current.version + 1, current.version + 1 + snapshot_module.MAX_ANNOUNCED_VERSIONS + 5):
            snapshot.changed(version, frozenset({policies[0].pk}))
        assert len(snapshot._announced) < snapshot_module.MAX_ANNOUNCED_VERSIONS  # bounded, whatever arrives
        with mock.patch.object(snapshot_module, "read_shared_version", return_value=current.version + 7) as read:
            policy_set = snapshot.get()
        read.assert_called_once()
        assert policy_set is not None and policy_set.version == current.version + 7


def entries_policies(entries: dict[int, Any]) -> list[Any]:
    """The policies a build's entries hold, in the order of the set built from them."""
    return sorted((e.policy for e in entries.values() if e.policy is not None), key=lambda p: p.sort_key)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("threaded")
class TestRebuildThread:
    def test_after_the_first_load_no_request_reads_or_compiles(
        self, clock: FakeClock, django_assert_num_queries: Any
    ) -> None:
        policy = CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
        assert allowed()
        with mock.patch.object(snapshot, "committed"):  # another process's write: no hook runs here
            CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
        clock.advance(1.1)
        old = snapshot.current
        with django_assert_num_queries(0):  # the version and the rows are read by the rebuild thread
            snapshot.get()
        wait_for(lambda: snapshot.current is not old)
        assert not allowed() and allowed(origin=OTHER)

    def test_the_committing_process_serves_its_change_on_its_next_request(self) -> None:
        policy = CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
        assert allowed()
        policy.allowed_origins = [OTHER]
        policy.save()  # committed at once (no transaction): the hook rebuilds before save() returns
        assert allowed(origin=OTHER)

    def test_many_changes_during_a_rebuild_make_one_more_rebuild(self) -> None:
        CorsPolicyFactory()
        snapshot.get()
        release = threading.Event()
        calls: list[int] = []
        versions = iter(range(100, 10_000))

        def slow_build(version: Any, *args: Any) -> tuple[PolicySet, dict[int, Any]]:
            calls.append(version)
            release.wait(10)
            return PolicySet([], version=version), {}

        with (
            mock.patch.object(snapshot_module, "read_shared_version", side_effect=lambda: next(versions)),
            mock.patch.object(snapshot_module, "build", side_effect=slow_build),
        ):
            snapshot.changed()
            wait_for(lambda: len(calls) == 1)
            for _ in range(1000):
                snapshot.changed()
            release.set()
            wait_for(lambda: len(calls) == 2 and snapshot.current is not None and snapshot.current.version == calls[1])
            time.sleep(0.05)
        assert len(calls) == 2
        assert snapshot._worker is not None and snapshot._worker.is_alive()

    def test_one_thread_per_process_and_a_new_one_after_a_fork(self) -> None:
        CorsPolicyFactory()
        snapshot.get()
        snapshot.changed()
        snapshot.changed()
        first = snapshot._worker
        assert first is not None and first.is_alive()
        assert [t for t in threading.enumerate() if t.name == "cors-policies-rebuild"] == [first]
        snapshot._pid = -1  # as in a forked child: the parent's thread does not exist there
        snapshot.changed()
        assert snapshot._worker is not first and snapshot._worker is not None and snapshot._worker.is_alive()
        first.join(5)  # the old thread saw its event replaced and ended
        assert not first.is_alive()

    def test_a_failed_rebuild_keeps_the_last_set_and_logs(self, caplog: pytest.LogCaptureFixture) -> None:
        CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
        kept = snapshot.get()
        done = threading.Event()

        def down(*args: Any) -> Any:
            done.set()
            raise OperationalError("database is down")

        with (
            caplog.at_level(logging.ERROR, logger="cors_policies"),
            mock.patch.object(snapshot_module, "read_shared_version", side_effect=down),
        ):
            snapshot.changed()
            done.wait(10)
            wait_for(lambda: "keeping the last snapshot" in caplog.text)
        assert snapshot.current is kept and allowed()

    def test_the_interval_starts_the_push_listener_and_a_push_schedules_a_rebuild(self, clock: FakeClock) -> None:
        policy = CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
        with mock.patch.object(snapshot_module.push, "start") as start:
            for _ in range(5):
                snapshot.get()
            assert (
                start.call_count == 1
            )  # at the first load, so a change in the first interval is pushed; not per request
            clock.advance(1.1)
            snapshot.get()
            snapshot.get()
        assert start.call_count == 2
        (on_change,) = start.call_args.args
        with mock.patch.object(snapshot, "committed"):
            CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
        on_change(None)  # what push's listener does for each message
        wait_for(lambda: allowed(origin=OTHER))

    def test_an_announced_version_already_served_schedules_nothing(self) -> None:
        CorsPolicyFactory()
        current = snapshot.get()
        assert current is not None
        with mock.patch.object(snapshot, "_ensure_worker") as ensure:
            snapshot.changed(current.version)
        ensure.assert_not_called()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("threaded")
@pytest.mark.urls("tests.urls")
def test_asgi_requests_never_wait_for_a_rebuild(clock: FakeClock) -> None:
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    policy = CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
    client = AsyncClient()
    response = async_to_sync(client.get)("/t/echo", headers={"Origin": APP})
    assert response.headers["Access-Control-Allow-Origin"] == APP
    with mock.patch.object(snapshot, "committed"):
        CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
    clock.advance(1.1)
    with mock.patch.object(snapshot, "refresh", side_effect=AssertionError("the request waited")):
        response = async_to_sync(client.get)("/t/echo", headers={"Origin": APP})
    assert response.status_code == 200
    wait_for(lambda: snapshot.current is not None and not allowed(origin=APP))


def test_the_sync_path_never_waits_either(db: None, threaded: None, clock: FakeClock, client: Client) -> None:
    CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
    snapshot.get()
    clock.advance(1.1)
    with (
        mock.patch.object(snapshot, "_ensure_worker"),
        mock.patch.object(snapshot, "refresh", side_effect=AssertionError("the request waited")),
    ):
        assert snapshot.get() is snapshot.current


def test_no_thread_to_be_had_rebuilds_on_the_request(
    db: None, threaded: None, clock: FakeClock, caplog: pytest.LogCaptureFixture, committed: Callable[[], Any]
) -> None:
    policy = CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
    assert allowed()
    with mock.patch.object(snapshot, "committed"), committed():  # another process's commit: the cache is told
        CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
    clock.advance(1.1)
    with mock.patch.object(snapshot, "_ensure_worker", side_effect=RuntimeError("can't start new thread")):
        assert allowed(origin=OTHER)
    assert "could not schedule a background rebuild" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_an_idle_process_catches_up_within_the_interval_on_its_own(threaded: None, settings: Any) -> None:
    settings.CORS_POLICIES = {"REFRESH_INTERVAL": 0.2}
    snapshot.background = True  # the settings change reset the snapshot, not this
    policy = CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
    assert allowed()
    snapshot._ensure_worker()
    with mock.patch.object(snapshot, "committed"):  # another process's write
        CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
    current = snapshot.current
    wait_for(lambda: snapshot.current is not current)  # no request, no push: the thread's own check
    assert allowed(origin=OTHER)


@pytest.mark.django_db(transaction=True)
def test_an_interval_of_zero_wakes_the_thread_on_every_request(threaded: None, settings: Any) -> None:
    settings.CORS_POLICIES = {"REFRESH_INTERVAL": 0}
    snapshot.background = True
    policy = CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
    assert allowed()
    snapshot._ensure_worker()
    with mock.patch.object(snapshot, "committed"):
        CorsPolicy.objects.filter(pk=policy.pk).update(allowed_origins=[OTHER])
    wait_for(lambda: allowed(origin=OTHER))  # each request's check wakes the thread (it has no timer then)


@pytest.mark.django_db(transaction=True)
def test_stop_ends_the_rebuild_thread_and_the_next_need_starts_another(threaded: None) -> None:
    CorsPolicyFactory(path_pattern="/t/**", allowed_origins=[APP])
    assert allowed()
    assert snapshot._ensure_worker() is True
    first = snapshot._worker
    assert first is not None and first.is_alive()
    snapshot.stop()
    assert not first.is_alive()
    assert snapshot._worker is None
    assert snapshot._ensure_worker() is True  # a new thread, on its own event
    second = snapshot._worker
    assert second is not None and second is not first and second.is_alive()
