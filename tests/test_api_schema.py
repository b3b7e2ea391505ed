"""Schemathesis against the served OpenAPI schema, in-process through the WSGI app: for generated valid and
invalid requests to every operation, as a superuser, no 5xx and every response matching the schema; and for
valid bodies with one string made hostile (a lone surrogate, control characters, thousands of digits), a JSON
4xx, never a 5xx. CI runs it with the suite; it takes a few seconds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from testproject.wsgi import application
from tests.factories import CorsPolicyFactory

SCHEMA_URL = "/api/cors/schema/?format=json"
#: Per operation and mode: 19 runs of 15 examples take a few seconds (300 each, tried locally, about a minute).
MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def _in_test_transaction(db: None) -> Iterator[None]:
    """Requests go through the real WSGI handler, whose request signals would close the test's connection
    (and with it the transaction pytest-django rolls back); Django's test client disconnects them too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Invalid data must be refused; 412 counts too: a stale If-Match is checked before the body is read, as
# RFC 9110 (13.2.2) orders it.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "412", "415", "422", "428", "429", "5xx"]
CONFIG = {"checks": {"negative_data_rejection": {"expected-statuses": REJECTED}}}


@pytest.fixture
def api_schema(_in_test_transaction: None, token: str) -> Any:
    """The schema, read as the API's superuser: it needs the API's permission."""
    config = schemathesis.Config.from_dict(CONFIG)
    return schemathesis.openapi.from_wsgi(
        SCHEMA_URL, application, config=config, headers={"Authorization": f"Token {token}"}
    )


@pytest.fixture
def token(_in_test_transaction: None) -> str:
    admin = get_user_model().objects.create_superuser("schemathesis", "st@example.com", None)
    # A few policies so that ids 1, 2, 3... often exist and detail operations get past 404.
    for index in range(3):
        CorsPolicyFactory(name=f"seed-{index}", path_pattern=f"/seed/{index}/**")
    return Token.objects.create(user=admin).key


OPERATIONS = [
    ("GET", "/api/cors/policies/"),
    ("POST", "/api/cors/policies/"),
    ("GET", "/api/cors/policies/{id}/"),
    ("PUT", "/api/cors/policies/{id}/"),
    ("PATCH", "/api/cors/policies/{id}/"),
    ("DELETE", "/api/cors/policies/{id}/"),
    ("GET", "/api/cors/policies/export/"),
    ("POST", "/api/cors/policies/import/"),
    ("POST", "/api/cors/evaluate/"),
    ("GET", "/api/cors/observed/"),
    ("POST", "/api/cors/observed/{id}/allow/"),
]


def test_schema_lists_every_operation(api_schema: Any) -> None:
    found = {(result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


# The schema is loaded inside each test (it needs the test database: the request passes through the CORS
# middleware), so this drives Hypothesis directly with each operation's strategy rather than through
# ``schemathesis.pytest.from_fixture``, whose node-id handling does not run on pytest 9.
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    # The export takes no input at all: there is nothing to make invalid.
    if not (path.endswith("/export/") and mode is GenerationMode.NEGATIVE)
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES])
def test_operation_conforms_to_the_schema(
    api_schema: Any, token: str, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Token {token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


# -- hostile strings inside otherwise valid bodies --------------------------------------------------------

#: What a JSON body can carry that is not text, or not a sane value: each must be a 4xx naming the problem.
HOSTILE = st.sampled_from(
    ["\ud800", "x\udfff", "a\x00b", "line\r\nSet-Cookie: a=b", "\x1b[31m", "\x85", "9" * 5000, "x" * 100_000]
)
BODY_OPERATIONS = [
    ("POST", "/api/cors/policies/"),
    ("PUT", "/api/cors/policies/{id}/"),
    ("PATCH", "/api/cors/policies/{id}/"),
    ("POST", "/api/cors/policies/import/"),
    ("POST", "/api/cors/evaluate/"),
    ("POST", "/api/cors/observed/{id}/allow/"),
]


def string_leaves(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where the strings of a JSON value are: paths of keys and indexes."""
    if isinstance(value, str):
        return [at]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in string_leaves(item, (*at, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in string_leaves(item, (*at, index))]
    return []


def replace_at(value: Any, at: tuple[Any, ...], new: str) -> None:
    for step in at[:-1]:
        value = value[step]
    value[at[-1]] = new


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=[f"{m} {p}" for m, p in BODY_OPERATIONS])
def test_a_hostile_string_in_a_valid_body_is_a_json_4xx(api_schema: Any, token: str, method: str, path: str) -> None:
    operation = api_schema[path][method]
    headers = {"Authorization": f"Token {token}"}

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE), data=st.data())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any, data: st.DataObject) -> None:
        leaves = string_leaves(case.body)
        if not leaves:
            return
        replace_at(case.body, data.draw(st.sampled_from(leaves)), data.draw(HOSTILE))
        response = case.call(headers=headers)
        assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
        assert response.headers.get("content-type") == ["application/json"], response.headers
        assert response.json()  # a message: detail, or errors by field

    run()
