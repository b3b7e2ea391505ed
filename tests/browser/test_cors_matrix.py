"""Chromium is the judge: a page on one origin calls the demo's API on another with ``fetch()``.

Each test asserts what the browser let the page do (the fetch resolved and the script read the body and the
headers it may read, or the fetch rejected with ``TypeError: Failed to fetch`` and the console says CORS
blocked it), never which header strings the server sent. Requests that reach the server, preflights included,
are counted server-side by the demo's origin log (``testproject.middleware``).

Origins: Chromium runs with ``--host-resolver-rules=MAP * 127.0.0.1`` (see conftest), so every host name
below is the one live server: the API is ``http://api.example.test:PORT``, the pages live on
``http://app.example.test:PORT`` (same site as the API, so its SameSite=Lax session cookie goes along with
``credentials: "include"``), ``http://evil.test:PORT`` and others. Each test gets a fresh browser context: an
empty preflight cache and no cookies.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.authtoken.models import Token

from cors_policies.models import CorsPolicy
from testproject.middleware import OriginRequest, origin_log
from tests.factories import CorsPolicyFactory

API_HOST = "api.example.test"
APP_HOST = "app.example.test"
EVIL_HOST = "evil.test"
REFUSED = {"ok": False, "error": "TypeError: Failed to fetch"}
BLOCKED = "has been blocked by CORS policy"

FETCH = """async ([url, init]) => {
    try {
        const response = await fetch(url, init);
        return {ok: true, status: response.status, headers: [...response.headers], body: await response.text()};
    } catch (error) {
        return {ok: false, error: `${error.name}: ${error.message}`};
    }
}"""

# A sandboxed iframe (scripts allowed, no allow-same-origin) has an opaque origin: its fetch sends Origin: null.
SANDBOXED_FETCH = """(url) => new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.sandbox = "allow-scripts";
    window.addEventListener("message", (event) => {
        if (event.source === frame.contentWindow) resolve(event.data);
    });
    frame.srcdoc = `<script>
        fetch(${JSON.stringify(url)}, {cache: "no-store"})
            .then(async (r) => parent.postMessage({ok: true, status: r.status, body: await r.text()}, "*"))
            .catch((e) => parent.postMessage({ok: false, error: e.name + ": " + e.message}, "*"));
    </script>`;
    document.body.appendChild(frame);
})"""


@dataclass
class Caller:
    """A page on one origin, calling the API."""

    page: Any
    origin: str
    api: str
    console: list[str] = field(default_factory=list)

    def fetch(self, path: str, **init: Any) -> dict[str, Any]:
        return dict(self.page.evaluate(FETCH, [self.api + path, init]))

    def read(self, path: str, **init: Any) -> dict[str, Any]:
        """Fetch and require the browser to let the page read the answer; the JSON body is decoded."""
        result = self.fetch(path, **init)
        assert result["ok"] is True, (result, self.console)
        try:
            result["json"] = json.loads(result["body"])
        except ValueError:
            result["json"] = None
        return result

    def refused(self, path: str, *, console: str = BLOCKED, **init: Any) -> None:
        """Fetch and require the browser to refuse it as CORS (the console says so), not as a network error."""
        before = len(self.console)
        assert self.fetch(path, **init) == REFUSED
        self.expect_console(before, console)

    def expect_console(self, before: int, *needles: str) -> None:
        """A CORS message with every needle, logged after message number ``before``. The browser may log it
        a moment after the fetch rejects, so wait for it (up to two seconds)."""
        for _ in range(40):
            if any(BLOCKED in line and all(n in line for n in needles) for line in self.console[before:]):
                return
            self.page.wait_for_timeout(50)
        raise AssertionError(f"no console message with {needles!r} after the refusal: {self.console[before:]}")


@dataclass
class Hosts:
    port: int

    def origin(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    @property
    def api(self) -> str:
        return self.origin(API_HOST)

    @property
    def app(self) -> str:
        return self.origin(APP_HOST)


@pytest.fixture
def hosts(port: int) -> Hosts:
    return Hosts(port)


@pytest.fixture
def open_page(context: Any, hosts: Hosts) -> Callable[[str], Caller]:
    """Open the demo's home page on ``http://HOST:PORT`` and return it as a caller of the API."""

    def open_on(host: str) -> Caller:
        page = context.new_page()
        caller = Caller(page, hosts.origin(host), hosts.api)
        page.on("console", lambda message: caller.console.append(message.text))
        page.goto(caller.origin + "/")
        return caller

    return open_on


@pytest.fixture
def app(open_page: Callable[[str], Caller]) -> Caller:
    return open_page(APP_HOST)


