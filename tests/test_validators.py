"""The validators and normalizers: what is accepted, and the exact message for each refused form.

Every message must say what to write instead. No database is needed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from cors_policies.engine import compile_user_regex
from cors_policies.validators import (
    ORIGIN_ALPHABET,
    STAR_WITH_CREDENTIALS,
    find_backtracking,
    normalize_header_names,
    normalize_methods,
    normalize_origins,
    validate_header_names,
    validate_methods,
    validate_origin_regexes,
    validate_origins,
    validate_path_pattern,
    validate_policy,
)


def refusal(validator: Callable[[Any], None], value: Any) -> list[tuple[str | None, str]]:
    """The (code, message) pairs a validator raises for ``value``."""
    with pytest.raises(ValidationError) as raised:
        validator(value)
    return [(error.code, str(error.message)) for error in raised.value.error_list]


# ==================================================================================================
# Path patterns
# ==================================================================================================


@pytest.mark.parametrize(
    "pattern",
    ["/", "/health", "/health/", "/api/**", "/api/*/items", "/api/**/edit", "/**", "/*", "^/api/", "^/api/v[12]/$"],
)
def test_valid_path_patterns(pattern: str) -> None:
    assert validate_path_pattern(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "The path pattern is empty; write a path such as /api/** (or /** for every path)."),
        (
            "api/**",
            "'api/**' must start with '/' (a path or glob, such as /api/**) or with '^' (a regular expression).",
        ),
        (
            "health",
            "'health' must start with '/' (a path or glob, such as /health) or with '^' (a regular expression).",
        ),
        ("**", "'**' must start with '/' (a path or glob, such as /**) or with '^' (a regular expression)."),
        ("$/api", "'$/api' must start with '/' (a path or glob, such as /$/api) or with '^' (a regular expression)."),
        (
            "/api/v*/x",
            "'/api/v*/x' has '*' inside the segment 'v*'; '*' and '**' must be whole segments "
            "(such as /api/*/items or /api/**), or write a regular expression starting with '^'.",
        ),
        (
            "^/api/[",
            "'^/api/[' is not a valid regular expression (unterminated character set at position 6); "
            "fix it, or use a glob such as /api/**.",
        ),
        (
            "/api/a\tb",
            "'/api/a\\tb' contains control characters; paths are matched after percent-decoding, "
            "so write the decoded path (a space as a space, not %20).",
        ),
    ],
)
def test_invalid_path_patterns(pattern: str, message: str) -> None:
    assert refusal(validate_path_pattern, pattern) == [("path_pattern", message)]


def test_surrounding_spaces_in_a_path_pattern_are_accepted() -> None:
    """Judged as stored: normalize() strips them before saving, so they are not an error."""
    assert validate_path_pattern(" /api/** ") is None


# ==================================================================================================
# Origins
# ==================================================================================================


@pytest.mark.parametrize(
    "origins",
    [
        [],
        ["*"],
        [" * "],
        ["null"],
        ["https://app.example.com"],
        ["https://App.Example.com:443", "http://localhost:3000", "http://127.0.0.1:8000"],
        ["capacitor://localhost", "ionic://localhost", "chrome-extension://abcdef"],
        ["https://*.example.com", "https://*.example.com:8443", "https://*.a.example.co.uk"],
        ["http://[::1]:8000", "https://a_b.example.com", "null", "https://app.example.com"],
        ("https://app.example.com",),
    ],
)
def test_valid_origins(origins: list[str]) -> None:
    assert validate_origins(origins) is None


ORIGIN_ERRORS = [
    (
        "https://app.example.com/",
        "'https://app.example.com/' contains a path; an origin is only scheme://host[:port], so write "
        "https://app.example.com (browsers send no trailing slash).",
    ),
    (
        "https://App.example.com/api/v1",
        "'https://App.example.com/api/v1' contains a path; an origin is only scheme://host[:port], so write "
        "https://app.example.com (browsers send no trailing slash).",
    ),
    (
        "https://app.example.com?x=1",
        "'https://app.example.com?x=1' contains a query; an origin is only scheme://host[:port], so write "
        "https://app.example.com (browsers send no trailing slash).",
    ),
    (
        "https://app.example.com#top",
        "'https://app.example.com#top' contains a fragment; an origin is only scheme://host[:port], so write "
        "https://app.example.com (browsers send no trailing slash).",
    ),
    (
        "https://user@app.example.com",
        "'https://user@app.example.com' contains user info ('user@'); an origin is only scheme://host[:port], "
        "so write https://app.example.com.",
    ),
    (
        "https://user:secret@app.example.com",
        "'https://user:secret@app.example.com' contains user info ('user@'); an origin is only "
        "scheme://host[:port], so write https://app.example.com.",
    ),
    (
        "https://app.example.com https://b.example.com",
        "'https://app.example.com https://b.example.com' contains spaces or control characters; write one origin "
        "per entry, such as https://app.example.com.",
    ),
    (
        "https://app .example.com",
        "'https://app .example.com' contains spaces or control characters; write one origin per entry, such as "
        "https://app.example.com.",
    ),
    (
        "app.example.com",
        "'app.example.com' has no scheme; write the full origin, such as https://app.example.com.",
    ),
    (
        "localhost:3000",
        "'localhost:3000' has no scheme; write the full origin, such as https://localhost:3000.",
    ),
    ("https://", "'https://' has no host; write an origin such as https://app.example.com."),
    (
        "https://:443",
        "'https://:443' is not an origin; write scheme://host[:port], such as https://app.example.com.",
    ),
    (
        "://app.example.com",
        "'://app.example.com' is not an origin; write scheme://host[:port], such as https://app.example.com.",
    ),
    (
        "https://bücher.example",
        "'https://bücher.example' is not an origin; write scheme://host[:port], such as https://app.example.com.",
    ),
    (
        "https://*",
        "'https://*' uses '*' in a way that is not supported; write '*' alone for any origin, or make it the whole "
        "leftmost label of a subdomain wildcard such as https://*.example.com.",
    ),
    (
        "https://a*.example.com",
        "'https://a*.example.com' uses '*' in a way that is not supported; write '*' alone for any origin, or make "
        "it the whole leftmost label of a subdomain wildcard such as https://*.example.com.",
    ),
    (
        "https://*.*.example.com",
        "'https://*.*.example.com' uses '*' in a way that is not supported; write '*' alone for any origin, or make "
        "it the whole leftmost label of a subdomain wildcard such as https://*.example.com.",
    ),
    (
        "https://app.*.com",
        "'https://app.*.com' uses '*' in a way that is not supported; write '*' alone for any origin, or make "
        "it the whole leftmost label of a subdomain wildcard such as https://*.example.com.",
    ),
    (
        "*.example.com",
        "'*.example.com' has no scheme; write the full origin, such as https://*.example.com.",
    ),
    (
        "https://*.com",
        "'https://*.com' would match subdomains of a top-level name or address; write a wildcard over a "
        "registrable domain, such as https://*.example.com.",
    ),
    (
        "https://app.example.com:99999",
        "'https://app.example.com:99999' has port 99999; a port is a number from 0 to 65535, "
        "such as https://localhost:8443.",
    ),
    (
        "https://app..example.com",
        "'https://app..example.com' has an empty label in its host; write a host such as app.example.com "
        "(no leading, trailing or double dots).",
    ),
    (
        "https://-app.example.com",
        "'https://-app.example.com' has an invalid host label '-app'; labels are 1-63 letters, digits or "
        "hyphens and do not start or end with a hyphen.",
    ),
    (
        "",
        "An empty origin matches nothing; remove the line or write an origin such as https://app.example.com.",
    ),
]


@pytest.mark.parametrize(("origin", "message"), ORIGIN_ERRORS)
def test_invalid_origins(origin: str, message: str) -> None:
    assert refusal(validate_origins, [origin]) == [("origin", message)]


def test_every_invalid_origin_is_reported() -> None:
    assert refusal(validate_origins, ["https://app.example.com/", "https://ok.example.com", "app.example.com"]) == [
        (
            "origin",
            "'https://app.example.com/' contains a path; an origin is only scheme://host[:port], so write "
            "https://app.example.com (browsers send no trailing slash).",
        ),
        ("origin", "'app.example.com' has no scheme; write the full origin, such as https://app.example.com."),
    ]


def test_star_must_be_alone() -> None:
    assert refusal(validate_origins, ["*", "https://app.example.com"]) == [
        (
            "star_not_alone",
            "'*' already allows every origin; remove the other entries, or remove '*' to allow only those listed.",
        )
    ]


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("https://app.example.com", "not_a_list", 'Write a list of strings, such as ["https://app.example.com"].'),
        (None, "not_a_list", 'Write a list of strings, such as ["https://app.example.com"].'),
        (
            ["https://app.example.com", 5],
            "not_a_string",
            '5 is not a string; write a list of strings, such as ["https://app.example.com"].',
        ),
    ],
)
def test_origins_must_be_a_list_of_strings(value: Any, code: str, message: str) -> None:
    assert refusal(validate_origins, value) == [(code, message)]


def test_missing_scheme_on_a_wildcard_suggests_the_wildcard() -> None:
    [(_, message)] = refusal(validate_origins, ["*.example.com"])
    assert message.endswith("such as https://*.example.com.")


@pytest.mark.parametrize(
    ("origin", "bad_suggestion"),
    [("https://a.com,https://b.com", "https://a.com,https:"), ("//app.example.com", "https:////app.example.com")],
)
def test_suggestions_are_valid_origins(origin: str, bad_suggestion: str) -> None:
    [(_, message)] = refusal(validate_origins, [origin])
    suggestion = message.rsplit("such as ", 1)[1].rstrip(".")
    assert suggestion != bad_suggestion
    assert validate_origins([suggestion]) is None


# ==================================================================================================
# Origin regexes
# ==================================================================================================


@pytest.mark.parametrize(
    "regexes",
    [[], [r"^https://[a-z0-9-]+\.example\.com$"], [r"https://a\.example\.com", r"http://localhost:\d+"], ("x",)],
)
def test_valid_origin_regexes(regexes: list[str]) -> None:
    assert validate_origin_regexes(regexes) is None


@pytest.mark.parametrize(
    ("regex", "problem"),
    [
        ("(", "missing ), unterminated subpattern at position 0"),
        ("https://[a-", "unterminated character set at position 8"),
        ("*.example.com", "nothing to repeat at position 0"),
        ("(?P<x>a)(?P<x>b)", "redefinition of group name 'x' as group 2; was group 1 at position 12"),
    ],
)
def test_invalid_origin_regexes(regex: str, problem: str) -> None:
    assert refusal(validate_origin_regexes, ["ok", regex]) == [
        (
            "regex",
            f"{regex!r} is not a valid regular expression ({problem}); fix it, or use a subdomain wildcard such as "
            "https://*.example.com in allowed origins.",
        )
    ]


def test_origin_regexes_must_be_a_list() -> None:
    assert refusal(validate_origin_regexes, "^https://a$") == [
        ("not_a_list", 'Write a list of strings, such as ["^https://[a-z0-9-]+\\\\.example\\\\.com$"].')
    ]


# ==================================================================================================
# Methods and header names
# ==================================================================================================


@pytest.mark.parametrize(
    "methods",
    [[], ["*"], ["GET", "PUT", "DELETE"], ["patch", "M-SEARCH", "PROPFIND"], [" PUT ", "GET\r\n"], ("PUT",), ["**"]],
)
def test_valid_methods(methods: list[str]) -> None:
    assert validate_methods(methods) is None


@pytest.mark.parametrize("method", ["PUT DELETE", "PUT,DELETE", "GET:", "", " ", "DÉLETE", "P(UT)", "PUT\r\nX"])
def test_invalid_methods(method: str) -> None:
    assert refusal(validate_methods, [method]) == [
        (
            "token",
            f"{method!r} is not a valid method: use letters, digits and -, without spaces, commas or colons "
            "(one method per entry, such as \"PUT\"), or '*' for any.",
        )
    ]


@pytest.mark.parametrize(
    "headers",
    [[], ["*"], ["X-Token", "content-type", "Authorization"], ["*", "Authorization"], ["x_b", "X.C"], [" x-a\n"]],
)
def test_valid_header_names(headers: list[str]) -> None:
    assert validate_header_names(headers) is None


@pytest.mark.parametrize("header", ["X Token", "X-Token:", "X-Token: 1", "a,b", "", "Ä", "x-a\nx-b", "x/y", "[x]"])
def test_invalid_header_names(header: str) -> None:
    assert refusal(validate_header_names, [header]) == [
        (
            "token",
            f"{header!r} is not a valid header name: use letters, digits and -, without spaces, commas or colons "
            "(one header name per entry, such as \"X-Requested-With\"), or '*' for any.",
        )
    ]


def test_every_invalid_token_is_reported_and_lists_are_required() -> None:
    assert [code for code, _ in refusal(validate_methods, ["GET", "A B", "C,D"])] == ["token", "token"]
    assert refusal(validate_methods, "PUT") == [("not_a_list", 'Write a list of strings, such as ["PUT"].')]
    assert refusal(validate_header_names, [None]) == [
        ("not_a_string", 'None is not a string; write a list of strings, such as ["X-Requested-With"].')
    ]


# ==================================================================================================
# Rules across fields
# ==================================================================================================


@pytest.mark.parametrize("origins", [["*"], [" * "], ["https://app.example.com", "*"]])
def test_star_with_credentials_is_refused(origins: list[str]) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_policy(allowed_origins=origins, allow_credentials=True)
    assert raised.value.message_dict == {"allowed_origins": [STAR_WITH_CREDENTIALS]}
    assert [error.code for error in raised.value.error_dict["allowed_origins"]] == ["star_with_credentials"]
    assert STAR_WITH_CREDENTIALS == (
        "'*' cannot be used with credentials: every web page could then read your users' data with their "
        "cookies. List the origins that need credentials instead, such as https://app.example.com."
    )


@pytest.mark.parametrize(
    ("origins", "credentials"),
    [
        (["*"], False),
        (["https://app.example.com"], True),
        (["https://*.example.com", "null"], True),
        ([], True),
    ],
)
def test_valid_policies(origins: list[str], credentials: bool) -> None:
    assert validate_policy(allowed_origins=origins, allow_credentials=credentials) is None


def test_star_with_credentials_is_refused_in_a_tuple() -> None:
    with pytest.raises(ValidationError):
        validate_policy(allowed_origins=("*",), allow_credentials=True)  # type: ignore[arg-type]


# ==================================================================================================
# Normalization
# ==================================================================================================


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["https://App.Example.com:443"], ["https://app.example.com"]),
        (["HTTP://LOCALHOST:80", "http://localhost:3000"], ["http://localhost", "http://localhost:3000"]),
        (["https://app.example.com:80"], ["https://app.example.com:80"]),  # 80 is not https's default
        (["ws://a.example.com:80", "wss://a.example.com:443"], ["ws://a.example.com", "wss://a.example.com"]),
        (["https://*.Example.COM:443"], ["https://*.example.com"]),
        (["  https://app.example.com  ", "NULL", " * "], ["https://app.example.com", "null", "*"]),
        (["capacitor://LocalHost"], ["capacitor://localhost"]),
        (["http://[::1]:80", "http://[::1]:8000"], ["http://[::1]", "http://[::1]:8000"]),
        (
            ["https://app.example.com", "https://APP.example.com:443", "https://app.example.com"],
            ["https://app.example.com"],
        ),
        (["https://app.example.com/", "not an origin"], ["https://app.example.com/", "not an origin"]),  # as typed
        ([], []),
    ],
)
def test_normalize_origins(value: list[str], expected: list[str]) -> None:
    assert normalize_origins(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["put", "PUT", "Put"], ["PUT"]),
        (["delete", "get", "head", "options", "post"], ["DELETE", "GET", "HEAD", "OPTIONS", "POST"]),
        (["patch"], ["patch"]),  # Fetch does not normalize PATCH: 'patch' is sent as typed
        (["patch", "PATCH", "Patch"], ["patch", "PATCH", "Patch"]),
        ([" get ", "GET", "*", "*"], ["GET", "*"]),
        (["propfind", "M-SEARCH"], ["propfind", "M-SEARCH"]),
        ([], []),
    ],
)
def test_normalize_methods(value: list[str], expected: list[str]) -> None:
    assert normalize_methods(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["X-Token", "x-token", "X-TOKEN"], ["X-Token"]),
        ([" Content-Type ", "content-type", "Authorization"], ["Content-Type", "Authorization"]),
        (["*", "*", "x-a"], ["*", "x-a"]),
        ([], []),
    ],
)
def test_normalize_header_names(value: list[str], expected: list[str]) -> None:
    assert normalize_header_names(value) == expected


def test_regexes_with_control_characters_are_refused() -> None:
    """PostgreSQL's jsonb cannot store NUL, and no origin contains a control character."""
    assert refusal(validate_origin_regexes, ["https://a\x00b"]) == [
        (
            "regex_control",
            "'https://a\\x00b' contains control characters, which no origin has; write them as escapes such as "
            "\\n if you must, or remove them.",
        )
    ]


