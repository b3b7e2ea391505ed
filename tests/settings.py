"""The test suite's own settings: the app, what it needs, and nothing of the demo's.

``DJANGO_SETTINGS_MODULE`` in pyproject.toml. A project that installs cors_policies looks like this: the admin,
Django REST framework with drf-spectacular, the middleware first, and no ``REST_FRAMEWORK`` defaults (the API must
not rely on any). The URLconf (``tests.root_urls``) mounts the admin, the API and the suite's counting views.
Tests of the demo project say so (the ``demo`` fixture of tests/helpers.py switches to its apps, middleware and
URLs); processes started by tests choose their settings themselves.

``DATABASE_URL`` and ``REDIS_URL`` select PostgreSQL and Redis as in the demo; without them: an in-memory SQLite
database and a local-memory cache.
"""

from __future__ import annotations

import os

from testproject.settings import parse_database_url  # the one parser of DATABASE_URL

SECRET_KEY = "tests-only-secret-key-never-used-anywhere-else"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1", "[::1]", ".test"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "cors_policies",
]

MIDDLEWARE = [
    "cors_policies.middleware.CorsPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.root_urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database_url = os.environ.get("DATABASE_URL", "").strip()
DATABASES = {
    "default": parse_database_url(_database_url)
    if _database_url
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
}

_redis_url = os.environ.get("REDIS_URL", "").strip()
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}
    if _redis_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cors-policies-tests"}
}

# Hashing a password properly costs a quarter of a second; no test needs that.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
STATIC_URL = "static/"

CORS_POLICIES: dict[str, object] = {}
