"""Concrete paths and origins a policy covers: what the preview, the tester and the shadow analysis ask about.

A glob's sample writes ``example`` for each wildcard; a regex's starts from its literal prefix. Every sample
path is one the engine itself matches (checked with the compiled pattern), so a sample is never made up.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..engine import (
    KIND_GLOB,
    KIND_LITERAL,
    CompiledPolicy,
    OriginError,
    PatternError,
    PolicySpec,
    parse_origin_entry,
)
from .globs import join, segments
from .regex_samples import literal_prefix

__all__ = [
    "ANY_ORIGIN_SAMPLE",
    "SAMPLE_LABEL",
    "SAMPLE_SEGMENT",
    "path_policy",
    "sample_origin",
    "sample_path",
    "sample_paths",
]

#: The origin used to show what a policy answers when it allows any origin (``*``).
ANY_ORIGIN_SAMPLE = "https://www.example.com"
#: What stands for a wildcard segment in sample paths, and for the label of a subdomain wildcard.
SAMPLE_SEGMENT = "example"
SAMPLE_LABEL = "www"


def path_policy(pattern: str) -> CompiledPolicy | None:
    """A policy with only ``pattern``, to match paths exactly as the engine does; None if it does not compile."""
    try:
        return CompiledPolicy(PolicySpec(id=0, name="", path_pattern=pattern))
    except (PatternError, TypeError, ValueError):
        return None


def sample_paths(pattern: str) -> list[str]:
    """A few concrete paths ``pattern`` matches (may be empty for a regex we cannot sample)."""
    compiled = path_policy(pattern)
    if compiled is None:
        return []
    kind = compiled.pattern.kind
    if kind == KIND_LITERAL:
        return [pattern]
    if kind == KIND_GLOB:
        segs = segments(pattern)
        filled = [SAMPLE_SEGMENT if seg in ("*", "**") else seg for seg in segs]
        shortest = [seg for seg in segs if seg != "**"]
        shortest = [SAMPLE_SEGMENT if seg == "*" else seg for seg in shortest]
        candidates = [join(filled), join(shortest) if shortest else "/"]
    else:
        prefix = literal_prefix(pattern)
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
