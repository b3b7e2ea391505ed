"""The pure policy engine: path patterns, precedence, origins, actual requests, preflights, reasons.

No database: every test builds a :class:`PolicySet` from plain :class:`PolicySpec` data and asserts
exact values (header tuples in order, Vary, the reasons a person reads).
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from cors_policies.engine import (
    KIND_GLOB,
    MAX_GLOB_STEPS,
    MAX_ORIGIN_LENGTH,
    MAX_ORIGIN_REGEX_PROGRAM,
    MAX_REGEX_ORIGIN_LENGTH,
    MAX_REGEX_PATH_LENGTH,
    MAX_REGEX_PATH_PROGRAM,
    MAX_REQUEST_HEADER_NAMES,
    CompiledPolicy,
    Decision,
    PatternError,
    PolicySet,
    PolicySpec,
    Reason,
    Refusal,
    RequestInfo,
    decide,
    parse_path_pattern,
    path_costs,
    printable,
)
from cors_policies.regex import program_size

ORIGIN = "https://app.example.com"
ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"
ACEH = "Access-Control-Expose-Headers"
ACAM = "Access-Control-Allow-Methods"
ACAH = "Access-Control-Allow-Headers"
ACMA = "Access-Control-Max-Age"
ACAPN = "Access-Control-Allow-Private-Network"
VARY_ORIGIN = ("Origin",)
VARY_ECHO = ("Access-Control-Request-Method", "Access-Control-Request-Headers")
VARY_ORIGIN_ECHO = ("Origin", *VARY_ECHO)
AUTH_REFUSED = (
    "request header authorization is not in the allowed headers * ('*' never covers Authorization: list it explicitly)"
)
MALFORMED = "is not a serialized origin (scheme://host[:port], lower case, no default port), so it never matches"


def spec(id: int = 1, path_pattern: str = "/**", name: str | None = None, **fields: Any) -> PolicySpec:
    return PolicySpec(id=id, name=name or f"p{id}", path_pattern=path_pattern, **fields)


def one(**fields: Any) -> PolicySet:
    """A set with one policy ``p1`` on ``/**``; fails loudly if it did not compile."""
    policies = PolicySet.build([spec(**fields)])
    assert policies.errors == ()
    assert len(policies) == 1
    return policies


def actual(policies: PolicySet, origin: str | None = ORIGIN, method: str = "GET", path: str = "/x") -> Decision:
    return policies.evaluate(origin=origin, method=method, path=path)


def preflight(
    policies: PolicySet,
    request_method: str = "PUT",
    request_headers: Any = None,
    origin: str = ORIGIN,
    private_network: bool = False,
    path: str = "/x",
) -> Decision:
    return policies.evaluate(
        origin=origin,
        method="OPTIONS",
        path=path,
        request_method=request_method,
        request_headers=request_headers,
        private_network=private_network,
    )


def names(policies: PolicySet, path: str) -> str | None:
    found = policies.match(path)
    return None if found is None else found.name


def scan(policies: PolicySet, path: str) -> CompiledPolicy | None:
    """The plain reference: every policy tried, the lowest sort key wins."""
    return min((p for p in policies.policies if p.matches_path(path)), key=lambda p: p.sort_key, default=None)


# ==================================================================================================
# Path patterns
# ==================================================================================================

PATTERN_CASES = [
    # literal: exactly that path, case-sensitive
    ("/health", "/health", True),
    ("/health", "/health/", False),
    ("/health", "/healthz", False),
    ("/health", "/Health", False),
    ("/health", "/health/x", False),
    ("/", "/", True),
    ("/", "/a", False),
    ("/api/items/", "/api/items/", True),
    ("/api/items/", "/api/items", False),
    ("/a+b/c.d", "/a+b/c.d", True),
    # '*': exactly one non-empty segment
    ("/api/items/*", "/api/items/5", True),
    ("/api/items/*", "/api/items/5/parts", False),
    ("/api/items/*", "/api/items/", False),
    ("/api/items/*", "/api/items", False),
    ("/api/items/*", "/api/items5", False),
    ("/api/*/parts", "/api/5/parts", True),
    ("/api/*/parts", "/api//parts", False),
    ("/api/*/parts", "/api/5/6/parts", False),
    ("/*", "/a", True),
    ("/*", "/", False),
    ("/*", "/a/", False),
    ("/a.b/*", "/a.b/c", True),
    ("/a.b/*", "/axb/c", False),  # literal segments are not regexes
    # '**': zero or more segments
    ("/api/**", "/api", True),
    ("/api/**", "/api/", True),
    ("/api/**", "/api/a", True),
    ("/api/**", "/api/a/b", True),
    ("/api/**", "/apix", False),
    ("/api/**", "/apix/a", False),
    ("/api/**", "/ap", False),
    ("/api/**", "/", False),
    ("/api/**", "/API/a", False),
    ("/api/**", "/x/api/a", False),
    # '/**': the catch-all
    ("/**", "/", True),
    ("/**", "/a", True),
    ("/**", "/a/b/c/", True),
    ("/**", "/a//b", True),
    # '**' in the middle
    ("/api/**/edit", "/api/edit", True),
    ("/api/**/edit", "/api/a/edit", True),
    ("/api/**/edit", "/api/a/b/edit", True),
    ("/api/**/edit", "/api/a/b", False),
    ("/api/**/edit", "/api/a/bedit", False),
    ("/api/**/edit", "/api/edit/x", False),
    ("/api/**/edit", "/apiedit", False),
    ("/api/*/**", "/api", False),
    ("/api/*/**", "/api/a", True),
    ("/api/*/**", "/api/a/b/c", True),
    # '^': a regex matched from the start of the path (re.match), a prefix match
    ("^/api/v[12]/", "/api/v1/x", True),
    ("^/api/v[12]/", "/api/v2/", True),
    ("^/api/v[12]/", "/api/v3/x", False),
    ("^/api/v[12]/", "/v1/api/", False),
    ("^/api/", "/x/api/", False),  # from the start, not anywhere (re.match, not re.search)
    ("^/api", "/apix", True),  # a prefix: the author anchors the end if they want it
    ("^/api$", "/api", True),
    ("^/api$", "/api/x", False),
    ("^/API/", "/api/x", False),  # case-sensitive
]


@pytest.mark.parametrize(("pattern", "path", "expected"), PATTERN_CASES)
def test_path_pattern(pattern: str, path: str, expected: bool) -> None:
    policies = one(path_pattern=pattern)
    assert policies.policies[0].matches_path(path) is expected
    assert (policies.match(path) is not None) is expected  # the index agrees with the matcher


@pytest.mark.parametrize(("pattern", "path"), [("/**", "/\n"), ("/api/**", "/api/a\nb"), ("/api/**", "/api/\n/x")])
def test_double_star_matches_segments_with_a_newline(pattern: str, path: str) -> None:
    assert one(path_pattern=pattern).match(path) is not None


