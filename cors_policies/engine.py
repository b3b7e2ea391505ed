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

from .regex import RegexError, RegexSet, compile_regex, encode, program_size

__all__ = [
    "MAX_GLOB_STEPS",
    "MAX_ORIGIN_LENGTH",
    "MAX_ORIGIN_REGEX_PROGRAM",
    "MAX_REGEX_ORIGIN_LENGTH",
    "MAX_REGEX_PATH_LENGTH",
    "MAX_REGEX_PATH_PROGRAM",
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
    "parsed_path_pattern",
    "path_costs",
    "printable",
]

#: Longest Origin header we look at; anything longer is malformed and never matches or echoes.
MAX_ORIGIN_LENGTH: Final = 2048
#: Longest Access-Control-Request-Headers value we parse (browsers cap safelisted values far lower).
MAX_REQUEST_HEADERS_LENGTH: Final = 8192
#: Most comma-separated entries of Access-Control-Request-Headers we read: each costs a step, and a page's
#: request cannot carry that many header fields anyway (gunicorn refuses more than 100, Django's test
#: server and nginx far fewer in practice). More is malformed, as a value over the length above is.
MAX_REQUEST_HEADER_NAMES: Final = 128

# The bound on what one request costs (SECURITY.md, "Worst case"; bench/worst_case.py). RE2 runs in linear
# time, but the time per byte is not fixed: a byte can make its automaton build a new state (one whose
# cache it has never needed: a regex can be written so that every byte of a crafted text does), and a
# state costs as many steps as the program has instructions. A request's regex work is therefore bounded
# by the bytes each automaton reads times the instructions it holds, and both are capped here.

#: Longest path (in UTF-8 bytes: characters, for an ASCII path) that regex path patterns read. A longer
#: path is matched by literal and glob patterns only; when a regex policy could outrank what they find,
#: no policy applies to it (refused, rather than answered by a policy that might not be the right one).
MAX_REGEX_PATH_LENGTH: Final = 256
#: RE2 instructions (:func:`~cors_policies.regex.program_size`) of every regex path pattern, and every glob
#: with '**' in more than one place (matched by the same automaton), of the enabled policies together,
#: enforced and report-only alike: one pass over the path runs them all.
MAX_REGEX_PATH_PROGRAM: Final = 160
#: Longest Origin that origin regexes read: a serialized origin with a DNS name (253 characters at most)
#: fits. A longer Origin is matched by exact origins and wildcards only.
MAX_REGEX_ORIGIN_LENGTH: Final = 300
#: RE2 instructions of one policy's origin regexes together: a request to its paths runs them all.
MAX_ORIGIN_REGEX_PROGRAM: Final = 100
#: Most trie nodes one path can visit among the globs of the enabled policies (enforced and report-only
#: together). Globs are matched segment by segment without RE2; what grows the count is '*' where other
#: globs have a literal segment, since a path then follows both (see :class:`_Node`).
MAX_GLOB_STEPS: Final = 512

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
    """A path pattern split into what the index needs: its kind, segments and matcher."""

    kind: int
    source: str
    prefix: tuple[str, ...]  # literal leading segments (globs); all segments (literals)
    literal_segments: int
    has_double_star: bool
    #: For regexes: the RE2 regex (matched from the start of the path).
    regex: Any = None
    #: For globs: a callable telling whether a whole path matches (truthy) or not.
    matcher: Callable[[str], object] | None = None
    #: For globs and regexes: the equivalent RE2 expression (anchored at the start; a glob's at the end too).
    expression: str = ""
    #: Globs in the trie: the segments before the '**' in the middle, if any ('*' for one segment), the
    #: segments after it (None without one), and whether a '**' ends the glob.
    tokens: tuple[str, ...] = ()
    tail: tuple[str, ...] | None = None
    trailing: bool = False
    #: Matched by the path automaton: regexes, and globs with '**' in more than one place (not counting a
    #: last one). ``member`` is what the automaton's RE2 set holds for it.
    automaton: bool = False
    member: str = ""


def _tokens_match(parts: Sequence[str], segments: Sequence[str]) -> bool:
    """Each glob part matches the segment in its place (the shorter sequence decides how many)."""
    return all(
        segment == part or (part == "*" and segment != "") for part, segment in zip(parts, segments, strict=False)
    )


