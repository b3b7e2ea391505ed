"""Settings: one namespaced dict ``CORS_POLICIES``, read live so ``override_settings`` works.

Each setting is declared once, in :data:`SETTINGS`: its name, its default, what a valid value is (with the
system check that reports a wrong one, its message and hint), and the line the settings reference
(docs/settings.md) shows for it. ``manage.py check`` (:mod:`cors_policies.checks`) and the readers that must not
fail on a wrong value (:meth:`Settings.valid`: the observed-origins recorder) read these declarations, and a doc
test compares the reference with them; nothing else describes a setting again.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.utils.module_loading import import_string

__all__ = ["DEFAULTS", "SETTINGS", "Problem", "Setting", "Settings", "conf", "is_seconds", "is_valid_entry"]

logger = logging.getLogger("cors_policies")

#: What is wrong with a value, and what to write instead: (message, hint).
Problem = tuple[str, str]


@dataclass(frozen=True)
class Setting:
    """One key of ``CORS_POLICIES``."""

    name: str
    default: Any
    #: What it does: its row in the settings reference (Markdown, one line).
    doc: str
    #: The system check that reports a wrong value; None when any value is accepted.
    check_id: str | None = None
    #: The end of the sentence ``CORS_POLICIES['NAME'] is <value>; <requirement>``.
    requirement: str = ""
    hint: str = ""
    #: Whether a value is of the right kind (None: any value is).
    valid: Callable[[Any], bool] | None = None
    #: Problems that take more than the value's kind to see: the CACHES it names, the classes it imports, each
    #: entry of a list.
    more: Callable[[Setting, Any], list[Problem]] | None = None

    @property
    def key(self) -> str:
        return f"CORS_POLICIES[{self.name!r}]"

    def problems(self, value: Any) -> list[Problem]:
        """What is wrong with ``value`` for this setting (nothing: an empty list)."""
        if self.valid is not None and not self.valid(value):
            return [(f"{self.key} is {value!r}; {self.requirement}", self.hint)]
        return self.more(self, value) if self.more is not None else []


# -- what valid values are ------------------------------------------------------------------------------------


def is_seconds(value: Any) -> bool:
    """A finite int or float (not a bool): what the interval settings must be."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _at_least_zero(value: Any) -> bool:
    return is_seconds(value) and value >= 0


def _above_zero(value: Any) -> bool:
    return is_seconds(value) and value > 0


def _fraction(value: Any) -> bool:
    return is_seconds(value) and 0 <= value <= 1