def test_regex_future_warnings_are_not_raised() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_origin_regexes(["[[a]"])


# ==================================================================================================
# Catastrophic backtracking (ReDoS)
# ==================================================================================================

#: Regexes people write for origins, which must stay accepted: each runs in linear time.
LEGITIMATE_ORIGIN_REGEXES = [
    r"^https://[a-z0-9-]+\.example\.com$",
    r"^https://([a-z0-9-]+\.)*example\.com$",
    r"^https://[a-z0-9-]+(\.[a-z0-9-]+)*\.example\.com$",
    r"^https://(www\.)?example\.(com|org)$",
    r"^https://pr-\d+\.preview\.example\.com$",
    r"^http://localhost:\d+$",
    r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$",
    r"^https://.*\.example\.com$",
    r"^https://[a-z.]+\.[a-z]+\.com$",
    r"^https://[a-f0-9]{8}-[a-f0-9]{4}\.example\.com$",
    r"^(?:https|wss)://[\w-]+\.example\.com$",
    r"(?i)^https://APP\.example\.com$",
    # Ambiguous only over characters no serialized origin contains (spaces, upper case).
    r"^https://a( +)+b$",
    r"^https://(A+)+\.example\.com$",
]

NESTED = "nests a quantifier inside a quantifier, and both can match the same text"
#: Atomic groups and possessive quantifiers are regex syntax from Python 3.11 on.
PYTHON_311_SYNTAX = pytest.mark.skipif(sys.version_info < (3, 11), reason="(?>...) and a++ need Python 3.11's re")
ALTERNATIVES = "repeats alternatives that can match the same text"
POWER = "can match the same text one after the other, so the time grows with a power of the input's length"

