"""The validators: what is accepted, and the exact message for each refused form (how accepted lists are
stored is tested in test_analysis_normalize.py).

Every message must say what to write instead. No database is needed, except for the budgets all enabled
policies share (the tests marked ``django_db``, at the end).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from cors_policies.engine import (
    MAX_ORIGIN_REGEX_PROGRAM,
    MAX_REGEX_PATH_PROGRAM,
    PolicySet,
    PolicySpec,
)
from cors_policies.models import CorsPolicy
from cors_policies.regex import RegexError, compile_regex, program_size
from cors_policies.validators import (
    STAR_WITH_CREDENTIALS,
    validate_header_names,
    validate_methods,
    validate_origin_regexes,
    validate_origins,
    validate_path_pattern,
    validate_policy,
    validate_set_budgets,
)
from tests.factories import CorsPolicyFactory


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
            "'^/api/[' is not a valid regular expression (missing ] in '['); fix it, or use a glob such as /api/**.",
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
        "'https://*.com' allows every site under com, a public suffix: anyone can register or be given a name "
        "there. Write a wildcard under your own registrable domain, such as https://*.example.com.",
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
        ("(", "missing ) in '('"),
        ("https://[a-", "missing ] in '[a-'"),
        ("*.example.com", "no argument for repetition operator in '*'"),
        ("(?P<x>a", "missing ) in '(?P<x>a'"),
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
# Regexes RE2 cannot run as written
# ==================================================================================================


def test_regexes_with_control_characters_are_refused() -> None:
    """PostgreSQL's jsonb cannot store NUL, and no origin contains a control character."""
    assert refusal(validate_origin_regexes, ["https://a\x00b"]) == [
        (
            "regex_control",
            "'https://a\\x00b' contains control characters, which no origin has; write them as escapes such as "
            "\\n if you must, or remove them.",
        )
    ]


# ==================================================================================================
# Regexes: RE2 runs what it accepts in linear time; what it cannot run is refused, saying what to write
# ==================================================================================================

LOOKAROUND = (
    "lookarounds ((?=...), (?!...), (?<=...), (?<!...)) are not supported: match the allowed shape directly, "
    "e.g. ^/api/(?!internal/) becomes ^/api/(public|v2)/ (or give /api/internal/** its own policy with a higher "
    "priority)"
)
BACKREFERENCE = (
    "backreferences (\\1, (?P=name)) are not supported: write out what the group matched, e.g. (a|b)\\1 becomes (aa|bb)"
)

#: Lookarounds, alone and inside repetitions (the shape that bypassed the old backtracking check: one GET of
#: an 8,000-character path took 25 s), as path patterns, with the operator RE2 stops at.
PATH_LOOKAROUNDS = [
    (r"^/(?:(?=(?:(?=[^/]*$)[^/])*$)[^/])*x", "(?="),
    (r"^/(?:(?!.*\.php).)*$", "(?!"),
    (r"^/((?=a)a+)+$", "(?="),
    (r"^/((?<!b)a+)+$", "(?<!"),
    (r"^/api/(?!internal/)", "(?!"),
    (r"^/(?:x|y)(?<=y)z", "(?<="),
]
ORIGIN_LOOKAROUNDS = [
    (r"^https://(?:(?=(?:(?=[^.]*$)[^.])*$)[^.])*x$", "(?="),
    (r"^https://(?:(?!evil).)*\.example\.com$", "(?!"),
    (r"^https://(?=(a+)+$)", "(?="),
    (r"^https://(?<!x)a\.example\.com$", "(?<!"),
]
PATH_BACKREFERENCES = [
    (r"^/v(\d+)/\1$", "invalid escape sequence in '\\1'"),
    (r"^/(a)(?:\1|\1)+x", "invalid escape sequence in '\\1'"),
    (r"^/(?P<n>\w+)/(?P=n)$", "invalid perl operator in '(?P'"),
]
ORIGIN_BACKREFERENCES = [
    (r"^https://(a)\1\.example\.com$", "invalid escape sequence in '\\1'"),
    (r"^https://(?P<l>[a-z]+)\.(?P=l)\.com$", "invalid perl operator in '(?P'"),
    (r"^https://(\w)\2?\.example\.com$", "invalid escape sequence in '\\2'"),
]


