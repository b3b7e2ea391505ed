"""Questions the admin asks about policies, answered from plain data (no ORM, no settings).

* :func:`find_shadows`: which policies with higher precedence win over a policy for some of its paths.
* :func:`preview`: the exact headers a policy sends for a sample preflight and a sample actual request.
* :func:`sample_path` and :func:`sample_origin`: a concrete path and origin a policy covers.

Precedence is the engine's (``CompiledPolicy.sort_key``) and every verdict is the engine's: this module
only chooses what to ask it.

Shadowing is computed segment by segment, which is exact for what the admin can store except regexes:

* a literal path is shadowed when the other policy's pattern (of any kind) matches that path;
* a glob is shadowed completely when the other glob covers it (every path it matches, the other matches
  too: ``/api/**`` covers ``/api/items/*``; ``/**`` covers everything), and partly where the two globs
  overlap (``/api/items/*`` wins over ``/api/**`` on ``/api/items/*``);
* where a regular expression is involved on either side, the two patterns are compared on sample paths
  (the glob with ``example`` for each wildcard, the regex's literal prefix): a warning then says "such as"
  and may miss overlaps that no sample shows.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .engine import (
    KIND_GLOB,
    KIND_LITERAL,
    KIND_REGEX,
    SAFELISTED_METHODS,
    CompiledPolicy,
    Decision,
    OriginError,
    PatternError,
    PolicySet,
    PolicySpec,
    beats,
    parse_origin_entry,
    parse_request_origin,
)
from .regex import RegexError, compile_regex

__all__ = [
    "ANY_ORIGIN_SAMPLE",
    "PolicyWarning",
    "Preview",
    "SampleRequest",
    "Shadow",
    "covers",
    "find_shadows",
    "overlap",
    "policy_warnings",
    "preview",
    "sample_origin",
    "sample_path",
    "sample_paths",
]

#: The origin used to show what a policy answers when it allows any origin (``*``).
ANY_ORIGIN_SAMPLE = "https://www.example.com"
#: What stands for a wildcard segment in sample paths, and for the label of a subdomain wildcard.
SAMPLE_SEGMENT = "example"
SAMPLE_LABEL = "www"

Globs = tuple[tuple[str, ...], ...]


# --------------------------------------------------------------------------------------------------
# Glob algebra: a glob is a tuple of segments, each literal text, "*" (one non-empty segment) or "**"
# (zero or more segments of any text), exactly as the engine compiles them.
# --------------------------------------------------------------------------------------------------


def segments(pattern: str) -> tuple[str, ...]:
    """``/api/*/x`` → ``("api", "*", "x")``."""
    return tuple(pattern[1:].split("/"))


def _join(segs: Sequence[str]) -> str:
    return "/" + "/".join(segs)


@functools.lru_cache(maxsize=4096)
def _covers(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    if not outer:
        return not inner
    head = outer[0]
    if head == "**":
        # "**" matches nothing, or absorbs inner's first segment (whatever it is) and maybe more.
        return _covers(outer[1:], inner) or (bool(inner) and _covers(outer, inner[1:]))
    if not inner or inner[0] == "**":
        return False  # outer needs exactly one segment here; inner may give none, or several
    first = inner[0]
    ok = first != "" if head == "*" else head == first
    return ok and _covers(outer[1:], inner[1:])


def covers(outer: str, inner: str) -> bool:
    """True when every path the glob ``inner`` matches is matched by the glob ``outer`` too."""
    return _covers(segments(outer), segments(inner))


def _meet(a: str, b: str) -> str | None:
    """The segments both single-segment items match: a literal, ``*``, or nothing (None)."""
    if a == "*":
        return b if b != "" else None
    if b == "*":
        return a if a != "" else None
    return a if a == b else None


def _prefix(head: str, tails: frozenset[tuple[str, ...]]) -> set[tuple[str, ...]]:
    return {(head, *tail) for tail in tails}


@functools.lru_cache(maxsize=4096)
def _intersect(a: tuple[str, ...], b: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """Globs whose union is exactly the set of segment sequences both ``a`` and ``b`` match."""
    if not a or not b:
        rest = a or b
        return frozenset({()}) if all(seg == "**" for seg in rest) else frozenset()
    x, y = a[0], b[0]
    found: set[tuple[str, ...]] = set()
    if x == "**" and y == "**":
        # Whichever "**" stops first, the other goes on: the union of **/(a' & b) and **/(a & b').
        found |= _prefix("**", _intersect(a[1:], b))
        found |= _prefix("**", _intersect(a, b[1:]))
    elif x == "**" or y == "**":
        star, other = (a, b) if x == "**" else (b, a)
        found |= _intersect(star[1:], other)  # "**" matches nothing
        found |= _prefix(other[0], _intersect(star, other[1:]))  # "**" takes other's segment and maybe more
    else:
        meet = _meet(x, y)
        if meet is not None:
            found |= _prefix(meet, _intersect(a[1:], b[1:]))
    return frozenset(found)


