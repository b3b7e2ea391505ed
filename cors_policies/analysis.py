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
from dataclasses import dataclass, field

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
)

__all__ = [
    "ANY_ORIGIN_SAMPLE",
    "Preview",
    "SampleRequest",
    "Shadow",
    "covers",
    "find_shadows",
    "overlap",
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
    except (PatternError, re.error):
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
    except (PatternError, OriginError, re.error, TypeError, ValueError):
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
    """The headers ``spec`` sends, computed by the engine for requests from its first listed origin."""
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
