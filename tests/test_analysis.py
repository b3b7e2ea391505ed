"""analysis.py: shadowing, samples and previews, checked against the engine (no database)."""

from __future__ import annotations

import itertools
import re
from functools import cache
from typing import Any

import pytest

from cors_policies.analysis import (
    ANY_ORIGIN_SAMPLE,
    PolicyWarning,
    _regex_literal_prefix,
    covers,
    find_shadows,
    overlap,
    policy_warnings,
    preview,
    sample_origin,
    sample_path,
    sample_paths,
)
from cors_policies.engine import CompiledPolicy, PolicySet, PolicySpec

# -- the glob algebra ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("/**", "/api/items/*", True),
        ("/**", "/", True),
        ("/api/**", "/api/items/*", True),
        ("/api/**", "/api", True),
        ("/api/items/*", "/api/**", False),
        ("/api/*", "/api/items", True),
        ("/api/*", "/api/", False),  # '*' is one non-empty segment
        ("/*", "/**", False),
        ("/a/**/z", "/a/b/**/z", True),
        ("/a/**/z", "/a/**", False),
        ("/a/b", "/a/b", True),
        ("/a/b", "/a/c", False),
        ("/a", "/a/b", False),
    ],
)
def test_covers(outer: str, inner: str, expected: bool) -> None:
    assert covers(outer, inner) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("/api/**", "/api/items/*", ["/api/items/*"]),
        ("/api/**", "/**/edit", ["/api/**/edit"]),
        ("/a/*/c", "/a/b/*", ["/a/b/c"]),
        ("/a/**/c", "/a/**/d", []),
        ("/x", "/y/**", []),
        ("/**", "/**", ["/**"]),
        ("/*/b", "/a/*", ["/a/b"]),
    ],
)
def test_overlap(a: str, b: str, expected: list[str]) -> None:
    assert overlap(a, b) == expected
    assert overlap(b, a) == expected


SEGMENTS = ("a", "", "*", "**")
PATTERNS = sorted({"/" + "/".join(p) for n in (1, 2, 3) for p in itertools.product(SEGMENTS, repeat=n)})
PATHS = sorted({"/" + "/".join(p) for n in (1, 2, 3, 4) for p in itertools.product(("a", "b", ""), repeat=n)})


@cache
def matched(pattern: str) -> frozenset[str]:
    """The sample paths the engine itself matches with ``pattern``."""
    policy = CompiledPolicy(PolicySpec(id=0, name="", path_pattern=pattern))
    return frozenset(path for path in PATHS if policy.matches_path(path))


def test_glob_algebra_agrees_with_the_engine() -> None:
    """Over every pattern of up to three segments and every path of up to four: overlap is exactly the
    paths both match, and covers never claims what the engine contradicts (nor misses what it shows)."""
    for a, b in itertools.product(PATTERNS, repeat=2):
        both = matched(a) & matched(b)
        found = frozenset().union(*(matched(glob) for glob in overlap(a, b)))
        assert found == both, (a, b)
        assert covers(a, b) == (matched(b) <= matched(a)), (a, b)


# -- samples -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("/health", ["/health"]),
        ("/api/**", ["/api/example", "/api"]),
        ("/**", ["/example", "/"]),
        ("/api/*/edit", ["/api/example/edit"]),
        ("^/api/", ["/api/", "/api/example"]),
        (r"^/v1\.json", ["/v1.json", "/v1.json/example", "/v1.jsonexample"]),
        ("^/docs?/", ["/doc/example"]),
        ("^/api/v[12]/", []),
        ("^[a-z]", []),
        ("^", ["/", "/example"]),
        ("api", []),  # does not compile
    ],
)
def test_sample_paths(pattern: str, expected: list[str]) -> None:
    assert sample_paths(pattern) == expected
    assert sample_path(pattern) == (expected[0] if expected else None)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("^/api/", "/api/"),
        (r"^/a\.b\-c", "/a.b-c"),
        (r"^/a\d", "/a"),
        ("^/ab*", "/a"),
        ("^/ab+", "/ab"),
        ("^/ab{2}", "/a"),
        ("^/x(y|z)", "/x"),
        ("^", ""),
        ("^\\", ""),
    ],
)
def test_regex_literal_prefix(source: str, expected: str) -> None:
    assert _regex_literal_prefix(source) == expected