def _collapse(glob: tuple[str, ...]) -> tuple[str, ...]:
    """``**/**`` matches what ``**`` matches."""
    out: list[str] = []
    for seg in glob:
        if seg == "**" and out and out[-1] == "**":
            continue
        out.append(seg)
    return tuple(out)


def _minimal(globs: Iterable[tuple[str, ...]]) -> Globs:
    """Drop globs another one covers; sort the rest for stable messages."""
    unique = sorted({_collapse(glob) for glob in globs if glob})
    kept = [g for g in unique if not any(other != g and _covers(other, g) for other in unique)]
    return tuple(kept)


def overlap(a: str, b: str) -> list[str]:
    """Globs (as patterns) covering exactly the paths both globs match; empty when they are disjoint."""
    return [_join(glob) for glob in _minimal(_intersect(segments(a), segments(b)))]


# --------------------------------------------------------------------------------------------------
# Samples
# --------------------------------------------------------------------------------------------------

_REGEX_META = set(".^$*+?{}[]|()\\")


def _regex_literal_prefix(source: str) -> str:
    """The literal text a ``^...`` regex starts with: ``^/api/v[12]/`` → ``/api/v``; ``\\.`` is a dot."""
    text = source[1:]
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and not text[index + 1].isalnum():
            out.append(text[index + 1])
            index += 2
            continue
        if char in _REGEX_META:
            break
        out.append(char)
        index += 1
    literal = "".join(out)
    # A quantifier applies to the character before it, which then is not certain to be there.
    if index < len(text) and text[index] in "*?{" and literal:
        literal = literal[:-1]
    return literal


def sample_paths(pattern: str) -> list[str]:
    """A few concrete paths ``pattern`` matches (may be empty for a regex we cannot sample)."""
    try:
        compiled = CompiledPolicy(PolicySpec(id=0, name="", path_pattern=pattern))
    except (PatternError, ValueError):
        return []
    kind = compiled.pattern.kind
    if kind == KIND_LITERAL:
        return [pattern]
    if kind == KIND_GLOB:
        segs = segments(pattern)
        filled = [SAMPLE_SEGMENT if seg in ("*", "**") else seg for seg in segs]
        shortest = [seg for seg in segs if seg != "**"]
        shortest = [SAMPLE_SEGMENT if seg == "*" else seg for seg in shortest]
        candidates = [_join(filled), _join(shortest) if shortest else "/"]
    else:
        prefix = _regex_literal_prefix(pattern)
        if not prefix.startswith("/"):
            prefix = "/" + prefix
        candidates = [prefix, prefix.rstrip("/") + "/" + SAMPLE_SEGMENT, prefix + SAMPLE_SEGMENT]
    return [path for path in dict.fromkeys(candidates) if compiled.matches_path(path)]


def sample_path(pattern: str) -> str | None:
    """One concrete path ``pattern`` matches: ``/api/**`` → ``/api/example``; None if none is known."""
    paths = sample_paths(pattern)
    return paths[0] if paths else None


def sample_origin(origins: Iterable[str]) -> str | None:
    """An origin the list allows: the first valid entry, made concrete (``*.example.com`` → ``www.``)."""
    for raw in origins:
        try:
            entry = parse_origin_entry(raw)
        except (OriginError, TypeError):
            continue
        if entry.kind == "any":
            return ANY_ORIGIN_SAMPLE
        if entry.kind == "wildcard":
            port = f":{entry.port}" if entry.port else ""
            return f"{entry.scheme}://{SAMPLE_LABEL}.{entry.domain}{port}"
        return entry.value
    return None


