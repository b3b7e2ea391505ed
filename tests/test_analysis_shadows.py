"""analysis.shadows: which policies win over a policy on some of its paths, and the message saying why (no
database)."""

from __future__ import annotations

from cors_policies.analysis.shadows import find_shadows
from cors_policies.engine import PolicySpec


def spec(id: int, name: str, pattern: str, priority: int = 0) -> PolicySpec:
    return PolicySpec(id=id, name=name, path_pattern=pattern, priority=priority)


def messages(target: PolicySpec, *others: PolicySpec) -> list[str]:
    return [shadow.message for shadow in find_shadows(target, others)]


def test_literal_path_shadowed_by_a_higher_priority_glob() -> None:
    target = spec(1, "health", "/health")
    (shadow,) = find_shadows(target, [spec(2, "all", "/**", priority=1)])
    assert shadow.complete and not shadow.approximate
    assert shadow.paths == ("/health",)
    assert shadow.message == (
        "Policy 'all' (/**, priority 1) takes precedence on every path this policy matches, so this policy "
        "never applies. Why: higher priority (1 > 0)."
    )


def test_literal_path_is_not_shadowed_by_a_glob_of_equal_priority() -> None:
    assert messages(spec(1, "health", "/health"), spec(2, "all", "/**")) == []


def test_duplicate_literal_loses_to_the_older_one() -> None:
    assert messages(spec(5, "new", "/health"), spec(2, "old", "/health"), spec(3, "other", "/other", priority=9)) == [
        "Policy 'old' (/health, priority 0) takes precedence on every path this policy matches, so this policy "
        "never applies. Why: equal precedence, and the lower id wins (2 < 5)."
    ]


def test_glob_covered_by_a_higher_priority_glob() -> None:
    assert messages(spec(1, "items", "/api/items/*"), spec(2, "api", "/api/**", priority=2)) == [
        "Policy 'api' (/api/**, priority 2) takes precedence on every path this policy matches, so this policy "
        "never applies. Why: higher priority (2 > 0)."
    ]


def test_glob_partly_shadowed_by_more_specific_globs_and_literals() -> None:
    target = spec(1, "api", "/api/**")
    others = [spec(2, "items", "/api/items/*"), spec(3, "edit", "/**/edit", priority=1), spec(4, "ping", "/api/ping")]
    assert messages(target, *others) == [
        "Policy 'edit' (/**/edit, priority 1) takes precedence on the paths matching /api/**/edit. "
        "Why: higher priority (1 > 0).",
        "Policy 'ping' (/api/ping, priority 0) takes precedence on the paths matching /api/ping. "
        "Why: a literal path is more specific than a glob.",
        "Policy 'items' (/api/items/*, priority 0) takes precedence on the paths matching /api/items/*. "
        "Why: more literal segments (2 > 1).",
    ]


def test_single_star_beats_double_star_at_equal_literal_count() -> None:
    assert messages(spec(1, "deep", "/api/**"), spec(2, "one", "/api/*")) == [
        "Policy 'one' (/api/*, priority 0) takes precedence on the paths matching /api/*. "
        "Why: '*' is more specific than '**'."
    ]


def test_disjoint_or_lower_precedence_policies_do_not_shadow() -> None:
    target = spec(1, "api", "/api/**", priority=5)
    others = [spec(2, "web", "/web/**", priority=9), spec(3, "all", "/**"), spec(1, "itself", "/api/**", priority=9)]
    assert find_shadows(target, others) == []


def test_regex_involvement_is_checked_on_samples() -> None:
    glob = spec(1, "api", "/api/**")
    assert messages(glob, spec(2, "legacy", "^/api/", priority=1)) == [
        "Policy 'legacy' (^/api/, priority 1) takes precedence on some paths this policy matches, such as "
        "/api/example (a regular expression is involved: checked on sample paths only). Why: higher priority (1 > 0)."
    ]
    # A regex loses to any glob of equal priority; its samples show where.
    regex = spec(3, "legacy", "^/api/")
    (shadow,) = find_shadows(regex, [spec(4, "api", "/api/**")])
    assert shadow.approximate and not shadow.complete
    assert shadow.paths == ("/api/", "/api/example")
    # A catch-all glob covers a regex entirely.
    (shadow,) = find_shadows(regex, [spec(5, "all", "/**")])
    assert shadow.complete
    # No sample in common: no warning (this is the approximation).
    assert find_shadows(spec(6, "v", "^/api/v[12]/"), [spec(7, "api", "/api/**")]) == []
    assert find_shadows(glob, [spec(8, "other", "^/other/", priority=3)]) == []


def test_policies_that_do_not_compile_are_ignored() -> None:
    assert find_shadows(spec(1, "broken", "api/**"), [spec(2, "all", "/**", priority=1)]) == []
    assert find_shadows(spec(1, "api", "/api/**"), [spec(2, "broken", "api/**", priority=1)]) == []