@pytest.mark.parametrize(
    ("origins", "expected"),
    [
        (["https://app.example.com"], "https://app.example.com"),
        (["HTTPS://App.Example.com:443"], "https://app.example.com"),
        (["*"], ANY_ORIGIN_SAMPLE),
        (["https://*.example.com"], "https://www.example.com"),
        (["http://*.example.com:8080"], "http://www.example.com:8080"),
        (["null"], "null"),
        (["not an origin", 3, "capacitor://localhost"], "capacitor://localhost"),
        ([], None),
    ],
)
def test_sample_origin(origins: list[object], expected: str | None) -> None:
    assert sample_origin(origins) == expected  # type: ignore[arg-type]


# -- shadowing ---------------------------------------------------------------------------------------


def spec(id: int, name: str, pattern: str, priority: int = 0) -> PolicySpec:
    return PolicySpec(id=id, name=name, path_pattern=pattern, priority=priority)


def messages(target: PolicySpec, *others: PolicySpec) -> list[str]:
    return [shadow.message for shadow in find_shadows(target, others)]


def test_literal_path_shadowed_by_a_higher_priority_glob() -> None:
    target = spec(1, "health", "/health")
    (shadow,) = find_shadows(target, [spec(2, "all", "/**", priority=1)])
    assert shadow.complete and not shadow.approximate
    assert shadow.paths == ("/health",)
    assert shadow.message == (
        "Policy 'all' (/**, priority 1) takes precedence on every path this policy matches, so this policy "
        "never applies. Why: higher priority (1 > 0)."
    )


def test_literal_path_is_not_shadowed_by_a_glob_of_equal_priority() -> None:
    assert messages(spec(1, "health", "/health"), spec(2, "all", "/**")) == []


def test_duplicate_literal_loses_to_the_older_one() -> None:
    assert messages(spec(5, "new", "/health"), spec(2, "old", "/health"), spec(3, "other", "/other", priority=9)) == [
        "Policy 'old' (/health, priority 0) takes precedence on every path this policy matches, so this policy "
        "never applies. Why: equal precedence, and the lower id wins (2 < 5)."
    ]


def test_glob_covered_by_a_higher_priority_glob() -> None:
    assert messages(spec(1, "items", "/api/items/*"), spec(2, "api", "/api/**", priority=2)) == [
        "Policy 'api' (/api/**, priority 2) takes precedence on every path this policy matches, so this policy "
        "never applies. Why: higher priority (2 > 0)."
    ]


def test_glob_partly_shadowed_by_more_specific_globs_and_literals() -> None:
    target = spec(1, "api", "/api/**")
    others = [spec(2, "items", "/api/items/*"), spec(3, "edit", "/**/edit", priority=1), spec(4, "ping", "/api/ping")]
    assert messages(target, *others) == [
        "Policy 'edit' (/**/edit, priority 1) takes precedence on the paths matching /api/**/edit. "
        "Why: higher priority (1 > 0).",
        "Policy 'ping' (/api/ping, priority 0) takes precedence on the paths matching /api/ping. "
        "Why: a literal path is more specific than a glob.",
        "Policy 'items' (/api/items/*, priority 0) takes precedence on the paths matching /api/items/*. "
        "Why: more literal segments (2 > 1).",
    ]


def test_single_star_beats_double_star_at_equal_literal_count() -> None:
    assert messages(spec(1, "deep", "/api/**"), spec(2, "one", "/api/*")) == [
        "Policy 'one' (/api/*, priority 0) takes precedence on the paths matching /api/*. "
        "Why: '*' is more specific than '**'."
    ]


def test_disjoint_or_lower_precedence_policies_do_not_shadow() -> None:
    target = spec(1, "api", "/api/**", priority=5)
    others = [spec(2, "web", "/web/**", priority=9), spec(3, "all", "/**"), spec(1, "itself", "/api/**", priority=9)]
    assert find_shadows(target, others) == []


def test_regex_involvement_is_checked_on_samples() -> None:
    glob = spec(1, "api", "/api/**")
    assert messages(glob, spec(2, "legacy", "^/api/", priority=1)) == [
        "Policy 'legacy' (^/api/, priority 1) takes precedence on some paths this policy matches, such as "
        "/api/example (a regular expression is involved: checked on sample paths only). Why: higher priority (1 > 0)."
    ]
    # A regex loses to any glob of equal priority; its samples show where.
    regex = spec(3, "legacy", "^/api/")
    (shadow,) = find_shadows(regex, [spec(4, "api", "/api/**")])
    assert shadow.approximate and not shadow.complete
    assert shadow.paths == ("/api/", "/api/example")
    # A catch-all glob covers a regex entirely.
    (shadow,) = find_shadows(regex, [spec(5, "all", "/**")])
    assert shadow.complete
    # No sample in common: no warning (this is the approximation).
    assert find_shadows(spec(6, "v", "^/api/v[12]/"), [spec(7, "api", "/api/**")]) == []
    assert find_shadows(glob, [spec(8, "other", "^/other/", priority=3)]) == []


