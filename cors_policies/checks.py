"""System checks: each misconfiguration has a stable ID (cors_policies.E001...), tested by ID."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from .conf import DEFAULTS

MIDDLEWARE_PATH = "cors_policies.middleware.CorsPolicyMiddleware"
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
    position = middleware.index(MIDDLEWARE_PATH)
    above = [name for name in middleware[:position] if name in ANSWERS_FIRST]
    if above:
        return [
            Error(
                f"CorsPolicyMiddleware is below {', '.join(above)}, which can answer a request (a redirect, "
                "a 403) before CORS headers are added, so browsers block that answer.",
                hint="Move CorsPolicyMiddleware above it, ideally first in MIDDLEWARE.",
                id="cors_policies.E002",
            )
        ]
    return []


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
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0:
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
    classes = value.get("API_PERMISSION_CLASSES", DEFAULTS["API_PERMISSION_CLASSES"])
    if not isinstance(classes, (list, tuple)) or not all(isinstance(c, str) for c in classes):
        messages.append(
            Error(
                f"CORS_POLICIES['API_PERMISSION_CLASSES'] is {classes!r}; it must be a list of dotted paths.",
                hint=f"The default is {DEFAULTS['API_PERMISSION_CLASSES']!r}.",
                id="cors_policies.E008",
            )
        )
    else:
        for path in classes:
            try:
                import_string(path)
            except ImportError as exc:
                messages.append(
                    Error(
                        f"CORS_POLICIES['API_PERMISSION_CLASSES'] names {path!r}, which cannot be imported ({exc}).",
                        hint="Write the dotted path of a DRF permission class, such as "
                        "'rest_framework.permissions.IsAdminUser'.",
                        id="cors_policies.E008",
                    )
                )
    caches = getattr(settings, "CACHES", {}) or {}
    alias = value.get("CACHE_ALIAS", DEFAULTS["CACHE_ALIAS"])
    if caches and alias not in caches:
        messages.append(
            Error(
                f"CORS_POLICIES['CACHE_ALIAS'] is {alias!r}, which is not in CACHES.",
                hint=f"Use one of: {', '.join(sorted(caches))}.",
                id="cors_policies.E007",
            )
        )
    return messages
