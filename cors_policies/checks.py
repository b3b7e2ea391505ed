"""System checks: each misconfiguration has a stable ID (cors_policies.E001...), tested by ID.

E001 middleware missing; E002 below middleware that can answer first; E003, E004 and each setting's own check
(E005-E008, E010-E014, E020, E021, E030: declared with the setting in :data:`cors_policies.conf.SETTINGS`) invalid
``CORS_POLICIES``; E009 django-cors-headers' middleware installed too; W001 (``check --deploy``) a
per-process cache at ``CACHE_ALIAS``; W002 (``check --database``, and so ``migrate``) a stored policy the
engine cannot compile, which serving skips; W003 (the same) an enabled policy serving skips because the
budgets the enabled policies share have no room for it; E022 (``check --deploy``) the debug header on with
``DEBUG = False``; W004 ``PUSH`` asks for PostgreSQL LISTEN/NOTIFY without psycopg 3, so changes are polled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

from .conf import BY_NAME, DEFAULTS, SETTINGS, Setting
from .engine import CompiledPolicy, OriginError, PatternError, PolicySet, PolicySpec
from .models import SPEC_FIELDS, CorsPolicy
from .push import polled_postgresql

MIDDLEWARE_PATH = "cors_policies.middleware.CorsPolicyMiddleware"
CORSHEADERS_MIDDLEWARE = "corsheaders.middleware.CorsMiddleware"
# Middleware that can answer (redirect, 403, compress) before ours sees the request.
ANSWERS_FIRST = (
    "django.middleware.common.CommonMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "cors_policies.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.locale.LocaleMiddleware",
)


@register(Tags.compatibility)
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE_PATH not in middleware:
        return [
            Error(
                "CorsPolicyMiddleware is not in MIDDLEWARE, so no CORS policy is applied.",
                hint=f"Add {MIDDLEWARE_PATH!r} at the top of MIDDLEWARE.",
                id="cors_policies.E001",
            )
        ]
    messages: list[CheckMessage] = []
    position = middleware.index(MIDDLEWARE_PATH)
    above = [name for name in middleware[:position] if name in ANSWERS_FIRST]
    if above:
        messages.append(
            Error(
                f"CorsPolicyMiddleware is below {', '.join(above)}, which can answer a request (a redirect, "
                "a 403) before CORS headers are added, so browsers block that answer.",
                hint="Move CorsPolicyMiddleware above it, ideally first in MIDDLEWARE.",
                id="cors_policies.E002",
            )
        )
    if CORSHEADERS_MIDDLEWARE in middleware:
        messages.append(
            Error(
                "django-cors-headers' CorsMiddleware is in MIDDLEWARE too: both would answer preflights and "
                "write CORS headers, so responses follow whichever runs last, not your policies.",
                hint=f"Remove {CORSHEADERS_MIDDLEWARE!r} from MIDDLEWARE; 'manage.py cors_import_settings' turns "
                "its settings into a policy first.",
                id="cors_policies.E009",
            )
        )
    return messages


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E003, E004, and each declared setting's own check (:data:`cors_policies.conf.SETTINGS`)."""
    value = getattr(settings, "CORS_POLICIES", {})
    if not isinstance(value, dict):
        return [
            Error(
                f"CORS_POLICIES must be a dict, not {type(value).__name__}.",
                hint='Write CORS_POLICIES = {"REFRESH_INTERVAL": 1.0} (every key is optional).',
                id="cors_policies.E003",
            )
        ]
    messages: list[CheckMessage] = []
    for key in sorted(set(value) - set(DEFAULTS)):
        messages.append(
            Error(
                f"CORS_POLICIES has an unknown key {key!r}.",
                hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
                id="cors_policies.E004",
            )
        )
    messages.extend(setting_errors(value, [s for s in SETTINGS if s.name != "PROTECTED_PATHS"]))
    return messages


def setting_errors(value: dict[str, Any], declared: Iterable[Setting]) -> list[CheckMessage]:
    """One Error per problem of each setting of ``declared`` as ``value`` (CORS_POLICIES) sets it."""
    return [
        Error(message, hint=hint, id=setting.check_id)
        for setting in declared
        if setting.check_id is not None
        for message, hint in setting.problems(value.get(setting.name, setting.default))
    ]