def _glob_matcher(tokens: tuple[str, ...], tail: tuple[str, ...] | None, trailing: bool) -> Callable[[str], bool]:
    """Whether a whole path matches a glob of the trie, segment by segment (the index's reference)."""

    def matches(path: str) -> bool:
        if not path.startswith("/"):
            return path == "" and trailing and not tokens  # '/**' also matches nothing at all
        segments = path[1:].split("/")
        if tail is not None:
            head = len(tokens)
            return (
                len(segments) >= head + len(tail)
                and _tokens_match(tokens, segments[:head])
                and _tokens_match(tail, segments[len(segments) - len(tail) :])
            )
        if len(segments) != len(tokens) and not (trailing and len(segments) >= len(tokens)):
            return False
        return _tokens_match(tokens, segments)

    return matches


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
        return ParsedPattern(KIND_REGEX, pattern, (), 0, False, compiled, None, pattern, automaton=True, member=pattern)
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
    for index, segment in enumerate(segments):
        if segment == "**":
            in_prefix = False
            # "/a/**" also matches "/a"; in the middle "/a/**/b" matches "/a/b" and "/a/x/y/b".
            parts.append("(?:/.*)?" if index == len(segments) - 1 else "(?:/[^/]*)*")
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
    trailing = segments[-1] == "**"
    body = segments[:-1] if trailing else segments
    inner = [index for index, segment in enumerate(body) if segment == "**"]
    if len(inner) > 1 or (inner and trailing):
        # '**' in several places: which segments each one takes is a search, done by RE2's automaton in one
        # pass over the path (Python's re would backtrack, O(path x pattern) at least, more with several).
        fullmatch = compile_regex(expression).fullmatch
        return ParsedPattern(
            KIND_GLOB,
            pattern,
            tuple(prefix),
            literal,
            True,
            None,
            lambda path: fullmatch(encode(path)),
            expression,
            automaton=True,
            member=expression + r"\z",
        )
    # At most one '**' before the last segment: the segments before it match the start of the path, those
    # after it the end, so the trie matches the glob with dictionary look-ups, whatever the path's length.
    tokens = tuple(body[: inner[0]] if inner else body)
    after = tuple(body[inner[0] + 1 :]) if inner else None
    return ParsedPattern(
        KIND_GLOB,
        pattern,
        tuple(prefix),
        literal,
        double,
        None,
        _glob_matcher(tokens, after, trailing),
        expression,
        tokens,
        after,
        trailing,
    )


@functools.lru_cache(maxsize=16384)
def parsed_path_pattern(pattern: str) -> ParsedPattern:
    """:func:`parse_path_pattern`, remembered: a snapshot rebuilt after one change, or the budgets checked
    for one write, parse the other policies' patterns again."""
    return parse_path_pattern(pattern)


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
        "program",
        "sort_key",
        "spec",
        "vary",
        "wildcards",
    )

    def __init__(self, spec: PolicySpec) -> None:
        self.id = spec.id
        self.name = spec.name
        self.spec = spec
        self.pattern = parsed_path_pattern(spec.path_pattern)
        pattern = self.pattern
        # Lower sorts first: priority, then kind (literal < glob < regex), more literal segments,
        # globs without '**' before those with it, then the oldest policy.
        self.sort_key = (-spec.priority, pattern.kind, -pattern.literal_segments, pattern.has_double_star, spec.id)
        #: What the path automaton's budget counts for this policy (0 when the trie or the literals match it).
        self.program = program_size((pattern.member,)) if pattern.automaton else 0

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
        # One pass over the Origin for all of them (each must match the whole Origin), within the budget.
        self.origin_regexes = None
        if spec.allowed_origin_regexes:
            regexes = tuple(spec.allowed_origin_regexes)
            size = program_size(regexes)
            if size > MAX_ORIGIN_REGEX_PROGRAM:
                raise OriginError(
                    f"its origin regexes compile to {size:,} RE2 instructions together, over the "
                    f"{MAX_ORIGIN_REGEX_PROGRAM:,} a policy may have"
                )
            self.origin_regexes = RegexSet(regexes, full=True)

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
        if pattern.automaton:
            data = encode(path)
            if len(data) > MAX_REGEX_PATH_LENGTH:
                return False  # the automaton never reads it (see PolicySet.match)
            if pattern.kind == KIND_REGEX:
                return pattern.regex.match(data) is not None
        assert pattern.matcher is not None
        return bool(pattern.matcher(path))

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
        return (
            self.origin_regexes is not None
            and len(origin) <= MAX_REGEX_ORIGIN_LENGTH
            and self.origin_regexes.first(origin) is not None
        )

    def describe_origins(self) -> str:
        return ", ".join(self.spec.allowed_origins) + (
            (" or regexes " + ", ".join(self.spec.allowed_origin_regexes)) if self.spec.allowed_origin_regexes else ""
        )