@pytest.mark.parametrize(("pattern", "path"), [("/api/*", "/api/a\nb"), ("/api/**/x", "/api/a\nb/x")])
def test_single_star_and_middle_double_star_match_segments_with_a_newline(pattern: str, path: str) -> None:
    assert one(path_pattern=pattern).match(path) is not None


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "The path pattern is empty; write a path such as /api/** (or /** for every path)."),
        (
            "api/**",
            "'api/**' must start with '/' (a path or glob, such as /api/**) or with '^' (a regular expression).",
        ),
        (
            "*/api",
            "'*/api' must start with '/' (a path or glob, such as /*/api) or with '^' (a regular expression).",
        ),
        (
            "/api/v*/x",
            "'/api/v*/x' has '*' inside the segment 'v*'; '*' and '**' must be whole segments "
            "(such as /api/*/items or /api/**), or write a regular expression starting with '^'.",
        ),
        (
            "/api/***",
            "'/api/***' has '*' inside the segment '***'; '*' and '**' must be whole segments "
            "(such as /api/*/items or /api/**), or write a regular expression starting with '^'.",
        ),
        (
            "^/api/(",
            "'^/api/(' is not a valid regular expression (missing ) in '^/api/('); fix it, or use a glob such as "
            "/api/**.",
        ),
        (
            "/api\x00/x",
            "'/api\\x00/x' contains control characters; paths are matched after percent-decoding, "
            "so write the decoded path (a space as a space, not %20).",
        ),
    ],
)
def test_pattern_errors(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as raised:
        parse_path_pattern(pattern)
    assert str(raised.value) == message
    built = PolicySet.build([spec(7, pattern, name="bad")])
    assert len(built) == 0
    assert built.errors == (f"policy 7 'bad' skipped: {message}",)


# ==================================================================================================
# Which policy applies
# ==================================================================================================

README_SET = [
    spec(1, "/**", "catch-all"),
    spec(2, "/api/**", "api"),
    spec(3, "/api/items/*", "items"),
    spec(4, "^/api/", "legacy"),
    spec(5, "/health", "health"),
]


@pytest.mark.parametrize(
    ("path", "winner"),
    [
        ("/api/items/5", "items"),  # two literal segments beat one
        ("/api/users", "api"),  # a glob beats a regex
        ("/api", "api"),
        ("/health", "health"),  # literal
        ("/health/", "catch-all"),
        ("/about", "catch-all"),
        ("/", "catch-all"),
    ],
)
def test_readme_examples(path: str, winner: str) -> None:
    assert names(PolicySet.build(README_SET), path) == winner


@pytest.mark.parametrize("path", ["/api/items/5", "/api/users", "/health", "/about"])
def test_priority_beats_specificity(path: str) -> None:
    policies = PolicySet.build([spec(1, "/**", "catch-all", priority=10), *README_SET[1:]])
    assert names(policies, path) == "catch-all"


@pytest.mark.parametrize(
    ("specs", "path", "winner"),
    [
        # priority first, whatever the kind
        ([spec(1, "/a/b", "literal"), spec(2, "/**", "glob", priority=1)], "/a/b", "glob"),
        ([spec(1, "/a/**", "glob"), spec(2, "^/", "regex", priority=1)], "/a/b", "regex"),
        ([spec(1, "/a/b", "literal", priority=-1), spec(2, "^/a", "regex")], "/a/b", "regex"),
        ([spec(1, "/a/b", "low", priority=1), spec(2, "/a/b", "high", priority=2)], "/a/b", "high"),
        # then a literal beats any glob
        ([spec(1, "/api/items/*", "glob"), spec(2, "/api/items/5", "literal")], "/api/items/5", "literal"),
        ([spec(1, "/api/items/5/**", "glob"), spec(2, "/api/items/5", "literal")], "/api/items/5", "literal"),
        # more literal segments beat fewer, wherever they are
        ([spec(1, "/api/**", "one"), spec(2, "/api/items/*", "two")], "/api/items/5", "two"),
        ([spec(1, "/*/items/*", "one"), spec(2, "/api/**/5", "two")], "/api/items/5", "two"),
        ([spec(1, "/**", "zero"), spec(2, "/**/5", "one")], "/api/items/5", "one"),
        # at equal literal count, '*' beats '**'
        ([spec(1, "/api/**", "double"), spec(2, "/api/*", "single")], "/api/x", "single"),
        ([spec(1, "/api/items/**", "double"), spec(2, "/api/*/parts", "single")], "/api/items/parts", "single"),
        ([spec(1, "/**", "double"), spec(2, "/*", "single")], "/x", "single"),
        # a glob beats a regex, even a catch-all against a long regex
        ([spec(1, "^/api/items/5$", "regex"), spec(2, "/**", "glob")], "/api/items/5", "glob"),
        # then the lowest id
        ([spec(7, "/api/**", "seven"), spec(3, "/api/**", "three")], "/api/x", "three"),
        ([spec(3, "/api/**", "three"), spec(7, "/api/**", "seven")], "/api/x", "three"),
        ([spec(9, "/x", "nine"), spec(4, "/x", "four")], "/x", "four"),
        ([spec(2, "^/a", "short"), spec(1, "^/a/b/c", "long")], "/a/b/c", "long"),
        ([spec(1, "^/a", "short"), spec(2, "^/a/b/c", "long")], "/a/b/c", "short"),  # regexes: id only
        # nothing matches
        ([spec(1, "/api/**", "api"), spec(2, "^/v2/", "v2")], "/v1/x", None),
    ],
)
def test_precedence(specs: list[PolicySpec], path: str, winner: str | None) -> None:
    policies = PolicySet.build(specs)
    assert names(policies, path) == winner
    assert policies.match(path) is scan(policies, path)


TENANTS = 5000


@pytest.fixture(scope="module")
def tenants() -> PolicySet:
    specs = [spec(i + 1, f"/tenant{i:04d}/**", f"t{i:04d}") for i in range(TENANTS)]
    specs += [
        spec(90001, "/**", "catch-all"),
        spec(90002, "/tenant0042/special", "literal"),
        spec(90003, "^/tenant0043/", "regex-low"),
        spec(90004, "^/tenant0044/", "regex-high", priority=2),
        spec(90005, "/tenant0045/*", "single-star"),
        spec(90006, "/tenant0046/**", "same-pattern-later-id"),
        spec(90007, "/tenant0047/a/**", "longer-prefix"),
    ]
    policies = PolicySet.build(specs)
    assert len(policies) == TENANTS + 7
    return policies


@pytest.mark.parametrize(
    ("path", "winner"),
    [
        ("/tenant0000/x", "t0000"),
        ("/tenant4999/x/y", "t4999"),
        ("/tenant2500", "t2500"),
        ("/tenant2500/", "t2500"),
        ("/tenant00420/x", "catch-all"),  # not a tenant: the catch-all
        ("/tenant0042x", "catch-all"),
        ("/Tenant0042/x", "catch-all"),
        ("/tenant5000/x", "catch-all"),
        ("/", "catch-all"),
        ("/tenant0042/special", "literal"),
        ("/tenant0042/special/x", "t0042"),
        ("/tenant0043/x", "t0043"),  # a glob beats a regex at equal priority
        ("/tenant0044/x", "regex-high"),  # priority beats everything
        ("/tenant0045/x", "single-star"),  # '*' beats '**' at one literal segment each
        ("/tenant0045/x/y", "t0045"),
        ("/tenant0046/x", "t0046"),  # same pattern: the lower id
        ("/tenant0047/a/b", "longer-prefix"),  # two literal segments beat one
        ("/tenant0047/b", "t0047"),
    ],
)
def test_precedence_with_thousands_of_policies(tenants: PolicySet, path: str, winner: str) -> None:
    assert names(tenants, path) == winner
    assert tenants.match(path) is scan(tenants, path)


def test_higher_priority_catch_all_wins_over_thousands_of_policies() -> None:
    specs = [spec(i + 1, f"/tenant{i:04d}/**", f"t{i:04d}") for i in range(TENANTS)]
    specs.append(spec(TENANTS + 1, "/**", "catch-all", priority=1))
    policies = PolicySet.build(specs)
    for path in ("/tenant0000/x", "/tenant1234", "/tenant4999/a/b", "/other"):
        assert names(policies, path) == "catch-all"


def _reference_matches(pattern: str, path: str) -> bool:
    """An independent matcher written from the README's rules, segment by segment."""
    if pattern.startswith("^"):
        return re.match(pattern, path) is not None
    pattern_segments = pattern[1:].split("/")
    path_segments = path[1:].split("/")

    def match(i: int, j: int) -> bool:
        if i == len(pattern_segments):
            return j == len(path_segments)
        segment = pattern_segments[i]
        if segment == "**":
            return any(match(i + 1, k) for k in range(j, len(path_segments) + 1))
        if j == len(path_segments):
            return False
        if segment == "*":
            return path_segments[j] != "" and match(i + 1, j + 1)
        return segment == path_segments[j] and match(i + 1, j + 1)

    return match(0, 0)


_REGEXES = ["^/a", "^/a/", "^/a/b$", "^/(a|b)/c", "^/$", "^/c/.*/a", "^/b"]


def _random_pattern(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(_REGEXES)
    segments = [rng.choice(["a", "b", "c", "*", "**", "a", "b"]) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.1:
        segments.append("")
    return "/" + "/".join(segments)


def _random_path(rng: random.Random) -> str:
    return "/" + "/".join(rng.choice(["a", "b", "c", "", "ab"]) for _ in range(rng.randint(0, 5)))


def test_index_agrees_with_a_plain_scan_on_random_sets() -> None:
    rng = random.Random(20240601)
    checked = 0
    for _ in range(400):
        count = rng.randint(1, 8)
        ids = rng.sample(range(1, 1000), count)
        specs = [
            spec(ids[n], _random_pattern(rng), f"r{n}", priority=rng.choice([-1, 0, 0, 0, 1])) for n in range(count)
        ]
        policies = PolicySet.build(specs)
        assert policies.errors == ()
        for _ in range(40):
            path = _random_path(rng)
            expected = {p.id for p in policies.policies if _reference_matches(p.pattern.source, path)}
            assert {p.id for p in policies.policies if p.matches_path(path)} == expected, (specs, path)
            assert {p.id for p in policies.candidates(path)} == expected
            assert policies.match(path) is scan(policies, path), (specs, path)
            checked += 1
    assert checked == 16000


def test_consecutive_double_stars_collapse_and_long_paths_cost_bounded_steps() -> None:
    """ReDoS guard, by construction rather than by timing: consecutive '**' collapse; a glob with one '**'
    in the middle is matched by the trie from both ends of the path, in as many steps as its segments
    whatever the path; one with '**' in several places by the regex automaton, which never reads more
    than MAX_REGEX_PATH_LENGTH bytes."""
    collapsed = one(path_pattern="/**/**/**/y")
    assert (collapsed.policies[0].pattern.tokens, collapsed.policies[0].pattern.tail) == ((), ("y",))
    assert collapsed.glob_steps == 3  # the root, the root of its suffix trie, y
    assert collapsed.match("/" * 5000) is None
    assert collapsed.match("/" * 5000 + "y").id == 1
    middle = one(path_pattern="/x/**/**/y")
    assert middle.glob_steps == 4
    assert middle.match("/x" + "/a" * 4000) is None
    assert middle.match("/x" + "/a" * 4000 + "/y").id == 1
    several = one(path_pattern="/**/a/**/a/**/b")
    assert several.policies[0].pattern.automaton and several.glob_steps == 0
    long = "/a" * 4000 + "/b"
    assert several.match(long) is None
    assert several.unread(long) is several.policies[0]
    assert several.match("/x/a/y/a/z/b").id == 1
    assert one(path_pattern="/**/**/y").policies[0].pattern.source == "/**/**/y"


# ==================================================================================================
# Origins
# ==================================================================================================


def test_exact_origin_entries_are_normalized() -> None:
    policies = one(allowed_origins=["HTTPS://App.Example.com:443", "http://LOCALHOST:3000"])
    assert actual(policies, "https://app.example.com").headers == ((ACAO, "https://app.example.com"),)
    assert actual(policies, "http://localhost:3000").headers == ((ACAO, "http://localhost:3000"),)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("capacitor://localhost", True),
        ("ionic://localhost", True),
        ("chrome-extension://abcdef", True),
        ("http://localhost:3000", True),
        ("http://[::1]:8000", True),
        ("http://127.0.0.1:3000", False),  # another origin than localhost
        ("https://localhost:3000", False),
        ("http://localhost:3001", False),
        ("http://localhost", False),
        ("capacitor://localhost:80", False),
        ("moz-extension://abcdef", False),
    ],
)
def test_exact_origins_of_any_scheme(origin: str, allowed: bool) -> None:
    policies = one(
        allowed_origins=[
            "capacitor://localhost",
            "ionic://localhost",
            "chrome-extension://abcdef",
            "http://localhost:3000",
            "http://[::1]:8000",
        ]
    )
    decision = actual(policies, origin)
    assert decision.allowed is allowed
    assert decision.headers == (((ACAO, origin),) if allowed else ())
    assert decision.vary == VARY_ORIGIN


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.example.com", True),
        ("https://a.b.example.com", True),
        ("https://x-1.example.com", True),
        ("https://example.com", False),  # never the apex
        ("https://example.com.evil.net", False),
        ("https://evilexample.com", False),  # a dot boundary
        ("https://a.evilexample.com", False),
        ("https://a.example.co", False),
        ("http://a.example.com", False),  # never another scheme
        ("wss://a.example.com", False),
        ("https://a.example.com:8443", False),  # never another port
        ("https://a.example.com:443", False),  # not how a browser serializes it
        ("https://A.example.com", False),
        ("https://.example.com", False),
        ("https://a.example.com.", False),
        ("https://a.example.com/", False),
        ("https://*.example.com", False),
        ("https://a.example.com\r\n", False),
    ],
)
def test_subdomain_wildcard(origin: str, allowed: bool) -> None:
    decision = actual(one(allowed_origins=["https://*.example.com"]), origin)
    assert decision.allowed is allowed
    assert decision.headers == (((ACAO, origin),) if allowed else ())
    assert decision.vary == VARY_ORIGIN


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.example.com:8443", True),
        ("https://a.example.com", False),
        ("https://example.com:8443", False),
        ("https://a.example.com:8444", False),
    ],
)
def test_subdomain_wildcard_with_a_port(origin: str, allowed: bool) -> None:
    assert actual(one(allowed_origins=["https://*.Example.com:8443"]), origin).allowed is allowed


