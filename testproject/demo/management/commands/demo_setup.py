"""``manage.py demo_setup [ADDRESS]``: the demo's policies and its admin user, created only where missing.

Two policies list the demo's own origins, ``http://localhost:PORT`` (the playground's credentials example) and
``http://127.0.0.1:PORT``: they follow the port the demo is served on. ``demo_setup 8001`` (any address
``runserver`` takes) writes them for that port, and the demo's ``runserver`` does the same with the port it
actually bound, then prints the addresses it serves. A policy whose origins someone edited is left alone.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.core.management.commands.runserver import naiveip_re
from django.db import transaction

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105  (the demo's well-known login, printed on purpose)
#: The demo server's two names on any port: the playground on one calls the other (a regex, so any port works).
PLAYGROUND_ORIGINS = r"http://(localhost|127\.0\.0\.1):[0-9]{1,5}"
#: Bind addresses that mean "every interface": a browser on this machine reaches them as 127.0.0.1.
ANY_ADDRESS = {"", "0", "0.0.0.0", "::"}  # noqa: S104  (names, compared with what runserver was given)


def own_origins(port: int) -> dict[str, list[str]]:
    """The allowed origins of the policies that name the demo's own origins, for the demo served on ``port``."""
    return {
        "profile": [f"http://localhost:{port}", "http://127.0.0.1:3000", "http://localhost:3000"],
        "public-api-tightened": [f"http://localhost:{port}", f"http://127.0.0.1:{port}"],
    }


def demo_policies(port: int = DEFAULT_PORT) -> list[dict[str, Any]]:
    """The demo's policies, their own origins on ``port``."""
    origins = own_origins(port)
    return [
        {**spec, "allowed_origins": origins[spec["name"]]} if spec["name"] in origins else spec
        for spec in _DEMO_POLICIES
    ]


def parse_address(addrport: str) -> tuple[str, int]:
    """``8001``, ``127.0.0.1:8001``, ``localhost:8001`` or ``[::1]:8001``, as runserver reads them."""
    match = re.match(naiveip_re, addrport)
    if match is None or not match["port"].isdigit() or not 0 < int(match["port"]) < 65536:
        raise CommandError(
            f"{addrport!r} is not an address the demo can be served on: write a port (8001) or an address and "
            "a port (127.0.0.1:8001), as for runserver."
        )
    return match["addr"] or DEFAULT_HOST, int(match["port"])


def address_lines(host: str, port: int) -> list[str]:
    """What to open, for a server bound to ``host:port``."""
    shown = DEFAULT_HOST if host in ANY_ADDRESS else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"  # an IPv6 address
    base = f"http://{shown}:{port}"
    return [
        f"Admin: {base}/admin/  login: {DEMO_USERNAME} / {DEMO_PASSWORD}",
        f"CORS playground: {base}/playground/ (it calls the same server under its other name)",
    ]


def follow_port(port: int, stdout: OutputWrapper) -> None:
    """Point the demo's own origins at ``port`` in the policies that still list them as demo_setup wrote them.

    A policy is followed only when its origins are exactly the demo's for some port, so an edit made in the
    admin survives; one that is left alone says what the playground needs.
    """
    from cors_policies.models import CorsPolicy

    wanted = own_origins(port)
    with transaction.atomic():
        for policy in CorsPolicy.objects.filter(name__in=wanted).select_for_update().order_by("name"):
            current = [str(origin) for origin in policy.allowed_origins or []]
            target = wanted[policy.name]
            if current == target:
                continue
            ports = {int(found) for origin in current for found in re.findall(r":(\d{1,5})$", origin)}
            if not any(current == own_origins(old)[policy.name] for old in ports):
                stdout.write(
                    f"Policy {policy.name!r} was edited: its origins are left as they are (the demo served on port "
                    f"{port} would list {target[0]} there)."
                )
                continue
            policy.allowed_origins = target
            policy.full_clean()
            policy.save()
            stdout.write(
                f"Policy {policy.name!r} now allows the demo's own origins on port {port}: {', '.join(target)}"
            )


#: The demo's policies, with the own origins filled in by demo_policies().
_DEMO_POLICIES: list[dict[str, Any]] = [
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
        "allowed_origins": [],  # own_origins()
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
        "description": (
            "The playground's echo: the demo's own two origins, any method, any header but Authorization; "
            "Timing-Allow-Origin lets the page read the detailed resource timing."
        ),
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
        "timing_allow_origin": True,
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
        "name": "orders",
        "description": (
            "A front end on port 3000 may post orders with the session cookie and the CSRF token: the policy is "
            "CSRF-trusted, so Django's CSRF check accepts those origins without CSRF_TRUSTED_ORIGINS."
        ),
        "path_pattern": "/api/orders/**",
        "priority": 0,
        "enabled": True,
        "allowed_origins": ["http://localhost:3000", "http://127.0.0.1:3000"],
        "allowed_origin_regexes": [],
        "allowed_methods": ["GET", "POST"],
        "allowed_headers": ["Content-Type", "X-CSRFToken"],
        "expose_headers": [],
        "allow_credentials": True,
        "max_age": 600,
        "allow_private_network": False,
        "csrf_trusted": True,
        "timing_allow_origin": True,
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
        "allowed_origins": [],  # own_origins()
        "allowed_origin_regexes": [],
        "allowed_methods": ["GET", "PUT", "PATCH"],
        "allowed_headers": ["Content-Type", "X-Requested-With"],
        "expose_headers": ["X-Total-Count"],
        "allow_credentials": False,
        "max_age": 600,
        "allow_private_network": False,
    },
]


#: The demo's policies for the demo served on port 8000.
DEMO_POLICIES = demo_policies()


class Command(BaseCommand):
    help = (
        "Create the demo's CORS policies and its admin user (admin / admin) where missing. Safe to re-run. "
        "With an address, the demo's own origins follow its port and the admin's address is printed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "address", nargs="?", help="where the demo is served, as for runserver: 8001 or 127.0.0.1:8001"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from cors_policies.models import CorsPolicy

        address = parse_address(options["address"]) if options["address"] else None
        port = address[1] if address else DEFAULT_PORT
        with transaction.atomic():
            for spec in demo_policies(port):
                defaults = {key: value for key, value in spec.items() if key != "name"}
                policy, created = CorsPolicy.objects.get_or_create(name=spec["name"], defaults=defaults)
                if created:
                    self.stdout.write(f"Created policy {policy.name!r} for {policy.path_pattern}")
                else:
                    self.stdout.write(f"Policy {policy.name!r} already exists: left as it is")
            if address:
                follow_port(port, self.stdout)

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

        if address:
            for line in address_lines(*address):
                self.stdout.write(self.style.SUCCESS(line))
        else:
            self.stdout.write(self.style.SUCCESS(f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}"))
            self.stdout.write("The demo's runserver prints the admin's address once it serves.")
        self.stdout.write("That login is for the demo only: never create it on a site anyone else can reach.")
