"""The admin's "Test a request" page: the same answer as the middleware, shown exactly."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from cors_policies.admin import curl_command
from cors_policies.models import CorsPolicy
from tests.helpers import form_data, headers_in

pytestmark = pytest.mark.django_db

TESTER_URL = "/admin/cors_policies/corspolicy/test/"
CORS_NAMES = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Credentials",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Private-Network",
    "Vary",
)


@pytest.fixture
def api_policy(make_policy: Callable[..., Any]) -> CorsPolicy:
    policy: CorsPolicy = make_policy(
        name="api",
        path_pattern="/t/**",
        allowed_origins=["https://app.example.com"],
        allowed_methods=["GET", "PUT"],
        allowed_headers=["X-Token", "Content-Type"],
        expose_headers=["X-Total-Count"],
        allow_credentials=True,
        max_age=600,
    )
    return policy


def ask(client: Client, **params: Any) -> tuple[Any, str]:
    response = client.get(TESTER_URL, params)
    assert response.status_code == 200
    return response, response.content.decode()


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</div>", start)]


def verdict(html: str) -> str:
    match = re.search(r'<p class="cors-verdict [a-z-]+" id="cors-verdict">(.*?)</p>', html, re.S)
    assert match is not None
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def items(html: str, css_class: str) -> list[str]:
    match = re.search(rf'<ul class="{css_class}"[^>]*>(.*?)</ul>', html, re.S)
    return [] if match is None else re.findall(r"<li>(.*?)</li>", match.group(1), re.S)


def test_unbound_page_shows_the_form(admin_client: Client) -> None:
    response, html = ask(admin_client)
    assert response.context["form"].is_bound is False
    assert 'id="cors-result"' not in html
    assert '<input type="text" name="method" value="GET"' in html
    for name in ("origin", "method", "path", "request_headers", "preflight", "private_network"):
        assert f'name="{name}"' in html
    assert "<title>Test a request | Django site admin</title>" in html


def test_allowed_preflight_shows_policy_reasons_and_exact_headers(admin_client: Client, api_policy: CorsPolicy) -> None:
    _, html = ask(
        admin_client,
        origin="https://app.example.com",
        method="PUT",
        path="/t/items/1",
        request_headers="X-Token, content-type",
        preflight="on",
    )

    assert verdict(html) == "Allowed. The browser accepts this preflight and goes on to send the PUT request."
    assert f'<a href="/admin/cors_policies/corspolicy/{api_policy.pk}/change/" id="cors-policy-link">api</a>' in html
    assert items(html, "cors-explanation") == [
        escape("Policy 'api' applies: its glob '/t/**' matches /t/items/1 (priority 0).")
    ]
    assert "The middleware answers the preflight itself (HTTP 200, empty body) with:" in html
    assert headers_in(section(html, "cors-response")) == [
        ("Access-Control-Allow-Origin", "https://app.example.com"),
        ("Access-Control-Allow-Methods", "GET, PUT"),
        ("Access-Control-Allow-Headers", "X-Token, Content-Type"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Max-Age", "600"),
        ("Vary", "Origin"),
    ]
    assert items(html, "cors-reasons") == []
    assert (
        escape(
            "curl -si -X OPTIONS http://testserver/t/items/1 -H 'Origin: https://app.example.com' "
            "-H 'Access-Control-Request-Method: PUT' -H 'Access-Control-Request-Headers: content-type,x-token'"
        )
        in html
    )


def test_refused_preflight_lists_each_reason(admin_client: Client, api_policy: CorsPolicy) -> None:
    _, html = ask(
        admin_client,
        origin="https://evil.example",
        method="DELETE",
        path="/t/items/1",
        request_headers="Authorization",
        preflight="on",
        private_network="on",
    )
    assert verdict(html) == "Refused. The browser rejects this preflight and never sends the DELETE request."
    assert headers_in(section(html, "cors-response")) == [("Vary", "Origin")]
    assert "No <code>Access-Control-*</code> headers: the browser refuses." in html
    assert items(html, "cors-reasons") == [
        escape("Origin https://evil.example is not allowed by policy 'api' (it allows https://app.example.com)."),
        "Method DELETE is not in the allowed methods GET, PUT.",
        "Request header authorization is not in the allowed headers X-Token, Content-Type.",
        escape("Policy 'api' does not allow private network access (Access-Control-Request-Private-Network)."),
    ]
    assert escape("-H 'Access-Control-Request-Private-Network: true'") in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"origin": "https://app.example.com", "method": "PUT", "path": "/t/x", "preflight": "on"},
            [
                ("Access-Control-Allow-Origin", "https://app.example.com"),
                ("Access-Control-Allow-Methods", "GET, PUT"),
                ("Access-Control-Allow-Headers", "X-Token, Content-Type"),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Max-Age", "600"),
                ("Vary", "Origin"),
            ],
        ),
        (
            {"origin": "https://app.example.com", "method": "put", "path": "/t/x", "preflight": "on"},
            [("Vary", "Origin")],
        ),
        (
            {"origin": "https://app.example.com", "method": "GET", "path": "/t/echo"},
            [
                ("Access-Control-Allow-Origin", "https://app.example.com"),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Expose-Headers", "X-Total-Count"),
                ("Vary", "Origin"),
            ],
        ),
        ({"origin": "https://other.example", "method": "GET", "path": "/t/echo"}, [("Vary", "Origin")]),
    ],
)
def test_tester_agrees_with_the_middleware(
    admin_client: Client, api_policy: CorsPolicy, params: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    """What the tester shows is what the middleware sends for the same request."""
    _, html = ask(admin_client, **params)
    shown = headers_in(section(html, "cors-response"))
    assert shown == expected

    browser = Client()
    if params.get("preflight"):
        real = browser.options(
            params["path"], HTTP_ORIGIN=params["origin"], HTTP_ACCESS_CONTROL_REQUEST_METHOD=params["method"]
        )
    else:
        real = browser.generic(params["method"], params["path"], HTTP_ORIGIN=params["origin"])
    sent = [(name, real[name]) for name in CORS_NAMES if name in real]
    assert sorted(sent) == sorted(shown)


def test_actual_request_verdicts_and_notes(admin_client: Client, api_policy: CorsPolicy) -> None:
    _, html = ask(
        admin_client,
        origin="https://app.example.com",
        method="PUT",
        path="/t/x",
        request_headers="X-Token",
        private_network="on",
    )
    assert verdict(html) == "Allowed. The browser lets the page read the response."
    assert "The view answers as usual; the middleware adds:" in html
    assert re.findall(r'<li class="info">(.*?)</li>', html) == [
        "A browser sends a preflight before a PUT request: tick “Preflight” to see whether it gets that far.",
        "Request headers are checked only in the preflight: tick “Preflight” to test them (this answer ignores them).",
        "Private network access is asked only in the preflight: tick “Preflight” to test it.",
        escape("With credentials, the page must use fetch(..., {credentials: 'include'}) to send cookies."),
    ]
    assert escape("curl -si -X PUT http://testserver/t/x -H 'Origin: https://app.example.com'") in html

    _, html = ask(admin_client, origin="https://other.example", method="GET", path="/t/x")
    assert verdict(html) == (
        "Refused. The browser hides the response from the page (the request itself still reaches the server)."
    )
    assert items(html, "cors-reasons") == [
        escape("Origin https://other.example is not allowed by policy 'api' (it allows https://app.example.com).")
    ]
    assert re.findall(r'<li class="info">(.*?)</li>', html) == []
    assert escape("curl -si http://testserver/t/x -H 'Origin: https://other.example'") in html


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("GET", "curl -si https://api.example.com/x -H 'Origin: https://a.example'"),
        ("HEAD", "curl -si --head https://api.example.com/x -H 'Origin: https://a.example'"),
        ("DELETE", "curl -si -X DELETE https://api.example.com/x -H 'Origin: https://a.example'"),
    ],
)
def test_curl_command_for_actual_requests(method: str, expected: str) -> None:
    data = {"origin": "https://a.example", "method": method, "preflight": False, "request_headers": []}
    assert curl_command("https://api.example.com/x", data) == expected


def test_no_policy_covers_the_path(admin_client: Client, api_policy: CorsPolicy) -> None:
    _, html = ask(admin_client, origin="https://app.example.com", method="GET", path="/elsewhere")
    assert verdict(html) == (
        "Refused. No policy covers /elsewhere: the middleware leaves it untouched (no CORS headers), so the "
        "browser refuses a cross-origin read."
    )
    assert '<p class="cors-policy">None.</p>' in html
    assert items(html, "cors-explanation") == [escape("No enabled policy's path pattern matches /elsewhere.")]
    assert headers_in(section(html, "cors-response")) == []
    assert "No <code>Access-Control-*</code> headers." in html
    assert items(html, "cors-reasons") == ["No policy covers /elsewhere."]


def test_explains_why_the_policy_won(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(name="catch-all", path_pattern="/**")
    make_policy(name="items", path_pattern="/api/items/*")
    make_policy(name="legacy", path_pattern="^/api/")
    _, html = ask(admin_client, origin="https://app.example.com", method="GET", path="/api/items/5")
    assert items(html, "cors-explanation") == [
        escape("Policy 'items' applies: its glob '/api/items/*' matches /api/items/5 (priority 0)."),
        escape("It wins over 'catch-all' ('/**'): more literal segments (2 > 0)."),
        escape("It wins over 'legacy' ('^/api/'): a glob is more specific than a regular expression."),
    ]


def test_path_may_be_a_url_and_is_decoded_like_djangos(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(name="menu", path_pattern="/café/menu")
    response, html = ask(
        admin_client,
        origin="https://app.example.com",
        method="GET",
        path="https://api.example.com/caf%C3%A9/menu?x=1#y",
    )
    assert response.context["data"]["path"] == "/café/menu"
    assert response.context["decision"].policy.name == "menu"
    assert escape("curl -si http://testserver/caf%C3%A9/menu -H") in html

    response, _ = ask(admin_client, origin="https://app.example.com", method="GET", path="/caf%C3%A9/menu?x=1")
    assert response.context["data"]["path"] == "/café/menu"
    response, _ = ask(admin_client, origin="https://app.example.com", method="GET", path="https://api.example.com")
    assert response.context["data"]["path"] == "/"


def test_form_errors(admin_client: Client) -> None:
    response, html = ask(admin_client, origin="", method="GET", path="api/items")
    form = response.context["form"]
    assert form.errors == {
        "origin": ["This field is required."],
        "path": ["Write a path starting with '/', such as /api/items/1, or a whole URL."],
    }
    assert 'id="cors-result"' not in html


def test_tester_sees_a_save_on_the_next_request(
    admin_client: Client, api_policy: CorsPolicy, committed: Callable[[], Any], clock: Any
) -> None:
    """The tester reads the same snapshot as the middleware: a saved change shows at once."""
    params = {"origin": "https://new.example.com", "method": "GET", "path": "/t/x"}
    _, html = ask(admin_client, **params)
    assert verdict(html).startswith("Refused.")

    with committed():
        response = admin_client.post(
            f"/admin/cors_policies/corspolicy/{api_policy.pk}/change/",
            form_data(name="api", path_pattern="/t/**", allowed_origins="https://new.example.com"),
        )
    assert response.status_code == 302

    _, html = ask(admin_client, **params)  # the clock has not moved
    assert verdict(html) == "Allowed. The browser lets the page read the response."


def test_tester_when_policies_cannot_be_loaded(admin_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cors_policies.cache.snapshot.get", lambda: None)
    _, html = ask(admin_client, origin="https://app.example.com", method="GET", path="/t/x")
    assert "The policies could not be loaded (see the server log)" in html
    assert 'id="cors-verdict"' not in html


def test_tester_reports_policies_skipped_while_loading(
    admin_client: Client, make_policy: Callable[..., Any], api_policy: CorsPolicy
) -> None:
    broken = make_policy(name="broken", path_pattern="/b")
    CorsPolicy.objects.filter(pk=broken.pk).update(path_pattern="b")  # bypasses validation, as raw SQL would
    _, html = ask(admin_client, origin="https://app.example.com", method="GET", path="/t/x")
    assert verdict(html) == "Allowed. The browser lets the page read the response."
    assert escape(f"Skipped while loading: policy {broken.pk} 'broken' skipped: 'b' must start with '/'") in html
