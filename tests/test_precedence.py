"""The precedence the admin's list sorts by (cors_policies.precedence): the engine's own order, read off the
patterns without compiling them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cors_policies.engine import CompiledPolicy, PatternError, PolicySpec
from cors_policies.precedence import LAST, Ranking, ordered_ids, precedence_key

PATTERNS = [
    "/",
    "/health",
    "/api/",
    "/api/items/5",
    "/**",
    "/*",
    "/api/**",
    "/api/*/items",
    "/api/**/items/*",
    "/api/**/**/x",
    "/a/*/b/**/c/*",
    "/a//b",
    "^/",
    "^/api/v[12]/",
    "^/(admin|api)/",
]
INVALID = ["", "api/**", "/api/v*/x", "/a\x00b", "/a\nb", "^(", "/**x"]


def engine_key(pattern: str, priority: int, pk: int) -> tuple[object, ...] | None:
    try:
        return CompiledPolicy(PolicySpec(id=pk, name="p", path_pattern=pattern, priority=priority)).sort_key
    except (PatternError, ValueError):
        return None


@pytest.mark.parametrize("pattern", PATTERNS + INVALID)
@pytest.mark.parametrize(("priority", "pk"), [(0, 1), (5, 7), (-3, 2)])
def test_the_key_is_the_engines(pattern: str, priority: int, pk: int) -> None:
    assert precedence_key(pattern, priority, pk) == engine_key(pattern, priority, pk)


SEGMENT = st.sampled_from(["api", "items", "*", "**", "", "v1", "x*", "ä", "a.b"])


@given(st.lists(SEGMENT, max_size=6), st.integers(-5, 5), st.integers(1, 100))
def test_the_key_is_the_engines_for_any_glob(segments: list[str], priority: int, pk: int) -> None:
    pattern = "/" + "/".join(segments)
    assert precedence_key(pattern, priority, pk) == engine_key(pattern, priority, pk)


def test_rows_are_ordered_enforced_then_report_only_then_invalid() -> None:
    rows = [
        (1, "/**", 0, False),
        (2, "broken", 9, False),
        (3, "/api/**", 0, True),
        (4, "/api/items", 0, False),
        (5, "/api/*", 0, False),
        (6, "/x", 0, True),
        (7, "/**", 1, False),
    ]
    rank = Ranking(None, {}, {})
    assert ordered_ids(rows, rank) == [7, 4, 5, 1, 6, 3, 2]
    assert ordered_ids(rows, rank, descending=True) == [2, 3, 6, 1, 5, 4, 7]
    assert rank.order_key(2, "broken", 9, False) == LAST