def test_wildcard_length_limit_is_2048_bytes() -> None:
    policies = one(allowed_origins=["https://*.example.com"])
    longest = "https://ab." + "a." * 1013 + "example.com"
    too_long = "https://" + "a." * 1015 + "example.com"
    ten_kb = "https://" + "a." * 5000 + "example.com"
    assert (len(longest), len(too_long)) == (MAX_ORIGIN_LENGTH, MAX_ORIGIN_LENGTH + 1)
    assert actual(policies, longest).headers == ((ACAO, longest),)
    for origin in (too_long, ten_kb):
        decision = actual(policies, origin)
        assert (decision.allowed, decision.headers, decision.vary) == (False, (), VARY_ORIGIN)
        assert decision.refusals[0].code == "origin_malformed"
        assert len(decision.reasons[0]) < 300  # a long origin is shortened in the reason


def test_null_is_allowed_only_when_listed() -> None:
    listed = one(allowed_origins=["null"])
    assert actual(listed, "null").headers == ((ACAO, "null"),)
    assert preflight(listed, "GET", origin="null").headers == ((ACAO, "null"),)
    assert actual(listed, "NULL").allowed is False
    unlisted = one(allowed_origins=[ORIGIN], allowed_origin_regexes=[".*"])
    decision = actual(unlisted, "null")
    assert (decision.allowed, decision.headers, decision.vary) == (False, (), VARY_ORIGIN)
    assert decision.reasons == [
        "origin null is not allowed by policy 'p1' (it allows https://app.example.com or regexes .*)"
    ]
    assert actual(one(allowed_origins=["https://*.example.com"]), "null").allowed is False


@pytest.mark.parametrize(
    "origin",
    [
        ORIGIN,
        "null",
        "https://evil.example",
        "",
        None,
        "https://evil.example\r\nSet-Cookie: a=b",
        "https://" + "a" * 10240,
    ],
)
def test_any_origin_is_answered_with_a_star_never_an_echo(origin: str | None) -> None:
    policies = one(allowed_origins=["*"], expose_headers=["X-Total"])
    decision = actual(policies, origin)
    assert decision.allowed is True
    assert decision.headers == ((ACAO, "*"), (ACEH, "X-Total"))
    assert decision.vary == ()
    assert decision.refusals == ()
    if origin is not None:
        decision = preflight(policies, "GET", origin=origin)
        assert decision.headers == ((ACAO, "*"),)
        assert decision.vary == ()


@pytest.mark.parametrize(
    ("regexes", "origin", "allowed"),
    [
        ([r"https://a\.example\.com"], "https://a.example.com", True),
        ([r"https://a\.example\.com"], "https://a.example.com.evil.net", False),  # unanchored, still full
        ([r"https://a\.example\.com"], "https://xhttps://a.example.com", False),
        ([r"https://a\.example\.com"], "https://xa.example.com", False),
        ([r"^https://a\.example\.com$"], "https://a.example.com", True),
        ([r"https://a\.example\.com|https://b\.example\.com"], "https://b.example.com", True),
        ([r"https://a\.example\.com|https://b\.example\.com"], "https://b.example.com.evil.net", False),
        ([r"https://a\.example\.com|https://b\.example\.com"], "https://a.example.com.evil.net", False),
        ([r"https://[a-z]+\.example\.com"], "https://abc.example.com", True),
        ([r"https://[a-z]+\.example\.com"], "https://abc.example.com:8443", False),
        ([r"https://[a-z]+\.example\.com"], "http://abc.example.com", False),
        ([r"https://[a-z]+\.example\.com", r"http://localhost:\d+"], "http://localhost:5173", True),
        # a regex never sees a malformed origin, even one it would match
        ([r"(?i)https://[a-z]+\.example\.com"], "https://ABC.example.com", False),
        ([r"https://a\.example\.com.*"], "https://a.example.com\r\nX: y", False),
        ([r".*"], "https://a.example.com, https://b.example.com", False),
        ([r".*"], "https://a.example.com:443", False),
        ([r".*"], "", False),
    ],
)
def test_origin_regexes_match_the_whole_origin(regexes: list[str], origin: str, allowed: bool) -> None:
    decision = actual(one(allowed_origin_regexes=regexes), origin)
    assert decision.allowed is allowed
    assert decision.headers == (((ACAO, origin),) if allowed else ())


LOOK_ALIKES = [
    ("https://app.example.com/", "origin_malformed"),
    ("https://App.example.com", "origin_malformed"),
    ("HTTPS://app.example.com", "origin_malformed"),
    ("https://app.example.com:443", "origin_malformed"),
    ("https://app.example.com:0443", "origin_malformed"),
    ("https://app.example.com:", "origin_malformed"),
    ("https://app.example.com.", "origin_malformed"),
    ("https://app.example.com, https://b.com", "origin_malformed"),
    ("https://app.example.com,https://app.example.com", "origin_malformed"),
    ("https://app.example.com https://b.com", "origin_malformed"),
    ("https://app.example.com\r\nSet-Cookie: session=x", "origin_malformed"),
    ("https://app.example.com\n", "origin_malformed"),
    ("https://app.example.com\x00", "origin_malformed"),
    (" https://app.example.com", "origin_malformed"),
    ("https://app.example.com\t", "origin_malformed"),
    ("https://user@app.example.com", "origin_malformed"),
    ("https://app.example.com?x", "origin_malformed"),
    ("https://app.example.com" + "a" * 10240, "origin_malformed"),
    ("https://app.example.com" + " " * 10240, "origin_malformed"),
    ("", "origin_malformed"),
    ("https://äpp.example.com", "origin_malformed"),
    ("https://app.\u0435xample.com", "origin_malformed"),  # a Cyrillic look-alike letter
    ("app.example.com", "origin_malformed"),
    ("http://app.example.com", "origin"),
    ("https://app.example.com:8443", "origin"),
    ("wss://app.example.com", "origin"),
    ("https://app.example.co", "origin"),
    ("https://app.example.com.evil.net", "origin"),
    ("null", "origin"),
]


@pytest.mark.parametrize(("origin", "code"), LOOK_ALIKES)
def test_look_alike_origins_are_refused_and_never_echoed(origin: str, code: str) -> None:
    policies = one(
        allowed_origins=[ORIGIN, "https://*.example.com"],
        allowed_methods=["*"],
        allowed_headers=["*"],
        allow_credentials=True,
        max_age=600,
        allow_private_network=True,
    )
    for decision in (actual(policies, origin), preflight(policies, "PUT", "x-a", origin, private_network=True)):
        assert decision.covered is True
        assert decision.allowed is False
        assert decision.headers == ()
        assert decision.vary == VARY_ORIGIN
        assert [refusal.code for refusal in decision.refusals] == [code]
        for reason in decision.reasons:  # attacker text is escaped: no line breaks reach a log
            assert "\r" not in reason
            assert "\n" not in reason
            assert "\x00" not in reason
            assert len(reason) < 400


# ==================================================================================================
# Actual (non-preflight) requests
# ==================================================================================================


@pytest.mark.parametrize(
    ("fields", "headers"),
    [
        ({}, ((ACAO, ORIGIN),)),
        ({"allow_credentials": True}, ((ACAO, ORIGIN), (ACAC, "true"))),
        ({"expose_headers": ["X-Total", "X-Page"]}, ((ACAO, ORIGIN), (ACEH, "X-Total, X-Page"))),
        (
            {"allow_credentials": True, "expose_headers": ["X-Total"], "max_age": 600, "allow_private_network": True},
            ((ACAO, ORIGIN), (ACAC, "true"), (ACEH, "X-Total")),
        ),
    ],
)
def test_actual_request_from_an_allowed_origin(fields: dict[str, Any], headers: tuple[tuple[str, str], ...]) -> None:
    policies = one(allowed_origins=[ORIGIN], allowed_methods=["PUT"], allowed_headers=["X-Token"], **fields)
    for method in ("GET", "HEAD", "POST", "PUT"):
        decision = actual(policies, method=method)
        assert (decision.covered, decision.preflight, decision.allowed) == (True, False, True)
        assert decision.headers == headers
        assert decision.vary == VARY_ORIGIN
        assert decision.refusals == ()


def test_actual_request_from_a_refused_origin_gets_no_headers_and_vary() -> None:
    policies = one(allowed_origins=[ORIGIN], allow_credentials=True, expose_headers=["X-Total"])
    decision = actual(policies, "https://evil.example")
    assert (decision.covered, decision.preflight, decision.allowed) == (True, False, False)
    assert decision.headers == ()
    assert decision.vary == VARY_ORIGIN
    assert decision.refusals == (
        Refusal(
            "origin", "origin https://evil.example is not allowed by policy 'p1' (it allows https://app.example.com)"
        ),
    )


def test_actual_request_without_origin() -> None:
    decision = actual(one(allowed_origins=[ORIGIN]), None)
    assert (decision.covered, decision.allowed, decision.headers, decision.vary) == (True, False, (), VARY_ORIGIN)
    assert decision.refusals == (
        Refusal("no_origin", "the request has no Origin header, so it is not a cross-origin browser request"),
    )