@pytest.mark.parametrize(("pattern", "operator"), PATH_LOOKAROUNDS)
def test_path_lookarounds_are_refused(pattern: str, operator: str) -> None:
    assert refusal(validate_path_pattern, pattern) == [
        (
            "path_pattern",
            f"{pattern!r} is not a valid regular expression (invalid perl operator in '{operator}'): {LOOKAROUND}.",
        )
    ]


@pytest.mark.parametrize(("regex", "operator"), ORIGIN_LOOKAROUNDS)
def test_origin_lookarounds_are_refused(regex: str, operator: str) -> None:
    assert refusal(validate_origin_regexes, [r"^https://ok\.example\.com$", regex]) == [
        ("regex", f"{regex!r} is not a valid regular expression (invalid perl operator in '{operator}'): {LOOKAROUND}.")
    ]


@pytest.mark.parametrize(("pattern", "reason"), PATH_BACKREFERENCES)
def test_path_backreferences_are_refused(pattern: str, reason: str) -> None:
    assert refusal(validate_path_pattern, pattern) == [
        ("path_pattern", f"{pattern!r} is not a valid regular expression ({reason}): {BACKREFERENCE}.")
    ]


@pytest.mark.parametrize(("regex", "reason"), ORIGIN_BACKREFERENCES)
def test_origin_backreferences_are_refused(regex: str, reason: str) -> None:
    assert refusal(validate_origin_regexes, [regex]) == [
        ("regex", f"{regex!r} is not a valid regular expression ({reason}): {BACKREFERENCE}.")
    ]


@pytest.mark.parametrize(
    ("regex", "reason", "advice"),
    [
        (r"^https://a\.example\.com\Z", "invalid escape sequence in '\\Z'", "\\Z is not supported: write \\z (or $)"),
        (
            r"^https://a{,3}\.example\.com$",
            "{,3} means {0,3} to Python but the literal text {,3} to RE2",
            "write {0,3}",
        ),
        (r"^https://(?>a+)\.com$", "invalid perl operator in '(?>'", "atomic groups (?>...) and possessive"),
        (r"^https://a++\.com$", "bad repetition operator in '++'", "atomic groups (?>...) and possessive"),
        (r"(?x) ^https:// a \.com $", "invalid perl operator in '(?x'", "verbose mode (?x) is not supported"),
        (r"(?a)^https://\w+\.com$", "invalid perl operator in '(?a'", "the flags (?a), (?u) and (?L)"),
        (r"^https://\u0061\.com$", "invalid escape sequence in '\\u'", "write a code point as \\x{263A}"),
        (r"^https://(?(1)a|b)\.com$", "invalid perl operator in '(?('", "conditionals (?(1)...|...)"),
        (r"^https://a(?#note)\.com$", "invalid perl operator in '(?#'", "comments (?#...) are not supported"),
        (r"^https://a{1001}\.com$", "invalid repetition size in '{1001}'", "a repeat count goes up to 1000"),
        (
            "^https://\ud800$",
            "it contains a lone surrogate, half of a UTF-16 pair, which no text can contain",
            "remove",
        ),
    ],
)
def test_python_syntax_re2_cannot_run_is_refused_saying_what_to_write(regex: str, reason: str, advice: str) -> None:
    """Python's re accepts all of these; RE2 refuses them or would read them differently."""
    [(code, message)] = refusal(validate_origin_regexes, [regex])
    assert code == "regex"
    assert message.startswith(f"{regex!r} is not a valid regular expression ({reason}): {advice}")
    assert message.endswith(".")
    with pytest.raises(RegexError):
        compile_regex(regex)
    path = "^/" + regex.replace("^https://", "")
    [(path_code, path_message)] = refusal(validate_path_pattern, path)
    assert (path_code, path_message.split(": ", 1)[1].startswith(advice)) == ("path_pattern", True)