def test_policies_that_do_not_compile_are_ignored() -> None:
    assert find_shadows(spec(1, "broken", "api/**"), [spec(2, "all", "/**", priority=1)]) == []
    assert find_shadows(spec(1, "api", "/api/**"), [spec(2, "broken", "api/**", priority=1)]) == []


# -- preview -----------------------------------------------------------------------------------------


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


# -- misconfiguration warnings ---------------------------------------------------------------------

NULL_ORIGIN = (
    "null_origin",
    "null is allowed: any page can send Origin: null (a sandboxed iframe, a data: or file: document, some "
    "redirects), so this trusts anyone who asks that way. Remove null and list the real origins of your pages, "
    "such as https://app.example.com.",
)
ANY_METHOD = (
    "any_method_with_credentials",
    "Allowed methods * with credentials lets the allowed origins send any method, DELETE included, with your "
    "users' cookies. List the methods your front end uses, such as GET, POST, PUT.",
)
ANY_HEADER = (
    "any_header_with_credentials",
    "Allowed headers * with credentials lets the allowed origins send any request header (except Authorization) "
    "with your users' cookies. List the headers your front end sends, such as Content-Type, X-CSRFToken.",
)


def warned(**fields: object) -> list[tuple[str, str]]:
    fields.setdefault("path_pattern", "/api/**")
    spec = PolicySpec(id=1, name="p", **fields)  # type: ignore[arg-type]
    return [(warning.code, warning.message) for warning in policy_warnings(spec)]


def http_warning(shown: str, safer: str, plural: bool = False) -> tuple[str, str]:
    return (
        "http_with_credentials",
        f"Credentials are allowed for the plain-http origin{'s' if plural else ''} {shown}: anyone on the network "
        "path (public Wi-Fi, a proxy) can inject a script into such a page and read your users' data with their "
        f"cookies. Allow {safer} instead.",
    )


def dot_warning(regex: str, example: str) -> tuple[str, str]:
    return (
        "regex_unescaped_dot",
        f"The regex {regex!r} also allows {example}: an unescaped '.' matches any character. Write \\. for a "
        "literal dot, or list the origin exactly in allowed origins.",
    )


def broad_warning(regex: str, example: str) -> tuple[str, str]:
    return (
        "regex_too_broad",
        f"The regex {regex!r} also allows {example}, a domain anyone can register: a repeat there can grow into "
        "another domain. End the repeat at a dot, as in ^https://([a-z0-9-]+\\.)*example\\.com$, or use a "
        "subdomain wildcard such as https://*.example.com.",
    )


def test_a_careful_policy_has_no_warnings() -> None:
    assert (
        warned(
            allowed_origins=["https://app.example.com", "https://*.example.com"],
            allowed_origin_regexes=[r"^https://[a-z0-9-]+\.example\.com$", r"^https://([a-z0-9-]+\.)*example\.com$"],
            allowed_methods=["GET", "PUT"],
            allowed_headers=["Content-Type"],
            allow_credentials=True,
        )
        == []
    )


def test_the_demo_policies_have_no_warnings() -> None:
    """Plain http on loopback cannot be intercepted on the network: the demo's profile policy is fine."""
    assert (
        warned(
            path_pattern="/api/profile/**",
            allowed_origins=["http://localhost:8000", "http://127.0.0.1:3000", "http://localhost:3000"],
            allowed_methods=["GET"],
            allow_credentials=True,
        )
        == []
    )
    assert warned(path_pattern="/api/public/**", allowed_origins=["*"], allowed_methods=["*"]) == []
    assert warned(path_pattern="/health", allowed_origins=["*"]) == []


def test_null_is_warned_about_with_or_without_credentials() -> None:
    assert warned(allowed_origins=["null"]) == [NULL_ORIGIN]
    assert warned(allowed_origins=["https://app.example.com", "NULL"], allow_credentials=True) == [NULL_ORIGIN]


def test_plain_http_origins_with_credentials() -> None:
    assert warned(allowed_origins=["http://app.example.com"], allow_credentials=True) == [
        http_warning("http://app.example.com", "https://app.example.com")
    ]
    assert warned(
        allowed_origins=["http://app.example.com:8080", "http://*.example.com", "http://[::1]:3000"],
        allow_credentials=True,
    ) == [
        http_warning(
            "http://app.example.com:8080 and http://*.example.com",
            "https://app.example.com:8080 and https://*.example.com",
            plural=True,
        )
    ]
    assert warned(allowed_origins=["http://app.example.com"]) == []  # no cookies, nothing to steal


