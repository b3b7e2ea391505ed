"""System checks, by their stable IDs."""

from __future__ import annotations

from typing import Any

import pytest

from cors_policies.checks import CORSHEADERS_MIDDLEWARE, MIDDLEWARE_PATH, check_cache, check_middleware, check_settings


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_the_demo_configuration_passes(settings: Any) -> None:
    assert check_middleware() == []
    assert check_settings() == []


def test_missing_middleware_is_e001(settings: Any) -> None:
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
    assert ids(check_middleware()) == ["cors_policies.E001"]


@pytest.mark.parametrize(
    "first",
    ["django.middleware.common.CommonMiddleware", "django.middleware.gzip.GZipMiddleware"],
)
def test_middleware_below_one_that_answers_first_is_e002(settings: Any, first: str) -> None:
    settings.MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", first, MIDDLEWARE_PATH]
    [message] = check_middleware()
    assert message.id == "cors_policies.E002"
    assert first in message.msg


def test_middleware_below_harmless_middleware_passes(settings: Any) -> None:
    settings.MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", MIDDLEWARE_PATH]
    assert check_middleware() == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([], ["cors_policies.E003"]),
        ({"REFRESH_INTERVALL": 1}, ["cors_policies.E004"]),
        ({"REFRESH_INTERVAL": -1}, ["cors_policies.E005"]),
        ({"REFRESH_INTERVAL": "1"}, ["cors_policies.E005"]),
        ({"PREFLIGHT_STATUS": 302}, ["cors_policies.E006"]),
        ({"CACHE_ALIAS": "nope"}, ["cors_policies.E007"]),
        ({"API_PERMISSION_CLASSES": "rest_framework.permissions.IsAdminUser"}, ["cors_policies.E008"]),
        ({"API_PERMISSION_CLASSES": ["no.such.Permission"]}, ["cors_policies.E008"]),
        ({"API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"]}, []),
        ({"REFRESH_INTERVAL": 0.5, "PREFLIGHT_STATUS": 204}, []),
        ({"REFRESH_INTERVAL": float("nan")}, ["cors_policies.E005"]),
        ({"REFRESH_INTERVAL": float("inf")}, ["cors_policies.E005"]),
        ({"REFRESH_INTERVAL": True}, ["cors_policies.E005"]),
        ({"REFRESH_INTERVAL": 0}, []),
        ({"CACHE_ALIAS": ["default"]}, ["cors_policies.E007"]),
        ({"CACHE_KEY_PREFIX": ""}, ["cors_policies.E010"]),
        ({"CACHE_KEY_PREFIX": "my prefix"}, ["cors_policies.E010"]),
        ({"CACHE_KEY_PREFIX": 5}, ["cors_policies.E010"]),
        ({"CACHE_KEY_PREFIX": "site-a:cors"}, []),
        ({"VERSION_TIMEOUT": 0}, ["cors_policies.E011"]),
        ({"VERSION_TIMEOUT": None}, ["cors_policies.E011"]),
        ({"VERSION_TIMEOUT": "60"}, ["cors_policies.E011"]),
        ({"VERSION_TIMEOUT": 0.5}, []),
        ({"OBSERVE_FLUSH": "cron"}, ["cors_policies.E012"]),
        ({"OBSERVE_FLUSH": "request", "OBSERVE_FLUSH_INTERVAL": 0, "OBSERVE_SAMPLE_RATE": 0}, []),
        ({"OBSERVE_FLUSH_INTERVAL": -1}, ["cors_policies.E013"]),
        ({"OBSERVE_RETENTION_DAYS": "30"}, ["cors_policies.E013"]),
        ({"OBSERVE_SAMPLE_RATE": 1.5}, ["cors_policies.E013"]),
        ({"OBSERVE_SAMPLE_RATE": float("nan")}, ["cors_policies.E013"]),
        ({"OBSERVE_MAX_KEYS": 2.5}, ["cors_policies.E013"]),
        ({"OBSERVE_MAX_ROWS": True}, ["cors_policies.E013"]),
        ({"OBSERVE_MAX_KEYS": 0, "OBSERVE_MAX_ROWS": 10}, []),
        (
            {"CACHE_KEY_PREFIX": "", "VERSION_TIMEOUT": -1, "NOPE": 1},
            [
                "cors_policies.E004",
                "cors_policies.E010",
                "cors_policies.E011",
            ],
        ),
    ],
)
def test_settings_checks(settings: Any, value: Any, expected: list[str]) -> None:
    settings.CORS_POLICIES = value
    assert ids(check_settings()) == expected


