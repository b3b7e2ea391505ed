"""Path edge cases through the Django test client and the middleware: a policy's pattern applies to exactly
the paths Django routes to the view it was written for.

Both sides read the same string, ``request.path_info`` (percent-decoded by the server, without SCRIPT_NAME,
dot segments and double slashes left as sent), so ``..``, ``.``, ``//``, ``%2F``, ``%2e``, ``+``, trailing
slashes, case and a mount prefix cannot make them disagree. Each policy below exposes a header named after
itself, so every response says which policy applied; each view records its name, so the test knows where
Django routed the request. This module is its own URLconf.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client
from django.test.utils import override_settings
from django.urls import Resolver404, path, resolve

ORIGIN = "https://app.example.com"
routed: list[str] = []


def view(name: str) -> Callable[..., HttpResponse]:
    def handle(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        routed.append(name)
        return JsonResponse({"view": name, "path_info": request.path_info, **kwargs})

    handle.view_name = name  # type: ignore[attr-defined]
    return handle


urlpatterns = [
    path("api/public/<path:rest>", view("public")),
    path("api/profile/", view("profile")),
    path("files/<str:name>", view("files")),
    path("Case/", view("case")),
    path("health", view("health")),
    path("café/", view("cafe")),
]

#: The policy written for each view: its pattern covers exactly that view's route.
POLICY_FOR = {
    "public": "/api/public/**",
    "profile": "/api/profile/**",
    "files": "/files/*",
    "case": "/Case/**",
    "health": "/health",
    "cafe": "/café/**",
}

pytestmark = [pytest.mark.urls("tests.test_paths"), pytest.mark.django_db]


@pytest.fixture
def policies(make_policy: Callable[..., Any]) -> None:
    for name, pattern in POLICY_FOR.items():
        make_policy(
            name=name,
            path_pattern=pattern,
            allowed_origins=[ORIGIN],
            allowed_methods=["GET", "PUT"],
            expose_headers=[f"X-Policy-{name}"],
        )


def applied_policy(response: HttpResponse) -> str | None:
    exposed = response.headers.get("Access-Control-Expose-Headers")
    return exposed.removeprefix("X-Policy-") if exposed else None


def routed_view(path_info: str) -> str | None:
    try:
        return getattr(resolve(path_info).func, "view_name", None)
    except Resolver404:
        return None


def fetch(client: Client, url: str, **extra: Any) -> tuple[HttpResponse, str | None]:
    routed.clear()
    if url.startswith("//"):  # the test client would read "//api/..." as a host name: send the raw path
        extra["PATH_INFO"] = url
    response = client.get(url, HTTP_ORIGIN=ORIGIN, **extra)
    assert response.status_code != 500
    assert len(routed) <= 1
    return response, routed[0] if routed else None


TRICKY_PATHS = [
    # (what the client sends, the view Django routes it to, or None)
    ("/api/public/x", "public"),
    ("/api/public/../profile/", "public"),  # Django does not resolve dot segments: the public route takes it
    ("/api/public/%2e%2e/profile/", "public"),  # %2e is decoded to '.', and still not resolved
    ("/api/public/./x", "public"),
    ("/api/public/%2Fx", "public"),  # %2F is decoded to '/' before routing and matching alike
    ("/api/public//x", "public"),
    ("/api/public/x+y", "public"),
    ("/api/profile/", "profile"),
    ("/api/profile/.", None),
    ("/api/profile/..", None),
    ("/api//profile/", None),
    ("//api/profile/", None),
    ("/api/PROFILE/", None),  # routes are case-sensitive, and so are patterns
    ("/API/profile/", None),
    ("/api/profile/%00", None),
    ("/files/a+b", "files"),  # '+' is a plus in a path, never a space
    ("/files/a%20b", "files"),
    ("/files/a%2Fb", None),  # decoded to /files/a/b: two segments, no route, and '*' is one segment
    ("/files/a%0Ab", "files"),  # a newline is part of the segment for both
    ("/files/", None),  # '*' is one non-empty segment, like <str:>
    ("/health", "health"),
    ("/health/", None),
    ("/Health", None),
    ("/Case/", "case"),
    ("/case/", None),
    ("/caf%C3%A9/", "cafe"),  # UTF-8 percent-encoding is decoded for both
    ("/CAF%C3%89/", None),
    ("/caf%E9/", None),  # not UTF-8: Django keeps it percent-encoded
    ("/%FF", None),
]


@pytest.mark.parametrize(("url", "view_name"), TRICKY_PATHS)
def test_a_policy_applies_exactly_where_django_routes_to_its_view(
    client: Client, policies: None, url: str, view_name: str | None
) -> None:
    response, handled_by = fetch(client, url)
    assert handled_by == view_name
    if url.startswith("//"):
        assert response.wsgi_request.path_info == url
    policy = applied_policy(response)
    if view_name is not None:
        assert policy == view_name
        assert response["Access-Control-Allow-Origin"] == ORIGIN
        return
    # Routed nowhere: whatever answered (404, or a redirect) shows no view's data. A policy that covers it
    # must be the one of the view the redirect leads to, so a browser can follow it.
    assert response.status_code in (301, 404), response.status_code
    if response.status_code == 301:
        assert policy == routed_view(urlsplit(response["Location"]).path)
    elif policy is not None:
        assert routed_view(response.wsgi_request.path_info) is None


def test_a_missing_trailing_slash_is_redirected_under_the_same_policy(client: Client, policies: None) -> None:
    """``/api/profile/**`` covers ``/api/profile`` too, so the redirect to ``/api/profile/`` carries the CORS
    headers a browser needs to follow it, and a preflight there is answered rather than redirected."""
    response, handled_by = fetch(client, "/api/profile")
    assert (response.status_code, response["Location"], handled_by) == (301, "/api/profile/", None)
    assert applied_policy(response) == "profile"
    preflight = client.options("/api/profile", HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT")
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    assert routed == []


@pytest.mark.parametrize("url", ["/api/public/../profile/", "/api/public/%2e%2e/profile/"])
def test_dot_segments_cannot_borrow_another_policy(client: Client, make_policy: Callable[..., Any], url: str) -> None:
    """The classic bypass: a permissive policy on /api/public/** and a strict one on /api/profile/**. A path
    that climbs out of /api/public/ is not routed to the profile view, so the permissive answer never
    reaches the profile's data."""
    make_policy(name="public", path_pattern="/api/public/**", allowed_origins=["*"], allowed_methods=["GET"])
    make_policy(name="profile", path_pattern="/api/profile/**", allowed_origins=[ORIGIN], allow_credentials=True)
    response, handled_by = fetch(client, url)
    assert handled_by == "public"
    assert response.json()["path_info"] == "/api/public/../profile/"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_script_name_is_not_part_of_the_matched_path(client: Client, policies: None, make_policy: Any) -> None:
    """Mounted under a prefix, Django routes ``path_info`` (without SCRIPT_NAME), and so do policies: a
    pattern is written as the URLconf's paths are, without the prefix."""
    make_policy(name="prefixed", path_pattern="/app/api/profile/**", allowed_origins=[ORIGIN], priority=50)
    response, handled_by = fetch(client, "/api/profile/", SCRIPT_NAME="/app")
    assert handled_by == "profile"
    assert response.wsgi_request.path == "/app/api/profile/"
    assert applied_policy(response) == "profile"


def test_force_script_name_is_not_part_of_the_matched_path(client: Client, policies: None) -> None:
    with override_settings(FORCE_SCRIPT_NAME="/mounted"):
        response, handled_by = fetch(client, "/files/a+b")
    assert handled_by == "files"
    assert response.wsgi_request.path == "/mounted/files/a+b"
    assert applied_policy(response) == "files"


def test_a_percent_encoded_pattern_matches_nothing(client: Client, make_policy: Callable[..., Any]) -> None:
    """Patterns are matched after decoding, as routes are: ``/files/a%20b`` is never a request's path."""
    make_policy(name="encoded", path_pattern="/files/a%20b", allowed_origins=[ORIGIN], expose_headers=["X-Policy-e"])
    response, handled_by = fetch(client, "/files/a%20b")
    assert handled_by == "files"
    assert "Access-Control-Allow-Origin" not in response
