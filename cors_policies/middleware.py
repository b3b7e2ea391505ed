"""The CORS middleware: thin. It reads the request's CORS headers (:func:`request_info`, the one place), asks the
engine (:func:`~cors_policies.engine.decide`), writes the answer.

On a path a policy covers, that answer is the only one: CORS headers a view or an inner middleware set are
removed first (:func:`remove_cors_headers`), also when the policy refuses. Protected paths (the admin, this
app's API: :mod:`cors_policies.protected`) are left alone, whatever the policies say.

Place it first in MIDDLEWARE, so a preflight is answered before anything else (CommonMiddleware's
redirects, authentication) can turn it into a redirect or a 403, and so every response it passes back
up, errors included, gets its headers.

Beside the answer it observes (:func:`observe`): the verdict is counted in memory for "Observed origins", the
report-only policy's verdict (the same decide gives it) is compared, refusals are logged at DEBUG and
``cors_decision`` is sent to its receivers. None of that changes a response.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers

from . import protected as _protected
from .conf import conf
from .engine import DEFAULT_PORTS, Decision, RequestInfo, Verdict, decide, printable
from .observed import recorder
from .protected import current as protected_paths
from .signals import cors_decision
from .snapshot import snapshot

GetResponse = Callable[[HttpRequest], Any]

#: Refusals and report-only differences, at DEBUG (attacker-chosen values escaped, one line each).
decision_logger = logging.getLogger("cors_policies.decisions")


def request_info(request: HttpRequest) -> RequestInfo:
    """The request as the engine reads it: the one place the middleware reads the CORS request headers."""
    meta = request.META
    private_network = meta.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK")
    return _request_info(  # RequestInfo(...) without its Python-level __new__: this runs on every request
        RequestInfo,
        (
            request.path_info,
            request.method or "GET",
            meta.get("HTTP_ORIGIN"),
            meta.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
            meta.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            private_network is not None and private_network.lower() == "true",
        ),
    )


_request_info = tuple.__new__


#: Where Django's get_host() finds the host (X-Forwarded-Host only with USE_X_FORWARDED_HOST).
_HOST_KEYS = ("HTTP_HOST", "HTTP_X_FORWARDED_HOST", "SERVER_NAME")


def is_same_origin(request: HttpRequest, origin: str) -> bool:
    """Whether ``origin`` is the site's own (such a request needs no CORS, so its "refusal" is none)."""
    # Fast refusal for the common cross-origin case, before get_host()'s validation (a few µs): the
    # host get_host() returns is one of these headers, so it must contain the origin's host name.
    authority = origin.partition("://")[2]
    name = authority[: authority.find("]") + 1] if authority.startswith("[") else authority.partition(":")[0]
    meta = request.META
    if not name or not (  # the three keys of _HOST_KEYS, without a generator (refused requests pay this)
        name in meta.get("HTTP_HOST", "")
        or name in meta.get("HTTP_X_FORWARDED_HOST", "")
        or name in meta.get("SERVER_NAME", "")
    ):
        return False
    try:
        host = request.get_host()
    except Exception:  # DisallowedHost and the like: Django answers 400 for it anyway
        return False
    scheme = request.scheme
    port = f":{DEFAULT_PORTS.get(scheme or '')}"
    if host.endswith(port):
        host = host[: -len(port)]
    return origin == f"{scheme}://{host}"