# A list of header names (RFC 9110 tokens) separated by commas, with spaces and tabs around them: checked
# in one RE2 pass (Python's re takes a millisecond over 8 KiB of this grammar), before anything is lower-cased
# (the Kelvin sign lower-cases to "k").
_NAME_CHAR: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_HEADER_LIST: Final = RegexSet([rf"[ \t]*(?:{_NAME_CHAR}+[ \t]*)?(?:,[ \t]*(?:{_NAME_CHAR}+[ \t]*)?)*"], full=True)


@functools.lru_cache(maxsize=64)
def _parse_request_headers(value: str) -> tuple[str, ...] | None:
    """Access-Control-Request-Headers → lower-case names; None when malformed (too long, or more than
    :data:`MAX_REQUEST_HEADER_NAMES` entries). Remembered, since the enforced and the report-only policy
    of a path both ask about the same value."""
    if len(value) > MAX_REQUEST_HEADERS_LENGTH or value.count(",") >= MAX_REQUEST_HEADER_NAMES:
        return None
    if not _HEADER_LIST.match_data(encode(value)):
        return None
    return tuple(name for name in value.lower().replace(" ", "").replace("\t", "").split(",") if name)


def printable(value: str, limit: int = 120) -> str:
    """Attacker-controlled text made safe to show or log: shortened, then every control character (CR and
    LF included), backslash and non-ASCII character escaped, so one value is always one line."""
    shown = value if len(value) <= limit else value[:limit] + "…"
    return shown.encode("unicode_escape").decode("ascii")


class _Node:
    """A node of the glob trie: globs indexed segment by segment, with '*' as an edge of its own.

    A path goes down the literal edge named by each of its segments and the '*' edge at once, so the nodes
    it visits per segment multiply where globs put '*' beside literal segments. ``weight`` bounds that: the
    most nodes a path can visit from here (this one, its '*' subtree, its heaviest literal subtree, and the
    suffix trie of the globs with a '**' here), kept up to date as globs are added, so that the budget
    :data:`MAX_GLOB_STEPS` holds for the root, whatever the path.
    """

    __slots__ = ("best", "children", "end", "rest", "star", "tails", "weight")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.star: _Node | None = None
        #: The best policy whose glob ends here: in the trie of the starts of globs, where the path ends
        #: too; in a suffix trie, where the glob's last segments matched the path's.
        self.end: CompiledPolicy | None = None
        #: The best policy whose glob ends here with '**' (so whatever follows matches).
        self.rest: CompiledPolicy | None = None
        #: The globs with a '**' here and more segments after it: those segments, last first, matched
        #: from the end of the path.
        self.tails: _Node | None = None
        self.weight = 1
        self.best = 0  # the heaviest literal child's weight

    def reweigh(self) -> None:
        self.weight = (
            1
            + (self.tails.weight if self.tails is not None else 0)
            + (self.star.weight if self.star is not None else 0)
            + self.best
        )


def _grown(root: _Node | None, tokens: Sequence[str], tail: Sequence[str] | None) -> int:
    """The weight ``root`` would have with one more glob (``tokens``, then ``tail`` after a '**'), computed
    without adding it, so that a glob over the budget leaves the trie as it was."""
    nodes: list[_Node | None] = [root]
    for part in tokens:
        node = nodes[-1]
        nodes.append(None if node is None else node.star if part == "*" else node.children.get(part))
    last = nodes[-1]
    if tail is not None:
        tails = last.tails if last is not None else None
        tails_weight = _grown(tails, tail[::-1], None)
        old = tails.weight if tails is not None else 0
        weight = 1 + tails_weight if last is None else last.weight - old + tails_weight
    else:
        weight = 1 if last is None else last.weight
    for part, node in zip(reversed(tokens), reversed(nodes[:-1]), strict=True):
        if node is None:
            weight += 1
        elif part == "*":
            weight = 1 + (node.tails.weight if node.tails is not None else 0) + weight + node.best
        else:
            star = node.star.weight if node.star is not None else 0
            weight = 1 + (node.tails.weight if node.tails is not None else 0) + star + max(node.best, weight)
    return weight


