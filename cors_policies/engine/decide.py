"""The one entry point to decide: a request described in strings (:class:`RequestInfo`) in, a :class:`Decision`
out, from the policy covering the path, with the report-only policy's verdict beside it.

The middleware, the admin's tester, the API's ``evaluate`` endpoint and ``cors_explain`` all call :func:`decide`;
only the tester, the API and the command line ask for the explanation (``explain=True``), so the request path
never builds those sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, NamedTuple

from .decision import Decision, Refusal
from .limits import MAX_REGEX_PATH_LENGTH
from .policy import CompiledPolicy
from .protocol import (
    SHARED_ORIGIN_LENGTH,
    SHARED_PREFLIGHT_LENGTH,
    actual,
    preflight,
    shared_actual,
    shared_preflight,
)
from .reasons import Reason
from .tokens import printable

if TYPE_CHECKING:
    from .policy_set import PolicySet

__all__ = ["RequestInfo", "decide", "described", "raw_header_list", "verdict"]


class RequestInfo(NamedTuple):
    """A request as the engine reads it: strings only, no request object (immutable; a tuple, so that building
    one per request costs next to nothing).

    ``method`` is the request's own method; a preflight is ``OPTIONS`` with ``origin`` and ``request_method``
    (Access-Control-Request-Method). ``request_headers`` is the raw Access-Control-Request-Headers value;
    ``private_network`` is Access-Control-Request-Private-Network: true.
    """

    path: str
    method: str = "GET"
    origin: str | None = None
    request_method: str | None = None
    request_headers: str | None = None
    private_network: bool = False

    @property
    def preflight(self) -> bool:
        """A CORS preflight: OPTIONS with both Origin and Access-Control-Request-Method."""
        return self.method == "OPTIONS" and self.origin is not None and self.request_method is not None


def described(
    origin: str | None,
    method: str,
    path: str,
    request_headers: Sequence[str] = (),
    preflight: bool = False,
    private_network: bool = False,
) -> RequestInfo:
    """The request a browser sends for a page's request described in words (the tester's, the API's and
    ``cors_explain``'s): ``method`` is the method the page uses; with ``preflight`` it is the preflight
    the browser sends first (OPTIONS, with the method and the header names in Access-Control-Request-*)."""
    if preflight:
        return RequestInfo(
            path,
            "OPTIONS",
            origin if origin is not None else "",
            method,
            raw_header_list(request_headers),
            private_network,
        )
    return RequestInfo(path, method, origin)


def raw_header_list(names: str | Sequence[str] | None) -> str | None:
    """Header names as the Access-Control-Request-Headers value a browser sends (comma-joined); None for
    none."""
    if names is None or isinstance(names, str):
        return names
    return ",".join(names) if names else None


def verdict(policy: CompiledPolicy, request: RequestInfo) -> Decision:
    """What ``policy`` answers ``request``, whatever its path (the one :func:`decide` found, or a preview)."""
    origin = request.origin
    if request.method == "OPTIONS" and origin is not None and request.request_method is not None:
        return preflight(policy, origin, request.request_method, request.request_headers, request.private_network)
    return actual(policy, origin, request.method)


def decide(policy_set: PolicySet, request: RequestInfo, *, explain: bool = False) -> Decision:
    """The decision of the policy covering ``request.path`` (``covered`` is False when none does).

    Its ``report_only`` is the verdict of the report-only policy covering the path, asked when the request has
    an Origin (without one there is nothing to record) or when explaining; None when no report-only policy
    covers the path. ``explain=True`` fills ``explanation`` with why this policy applies (or none does), and names
    the path in the refusal of a path no policy covers (without it, that refusal says "the path").

    Without ``explain``, the decision may be shared with other requests (:func:`~.protocol.shared_actual`): read
    it, never change it.
    """
    path, method, origin, request_method, request_headers, private_network = request
    policy = policy_set.match(path)
    if policy is not None and policy_set.report_only is None and not explain:
        # Most requests: a shared answer, nothing below changes it (_answer, inlined: every request pays this).
        if method != "OPTIONS" or origin is None or request_method is None:
            if origin is None or len(origin) <= SHARED_ORIGIN_LENGTH:
                return shared_actual(policy, origin)
            return actual(policy, origin, method)
        if (request_headers is None or type(request_headers) is str) and len(origin) + len(request_method) + len(
            request_headers or ""
        ) <= SHARED_PREFLIGHT_LENGTH:  # _shareable_preflight, inlined
            return shared_preflight(policy, origin, request_method, request_headers, private_network)
        return preflight(policy, origin, request_method, request_headers, private_network)
    is_preflight = method == "OPTIONS" and origin is not None and request_method is not None  # request.preflight
    reports = policy_set.report_only
    report = None
    if reports is not None and (origin is not None or explain):
        covering = reports.match(path)
        if covering is not None:
            report = _answer(covering, request, is_preflight)
    if policy is not None:
        if report is None and not explain:
            return _answer(policy, request, is_preflight)  # shared: nothing below changes it
        # Its own object: report_only and the explanation are set below.
        if is_preflight:
            assert origin is not None and request_method is not None
            decision = preflight(policy, origin, request_method, request_headers, private_network)
        else:
            decision = actual(policy, origin, method)
    elif explain:
        refusal = Refusal(_NO_POLICY, f"no policy covers {printable(path)}")
        decision = Decision(None, is_preflight, False, refusals=(refusal,))
    elif report is None:
        # Shared and never changed: most requests of a site are on paths no policy covers.
        return _UNCOVERED_PREFLIGHT if is_preflight else _UNCOVERED
    else:
        decision = Decision(None, is_preflight, False, refusals=_UNCOVERED_REFUSAL)
    decision.report_only = report
    if explain:
        decision.explanation.extend(explanation(policy_set, path, decision))
    return decision


def _answer(policy: CompiledPolicy, request: RequestInfo, is_preflight: bool) -> Decision:
    """What ``policy`` answers ``request``, shared with other requests when its values are short enough to be a
    key (:data:`~.protocol.SHARED_ORIGIN_LENGTH`, :data:`~.protocol.SHARED_PREFLIGHT_LENGTH`); never to be changed."""
    _, method, origin, request_method, request_headers, private_network = request
    if is_preflight:
        assert origin is not None and request_method is not None
        if _shareable_preflight(origin, request_method, request_headers):
            return shared_preflight(policy, origin, request_method, request_headers, private_network)
        return preflight(policy, origin, request_method, request_headers, private_network)
    if origin is None or len(origin) <= SHARED_ORIGIN_LENGTH:
        return shared_actual(policy, origin)
    return actual(policy, origin, method)


def _shareable_preflight(origin: str, request_method: str, request_headers: str | None) -> bool:
    """Whether a preflight's values can key a shared answer: the raw header value (not a list), all of them
    within :data:`~.protocol.SHARED_PREFLIGHT_LENGTH` together."""
    if request_headers is None:
        return len(origin) + len(request_method) <= SHARED_PREFLIGHT_LENGTH
    return (
        type(request_headers) is str
        and len(origin) + len(request_method) + len(request_headers) <= SHARED_PREFLIGHT_LENGTH
    )


_NO_POLICY: Final = Reason.NO_POLICY
_UNCOVERED_REFUSAL: Final = (Refusal(Reason.NO_POLICY, "no policy covers the path"),)
_UNCOVERED: Final = Decision(None, False, False, refusals=_UNCOVERED_REFUSAL)
_UNCOVERED_PREFLIGHT: Final = Decision(None, True, False, refusals=_UNCOVERED_REFUSAL)


def explanation(policy_set: PolicySet, path: str, decision: Decision) -> list[str]:
    """Why the policy of ``decision`` applies to ``path`` (or why none does), in sentences."""
    policy = decision.policy
    if policy is None:
        line = f"No enabled policy's path pattern matches {printable(path)}."
        unread = policy_set.unread(path)
        if unread is not None:
            line = (
                f"{line[:-1]}: regex path patterns read at most {MAX_REGEX_PATH_LENGTH} bytes of a path, and "
                f"policy {unread.name!r} ({printable(unread.pattern.source)}), which could outrank any other "
                "match, cannot read this one, so no policy applies (write a glob such as /api/** for long "
                "paths)."
            )
        lines = [line]
    else:
        lines = policy_set.explain_match(path, policy)
    report = decision.report_only
    if report is not None and report.policy is not None:
        said = "would allow it" if report.allowed else "would refuse it (" + "; ".join(report.reasons) + ")"
        lines.append(
            f"Report-only policy {report.policy.name!r} also covers {printable(path)} and {said}; "
            "report-only policies never change the answer."
        )
    return lines