#: Known evil regexes (OWASP's ReDoS examples and the shapes behind published CVEs), with the problem named.
EVIL_ORIGIN_REGEXES = [
    (r"^https://(a+)+\.example\.com$", f"'(a+)+' {NESTED}"),
    (r"^https://([a-z0-9-]+\.?)+example\.com$", f"'([a-z0-9-]+\\.?)+' {NESTED}"),
    (r"^https://([a-zA-Z0-9]+-?)*\.example\.com$", f"'([a-zA-Z0-9]+-?)*' {NESTED}"),
    (r"^https://(\w+\.?)*$", f"'(\\w+\\.?)*' {NESTED}"),
    (r"^https://(.*a){12}$", f"'(.*a){{12}}' {NESTED}"),
    (r"^https://(.+)+\.com$", f"'(.+)+' {NESTED}"),
    (r"^https://(a|a)*$", f"'(a(?:|))*' {ALTERNATIVES}"),
    (r"^https://(a|aa)+$", f"'(a(?:|a))+' {ALTERNATIVES}"),
    (r"^https://(a|a?)+$", f"'(a|a?)+' {ALTERNATIVES}"),
    (r"^https://.*.*\.example\.com$", f"'.*' and '.*' {POWER}"),
    (r"^https://[a-z]+[a-z0-9]+\.example\.com$", f"'[a-z]+' and '[a-z0-9]+' {POWER}"),
    (r"^http://localhost:\d+\d+$", f"'\\d+' and '\\d+' {POWER}"),
    (r"^https://(?=(a+)+$)", f"'(a+)+' {NESTED}"),  # inside a lookahead too
]


