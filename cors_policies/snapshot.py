"""This process's compiled policies (the snapshot), kept up to date off the request path.

Read path: each process serves one :class:`~cors_policies.engine.PolicySet`, replaced by a single attribute
assignment, so a request sees a whole old or a whole new set. The first load happens on the first request that
needs it (and blocks the others meanwhile: none is served without CORS). After that no request compiles:

- a change committed in this process is rebuilt in its commit hook (:mod:`~cors_policies.invalidation`'s
  listener), so this process serves it on its very next request;
- a change announced by another process (:func:`cors_policies.push.start` calls :meth:`Snapshot.changed`) wakes
  this process's rebuild thread: one daemon thread, started lazily by the interval check of a request, again
  after a fork, and coalescing (any number of changes while it rebuilds make one more rebuild, not many). The
  thread also checks the shared version every ``REFRESH_INTERVAL`` seconds, the safety net for a lost message;
  requests only make sure it (and push's listener) runs.

A rebuild reads the shared version (the shared cache's copy, else the database's) and, when it moved, recompiles
only the policies whose row changed (their ``updated_at``; every write through the model stamps it), reuses the
other compiled policies and edits the previous set's index for the changed ones (indexes afresh when many
changed). ``REBUILD = "request"`` (servers without threads, and an in-memory SQLite database, whose rows a
thread's connection cannot see) rebuilds on the request that notices, as before. Any failure keeps the last set
and is logged: CORS never causes a 500.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import logging
import math
import os
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, connections, router
from django.db.models import CharField, TextField
from django.db.models.functions import Cast

from . import invalidation, push
from .conf import conf
from .engine import CompiledPolicy, OriginError, PatternError, PolicySet, PolicySpec
from .invalidation import changed, publish_version, read_db_version, shared_cache, version_key
from .models import SPEC_FIELDS, CorsPolicy

__all__ = [
    "Entry",
    "Snapshot",
    "build",
    "bump_version",
    "load_policy_set",
    "publish_version",
    "read_db_version",
    "read_shared_version",
    "shared_cache",
    "snapshot",
    "version_key",
]

logger = logging.getLogger("cors_policies")

#: The engine's list fields (JSON): read as their text and decoded here, each distinct text once (policies share
#: their method and header lists; decoding 500,000 of them was a fifth of a full build of 100,000 policies).
JSON_FIELDS = ("allowed_origins", "allowed_origin_regexes", "allowed_methods", "allowed_headers", "expose_headers")
JSON_TEXT = {f"{name}_text": Cast(name, output_field=TextField()) for name in JSON_FIELDS}
#: What a rebuild reads of a changed row: the engine's fields (the list fields as text), and the stamp that says
#: when it changed.
ROW_FIELDS = (*(f"{name}_text" if name in JSON_FIELDS else name for name in SPEC_FIELDS), "stamp")
_JSON_POSITIONS = tuple(SPEC_FIELDS.index(name) for name in JSON_FIELDS)
#: ``updated_at`` as the database writes it in text: compared, never parsed (parsing 10,000 datetimes costs more
#: than the query).
STAMP = Cast("updated_at", output_field=CharField())
#: Ids per query when only some rows changed (SQLite's oldest limit is 999 parameters per statement).
ID_BATCH = 900
#: Announced versions kept for the next rebuild; more (a storm faster than rebuilds) and that rebuild compares every
#: row's stamp instead of reading the announced rows.
MAX_ANNOUNCED_VERSIONS = 1000


def bump_version(using: str | None = None) -> None:
    """Record that the policies changed, after a write around the ORM (raw SQL): see :func:`invalidation.changed`.
    Such a write must also set ``updated_at``, or the rebuild keeps the policy it compiled before."""
    changed(using)


def read_shared_version() -> int:
    """The version all processes agree on: the shared cache's copy, else the database's."""
    cache = shared_cache()
    if cache is not None:
        try:
            value = cache.get(version_key())
        except Exception:
            logger.warning("cors_policies: cache unavailable, reading the policy version from the database")
            return read_db_version()
        if value is not None:
            return int(value)
    version = read_db_version()
    if cache is not None:
        with contextlib.suppress(Exception):  # reading worked; caching the number is only an optimization
            cache.add(version_key(), version, timeout=conf.VERSION_TIMEOUT)
    return version


@dataclass(frozen=True, slots=True)
class Entry:
    """One enabled row as compiled: its stamp, and the compiled policy or why it was skipped."""

    stamp: Any
    policy: CompiledPolicy | None
    error: str = ""


_SPEC_LENGTH = len(SPEC_FIELDS)


def _decoded(text: Any) -> Any:
    """A list field's JSON text decoded as the model's field decodes it; a list of strings is decoded once per
    distinct text and handed out as a new list each time (nobody shares a mutable value)."""
    if not isinstance(text, str):
        return text  # NULL (or a backend that decoded it already)
    value = _decoded_strings(text)
    return list(value) if value is not None else json.loads(text)


@functools.lru_cache(maxsize=4096)
def _decoded_strings(text: str) -> tuple[str, ...] | None:
    value = json.loads(text)
    if isinstance(value, list) and all(type(item) is str for item in value):
        return tuple(value)
    return None


def compile_row(row: tuple[Any, ...]) -> tuple[int, Entry]:
    values = list(row[:_SPEC_LENGTH])  # SPEC_FIELDS are in PolicySpec's order (tests check)
    for position in _JSON_POSITIONS:
        values[position] = _decoded(values[position])
    spec = PolicySpec(*values)
    try:
        return spec.id, Entry(row[-1], CompiledPolicy(spec))
    except (PatternError, OriginError, TypeError, ValueError) as exc:
        return spec.id, Entry(row[-1], None, f"policy {spec.id} {spec.name!r} skipped: {exc}")


class _CollectorPause:
    """Python's cyclic garbage collector off while a build allocates its many small objects (each of its passes
    over the growing set of compiled policies, none of them garbage, cost a third of a full build), back on
    after unless it was off before; nested and concurrent builds count, the last to finish restores it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pauses = 0
        self._restore = False

    def __enter__(self) -> None:
        with self._lock:
            if self._pauses == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._pauses += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._pauses -= 1
            if self._pauses == 0 and self._restore:
                gc.enable()