def test_actual_request_on_a_path_no_policy_covers() -> None:
    decision = PolicySet.build([spec(1, "/api/**", allowed_origins=["*"])]).evaluate(
        origin=ORIGIN, method="GET", path="/admin/x"
    )
    assert (decision.policy, decision.covered, decision.allowed) == (None, False, False)
    assert (decision.headers, decision.vary) == ((), ())
    assert decision.refusals == (Refusal("no_policy", "no policy covers the path"),)  # explained, it names the path


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_safelisted_methods_are_always_allowed_on_actual_requests(method: str) -> None:
    assert actual(one(allowed_origins=[ORIGIN], allowed_methods=[]), method=method).headers == ((ACAO, ORIGIN),)


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "put"])
def test_actual_request_headers_do_not_depend_on_the_method(method: str) -> None:
    """Issue 2: "Every other request from an allowed origin gets Access-Control-Allow-Origin ...": the
    browser vetted the method in the preflight, so the engine answers the real request by origin alone.
    (The review brief asked for a refusal here; the spec says otherwise: see the report.)"""
    decision = actual(one(allowed_origins=[ORIGIN], allowed_methods=["GET"]), method=method)
    assert (decision.allowed, decision.headers, decision.vary) == (True, ((ACAO, ORIGIN),), VARY_ORIGIN)


def test_plain_options_without_request_method_is_an_actual_request() -> None:
    policies = one(allowed_origins=[ORIGIN], allowed_methods=["PUT"], max_age=600, allow_credentials=True)
    decision = policies.evaluate(origin=ORIGIN, method="OPTIONS", path="/x")
    assert (decision.preflight, decision.allowed) == (False, True)
    assert decision.headers == ((ACAO, ORIGIN), (ACAC, "true"))
    decision = policies.evaluate(origin=None, method="OPTIONS", path="/x", request_method="PUT")
    assert (decision.preflight, decision.allowed, decision.headers) == (False, False, ())
    assert [r.code for r in decision.refusals] == ["no_origin"]


# ==================================================================================================
# Preflights
# ==================================================================================================


def test_full_preflight_answer_in_order() -> None:
    policies = one(
        allowed_origins=[ORIGIN],
        allowed_methods=["GET", "PUT", "DELETE"],
        allowed_headers=["Content-Type", "X-Token"],
        expose_headers=["X-Total"],
        allow_credentials=True,
        max_age=600,
        allow_private_network=True,
    )
    decision = preflight(policies, "PUT", "content-type,x-token", private_network=True)
    assert (decision.covered, decision.preflight, decision.allowed) == (True, True, True)
    assert decision.headers == (
        (ACAO, ORIGIN),
        (ACAM, "GET, PUT, DELETE"),
        (ACAH, "Content-Type, X-Token"),
        (ACAC, "true"),
        (ACMA, "600"),
        (ACAPN, "true"),
    )
    assert decision.vary == VARY_ORIGIN
    assert decision.refusals == ()


def test_minimal_preflight_answer() -> None:
    decision = preflight(one(allowed_origins=[ORIGIN], allowed_methods=["PUT"]))
    assert decision.headers == ((ACAO, ORIGIN), (ACAM, "PUT"))
    assert decision.vary == VARY_ORIGIN


@pytest.mark.parametrize(("max_age", "header"), [(0, ((ACMA, "0"),)), (7200, ((ACMA, "7200"),)), (None, ())])
def test_max_age(max_age: int | None, header: tuple[tuple[str, str], ...]) -> None:
    decision = preflight(one(allowed_origins=[ORIGIN], allowed_methods=["PUT"], max_age=max_age))
    assert decision.headers == ((ACAO, ORIGIN), (ACAM, "PUT"), *header)


@pytest.mark.parametrize(
    ("allowed_methods", "request_method", "methods_header"),
    [
        (["PUT"], "PUT", "PUT"),
        (["PUT", "DELETE"], "DELETE", "PUT, DELETE"),
        (["patch"], "patch", "patch"),
        (["PUT"], "GET", "PUT"),  # safelisted methods always pass
        (["PUT"], "HEAD", "PUT"),
        (["PUT"], "POST", "PUT"),
        ([], "GET", None),
    ],
)
def test_preflight_methods(allowed_methods: list[str], request_method: str, methods_header: str | None) -> None:
    decision = preflight(one(allowed_origins=[ORIGIN], allowed_methods=allowed_methods), request_method)
    assert decision.allowed is True
    expected = ((ACAO, ORIGIN),) if methods_header is None else ((ACAO, ORIGIN), (ACAM, methods_header))
    assert decision.headers == expected


@pytest.mark.parametrize(
    ("allowed_methods", "request_method", "reason"),
    [
        (
            ["PUT"],
            "put",
            "method put is not in the allowed methods PUT (methods are case-sensitive: PUT is allowed, put is not)",
        ),
        (
            ["GET", "PUT"],
            "Put",
            "method Put is not in the allowed methods GET, PUT "
            "(methods are case-sensitive: PUT is allowed, Put is not)",
        ),
        (["PUT"], "DELETE", "method DELETE is not in the allowed methods PUT"),
        (
            ["patch"],
            "PATCH",
            "method PATCH is not in the allowed methods patch "
            "(methods are case-sensitive: patch is allowed, PATCH is not)",
        ),
        (["PUT"], "get", "method get is not in the allowed methods PUT"),  # 'get' is not safelisted
        ([], "PUT", "method PUT is not in the allowed methods none"),
    ],
)
def test_preflight_method_refused(allowed_methods: list[str], request_method: str, reason: str) -> None:
    decision = preflight(one(allowed_origins=[ORIGIN], allowed_methods=allowed_methods), request_method)
    assert (decision.preflight, decision.allowed, decision.headers, decision.vary) == (True, False, (), VARY_ORIGIN)
    assert decision.refusals == (Refusal("method", reason),)


@pytest.mark.parametrize(
    ("fields", "request_method", "headers", "vary"),
    [
        ({"allowed_origins": [ORIGIN]}, "PATCH", ((ACAO, ORIGIN), (ACAM, "*")), VARY_ORIGIN),
        ({"allowed_origins": [ORIGIN]}, "GET", ((ACAO, ORIGIN), (ACAM, "*")), VARY_ORIGIN),
        ({"allowed_origins": ["*"]}, "PATCH", ((ACAO, "*"), (ACAM, "*")), ()),
        (
            {"allowed_origins": [ORIGIN], "allow_credentials": True},
            "PATCH",
            ((ACAO, ORIGIN), (ACAM, "PATCH"), (ACAC, "true")),
            VARY_ORIGIN_ECHO,
        ),
        (
            {"allowed_origins": [ORIGIN], "allow_credentials": True},
            "x-custom",
            ((ACAO, ORIGIN), (ACAM, "x-custom"), (ACAC, "true")),
            VARY_ORIGIN_ECHO,
        ),
    ],
)
def test_any_method(
    fields: dict[str, Any], request_method: str, headers: tuple[tuple[str, str], ...], vary: tuple[str, ...]
) -> None:
    decision = preflight(one(allowed_methods=["*"], **fields), request_method)
    assert decision.allowed is True
    assert decision.headers == headers
    assert decision.vary == vary


@pytest.mark.parametrize(
    ("allowed_headers", "request_headers", "headers_value"),
    [
        (["X-Token"], "x-token", "X-Token"),  # case-insensitive
        (["x-token"], "X-Token", "x-token"),
        (["x-token"], ["X-Token"], "x-token"),
        (["X-A", "X-B"], "x-a,x-b", "X-A, X-B"),
        (["X-A", "X-B"], "x-b, x-a", "X-A, X-B"),
        (["X-A", "X-B"], "x-a,,x-b,", "X-A, X-B"),
        (["X-A", "X-B"], [" x-a ", "X-B", ""], "X-A, X-B"),
        (["X-A", "X-B"], "", "X-A, X-B"),  # none requested: the list is still sent
        (["X-A", "X-B"], None, "X-A, X-B"),
        (["Authorization"], "authorization", "Authorization"),  # listed explicitly, it works
        (["Authorization", "Content-Type"], "authorization,content-type", "Authorization, Content-Type"),
    ],
)
def test_preflight_headers(allowed_headers: list[str], request_headers: Any, headers_value: str) -> None:
    decision = preflight(
        one(allowed_origins=[ORIGIN], allowed_methods=["PUT"], allowed_headers=allowed_headers), "PUT", request_headers
    )
    assert decision.allowed is True
    assert decision.headers == ((ACAO, ORIGIN), (ACAM, "PUT"), (ACAH, headers_value))
    assert decision.vary == VARY_ORIGIN


@pytest.mark.parametrize(
    ("fields", "request_headers", "headers", "vary"),
    [
        # '*' headers: the requested names are echoed (never a bare '*'), with or without credentials
        ({}, "x-a,x-b", ((ACAO, ORIGIN), (ACAM, "PUT"), (ACAH, "x-a, x-b")), VARY_ORIGIN_ECHO),
        ({}, "X-A, x-a, X-B", ((ACAO, ORIGIN), (ACAM, "PUT"), (ACAH, "x-a, x-b")), VARY_ORIGIN_ECHO),
        ({}, ["Content-Type"], ((ACAO, ORIGIN), (ACAM, "PUT"), (ACAH, "content-type")), VARY_ORIGIN_ECHO),
        ({}, None, ((ACAO, ORIGIN), (ACAM, "PUT")), VARY_ORIGIN_ECHO),
        (
            {"allow_credentials": True},
            "x-a",
            ((ACAO, ORIGIN), (ACAM, "PUT"), (ACAH, "x-a"), (ACAC, "true")),
            VARY_ORIGIN_ECHO,
        ),
        ({"allowed_origins": ["*"]}, "x-a", ((ACAO, "*"), (ACAM, "PUT"), (ACAH, "x-a")), VARY_ECHO),
        # '*' plus an explicit Authorization covers it
        (
            {"allowed_headers": ["*", "Authorization"]},
            "x-a,authorization",
            ((ACAO, ORIGIN), (ACAM, "PUT"), (ACAH, "x-a, authorization")),
            VARY_ORIGIN_ECHO,
        ),
    ],
)
def test_any_header_echoes_the_requested_names(
    fields: dict[str, Any], request_headers: Any, headers: tuple[tuple[str, str], ...], vary: tuple[str, ...]
) -> None:
    fields = {"allowed_origins": [ORIGIN], "allowed_methods": ["PUT"], "allowed_headers": ["*"], **fields}
    decision = preflight(one(**fields), "PUT", request_headers)
    assert decision.allowed is True
    assert decision.headers == headers
    assert decision.vary == vary


