"""Push: a committed change is announced to every process in milliseconds; polling stays the safety net.

Two transports, used when the deployment has them (``CORS_POLICIES["PUSH"]``, ``"auto"`` by default):

- **Redis pub/sub**, when ``CACHE_ALIAS`` is Django's ``RedisCache`` (or django-redis): one ``PUBLISH`` per
  change on a channel named from the cache's version key;
- **PostgreSQL LISTEN/NOTIFY**, when the policies' database is PostgreSQL and psycopg 3 is installed, so a
  deployment without Redis is pushed too.

With both, a change is announced on both (either one arriving is enough). ``NOTIFY`` is sent after the commit,
beside the Redis ``PUBLISH``: the writer knows the committed version only then, a rolled-back write announces
nothing (``on_commit``), and a ``NOTIFY`` inside the writing transaction would hold PostgreSQL's global
notification-queue lock until that commit, serializing every concurrent writer's commit. What it costs: a
process that dies between its commit and its announce announces nothing, and the interval check catches that.

Each process runs at most one listener thread, started lazily by :func:`start` (it remembers ``os.getpid()``,
so a worker forked from a ``--preload`` master starts its own and never touches the master's sockets). It holds
its own connections (never Django's), reconnects with capped exponential backoff, and calls
``on_change(version, ids)`` for each message and ``on_change(None, None)`` after every (re)connect, since messages
may have been lost meanwhile.

A message is ``"<version>:<id>,<id>,..."``: the transaction's version and the policies it wrote, so a process
reads only those rows; ``"<version>"`` alone (a write that did not name them) means any policy may have changed.
No queue: messages wait in the server's socket buffer until ``on_change`` returns, and Redis drops a subscriber
that falls too far behind (which reconnects and is told ``None``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from django.apps import apps
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction

from .conf import conf

__all__ = ["announce", "start", "stop"]

logger = logging.getLogger("cors_policies")

#: ``on_change(version, ids)``: a version announced and the policies it changed (None: any policy).
OnChange = Callable[[int | None, frozenset[int] | None], None]
#: The longest message read: a version and 500 ids (``invalidation.MAX_ANNOUNCED_IDS``) fit well within it, and
#: PostgreSQL refuses NOTIFY payloads of 8,000 bytes. A longer one (not ours) is read as "any policy".
MAX_PAYLOAD = 7900
#: A message as :func:`payload` writes it: ASCII digits only (``int()`` alone would take "٣", " 7" or "7_0").
_MESSAGE = re.compile(r"[0-9]{1,18}(?::(?:[0-9]{1,18}(?:,[0-9]{1,18})*)?)?")

#: How long the listener waits for a message before it looks at its stop flag (seconds): bounds stop().
POLL_SECONDS = 0.25
#: A link silent for HEARTBEAT_SECONDS is pinged; without a reply within HEARTBEAT_TIMEOUT it is taken as lost
#: and reconnected. A connection can die without a word (a NAT or load balancer that drops idle flows, a server
#: host gone): until then push would have fallen back to the interval check in silence.
HEARTBEAT_SECONDS = 30.0
HEARTBEAT_TIMEOUT = 10.0
#: Reconnect delays: BACKOFF_BASE, doubled per failure in a row, at most BACKOFF_CAP (seconds), with jitter.
BACKOFF_BASE = 0.1
BACKOFF_CAP = 10.0
#: The name the listener's PostgreSQL connection shows in pg_stat_activity.
APPLICATION_NAME = "cors_policies push"
#: A change as a message carries it: its version and the policies it changed (None: any; (None, None): unknown).
Message = tuple[int | None, frozenset[int] | None]
#: PostgreSQL's longest identifier, in bytes: a longer channel name is refused by pg_notify().
_PG_NAME_MAX = 63


# -- which transports this deployment has ---------------------------------------------------------------------


def _mode() -> Any:
    return conf.valid("PUSH")


def _redis_client() -> Any | None:
    """The redis-py client of the configured cache when it is Redis (Django's backend or django-redis), else None.

    Django's backend has no public accessor for its client: ``_cache.get_client()`` is stable from 4.0 to 6.x.
    """
    cache = caches[conf.CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        return cache._cache.get_client(None, write=True)
    client: Any = getattr(cache, "client", None)  # django-redis: DefaultClient.get_client(write=True)
    if type(cache).__module__.startswith("django_redis") and hasattr(client, "get_client"):
        return client.get_client(write=True)
    return None


def redis_channel(client: Any) -> str:
    """The cache's version key with ``:changes`` for ``:version``, and the Redis database number: channels are
    server-wide, so two sites on one Redis server in different databases do not hear each other."""
    cache = caches[conf.CACHE_ALIAS]
    db = client.connection_pool.connection_kwargs.get("db", 0)
    return f"{cache.make_key(f'{conf.CACHE_KEY_PREFIX}:changes')}@{db}"


def pg_channel() -> str:
    """``<CACHE_KEY_PREFIX>:changes``, hashed when longer than PostgreSQL's 63-byte identifiers."""
    name = f"{conf.CACHE_KEY_PREFIX}:changes"
    if len(name.encode()) > _PG_NAME_MAX:
        name = f"cors_policies:{hashlib.sha256(name.encode()).hexdigest()[:32]}"
    return name


def _db_alias() -> str:
    # The model by name, not by import: this module sits below the models in the layers.
    model = apps.get_model("cors_policies", "PolicySetVersion")
    return router.db_for_write(model) or DEFAULT_DB_ALIAS


def _psycopg() -> Any | None:
    try:
        import psycopg
    except ImportError:  # psycopg2 or no driver: that database is polled
        return None
    return psycopg


def polled_postgresql() -> str | None:
    """The alias of the policies' database when ``PUSH`` asks for ``LISTEN/NOTIFY`` there (``"auto"`` or
    ``"postgresql"``) and it is PostgreSQL, but psycopg 3 is not installed (Django talks to it through
    psycopg2): changes then reach the other processes only by polling. None otherwise. For the system check
    (``cors_policies.W004``), which reads the setting as written (a wrong value is E030's)."""
    if conf.PUSH not in ("auto", "postgresql"):
        return None
    alias = _db_alias()
    if connections[alias].vendor != "postgresql" or _psycopg() is not None:
        return None
    return alias


def _wants(name: str) -> bool:
    mode = _mode()
    return mode == "auto" or mode == name


# -- announcing -----------------------------------------------------------------------------------------------


def payload(version: int, ids: frozenset[int] | None = None) -> str:
    """The message announcing ``version``: ``"12:4,9"``, or ``"12"`` when any policy may have changed."""
    if ids is None:
        return str(version)
    text = f"{version}:{','.join(map(str, sorted(ids)))}"
    return text if len(text) <= MAX_PAYLOAD else str(version)


def parse(message: Any) -> tuple[int | None, frozenset[int] | None]:
    """A message's version and ids; (None, None) for one that is not ours (something changed: check)."""
    if isinstance(message, bytes):
        message = message.decode("ascii", "replace")
    if not isinstance(message, str) or len(message) > MAX_PAYLOAD or not _MESSAGE.fullmatch(message):
        return None, None
    head, colon, tail = message.partition(":")
    return int(head), (frozenset(int(pk) for pk in tail.split(",") if pk) if colon else None)


def announce(using: str, version: int, ids: frozenset[int] | None = None) -> None:
    """After a commit on ``using``: tell every process that ``version`` is the policies' version now, and which
    policies it changed (None: any).

    Never raises: a failed announce is logged, and the other processes' interval check catches the change.
    """
    if not _mode():
        return
    text = payload(version, ids)
    if _wants("redis"):
        try:
            client = _redis_client()
            if client is not None:
                client.publish(redis_channel(client), text)
        except Exception:
            logger.warning("cors_policies: could not announce version %s through Redis", version, exc_info=True)
    if _wants("postgresql"):
        try:
            connection = connections[using]
            if connection.vendor == "postgresql":
                # Inside an atomic block (a test's transaction, a caller's), a savepoint keeps a failure here from
                # aborting the caller's transaction; after a commit (the normal case) it is one statement.
                atomic = transaction.atomic(using=using) if connection.in_atomic_block else contextlib.nullcontext()
                with atomic, connection.cursor() as cursor:
                    cursor.execute("SELECT pg_notify(%s, %s)", [pg_channel(), text])
        except Exception:
            logger.warning("cors_policies: could not announce version %s through PostgreSQL", version, exc_info=True)


# -- the transports the listener holds ------------------------------------------------------------------------


class Transport(Protocol):
    name: str
    #: When this connection last showed it is alive (``time.monotonic()``): connected, a message, a ping's reply.
    heard: float

    def connect(self) -> None:
        """Open a dedicated connection and subscribe; return once messages from now on will arrive."""

    def ping(self) -> None:
        """Ask the server for a reply that :meth:`receive` will count as heard (raises when the link is lost)."""

    def receive(self, timeout: float) -> Iterator[Message]:
        """Changes announced (:func:`parse`), waiting at most about ``timeout``; (None, None) for a message that
        carries no version (a resubscription after a reconnect the client made by itself). Raises when the
        connection is lost."""
        ...

    def close(self) -> None:
        """Close the connection; never raises."""


class RedisTransport:
    name = "Redis"

    def __init__(self) -> None:
        self.pubsub: Any = None
        self.heard = 0.0

    def connect(self) -> None:
        client = _redis_client()
        if client is None:
            raise RuntimeError(f"the cache {conf.CACHE_ALIAS!r} is no longer Redis")
        self.pubsub = client.pubsub()  # its own connection, taken from the cache's pool until close()
        self.pubsub.subscribe(redis_channel(client))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message = self.pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "subscribe":
                self.heard = time.monotonic()
                return
        raise TimeoutError("Redis did not confirm the subscription")

    def ping(self) -> None:
        self.pubsub.ping()  # answered in the subscription as a "pong" message

    def receive(self, timeout: float) -> Iterator[Message]:
        message = self.pubsub.get_message(timeout=timeout)
        while message is not None:
            self.heard = time.monotonic()
            if message["type"] == "message":
                yield parse(message["data"])
            elif message["type"] == "subscribe":
                yield None, None  # redis-py reconnected and resubscribed by itself: messages may have been lost
            message = self.pubsub.get_message(timeout=0)

    def close(self) -> None:
        if self.pubsub is not None:
            with contextlib.suppress(Exception):
                self.pubsub.close()
            self.pubsub = None


class PostgresTransport:
    name = "PostgreSQL"

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.connection: Any = None
        self.heard = 0.0

    def connect(self) -> None:
        psycopg = _psycopg()
        if psycopg is None:
            raise RuntimeError("psycopg 3 is not installed")
        # Django's parameters for this database, without its cursor and adapter classes; a connection of our own
        # (autocommit, named in pg_stat_activity), never one of Django's, so no request thread's connection is used.
        params = connections[self.alias].get_connection_params()
        for key in ("cursor_factory", "context", "prepare_threshold", "server_side_binding"):
            params.pop(key, None)
        params.update(autocommit=True, application_name=APPLICATION_NAME)
        params.setdefault("connect_timeout", 10)  # an unreachable server must not hold the listener for minutes
        # A ping to a server that vanished without a word fails within HEARTBEAT_TIMEOUT instead of waiting for
        # the kernel's retransmissions (minutes): unacknowledged data times out (TCP only; a socket ignores it).
        params.setdefault("tcp_user_timeout", int(HEARTBEAT_TIMEOUT * 1000))
        self.connection = psycopg.connect(**params)
        self.connection.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(pg_channel())))
        self.heard = time.monotonic()

    def ping(self) -> None:
        self.connection.execute("SELECT 1")  # its answer (or its error) comes at once: heard, or lost
        self.heard = time.monotonic()

    def receive(self, timeout: float) -> Iterator[Message]:
        for notify in self.connection.notifies(timeout=timeout):
            self.heard = time.monotonic()
            yield parse(notify.payload)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None


