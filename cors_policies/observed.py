"""Observed origins: which origins call each policy, with which verdict, how often and when.

Hot path: for every request with an Origin that a policy covers, the middleware calls
:meth:`Recorder.record`, which adds to a counter in this process's memory under a lock held for a few
dictionary operations: no I/O, no query, and exact counts under threads. Checking that the origin is
worth storing and enforcing the cap are paid once per new key and interval, not per request.

Write path: :meth:`Recorder.flush` swaps the counters out and upserts them as aggregated rows: counts
added, the earliest ``first_seen`` and the latest ``last_seen`` kept, so the rows of any number of
processes add up. A write that fails is retried with the next interval's counts (``MAX_FLUSH_ATTEMPTS``
in all, the counters staying within the key cap meanwhile), then dropped with an error in the log; it
never reaches a request.

Who flushes (``OBSERVE_FLUSH``): by default a daemon thread per process, rather than the requests:

- no request waits for the database: piggybacking would put a round trip into one request per interval
  and process, and under ASGI a hop to a worker thread as well (the event loop must not do I/O);
- an idle process still writes what it counted within the interval. With gunicorn's sync workers the
  worker that saw a refused request is rarely the one that serves the admin page a moment later, and
  piggybacking would keep its counts until its next request;
- it is the same under WSGI and ASGI: a plain thread with its own database connection, closed after each
  write as ``CONN_MAX_AGE`` says, and independent of any event loop;
- forks are safe: a child (gunicorn ``--preload``) starts with empty counters and its own thread
  (``os.register_at_fork``); at exit (a worker recycled by ``max_requests``, a graceful shutdown) the rest
  is written.

Servers that run no Python threads (uWSGI without ``--enable-threads``) can use ``"request"``: the first
request recorded after each interval writes (through the thread pool under ASGI). ``"manual"`` writes
only when :meth:`Recorder.flush` is called (tests, an own scheduler). With an in-memory SQLite database
(test suites, benchmarks) "thread" means "request": a thread's own connection would not share it.

Attackers choose origins, so memory and the table are bounded: at most ``OBSERVE_MAX_KEYS`` keys per
interval (requests beyond are counted as overflow and logged), only syntactically valid origins of at most
``MAX_OBSERVED_ORIGIN_LENGTH`` characters are stored, and :func:`prune` (run by the writer every hour and
after every tenth of ``OBSERVE_MAX_ROWS`` rows written, and by ``manage.py cors_cleanup_observed``)
deletes rows older than ``OBSERVE_RETENTION_DAYS`` and keeps at most ``OBSERVE_MAX_ROWS``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from django.db import IntegrityError, close_old_connections, connections, router, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Greatest, Least

from .conf import DEFAULTS, conf
from .engine import parse_request_origin
from .models import MAX_OBSERVED_ORIGIN_LENGTH, CorsPolicy, ObservedOrigin

logger = logging.getLogger("cors_policies")

#: (policy id, origin, allowed, reason code, served verdict: "" for an enforced policy's row).
Key = tuple[int, str, bool, str, str]
#: [count, first seen, last seen] (seconds since the epoch); in the counters, a fourth item: the entry's
#: bucket while its origin was seen only once this interval (so it may give its room up), else None.
Entry = list[Any]
#: Where keys compete for room: (policy id, allowed).
BucketKey = tuple[int, bool]

#: The origin of the rows that count requests whose origin was not recorded (no room left for it): one row
#: per policy, verdict and reason, shown as such in the admin and the API.
DROPPED_ORIGIN: Final = ""
#: Room every (policy, verdict) keeps, even when its verdict's OBSERVE_MAX_KEYS are taken by other policies.
MIN_ROOM: Final = 10

#: Attempts at writing one interval's counts before they are dropped.
MAX_FLUSH_ATTEMPTS: Final = 3
#: Seconds between two prunes by the writer (it also prunes after many rows written).
PRUNE_INTERVAL: Final = 3600.0
#: The thread's shortest sleep, whatever the interval (0 would spin).
MIN_THREAD_WAIT: Final = 0.05
#: Rows per INSERT statement (9 parameters each; SQLite's oldest limit is 999 parameters).
UPSERT_BATCH: Final = 100


def is_storable(origin: str) -> bool:
    """Only what a browser can send is stored: a serialized origin (or ``null``), DNS-sized."""
    if origin == "null":
        return True
    return len(origin) <= MAX_OBSERVED_ORIGIN_LENGTH and parse_request_origin(origin) is not None


class _Bucket:
    """The keys of one (policy, verdict) in an interval: how many, and those seen once, oldest first."""

    __slots__ = ("singletons", "size")

    def __init__(self) -> None:
        self.size = 0
        self.singletons: OrderedDict[Key, None] = OrderedDict()


@dataclass
class Totals:
    """What a recorder did since it started (for tests, benchmarks and debugging)."""

    overflow: int = 0
    invalid: int = 0
    rows_written: int = 0
    failed_flushes: int = 0
    dropped_requests: int = 0


class Recorder:
    """One process's counters of observed origins, and their writer."""

    def __init__(self, *, register_process_hooks: bool = False) -> None:
        self._reset_state()
        self.enabled = bool(DEFAULTS["OBSERVE"])
        self.mode = str(DEFAULTS["OBSERVE_FLUSH"])
        self.flushes_on_requests = self.mode == "request"
        self.interval = float(DEFAULTS["OBSERVE_FLUSH_INTERVAL"])
        self.sample_rate = float(DEFAULTS["OBSERVE_SAMPLE_RATE"])
        self.weight = 1
        self.max_keys = int(DEFAULTS["OBSERVE_MAX_KEYS"])
        self.max_keys_per_policy = int(DEFAULTS["OBSERVE_MAX_KEYS_PER_POLICY"])
        self.min_room = MIN_ROOM
        self._next_flush = time.time() + self.interval
        if register_process_hooks:
            os.register_at_fork(after_in_child=self._reset_state)
            atexit.register(self.close)

    def _reset_state(self) -> None:
        """Empty counters, fresh locks, no thread: at start, and in a forked child (whose parent's locks may
        have been held at the fork, and whose parent's counts are the parent's to write)."""
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._entries: dict[Key, Entry] = {}
        self._buckets: dict[BucketKey, _Bucket] = {}
        self._sizes = [0, 0]  # keys per verdict: [refused, allowed]
        self._dropped: dict[Key, Entry] = {}
        self._overflow = 0
        self._invalid = 0
        self._retry: dict[Key, Entry] | None = None
        self._attempts = 0
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._written_since_prune = 0
        self._next_prune = 0.0
        self.totals = Totals()

    def configure(self) -> None:
        """Read the settings (at start and when they change): the hot path reads attributes only.

        A value of the wrong kind is logged and its default used (``conf.valid``: the setting's declaration says
        what is valid, and ``manage.py check`` reports the same problem): observing never stops the site from
        serving."""
        self.enabled = bool(conf.OBSERVE)
        mode = str(conf.valid("OBSERVE_FLUSH"))
        if mode == "thread" and _in_memory_database():
            mode = "request"  # another thread's connection would see another database, or fight over locks
        self.mode = mode
        self.flushes_on_requests = mode == "request"
        self.interval = float(conf.valid("OBSERVE_FLUSH_INTERVAL"))
        self.sample_rate = float(conf.valid("OBSERVE_SAMPLE_RATE"))
        self.weight = max(1, round(1 / self.sample_rate)) if self.sample_rate > 0 else 1
        self.max_keys = int(conf.valid("OBSERVE_MAX_KEYS"))
        self.max_keys_per_policy = int(conf.valid("OBSERVE_MAX_KEYS_PER_POLICY"))
        self.min_room = min(MIN_ROOM, self.max_keys // 10, self.max_keys_per_policy)
        self._next_flush = time.time() + self.interval
        if mode != "thread":
            self.stop()
        elif self._thread is None and (self._entries or self._dropped):
            with self._lock:  # counts are waiting: do not wait for a new key to start the writer
                self._start_thread()

    # -- the hot path --------------------------------------------------------------------------

    def record(self, policy_id: int, origin: str, allowed: bool, reason: str = "", served: str = "") -> bool:
        """Count one request: ``served`` is empty for an enforced policy's verdict, else the verdict that
        was served while this (report-only) policy's verdict differed.

        Returns :meth:`flush_due` (from the clock read it took anyway): whether this request should write the
        counters, with ``OBSERVE_FLUSH = "request"``."""
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:
            return self.flush_due()
        key = (policy_id, origin, allowed, reason, served)
        now = time.time()
        lock = self._lock
        lock.acquire()  # not ``with``: half the cost, on every request
        try:
            entry = self._entries.get(key)
            if entry is None:
                self._add(key, now)
            else:
                entry[0] += self.weight
                entry[2] = now
                bucket = entry[3]
                if bucket is not None:  # its second request: it keeps its room from now on
                    del bucket.singletons[key]
                    entry[3] = None
        finally:
            lock.release()
        return self.flushes_on_requests and now >= self._next_flush

    def _add(self, key: Key, now: float) -> None:
        """A new key (under the lock; once per key and interval): stored if its (policy, verdict) has room.

        Room is kept per policy and per verdict, so a flood of distinct origins (junk sent to a ``*`` policy,
        or refused by one policy) cannot push out another policy's, or another verdict's, origins: each
        (policy, verdict) holds at most OBSERVE_MAX_KEYS_PER_POLICY keys, each verdict OBSERVE_MAX_KEYS in
        all, and every (policy, verdict) at least MIN_ROOM. Where there is no room, the newcomer takes the
        place of the oldest origin seen only once in its own (policy, verdict), so an origin that comes back
        is kept however many one-off origins come; what gives way, or finds no room, is counted in that
        policy's row for dropped requests (origin "")."""
        if not is_storable(key[1]):
            self._invalid += self.weight
            return
        allowed = key[2]
        bucket_key = (key[0], allowed)
        bucket = self._buckets.get(bucket_key)
        if bucket is None:
            bucket = self._buckets[bucket_key] = _Bucket()
        if bucket.size >= self.max_keys_per_policy or (
            self._sizes[allowed] >= self.max_keys and bucket.size >= self.min_room
        ):
            if not bucket.singletons:
                self._drop(key, self.weight, now, now)
                return
            old, _ = bucket.singletons.popitem(last=False)
            count, first, last, _ = self._entries.pop(old)
            self._drop(old, count, first, last)
            bucket.size -= 1
            self._sizes[allowed] -= 1
        self._entries[key] = [self.weight, now, now, bucket]
        bucket.singletons[key] = None
        bucket.size += 1
        self._sizes[allowed] += 1
        if self._thread is None and self.mode == "thread":
            self._start_thread()

    def _drop(self, key: Key, count: int, first: float, last: float) -> None:
        self._overflow += count
        dropped = (key[0], DROPPED_ORIGIN, key[2], key[3], key[4])
        entry = self._dropped.get(dropped)
        if entry is None:
            self._dropped[dropped] = [count, first, last]
        else:
            entry[0] += count
            entry[1] = min(entry[1], first)
            entry[2] = max(entry[2], last)
        if self._thread is None and self.mode == "thread":
            self._start_thread()

    def flush_due(self) -> bool:
        """For OBSERVE_FLUSH = "request": whether the interval has passed since the last write."""
        return self.flushes_on_requests and time.time() >= self._next_flush

    def pending(self) -> dict[Key, tuple[int, float, float]]:
        """A copy of the counters not written yet (tests and debugging)."""
        with self._lock:
            return {
                key: (entry[0], entry[1], entry[2]) for key, entry in (*self._entries.items(), *self._dropped.items())
            }

    # -- the write path ------------------------------------------------------------------------

    def flush(self, using: str | None = None) -> int:
        """Write the counts gathered since the last flush; returns the number of rows written.

        Never raises: a failure is logged and the counts are kept for the next attempt.
        """
        with self._flush_lock:
            with self._lock:
                batch, self._entries = self._entries, {}
                batch.update(self._dropped)
                self._dropped = {}
                self._buckets = {}
                self._sizes = [0, 0]
                overflow, self._overflow = self._overflow, 0
                invalid, self._invalid = self._invalid, 0
                self._next_flush = time.time() + self.interval
            self._report_dropped(overflow, invalid)
            if self._retry is not None:
                batch = self._merge(self._retry, batch)
                self._retry = None
            if not batch:
                return 0
            try:
                written = write_rows(batch, using=using)
            except Exception:
                self._failed(batch)
                return 0
            self._attempts = 0
            self.totals.rows_written += written
            self._written_since_prune += written
            self._maybe_prune(using)
            return written

    def _report_dropped(self, overflow: int, invalid: int) -> None:
        self.totals.overflow += overflow
        self.totals.invalid += invalid
        if overflow:
            logger.warning(
                "cors_policies: %d requests were counted without their origin (Observed origins shows them per "
                "policy): more distinct origins in one interval than OBSERVE_MAX_KEYS_PER_POLICY=%d for one policy "
                "and verdict, or OBSERVE_MAX_KEYS=%d for one verdict (raise them if this is real traffic)",
                overflow,
                self.max_keys_per_policy,
                self.max_keys,
            )
        if invalid:
            logger.info("cors_policies: %d requests with a malformed Origin were counted but not stored", invalid)

    def _merge(self, older: dict[Key, Entry], newer: dict[Key, Entry]) -> dict[Key, Entry]:
        """Add ``newer`` into ``older``, within OBSERVE_MAX_KEYS origins (the rest counts as overflow; the rows
        counting dropped requests always fit: there is one per policy, verdict and reason at most)."""
        overflow = 0
        origins = sum(1 for key in older if key[1] != DROPPED_ORIGIN)
        for key, entry in newer.items():
            count, first, last = entry[0], entry[1], entry[2]
            found = older.get(key)
            if found is not None:
                found[0] += count
                found[1] = min(found[1], first)
                found[2] = max(found[2], last)
            elif key[1] == DROPPED_ORIGIN or origins < self.max_keys:
                older[key] = [count, first, last]
                origins += key[1] != DROPPED_ORIGIN
            else:
                overflow += count
                dropped = (key[0], DROPPED_ORIGIN, key[2], key[3], key[4])
                total = older.setdefault(dropped, [0, first, last])
                total[0] += count
                total[1] = min(total[1], first)
                total[2] = max(total[2], last)
        self._report_dropped(overflow, 0)
        return older

    def _failed(self, batch: dict[Key, Entry]) -> None:
        self._attempts += 1
        self.totals.failed_flushes += 1
        requests = sum(entry[0] for entry in batch.values())
        if self._attempts < MAX_FLUSH_ATTEMPTS:
            self._retry = batch
            logger.warning(
                "cors_policies: could not write %d observed-origin rows (attempt %d of %d); retrying with the "
                "next interval's",
                len(batch),
                self._attempts,
                MAX_FLUSH_ATTEMPTS,
                exc_info=True,
            )
            return
        self._attempts = 0
        self.totals.dropped_requests += requests
        logger.error(
            "cors_policies: could not write %d observed-origin rows (%d requests) after %d attempts; dropped them",
            len(batch),
            requests,
            MAX_FLUSH_ATTEMPTS,
            exc_info=True,
        )

    def _maybe_prune(self, using: str | None) -> None:
        now = time.time()
        max_rows = int(conf.valid("OBSERVE_MAX_ROWS"))
        if now < self._next_prune and self._written_since_prune < max(1, max_rows // 10):
            return
        self._next_prune = now + PRUNE_INTERVAL
        self._written_since_prune = 0
        try:
            prune(using=using)
        except Exception:
            logger.warning("cors_policies: could not prune observed origins; retrying later", exc_info=True)

    # -- the background thread -----------------------------------------------------------------

    def _start_thread(self) -> None:
        self._stopping = False
        self._wake.clear()
        thread = threading.Thread(target=self._run, name="cors-policies-observed", daemon=True)
        self._thread = thread
        thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(max(self.interval, MIN_THREAD_WAIT))
            self._wake.clear()
            if self._stopping:
                return
            with contextlib.suppress(Exception):  # a connection that cannot even close: the flush will log
                close_old_connections()
            self.flush()
            with contextlib.suppress(Exception):
                close_old_connections()

    def stop(self) -> None:
        """Stop the background thread (it starts again with the next new key)."""
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        self._wake.set()
        if thread is not threading.current_thread():
            thread.join(timeout=10)
        self._thread = None

    def close(self) -> None:
        """At exit: stop the thread and write what is left (unless flushing is manual)."""
        self.stop()
        if self.mode != "manual" and (self._entries or self._dropped or self._retry):
            self.flush()

    def reset(self) -> None:
        """Forget everything and stop the thread (tests)."""
        self.stop()
        with self._lock:
            self._entries = {}
            self._buckets = {}
            self._sizes = [0, 0]
            self._dropped = {}
            self._overflow = 0
            self._invalid = 0
        self._retry = None
        self._attempts = 0
        self._written_since_prune = 0
        self._next_prune = 0.0
        self.totals = Totals()


def _in_memory_database() -> bool:
    """Whether the table lives in an in-memory SQLite database (tests, benchmarks), which a background
    thread's own connection cannot share: a plain ``:memory:`` is a new, empty database per connection."""
    connection = connections[router.db_for_write(ObservedOrigin) or "default"]
    return connection.vendor == "sqlite" and bool(connection.is_in_memory_db())  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# Writing rows
# --------------------------------------------------------------------------------------------------


def _datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _row(key: Key, entry: Entry) -> dict[str, Any]:
    policy_id, origin, allowed, reason, served = key
    return {
        "policy_id": policy_id,
        "origin": origin,
        "verdict": "allowed" if allowed else "refused",
        "reason": reason,
        "report_only": served != "",
        "enforced_verdict": served,
        "count": entry[0],
        "first_seen": _datetime(entry[1]),
        "last_seen": _datetime(entry[2]),
    }


KEY_FIELDS: Final = ("policy_id", "origin", "verdict", "reason", "report_only", "enforced_verdict")
ROW_FIELDS: Final = (*KEY_FIELDS, "count", "first_seen", "last_seen")


def write_rows(batch: Mapping[Key, Entry], using: str | None = None, *, portable: bool | None = None) -> int:
    """Add ``batch`` to the table in one transaction; returns the number of rows written.

    Rows of policies deleted meanwhile are left out. Rows are written in key order, so concurrent
    writers lock them in the same order and never deadlock. PostgreSQL and SQLite get one
    ``INSERT ... ON CONFLICT DO UPDATE`` per batch of rows (atomic, whatever other processes do); other
    databases (``portable``) an UPDATE per row, then an INSERT where none matched.
    """
    alias = using or router.db_for_write(ObservedOrigin)
    connection = connections[alias]
    policy_ids = {key[0] for key in batch}
    existing = set(CorsPolicy.objects.using(alias).filter(pk__in=policy_ids).values_list("pk", flat=True))
    rows = [_row(key, batch[key]) for key in sorted(batch) if key[0] in existing]
    if not rows:
        return 0
    if portable is None:
        portable = connection.vendor not in ("postgresql", "sqlite")
    with transaction.atomic(using=alias):
        if portable:
            _upsert_rows_portable(rows, alias)
        else:
            _upsert_rows_sql(rows, alias)
    return len(rows)


def _upsert_rows_sql(rows: list[dict[str, Any]], alias: str) -> None:
    connection = connections[alias]
    quote = connection.ops.quote_name
    opts = ObservedOrigin._meta
    table = quote(opts.db_table)
    fields = {field.attname: field for field in opts.concrete_fields}
    column = {name: quote(str(fields[name].column)) for name in ROW_FIELDS}
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    count, first, last = column["count"], column["first_seen"], column["last_seen"]
    head = f"INSERT INTO {table} ({', '.join(column[name] for name in ROW_FIELDS)}) VALUES "  # noqa: S608 (quoted names)
    tail = (
        f" ON CONFLICT ({', '.join(column[name] for name in KEY_FIELDS)}) DO UPDATE SET "
        f"{count} = {table}.{count} + excluded.{count}, "
        f"{first} = {least}({table}.{first}, excluded.{first}), "
        f"{last} = {greatest}({table}.{last}, excluded.{last})"
    )
    placeholder = "(" + ", ".join(["%s"] * len(ROW_FIELDS)) + ")"
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_BATCH):
            chunk = rows[start : start + UPSERT_BATCH]
            params: list[Any] = []
            for row in chunk:
                params.extend(
                    adapt(row[name]) if name in ("first_seen", "last_seen") else row[name] for name in ROW_FIELDS
                )
            cursor.execute(head + ", ".join([placeholder] * len(chunk)) + tail, params)


def _upsert_rows_portable(rows: list[dict[str, Any]], alias: str) -> None:
    manager = ObservedOrigin.objects.using(alias)
    for row in rows:
        matching = manager.filter(**{name: row[name] for name in KEY_FIELDS})
        changes = {
            "count": F("count") + row["count"],
            "first_seen": Least("first_seen", Value(row["first_seen"], output_field=DateTimeField())),
            "last_seen": Greatest("last_seen", Value(row["last_seen"], output_field=DateTimeField())),
        }
        if matching.update(**changes):
            continue
        try:
            with transaction.atomic(using=alias):
                manager.create(**row)
        except IntegrityError:  # another process inserted it first
            matching.update(**changes)


# --------------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneResult:
    expired: int
    trimmed: int
    orphaned: int

    @property
    def total(self) -> int:
        return self.expired + self.trimmed + self.orphaned


def prune(
    *,
    retention_days: float | None = None,
    max_rows: int | None = None,
    now: datetime | None = None,
    using: str | None = None,
) -> PruneResult:
    """Delete rows not seen for ``retention_days`` (default OBSERVE_RETENTION_DAYS), then the least
    recently seen beyond ``max_rows`` (default OBSERVE_MAX_ROWS), then rows whose policy is gone."""
    alias = using or router.db_for_write(ObservedOrigin)
    days = float(conf.valid("OBSERVE_RETENTION_DAYS") if retention_days is None else retention_days)
    limit = int(conf.valid("OBSERVE_MAX_ROWS") if max_rows is None else max_rows)
    cutoff = (now or _datetime(time.time())) - timedelta(days=days)
    rows = ObservedOrigin.objects.using(alias)
    expired = rows.filter(last_seen__lt=cutoff).delete()[0]
    trimmed = 0
    boundary = rows.order_by("-last_seen", "-id").values_list("last_seen", "id")[limit : limit + 1]
    for last_seen, row_id in boundary:  # the most recent row beyond the limit: it and all older ones go
        trimmed = rows.filter(last_seen__lte=last_seen).exclude(last_seen=last_seen, id__gt=row_id).delete()[0]
    orphaned = rows.exclude(policy_id__in=CorsPolicy.objects.using(alias).values("pk")).delete()[0]
    return PruneResult(expired, trimmed, orphaned)


#: This process's recorder, the one the middleware feeds.
recorder = Recorder(register_process_hooks=True)
