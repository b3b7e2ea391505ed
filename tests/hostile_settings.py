"""The suite's settings with DRF defaults that would break or open an app relying on them.

Read at import, as a real project's are: tests/test_api_any_project.py loads them in a fresh process, so
class attributes DRF and drf-spectacular fill in at import (renderers, parsers, the schema class that
``extend_schema`` builds on) take these values.
"""

from __future__ import annotations

from typing import Any

from tests.settings import *  # noqa: F403

HOSTILE_REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],  # would open the API to anyone
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 1,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.StaticHTMLRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.FormParser"],
    "DEFAULT_SCHEMA_CLASS": "rest_framework.schemas.openapi.AutoSchema",  # DRF's own: what a new project has
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.QueryParameterVersioning",
    "ALLOWED_VERSIONS": ["2"],
    "DEFAULT_FILTER_BACKENDS": ["rest_framework.filters.OrderingFilter"],
    "EXCEPTION_HANDLER": "tests.hostile_settings.teapot",
    "DEFAULT_METADATA_CLASS": None,
}
HOSTILE_SPECTACULAR: dict[str, Any] = {
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "https://cdn.invalid/swagger-ui",
    "SERVE_URLCONF": "tests.no_such_urls",
}

REST_FRAMEWORK = HOSTILE_REST_FRAMEWORK
SPECTACULAR_SETTINGS = HOSTILE_SPECTACULAR
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CORS_POLICIES = {"REFRESH_INTERVAL": 1.0, "OBSERVE_FLUSH": "manual"}


def teapot(exc: Exception, context: dict[str, Any]) -> Any:
    """A project's exception handler that answers every error its own way."""
    from rest_framework.response import Response

    return Response({"teapot": str(exc)}, status=418)
