"""``manage.py demo_setup``: the demo's policies and its admin user, created only where missing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

ADMIN_URL = "http://127.0.0.1:8000/admin/"
DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105  (the demo's well-known login, printed on purpose)
LOGIN_LINE = f"Admin: {ADMIN_URL}  login: {DEMO_USERNAME} / {DEMO_PASSWORD}"
#: The demo server's two names on any port: the playground on one calls the other (a regex, so any port works).
PLAYGROUND_ORIGINS = r"http://(localhost|127\.0\.0\.1):[0-9]{1,5}"

DEMO_POLICIES: list[dict[str, Any]] = [
    {
        "name": "public-api",
        "description": "Anyone may read and edit the demo's public items, without cookies.",
        "path_pattern": "/api/public/**",
        "priority": 0,
        "enabled": True,
        "allowed_origins": ["*"],
        "allowed_origin_regexes": [],
        "allowed_methods": ["GET", "PUT", "PATCH", "DELETE"],
        "allowed_headers": ["Content-Type", "X-Requested-With"],
        "expose_headers": ["X-Total-Count"],
        "allow_credentials": False,
        "max_age": 600,
        "allow_private_network": False,
    },
    {
        "name": "profile",
        "description": "Local front ends may read the logged-in user's profile with the session cookie.",
        "path_pattern": "/api/profile/**",
        "priority": 10,
        "enabled": True,
        "allowed_origins": ["http://localhost:8000", "http://127.0.0.1:3000", "http://localhost:3000"],
        "allowed_origin_regexes": [],
        "allowed_methods": ["GET"],
        "allowed_headers": ["Content-Type", "X-CSRFToken"],
        "expose_headers": [],
        "allow_credentials": True,
        "max_age": 600,
        "allow_private_network": False,
    },
    {
        "name": "health",
        "description": "Any page may check that the service is up.",
        "path_pattern": "/health",
        "priority": 0,
        "enabled": True,
        "allowed_origins": ["*"],
        "allowed_origin_regexes": [],
        "allowed_methods": ["GET"],
        "allowed_headers": [],
        "expose_headers": [],
        "allow_credentials": False,
        "max_age": None,
        "allow_private_network": False,
    },
    {
        "name": "echo",
        "description": "The playground's echo: the demo's own two origins, any method, any header but Authorization.",
        "path_pattern": "/api/echo/**",
        "priority": 0,
        "enabled": True,
        "allowed_origins": [],
        "allowed_origin_regexes": [PLAYGROUND_ORIGINS],
        "allowed_methods": ["*"],
        "allowed_headers": ["*"],
        "expose_headers": ["X-Request-Id"],
        "allow_credentials": False,
        "max_age": 60,
        "allow_private_network": False,
    },
    {
        "name": "echo-auth",
        "description": "The playground's echo that takes Authorization, listed explicitly as it must be.",
        "path_pattern": "/api/echo/auth/**",
        "priority": 0,
        "enabled": True,
        "allowed_origins": [],
        "allowed_origin_regexes": [PLAYGROUND_ORIGINS],
        "allowed_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "allowed_headers": ["Authorization", "Content-Type"],
        "expose_headers": ["X-Request-Id"],
        "allow_credentials": True,
        "max_age": 60,
        "allow_private_network": False,
    },
    {
        "name": "public-api-tightened",
        "description": (
            "Report-only: public-api for the demo's own origins instead of *, and without DELETE. "
            "Observed origins shows whom enforcing it would break."
        ),
        "path_pattern": "/api/public/**",
        "priority": 0,
        "enabled": True,
        "report_only": True,
        "allowed_origins": ["http://localhost:8000", "http://127.0.0.1:8000"],
        "allowed_origin_regexes": [],
        "allowed_methods": ["GET", "PUT", "PATCH"],
        "allowed_headers": ["Content-Type", "X-Requested-With"],
        "expose_headers": ["X-Total-Count"],
        "allow_credentials": False,
        "max_age": 600,
        "allow_private_network": False,
    },
]


class Command(BaseCommand):
    help = "Create the demo's CORS policies and its admin user (admin / admin) where missing. Safe to re-run."

    def handle(self, *args: Any, **options: Any) -> None:
        from cors_policies.models import CorsPolicy

        with transaction.atomic():
            for spec in DEMO_POLICIES:
                defaults = {key: value for key, value in spec.items() if key != "name"}
                policy, created = CorsPolicy.objects.get_or_create(name=spec["name"], defaults=defaults)
                if created:
                    self.stdout.write(f"Created policy {policy.name!r} for {policy.path_pattern}")
                else:
                    self.stdout.write(f"Policy {policy.name!r} already exists: left as it is")

            user_model = get_user_model()
            if user_model._default_manager.filter(**{user_model.USERNAME_FIELD: DEMO_USERNAME}).exists():
                self.stdout.write(f"User {DEMO_USERNAME!r} already exists: left as it is")
            else:
                user_model._default_manager.db_manager().create_superuser(
                    DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD
                )
                self.stdout.write(
                    f"Created superuser {DEMO_USERNAME!r} with password {DEMO_PASSWORD!r}: "
                    "for the demo only, never on a real site."
                )

        self.stdout.write(self.style.SUCCESS(LOGIN_LINE))
        self.stdout.write("That login is for the demo only: never create it on a site anyone else can reach.")
