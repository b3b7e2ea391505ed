"""The REST API through DRF's APIClient: every endpoint and status, validation messages, permissions,
ETags, the admin history, import/export, evaluate, and the cache contract."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection
from django.test import Client
from django.test.utils import override_settings
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cors_policies.api import views
from cors_policies.api.parsers import MAX_DEPTH, too_deep
from cors_policies.cache import snapshot
from cors_policies.models import CorsPolicy
from cors_policies.validators import STAR_WITH_CREDENTIALS
from tests.factories import CorsPolicyFactory
from tests.helpers import client_for, make_user

pytestmark = pytest.mark.django_db

ROOT = "/api/cors/"
POLICIES = "/api/cors/policies/"
EXPORT = "/api/cors/policies/export/"
IMPORT = "/api/cors/policies/import/"
EVALUATE = "/api/cors/evaluate/"

User = get_user_model()

WRITABLE = (
    "name, description, path_pattern, priority, enabled, report_only, allowed_origins, allowed_origin_regexes, "
    "allowed_methods, allowed_headers, expose_headers, allow_credentials, max_age, allow_private_network, "
    "csrf_trusted, "
    "timing_allow_origin"
)


def detail(policy: CorsPolicy | int) -> str:
    return f"{POLICIES}{policy if isinstance(policy, int) else policy.pk}/"


def body(**fields: Any) -> dict[str, Any]:
    return {"name": "items", "path_pattern": "/api/items/**", "allowed_origins": ["https://app.example.com"], **fields}


# --------------------------------------------------------------------------------------------------
# CRUD
# --------------------------------------------------------------------------------------------------


def test_create_returns_201_with_normalized_values_etag_and_location(api_client: APIClient) -> None:
    response = api_client.post(
        POLICIES,
        body(
            path_pattern=" /api/** ",
            allowed_origins=["HTTPS://App.Example.com:443", "https://app.example.com", "http://localhost:80"],
            allowed_methods=["put", "patch", "PUT"],
            allowed_headers=["X-Token", "x-token", " Content-Type "],
            max_age=600,
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["path_pattern"] == "/api/**"
    assert data["allowed_origins"] == ["https://app.example.com", "http://localhost"]
    assert data["allowed_methods"] == ["PUT", "patch"]
    assert data["allowed_headers"] == ["X-Token", "Content-Type"]
    assert data["max_age"] == 600
    assert set(data) == {"id", *WRITABLE.split(", "), "created_at", "updated_at", "warnings"}
    assert response["Location"] == f"http://testserver{detail(data['id'])}"
    assert response["ETag"] == views.policy_etag(data)
    stored = CorsPolicy.objects.get(pk=data["id"])
    assert stored.allowed_origins == ["https://app.example.com", "http://localhost"]
    assert stored.allowed_methods == ["PUT", "patch"]


def test_create_uses_model_defaults(api_client: APIClient) -> None:
    response = api_client.post(POLICIES, {"name": "min", "path_pattern": "/x"}, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["enabled"] is True
    assert data["priority"] == 0
    assert data["allowed_origins"] == data["allowed_methods"] == data["expose_headers"] == []
    assert data["max_age"] is None
    assert data["allow_credentials"] is data["allow_private_network"] is False


def test_read_only_fields_are_accepted_and_ignored(api_client: APIClient) -> None:
    response = api_client.post(
        POLICIES, body(id=999, created_at="2000-01-01T00:00:00Z", updated_at="2000-01-01T00:00:00Z"), format="json"
    )
    assert response.status_code == 201
    assert response.json()["id"] != 999
    assert not response.json()["created_at"].startswith("2000")


def test_retrieve_returns_the_policy_with_its_etag(api_client: APIClient) -> None:
    policy = CorsPolicyFactory()
    response = api_client.get(detail(policy))
    assert response.status_code == 200
    assert response.json()["name"] == policy.name
    assert response["ETag"] == views.policy_etag(response.json())
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')


@pytest.mark.parametrize("missing", ["999999", "99999999999999999999999", "abc", "1.5", "\u00b9", "-1"])
def test_retrieve_missing_is_404(api_client: APIClient, missing: str) -> None:
    response = api_client.get(f"{POLICIES}{missing}/")
    assert response.status_code == 404
    assert response.json() == {"detail": f"There is no policy with id {missing[:30]}."}


def test_put_replaces_the_policy(api_client: APIClient) -> None:
    policy = CorsPolicyFactory(max_age=10, allowed_methods=["PUT"])
    response = api_client.put(detail(policy), body(name=policy.name, path_pattern="/new/**"), format="json")
    assert response.status_code == 200, response.json()
    policy.refresh_from_db()
    assert policy.path_pattern == "/new/**"
    assert response["ETag"] == views.policy_etag(response.json())
    # PUT is a full update of the fields it names; the others keep their values (DRF's semantics)
    assert policy.max_age == 10


def test_put_accepts_the_body_a_get_returned(api_client: APIClient) -> None:
    policy = CorsPolicyFactory()
    data = api_client.get(detail(policy)).json()
    data["priority"] = 7
    response = api_client.put(detail(policy), data, format="json")
    assert response.status_code == 200
    assert response.json()["priority"] == 7


def test_patch_changes_only_the_given_fields(api_client: APIClient) -> None:
    policy = CorsPolicyFactory(path_pattern="/keep/**")
    response = api_client.patch(detail(policy), {"allowed_methods": ["delete"]}, format="json")
    assert response.status_code == 200
    policy.refresh_from_db()
    assert policy.allowed_methods == ["DELETE"]
    assert policy.path_pattern == "/keep/**"


def test_delete_returns_204(api_client: APIClient) -> None:
    policy = CorsPolicyFactory()
    response = api_client.delete(detail(policy))
    assert response.status_code == 204
    assert not CorsPolicy.objects.filter(pk=policy.pk).exists()
    assert api_client.delete(detail(policy)).status_code == 404


def test_updated_at_and_created_at_are_read_only(api_client: APIClient) -> None:
    policy = CorsPolicyFactory()
    before = api_client.get(detail(policy)).json()
    response = api_client.patch(detail(policy), {"created_at": "2000-01-01T00:00:00Z", "id": 5}, format="json")
    assert response.status_code == 200
    assert response.json()["created_at"] == before["created_at"]
    assert response.json()["id"] == policy.pk


def test_api_root_lists_the_endpoints(api_client: APIClient) -> None:
    response = api_client.get(ROOT)
    assert response.status_code == 200
    assert response.json() == {
        "policies": "http://testserver/api/cors/policies/",
        "export": "http://testserver/api/cors/policies/export/",
        "import": "http://testserver/api/cors/policies/import/",
        "evaluate": "http://testserver/api/cors/evaluate/",
        "observed": "http://testserver/api/cors/observed/",
        "schema": "http://testserver/api/cors/schema/",
    }


def test_browsable_api_renders_html(api_client: APIClient) -> None:
    CorsPolicyFactory()
    for url in (ROOT, POLICIES, EVALUATE, EXPORT):
        response = api_client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code in (200, 405), url
        assert response["Content-Type"].startswith("text/html")


def test_unsupported_method_is_405(api_client: APIClient) -> None:
    assert api_client.put(EXPORT, {}, format="json").status_code == 405
    assert api_client.get(EVALUATE).status_code == 405


# --------------------------------------------------------------------------------------------------
# Validation: the model's validators and messages
# --------------------------------------------------------------------------------------------------

VALIDATION_CASES = [
    (
        "path_pattern",
        "api/**",
        "'api/**' must start with '/' (a path or glob, such as /api/**) or with '^' (a regular expression).",
    ),
    (
        "path_pattern",
        "/api/v*/x",
        "'/api/v*/x' has '*' inside the segment 'v*'; '*' and '**' must be whole segments (such as /api/*/items "
        "or /api/**), or write a regular expression starting with '^'.",
    ),
    (
        "path_pattern",
        "^(",
        "'^(' is not a valid regular expression (missing ) in '^('); fix it, or use a glob such as /api/**.",
    ),
    ("path_pattern", "", "This field may not be blank."),
    (
        "allowed_origins",
        ["https://app.example.com/"],
        "'https://app.example.com/' contains a path; an origin is only scheme://host[:port], so write "
        "https://app.example.com (browsers send no trailing slash).",
    ),
    (
        "allowed_origins",
        ["app.example.com"],
        "'app.example.com' has no scheme; write the full origin, such as https://app.example.com.",
    ),
    (
        "allowed_origins",
        ["*", "https://a.example.com"],
        "'*' already allows every origin; remove the other entries, or remove '*' to allow only those listed.",
    ),
    ("allowed_origins", "https://app.example.com", 'Write a list of strings, such as ["https://app.example.com"].'),
    ("allowed_origins", {"a": 1}, 'Write a list of strings, such as ["https://app.example.com"].'),
    ("allowed_origins", None, "This field may not be null."),
    ("allowed_origins", [5], '5 is not a string; write a list of strings, such as ["https://app.example.com"].'),
    (
        "allowed_origins",
        ["https://a.test\x00"],
        "'https://a.test\\x00' contains the control character U+0000 (NUL) at character 15, which cannot be sent "
        "in a header or shown as it is; remove it (write the value on one line).",
    ),
    (
        "allowed_origin_regexes",
        ["(unclosed"],
        "'(unclosed' is not a valid regular expression (missing ) in '(unclosed'); fix it, or use a subdomain "
        "wildcard such as https://*.example.com in allowed origins.",
    ),
    (
        "allowed_methods",
        ["GET POST"],
        "'GET POST' is not a valid method: use letters, digits and -, without spaces, commas or colons (one method "
        "per entry, such as \"PUT\"), or '*' for any.",
    ),
    ("allowed_methods", [None], 'None is not a string; write a list of strings, such as ["PUT"].'),
    (
        "allowed_headers",
        ["X Token"],
        "'X Token' is not a valid header name: use letters, digits and -, without spaces, commas or colons (one "
        "header name per entry, such as \"X-Requested-With\"), or '*' for any.",
    ),
    (
        "expose_headers",
        ["X-Total:1"],
        "'X-Total:1' is not a valid header name: use letters, digits and -, without spaces, commas or colons (one "
        "header name per entry, such as \"X-Requested-With\"), or '*' for any.",
    ),
    ("expose_headers", "X-Total", 'Write a list of strings, such as ["X-Requested-With"].'),
    ("max_age", -1, "Max age is a number of seconds, 0 or more; leave it empty to send no header."),
    ("max_age", 3_000_000_000, "Max age is too large; browsers cap it anyway (Chromium at 7200, Firefox at 86400)."),
    ("max_age", "soon", "A valid integer is required."),
    ("priority", True, "A valid integer is required."),
    ("priority", 1.5, "A valid integer is required."),
    ("priority", "5", "A valid integer is required."),
    ("enabled", "maybe", "Write true or false."),
    ("enabled", 1, "Write true or false."),
    ("allow_credentials", "true", "Write true or false."),
    ("name", 5, "Write a string (text in double quotes)."),
    ("description", ["a"], "Write a string (text in double quotes)."),
    ("name", "", "This field may not be blank."),
    ("name", "x" * 201, "Ensure this field has no more than 200 characters."),
]


@pytest.mark.parametrize(("field", "value", "message"), VALIDATION_CASES)
def test_create_refuses_invalid_values_with_the_models_message(
    api_client: APIClient, field: str, value: Any, message: str
) -> None:
    response = api_client.post(POLICIES, body(**{field: value}), format="json")
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not CorsPolicy.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), VALIDATION_CASES[:8])
def test_patch_refuses_invalid_values_with_the_same_message(
    api_client: APIClient, field: str, value: Any, message: str
) -> None:
    policy = CorsPolicyFactory()
    response = api_client.patch(detail(policy), {field: value}, format="json")
    assert response.status_code == 400
    assert response.json() == {field: [message]}


def test_every_invalid_field_is_reported_at_once(api_client: APIClient) -> None:
    response = api_client.post(
        POLICIES,
        {"name": "bad", "path_pattern": "api", "allowed_origins": ["x"], "allowed_methods": ["a b"], "max_age": -5},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"path_pattern", "allowed_origins", "allowed_methods", "max_age"}


def test_missing_required_fields(api_client: APIClient) -> None:
    response = api_client.post(POLICIES, {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["This field is required."], "path_pattern": ["This field is required."]}


def test_star_with_credentials_is_refused_with_the_explanation(api_client: APIClient) -> None:
    response = api_client.post(POLICIES, body(allowed_origins=["*"], allow_credentials=True), format="json")
    assert response.status_code == 400
    assert response.json() == {"allowed_origins": [STAR_WITH_CREDENTIALS]}
    assert "List the origins that need credentials instead" in STAR_WITH_CREDENTIALS


def test_patch_checks_cross_field_rules_against_the_stored_policy(api_client: APIClient) -> None:
    policy = CorsPolicyFactory(allowed_origins=["*"])
    response = api_client.patch(detail(policy), {"allow_credentials": True}, format="json")
    assert response.status_code == 400
    assert response.json() == {"allowed_origins": [STAR_WITH_CREDENTIALS]}
    policy.refresh_from_db()
    assert policy.allow_credentials is False


def test_unknown_fields_are_refused_by_name(api_client: APIClient) -> None:
    response = api_client.post(POLICIES, body(colour="red", allowed_origin="https://a.test"), format="json")
    assert response.status_code == 400
    message = f"Unknown field; write only these fields: {WRITABLE}."
    assert response.json() == {"colour": [message], "allowed_origin": [message]}


def test_unknown_fields_are_reported_with_the_other_errors(api_client: APIClient) -> None:
    response = api_client.post(POLICIES, {"name": "x", "path_pattern": "x", "colour": "red"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"path_pattern", "colour"}


def test_duplicate_name_is_refused(api_client: APIClient) -> None:
    CorsPolicyFactory(name="items")
    response = api_client.post(POLICIES, body(), format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["CORS policy with this name already exists."]}


def test_a_name_taken_concurrently_is_a_400_not_a_500(api_client: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unique validator ran before another writer took the name: the database refuses, we say why."""

    def conflict(self: CorsPolicy, *args: Any, **kwargs: Any) -> None:
        raise IntegrityError("UNIQUE constraint failed: cors_policies_corspolicy.name")

    monkeypatch.setattr(CorsPolicy, "save", conflict)
    response = api_client.post(POLICIES, body(), format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["CORS policy with this name already exists."]}
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize(
    ("payload", "content_type", "status", "expected"),
    [
        ("{bad", "application/json", 400, "JSON parse error - Expecting property name enclosed in double quotes"),
        ("", "application/json", 400, None),
        ("[1, 2]", "application/json", 400, None),
        ('"text"', "application/json", 400, None),
        ("null", "application/json", 400, None),
        ('{"max_age": NaN}', "application/json", 400, "JSON parse error"),
        # Unclosed: Python 3.11 stops at its recursion limit, 3.13 at the end of the input. A 400 either way.
        ("[" * 5000, "application/json", 400, "JSON parse error - "),
        (
            "[" * 5000 + "]" * 5000,
            "application/json",
            400,
            f"JSON parse error - nested more than {MAX_DEPTH} levels deep.",
        ),
        (
            '{"allowed_origins": ' + "[" * 40 + "]" * 40 + "}",
            "application/json",
            400,
            f"JSON parse error - nested more than {MAX_DEPTH} levels deep.",
        ),
        ("name=x&path_pattern=/x", "application/x-www-form-urlencoded", 415, None),
        ("name: x", "text/plain", 415, 'Unsupported media type "text/plain" in request.'),
        ('{"name": "x"}', "application/json; charset=no-such-charset", 400, None),
    ],
)
def test_malformed_bodies_are_4xx_never_500(
    api_client: APIClient, payload: str, content_type: str, status: int, expected: str | None
) -> None:
    response = api_client.generic("POST", POLICIES, payload, content_type=content_type)
    assert response.status_code == status, response.content
    if expected is not None:
        assert response.json()["detail"].startswith(expected)


