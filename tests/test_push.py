"""Push (cors_policies.push): announces reach this process's listener, through Redis pub/sub and PostgreSQL
LISTEN/NOTIFY, and the listener survives what servers and callbacks do to it.

The tests on a real server need ``REDIS_URL`` or ``DATABASE_URL=postgres://...``: without them they skip and say
why, unless ``CORS_POLICIES_REQUIRE_SERVICES=1`` makes a skip a failure. They wait for deliveries with generous
deadlines (liveness, not timing: the figures are in bench/propagation.py).
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache.backends.base import BaseCache
from django.db import connection

from cors_policies import checks, push
from tests.docs_pages import ROOT, page, section

# Transactional: a NOTIFY is delivered when its transaction commits, and the listener is another connection.
pytestmark = [pytest.mark.push, pytest.mark.django_db(transaction=True)]

WAIT = 30.0  # seconds: a deadline for "it arrives" on a loaded CI machine, never a measurement
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def _require(reason: str) -> None:
    if os.environ.get("CORS_POLICIES_REQUIRE_SERVICES") == "1":
        pytest.fail(f"CORS_POLICIES_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


class Recorder:
    """An ``on_change`` that records what it was called with, and from which thread."""

    def __init__(self, behave: Callable[[int | None], None] | None = None) -> None:
        self.calls: list[int | None] = []
        self.ids: dict[int | None, frozenset[int] | None] = {}
        self.threads: set[str] = set()
        self.behave = behave
        self.condition = threading.Condition()

    def __call__(self, version: int | None, ids: frozenset[int] | None) -> None:
        if self.behave is not None:
            self.behave(version)
        with self.condition:
            self.calls.append(version)
            self.ids[version] = ids
            self.threads.add(threading.current_thread().name)
            self.condition.notify_all()

    def wait_for(self, predicate: Callable[[list[int | None]], bool]) -> None:
        with self.condition:
            if not self.condition.wait_for(lambda: predicate(self.calls), timeout=WAIT):
                raise AssertionError(f"not delivered within {WAIT} s; calls so far: {self.calls[-20:]}")

    def connected(self, times: int = 1) -> None:
        """Wait until the listener has (re)connected ``times`` times (each one is an ``on_change(None)``)."""
        self.wait_for(lambda calls: calls.count(None) >= times)


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {WAIT} s")
        time.sleep(0.01)


def _listener_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "cors_policies-push"]


@dataclass
class Server:
    """A transport under test: how to configure it, drop the listener's connection, and count its connections."""

    mode: str
    drop: Callable[[], None]
    count: Callable[[], int]


@pytest.fixture(autouse=True)
def _stopped() -> Iterator[None]:
    push.stop()
    yield
    push.stop()


@pytest.fixture
def prefix(settings: Any) -> str:
    """A key prefix of this test's own, so no other test's announce reaches it."""
    return f"push-test-{uuid.uuid4().hex[:12]}"


def _redis_server(settings: Any, prefix: str) -> Server:
    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        _require("this test needs Redis: set REDIS_URL=redis://127.0.0.1:6379/<db>")
    import redis

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    settings.CORS_POLICIES = {"PUSH": "redis", "CACHE_KEY_PREFIX": prefix}
    admin = redis.Redis.from_url(url)
    db = admin.connection_pool.connection_kwargs.get("db", 0)

    def ours() -> list[dict[str, Any]]:
        # Subscribers in this test's database: other people's clients on a shared server are left alone.
        return [client for client in admin.client_list(_type="pubsub") if int(client["db"]) == db]

    def drop() -> None:
        for client in ours():  # CLIENT KILL TYPE pubsub, narrowed to our database
            admin.client_kill_filter(_id=client["id"])

    return Server("redis", drop, lambda: len(ours()))