#: Nested quantifiers, overlapping alternatives and quantifiers that trade text: exponential or polynomial
#: in Python's re, refused by the old check, linear in RE2, so now accepted (and run by RE2).
NESTED_PATH_REGEXES = [
    r"^/api/(\w+/?)+$",
    r"^/api/.*/items/.*$",
    r"^/files/(.*,)*x",
    r"^/(x+x+)+y",
    r"^/(a?){30}a{30}$",
    r"^/(\d+|\d+\.\d+)+$",
    r"^/(a|a)*$",
]
NESTED_ORIGIN_REGEXES = [
    r"^https://(a+)+\.example\.com$",
    r"^https://([a-z0-9-]+\.?)+example\.com$",
    r"^https://([a-zA-Z0-9]+-?)*\.example\.com$",
    r"^https://(.*a){6}$",
    r"^https://(a|aa)+$",
    r"^https://.*.*\.example\.com$",
    r"^http://localhost:\d+\d+$",
]


@pytest.mark.parametrize("pattern", NESTED_PATH_REGEXES)
def test_nested_quantifiers_in_path_regexes_are_accepted_and_run_by_re2(pattern: str) -> None:
    assert validate_path_pattern(pattern) is None
    policy_set = PolicySet.build([PolicySpec(id=1, name="n", path_pattern=pattern, allowed_origins=["*"])])
    regex = policy_set.policies[0].pattern.regex
    assert type(regex).__module__ == "re2"
    # The bound is by construction: an automaton whose size grows with the regex, not the text, and which
    # reads at most MAX_REGEX_PATH_LENGTH bytes.
    assert program_size((pattern,)) <= MAX_REGEX_PATH_PROGRAM
    evil = "/" + "a" * 20_000 + "!"  # the input that makes Python's re take forever on these shapes
    assert policy_set.match(evil) is None or policy_set.match(evil) is policy_set.policies[0]


@pytest.mark.parametrize("regex", NESTED_ORIGIN_REGEXES)
def test_nested_quantifiers_in_origin_regexes_are_accepted_and_run_by_re2(regex: str) -> None:
    assert validate_origin_regexes([regex]) is None
    assert program_size((regex,)) <= MAX_ORIGIN_REGEX_PROGRAM
    spec = PolicySpec(id=1, name="n", path_pattern="/**", allowed_origin_regexes=[regex])
    evil = "https://" + "a" * 2000 + "!"
    assert PolicySet.build([spec]).evaluate(origin=evil, method="GET", path="/").allowed is False


@pytest.mark.parametrize(
    "regex",
    [
        r"^https://[a-z0-9-]+\.example\.com$",
        r"^https://([a-z0-9-]+\.)*example\.com$",
        r"^https://(www\.)?example\.(com|org)$",
        r"^https://pr-\d+\.preview\.example\.com$",
        r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$",
        r"^https://[a-f0-9]{8}-[a-f0-9]{4}\.example\.com$",
        r"^(?:https|wss)://[\w-]+\.example\.com$",
        r"(?i)^https://APP\.example\.com$",
        r"^https://(?P<app>[a-z]+)\.example\.com\z",
        r"^https://\Qexample.com\E$",
    ],
)
def test_common_origin_regexes_are_accepted(regex: str) -> None:
    assert validate_origin_regexes([regex]) is None


def test_a_path_regex_that_compiles_to_more_than_the_shared_budget_is_refused() -> None:
    """Large repeat counts and Unicode classes make small regexes into large automata; every request's path
    runs all regex path patterns together, so one alone may not exceed what they share."""
    pattern = r"^/.{0,1000}$"
    size = program_size((pattern,))
    assert size > MAX_REGEX_PATH_PROGRAM
    assert refusal(validate_path_pattern, pattern) == [
        (
            "path_regex_size",
            f"{pattern!r} is too complex: this regular expression compiles to {size:,} RE2 instructions, and all "
            "the regex path patterns of the enabled policies (with the globs that have '**' in more than one "
            "place) share 160, because every request's path runs them all. Write smaller repeat counts and ASCII "
            "classes, such as ^/api/[^/]+/items/, or a glob such as /api/*/items.",
        )
    ]
    glob = "/" + "/".join(["**", "a"] * 14) + "/**/z"
    [(code, message)] = refusal(validate_path_pattern, glob)
    assert code == "path_regex_size"
    assert message.startswith(f"{glob!r} is too complex: this glob compiles to ")


