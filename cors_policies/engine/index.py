"""What a policy set is indexed by: the literal paths, the glob tries and the regex automaton, admitted
within the budgets (:mod:`~cors_policies.engine.limits`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..regex import RegexSet, encode, program_size
from .limits import MAX_GLOB_STEPS, MAX_REGEX_PATH_LENGTH, MAX_REGEX_PATH_PROGRAM
from .paths import KIND_GLOB, PatternError, parsed_path_pattern
from .policy import CompiledPolicy
from .trie import _add, _grown, _Node

__all__ = ["path_costs"]


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
