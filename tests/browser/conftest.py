"""Real-browser tests: Debian's Chromium, driven by Playwright's sync API, against pytest-django's live server.

Chromium is never downloaded by Playwright: the tests use ``/usr/bin/chromium``. Where it or the
playwright package is missing they skip and say why, except with ``CORS_POLICIES_REQUIRE_BROWSER=1`` (CI),
where a missing browser is a failure.

One browser serves the whole package. It is package-scoped rather than session-scoped on purpose: while
Playwright's sync API is running it keeps an asyncio loop on the main thread, and ``async_to_sync`` (used by
the async middleware tests) refuses to run in a thread with a running loop. For the same reason
``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while the browser runs (the database is used from the test thread while
that loop exists) and restored afterwards, so the rest of the suite keeps Django's guard.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from testproject import settings as demo_settings

CHROMIUM = "/usr/bin/chromium"
REQUIRE_ENV = "CORS_POLICIES_REQUIRE_BROWSER"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host name resolves to loopback inside Chromium, so pages can live on many origins of the one
    # live server (http://app.example.test:PORT, http://evil.test:PORT...); it never looks names up.
    "--host-resolver-rules=MAP * 127.0.0.1",
]
PASSWORD = "browser-test-password"


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is not installed at {CHROMIUM} (on Debian: apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return (
            "the playwright Python package is not installed (pip install playwright; Chromium itself comes from "
            "Debian: apt-get install -y chromium)"
        )
    return None


def skip_or_fail(reason: str) -> None:
    """Skip with the reason; with CORS_POLICIES_REQUIRE_BROWSER=1 (CI), fail instead."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (set {REQUIRE_ENV}=1 to make this a failure)")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    reason = unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    from playwright.sync_api import Error, sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            try:
                launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            except Error as exc:
                skip_or_fail(f"Chromium at {CHROMIUM} did not start: {exc}")
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """pytest-django's live server, its request handler built with the demo's middleware (the origin log counts
    what reaches the server): a handler reads MIDDLEWARE once, when the server starts."""
    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    with override_settings(MIDDLEWARE=demo_settings.MIDDLEWARE):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _demo(demo: None) -> None:
    """The browser tests drive the demo project: its pages, the views its policies cover, its origin log."""


@pytest.fixture
def superuser(transactional_db: None, django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)


@pytest.fixture
def port(live_server: Any) -> int:
    """The live server's port: pages on other origins (``http://HOST:PORT``) are served by the same server."""
    value = urlsplit(live_server.url).port
    assert value is not None
    return value


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test: its own preflight cache and cookie jar."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def login(page: Any, live_server: Any, superuser: Any) -> Callable[[], Any]:
    """Log in through the admin's login form, as a person would."""

    def do_login() -> Any:
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", superuser.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#user-tools")
        return page

    return do_login