def test_origin_regexes_over_the_budget_of_a_policy_are_refused() -> None:
    """A request to the policy's paths runs all its origin regexes: their size together is what counts."""
    regexes = [r"^https://[a-z0-9-]+\.example\.com$", r"^https://pr-\d+\.preview\.example\.com$"]
    validate_origin_regexes(regexes)
    more = [*regexes, r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$"]
    sizes = [program_size((regex,)) for regex in more]
    assert sum(sizes[:2]) <= MAX_ORIGIN_REGEX_PROGRAM < sum(sizes)
    assert refusal(validate_origin_regexes, more) == [
        (
            "regex_size",
            f"These regular expressions compile to {sum(sizes)} RE2 instructions together ("
            + ", ".join(f"{regex!r}: {size}" for regex, size in zip(more, sizes, strict=True))
            + "); a policy may have 100, because every request to its paths runs them all. List exact origins or "
            "subdomain wildcards (https://*.example.com) in allowed origins instead, write smaller repeat counts "
            r"and classes, or join regexes that differ in one part into one, such as ^https://(app|admin)\.example"
            r"\.com$.",
        )
    ]
    [(code, _)] = refusal(validate_origin_regexes, [r"^https://(.*a){12}$"])  # small, but a large automaton
    assert code == "regex_size"
    [(code, _)] = refusal(validate_origin_regexes, [r"^https://\pL{1,40}\.example\.com$"])
    assert code == "regex_size"


def test_an_origin_regex_longer_than_a_path_pattern_is_refused() -> None:
    regex = "^https://(" + "|".join(f"a{i}" for i in range(200)) + r")\.example\.com$"
    assert len(regex) > 500
    assert refusal(validate_origin_regexes, [regex]) == [
        (
            "regex_length",
            f"A regular expression of {len(regex):,} characters; at most 500 are allowed, because every request may "
            "run it. List exact origins or subdomain wildcards (https://*.example.com) in allowed origins instead, "
            "or split it into several regexes.",
        )
    ]


def test_globs_are_not_checked_as_regexes() -> None:
    """Globs compile to linear matchers in the engine, whatever their shape."""
    assert validate_path_pattern("/**/**/x/**/y/**") is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab.()|*+?{}[]^$\\dwszZ-0123,:!=<>PiA#x", max_size=24))
def test_any_text_is_either_compiled_by_re2_or_refused_with_a_message(pattern: str) -> None:
    try:
        compiled = compile_regex(pattern)
    except RegexError as exc:
        assert str(exc).startswith(f"{pattern!r} is not a valid regular expression (")
        with pytest.raises(ValidationError):
            validate_origin_regexes([pattern])
        return
    assert type(compiled).__module__ == "re2"


def test_at_most_ten_origin_regexes_per_policy() -> None:
    """Every request runs each regex of its policy: besides their size together, their number is capped."""
    validate_origin_regexes([rf"x{n}" for n in range(10)])
    with pytest.raises(ValidationError) as caught:
        validate_origin_regexes([rf"x{n}" for n in range(11)])
    assert caught.value.messages == [
        "11 regular expressions; a policy may have at most 10, because every request runs each one. List exact "
        "origins or subdomain wildcards (https://*.example.com) in allowed origins instead, or join regexes that "
        r"differ in one part into one, such as ^https://(app|admin)\.example\.com$."
    ]
    assert caught.value.error_list[0].code == "regex_count"


# ==================================================================================================
# Wildcards only under a registrable domain (the Public Suffix List), never over an address
# ==================================================================================================


def public_suffix_message(origin: str, suffix: str, example: str) -> str:
    scheme = origin.split("://", 1)[0]
    return (
        f"{origin!r} allows every site under {suffix}, a public suffix: anyone can register or be given a name "
        f"there. Write a wildcard under your own registrable domain, such as {scheme}://*.{example}."
    )


@pytest.mark.parametrize(
    ("origin", "suffix", "example"),
    [
        ("https://*.com", "com", "example.com"),
        ("https://*.co.uk", "co.uk", "example.co.uk"),
        ("https://*.uk", "uk", "example.com"),
        ("https://*.com.au", "com.au", "example.com.au"),
        ("https://*.foo.ck", "foo.ck", "example.foo.ck"),  # *.ck: every name under ck is a suffix
        # The private section: hosts that give anyone a subdomain.
        ("https://*.github.io", "github.io", "example.github.io"),
        ("https://*.herokuapp.com", "herokuapp.com", "example.herokuapp.com"),
        ("https://*.appspot.com", "appspot.com", "example.appspot.com"),
        ("https://*.blogspot.com", "blogspot.com", "example.blogspot.com"),
        ("https://*.pages.dev", "pages.dev", "example.pages.dev"),
        ("https://*.vercel.app", "vercel.app", "example.vercel.app"),
        ("https://*.netlify.app", "netlify.app", "example.netlify.app"),
        ("https://*.s3.amazonaws.com", "s3.amazonaws.com", "example.s3.amazonaws.com"),
    ],
)
def test_wildcards_over_public_suffixes_are_refused(origin: str, suffix: str, example: str) -> None:
    assert refusal(validate_origins, [origin]) == [("origin", public_suffix_message(origin, suffix, example))]
    suggestion = f"https://*.{example}"
    assert validate_origins([suggestion]) is None


@pytest.mark.parametrize(
    ("origin", "example"),
    [
        ("http://*.0.0.1", "http://127.0.0.1"),
        ("http://*.0.1:8080", "http://127.0.0.1:8080"),
        ("http://*.1", "http://127.0.0.1"),
        ("https://*.168.1.1", "https://127.0.0.1"),
        ("https://*.10.0.0.1", "https://127.0.0.1"),
        ("https://*.[::1]", "https://[::1]"),
        ("https://*.[2001:db8::1]:8443", "https://[::1]:8443"),
    ],
)
def test_wildcards_over_ip_addresses_are_refused(origin: str, example: str) -> None:
    assert refusal(validate_origins, [origin]) == [
        (
            "origin",
            f"{origin!r} puts a wildcard on an IP address, where '*.' would stand for other addresses' digits "
            f"(*.0.0.1 allows 127.0.0.1 and 10.0.0.1); list each address exactly, such as {example}.",
        )
    ]


@pytest.mark.parametrize(
    "origin",
    [
        "https://*.example.co.uk",
        "https://*.example.com",
        "https://*.a.example.com",
        "https://*.octocat.github.io",
        "https://*.www.ck",  # an exception to *.ck: registrable
        "https://*.example.test",
        "http://*.localhost:3000",  # every name under localhost is this machine
    ],
)
def test_wildcards_under_a_registrable_domain_are_accepted(origin: str) -> None:
    assert validate_origins([origin]) is None


# ==================================================================================================
# Budgets all enabled policies share (bench/worst_case.py: what one request can cost)
# ==================================================================================================

COUNTING = r"^/[ab]*a[ab]{{20}}x{}"  # a regex path pattern of 30 RE2 instructions
REGEX_PATH_MESSAGE = (
    "{what} the regex path patterns of the enabled policies (with the globs that have '**' in more than one "
    "place) to {total} RE2 instructions; at most 160 are allowed, because every request's path runs them all. Use "
    "a glob instead, such as /api/** or /api/*/items (globs cost no regex budget), or disable a regex path "
    "policy you no longer need."
)
GLOB_STEPS_MESSAGE = (
    "{what} the globs of the enabled policies to {steps} steps, the most one request's path could take through "
    "them; at most 512 are allowed. What adds up is '*' (or '**') where other globs have a literal segment: a "
    "path is then compared with both. Write the literal segments where you can, such as /api/v1/*/items rather "
    "than /*/v1/*/items, or merge globs that differ in one segment into one with '*'."
)


def branching_globs(depth: int) -> list[str]:
    """Every glob of 'a' and '*' segments up to ``depth``: a path of a's is compared with all of them."""
    return [
        "/" + "/".join("*" if n >> bit & 1 else "a" for bit in range(length)) + "/x"
        for length in range(1, depth + 1)
        for n in range(2**length)
    ]


def chain(stars: int) -> str:
    """A glob of ``stars`` '*' segments and one literal: a path walks it in ``stars`` + 2 steps."""
    return "/" + "/".join(["*"] * stars) + "/x"


def test_a_set_over_a_shared_budget_is_refused_with_what_to_write_instead() -> None:
    size = program_size((COUNTING.format(0),))
    fits = MAX_REGEX_PATH_PROGRAM // size
    validate_set_budgets([(COUNTING.format(i), i % 2 == 0) for i in range(fits)])  # report-only ones count too
    assert refusal(validate_set_budgets, [(COUNTING.format(i), i % 2 == 0) for i in range(fits + 1)]) == [
        ("path_budget", REGEX_PATH_MESSAGE.format(what="These policies bring", total=size * (fits + 1)))
    ]
    globs = [(pattern, False) for pattern in branching_globs(7)]  # 254 globs, 381 steps
    validate_set_budgets([*globs, (chain(129), True)])  # a report-only glob of 131 steps: 512, full
    [(code, message)] = refusal(validate_set_budgets, [*globs, (chain(130), True)])
    assert (code, message) == ("path_budget", GLOB_STEPS_MESSAGE.format(what="These policies bring", steps=513))
    # Literal prefixes keep globs apart: ten thousand of them cost a few steps.
    validate_set_budgets([(f"/api/r{i}/*/items/**", False) for i in range(10_000)])


@pytest.mark.django_db
class TestBudgetsSharedByTheEnabledPolicies:
    """The model's clean() (so the admin, the API and imports) refuses the write that would exceed a budget:
    serving would otherwise skip a policy."""

    def test_a_regex_path_policy_over_the_budget_is_refused(self) -> None:
        size = program_size((COUNTING.format(0),))
        fits = MAX_REGEX_PATH_PROGRAM // size
        stored = [CorsPolicyFactory(path_pattern=COUNTING.format(i), report_only=i == 0) for i in range(fits)]
        CorsPolicyFactory(path_pattern=COUNTING.format(99), enabled=False)  # disabled: not served, not counted
        candidate = CorsPolicy(name="one-more", path_pattern=f" {COUNTING.format(fits)} ")
        with pytest.raises(ValidationError) as caught:
            candidate.full_clean()
        assert caught.value.message_dict == {
            "path_pattern": [
                REGEX_PATH_MESSAGE.format(what=repr(COUNTING.format(fits)) + " would bring", total=size * (fits + 1))
            ]
        }
        candidate.enabled = False
        candidate.full_clean()  # a disabled policy costs nothing
        candidate.enabled, candidate.path_pattern = True, "/api/**"
        candidate.full_clean()  # nor does a glob
        stored[0].path_pattern = COUNTING.format(50)  # an edit replaces the policy's own share
        stored[0].full_clean()

    def test_a_glob_over_the_step_budget_is_refused(self) -> None:
        for pattern in branching_globs(7):
            CorsPolicyFactory(path_pattern=pattern)
        candidate = CorsPolicy(name="one-more", path_pattern=chain(130), report_only=True)
        with pytest.raises(ValidationError) as caught:
            candidate.full_clean()
        assert caught.value.message_dict == {
            "path_pattern": [GLOB_STEPS_MESSAGE.format(what=f"{chain(130)!r} would bring", steps=513)]
        }
        candidate.path_pattern = chain(129)
        candidate.full_clean()

    def test_an_import_is_checked_once_on_the_set_it_leaves(self) -> None:
        from cors_policies import sync

        size = program_size((COUNTING.format(0),))
        fits = MAX_REGEX_PATH_PROGRAM // size
        regexes = [{"name": f"r{i}", "path_pattern": COUNTING.format(i)} for i in range(fits + 1)]
        with pytest.raises(sync.DocumentError) as caught:
            sync.apply_document({"policies": regexes})
        assert caught.value.errors == {
            "policies": [REGEX_PATH_MESSAGE.format(what="These policies bring", total=size * (fits + 1))]
        }
        assert not CorsPolicy.objects.exists()  # refused before anything is written
        regexes[-1]["enabled"] = False
        sync.apply_document({"policies": regexes})  # a disabled one costs nothing
        CorsPolicyFactory(name="stored", path_pattern=COUNTING.format(99))
        with pytest.raises(sync.DocumentError):
            sync.apply_document({"policies": regexes})  # the stored policy it leaves counts
        sync.apply_document({"policies": regexes}, prune=True)  # unless it is pruned
        assert not CorsPolicy.objects.filter(name="stored").exists()
