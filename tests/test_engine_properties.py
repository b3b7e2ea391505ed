"""Property-based tests of the engine (hypothesis): for arbitrary origins, paths and policies, it never raises,
echoes an origin only when an independent reference predicate (written here, from the README's rules) allows
it, and never answers ``Access-Control-Allow-Origin: *`` with credentials.

The reference predicates are deliberately naive: string comparisons and a recursive glob matcher, nothing
shared with the engine's indexes, regexes or normalization.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from cors_policies.engine import MAX_ORIGIN_LENGTH, Decision, PolicySet, PolicySpec, public_suffixes

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- building blocks -------------------------------------------------------------------------------

SCHEMES = ["http", "https", "capacitor", "chrome-extension", "ws"]
LABELS = ["a", "b", "app", "api", "example", "evil", "evilexample", "com", "net", "x-y", "0", "xn--bcher-kva"]
PORTS = ["", "3000", "8443", "80", "443", "65535"]
DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80"}
#: Regexes an operator may store (they pass the validators); each is full-matched by the engine.
REGEXES = [
    r"^https://[a-z0-9-]+\.example\.com$",
    r"https://app\.example\.com",
    r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$",
    r"^https://([a-z0-9-]+\.)*example\.com$",
    r"https://a",
    r"^http://[a-z]+\.net:3000$",
]

labels = st.sampled_from(LABELS)
hosts = st.lists(labels, min_size=1, max_size=4).map(".".join)


@st.composite
def canonical_origins(draw: st.DrawFn) -> str:
    """An origin exactly as a browser serializes it: lower case, no default port."""
    scheme = draw(st.sampled_from(SCHEMES))
    host = draw(st.one_of(hosts, st.sampled_from(["localhost", "127.0.0.1", "[::1]"])))
    port = draw(st.sampled_from(PORTS).filter(lambda p: p != DEFAULT_PORTS.get(scheme)))
    return f"{scheme}://{host}{':' + port if port else ''}"


@st.composite
def mangled_origins(draw: st.DrawFn) -> str:
    """Near misses an attacker or a sloppy client sends: case, slashes, default ports, lists, control bytes."""
    origin = draw(canonical_origins())
    how = draw(st.sampled_from(["upper", "slash", "default_port", "list", "crlf", "space", "path", "userinfo", "nul"]))
    if how == "upper":
        return origin.upper()
    if how == "slash":
        return origin + "/"
    if how == "default_port":
        scheme = origin.split("://")[0]
        return origin + ":" + DEFAULT_PORTS.get(scheme, "0") if origin.count(":") == 1 else origin + "0"
    if how == "list":
        return origin + ", " + origin
    if how == "crlf":
        return origin + "\r\nSet-Cookie: a=b"
    if how == "space":
        return " " + origin
    if how == "path":
        return origin + "/x"
    if how == "userinfo":
        return origin.replace("://", "://user@")
    return origin + "\x00"


any_origins = st.one_of(
    canonical_origins(),
    mangled_origins(),
    st.just("null"),
    st.text(max_size=40),
    st.text(alphabet=string.ascii_lowercase + ":/.-*0123456789[]", max_size=40),
    st.just("https://" + "a." * (MAX_ORIGIN_LENGTH // 2) + "com"),
)


@st.composite
def origin_entries(draw: st.DrawFn) -> str:
    """What an operator may list: exact origins (any case, default ports), wildcards, null."""
    kind = draw(st.sampled_from(["exact", "exact", "wildcard", "null"]))
    if kind == "null":
        return "null"
    scheme = draw(st.sampled_from(SCHEMES))
    port = draw(st.sampled_from(PORTS))
    suffix = f":{port}" if port else ""
    if kind == "wildcard":
        # Under a registrable domain (the engine refuses wildcards over public suffixes and addresses).
        domain = draw(
            st.lists(labels, min_size=2, max_size=3)
            .map(".".join)
            .filter(lambda name: not name.rsplit(".", 1)[-1].isdigit() and not public_suffixes().is_public(name))
        )
        return f"{scheme}://*.{domain}{suffix}"
    entry = f"{scheme}://{draw(hosts)}{suffix}"
    return entry.upper() if draw(st.booleans()) else entry


@st.composite
def specs(draw: st.DrawFn, path_pattern: str = "/**") -> PolicySpec:
    origins = draw(st.lists(origin_entries(), max_size=4))
    credentials = draw(st.booleans())
    if not credentials and draw(st.integers(0, 4)) == 0:
        origins = ["*"]
    return PolicySpec(
        id=1,
        name="p",
        path_pattern=path_pattern,
        allowed_origins=origins,
        allowed_origin_regexes=draw(st.lists(st.sampled_from(REGEXES), max_size=2)),
        allowed_methods=draw(st.lists(st.sampled_from(["GET", "PUT", "DELETE", "*", "patch"]), max_size=3)),
        allowed_headers=draw(st.lists(st.sampled_from(["X-Token", "Content-Type", "*", "Authorization"]), max_size=3)),
        expose_headers=draw(st.lists(st.sampled_from(["X-Total", "ETag"]), max_size=2)),
        allow_credentials=credentials,
        max_age=draw(st.one_of(st.none(), st.integers(0, 86400))),
    )


# -- the reference predicate -----------------------------------------------------------------------


def _normalized_entry(entry: str) -> str:
    """An operator's entry as a browser would send it: lower case, default port dropped."""
    entry = entry.lower()
    scheme = entry.split("://", 1)[0]
    default = DEFAULT_PORTS.get(scheme)
    if default and entry.endswith(":" + default):
        entry = entry[: -len(default) - 1]
    return entry