def transports() -> list[Transport]:
    """The transports this deployment's settings give, for this process's listener (none: polling only)."""
    mode = _mode()
    if not mode:
        return []
    found: list[Transport] = []
    if _wants("redis") and _redis_client() is not None:
        found.append(RedisTransport())
    alias = _db_alias()
    if _wants("postgresql") and connections[alias].vendor == "postgresql" and _psycopg() is not None:
        found.append(PostgresTransport(alias))
    return found


# -- the listener ---------------------------------------------------------------------------------------------


class _Link:
    """One transport's connection state in the listener: connected, or when to try again."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.connected = False
        self.failures = 0
        self.retry_at = 0.0
        #: When a ping went out that has not been answered yet (None: none outstanding).
        self.pinged: float | None = None

    def check(self, now: float) -> None:
        """Ping a link silent for HEARTBEAT_SECONDS; one whose ping went unanswered for HEARTBEAT_TIMEOUT is lost."""
        heard = self.transport.heard
        if self.pinged is not None and heard >= self.pinged:
            self.pinged = None  # answered
        if now - heard < HEARTBEAT_SECONDS:
            return
        if self.pinged is None:
            self.pinged = now
            self.transport.ping()
        elif now - self.pinged > HEARTBEAT_TIMEOUT:
            raise TimeoutError(f"no reply to a ping in {HEARTBEAT_TIMEOUT:g} s")

    def fail(self, what: str, error: Exception) -> None:
        self.pinged = None
        self.transport.close()
        self.connected = False
        self.failures += 1
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (self.failures - 1)) * random.uniform(0.5, 1.0)
        self.retry_at = time.monotonic() + delay
        logger.warning(
            "cors_policies: the push listener %s through %s (%s: %s); trying again in %.3f s (the interval check "
            "covers the gap)",
            what,
            self.transport.name,
            type(error).__name__,
            error,
            delay,
        )


class Listener:
    """This process's listener thread and what it needs to stop."""

    def __init__(self, links: list[_Link]) -> None:
        self.pid = os.getpid()
        self.links = links
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="cors_policies-push", daemon=True)

    def deliver(self, version: int | None, ids: frozenset[int] | None = None) -> None:
        callback = _on_change
        if callback is None:
            return
        try:
            callback(version, ids)
        except Exception:
            logger.exception("cors_policies: the push callback failed for version %s", version)

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                for link in self.links:
                    if not link.connected and time.monotonic() >= link.retry_at:
                        try:
                            link.transport.connect()
                        except Exception as error:
                            link.fail("could not connect", error)
                            continue
                        link.connected, link.failures = True, 0
                        self.deliver(None)  # anything announced while we were not listening
                live = [link for link in self.links if link.connected]
                if not live:
                    self.stopping.wait(max(0.0, min(link.retry_at for link in self.links) - time.monotonic()))
                    continue
                for link in live:
                    try:
                        for version, ids in link.transport.receive(POLL_SECONDS / len(live)):
                            self.deliver(version, ids)
                        link.check(time.monotonic())
                    except Exception as error:
                        link.fail("lost its connection", error)
        finally:
            for link in self.links:
                link.transport.close()