def test_observe_setting_messages_say_what_to_write(settings: Any) -> None:
    settings.CORS_POLICIES = {"OBSERVE_FLUSH": "cron", "OBSERVE_SAMPLE_RATE": 2}
    flush, rate = check_settings()
    assert (flush.id, flush.msg) == (
        "cors_policies.E012",
        "CORS_POLICIES['OBSERVE_FLUSH'] is 'cron'; it must be 'thread', 'request' or 'manual'.",
    )
    assert (rate.id, rate.msg, rate.hint) == (
        "cors_policies.E013",
        "CORS_POLICIES['OBSERVE_SAMPLE_RATE'] is 2; it must be a fraction from 0 to 1.",
        "1.0 (the default) records every request; 0.1 records one in ten.",
    )


def test_unknown_setting_name_raises_a_clear_error() -> None:
    from cors_policies.conf import conf

    with pytest.raises(AttributeError, match=r"CORS_POLICIES has no setting 'NOPE'; known: "):
        conf.NOPE  # noqa: B018


def test_django_cors_headers_middleware_too_is_e009(settings: Any) -> None:
    settings.MIDDLEWARE = [MIDDLEWARE_PATH, CORSHEADERS_MIDDLEWARE, "django.middleware.common.CommonMiddleware"]
    [message] = check_middleware()
    assert message.id == "cors_policies.E009"
    assert message.msg == (
        "django-cors-headers' CorsMiddleware is in MIDDLEWARE too: both would answer preflights and write CORS "
        "headers, so responses follow whichever runs last, not your policies."
    )
    assert message.hint == (
        "Remove 'corsheaders.middleware.CorsMiddleware' from MIDDLEWARE; 'manage.py cors_import_settings' turns "
        "its settings into a policy first."
    )


def test_e002_and_e009_together(settings: Any) -> None:
    settings.MIDDLEWARE = [CORSHEADERS_MIDDLEWARE, "django.middleware.common.CommonMiddleware", MIDDLEWARE_PATH]
    assert ids(check_middleware()) == ["cors_policies.E002", "cors_policies.E009"]


LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
SHARED = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_table"}