def _is_serialized_origin(origin: str) -> bool:
    """scheme://host[:port] in lower case, without a default port, as browsers send it; nothing else."""
    if len(origin) > MAX_ORIGIN_LENGTH or origin != origin.lower() or "://" not in origin:
        return False
    scheme, rest = origin.split("://", 1)
    if not scheme or not scheme[0].isalpha() or any(c not in string.ascii_lowercase + "0123456789+.-" for c in scheme):
        return False
    host, port = rest, ""
    if not rest.endswith("]") and ":" in rest:
        host, port = rest.rsplit(":", 1)
        if not port.isdigit() or port.startswith("0") or int(port) > 65535 or port == DEFAULT_PORTS.get(scheme):
            return False
    if host.startswith("["):
        return host.endswith("]") and all(c in "0123456789abcdef:." for c in host[1:-1]) and len(host) > 2
    allowed = string.ascii_lowercase + string.digits + "-_"
    return all(
        0 < len(label) <= 63 and all(c in allowed for c in label) and label[0] != "-" and label[-1] != "-"
        for label in host.split(".")
    )


def reference_allows(spec: PolicySpec, origin: str) -> bool:
    """The README's origin rules, written as plainly as possible."""
    entries = [_normalized_entry(entry) for entry in spec.allowed_origins]
    if origin in entries:  # exact entries and null match byte for byte
        return True
    if not _is_serialized_origin(origin):
        return False
    scheme, rest = origin.split("://", 1)
    for entry in entries:
        if "://*." not in entry:
            continue
        w_scheme, w_rest = entry.split("://*.", 1)
        w_domain, _, w_port = w_rest.partition(":")
        host, _, port = rest.partition(":") if not rest.startswith("[") else (rest, "", "")
        subdomain = host[: -len(w_domain) - 1] if host.endswith("." + w_domain) else ""
        if scheme == w_scheme and port == w_port and subdomain != "":
            return True
    return any(re.fullmatch(regex, origin) for regex in spec.allowed_origin_regexes)


def allow_origin(decision: Decision) -> str | None:
    return dict(decision.headers).get("Access-Control-Allow-Origin")


def decisions(policy_set: PolicySet, origin: str | None, path: str = "/x") -> list[Decision]:
    """The actual request and a preflight for it."""
    return [
        policy_set.evaluate(origin=origin, method="GET", path=path),
        policy_set.evaluate(
            origin=origin, method="OPTIONS", path=path, request_method="PUT", request_headers="x-token"
        ),
    ]


