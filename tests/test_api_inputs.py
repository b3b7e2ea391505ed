"""No input to any API endpoint is a 500: numbers and searches of any length, bodies of any size or shape,
too many parameters. Each is answered as JSON with a message saying what to send instead."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from cors_policies.models import CorsPolicy
from cors_policies.text import MAX_SEARCH_LENGTH, MAX_SEARCH_TERMS
from tests.factories import CorsPolicyFactory

pytestmark = pytest.mark.django_db

POLICIES = "/api/cors/policies/"
OBSERVED = "/api/cors/observed/"
#: More digits than int() converts (4,300) and than any id (19).
HUGE = "9" * 5000
TOO_LARGE = [HUGE, "1" + "0" * 30, "9223372036854775808"]
LONG_NUMBERS = [*TOO_LARGE, "0" * 5000 + "1"]


@pytest.fixture
def api_client() -> APIClient:
    """The API as a superuser, answering even when a view raises (what a real client would see: a 500)."""
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(get_user_model().objects.create_superuser("root", "root@example.com", None))
    return client


def json_answer(response: Any, status: int) -> Any:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    return response.json()


# -- numbers of any length ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", LONG_NUMBERS)
@pytest.mark.parametrize("url", [POLICIES, OBSERVED])
def test_a_page_past_the_last_is_a_404_whatever_its_length(api_client: APIClient, url: str, value: str) -> None:
    if value == "0" * 5000 + "1":  # leading zeros: page 1
        assert json_answer(api_client.get(url, {"page": value}), 200)["count"] == 0
        return
    assert json_answer(api_client.get(url, {"page": value}), 404) == {"detail": "Invalid page."}


@pytest.mark.parametrize("value", LONG_NUMBERS)
def test_a_page_size_of_any_length_is_capped(api_client: APIClient, value: str) -> None:
    CorsPolicyFactory.create_batch(3)
    data = json_answer(api_client.get(POLICIES, {"page_size": value}), 200)
    assert len(data["results"]) == (1 if value.endswith("01") else 3)  # leading zeros read as 1


@pytest.mark.parametrize("value", TOO_LARGE)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_a_policy_id_of_any_length_is_a_404(api_client: APIClient, method: str, value: str) -> None:
    CorsPolicyFactory()
    response = getattr(api_client, method)(f"{POLICIES}{value}/", {}, format="json")
    assert json_answer(response, 404) == {"detail": f"There is no policy with id {value[:30]}."}
    assert CorsPolicy.objects.count() == 1


@pytest.mark.parametrize("value", [HUGE, "9223372036854775808", "0"])
def test_an_observed_policy_filter_of_any_length_is_a_400(api_client: APIClient, value: str) -> None:
    assert json_answer(api_client.get(OBSERVED, {"policy": value}), 400) == {
        "policy": [f"Write policy=N with N a policy's id, not {value[:50]!r}."]
    }


# -- searches of any length -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [POLICIES, OBSERVED])
def test_a_search_of_thousands_of_words_is_a_400(api_client: APIClient, url: str) -> None:
    words = " ".join(f"w{index}" for index in range(3000))
    assert json_answer(api_client.get(url, {"search": words}), 400) == {
        "search": [f"Search for at most {MAX_SEARCH_TERMS} words at once (all must match), not 3000."]
    }


@pytest.mark.parametrize("url", [POLICIES, OBSERVED])
def test_a_search_at_the_limit_runs(api_client: APIClient, url: str) -> None:
    CorsPolicyFactory(name="alpha", path_pattern="/alpha/**")
    words = " ".join(["a"] * MAX_SEARCH_TERMS)
    json_answer(api_client.get(url, {"search": words}), 200)
    json_answer(api_client.get(url, {"search": "x" * MAX_SEARCH_LENGTH}), 200)


@pytest.mark.parametrize("url", [POLICIES, OBSERVED])
def test_a_search_of_a_long_word_is_a_400(api_client: APIClient, url: str) -> None:
    """SQLite refuses a LIKE pattern of 50,000 bytes; nothing a policy holds is that long."""
    assert json_answer(api_client.get(url, {"search": "x" * 100_000}), 400) == {
        "search": [f"Search for at most {MAX_SEARCH_LENGTH} characters at once, not 100000."]
    }


# -- bodies ---------------------------------------------------------------------------------------------


def post_raw(api_client: APIClient, url: str, payload: bytes | str) -> Any:
    return api_client.generic("POST", url, payload, content_type="application/json")


@pytest.mark.parametrize("url", [POLICIES, f"{POLICIES}import/", "/api/cors/evaluate/"])
def test_a_body_over_djangos_limit_is_a_413(api_client: APIClient, settings: Any, url: str) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    payload = json.dumps({"name": "big", "path_pattern": "/big", "description": "x" * 10_000})
    data = json_answer(post_raw(api_client, url, payload), 413)
    assert "larger than 10000 bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)" in data["detail"]
    assert not CorsPolicy.objects.exists()


def test_a_body_at_djangos_limit_is_read(api_client: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    payload = json.dumps({"name": "big", "path_pattern": "/big", "description": ""})
    payload = payload.replace('""', '"' + "x" * (10_000 - len(payload)) + '"')
    assert len(payload) == 10_000
    json_answer(post_raw(api_client, POLICIES, payload), 201)


MALFORMED = [
    b"",
    b"{",
    b'{"name": "x",}',
    b"\xff\xfe{}",
    b'{"name": NaN}',
    b'{"priority": ' + b"9" * 5000 + b"}",
    b'{"\\ud800": 1}',
    b'{"policies": [{"\\udfff": "x"}]}',
    b'{"name": "x", "path_pattern": "/x", "allowed_origins": {"\\ud800": 1}}',
    b"[" * 10_000,
    b"null",
    b'"text"',
]


@pytest.mark.parametrize("payload", MALFORMED)
@pytest.mark.parametrize("url", [POLICIES, f"{POLICIES}import/", "/api/cors/evaluate/"])
def test_malformed_json_is_a_400_with_a_message(api_client: APIClient, url: str, payload: bytes) -> None:
    data = json_answer(post_raw(api_client, url, payload), 400)
    assert data  # a message: detail, or errors by field
    assert not CorsPolicy.objects.exists()


def test_a_key_that_is_not_text_is_named_in_the_message(api_client: APIClient) -> None:
    data = json_answer(post_raw(api_client, POLICIES, b'{"name": "x", "\\ud800": 1}'), 400)
    assert data["detail"].startswith("JSON parse error - a key '\\ud800' contains U+D800 at character 1")


def test_too_many_query_parameters_is_a_json_400(api_client: APIClient) -> None:
    query = "&".join(f"p{index}=1" for index in range(1200))
    data = json_answer(api_client.get(f"{POLICIES}?{query}"), 400)
    assert data == {"detail": "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."}
