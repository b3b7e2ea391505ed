"""What many test modules need, written once: a browser's requests, the admin's URLs, forms and messages, and API
clients for users with given permissions. (Fixtures are in conftest.py.)"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import Permission, User
from django.test import Client
from rest_framework.test import APIClient

from cors_policies.models import CorsPolicy

APP = "https://app.example.com"

# -- what a browser sends ----------------------------------------------------------------------------------


def preflight(
    client: Client, path: str, origin: str = APP, method: str = "PUT", *, request_headers: str = "", **meta: str
) -> Any:
    """``OPTIONS path`` as a browser's preflight: Origin, Access-Control-Request-Method and, when given,
    Access-Control-Request-Headers; ``meta`` adds other headers as Django META keys (``HTTP_...``)."""
    if request_headers:
        meta["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = request_headers
    return client.options(path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method, **meta)


def access_control(response: Any) -> dict[str, str]:
    """The ``Access-Control-*`` headers of a response."""
    return {name: value for name, value in response.items() if name.startswith("Access-Control-")}


# -- the admin ------------------------------------------------------------------------------------------

POLICIES_URL = "/admin/cors_policies/corspolicy/"
ADD_URL = f"{POLICIES_URL}add/"
TESTER_URL = f"{POLICIES_URL}test/"
OBSERVED_URL = "/admin/cors_policies/observedorigin/"


def change_url(policy: CorsPolicy) -> str:
    return f"{POLICIES_URL}{policy.pk}/change/"


def row_names(html: str) -> list[str]:
    """The policy names of a changelist page, in order."""
    return re.findall(r'<th class="field-name"><a href="[^"]*">([^<]*)</a></th>', html)


def cells(html: str, column: str) -> list[str]:
    """The cells of one column of a changelist page, in order."""
    return re.findall(rf'<td class="field-{column}">(.*?)</td>', html, re.DOTALL)


def headers_in(html: str) -> list[tuple[str, str]]:
    """The (name, value) rows of a page's table of response headers (the tester, the change page's preview)."""
    return re.findall(r'<tr[^>]*><th scope="row"><code>([^<]*)</code></th><td><code>([^<]*)</code>', html)


def form_data(**overrides: Any) -> dict[str, Any]:
    """The policy form as the admin posts it; ``None`` leaves a field out."""
    data: dict[str, Any] = {
        "name": "partners",
        "description": "",
        "path_pattern": "/api/**",
        "priority": "0",
        "enabled": "on",
        "allowed_origins": APP,
        "allowed_origin_regexes": "",
        "allowed_methods": ["GET", "PUT"],
        "other_methods": "",
        "allowed_headers": "Content-Type",
        "expose_headers": "",
        "max_age": "",
        "_save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def shown_messages(response: Any) -> list[tuple[str, str]]:
    """The messages a page shows: (level, text), level as Django's tag ("success", "error"...)."""
    return [(message.level_tag, message.message) for message in response.context["messages"]]


# -- the REST API -----------------------------------------------------------------------------------------


def make_user(username: str, *actions: str, superuser: bool = False) -> Any:
    """A user with the given model permissions on CORS policies ("view", "add", "change", "delete")."""
    # No password: these clients authenticate without one.
    if superuser:
        return User.objects.create_superuser(username, f"{username}@example.com", None)
    user = User.objects.create_user(username, f"{username}@example.com", None)
    codenames = [f"{action}_corspolicy" for action in actions]
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="cors_policies", codename__in=codenames)
    )
    return user


def client_for(user: Any) -> APIClient:
    """An API client authenticated as ``user`` (None: anonymous)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
