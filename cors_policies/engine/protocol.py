"""The CORS protocol applied: what one policy answers one request (an actual request or a preflight), and
the refusals, in the words of the WHATWG Fetch standard: https://fetch.spec.whatwg.org/#http-cors-protocol"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

from .decision import Decision, Refusal
from .limits import MAX_REQUEST_HEADER_NAMES
from .origins import parse_request_origin
from .policy import CompiledPolicy
from .reasons import Reason
from .tokens import SAFELISTED_METHODS, is_token, parse_request_headers, printable

__all__ = [
    "SHARED_ACTUAL_ANSWERS",
    "SHARED_ORIGIN_LENGTH",
    "SHARED_PREFLIGHT_ANSWERS",
    "SHARED_PREFLIGHT_LENGTH",
    "actual",
    "preflight",
    "shared_actual",
    "shared_preflight",
]

_NO_ORIGIN: Final = (
    Refusal(Reason.NO_ORIGIN, "the request has no Origin header, so it is not a cross-origin browser request"),
)
# Enum members read on the request path, looked up once (a class attribute of an enum costs ten times a global).
_ORIGIN: Final = Reason.ORIGIN
_ORIGIN_MALFORMED: Final = Reason.ORIGIN_MALFORMED
_VARY_ECHO: Final = ("Access-Control-Request-Method", "Access-Control-Request-Headers")
_VARY_PREFLIGHT_ECHO: Final = ("Origin", *_VARY_ECHO)


def actual(policy: CompiledPolicy, origin: str | None, method: str) -> Decision:
    """What ``policy`` answers a request that is not a preflight."""
    # On the real request a browser checks only the origin (and credentials): the method and
    # headers were vetted by the preflight, so they do not change this answer.
    if policy.any_origin:
        # A constant answer: every response of the path says "*", so no Vary is needed.
        return Decision(policy, False, True, (("Access-Control-Allow-Origin", "*"), *policy.actual_headers))
    if origin is None:
        return Decision(policy, False, False, vary=policy.vary, refusals=_NO_ORIGIN)
    if not policy.allows_origin(origin):
        return Decision(policy, False, False, vary=policy.vary, refusals=(origin_refusal(policy, origin),))
    headers = (("Access-Control-Allow-Origin", origin), *policy.actual_headers)
    if policy.timing:
        headers += (("Timing-Allow-Origin", origin),)
    return Decision(policy, False, True, headers, policy.vary, csrf_trusted=policy.csrf_trusted)


def preflight(
    policy: CompiledPolicy,
    origin: str,
    request_method: str,
    request_headers: str | Sequence[str] | None,
    private_network: bool,
) -> Decision:
    """What ``policy`` answers a preflight (OPTIONS with Origin and Access-Control-Request-Method)."""
    refusals: list[Refusal] = []
    if policy.any_origin:
        allow_origin = "*"
    elif policy.allows_origin(origin):
        allow_origin = origin
    else:
        allow_origin = ""
        refusals.append(origin_refusal(policy, origin))

    echo = False
    if not is_token(request_method):
        refusals.append(
            Refusal(
                Reason.METHOD_MALFORMED,
                f"Access-Control-Request-Method '{printable(request_method)}' is not a valid method token",
            )
        )
        methods_value = ""
    elif policy.any_method:
        # With credentials a browser reads "*" literally, so name the method instead.
        methods_value = request_method if policy.credentials else "*"
        echo = policy.credentials
    elif request_method in policy.methods or request_method in SAFELISTED_METHODS:
        methods_value = policy.methods_header
    else:
        refusals.append(method_refusal(policy, request_method))
        methods_value = ""

    if request_headers is None:
        names: Sequence[str] | None = ()
    elif isinstance(request_headers, str):
        names = parse_request_headers(request_headers)
    else:
        names = [n.strip().lower() for n in request_headers if n.strip()]
        if len(names) > MAX_REQUEST_HEADER_NAMES or not all(is_token(n) for n in names):
            names = None
    headers_value = ""
    if names is None:
        refusals.append(
            Refusal(
                Reason.HEADERS_MALFORMED,
                "Access-Control-Request-Headers is not a comma-separated list of at most "
                f"{MAX_REQUEST_HEADER_NAMES} header names",
            )
        )
    else:
        refused = []
        for name in names:
            if name in policy.headers:
                continue
            if policy.any_header and name != "authorization":
                continue
            refused.append(name)
        if refused:
            refusals.append(headers_refusal(policy, refused))
        elif policy.any_header:
            # Echo the names rather than "*": "*" is literal with credentials, and Chromium lets
            # "*" cover Authorization although the standard does not.
            headers_value = ", ".join(dict.fromkeys(names))
            echo = True
        else:
            headers_value = policy.headers_header

    if private_network and not policy.private_network:
        refusals.append(
            Refusal(
                Reason.PRIVATE_NETWORK,
                f"policy {policy.name!r} does not allow private network access "
                "(Access-Control-Request-Private-Network)",
            )
        )

    if refusals:
        return Decision(policy, True, False, vary=policy.vary, refusals=tuple(refusals))
    headers = [("Access-Control-Allow-Origin", allow_origin)]
    if methods_value:
        headers.append(("Access-Control-Allow-Methods", methods_value))
    if headers_value:
        headers.append(("Access-Control-Allow-Headers", headers_value))
    headers.extend(policy.preflight_tail)
    if private_network:
        headers.append(("Access-Control-Allow-Private-Network", "true"))
    vary: tuple[str, ...] = policy.vary
    if echo:
        vary = _VARY_ECHO if policy.any_origin else _VARY_PREFLIGHT_ECHO
    return Decision(policy, True, True, tuple(headers), vary, csrf_trusted=policy.csrf_trusted)


#: How many answers to actual requests :func:`~cors_policies.engine.decide.decide` shares between requests: a site's
#: requests repeat a few (policy, Origin) pairs, and answering one from here costs a look-up instead of building
#: it (about 0.5 µs for an allowed request, 1.4 µs for a refused one). As many as the paths a policy set remembers.
SHARED_ACTUAL_ANSWERS: Final = 4096
#: The longest Origin whose answer is shared (a DNS-sized origin fits; a longer one is answered afresh), so the
#: memory the shared answers hold is bounded whatever the requests send (see docs/performance.md).
SHARED_ORIGIN_LENGTH: Final = 300
#: The same for preflights (browsers cache their answers, so there are fewer), keyed by the Origin,
#: Access-Control-Request-Method and -Headers: at most this many characters together.
SHARED_PREFLIGHT_ANSWERS: Final = 1024
SHARED_PREFLIGHT_LENGTH: Final = 512


@functools.lru_cache(maxsize=SHARED_ACTUAL_ANSWERS)
def shared_actual(policy: CompiledPolicy, origin: str | None) -> Decision:
    """:func:`actual`, shared: the same :class:`Decision` object for the same policy and Origin (the method does
    not change an actual request's answer). Callers must not change it, and call it only for an Origin of at most
    :data:`SHARED_ORIGIN_LENGTH` characters. The key is the policy object itself, so a changed policy (a new
    object) never gets its old answer; an old one is only kept until newer answers push it out."""
    return actual(policy, origin, "GET")


@functools.lru_cache(maxsize=SHARED_PREFLIGHT_ANSWERS)
def shared_preflight(
    policy: CompiledPolicy, origin: str, request_method: str, request_headers: str | None, private_network: bool
) -> Decision:
    """:func:`preflight`, shared as :func:`shared_actual` is: ``request_headers`` the raw header value (or None),
    and the three strings at most :data:`SHARED_PREFLIGHT_LENGTH` characters together."""
    return preflight(policy, origin, request_method, request_headers, private_network)


def origin_refusal(policy: CompiledPolicy, origin: str) -> Refusal:
    if parse_request_origin(origin) is None and origin != "null":
        return Refusal(
            _ORIGIN_MALFORMED,
            lambda: (
                f"origin '{printable(origin)}' is not a serialized origin "
                "(scheme://host[:port], lower case, no default port), so it never matches"
            ),
        )
    return Refusal(
        _ORIGIN,
        lambda: (
            f"origin {printable(origin)} is not allowed by policy {policy.name!r} "
            f"(it allows {policy.describe_origins() or 'no origins'})"
        ),
    )


def method_refusal(policy: CompiledPolicy, method: str) -> Refusal:
    listed = policy.methods_header or "none"
    hint = ""
    for allowed in policy.methods:
        if allowed.lower() == method.lower():
            hint = f" (methods are case-sensitive: {allowed} is allowed, {method} is not)"
    return Refusal(Reason.METHOD, f"method {printable(method)} is not in the allowed methods {listed}{hint}")


def headers_refusal(policy: CompiledPolicy, refused: list[str]) -> Refusal:
    listed = ", ".join(policy.spec.allowed_headers) or "none"
    note = ""
    if "authorization" in refused and policy.any_header:
        note = " ('*' never covers Authorization: list it explicitly)"
    noun, verb = ("headers", "are") if len(refused) > 1 else ("header", "is")
    return Refusal(
        Reason.HEADERS, f"request {noun} {', '.join(refused)} {verb} not in the allowed headers {listed}{note}"
    )
