"""Chromium judges the origin policy beyond CORS (issue 17): CSRF trust per policy, Timing-Allow-Origin and
WebSocket handshakes.

Pages live on several origins of the one live server (``--host-resolver-rules``, see conftest):
``http://app.example.test:PORT`` and ``http://other.example.test:PORT`` are the same site as the API on
``http://api.example.test:PORT``, so the API's SameSite=Lax ``csrftoken`` cookie goes along with
``credentials: "include"`` from both: what tells them apart is Django's CSRF origin check, which the demo's
``cors_policies.csrf.CsrfViewMiddleware`` answers from the policy of ``/api/orders/``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench.propagation import free_port
from cors_policies.channels import PolicyOriginValidator
from cors_policies.models import CorsPolicy, ObservedOrigin
from cors_policies.observed import recorder
from tests.factories import CorsPolicyFactory

pytestmark = pytest.mark.django_db(transaction=True)

#: Fetch the token from the API (setting its cookie), then post an order with it; returns what the page saw.
POST_ORDER = """async ([api, form]) => {
    const got = await fetch(api + "/api/orders/csrf/", {credentials: "include", cache: "no-store"});
    const {token} = await got.json();
    const init = {method: "POST", credentials: "include", cache: "no-store"};
    if (form) {
        // A simple request (no preflight): the token in the form body, an opaque answer if CORS refuses.
        init.mode = "no-cors";
        init.body = new URLSearchParams({csrfmiddlewaretoken: token, item: "teapot"});
    } else {
        init.headers = {"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded"};
        init.body = "item=teapot";
    }
    try {
        const response = await fetch(api + "/api/orders/", init);
        return {ok: true, status: response.status, body: form ? "" : await response.text()};
    } catch (error) {
        return {ok: false, error: `${error.name}: ${error.message}`};
    }
}"""

#: Fetch a URL cross-origin and return its resource timing entry's detailed fields.
TIMING = """async (url) => {
    const response = await fetch(url, {cache: "no-store"});
    await response.text();
    for (let i = 0; i < 50; i++) {
        const entries = performance.getEntriesByName(url, "resource");
        if (entries.length) {
            const e = entries[entries.length - 1];
            return {requestStart: e.requestStart, responseStart: e.responseStart, transferSize: e.transferSize,
                    encodedBodySize: e.encodedBodySize, wait: e.responseStart - e.requestStart};
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return null;
}"""


def origin(host: str, port: int) -> str:
    return f"http://{host}:{port}"


@pytest.fixture
def open_page(context: Any, port: int) -> Callable[[str], Any]:
    def open_on(host: str) -> Any:
        page = context.new_page()
        page.goto(origin(host, port) + "/")
        return page

    return open_on


@pytest.fixture
def orders_policy(port: int) -> CorsPolicy:
    """The API's CSRF-trusted policy: the app's pages may read the token and post orders with it."""
    policy: CorsPolicy = CorsPolicyFactory(
        name="orders",
        path_pattern="/api/**",
        allowed_origins=[origin("app.example.test", port)],
        allowed_methods=["GET", "POST"],
        allowed_headers=["X-CSRFToken", "Content-Type"],
        allow_credentials=True,
        csrf_trusted=True,
    )
    return policy


def csrf_refusals(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "django.security.csrf"]


def test_a_page_on_a_trusted_origin_posts_with_the_token(
    open_page: Callable[[str], Any], port: int, orders_policy: CorsPolicy, caplog: Any
) -> None:
    page = open_page("app.example.test")
    result = page.evaluate(POST_ORDER, [origin("api.example.test", port), False])
    assert result == {"ok": True, "status": 200, "body": '{"ok": true, "order": "teapot"}'}
    assert csrf_refusals(caplog) == []


def test_the_same_post_from_another_origin_is_refused_by_the_csrf_check(
    open_page: Callable[[str], Any], port: int, orders_policy: CorsPolicy, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="django.security.csrf")
    api = origin("api.example.test", port)
    # The app's page gets the token (and the cookie, for the whole site); the other page posts with it.
    token = open_page("app.example.test").evaluate(
        "async (api) => (await (await fetch(api + '/api/orders/csrf/', {credentials: 'include'})).json()).token", api
    )
    other = open_page("other.example.test")
    with other.expect_response(f"{api}/api/orders/") as answer:
        other.evaluate(
            """async ([api, token]) => fetch(api + "/api/orders/", {method: "POST", mode: "no-cors",
                credentials: "include", body: new URLSearchParams({csrfmiddlewaretoken: token})})""",
            [api, token],
        )
    assert answer.value.status == 403
    assert csrf_refusals(caplog) == [
        f"Forbidden (Origin checking failed - {origin('other.example.test', port)} does not match any trusted "
        "origins.): /api/orders/"
    ]
    # The same form post from the trusted origin passes: only the origin differed.
    app = open_page("app.example.test")
    with app.expect_response(f"{api}/api/orders/") as answer:
        app.evaluate(
            """async ([api, token]) => fetch(api + "/api/orders/", {method: "POST", mode: "no-cors",
                credentials: "include", body: new URLSearchParams({csrfmiddlewaretoken: token})})""",
            [api, token],
        )
    assert answer.value.status == 200


def test_turning_trust_off_in_the_admin_takes_effect_without_a_restart(
    open_page: Callable[[str], Any],
    port: int,
    orders_policy: CorsPolicy,
    caplog: Any,
    login: Callable[[], Any],
    live_server: Any,
) -> None:
    """Untick "CSRF trusted" on the policy's change form: the same page's next post is refused; tick it back."""
    page = open_page("app.example.test")
    api = origin("api.example.test", port)
    assert page.evaluate(POST_ORDER, [api, False])["status"] == 200
    admin = login()
    change_form = f"{live_server.url}/admin/cors_policies/corspolicy/{orders_policy.pk}/change/"

    def save_with_trust(trusted: bool) -> None:
        admin.goto(change_form)
        admin.set_checked("#id_csrf_trusted", trusted)
        with admin.expect_navigation():
            admin.click("input[name=_save]")
        message = admin.locator("ul.messagelist li.success").first.inner_text()
        assert message.startswith("The CORS policy “orders (/api/**)”"), message
        orders_policy.refresh_from_db()
        assert orders_policy.csrf_trusted is trusted

    save_with_trust(False)
    result = page.evaluate(POST_ORDER, [api, False])
    assert (result["ok"], result["status"]) == (True, 403)  # CORS still lets the page read the refusal
    assert csrf_refusals(caplog)[-1] == (
        f"Forbidden (Origin checking failed - {origin('app.example.test', port)} does not match any trusted "
        "origins.): /api/orders/"
    )
    save_with_trust(True)
    assert page.evaluate(POST_ORDER, [api, False]) == {
        "ok": True,
        "status": 200,
        "body": '{"ok": true, "order": "teapot"}',
    }


@pytest.mark.parametrize("timing", [True, False])
def test_resource_timing_is_detailed_only_with_timing_allow_origin(
    open_page: Callable[[str], Any], port: int, timing: bool
) -> None:
    CorsPolicyFactory(
        name="echo",
        path_pattern="/api/echo/**",
        allowed_origins=[origin("app.example.test", port)],
        allowed_methods=["GET"],
        timing_allow_origin=timing,
    )
    page = open_page("app.example.test")
    entry = page.evaluate(TIMING, origin("api.example.test", port) + "/api/echo/timing")
    assert entry is not None
    if timing:
        assert entry["requestStart"] > 0
        assert entry["responseStart"] >= entry["requestStart"] > 0
        assert entry["transferSize"] > 0 and entry["encodedBodySize"] > 0
    else:
        assert entry == {"requestStart": 0, "responseStart": 0, "transferSize": 0, "encodedBodySize": 0, "wait": 0}


# -- a real WebSocket from Chromium, through uvicorn and a Channels consumer -------------------------------


@pytest.fixture
def ws_server(transactional_db: None, settings: Any) -> Iterator[int]:
    """uvicorn, in a thread of this process (so it shares the snapshot and the recorder), serving a Channels
    echo consumer at /ws/chat/<room> behind PolicyOriginValidator, and an HTML page at every other path."""
    pytest.importorskip("channels")
    uvicorn = pytest.importorskip("uvicorn")
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import path

    class Echo(AsyncWebsocketConsumer):
        async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
            await self.send(text_data=f"echo: {text_data}")

    async def page(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<!doctype html><title>page</title>"})

    application = ProtocolTypeRouter(
        {"http": page, "websocket": PolicyOriginValidator(URLRouter([path("ws/chat/<room>", Echo.as_asgi())]))}
    )
    settings.CORS_POLICIES = {"OBSERVE_FLUSH": "manual"}
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(5)


OPEN_SOCKET = """(url) => new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.onopen = () => socket.send("hello");
    socket.onmessage = (event) => { resolve({opened: true, message: event.data}); socket.close(); };
    socket.onerror = () => resolve({opened: false});
})"""


def test_chromium_connects_from_an_allowed_origin_and_is_refused_from_another(browser: Any, ws_server: int) -> None:
    port = ws_server
    app, evil = f"http://app.example.test:{port}", f"http://evil.test:{port}"
    CorsPolicyFactory(name="chat", path_pattern="/ws/chat/*", allowed_origins=[app])
    context = browser.new_context()
    try:
        socket_url = f"ws://api.example.test:{port}/ws/chat/lobby"
        allowed = context.new_page()
        allowed.goto(app + "/")
        assert allowed.evaluate(OPEN_SOCKET, socket_url) == {"opened": True, "message": "echo: hello"}
        refused = context.new_page()
        refused.goto(evil + "/")
        assert refused.evaluate(OPEN_SOCKET, socket_url) == {"opened": False}
        own = context.new_page()  # the API's own page: same origin, always connects
        own.goto(f"http://api.example.test:{port}/")
        assert own.evaluate(OPEN_SOCKET, socket_url) == {"opened": True, "message": "echo: hello"}
    finally:
        context.close()
    recorder.flush()
    rows = ObservedOrigin.objects.order_by("origin").values_list("policy__name", "origin", "verdict", "reason")
    assert list(rows) == [("chat", app, "allowed", ""), ("chat", evil, "refused", "origin")]