def check_invariants(spec: PolicySpec, policy_set: PolicySet, decision: Decision, origin: str | None) -> None:
    headers = dict(decision.headers)
    value = headers.get("Access-Control-Allow-Origin")
    if value == "*":
        assert "*" in spec.allowed_origins
        assert headers.get("Access-Control-Allow-Credentials") != "true"
    elif value is not None:
        assert value == origin
        assert reference_allows(spec, value), f"echoed {value!r}, which the rules do not allow"
        assert "Origin" in decision.vary  # a shared cache must not serve this answer to another origin
    for name, header_value in decision.headers:
        # No attacker-controlled byte can split a header: every value is printable ASCII.
        assert all(" " <= char <= "~" for char in header_value), (name, header_value)
    if not decision.allowed:
        assert value is None


# -- properties ------------------------------------------------------------------------------------


@SETTINGS
@given(spec=specs(), origin=st.one_of(st.none(), any_origins))
@example(
    spec=PolicySpec(id=1, name="p", path_pattern="/**", allowed_origins=["https://*.example.com"]),
    origin="https://evilexample.com",
)
@example(
    spec=PolicySpec(id=1, name="p", path_pattern="/**", allowed_origin_regexes=[r"https://a"]),
    origin="https://a.evil.net",
)
def test_an_origin_is_echoed_only_if_the_rules_allow_it(spec: PolicySpec, origin: str | None) -> None:
    policy_set = PolicySet.build([spec])
    for decision in decisions(policy_set, origin):
        check_invariants(spec, policy_set, decision, origin)


@SETTINGS
@given(spec=specs(), origin=canonical_origins())
def test_an_allowed_origin_is_echoed(spec: PolicySpec, origin: str) -> None:
    """The converse, for origins a browser really sends: what the rules allow is allowed."""
    policy_set = PolicySet.build([spec])
    actual = policy_set.evaluate(origin=origin, method="GET", path="/x")
    expected = "*" if "*" in spec.allowed_origins else (origin if reference_allows(spec, origin) else None)
    assert allow_origin(actual) == expected


@SETTINGS
@given(
    scheme=st.sampled_from(SCHEMES),
    domain=st.lists(labels, min_size=2, max_size=3).map(".".join),
    port=st.sampled_from(PORTS),
    other_scheme=st.sampled_from(SCHEMES),
    other_port=st.sampled_from(PORTS),
    front=st.text(alphabet=string.ascii_lowercase + ".-", min_size=0, max_size=8),
)
def test_a_subdomain_wildcard_never_crosses_a_dot_scheme_or_port(
    scheme: str, domain: str, port: str, other_scheme: str, other_port: str, front: str
) -> None:
    entry = f"{scheme}://*.{domain}{':' + port if port else ''}"
    policy_set = PolicySet.build([PolicySpec(id=1, name="w", path_pattern="/**", allowed_origins=[entry])])
    normalized_port = "" if port == DEFAULT_PORTS.get(scheme) else port
    other_normalized = "" if other_port == DEFAULT_PORTS.get(other_scheme) else other_port
    origin = f"{other_scheme}://{front}{domain}{':' + other_port if other_port else ''}"
    echoed = allow_origin(policy_set.evaluate(origin=origin, method="GET", path="/"))
    if echoed is not None:
        assert echoed == origin
        assert other_scheme == scheme  # never another scheme
        assert other_normalized == normalized_port  # never another port
        assert front.endswith(".") and front.strip(".") != ""  # a whole label in front: never a suffix of one
        assert front[0] != "." and ".." not in front


@SETTINGS
@given(regex=st.sampled_from(REGEXES), origin=canonical_origins(), affix=st.sampled_from(["", "x", ".evil.net", "/"]))
def test_regexes_always_match_the_whole_origin(regex: str, origin: str, affix: str) -> None:
    policy_set = PolicySet.build([PolicySpec(id=1, name="r", path_pattern="/**", allowed_origin_regexes=[regex])])
    for candidate in (origin + affix, affix + origin):
        echoed = allow_origin(policy_set.evaluate(origin=candidate, method="GET", path="/"))
        if echoed is not None:
            assert re.fullmatch(regex, candidate)
            assert _is_serialized_origin(candidate)


