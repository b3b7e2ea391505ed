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