# --------------------------------------------------------------------------------------------------
# Shadowing
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shadow:
    """``winner`` takes precedence over the analysed policy on ``paths``.

    ``complete``: on every path the analysed policy matches (it never applies). ``approximate``: found on
    sample paths because a regular expression is involved, so ``paths`` are examples.
    """

    winner: PolicySpec
    paths: tuple[str, ...]
    complete: bool
    approximate: bool
    reason: str

    @property
    def message(self) -> str:
        who = f"Policy {self.winner.name!r} ({self.winner.path_pattern}, priority {self.winner.priority})"
        if self.complete:
            what = "takes precedence on every path this policy matches, so this policy never applies"
        elif self.approximate:
            what = (
                f"takes precedence on some paths this policy matches, such as {', '.join(self.paths)} "
                "(a regular expression is involved: checked on sample paths only)"
            )
        else:
            what = f"takes precedence on the paths matching {', '.join(self.paths)}"
        return f"{who} {what}. Why: {self.reason}."


def _shadow(winner: CompiledPolicy, target: CompiledPolicy) -> Shadow | None:
    spec = winner.spec
    reason = beats(winner, target)
    t_kind, w_kind = target.pattern.kind, winner.pattern.kind
    source = target.pattern.source
    if t_kind == KIND_LITERAL:
        if winner.matches_path(source):
            return Shadow(spec, (source,), True, False, reason)
        return None
    if w_kind == KIND_GLOB and all(seg == "**" for seg in segments(winner.pattern.source)):
        return Shadow(spec, (source,), True, False, reason)  # a catch-all
    if KIND_REGEX not in (t_kind, w_kind):  # a literal path is a glob without wildcards
        if covers(winner.pattern.source, source):
            return Shadow(spec, (source,), True, False, reason)
        paths = overlap(winner.pattern.source, source)
        return Shadow(spec, tuple(paths), False, False, reason) if paths else None
    hits = tuple(path for path in sample_paths(source) if winner.matches_path(path))
    return Shadow(spec, hits, False, True, reason) if hits else None


def find_shadows(target: PolicySpec, others: Iterable[PolicySpec]) -> list[Shadow]:
    """The policies among ``others`` that win over ``target`` on some of its paths, best first.

    Pass the enabled policies as ``others`` (disabled ones never apply); ``target`` itself is skipped
    by id. Policies that do not compile are ignored: the snapshot skips them too.
    """
    try:
        compiled = CompiledPolicy(target)
    except (PatternError, OriginError, TypeError, ValueError):
        return []
    rivals = PolicySet.build(spec for spec in others if spec.id != target.id).policies
    found = []
    for rival in rivals:  # in precedence order
        if rival.sort_key >= compiled.sort_key:
            break
        shadow = _shadow(rival, compiled)
        if shadow is not None:
            found.append(shadow)
    return found


# --------------------------------------------------------------------------------------------------
# Header preview
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleRequest:
    """A request a browser could send, described in its own words, with the engine's decision."""

    title: str
    request_lines: tuple[str, ...]
    decision: Decision


@dataclass
class Preview:
    """What a policy answers for a sample preflight and a sample actual request."""

    origin: str | None
    path: str | None
    samples: list[SampleRequest] = field(default_factory=list)
    errors: tuple[str, ...] = ()


def _sample_method(methods: Sequence[str]) -> str:
    """A method worth a preflight: the first listed one that is not safelisted, else the first one."""
    listed = [method for method in methods if method != "*"]
    for method in listed:
        if method not in SAFELISTED_METHODS:
            return method
    if listed:
        return listed[0]
    return "PUT" if "*" in methods else "GET"


def _sample_headers(headers: Sequence[str]) -> list[str]:
    listed = [header for header in headers if header != "*"]
    if not listed and "*" in headers:
        return ["X-Requested-With"]
    return listed


