"""analysis.previews: the exact headers a policy sends for a sample preflight and actual request (no database)."""

from __future__ import annotations

from typing import Any

import pytest

from cors_policies.analysis.previews import preview
from cors_policies.analysis.samples import ANY_ORIGIN_SAMPLE
from cors_policies.engine import PolicySet, PolicySpec


def test_preview_of_a_public_policy() -> None:
    result = preview(
        PolicySpec(
            id=1,
            name="public",
            path_pattern="/api/public/**",
            allowed_origins=["*"],
            allowed_methods=["GET", "PUT"],
            allowed_headers=["Content-Type", "X-Requested-With"],
            expose_headers=["X-Total-Count"],
            max_age=600,
        )
    )
    assert (result.origin, result.path, result.errors) == (ANY_ORIGIN_SAMPLE, "/api/public/example", ())
    preflight, actual = result.samples
    assert preflight.title == "Preflight for a PUT request"
    assert preflight.request_lines == (
        "OPTIONS /api/public/example",
        "Origin: https://www.example.com",
        "Access-Control-Request-Method: PUT",
        "Access-Control-Request-Headers: content-type,x-requested-with",
    )
    assert preflight.decision.allowed
    assert preflight.decision.headers == (
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "GET, PUT"),
        ("Access-Control-Allow-Headers", "Content-Type, X-Requested-With"),
        ("Access-Control-Max-Age", "600"),
    )
    assert preflight.decision.vary == ()
    assert actual.title == "Actual request"
    assert actual.request_lines == ("GET /api/public/example", "Origin: https://www.example.com")
    assert actual.decision.headers == (
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "X-Total-Count"),
    )


def test_preview_matches_a_policy_set_built_from_the_same_spec() -> None:
    policy = PolicySpec(id=7, name="p", path_pattern="/p", allowed_origins=["https://a.example.com"])
    result = preview(policy)
    expected = PolicySet.build([policy]).simulate(origin="https://a.example.com", method="GET", path="/p")
    assert result.samples[1].decision.as_dict() == expected.as_dict()


@pytest.mark.parametrize(
    ("methods", "headers", "method_line", "headers_line"),
    [
        (["*"], ["*"], "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: x-requested-with"),
        ([], [], "Access-Control-Request-Method: GET", None),
        (["GET", "POST"], ["*", "X-A"], "Access-Control-Request-Method: GET", "Access-Control-Request-Headers: x-a"),
        (["GET", "*", "PROPFIND"], [], "Access-Control-Request-Method: PROPFIND", None),
    ],
)
def test_preview_sample_preflight(
    methods: list[str], headers: list[str], method_line: str, headers_line: str | None
) -> None:
    result = preview(
        PolicySpec(
            id=1,
            name="p",
            path_pattern="/p",
            allowed_origins=["https://a.example.com"],
            allowed_methods=methods,
            allowed_headers=headers,
        )
    )
    lines = result.samples[0].request_lines
    assert lines[2] == method_line
    assert (lines[3] if len(lines) > 3 else None) == headers_line
    assert result.samples[0].decision.allowed


def test_preview_with_private_network_and_an_unsampled_regex_path() -> None:
    result = preview(
        PolicySpec(
            id=1,
            name="lan",
            path_pattern="^/api/v[12]/",
            allowed_origins=["http://localhost:3000"],
            allowed_methods=["PUT"],
            allow_private_network=True,
        )
    )
    assert result.path is None
    preflight, actual = result.samples
    assert preflight.request_lines == (
        "OPTIONS (a path matching ^/api/v[12]/)",
        "Origin: http://localhost:3000",
        "Access-Control-Request-Method: PUT",
        "Access-Control-Request-Private-Network: true",
    )
    assert preflight.decision.headers == (
        ("Access-Control-Allow-Origin", "http://localhost:3000"),
        ("Access-Control-Allow-Methods", "PUT"),
        ("Access-Control-Allow-Private-Network", "true"),
    )
    assert preflight.decision.explanation == []
    assert actual.request_lines == ("GET (a path matching ^/api/v[12]/)", "Origin: http://localhost:3000")
    assert actual.decision.headers == (("Access-Control-Allow-Origin", "http://localhost:3000"),)


def test_preview_without_a_listed_origin() -> None:
    result = preview(PolicySpec(id=1, name="r", path_pattern="/r", allowed_origin_regexes=[r"https://.*"]))
    assert (result.origin, result.path, result.samples) == (None, "/r", [])


def test_preview_of_a_policy_that_does_not_compile() -> None:
    result = preview(PolicySpec(id=3, name="bad", path_pattern="bad"))
    assert result.samples == []
    assert result.errors == (
        "policy 3 'bad' skipped: 'bad' must start with '/' (a path or glob, such as /bad) or with '^' "
        "(a regular expression).",
    )


def test_preview_of_a_report_only_policy_is_what_it_would_answer_once_enforced() -> None:
    fields: dict[str, Any] = {
        "id": 1,
        "name": "tight",
        "path_pattern": "/api/**",
        "allowed_origins": ["https://a.test"],
    }
    enforced = preview(PolicySpec(**fields))
    reported = preview(PolicySpec(**fields, report_only=True))
    assert (reported.origin, reported.path) == (enforced.origin, enforced.path) == ("https://a.test", "/api/example")
    assert [(s.title, s.request_lines, s.decision.allowed, s.decision.headers) for s in reported.samples] == [
        (s.title, s.request_lines, True, s.decision.headers) for s in enforced.samples
    ]
    assert len(reported.samples) == 2