_collection_paused = _CollectorPause()


def build(
    version: Any = None,
    entries: dict[int, Entry] | None = None,
    previous: PolicySet | None = None,
    ids: Collection[int] | None = None,
) -> tuple[PolicySet, dict[int, Entry]]:
    """The set of the enabled policies, and its entries. The ``entries`` of a previous build whose row did not
    change since are reused, not read nor compiled again: with ``ids`` (the policies the announced changes wrote)
    only those rows are read, else one cheap query of every row's stamp finds the changed ones; when a few
    changed, the ``previous`` set's index is shared too (:meth:`PolicySet.updated`), edited for the policies
    that changed, appeared or went."""
    with _collection_paused:
        return _build(version, entries, previous, ids)


def _build(
    version: Any, entries: dict[int, Entry] | None, previous: PolicySet | None, ids: Collection[int] | None = None
) -> tuple[PolicySet, dict[int, Entry]]:
    enabled = CorsPolicy.objects.filter(enabled=True).order_by().annotate(stamp=STAMP, **JSON_TEXT)
    fresh: dict[int, Entry] = {}
    if entries and ids is not None:
        # Only the rows the changes named: those still enabled are read and compiled, the others went.
        fresh = dict(entries)
        named = sorted(ids)
        rows = []
        for start in range(0, len(named), ID_BATCH):
            rows += enabled.filter(pk__in=named[start : start + ID_BATCH]).values_list(*ROW_FIELDS)
        for pk in named:
            fresh.pop(pk, None)
    elif entries:
        stamps = dict(enabled.values_list("id", "stamp"))
        stale = []
        for pk, stamp in stamps.items():
            entry = entries.get(pk)
            if entry is not None and entry.stamp == stamp:
                fresh[pk] = entry
            else:
                stale.append(pk)
        if len(stale) * 4 > len(stamps):  # most changed: one query for all is cheaper than many
            rows = [row for row in enabled.values_list(*ROW_FIELDS) if row[0] not in fresh]
        else:
            rows = []
            for start in range(0, len(stale), ID_BATCH):
                rows += enabled.filter(pk__in=stale[start : start + ID_BATCH]).values_list(*ROW_FIELDS)
    else:
        rows = list(enabled.values_list(*ROW_FIELDS))
    changed = dict(compile_row(row) for row in rows)
    fresh.update(changed)
    policy_set = None
    if not entries:
        removed: list[int] = []
    elif ids is not None:
        removed = [pk for pk in ids if pk in entries and (pk not in fresh or fresh[pk].policy is None)]
    else:
        removed = [pk for pk in entries if pk not in fresh or fresh[pk].policy is None]
    if previous is not None and entries and len(changed) + len(removed) <= max(len(fresh) // 4, 16):
        # A few rows changed, appeared or went (more: indexing afresh costs less than editing one by one): the
        # previous set's index is edited, not made again (None when a budget's choice needs a fresh build).
        # Its errors stay the previous set's unless a row that changed had or has one.
        touched = changed.keys() | removed if ids is None else ids
        errors = None
        if any(entries[pk].error for pk in touched if pk in entries) or any(e.error for e in changed.values()):
            errors = [entry.error for entry in fresh.values() if entry.error]
        policy_set = previous.updated(
            {pk: entry.policy for pk, entry in changed.items() if entry.policy is not None},
            removed,
            version,
            errors,
        )
    if policy_set is None:
        policy_set = PolicySet(
            [entry.policy for entry in fresh.values() if entry.policy is not None],
            version=version,
            errors=[entry.error for entry in fresh.values() if entry.error],
        )
    for error in policy_set.errors:
        logger.error("cors_policies: %s", error)
    return policy_set, fresh


def load_policy_set(version: Any = None) -> PolicySet:
    """A full build: every enabled row, read in one query and compiled."""
    return build(version)[0]


def _in_memory_database() -> bool:
    connection = connections[router.db_for_read(CorsPolicy) or "default"]
    return bool(getattr(connection, "is_in_memory_db", lambda: False)())


class Snapshot:
    """This process's compiled policies; readers see a whole old or a whole new set, never a mix."""

    def __init__(self) -> None:
        #: Rebuild in the background thread (True) or on the request that notices (False); None: the
        #: ``REBUILD`` setting says (tests inside a transaction set False: a thread cannot see their rows).
        self.background: bool | None = None
        self._after_fork()
        self.reset()

    def _after_fork(self) -> None:
        """Fresh locks and no thread: at start, and in a forked child (the parent's may have been held)."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._announced_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._wanted = threading.Event()
        self._worker: threading.Thread | None = None

    def reset(self) -> None:
        """Forget everything (tests, settings changes): the next request loads afresh."""
        self.current: PolicySet | None = None
        self._entries: dict[int, Entry] = {}
        #: Changes announced and not yet built: version -> the policies it wrote (None: any policy).
        self._announced: dict[int, frozenset[int] | None] = {}
        self._next_check = -math.inf
        self._expirations = 0
        self.rebuilds = 0

    def threaded(self) -> bool:
        if self.background is not None:
            return self.background
        return conf.REBUILD == "thread" and not _in_memory_database()

    def expire(self) -> None:
        """Check the shared version on the next request instead of waiting for the interval."""
        self._expirations += 1  # a refresh already under way must not push the next check back
        self._next_check = -math.inf

    def needs_refresh(self) -> bool:
        """Whether the caller must :meth:`refresh` (which reads the database) before serving: only for the first
        load, after a change committed here, or without the thread. Otherwise, when the interval has passed,
        this wakes the rebuild thread and the caller serves the current set."""
        if time.monotonic() < self._next_check:
            return False
        if self.current is None or self._next_check == -math.inf or not self.threaded():
            push.start(self.changed)  # from the first load on (and with REBUILD="request"): never raises
            return True
        interval = float(conf.REFRESH_INTERVAL)
        self._next_check = time.monotonic() + interval
        try:
            push.start(self.changed)  # lazily, here rather than per request: cheap and idempotent
            if self._ensure_worker() or interval <= 0:
                self._wanted.set()  # a thread just started checks now; a running one checks every interval
        except Exception:  # no thread to be had (a server that forbids them): this request rebuilds, as before
            logger.exception("cors_policies: could not schedule a background rebuild; rebuilding on the request")
            self._next_check = -math.inf
            return True
        return False

    def get(self) -> PolicySet | None:
        """The hot path: one clock read, and more only when the interval has passed."""
        if time.monotonic() >= self._next_check and self.needs_refresh():
            self.refresh()
        return self.current

    def changed(self, version: int | None = None, ids: frozenset[int] | None = None) -> None:
        """A change was announced (push, the interval): rebuild in the background; many calls, one rebuild.
        ``ids``: the policies that change wrote (None: any), so the rebuild reads only those rows."""
        current = self.current
        if version is not None and current is not None and current.version == version:
            return  # already served (this process made it)
        if version is not None:
            self._announce(version, ids)
        if not self.threaded():
            self._next_check = -math.inf if current is not None else self._next_check
            return
        self._ensure_worker()
        self._wanted.set()

    def committed(self, alias: str, version: int, ids: frozenset[int] | None = None) -> None:
        """After this process committed a change: serve it from its very next request on."""
        self._announce(version, ids)
        self.expire()
        if self.current is not None and self.threaded():
            self.refresh()  # in the committing thread: the next request does not wait, others never do

    def _announce(self, version: int, ids: frozenset[int] | None) -> None:
        with self._announced_lock:
            if len(self._announced) >= MAX_ANNOUNCED_VERSIONS:
                # A storm faster than rebuilds: the next rebuild compares every row's stamp instead.
                self._announced.clear()
            known = self._announced.get(version, frozenset())
            self._announced[version] = None if ids is None or known is None else known | ids

    def _announced_since(self, current: PolicySet | None) -> tuple[int, frozenset[int]] | None:
        """The newest announced version and the union of the ids its changes and every one between wrote, when
        the announcements account for each version after ``current``'s; None when one is missing or named no ids
        (the rebuild then reads the shared version and compares every row's stamp)."""
        with self._announced_lock:
            announced, self._announced = self._announced, {}
        if current is None or not isinstance(current.version, int):
            return None
        newer = sorted(version for version in announced if version > current.version)
        if not newer or newer != list(range(current.version + 1, newer[-1] + 1)):
            return None
        ids: set[int] = set()
        for version in newer:
            written = announced[version]
            if written is None:
                return None
            ids |= written
        return newer[-1], frozenset(ids)

    def refresh(self, wait: bool | None = None) -> None:
        # The first load blocks concurrent requests so none is served without CORS while it runs, and so
        # does a refresh after expire() (a change committed here: the next request must serve it, even if
        # another thread's refresh, which may have read the old version, is under way). Other refreshes are
        # done by one thread while the others keep serving the current set.
        if wait is None:
            wait = self.current is None or self._next_check == -math.inf
        if not self._lock.acquire(blocking=wait):
            return
        try:
            if time.monotonic() < self._next_check:
                return  # another thread refreshed while we waited
            self._refresh()
        finally:
            self._lock.release()

    def _refresh(self) -> None:
        interval = float(conf.REFRESH_INTERVAL)
        expirations = self._expirations
        try:
            current = self.current
            announced = self._announced_since(current)
            if announced is not None:
                # Every version since the one served was announced with its ids: only those rows are read. The
                # shared version is not: a later change's message is on its way (or the interval catches it).
                version, ids = announced
                policy_set, self._entries = build(version, self._entries, current, ids)
                self.current = policy_set
                self.rebuilds += 1
            else:
                version = read_shared_version()
                if current is None or current.version != version:
                    policy_set, self._entries = build(version, self._entries, current)
                    self.current = policy_set  # one assignment: a reader sees the old set or the new one
                    self.rebuilds += 1
        except Exception:
            state = "keeping the last snapshot" if self.current is not None else "serving without CORS headers"
            logger.exception("cors_policies: could not load CORS policies (%s); retrying in %ss", state, interval)
        if self._expirations == expirations:
            self._next_check = time.monotonic() + interval
        # else a change was published while this refresh read the version, which may be the old one: the
        # next request checks again rather than serving the old set for an interval.

    # -- the rebuild thread ------------------------------------------------------------------------

    def _ensure_worker(self) -> bool:
        """Start this process's rebuild thread unless it runs; True when it was started now."""
        if self._pid != os.getpid():  # a fork that os.register_at_fork did not see (it sees them all on POSIX)
            self._after_fork()
        worker = self._worker
        if worker is not None and worker.is_alive():
            return False
        with self._start_lock:
            if self._worker is not None and self._worker.is_alive():
                return False
            self._worker = threading.Thread(target=self._run, name="cors-policies-rebuild", daemon=True)
            self._worker.start()
            return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop this process's rebuild thread and wait for a rebuild under way (tests, a clean shutdown): a test's
        database must not be flushed under a thread still reading it. The next need starts a new thread."""
        with self._start_lock:
            worker, wanted = self._worker, self._wanted
            self._wanted = threading.Event()  # the running thread sees its event replaced, and returns
            self._worker = None
        wanted.set()
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)

    def _run(self) -> None:
        """Rebuild when woken (push, the interval check of a request), and on its own every interval: an idle
        process, or one whose next request comes late, is as fresh as a busy one."""
        wanted = self._wanted
        while True:
            interval = float(conf.REFRESH_INTERVAL)
            wanted.wait(interval if interval > 0 else None)
            if wanted is not self._wanted:  # stop() or a fork replaced the event: this thread is done
                return
            wanted.clear()
            if self.current is None or not self.threaded():
                continue  # the first load is a request's; "request" mode (or a test) rebuilds on the request
            try:
                with self._lock:
                    self._refresh()
            except Exception:  # refresh() logs its own failures; this is a bug's last guard: the thread lives on
                logger.exception("cors_policies: the rebuild thread failed")
            finally:
                close_old_connections()


snapshot = Snapshot()
os.register_at_fork(after_in_child=snapshot._after_fork)
invalidation.subscribe(lambda alias, version, ids: snapshot.committed(alias, version, ids))
