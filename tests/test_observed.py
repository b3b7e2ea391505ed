"""Observed origins: the in-memory recorder, its writes to the database, retention, and the middleware's
recording (report-only policies included), logging and signal."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.db import connection
from django.test import AsyncClient, Client

from cors_policies import observed
from cors_policies.checks import check_settings
from cors_policies.models import CorsPolicy, ObservedOrigin
from cors_policies.observed import MAX_FLUSH_ATTEMPTS, Recorder, is_storable, prune, recorder, write_rows
from cors_policies.signals import cors_decision
from tests.helpers import preflight

APP = "https://app.example.com"
EVIL = "https://evil.test"
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


class FakeTime:
    """``time.time()`` under the test's control (observed.py reads only that clock)."""

    def __init__(self) -> None:
        self.now = T0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(observed, "time", fake)
    return fake


@pytest.fixture(autouse=True)
def _manual_recorder(settings: Any) -> Iterator[None]:
    """The process's recorder writes only when a test says so, and starts each test empty."""
    settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_FLUSH": "manual"}
    recorder.reset()
    yield
    recorder.reset()


def configured(settings: Any, **values: Any) -> Recorder:
    """A fresh recorder with these settings (on top of manual flushing)."""
    settings.CORS_POLICIES = {**settings.CORS_POLICIES, **values}
    fresh = Recorder()
    fresh.configure()
    return fresh


def rows() -> list[tuple[Any, ...]]:
    return list(
        ObservedOrigin.objects.order_by("policy_id", "origin", "verdict", "reason", "enforced_verdict").values_list(
            "policy_id", "origin", "verdict", "reason", "report_only", "enforced_verdict", "count"
        )
    )


@pytest.fixture
def api_policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP], allowed_methods=["PUT"])


# ==================================================================================================
# The recorder in memory
# ==================================================================================================