def observe(request: HttpRequest, info: RequestInfo, decided: Decision) -> bool:
    """Count, log and signal the verdicts for ``request``; never changes the response.

    Returns True when this request should write the counters (``OBSERVE_FLUSH = "request"``).
    """
    origin = info.origin
    if origin is None:  # not a cross-origin browser request: nothing to observe
        return False
    policy = decided.policy
    report = decided.report_only
    if report is None:
        if policy is None:
            return False
        if decided.allowed:  # the common case, in as few steps as it takes
            flush = recorder.record(policy.id, origin, True) if recorder.enabled else _flush_due()
            if cors_decision.receivers:
                cors_decision.send(
                    CorsPolicyMiddleware, request=request, origin=origin, decision=decided, report_only=None
                )
            return flush
    decision = decided if policy is not None else None
    served = decision is not None and decision.allowed
    if not served and is_same_origin(request, origin):
        return False
    due: bool | None = None  # recorder.flush_due(), from the clock read of record() when it records
    if decision is not None:
        assert policy is not None  # a covered path's decision names its policy
        if served:
            if recorder.enabled:
                due = recorder.record(policy.id, origin, True)
        else:
            reason = decision.refusals[0].code
            if recorder.enabled:
                due = recorder.record(policy.id, origin, False, reason)
            if decision_logger.isEnabledFor(logging.DEBUG):
                decision_logger.debug(
                    "CORS refused %s %s from origin %s by policy %r: %s",
                    printable(info.method),
                    printable(info.path),
                    printable(origin),
                    policy.name,
                    "; ".join(decision.reasons),
                )
    if report is not None and report.allowed != served and (report.allowed or not is_same_origin(request, origin)):
        _observe_difference(info, origin, decision, report)
    if cors_decision.receivers:
        cors_decision.send(CorsPolicyMiddleware, request=request, origin=origin, decision=decision, report_only=report)
    return _flush_due() if due is None else due


def _flush_due() -> bool:
    return recorder.flushes_on_requests and recorder.flush_due()


def _observe_difference(info: RequestInfo, origin: str, decision: Decision | None, report: Decision) -> None:
    """Where the report-only policy's verdict differs from the one served: both verdicts are recorded."""
    policy = report.policy
    assert policy is not None
    served = Verdict.UNCOVERED if decision is None else (Verdict.ALLOWED if decision.allowed else Verdict.REFUSED)
    reason = "" if report.allowed else report.refusals[0].code
    if recorder.enabled:
        recorder.record(policy.id, origin, report.allowed, reason, served)
    if decision_logger.isEnabledFor(logging.DEBUG):
        verdict = "allow" if report.allowed else "refuse (" + "; ".join(report.reasons) + ")"
        decision_logger.debug(
            "CORS report-only policy %r would %s %s %s from origin %s; served: %s",
            policy.name,
            verdict,
            printable(info.method),
            printable(info.path),
            printable(origin),
            "no policy" if decision is None else served,
        )


def preflight_response(decision: Decision) -> HttpResponse:
    """An empty 2xx; the CORS headers say whether the browser may go on.

    Built with its headers in one go (``HttpResponse(headers=...)``): the same headers, in the same order, as
    setting each on the response, for half the cost (a preflight must not cost more than the request it
    precedes). The header dict is kept on the decision, which the engine shares between the requests that get
    the same answer (:func:`~cors_policies.engine.decide`), until a setting changes."""
    hot = _hot or _read_settings()
    prepared = decision.prepared
    if prepared is None or prepared[0] is not hot:
        headers = dict(hot.preflight_head)  # Content-Type and Content-Length: 0
        headers.update(decision.headers)
        vary = decision.vary
        if vary:
            headers["Vary"] = ", ".join(vary)
        if hot.debug_headers:  # development only (check --deploy: E022)
            headers[DEBUG_HEADER] = debug_header(decision)
        decision.prepared = prepared = (hot, headers)
    return HttpResponse(status=hot.preflight_status, headers=prepared[1])


#: The CORS response headers (lower case, as Django's ResponseHeaders stores them). On a covered path the
#: policy is authoritative: whatever a view or an inner middleware set is removed before its answer is written,
#: so a view echoing any Origin with credentials cannot open a path the policy closes.
CORS_RESPONSE_HEADERS: Final = frozenset(
    {
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-private-network",
    }
)


def remove_cors_headers(response: HttpResponseBase) -> None:
    """Drop the CORS headers a view or an inner middleware set (a set test on the header store, ~0.4 µs)."""
    _cleared(response)


def _cleared(response: HttpResponseBase) -> bool:
    """:func:`remove_cors_headers`, and whether the response has a ``Vary`` header (read off the same store:
    ``has_header`` costs as much as a write when it is absent, the common case)."""
    headers = response.headers
    store = getattr(headers, "_store", None)  # {lower-case name: (name, value)}; the public API costs ~10x
    if isinstance(store, dict):
        if not store.keys().isdisjoint(CORS_RESPONSE_HEADERS):
            for name in CORS_RESPONSE_HEADERS:
                store.pop(name, None)
        return "vary" in store
    for name in [name for name in headers if name.lower() in CORS_RESPONSE_HEADERS]:  # pragma: no cover
        del headers[name]
    return response.has_header("Vary")  # pragma: no cover


