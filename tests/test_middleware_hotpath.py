"""What the request path keeps between requests (the engine's shared decisions, the preflight headers kept on them,
the settings it read once) follows every change: of a policy, of the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from cors_policies.models import CorsPolicy
from cors_policies.signals import cors_decision
from tests import urls
from tests.helpers import preflight

pytestmark = [pytest.mark.urls("tests.urls"), pytest.mark.django_db]

APP = "https://app.example.com"
HTML = ("Content-Type", "text/html; charset=utf-8")


@pytest.fixture
def api(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(
        name="api",
        path_pattern="/t/**",
        allowed_origins=[APP],
        allowed_methods=["GET", "PUT"],
        allowed_headers=["X-Token"],
        expose_headers=["X-Total"],
        allow_credentials=True,
        max_age=600,
    )


def test_a_preflight_answer_has_exactly_the_headers_it_had_in_this_order(client: Client, api: CorsPolicy) -> None:
    for _ in range(2):  # built, then from what the shared decision kept
        response = preflight(client, "/t/echo", request_headers="x-token")
        assert (response.status_code, response.content) == (200, b"")
        assert list(response.items()) == [
            HTML,
            ("Content-Length", "0"),
            ("Access-Control-Allow-Origin", APP),
            ("Access-Control-Allow-Methods", "GET, PUT"),
            ("Access-Control-Allow-Headers", "X-Token"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Max-Age", "600"),
            ("Vary", "Origin"),
        ]
    refused = preflight(client, "/t/echo", origin="https://evil.test")
    assert list(refused.items()) == [HTML, ("Content-Length", "0"), ("Vary", "Origin")]
    assert urls.calls == []


def test_an_allowed_get_has_exactly_the_headers_it_had_in_this_order(client: Client, api: CorsPolicy) -> None:
    for _ in range(2):
        response = client.get("/t/echo", HTTP_ORIGIN=APP)
        written = [(name, value) for name, value in response.items() if name.startswith(("Access-", "Vary"))]
        assert written == [
            ("Access-Control-Allow-Origin", APP),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Expose-Headers", "X-Total"),
            ("Vary", "Origin"),
        ]
    assert client.get("/t/vary", HTTP_ORIGIN=APP)["Vary"] == "Cookie, Origin"  # the view's Vary, merged


def test_a_changed_policy_is_answered_on_the_next_request(
    client: Client, api: CorsPolicy, committed: Callable[[], Any]
) -> None:
    """The answers the engine shares are keyed by the compiled policy: a rebuilt snapshot never serves the old
    headers, on a GET or on a preflight (whose header list is kept on the shared decision)."""
    assert client.get("/t/echo", HTTP_ORIGIN=APP)["Access-Control-Expose-Headers"] == "X-Total"
    assert preflight(client, "/t/echo")["Access-Control-Max-Age"] == "600"
    with committed():
        api.expose_headers = ["X-Page"]
        api.max_age = 60
        api.save()
    assert client.get("/t/echo", HTTP_ORIGIN=APP)["Access-Control-Expose-Headers"] == "X-Page"
    assert preflight(client, "/t/echo")["Access-Control-Max-Age"] == "60"
    with committed():
        api.allowed_origins = ["https://other.example"]
        api.save()
    assert not client.get("/t/echo", HTTP_ORIGIN=APP).has_header("Access-Control-Allow-Origin")
    assert list(preflight(client, "/t/echo").items()) == [HTML, ("Content-Length", "0"), ("Vary", "Origin")]


def test_the_settings_read_once_follow_a_settings_change(client: Client, api: CorsPolicy, settings: Any) -> None:
    before = preflight(client, "/t/echo")
    assert (before.status_code, before.has_header("CORS-Policy")) == (200, False)
    assert not client.get("/t/echo", HTTP_ORIGIN=APP).has_header("CORS-Policy")

    settings.CORS_POLICIES = {"DEBUG_HEADERS": True, "PREFLIGHT_STATUS": 204}
    after = preflight(client, "/t/echo")  # the same shared decision, headers kept for the old settings
    assert after.status_code == 204
    assert list(after.items())[-2:] == [("Vary", "Origin"), ("CORS-Policy", '"api"; verdict=allowed')]
    assert client.get("/t/echo", HTTP_ORIGIN=APP)["CORS-Policy"] == '"api"; verdict=allowed'

    settings.DEFAULT_CHARSET = "iso-8859-1"
    assert preflight(client, "/t/echo")["Content-Type"] == "text/html; charset=iso-8859-1"
    settings.CORS_POLICIES = {}
    plain = preflight(client, "/t/echo")
    assert (plain.status_code, plain.has_header("CORS-Policy")) == (200, False)


def test_the_signal_gets_an_allowed_decision_too(client: Client, api: CorsPolicy) -> None:
    """The short path of an allowed request without a report-only policy still sends ``cors_decision``."""
    seen: list[tuple[str, bool, Any]] = []

    def listener(sender: Any, *, origin: str, decision: Any, report_only: Any, **kwargs: Any) -> None:
        seen.append((origin, decision.allowed, report_only))

    cors_decision.connect(listener, dispatch_uid="hotpath_listener")
    try:
        client.get("/t/echo", HTTP_ORIGIN=APP)
        client.get("/t/echo", HTTP_ORIGIN="https://evil.test")
    finally:
        cors_decision.disconnect(dispatch_uid="hotpath_listener")
    assert seen == [(APP, True, None), ("https://evil.test", False, None)]
