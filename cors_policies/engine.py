"""The policy engine: plain data in, a :class:`Decision` out.

Nothing here imports Django. The middleware, the admin tester, the API's evaluate endpoint and the
command line all call :meth:`PolicySet.evaluate`, so they can never disagree. Everything that can be
prepared ahead of a request (matchers, header strings, indexes) is prepared in :meth:`PolicySet.build`;
the per-request work is dictionary look-ups and at most a few precompiled regex matches.

The rules are the WHATWG Fetch standard's CORS protocol: https://fetch.spec.whatwg.org/#http-cors-protocol
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from publicsuffixlist import PublicSuffixList

from .regex import RegexError, RegexSet, compile_regex, regex_set

__all__ = [
    "MAX_ORIGIN_LENGTH",
    "SAFELISTED_METHODS",
    "Decision",
    "OriginEntry",
    "OriginError",
    "PatternError",
    "PolicySet",
    "PolicySpec",
    "Refusal",
    "is_token",
    "parse_origin_entry",
    "parse_path_pattern",
    "parse_request_origin",
    "printable",
]

#: Longest Origin header we look at; anything longer is malformed and never matches or echoes.
MAX_ORIGIN_LENGTH: Final = 2048
#: Longest Access-Control-Request-Headers value we parse (browsers cap safelisted values far lower).
MAX_REQUEST_HEADERS_LENGTH: Final = 8192

#: Methods a browser never preflights; a policy cannot forbid them (the browser would not ask).
SAFELISTED_METHODS: Final = frozenset({"GET", "HEAD", "POST"})
#: Fetch normalizes these methods to upper case before sending (https://fetch.spec.whatwg.org/#concept-method-normalize).
NORMALIZED_METHODS: Final = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}

# RFC 9110 token: the grammar of methods and header names.
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A serialized origin as browsers send it: lower-case scheme and host, no default port, nothing else.
# Host: DNS-ish labels (letters, digits, '-', '_'), an IPv4 address, or a bracketed IPv6 address.
_LABEL: Final = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST: Final = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])"
_REQUEST_ORIGIN_RE: Final = re.compile(rf"([a-z][a-z0-9+.\-]*)://({_HOST})(?::([0-9]{{1,5}}))?")
# What an operator may type: any case, explicit default ports; normalized before storing.
_ENTRY_ORIGIN_RE: Final = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]*)://(\*\.)?([A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?"
)


def is_token(value: str) -> bool:
    """True for an HTTP token (RFC 9110), the grammar of methods and header names."""
    return _TOKEN_RE.fullmatch(value) is not None


class PatternError(ValueError):
    """A path pattern that cannot be compiled; the message says what to write instead."""


class OriginError(ValueError):
    """An origin entry that cannot be used; the message says what to write instead."""


# --------------------------------------------------------------------------------------------------
# Origins
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OriginEntry:
    """One parsed entry of ``allowed_origins``.

    ``kind`` is ``"any"`` (``*``), ``"null"``, ``"exact"`` or ``"wildcard"``; ``value`` is the normalized
    text stored in the database. For wildcards, ``scheme``, ``domain`` and ``port`` hold the parts.
    """

    kind: str
    value: str
    scheme: str = ""
    domain: str = ""
    port: str = ""


def _normalize_port(scheme: str, port: str | None, raw: str) -> str:
    if port is None:
        return ""
    number = int(port)
    if number > 65535:
        raise OriginError(
            f"{raw!r} has port {number}; a port is a number from 0 to 65535, such as {scheme}://localhost:8443."
        )
    if DEFAULT_PORTS.get(scheme) == number:
        return ""  # browsers omit the default port, so the stored origin must too
    return str(number)


def _validate_host(host: str, raw: str) -> None:
    if host.startswith("["):
        return
    labels = host.split(".")
    if any(label == "" for label in labels):
        raise OriginError(
            f"{raw!r} has an empty label in its host; write a host such as app.example.com "
            "(no leading, trailing or double dots)."
        )
    for label in labels:
        if label.startswith("-") or label.endswith("-") or len(label) > 63:
            raise OriginError(
                f"{raw!r} has an invalid host label {label!r}; labels are 1-63 letters, digits or "
                "hyphens and do not start or end with a hyphen."
            )


def parse_origin_entry(raw: str) -> OriginEntry:
    """Parse and normalize one ``allowed_origins`` entry, or raise :class:`OriginError`.

    Accepted: ``*``; ``null``; ``scheme://host[:port]`` (any scheme); ``scheme://*.domain[:port]``.
    Scheme and host are lower-cased and a default port is dropped, because that is how browsers
    serialize the Origin they send and the match is byte-for-byte.
    """
    if not isinstance(raw, str):
        raise OriginError(f"{raw!r} is not text; write an origin such as https://app.example.com.")
    text = raw.strip()
    if text == "":
        raise OriginError(
            "An empty origin matches nothing; remove the line or write an origin such as https://app.example.com."
        )
    if text == "*":
        return OriginEntry("any", "*")
    if text.lower() == "null":
        return OriginEntry("null", "null")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise OriginError(
            f"{raw!r} contains spaces or control characters; write one origin per entry, such as https://app.example.com."
        )
    if "," in text:
        raise OriginError(
            f"{raw!r} contains several origins; write one origin per entry, such as https://app.example.com."
        )
    if "://" not in text:
        host_guess = text.lstrip("/").split("/", 1)[0] or "app.example.com"
        raise OriginError(f"{raw!r} has no scheme; write the full origin, such as https://{host_guess}.")
    scheme_part, _, rest = text.partition("://")
    if "@" in rest:
        after = rest.rsplit("@", 1)[1].split("/", 1)[0] or "app.example.com"
        raise OriginError(
            f"{raw!r} contains user info ('user@'); an origin is only scheme://host[:port], so write "
            f"{scheme_part.lower()}://{after.lower()}."
        )
    for sep, what in (("/", "a path"), ("?", "a query"), ("#", "a fragment")):
        if sep in rest:
            host_part = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
            raise OriginError(
                f"{raw!r} contains {what}; an origin is only scheme://host[:port], so write "
                f"{scheme_part.lower()}://{host_part.lower()} (browsers send no trailing slash)."
            )
    if rest == "":
        raise OriginError(f"{raw!r} has no host; write an origin such as https://app.example.com.")
    match = _ENTRY_ORIGIN_RE.fullmatch(text)
    if match is None:
        if "*" in text:
            raise OriginError(
                f"{raw!r} uses '*' in a way that is not supported; write '*' alone for any origin, or "
                "make it the whole leftmost label of a subdomain wildcard such as https://*.example.com."
            )
        raise OriginError(f"{raw!r} is not an origin; write scheme://host[:port], such as https://app.example.com.")
    scheme, star, host, port = match.groups()
    scheme = scheme.lower()
    host = host.lower()
    _validate_host(host, raw)
    port = _normalize_port(scheme, port, raw)
    port_suffix = f":{port}" if port else ""
    if star:
        _check_wildcard_domain(scheme, host, port_suffix, raw)
        return OriginEntry("wildcard", f"{scheme}://*.{host}{port_suffix}", scheme, host, port)
    return OriginEntry("exact", f"{scheme}://{host}{port_suffix}", scheme, host, port)


@functools.cache
def public_suffixes() -> PublicSuffixList:
    """The Public Suffix List the ``publicsuffixlist`` package ships (read once, about 0.1 s): upgrading the
    package is how the list is kept current."""
    return PublicSuffixList()


def _check_wildcard_domain(scheme: str, host: str, port_suffix: str, raw: str) -> None:
    """What follows ``*.`` must be a registrable domain or a name below one, never a public suffix (anyone
    can register a name under ``co.uk`` or get one under ``github.io``) and never an address."""
    last = host.rsplit(".", 1)[-1]
    if host.startswith("[") or last.isdigit():
        raise OriginError(
            f"{raw!r} puts a wildcard on an IP address, where '*.' would stand for other addresses' digits "
            f"(*.0.0.1 allows 127.0.0.1 and 10.0.0.1); list each address exactly, such as "
            f"{scheme}://{'[::1]' if host.startswith('[') else '127.0.0.1'}{port_suffix}."
        )
    if host == "localhost":
        return  # every name under localhost is this machine (RFC 6761)
    if public_suffixes().is_public(host):
        example = f"example.{host}" if "." in host else "example.com"
        raise OriginError(
            f"{raw!r} allows every site under {host}, a public suffix: anyone can register or be given a name "
            f"there. Write a wildcard under your own registrable domain, such as {scheme}://*.{example}{port_suffix}."
        )


def parse_request_origin(value: str) -> tuple[str, str, str] | None:
    """Split a request's Origin into (scheme, host, port), or None when it is not canonical.

    Only the exact serialization a browser sends is accepted: anything else (upper case, a default
    port, a path, several values, control characters, more than MAX_ORIGIN_LENGTH) never matches.
    """
    if len(value) > MAX_ORIGIN_LENGTH:
        return None
    match = _REQUEST_ORIGIN_RE.fullmatch(value)
    if match is None:
        return None
    scheme, host, port = match.groups()
    if port is not None:
        if port.startswith("0") or int(port) > 65535 or DEFAULT_PORTS.get(scheme) == int(port):
            return None
        return scheme, host, port
    return scheme, host, ""


# --------------------------------------------------------------------------------------------------
# Path patterns
# --------------------------------------------------------------------------------------------------

KIND_LITERAL: Final = 0
KIND_GLOB: Final = 1
KIND_REGEX: Final = 2
KIND_NAMES: Final = {KIND_LITERAL: "literal path", KIND_GLOB: "glob", KIND_REGEX: "regular expression"}


@dataclass(frozen=True, slots=True)
class ParsedPattern:
    """A path pattern split into what the index needs: its kind, literal prefix and matcher."""

    kind: int
    source: str
    prefix: tuple[str, ...]  # literal leading segments (globs); all segments (literals)
    literal_segments: int
    has_double_star: bool
    #: For regexes: the RE2 regex (matched from the start of the path).
    regex: Any = None
    #: For globs: a callable telling whether a whole path matches (truthy) or not.
    matcher: Callable[[str], object] | None = None
    #: For globs and regexes: the RE2 expression a :class:`RegexSet` matches them with (anchored at the
    #: start; a glob's also at the end).
    expression: str = ""


def parse_path_pattern(pattern: str) -> ParsedPattern:
    """Compile a ``path_pattern``, or raise :class:`PatternError` saying what to write instead.

    ``/a/b`` is literal; a ``*`` segment is one non-empty segment; a ``**`` segment is zero or more
    segments; a pattern starting with ``^`` is a regex matched from the start of the path (like
    django-cors-headers' CORS_URLS_REGEX), by RE2.
    """
    if not isinstance(pattern, str):
        raise PatternError(f"The path pattern must be text, not {pattern!r}; write a path such as /api/**.")
    if pattern == "":
        raise PatternError("The path pattern is empty; write a path such as /api/** (or /** for every path).")
    if pattern.startswith("^"):
        try:
            compiled = compile_regex(pattern)
        except RegexError as exc:
            tail = f": {exc.advice}." if exc.advice else "; fix it, or use a glob such as /api/**."
            raise PatternError(f"{pattern!r} is not a valid regular expression ({exc.reason}){tail}") from None
        return ParsedPattern(KIND_REGEX, pattern, (), 0, False, compiled, None, pattern)
    if not pattern.startswith("/"):
        raise PatternError(
            f"{pattern!r} must start with '/' (a path or glob, such as /{pattern.lstrip('/')}) "
            "or with '^' (a regular expression)."
        )
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in pattern):
        raise PatternError(
            f"{pattern!r} contains control characters; paths are matched after percent-decoding, "
            "so write the decoded path (a space as a space, not %20)."
        )
    raw_segments = pattern[1:].split("/")
    if "*" not in pattern:
        return ParsedPattern(KIND_LITERAL, pattern, tuple(raw_segments), len(raw_segments), False)
    # "/**/**/x" means "/**/x".
    segments = [seg for i, seg in enumerate(raw_segments) if not (seg == "**" and i and raw_segments[i - 1] == "**")]
    parts: list[str] = []
    prefix: list[str] = []
    literal = 0
    in_prefix = True
    inner_double = False
    for index, segment in enumerate(segments):
        if segment == "**":
            in_prefix = False
            last = index == len(segments) - 1
            inner_double = inner_double or not last
            # "/a/**" also matches "/a"; in the middle "/a/**/b" matches "/a/b" and "/a/x/y/b".
            parts.append("(?:/.*)?" if last else "(?:/[^/]*)*")
            continue
        if segment == "*":
            in_prefix = False
            parts.append("/[^/]+")
            continue
        if "*" in segment:
            raise PatternError(
                f"{pattern!r} has '*' inside the segment {segment!r}; '*' and '**' must be whole segments "
                "(such as /api/*/items or /api/**), or write a regular expression starting with '^'."
            )
        literal += 1
        if in_prefix:
            prefix.append(segment)
        parts.append("/" + re2_escape(segment))
    expression = "(?s)" + "".join(parts)  # a decoded path may contain a newline
    double = "**" in segments
    if inner_double:
        # A '**' before the last segment would backtrack in Python's re (O(path x pattern) at least,
        # more with several); RE2 matches it in one pass.
        fullmatch = compile_regex(expression).fullmatch
        return ParsedPattern(
            KIND_GLOB,
            pattern,
            tuple(prefix),
            literal,
            True,
            None,
            lambda path: fullmatch(path.encode("utf-8", "surrogatepass")),
            expression,
        )
    # Without an inner '**' every part is delimited by '/': one way to match, linear in Python's re,
    # which answers a short path faster than a call into RE2.
    compiled = re.compile(expression)
    return ParsedPattern(KIND_GLOB, pattern, tuple(prefix), literal, double, None, compiled.fullmatch, expression)


def re2_escape(text: str) -> str:
    """``text`` as a literal in both RE2 and Python syntax: every ASCII character that is not a letter,
    digit or underscore escaped (RE2's QuoteMeta; a backslash before punctuation means the same to both)."""
    return "".join(f"\\{ch}" if ch.isascii() and not (ch.isalnum() or ch == "_") else ch for ch in text)


# --------------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicySpec:
    """A policy as plain data: what the snapshot loader reads from the database and hands over."""

    id: int
    name: str
    path_pattern: str
    priority: int = 0
    allowed_origins: Sequence[str] = ()
    allowed_origin_regexes: Sequence[str] = ()
    allowed_methods: Sequence[str] = ()
    allowed_headers: Sequence[str] = ()
    expose_headers: Sequence[str] = ()
    allow_credentials: bool = False
    max_age: int | None = None
    allow_private_network: bool = False
    #: Evaluated beside the enforced policies and recorded where its verdict differs; never answers.
    report_only: bool = False


class Refusal:
    """Why a request is refused: a stable ``code`` for programs, ``message`` for people.

    The message may be given as a function: the middleware refuses many requests and never reads the
    text, so it is only built when someone (the tester, the API, a log line) asks for it.
    """

    __slots__ = ("_message", "code")

    def __init__(self, code: str, message: str | Callable[[], str]) -> None:
        self.code = code
        self._message = message

    @property
    def message(self) -> str:
        if not isinstance(self._message, str):
            self._message = self._message()
        return self._message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Refusal) and (self.code, self.message) == (other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.code, self.message))

    def __repr__(self) -> str:
        return f"Refusal({self.code!r}, {self.message!r})"


