"""WebSocket handshakes checked by the policies (issue 17): ``cors_policies.channels.PolicyOriginValidator``.

The ASGI wrapper, driven directly: the handshake messages it lets through or refuses, the observed origins it
counts. A real WebSocket from Chromium to uvicorn and a Channels consumer: tests/browser/test_origin_policy.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from cors_policies.cache import snapshot
from cors_policies.channels import PolicyOriginValidator
from cors_policies.models import ObservedOrigin
from cors_policies.observed import recorder
from cors_policies.services.evaluate import evaluate_handshake
from tests.helpers import APP

OTHER = "https://evil.example"


async def accepting_app(scope: Any, receive: Any, send: Any) -> None:
    """A WebSocket application that accepts every handshake."""
    message = await receive()
    assert message["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})


def handshake(path: str, origin: str | None, host: str = "api.example.com", scheme: str = "wss") -> list[Any]:
    """What the wrapped application sends back to a handshake: [accept] or [close]."""
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    scope = {"type": "websocket", "path": path, "scheme": scheme, "headers": headers}
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(PolicyOriginValidator(accepting_app)(scope, receive, send))
    return sent


ACCEPT = [{"type": "websocket.accept"}]
CLOSE = [{"type": "websocket.close", "code": 1008}]


@pytest.fixture
def policies(make_policy: Callable[..., Any], settings: Any) -> None:
    settings.CORS_POLICIES = {"REFRESH_INTERVAL": 3600, "OBSERVE_FLUSH": "manual"}
    make_policy(name="chat", path_pattern="/ws/chat/**", allowed_origins=[APP, "https://*.example.org"])
    make_policy(name="feed", path_pattern="/ws/feed", allowed_origins=["*"])
    snapshot.get()  # loaded here, in the test's transaction; the handshakes read it


@pytest.mark.django_db
@pytest.mark.usefixtures("policies")
@pytest.mark.parametrize(
    ("path", "origin", "expected"),
    [
        ("/ws/chat/room", APP, ACCEPT),
        ("/ws/chat/room", "https://a.example.org", ACCEPT),
        ("/ws/feed", OTHER, ACCEPT),
        ("/ws/feed", None, ACCEPT),
        ("/ws/chat/room", OTHER, CLOSE),
        ("/ws/chat/room", "null", CLOSE),
        ("/ws/chat/room", None, CLOSE),
        ("/ws/other", APP, CLOSE),  # no policy covers it
        ("/admin/ws", APP, CLOSE),  # protected: no policy governs it
        # The site's own pages always connect, covered path or not, whatever the socket's scheme says.
        ("/ws/other", "https://api.example.com", ACCEPT),
        ("/ws/chat/room", "http://api.example.com", ACCEPT),
        ("/ws/other", "https://api.example.com:443", ACCEPT),
        ("/ws/other", "https://api.example.com.evil.example", CLOSE),
        ("/ws/other", "https://api.example.com:8443", CLOSE),
    ],
)
def test_a_handshake_connects_only_when_the_policy_allows_its_origin(
    path: str, origin: str | None, expected: list[Any]
) -> None:
    assert handshake(path, origin) == expected
    # cors_explain --websocket asks the same code, so it tells the same verdict.
    answer = evaluate_handshake(origin=origin, path=path, host="api.example.com", secure=True)
    decision = answer.decision
    connects = answer.same_origin or (decision is not None and decision.covered and decision.allowed)
    assert connects is (expected == ACCEPT)


@pytest.mark.django_db
@pytest.mark.usefixtures("policies")
def test_verdicts_are_observed_with_the_same_reasons() -> None:
    handshake("/ws/chat/room", APP)
    handshake("/ws/chat/room", OTHER)
    handshake("/ws/chat/room", OTHER)
    handshake("/ws/other", "https://api.example.com")  # same origin: not a cross-origin request, not counted
    recorder.flush()
    rows = ObservedOrigin.objects.order_by("origin").values_list("policy__name", "origin", "verdict", "reason", "count")
    assert list(rows) == [("chat", APP, "allowed", "", 1), ("chat", OTHER, "refused", "origin", 2)]


def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def nothing() -> Any:
        return {}

    async def ignore(message: Any) -> None:
        return None

    asyncio.run(PolicyOriginValidator(app)({"type": "http", "path": "/ws/chat/x", "headers": []}, nothing, ignore))
    asyncio.run(PolicyOriginValidator(app)({"type": "lifespan"}, nothing, ignore))
    assert seen == ["http", "lifespan"]
