"""decide()'s shared answers: the request path gets the same Decision object for the same (policy, request values),
never one of another policy, never one another caller changed, and the memory they hold is bounded."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from cors_policies.engine import CompiledPolicy, PolicySet, PolicySpec, RequestInfo, decide
from cors_policies.engine.protocol import (
    SHARED_ACTUAL_ANSWERS,
    SHARED_ORIGIN_LENGTH,
    SHARED_PREFLIGHT_ANSWERS,
    SHARED_PREFLIGHT_LENGTH,
    actual,
    preflight,
    shared_actual,
    shared_preflight,
)

APP = "https://app.example.com"
ACAO = "Access-Control-Allow-Origin"


def spec(id: int = 1, path_pattern: str = "/**", **fields: Any) -> PolicySpec:
    return PolicySpec(id=id, name=f"p{id}", path_pattern=path_pattern, **fields)


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    shared_actual.cache_clear()
    shared_preflight.cache_clear()
    yield
    shared_actual.cache_clear()
    shared_preflight.cache_clear()


def test_the_same_request_gets_the_same_decision_object() -> None:
    policies = PolicySet.build([spec(allowed_origins=[APP], allowed_methods=["PUT"], expose_headers=["X-Total"])])
    first = decide(policies, RequestInfo("/x", "GET", APP))
    assert decide(policies, RequestInfo("/y", "POST", APP)) is first  # same policy and Origin: same answer
    assert first == actual(policies.match("/x"), APP, "GET")  # ... equal to the one built afresh
    assert first.headers == ((ACAO, APP), ("Access-Control-Expose-Headers", "X-Total"))
    refused = decide(policies, RequestInfo("/x", "GET", "https://evil.test"))
    assert refused is decide(policies, RequestInfo("/x", "GET", "https://evil.test"))
    assert (refused.allowed, refused.headers, refused.vary, refused.refusals[0].code) == (
        False,
        (),
        ("Origin",),
        "origin",
    )
    asked = RequestInfo("/x", "OPTIONS", APP, "PUT", "content-type")
    answer = decide(policies, asked)
    assert decide(policies, asked) is answer
    assert answer == preflight(policies.match("/x"), APP, "PUT", "content-type", False)


def test_a_changed_policy_never_gets_the_answer_of_the_old_one() -> None:
    """The key is the compiled policy object: a rebuilt set's policy (another object) is answered afresh, even
    when it keeps its id, name and path."""
    before = PolicySet.build([spec(allowed_origins=[APP], expose_headers=["X-Old"])])
    after = PolicySet.build([spec(allowed_origins=[APP], expose_headers=["X-New"])])
    closed = PolicySet.build([spec(allowed_origins=["https://other.example"])])
    request = RequestInfo("/x", "GET", APP)
    assert decide(before, request).headers == ((ACAO, APP), ("Access-Control-Expose-Headers", "X-Old"))
    assert decide(after, request).headers == ((ACAO, APP), ("Access-Control-Expose-Headers", "X-New"))
    assert decide(closed, request).allowed is False
    asked = RequestInfo("/x", "OPTIONS", APP, "GET", None)
    assert decide(before, asked).allowed is True
    assert decide(closed, asked).allowed is False


def test_explained_and_report_only_decisions_are_their_own() -> None:
    """decide() fills report_only and the explanation only in a decision of its own: the shared one keeps None
    and no explanation, whatever was asked in between."""
    policies = PolicySet.build([spec(allowed_origins=[APP])])
    request = RequestInfo("/x", "GET", APP)
    shared = decide(policies, request)
    explained = decide(policies, request, explain=True)
    assert explained is not shared
    assert explained.explanation and not shared.explanation
    assert (explained.headers, explained.vary) == (shared.headers, shared.vary)

    watched = PolicySet.build([spec(allowed_origins=[APP]), spec(2, allowed_origins=[APP], report_only=True)])
    served = decide(watched, request)
    assert served.report_only is not None and served.report_only.allowed
    again = decide(watched, request)
    assert again is not served and again.report_only is served.report_only  # the report's verdict is shared
    assert served.report_only.report_only is None
    assert decide(watched, RequestInfo("/x", "GET", None)).report_only is None  # no Origin: nothing to report


def test_long_values_and_header_lists_are_answered_afresh() -> None:
    policies = PolicySet.build(
        [spec(allowed_origins=["https://*.example.com"], allowed_methods=["*"], allowed_headers=["*"])]
    )
    long_origin = "https://" + ".".join(["a" * 60] * 5) + ".example.com"
    assert len(long_origin) > SHARED_ORIGIN_LENGTH
    decision = decide(policies, RequestInfo("/x", "GET", long_origin))
    assert decision == actual(policies.match("/x"), long_origin, "GET")  # answered...
    assert shared_actual.cache_info().currsize == 0  # ... and not kept
    names = ",".join(f"x-{n:03d}" for n in range(SHARED_PREFLIGHT_LENGTH // 6))
    assert decide(policies, RequestInfo("/x", "OPTIONS", APP, "PUT", names)).allowed
    listed = decide(policies, RequestInfo("/x", "OPTIONS", APP, "PUT", ["X-A", "x-b"]))  # type: ignore[arg-type]
    assert dict(listed.headers)["Access-Control-Allow-Headers"] == "x-a, x-b"
    assert shared_preflight.cache_info().currsize == 0
    decide(policies, RequestInfo("/x", "GET", "https://a.example.com"))
    assert shared_actual.cache_info().currsize == 1


def test_shared_answers_are_bounded_in_number_and_memory() -> None:
    """Attacker-chosen Origins and header lists: at most SHARED_*_ANSWERS answers each, every value at its length
    bound, hold a few MB (docs/performance.md gives the figure)."""
    policy = CompiledPolicy(
        spec(
            allowed_origins=["https://*.example.com"],
            allowed_methods=["*"],
            allowed_headers=["*"],
            allow_credentials=True,
            allow_private_network=True,
        )
    )
    gc.collect()
    tracemalloc.start()
    try:
        for n in range(SHARED_ACTUAL_ANSWERS + 100):
            origin = f"https://{n:06d}{'a' * SHARED_ORIGIN_LENGTH}"[:SHARED_ORIGIN_LENGTH]
            shared_actual(policy, origin)
        for n in range(SHARED_PREFLIGHT_ANSWERS + 100):
            origin = f"https://{n:06d}.example.com"
            names = ",".join(f"x-h{n}-{k:03d}" for k in range(60))[: SHARED_PREFLIGHT_LENGTH - len(origin) - 3]
            assert shared_preflight(policy, origin, "PUT", names, True).allowed
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert shared_actual.cache_info().currsize == SHARED_ACTUAL_ANSWERS
    assert shared_preflight.cache_info().currsize == SHARED_PREFLIGHT_ANSWERS
    assert held < 8_000_000, held


def test_decisions_compare_without_what_the_middleware_kept() -> None:
    policy = CompiledPolicy(spec(allowed_origins=[APP]))
    kept = actual(policy, APP, "GET")
    kept.prepared = ("anything",)
    assert kept == actual(policy, APP, "GET")
    assert "prepared" not in repr(kept)
    assert replace(kept, prepared=None) == kept


def test_report_only_verdicts_on_long_values_are_answered_afresh() -> None:
    """With a report-only policy on the path the served decision is decide()'s own; the report's verdict is shared
    only when its values can be a key, and equals the one built afresh either way."""
    policies = PolicySet.build(
        [
            spec(allowed_origins=["https://*.example.com"], allowed_methods=["*"], allowed_headers=["*"]),
            spec(2, allowed_origins=[APP], allowed_methods=["PUT"], report_only=True),
        ]
    )
    enforced, report = policies.match("/x"), policies.report_only.match("/x")  # type: ignore[union-attr]
    assert enforced is not None and report is not None
    long_origin = "https://" + ".".join(["a" * 60] * 5) + ".example.com"
    served = decide(policies, RequestInfo("/x", "GET", long_origin))
    assert served == replace(actual(enforced, long_origin, "GET"), report_only=actual(report, long_origin, "GET"))
    asked = RequestInfo("/x", "OPTIONS", APP, "PUT", ["X-A"])  # type: ignore[arg-type]
    answer = decide(policies, asked)
    assert answer.allowed and answer.report_only == preflight(report, APP, "PUT", ["X-A"], False)
    assert answer.report_only is not None and not answer.report_only.allowed  # X-A is not in its headers
    assert (shared_actual.cache_info().currsize, shared_preflight.cache_info().currsize) == (0, 0)
    reported = policies.evaluate_report_only(origin=APP, method="OPTIONS", path="/x", request_method="PUT")
    assert reported == preflight(report, APP, "PUT", None, False) and reported.allowed