@pytest.mark.parametrize(
    ("fields", "request_headers", "reason"),
    [
        (
            {"allowed_headers": ["*"]},
            "authorization",
            AUTH_REFUSED,
        ),
        (
            {"allowed_headers": ["*"], "allow_credentials": True},
            "x-a,Authorization",
            AUTH_REFUSED,
        ),
        (
            {"allowed_origins": ["*"], "allowed_headers": ["*"]},
            "authorization",
            AUTH_REFUSED,
        ),
        ({"allowed_headers": ["X-A"]}, "x-a,x-b", "request header x-b is not in the allowed headers X-A"),
        ({"allowed_headers": ["X-A"]}, "x-b,x-a,x-c", "request headers x-b, x-c are not in the allowed headers X-A"),
        (
            {"allowed_headers": ["X-A"]},
            "authorization",
            "request header authorization is not in the allowed headers X-A",
        ),
        ({}, "content-type", "request header content-type is not in the allowed headers none"),
    ],
)
def test_preflight_headers_refused(fields: dict[str, Any], request_headers: str, reason: str) -> None:
    fields = {"allowed_origins": [ORIGIN], "allowed_methods": ["PUT"], **fields}
    decision = preflight(one(**fields), "PUT", request_headers)
    assert (decision.allowed, decision.headers) == (False, ())
    assert decision.refusals == (Refusal("headers", reason),)


@pytest.mark.parametrize(
    "request_headers",
    [
        "x-a;x-b",
        "x a",
        "x-a, x b",
        "x-a:1",
        "x-a\r\nSet-Cookie: a",
        "x-ä",
        "x-a/b",
        "x" * 9000,  # longer than anything a browser sends
        ",".join(f"x-{i}" for i in range(MAX_REQUEST_HEADER_NAMES + 1)),  # more fields than a request can carry
        "x-a" + "," * MAX_REQUEST_HEADER_NAMES,  # entries, even empty ones, are what costs
        ["x a"],
        ["x-a", "x:b"],
        [f"x-{i}" for i in range(MAX_REQUEST_HEADER_NAMES + 1)],
    ],
)
def test_malformed_request_headers_are_refused(request_headers: Any) -> None:
    decision = preflight(
        one(allowed_origins=[ORIGIN], allowed_methods=["*"], allowed_headers=["*"]), "PUT", request_headers
    )
    assert (decision.allowed, decision.headers, decision.vary) == (False, (), VARY_ORIGIN)
    assert decision.refusals == (
        Refusal(
            "headers_malformed",
            "Access-Control-Request-Headers is not a comma-separated list of at most 128 header names",
        ),
    )


def test_request_headers_up_to_the_cap_are_read() -> None:
    names = [f"x-{i}" for i in range(MAX_REQUEST_HEADER_NAMES)]
    policies = one(allowed_origins=[ORIGIN], allowed_methods=["*"], allowed_headers=["*"])
    assert preflight(policies, "PUT", ", ".join(names)).headers[2] == (ACAH, ", ".join(names))
    assert preflight(policies, "PUT", names).allowed


@pytest.mark.parametrize(
    ("request_method", "shown"),
    [
        ("", ""),
        ("PUT DELETE", "PUT DELETE"),
        ("GET,PUT", "GET,PUT"),
        ("PUT\r\nX: y", "PUT\\r\\nX: y"),
        ("PÜT", "P\\xdcT"),
    ],
)
def test_malformed_request_method_is_refused(request_method: str, shown: str) -> None:
    decision = preflight(one(allowed_origins=[ORIGIN], allowed_methods=["*"]), request_method)
    assert (decision.preflight, decision.allowed, decision.headers) == (True, False, ())
    assert decision.refusals == (
        Refusal("method_malformed", f"Access-Control-Request-Method '{shown}' is not a valid method token"),
    )


@pytest.mark.parametrize(
    ("allow", "requested", "allowed", "headers"),
    [
        (True, True, True, ((ACAO, ORIGIN), (ACAM, "PUT"), (ACAPN, "true"))),
        (True, False, True, ((ACAO, ORIGIN), (ACAM, "PUT"))),
        (False, False, True, ((ACAO, ORIGIN), (ACAM, "PUT"))),
        (False, True, False, ()),
    ],
)
def test_private_network(allow: bool, requested: bool, allowed: bool, headers: tuple[tuple[str, str], ...]) -> None:
    policies = one(allowed_origins=[ORIGIN], allowed_methods=["PUT"], allow_private_network=allow)
    decision = preflight(policies, private_network=requested)
    assert (decision.allowed, decision.headers, decision.vary) == (allowed, headers, VARY_ORIGIN)
    if not allowed:
        assert decision.refusals == (
            Refusal(
                "private_network",
                "policy 'p1' does not allow private network access (Access-Control-Request-Private-Network)",
            ),
        )


def test_every_refusal_of_a_preflight_is_reported_in_order() -> None:
    policies = one(allowed_origins=[ORIGIN], allowed_methods=["PUT"], allowed_headers=["X-A"])
    decision = preflight(policies, "DELETE", "x-b", "https://evil.example", private_network=True)
    assert (decision.allowed, decision.headers, decision.vary) == (False, (), VARY_ORIGIN)
    assert decision.reasons == [
        "origin https://evil.example is not allowed by policy 'p1' (it allows https://app.example.com)",
        "method DELETE is not in the allowed methods PUT",
        "request header x-b is not in the allowed headers X-A",
        "policy 'p1' does not allow private network access (Access-Control-Request-Private-Network)",
    ]
    assert [r.code for r in decision.refusals] == ["origin", "method", "headers", "private_network"]


def test_refused_preflight_of_an_any_origin_policy_has_no_vary() -> None:
    decision = preflight(one(allowed_origins=["*"], allowed_methods=["PUT"]), "DELETE")
    assert (decision.allowed, decision.headers, decision.vary) == (False, (), ())


def test_preflight_on_a_path_no_policy_covers() -> None:
    decision = PolicySet.build([spec(1, "/api/**", allowed_origins=[ORIGIN])]).evaluate(
        origin=ORIGIN, method="OPTIONS", path="/x", request_method="PUT"
    )
    assert (decision.covered, decision.preflight, decision.allowed, decision.headers, decision.vary) == (
        False,
        True,
        False,
        (),
        (),
    )
    assert decision.reasons == ["no policy covers the path"]


# ==================================================================================================
# '*' with credentials
# ==================================================================================================


def test_star_with_credentials_never_answers_star_and_credentials() -> None:
    policies = PolicySet.build(
        [spec(1, "/**", allowed_origins=["*"], allow_credentials=True, allowed_methods=["*"], allowed_headers=["*"])]
    )
    for decision in (
        actual(policies, "https://evil.example"),
        preflight(policies, "PUT", "x-a", "https://evil.example"),
    ):
        assert not ((ACAO, "*") in decision.headers and (ACAC, "true") in decision.headers), decision.headers


def test_star_with_credentials_is_never_compiled() -> None:
    """A row written around the validators is skipped (and reported), never served."""
    policies = PolicySet.build(
        [
            spec(1, "/**", allowed_origins=["*"], allow_credentials=True),
            spec(2, "/ok", allowed_origins=[ORIGIN]),
        ]
    )
    assert policies.errors == (
        "policy 1 'p1' skipped: '*' cannot be used with credentials; list the origins that need credentials instead",
    )
    assert [p.id for p in policies.policies] == [2]


# ==================================================================================================
# Reasons and explanations
# ==================================================================================================


@pytest.mark.parametrize(
    ("fields", "origin", "reason"),
    [
        (
            {"allowed_origins": [ORIGIN, "https://*.example.com"]},
            "https://evil.example",
            "origin https://evil.example is not allowed by policy 'p1' (it allows https://app.example.com, "
            "https://*.example.com)",
        ),
        (
            {"allowed_origins": [ORIGIN], "allowed_origin_regexes": [r"^https://x\.example$"]},
            "https://evil.example",
            r"origin https://evil.example is not allowed by policy 'p1' (it allows https://app.example.com or "
            r"regexes ^https://x\.example$)",
        ),
        (
            {},
            "https://evil.example",
            "origin https://evil.example is not allowed by policy 'p1' (it allows no origins)",
        ),
        ({"allowed_origins": [ORIGIN]}, "https://App.example.com", f"origin 'https://App.example.com' {MALFORMED}"),
        ({"allowed_origins": [ORIGIN]}, "", f"origin '' {MALFORMED}"),
        (
            {"allowed_origins": [ORIGIN]},
            "https://app.example.com\r\nSet-Cookie: a=b",
            f"origin 'https://app.example.com\\r\\nSet-Cookie: a=b' {MALFORMED}",
        ),
        (
            {"allowed_origins": [ORIGIN]},
            "https://app.example.com" + "a" * 10240,
            "origin 'https://app.example.com" + "a" * 97 + f"\\u2026' {MALFORMED}",
        ),
        ({"allowed_origins": [ORIGIN]}, "https://äpp.example", f"origin 'https://\\xe4pp.example' {MALFORMED}"),
    ],
)
def test_origin_reasons(fields: dict[str, Any], origin: str, reason: str) -> None:
    assert actual(one(**fields), origin).reasons == [reason]


def test_no_policy_reason_escapes_the_path() -> None:
    decision = PolicySet.build([]).evaluate(origin=ORIGIN, method="GET", path="/a\r\nb", explain=True)
    assert decision.reasons == ["no policy covers /a\\r\\nb"]
    assert decision.explanation == ["No enabled policy's path pattern matches /a\\r\\nb."]


