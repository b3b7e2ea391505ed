"""django-cors-headers and cors_policies side by side: the same browser verdicts, except where listed.

For each django-cors-headers configuration below, ``cors_import_settings`` creates the policy, then every
fetch of the table goes through a project running django-cors-headers' middleware and through the same
project with ``CorsPolicyMiddleware`` instead (the one-line swap). A reference browser, written from the
Fetch standard's CORS check and CORS-preflight fetch, reads each middleware's response headers and says
whether the page gets its response and which response headers it may read. The verdicts must be equal,
except for the cells of ``DIFFERENCES``, each a deliberate difference the migration guide (docs/migrating.md) lists
(by the same label); a difference that disappears fails the test too, so the table stays true.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import re_path

from cors_policies.models import CorsPolicy

pytestmark = pytest.mark.django_db

CORSHEADERS = "corsheaders.middleware.CorsMiddleware"
OURS = "cors_policies.middleware.CorsPolicyMiddleware"


def view(request: HttpRequest) -> HttpResponse:
    """Every path: a JSON body with a header a page might want to read."""
    response = HttpResponse(b"{}", content_type="application/json")
    response["X-Total-Count"] = "3"
    return response


urlpatterns = [re_path(r"^.*$", view)]


# --------------------------------------------------------------------------------------------------
# A reference browser (https://fetch.spec.whatwg.org/#http-cors-protocol)
# --------------------------------------------------------------------------------------------------

SAFELISTED_METHODS = {"GET", "HEAD", "POST"}
SAFELISTED_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
#: Response headers a page may always read (CORS-safelisted response-header names).
SAFELISTED_RESPONSE = frozenset(
    {"cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma"}
)


@dataclass(frozen=True)
class Fetch:
    """What a page does: ``fetch(path, {method, headers, credentials})`` from ``origin``."""

    origin: str
    method: str = "GET"
    path: str = "/api/items"
    headers: dict[str, str] = field(default_factory=dict)
    credentials: bool = False
    private_network: bool = False

    def unsafe_header_names(self) -> list[str]:
        """The request headers that are not CORS-safelisted, as the preflight lists them: lower case, sorted."""
        names = []
        for name, value in self.headers.items():
            lower = name.lower()
            if lower in ("accept", "accept-language", "content-language") and len(value) <= 128:
                continue
            if lower == "content-type" and value.split(";")[0].strip().lower() in SAFELISTED_CONTENT_TYPES:
                continue
            names.append(lower)
        return sorted(names)

    def needs_preflight(self) -> bool:
        return self.method not in SAFELISTED_METHODS or bool(self.unsafe_header_names()) or self.private_network


def parse_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def cors_check(fetch: Fetch, headers: Any) -> str | None:
    """The CORS check: None when it passes, else why not."""
    allow_origin = headers.get("Access-Control-Allow-Origin")
    if allow_origin is None:
        return "no Access-Control-Allow-Origin"
    if allow_origin == "*" and not fetch.credentials:
        return None
    if allow_origin != fetch.origin:
        return f"Access-Control-Allow-Origin {allow_origin!r} is not the origin"
    if fetch.credentials and headers.get("Access-Control-Allow-Credentials") != "true":
        return "credentials without Access-Control-Allow-Credentials: true"
    return None


def preflight_check(fetch: Fetch, status: int, headers: Any) -> str | None:
    """The CORS-preflight fetch's checks on the preflight's response: None when it passes."""
    if not 200 <= status <= 299:
        return f"preflight status {status}"
    failure = cors_check(fetch, headers)
    if failure:
        return failure
    if fetch.private_network and headers.get("Access-Control-Allow-Private-Network") != "true":
        return "no Access-Control-Allow-Private-Network: true"
    methods = parse_list(headers.get("Access-Control-Allow-Methods"))
    wildcard = not fetch.credentials
    if fetch.method not in methods and fetch.method not in SAFELISTED_METHODS and not (wildcard and "*" in methods):
        return f"method {fetch.method} not allowed"
    allowed = {name.lower() for name in parse_list(headers.get("Access-Control-Allow-Headers"))}
    for name in fetch.unsafe_header_names():
        if name in allowed:
            continue
        # '*' is a wildcard only without credentials, and never for Authorization.
        if wildcard and "*" in allowed and name != "authorization":
            continue
        return f"header {name} not allowed"
    return None


def exposed(fetch: Fetch, headers: Any) -> frozenset[str]:
    """The response headers the page may read."""
    names = {name.lower() for name in parse_list(headers.get("Access-Control-Expose-Headers"))}
    present = {name.lower() for name in headers}
    if "*" in names and not fetch.credentials:
        names = present - {"set-cookie", "set-cookie2"}
    return frozenset((names | SAFELISTED_RESPONSE) & present)


@dataclass(frozen=True)
class Verdict:
    """What the page sees: whether it gets the response, and which response headers it may read. ``why``
    (the first failed check) is for people: two refusals for different reasons are the same verdict."""

    outcome: str  # "allowed", "blocked by the preflight", "blocked"
    readable: frozenset[str] = frozenset()
    why: str = field(default="", compare=False)

    def __str__(self) -> str:
        if self.outcome == "allowed":
            return f"allowed, reads {', '.join(sorted(self.readable))}"
        return f"{self.outcome}: {self.why}"


def browser(fetch: Fetch) -> Verdict:
    """Run ``fetch`` as a browser would against the project as configured now."""
    client = Client()
    if fetch.needs_preflight():
        extra = {"HTTP_ORIGIN": fetch.origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": fetch.method}
        if fetch.unsafe_header_names():
            extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = ",".join(fetch.unsafe_header_names())
        if fetch.private_network:
            extra["HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"] = "true"
        response = client.options(fetch.path, **extra)
        failure = preflight_check(fetch, response.status_code, response.headers)
        if failure:
            return Verdict("blocked by the preflight", why=failure)
    headers = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in fetch.headers.items()}
    response = client.generic(fetch.method, fetch.path, HTTP_ORIGIN=fetch.origin, **headers)
    failure = cors_check(fetch, response.headers)
    if failure:
        return Verdict("blocked", why=failure)
    return Verdict("allowed", exposed(fetch, response.headers))


# --------------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------------

APP = "https://app.example.com"
JSON = {"Content-Type": "application/json"}

FETCHES: dict[str, Fetch] = {
    "get": Fetch(APP),
    "get-credentials": Fetch(APP, credentials=True),
    "get-localhost": Fetch("http://localhost:3000"),
    "get-evil": Fetch("https://evil.example"),
    "get-null": Fetch("null"),
    "get-regex-origin": Fetch("https://a.example.org"),
    "get-look-alike": Fetch("https://a.example.org.evil.net"),
    "get-other-path": Fetch(APP, path="/other/x"),
    "post-form": Fetch(APP, "POST", headers={"Content-Type": "application/x-www-form-urlencoded"}),
    "put-json": Fetch(APP, "PUT", headers=JSON),
    "put-json-credentials": Fetch(APP, "PUT", headers=JSON, credentials=True),
    "delete": Fetch(APP, "DELETE"),
    "patch": Fetch(APP, "PATCH"),
    "propfind": Fetch(APP, "PROPFIND"),
    "get-x-token": Fetch(APP, headers={"X-Token": "1"}),
    "get-x-token-credentials": Fetch(APP, headers={"X-Token": "1"}, credentials=True),
    "get-authorization": Fetch(APP, headers={"Authorization": "Bearer 1"}),
    "get-private-network": Fetch(APP, private_network=True),
}

CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "origins": {"CORS_ALLOWED_ORIGINS": [APP, "http://localhost:3000"]},
    "old-names": {"CORS_ORIGIN_WHITELIST": [APP], "CORS_ORIGIN_REGEX_WHITELIST": [r"^https://\w+\.example\.org$"]},
    "regex-unanchored": {"CORS_ALLOWED_ORIGIN_REGEXES": [r"^https://\w+\.example\.org"]},
    "regex-compiled": {"CORS_ALLOWED_ORIGIN_REGEXES": [re.compile(r"^HTTPS://\w+\.EXAMPLE\.ORG$", re.I)]},
    "allow-all": {"CORS_ALLOW_ALL_ORIGINS": True, "CORS_EXPOSE_HEADERS": ["X-Total-Count"]},
    "allow-all-old-name": {"CORS_ORIGIN_ALLOW_ALL": True, "CORS_PREFLIGHT_MAX_AGE": 0},
    "credentials": {
        "CORS_ALLOWED_ORIGINS": [APP],
        "CORS_ALLOW_CREDENTIALS": True,
        "CORS_EXPOSE_HEADERS": ["X-Total-Count"],
        "CORS_PREFLIGHT_MAX_AGE": 600,
    },
    "urls-regex": {
        "CORS_URLS_REGEX": r"^/api/.*$",
        "CORS_ALLOWED_ORIGINS": [APP],
        "CORS_ALLOW_METHODS": ["GET", "POST", "PUT"],
        "CORS_ALLOW_HEADERS": ["content-type", "x-token"],
    },
    "private-network": {"CORS_ALLOWED_ORIGINS": [APP], "CORS_ALLOW_PRIVATE_NETWORK": True},
    "null-origin": {"CORS_ALLOWED_ORIGINS": ["null"]},
    "star-no-credentials": {"CORS_ALLOW_ALL_ORIGINS": True, "CORS_ALLOW_METHODS": ["*"], "CORS_ALLOW_HEADERS": ["*"]},
    "star-with-credentials": {
        "CORS_ALLOWED_ORIGINS": [APP],
        "CORS_ALLOW_CREDENTIALS": True,
        "CORS_ALLOW_METHODS": ["*"],
        "CORS_ALLOW_HEADERS": ["*"],
    },
    "lower-case-methods": {"CORS_ALLOWED_ORIGINS": [APP], "CORS_ALLOW_METHODS": ["get", "delete", "patch"]},
    "origin-as-typed": {"CORS_ALLOWED_ORIGINS": ["https://App.example.com:443"]},
}

#: (configuration, fetch) → the label of the deliberate difference in the migration guide (docs/migrating.md).
DIFFERENCES: dict[tuple[str, str], str] = {
    ("regex-unanchored", "get-look-alike"): "whole-origin regexes",
    ("star-with-credentials", "put-json-credentials"): "wildcards with credentials",
    ("star-with-credentials", "get-x-token-credentials"): "wildcards with credentials",
    ("lower-case-methods", "delete"): "standard methods in upper case",
    **{
        ("origin-as-typed", fetch): "origins normalized"
        for fetch in ("get", "get-other-path", "post-form", "put-json", "delete", "patch", "get-authorization")
    },
}


@pytest.fixture
def project(settings: Any) -> Any:
    """The project under test: only the CORS middleware, and a view on every path."""
    settings.ROOT_URLCONF = __name__
    return settings


def verdicts(settings: Any, middleware: str) -> dict[str, Verdict]:
    settings.MIDDLEWARE = [middleware]
    return {name: browser(fetch) for name, fetch in FETCHES.items()}


@pytest.mark.parametrize("config", CONFIGS)
def test_same_browser_verdicts(project: Any, committed: Callable[[], Any], config: str) -> None:
    for name, value in CONFIGS[config].items():
        setattr(project, name, value)
    theirs = verdicts(project, CORSHEADERS)
    with committed():
        call_command("cors_import_settings", stdout=io.StringIO())
    ours = verdicts(project, OURS)
    differing = {fetch for fetch in FETCHES if theirs[fetch] != ours[fetch]}
    expected = {fetch for (c, fetch) in DIFFERENCES if c == config}
    unexpected = {fetch: f"{theirs[fetch]} | {ours[fetch]}" for fetch in sorted(differing ^ expected)}
    assert differing == expected, unexpected


def test_the_table_exercises_both_verdicts() -> None:
    """A table where every fetch is allowed (or blocked) everywhere would prove nothing."""
    assert len(CONFIGS) * len(FETCHES) >= 250
    assert {config for config, _ in DIFFERENCES} <= set(CONFIGS)
    assert {fetch for _, fetch in DIFFERENCES} <= set(FETCHES)


def test_the_unsafe_configuration_is_refused_not_copied(project: Any) -> None:
    """django-cors-headers echoes any origin with credentials; the import refuses to copy that."""
    project.CORS_ALLOW_ALL_ORIGINS = True
    project.CORS_ALLOW_CREDENTIALS = True
    project.MIDDLEWARE = [CORSHEADERS]
    assert browser(Fetch("https://evil.example", credentials=True)).outcome == "allowed"
    with pytest.raises(CommandError, match="any web page can read your users' data"):
        call_command("cors_import_settings", stdout=io.StringIO())
    assert not CorsPolicy.objects.exists()


# --------------------------------------------------------------------------------------------------
# The reference browser itself
# --------------------------------------------------------------------------------------------------


ORIGIN, METHODS, HEADERS = "Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"
CREDENTIALS = "Access-Control-Allow-Credentials"


@pytest.mark.parametrize(
    ("fetch", "status", "headers", "failure"),
    [
        (Fetch(APP), 200, {}, "no Access-Control-Allow-Origin"),
        (Fetch(APP), 200, {ORIGIN: "*"}, None),
        (Fetch(APP, credentials=True), 200, {ORIGIN: "*"}, "Access-Control-Allow-Origin '*' is not the origin"),
        (Fetch(APP, credentials=True), 200, {ORIGIN: APP}, "credentials without Access-Control-Allow-Credentials: true"),  # noqa: E501
        (Fetch(APP), 200, {ORIGIN: APP + "/"}, "Access-Control-Allow-Origin 'https://app.example.com/' is not the origin"),  # noqa: E501
        (Fetch(APP, "PUT"), 204, {ORIGIN: "*", METHODS: "put"}, "method PUT not allowed"),
        (Fetch(APP, "PUT"), 302, {ORIGIN: "*", METHODS: "PUT"}, "preflight status 302"),
        (Fetch(APP, "PUT"), 200, {ORIGIN: "*", METHODS: "*"}, None),
        (Fetch(APP, "PUT", credentials=True), 200, {ORIGIN: APP, CREDENTIALS: "true", METHODS: "*"}, "method PUT not allowed"),  # noqa: E501
        (Fetch(APP, headers={"Authorization": "x"}), 200, {ORIGIN: "*", HEADERS: "*"}, "header authorization not allowed"),  # noqa: E501
        (Fetch(APP, headers={"X-A": "1"}), 200, {ORIGIN: "*", HEADERS: "*"}, None),
        (Fetch(APP, headers={"X-A": "1"}), 200, {ORIGIN: "*", HEADERS: "X-a"}, None),
        (Fetch(APP, private_network=True), 200, {ORIGIN: "*"}, "no Access-Control-Allow-Private-Network: true"),
    ],
)  # fmt: skip
def test_reference_preflight_check(fetch: Fetch, status: int, headers: dict[str, str], failure: str | None) -> None:
    assert preflight_check(fetch, status, headers) == failure


def test_reference_safelisted_request_headers() -> None:
    fetch = Fetch(APP, "POST", headers={"Content-Type": "text/plain;charset=UTF-8", "Accept": "x", "X-B": "1"})
    assert fetch.unsafe_header_names() == ["x-b"]
    assert Fetch(APP, "POST", headers=JSON).unsafe_header_names() == ["content-type"]
    assert not Fetch(APP, "POST", headers={"Content-Type": "multipart/form-data"}).needs_preflight()
    assert Fetch(APP, "patch").needs_preflight()


def test_reference_exposed_headers() -> None:
    present = {"Content-Type": "a", "X-Total-Count": "3", "Set-Cookie": "s"}
    assert exposed(Fetch(APP), present) == {"content-type"}
    assert exposed(Fetch(APP), {**present, "Access-Control-Expose-Headers": "x-total-count"}) == {
        "content-type",
        "x-total-count",
    }
    assert exposed(Fetch(APP), {**present, "Access-Control-Expose-Headers": "*"}) == {
        "access-control-expose-headers",
        "content-type",
        "x-total-count",
    }
    assert exposed(Fetch(APP, credentials=True), {**present, "Access-Control-Expose-Headers": "*"}) == {"content-type"}