def backtracking_message(regex: str, problem: str) -> str:
    return (
        f"{regex!r} can take a very long time on a crafted Origin (catastrophic backtracking): {problem}. "
        "Write it so that each character can match only one way, such as [a-z0-9-]+ for one label, which "
        "cannot match a dot (^https://[a-z0-9-]+\\.example\\.com$), or use a subdomain wildcard such as "
        "https://*.example.com in allowed origins."
    )


@pytest.mark.parametrize("regex", LEGITIMATE_ORIGIN_REGEXES)
def test_common_origin_regexes_pass_the_backtracking_check(regex: str) -> None:
    assert find_backtracking(regex, ORIGIN_ALPHABET) is None
    assert validate_origin_regexes([regex]) is None


@pytest.mark.parametrize(("regex", "problem"), EVIL_ORIGIN_REGEXES)
def test_catastrophic_origin_regexes_are_refused(regex: str, problem: str) -> None:
    assert refusal(validate_origin_regexes, [r"^https://ok\.example\.com$", regex]) == [
        ("regex_backtracking", backtracking_message(regex, problem))
    ]


def test_character_sets_are_not_alternatives() -> None:
    """Python's parser turns (\\d|\\w) into [\\d\\w], which cannot backtrack: accepted, as it should be."""
    assert find_backtracking(r"(\d|\w)+!") is None
    assert find_backtracking(r"(?i:(A|a)+)$") is None


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"^/api/(\w+/?)+$", f"'(\\w+/?)+' {NESTED}"),
        (r"^/api/.*/items/.*$", f"'.*' and '.*' {POWER}"),
        (r"^/files/(.*,)*x", f"'(.*,)*' {NESTED}"),
        (r"^/(x+x+)+y", f"'(x+x+)+' {NESTED}"),
        (r"^/(a?){30}a{30}$", f"'(a?){{30}}' and 'a{{30}}' {POWER}"),
        (r"^/(\d+|\d+\.\d+)+$", f"'(\\d+|\\d+\\.\\d+)+' {NESTED}"),
    ],
)
def test_catastrophic_path_regexes_are_refused(pattern: str, problem: str) -> None:
    assert refusal(validate_path_pattern, pattern) == [
        (
            "path_backtracking",
            f"{pattern!r} can take a very long time on a crafted path (catastrophic backtracking): {problem}. "
            "Write it so that each character can match only one way, such as [^/]+ for one segment instead of .* "
            "or .+ (^/api/[^/]+/items/), or use a glob such as /api/*/items or /api/**.",
        )
    ]