def preview(spec: PolicySpec) -> Preview:
    """The headers ``spec`` sends, computed by the engine for requests from its first listed origin.

    A report-only spec is previewed as it would answer once enforced (as such it never answers).
    """
    if spec.report_only:
        spec = replace(spec, report_only=False)
    policy_set = PolicySet.build([spec])
    if policy_set.errors:
        return Preview(None, None, errors=policy_set.errors)
    origin = sample_origin(spec.allowed_origins)
    path = sample_path(spec.path_pattern)
    result = Preview(origin, path)
    if origin is None:
        return result
    policy = policy_set.policies[0]
    shown_path = path if path is not None else f"(a path matching {spec.path_pattern})"
    method = _sample_method(spec.allowed_methods)
    headers = _sample_headers(spec.allowed_headers)
    private = spec.allow_private_network

    request_lines = [
        f"OPTIONS {shown_path}",
        f"Origin: {origin}",
        f"Access-Control-Request-Method: {method}",
    ]
    if headers:
        request_lines.append(f"Access-Control-Request-Headers: {','.join(sorted(h.lower() for h in headers))}")
    if private:
        request_lines.append("Access-Control-Request-Private-Network: true")
    if path is not None:
        preflight = policy_set.simulate(
            origin=origin, method=method, path=path, request_headers=headers, preflight=True, private_network=private
        )
        actual = policy_set.simulate(origin=origin, method="GET", path=path)
    else:  # a regex we could not sample: ask the policy directly, as the middleware would once matched
        preflight = policy_set.decide(
            policy,
            origin=origin,
            method="OPTIONS",
            request_method=method,
            request_headers=headers,
            private_network=private,
        )
        actual = policy_set.decide(policy, origin=origin, method="GET")
    result.samples.append(SampleRequest(f"Preflight for a {method} request", tuple(request_lines), preflight))
    result.samples.append(
        SampleRequest("Actual request", (f"GET {shown_path}", f"Origin: {origin}"), actual),
    )
    return result


# --------------------------------------------------------------------------------------------------
# Misconfiguration warnings
# --------------------------------------------------------------------------------------------------
#
# Not errors: each of these can be what an operator means, but each has hurt someone who did not mean it,
# so the admin and the API say so next to the policy, with the safer alternative. Where a warning claims a
# regex allows some origin, that origin was built and then checked with the regex itself (as the engine
# checks it: a full match), so the example shown is never made up.


