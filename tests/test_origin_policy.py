"""The origin policy beyond CORS (issue 17): Timing-Allow-Origin per policy, in the engine and on the wire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from cors_policies.engine import PolicySet, PolicySpec
from tests.helpers import APP, preflight

OTHER = "https://evil.example"
TAO = "Timing-Allow-Origin"


def policies(**fields: Any) -> PolicySet:
    base: dict[str, Any] = {"id": 1, "name": "api", "path_pattern": "/t/**", "allowed_origins": [APP]}
    return PolicySet.build([PolicySpec(**{**base, **fields})])


def test_an_allowed_origin_gets_timing_allow_origin_with_vary_origin() -> None:
    decision = policies(timing_allow_origin=True, allow_credentials=True).evaluate(
        origin=APP, method="GET", path="/t/x"
    )
    assert decision.headers == (
        ("Access-Control-Allow-Origin", APP),
        ("Access-Control-Allow-Credentials", "true"),
        (TAO, APP),
    )
    assert decision.vary == ("Origin",)


@pytest.mark.parametrize("origin", [OTHER, "null", None, "https://app.example.com.evil.example"])
def test_a_refused_origin_never_gets_it(origin: str | None) -> None:
    decision = policies(timing_allow_origin=True).evaluate(origin=origin, method="GET", path="/t/x")
    assert not decision.allowed
    assert decision.headers == ()


def test_off_by_default_and_never_on_a_preflight() -> None:
    assert TAO not in dict(policies().evaluate(origin=APP, method="GET", path="/t/x").headers)
    answer = policies(timing_allow_origin=True).evaluate(
        origin=APP, method="OPTIONS", path="/t/x", request_method="GET"
    )
    assert answer.allowed and TAO not in dict(answer.headers)


def test_any_origin_answers_a_constant_star() -> None:
    decision = policies(allowed_origins=["*"], timing_allow_origin=True).evaluate(origin=APP, method="GET", path="/t/x")
    assert decision.headers == (("Access-Control-Allow-Origin", "*"), (TAO, "*"))
    assert decision.vary == ()


@pytest.mark.django_db
def test_the_middleware_sends_it(client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP], timing_allow_origin=True)
    response = client.get("/t/echo", HTTP_ORIGIN=APP)
    assert (response[TAO], response["Vary"]) == (APP, "Origin")
    assert TAO not in client.get("/t/echo", HTTP_ORIGIN=OTHER)
    assert TAO not in preflight(client, "/t/echo", method="GET")


# -- the debug header ---------------------------------------------------------------------------------------


@pytest.fixture
def debug_headers(settings: Any) -> None:
    settings.CORS_POLICIES = {"DEBUG_HEADERS": True}


@pytest.mark.django_db
@pytest.mark.usefixtures("debug_headers")
def test_covered_responses_name_the_policy_and_the_verdict(client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP], allowed_methods=["PUT"])
    assert client.get("/t/echo", HTTP_ORIGIN=APP)["CORS-Policy"] == '"api"; verdict=allowed'
    assert client.get("/t/echo", HTTP_ORIGIN=OTHER)["CORS-Policy"] == '"api"; verdict=refused; reason=origin'
    assert client.get("/t/echo")["CORS-Policy"] == '"api"; verdict=refused; reason=no_origin'
    answer = preflight(client, "/t/echo", method="DELETE")
    assert answer["CORS-Policy"] == '"api"; verdict=refused; reason=method'
    assert "CORS-Policy" not in client.get("/other", HTTP_ORIGIN=APP)  # no policy covers it


@pytest.mark.django_db
def test_the_debug_header_is_off_by_default(client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP])
    assert "CORS-Policy" not in client.get("/t/echo", HTTP_ORIGIN=APP)


@pytest.mark.django_db
def test_turning_the_debug_header_on_and_off_applies_to_the_next_response(
    client: Client, make_policy: Callable[..., Any], settings: Any
) -> None:
    make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP])
    assert "CORS-Policy" not in client.get("/t/echo", HTTP_ORIGIN=APP)  # read once, then remembered
    settings.CORS_POLICIES = {"DEBUG_HEADERS": True}
    assert client.get("/t/echo", HTTP_ORIGIN=APP)["CORS-Policy"] == '"api"; verdict=allowed'
    settings.CORS_POLICIES = {"DEBUG_HEADERS": False}
    assert "CORS-Policy" not in client.get("/t/echo", HTTP_ORIGIN=APP)


@pytest.mark.django_db
@pytest.mark.usefixtures("debug_headers")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ('a "quoted" \\ name', r'"a \"quoted\" \\ name"'),
        ("café 100%", '"caf%C3%A9 100%25"'),
        ("line\r\nInjected: yes", '"line%0D%0AInjected: yes"'),
        ("tab\there", '"tab%09here"'),
    ],
)
def test_the_policy_name_is_escaped(client: Client, make_policy: Callable[..., Any], name: str, value: str) -> None:
    policy = make_policy(name="placeholder", path_pattern="/t/**", allowed_origins=[APP])
    type(policy).objects.filter(pk=policy.pk).update(name=name)  # around the validators, which refuse some
    response = client.get("/t/echo", HTTP_ORIGIN=APP)
    assert response["CORS-Policy"] == f"{value}; verdict=allowed"
    assert "Injected" not in response.headers