@pytest.fixture
def evil(open_page: Callable[[str], Caller]) -> Caller:
    return open_page(EVIL_HOST)


@pytest.fixture
def log() -> Callable[[], list[OriginRequest]]:
    """What reached the server since the test started: ``log()`` returns the new requests, oldest first."""
    start, _ = origin_log.since(2**62)
    return lambda: origin_log.since(start)[1]


def policy(**fields: Any) -> CorsPolicy:
    """A policy with nothing allowed but what the test says."""
    defaults: dict[str, Any] = {
        "path_pattern": "/api/echo/**",
        "allowed_origins": [],
        "allowed_methods": ["GET"],
        "allowed_headers": [],
        "expose_headers": [],
        "allow_credentials": False,
        "max_age": None,
    }
    return cast(CorsPolicy, CorsPolicyFactory(**{**defaults, **fields}))


def summary(entries: list[OriginRequest]) -> list[tuple[Any, ...]]:
    """Each request that reached the server: method, path, (for a preflight) what it asked, and the verdict."""
    return [
        (e.method, e.path, e.request_method, e.request_headers, "allowed" if e.allowed else "refused")
        if e.preflight
        else (e.method, e.path, "allowed" if e.allowed else "refused")
        for e in entries
    ]


# -- simple requests ----------------------------------------------------------------------------------


def test_simple_get_from_an_allowed_origin_is_read(app: Caller, hosts: Hosts, log: Callable[[], Any]) -> None:
    policy(allowed_origins=[hosts.app])
    result = app.read("/api/echo/simple")
    assert result["status"] == 200
    assert result["json"]["origin"] == hosts.app
    assert summary(log()) == [("GET", "/api/echo/simple", "allowed")]


def test_simple_get_from_another_origin_is_refused_after_reaching_the_server(
    evil: Caller, hosts: Hosts, log: Callable[[], Any]
) -> None:
    """No preflight for a simple GET: the server answers it, and the browser hides the answer from the page."""
    policy(allowed_origins=[hosts.app])
    evil.refused("/api/echo/simple", console="No 'Access-Control-Allow-Origin' header is present")
    assert summary(log()) == [("GET", "/api/echo/simple", "refused")]


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("app.example.test", True),
        ("a.b.example.test", True),
        ("example.test", False),  # the wildcard needs at least one label in front
        ("evilexample.test", False),  # no dot boundary
        ("example.test.evil.test", False),
    ],
)
def test_subdomain_wildcard(open_page: Callable[[str], Caller], hosts: Hosts, host: str, allowed: bool) -> None:
    policy(allowed_origins=[f"http://*.example.test:{hosts.port}"])
    caller = open_page(host)
    if allowed:
        assert caller.read("/api/echo/wildcard")["json"]["origin"] == f"http://{host}:{hosts.port}"
    else:
        caller.refused("/api/echo/wildcard")


def test_null_origin_from_a_sandboxed_iframe_allowed_when_listed(app: Caller, hosts: Hosts) -> None:
    policy(allowed_origins=["null"])
    result = app.page.evaluate(SANDBOXED_FETCH, hosts.api + "/api/echo/null")
    assert result["ok"] is True, (result, app.console)
    assert json.loads(result["body"])["origin"] == "null"


def test_null_origin_refused_when_not_listed(app: Caller, hosts: Hosts) -> None:
    policy(allowed_origins=[hosts.app])
    assert app.read("/api/echo/null")["json"]["origin"] == hosts.app  # the page itself may
    before = len(app.console)
    assert app.page.evaluate(SANDBOXED_FETCH, hosts.api + "/api/echo/null") == REFUSED  # its sandboxed frame not
    app.expect_console(before, "from origin 'null'")


# -- preflighted requests -----------------------------------------------------------------------------

JSON_HEADERS = {"Content-Type": "application/json", "X-Custom": "1"}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_preflighted_method_with_custom_headers_allowed(
    app: Caller, hosts: Hosts, log: Callable[[], Any], method: str
) -> None:
    policy(
        allowed_origins=[hosts.app],
        allowed_methods=["PUT", "PATCH", "DELETE"],
        allowed_headers=["Content-Type", "X-Custom"],
    )
    body = "" if method == "DELETE" else '{"n": 1}'
    result = app.read("/api/echo/item", method=method, headers=JSON_HEADERS, **({"body": body} if body else {}))
    assert result["status"] == 200
    assert result["json"]["method"] == method
    assert result["json"]["headers"] == {"content-type": "application/json", "x-custom": "1"}
    assert result["json"]["body"] == body
    assert summary(log()) == [
        ("OPTIONS", "/api/echo/item", method, "content-type,x-custom", "allowed"),
        (method, "/api/echo/item", "allowed"),
    ]