_lock = threading.Lock()
_listener: Listener | None = None
_on_change: OnChange | None = None


def start(on_change: OnChange) -> None:
    """Make sure this process's listener runs and calls ``on_change``: cheap when it does (a pid and a liveness
    check), so the snapshot calls it at every interval check. A no-op when no transport applies (SQLite and a
    per-process cache, or ``PUSH`` off): polling alone then carries changes."""
    global _on_change, _listener
    _on_change = on_change
    listener = _listener
    if listener is not None and listener.pid == os.getpid() and listener.thread.is_alive():
        return
    with _lock:
        listener = _listener
        if listener is not None and listener.pid == os.getpid():
            if listener.thread.is_alive():
                return
            listener.thread.join()  # it died (its connections are closed by then): start another
        # A listener of another pid was inherited through fork(): its thread is gone and its sockets are the
        # parent's, so it is dropped, never closed.
        _listener = None
        try:
            links = [_Link(transport) for transport in transports()]
        except Exception:  # settings a system check reports (a CACHE_ALIAS not in CACHES): polling still works
            logger.warning(
                "cors_policies: push is off in this process: its transports could not be set up", exc_info=True
            )
            return
        if not links:
            return
        _listener = Listener(links)
        _listener.thread.start()


def stop() -> None:
    """Stop and join this process's listener and close its connections (tests, shutdown)."""
    global _listener
    with _lock:
        listener, _listener = _listener, None
    if listener is None or listener.pid != os.getpid():
        return
    listener.stopping.set()
    listener.thread.join(timeout=10)
    if listener.thread.is_alive():  # pragma: no cover - a server that does not answer in 10 s
        logger.warning("cors_policies: the push listener did not stop within 10 s")


def _after_fork_in_child() -> None:
    global _lock, _listener
    _lock = threading.Lock()  # another thread may have held it at the fork
    _listener = None  # the parent's: no thread here, and sockets that are not ours to close


os.register_at_fork(after_in_child=_after_fork_in_child)