def _add(root: _Node, tokens: Sequence[str], tail: Sequence[str] | None) -> _Node:
    """Add a glob's nodes and re-weigh them up to ``root``; returns the node its policy belongs to."""
    nodes = [root]
    for part in tokens:
        node = nodes[-1]
        if part == "*":
            if node.star is None:
                node.star = _Node()
            nodes.append(node.star)
        else:
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node()
            nodes.append(child)
    owner = last = nodes[-1]
    if tail is not None:
        if last.tails is None:
            last.tails = _Node()
        owner = _add(last.tails, tail[::-1], None)
    last.reweigh()
    for index in range(len(tokens) - 1, -1, -1):
        node, child = nodes[index], nodes[index + 1]
        if tokens[index] != "*":
            node.best = max(node.best, child.weight)  # weights only grow as globs are added
        node.reweigh()
    return owner


def _best_glob(root: _Node, path: str) -> CompiledPolicy | None:
    """The best glob of the trie matching the whole ``path``: at most ``root.weight`` node visits, each a
    dictionary look-up or two, however long the path and however many globs."""
    if not path.startswith("/"):
        return root.rest if path == "" else None
    best: CompiledPolicy | None = None
    length = len(path)
    active = [root]
    position = 0  # where the segments matched so far end: a '/', or the end of the path
    while True:
        for node in active:
            found = node.rest
            if found is not None and (best is None or found.sort_key < best.sort_key):
                best = found
            if node.tails is not None:
                found = _best_tail(node.tails, path, position)
                if found is not None and (best is None or found.sort_key < best.sort_key):
                    best = found
        if position == length:
            for node in active:
                found = node.end
                if found is not None and (best is None or found.sort_key < best.sort_key):
                    best = found
            return best
        stop = path.find("/", position + 1)
        if stop < 0:
            stop = length
        segment = path[position + 1 : stop]
        following = []
        for node in active:
            if node.children:
                child = node.children.get(segment)
                if child is not None:
                    following.append(child)
            if node.star is not None and segment:
                following.append(node.star)
        if not following:
            return best
        active = following
        position = stop


def _best_tail(root: _Node, path: str, start: int) -> CompiledPolicy | None:
    """The best glob of a suffix trie whose last segments are the path's, all of them after ``start``
    (where the segments before the glob's '**' ended): '**' takes what lies between, possibly nothing."""
    best: CompiledPolicy | None = None
    active = [root]
    end = len(path)
    while True:
        slash = path.rfind("/", start, end)
        if slash < 0:
            return best
        segment = path[slash + 1 : end]
        following = []
        for node in active:
            if node.children:
                child = node.children.get(segment)
                if child is not None:
                    following.append(child)
            if node.star is not None and segment:
                following.append(node.star)
        for node in following:
            found = node.end
            if found is not None and (best is None or found.sort_key < best.sort_key):
                best = found
        if not following:
            return best
        active = following
        end = slash


class _Automaton:
    """The regex path patterns of a policy set and of its report-only set, with the globs that have '**' in
    several places: one RE2 pass over at most :data:`MAX_REGEX_PATH_LENGTH` bytes of the path answers
    both sets (the middleware asks one right after the other, so the last answer is kept)."""

    __slots__ = ("_last", "regexes")

    def __init__(self, members: Sequence[str]) -> None:
        self.regexes = RegexSet(members, full=False)
        self._last: tuple[str, list[int] | None] | None = None

    def matching(self, path: str) -> list[int] | None:
        """Indices of the members matching ``path``, ascending; None for a path too long to read."""
        last = self._last  # one read: another thread may replace it, never half of it
        if last is not None and last[0] == path:
            return last[1]
        found: list[int] | None = None
        if len(path) <= MAX_REGEX_PATH_LENGTH:
            data = encode(path)
            if len(data) <= MAX_REGEX_PATH_LENGTH:
                found = self.regexes.match_data(data)
        self._last = (path, found)
        return found