@pytest.mark.parametrize(
    ("page_host", "method", "headers", "asked"),
    [
        pytest.param(EVIL_HOST, "PUT", {"X-Custom": "1"}, ("PUT", "x-custom"), id="origin"),
        pytest.param(APP_HOST, "DELETE", {"X-Custom": "1"}, ("DELETE", "x-custom"), id="method"),
        pytest.param(APP_HOST, "PUT", {"X-Other": "1"}, ("PUT", "x-other"), id="header"),
        # fetch() upper-cases only DELETE, GET, HEAD, OPTIONS, POST and PUT: "patch" is asked as sent.
        pytest.param(APP_HOST, "patch", {"X-Custom": "1"}, ("patch", "x-custom"), id="lowercase-patch"),
    ],
)
def test_preflight_refused_and_the_request_never_sent(
    open_page: Callable[[str], Caller],
    hosts: Hosts,
    log: Callable[[], Any],
    page_host: str,
    method: str,
    headers: dict[str, str],
    asked: tuple[str, str],
) -> None:
    policy(allowed_origins=[hosts.app], allowed_methods=["PUT", "PATCH"], allowed_headers=["X-Custom"])
    caller = open_page(page_host)
    caller.refused(
        "/api/echo/item", console="Response to preflight request doesn't pass", method=method, headers=headers
    )
    assert summary(log()) == [("OPTIONS", "/api/echo/item", *asked, "refused")]


def test_header_names_in_mixed_case(app: Caller, hosts: Hosts, log: Callable[[], Any]) -> None:
    policy(allowed_origins=[hosts.app], allowed_methods=["PUT"], allowed_headers=["x-CUSTOM-header"])
    result = app.read("/api/echo/mixed", method="PUT", headers={"X-CuStOm-HeAdEr": "v"})
    assert result["json"]["headers"] == {"x-custom-header": "v"}
    assert summary(log())[0] == ("OPTIONS", "/api/echo/mixed", "PUT", "x-custom-header", "allowed")


def test_authorization_is_not_covered_by_a_star(app: Caller, hosts: Hosts, log: Callable[[], Any]) -> None:
    """The standard says ``*`` never covers Authorization; Chromium alone would let it, the server does not."""
    policy(allowed_origins=[hosts.app], allowed_headers=["*"])
    assert app.read("/api/echo/star/other", headers={"X-Anything": "yes"})["json"]["headers"] == {"x-anything": "yes"}
    app.refused("/api/echo/star/auth", headers={"Authorization": "Bearer t0k3n"})
    assert summary(log()) == [
        ("OPTIONS", "/api/echo/star/other", "GET", "x-anything", "allowed"),
        ("GET", "/api/echo/star/other", "allowed"),
        ("OPTIONS", "/api/echo/star/auth", "GET", "authorization", "refused"),
    ]


def test_authorization_listed_explicitly_is_allowed(app: Caller, hosts: Hosts) -> None:
    policy(allowed_origins=[hosts.app], allowed_headers=["Authorization"])
    result = app.read("/api/echo/auth", headers={"Authorization": "Bearer t0k3n"})
    assert result["json"]["headers"] == {"authorization": "Bearer t0k3n"}


# -- credentials --------------------------------------------------------------------------------------


@pytest.fixture
def logged_in(context: Any, transactional_db: None, django_user_model: Any) -> Any:
    """A session cookie for the API's host, as Django sets it after a login (SameSite=Lax, HttpOnly)."""
    user = django_user_model.objects.create_user("carol", "carol@example.com", "unused-password")
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    context.add_cookies(
        [
            {
                "name": name,
                "value": client.cookies[name].value,
                "domain": API_HOST,
                "path": "/",
                "httpOnly": True,
                "sameSite": django_settings.SESSION_COOKIE_SAMESITE,
            }
        ]
    )
    return user


def test_credentials_allowed_with_a_credentials_policy(app: Caller, hosts: Hosts, logged_in: Any) -> None:
    policy(path_pattern="/api/profile/**", allowed_origins=[hosts.app], allow_credentials=True)
    result = app.read("/api/profile/", credentials="include")
    assert (result["status"], result["json"]["username"]) == (200, "carol")
    # Without credentials the browser sends no cookie: the page reads the view's 401.
    anonymous = app.read("/api/profile/")
    assert (anonymous["status"], anonymous["json"]) == (401, {"error": "Not logged in."})