@pytest.mark.parametrize(
    ("specs", "path", "lines"),
    [
        (
            README_SET,
            "/api/items/5",
            [
                "Policy 'items' applies: its glob '/api/items/*' matches /api/items/5 (priority 0).",
                "It wins over 'api' ('/api/**'): more literal segments (2 > 1).",
                "It wins over 'catch-all' ('/**'): more literal segments (2 > 0).",
                "It wins over 'legacy' ('^/api/'): a glob is more specific than a regular expression.",
            ],
        ),
        (
            README_SET,
            "/health",
            [
                "Policy 'health' applies: its literal path '/health' matches /health (priority 0).",
                "It wins over 'catch-all' ('/**'): a literal path is more specific than a glob.",
            ],
        ),
        (
            [spec(1, "/**", "catch-all", priority=10), *README_SET[1:]],
            "/api/x",
            [
                "Policy 'catch-all' applies: its glob '/**' matches /api/x (priority 10).",
                "It wins over 'api' ('/api/**'): higher priority (10 > 0).",
                "It wins over 'legacy' ('^/api/'): higher priority (10 > 0).",
            ],
        ),
        (
            [spec(2, "/api/**", "double"), spec(1, "/api/*", "single")],
            "/api/x",
            [
                "Policy 'single' applies: its glob '/api/*' matches /api/x (priority 0).",
                "It wins over 'double' ('/api/**'): '*' is more specific than '**'.",
            ],
        ),
        (
            [spec(7, "^/a", "seven"), spec(3, "^/a", "three")],
            "/a",
            [
                "Policy 'three' applies: its regular expression '^/a' matches /a (priority 0).",
                "It wins over 'seven' ('^/a'): equal precedence, and the lower id wins (3 < 7).",
            ],
        ),
        (
            [spec(1, "/x", "only")],
            "/x",
            ["Policy 'only' applies: its literal path '/x' matches /x (priority 0)."],
        ),
    ],
)
def test_explanations(specs: list[PolicySpec], path: str, lines: list[str]) -> None:
    policies = PolicySet.build(specs)
    assert policies.evaluate(origin=ORIGIN, method="GET", path=path, explain=True).explanation == lines
    assert policies.evaluate(origin=ORIGIN, method="GET", path=path).explanation == []


def test_as_dict() -> None:
    policies = PolicySet.build([spec(4, "/api/**", "api", allowed_origins=[ORIGIN], expose_headers=["X-Total"])])
    allowed = policies.evaluate(origin=ORIGIN, method="GET", path="/api/x", explain=True)
    assert allowed.as_dict() == {
        "allowed": True,
        "policy": {"id": 4, "name": "api"},
        "response_headers": {ACAO: ORIGIN, ACEH: "X-Total"},
        "vary": ["Origin"],
        "reasons": [],
        "explanation": ["Policy 'api' applies: its glob '/api/**' matches /api/x (priority 0)."],
        "csrf_trusted": False,
    }
    assert policies.evaluate(origin=ORIGIN, method="GET", path="/x").as_dict() == {
        "allowed": False,
        "policy": None,
        "response_headers": {},
        "vary": [],
        "reasons": ["no policy covers the path"],  # explain=True names the path
        "explanation": [],
        "csrf_trusted": False,
    }


def test_simulate_asks_about_the_preflight_or_the_request() -> None:
    policies = one(allowed_origins=[ORIGIN], allowed_methods=["PUT"], allowed_headers=["X-Token"], max_age=60)
    decision = policies.simulate(origin=ORIGIN, method="PUT", path="/x", request_headers=["X-Token"], preflight=True)
    assert (decision.preflight, decision.allowed) == (True, True)
    assert decision.headers == ((ACAO, ORIGIN), (ACAM, "PUT"), (ACAH, "X-Token"), (ACMA, "60"))
    assert decision.explanation == ["Policy 'p1' applies: its glob '/**' matches /x (priority 0)."]
    decision = policies.simulate(origin=ORIGIN, method="PUT", path="/x")
    assert (decision.preflight, decision.allowed, decision.headers) == (False, True, ((ACAO, ORIGIN),))
    decision = policies.simulate(origin=None, method="PUT", path="/x", preflight=True)
    assert (decision.preflight, decision.allowed) == (True, False)
    assert decision.reasons == [f"origin '' {MALFORMED}"]


# ==================================================================================================
# Building
# ==================================================================================================


def test_a_spec_that_does_not_compile_is_skipped_and_the_others_still_work() -> None:
    policies = PolicySet.build(
        [
            spec(1, "/api/**", "good", allowed_origins=[ORIGIN]),
            spec(2, "/**", "bad-origin", allowed_origins=["https://app.example.com/"], priority=5),
            spec(3, "api", "bad-pattern", allowed_origins=["*"], priority=5),
            spec(4, "/**", "bad-regex", allowed_origin_regexes=["("], priority=5),
            spec(5, "/**", "bad-wildcard", allowed_origins=["https://*"], priority=5),
        ],
        version=42,
    )
    assert [p.name for p in policies.policies] == ["good"]
    assert policies.version == 42
    assert policies.errors == (
        "policy 2 'bad-origin' skipped: 'https://app.example.com/' contains a path; an origin is only "
        "scheme://host[:port], so write https://app.example.com (browsers send no trailing slash).",
        "policy 3 'bad-pattern' skipped: 'api' must start with '/' (a path or glob, such as /api) or with '^' "
        "(a regular expression).",
        "policy 4 'bad-regex' skipped: '(' is not a valid regular expression (missing ) in '(')",
        "policy 5 'bad-wildcard' skipped: 'https://*' uses '*' in a way that is not supported; write '*' alone "
        "for any origin, or make it the whole leftmost label of a subdomain wildcard such as https://*.example.com.",
    )
    assert actual(policies, path="/api/x").headers == ((ACAO, ORIGIN),)
    assert actual(policies, path="/other").covered is False


def test_an_empty_set_covers_nothing() -> None:
    policies = PolicySet.build([])
    assert (len(policies), policies.errors, policies.match("/")) == (0, (), None)


# ==================================================================================================
# Report-only policies
# ==================================================================================================

REPORT_SPECS = [
    spec(1, "/api/**", name="api", allowed_origins=[ORIGIN, "https://old.example.com"]),
    spec(2, "/api/**", name="api-tight", priority=50, allowed_origins=[ORIGIN], report_only=True),
    spec(3, "/api/items/*", name="items-tight", allowed_origins=[], report_only=True),
    spec(4, "/other", name="other-tight", allowed_origins=["https://new.example.com"], report_only=True),
]


def test_report_only_policies_never_take_part_in_enforced_precedence() -> None:
    policies = PolicySet.build(REPORT_SPECS)
    # api-tight has the higher priority and matches: an enforced policy would win; a report-only one does not.
    assert names(policies, "/api/items/5") == "api"
    assert names(policies, "/other") is None
    assert [p.name for p in policies.policies] == ["api"]
    assert len(policies) == 1
    assert policies.candidates("/api/items/5") == [policies.policies[0]]


def test_report_only_policies_follow_the_same_precedence_among_themselves() -> None:
    policies = PolicySet.build(REPORT_SPECS)
    report = policies.report_only
    assert report is not None and report.report_only is None
    assert [p.name for p in report.policies] == ["api-tight", "other-tight", "items-tight"]  # literal before glob
    assert names(report, "/api/items/5") == "api-tight"  # priority 50 beats the more specific glob
    assert names(report, "/other") == "other-tight"
    assert names(report, "/health") is None


def test_a_set_without_report_only_policies_has_no_report_only_set() -> None:
    assert PolicySet.build([spec(1)]).report_only is None
    assert PolicySet.build([]).report_only is None


def test_evaluate_report_only_gives_the_report_only_verdict() -> None:
    policies = PolicySet.build(REPORT_SPECS)
    refused = policies.evaluate_report_only(origin="https://old.example.com", method="GET", path="/api/x")
    assert refused is not None and refused.policy is not None
    assert (refused.policy.name, refused.allowed) == ("api-tight", False)
    assert [refusal.code for refusal in refused.refusals] == ["origin"]
    allowed = policies.evaluate_report_only(origin=ORIGIN, method="GET", path="/api/x")
    assert allowed is not None and allowed.allowed and allowed.headers == ((ACAO, ORIGIN),)
    assert policies.evaluate_report_only(origin=ORIGIN, method="GET", path="/health") is None
    assert PolicySet.build([spec(1)]).evaluate_report_only(origin=ORIGIN, method="GET", path="/x") is None


def test_the_enforced_decision_ignores_report_only_policies() -> None:
    with_report = PolicySet.build(REPORT_SPECS)
    without = PolicySet.build([s for s in REPORT_SPECS if not s.report_only])
    for origin in (ORIGIN, "https://old.example.com", "https://new.example.com", None):
        for path in ("/api/x", "/api/items/5", "/other"):
            a = with_report.evaluate(origin=origin, method="GET", path=path)
            b = without.evaluate(origin=origin, method="GET", path=path)
            assert (a.allowed, a.headers, a.vary, a.reasons) == (b.allowed, b.headers, b.vary, b.reasons)


def test_explanations_mention_the_report_only_verdict() -> None:
    policies = PolicySet.build(REPORT_SPECS)
    decision = policies.simulate(origin="https://old.example.com", method="GET", path="/api/x")
    assert decision.allowed
    assert decision.explanation[-1] == (
        "Report-only policy 'api-tight' also covers /api/x and would refuse it (origin https://old.example.com is "
        "not allowed by policy 'api-tight' (it allows https://app.example.com)); report-only policies never "
        "change the answer."
    )
    uncovered = policies.simulate(origin="https://new.example.com", method="GET", path="/other")
    assert uncovered.explanation == [
        "No enabled policy's path pattern matches /other.",
        "Report-only policy 'other-tight' also covers /other and would allow it; report-only policies never "
        "change the answer.",
    ]
    assert policies.simulate(origin=ORIGIN, method="GET", path="/health").explanation == [
        "No enabled policy's path pattern matches /health."
    ]


