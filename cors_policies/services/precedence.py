"""Precedence for pages that list policies: the engine's order, without compiling thousands of policies per page.

The admin's list is sorted in the order the engine tries policies, and its "#" column says where each enabled
one stands. Building a PolicySet of every row for every page view (and handing the order to the database as a
``CASE`` with one branch per policy) made the page quadratic: 3.7 s at 10,000 policies, 97 s at 52,000. Here
the ranks come from the snapshot this process already serves (what "#" means: the order a request is matched
in), and the order of the other rows (disabled ones) from :func:`precedence_key`, which reads the engine's sort
key off the pattern's text in microseconds. Ranking N rows is then one query for four columns and a sort.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..engine import KIND_GLOB, KIND_LITERAL, KIND_REGEX, PatternError, PolicySet, parse_path_pattern
from ..snapshot import snapshot

__all__ = ["LAST", "Ranking", "ordered_ids", "precedence_key", "ranking"]

_CONTROL = re.compile("[\x00-\x1f\x7f]")
#: The sort key of a row whose pattern the engine refuses: after every other row.
LAST: tuple[Any, ...] = (1,)


def precedence_key(pattern: Any, priority: int, pk: int) -> tuple[Any, ...] | None:
    """The engine's ``CompiledPolicy.sort_key`` for a valid ``pattern``, read off its text (None when the engine
    would refuse the pattern): priority, then literal < glob < regex, more literal segments, globs without
    ``**`` first, then the lower id. tests/test_precedence.py checks it against the engine's."""
    if not isinstance(pattern, str) or not pattern:
        return None
    if pattern.startswith("^"):
        return (-priority, KIND_REGEX, 0, False, pk) if _compiles(pattern) else None
    if not pattern.startswith("/") or _CONTROL.search(pattern) is not None:
        return None
    segments = pattern[1:].split("/")
    if "*" not in pattern:
        return (-priority, KIND_LITERAL, -len(segments), False, pk)
    literal = 0
    double = False
    for segment in segments:
        if segment == "**":
            double = True
        elif segment != "*":
            if "*" in segment:
                return None
            literal += 1
    return (-priority, KIND_GLOB, -literal, double, pk)


@functools.lru_cache(maxsize=65536)
def _compiles(regex: str) -> bool:
    """Whether the engine compiles a path regex (remembered: a list of 10,000 policies asks on every view)."""
    try:
        parse_path_pattern(regex)
    except (PatternError, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class Ranking:
    """Where each policy of the served set stands: ``serving`` among the enforced ones, ``reporting`` among
    the report-only ones (1-based); ``policy_set`` None when no set could be loaded."""

    policy_set: PolicySet | None
    serving: dict[int, int]
    reporting: dict[int, int]

    def served(self, pk: int) -> bool:
        return pk in self.serving or pk in self.reporting

    def order_key(self, pk: int, pattern: Any, priority: int, report_only: bool) -> tuple[Any, ...]:
        """Enforced policies first, then report-only ones, each in the engine's order; invalid patterns last."""
        key = precedence_key(pattern, priority, pk)
        return LAST if key is None else (0, bool(report_only), key)


_cached: Ranking | None = None


def ranking() -> Ranking:
    """The ranks of the policies this process serves, computed once per snapshot."""
    global _cached
    policy_set = snapshot.get()
    found = _cached
    if found is not None and found.policy_set is policy_set and policy_set is not None:
        return found
    if policy_set is None:
        return Ranking(None, {}, {})
    reports = policy_set.report_only.policies if policy_set.report_only is not None else ()
    found = _cached = Ranking(
        policy_set,
        {policy.id: rank for rank, policy in enumerate(policy_set.policies, start=1)},
        {policy.id: rank for rank, policy in enumerate(reports, start=1)},
    )
    return found


def ordered_ids(rows: Iterable[tuple[int, Any, int, bool]], rank: Ranking, *, descending: bool = False) -> list[int]:
    """Ids of ``rows`` (pk, path pattern, priority, report_only) in precedence order."""
    keyed = sorted(
        ((rank.order_key(pk, pattern, priority, report_only), pk) for pk, pattern, priority, report_only in rows),
        reverse=descending,
    )
    return [pk for _, pk in keyed]