def test_credentials_refused_without_allow_credentials(
    app: Caller, hosts: Hosts, logged_in: Any, log: Callable[[], Any]
) -> None:
    policy(path_pattern="/api/profile/**", allowed_origins=[hosts.app], allow_credentials=False)
    assert app.read("/api/profile/")["status"] == 401
    app.refused("/api/profile/", console="Access-Control-Allow-Credentials", credentials="include")
    # The credentialed GET reached the server (with the cookie) and was answered: the browser hid it.
    assert summary(log()) == [("GET", "/api/profile/", "allowed"), ("GET", "/api/profile/", "allowed")]


def test_a_star_policy_never_lets_a_credentialed_request_through(app: Caller, logged_in: Any) -> None:
    policy(path_pattern="/api/profile/**", allowed_origins=["*"])
    assert app.read("/api/profile/")["status"] == 401
    app.refused("/api/profile/", console="must not be the wildcard '*'", credentials="include")


# -- responses ----------------------------------------------------------------------------------------


def test_exposed_headers_readable_only_when_exposed(app: Caller, hosts: Hosts) -> None:
    items = policy(path_pattern="/api/public/**", allowed_origins=[hosts.app])
    result = app.read("/api/public/items/")
    assert [name for name, _ in result["headers"]] == ["content-length", "content-type"]

    items.expose_headers = ["X-Total-Count"]
    items.save()
    result = app.read("/api/public/items/")
    assert [name for name, _ in result["headers"]] == ["content-length", "content-type", "x-total-count"]
    assert dict(result["headers"])["x-total-count"] == str(len(result["json"]))


@pytest.mark.parametrize(("status", "path"), [(404, "/api/public/items/99/"), (500, "/api/public/error/")])
def test_error_responses_are_readable(app: Caller, hosts: Hosts, status: int, path: str) -> None:
    policy(path_pattern="/api/public/**", allowed_origins=[hosts.app])
    result = app.read(path)
    assert result["status"] == status
    if status == 404:
        assert result["json"] == {"error": "No item 99."}
    else:
        assert "Server Error (500)" in result["body"]


def test_max_age_caches_the_preflight(app: Caller, hosts: Hosts, log: Callable[[], Any]) -> None:
    """Counted server-side: within max-age a second identical request sends no preflight; max-age 0 always does."""
    common = {"allowed_origins": [hosts.app], "allowed_methods": ["PUT"], "allowed_headers": ["X-Custom"]}
    policy(path_pattern="/api/echo/cached/**", max_age=600, **common)
    policy(path_pattern="/api/echo/uncached/**", max_age=0, **common)
    for path in ("/api/echo/cached/1", "/api/echo/cached/1", "/api/echo/uncached/1", "/api/echo/uncached/1"):
        assert app.read(path, method="PUT", headers={"X-Custom": "1"})["status"] == 200
    assert summary(log()) == [
        ("OPTIONS", "/api/echo/cached/1", "PUT", "x-custom", "allowed"),
        ("PUT", "/api/echo/cached/1", "allowed"),
        ("PUT", "/api/echo/cached/1", "allowed"),
        ("OPTIONS", "/api/echo/uncached/1", "PUT", "x-custom", "allowed"),
        ("PUT", "/api/echo/uncached/1", "allowed"),
        ("OPTIONS", "/api/echo/uncached/1", "PUT", "x-custom", "allowed"),
        ("PUT", "/api/echo/uncached/1", "allowed"),
    ]


# -- which policy, and changes ------------------------------------------------------------------------


def test_precedence_the_more_specific_policy_decides(app: Caller, hosts: Hosts) -> None:
    broad = policy(name="broad", path_pattern="/api/echo/**", allowed_origins=["https://partner.example"])
    policy(name="open", path_pattern="/api/echo/open/**", allowed_origins=[hosts.app])
    assert app.read("/api/echo/open/1")["status"] == 200  # "open" has more literal segments: it decides
    app.refused("/api/echo/other/1")  # only "broad" matches

    broad.priority = 10  # a higher priority beats specificity
    broad.save()
    app.refused("/api/echo/open/1")


def test_a_change_through_the_rest_api_reaches_the_next_request(
    app: Caller, hosts: Hosts, live_server: Any, superuser: Any, settings: Any
) -> None:
    # A long refresh interval: only the write's commit hook can make the change visible in time.
    settings.CORS_POLICIES = {"REFRESH_INTERVAL": 3600}
    token = Token.objects.create(user=superuser)
    target = policy(allowed_origins=[hosts.app])

    def patch(fields: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{live_server.url}/api/cors/policies/{target.pk}/",
            data=json.dumps(fields).encode(),
            method="PATCH",
            headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    assert app.read("/api/echo/live")["status"] == 200
    patch({"allowed_origins": ["https://partner.example"]})
    app.refused("/api/echo/live")
    patch({"allowed_origins": [hosts.app, "https://partner.example"]})
    assert app.read("/api/echo/live")["status"] == 200
