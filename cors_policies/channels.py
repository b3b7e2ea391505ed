"""WebSocket handshakes checked by the policies: an ASGI wrapper for Django Channels (the ``channels`` extra).

Browsers send ``Origin`` on a WebSocket handshake but CORS does not apply to it: without a check, any page can
open a socket to your site with your users' cookies (cross-site WebSocket hijacking). Channels'
``OriginValidator`` takes a static list; :class:`PolicyOriginValidator` asks the policy covering the socket's
path instead, with the engine the CORS middleware uses, from this process's snapshot (edits apply without a
restart), and counts each verdict under Observed origins with the same refusal reasons.

A plain ASGI application: it needs nothing from Channels itself, so it wraps a ``URLRouter`` as well as any
other WebSocket application::

    application = ProtocolTypeRouter({
        "http": get_asgi_application(),
        "websocket": PolicyOriginValidator(URLRouter(websocket_urlpatterns)),
    })
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.sync import sync_to_async

from .engine import Decision, PolicySet, printable
from .observed import recorder
from .services.evaluate import handshake_verdict, same_origin
from .snapshot import snapshot

__all__ = ["PolicyOriginValidator", "handshake_decision", "is_same_origin"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Refused handshakes, at DEBUG (attacker-chosen values escaped), like the middleware's refusals.
decision_logger = logging.getLogger("cors_policies.decisions")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def is_same_origin(scope: Scope, origin: str) -> bool:
    """Whether ``origin`` is the site's own: its host and port are the handshake's ``Host``."""
    return same_origin(origin, _header(scope, b"host"), secure=scope.get("scheme") == "wss")


def handshake_decision(policy_set: PolicySet, scope: Scope, origin: str | None) -> Decision | None:
    """The engine's verdict on a handshake from ``origin`` to the scope's path, as for a GET; None when no
    policy covers the path (or it is a protected one, which no policy governs). ``cors_explain --websocket``
    asks the same :func:`~cors_policies.services.evaluate.handshake_verdict`."""
    path = str(scope.get("path") or "/")
    root = str(scope.get("root_path") or "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    decision = handshake_verdict(policy_set, path, origin)
    return decision if decision is not None and decision.covered else None


class PolicyOriginValidator:
    """Accept a WebSocket handshake only when the policy covering its path allows its ``Origin``.

    A same-origin handshake (the site's own pages) always connects, covered path or not. Any other is refused
    (closed before the application sees it, which the browser reports as a failed connection) when no policy
    covers the path, when the policies could not be loaded, when it has no ``Origin``, or when the policy
    refuses the origin. Other scope types (``http``, ``lifespan``) pass through untouched.
    """

    def __init__(self, application: ASGIApp) -> None:
        self.application = application
        recorder.configure()  # as the middleware does: the settings of Observed origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "websocket" or await self.allows(scope):
            await self.application(scope, receive, send)
            return
        # Refuse the handshake: wait for websocket.connect, then close, which the server answers with 403.
        message = await receive()
        if message.get("type") == "websocket.connect":
            await send({"type": "websocket.close", "code": 1008})

    async def allows(self, scope: Scope) -> bool:
        origin = _header(scope, b"origin")
        if origin is not None and is_same_origin(scope, origin):
            return True
        if snapshot.needs_refresh():
            await sync_to_async(snapshot.refresh)()  # loading touches the database: never on the event loop
        policy_set = snapshot.current
        if policy_set is None:
            return False
        decision = handshake_decision(policy_set, scope, origin)
        if decision is None:
            self.log(scope, origin, "no policy covers this path")
            return False
        policy = decision.policy
        assert policy is not None  # a covered path's decision names its policy
        if origin is not None and recorder.enabled:
            reason = "" if decision.allowed else decision.refusals[0].code
            recorder.record(policy.id, origin, decision.allowed, reason)
            if recorder.flushes_on_requests and recorder.flush_due():
                await sync_to_async(recorder.flush)()  # a database write: never on the event loop
        if not decision.allowed:
            self.log(scope, origin, f"policy {policy.name!r}: " + "; ".join(decision.reasons))
        return decision.allowed

    @staticmethod
    def log(scope: Scope, origin: str | None, why: str) -> None:
        if decision_logger.isEnabledFor(logging.DEBUG):
            decision_logger.debug(
                "WebSocket handshake to %s from origin %s refused: %s",
                printable(str(scope.get("path") or "")),
                "(none)" if origin is None else printable(origin),
                why,
            )
