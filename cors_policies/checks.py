"""System checks: each misconfiguration has a stable ID (cors_policies.E001...), tested by ID.

E001 middleware missing; E002 below middleware that can answer first; E003-E008, E010-E014, E020 invalid
``CORS_POLICIES``; E009 django-cors-headers' middleware installed too; W001 (``check --deploy``) a
per-process cache at ``CACHE_ALIAS``; W002 (``check --database``, and so ``migrate``) a stored policy the
engine cannot compile, which serving skips.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError
from django.utils.module_loading import import_string

from .conf import DEFAULTS
from .engine import CompiledPolicy, OriginError, PatternError, PolicySpec
from .models import SPEC_FIELDS, CorsPolicy
from .protected import SETTING as PROTECTED_SETTING
from .protected import is_valid_entry

MIDDLEWARE_PATH = "cors_policies.middleware.CorsPolicyMiddleware"
CORSHEADERS_MIDDLEWARE = "corsheaders.middleware.CorsMiddleware"
# Middleware that can answer (redirect, 403, compress) before ours sees the request.
ANSWERS_FIRST = (
    "django.middleware.common.CommonMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
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
    interval = value.get("REFRESH_INTERVAL", DEFAULTS["REFRESH_INTERVAL"])
    if not is_seconds(interval) or interval < 0:
        messages.append(
            Error(
                f"CORS_POLICIES['REFRESH_INTERVAL'] is {interval!r}; it must be a number of seconds, 0 or more.",
                hint="The default, 1.0, suits most sites.",
                id="cors_policies.E005",
            )
        )
    status = value.get("PREFLIGHT_STATUS", DEFAULTS["PREFLIGHT_STATUS"])
    if status not in (200, 204):
        messages.append(
            Error(
                f"CORS_POLICIES['PREFLIGHT_STATUS'] is {status!r}; preflight answers must be 200 or 204.",
                hint="Use 200 (the default) or 204.",
                id="cors_policies.E006",
            )
        )
    messages.extend(check_class_paths(value, "API_PERMISSION_CLASSES", "rest_framework.permissions.IsAdminUser"))
    messages.extend(
        check_class_paths(value, "API_AUTHENTICATION_CLASSES", "rest_framework.authentication.SessionAuthentication")
    )
    public = value.get("PUBLIC_SCHEMA", DEFAULTS["PUBLIC_SCHEMA"])
    if not isinstance(public, bool):
        messages.append(
            Error(
                f"CORS_POLICIES['PUBLIC_SCHEMA'] is {public!r}; it must be True or False.",
                hint="False (the default) gives the schema and docs pages the API's permission; True opens them "
                "to anyone.",
                id="cors_policies.E014",
            )
        )
    configured = getattr(settings, "CACHES", {}) or {}
    alias = value.get("CACHE_ALIAS", DEFAULTS["CACHE_ALIAS"])
    if configured and (not isinstance(alias, str) or alias not in configured):
        messages.append(
            Error(
                f"CORS_POLICIES['CACHE_ALIAS'] is {alias!r}, which is not in CACHES.",
                hint=f"Use one of: {', '.join(sorted(configured))}.",
                id="cors_policies.E007",
            )
        )
    prefix = value.get("CACHE_KEY_PREFIX", DEFAULTS["CACHE_KEY_PREFIX"])
    if not isinstance(prefix, str) or not prefix.strip() or any(ch.isspace() or ord(ch) < 0x20 for ch in prefix):
        messages.append(
            Error(
                f"CORS_POLICIES['CACHE_KEY_PREFIX'] is {prefix!r}; it must be text without spaces or control "
                "characters (Memcached refuses such keys).",
                hint=f"The default is {DEFAULTS['CACHE_KEY_PREFIX']!r}.",
                id="cors_policies.E010",
            )
        )
    timeout = value.get("VERSION_TIMEOUT", DEFAULTS["VERSION_TIMEOUT"])
    if not is_seconds(timeout) or timeout <= 0:
        messages.append(
            Error(
                f"CORS_POLICIES['VERSION_TIMEOUT'] is {timeout!r}; it must be a number of seconds above 0: it bounds "
                "how long a process can miss a change if publishing the version to the cache fails.",
                hint=f"The default, {DEFAULTS['VERSION_TIMEOUT']}, suits most sites.",
                id="cors_policies.E011",
            )
        )
    messages.extend(check_observe_settings(value))
    return messages


def check_class_paths(value: dict[str, Any], key: str, example: str) -> list[CheckMessage]:
    """E008: a setting that names DRF classes must be a list of importable dotted paths (None: the default)."""
    classes = value.get(key, DEFAULTS[key])
    if classes is None and DEFAULTS[key] is None:
        return []
    if not isinstance(classes, (list, tuple)) or not all(isinstance(c, str) for c in classes):
        return [
            Error(
                f"CORS_POLICIES[{key!r}] is {classes!r}; it must be a list of dotted paths.",
                hint=f"The default is {DEFAULTS[key]!r}.",
                id="cors_policies.E008",
            )
        ]
    messages: list[CheckMessage] = []
    for path in classes:
        try:
            import_string(path)
        except ImportError as exc:
            messages.append(
                Error(
                    f"CORS_POLICIES[{key!r}] names {path!r}, which cannot be imported ({exc}).",
                    hint=f"Write the dotted path of a DRF class, such as {example!r}.",
                    id="cors_policies.E008",
                )
            )
    return messages


def check_observe_settings(value: dict[str, Any]) -> list[CheckMessage]:
    """E012/E013: the observed-origins settings (a wrong one would be logged and replaced by its default)."""
    messages: list[CheckMessage] = []
    mode = value.get("OBSERVE_FLUSH", DEFAULTS["OBSERVE_FLUSH"])
    if mode not in ("thread", "request", "manual"):
        messages.append(
            Error(
                f"CORS_POLICIES['OBSERVE_FLUSH'] is {mode!r}; it must be 'thread', 'request' or 'manual'.",
                hint="Use 'thread' (the default), or 'request' where the server runs no threads (uWSGI without "
                "--enable-threads).",
                id="cors_policies.E012",
            )
        )
    for key in ("OBSERVE_FLUSH_INTERVAL", "OBSERVE_RETENTION_DAYS"):
        number = value.get(key, DEFAULTS[key])
        if not is_seconds(number) or number < 0:
            messages.append(
                Error(
                    f"CORS_POLICIES[{key!r}] is {number!r}; it must be a number, 0 or more.",
                    hint=f"The default is {DEFAULTS[key]!r}.",
                    id="cors_policies.E013",
                )
            )
    rate = value.get("OBSERVE_SAMPLE_RATE", DEFAULTS["OBSERVE_SAMPLE_RATE"])
    if not is_seconds(rate) or not 0 <= rate <= 1:
        messages.append(
            Error(
                f"CORS_POLICIES['OBSERVE_SAMPLE_RATE'] is {rate!r}; it must be a fraction from 0 to 1.",
                hint="1.0 (the default) records every request; 0.1 records one in ten.",
                id="cors_policies.E013",
            )
        )
    for key in ("OBSERVE_MAX_KEYS", "OBSERVE_MAX_KEYS_PER_POLICY", "OBSERVE_MAX_ROWS"):
        count = value.get(key, DEFAULTS[key])
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            messages.append(
                Error(
                    f"CORS_POLICIES[{key!r}] is {count!r}; it must be a whole number, 0 or more.",
                    hint=f"The default is {DEFAULTS[key]!r}.",
                    id="cors_policies.E013",
                )
            )
    return messages


def is_seconds(value: Any) -> bool:
    """A finite int or float (not a bool): what the interval settings must be."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


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
    """W002: stored policies serving skips. A warning, not an error: ``migrate`` runs database checks
    and must not be blocked by a row the admin can fix."""
    messages: list[CheckMessage] = []
    for alias in databases or ():
        try:
            rows = list(CorsPolicy.objects.using(alias).values(*SPEC_FIELDS).order_by("id"))
        except DatabaseError:
            continue  # no table yet: migrate creates it
        for policy_id, name, reason in unservable(rows):
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
    return messages


@register(Tags.compatibility)
def check_protected_paths(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E020: PROTECTED_PATHS is a list of URL names and path prefixes (a wrong value protects nothing)."""
    value = getattr(settings, "CORS_POLICIES", {})
    entries = value.get("PROTECTED_PATHS", DEFAULTS["PROTECTED_PATHS"]) if isinstance(value, dict) else ()
    hint = (
        f"Write a list of URL names and path prefixes, such as {DEFAULTS['PROTECTED_PATHS'] + ['/internal/']!r} "
        "(the default protects the admin and this app's API), or [] to protect nothing."
    )
    if not isinstance(entries, (list, tuple)):
        return [Error(f"{PROTECTED_SETTING} is {entries!r}; it must be a list.", hint=hint, id="cors_policies.E020")]
    messages: list[CheckMessage] = []
    for entry in entries:
        if not is_valid_entry(entry):
            messages.append(
                Error(
                    f"{PROTECTED_SETTING} has {entry!r}, which is neither a URL name (such as 'admin:index') nor "
                    "a path prefix other than '/' (such as '/internal/').",
                    hint=hint,
                    id="cors_policies.E020",
                )
            )
    return messages
