"""PolicySet.replaced: the set after some policies' answers changed, sharing the old set's index, answers exactly
as a set built afresh, and the old set (still served meanwhile) is never modified."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from cors_policies.engine import CompiledPolicy, PolicySet, PolicySpec

PATTERNS = [
    "/api/**",
    "/api/*/items",
    "/api/v1/**",
    "/api/v1/items",
    "/files/**/raw",
    "/files/*/**",
    "/**",
    "/health",
    "/t/*/x/**/end",
    "^/re/[0-9]+$",
]
PATHS = [
    "/api/x",
    "/api/v1/items",
    "/api/a/items",
    "/files/a/b/raw",
    "/files/a",
    "/health",
    "/t/a/x/q/end",
    "/re/12",
    "/other",
    "/",
]


def spec(pk: int, pattern: str, origin: str, *, priority: int = 0, report_only: bool = False) -> PolicySpec:
    return PolicySpec(
        id=pk,
        name=f"p{pk}",
        path_pattern=pattern,
        priority=priority,
        allowed_origins=[origin],
        allowed_origin_regexes=[],
        allowed_methods=["GET", "PUT"],
        allowed_headers=[],
        expose_headers=[],
        allow_credentials=False,
        max_age=None,
        allow_private_network=False,
        report_only=report_only,
    )


def answers(policy_set: PolicySet) -> list[tuple[object, ...]]:
    found = []
    for path in PATHS:
        for origin in ("https://a.test", "https://b.test"):
            decision = policy_set.evaluate(origin=origin, method="GET", path=path)
            report = policy_set.evaluate_report_only(origin=origin, method="GET", path=path)
            found.append(
                (
                    path,
                    origin,
                    None if decision is None else (decision.policy.id if decision.policy else None, decision.allowed),
                    None if report is None else (report.policy.id if report.policy else None, report.allowed),
                )
            )
    return found


@pytest.mark.parametrize("seed", range(25))
def test_replaced_answers_as_a_fresh_build_and_leaves_the_old_set_alone(seed: int) -> None:
    rng = random.Random(seed)
    specs = [
        spec(
            pk,
            rng.choice(PATTERNS),
            rng.choice(["https://a.test", "https://b.test"]),
            priority=rng.randint(0, 2),
            report_only=rng.random() < 0.2,
        )
        for pk in range(1, 30)
    ]
    old = PolicySet.build(specs, version=1)
    before = answers(old)
    changes = {
        s.id: CompiledPolicy(replace(s, allowed_origins=["https://b.test"] if "a." in s.allowed_origins[0] else []))
        for s in rng.sample(specs, 5)
    }
    new = old.replaced(changes, version=2)
    assert new is not None and new.version == 2
    fresh = PolicySet.build([changes[s.id].spec if s.id in changes else s for s in specs], version=2)
    assert answers(new) == answers(fresh)
    assert [p.id for p in new.policies] == [p.id for p in fresh.policies]
    assert answers(old) == before  # the old set was not touched
    held = {p.id for p in every(old)}
    for pk, policy in changes.items():
        assert (policy in every(new)) is (pk in held)  # admitted before: replaced; skipped by a budget: still skipped


def every(policy_set: PolicySet) -> list[CompiledPolicy]:
    return [*policy_set.policies, *(policy_set.report_only.policies if policy_set.report_only else ())]


@pytest.mark.parametrize(
    "change",
    [
        {"path_pattern": "/elsewhere"},
        {"priority": 5},
        {"report_only": True},
    ],
)
def test_a_change_that_moves_the_policy_in_the_index_needs_a_new_build(change: dict[str, object]) -> None:
    specs = [spec(1, "/api/**", "https://a.test"), spec(2, "/health", "https://a.test")]
    old = PolicySet.build(specs)
    assert old.replaced({1: CompiledPolicy(replace(specs[0], **change))}) is None  # type: ignore[arg-type]


def test_an_unknown_policy_needs_a_new_build() -> None:
    old = PolicySet.build([spec(1, "/api/**", "https://a.test")])
    assert old.replaced({7: CompiledPolicy(spec(7, "/api/**", "https://a.test"))}) is None


# -- PolicySet.updated: policies that move in the index, additions and removals ------------------------------------

MORE_PATTERNS = [
    *PATTERNS,
    "/api/v1/items",  # a second policy on the same literal path
    "/api/**/**",  # the same trie place as "/api/**"
    "/a/*/b/*/c",
    "/a/x/**",
    "/files/**/*/raw",
    "/t/**/end",
    "^/re/x$",
]
MORE_PATHS = [*PATHS, "/a/q/b/r/c", "/a/x", "/a/x/y/z", "/files/a/b/c/raw", "/t/end", "/t/q/end", "/re/x"]


def dump(node: object, seen: int = 0) -> object:
    """The trie as plain data (policies by id, weights included): equal for tries indexed alike."""
    if node is None:
        return None
    return (
        {key: dump(child) for key, child in sorted(node.children.items())},  # type: ignore[attr-defined]
        dump(node.star),  # type: ignore[attr-defined]
        dump(node.tails),  # type: ignore[attr-defined]
        getattr(node.end, "id", None),  # type: ignore[attr-defined]
        getattr(node.rest, "id", None),  # type: ignore[attr-defined]
        node.weight,  # type: ignore[attr-defined]
        node.best,  # type: ignore[attr-defined]
    )


def shape(policy_set: PolicySet | None) -> object:
    """Everything a set is indexed by, as plain data."""
    if policy_set is None:
        return None
    return (
        [p.id for p in policy_set.policies],
        {path: p.id for path, p in policy_set._literal.items()},
        dump(policy_set._root) if policy_set._globs else None,
        policy_set._globs,
        policy_set.glob_steps,
        [p.id for p in policy_set._regexes],
        policy_set._offset,
        None if policy_set._automaton is None else list(policy_set._automaton.regexes.patterns),
        policy_set.errors,
        shape(policy_set.report_only),
    )


def every_answer(policy_set: PolicySet) -> list[object]:
    found = []
    for path in MORE_PATHS:
        policy = policy_set.match(path)
        report = policy_set.report_only.match(path) if policy_set.report_only else None
        found.append((path, policy and policy.id, report and report.id))
    return found


def random_spec(rng: random.Random, pk: int) -> PolicySpec:
    return spec(
        pk,
        rng.choice(MORE_PATTERNS),
        rng.choice(["https://a.test", "https://b.test"]),
        priority=rng.randint(0, 2),
        report_only=rng.random() < 0.25,
    )


@pytest.mark.parametrize("seed", range(200))
def test_updated_equals_a_fresh_build_and_leaves_the_old_set_alone(seed: int) -> None:
    rng = random.Random(seed)
    specs = {pk: random_spec(rng, pk) for pk in range(1, rng.randint(1, 25))}
    old = PolicySet.build(specs.values(), version=1)
    before, old_shape = answers(old), shape(old)
    changed: dict[int, CompiledPolicy] = {}
    removed: list[int] = []
    for _ in range(rng.randint(1, 4)):
        action = rng.choice(["move", "priority", "report", "origin", "add", "remove"])
        pk = rng.choice(sorted(specs)) if specs else 0
        if action == "add" or not specs:
            pk = max([*specs, *changed, *removed, 0]) + 1
            specs[pk] = random_spec(rng, pk)
        elif action == "remove":
            del specs[pk]
            changed.pop(pk, None)
            removed.append(pk)
            continue
        elif action == "move":
            specs[pk] = replace(specs[pk], path_pattern=rng.choice(MORE_PATTERNS))
        elif action == "priority":
            specs[pk] = replace(specs[pk], priority=rng.randint(0, 3))
        elif action == "report":
            specs[pk] = replace(specs[pk], report_only=not specs[pk].report_only)
        else:
            specs[pk] = replace(specs[pk], allowed_origins=["https://c.test"])
        changed[pk] = CompiledPolicy(specs[pk])
    new = old.updated(changed, removed, version=2, errors=())
    fresh = PolicySet.build(specs.values(), version=2)
    if fresh.errors:  # a budget left a policy out: only a fresh build decides which
        assert new is None
    else:
        assert new is not None and new._matched == {} and new.version == 2  # no answer remembered from the old set
        assert shape(new) == shape(fresh)
        assert every_answer(new) == every_answer(fresh)
        assert answers(new) == answers(fresh)
    assert answers(old) == before and shape(old) == old_shape  # the old set, still served, is untouched


@pytest.mark.parametrize("seed", range(60))
def test_updates_chained_as_a_snapshot_makes_them_stay_equal_to_a_fresh_build(seed: int) -> None:
    """Each set made from the previous one's edited index and its policies by id (as the snapshot chains them,
    one announced change after another): after every round, the same answers and ids as a fresh build."""
    rng = random.Random(1000 + seed)
    specs = {pk: random_spec(rng, pk) for pk in range(1, rng.randint(2, 20))}
    current: PolicySet | None = PolicySet.build(specs.values(), version=1)
    for version in range(2, 8):
        assert current is not None
        pk = rng.choice(sorted(specs)) if specs else 0
        action = rng.choice(["move", "origin", "add", "remove"] if specs else ["add"])
        changed: dict[int, CompiledPolicy] = {}
        removed: list[int] = []
        if action == "add":
            pk = max([*specs, 0]) + 1
            specs[pk] = random_spec(rng, pk)
        elif action == "remove":
            del specs[pk]
            removed.append(pk)
        elif action == "move":
            specs[pk] = replace(specs[pk], path_pattern=rng.choice(MORE_PATTERNS), priority=rng.randint(0, 3))
        else:
            specs[pk] = replace(specs[pk], allowed_origins=["https://c.test"])
        if pk in specs:
            changed[pk] = CompiledPolicy(specs[pk])
        fresh = PolicySet.build(specs.values(), version=version)
        current = current.updated(changed, removed, version=version, errors=())
        if fresh.errors or current is None:  # a budget: the snapshot builds afresh
            assert fresh.errors
            current = fresh
            continue
        assert {k: p.spec for k, p in current._held().items()} == {k: p.spec for k, p in fresh._held().items()}
        assert every_answer(current) == every_answer(fresh) and answers(current) == answers(fresh)


def test_updated_moves_adds_and_removes_on_a_large_set() -> None:
    """Many globs under one root, a literal shared by two policies, one change of each kind at once."""
    specs = {
        pk: spec(pk, f"/tenant{pk}/**" if pk % 3 else f"/tenant{pk}/item", "https://a.test") for pk in range(1, 300)
    }
    specs[300] = spec(300, "/tenant3/item", "https://b.test")  # beaten by policy 3 (the lower id)
    old = PolicySet.build(specs.values())
    old_shape = shape(old)
    specs[3] = replace(specs[3], path_pattern="/moved/**")
    specs[7] = replace(specs[7], priority=9)
    specs[400] = spec(400, "/tenant8/**", "https://b.test", priority=1)
    del specs[10], specs[11]
    changed = {pk: CompiledPolicy(specs[pk]) for pk in (3, 7, 400)}
    new = old.updated(changed, [10, 11], errors=())
    fresh = PolicySet.build(specs.values())
    assert new is not None and shape(new) == shape(fresh) and shape(old) == old_shape
    assert new.match("/tenant3/item").id == 300  # type: ignore[union-attr]
    assert new.match("/tenant8/x").id == 400  # type: ignore[union-attr]
    assert new.match("/tenant10/item") is None and new.match("/moved/x").id == 3  # type: ignore[union-attr]


def test_updated_leaves_a_set_a_budget_cut_to_a_fresh_build() -> None:
    regexes = [spec(pk, f"^/re{pk}/[0-9]+/(?:a|b)$", "https://a.test") for pk in range(1, 20)]
    old = PolicySet.build(regexes)
    assert old.errors  # some did not fit
    assert old.updated({1: CompiledPolicy(replace(regexes[0], priority=3))}) is None


def test_updated_that_would_exceed_a_budget_is_left_to_a_fresh_build() -> None:
    regexes = [spec(pk, f"^/re{pk}/[0-9]+$", "https://a.test") for pk in range(1, 14)]
    old = PolicySet.build(regexes)
    assert not old.errors
    assert old.updated({99: CompiledPolicy(spec(99, "^/re99/[0-9]+/(?:a|b)$", "https://a.test"))}) is None
