"""Misconfiguration warnings where operators see them: the API's read-only ``warnings`` field and the admin's
change page. The rules and exact messages are tested in test_analysis_warnings.py; here, that each face shows them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from cors_policies import protected
from cors_policies.analysis import policy_warnings
from cors_policies.api.serializers import CorsPolicySerializer
from cors_policies.engine import PolicySpec
from cors_policies.forms import CorsPolicyForm
from cors_policies.models import CorsPolicy
from testproject.demo.management.commands.demo_setup import DEMO_POLICIES
from tests.helpers import change_url

pytestmark = pytest.mark.django_db

POLICIES = "/api/cors/policies/"
NULL_SPEC = PolicySpec(id=1, name="x", path_pattern="/x", allowed_origins=["null"])
[NULL_WARNING] = policy_warnings(NULL_SPEC)
CATCH_ALL_SPEC = PolicySpec(id=1, name="x", path_pattern="/**", allowed_origins=["*"])
[CATCH_ALL_WARNING] = policy_warnings(CATCH_ALL_SPEC)


def protected_warning() -> str:
    """/** also matches the admin and the API, which no policy answers (cors_policies.protected)."""
    warning = protected.protected_paths_warning(CATCH_ALL_SPEC)
    assert warning is not None
    return warning.message


def test_the_api_returns_the_warnings_of_a_policy(api_client: APIClient) -> None:
    response = api_client.post(
        POLICIES,
        {"name": "sandbox", "path_pattern": "/x", "allowed_origins": ["null", "https://app.example.com"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["warnings"] == [{"code": "null_origin", "message": NULL_WARNING.message}]

    detail = f"{POLICIES}{response.json()['id']}/"
    fixed = api_client.patch(detail, {"allowed_origins": ["https://app.example.com"]}, format="json")
    assert fixed.status_code == 200
    assert fixed.json()["warnings"] == []


def test_warnings_are_read_only_and_a_get_body_can_be_put_back(api_client: APIClient) -> None:
    policy = CorsPolicy.objects.create(name="all", path_pattern="/**", allowed_origins=["*"])
    got = api_client.get(f"{POLICIES}{policy.pk}/").json()
    assert got["warnings"] == [
        {"code": "catch_all_any_origin", "message": CATCH_ALL_WARNING.message},
        {"code": "protected_paths", "message": protected_warning()},  # /** also matches the admin
    ]

    put = api_client.put(f"{POLICIES}{policy.pk}/", {**got, "warnings": [], "description": "d"}, format="json")
    assert put.status_code == 200, put.json()
    assert put.json()["warnings"] == got["warnings"]  # computed from the policy, never taken from the body


def test_the_list_carries_warnings_and_the_export_does_not(api_client: APIClient) -> None:
    CorsPolicy.objects.create(name="a", path_pattern="/a", allowed_origins=["null"])
    CorsPolicy.objects.create(name="b", path_pattern="/b", allowed_origins=["https://app.example.com"])
    results = api_client.get(POLICIES, {"ordering": "name"}).json()["results"]
    assert [(row["name"], [w["code"] for w in row["warnings"]]) for row in results] == [
        ("a", ["null_origin"]),
        ("b", []),
    ]
    exported = api_client.get(f"{POLICIES}export/").json()["policies"]
    assert all("warnings" not in policy for policy in exported)


def test_the_schema_documents_warnings_as_read_only(api_client: APIClient) -> None:
    schema = api_client.get("/api/cors/schema/", {"format": "json"}).json()
    prop = schema["components"]["schemas"]["CorsPolicy"]["properties"]["warnings"]
    assert prop["readOnly"] is True
    assert prop["type"] == "array"
    item = prop["items"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][item]["properties"]) == {"code", "message"}
    assert "warnings" not in schema["components"]["schemas"].get("CorsPolicyRequest", {}).get("properties", {})


def test_the_serializer_computes_warnings_from_the_policy_alone() -> None:
    policy = CorsPolicy(
        name="p",
        path_pattern="/p",
        allowed_origins=["http://app.example.com"],
        allowed_methods=["*"],
        allow_credentials=True,
    )
    codes = [warning["code"] for warning in CorsPolicySerializer(policy).data["warnings"]]
    assert codes == ["http_with_credentials", "any_method_with_credentials"]


# -- the admin -------------------------------------------------------------------------------------


def shown_warnings(page: str) -> list[tuple[str, str]]:
    found = re.findall(r'<li class="warning cors-misconfiguration" data-code="([^"]+)">([^<]*)</li>', page)
    return [(code, html.unescape(message)) for code, message in found]


def test_the_change_page_shows_the_warnings(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(path_pattern="/**", allowed_origins=["*"], allowed_methods=["GET"])
    page = admin_client.get(change_url(policy)).content.decode()
    assert shown_warnings(page) == [
        ("catch_all_any_origin", CATCH_ALL_WARNING.message),
        ("protected_paths", protected_warning()),
    ]


def test_a_policy_without_warnings_shows_none(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(path_pattern="/api/public/**", allowed_origins=["https://app.example.com"])
    page = admin_client.get(change_url(policy)).content.decode()
    assert "cors-misconfiguration" not in page
    assert shown_warnings(admin_client.get("/admin/cors_policies/corspolicy/add/").content.decode()) == []


def test_a_warning_does_not_stop_a_save(admin_client: Client) -> None:
    data = {
        "name": "sandboxed",
        "description": "",
        "path_pattern": "/api/public/**",
        "priority": "0",
        "enabled": "on",
        "allowed_origins": "null",
        "allowed_origin_regexes": "",
        "allowed_methods": ["GET"],
        "other_methods": "",
        "allowed_headers": "",
        "expose_headers": "",
        "max_age": "",
        "_continue": "Save and continue editing",
    }
    response = admin_client.post("/admin/cors_policies/corspolicy/add/", data, follow=True)
    assert response.status_code == 200
    policy = CorsPolicy.objects.get(name="sandboxed")
    assert policy.allowed_origins == ["null"]
    assert shown_warnings(response.content.decode()) == [("null_origin", NULL_WARNING.message)]


def test_the_form_judges_what_was_submitted_once_valid() -> None:
    saved = CorsPolicy(pk=7, name="p", path_pattern="/p", allowed_origins=["https://app.example.com"])
    assert CorsPolicyForm(instance=saved).policy_warnings == []
    data = {"name": "p", "path_pattern": "/p", "priority": "0", "allowed_origins": "null", "allowed_methods": []}
    submitted = CorsPolicyForm(data, instance=saved)
    assert [w.code for w in submitted.policy_warnings] == ["null_origin"]
    invalid = CorsPolicyForm({**data, "path_pattern": "p"}, instance=saved)
    assert invalid.policy_warnings == []  # the field errors say what to fix first
    assert CorsPolicyForm().policy_warnings == []


def test_no_demo_policy_has_a_warning() -> None:
    """The demo shows good practice: plain http only on loopback, no catch-all for '*'."""
    fields = {"path_pattern", "priority", "allowed_origins", "allowed_origin_regexes", "allowed_methods"}
    fields |= {"allowed_headers", "expose_headers", "allow_credentials", "max_age", "allow_private_network"}
    for number, policy in enumerate(DEMO_POLICIES, start=1):
        spec = PolicySpec(id=number, name=policy["name"], **{k: v for k, v in policy.items() if k in fields})
        assert policy_warnings(spec) == [], policy["name"]
