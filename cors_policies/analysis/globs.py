"""Glob algebra: which paths two path globs share, and whether one covers the other.

A glob is a tuple of segments, each literal text, ``*`` (one non-empty segment) or ``**`` (zero or more
segments of any text), exactly as the engine compiles them; a literal path is a glob without wildcards.
Exact for what the admin can store except regexes (tests/test_analysis_globs.py checks it against the
engine's own matching).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

__all__ = ["Globs", "covers", "join", "overlap", "segments"]

Globs = tuple[tuple[str, ...], ...]


def segments(pattern: str) -> tuple[str, ...]:
    """``/api/*/x`` → ``("api", "*", "x")``."""
    return tuple(pattern[1:].split("/"))


def join(segs: Sequence[str]) -> str:
    """``("api", "*")`` → ``/api/*``: the pattern of a glob."""
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
    return [join(glob) for glob in _minimal(_intersect(segments(a), segments(b)))]