def test_non_object_body_says_what_was_expected(api_client: APIClient) -> None:
    response = api_client.post(POLICIES, [1, 2], format="json")
    assert response.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_too_deep_counts_levels() -> None:
    assert not too_deep({"a": [{"b": ["c"]}]}, limit=4)
    assert too_deep({"a": [{"b": ["c"]}]}, limit=3)
    assert not too_deep("text")


# --------------------------------------------------------------------------------------------------
# List: pagination, filters, ordering
# --------------------------------------------------------------------------------------------------


def names(response: Any) -> list[str]:
    return [item["name"] for item in response.json()["results"]]


def test_list_is_paginated_in_precedence_order(api_client: APIClient) -> None:
    CorsPolicyFactory(name="low", path_pattern="/b/**", priority=0)
    CorsPolicyFactory(name="high", path_pattern="/z/**", priority=5)
    CorsPolicyFactory(name="a", path_pattern="/a/**", priority=0)
    response = api_client.get(POLICIES)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert data["next"] is None and data["previous"] is None
    assert names(response) == ["high", "a", "low"]


def test_page_size_and_page(api_client: APIClient) -> None:
    for index in range(5):
        CorsPolicyFactory(name=f"p{index}", path_pattern=f"/p{index}")
    response = api_client.get(POLICIES, {"page_size": 2, "page": 2, "ordering": "name"})
    assert names(response) == ["p2", "p3"]
    assert response.json()["next"].endswith("page=3&page_size=2") or "page=3" in response.json()["next"]
    assert api_client.get(POLICIES, {"page": 9}).status_code == 404


