"""The in-memory policy snapshot of this process, and the version every process shares.

Write path: a change bumps ``PolicySetVersion`` in its own transaction; on commit the new number is
published to the cache and this process is told to check at once. Read path: each process keeps one
compiled :class:`~cors_policies.engine.PolicySet`; at most every ``REFRESH_INTERVAL`` seconds it reads
the shared version (from the cache when the cache is shared between processes, else from the database)
and rebuilds only when the number moved. Any failure keeps the last snapshot: CORS never causes a 500.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, router, transaction
from django.db.models import F

from . import push
from .conf import conf
from .engine import PolicySet, PolicySpec

logger = logging.getLogger("cors_policies")


def version_key() -> str:
    return f"{conf.CACHE_KEY_PREFIX}:version"


def shared_cache() -> BaseCache | None:
    """The configured cache if every process sees the same one; None for per-process caches."""
    cache = caches[conf.CACHE_ALIAS]
    if isinstance(cache, (LocMemCache, DummyCache)):
        return None
    return cache


def _db_alias(using: str | None) -> str:
    from .models import PolicySetVersion

    return using or router.db_for_write(PolicySetVersion) or DEFAULT_DB_ALIAS


def bump_version(using: str | None = None) -> None:
    """Record that the policies changed: in this transaction now, announced to every process on commit."""
    from .models import PolicySetVersion

    alias = _db_alias(using)
    rows = PolicySetVersion.objects.using(alias).filter(pk=1)
    if not rows.update(version=F("version") + 1):
        try:
            with transaction.atomic(using=alias):
                PolicySetVersion.objects.using(alias).create(pk=1, version=1)
        except IntegrityError:  # another writer created it first
            rows.update(version=F("version") + 1)
    transaction.on_commit(lambda: publish_version(alias), using=alias)


def read_db_version(using: str | None = None) -> int:
    from .models import PolicySetVersion

    alias = using or router.db_for_read(PolicySetVersion) or DEFAULT_DB_ALIAS
    value = PolicySetVersion.objects.using(alias).filter(pk=1).values_list("version", flat=True).first()
    return int(value or 0)


def publish_version(using: str | None = None) -> None:
    """After a commit: put the new number in the shared cache and make this process look now.

    The cache first: a request of this process that checks after expire() must find the new number there.
    """
    cache = shared_cache()
    version: int | None = None
    if cache is not None:
        try:
            version = read_db_version(using)
            cache.set(version_key(), version, timeout=conf.VERSION_TIMEOUT)
        except Exception:
            # Other processes fall back to the database's version when the cache does not answer, and the
            # cached number expires within VERSION_TIMEOUT: nothing is lost, only slower.
            logger.warning("cors_policies: could not publish the policy version to the cache", exc_info=True)
            with contextlib.suppress(Exception):  # the cache is down: the warning above says so
                cache.delete(version_key())
    snapshot.expire()
    # Tell the other processes now (push's wiring until the snapshot branch lands); the version costs a query
    # only where PostgreSQL can carry it and no shared cache read it already.
    alias = _db_alias(using)
    if conf.PUSH and (version is not None or connections[alias].vendor == "postgresql"):
        with contextlib.suppress(Exception):  # the database is down: the interval check will find the change
            push.announce(alias, read_db_version(using) if version is None else version)


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


def load_policy_set(version: Any = None) -> PolicySet:
    """The one place that reads policies for serving: enabled rows, compiled once."""
    from .models import SPEC_FIELDS, CorsPolicy

    rows = CorsPolicy.objects.filter(enabled=True).order_by().values(*SPEC_FIELDS)
    policy_set = PolicySet.build((PolicySpec(**row) for row in rows), version=version)
    for error in policy_set.errors:
        logger.error("cors_policies: %s", error)
    return policy_set


class Snapshot:
    """This process's compiled policies; readers see a whole old or a whole new set, never a mix."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything (tests, settings changes): the next request loads afresh."""
        self.current: PolicySet | None = None
        self._next_check = -math.inf
        self._expirations = 0

    def expire(self) -> None:
        """Check the shared version on the next request instead of waiting for the interval."""
        self._expirations += 1  # a refresh already under way must not push the next check back
        self._next_check = -math.inf

    def needs_refresh(self) -> bool:
        return time.monotonic() >= self._next_check

    def get(self) -> PolicySet | None:
        """The hot path: one clock read, and a refresh only when the interval has passed."""
        if time.monotonic() >= self._next_check:
            self.refresh()
        return self.current

    def _pushed(self, version: int | None) -> None:
        """Another process announced a change (or the listener reconnected): check on the next request.

        Unlike expire(), a push that lands during a refresh does not make the next request refresh again: a
        burst of changes costs at most one full rebuild per interval, as polling did (until the snapshot
        branch's background, incremental rebuilds)."""
        self._next_check = -math.inf

    def refresh(self) -> None:
        # The first load blocks concurrent requests so none is served without CORS while it runs, and so
        # does a refresh after expire() (a change committed here: the next request must serve it, even if
        # another thread's refresh, which may have read the old version, is under way). Other refreshes are
        # done by one thread while the others keep serving the current set.
        push.start(self._pushed)  # this process's listener: lazily, here on both the WSGI and the ASGI path
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
            version = read_shared_version()
            current = self.current
            if current is None or current.version != version:
                self.current = load_policy_set(version)
        except Exception:
            state = "keeping the last snapshot" if self.current is not None else "serving without CORS headers"
            logger.exception("cors_policies: could not load CORS policies (%s); retrying in %ss", state, interval)
        if self._expirations == expirations:
            self._next_check = time.monotonic() + interval
        # else a change was published while this refresh read the version, which may be the old one: the
        # next request checks again rather than serving the old set for an interval.


snapshot = Snapshot()