@pytest.mark.parametrize(
    ("caches", "value", "expected"),
    [
        ({"default": LOCMEM}, {}, ["cors_policies.W001"]),
        ({"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}, {}, ["cors_policies.W001"]),
        ({"default": SHARED}, {}, []),
        ({"default": LOCMEM, "shared": SHARED}, {"CACHE_ALIAS": "shared"}, []),
        ({"default": SHARED, "local": LOCMEM}, {"CACHE_ALIAS": "local"}, ["cors_policies.W001"]),
        ({"default": LOCMEM}, {"CACHE_ALIAS": "missing"}, []),  # E007's business
        ({"default": LOCMEM}, [], []),  # E003's business
    ],
)
def test_per_process_cache_is_w001(settings: Any, caches: dict[str, Any], value: Any, expected: list[str]) -> None:
    settings.CACHES = caches
    settings.CORS_POLICIES = value
    assert ids(check_cache()) == expected


def test_w001_says_what_it_costs(settings: Any) -> None:
    settings.CACHES = {"default": LOCMEM}
    settings.CORS_POLICIES = {"REFRESH_INTERVAL": 2}
    [message] = check_cache()
    assert message.msg == (
        "CORS_POLICIES['CACHE_ALIAS'] is 'default', a LocMemCache: each process has its own, so it cannot tell the "
        "other processes that the policies changed."
    )
    assert message.hint == (
        "Changes still reach every process, which then reads the version from the database instead: one small "
        "query per process every REFRESH_INTERVAL (2 s). Point CACHE_ALIAS at a cache all processes share (Redis, "
        "Memcached, the database cache) to save those queries."
    )
    settings.CORS_POLICIES = {"REFRESH_INTERVAL": 0}
    [message] = check_cache()
    assert "one small query per process on every request." in message.hint


def test_w001_is_a_deployment_check(settings: Any) -> None:
    """A development server is one process: the warning is for ``check --deploy``."""
    from django.core.checks import Warning as CheckWarning
    from django.core.checks.registry import registry

    settings.CACHES = {"default": LOCMEM}
    settings.CORS_POLICIES = {}
    assert "cors_policies.W001" not in ids(registry.run_checks())
    found = [m for m in registry.run_checks(include_deployment_checks=True) if m.id == "cors_policies.W001"]
    assert len(found) == 1 and isinstance(found[0], CheckWarning)


# ==================================================================================================
# W002: stored policies the engine cannot serve (a regex RE2 refuses, a wildcard over a public suffix)
# ==================================================================================================

LOOKAROUND_REGEX = r"^https://(?:(?!evil).)*\.example\.com$"


@pytest.mark.django_db
def test_a_stored_regex_re2_refuses_is_w002_and_the_row_is_left_as_it_is() -> None:
    from django.core.checks import run_checks

    from cors_policies.checks import check_stored_policies
    from cors_policies.models import CorsPolicy
    from tests.factories import CorsPolicyFactory

    good = CorsPolicyFactory(name="good", path_pattern="/api/**")
    bad = CorsPolicyFactory(name="old-regex", path_pattern="/old/**")
    wild = CorsPolicyFactory(name="old-wildcard", path_pattern="/w/**")
    # Rows written before this version (or around the validators): update() skips them.
    CorsPolicy.objects.filter(pk=bad.pk).update(allowed_origin_regexes=[LOOKAROUND_REGEX])
    CorsPolicy.objects.filter(pk=wild.pk).update(allowed_origins=["https://*.github.io"])
    CorsPolicy.objects.filter(pk=good.pk).update(path_pattern=r"^/v(\d+)/\1")

    messages = check_stored_policies(databases=["default"])
    assert ids(messages) == ["cors_policies.W002"] * 3
    assert messages[1].msg == (
        f"CORS policy 'old-regex' (id {bad.pk}) in database 'default' cannot be served and is skipped: "
        f"{LOOKAROUND_REGEX!r} is not a valid regular expression (invalid perl operator in '(?!'): lookarounds "
        "((?=...), (?!...), (?<=...), (?<!...)) are not supported: match the allowed shape directly, e.g. "
        "^/api/(?!internal/) becomes ^/api/(public|v2)/ (or give /api/internal/** its own policy with a higher "
        "priority)"
    )
    assert "backreferences" in messages[0].msg and "public suffix" in messages[2].msg
    assert messages[1].hint.startswith("Edit the policy in the admin or the API")
    # Registered as a database check: migrate and check --database run it.
    assert "cors_policies.W002" in ids(run_checks(databases=["default"]))
    assert check_stored_policies(databases=None) == []
    assert CorsPolicy.objects.get(pk=bad.pk).allowed_origin_regexes == [LOOKAROUND_REGEX]


@pytest.mark.django_db
def test_w002_is_silent_when_every_policy_compiles() -> None:
    from cors_policies.checks import check_stored_policies
    from tests.factories import CorsPolicyFactory

    CorsPolicyFactory(allowed_origin_regexes=[r"^https://(a+)+\.example\.com$"], allowed_origins=["https://*.x.co.uk"])
    assert check_stored_policies(databases=["default"]) == []


def test_the_migration_lists_unservable_policies_without_changing_them_and_goes_back(tmp_path: Any) -> None:
    """On a database of its own: a row stored under 0005 that RE2 refuses is reported by 0006, unchanged;
    unapplying 0006 is a no-op."""
    import json
    import os
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    database = tmp_path / "report.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": ""}

    def migrate(*target: str) -> str:
        command = [sys.executable, "manage.py", "migrate", *target, "--no-input"]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True).stdout

    migrate("cors_policies", "0005")
    with sqlite3.connect(database) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(cors_policies_corspolicy)")]
        values = {
            "name": "legacy",
            "description": "",
            "path_pattern": "/legacy/**",
            "priority": 0,
            "enabled": True,
            "report_only": False,
            "allowed_origins": "[]",
            "allowed_origin_regexes": json.dumps([LOOKAROUND_REGEX]),
            "allowed_methods": "[]",
            "allowed_headers": "[]",
            "expose_headers": "[]",
            "allow_credentials": False,
            "max_age": None,
            "allow_private_network": False,
            "created_at": "2026-01-01 00:00:00",
            "updated_at": "2026-01-01 00:00:00",
        }
        names = [name for name in columns if name in values]
        connection.execute(
            f"INSERT INTO cors_policies_corspolicy ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",  # noqa: S608
            [values[name] for name in names],
        )
    forward = migrate("cors_policies")
    assert "Applying cors_policies.0006_report_unservable_policies..." in forward
    assert "1 CORS policy cannot be served by this version and will be skipped until edited (nothing was changed):" in (
        forward
    )
    assert f"- 'legacy' (id 1): {LOOKAROUND_REGEX!r} is not a valid regular expression (invalid perl operator" in (
        forward
    )
    back = migrate("cors_policies", "0005")
    assert "Unapplying cors_policies.0006_report_unservable_policies... OK" in back
    with sqlite3.connect(database) as connection:
        [(stored,)] = connection.execute("SELECT allowed_origin_regexes FROM cors_policies_corspolicy").fetchall()
    assert json.loads(stored) == [LOOKAROUND_REGEX]


# ==================================================================================================
# W003: enabled policies the snapshot skips because the shared budgets have no room for them
# ==================================================================================================


BUDGET_HINT = (
    "Write a regex path pattern as a glob, such as /api/v1/** (a glob with '**' in at most one place costs the "
    "regex budget nothing), or a glob with fewer '*' and '**' segments; or disable policies you no longer need "
    "(the budgets keep the policies of higher precedence first). Until then no request gets this policy's CORS "
    "headers."
)


