"""The CORS middleware: thin. It reads four request headers, asks the engine, writes the answer.

Place it first in MIDDLEWARE, so a preflight is answered before anything else (CommonMiddleware's
redirects, authentication) can turn it into a redirect or a 403, and so every response it passes back
up, errors included, gets its headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers

from .cache import snapshot
from .conf import conf
from .engine import Decision, PolicySet

GetResponse = Callable[[HttpRequest], Any]


def decide(policy_set: PolicySet, request: HttpRequest) -> Decision | None:
    """The engine's decision for ``request``, or None when no policy covers its path."""
    policy = policy_set.match(request.path_info)
    if policy is None:
        return None
    meta = request.META
    return policy_set.decide(
        policy,
        origin=meta.get("HTTP_ORIGIN"),
        method=request.method or "GET",
        request_method=meta.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
        request_headers=meta.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
        private_network=meta.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", "").lower() == "true",
    )


def preflight_response(decision: Decision) -> HttpResponse:
    """An empty 2xx; the CORS headers say whether the browser may go on."""
    response = HttpResponse(status=conf.PREFLIGHT_STATUS)
    response["Content-Length"] = "0"
    apply_decision(response, decision)
    return response


def apply_decision(response: HttpResponseBase, decision: Decision) -> None:
    for name, value in decision.headers:
        response[name] = value
    if decision.vary:
        if response.has_header("Vary"):
            patch_vary_headers(response, decision.vary)
        else:  # the common case, without patch_vary_headers' parsing
            response["Vary"] = ", ".join(decision.vary)


class CorsPolicyMiddleware:
    """Answers preflights for covered paths and decorates every other response of those paths."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        policy_set = snapshot.get()
        decision = decide(policy_set, request) if policy_set is not None else None
        if decision is None:
            return self.get_response(request)
        if decision.preflight:
            return preflight_response(decision)
        response = self.get_response(request)
        apply_decision(response, decision)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if snapshot.needs_refresh():
            # Loading touches the database: never on the event loop.
            await sync_to_async(snapshot.refresh)()
        policy_set = snapshot.current
        decision = decide(policy_set, request) if policy_set is not None else None
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        if decision is None:
            return await get_response(request)
        if decision.preflight:
            return preflight_response(decision)
        response = await get_response(request)
        apply_decision(response, decision)
        return response
