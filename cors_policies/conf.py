"""Settings: one namespaced dict ``CORS_POLICIES``, read live so ``override_settings`` works.

Defaults (every key optional)::

    CORS_POLICIES = {
        "CACHE_ALIAS": "default",      # Django cache that carries the shared policy version
        "CACHE_KEY_PREFIX": "cors_policies",
        "VERSION_TIMEOUT": 60,         # seconds the cached version lives; bounds any publish race
        "REFRESH_INTERVAL": 1.0,       # seconds between version checks in each process
        "PREFLIGHT_STATUS": 200,       # status of preflight answers (200 or 204)
        # Who may use the REST API (cors_policies.api): DRF permission classes as dotted paths. The
        # default requires the Django model permissions on CorsPolicy (view for reading and evaluate,
        # add/change/delete for writes, add+change(+delete with prune) for import).
        "API_PERMISSION_CLASSES": ["cors_policies.api.permissions.CorsPolicyPermissions"],
        # How the REST API authenticates: DRF authentication classes as dotted paths. None (the default):
        # tokens when rest_framework.authtoken is installed, then the session. The project's REST_FRAMEWORK
        # defaults are not used, so they cannot open or break the API.
        "API_AUTHENTICATION_CLASSES": None,
        # True: anyone may read the OpenAPI schema and its Swagger UI page; False (the default): they need
        # what the API needs (authenticated, view permission on CORS policies).
        "PUBLIC_SCHEMA": False,
        # Paths no policy decorates or preflights (cors_policies.protected): URL names, reversed ("admin:index"
        # -> /admin/), and path prefixes ("/internal/"), each covering every path below it. [] protects none.
        "PROTECTED_PATHS": ["admin:index", "cors_policies_api:root"],
        # Observed origins (cors_policies.observed): counted in memory, written every interval.
        "OBSERVE": True,               # False: record nothing (logging and the cors_decision signal remain)
        "OBSERVE_FLUSH": "thread",     # who writes: "thread" (a background thread per process), "request"
                                       # (the first request after each interval; for servers that run no
                                       # threads, such as uWSGI without --enable-threads) or "manual"
                                       # (only cors_policies.observed.recorder.flush(): tests, own scheduler)
        "OBSERVE_FLUSH_INTERVAL": 5.0, # seconds between writes in each process (at most one write per interval)
        "OBSERVE_SAMPLE_RATE": 1.0,    # fraction of requests recorded; counts are scaled up (estimates if < 1)
        "OBSERVE_MAX_KEYS": 2000,      # distinct (policy, origin, verdict, reason) per verdict, interval and
                                       # process (allowed and refused origins each have this much room)
        "OBSERVE_MAX_KEYS_PER_POLICY": 200,  # ... and per policy and verdict: a flood of distinct origins on one
                                       # policy cannot take another's room. Where there is none, a new origin
                                       # replaces the oldest one seen only once; requests without room are
                                       # counted per policy (the row with an empty origin), not by origin
        "OBSERVE_MAX_ROWS": 100000,    # the table is trimmed to the most recently seen rows beyond this
        "OBSERVE_RETENTION_DAYS": 30,  # rows not seen for this long are deleted (also: cors_cleanup_observed)
    }
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "CACHE_ALIAS": "default",
    "CACHE_KEY_PREFIX": "cors_policies",
    "VERSION_TIMEOUT": 60,
    "REFRESH_INTERVAL": 1.0,
    "PREFLIGHT_STATUS": 200,
    "API_PERMISSION_CLASSES": ["cors_policies.api.permissions.CorsPolicyPermissions"],
    "API_AUTHENTICATION_CLASSES": None,
    "PUBLIC_SCHEMA": False,
    "PROTECTED_PATHS": ["admin:index", "cors_policies_api:root"],
    "OBSERVE": True,
    "OBSERVE_FLUSH": "thread",
    "OBSERVE_FLUSH_INTERVAL": 5.0,
    "OBSERVE_SAMPLE_RATE": 1.0,
    "OBSERVE_MAX_KEYS": 2000,
    "OBSERVE_MAX_KEYS_PER_POLICY": 200,
    "OBSERVE_MAX_ROWS": 100_000,
    "OBSERVE_RETENTION_DAYS": 30,
}


class Settings:
    """Attribute access to ``CORS_POLICIES`` with defaults; unknown names raise AttributeError."""

    def _user(self) -> dict[str, Any]:
        value = getattr(settings, "CORS_POLICIES", None)
        return value if isinstance(value, dict) else {}

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"CORS_POLICIES has no setting {name!r}; known: {', '.join(sorted(DEFAULTS))}")
        return self._user().get(name, DEFAULTS[name])


conf = Settings()
