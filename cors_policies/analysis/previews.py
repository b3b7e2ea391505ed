"""The header preview: the exact headers a policy sends for a sample preflight and a sample actual request.

Every header is the engine's (``PolicySet.simulate``, or ``PolicySet.decide`` where no sample path is
known): this module only chooses the requests, in a browser's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ..engine import SAFELISTED_METHODS, Decision, PolicySet, PolicySpec
from .samples import sample_origin, sample_path

__all__ = ["Preview", "SampleRequest", "preview"]


@dataclass(frozen=True)
class SampleRequest:
    """A request a browser could send, described in its own words, with the engine's decision."""

    title: str
    request_lines: tuple[str, ...]
    decision: Decision


@dataclass
class Preview:
    """What a policy answers for a sample preflight and a sample actual request."""

    origin: str | None
    path: str | None
    samples: list[SampleRequest] = field(default_factory=list)
    errors: tuple[str, ...] = ()


def _sample_method(methods: Sequence[str]) -> str:
    """A method worth a preflight: the first listed one that is not safelisted, else the first one."""
    listed = [method for method in methods if method != "*"]
    for method in listed:
        if method not in SAFELISTED_METHODS:
            return method
    if listed:
        return listed[0]
    return "PUT" if "*" in methods else "GET"


def _sample_headers(headers: Sequence[str]) -> list[str]:
    listed = [header for header in headers if header != "*"]
    if not listed and "*" in headers:
        return ["X-Requested-With"]
    return listed


def preview(spec: PolicySpec) -> Preview:
    """The headers ``spec`` sends, computed by the engine for requests from its first listed origin.

    A report-only spec is previewed as it would answer once enforced (as such it never answers).
    """
    if spec.report_only:
        spec = replace(spec, report_only=False)
    policy_set = PolicySet.build([spec])
    if policy_set.errors:
        return Preview(None, None, errors=policy_set.errors)
    origin = sample_origin(spec.allowed_origins)
    path = sample_path(spec.path_pattern)
    result = Preview(origin, path)
    if origin is None:
        return result
    policy = policy_set.policies[0]
    shown_path = path if path is not None else f"(a path matching {spec.path_pattern})"
    method = _sample_method(spec.allowed_methods)
    headers = _sample_headers(spec.allowed_headers)
    private = spec.allow_private_network

    request_lines = [
        f"OPTIONS {shown_path}",
        f"Origin: {origin}",
        f"Access-Control-Request-Method: {method}",
    ]
    if headers:
        request_lines.append(f"Access-Control-Request-Headers: {','.join(sorted(h.lower() for h in headers))}")
    if private:
        request_lines.append("Access-Control-Request-Private-Network: true")
    if path is not None:
        preflight = policy_set.simulate(
            origin=origin, method=method, path=path, request_headers=headers, preflight=True, private_network=private
        )
        actual = policy_set.simulate(origin=origin, method="GET", path=path)
    else:  # a regex we could not sample: ask the policy directly, as the middleware would once matched
        preflight = policy_set.decide(
            policy,
            origin=origin,
            method="OPTIONS",
            request_method=method,
            request_headers=headers,
            private_network=private,
        )
        actual = policy_set.decide(policy, origin=origin, method="GET")
    result.samples.append(SampleRequest(f"Preflight for a {method} request", tuple(request_lines), preflight))
    result.samples.append(
        SampleRequest("Actual request", (f"GET {shown_path}", f"Origin: {origin}"), actual),
    )
    return result
