"""docs/rest-api.md and docs/api-reference.md: the curl examples show the fields and answers the API really
gives (the refusals are replayed against the demo's policies), and the reference covers the whole schema."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from cors_policies.api.serializers import POLICY_FIELDS, CorsPolicySerializer, ImportResultSerializer
from cors_policies.models import CorsPolicy
from tests.docs_pages import ROOT, page, section, shell_examples

TEXT = page("rest-api.md")


def json_lines(prefix: str) -> list[Any]:
    return [json.loads(line) for line in TEXT.splitlines() if line.startswith(prefix)]


def test_every_policy_shown_has_exactly_the_serializer_fields_in_order() -> None:
    policies = [page_["results"][0] for page_ in json_lines('{"count":')] + json_lines('{"id":')
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


def test_the_endpoint_table_names_every_route_of_the_api() -> None:
    from cors_policies.api.urls import router

    table = section(TEXT, "## Endpoints")
    for prefix, _, _ in router.registry:
        assert f"/api/cors/{prefix}/" in table, prefix
    for path in (
        "/api/cors/evaluate/",
        "/api/cors/observed/",
        "/api/cors/observed/{id}/allow/",
        "/api/cors/policies/export/",
        "/api/cors/schema/",
    ):
        assert f"{path}`" in table, path


# -- the curl walk-through, replayed --------------------------------------------------------------------


def refusal_examples() -> list[tuple[str, str]]:
    """(command, output) of each ``$ curl ... -d '{...}'`` example whose output is a JSON body."""
    return [
        (command, output)
        for command, output in shell_examples(section(TEXT, "## Try it with curl"), "sh")
        if command.startswith("curl") and " -d '" in command and output.lstrip().startswith("{")
    ]


@pytest.mark.usefixtures("demo")  # the walk-through runs against the demo's policies
@pytest.mark.parametrize("endpoint", ["/evaluate/", "/policies/", "/policies/import/"])
def test_refusal_examples_hold(api_client: APIClient, endpoint: str, committed: Callable[[], Any]) -> None:
    with committed():
        call_command("demo_setup", stdout=io.StringIO())
    matching = [(c, o) for c, o in refusal_examples() if f'"$API{endpoint}"' in c]
    assert matching, endpoint
    command, output = matching[0]
    payload = json.loads(command.split(" -d '", 1)[1].split("'", 1)[0])
    expected = json.loads(output)
    if isinstance(expected.get("policy"), dict):  # ids depend on the database's sequence
        expected["policy"]["id"] = CorsPolicy.objects.get(name=expected["policy"]["name"]).pk
    response = api_client.post(f"/api/cors{endpoint}", payload, format="json")
    assert response.json() == expected


# -- the reference, generated from the schema --------------------------------------------------------------


def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "scripts" / "docs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("docs_hooks", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return dict(SchemaGenerator().get_schema(request=None, public=True))


def test_the_reference_page_is_rendered_from_the_schema() -> None:
    assert page("api-reference.md").strip().endswith(hooks().MARKER)


def test_the_reference_has_every_operation_and_schema(schema: dict[str, Any]) -> None:
    rendered = hooks().render(json.loads(json.dumps(schema, default=str)))
    operations = [(path, method, spec) for path, item in schema["paths"].items() for method, spec in item.items()]
    assert len(operations) >= 10
    for path, method, spec in operations:
        assert f"`{method.upper()} {path}` {{#{spec['operationId']}}}" in rendered
        for status in spec["responses"]:
            assert f"| `{status}` |" in rendered
    for name, component in schema["components"]["schemas"].items():
        assert f"### {name} {{#schema-{name.lower()}}}" in rendered
        for field in component.get("properties", {}):
            assert f"| `{field}` |" in rendered, (name, field)
    # Every link to a schema points to a heading of the page (the strict build checks the same).
    anchors = set(re.findall(r"\{#([\w-]+)\}", rendered))
    assert set(re.findall(r"\]\(#([\w-]+)\)", rendered)) <= anchors


def test_the_rendering_of_types() -> None:
    type_of = hooks().type_of
    assert type_of({"type": "array", "items": {"type": "string"}}) == "array of string"
    assert type_of({"$ref": "#/components/schemas/PolicyRef"}) == "[PolicyRef](#schema-policyref)"
    assert type_of({"type": "integer", "nullable": True}) == "integer, or null"
    assert type_of({"enum": ["allowed", "refused", ""]}) == "one of `allowed`, `refused`, or empty"
    assert type_of({"type": "string", "format": "date-time"}) == "string (date-time)"
    assert type_of({"oneOf": [{"$ref": "#/x/A"}, {"$ref": "#/x/B"}]}) == "[A](#schema-a) or [B](#schema-b)"
    assert hooks()._cell("a | b\nc") == "a \\| b c"