@SETTINGS
@given(
    origins=st.lists(st.one_of(origin_entries(), st.just("*")), min_size=1, max_size=3),
    origin=any_origins,
    method=st.sampled_from(["GET", "OPTIONS"]),
)
def test_star_is_never_sent_with_credentials(origins: list[str], origin: str, method: str) -> None:
    """Even for a row written around the validators (``*`` with credentials): the engine skips it."""
    spec = PolicySpec(id=1, name="c", path_pattern="/**", allowed_origins=origins, allow_credentials=True)
    policy_set = PolicySet.build([spec])
    assert ("*" in origins) == bool(policy_set.errors)
    decision = policy_set.evaluate(origin=origin, method=method, path="/", request_method="GET")
    headers = dict(decision.headers)
    assert not (headers.get("Access-Control-Allow-Origin") == "*" and "Access-Control-Allow-Credentials" in headers)


@SETTINGS
@given(
    spec=specs(),
    origin=st.one_of(st.none(), st.text(max_size=30), any_origins),
    method=st.text(max_size=12),
    path=st.text(max_size=60),
    request_method=st.one_of(st.none(), st.text(max_size=12)),
    request_headers=st.one_of(st.none(), st.text(max_size=40), st.lists(st.text(max_size=10), max_size=4)),
    private_network=st.booleans(),
)
def test_no_input_makes_the_engine_raise(
    spec: PolicySpec,
    origin: str | None,
    method: str,
    path: str,
    request_method: str | None,
    request_headers: str | list[str] | None,
    private_network: bool,
) -> None:
    policy_set = PolicySet.build([spec])
    decision = policy_set.evaluate(
        origin=origin,
        method=method,
        path=path,
        request_method=request_method,
        request_headers=request_headers,
        private_network=private_network,
        explain=True,
    )
    check_invariants(spec, policy_set, decision, origin)
    assert all(isinstance(reason, str) for reason in decision.reasons)
    assert all("\r" not in line and "\n" not in line for line in decision.reasons + decision.explanation)


# -- paths -----------------------------------------------------------------------------------------

SEGMENTS = ["api", "items", "a", "", "*", "**", "x.y", "%2e", ".."]
PATH_SEGMENTS = ["api", "items", "a", "", "x.y", "%2e", "..", "API", "\n"]


def reference_glob(pattern: Sequence[str], segments: Sequence[str]) -> bool:
    """``*`` is one non-empty segment, ``**`` zero or more segments, anything else itself."""
    if not pattern:
        return not segments
    head = pattern[0]
    if head == "**":
        return reference_glob(pattern[1:], segments) or (bool(segments) and reference_glob(pattern, segments[1:]))
    if not segments:
        return False
    if head == "*":
        return segments[0] != "" and reference_glob(pattern[1:], segments[1:])
    return head == segments[0] and reference_glob(pattern[1:], segments[1:])


@SETTINGS
@given(
    patterns=st.lists(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4), min_size=1, max_size=5),
    priorities=st.lists(st.integers(0, 2), min_size=5, max_size=5),
    path=st.lists(st.sampled_from(PATH_SEGMENTS), min_size=0, max_size=5),
)
def test_the_policy_that_applies_is_the_best_of_those_whose_pattern_matches(
    patterns: list[list[str]], priorities: list[int], path: list[str]
) -> None:
    specs_ = [
        PolicySpec(id=i + 1, name=f"p{i}", path_pattern="/" + "/".join(segs), priority=priorities[i])
        for i, segs in enumerate(patterns)
    ]
    policy_set = PolicySet.build(specs_)
    assume(not policy_set.errors)  # '*' inside a segment is refused; not what this is about
    text = "/" + "/".join(path)
    segments = text[1:].split("/")
    matching = [p for p in policy_set.policies if reference_glob(p.pattern.source[1:].split("/"), segments)]
    winner = policy_set.match(text)
    if not matching:
        assert winner is None
    else:
        assert winner is min(matching, key=lambda p: p.sort_key)