def _postgres_server(settings: Any, prefix: str) -> Server:
    if connection.vendor != "postgresql":
        _require("this test needs PostgreSQL: set DATABASE_URL=postgres://...")
    settings.CORS_POLICIES = {"PUSH": "postgresql", "CACHE_KEY_PREFIX": prefix}
    ours = "FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()"

    def drop() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_terminate_backend(pid) {ours}", [push.APPLICATION_NAME])

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) {ours}", [push.APPLICATION_NAME])
            return int(cursor.fetchone()[0])

    return Server("postgresql", drop, count)


@pytest.fixture(params=["redis", "postgresql"])
def server(request: pytest.FixtureRequest, settings: Any, prefix: str) -> Server:
    if request.param == "redis":
        return _redis_server(settings, prefix)
    return _postgres_server(settings, prefix)


# -- delivery -------------------------------------------------------------------------------------------------


def test_an_announce_reaches_the_listener_after_its_connect_signal(server: Server) -> None:
    seen = Recorder()
    push.start(seen)
    seen.connected()
    push.announce("default", 7)
    seen.wait_for(lambda calls: 7 in calls)
    assert seen.calls == [None, 7]
    assert seen.threads == {"cors_policies-push"}
    assert server.count() == 1


def test_an_announce_carries_the_ids_of_the_policies_its_change_wrote(server: Server) -> None:
    seen = Recorder()
    push.start(seen)
    seen.connected()
    push.announce("default", 7, frozenset({12, 3}))
    push.announce("default", 8, None)
    push.announce("default", 9, frozenset())
    seen.wait_for(lambda calls: 9 in calls)
    assert seen.ids == {None: None, 7: frozenset({3, 12}), 8: None, 9: frozenset()}


def test_start_is_idempotent_and_the_latest_callback_wins(server: Server) -> None:
    first, second = Recorder(), Recorder()
    push.start(first)
    first.connected()
    push.start(second)
    push.start(second)
    assert len(_listener_threads()) == 1
    push.announce("default", 3)
    second.wait_for(lambda calls: 3 in calls)
    assert first.calls == [None]
    assert server.count() == 1


def test_a_message_without_a_version_is_passed_on_as_none(server: Server) -> None:
    seen = Recorder()
    push.start(seen)
    seen.connected()
    if server.mode == "redis":
        client = push._redis_client()
        client.publish(push.redis_channel(client), "not a number")
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [push.pg_channel(), "not a number"])
    push.announce("default", 4)
    seen.wait_for(lambda calls: 4 in calls)
    assert seen.calls == [None, None, 4]  # "something changed": the snapshot checks the shared version


# -- faults ---------------------------------------------------------------------------------------------------


def test_a_dropped_connection_reconnects_and_says_so(server: Server) -> None:
    seen = Recorder()
    push.start(seen)
    seen.connected()
    server.drop()
    seen.connected(times=2)  # on_change(None): messages may have been lost while it was away
    _wait_until(lambda: server.count() == 1, "the listener connected again")
    push.announce("default", 8)
    seen.wait_for(lambda calls: 8 in calls)
    assert len(_listener_threads()) == 1


