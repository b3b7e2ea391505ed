"""analysis.warnings: each misconfiguration's code and exact message, and the regex examples behind them, each
one an origin the regex really allows (no database). test_security_warnings.py checks that each face shows them."""

from __future__ import annotations

import re

import pytest

from cors_policies.analysis.warnings import PolicyWarning, policy_warnings
from cors_policies.engine import PolicySpec

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
    ("regex", "example"),
    [
        # A repeat before the registrable domain, with no dot boundary: it grows into another domain.
        (r"^https://a.*example\.com$", "https://a.evil.netexample.com"),
        (r"^https://[a-z]*example\.com$", "https://evilexample.com"),
        # The regex intends a.co.uk: a name under co.uk is anyone's, so a.evil.net.co.uk is another domain.
        (r"^https://a.*\.co\.uk$", "https://a.evil.net.co.uk"),
    ],
)
def test_repeats_that_leave_the_registrable_domain(regex: str, example: str) -> None:
    assert warned(allowed_origin_regexes=[regex]) == [broad_warning(regex, example)]
    assert re.fullmatch(regex, example)


@pytest.mark.parametrize(
    "regex",
    [
        # The shortest sample leaves the repeat empty (a.example.com), yet every host it grows into stays
        # under example.com, the registrable domain the regex spells out: no other domain to claim.
        r"^https://a.*\.example\.com$",
        r"^https://app-[a-z0-9.-]*\.example\.com$",
        r"^https://a[\w.-]+\.b\.example\.com$",
        r"^https://x.*\.example\.co\.uk$",
        r"^https://(api|app).*\.example\.com$",
    ],
)
def test_repeats_inside_the_registrable_domain_are_not_another_domain(regex: str) -> None:
    assert warned(allowed_origin_regexes=[regex]) == []


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        (
            r"(?i)^https://APP.EXAMPLE\.COM$",
            [dot_warning(r"(?i)^https://APP.EXAMPLE\.COM$", "https://appxexample.com")],
        ),
        (
            r"(?i:^https://APP.example\.com$)",
            [dot_warning(r"(?i:^https://APP.example\.com$)", "https://appxexample.com")],
        ),
        (
            r"^https://(?i:APP).example\.com$",
            [dot_warning(r"^https://(?i:APP).example\.com$", "https://appxexample.com")],
        ),
        (r"(?i)^https://.*EXAMPLE\.COM$", [broad_warning(r"(?i)^https://.*EXAMPLE\.COM$", "https://evilexample.com")]),
        (
            r"(?i)^https://APP\.EXAMPLE\.COM.*$",
            [broad_warning(r"(?i)^https://APP\.EXAMPLE\.COM.*$", "https://app.example.com.evil.net")],
        ),
        (r"(?i)^https://APP\.EXAMPLE\.COM$", []),
        (r"(?i)^https://[A-Z]+\.EXAMPLE\.COM$", []),
        (r"(?i)^HTTPS://[A-Z0-9-]+\.EXAMPLE\.COM$", []),
    ],
)
def test_case_insensitive_regexes_get_the_same_warnings(regex: str, expected: list[tuple[str, str]]) -> None:
    assert warned(allowed_origin_regexes=[regex]) == expected


def test_a_case_insensitive_regex_allowing_plain_http_with_credentials() -> None:
    regex = r"(?i)^HTTPS?://APP\.EXAMPLE\.COM$"
    assert warned(allowed_origin_regexes=[regex], allow_credentials=True) == [
        http_warning("http://app.example.com (by a regex)", "https://app.example.com")
    ]


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
