"""The one write path's last step: every write to a policy ends here, and nowhere else.

The policy model's ``save()`` and ``delete()`` and its queryset's ``update()``, ``delete()``, ``bulk_create()`` and
``bulk_update()`` (so the admin, the REST API, document imports and the commands too) call :func:`changed` or
:func:`deleted`, in the transaction of the write:

- the rows that depend on a deleted policy (:data:`DEPENDENTS`: its observed origins) are deleted in that
  transaction, so no write, an import with ``prune`` included, leaves an orphan;
- the shared version (``PolicySetVersion``) moves once per transaction, however many writes it holds: in the
  transaction, so the number and the policies commit (or roll back) together;
- on commit, once: the new number goes to the shared cache, this process's listeners (the snapshot) hear of it,
  and :func:`cors_policies.push.announce` tells the other processes, with the ids of the policies the
  transaction wrote when the writes named them (up to :data:`MAX_ANNOUNCED_IDS`): a process then reads and
  recompiles only those rows. A write that does not name them (raw SQL through :func:`changed` without ``ids``,
  a bulk write of more rows) announces "any policy", and each process compares every row's stamp.

``loaddata`` saves rows without calling ``save()`` (``raw``): its saves reach :func:`changed` through the
``post_save`` signal, connected here by the model's label.

This module imports no model (the models import it): it finds its two tables through Django's app registry.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, router, transaction
from django.db.models import F, Model
from django.db.models.signals import post_save

from . import push
from .conf import conf

__all__ = [
    "DEPENDENTS",
    "MAX_ANNOUNCED_IDS",
    "changed",
    "deleted",
    "publish_version",
    "read_db_version",
    "shared_cache",
    "subscribe",
    "unsubscribe",
    "version_key",
]

logger = logging.getLogger("cors_policies")

APP_LABEL = "cors_policies"
#: The rows that belong to a policy and go with it: (model name, the field holding the policy's id). Their link
#: has no cascade (deleting a policy must not load its rows to send signals): they are deleted here, in one query.
DEPENDENTS: tuple[tuple[str, str], ...] = (("ObservedOrigin", "policy_id"),)
#: Ids per DELETE of dependent rows (SQLite's oldest limit is 999 parameters per statement).
DELETE_BATCH = 900

#: The most policy ids one change announces; a transaction that wrote more announces "any policy" (None): reading
#: every row's stamp is then cheaper than reading so many rows by id, and PostgreSQL's NOTIFY payload (8,000 bytes)
#: holds them.
MAX_ANNOUNCED_IDS = 500

#: Called after a commit that changed policies, with the database alias, the transaction's version and the ids of
#: the policies it wrote (None: any policy may have changed).
Listener = Callable[[str, int, frozenset[int] | None], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    """Call ``listener(alias, version, ids)`` after each commit that changed policies (idempotent)."""
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    with contextlib.suppress(ValueError):
        _listeners.remove(listener)


def version_key() -> str:
    return f"{conf.CACHE_KEY_PREFIX}:version"


def shared_cache() -> BaseCache | None:
    """The configured cache if every process sees the same one; None for per-process caches."""
    cache = caches[conf.CACHE_ALIAS]
    if isinstance(cache, (LocMemCache, DummyCache)):
        return None
    return cache


def _version_model() -> type[Model]:
    return apps.get_model(APP_LABEL, "PolicySetVersion")


def db_alias(using: str | None = None) -> str:
    return using or router.db_for_write(_version_model()) or DEFAULT_DB_ALIAS


def read_db_version(using: str | None = None) -> int:
    model = _version_model()
    alias = using or router.db_for_read(model) or DEFAULT_DB_ALIAS
    value = model._base_manager.using(alias).filter(pk=1).values_list("version", flat=True).first()
    return int(value or 0)


class _Announcement:
    """The on-commit hook of one transaction's change (also the mark that this transaction bumped already): its
    version, and the ids of the policies it wrote (None once a write did not name them, or too many)."""

    __slots__ = ("alias", "done", "ids", "owner", "version")

    def __init__(self, alias: str, owner: object, version: int) -> None:
        self.alias = alias
        self.owner = owner
        self.version = version
        self.ids: set[int] | None = set()
        self.done = False

    def add(self, ids: Iterable[int] | None) -> None:
        if self.ids is None:
            return
        if ids is None:
            self.ids = None
            return
        written = list(ids)
        if None in written:  # a row whose id the backend did not return (bulk_create on MySQL)
            self.ids = None
            return
        self.ids.update(int(pk) for pk in written)
        if len(self.ids) > MAX_ANNOUNCED_IDS:
            self.ids = None

    def __call__(self) -> None:
        self.done = True
        self.owner = None
        _publish(self.alias, self.version, None if self.ids is None else frozenset(self.ids))


def _transaction(connection: Any) -> object | None:
    """The outermost atomic block of the transaction under way (None: a test case's own blocks only)."""
    for block in connection.atomic_blocks:
        if not getattr(block, "_from_testcase", False):
            return block
    return None


def _pending(connection: Any, owner: object | None) -> bool:
    """Whether this transaction already bumped the version: its hook is registered, not run nor rolled back."""
    announcement: _Announcement | None = getattr(connection, "_cors_policies_announcement", None)
    if announcement is None or owner is None or announcement.done or announcement.owner is not owner:
        return False
    # A savepoint rolled back removes the hooks registered in it (and undid the bump with them).
    return any(entry[1] is announcement for entry in connection.run_on_commit)


def changed(using: str | None = None, ids: Iterable[int] | None = None) -> None:
    """Policies changed in the current transaction: move the version once for it, announce it on commit.

    ``ids``: the policies written (their rows, deleted ones included), so that every process reads only those; None
    (raw SQL, an update whose rows are not known) announces that any policy may have changed.
    """
    alias = db_alias(using)
    connection = connections[alias]
    if not connection.in_atomic_block:
        with transaction.atomic(using=alias):
            changed(alias, ids)
        return
    owner = _transaction(connection)
    announcement: _Announcement | None = getattr(connection, "_cors_policies_announcement", None)
    if announcement is None or not _pending(connection, owner):
        announcement = _Announcement(alias, owner, _bump(alias))
        connection._cors_policies_announcement = announcement  # type: ignore[attr-defined]
        transaction.on_commit(announcement, using=alias)
    announcement.add(ids)


def deleted(ids: Iterable[int], using: str | None = None) -> None:
    """Policies ``ids`` were deleted in the current transaction: their dependent rows go too, then :func:`changed`."""
    ids = sorted({int(pk) for pk in ids if pk is not None})
    if not ids:
        return
    alias = db_alias(using)
    with transaction.atomic(using=alias, savepoint=False):
        for model_name, field in DEPENDENTS:
            rows = apps.get_model(APP_LABEL, model_name)._base_manager.using(alias)
            for start in range(0, len(ids), DELETE_BATCH):
                rows.filter(**{f"{field}__in": ids[start : start + DELETE_BATCH]}).delete()
        changed(alias, ids)


def _bump(alias: str) -> int:
    """Move the version by one in the current transaction; the number this transaction gave it (its row stays
    locked until the commit, so no other writer moves it in between)."""
    rows = _version_model()._base_manager.using(alias).filter(pk=1)
    if not rows.update(version=F("version") + 1):
        try:
            with transaction.atomic(using=alias):
                rows.create(pk=1, version=1)
        except IntegrityError:  # another writer created it first
            rows.update(version=F("version") + 1)
    return int(rows.values_list("version", flat=True).get())


def publish_version(using: str | None = None) -> None:
    """Publish the database's version as a change to any policy (after a write around :func:`changed`): to the
    shared cache, this process's listeners and every process. Never raises."""
    alias = db_alias(using)
    try:
        version = read_db_version(alias)
    except Exception:
        logger.warning("cors_policies: could not read the policy version after a commit", exc_info=True)
        version = -1
    _publish(alias, version, None, latest=version)


def _publish(alias: str, version: int, ids: frozenset[int] | None, latest: int | None = None) -> None:
    """After the commit of ``version``: the database's version (``latest``, read if not given: a later
    transaction may have committed since) to the shared cache, then ``version`` and its ``ids`` to this process's
    listeners and every process.

    The cache first: a process told by push (or checking on its interval) must find the new number there.
    Never raises: the change is committed, and every process's interval check catches what is lost here.
    """
    cache = shared_cache()
    if cache is not None:
        try:
            if latest is None:
                latest = read_db_version(alias)
            if latest < 0:
                raise LookupError("no version to publish")
            cache.set(version_key(), latest, timeout=conf.VERSION_TIMEOUT)
        except Exception:
            # Other processes fall back to the database's version when the cache does not answer, and the
            # cached number expires within VERSION_TIMEOUT: nothing is lost, only slower.
            logger.warning("cors_policies: could not publish the policy version to the cache", exc_info=True)
            with contextlib.suppress(Exception):  # the cache is down: the warning above says so
                cache.delete(version_key())
    for listener in list(_listeners):
        try:
            listener(alias, version, ids)
        except Exception:
            logger.exception("cors_policies: a listener of policy changes failed")
    if version >= 0:
        push.announce(alias, version, ids)


def _fixture_saved(sender: Any, instance: Any, raw: bool = False, using: str | None = None, **kwargs: Any) -> None:
    """A policy saved by ``loaddata`` (``raw``: its ``save()`` did not run): the same bump and announcement."""
    if raw:
        changed(using, [instance.pk])


post_save.connect(_fixture_saved, sender=f"{APP_LABEL}.CorsPolicy", dispatch_uid="cors_policies_fixture_saved")