def test_page_size_is_capped_at_200(api_client: APIClient) -> None:
    CorsPolicy.objects.bulk_create(CorsPolicy(name=f"p{i:04}", path_pattern=f"/p{i}") for i in range(201))
    response = api_client.get(POLICIES, {"page_size": 5000})
    assert len(response.json()["results"]) == 200
    assert response.json()["count"] == 201
    assert len(api_client.get(POLICIES).json()["results"]) == 100  # the default


@pytest.mark.parametrize(("value", "expected"), [("true", ["on"]), ("1", ["on"]), ("false", ["off"]), ("0", ["off"])])
def test_filter_enabled(api_client: APIClient, value: str, expected: list[str]) -> None:
    CorsPolicyFactory(name="on", enabled=True)
    CorsPolicyFactory(name="off", enabled=False)
    assert names(api_client.get(POLICIES, {"enabled": value})) == expected


@pytest.mark.parametrize("value", ["sometimes", ""])
def test_filter_enabled_refuses_other_values(api_client: APIClient, value: str) -> None:
    response = api_client.get(POLICIES, {"enabled": value})
    assert response.status_code == 400
    assert response.json() == {"enabled": [f"Write enabled=1 or enabled=0 (or true / false), not {value!r}."]}


@pytest.mark.parametrize("name", ["page", "page_size"])
@pytest.mark.parametrize("value", ["", "0", "-1", "two", "1.5", "\u00b9"])
def test_pagination_parameters_must_be_whole_numbers(api_client: APIClient, name: str, value: str) -> None:
    response = api_client.get(POLICIES, {name: value})
    assert response.status_code == 400
    assert response.json() == {name: [f"Write {name}=N with N a whole number from 1, not {value!r}."]}


