"""``GET /api/cors/observed/``: the rows, the filters (as the admin's), ordering, errors and permissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rest_framework.test import APIClient

from cors_policies.models import CorsPolicy, ObservedOrigin
from tests.test_api import client_for, make_user

pytestmark = pytest.mark.django_db

OBSERVED = "/api/cors/observed/"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
def api() -> APIClient:
    return client_for(make_user("viewer", "view"))


@pytest.fixture
def rows(make_policy: Callable[..., CorsPolicy]) -> dict[str, ObservedOrigin]:
    main = make_policy(name="api", path_pattern="/api/**")
    tight = make_policy(name="tight", path_pattern="/api/**", report_only=True)

    def seen(policy: CorsPolicy, origin: str, verdict: str, reason: str, count: int, minutes: int, **extra: Any) -> Any:
        when = T0 + timedelta(minutes=minutes)
        return ObservedOrigin.objects.create(
            policy=policy,
            origin=origin,
            verdict=verdict,
            reason=reason,
            count=count,
            first_seen=T0,
            last_seen=when,
            **extra,
        )

    return {
        "allowed": seen(main, "https://app.example.com", "allowed", "", 40, 3),
        "origin": seen(main, "https://evil.test", "refused", "origin", 2, 1),
        "method": seen(main, "https://app.example.com", "refused", "method", 5, 2),
        "report": seen(
            tight, "https://app.example.com", "refused", "origin", 7, 4, report_only=True, enforced_verdict="allowed"
        ),
    }


def origins(response: Any) -> list[tuple[str, str, str]]:
    assert response.status_code == 200, response.content
    return [(row["policy_name"], row["origin"], row["reason"]) for row in response.json()["results"]]


def test_rows_newest_first_with_every_field(api: APIClient, rows: dict[str, ObservedOrigin]) -> None:
    response = api.get(OBSERVED)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (4, None, None)
    report = rows["report"]
    assert body["results"][0] == {
        "id": report.pk,
        "policy": report.policy_id,
        "policy_name": "tight",
        "origin": "https://app.example.com",
        "verdict": "refused",
        "reason": "origin",
        "report_only": True,
        "enforced_verdict": "allowed",
        "count": 7,
        "first_seen": "2026-01-02T03:04:05Z",
        "last_seen": "2026-01-02T03:08:05Z",
    }
    assert origins(response) == [
        ("tight", "https://app.example.com", "origin"),
        ("api", "https://app.example.com", ""),
        ("api", "https://app.example.com", "method"),
        ("api", "https://evil.test", "origin"),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"verdict": "allowed"}, [("api", "https://app.example.com", "")]),
        ({"reason": "method"}, [("api", "https://app.example.com", "method")]),
        ({"report_only": "true"}, [("tight", "https://app.example.com", "origin")]),
        (
            {"report_only": "0", "verdict": "refused"},
            [("api", "https://app.example.com", "method"), ("api", "https://evil.test", "origin")],
        ),
        ({"search": "evil"}, [("api", "https://evil.test", "origin")]),
        (
            {"ordering": "-count"},
            [
                ("api", "https://app.example.com", ""),
                ("tight", "https://app.example.com", "origin"),
                ("api", "https://app.example.com", "method"),
                ("api", "https://evil.test", "origin"),
            ],
        ),
        (
            {"ordering": "origin,count", "reason": "origin"},
            [("tight", "https://app.example.com", "origin"), ("api", "https://evil.test", "origin")],
        ),
    ],
)
def test_filters(api: APIClient, rows: dict[str, ObservedOrigin], query: dict[str, str], expected: list[Any]) -> None:
    assert origins(api.get(OBSERVED, query)) == expected


def test_filter_by_policy(api: APIClient, rows: dict[str, ObservedOrigin]) -> None:
    tight = rows["report"].policy_id
    assert origins(api.get(OBSERVED, {"policy": tight})) == [("tight", "https://app.example.com", "origin")]
    assert origins(api.get(OBSERVED, {"policy": 2**63 - 1})) == []


def test_pagination(api: APIClient, rows: dict[str, ObservedOrigin]) -> None:
    body = api.get(OBSERVED, {"page_size": 3, "page": 2}).json()
    assert (body["count"], len(body["results"]), body["next"]) == (4, 1, None)
    assert body["previous"] == "http://testserver/api/cors/observed/?page_size=3"


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"policy": "api"}, {"policy": ["Write policy=N with N a policy's id, not 'api'."]}),
        ({"policy": "0"}, {"policy": ["Write policy=N with N a policy's id, not '0'."]}),
        ({"policy": str(2**63)}, {"policy": [f"Write policy=N with N a policy's id, not '{2**63}'."]}),
        ({"verdict": "denied"}, {"verdict": ["Write verdict=allowed or verdict=refused, not 'denied'."]}),
        (
            {"reason": "cors"},
            {
                "reason": [
                    "Write reason=origin or reason=method or reason=headers or reason=private_network or "
                    "reason=method_malformed or reason=headers_malformed, not 'cors'."
                ]
            },
        ),
        (
            {"report_only": "maybe"},
            {"report_only": ["Write report_only=1 or report_only=0 (or true / false), not 'maybe'."]},
        ),
        (
            {"ordering": "policy__name"},
            {
                "ordering": [
                    "Write ordering= one or more of last_seen, first_seen, count, origin, id (comma-separated, '-' "
                    "first for descending), not 'policy__name'."
                ]
            },
        ),
        ({"page_size": "x"}, {"page_size": ["Write page_size=N with N a whole number from 1, not 'x'."]}),
    ],
)
def test_bad_parameters_are_a_400_saying_what_to_write(
    api: APIClient, rows: dict[str, ObservedOrigin], query: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = api.get(OBSERVED, query)
    assert response.status_code == 400
    assert response.json() == errors


def test_read_only(api: APIClient) -> None:
    admin = client_for(make_user("root", superuser=True))
    for client in (api, admin):
        response = client.post(OBSERVED, {}, format="json")
        assert response.status_code == 405
        assert response.json() == {"detail": 'Method "POST" not allowed.'}


def test_permissions(rows: dict[str, ObservedOrigin]) -> None:
    assert client_for(None).get(OBSERVED).status_code == 401
    assert client_for(make_user("nobody")).get(OBSERVED).status_code == 403
    assert client_for(make_user("viewer", "view")).get(OBSERVED).status_code == 200


def test_schema_describes_the_filters() -> None:
    schema = client_for(make_user("viewer", "view")).get("/api/cors/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/cors/observed/"]["get"]
    assert [parameter["name"] for parameter in operation["parameters"]] == [
        "ordering",
        "page",
        "page_size",
        "policy",
        "reason",
        "report_only",
        "search",
        "verdict",
    ]
    assert list(operation["responses"]) == ["200", "400", "401", "403", "404"]
    assert "get" in schema["paths"]["/api/cors/observed/"] and len(schema["paths"]["/api/cors/observed/"]) == 1
