"""A policy: as plain data (:class:`PolicySpec`, what the snapshot loader reads) and compiled
(:class:`CompiledPolicy`, with everything a request needs prepared)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from ..regex import RegexSet, encode, program_size
from .limits import MAX_ORIGIN_REGEX_PROGRAM, MAX_REGEX_ORIGIN_LENGTH, MAX_REGEX_PATH_LENGTH
from .origins import OriginEntry, OriginError, _check_wildcard_domain, parse_origin_entry, parse_request_origin
from .paths import KIND_LITERAL, KIND_REGEX, parsed_path_pattern

__all__ = ["CompiledPolicy", "PolicySpec"]


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
    #: Django's CSRF check (``cors_policies.csrf``) trusts the allowed origins on the covered paths.
    csrf_trusted: bool = False
    #: Allowed origins get ``Timing-Allow-Origin``: their pages may read the detailed resource timing.
    timing_allow_origin: bool = False


_VARY_ORIGIN: Final = ("Origin",)
#: How many distinct values each parse below remembers: policies share origins, method and header lists and
#: answers, and a snapshot of 100,000 policies parses them once each (bounded whatever the rows hold).
_REMEMBERED: Final = 8192

_T = TypeVar("_T")


def _shared(cached: Callable[[Any], _T], plain: Callable[[Any], _T], value: Any) -> _T:
    """``plain(value)``, remembered by ``cached`` when ``value`` (a list read as a tuple) can be a key: equal
    rows then share the parsed sets and header tuples. A value that cannot (a row written around the
    validators) is parsed as it is, with the same outcome."""
    if type(value) is list:
        value = tuple(value)
    try:
        return cached(value)
    except TypeError:  # not a key (or a TypeError of the parse itself, which this raises again)
        return plain(value)


def _origins_of(origins: Iterable[str]) -> tuple[bool, frozenset[str], tuple[tuple[str, str, str], ...]]:
    """(any origin, the exact origins, the wildcards) of ``allowed_origins``, or :class:`OriginError`."""
    entries = [_entry(origin) for origin in origins]
    # (scheme, ".domain", port): a host matches if it ends with ".domain", so one or more labels
    # sit in front and the apex never matches.
    return (
        any(entry.kind == "any" for entry in entries),
        frozenset(entry.value for entry in entries if entry.kind in ("exact", "null")),
        tuple((entry.scheme, "." + entry.domain, entry.port) for entry in entries if entry.kind == "wildcard"),
    )


def _entry(origin: Any) -> OriginEntry:
    """One entry parsed, remembered (a wildcard's Public Suffix List look-up included) when it is text."""
    return _parsed_entry(origin) if type(origin) is str else parse_origin_entry(origin)


def _quick_entry(raw: str) -> OriginEntry:
    """:func:`parse_origin_entry`, sooner for what the database holds: an origin (or a wildcard's origin after
    its ``*.``) already in the exact form a browser sends (:func:`parse_request_origin` accepts it) is its own
    normalized value, with every check of the full parse passed; the rest takes the full parse."""
    scheme_end = raw.find("://*.")
    if scheme_end < 0:
        parsed = parse_request_origin(raw)
        if parsed is not None:
            return OriginEntry("exact", raw, *parsed)
    else:
        parsed = parse_request_origin(raw[:scheme_end] + "://" + raw[scheme_end + 5 :])
        if parsed is not None:
            scheme, host, port = parsed
            _check_wildcard_domain(scheme, host, f":{port}" if port else "", raw)
            return OriginEntry("wildcard", raw, scheme, host, port)
    return parse_origin_entry(raw)


def _methods_of(methods: Iterable[str]) -> tuple[bool, frozenset[str], str]:
    return "*" in methods, frozenset(m for m in methods if m != "*"), ", ".join(methods)


def _headers_of(headers: Iterable[str]) -> tuple[bool, frozenset[str], str]:
    return (
        "*" in headers,
        frozenset(h.lower() for h in headers if h != "*"),
        ", ".join(h for h in headers if h != "*"),
    )


_Headers = tuple[tuple[str, str], ...]


def _answers_of(key: tuple[bool, Any, bool, Any]) -> tuple[_Headers, _Headers]:
    """The headers every allowed actual request gets, and the end of every preflight answer."""
    credentials, expose, timing_any, max_age = key
    actual: list[tuple[str, str]] = []
    tail: list[tuple[str, str]] = []
    if credentials:
        actual.append(("Access-Control-Allow-Credentials", "true"))
        tail.append(("Access-Control-Allow-Credentials", "true"))
    if expose:
        actual.append(("Access-Control-Expose-Headers", ", ".join(expose)))
    if timing_any:
        actual.append(("Timing-Allow-Origin", "*"))
    if max_age is not None and max_age >= 0:  # a negative row (written around the validators) sends none
        tail.append(("Access-Control-Max-Age", str(max_age)))
    return tuple(actual), tuple(tail)


_parsed_entry = functools.lru_cache(maxsize=_REMEMBERED * 4)(_quick_entry)
_origins = functools.lru_cache(maxsize=_REMEMBERED)(_origins_of)
_methods = functools.lru_cache(maxsize=_REMEMBERED)(_methods_of)
_headers = functools.lru_cache(maxsize=_REMEMBERED)(_headers_of)
_answers = functools.lru_cache(maxsize=_REMEMBERED)(_answers_of)


class CompiledPolicy:
    """A policy with everything a request needs prepared: sets, suffixes, regexes, header strings."""

    __slots__ = (
        "actual_headers",
        "any_header",
        "any_method",
        "any_origin",
        "credentials",
        "csrf_trusted",
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
        "timing",
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

        self.any_origin, self.exact_origins, self.wildcards = _shared(_origins, _origins_of, spec.allowed_origins)
        if self.any_origin and spec.allow_credentials:
            # The validators refuse this; a row written around them must still never answer
            # "Access-Control-Allow-Origin: *" with credentials.
            raise OriginError("'*' cannot be used with credentials; list the origins that need credentials instead")
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

        self.any_method, self.methods, self.methods_header = _shared(_methods, _methods_of, spec.allowed_methods)
        self.any_header, self.headers, self.headers_header = _shared(_headers, _headers_of, spec.allowed_headers)
        self.credentials = spec.allow_credentials
        self.private_network = spec.allow_private_network
        #: CSRF trust only for origins a person named with credentials: never '*', 'null' or a regex (the
        #: validators refuse those; a row written around them is not trusted).
        self.csrf_trusted = bool(
            spec.csrf_trusted
            and spec.allow_credentials
            and not self.any_origin
            and self.origin_regexes is None
            and "null" not in self.exact_origins
            and (self.exact_origins or self.wildcards)
        )
        #: Timing-Allow-Origin echoes the allowed origin (a "*" policy's answer is a constant "*").
        self.timing = bool(spec.timing_allow_origin)
        expose = spec.expose_headers
        # An int or None (a row's max_age): remembered (1 and True would be one key, so nothing else is).
        self.actual_headers, self.preflight_tail = _shared(
            _answers if spec.max_age is None or type(spec.max_age) is int else _answers_of,
            _answers_of,
            (
                bool(spec.allow_credentials),
                tuple(expose) if type(expose) is list else expose,
                self.timing and self.any_origin,
                spec.max_age,
            ),
        )
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