def test_search_refuses_null_characters(api_client: APIClient) -> None:
    response = api_client.get(POLICIES, {"search": "a\x00b"})
    assert response.status_code == 400
    assert response.json() == {"search": ["Null characters are not allowed."]}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("public", ["public-api"]),  # name
        ("/health", ["health"]),  # path pattern
        ("partner.example", ["partner"]),  # an allowed origin
        ("PARTNER.EXAMPLE", ["partner"]),  # case-insensitive
        ("localhost:3000", ["health"]),
        ("nothing-like-it", []),
    ],
)
def test_search_covers_name_path_and_origins(api_client: APIClient, term: str, expected: list[str]) -> None:
    CorsPolicyFactory(name="public-api", path_pattern="/api/public/**", allowed_origins=["*"])
    CorsPolicyFactory(name="partner", path_pattern="/api/partner/**", allowed_origins=["https://app.partner.example"])
    CorsPolicyFactory(name="health", path_pattern="/health", allowed_origins=["http://localhost:3000"])
    assert names(api_client.get(POLICIES, {"search": term})) == expected


def test_ordering(api_client: APIClient) -> None:
    CorsPolicyFactory(name="b", priority=1)
    CorsPolicyFactory(name="a", priority=2)
    CorsPolicyFactory(name="c", priority=0)
    assert names(api_client.get(POLICIES, {"ordering": "name"})) == ["a", "b", "c"]
    assert names(api_client.get(POLICIES, {"ordering": "-name"})) == ["c", "b", "a"]
    assert names(api_client.get(POLICIES, {"ordering": "priority"})) == ["c", "b", "a"]
    assert names(api_client.get(POLICIES, {"ordering": "allowed_origins"})) == ["a", "b", "c"]  # not sortable: ignored


# --------------------------------------------------------------------------------------------------
# Permissions
# --------------------------------------------------------------------------------------------------

ROLES: dict[str, tuple[str, ...] | None] = {
    "anonymous": None,
    "plain": (),
    "viewer": ("view",),
    "editor": ("view", "add", "change"),
    "manager": ("view", "add", "change", "delete"),
    "superuser": ("*",),
}


def user_for(role: str) -> Any:
    actions = ROLES[role]
    if actions is None:
        return None
    if actions == ("*",):
        return make_user(role, superuser=True)
    return make_user(role, *actions)


def document() -> dict[str, Any]:
    return {"policies": [{"name": "imported", "path_pattern": "/imported"}]}


OPERATIONS: dict[str, Callable[[APIClient, CorsPolicy], Any]] = {
    "list": lambda c, p: c.get(POLICIES),
    "retrieve": lambda c, p: c.get(detail(p)),
    "options": lambda c, p: c.options(POLICIES),
    "create": lambda c, p: c.post(POLICIES, body(), format="json"),
    "put": lambda c, p: c.put(detail(p), body(name=p.name), format="json"),
    "patch": lambda c, p: c.patch(detail(p), {"priority": 3}, format="json"),
    "delete": lambda c, p: c.delete(detail(p)),
    "evaluate": lambda c, p: c.post(EVALUATE, {"origin": None, "method": "GET", "path": "/x"}, format="json"),
    "export": lambda c, p: c.get(EXPORT),
    "import": lambda c, p: c.post(IMPORT, document(), format="json"),
    "import-dry-run": lambda c, p: c.post(f"{IMPORT}?dry_run=1", document(), format="json"),
    "import-prune": lambda c, p: c.post(f"{IMPORT}?prune=1", document(), format="json"),
    "root": lambda c, p: c.get(ROOT),
}

OK = {
    "list": 200,
    "retrieve": 200,
    "options": 200,
    "create": 201,
    "put": 200,
    "patch": 200,
    "delete": 204,
    "evaluate": 200,
    "export": 200,
    "import": 200,
    "import-dry-run": 200,
    "import-prune": 200,
    "root": 200,
}

# What each role may do; everything else is 403 (401 for anonymous).
ALLOWED: dict[str, set[str]] = {
    "anonymous": set(),
    "plain": set(),
    "viewer": {"list", "retrieve", "options", "evaluate", "export", "root"},
    "editor": {"list", "retrieve", "options", "evaluate", "export", "root", "create", "put", "patch"}
    | {"import", "import-dry-run"},
    "manager": set(OK),
    "superuser": set(OK),
}

MATRIX = [(role, operation) for role in ROLES for operation in OPERATIONS]


@pytest.mark.parametrize(("role", "operation"), MATRIX, ids=[f"{r}-{o}" for r, o in MATRIX])
def test_permission_matrix(role: str, operation: str, committed: Callable[[], Any]) -> None:
    policy = CorsPolicyFactory(name="existing")
    client = client_for(user_for(role))
    response = OPERATIONS[operation](client, policy)
    refused = 401 if role == "anonymous" else 403
    expected = OK[operation] if operation in ALLOWED[role] else refused
    assert response.status_code == expected, response.content
    if expected == 401:
        assert response["WWW-Authenticate"] == "Token"
        assert response.json() == {"detail": "Authentication credentials were not provided."}
    if expected == 403:
        assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_forbidden_writes_change_nothing() -> None:
    policy = CorsPolicyFactory(name="existing", priority=1)
    viewer = client_for(make_user("viewer", "view"))
    assert viewer.patch(detail(policy), {"priority": 9}, format="json").status_code == 403
    assert viewer.post(f"{IMPORT}?prune=1", {"policies": []}, format="json").status_code == 403
    policy.refresh_from_db()
    assert policy.priority == 1