def test_a_regex_that_allows_plain_http_with_credentials() -> None:
    assert warned(allowed_origin_regexes=[r"^https?://(www\.)?example\.com$"], allow_credentials=True) == [
        http_warning("http://example.com (by a regex)", "https://example.com")
    ]
    assert warned(allowed_origin_regexes=[r"^http://localhost:\d+$"], allow_credentials=True) == []


def test_star_methods_and_headers_with_credentials() -> None:
    assert warned(
        allowed_origins=["https://app.example.com"],
        allowed_methods=["*"],
        allowed_headers=["*"],
        allow_credentials=True,
    ) == [ANY_METHOD, ANY_HEADER]
    assert warned(allowed_origins=["https://app.example.com"], allowed_methods=["*"], allowed_headers=["*"]) == []


@pytest.mark.parametrize(
    ("regex", "example"),
    [
        (r"^https://app.example.com$", "https://appxexample.com"),
        (r"^https://pr-\d+.example.com$", "https://pr-0xexample.com"),
        ("https://api.example.com", "https://apixexample.com"),
    ],
)
def test_unescaped_dots(regex: str, example: str) -> None:
    assert warned(allowed_origin_regexes=[regex]) == [dot_warning(regex, example)]
    assert re.fullmatch(regex, example)  # the example is real


@pytest.mark.parametrize(
    ("regex", "example"),
    [
        (r"^https://.*example\.com$", "https://evilexample.com"),  # suffix matching without a dot boundary
        (r"^https://example\.com.*$", "https://example.com.evil.net"),  # a trailing .* where $ was meant
        (r"^https://[\w.-]+$", "https://evil"),
    ],
)
def test_regexes_that_grow_into_another_domain(regex: str, example: str) -> None:
    assert warned(allowed_origin_regexes=[regex]) == [broad_warning(regex, example)]
    assert re.fullmatch(regex, example)


@pytest.mark.parametrize(
    "regex",
    [
        r"^https://[a-z0-9-]+\.example\.com$",
        r"^https://.*\.example\.com$",
        r"^https://(app|api)\.example\.com$",
        r"https://app\.example\.com",  # no anchors needed: the engine matches the whole origin
        r"^https://[a-z0-9-]+(\.[a-z0-9-]+)*\.example\.com$",
        "(",  # does not compile: the validators say so, no warning here
        r"^(?!x)[^/]+$",  # nothing to sample: no warning rather than a guess
        r"^https://[^.]+\.example\.com$",
        r"^https://(?:[^a])+\.example\.com$",
        r"^https://[!]\.example\.com$",
        r"^(?:https://a\.example\.com|http://b\.example\.org)$",
        r"^https://(a)\1\.example\.com$",
        r"^https://(a)?(?(1)b|c)\.example\.com$",
    ],
)
def test_regexes_that_match_what_they_say(regex: str) -> None:
    assert warned(allowed_origin_regexes=[regex]) == []
    assert warned(allowed_origin_regexes=[regex], allow_credentials=True) == []


@pytest.mark.parametrize("pattern", ["/**", "/**/**", "^/", "^", "^.*"])
def test_catch_all_with_any_origin(pattern: str) -> None:
    assert warned(path_pattern=pattern, allowed_origins=["*"]) == [
        (
            "catch_all_any_origin",
            f"{pattern} with origin * lets every web page read the responses of every path of the site (without "
            "cookies), including paths added later. Narrow the path pattern to what is public, such as "
            "/api/public/**.",
        )
    ]


def test_a_catch_all_for_listed_origins_or_a_narrow_star_is_fine() -> None:
    assert warned(path_pattern="/**", allowed_origins=["https://app.example.com"]) == []
    assert warned(path_pattern="/api/**", allowed_origins=["*"]) == []
    assert warned(path_pattern="not a pattern", allowed_origins=["*"]) == []


def test_invalid_entries_are_left_to_the_validators() -> None:
    assert warned(allowed_origins=["https://app.example.com/", "*.example.com", 5], allowed_origin_regexes=[5]) == []


def test_warnings_as_dicts() -> None:
    [warning] = policy_warnings(PolicySpec(id=1, name="p", path_pattern="/x", allowed_origins=["null"]))
    assert warning == PolicyWarning(*NULL_ORIGIN)
    assert warning.as_dict() == {"code": NULL_ORIGIN[0], "message": NULL_ORIGIN[1]}


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
