"""The CORS playground in Chromium: on http://127.0.0.1:PORT it calls http://localhost:PORT, shows what the
browser did beside the evaluate endpoint's answer, and what reached the server. Demo data from ``demo_setup``."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from testproject.playground import PRESETS

PAGE_HOST = "127.0.0.1"
TARGET_HOST = "localhost"


@pytest.fixture
def port(live_server: Any, transactional_db: None) -> int:
    call_command("demo_setup", stdout=io.StringIO())
    value = urlsplit(live_server.url).port
    assert value is not None
    return value


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def log_in(context: Any, host: str) -> None:
    """The demo admin's session cookie on ``host``, as the admin's login form would set it."""
    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    name = django_settings.SESSION_COOKIE_NAME
    context.add_cookies([{"name": name, "value": client.cookies[name].value, "domain": host, "path": "/"}])


@pytest.fixture
def playground(context: Any, port: int) -> Callable[..., Any]:
    """Open the playground on http://127.0.0.1:PORT, logged in as the demo admin unless told otherwise."""

    def open_playground(*, logged_in: bool = True) -> Any:
        if logged_in:
            log_in(context, PAGE_HOST)
        page = context.new_page()
        page.goto(f"http://{PAGE_HOST}:{port}/playground/")
        page.wait_for_selector("body[data-ready=true]")
        return page

    return open_playground


def send(page: Any, preset: str | None = None) -> None:
    """Pick a preset by label (if given), press Send and wait for the result."""
    if preset is not None:
        page.select_option("#pg-preset", label=preset)
    run = page.get_attribute("#pg-result", "data-run")
    page.click("#pg-send")
    page.wait_for_function(
        "(run) => { const r = document.getElementById('pg-result'); return r.dataset.run !== run && "
        "r.dataset.state === 'done'; }",
        arg=run,
    )


def texts(page: Any, selector: str) -> list[str]:
    return [" ".join(text.split()) for text in page.locator(selector).all_inner_texts()]


def steps(page: Any) -> list[tuple[str, str]]:
    """The server's answers: (title, verdict) of each step shown."""
    return [
        (step.locator("h3").inner_text(), step.locator(".pg-step-verdict").inner_text())
        for step in page.locator("#pg-server-steps .pg-step").all()
    ]


def test_reached_from_the_tester_and_a_preflight_cached_by_max_age(context: Any, port: int) -> None:
    log_in(context, PAGE_HOST)
    page = context.new_page()
    page.goto(f"http://{PAGE_HOST}:{port}/admin/cors_policies/corspolicy/test/")
    with page.expect_navigation():
        page.click("#cors-playground-link")
    assert page.url == f"http://{PAGE_HOST}:{port}/playground/"
    page.wait_for_selector("body[data-ready=true]")
    assert page.inner_text("#pg-page-origin") == f"http://{PAGE_HOST}:{port}"
    assert page.input_value("#pg-target") == f"http://{TARGET_HOST}:{port}"

    send(page, "PUT with a JSON body (preflighted)")
    assert page.inner_text("#pg-request-line") == (
        f"PUT http://{TARGET_HOST}:{port}/api/public/items/1/ from http://{PAGE_HOST}:{port}"
    )
    assert page.inner_text("#pg-browser-verdict") == "Allowed: fetch() resolved and the page read the response."
    assert page.inner_text("#pg-status") == "200 OK"
    assert texts(page, "#pg-response-headers th") == ["content-length", "content-type"]
    assert '"method": "PUT"' in page.inner_text("#pg-body-out")
    assert texts(page, "#pg-seen li") == [
        "OPTIONS /api/public/items/1/ (the preflight, for PUT, headers content-type): 200, with CORS headers: allowed",
        "PUT /api/public/items/1/: 200, with CORS headers",
    ]
    assert steps(page) == [("Preflight (OPTIONS)", "Allowed"), ("The PUT request", "Allowed")]
    assert page.inner_text("#pg-prediction") == "From these answers a browser should have: allowed."
    assert page.inner_text("#pg-agreement") == "The browser did what the server's answer says."

    send(page)  # again, within the policy's Max-Age of 600 s
    assert page.inner_text("#pg-browser-verdict") == "Allowed: fetch() resolved and the page read the response."
    assert texts(page, "#pg-seen li") == ["PUT /api/public/items/1/: 200, with CORS headers"]
    assert page.inner_text("#pg-seen-note") == (
        "No preflight reached the server: the browser answered it from its preflight cache (an earlier one "
        "allowed this within Access-Control-Max-Age)."
    )


