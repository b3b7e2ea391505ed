"""Reason codes, verdicts and pattern kinds are enums with their labels in one place (cors_policies.engine.reasons):
every code the engine can emit has a label, and the recorder, the admin and the API offer exactly the enum's codes."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import cors_policies
from cors_policies import protected
from cors_policies.admin.observed import ReasonFilter
from cors_policies.api.filters import ObservedOriginFilter
from cors_policies.api.serializers import REASONS, VERDICTS, ObservedOriginSerializer
from cors_policies.engine import (
    KIND_GLOB,
    KIND_LITERAL,
    KIND_NAMES,
    KIND_REGEX,
    PatternKind,
    PolicySet,
    PolicySpec,
    Reason,
    Verdict,
    beats,
    parse_path_pattern,
)
from cors_policies.models import REASON_LABELS, EnforcedVerdict, ObservedOrigin
from cors_policies.models import Verdict as VerdictChoices

ORIGIN = "https://app.example.com"
PACKAGE = Path(cors_policies.__file__).parent


def emitted_codes() -> set[str]:
    """Ask the engine every kind of request that it refuses, and collect the codes it gives."""
    policies = PolicySet.build(
        [PolicySpec(1, "api", "/api/**", allowed_origins=[ORIGIN], allowed_methods=["GET"], allowed_headers=["x-a"])]
    )
    asked: list[dict[str, Any]] = [
        {"origin": "https://evil.test", "method": "GET", "path": "/api/x"},
        {"origin": "HTTPS://app.example.com", "method": "GET", "path": "/api/x"},
        {"origin": None, "method": "GET", "path": "/api/x"},
        {"origin": ORIGIN, "method": "GET", "path": "/elsewhere"},
        {"origin": ORIGIN, "method": "OPTIONS", "path": "/api/x", "request_method": "PUT"},
        {"origin": ORIGIN, "method": "OPTIONS", "path": "/api/x", "request_method": "P UT"},
        {"origin": ORIGIN, "method": "OPTIONS", "path": "/api/x", "request_method": "GET", "request_headers": "x-b"},
        {"origin": ORIGIN, "method": "OPTIONS", "path": "/api/x", "request_method": "GET", "request_headers": "a b"},
        {"origin": ORIGIN, "method": "OPTIONS", "path": "/api/x", "request_method": "GET", "private_network": True},
    ]
    codes = {refusal.code for request in asked for refusal in policies.evaluate(**request).refusals}
    shielded = protected.decision("/admin/", preflight=False)
    assert shielded is not None
    return codes | {refusal.code for refusal in shielded.refusals}


def test_the_engine_emits_every_reason_and_only_reasons() -> None:
    codes = emitted_codes()
    assert codes == set(Reason)
    assert all(isinstance(code, Reason) for code in codes)


def test_no_refusal_is_written_with_a_bare_string() -> None:
    """Every ``Refusal(...)`` in the package names its code as a ``Reason`` member, never as text: a new code
    needs a label."""
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Refusal" and node.args:
                code = node.args[0]
                if isinstance(code, (ast.Constant, ast.JoinedStr)):
                    bare.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert bare == []


def test_every_reason_has_a_label_and_stays_its_code() -> None:
    for reason in Reason:
        assert reason.label and reason.label != reason.value
        assert reason == reason.value and f"{reason}" == str(reason) == reason.value
    assert json.dumps([Reason.ORIGIN, Verdict.UNCOVERED, PatternKind.REGEX]) == '["origin", "uncovered", 2]'
    assert [r.value for r in Reason.recordable()] == [
        "origin",
        "origin_malformed",
        "method",
        "headers",
        "private_network",
        "method_malformed",
        "headers_malformed",
    ]


def test_the_recorder_admin_and_api_offer_exactly_the_recordable_codes() -> None:
    recordable = [reason.value for reason in Reason.recordable()]
    assert {"": "allowed", **{reason.value: reason.label for reason in Reason.recordable()}} == REASON_LABELS
    assert ReasonFilter.lookups(None, None, None) == [  # type: ignore[arg-type]
        ("allowed", "allowed"),
        *((reason.value, reason.label) for reason in Reason.recordable()),
    ]
    assert list(REASONS) == recordable
    fields: Any = ObservedOriginSerializer().fields
    assert list(fields["reason"].choices) == ["", *recordable]
    parameters = {p["name"]: p for p in ObservedOriginFilter().get_schema_operation_parameters(None)}
    assert parameters["reason"]["schema"]["enum"] == recordable
    assert parameters["verdict"]["schema"]["enum"] == ["allowed", "refused"]
    assert ObservedOrigin(reason="origin_malformed").reason_label == "malformed Origin"


def test_verdict_choices_come_from_the_enum() -> None:
    assert VerdictChoices.choices == [("allowed", "allowed"), ("refused", "refused")]
    assert EnforcedVerdict.choices == [(verdict.value, verdict.label) for verdict in Verdict]
    assert list(VERDICTS) == ["allowed", "refused"]
    verdict_field: Any = ObservedOrigin._meta.get_field("verdict")
    assert [value for value, _ in verdict_field.choices] == [Verdict.ALLOWED, Verdict.REFUSED]


def test_pattern_kinds_keep_their_numbers_and_names() -> None:
    assert (KIND_LITERAL, KIND_GLOB, KIND_REGEX) == (0, 1, 2)
    assert KIND_NAMES == {0: "literal path", 1: "glob", 2: "regular expression"}
    assert parse_path_pattern("/a").kind is PatternKind.LITERAL
    assert parse_path_pattern("/a/*").kind is PatternKind.GLOB
    assert parse_path_pattern("^/a").kind is PatternKind.REGEX
    policies = PolicySet.build([PolicySpec(1, "lit", "/a/b"), PolicySpec(2, "glob", "/a/*")])
    literal, glob = policies.policies
    assert beats(literal, glob) == "a literal path is more specific than a glob"