class _Part:
    """What one set (the enforced policies, or the report-only ones) is indexed by while it is built."""

    def __init__(self) -> None:
        self.policies: list[CompiledPolicy] = []
        self.literal: dict[str, CompiledPolicy] = {}
        self.root = _Node()
        self.globs = False
        self.regexes: list[CompiledPolicy] = []


def _admit(policies: Sequence[CompiledPolicy], errors: list[str]) -> tuple[_Part, _Part]:
    """Index ``policies`` (in precedence order, the enforced before the report-only ones) within the
    budgets; one that would exceed a budget is skipped with an error, never changed. So the policies of
    lower precedence give way, report-only ones first."""
    enforced, reports = _Part(), _Part()
    program = 0
    for policy in policies:
        part, other = (reports, enforced) if policy.spec.report_only else (enforced, reports)
        pattern = policy.pattern
        if pattern.automaton:
            if program + policy.program > MAX_REGEX_PATH_PROGRAM:
                errors.append(
                    f"policy {policy.id} {policy.name!r} skipped: its path pattern {pattern.source!r} would bring "
                    f"the regex path patterns (and globs with '**' in several places) of the enabled policies to "
                    f"{program + policy.program:,} RE2 instructions, over the {MAX_REGEX_PATH_PROGRAM:,} allowed"
                )
                continue
            program += policy.program
            part.regexes.append(policy)
        elif pattern.kind == KIND_GLOB:
            steps = _grown(part.root, pattern.tokens, pattern.tail) + (other.root.weight if other.globs else 0)
            if steps > MAX_GLOB_STEPS:
                errors.append(
                    f"policy {policy.id} {policy.name!r} skipped: its glob {pattern.source!r} would let one path "
                    f"visit {steps:,} glob segments, over the {MAX_GLOB_STEPS:,} allowed"
                )
                continue
            owner = _add(part.root, pattern.tokens, pattern.tail)
            part.globs = True
            if pattern.trailing:
                if owner.rest is None:
                    owner.rest = policy
            elif owner.end is None:
                owner.end = policy
        else:
            part.literal.setdefault(pattern.source, policy)
        part.policies.append(policy)
    return enforced, reports


def path_costs(patterns: Iterable[tuple[str, bool]]) -> tuple[int, int]:
    """What enabled path patterns, given as (pattern, report only), cost together: the glob steps and the
    RE2 instructions of regex paths, as :class:`PolicySet` measures them against :data:`MAX_GLOB_STEPS` and
    :data:`MAX_REGEX_PATH_PROGRAM`. Patterns that do not parse are left out (serving skips them)."""
    roots = (_Node(), _Node())
    used = [False, False]
    program = 0
    for pattern, report_only in patterns:
        try:
            parsed = parsed_path_pattern(pattern)
            if parsed.automaton:
                program += program_size((parsed.member,))
        except (PatternError, TypeError, ValueError):
            continue
        if parsed.kind == KIND_GLOB and not parsed.automaton:
            _add(roots[bool(report_only)], parsed.tokens, parsed.tail)
            used[bool(report_only)] = True
    return sum(root.weight for root, on in zip(roots, used, strict=True) if on), program