@pytest.mark.parametrize(
    "pattern", ["^/api/", "^/api/v[12]/", "^/c/.*/a", "^.+/$", "^/(a|b)/c", r"^/api/[^/]+/items/.*$", r"^/v(\d+)/\1$"]
)
def test_linear_path_regexes_pass(pattern: str) -> None:
    assert validate_path_pattern(pattern) is None


def test_globs_are_not_checked_as_regexes() -> None:
    """Globs compile to linear matchers in the engine, whatever their shape."""
    assert validate_path_pattern("/**/**/x/**/y/**") is None


def test_a_huge_regex_is_refused_rather_than_analysed_at_length() -> None:
    regex = "^https://(?:" + "|".join(f"[a-z]+{i}x" for i in range(300)) + ")+$"
    [(code, message)] = refusal(validate_origin_regexes, [regex])
    assert code == "regex_backtracking"
    assert "it repeats more than 500 character classes, too many to check." in message


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        # Atomic groups and possessive quantifiers (Python 3.11+) do not backtrack, but the check does not
        # rely on them: refusing is the safe side, and the message still says what to change.
        pytest.param(r"^/(?>a+)+$", f"'(?:(?>a+))+' {NESTED}", marks=PYTHON_311_SYNTAX),
        pytest.param(r"^/(a++)+$", f"'(a++)+' {NESTED}", marks=PYTHON_311_SYNTAX),
        (r"^/(a+?)+$", f"'(a+?)+' {NESTED}"),
        (r"^/(?:(x)?(?(1)a+|b+))+$", f"'(?:(x)?(?(1)a+|b+))+' {NESTED}"),
        (r"^/((?=a)a+)+$", f"'((?=a)a+)+' {NESTED}"),
        (r"^/((?<!b)a+)+$", f"'((?<!b)a+)+' {NESTED}"),
        (r"^/([^b]+)+$", f"'([^b]+)+' {NESTED}"),
        (r"^/(a{0}b+)+$", f"'(a{{0}}b+)+' {NESTED}"),
        (r"^/(a)(?:\1|\1)+x", f"'(?:\\1(?:|))+' {NESTED}"),  # a back-reference counts as any text
        (r"^/(\W+\w?)+$", f"'(\\W+\\w?)+' {NESTED}"),
        (r"^/\S+\s*\S+$", f"'\\S+' and '\\S+' {POWER}"),
        (r"^/\D+\D+$", f"'\\D+' and '\\D+' {POWER}"),
        (r"^/[\d\s-]+[^\w-]*[0-9]+$", f"'[\\d\\s-]+' and '[^\\w-]*' {POWER}"),
        (r"^/(?i:k+K+)$", f"'k+' and 'K+' {POWER}"),
        (r"^/(?a:\w+\d+)$", f"'\\w+' and '\\d+' {POWER}"),
        (r"^/(?s:.+.+)$", f"'.+' and '.+' {POWER}"),
        (r"^/[\]\^]+\^*", f"'[\\]\\^]+' and '\\^*' {POWER}"),
        (r"^/a{2,}a{3,5}$", f"'a{{2,}}' and 'a{{3,5}}' {POWER}"),
        ("^/(?:" + "a" * 70 + "+)+$", f"'(?:{'a' * 56}…' {NESTED}"),
        (r"(?x) ^/ (a+)+ $", f"'(a+)+' {NESTED}"),
    ],
)
def test_the_message_quotes_the_part_to_rewrite(pattern: str, problem: str) -> None:
    assert find_backtracking(pattern) == problem