@dataclass(frozen=True)
class PolicyWarning:
    """One misconfiguration: a stable ``code`` for programs, a ``message`` naming the safer alternative."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


#: Hosts whose traffic never leaves the machine: plain http there cannot be intercepted on the network.
_LOOPBACK_HOST = re.compile(r"localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.localhost|127(?:\.[0-9]{1,3}){3}|\[::1\]")
#: What a probe puts where a regex repeats: text an attacker can choose for a domain of their own.
_ATTACKER_LABEL = "evil"
_ATTACKER_SUFFIX = ".evil.net"


def _is_loopback(host: str) -> bool:
    return _LOOPBACK_HOST.fullmatch(host) is not None


def _compile(regex: str) -> Any:
    """The RE2 regex, or None when it does not compile (the validators say so)."""
    try:
        return compile_regex(regex)
    except RegexError:
        return None


def _fullmatch(compiled: Any, text: str) -> bool:
    return compiled.fullmatch(text) is not None


# A regex read just far enough to write one text it matches: a node is ("lit", char), ("class", char),
# ("dot",), ("empty",), ("group", alternatives) or ("repeat", node, low, high). Anything else (negated
# classes, Unicode classes, unusual groups) gives up: the probes then say nothing rather than guess.
_Node = tuple[Any, ...]
_HOST_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
_ESCAPE_CLASSES = {"d": "0123456789", "w": "abcdefghijklmnopqrstuvwxyz0123456789_"}
_EMPTY_ESCAPES = set("bBAz")


class _GiveUp(Exception):
    pass


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0

    def peek(self) -> str:
        return self.text[self.index] if self.index < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise _GiveUp
        self.index += 1
        return char

    def alternatives(self) -> list[list[_Node]]:
        branches: list[list[_Node]] = [[]]
        while self.peek() not in ("", ")"):
            if self.peek() == "|":
                self.index += 1
                branches.append([])
                continue
            branches[-1].append(self.quantified(self.atom()))
        return branches

    def atom(self) -> _Node:
        char = self.take()
        if char in "^$":
            return ("empty",)
        if char == ".":
            return ("dot",)
        if char == "[":
            return ("class", self.charset())
        if char == "(":
            if self.text.startswith("?", self.index):
                head = self.text[self.index :]
                name = re.match(r"\?P?<[A-Za-z_][A-Za-z0-9_]*>", head)
                flags = re.match(r"\?[imsU-]+([:)])", head)
                if name:
                    self.index += name.end()
                elif flags and flags.group(1) == ")":
                    self.index += flags.end()
                    return ("empty",)
                elif flags or head.startswith("?:"):
                    self.index += flags.end() if flags else 2
                else:
                    raise _GiveUp
            branches = self.alternatives()
            if self.take() != ")":
                raise _GiveUp  # pragma: no cover - RE2 compiled it, so the parentheses balance
            return ("group", branches)
        if char == "\\":
            escaped = self.take()
            if escaped in _EMPTY_ESCAPES:
                return ("empty",)
            if escaped in _ESCAPE_CLASSES:
                return ("class", _ESCAPE_CLASSES[escaped][0])
            if escaped.isalnum():
                raise _GiveUp  # \s, \pL, \x41...: not worth guessing
            return ("lit", escaped)
        return ("lit", char)

    def charset(self) -> str:
        """A character of a [...] class that fits in a host, preferring a letter."""
        if self.peek() == "^":
            raise _GiveUp  # a negated set: probes do not guess what it lets through
        members: list[tuple[str, str]] = []
        first = True
        while first or self.peek() != "]":
            first = False
            char = self.take()
            if char == "\\":
                escaped = self.take()
                if escaped in _ESCAPE_CLASSES:
                    members.extend((c, c) for c in _ESCAPE_CLASSES[escaped])
                    continue
                if escaped.isalnum():
                    raise _GiveUp
                char = escaped
            if self.peek() == "-" and self.text[self.index + 1 : self.index + 2] not in ("]", ""):
                self.index += 1
                end = self.take()
                if end == "\\":
                    end = self.take()
                members.append((char, end))
            else:
                members.append((char, char))
        self.index += 1
        for preferred in _HOST_CHARS:
            if any(low <= preferred <= high for low, high in members):
                return preferred
        raise _GiveUp

    def quantified(self, node: _Node) -> _Node:
        while True:
            char = self.peek()
            if char in ("*", "+", "?"):
                self.index += 1
                low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
            elif char == "{" and (bounds := re.match(r"\{(\d+)(,(\d*))?\}", self.text[self.index :])):
                self.index += bounds.end()
                low = int(bounds.group(1))
                high = low if bounds.group(2) is None else (int(bounds.group(3)) if bounds.group(3) else None)
            else:
                return node
            if self.peek() == "?":
                self.index += 1  # lazy: matches the same texts
            node = ("repeat", node, low, high)


def _read(regex: str) -> list[_Node] | None:
    reader = _Reader(regex)
    try:
        branches = reader.alternatives()
    except _GiveUp:
        return None
    if reader.peek():
        return None  # pragma: no cover - an unbalanced ')' does not compile
    return [("group", branches)]


class _Sampler:
    """Writes one text a read regex matches, with chosen text at chosen repeats and dots (the probes).

    Nodes are numbered in the order the walk meets them, so a second walk with ``overrides`` (node number
    -> text) writes the same sample except there. A repeat is written ``low`` times (``minimal``) or at
    least once. ``mask`` marks each character of the sample ``L`` when the regex spells it out (a literal,
    or a lone '.' taken as the dot it was probably meant to be) and ``N`` when the regex only allows it.
    """

    def __init__(self, overrides: dict[int, str] | None = None, *, minimal: bool = False) -> None:
        self.overrides = overrides or {}
        self.minimal = minimal
        self.counter = 0
        self.depth = 0  # repeats around the current node
        self.repeats: list[int] = []  # repeats whose text a probe may replace
        self.dots: list[int] = []  # lone '.' outside repeats: meant as a literal dot, more often than not

    def nodes(self, nodes: list[_Node]) -> tuple[str, str]:
        text, mask = [], []
        for node in nodes:
            part = self.node(node)
            text.append(part[0])
            mask.append(part[1])
        return "".join(text), "".join(mask)

    def node(self, node: _Node) -> tuple[str, str]:
        self.counter += 1
        number = self.counter
        kind = node[0]
        if kind == "lit":
            return node[1], "L"
        if kind == "class":
            return node[1], "N"
        if kind == "dot":
            if self.depth:
                return "a", "N"
            self.dots.append(number)
            return (self.overrides[number], "N") if number in self.overrides else (".", "L")
        if kind == "group":
            return self.nodes(node[1][0])
        if kind == "repeat":
            _kind, body, low, high = node
            if high is None or high > 1:
                self.repeats.append(number)
            self.depth += 1
            inner = self.node(body)
            self.depth -= 1
            if number in self.overrides:
                return self.overrides[number], "N" * len(self.overrides[number])
            times = low if self.minimal else max(low, min(1 if high is None else high, 1))
            return inner[0] * times, (inner[1] if high == 1 else "N" * len(inner[1])) * times
        return "", ""


def _sample(nodes: list[_Node], compiled: Any, overrides: dict[int, str] | None = None) -> tuple[str, str] | None:
    """A serialized origin the regex fully matches, with its mask: the shortest sample if it is one."""
    for minimal in (True, False):
        text, mask = _Sampler(overrides, minimal=minimal).nodes(nodes)
        if parse_request_origin(text) is not None and _fullmatch(compiled, text):
            return text, mask
    return None


def _widening_probes(regex: str) -> list[tuple[str, str]]:
    """Origins ``regex`` allows beyond the domain it spells out, as (kind, origin): ``dot`` when an
    unescaped '.' lets another character stand for a dot, ``repeat`` when a repeat lets a label or a
    suffix grow into another domain. Each origin is a serialized origin the regex fully matches."""
    compiled = _compile(regex)
    nodes = _read(regex) if compiled is not None else None
    if nodes is None:
        return []
    sample = _sample(nodes, compiled)
    if sample is None:
        return []
    text, mask = sample
    host_start = text.index("://") + 3
    host = text[host_start:].split(":", 1)[0] if not text[host_start:].startswith("[") else ""
    host_mask = mask[host_start : host_start + len(host)]
    # The domain the regex spells out: the literal end of the host, from the start of a label.
    spelled = host[len(host_mask.rstrip("L")) :]
    if spelled != host:
        spelled = spelled.split(".", 1)[1] if "." in spelled else ""
    walker = _Sampler()
    walker.nodes(nodes)
    found: list[tuple[str, str]] = []
    for number in walker.dots:
        probe = _Sampler({number: "x"}).nodes(nodes)[0]
        if _allows_another_domain(compiled, probe, spelled):
            found.append(("dot", probe))
            break
    for number in walker.repeats:
        probes = (_Sampler({number: text}).nodes(nodes)[0] for text in (_ATTACKER_SUFFIX, _ATTACKER_LABEL))
        hit = next((probe for probe in probes if _allows_another_domain(compiled, probe, spelled)), None)
        if hit is not None:
            found.append(("repeat", hit))
            break
    return found


def _allows_another_domain(compiled: Any, probe: str, domain: str) -> bool:
    """``probe`` is an origin the regex allows whose host is neither ``domain`` nor below it (so someone
    other than the owner of ``domain`` may hold it)."""
    parsed = parse_request_origin(probe)
    if parsed is None or not _fullmatch(compiled, probe):
        return False
    host = parsed[1]
    return not domain or (host != domain and not host.endswith("." + domain))


def _http_variant(regex: str) -> str | None:
    """An http:// origin ``regex`` allows on a non-loopback host, if its own sample has one."""
    compiled = _compile(regex)
    nodes = _read(regex) if compiled is not None else None
    if nodes is None:
        return None
    sample = _sample(nodes, compiled)
    if sample is None:
        return None
    for candidate in (sample[0], "http://" + sample[0].split("://", 1)[-1]):
        origin = parse_request_origin(candidate)
        if origin and origin[0] == "http" and not _is_loopback(origin[1]) and _fullmatch(compiled, candidate):
            return candidate
    return None