def apply_decision(response: HttpResponseBase, decision: Decision) -> None:
    """Write the policy's answer, in place of any CORS headers the response already had.

    The headers are written through ``response.headers`` (Django's public API, which checks each name and value);
    the header store is only read (:func:`_cleared`)."""
    has_vary = _cleared(response)
    headers = response.headers
    for name, value in decision.headers:
        headers[name] = value
    vary = decision.vary
    if vary:
        if has_vary:
            patch_vary_headers(response, vary)
        else:  # the common case, without patch_vary_headers' parsing
            headers["Vary"] = ", ".join(vary)
    if (_hot or _read_settings()).debug_headers:  # development only (check --deploy: E022)
        headers[DEBUG_HEADER] = debug_header(decision)


class _HotSettings:
    """What the request path needs of the settings, read once and again after a settings change (a settings
    look-up costs about 1 µs: the hot path reads no settings)."""

    __slots__ = ("debug_headers", "preflight_head", "preflight_status")

    def __init__(self) -> None:
        self.debug_headers = bool(conf.DEBUG_HEADERS)
        self.preflight_status: Any = conf.PREFLIGHT_STATUS
        #: The headers an empty HttpResponse starts with, and the preflight's Content-Length.
        self.preflight_head: Final = {
            "Content-Type": f"text/html; charset={settings.DEFAULT_CHARSET}",
            "Content-Length": "0",
        }


_hot: _HotSettings | None = None


def _read_settings() -> _HotSettings:
    global _hot
    hot = _hot = _HotSettings()
    return hot


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    global _hot
    if setting in ("CORS_POLICIES", "DEFAULT_CHARSET"):
        _hot = None


setting_changed.connect(_settings_changed, dispatch_uid="cors_policies_middleware_settings")


#: The debug header (``DEBUG_HEADERS``): the policy, its verdict and the first refusal's code.
DEBUG_HEADER: Final = "CORS-Policy"


def _quoted(text: str) -> str:
    """``text`` as a structured-field string (RFC 8941): quotes and backslashes escaped; a character outside
    printable ASCII (a policy name is staff input: a line break must never reach a header) as %XX of its UTF-8."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif " " <= char <= "~" and char != "%":
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    return '"' + "".join(out) + '"'


def debug_header(decision: Decision) -> str:
    """``"<name>"; verdict=allowed`` or ``"<name>"; verdict=refused; reason=<code>``."""
    assert decision.policy is not None  # only a covered path's decision is applied
    value = f"{_quoted(decision.policy.name)}; verdict={'allowed' if decision.allowed else 'refused'}"
    if decision.refusals:
        value += f"; reason={decision.refusals[0].code}"
    return value


class CorsPolicyMiddleware:
    """Answers preflights for covered paths and decorates every other response of those paths."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
        recorder.configure()

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        protected = _protected.computed or protected_paths()
        path = request.path_info
        if path.startswith(protected.prefixes) or path in protected.exact:  # the admin, the API: never a policy's
            return self.get_response(request)
        policy_set = snapshot.get()
        if policy_set is None:
            return self.get_response(request)
        info = request_info(request)
        decision = decide(policy_set, info)
        if observe(request, info, decision):
            recorder.flush()
        if decision.policy is None:
            return self.get_response(request)
        if decision.preflight:
            return preflight_response(decision)
        response = self.get_response(request)
        apply_decision(response, decision)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        protected = _protected.computed or protected_paths()
        path = request.path_info
        if path.startswith(protected.prefixes) or path in protected.exact:
            return await self.get_response(request)
        if snapshot.needs_refresh():
            # Loading touches the database: never on the event loop.
            await sync_to_async(snapshot.refresh)()
        policy_set = snapshot.current
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        if policy_set is None:
            return await get_response(request)
        info = request_info(request)
        decision = decide(policy_set, info)
        if observe(request, info, decision):
            await sync_to_async(recorder.flush)()  # a database write: never on the event loop
        if decision.policy is None:
            return await get_response(request)
        if decision.preflight:
            return preflight_response(decision)
        response = await get_response(request)
        apply_decision(response, decision)
        return response