def test_a_failing_callback_is_logged_and_listening_goes_on(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    def behave(version: int | None) -> None:
        if version == 1:
            raise ValueError("the snapshot could not expire")

    seen = Recorder(behave)
    push.start(seen)
    seen.connected()
    push.announce("default", 1)
    push.announce("default", 2)
    seen.wait_for(lambda calls: 2 in calls)
    assert seen.calls == [None, 2]
    [record] = [r for r in caplog.records if "callback failed" in r.getMessage()]
    assert record.getMessage() == "cors_policies: the push callback failed for version 1"
    assert record.exc_info is not None and isinstance(record.exc_info[1], ValueError)


def test_a_quiet_link_is_pinged_and_stays_connected_while_it_answers(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(push, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(push, "HEARTBEAT_TIMEOUT", 5.0)
    transport = push.RedisTransport if server.mode == "redis" else push.PostgresTransport
    pings: list[float] = []
    real_ping = transport.ping

    def ping(self: Any) -> None:
        pings.append(time.monotonic())
        real_ping(self)

    monkeypatch.setattr(transport, "ping", ping)
    seen = Recorder()
    push.start(seen)
    seen.connected()
    _wait_until(lambda: len(pings) >= 4, "four pings")
    assert seen.calls == [None]  # answered every time: never taken for lost, never reconnected
    assert server.count() == 1
    push.announce("default", 5, frozenset({1}))
    seen.wait_for(lambda calls: 5 in calls)


class SilentTransport:
    """A link that connects, then never says anything again, not even to a ping (a connection dropped without a
    word by a NAT or a load balancer)."""

    name = "Silent"

    def __init__(self) -> None:
        self.heard = 0.0
        self.connects = 0
        self.pings = 0

    def connect(self) -> None:
        self.connects += 1
        self.heard = time.monotonic()

    def ping(self) -> None:
        self.pings += 1

    def receive(self, timeout: float) -> Iterator[push.Message]:
        time.sleep(timeout)
        return iter(())

    def close(self) -> None:
        pass


def test_a_link_that_goes_silent_is_taken_as_lost_and_reconnected(
    db: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(push, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(push, "HEARTBEAT_TIMEOUT", 0.1)
    monkeypatch.setattr(push, "POLL_SECONDS", 0.02)
    monkeypatch.setattr(push, "BACKOFF_BASE", 0.01)
    silent = SilentTransport()
    monkeypatch.setattr(push, "transports", lambda: [silent])
    seen = Recorder()
    push.start(seen)
    seen.connected(times=3)  # each reconnect says "messages may have been lost": the snapshot checks
    assert silent.connects >= 3 and silent.pings >= 2
    messages = [r.getMessage() for r in caplog.records if "lost its connection" in r.getMessage()]
    assert messages and messages[0].startswith(
        "cors_policies: the push listener lost its connection through Silent (TimeoutError: no reply to a ping in "
        "0.1 s); trying again in "
    )
    push.stop()
    assert _listener_threads() == []


class ThreadKilled(BaseException):
    """What no ``except Exception`` catches: the listener thread dies of it."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_listener_thread_is_restarted_by_the_next_start(server: Server) -> None:
    def behave(version: int | None) -> None:
        if version == 1:
            raise ThreadKilled

    dying = Recorder(behave)
    push.start(dying)
    dying.connected()
    [thread] = _listener_threads()
    push.announce("default", 1)
    thread.join(WAIT)
    assert not thread.is_alive()
    _wait_until(lambda: server.count() == 0, "the dead listener's connection closed")

    seen = Recorder()
    push.start(seen)  # the snapshot's next interval check does this
    seen.connected()
    push.announce("default", 2)
    seen.wait_for(lambda calls: 2 in calls)
    assert seen.calls == [None, 2]
    assert len(_listener_threads()) == 1
    assert server.count() == 1


def test_a_storm_of_announces_is_delivered_in_order_without_waiting_for_the_listener(server: Server) -> None:
    release = threading.Event()

    def behave(version: int | None) -> None:
        if version == 1:
            release.wait(120)  # the listener is stuck in its callback while the storm is announced

    seen = Recorder(behave)
    push.start(seen)
    seen.connected()
    try:
        for version in range(1, 1001):
            push.announce("default", version)  # none of these waits for the listener
        assert seen.calls == [None]
    finally:
        release.set()
    seen.wait_for(lambda calls: 1000 in calls)
    # Each announce once, in order: push keeps no queue of its own (messages wait in the server's socket buffer),
    # and the snapshot's expire() makes 1,000 calls one rebuild.
    assert seen.calls == [None, *range(1, 1001)]
    assert len(_listener_threads()) == 1
    assert server.count() == 1


def test_stop_and_start_cycles_leak_no_thread_and_no_connection(server: Server) -> None:
    before = {thread.ident for thread in threading.enumerate()}
    for _ in range(5):
        seen = Recorder()
        push.start(seen)
        seen.connected()
        assert server.count() == 1
        push.stop()
        assert {thread.ident for thread in threading.enumerate()} == before
        _wait_until(lambda: server.count() == 0, "the listener's connection closed")


def test_a_forked_child_starts_its_own_listener_and_leaves_the_parents_alone(server: Server) -> None:
    """gunicorn --preload: a worker forked from a process whose listener runs must start its own."""
    parent = Recorder()
    push.start(parent)
    parent.connected()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        status = 1
        try:
            child = Recorder()
            push.start(child)
            child.connected()
            status = 0 if [t.name for t in threading.enumerate()].count("cors_policies-push") == 1 else 2
            push.stop()
        finally:
            os.write(write, bytes([status]))
            os._exit(0)
    os.close(write)
    try:
        assert os.read(read, 1) == b"\x00"
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    push.announce("default", 9)  # the parent's connection survived the child's start, stop and exit
    parent.wait_for(lambda calls: 9 in calls)
    assert parent.calls == [None, 9]


# -- without a server -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "ids", "message"),
    [(12, frozenset({4, 9, 1}), "12:1,4,9"), (12, None, "12"), (12, frozenset(), "12:")],
)
def test_a_change_is_one_short_message_read_back_as_it_was_sent(
    version: int, ids: frozenset[int] | None, message: str
) -> None:
    assert push.payload(version, ids) == message
    assert push.parse(message) == push.parse(message.encode()) == (version, ids)


def test_ids_that_would_not_fit_a_notify_payload_are_announced_as_any_policy() -> None:
    many = frozenset(range(10**6, 10**6 + 2000))
    assert push.payload(5, many) == "5"
    assert len(push.payload(5, frozenset(range(10**6, 10**6 + 500)))) < push.MAX_PAYLOAD  # MAX_ANNOUNCED_IDS fit


@pytest.mark.parametrize(
    "message",
    ["", "x", "7:a,b", "7:1;DROP", ":1,2", "1e3", None, 42, "9:" + "1," * 5000, "٣"],
    ids=["empty", "word", "bad-ids", "bad-separator", "no-version", "float", "none", "int", "too-long", "non-ascii"],
)
def test_a_message_that_is_not_ours_reads_as_something_changed(message: Any) -> None:
    """Whoever can publish on the channel can send anything: it costs one check of the shared version, never an
    exception in the listener, a wrong version or a parse of unbounded length."""
    assert push.parse(message) == (None, None)


def test_a_per_process_cache_without_postgresql_starts_nothing(settings: Any) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CORS_POLICIES = {"PUSH": "redis"}
    push.start(Recorder())
    assert push.transports() == []
    assert _listener_threads() == []
    settings.CORS_POLICIES = {"PUSH": "auto"}
    expected = ["PostgreSQL"] if connection.vendor == "postgresql" else []  # SQLite: polling only
    assert [transport.name for transport in push.transports()] == expected


def test_a_listener_inherited_through_fork_is_dropped_and_never_closed(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CORS_POLICIES = {"PUSH": "redis"}

    class Inherited:
        pid = os.getpid() + 1  # the parent's

        @property
        def stopping(self) -> Any:
            raise AssertionError("the parent's listener must not be touched")

    monkeypatch.setattr(push, "_listener", Inherited())
    push.start(Recorder())
    assert push._listener is None  # and nothing to start here: a per-process cache
    monkeypatch.setattr(push, "_listener", Inherited())
    push.stop()
    assert push._listener is None


def test_start_never_raises_on_settings_the_checks_report(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.CORS_POLICIES = {"CACHE_ALIAS": "missing"}
    push.start(Recorder())
    assert _listener_threads() == []
    [record] = caplog.records
    assert record.getMessage() == "cors_policies: push is off in this process: its transports could not be set up"


def test_push_off_starts_and_announces_nothing(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "x"}}
    settings.CORS_POLICIES = {"PUSH": False}
    monkeypatch.setattr(push, "_redis_client", lambda: pytest.fail("PUSH is False: nothing may be asked"))
    push.start(Recorder())
    push.announce("default", 1)
    assert push.transports() == []
    assert _listener_threads() == []


def test_announce_never_raises_when_redis_is_down(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": UNREACHABLE_REDIS}
    }
    settings.CORS_POLICIES = {"PUSH": "redis"}
    push.announce("default", 3)
    [record] = caplog.records
    assert (record.levelname, record.getMessage()) == (
        "WARNING",
        "cors_policies: could not announce version 3 through Redis",
    )


def test_the_listener_retries_with_capped_backoff_and_stops_promptly(
    settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": UNREACHABLE_REDIS}
    }
    settings.CORS_POLICIES = {"PUSH": "redis"}
    monkeypatch.setattr(push, "BACKOFF_BASE", 0.01)
    monkeypatch.setattr(push, "BACKOFF_CAP", 0.08)
    seen = Recorder()
    push.start(seen)

    def delays() -> list[float]:
        pattern = r"could not connect through Redis \(ConnectionError: .*\); trying again in ([\d.]+) s"
        return [float(m.group(1)) for r in list(caplog.records) if (m := re.search(pattern, r.getMessage()))]

    _wait_until(lambda: len(delays()) >= 6, "six failed connects")
    push.stop()
    assert _listener_threads() == []
    assert seen.calls == []  # never connected: never told
    found = delays()
    assert all(0.005 <= delay <= 0.08 for delay in found), found  # jittered within [half, all] of base * 2**n, capped
    assert max(found[4:]) > max(found[:1])  # it grows


def test_a_django_redis_cache_is_used_through_its_client(monkeypatch: pytest.MonkeyPatch) -> None:
    client = object()

    class DefaultClient:
        def get_client(self, write: bool = True) -> object:
            assert write
            return client

    class RedisCache(BaseCache):
        __module__ = "django_redis.cache"

        def __init__(self) -> None:
            super().__init__({})
            self.client = DefaultClient()

    monkeypatch.setattr(push, "caches", {"default": RedisCache()})
    assert push._redis_client() is client


def test_channel_names(settings: Any) -> None:
    settings.CORS_POLICIES = {"CACHE_KEY_PREFIX": "shop"}
    assert push.pg_channel() == "shop:changes"
    settings.CORS_POLICIES = {"CACHE_KEY_PREFIX": "p" * 60}
    long = push.pg_channel()
    assert len(long.encode()) <= 63 and long.startswith("cors_policies:")
    assert push.pg_channel() == long  # the same name in every process


def test_redis_channel_is_the_version_key_per_database(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://h:1/4"}
    }
    settings.CORS_POLICIES = {"CACHE_KEY_PREFIX": "shop"}
    assert push.redis_channel(push._redis_client()) == ":1:shop:changes@4"


@pytest.mark.parametrize("value", ["yes", True, "Redis", None, 1])
def test_a_wrong_push_setting_is_reported(settings: Any, value: object) -> None:
    settings.CORS_POLICIES = {"PUSH": value}
    [error] = [e for e in checks.check_settings() if e.id == "cors_policies.E030"]
    assert error.msg == f"CORS_POLICIES['PUSH'] is {value!r}; it must be 'auto', 'redis', 'postgresql' or False."


# -- the documentation ----------------------------------------------------------------------------------------


def test_the_deployment_section_names_real_files_threads_and_connections() -> None:
    text = section(page("deployment.md"), "## How changes reach every worker")
    command = text.split("```")[1]
    files = re.findall(r"tests/\S+\.py", command)
    assert files == ["tests/test_push.py", "tests/test_push_multiprocess.py"]
    assert all((ROOT / name).is_file() for name in files)
    assert "`cors_policies-push`" in text and f"`{push.APPLICATION_NAME}`" in text
    assert f"({push.BACKOFF_BASE:g} s doubling\nto {push.BACKOFF_CAP:g} s)" in text
    assert '(`CORS_POLICIES["PUSH"]`, default `"auto"`)' in text


def test_the_propagation_section_gives_the_benchmarks_commands() -> None:
    text = section(page("performance.md"), "## Propagation")
    for script in ("bench/propagation.py", "bench/churn.py"):
        assert f".venv/bin/python {script}" in text
        assert (ROOT / script).is_file()