def _matches_every_path(pattern: str) -> bool:
    try:
        compiled = CompiledPolicy(PolicySpec(id=0, name="", path_pattern=pattern))
    except (PatternError, TypeError, ValueError):
        return False
    return all(compiled.matches_path(path) for path in ("/", "/admin/login/", "/accounts/password/reset/", "/x"))


def _listing(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def policy_warnings(spec: PolicySpec) -> list[PolicyWarning]:
    """Misconfigurations of one policy, each with its safer alternative; empty when there are none.

    Entries that do not parse are left to the validators (they refuse them); this looks at what is valid.
    """
    found: list[PolicyWarning] = []
    entries = []
    for raw in spec.allowed_origins:
        try:
            entries.append(parse_origin_entry(raw))
        except (OriginError, TypeError):
            continue
    kinds = {entry.kind for entry in entries}

    if "null" in kinds:
        found.append(
            PolicyWarning(
                "null_origin",
                "null is allowed: any page can send Origin: null (a sandboxed iframe, a data: or file: document, "
                "some redirects), so this trusts anyone who asks that way. Remove null and list the real origins "
                "of your pages, such as https://app.example.com.",
            )
        )

    if spec.allow_credentials:
        plain = [e.value for e in entries if e.kind in ("exact", "wildcard") and e.scheme == "http"]
        plain = [value for value in plain if not _is_loopback(value.split("://", 1)[1].rsplit(":", 1)[0])]
        regex_examples = [example for example in map(_http_variant, spec.allowed_origin_regexes) if example]
        if plain or regex_examples:
            shown = plain + [f"{example} (by a regex)" for example in regex_examples]
            safer = [("https://" + value.split("://", 1)[1]) for value in plain + regex_examples]
            noun = "origin" if len(shown) == 1 else "origins"
            found.append(
                PolicyWarning(
                    "http_with_credentials",
                    f"Credentials are allowed for the plain-http {noun} {_listing(shown)}: anyone on the network "
                    "path (public Wi-Fi, a proxy) can inject a script into such a page and read your users' data "
                    f"with their cookies. Allow {_listing(safer)} instead.",
                )
            )
        if "*" in spec.allowed_methods:
            found.append(
                PolicyWarning(
                    "any_method_with_credentials",
                    "Allowed methods * with credentials lets the allowed origins send any method, DELETE included, "
                    "with your users' cookies. List the methods your front end uses, such as GET, POST, PUT.",
                )
            )
        if "*" in spec.allowed_headers:
            found.append(
                PolicyWarning(
                    "any_header_with_credentials",
                    "Allowed headers * with credentials lets the allowed origins send any request header (except "
                    "Authorization) with your users' cookies. List the headers your front end sends, such as "
                    "Content-Type, X-CSRFToken.",
                )
            )

    for regex in spec.allowed_origin_regexes:
        if not isinstance(regex, str):
            continue
        for kind, example in _widening_probes(regex):
            if kind == "dot":
                found.append(
                    PolicyWarning(
                        "regex_unescaped_dot",
                        f"The regex {regex!r} also allows {example}: an unescaped '.' matches any character. "
                        r"Write \. for a literal dot, or list the origin exactly in allowed origins.",
                    )
                )
            else:
                found.append(
                    PolicyWarning(
                        "regex_too_broad",
                        f"The regex {regex!r} also allows {example}, a domain anyone can register: a repeat there "
                        r"can grow into another domain. End the repeat at a dot, as in ^https://([a-z0-9-]+\.)*"
                        r"example\.com$, or use a subdomain wildcard such as https://*.example.com.",
                    )
                )

    if "any" in kinds and _matches_every_path(spec.path_pattern):
        found.append(
            PolicyWarning(
                "catch_all_any_origin",
                f"{spec.path_pattern} with origin * lets every web page read the responses of every path of the "
                "site (without cookies), including paths added later. Narrow the path pattern to what is public, "
                "such as /api/public/**.",
            )
        )
    return found