def test_anonymous_gets_403_when_session_auth_comes_first() -> None:
    """DRF answers 401 only when the first authentication class has a challenge to send."""
    classes = [f"rest_framework.authentication.{cls.__name__}" for cls in (SessionAuthentication, TokenAuthentication)]
    with override_settings(CORS_POLICIES={"API_AUTHENTICATION_CLASSES": classes}):
        response = APIClient().get(POLICIES)
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("staff", 200), ("superuser", 200)])
def test_permission_classes_are_configurable(role: str, status: int) -> None:
    user = make_user(role, "view", superuser=role == "superuser")
    if role == "staff":
        user.is_staff = True
        user.save()
    with override_settings(CORS_POLICIES={"API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"]}):
        assert client_for(user).get(POLICIES).status_code == status


def test_token_authentication(admin_user: Any) -> None:
    token = Token.objects.create(user=admin_user)
    client = APIClient()
    assert client.get(POLICIES, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    response = client.get(POLICIES, HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_session_authentication_enforces_csrf(admin_user: Any) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.get(POLICIES).status_code == 200
    response = client.post(POLICIES, body(), format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    assert not CorsPolicy.objects.exists()


# --------------------------------------------------------------------------------------------------
# ETag / If-Match
# --------------------------------------------------------------------------------------------------


def test_etag_changes_on_every_update(api_client: APIClient) -> None:
    policy = CorsPolicyFactory()
    first = api_client.get(detail(policy))["ETag"]
    assert api_client.get(detail(policy))["ETag"] == first  # stable while nothing changes
    second = api_client.patch(detail(policy), {"priority": 1}, format="json")["ETag"]
    assert second != first
    third = api_client.patch(detail(policy), {"priority": 1}, format="json")["ETag"]  # same values, new updated_at
    assert third != second
    assert api_client.get(detail(policy))["ETag"] == third


@pytest.mark.parametrize("method", ["put", "patch"])
def test_if_match_current_etag_allows_the_write(api_client: APIClient, method: str) -> None:
    policy = CorsPolicyFactory()
    etag = api_client.get(detail(policy))["ETag"]
    response = getattr(api_client, method)(detail(policy), body(name=policy.name), format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_stale_if_match_is_412_and_changes_nothing(api_client: APIClient, method: str) -> None:
    policy = CorsPolicyFactory(priority=0)
    stale = api_client.get(detail(policy))["ETag"]
    api_client.patch(detail(policy), {"priority": 1}, format="json")  # someone else's change
    kwargs: dict[str, Any] = {"HTTP_IF_MATCH": stale}
    if method != "delete":
        kwargs.update(data=body(name=policy.name, priority=5), format="json")
    response = getattr(api_client, method)(detail(policy), **kwargs)
    assert response.status_code == 412
    assert response.json() == {
        "detail": f"The policy changed since you read it: its ETag is no longer {stale}. GET it again, reapply your "
        "change and send the new ETag in If-Match (or leave If-Match out to overwrite whatever is there)."
    }
    policy.refresh_from_db()
    assert policy.priority == 1


@pytest.mark.parametrize(
    ("header", "status"), [("*", 200), ('"nope", {current}', 200), ("W/{current}", 412), ("garbage", 412)]
)
def test_if_match_forms(api_client: APIClient, header: str, status: int) -> None:
    policy = CorsPolicyFactory()
    current = api_client.get(detail(policy))["ETag"]
    response = api_client.patch(
        detail(policy), {"priority": 2}, format="json", HTTP_IF_MATCH=header.format(current=current)
    )
    assert response.status_code == status


def test_without_if_match_last_write_wins(api_client: APIClient) -> None:
    policy = CorsPolicyFactory()
    api_client.patch(detail(policy), {"priority": 1}, format="json")
    assert api_client.patch(detail(policy), {"priority": 2}, format="json").status_code == 200
    policy.refresh_from_db()
    assert policy.priority == 2


def test_if_match_on_delete_with_current_etag(api_client: APIClient) -> None:
    policy = CorsPolicyFactory()
    etag = api_client.get(detail(policy))["ETag"]
    assert api_client.delete(detail(policy), HTTP_IF_MATCH=etag).status_code == 204


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not connection.features.has_select_for_update, reason="needs row locks (PostgreSQL)")
def test_two_writers_with_the_same_etag_cannot_both_win(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first writer holds the row lock while it writes; the second waits, then sees a new ETag: 412."""
    admin = make_user("root", superuser=True)
    policy = CorsPolicyFactory(priority=0)
    first_client = client_for(admin)
    etag = first_client.get(detail(policy))["ETag"]
    checked = threading.Event()
    original = views.CorsPolicyViewSet.check_if_match

    def slow_check(self: Any, request: Any, instance: CorsPolicy) -> None:
        original(self, request, instance)
        if threading.current_thread().name == "first":
            checked.set()
            time.sleep(0.5)  # still inside the transaction, holding the lock

    monkeypatch.setattr(views.CorsPolicyViewSet, "check_if_match", slow_check)
    results: dict[str, int] = {}

    def write(name: str, priority: int) -> None:
        try:
            response = client_for(admin).patch(
                detail(policy), {"priority": priority}, format="json", HTTP_IF_MATCH=etag
            )
            results[name] = response.status_code
        finally:
            connection.close()

    first = threading.Thread(target=write, args=("first", 1), name="first")
    second = threading.Thread(target=write, args=("second", 2), name="second")
    first.start()
    assert checked.wait(5)
    second.start()
    first.join(10)
    second.join(10)
    assert results == {"first": 200, "second": 412}
    policy.refresh_from_db()
    assert policy.priority == 1


# --------------------------------------------------------------------------------------------------
# The admin's history
# --------------------------------------------------------------------------------------------------


def entries() -> list[LogEntry]:
    return list(LogEntry.objects.order_by("pk"))


def test_create_update_delete_are_logged_like_the_admin(api_client: APIClient, admin_user: Any) -> None:
    policy_id = api_client.post(POLICIES, body(), format="json").json()["id"]
    api_client.patch(detail(policy_id), {"allowed_origins": ["https://b.example.com"], "max_age": 60}, format="json")
    api_client.put(detail(policy_id), body(allowed_origins=["https://b.example.com"], max_age=60), format="json")
    api_client.delete(detail(policy_id))

    added, changed, unchanged, deleted = entries()
    for entry in (added, changed, unchanged, deleted):
        assert entry.user_id == admin_user.pk
        assert entry.object_id == str(policy_id)
        assert entry.object_repr == "items (/api/items/**)"
        assert entry.content_type.model_class() is CorsPolicy
    assert added.action_flag == ADDITION
    assert json.loads(added.change_message) == [{"added": {}}]
    assert added.get_change_message() == "Added."
    assert changed.action_flag == CHANGE
    assert json.loads(changed.change_message) == [{"changed": {"fields": ["Allowed origins", "Max age"]}}]
    assert changed.get_change_message() == "Changed Allowed origins and Max age."
    assert unchanged.get_change_message() == "No fields changed."
    assert deleted.action_flag == DELETION
    assert deleted.change_message == ""


def test_refused_writes_are_not_logged(api_client: APIClient) -> None:
    policy = CorsPolicyFactory()
    api_client.patch(detail(policy), {"max_age": -1}, format="json")
    api_client.post(POLICIES, body(path_pattern="x"), format="json")
    stale = '"stale"'
    api_client.delete(detail(policy), HTTP_IF_MATCH=stale)
    assert entries() == []


# --------------------------------------------------------------------------------------------------
# Export / import
# --------------------------------------------------------------------------------------------------


def test_export_lists_every_policy_by_name_without_ids(api_client: APIClient) -> None:
    CorsPolicyFactory(name="b", enabled=False, max_age=5)
    CorsPolicyFactory(name="a")
    response = api_client.get(EXPORT)
    assert response.status_code == 200
    policies = response.json()["policies"]
    assert [p["name"] for p in policies] == ["a", "b"]
    assert list(policies[1]) == WRITABLE.split(", ")
    assert policies[1]["enabled"] is False
    assert policies[1]["max_age"] == 5


def test_export_then_import_round_trip(api_client: APIClient) -> None:
    CorsPolicyFactory(name="a", allowed_origins=["https://*.example.com"], max_age=600, description="first")
    CorsPolicyFactory(name="b", path_pattern="^/legacy/", allowed_origin_regexes=[r"^https://x\d+\.example\.com$"])
    exported = api_client.get(EXPORT).json()
    CorsPolicy.objects.all().delete()

    response = api_client.post(IMPORT, exported, format="json")
    assert response.status_code == 200
    assert response.json() == {"created": ["a", "b"], "updated": {}, "deleted": [], "unchanged": [], "dry_run": False}
    assert api_client.get(EXPORT).json() == exported

    again = api_client.post(IMPORT, exported, format="json").json()
    assert again == {"created": [], "updated": {}, "deleted": [], "unchanged": ["a", "b"], "dry_run": False}


def test_import_creates_updates_and_reports_changed_fields(api_client: APIClient, admin_user: Any) -> None:
    CorsPolicyFactory(name="same", path_pattern="/same", allowed_origins=["https://a.example.com"])
    old = CorsPolicyFactory(name="changed", path_pattern="/old", max_age=5)
    CorsPolicyFactory(name="untouched", path_pattern="/u")
    same = api_client.get(EXPORT).json()["policies"][1]
    assert same["name"] == "same"
    document = {
        "policies": [
            same,
            {"name": "changed", "path_pattern": "/new", "allowed_methods": ["put"]},
            {"name": "fresh", "path_pattern": "/fresh", "allowed_origins": ["HTTPS://Fresh.example.com:443"]},
        ]
    }
    response = api_client.post(IMPORT, document, format="json")
    assert response.status_code == 200
    # A field left out takes its default: the document is the whole truth about each policy it names.
    assert response.json() == {
        "created": ["fresh"],
        "updated": {"changed": ["path_pattern", "allowed_origins", "allowed_methods", "allowed_headers", "max_age"]},
        "deleted": [],
        "unchanged": ["same"],
        "dry_run": False,
    }
    old.refresh_from_db()
    assert old.path_pattern == "/new"
    assert old.allowed_methods == ["PUT"]
    assert old.max_age is None
    assert CorsPolicy.objects.get(name="fresh").allowed_origins == ["https://fresh.example.com"]
    assert CorsPolicy.objects.filter(name="untouched").exists()

    logged = {(entry.object_repr, entry.action_flag, entry.get_change_message()) for entry in entries()}
    assert logged == {
        ("fresh (/fresh)", ADDITION, "Added."),
        (
            "changed (/new)",
            CHANGE,
            "Changed Path pattern, Allowed origins, Allowed methods, Allowed headers and Max age.",
        ),
    }
    assert {entry.user_id for entry in entries()} == {admin_user.pk}


def test_import_prune_deletes_the_others(api_client: APIClient) -> None:
    CorsPolicyFactory(name="keep", path_pattern="/keep")
    gone = CorsPolicyFactory(name="gone")
    response = api_client.post(
        f"{IMPORT}?prune=1", {"policies": [{"name": "keep", "path_pattern": "/keep"}]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["deleted"] == ["gone"]
    assert list(CorsPolicy.objects.values_list("name", flat=True)) == ["keep"]
    deletion = LogEntry.objects.get(action_flag=DELETION)
    assert deletion.object_id == str(gone.pk)
    assert deletion.object_repr == str(gone)


def test_import_dry_run_writes_nothing(api_client: APIClient) -> None:
    CorsPolicyFactory(name="gone")
    CorsPolicyFactory(name="changed", path_pattern="/old")
    document = {"policies": [{"name": "changed", "path_pattern": "/new"}, {"name": "fresh", "path_pattern": "/f"}]}
    before = api_client.get(EXPORT).json()
    response = api_client.post(f"{IMPORT}?prune=true&dry_run=true", document, format="json")
    assert response.status_code == 200
    assert response.json()["created"] == ["fresh"]
    assert response.json()["deleted"] == ["gone"]
    assert "changed" in response.json()["updated"]
    assert response.json()["dry_run"] is True
    assert api_client.get(EXPORT).json() == before
    assert entries() == []


def test_import_validation_errors_by_index_and_field_leave_the_database_unchanged(api_client: APIClient) -> None:
    CorsPolicyFactory(name="existing", path_pattern="/e")
    before = api_client.get(EXPORT).json()
    document = {
        "policies": [
            {"name": "ok", "path_pattern": "/ok"},
            {"name": "bad", "path_pattern": "api/**", "allowed_origins": ["*"], "allow_credentials": True},
            {"name": "worse", "path_pattern": "/w", "allowed_methods": "GET", "colour": "red"},
            "not a policy",
            {"name": "ok", "path_pattern": "/again"},
        ]
    }
    response = api_client.post(f"{IMPORT}?prune=1", document, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "policies": {
            "1": {
                "path_pattern": [
                    "'api/**' must start with '/' (a path or glob, such as /api/**) or with '^' (a regular expression)."
                ]
            },
            "2": {
                "allowed_methods": ['Write a list of strings, such as ["PUT"].'],
                "colour": [f"Unknown field; write only these fields: {WRITABLE}."],
            },
            "3": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
            "4": {
                "name": [
                    "'ok' is already the name of policy 0 in this document; each policy appears once "
                    "(names are unique)."
                ]
            },
        }
    }
    assert api_client.get(EXPORT).json() == before
    assert entries() == []


def test_import_cross_field_error_is_reported_per_policy(api_client: APIClient) -> None:
    document = {
        "policies": [{"name": "bad", "path_pattern": "/b", "allowed_origins": ["*"], "allow_credentials": True}]
    }
    response = api_client.post(IMPORT, document, format="json")
    assert response.json() == {"policies": {"0": {"allowed_origins": [STAR_WITH_CREDENTIALS]}}}


@pytest.mark.parametrize(
    ("document", "errors"),
    [
        (
            [],
            {
                "non_field_errors": [
                    'Send a JSON object with a "policies" list, such as the export returns: {"policies": [...]}.'
                ]
            },
        ),
        (
            {},
            {
                "policies": [
                    'This field is required: write "policies": [...], a list of policies such as the export returns.'
                ]
            },
        ),
        (
            {"policies": {"name": "x"}},
            {"policies": ['Write a list of policies, such as [{"name": "public-api", "path_pattern": "/api/**"}].']},
        ),
        (
            {"policies": [], "version": 2},
            {"version": ["Unknown field; a document has only policies."]},
        ),
    ],
)
def test_import_document_shape_errors(api_client: APIClient, document: Any, errors: dict[str, Any]) -> None:
    response = api_client.post(IMPORT, document, format="json")
    assert response.status_code == 400
    assert response.json() == errors


def test_import_flags_must_be_booleans(api_client: APIClient) -> None:
    response = api_client.post(f"{IMPORT}?dry_run=perhaps", {"policies": []}, format="json")
    assert response.status_code == 400
    assert response.json() == {"dry_run": ["Write dry_run=1 or dry_run=0 (or true / false), not 'perhaps'."]}


def test_import_of_an_empty_list_with_prune_deletes_everything(api_client: APIClient) -> None:
    CorsPolicyFactory(name="a")
    response = api_client.post(f"{IMPORT}?prune=yes", {"policies": []}, format="json")
    assert response.json()["deleted"] == ["a"]
    assert not CorsPolicy.objects.exists()


# --------------------------------------------------------------------------------------------------
# Evaluate
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def public_api(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(
        name="public-api",
        path_pattern="/api/public/**",
        allowed_origins=["https://app.example.com"],
        allowed_methods=["GET", "POST"],
        allowed_headers=["Content-Type"],
        expose_headers=["X-Total-Count"],
        max_age=600,
    )


def evaluate(api_client: APIClient, **fields: Any) -> Any:
    response = api_client.post(EVALUATE, {"method": "GET", "path": "/api/public/items", **fields}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_evaluate_allowed_request(api_client: APIClient, public_api: CorsPolicy) -> None:
    result = evaluate(api_client, origin="https://app.example.com")
    assert result["allowed"] is True
    assert result["policy"] == {"id": public_api.pk, "name": "public-api"}
    assert result["response_headers"] == {
        "Access-Control-Allow-Origin": "https://app.example.com",
        "Access-Control-Expose-Headers": "X-Total-Count",
    }
    assert result["vary"] == ["Origin"]
    assert result["reasons"] == []
    assert result["explanation"] == [
        "Policy 'public-api' applies: its glob '/api/public/**' matches /api/public/items (priority 0)."
    ]


def test_evaluate_allowed_preflight(api_client: APIClient, public_api: CorsPolicy) -> None:
    result = evaluate(
        api_client, origin="https://app.example.com", method="POST", request_headers=["content-type"], preflight=True
    )
    assert result["allowed"] is True
    assert result["response_headers"] == {
        "Access-Control-Allow-Origin": "https://app.example.com",
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "600",
    }


def test_evaluate_refused_origin(api_client: APIClient, public_api: CorsPolicy) -> None:
    result = evaluate(api_client, origin="https://x.test")
    assert result["allowed"] is False
    assert result["response_headers"] == {}
    assert result["reasons"] == [
        "origin https://x.test is not allowed by policy 'public-api' (it allows https://app.example.com)"
    ]


def test_evaluate_refused_method(api_client: APIClient, public_api: CorsPolicy) -> None:
    result = evaluate(api_client, origin="https://app.example.com", method="DELETE", preflight=True)
    assert result["allowed"] is False
    assert result["reasons"] == ["method DELETE is not in the allowed methods GET, POST"]


def test_evaluate_refused_header(api_client: APIClient, public_api: CorsPolicy) -> None:
    result = evaluate(
        api_client, origin="https://app.example.com", method="PUT", request_headers=["X-Token"], preflight=True
    )
    assert result["reasons"] == [
        "method PUT is not in the allowed methods GET, POST",
        "request header x-token is not in the allowed headers Content-Type",
    ]


def test_evaluate_refused_private_network(api_client: APIClient, public_api: CorsPolicy) -> None:
    result = evaluate(api_client, origin="https://app.example.com", preflight=True, private_network=True)
    assert result["reasons"] == [
        "policy 'public-api' does not allow private network access (Access-Control-Request-Private-Network)"
    ]


def test_evaluate_no_policy(api_client: APIClient, public_api: CorsPolicy) -> None:
    result = evaluate(api_client, origin="https://app.example.com", path="/elsewhere")
    assert result == {
        "allowed": False,
        "policy": None,
        "response_headers": {},
        "vary": [],
        "reasons": ["no policy covers /elsewhere"],
        "explanation": ["No enabled policy's path pattern matches /elsewhere."],
        "csrf_trusted": False,
    }


def test_evaluate_without_origin(api_client: APIClient, public_api: CorsPolicy) -> None:
    result = evaluate(api_client)
    assert result["reasons"] == ["the request has no Origin header, so it is not a cross-origin browser request"]


def test_evaluate_sees_api_changes_at_once(api_client: APIClient, public_api: CorsPolicy, committed: Any) -> None:
    assert evaluate(api_client, origin="https://x.test")["allowed"] is False
    with committed():
        api_client.patch(detail(public_api), {"allowed_origins": ["https://x.test"]}, format="json")
    assert evaluate(api_client, origin="https://x.test")["allowed"] is True


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"method": ["This field is required."], "path": ["This field is required."]}),
        ({"method": "GET", "path": "api/x"}, {"path": ["Write a path starting with /, such as /api/items/5."]}),
        ({"method": "", "path": "/"}, {"method": ["This field may not be blank."]}),
        (
            {"method": "GET", "path": "/", "request_headers": "X-Token"},
            {"request_headers": ['Expected a list of items but got type "str".']},
        ),
        ({"method": "GET", "path": "/", "preflight": "sometimes"}, {"preflight": ["Write true or false."]}),
        ({"method": "GET", "path": "/", "origin": 5}, {"origin": ["Write a string (text in double quotes)."]}),
        (
            {"method": 5, "path": 5},
            {
                "method": ["Write a string (text in double quotes)."],
                "path": ["Write a path starting with /, such as /api/items/5."],
            },
        ),
        ({"method": "GET", "path": "/", "origin": None}, None),
        (
            {"method": "GET", "path": "/", "headers": []},
            {
                "headers": [
                    "Unknown field; write only these fields: origin, method, path, request_headers, preflight, "
                    "private_network."
                ]
            },
        ),
    ],
)
def test_evaluate_validates_its_body(
    api_client: APIClient, payload: dict[str, Any], errors: dict[str, Any] | None
) -> None:
    response = api_client.post(EVALUATE, payload, format="json")
    if errors is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert response.json() == errors


def test_evaluate_without_a_snapshot_is_503(api_client: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "get", lambda: None)
    response = api_client.post(EVALUATE, {"method": "GET", "path": "/"}, format="json")
    assert response.status_code == 503
    assert response.json() == {"detail": views.SNAPSHOT_UNAVAILABLE}
    assert "could not be loaded from the database" in views.SNAPSHOT_UNAVAILABLE


# --------------------------------------------------------------------------------------------------
# The cache contract: a change through the API is served on the very next request
# --------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_api_change_is_served_by_the_middleware_on_the_next_request() -> None:
    admin = make_user("root", superuser=True)
    CorsPolicyFactory(name="health", path_pattern="/health", allowed_origins=["https://a.example.com"])
    api_client = client_for(admin)
    browser = Client()
    origin = "https://b.example.com"

    assert "Access-Control-Allow-Origin" not in browser.get("/health", HTTP_ORIGIN=origin)
    policy_id = api_client.get(POLICIES, {"search": "health"}).json()["results"][0]["id"]
    assert api_client.patch(detail(policy_id), {"allowed_origins": [origin]}, format="json").status_code == 200
    assert browser.get("/health", HTTP_ORIGIN=origin)["Access-Control-Allow-Origin"] == origin

    assert api_client.delete(detail(policy_id)).status_code == 204
    assert "Access-Control-Allow-Origin" not in browser.get("/health", HTTP_ORIGIN=origin)

    created = api_client.post(
        POLICIES, {"name": "items", "path_pattern": "/api/public/**", "allowed_origins": ["*"]}, format="json"
    )
    assert created.status_code == 201
    assert browser.get("/api/public/items/", HTTP_ORIGIN=origin)["Access-Control-Allow-Origin"] == "*"

    imported = api_client.post(
        f"{IMPORT}?prune=1",
        {"policies": [{"name": "items", "path_pattern": "/api/public/**", "allowed_origins": [origin]}]},
        format="json",
    )
    assert imported.json()["updated"] == {"items": ["allowed_origins"]}
    assert browser.get("/api/public/items/", HTTP_ORIGIN=origin)["Access-Control-Allow-Origin"] == origin


# --------------------------------------------------------------------------------------------------
# The schema and its UI
# --------------------------------------------------------------------------------------------------


def test_schema_is_openapi_3_and_covers_this_api_only(api_client: APIClient) -> None:
    response = api_client.get("/api/cors/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "CORS policies API"
    assert sorted(schema["paths"]) == [
        "/api/cors/evaluate/",
        "/api/cors/observed/",
        "/api/cors/observed/{id}/allow/",
        "/api/cors/policies/",
        "/api/cors/policies/export/",
        "/api/cors/policies/import/",
        "/api/cors/policies/{id}/",
    ]
    components = schema["components"]["schemas"]
    assert components["CorsPolicyRequest"]["additionalProperties"] is False
    assert components["CorsPolicyRequest"]["properties"]["allowed_origins"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": components["CorsPolicyRequest"]["properties"]["allowed_origins"]["description"],
    }
    assert set(components["Decision"]["properties"]) == {
        "allowed",
        "policy",
        "response_headers",
        "vary",
        "reasons",
        "explanation",
        "csrf_trusted",
    }
    put = schema["paths"]["/api/cors/policies/{id}/"]["put"]
    assert "412" in put["responses"]
    assert any(parameter["name"] == "If-Match" for parameter in put["parameters"])
    assert "ETag" in schema["paths"]["/api/cors/policies/{id}/"]["get"]["responses"]["200"]["headers"]


def test_schema_ui_page(api_client: APIClient) -> None:
    response = api_client.get("/api/cors/schema/docs/")
    assert response.status_code == 200
    assert b"/api/cors/schema/" in response.content


@pytest.mark.parametrize("url", ["/api/cors/nope/", "/api/cors/policies/1/extra/", "/api/cors/policies/a%2Fb/"])
def test_other_urls_under_the_api_are_json_404s(api_client: APIClient, url: str) -> None:
    response = api_client.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no such endpoint here; GET the API root for the list."}


def test_urls_without_a_slash_still_redirect(api_client: APIClient) -> None:
    response = api_client.get("/api/cors/policies")
    assert response.status_code == 301
    assert response["Location"] == "/api/cors/policies/"


def test_no_docs_page_without_the_sidecar_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from django.apps import apps

    from cors_policies.api import urls

    installed = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name != "drf_spectacular_sidecar" and installed(name))
    try:
        names = [getattr(pattern, "name", None) for pattern in importlib.reload(urls).urlpatterns]
        assert "docs" not in names
        assert "schema" in names
    finally:
        monkeypatch.undo()
        importlib.reload(urls)
    assert "docs" in [getattr(pattern, "name", None) for pattern in urls.urlpatterns]