# ==================================================================================================
# RE2: one pass for every regex path policy and for crowded glob prefixes, precedence kept
# ==================================================================================================


def test_regex_path_policies_are_matched_in_one_pass_with_precedence_kept() -> None:
    policies = PolicySet.build(
        [
            spec(1, r"^/api/", "low"),
            spec(2, r"^/api/v\d+/", "mid", priority=5),
            spec(3, r"^/api/v2/", "high-later", priority=5),
            spec(4, r"^/api/v2/admin", "top", priority=9),
            spec(5, "/api/**", "glob", priority=7),
            spec(6, "/api/v2/admin/x", "literal", priority=9),
        ]
    )
    assert policies._automaton is not None and len(policies._automaton.regexes) == 4
    expected = {
        "/api/x": "glob",  # priority 7 beats the regexes that match
        "/api/v2/admin/y": "top",
        "/api/v2/admin/x": "literal",  # same priority: a literal beats a regex
        "/other": None,
    }
    for path, name in expected.items():
        winner = policies.match(path)
        assert (winner.name if winner else None) == name, path
        assert winner is (policies.candidates(path) or [None])[0]
    without_glob = PolicySet.build(
        [spec(2, r"^/api/v\d+/", "mid", priority=5), spec(3, r"^/api/v2/", "later", priority=5)]
    )
    assert without_glob.match("/api/v2/x").name == "mid"  # equal precedence: the lower id


def test_many_globs_under_one_prefix_are_matched_by_the_trie_with_precedence_kept() -> None:
    specs = [
        *(spec(i, f"/*/x{i % 5}/**", priority=i % 3) for i in range(1, 40)),
        *(spec(i, f"/**/x{i % 7}/*", priority=i % 2) for i in range(40, 80)),
        spec(99, "/**", "all"),
    ]
    policies = PolicySet.build(specs)
    assert policies.errors == ()
    assert not any(p.pattern.automaton for p in policies.policies)  # no regex work at all
    rng = random.Random(7)
    for _ in range(300):
        path = "/" + "/".join(rng.choice(["a", "x1", "x3", "x4", "x6", ""]) for _ in range(rng.randrange(0, 6)))
        assert policies.match(path) is (policies.candidates(path) or [None])[0], path


def test_globs_with_double_stars_in_several_places_share_the_regex_automaton() -> None:
    policies = PolicySet.build(
        [
            spec(1, "/**/a/**/b", "globs", priority=1),
            spec(2, r"^/a/", "regex", priority=1),
            spec(3, "/a/**/b/**", "glob-tail", priority=2),
        ]
    )
    assert policies._automaton is not None
    assert policies._automaton.regexes.patterns == (
        r"(?s)/a(?:/[^/]*)*/b(?:/.*)?\z",
        r"(?s)(?:/[^/]*)*/a(?:/[^/]*)*/b\z",
        r"^/a/",
    )
    expected = {"/a/x/b/y": "glob-tail", "/x/a/y/b": "globs", "/a/y": "regex", "/b/a": None}
    for path, name in expected.items():
        winner = policies.match(path)
        assert (winner.name if winner else None) == name, path
        assert winner is (policies.candidates(path) or [None])[0]


def _step_visits(node: Any, segments: list[str], depth: int = 0) -> int:
    """The nodes the trie walk visits for a path, counted the test's own way (every segment down both
    the literal and the '*' edge, and each suffix trie from the end of the path)."""
    visits = 0
    active = [node]
    while active:
        visits += len(active)
        for each in active:
            if each.tails is not None:
                visits += _tail_visits(each.tails, segments[depth:])
        if depth == len(segments):
            break
        segment = segments[depth]
        following = [each.children[segment] for each in active if segment in each.children]
        following += [each.star for each in active if each.star is not None and segment]
        active, depth = following, depth + 1
    return visits


def _tail_visits(root: Any, segments: list[str]) -> int:
    visits, active = 1, [root]
    for segment in reversed(segments):
        active = [each.children[segment] for each in active if segment in each.children] + [
            each.star for each in active if each.star is not None and segment
        ]
        if not active:
            break
        visits += len(active)
    return visits


def test_the_glob_trie_weight_bounds_the_steps_of_every_path() -> None:
    """MAX_GLOB_STEPS holds because the root's weight bounds the nodes any path visits: checked against
    the walk on random sets and paths, and the weight computed before adding a glob (the budget check)
    equals the weight after."""
    from cors_policies.engine.trie import _add, _grown, _Node

    rng = random.Random(11)
    for _ in range(300):
        root = _Node()
        for _ in range(rng.randint(1, 12)):
            parsed = parse_path_pattern(_random_pattern(rng))
            if parsed.kind != KIND_GLOB or parsed.automaton:
                continue
            expected = _grown(root, parsed.tokens, parsed.tail)
            _add(root, parsed.tokens, parsed.tail)
            assert root.weight == expected
        for _ in range(30):
            segments = _random_path(rng)[1:].split("/")
            assert _step_visits(root, segments) <= root.weight


def test_globs_over_the_step_budget_are_skipped_lowest_precedence_first() -> None:
    """Every glob of 'a' and '*' segments: a path of a's follows all of them. The trie keeps the globs of
    higher precedence within MAX_GLOB_STEPS, enforced ones before report-only ones, and names the others."""
    combos = [
        "/" + "/".join("*" if n >> bit & 1 else "a" for bit in range(depth)) + "/x"
        for depth in range(1, 10)
        for n in range(2**depth)
    ]
    specs = [spec(i, pattern, priority=-i, report_only=i % 3 == 0) for i, pattern in enumerate(combos, 1)]
    policies = PolicySet.build(specs)
    report = policies.report_only
    assert report is not None
    assert 0 <= MAX_GLOB_STEPS - (policies.glob_steps + report.glob_steps) < 20  # full, to a few steps
    kept = {p.id for p in policies.policies} | {p.id for p in report.policies}
    order = [s for s in specs if not s.report_only] + [s for s in specs if s.report_only]  # precedence: by id
    skipped = [s for s in order if s.id not in kept]
    assert len(skipped) > 0
    assert [error.split(" ", 2)[1] for error in policies.errors] == [str(s.id) for s in skipped]
    first = skipped[0]
    steps = path_costs([(s.path_pattern, s.report_only) for s in order if s.id in kept and s.id < first.id])[0]
    assert policies.errors[0].startswith(f"policy {first.id} 'p{first.id}' skipped: its glob {first.path_pattern!r} ")
    assert policies.errors[0].endswith(f" glob segments, over the {MAX_GLOB_STEPS} allowed")
    assert steps <= MAX_GLOB_STEPS
    # Each glob was kept if it fitted beside those of higher precedence kept before it; report-only ones
    # come after every enforced one, so they give way first.
    for index, candidate in enumerate(order):
        before = [(s.path_pattern, s.report_only) for s in order[:index] if s.id in kept]
        fits = path_costs([*before, (candidate.path_pattern, candidate.report_only)])[0] <= MAX_GLOB_STEPS
        assert fits == (candidate.id in kept), candidate
    assert any(s.report_only for s in skipped) and any(not s.report_only for s in skipped)
    path = "/" + "/".join(["a"] * 9) + "/x"
    assert _step_visits(policies._root, path[1:].split("/")) <= policies.glob_steps
    assert policies.match(path) is scan(policies, path)