class PolicySet:
    """An immutable, indexed set of compiled policies: build once per snapshot, evaluate per request.

    ``policies`` are the enforced ones, in precedence order. Report-only policies never take part in that
    precedence: they form a set of their own, ``report_only`` (None when there are none, so the hot path
    pays one attribute test), indexed and ordered by the same rules among themselves.

    What a path costs is bounded by construction: a literal pattern is a dictionary look-up; globs are
    matched by a trie of at most :data:`MAX_GLOB_STEPS` node visits; regex path patterns (and globs with
    '**' in several places) by one RE2 pass shared with the report-only set, over at most
    :data:`MAX_REGEX_PATH_LENGTH` bytes, of at most :data:`MAX_REGEX_PATH_PROGRAM` instructions. Policies
    beyond a budget are skipped when the set is built and reported in ``errors``.
    """

    __slots__ = (
        "_automaton",
        "_globs",
        "_literal",
        "_offset",
        "_regexes",
        "_root",
        "errors",
        "policies",
        "report_only",
        "version",
    )

    def __init__(self, policies: Iterable[CompiledPolicy], version: Any = None, errors: Sequence[str] = ()) -> None:
        ordered = sorted(policies, key=lambda p: p.sort_key)
        messages = list(errors)
        enforced, reports = _admit(
            [p for p in ordered if not p.spec.report_only] + [p for p in ordered if p.spec.report_only], messages
        )
        members = [p.pattern.member for p in enforced.regexes + reports.regexes]
        automaton = _Automaton(members) if members else None
        self._index(enforced, automaton, 0, version, messages)
        self.report_only: PolicySet | None = None
        if reports.policies:
            report = PolicySet.__new__(PolicySet)
            report._index(reports, automaton, len(enforced.regexes), version, ())
            report.report_only = None
            self.report_only = report

    def _index(self, part: _Part, automaton: _Automaton | None, offset: int, version: Any, errors: Any) -> None:
        self.policies: tuple[CompiledPolicy, ...] = tuple(part.policies)
        self.version = version
        self.errors = tuple(errors)
        self._literal = part.literal
        self._root = part.root
        self._globs = part.globs
        self._regexes = tuple(part.regexes)
        self._automaton = automaton
        self._offset = offset

    @classmethod
    def build(cls, specs: Iterable[PolicySpec], version: Any = None) -> PolicySet:
        """Compile specs; a spec that does not compile, or that a budget has no room for, is skipped and
        reported in ``errors``."""
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

    @property
    def glob_steps(self) -> int:
        """The most trie nodes one path can visit among this set's globs (the budget's measure)."""
        return self._root.weight if self._globs else 0

    # -- matching ------------------------------------------------------------------------------

    def candidates(self, path: str) -> list[CompiledPolicy]:
        """Every policy whose pattern matches ``path``, best first (for explanations and the admin)."""
        return [p for p in self.policies if p.matches_path(path)]

    def match(self, path: str) -> CompiledPolicy | None:
        """The one policy that applies to ``path``. Its cost is bounded whatever the path and the policies:
        see the class's docstring."""
        best = self._literal.get(path)
        if self._globs:
            glob = _best_glob(self._root, path)
            if glob is not None and (best is None or glob.sort_key < best.sort_key):
                best = glob
        regexes = self._regexes
        if regexes and (best is None or regexes[0].sort_key < best.sort_key):
            assert self._automaton is not None
            found = self._automaton.matching(path)
            if found is None:
                return None  # too long to read, and a regex could outrank `best`: refused, never a guess
            offset = self._offset
            for index in found:
                if index >= offset:
                    if index - offset < len(regexes) and (
                        best is None or regexes[index - offset].sort_key < best.sort_key
                    ):
                        return regexes[index - offset]
                    break
        return best

    def unread(self, path: str) -> CompiledPolicy | None:
        """The regex policy that could apply to ``path`` but cannot read it (longer than
        :data:`MAX_REGEX_PATH_LENGTH` bytes), when that is why :meth:`match` found nothing."""
        regexes = self._regexes
        if not regexes or len(encode(path)) <= MAX_REGEX_PATH_LENGTH or self.match(path) is not None:
            return None
        return regexes[0]

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
                line = f"No enabled policy's path pattern matches {printable(path)}."
                unread = self.unread(path)
                if unread is not None:
                    line = (
                        f"{line[:-1]}: regex path patterns read at most {MAX_REGEX_PATH_LENGTH} bytes of a path, and "
                        f"policy {unread.name!r} ({printable(unread.pattern.source)}), which could outrank any other "
                        "match, cannot read this one, so no policy applies (write a glob such as /api/** for long "
                        "paths)."
                    )
                decision.explanation.append(line)
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
            names: Sequence[str] | None = ()
        elif isinstance(request_headers, str):
            names = _parse_request_headers(request_headers)
        else:
            names = [n.strip().lower() for n in request_headers if n.strip()]
            if len(names) > MAX_REQUEST_HEADER_NAMES or not all(is_token(n) for n in names):
                names = None
        headers_value = ""
        if names is None:
            refusals.append(
                Refusal(
                    "headers_malformed",
                    "Access-Control-Request-Headers is not a comma-separated list of at most "
                    f"{MAX_REQUEST_HEADER_NAMES} header names",
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
