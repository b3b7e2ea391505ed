"""Shadowing: which policies with higher precedence win over a policy for some of its paths.

Precedence is the engine's (``CompiledPolicy.sort_key``, explained by ``beats``): this module only chooses
what to compare. Shadowing is computed segment by segment, which is exact for what the admin can store
except regexes:

* a literal path is shadowed when the other policy's pattern (of any kind) matches that path;
* a glob is shadowed completely when the other glob covers it (every path it matches, the other matches
  too: ``/api/**`` covers ``/api/items/*``; ``/**`` covers everything), and partly where the two globs
  overlap (``/api/items/*`` wins over ``/api/**`` on ``/api/items/*``);
* where a regular expression is involved on either side, the two patterns are compared on sample paths
  (the glob with ``example`` for each wildcard, the regex's literal prefix): a warning then says "such as"
  and may miss overlaps that no sample shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..engine import (
    KIND_GLOB,
    KIND_LITERAL,
    KIND_REGEX,
    CompiledPolicy,
    OriginError,
    PatternError,
    PolicySet,
    PolicySpec,
    beats,
)
from .globs import covers, overlap, segments
from .samples import sample_paths

__all__ = ["Shadow", "find_shadows"]


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