def _count(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 0


def _cache_key_prefix(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not any(ch.isspace() or ord(ch) < 0x20 for ch in value)


def _dotted_paths(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


def _cache_alias(setting: Setting, alias: Any) -> list[Problem]:
    configured = getattr(settings, "CACHES", {}) or {}
    if configured and (not isinstance(alias, str) or alias not in configured):
        return [
            (f"{setting.key} is {alias!r}, which is not in CACHES.", f"Use one of: {', '.join(sorted(configured))}.")
        ]
    return []


def _importable(example: str) -> Callable[[Setting, Any], list[Problem]]:
    def problems(setting: Setting, paths: Any) -> list[Problem]:
        found = []
        for path in paths or ():
            try:
                import_string(path)
            except ImportError as exc:
                found.append(
                    (
                        f"{setting.key} names {path!r}, which cannot be imported ({exc}).",
                        f"Write the dotted path of a DRF class, such as {example!r}.",
                    )
                )
        return found

    return problems


#: A path prefix as written in PROTECTED_PATHS: "/" and then anything without whitespace.
_PREFIX_RE: Final = re.compile(r"/\S*")
#: A URL name, maybe namespaced ("admin:index").
_NAME_RE: Final = re.compile(r"[^\s/:][^\s/]*")


def is_valid_entry(entry: object) -> bool:
    """A URL name (such as ``admin:index``) or a path prefix other than ``/`` (such as ``/internal/``)."""
    return isinstance(entry, str) and (
        (_PREFIX_RE.fullmatch(entry) is not None and entry != "/") or _NAME_RE.fullmatch(entry) is not None
    )


def _protected_entries(setting: Setting, entries: Any) -> list[Problem]:
    return [
        (
            f"{setting.key} has {entry!r}, which is neither a URL name (such as 'admin:index') nor a path prefix "
            "other than '/' (such as '/internal/').",
            setting.hint,
        )
        for entry in entries
        if not is_valid_entry(entry)
    ]


# -- the declarations ---------------------------------------------------------------------------------------

_PROTECTED_DEFAULT: Final = ["admin:index", "cors_policies_api:root"]

SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        "CACHE_ALIAS",
        "default",
        "the Django cache that carries the shared policy version; a shared one (Redis, Memcached, database, file) "
        "saves each process a database query per interval: see [Deployment](deployment.md)",
        check_id="cors_policies.E007",
        more=_cache_alias,
    ),
    Setting(
        "CACHE_KEY_PREFIX",
        "cors_policies",
        "the prefix of the app's keys in that cache",
        check_id="cors_policies.E010",
        requirement="it must be text without spaces or control characters (Memcached refuses such keys).",
        hint="The default is 'cors_policies'.",
        valid=_cache_key_prefix,
    ),
    Setting(
        "VERSION_TIMEOUT",
        60,
        "seconds the cached version lives; it bounds any publish race",
        check_id="cors_policies.E011",
        requirement="it must be a number of seconds above 0: it bounds how long a process can miss a change if "
        "publishing the version to the cache fails.",
        hint="The default, 60, suits most sites.",
        valid=_above_zero,
    ),
    Setting(
        "REFRESH_INTERVAL",
        1.0,
        "seconds between version checks in each process: how stale a process may be; `0` checks on every request "
        "(tests, tiny sites)",
        check_id="cors_policies.E005",
        requirement="it must be a number of seconds, 0 or more.",
        hint="The default, 1.0, suits most sites.",
        valid=_at_least_zero,
    ),
    Setting(
        "REBUILD",
        "thread",
        'who rebuilds the snapshot after a change made elsewhere: `"thread"` (a background thread per process; '
        'no request waits) or `"request"` (the first request that notices, for servers that run no Python '
        "threads, such as uWSGI without `--enable-threads`)",
        check_id="cors_policies.E015",
        requirement="it must be 'thread' or 'request'.",
        hint="Use 'thread' (the default), or 'request' where the server runs no threads.",
        valid=lambda value: isinstance(value, str) and value in ("thread", "request"),
    ),
    Setting(
        "PUSH",
        "auto",
        'how a change reaches the other processes at once: `"auto"` announces it through Redis pub/sub when '
        "`CACHE_ALIAS` is Redis and through PostgreSQL `LISTEN/NOTIFY` when the policies' database is PostgreSQL "
        '(psycopg 3), both when both; `"redis"` or `"postgresql"` uses only that one; `False` only polls. The '
        "interval check stays the safety net: see [Deployment](deployment.md#how-changes-reach-every-worker)",
        check_id="cors_policies.E030",
        requirement="it must be 'auto', 'redis', 'postgresql' or False.",
        hint="The default, 'auto', pushes through whatever the deployment has; False only polls.",
        valid=lambda value: value is False or (isinstance(value, str) and value in ("auto", "redis", "postgresql")),
    ),
    Setting(
        "PREFLIGHT_STATUS",
        200,
        "the status of the preflight answers the middleware gives itself: `200` or `204`",
        check_id="cors_policies.E006",
        requirement="preflight answers must be 200 or 204.",
        hint="Use 200 (the default) or 204.",
        valid=lambda value: not isinstance(value, bool) and value in (200, 204),
    ),
    Setting(
        "API_PERMISSION_CLASSES",
        ["cors_policies.api.permissions.CorsPolicyPermissions"],
        "who may use the [REST API](rest-api.md): DRF permission classes as dotted paths. The default requires "
        "Django's model permissions on CORS policies (view for reading and evaluate, add, change and delete for "
        "writes, add and change, plus delete with `prune`, for import)",
        check_id="cors_policies.E008",
        requirement="it must be a list of dotted paths.",
        hint="The default is ['cors_policies.api.permissions.CorsPolicyPermissions'].",
        valid=_dotted_paths,
        more=_importable("rest_framework.permissions.IsAdminUser"),
    ),
    Setting(
        "API_AUTHENTICATION_CLASSES",
        None,
        "how the [REST API](rest-api.md) authenticates: DRF authentication classes as dotted paths. `None` (the "
        "default): token authentication when `rest_framework.authtoken` is installed, then the session. The "
        "project's `REST_FRAMEWORK` defaults are never used by the app's views, so they can neither open nor break "
        "the API",
        check_id="cors_policies.E008",
        requirement="it must be a list of dotted paths.",
        hint="The default is None.",
        valid=lambda value: value is None or _dotted_paths(value),
        more=_importable("rest_framework.authentication.SessionAuthentication"),
    ),
    Setting(
        "PUBLIC_SCHEMA",
        False,
        "`False`: the OpenAPI schema and its Swagger UI page need what the API needs (signed in, view permission "
        "on CORS policies); `True` opens them to anyone",
        check_id="cors_policies.E014",
        requirement="it must be True or False.",
        hint="False (the default) gives the schema and docs pages the API's permission; True opens them to anyone.",
        valid=lambda value: isinstance(value, bool),
    ),
    Setting(
        "PROTECTED_PATHS",
        _PROTECTED_DEFAULT,
        "paths no policy ever decorates or preflights: each entry a URL name (reversed, so the prefix follows "
        'wherever your URLconf mounts the admin and this app\'s API) or a path prefix such as `"/internal/"`, '
        "covering every path below it. A policy that can only match protected paths is refused; one that "
        "overlaps them (a `/**` catch-all) is saved with the warning `protected_paths`. `[]` protects nothing: "
        "see [Security](security.md)",
        check_id="cors_policies.E020",
        requirement="it must be a list.",
        hint=f"Write a list of URL names and path prefixes, such as {[*_PROTECTED_DEFAULT, '/internal/']!r} (the "
        "default protects the admin and this app's API), or [] to protect nothing.",
        valid=lambda value: isinstance(value, (list, tuple)),
        more=_protected_entries,
    ),
    Setting(
        "OBSERVE",
        True,
        "record [observed origins](observability.md#observed-origins); `False` records nothing (logging and the "
        "`cors_decision` signal still work)",
    ),
    Setting(
        "OBSERVE_FLUSH",
        "thread",
        'who writes the counts: `"thread"` (a background thread per process), `"request"` (the first request '
        "after each interval, for servers that run no Python threads, such as uWSGI without `--enable-threads`) "
        'or `"manual"` (only `cors_policies.observed.recorder.flush()`: tests, a scheduler of your own)',
        check_id="cors_policies.E012",
        requirement="it must be 'thread', 'request' or 'manual'.",
        hint="Use 'thread' (the default), or 'request' where the server runs no threads (uWSGI without "
        "--enable-threads).",
        valid=lambda value: isinstance(value, str) and value in ("thread", "request", "manual"),
    ),
    Setting(
        "OBSERVE_FLUSH_INTERVAL",
        5.0,
        "seconds between writes in each process (at most one write per interval)",
        check_id="cors_policies.E013",
        requirement="it must be a number, 0 or more.",
        hint="The default is 5.0.",
        valid=_at_least_zero,
    ),
    Setting(
        "OBSERVE_SAMPLE_RATE",
        1.0,
        "fraction of requests counted; counts are scaled up (estimates below 1)",
        check_id="cors_policies.E013",
        requirement="it must be a fraction from 0 to 1.",
        hint="1.0 (the default) records every request; 0.1 records one in ten.",
        valid=_fraction,
    ),
    Setting(
        "OBSERVE_MAX_KEYS",
        2000,
        "distinct (policy, origin, verdict, reason) per verdict, interval and process; the requests beyond are "
        "counted as overflow and logged, not stored",
        check_id="cors_policies.E013",
        requirement="it must be a whole number, 0 or more.",
        hint="The default is 2000.",
        valid=_count,
    ),
    Setting(
        "OBSERVE_MAX_KEYS_PER_POLICY",
        200,
        "distinct keys per policy and verdict in an interval; every (policy, verdict) keeps room for at least 10, "
        "so a flood of distinct origins on one policy cannot push out the refused origins of another. What gives "
        "way is counted per policy, verdict and reason, without its origin, and shown in the admin",
        check_id="cors_policies.E013",
        requirement="it must be a whole number, 0 or more.",
        hint="The default is 200.",
        valid=_count,
    ),
    Setting(
        "OBSERVE_MAX_ROWS",
        100_000,
        "the table is trimmed to the most recently seen rows beyond this",
        check_id="cors_policies.E013",
        requirement="it must be a whole number, 0 or more.",
        hint="The default is 100000.",
        valid=_count,
    ),
    Setting(
        "OBSERVE_RETENTION_DAYS",
        30,
        "rows not seen for this long are deleted (also by `manage.py cors_cleanup_observed`)",
        check_id="cors_policies.E013",
        requirement="it must be a number, 0 or more.",
        hint="The default is 30.",
        valid=_at_least_zero,
    ),
    Setting(
        "DEBUG_HEADERS",
        False,
        '`True`: every response on a path a policy covers carries `CORS-Policy: "<name>"; verdict=refused; '
        "reason=origin`, so the browser's network panel shows why "
        "([the origin policy](origin-policy.md#a-debug-header)). For development only: `check --deploy` refuses "
        "it with `DEBUG = False` (`cors_policies.E022`)",
        check_id="cors_policies.E021",
        requirement="it must be True or False.",
        hint="False (the default) sends no debug header; True, in development only, names the policy and its verdict.",
        valid=lambda value: isinstance(value, bool),
    ),
)

#: Each setting by name.
BY_NAME: Final[dict[str, Setting]] = {setting.name: setting for setting in SETTINGS}
#: Each setting's default, by name.
DEFAULTS: Final[dict[str, Any]] = {setting.name: setting.default for setting in SETTINGS}


class Settings:
    """Attribute access to ``CORS_POLICIES`` with defaults; unknown names raise AttributeError."""

    def _user(self) -> dict[str, Any]:
        value = getattr(settings, "CORS_POLICIES", None)
        return value if isinstance(value, dict) else {}

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"CORS_POLICIES has no setting {name!r}; known: {', '.join(sorted(DEFAULTS))}")
        return self._user().get(name, DEFAULTS[name])

    def valid(self, name: str) -> Any:
        """The setting's value, or its default (logged as an error) when the value is wrong: for readers that must
        keep serving whatever the settings say. ``manage.py check`` reports the same problem by its ID."""
        value = getattr(self, name)
        setting = BY_NAME[name]
        problems = setting.problems(value)
        if not problems:
            return value
        logger.error(
            "cors_policies: %s Using the default, %r (manage.py check reports it as %s).",
            problems[0][0],
            setting.default,
            setting.check_id,
        )
        return setting.default


conf = Settings()