@pytest.mark.django_db
def test_enabled_policies_over_the_shared_budgets_are_w003_with_what_to_do() -> None:
    from django.core.checks import run_checks

    from cors_policies.checks import check_stored_policies
    from cors_policies.engine import PolicySet
    from cors_policies.models import CorsPolicy
    from tests.factories import CorsPolicyFactory

    # Regex path patterns share one RE2 program of MAX_REGEX_PATH_PROGRAM instructions: about ten of these fit.
    rows = [CorsPolicyFactory(name=f"r{n:02}", path_pattern=rf"^/r{n}/[a-z]+/(x|y)+\d*") for n in range(14)]
    CorsPolicyFactory(name="off", path_pattern=r"^/off/[a-z]+/(x|y)+\d*", enabled=False)
    CorsPolicyFactory(name="glob", path_pattern="/api/**")
    snapshot = PolicySet.build([row.to_spec() for row in CorsPolicy.objects.filter(enabled=True)])
    served = {policy.id for policy in snapshot.policies}
    skipped = [row for row in rows if row.pk not in served]
    assert skipped and len(snapshot.errors) == len(skipped)  # the same policies the snapshot skips

    messages = check_stored_policies(databases=["default"])
    assert ids(messages) == ["cors_policies.W003"] * len(skipped)
    first = skipped[0]
    reason = snapshot.errors[0].split(" skipped: ", 1)[1]
    assert messages[0].msg == (
        f"CORS policy {first.name!r} (id {first.pk}) in database 'default' is enabled but skipped when serving: "
        f"the budgets the enabled policies share have no room for it: {reason}"
    )
    assert messages[0].hint == BUDGET_HINT
    assert messages[0].obj == f"CorsPolicy {first.pk}"
    assert "cors_policies.W003" in ids(run_checks(databases=["default"]))

    CorsPolicy.objects.filter(pk__in=[row.pk for row in skipped]).update(path_pattern="/g/**")
    assert check_stored_policies(databases=["default"]) == []


# ==================================================================================================
# W004: PUSH asks for PostgreSQL LISTEN/NOTIFY, but psycopg 3 is missing (psycopg2): changes are only polled
# ==================================================================================================


@pytest.fixture
def postgresql_through_psycopg2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The policies' database is PostgreSQL and psycopg 3 cannot be imported, as with psycopg2 alone."""
    from django.db import connections

    from cors_policies import push

    monkeypatch.setattr(connections["default"], "vendor", "postgresql")
    monkeypatch.setattr(push, "_psycopg", lambda: None)


@pytest.mark.parametrize("mode", ["auto", "postgresql", None])
def test_push_over_postgresql_through_psycopg2_is_w004(
    settings: Any, postgresql_through_psycopg2: None, mode: str | None
) -> None:
    from django.core.checks import run_checks

    from cors_policies.checks import check_push

    settings.CORS_POLICIES = {} if mode is None else {"PUSH": mode}
    [message] = check_push()
    assert message.id == "cors_policies.W004"
    assert message.msg == (
        f"CORS_POLICIES['PUSH'] is {mode or 'auto'!r} and database 'default' is PostgreSQL, but through psycopg2: "
        "LISTEN/NOTIFY needs psycopg 3, so changes to the policies reach the other processes only when they poll "
        "(every REFRESH_INTERVAL), not at once."
    )
    assert message.hint == (
        "Install psycopg 3 (pip install 'cors-policies[postgres]'; Django then uses it too), or push through Redis "
        "(a Redis CACHE_ALIAS with PUSH 'auto' or 'redis'), or set PUSH to False to only poll."
    )
    assert "cors_policies.W004" in ids(run_checks())


@pytest.mark.parametrize("mode", [False, "redis", "bogus"])
def test_w004_is_silent_when_push_does_not_ask_for_postgresql(
    settings: Any, postgresql_through_psycopg2: None, mode: object
) -> None:
    from cors_policies.checks import check_push

    settings.CORS_POLICIES = {"PUSH": mode}  # "bogus" is E030's
    assert check_push() == []


def test_w004_is_silent_with_psycopg_3_or_another_database(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connections

    from cors_policies import push
    from cors_policies.checks import check_push

    settings.CORS_POLICIES = {"PUSH": "postgresql"}
    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    monkeypatch.setattr(push, "_psycopg", lambda: None)
    assert check_push() == []
    monkeypatch.setattr(connections["default"], "vendor", "postgresql")
    monkeypatch.setattr(push, "_psycopg", lambda: object())  # psycopg 3 installed: LISTEN/NOTIFY works
    assert check_push() == []
    settings.CORS_POLICIES = []  # E003's
    assert check_push() == []
