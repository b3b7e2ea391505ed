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
