"""analysis.globs: the glob algebra (covers, overlap), checked against the engine's own matching (no database)."""

from __future__ import annotations

import itertools
from functools import cache

import pytest

from cors_policies.analysis.globs import covers, overlap
from cors_policies.engine import CompiledPolicy, PolicySpec


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("/**", "/api/items/*", True),
        ("/**", "/", True),
        ("/api/**", "/api/items/*", True),
        ("/api/**", "/api", True),
        ("/api/items/*", "/api/**", False),
        ("/api/*", "/api/items", True),
        ("/api/*", "/api/", False),  # '*' is one non-empty segment
        ("/*", "/**", False),
        ("/a/**/z", "/a/b/**/z", True),
        ("/a/**/z", "/a/**", False),
        ("/a/b", "/a/b", True),
        ("/a/b", "/a/c", False),
        ("/a", "/a/b", False),
    ],
)
def test_covers(outer: str, inner: str, expected: bool) -> None:
    assert covers(outer, inner) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("/api/**", "/api/items/*", ["/api/items/*"]),
        ("/api/**", "/**/edit", ["/api/**/edit"]),
        ("/a/*/c", "/a/b/*", ["/a/b/c"]),
        ("/a/**/c", "/a/**/d", []),
        ("/x", "/y/**", []),
        ("/**", "/**", ["/**"]),
        ("/*/b", "/a/*", ["/a/b"]),
    ],
)
def test_overlap(a: str, b: str, expected: list[str]) -> None:
    assert overlap(a, b) == expected
    assert overlap(b, a) == expected


SEGMENTS = ("a", "", "*", "**")
PATTERNS = sorted({"/" + "/".join(p) for n in (1, 2, 3) for p in itertools.product(SEGMENTS, repeat=n)})
PATHS = sorted({"/" + "/".join(p) for n in (1, 2, 3, 4) for p in itertools.product(("a", "b", ""), repeat=n)})


@cache
def matched(pattern: str) -> frozenset[str]:
    """The sample paths the engine itself matches with ``pattern``."""
    policy = CompiledPolicy(PolicySpec(id=0, name="", path_pattern=pattern))
    return frozenset(path for path in PATHS if policy.matches_path(path))


def test_glob_algebra_agrees_with_the_engine() -> None:
    """Over every pattern of up to three segments and every path of up to four: overlap is exactly the
    paths both match, and covers never claims what the engine contradicts (nor misses what it shows)."""
    for a, b in itertools.product(PATTERNS, repeat=2):
        both = matched(a) & matched(b)
        found = frozenset().union(*(matched(glob) for glob in overlap(a, b)))
        assert found == both, (a, b)
        assert covers(a, b) == (matched(b) <= matched(a)), (a, b)