def test_authorization_under_a_star_is_refused_with_the_server_reason(playground: Callable[..., Any]) -> None:
    page = playground()
    send(page, "Authorization under allowed headers *")
    assert page.inner_text("#pg-browser-verdict") == (
        "Refused: fetch() rejected, so the page gets nothing but the error."
    )
    assert page.inner_text("#pg-error").startswith("TypeError: Failed to fetch. ")
    assert page.is_hidden("#pg-response")
    assert texts(page, "#pg-seen li") == [
        "OPTIONS /api/echo/anything (the preflight, for GET, headers authorization): 200, without CORS headers: refused"
    ]
    assert page.inner_text("#pg-seen-note") == "The GET request itself never left the browser."
    assert steps(page) == [("Preflight (OPTIONS)", "Refused")]
    reason = (
        "request header authorization is not in the allowed headers * "
        "('*' never covers Authorization: list it explicitly)"
    )
    assert texts(page, "#pg-server-steps .pg-reasons li") == [reason]
    assert texts(page, "#pg-server-steps > p.pg-aside") == ["So the browser never sends the GET request itself."]
    assert page.inner_text("#pg-prediction") == f"From these answers a browser should have: refused ({reason})."
    assert page.inner_text("#pg-agreement") == "The browser did what the server's answer says."

    send(page, "Authorization listed explicitly")
    assert page.inner_text("#pg-browser-verdict") == "Allowed: fetch() resolved and the page read the response."
    assert '"authorization": "Bearer demo-token"' in page.inner_text("#pg-body-out")
    assert texts(page, "#pg-response-headers th") == ["content-length", "content-type", "x-request-id"]
    assert steps(page) == [("Preflight (OPTIONS)", "Allowed"), ("The GET request", "Allowed")]


def test_credentials_to_a_star_policy_are_refused_by_the_browser_alone(playground: Callable[..., Any]) -> None:
    """The engine allows the request; the browser refuses it because of the credentials mode. The page
    predicts that from the server's headers."""
    page = playground()
    send(page, "Cookies to a * policy")
    assert page.inner_text("#pg-browser-verdict").startswith("Refused")
    assert texts(page, "#pg-seen li") == ["GET /api/public/items/: 200, with CORS headers"]
    assert steps(page) == [("The GET request", "Allowed")]
    assert page.inner_text("#pg-prediction") == (
        "From these answers a browser should have: refused (Access-Control-Allow-Origin is *, which never allows "
        "a request with credentials)."
    )
    assert page.inner_text("#pg-agreement") == "The browser did what the server's answer says."


def test_every_preset_the_page_predicts_what_chromium_does(playground: Callable[..., Any]) -> None:
    page = playground()
    outcomes = []
    for preset in PRESETS:
        send(page, preset["label"])
        outcomes.append((preset["label"], page.inner_text("#pg-agreement")))
    assert outcomes == [(preset["label"], "The browser did what the server's answer says.") for preset in PRESETS]


def test_without_a_login_the_browser_side_still_works(playground: Callable[..., Any], port: int) -> None:
    page = playground(logged_in=False)
    send(page, "Simple GET from any origin")
    assert page.inner_text("#pg-browser-verdict") == "Allowed: fetch() resolved and the page read the response."
    assert texts(page, "#pg-response-headers th") == ["content-length", "content-type", "x-total-count"]
    assert page.is_visible("#pg-login")
    assert page.get_attribute("#pg-login a", "href") == "/admin/login/?next=/playground/"
    assert steps(page) == []


def test_bad_input_says_what_to_write(playground: Callable[..., Any]) -> None:
    page = playground()
    page.fill("#pg-headers", "X-Fine: 1\noops")
    send(page)
    assert page.inner_text("#pg-browser-verdict") == "Not sent."
    assert page.inner_text("#pg-error") == (
        "Request headers, line 2: write Name: value, such as X-Requested-With: playground."
    )

    page.fill("#pg-headers", "")
    page.fill("#pg-method", "GET")
    page.fill("#pg-body", "{}")
    send(page)
    assert page.inner_text("#pg-browser-verdict") == "Not sent: the browser would not build this request."
    assert page.inner_text("#pg-error") == (
        "TypeError: Failed to construct 'Request': Request with GET/HEAD method cannot have body."
    )

    page.fill("#pg-target", "not an origin")
    send(page)
    assert page.inner_text("#pg-error") == (
        "Write the target as an origin, such as http://localhost:8000, and the path as /api/public/items/."
    )


def test_the_credentials_example_works_on_the_port_served(context: Any, port: int) -> None:
    """The live server's port is never 8000: ``demo_setup ADDRESS`` (as the demo's runserver does with the port it
    bound) moves the profile policy's own origin there, and the page on http://localhost:PORT may read it."""
    assert port != 8000
    call_command("demo_setup", f"127.0.0.1:{port}", stdout=io.StringIO())
    log_in(context, TARGET_HOST)
    page = context.new_page()
    page.goto(f"http://{TARGET_HOST}:{port}/playground/")
    page.wait_for_selector("body[data-ready=true]")
    page.select_option("#pg-preset", label="Cookies with a credentials policy")
    assert page.inner_text("#pg-preset-note").startswith(f"Allowed from http://localhost:{port} only")
    send(page)
    assert page.inner_text("#pg-browser-verdict") == "Allowed: fetch() resolved and the page read the response."
    assert page.inner_text("#pg-agreement") == "The browser did what the server's answer says."