@dataclass(slots=True)
class Decision:
    """What to answer and why.

    ``covered``: a policy applies to the path (if not, the request goes on untouched).
    ``allowed``: a browser would let the page read the response (or send the real request).
    ``headers``: the exact CORS response headers, in order. ``vary``: request headers the answer
    depends on, to merge into ``Vary``. ``refusals``: every reason the request is refused.
    ``explanation``: why this policy won (filled only by ``evaluate(..., explain=True)``).
    """

    policy: CompiledPolicy | None
    preflight: bool
    allowed: bool
    headers: tuple[tuple[str, str], ...] = ()
    vary: tuple[str, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    explanation: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return self.policy is not None

    @property
    def reasons(self) -> list[str]:
        return [refusal.message for refusal in self.refusals]

    def as_dict(self) -> dict[str, Any]:
        """The shape the API's evaluate endpoint and the command line print."""
        return {
            "allowed": self.allowed,
            "policy": None if self.policy is None else {"id": self.policy.id, "name": self.policy.name},
            "response_headers": dict(self.headers),
            "vary": list(self.vary),
            "reasons": self.reasons,
            "explanation": list(self.explanation),
        }


_VARY_ORIGIN: Final = ("Origin",)
_NO_ORIGIN: Final = (
    Refusal("no_origin", "the request has no Origin header, so it is not a cross-origin browser request"),
)


def is_preflight(method: str, origin: str | None, request_method: str | None) -> bool:
    """A CORS preflight: OPTIONS with both Origin and Access-Control-Request-Method."""
    return method == "OPTIONS" and origin is not None and request_method is not None


_VARY_ECHO: Final = ("Access-Control-Request-Method", "Access-Control-Request-Headers")
_VARY_PREFLIGHT_ECHO: Final = ("Origin", *_VARY_ECHO)


class CompiledPolicy:
    """A policy with everything a request needs prepared: sets, suffixes, regexes, header strings."""

    __slots__ = (
        "actual_headers",
        "any_header",
        "any_method",
        "any_origin",
        "credentials",
        "exact_origins",
        "headers",
        "headers_header",
        "id",
        "methods",
        "methods_header",
        "name",
        "origin_regexes",
        "pattern",
        "preflight_tail",
        "private_network",
        "sort_key",
        "spec",
        "vary",
        "wildcards",
    )

    def __init__(self, spec: PolicySpec) -> None:
        self.id = spec.id
        self.name = spec.name
        self.spec = spec
        self.pattern = parse_path_pattern(spec.path_pattern)
        pattern = self.pattern
        # Lower sorts first: priority, then kind (literal < glob < regex), more literal segments,
        # globs without '**' before those with it, then the oldest policy.
        self.sort_key = (-spec.priority, pattern.kind, -pattern.literal_segments, pattern.has_double_star, spec.id)

        entries = [parse_origin_entry(origin) for origin in spec.allowed_origins]
        self.any_origin = any(entry.kind == "any" for entry in entries)
        if self.any_origin and spec.allow_credentials:
            # The validators refuse this; a row written around them must still never answer
            # "Access-Control-Allow-Origin: *" with credentials.
            raise OriginError("'*' cannot be used with credentials; list the origins that need credentials instead")
        self.exact_origins = frozenset(entry.value for entry in entries if entry.kind in ("exact", "null"))
        # (scheme, ".domain", port): a host matches if it ends with ".domain", so one or more labels
        # sit in front and the apex never matches.
        self.wildcards = tuple(
            (entry.scheme, "." + entry.domain, entry.port) for entry in entries if entry.kind == "wildcard"
        )
        # One pass over the Origin for all of them (each must match the whole Origin).
        self.origin_regexes = RegexSet(spec.allowed_origin_regexes, full=True) if spec.allowed_origin_regexes else None

        self.any_method = "*" in spec.allowed_methods
        self.methods = frozenset(m for m in spec.allowed_methods if m != "*")
        self.methods_header = ", ".join(spec.allowed_methods)
        self.any_header = "*" in spec.allowed_headers
        self.headers = frozenset(h.lower() for h in spec.allowed_headers if h != "*")
        self.headers_header = ", ".join(h for h in spec.allowed_headers if h != "*")
        self.credentials = spec.allow_credentials
        self.private_network = spec.allow_private_network

        actual: list[tuple[str, str]] = []
        tail: list[tuple[str, str]] = []
        if spec.allow_credentials:
            actual.append(("Access-Control-Allow-Credentials", "true"))
            tail.append(("Access-Control-Allow-Credentials", "true"))
        if spec.expose_headers:
            actual.append(("Access-Control-Expose-Headers", ", ".join(spec.expose_headers)))
        if spec.max_age is not None and spec.max_age >= 0:  # a negative row (written around the validators) sends none
            tail.append(("Access-Control-Max-Age", str(spec.max_age)))
        self.actual_headers = tuple(actual)
        self.preflight_tail = tuple(tail)
        # A fixed "*" answer does not depend on the Origin; everything else does.
        self.vary = () if self.any_origin else _VARY_ORIGIN

    def __repr__(self) -> str:
        return f"<CompiledPolicy {self.id} {self.name!r} {self.pattern.source!r}>"

    def matches_path(self, path: str) -> bool:
        pattern = self.pattern
        if pattern.kind == KIND_LITERAL:
            return path == pattern.source
        if pattern.kind == KIND_GLOB:
            assert pattern.matcher is not None
            return bool(pattern.matcher(path))
        return pattern.regex.match(path.encode("utf-8", "surrogatepass")) is not None

    def allows_origin(self, origin: str) -> bool:
        """Exact set first (a hit is valid by construction), then the parsed forms."""
        if origin in self.exact_origins:
            return True
        if not self.wildcards and not self.origin_regexes:
            return False
        parsed = parse_request_origin(origin)
        if parsed is None:
            return False
        scheme, host, port = parsed
        for w_scheme, w_suffix, w_port in self.wildcards:
            if scheme == w_scheme and port == w_port and host.endswith(w_suffix) and len(host) > len(w_suffix):
                return True
        return self.origin_regexes is not None and self.origin_regexes.first(origin) is not None

    def describe_origins(self) -> str:
        return ", ".join(self.spec.allowed_origins) + (
            (" or regexes " + ", ".join(self.spec.allowed_origin_regexes)) if self.spec.allowed_origin_regexes else ""
        )


class _TrieNode:
    """Globs indexed by their literal leading segments; ``policies`` end their prefix here."""

    __slots__ = ("children", "matcher", "policies")

    def __init__(self) -> None:
        self.children: dict[str, _TrieNode] = {}
        self.policies: list[CompiledPolicy] = []
        #: With many globs here: all of them in one pass (see GLOBS_IN_ONE_PASS).
        self.matcher: RegexSet | None = None


def _parse_request_headers(value: str) -> list[str] | None:
    """Access-Control-Request-Headers → lower-case names; None when malformed."""
    if len(value) > MAX_REQUEST_HEADERS_LENGTH:
        return None
    names = []
    for item in value.split(","):
        name = item.strip(" \t")
        if name == "":
            continue
        if not is_token(name):
            return None
        names.append(name.lower())
    return names


def printable(value: str, limit: int = 120) -> str:
    """Attacker-controlled text made safe to show or log: shortened, then every control character (CR and
    LF included), backslash and non-ASCII character escaped, so one value is always one line."""
    shown = value if len(value) <= limit else value[:limit] + "…"
    return shown.encode("unicode_escape").decode("ascii")


#: A trie node with at least this many globs matches them all in one pass (an RE2 set) rather than one
#: by one: ten thousand globs under one prefix cost one pass over the path, not ten thousand.
GLOBS_IN_ONE_PASS: Final = 8


def _index_globs(root: _TrieNode) -> None:
    todo = [root]
    while todo:
        node = todo.pop()
        todo.extend(node.children.values())
        if len(node.policies) >= GLOBS_IN_ONE_PASS:
            node.matcher = regex_set([p.pattern.expression for p in node.policies], full=True)


class PolicySet:
    """An immutable, indexed set of compiled policies: build once per snapshot, evaluate per request.

    ``policies`` are the enforced ones, in precedence order. Report-only policies never take part in that
    precedence: they form a set of their own, ``report_only`` (None when there are none, so the hot path
    pays one attribute test), indexed and ordered by the same rules among themselves.
    """

    __slots__ = ("_literal", "_regex_set", "_regexes", "_trie", "errors", "policies", "report_only", "version")

    def __init__(
        self,
        policies: Iterable[CompiledPolicy],
        version: Any = None,
        errors: Sequence[str] = (),
        *,
        reporting: bool = False,
    ) -> None:
        ordered = sorted(policies, key=lambda p: p.sort_key)
        self.report_only: PolicySet | None = None
        if not reporting:  # this is the enforced set: split the report-only policies off
            reports = [p for p in ordered if p.spec.report_only]
            if reports:
                ordered = [p for p in ordered if not p.spec.report_only]
                self.report_only = PolicySet(reports, version, reporting=True)
        self.policies: tuple[CompiledPolicy, ...] = tuple(ordered)
        self.version = version
        self.errors = tuple(errors)
        literal: dict[str, CompiledPolicy] = {}
        trie = _TrieNode()
        regexes: list[CompiledPolicy] = []
        for policy in self.policies:  # in precedence order: the first stored wins
            pattern = policy.pattern
            if pattern.kind == KIND_LITERAL:
                literal.setdefault(pattern.source, policy)
            elif pattern.kind == KIND_GLOB:
                node = trie
                for segment in pattern.prefix:
                    node = node.children.setdefault(segment, _TrieNode())
                node.policies.append(policy)
            else:
                regexes.append(policy)
        self._literal = literal
        self._trie = trie
        _index_globs(trie)
        self._regexes = tuple(regexes)
        # Every regex pattern in one pass over the path, whatever their number; precedence order, so the
        # lowest matching index is the best regex policy.
        self._regex_set = regex_set([p.pattern.expression for p in regexes], full=False) if regexes else None

    @classmethod
    def build(cls, specs: Iterable[PolicySpec], version: Any = None) -> PolicySet:
        """Compile specs; a spec that does not compile is skipped and reported in ``errors``."""
        compiled = []
        errors = []
        for spec in specs:
            try:
                compiled.append(CompiledPolicy(spec))
            except (PatternError, OriginError, TypeError, ValueError) as exc:
                errors.append(f"policy {spec.id} {spec.name!r} skipped: {exc}")
        return cls(compiled, version=version, errors=errors)

    def __len__(self) -> int:
        return len(self.policies)

    # -- matching ------------------------------------------------------------------------------

    def candidates(self, path: str) -> list[CompiledPolicy]:
        """Every policy whose pattern matches ``path``, best first (for explanations and the admin)."""
        found = [p for p in self.policies if p.matches_path(path)]
        return found

    def match(self, path: str) -> CompiledPolicy | None:
        """The one policy that applies to ``path``: cost grows with the path, not the policy count."""
        best = self._literal.get(path)
        best_key = best.sort_key if best is not None else None
        node: _TrieNode | None = self._trie
        # Walk the literal prefixes segment by segment without splitting the whole path: a long path
        # costs only as many steps as the deepest prefix it shares with a glob.
        start = 1 if path.startswith("/") else -1
        while node is not None:
            policies = node.policies
            if policies and (best_key is None or policies[0].sort_key < best_key):
                if node.matcher is not None:
                    index = node.matcher.first(path)
                    if index is not None and (best_key is None or policies[index].sort_key < best_key):
                        best, best_key = policies[index], policies[index].sort_key
                else:
                    for policy in policies:  # precedence order: the first that matches is this node's best
                        if best_key is not None and policy.sort_key >= best_key:
                            break
                        if policy.pattern.matcher(path):  # type: ignore[misc]
                            best, best_key = policy, policy.sort_key
                            break
            if start < 0 or not node.children:
                break
            end = path.find("/", start)
            node = node.children.get(path[start:] if end < 0 else path[start:end])
            start = -1 if end < 0 else end + 1
        regexes = self._regexes
        if regexes and (best_key is None or regexes[0].sort_key < best_key):
            assert self._regex_set is not None
            index = self._regex_set.first(path)
            if index is not None and (best_key is None or regexes[index].sort_key < best_key):
                return regexes[index]
        return best

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate(
        self,
        *,
        origin: str | None,
        method: str,
        path: str,
        request_method: str | None = None,
        request_headers: str | Sequence[str] | None = None,
        private_network: bool = False,
        explain: bool = False,
    ) -> Decision:
        """Decide a request.

        ``method`` is the HTTP method of the request itself. A preflight is ``method == "OPTIONS"``
        with ``origin`` and ``request_method`` (Access-Control-Request-Method) present;
        ``request_headers`` is the Access-Control-Request-Headers value (text or a list of names);
        ``private_network`` is Access-Control-Request-Private-Network: true.
        """
        policy = self.match(path)
        if policy is None:
            decision = Decision(
                None,
                is_preflight(method, origin, request_method),
                False,
                refusals=(Refusal("no_policy", f"no policy covers {printable(path)}"),),
            )
            if explain:
                decision.explanation.append(f"No enabled policy's path pattern matches {printable(path)}.")
        else:
            decision = self.decide(
                policy,
                origin=origin,
                method=method,
                request_method=request_method,
                request_headers=request_headers,
                private_network=private_network,
            )
            if explain:
                decision.explanation.extend(self.explain_match(path, policy))
        if explain and self.report_only is not None:
            report = self.evaluate_report_only(
                origin=origin,
                method=method,
                path=path,
                request_method=request_method,
                request_headers=request_headers,
                private_network=private_network,
            )
            if report is not None and report.policy is not None:
                verdict = "would allow it" if report.allowed else "would refuse it (" + "; ".join(report.reasons) + ")"
                decision.explanation.append(
                    f"Report-only policy {report.policy.name!r} also covers {printable(path)} and {verdict}; "
                    "report-only policies never change the answer."
                )
        return decision

    def evaluate_report_only(
        self,
        *,
        origin: str | None,
        method: str,
        path: str,
        request_method: str | None = None,
        request_headers: str | Sequence[str] | None = None,
        private_network: bool = False,
    ) -> Decision | None:
        """The verdict of the report-only policy that covers ``path`` (same precedence rules among the
        report-only policies as among the enforced ones), or None when none does."""
        report = self.report_only
        policy = report.match(path) if report is not None else None
        if report is None or policy is None:
            return None
        return report.decide(
            policy,
            origin=origin,
            method=method,
            request_method=request_method,
            request_headers=request_headers,
            private_network=private_network,
        )

    def simulate(
        self,
        *,
        origin: str | None,
        method: str,
        path: str,
        request_headers: Sequence[str] = (),
        preflight: bool = False,
        private_network: bool = False,
    ) -> Decision:
        """What the middleware would answer a browser, with the explanation: for the admin tester, the
        API's evaluate endpoint and ``cors_explain``. ``method`` is the method the page wants to use;
        ``preflight=True`` asks about the preflight the browser sends for it."""
        if preflight:
            return self.evaluate(
                origin=origin if origin is not None else "",
                method="OPTIONS",
                path=path,
                request_method=method,
                request_headers=list(request_headers),
                private_network=private_network,
                explain=True,
            )
        return self.evaluate(origin=origin, method=method, path=path, explain=True)

    def decide(
        self,
        policy: CompiledPolicy,
        *,
        origin: str | None,
        method: str,
        request_method: str | None = None,
        request_headers: str | Sequence[str] | None = None,
        private_network: bool = False,
    ) -> Decision:
        """The verdict of ``policy`` (the one :meth:`match` found) for one request."""
        if method == "OPTIONS" and origin is not None and request_method is not None:  # is_preflight, narrowed
            return self._preflight(policy, origin, request_method, request_headers, private_network)
        return self._actual(policy, origin, method)

    def _actual(self, policy: CompiledPolicy, origin: str | None, method: str) -> Decision:
        # On the real request a browser checks only the origin (and credentials): the method and
        # headers were vetted by the preflight, so they do not change this answer.
        if policy.any_origin:
            # A constant answer: every response of the path says "*", so no Vary is needed.
            return Decision(policy, False, True, (("Access-Control-Allow-Origin", "*"), *policy.actual_headers))
        if origin is None:
            return Decision(policy, False, False, vary=policy.vary, refusals=_NO_ORIGIN)
        if not policy.allows_origin(origin):
            return Decision(policy, False, False, vary=policy.vary, refusals=(self._origin_refusal(policy, origin),))
        return Decision(
            policy, False, True, (("Access-Control-Allow-Origin", origin), *policy.actual_headers), policy.vary
        )

    def _preflight(
        self,
        policy: CompiledPolicy,
        origin: str,
        request_method: str,
        request_headers: str | Sequence[str] | None,
        private_network: bool,
    ) -> Decision:
        refusals: list[Refusal] = []
        if policy.any_origin:
            allow_origin = "*"
        elif policy.allows_origin(origin):
            allow_origin = origin
        else:
            allow_origin = ""
            refusals.append(self._origin_refusal(policy, origin))

        echo = False
        if not is_token(request_method):
            refusals.append(
                Refusal(
                    "method_malformed",
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
            refusals.append(self._method_refusal(policy, request_method))
            methods_value = ""

        if request_headers is None:
            names: list[str] | None = []
        elif isinstance(request_headers, str):
            names = _parse_request_headers(request_headers)
        else:
            names = [n.strip().lower() for n in request_headers if n.strip()]
            if not all(is_token(n) for n in names):
                names = None
        headers_value = ""
        if names is None:
            refusals.append(
                Refusal(
                    "headers_malformed", "Access-Control-Request-Headers is not a comma-separated list of header names"
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
                refusals.append(self._headers_refusal(policy, refused))
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
                    "private_network",
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
        return Decision(policy, True, True, tuple(headers), vary)

    # -- reasons -------------------------------------------------------------------------------

    @staticmethod
    def _origin_refusal(policy: CompiledPolicy, origin: str) -> Refusal:
        if parse_request_origin(origin) is None and origin != "null":
            return Refusal(
                "origin_malformed",
                lambda: (
                    f"origin '{printable(origin)}' is not a serialized origin "
                    "(scheme://host[:port], lower case, no default port), so it never matches"
                ),
            )
        return Refusal(
            "origin",
            lambda: (
                f"origin {printable(origin)} is not allowed by policy {policy.name!r} "
                f"(it allows {policy.describe_origins() or 'no origins'})"
            ),
        )

    @staticmethod
    def _method_refusal(policy: CompiledPolicy, method: str) -> Refusal:
        listed = policy.methods_header or "none"
        hint = ""
        for allowed in policy.methods:
            if allowed.lower() == method.lower():
                hint = f" (methods are case-sensitive: {allowed} is allowed, {method} is not)"
        return Refusal("method", f"method {printable(method)} is not in the allowed methods {listed}{hint}")

    @staticmethod
    def _headers_refusal(policy: CompiledPolicy, refused: list[str]) -> Refusal:
        listed = ", ".join(policy.spec.allowed_headers) or "none"
        note = ""
        if "authorization" in refused and policy.any_header:
            note = " ('*' never covers Authorization: list it explicitly)"
        noun, verb = ("headers", "are") if len(refused) > 1 else ("header", "is")
        return Refusal(
            "headers", f"request {noun} {', '.join(refused)} {verb} not in the allowed headers {listed}{note}"
        )

    def explain_match(self, path: str, winner: CompiledPolicy) -> list[str]:
        """Human-readable account of why ``winner`` applies to ``path`` rather than the others."""
        lines = [
            f"Policy {winner.name!r} applies: its {KIND_NAMES[winner.pattern.kind]} {winner.pattern.source!r} "
            f"matches {printable(path)} (priority {winner.spec.priority})."
        ]
        for other in self.candidates(path):
            if other is winner:
                continue
            lines.append(f"It wins over {other.name!r} ({other.pattern.source!r}): {beats(winner, other)}.")
        return lines


def beats(winner: CompiledPolicy, other: CompiledPolicy) -> str:
    """Why ``winner`` takes precedence over ``other``, in words (the tester and shadowing warnings)."""
    w, o = winner.sort_key, other.sort_key
    if w[0] != o[0]:
        return f"higher priority ({winner.spec.priority} > {other.spec.priority})"
    if w[1] != o[1]:
        return f"a {KIND_NAMES[w[1]]} is more specific than a {KIND_NAMES[o[1]]}"
    if w[2] != o[2]:
        return f"more literal segments ({-w[2]} > {-o[2]})"
    if w[3] != o[3]:
        return "'*' is more specific than '**'"
    return f"equal precedence, and the lower id wins ({winner.id} < {other.id})"
