"""The README's REST API examples show the fields and shapes the API really has (they were captured by hand)."""

from __future__ import annotations

import json
import re
from typing import Any

from cors_policies.api.serializers import POLICY_FIELDS, CorsPolicySerializer, ImportResultSerializer
from tests.test_readme import section

TEXT = section("## REST API")


def json_lines(prefix: str) -> list[Any]:
    return [json.loads(line) for line in TEXT.splitlines() if line.startswith(prefix)]


def test_every_policy_shown_has_exactly_the_serializer_fields_in_order() -> None:
    policies = [page["results"][0] for page in json_lines('{"count":')] + json_lines('{"id":')
    assert len(policies) == 2
    for policy in policies:
        assert list(policy) == list(CorsPolicySerializer.Meta.fields)
        assert policy["warnings"] == []


def test_the_unknown_field_message_lists_the_writable_fields() -> None:
    [message] = re.findall(r'"(Unknown field; write only these fields: [^"]*)"', TEXT)
    assert message == f"Unknown field; write only these fields: {', '.join(POLICY_FIELDS)}."


def test_import_results_have_the_documented_shape() -> None:
    results = json_lines('{"created":')
    assert [result["dry_run"] for result in results] == [True, False]
    for result in results:
        assert list(result) == list(ImportResultSerializer().fields)