@pytest.mark.parametrize(
    "pattern",
    [
        r"^/\w+\W\w+$",  # \w and \W never overlap, in Unicode too
        r"^/\d+\D\d+$",
        r"(?a)^/\w+\W\w+$",
        r"^/\s+\S\s+$",
        r"^/[\w.]+\.\w+$",
        r"^/(?-i:a+A+)$",
        r"^/\b\B\A(a|b)\Z",
        r"^/(?:x|y)(?!z)[^\n]*$",
    ],
)
def test_patterns_whose_repeats_cannot_trade_text_pass(pattern: str) -> None:
    assert find_backtracking(pattern) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.()|*+?{}[]^$\\dws-0123,:!=<>PiAZ", max_size=24))
def test_any_regex_that_compiles_is_judged_without_raising(pattern: str) -> None:
    try:
        compile_user_regex(pattern)
    except (re.error, OverflowError, RecursionError):
        return
    verdict = find_backtracking(pattern)
    assert verdict is None or isinstance(verdict, str)
    if verdict is None:  # fewer characters to match can only take ambiguity away
        assert find_backtracking(pattern, ORIGIN_ALPHABET) is None


def test_at_most_ten_origin_regexes_per_policy() -> None:
    """Every request runs each regex of its policy: the cap bounds the worst case (bench/worst_case.py)."""
    validate_origin_regexes([rf"^https://a{n}\.example\.com$" for n in range(10)])
    with pytest.raises(ValidationError) as caught:
        validate_origin_regexes([rf"^https://a{n}\.example\.com$" for n in range(11)])
    assert caught.value.messages == [
        "11 regular expressions; a policy may have at most 10, because every request runs each one. List exact "
        "origins or subdomain wildcards (https://*.example.com) in allowed origins instead, or join regexes that "
        r"differ in one part into one, such as ^https://(app|admin)\.example\.com$."
    ]
    assert caught.value.error_list[0].code == "regex_count"