def test_regex_paths_over_the_program_budget_are_skipped_lowest_precedence_first() -> None:
    """All regex path patterns share MAX_REGEX_PATH_PROGRAM instructions: the enforced ones of higher
    precedence keep theirs, then the report-only ones; the others are skipped and named, never changed."""
    regex = r"^/[ab]*a[ab]{{{}}}x{}"
    size = program_size((regex.format(20, 0),))
    count = MAX_REGEX_PATH_PROGRAM // size + 2
    specs = [spec(i, regex.format(20, i), priority=count - i, report_only=i == 0) for i in range(count)]
    policies = PolicySet.build(specs)
    kept = [p.id for p in policies.policies]
    assert kept == list(range(1, MAX_REGEX_PATH_PROGRAM // size + 1))  # precedence order
    assert policies.report_only is None  # the report-only one gave way first
    assert sum(p.program for p in policies.policies) <= MAX_REGEX_PATH_PROGRAM
    first = MAX_REGEX_PATH_PROGRAM // size + 1
    assert policies.errors[0] == (
        f"policy {first} 'p{first}' skipped: its path pattern {regex.format(20, first)!r} would bring the regex "
        "path patterns (and globs with '**' in several places) of the enabled policies to "
        f"{size * first:,} RE2 instructions, over the {MAX_REGEX_PATH_PROGRAM} allowed"
    )
    assert len(policies.errors) == 2


def test_regex_path_patterns_read_at_most_max_regex_path_length_bytes() -> None:
    """A longer path gets the literal or glob policy that outranks every regex policy, or no policy: never
    a policy that a regex might have outranked."""
    limit = MAX_REGEX_PATH_LENGTH
    below = PolicySet.build([spec(1, r"^/a", "regex", priority=1), spec(2, "/**", "all")])
    above = PolicySet.build([spec(1, r"^/a", "regex", priority=1), spec(2, "/**", "all", priority=2)])
    at_limit, over = "/a" + "b" * (limit - 2), "/a" + "b" * (limit - 1)
    assert (len(at_limit), len(over)) == (limit, limit + 1)
    assert below.match(at_limit).name == "regex"
    assert below.match(over) is None  # the regex cannot be read, and it would outrank /**
    assert below.unread(over) is below.policies[0] and below.unread(at_limit) is None
    assert above.match(over).name == "all"  # /** outranks the regex: reading it would change nothing
    assert above.unread(over) is None
    wide = "/a" + "é" * (limit // 2)  # fewer characters than the limit, more bytes
    assert len(wide) <= limit < len(wide.encode())
    assert below.match(wide) is None
    assert below.candidates(over) == [below.policies[1]]  # the tester lists what it can read
    decision = below.simulate(origin=ORIGIN, method="GET", path=over)
    assert decision.refusals[0].code == "no_policy"
    assert decision.explanation == [
        f"No enabled policy's path pattern matches {printable(over)}: regex path patterns read at most "
        f"{limit} bytes of a path, and policy 'regex' (^/a), which could outrank any other match, cannot "
        "read this one, so no policy applies (write a glob such as /api/** for long paths)."
    ]


def test_one_pass_of_the_regex_automaton_answers_the_enforced_and_report_only_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cors_policies import regex

    passes: list[bytes] = []
    original = regex.RegexSet.match_data
    monkeypatch.setattr(regex.RegexSet, "match_data", lambda self, data: passes.append(data) or original(self, data))
    policies = PolicySet.build(
        [spec(1, r"^/api/", "api"), spec(2, r"^/api/v1/", "v1-report", report_only=True), spec(3, "/other")]
    )
    path = "/api/v1/x"
    assert policies.match(path).name == "api"
    decision = policies.evaluate_report_only(origin=ORIGIN, method="GET", path=path)
    assert decision is not None and decision.policy.name == "v1-report"
    assert len(passes) == 1
    assert policies.match("/api/v2/").name == "api" and policies.report_only.match("/api/v2/") is None
    assert len(passes) == 2


def test_origins_over_the_budget_or_length_never_reach_the_regexes() -> None:
    """Origin regexes read at most MAX_REGEX_ORIGIN_LENGTH characters; exact origins are still matched up
    to MAX_ORIGIN_LENGTH. A policy whose origin regexes exceed MAX_ORIGIN_REGEX_PROGRAM is skipped."""
    host = lambda length: "https://" + ".".join(["a" * 60] * 6)[: length - len("https://.example.com")] + ".example.com"  # noqa: E731
    at_limit, over = host(MAX_REGEX_ORIGIN_LENGTH), host(MAX_REGEX_ORIGIN_LENGTH + 1)
    assert (len(at_limit), len(over)) == (MAX_REGEX_ORIGIN_LENGTH, MAX_REGEX_ORIGIN_LENGTH + 1)
    policies = one(allowed_origins=[over], allowed_origin_regexes=[r"^https://[a.]+\.example\.com$"])
    assert actual(policies, at_limit).allowed
    assert actual(policies, over).allowed  # listed exactly
    assert not actual(policies, over.replace("https://a", "https://aa", 1)[: MAX_REGEX_ORIGIN_LENGTH + 1]).allowed
    regexes = [rf"^https://a{n}[a-z]*\.example\.com$" for n in range(8)]
    size = program_size(tuple(regexes))
    assert size > MAX_ORIGIN_REGEX_PROGRAM
    built = PolicySet.build([spec(1, allowed_origin_regexes=regexes)])
    assert built.policies == ()
    assert built.errors == (
        f"policy 1 'p1' skipped: its origin regexes compile to {size:,} RE2 instructions together, over the "
        f"{MAX_ORIGIN_REGEX_PROGRAM} a policy may have",
    )


def test_user_regexes_never_reach_pythons_backtracking_re(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every operator regex, path or origin, is compiled and run by RE2; Python's re sees only the
    engine's own translations of globs, which cannot backtrack (each part ends at a '/')."""
    seen: list[str] = []
    original = re._compile  # type: ignore[attr-defined]

    def spy(pattern: Any, flags: Any) -> Any:
        seen.append(pattern)
        return original(pattern, flags)

    monkeypatch.setattr(re, "_compile", spy)
    path_regex, origin_regex = r"^/(a+)+$", r"^https://(.*a){12}$"
    policies = PolicySet.build(
        [spec(1, path_regex, allowed_origin_regexes=[origin_regex]), spec(2, "/**/x/**", allowed_origins=["*"])]
    )
    evil_path, evil_origin = "/" + "a" * 30_000 + "!", "https://" + "a" * 2000
    assert policies.match(evil_path) is None or policies.match(evil_path).id == 2
    assert actual(policies, origin=evil_origin, path="/aaa").allowed is False
    assert path_regex not in seen and origin_regex not in seen


def test_a_glob_with_double_stars_in_many_places_counts_against_the_regex_budget() -> None:
    """The class behind 0.96 s for one 30 KB path: '**' before the last segment, many times. Such a glob is
    a search (which segments each '**' takes), run by the regex automaton: it counts against its budget
    (forty are too many: skipped when served, refused when saved) and reads MAX_REGEX_PATH_LENGTH bytes."""
    pattern = "/" + "/".join(["**", "a"] * 20) + "/**/z"
    parsed = parse_path_pattern(pattern)
    assert parsed.automaton and program_size((parsed.member,)) > MAX_REGEX_PATH_PROGRAM
    skipped = PolicySet.build([spec(1, pattern)])
    assert skipped.policies == () and "skipped: its path pattern" in skipped.errors[0]
    few = PolicySet.build([spec(1, "/" + "/".join(["**", "a"] * 2) + "/**/z")])
    assert few.match("/x/a/y/a/z").id == 1
    assert few.match("/" + "/".join(["b", "a"] * 20) + "/z").id == 1
    assert few.match("/" + "/".join(["a"] * 15_000) + "/z") is None  # longer than the automaton reads


@pytest.mark.parametrize("path", ["/\ud800", "/a/\udfff/b", "/\x00\n"])
def test_text_that_is_not_utf8_never_raises(path: str) -> None:
    policies = PolicySet.build([spec(1, r"^/a/"), spec(2, "/**/b/**"), spec(3, f"/**/x{0}", priority=1)])
    assert policies.match(path) is None or policies.match(path).id in (1, 2)
    assert one(allowed_origin_regexes=[r"^https://a\.com$", ".*"]).evaluate(
        origin="https://\ud800", method="GET", path="/"
    )


@pytest.mark.parametrize("failure", ["compile", "match"])
def test_when_re2s_automaton_gives_up_each_regex_is_asked_on_its_own(
    monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """A set too large to compile, or whose automaton ran out of memory (RE2 then returns nothing: the
    always-matching first member is missing), still answers, one regex at a time."""
    import re2

    from cors_policies import regex

    if failure == "compile":
        monkeypatch.setattr(re2.Set, "Compile", lambda self: (_ for _ in ()).throw(re2.error("too large")))
    else:
        monkeypatch.setattr(re2.Set, "Match", lambda self, text: None)
    paths = regex.RegexSet([r"^/a/b", r"^/a", r"^/c"], full=False)
    origins = regex.RegexSet([r"https://a\.test", r"https://.*"], full=True)
    assert (paths.first("/a/b/c"), paths.matching("/a/b"), paths.first("/x")) == (0, [0, 1], None)
    assert (origins.first("https://b.test"), origins.matching("https://a.test")) == (1, [0, 1])


# -- the one entry point ---------------------------------------------------------------------------------------


def test_decide_answers_as_the_keyword_wrappers_do() -> None:
    policies = one(allowed_origins=[ORIGIN], allowed_methods=["PUT"], allowed_headers=["X-A"])
    asked = RequestInfo("/x", "OPTIONS", ORIGIN, "PUT", "x-a")
    decided = decide(policies, asked)
    assert (decided.allowed, decided.headers, decided.vary) == (
        True,
        ((ACAO, ORIGIN), (ACAM, "PUT"), (ACAH, "X-A")),
        VARY_ORIGIN,
    )
    assert asked.preflight and not RequestInfo("/x", "OPTIONS", ORIGIN).preflight
    assert decided.headers == preflight(policies, "PUT", "x-a").headers
    assert decided.explanation == []
    assert decide(policies, RequestInfo("/x", "GET", ORIGIN)).headers == actual(policies).headers


def test_decide_builds_the_explanation_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    policies = PolicySet.build([spec(1, "/a/**", allowed_origins=[ORIGIN]), spec(2, "/a/b")])
    monkeypatch.setattr(PolicySet, "explain_match", lambda *args: pytest.fail("explained"))
    monkeypatch.setattr(PolicySet, "unread", lambda *args: pytest.fail("explained"))
    assert decide(policies, RequestInfo("/a/x", "GET", ORIGIN)).allowed
    uncovered = decide(policies, RequestInfo("/elsewhere", "GET", ORIGIN))
    assert (uncovered.covered, uncovered.explanation) == (False, [])
    assert uncovered.reasons == ["no policy covers the path"]
    monkeypatch.undo()
    assert decide(policies, RequestInfo("/elsewhere", "GET", ORIGIN), explain=True).reasons == [
        "no policy covers /elsewhere"
    ]


def test_decide_gives_the_report_only_verdict_beside_the_answer() -> None:
    policies = PolicySet.build(
        [spec(1, "/**", allowed_origins=[ORIGIN]), spec(2, "/x", allowed_origins=["https://b.test"], report_only=True)]
    )
    decided = decide(policies, RequestInfo("/x", "GET", ORIGIN))
    assert decided.allowed
    assert decided.report_only is not None and decided.report_only.policy is not None
    assert (decided.report_only.policy.id, decided.report_only.allowed) == (2, False)
    assert decided.report_only.refusals[0].code is Reason.ORIGIN
    assert decide(policies, RequestInfo("/y", "GET", ORIGIN)).report_only is None  # no report-only policy there
    # Without an Origin there is nothing to record: the report-only set is asked only to explain.
    assert decide(policies, RequestInfo("/x", "GET")).report_only is None
    explained = decide(policies, RequestInfo("/x", "GET"), explain=True)
    assert explained.report_only is not None
    assert explained.explanation[-1].startswith("Report-only policy 'p2' also covers /x and would refuse it")


def test_match_remembers_a_bounded_number_of_short_paths() -> None:
    from cors_policies.engine import policy_set

    policies = PolicySet.build([spec(1, "/a/**"), spec(2, "^/r/[0-9]+$")])
    for _ in range(2):
        assert names(policies, "/a/x") == "p1"
        assert names(policies, "/r/5") == "p2"
        assert names(policies, "/b") is None
    long = "/a/" + "x" * policy_set._REMEMBERED_PATH_LENGTH
    assert names(policies, long) == "p1"
    assert long not in policies._matched
    for n in range(policy_set._REMEMBERED_PATHS + 10):
        policies.match(f"/a/{n}")
    assert len(policies._matched) <= policy_set._REMEMBERED_PATHS
    assert names(policies, "/a/x") == "p1"