@register(Tags.caches, deploy=True)
def check_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W001: the version cache is per process, so every process reads the version from the database."""
    value = getattr(settings, "CORS_POLICIES", {})
    if not isinstance(value, dict):
        return []  # E003 says so
    alias = value.get("CACHE_ALIAS", DEFAULTS["CACHE_ALIAS"])
    try:
        cache = caches[alias]
    except (InvalidCacheBackendError, TypeError):
        return []  # E007 says so
    if not isinstance(cache, (LocMemCache, DummyCache)):
        return []
    interval = value.get("REFRESH_INTERVAL", DEFAULTS["REFRESH_INTERVAL"])
    every = "on every request" if interval == 0 else f"every REFRESH_INTERVAL ({interval} s)"
    return [
        Warning(
            f"CORS_POLICIES['CACHE_ALIAS'] is {alias!r}, a {type(cache).__name__}: each process has its own, so it "
            "cannot tell the other processes that the policies changed.",
            hint=f"Changes still reach every process, which then reads the version from the database instead: "
            f"one small query per process {every}. Point CACHE_ALIAS at a cache all processes share (Redis, "
            "Memcached, the database cache) to save those queries.",
            id="cors_policies.W001",
        )
    ]


def spec_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "enabled"}


def over_budget(rows: Any) -> list[tuple[int, str, str]]:
    """(id, name, reason) of each enabled policy row that compiles but that the shared budgets have no room
    for (the regex path program, the glob steps), which the snapshot skips as :meth:`PolicySet.build` does.
    ``rows`` are dicts with ``enabled`` and the fields of :class:`~cors_policies.engine.PolicySpec`."""
    compiled = []
    for row in rows:
        if not row["enabled"]:
            continue
        try:
            compiled.append(CompiledPolicy(PolicySpec(**spec_fields(row))))
        except (PatternError, OriginError, TypeError, ValueError):
            continue  # W002 says so
    served = PolicySet(compiled)
    kept = {policy.id for policy in served.policies}
    if served.report_only is not None:
        kept |= {policy.id for policy in served.report_only.policies}
    # The engine's errors read "policy <id> <name!r> skipped: <reason>".
    reasons = dict(error.split(" skipped: ", 1) for error in served.errors if " skipped: " in error)
    return sorted(
        (policy.id, policy.name, reasons.get(f"policy {policy.id} {policy.name!r}", "over a shared budget"))
        for policy in compiled
        if policy.id not in kept
    )


def unservable(rows: Any) -> list[tuple[int, str, str]]:
    """(id, name, reason) of each policy row the engine refuses to compile, which the snapshot skips: a
    regex RE2 cannot run, a wildcard over a public suffix, anything else written around the validators.
    ``rows`` are dicts with the fields of :class:`~cors_policies.engine.PolicySpec` (the migration that
    reports them passes its historical rows too)."""
    found = []
    for row in rows:
        try:
            CompiledPolicy(PolicySpec(**row))
        except (PatternError, OriginError, TypeError, ValueError) as exc:
            found.append((row["id"], row["name"], str(exc)))
    return found


@register(Tags.database)
def check_stored_policies(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W002: stored policies the engine cannot compile; W003: enabled ones the shared budgets have no room
    for. Both are skipped when serving. Warnings, not errors: ``migrate`` runs database checks and must not be
    blocked by a row the admin can fix."""
    messages: list[CheckMessage] = []
    for alias in databases or ():
        try:
            rows = list(CorsPolicy.objects.using(alias).values(*SPEC_FIELDS, "enabled").order_by("id"))
        except DatabaseError:
            continue  # no table yet: migrate creates it
        for policy_id, name, reason in unservable([spec_fields(row) for row in rows]):
            messages.append(
                Warning(
                    f"CORS policy {name!r} (id {policy_id}) in database {alias!r} cannot be served and is skipped: "
                    f"{reason}",
                    hint="Edit the policy in the admin or the API, which say what to write instead; until then no "
                    "request gets its CORS headers.",
                    obj=f"CorsPolicy {policy_id}",
                    id="cors_policies.W002",
                )
            )
        for policy_id, name, reason in over_budget(rows):
            messages.append(
                Warning(
                    f"CORS policy {name!r} (id {policy_id}) in database {alias!r} is enabled but skipped when "
                    f"serving: the budgets the enabled policies share have no room for it: {reason}",
                    hint="Write a regex path pattern as a glob, such as /api/v1/** (a glob with '**' in at most "
                    "one place costs the regex budget nothing), or a glob with fewer '*' and '**' segments; or "
                    "disable policies you no longer need (the budgets keep the policies of higher precedence "
                    "first). Until then no request gets this policy's CORS headers.",
                    obj=f"CorsPolicy {policy_id}",
                    id="cors_policies.W003",
                )
            )
    return messages


@register(Tags.compatibility)
def check_push(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W004: PUSH asks for PostgreSQL LISTEN/NOTIFY, which needs psycopg 3, on a database Django reaches through
    psycopg2: without a word, every change would wait for the interval check in the other processes."""
    value = getattr(settings, "CORS_POLICIES", {})
    if not isinstance(value, dict):
        return []  # E003 says so
    alias = polled_postgresql()
    if alias is None:
        return []
    push = value.get("PUSH", DEFAULTS["PUSH"])
    return [
        Warning(
            f"CORS_POLICIES['PUSH'] is {push!r} and database {alias!r} is PostgreSQL, but through psycopg2: "
            "LISTEN/NOTIFY needs psycopg 3, so changes to the policies reach the other processes only when they "
            "poll (every REFRESH_INTERVAL), not at once.",
            hint="Install psycopg 3 (pip install 'cors-policies[postgres]'; Django then uses it too), or push "
            "through Redis (a Redis CACHE_ALIAS with PUSH 'auto' or 'redis'), or set PUSH to False to only poll.",
            id="cors_policies.W004",
        )
    ]


@register(Tags.compatibility)
def check_protected_paths(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E020: PROTECTED_PATHS is a list of URL names and path prefixes (a wrong value protects nothing)."""
    value = getattr(settings, "CORS_POLICIES", {})
    if not isinstance(value, dict):
        return []  # E003 says so
    return setting_errors(value, [BY_NAME["PROTECTED_PATHS"]])


@register(Tags.security, deploy=True)
def check_debug_headers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E022: the debug header tells every visitor which policy covers a path and why it refused."""
    value = getattr(settings, "CORS_POLICIES", {})
    if not isinstance(value, dict) or value.get("DEBUG_HEADERS") is not True or settings.DEBUG:
        return []
    return [
        Error(
            "CORS_POLICIES['DEBUG_HEADERS'] is True while DEBUG is False: every response on a covered path "
            "names its CORS policy and why it refused, to anyone who asks.",
            hint="Set DEBUG_HEADERS to False in production (the request tester, cors_explain and the API's "
            "evaluate say the same to staff), or keep it to a development settings file.",
            id="cors_policies.E022",
        )
    ]
