"""A policy: as plain data (:class:`PolicySpec`, what the snapshot loader reads) and compiled
(:class:`CompiledPolicy`, with everything a request needs prepared)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ..regex import RegexSet, encode, program_size
from .limits import MAX_ORIGIN_REGEX_PROGRAM, MAX_REGEX_ORIGIN_LENGTH, MAX_REGEX_PATH_LENGTH
from .origins import OriginError, parse_origin_entry, parse_request_origin
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

        actual: list[tuple[str, str]] = []
        tail: list[tuple[str, str]] = []
        if spec.allow_credentials:
            actual.append(("Access-Control-Allow-Credentials", "true"))
            tail.append(("Access-Control-Allow-Credentials", "true"))
        if spec.expose_headers:
            actual.append(("Access-Control-Expose-Headers", ", ".join(spec.expose_headers)))
        if self.timing and self.any_origin:
            actual.append(("Timing-Allow-Origin", "*"))
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