class TestRecorder:
    def test_counts_are_exact_under_threads(self, settings: Any) -> None:
        rec = configured(settings)
        per_thread, threads = 5000, 8
        keys = [(1, APP, True, "", ""), (1, EVIL, False, "origin", ""), (2, "null", False, "origin", "")]
        start = threading.Barrier(threads)

        def hammer() -> None:
            start.wait()
            for n in range(per_thread):
                rec.record(*keys[n % 3])

        workers = [threading.Thread(target=hammer) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        counts = {key: value[0] for key, value in rec.pending().items()}
        assert counts == {key: threads * len(range(n, per_thread, 3)) for n, key in enumerate(keys)}
        assert sum(counts.values()) == per_thread * threads

    def test_first_and_last_seen_are_kept_per_key(self, settings: Any, clock: FakeTime) -> None:
        rec = configured(settings)
        rec.record(1, APP, True)
        clock.now += 7
        rec.record(1, APP, True)
        assert rec.pending() == {(1, APP, True, "", ""): (2, T0, T0 + 7)}

    @pytest.mark.parametrize(
        "origin",
        [
            "HTTPS://APP.example.com",
            "https://app.example.com/",
            "https://app.example.com:443",
            "https://app.example.com\r\nX: y",
            "app.example.com",
            "",
            "https://" + "a." * 150 + "example.com",
        ],
    )
    def test_malformed_origins_are_counted_but_never_stored(self, settings: Any, origin: str) -> None:
        rec = configured(settings)
        rec.record(1, origin, False, "origin")
        assert rec.pending() == {}
        assert rec.flush() == 0
        assert rec.totals.invalid == 1

    @pytest.mark.parametrize("origin", ["null", "https://app.example.com", "http://localhost:3000", "capacitor://x"])
    def test_browser_origins_are_storable(self, origin: str) -> None:
        assert is_storable(origin)

    def test_longest_storable_origin(self) -> None:
        host = ".".join(["a" * 63] * 3) + "." + "b" * 61  # 253 characters, the longest DNS name
        assert is_storable(f"https://{host}:65535")
        assert not is_storable(f"https://{'a' * 63}.{host}")

    def test_distinct_keys_are_capped_and_the_overflow_counted(
        self, settings: Any, caplog: pytest.LogCaptureFixture, db: None
    ) -> None:
        rec = configured(settings, OBSERVE_MAX_KEYS=3)
        rec.record(1, "https://o0.example.com", False, "origin")
        rec.record(1, "https://o0.example.com", False, "origin")  # seen twice: it keeps its room
        for n in range(1, 10):
            rec.record(1, f"https://o{n}.example.com", False, "origin")
        # The newest take the place of the oldest seen once; what gave way is counted without its origin.
        assert {key[1]: value[0] for key, value in rec.pending().items()} == {
            "https://o0.example.com": 2,
            "https://o8.example.com": 1,
            "https://o9.example.com": 1,
            "": 7,
        }
        with caplog.at_level(logging.WARNING, logger="cors_policies"):
            rec.flush()
        assert rec.totals.overflow == 7
        assert [r.getMessage() for r in caplog.records if r.name == "cors_policies"] == [
            "cors_policies: 7 requests were counted without their origin (Observed origins shows them per policy): "
            "more distinct origins in one interval than OBSERVE_MAX_KEYS_PER_POLICY=200 for one policy and verdict, "
            "or OBSERVE_MAX_KEYS=3 for one verdict (raise them if this is real traffic)"
        ]

    def test_sampling_scales_the_counts(self, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        rec = configured(settings, OBSERVE_SAMPLE_RATE=0.25)
        draws = iter([0.1, 0.9, 0.2, 0.5, 0.24])
        monkeypatch.setattr(observed.random, "random", lambda: next(draws))
        for _ in range(5):
            rec.record(1, APP, True)
        assert {key: value[0] for key, value in rec.pending().items()} == {(1, APP, True, "", ""): 12}  # 3 x 4

    def test_sample_rate_zero_records_nothing(self, settings: Any) -> None:
        rec = configured(settings, OBSERVE_SAMPLE_RATE=0)
        rec.record(1, APP, True)
        assert rec.pending() == {}

    def test_unknown_flush_mode_falls_back_to_the_thread_with_an_error(
        self, settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(observed, "_in_memory_database", lambda: False)
        with caplog.at_level(logging.ERROR, logger="cors_policies"):
            rec = configured(settings, OBSERVE_FLUSH="cron")
        assert rec.mode == "thread"
        assert caplog.records[-1].getMessage() == (
            "cors_policies: CORS_POLICIES['OBSERVE_FLUSH'] is 'cron'; it must be 'thread', 'request' or 'manual'. "
            "Using the default, 'thread' (manage.py check reports it as cors_policies.E012)."
        )

    @pytest.mark.parametrize(
        ("name", "value", "attribute", "default", "requirement"),
        [
            ("OBSERVE_FLUSH_INTERVAL", "soon", "interval", 5.0, "it must be a number, 0 or more."),
            ("OBSERVE_FLUSH_INTERVAL", -1, "interval", 5.0, "it must be a number, 0 or more."),
            ("OBSERVE_SAMPLE_RATE", None, "sample_rate", 1.0, "it must be a fraction from 0 to 1."),
            ("OBSERVE_SAMPLE_RATE", 1.5, "sample_rate", 1.0, "it must be a fraction from 0 to 1."),
            ("OBSERVE_MAX_KEYS", "2000.5", "max_keys", 2000, "it must be a whole number, 0 or more."),
            ("OBSERVE_MAX_KEYS", True, "max_keys", 2000, "it must be a whole number, 0 or more."),
            ("OBSERVE_MAX_KEYS_PER_POLICY", -5, "max_keys_per_policy", 200, "it must be a whole number, 0 or more."),
        ],
    )
    def test_a_setting_of_the_wrong_kind_is_logged_and_its_default_used(
        self,
        settings: Any,
        caplog: pytest.LogCaptureFixture,
        name: str,
        value: Any,
        attribute: str,
        default: Any,
        requirement: str,
    ) -> None:
        """The recorder keeps counting on its default, and says what ``manage.py check`` says (one declaration)."""
        with caplog.at_level(logging.ERROR, logger="cors_policies"):
            rec = configured(settings, **{name: value})
        assert getattr(rec, attribute) == default
        problem = f"CORS_POLICIES[{name!r}] is {value!r}; {requirement}"
        assert caplog.records[-1].getMessage() == (
            f"cors_policies: {problem} Using the default, {default!r} (manage.py check reports it as "
            "cors_policies.E013)."
        )
        assert [(message.id, message.msg) for message in check_settings()] == [("cors_policies.E013", problem)]

    @pytest.mark.parametrize(("mode", "due"), [("request", True), ("manual", False), ("thread", False)])
    def test_record_says_whether_a_request_should_write(
        self, settings: Any, clock: FakeTime, monkeypatch: pytest.MonkeyPatch, mode: str, due: bool
    ) -> None:
        """record() returns flush_due() from the clock read it made anyway: the middleware reads the clock once."""
        monkeypatch.setattr(observed, "_in_memory_database", lambda: False)
        rec = configured(settings, OBSERVE_FLUSH=mode, OBSERVE_FLUSH_INTERVAL=60)
        try:
            assert rec.record(1, APP, True) is False
            clock.now += 59.9
            assert rec.record(1, APP, False, "origin") is False
            clock.now += 0.1  # the interval has passed
            assert rec.record(1, APP, True) is due
            assert rec.flush_due() is due
        finally:
            rec.stop()
        rec = configured(settings, OBSERVE_FLUSH=mode, OBSERVE_FLUSH_INTERVAL=60, OBSERVE_SAMPLE_RATE=0.0)
        clock.now += 60
        assert rec.record(1, APP, True) is due  # sampled out, and still told
        assert rec.pending() == {}

    def test_switching_to_the_thread_starts_it_for_counts_already_waiting(
        self, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(observed, "_in_memory_database", lambda: False)
        rec = configured(settings, OBSERVE_FLUSH="request")
        rec.record(1, APP, True)
        assert rec._thread is None
        settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_FLUSH": "thread", "OBSERVE_FLUSH_INTERVAL": 3600}
        rec.configure()
        try:
            assert rec._thread is not None and rec._thread.is_alive()
        finally:
            rec.stop()
        assert rec._thread is None

    def test_an_in_memory_sqlite_database_is_written_by_requests(self, settings: Any) -> None:
        """A background thread's own connection would not share it (a plain :memory: is one database per
        connection), so "thread" means "request" there; other databases get the thread."""
        rec = configured(settings, OBSERVE_FLUSH="thread")
        in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()  # type: ignore[attr-defined]
        assert rec.mode == ("request" if in_memory else "thread")
        assert observed._in_memory_database() is in_memory

    def test_a_forked_child_starts_empty(self, settings: Any) -> None:
        rec = Recorder(register_process_hooks=True)
        rec.configure()
        rec.record(1, APP, True)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report what it holds, and leave at once
            os.write(write, repr(rec.pending()).encode())
            os._exit(0)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        assert os.read(read, 1000) == b"{}"
        os.close(read)
        assert status == 0
        assert [count for count, _, _ in rec.pending().values()] == [1]  # the parent keeps its own


# ==================================================================================================
# Writing to the database
# ==================================================================================================


@pytest.mark.django_db
class TestFlush:
    def test_flush_writes_one_row_per_key(self, settings: Any, clock: FakeTime, api_policy: CorsPolicy) -> None:
        rec = configured(settings)
        rec.record(api_policy.pk, APP, True)
        clock.now += 2
        rec.record(api_policy.pk, APP, True)
        rec.record(api_policy.pk, EVIL, False, "origin")
        rec.record(api_policy.pk, APP, False, "method")
        rec.record(api_policy.pk, EVIL, True, "", "refused")
        assert rec.flush() == 4
        assert rows() == [
            (api_policy.pk, APP, "allowed", "", False, "", 2),
            (api_policy.pk, APP, "refused", "method", False, "", 1),
            (api_policy.pk, EVIL, "allowed", "", True, "refused", 1),
            (api_policy.pk, EVIL, "refused", "origin", False, "", 1),
        ]
        row = ObservedOrigin.objects.get(origin=APP, verdict="allowed")
        assert (row.first_seen, row.last_seen) == (at(T0), at(T0 + 2))
        assert rec.pending() == {}
        assert rec.flush() == 0  # nothing new

    @pytest.mark.parametrize("portable", [False, True], ids=["upsert", "portable"])
    def test_two_processes_add_up(
        self, settings: Any, clock: FakeTime, api_policy: CorsPolicy, portable: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two recorders (as two processes would) flushing to the same table: counts add, the earliest first
        seen and the latest last seen win, whatever the order of the writes."""
        if portable:
            monkeypatch.setattr(observed, "write_rows", lambda batch, using=None: write_rows(batch, portable=True))
        first, second = configured(settings), configured(settings)
        clock.now = T0 + 10
        first.record(api_policy.pk, APP, True)
        second.record(api_policy.pk, EVIL, False, "origin")
        clock.now = T0
        second.record(api_policy.pk, APP, True)
        second.record(api_policy.pk, APP, True)
        clock.now = T0 + 20
        first.record(api_policy.pk, APP, True)
        assert second.flush() == 2
        assert first.flush() == 1
        assert rows() == [
            (api_policy.pk, APP, "allowed", "", False, "", 4),
            (api_policy.pk, EVIL, "refused", "origin", False, "", 1),
        ]
        row = ObservedOrigin.objects.get(origin=APP)
        assert (row.first_seen, row.last_seen) == (at(T0), at(T0 + 20))
        clock.now = T0 + 30
        second.record(api_policy.pk, APP, True)
        second.flush()
        row.refresh_from_db()
        assert (row.count, row.first_seen, row.last_seen) == (5, at(T0), at(T0 + 30))

    def test_rows_of_a_deleted_policy_are_left_out(self, settings: Any, api_policy: CorsPolicy) -> None:
        rec = configured(settings)
        rec.record(api_policy.pk, APP, True)
        rec.record(api_policy.pk + 1000, APP, True)
        assert rec.flush() == 1
        assert rows() == [(api_policy.pk, APP, "allowed", "", False, "", 1)]

    def test_many_keys_are_written_in_batches(self, settings: Any, api_policy: CorsPolicy) -> None:
        rec = configured(settings, OBSERVE_MAX_KEYS=1000, OBSERVE_MAX_KEYS_PER_POLICY=1000)
        for n in range(250):
            rec.record(api_policy.pk, f"https://o{n}.example.com", False, "origin")
        assert rec.flush() == 250
        assert ObservedOrigin.objects.count() == 250

    def test_a_failing_database_loses_nothing_when_it_comes_back(
        self, settings: Any, api_policy: CorsPolicy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        rec = configured(settings)
        rec.record(api_policy.pk, APP, True)
        with monkeypatch.context() as broken:  # a real database error: the table is not there
            broken.setattr(ObservedOrigin._meta, "db_table", "cors_policies_missing")
            with caplog.at_level(logging.WARNING, logger="cors_policies"):
                assert rec.flush() == 0
        assert rows() == []
        assert caplog.records[-1].getMessage() == (
            "cors_policies: could not write 1 observed-origin rows (attempt 1 of 3); retrying with the next interval's"
        )
        rec.record(api_policy.pk, APP, True)
        rec.record(api_policy.pk, EVIL, False, "origin")
        assert rec.flush() == 2
        assert rows() == [
            (api_policy.pk, APP, "allowed", "", False, "", 2),
            (api_policy.pk, EVIL, "refused", "origin", False, "", 1),
        ]
        assert rec.totals.failed_flushes == 1
        assert rec.totals.dropped_requests == 0

    def test_a_database_down_for_good_drops_only_the_counts_it_could_not_write(
        self, settings: Any, api_policy: CorsPolicy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        rec = configured(settings)
        failing = True

        def flaky(batch: Any, using: str | None = None) -> int:
            if failing:
                raise ConnectionError("database unavailable")
            return write_rows(batch, using)

        monkeypatch.setattr(observed, "write_rows", flaky)
        for _ in range(MAX_FLUSH_ATTEMPTS):
            rec.record(api_policy.pk, APP, True)
            assert rec.flush() == 0
        assert rec.totals.dropped_requests == MAX_FLUSH_ATTEMPTS
        assert caplog.records[-1].levelno == logging.ERROR
        assert caplog.records[-1].getMessage() == (
            "cors_policies: could not write 1 observed-origin rows (3 requests) after 3 attempts; dropped them"
        )
        failing = False
        rec.record(api_policy.pk, EVIL, False, "origin")
        assert rec.flush() == 1
        assert rows() == [(api_policy.pk, EVIL, "refused", "origin", False, "", 1)]

    def test_a_failing_prune_is_logged_and_the_rows_stay_written(
        self, settings: Any, api_policy: CorsPolicy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        rec = configured(settings)
        monkeypatch.setattr(observed, "prune", lambda using=None: 1 / 0)
        rec.record(api_policy.pk, APP, True)
        with caplog.at_level(logging.WARNING, logger="cors_policies"):
            assert rec.flush() == 1
        assert caplog.records[-1].getMessage() == "cors_policies: could not prune observed origins; retrying later"
        assert rows() == [(api_policy.pk, APP, "allowed", "", False, "", 1)]

    def test_what_is_left_is_written_at_exit(self, settings: Any, api_policy: CorsPolicy) -> None:
        rec = configured(settings, OBSERVE_FLUSH="request")
        rec.record(api_policy.pk, APP, True)
        rec.close()
        assert rows() == [(api_policy.pk, APP, "allowed", "", False, "", 1)]
        manual = configured(settings, OBSERVE_FLUSH="manual")
        manual.record(api_policy.pk, EVIL, False, "origin")
        manual.close()  # manual: the owner decides when to write
        assert len(rows()) == 1

    def test_the_portable_upsert_survives_a_concurrent_insert(
        self, settings: Any, clock: FakeTime, api_policy: CorsPolicy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Another process inserts the row between this one's UPDATE (no row yet) and its INSERT."""
        from django.db.models import QuerySet

        first = configured(settings)
        first.record(api_policy.pk, APP, True)
        first.flush()
        real_update = QuerySet.update
        calls: list[int] = []

        def update_missing_the_row_once(self: QuerySet[Any], **kwargs: Any) -> int:
            calls.append(1)
            return 0 if len(calls) == 1 else real_update(self, **kwargs)

        monkeypatch.setattr(QuerySet, "update", update_missing_the_row_once)
        second = configured(settings)
        second.record(api_policy.pk, APP, True)
        second.record(api_policy.pk, APP, True)
        assert (
            write_rows(
                {
                    key: [count, first_seen, last_seen]
                    for key, (count, first_seen, last_seen) in second.pending().items()
                },
                portable=True,
            )
            == 1
        )
        assert rows() == [(api_policy.pk, APP, "allowed", "", False, "", 3)]
        assert len(calls) == 2

    def test_a_retried_batch_stays_within_the_key_cap(
        self, settings: Any, api_policy: CorsPolicy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rec = configured(settings, OBSERVE_MAX_KEYS=2)
        monkeypatch.setattr(observed, "write_rows", lambda batch, using=None: 1 / 0)
        rec.record(api_policy.pk, "https://a.example.com", True)
        rec.flush()
        rec.record(api_policy.pk, "https://a.example.com", True)
        rec.record(api_policy.pk, "https://b.example.com", True)
        rec.flush()
        rec.record(api_policy.pk, "https://c.example.com", True)
        rec.record(api_policy.pk, "https://c.example.com", True)
        monkeypatch.setattr(observed, "write_rows", write_rows)
        rec.flush()
        assert [(origin, count) for _, origin, _, _, _, _, count in rows()] == [
            ("", 2),  # the requests without room, counted without their origin
            ("https://a.example.com", 2),
            ("https://b.example.com", 1),
        ]
        assert rec.totals.overflow == 2


# ==================================================================================================
# Retention
# ==================================================================================================


def observed_row(policy: CorsPolicy, origin: str, last_seen: datetime, **fields: Any) -> ObservedOrigin:
    return ObservedOrigin.objects.create(
        policy=policy, origin=origin, verdict="allowed", count=1, first_seen=last_seen, last_seen=last_seen, **fields
    )


@pytest.mark.django_db
class TestRetention:
    def test_prune_deletes_rows_older_than_the_retention(self, api_policy: CorsPolicy) -> None:
        now = at(T0)
        observed_row(api_policy, "https://old.example.com", now - timedelta(days=30, seconds=1))
        observed_row(api_policy, "https://recent.example.com", now - timedelta(days=29))
        result = prune(now=now)
        assert (result.expired, result.trimmed, result.orphaned) == (1, 0, 0)
        assert list(ObservedOrigin.objects.values_list("origin", flat=True)) == ["https://recent.example.com"]

    def test_prune_keeps_the_most_recently_seen_rows(self, api_policy: CorsPolicy) -> None:
        now = datetime.now(tz=timezone.utc)
        for n in range(5):
            observed_row(api_policy, f"https://o{n}.example.com", now - timedelta(minutes=n))
        observed_row(api_policy, "https://tie.example.com", now - timedelta(minutes=2))
        result = prune(max_rows=3)
        assert result.trimmed == 3
        assert sorted(ObservedOrigin.objects.values_list("origin", flat=True)) == [
            "https://o0.example.com",
            "https://o1.example.com",
            "https://tie.example.com",  # same last seen as o2, and newer: ties are broken by id
        ]

    def test_prune_deletes_rows_whose_policy_is_gone(self, api_policy: CorsPolicy) -> None:
        observed_row(api_policy, APP, datetime.now(tz=timezone.utc))
        CorsPolicy.objects.filter(pk=api_policy.pk)._raw_delete(connection.alias)  # around the ORM's signals
        assert ObservedOrigin.objects.count() == 1
        assert prune().orphaned == 1
        assert ObservedOrigin.objects.count() == 0

    def test_deleting_a_policy_deletes_its_rows(
        self, api_policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        other = make_policy(name="other", path_pattern="/other")
        observed_row(api_policy, APP, datetime.now(tz=timezone.utc))
        observed_row(other, APP, datetime.now(tz=timezone.utc))
        api_policy.delete()
        assert list(ObservedOrigin.objects.values_list("policy__name", flat=True)) == ["other"]

    def test_cleanup_command(self, api_policy: CorsPolicy, capsys: pytest.CaptureFixture[str]) -> None:
        now = datetime.now(tz=timezone.utc)
        observed_row(api_policy, "https://old.example.com", now - timedelta(days=8))
        observed_row(api_policy, "https://recent.example.com", now - timedelta(days=1))
        call_command("cors_cleanup_observed", "--days", "7")
        assert capsys.readouterr().out == (
            "Deleted 1 observed-origin row: 1 not seen for 7 days, 0 beyond the 100000 most recent, 0 of deleted "
            "policies.\n"
        )
        call_command("cors_cleanup_observed", "--days", "0.5", "--max-rows", "10")
        assert capsys.readouterr().out == (
            "Deleted 1 observed-origin row: 1 not seen for 0.5 days, 0 beyond the 10 most recent, 0 of deleted "
            "policies.\n"
        )
        call_command("cors_cleanup_observed")
        assert capsys.readouterr().out == "No observed-origin row to delete (retention 30 days, at most 100000 rows).\n"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--days", "-1"], "--days must be a number of days of 0 or more, such as --days 30, not '-1'."),
            (["--days", "soon"], "--days must be a number of days of 0 or more, such as --days 30, not 'soon'."),
            (
                ["--max-rows", "-5"],
                "--max-rows must be a whole number of 0 or more, such as --max-rows 100000, not '-5'.",
            ),
        ],
    )
    def test_cleanup_command_refuses_bad_arguments(self, args: list[str], message: str) -> None:
        from django.core.management import CommandError

        with pytest.raises(CommandError) as info:
            call_command("cors_cleanup_observed", *args)
        assert str(info.value) == message

    def test_the_writer_prunes_after_writing(self, settings: Any, api_policy: CorsPolicy) -> None:
        observed_row(api_policy, "https://old.example.com", datetime.now(tz=timezone.utc) - timedelta(days=31))
        rec = configured(settings)
        rec.record(api_policy.pk, APP, True)
        rec.flush()  # the first write of a process prunes, then once an hour or every tenth of OBSERVE_MAX_ROWS
        assert list(ObservedOrigin.objects.values_list("origin", flat=True)) == [APP]


# ==================================================================================================
# The middleware: what it records, logs and signals
# ==================================================================================================


def recorded() -> dict[tuple[int, str, bool, str, str], int]:
    return {key: count for key, (count, _, _) in recorder.pending().items()}


@pytest.mark.urls("tests.urls")
@pytest.mark.django_db
class TestMiddlewareRecording:
    def test_each_verdict_is_counted_with_its_reason(self, client: Client, api_policy: CorsPolicy) -> None:
        client.get("/t/echo", HTTP_ORIGIN=APP)
        client.get("/t/echo", HTTP_ORIGIN=APP)
        client.get("/t/echo", HTTP_ORIGIN=EVIL)
        preflight(client, "/t/echo", APP, "DELETE")
        preflight(client, "/t/echo", APP, "PUT", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-secret")
        preflight(client, "/t/echo", APP, "PUT")
        assert recorded() == {
            (api_policy.pk, APP, True, "", ""): 3,
            (api_policy.pk, EVIL, False, "origin", ""): 1,
            (api_policy.pk, APP, False, "method", ""): 1,
            (api_policy.pk, APP, False, "headers", ""): 1,
        }

    def test_requests_that_are_not_cross_origin_are_not_recorded(self, client: Client, api_policy: CorsPolicy) -> None:
        client.get("/t/echo")  # no Origin
        client.post("/t/echo", HTTP_ORIGIN="http://testserver")  # the site's own origin
        client.get("/t/echo", HTTP_ORIGIN="http://testserver", HTTP_HOST="testserver:80")
        client.get("/other", HTTP_ORIGIN=APP)  # no policy covers the path
        client.get("/t/echo", HTTP_ORIGIN="https://APP.example.com")  # malformed: counted, not stored
        assert recorded() == {}
        assert recorder.flush() == 0
        assert recorder.totals.invalid == 1

    def test_recording_costs_no_query(
        self, client: Client, api_policy: CorsPolicy, django_assert_num_queries: Any
    ) -> None:
        client.get("/t/echo", HTTP_ORIGIN=APP)  # loads the snapshot
        with django_assert_num_queries(0):
            for _ in range(10):
                client.get("/t/echo", HTTP_ORIGIN=APP)
                client.get("/t/echo", HTTP_ORIGIN=EVIL)
                preflight(client, "/t/echo", APP, "DELETE")
        assert recorded() == {
            (api_policy.pk, APP, True, "", ""): 11,
            (api_policy.pk, EVIL, False, "origin", ""): 10,
            (api_policy.pk, APP, False, "method", ""): 10,
        }

    def test_the_off_switch(self, client: Client, api_policy: CorsPolicy, settings: Any) -> None:
        settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE": False}
        response = client.get("/t/echo", HTTP_ORIGIN=APP)
        assert response["Access-Control-Allow-Origin"] == APP
        assert recorded() == {}

    def test_a_host_django_refuses_is_never_the_same_origin(self, client: Client, api_policy: CorsPolicy) -> None:
        response = client.get("/t/echo", HTTP_ORIGIN="http://evil.invalid", HTTP_HOST="evil.invalid")
        assert response.status_code == 400  # CommonMiddleware's DisallowedHost, after ours
        assert recorded() == {(api_policy.pk, "http://evil.invalid", False, "origin", ""): 1}

    def test_the_off_switch_keeps_logging_and_the_signal(
        self,
        client: Client,
        api_policy: CorsPolicy,
        make_policy: Callable[..., CorsPolicy],
        settings: Any,
        debug_log: pytest.LogCaptureFixture,
    ) -> None:
        settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE": False}
        make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
        received: list[Any] = []

        def listener(sender: Any, **kwargs: Any) -> None:
            received.append(kwargs["decision"].allowed)

        cors_decision.connect(listener, dispatch_uid="off_switch")
        try:
            client.get("/t/echo", HTTP_ORIGIN=EVIL)
            client.get("/t/echo", HTTP_ORIGIN=APP)
        finally:
            cors_decision.disconnect(dispatch_uid="off_switch")
        assert recorded() == {}
        assert len(decision_lines(debug_log)) == 2  # the refusal and the report-only difference
        assert received == [False, True]

    def test_async_without_a_snapshot_passes_through(
        self, api_policy: CorsPolicy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from cors_policies.cache import snapshot

        monkeypatch.setattr(snapshot, "refresh", lambda: None)
        response = async_to_sync(AsyncClient().get)("/t/echo", headers={"Origin": APP})
        assert response.status_code == 200
        assert not response.has_header("Access-Control-Allow-Origin")
        assert recorded() == {}

    def test_async_requests_are_recorded_too(self, api_policy: CorsPolicy) -> None:
        client = AsyncClient()
        async_to_sync(client.get)("/t/echo", headers={"Origin": APP})
        async_to_sync(client.get)("/t/echo", headers={"Origin": EVIL})
        assert recorded() == {(api_policy.pk, APP, True, "", ""): 1, (api_policy.pk, EVIL, False, "origin", ""): 1}

    def test_flushing_on_requests(self, client: Client, api_policy: CorsPolicy, settings: Any) -> None:
        settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_FLUSH": "request", "OBSERVE_FLUSH_INTERVAL": 60}
        client.get("/t/echo", HTTP_ORIGIN=APP)
        assert rows() == []  # not yet: the interval has not passed
        settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_FLUSH_INTERVAL": 0}
        client.get("/t/echo", HTTP_ORIGIN=EVIL)  # the first request after the interval writes both
        assert rows() == [
            (api_policy.pk, APP, "allowed", "", False, "", 1),
            (api_policy.pk, EVIL, "refused", "origin", False, "", 1),
        ]
        async_to_sync(AsyncClient().get)("/t/echo", headers={"Origin": APP})
        assert rows() == [
            (api_policy.pk, APP, "allowed", "", False, "", 2),
            (api_policy.pk, EVIL, "refused", "origin", False, "", 1),
        ]

    def test_a_failing_flush_never_breaks_the_request(
        self, client: Client, api_policy: CorsPolicy, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_FLUSH": "request", "OBSERVE_FLUSH_INTERVAL": 0}
        client.get("/t/echo", HTTP_ORIGIN=APP)  # loads the snapshot
        monkeypatch.setattr(ObservedOrigin._meta, "db_table", "cors_policies_missing")
        response = client.get("/t/echo", HTTP_ORIGIN=APP)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == APP
        assert recorder.totals.failed_flushes == 1


@pytest.mark.urls("tests.urls")
@pytest.mark.django_db(transaction=True)
def test_the_background_thread_writes_within_the_interval(
    settings: Any, make_policy: Callable[..., CorsPolicy], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Django's in-memory SQLite test database is shared between threads (cache=shared), so the thread can
    # be tested on it too.
    monkeypatch.setattr(observed, "_in_memory_database", lambda: False)
    policy = make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP])
    settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_FLUSH": "thread", "OBSERVE_FLUSH_INTERVAL": 0.2}
    try:
        started = time.monotonic()
        Client().get("/t/echo", HTTP_ORIGIN=EVIL)
        while not ObservedOrigin.objects.exists() and time.monotonic() - started < 10:
            time.sleep(0.05)
        assert time.monotonic() - started < 5
        assert rows() == [(policy.pk, EVIL, "refused", "origin", False, "", 1)]
    finally:
        recorder.stop()


# ==================================================================================================
# Report-only policies
# ==================================================================================================

OLD = "https://old.example.com"
NEW = "https://new.example.com"

#: (method, path, headers): the requests whose responses must not change with report-only policies.
REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/t/echo", {"HTTP_ORIGIN": APP}),
    ("GET", "/t/echo", {"HTTP_ORIGIN": OLD}),
    ("GET", "/t/echo", {"HTTP_ORIGIN": NEW}),
    ("GET", "/t/echo", {"HTTP_ORIGIN": EVIL}),
    ("GET", "/t/echo", {}),
    ("GET", "/t/vary", {"HTTP_ORIGIN": OLD}),
    ("OPTIONS", "/t/echo", {"HTTP_ORIGIN": OLD, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}),
    ("OPTIONS", "/t/echo", {"HTTP_ORIGIN": APP, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "DELETE"}),
    ("OPTIONS", "/t/echo", {"HTTP_ORIGIN": NEW, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}),
    ("GET", "/other", {"HTTP_ORIGIN": NEW}),
    ("OPTIONS", "/other", {"HTTP_ORIGIN": NEW, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}),
    ("GET", "/other", {"HTTP_ORIGIN": OLD}),
]


def full_responses(client: Client) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    answers = []
    for method, path, headers in REQUESTS:
        response = client.generic(method, path, **headers)
        answers.append((response.status_code, sorted(response.items()), response.content))
    return answers


@pytest.mark.urls("tests.urls")
@pytest.mark.django_db
class TestReportOnly:
    @pytest.fixture
    def enforced(self, make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
        return make_policy(
            name="api", path_pattern="/t/**", allowed_origins=[APP, OLD], allowed_methods=["PUT"], max_age=60
        )

    @pytest.fixture
    def tightened(self, make_policy: Callable[..., CorsPolicy]) -> tuple[CorsPolicy, CorsPolicy]:
        """api without OLD but with NEW and DELETE; and a policy for a path nothing covers yet."""
        tight = make_policy(
            name="api-tight",
            path_pattern="/t/**",
            priority=100,  # would win if it were enforced
            allowed_origins=[APP, NEW],
            allowed_methods=["PUT", "DELETE"],
            report_only=True,
        )
        other = make_policy(name="other", path_pattern="/other", allowed_origins=[NEW], report_only=True)
        return tight, other

    def test_report_only_policies_never_change_a_response(
        self,
        client: Client,
        enforced: CorsPolicy,
        make_policy: Callable[..., CorsPolicy],
        committed: Callable[[], Any],
    ) -> None:
        before = full_responses(client)
        tight = make_policy(
            name="api-tight",
            path_pattern="/t/**",
            priority=100,
            allowed_origins=[APP, NEW],
            allowed_methods=["PUT", "DELETE"],
            report_only=True,
        )
        make_policy(name="other", path_pattern="/other", allowed_origins=[NEW], report_only=True)
        assert full_responses(client) == before
        with committed():  # enforcing it does change them: the comparison can fail
            CorsPolicy.objects.filter(pk=tight.pk).update(report_only=False)
        assert full_responses(client) != before

    def test_every_differing_verdict_is_recorded_with_both_verdicts(
        self, client: Client, enforced: CorsPolicy, tightened: tuple[CorsPolicy, CorsPolicy]
    ) -> None:
        tight, other = tightened
        full_responses(client)
        assert recorded() == {
            # what was served
            (enforced.pk, APP, True, "", ""): 1,
            (enforced.pk, OLD, True, "", ""): 3,
            (enforced.pk, NEW, False, "origin", ""): 2,
            (enforced.pk, EVIL, False, "origin", ""): 1,
            (enforced.pk, APP, False, "method", ""): 1,
            # where api-tight would answer otherwise
            (tight.pk, OLD, False, "origin", "allowed"): 3,
            (tight.pk, NEW, True, "", "refused"): 2,
            (tight.pk, APP, True, "", "refused"): 1,  # the DELETE preflight
            # where no policy answers today
            (other.pk, NEW, True, "", "uncovered"): 2,
            # GET /other from OLD: refused by both (no policy serves it; "other" would refuse it), not recorded
        }


# ==================================================================================================
# Logging and the cors_decision signal
# ==================================================================================================


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
    """DEBUG records of cors_policies.decisions, captured there alone (whatever handlers its parents have)."""
    logger = logging.getLogger("cors_policies.decisions")
    monkeypatch.setattr(logger, "handlers", [caplog.handler])
    monkeypatch.setattr(logger, "propagate", False)
    caplog.set_level(logging.DEBUG, logger="cors_policies.decisions")
    return caplog


def decision_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "cors_policies.decisions"]


@pytest.mark.urls("tests.urls")
@pytest.mark.django_db
class TestLogging:
    def test_every_refusal_is_logged_at_debug_with_its_reason(
        self, client: Client, api_policy: CorsPolicy, debug_log: pytest.LogCaptureFixture
    ) -> None:
        client.get("/t/echo", HTTP_ORIGIN=APP)
        client.get("/t/echo", HTTP_ORIGIN=EVIL)
        preflight(client, "/t/echo", APP, "DELETE")
        assert [record.levelno for record in debug_log.records if record.name == "cors_policies.decisions"] == [
            logging.DEBUG,
            logging.DEBUG,
        ]
        assert decision_lines(debug_log) == [
            "CORS refused GET /t/echo from origin https://evil.test by policy 'api': origin https://evil.test is "
            "not allowed by policy 'api' (it allows https://app.example.com)",
            "CORS refused OPTIONS /t/echo from origin https://app.example.com by policy 'api': method DELETE is "
            "not in the allowed methods PUT",
        ]

    def test_attacker_values_are_escaped(
        self, client: Client, api_policy: CorsPolicy, debug_log: pytest.LogCaptureFixture
    ) -> None:
        injected = "https://evil.test\r\nINFO forged: admin logged in"
        client.get("/t/echo%0d%0aforged", HTTP_ORIGIN=injected)
        preflight(client, "/t/echo", APP, "DELE\x1bTE")
        lines = decision_lines(debug_log)
        assert lines == [
            "CORS refused GET /t/echo\\r\\nforged from origin https://evil.test\\r\\nINFO forged: admin logged in by "
            "policy 'api': origin 'https://evil.test\\r\\nINFO forged: admin logged in' is not a serialized origin "
            "(scheme://host[:port], lower case, no default port), so it never matches",
            "CORS refused OPTIONS /t/echo from origin https://app.example.com by policy 'api': "
            "Access-Control-Request-Method 'DELE\\x1bTE' is not a valid method token",
        ]
        assert all(char.isprintable() for line in lines for char in line)

    def test_report_only_differences_are_logged(
        self,
        client: Client,
        api_policy: CorsPolicy,
        make_policy: Callable[..., CorsPolicy],
        debug_log: pytest.LogCaptureFixture,
    ) -> None:
        make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
        make_policy(name="wide", path_pattern="/other", allowed_origins=[EVIL], report_only=True)
        client.get("/t/echo", HTTP_ORIGIN=APP)
        client.get("/other", HTTP_ORIGIN=EVIL)
        assert decision_lines(debug_log) == [
            "CORS report-only policy 'tight' would refuse (origin https://app.example.com is not allowed by policy "
            "'tight' (it allows no origins)) GET /t/echo from origin https://app.example.com; served: allowed",
            "CORS report-only policy 'wide' would allow GET /other from origin https://evil.test; served: no policy",
        ]

    def test_nothing_is_logged_above_debug(
        self, client: Client, api_policy: CorsPolicy, debug_log: pytest.LogCaptureFixture
    ) -> None:
        debug_log.set_level(logging.INFO, logger="cors_policies.decisions")
        client.get("/t/echo", HTTP_ORIGIN=EVIL)
        assert decision_lines(debug_log) == []


@pytest.mark.urls("tests.urls")
@pytest.mark.django_db
class TestSignal:
    def test_sent_for_each_cross_origin_decision(
        self, client: Client, api_policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
        received: list[dict[str, Any]] = []

        def listener(sender: Any, **kwargs: Any) -> None:
            received.append({"sender": sender, **kwargs})

        cors_decision.connect(listener)
        try:
            client.get("/t/echo", HTTP_ORIGIN=APP)
            client.get("/t/echo", HTTP_ORIGIN=EVIL)
            client.get("/t/echo")  # not cross-origin
            client.get("/other", HTTP_ORIGIN=APP)  # no policy
        finally:
            cors_decision.disconnect(listener)
        from cors_policies.middleware import CorsPolicyMiddleware

        assert [
            (
                item["sender"],
                item["origin"],
                item["request"].path,
                item["decision"].policy.name,
                item["decision"].allowed,
                item["report_only"].policy.name,
                item["report_only"].allowed,
            )
            for item in received
        ] == [
            (CorsPolicyMiddleware, APP, "/t/echo", "api", True, "tight", False),
            (CorsPolicyMiddleware, EVIL, "/t/echo", "api", False, "tight", False),
        ]

    def test_not_sent_without_receivers(
        self, client: Client, api_policy: CorsPolicy, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def fail(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("sent without receivers")

        monkeypatch.setattr(cors_decision, "send", fail)
        assert client.get("/t/echo", HTTP_ORIGIN=APP)["Access-Control-Allow-Origin"] == APP


# ==================================================================================================
# Room per policy and verdict: a flood of distinct origins cannot blind the recorder
# ==================================================================================================


def junk(n: int) -> str:
    return f"https://junk{n}.evil.test"


class TestRoom:
    def test_a_flood_on_one_policy_leaves_room_for_the_others(self, settings: Any) -> None:
        rec = configured(settings)
        for n in range(5000):
            rec.record(1, junk(n), False, "origin")
        rec.record(2, "https://partner.example", False, "origin")
        assert rec.pending()[(2, "https://partner.example", False, "origin", "")][0] == 1

    def test_a_flood_of_allowed_origins_leaves_room_for_refused_ones(self, settings: Any) -> None:
        rec = configured(settings)
        for policy in range(1, 21):  # allowed by '*' policies: 20 x 200 fills the allowed room twice over
            for n in range(200):
                rec.record(policy, junk(n), True)
        rec.record(1, "https://partner.example", False, "origin")
        rec.record(30, "https://other.example", False, "origin")
        pending = rec.pending()
        assert (1, "https://partner.example", False, "origin", "") in pending
        assert (30, "https://other.example", False, "origin", "") in pending

    def test_an_origin_that_comes_back_keeps_its_room_in_a_flood(self, settings: Any) -> None:
        rec = configured(settings)
        rec.record(1, "https://early.example", False, "origin")
        rec.record(1, "https://early.example", False, "origin")  # a preflight and its request
        for n in range(2500):
            rec.record(1, junk(n), False, "origin")
            if n == 1000:  # one arriving in the middle of the flood, twice
                rec.record(1, "https://late.example", False, "origin")
                rec.record(1, "https://late.example", False, "origin")
        pending = rec.pending()
        assert pending[(1, "https://early.example", False, "origin", "")][0] == 2
        assert pending[(1, "https://late.example", False, "origin", "")][0] == 2

    def test_every_policy_keeps_room_when_many_are_flooded(self, settings: Any) -> None:
        rec = configured(settings)
        for policy in range(1, 21):  # 20 x 200 refused keys: twice the refused room
            for n in range(200):
                rec.record(policy, junk(n), False, "origin")
        for n in range(observed.MIN_ROOM):
            rec.record(99, f"https://real{n}.example", False, "origin")
        pending = rec.pending()
        assert all((99, f"https://real{n}.example", False, "origin", "") in pending for n in range(observed.MIN_ROOM))

    def test_memory_stays_bounded(self, settings: Any) -> None:
        rec = configured(settings, OBSERVE_MAX_KEYS=100, OBSERVE_MAX_KEYS_PER_POLICY=20)
        for n in range(20_000):
            rec.record(n % 50, junk(n), n % 3 == 0, "" if n % 3 == 0 else "origin")
        origins = [key for key in rec.pending() if key[1] != ""]
        # Each verdict: its 100, plus MIN_ROOM (here 100 // 10) for each of the 50 policies at most.
        assert len(origins) <= 2 * (100 + 50 * 10)

    def test_what_gave_way_is_counted_per_policy_verdict_and_reason(
        self, settings: Any, api_policy: CorsPolicy
    ) -> None:
        rec = configured(settings, OBSERVE_MAX_KEYS_PER_POLICY=10)
        for n in range(25):
            rec.record(api_policy.pk, junk(n), False, "origin")
        for n in range(12):
            rec.record(api_policy.pk, junk(n), True)
        rec.record(api_policy.pk, "null", False, "method")  # takes the room of the oldest refused one, junk15
        assert rec.flush() == 10 + 10 + 2
        assert rows() == [
            (api_policy.pk, "", "allowed", "", False, "", 2),
            (api_policy.pk, "", "refused", "origin", False, "", 16),
            *sorted(
                [(api_policy.pk, junk(n), "refused", "origin", False, "", 1) for n in range(16, 25)]
                + [(api_policy.pk, "null", "refused", "method", False, "", 1)]
                + [(api_policy.pk, junk(n), "allowed", "", False, "", 1) for n in range(2, 12)]
            ),
        ]
        assert rec.totals.overflow == 18

    def test_the_issues_flood_through_the_middleware(
        self, settings: Any, client: Client, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_MAX_KEYS": 200, "OBSERVE_MAX_KEYS_PER_POLICY": 50}
        recorder.configure()
        make_policy(name="api", path_pattern="/api/**", allowed_origins=[APP], allow_credentials=True)
        make_policy(name="health", path_pattern="/health", allowed_origins=[APP])
        for n in range(500):  # every one refused, each from a new origin
            client.get("/api/public/items/", HTTP_ORIGIN=junk(n))
        client.options("/api/public/items/", HTTP_ORIGIN=EVIL, HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT")
        client.get("/api/public/items/", HTTP_ORIGIN=EVIL)
        client.get("/health", HTTP_ORIGIN="https://partner.example")
        recorder.flush()
        refused = dict(ObservedOrigin.objects.filter(verdict="refused").values_list("origin", "count"))
        assert refused[EVIL] == 2
        assert refused["https://partner.example"] == 1
        assert refused[""] == 500 - 49  # the junk that gave way: counted, without its origin
