"""docs/policies.md: the pattern table and the precedence example, checked against the engine."""

from __future__ import annotations

import re

import pytest

from cors_policies.engine import PolicySet, PolicySpec
from tests.docs_pages import code_blocks, page, section

TEXT = page("policies.md")


def test_pattern_table_rows_hold() -> None:
    """Each row of the path pattern table: the pattern matches the 'matches' column, not the other."""
    lines = [line for line in section(TEXT, "## Path patterns").splitlines() if line.startswith("| `")]
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
    assert len(rows) == 6
    for first, matches, refuses in rows:
        pattern = first.split("`")[1]
        policy_set = PolicySet.build([PolicySpec(id=1, name="p", path_pattern=pattern)])
        for path in re.findall(r"`(/[^`]*)`", matches):
            assert policy_set.match(path) is not None, (pattern, path)
        for path in re.findall(r"`(/[^`]*)`", refuses):
            assert policy_set.match(path) is None, (pattern, path)


EXAMPLE = [
    PolicySpec(id=1, name="catch-all", path_pattern="/**"),
    PolicySpec(id=2, name="api", path_pattern="/api/**"),
    PolicySpec(id=3, name="items", path_pattern="/api/items/*"),
    PolicySpec(id=4, name="legacy", path_pattern="^/api/"),
    PolicySpec(id=5, name="health", path_pattern="/health"),
]


@pytest.mark.parametrize(
    ("path", "winner"),
    [("/api/items/5", "items"), ("/api/users", "api"), ("/health", "health"), ("/about", "catch-all")],
)
def test_precedence_example(path: str, winner: str) -> None:
    text = section(TEXT, "## Which policy applies")
    assert f"`{path}` → `{winner}`" in text
    policy = PolicySet.build(EXAMPLE).match(path)
    assert policy is not None and policy.name == winner


def test_priority_overrides_specificity_as_documented() -> None:
    assert "Give `catch-all` priority 10 and it wins everywhere." in section(TEXT, "## Which policy applies")
    specs = [PolicySpec(**{**spec.__dict__, "priority": 10}) if spec.name == "catch-all" else spec for spec in EXAMPLE]
    policy_set = PolicySet.build(specs)
    assert {policy_set.match(path).name for path in ("/api/items/5", "/health", "/about")} == {"catch-all"}  # type: ignore[union-attr]


def test_the_field_table_names_every_public_field() -> None:
    from cors_policies.models import POLICY_FIELDS

    table = TEXT.split("\n\n## ", 1)[0]
    documented = [name for row in re.findall(r"^\| (`[^|]+`) \|", table, re.M) for name in re.findall(r"`(\w+)`", row)]
    assert documented == list(POLICY_FIELDS)


@pytest.mark.django_db(transaction=True)
def test_the_raw_sql_example_goes_through_the_one_write_path() -> None:
    """The raw-SQL example runs as written: the row changes, its updated_at moves (incremental rebuilds read
    it) and the shared version moves once. The page names the write path, not the old cache helper."""
    from cors_policies import invalidation
    from cors_policies.models import CorsPolicy
    from tests.factories import CorsPolicyFactory

    [block] = code_blocks(section(TEXT, "## How changes reach every process"), "python")
    legacy = CorsPolicyFactory(name="legacy-api", path_pattern="/legacy/**")
    kept = CorsPolicyFactory(name="api", path_pattern="/api/**")
    CorsPolicy.objects.filter(pk=legacy.pk).update(updated_at=legacy.updated_at.replace(year=2020))
    before = invalidation.read_db_version()
    exec(block, {})  # noqa: S102 - the page's own example
    after = CorsPolicy.objects.get(pk=legacy.pk)
    assert not after.enabled and after.updated_at.year > 2020
    assert CorsPolicy.objects.get(pk=kept.pk).enabled
    assert invalidation.read_db_version() == before + 1
    assert "bump_version" not in TEXT and "cors_policies.invalidation.changed()" in TEXT
