"""``GET /api/cors/observed/``: the rows, the filters (as the admin's), ordering, errors and permissions; and
``POST /api/cors/observed/{id}/allow/``, the admin's Allow button: the same checks, acknowledgement and history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from rest_framework.test import APIClient

from cors_policies.models import CorsPolicy, ObservedOrigin
from tests.helpers import client_for, make_user

pytestmark = pytest.mark.django_db

OBSERVED = "/api/cors/observed/"
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
def viewer_client() -> APIClient:
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


def test_rows_newest_first_with_every_field(viewer_client: APIClient, rows: dict[str, ObservedOrigin]) -> None:
    response = viewer_client.get(OBSERVED)
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
def test_filters(
    viewer_client: APIClient, rows: dict[str, ObservedOrigin], query: dict[str, str], expected: list[Any]
) -> None:
    assert origins(viewer_client.get(OBSERVED, query)) == expected


def test_filter_by_policy(viewer_client: APIClient, rows: dict[str, ObservedOrigin]) -> None:
    tight = rows["report"].policy_id
    assert origins(viewer_client.get(OBSERVED, {"policy": tight})) == [("tight", "https://app.example.com", "origin")]
    assert origins(viewer_client.get(OBSERVED, {"policy": 2**63 - 1})) == []


def test_pagination(viewer_client: APIClient, rows: dict[str, ObservedOrigin]) -> None:
    body = viewer_client.get(OBSERVED, {"page_size": 3, "page": 2}).json()
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
                    "Write reason=origin or reason=origin_malformed or reason=method or reason=headers or "
                    "reason=private_network or reason=method_malformed or reason=headers_malformed, not 'cors'."
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
    viewer_client: APIClient, rows: dict[str, ObservedOrigin], query: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = viewer_client.get(OBSERVED, query)
    assert response.status_code == 400
    assert response.json() == errors


def test_read_only(viewer_client: APIClient) -> None:
    admin = client_for(make_user("root", superuser=True))
    for client in (viewer_client, admin):
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


# --------------------------------------------------------------------------------------------------
# POST observed/{id}/allow/: the admin's Allow button, through the API
# --------------------------------------------------------------------------------------------------

APP = "https://app.example.com"
NEW = "https://new.example.com"


def allow_url(row: ObservedOrigin | int | str) -> str:
    return f"{OBSERVED}{row.pk if isinstance(row, ObservedOrigin) else row}/allow/"


def seen(policy: CorsPolicy, origin: str, reason: str = "origin", **fields: Any) -> ObservedOrigin:
    fields.setdefault("count", 1)
    return ObservedOrigin.objects.create(
        policy=policy, origin=origin, verdict="refused", reason=reason, first_seen=T0, last_seen=T0, **fields
    )


@pytest.fixture
def editor() -> APIClient:
    """Allowing changes a policy: the change permission, and nothing else, is what it takes."""
    return client_for(make_user("editor", "change"))


@pytest.fixture
def put_policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP], allowed_methods=["PUT"])


def test_allowing_adds_the_origin_records_history_and_the_next_request_is_allowed(
    editor: APIClient, put_policy: CorsPolicy, committed: Callable[[], Any], client: Any
) -> None:
    assert not client.get("/t/echo", HTTP_ORIGIN=NEW).has_header("Access-Control-Allow-Origin")
    row = seen(put_policy, NEW)
    with committed():
        response = editor.post(allow_url(row), {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["detail"] == "Allowed https://new.example.com in policy 'api'; every process applies it within 1.0 s."
    assert (body["policy"], body["origin"], body["verdict"], body["allowed"], body["dry_run"]) == (
        {"id": put_policy.pk, "name": "api"},
        NEW,
        "confirm",
        True,
        False,
    )
    assert (body["reasons"], body["warnings"]) == ([], [])
    assert [(p["title"], p["request"], p["decision"]["allowed"]) for p in body["previews"]] == [
        ("Actual request", ["GET /t/example", f"Origin: {NEW}"], True),
        (
            "Preflight for a PUT request",
            [
                "OPTIONS /t/example",
                f"Origin: {NEW}",
                "Access-Control-Request-Method: PUT",
                "Access-Control-Request-Headers: content-type,x-token",
            ],
            True,
        ),
    ]
    assert body["previews"][1]["decision"]["response_headers"] == {
        "Access-Control-Allow-Origin": NEW,
        "Access-Control-Allow-Methods": "PUT",
        "Access-Control-Allow-Headers": "X-Token, Content-Type",
    }
    assert CorsPolicy.objects.get().allowed_origins == [APP, NEW]
    assert client.get("/t/echo", HTTP_ORIGIN=NEW)["Access-Control-Allow-Origin"] == NEW
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.user.username, entry.get_change_message()) == (
        str(put_policy.pk),
        "editor",
        "Changed Allowed origins.",  # the admin's own entry for its Allow button
    )


def test_a_dry_run_says_what_allowing_takes_and_writes_nothing(editor: APIClient, put_policy: CorsPolicy) -> None:
    response = editor.post(allow_url(seen(put_policy, NEW)) + "?dry_run=1", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["verdict"], body["allowed"], body["dry_run"]) == ("confirm", False, True)
    assert body["detail"] == "https://new.example.com can be allowed in policy 'api'; nothing was written (dry run)."
    assert len(body["previews"]) == 2
    assert CorsPolicy.objects.get().allowed_origins == [APP]
    assert not LogEntry.objects.exists()


def test_an_origin_allowed_already_changes_nothing(editor: APIClient, put_policy: CorsPolicy) -> None:
    response = editor.post(allow_url(seen(put_policy, APP, reason="method")), {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["verdict"], body["allowed"], body["previews"]) == ("already", False, [])
    assert body["detail"] == (
        "https://app.example.com is already allowed by policy 'api': a refusal recorded since is for another reason "
        "(see the reason column)."
    )
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize(
    ("origin", "credentials", "reason", "warnings"),
    [
        (
            "null",
            False,
            "null is sent by any sandboxed iframe or data: document: anyone can send it, so allowing it lets every "
            "site read these responses (without cookies).",
            ["null_origin"],
        ),
        (
            "http://app.example.com",
            True,
            "http://app.example.com is plain http and policy 'p' allows credentials: anyone on the network path "
            "(public Wi-Fi, a proxy) can inject a script into that page and read your users' data with their "
            "cookies. Allow https://app.example.com instead if the page is served over https.",
            ["http_with_credentials"],
        ),
        (
            "http://localhost:3000",
            True,
            "http://localhost:3000 is plain http on this machine and policy 'p' allows credentials: fine for "
            "development, never in production.",
            [],
        ),
    ],
)
def test_risky_origins_need_the_acknowledgement_field(
    editor: APIClient,
    make_policy: Callable[..., CorsPolicy],
    origin: str,
    credentials: bool,
    reason: str,
    warnings: list[str],
) -> None:
    """The admin's rule: null and plain http with credentials are never allowed by one click."""
    policy = make_policy(name="p", path_pattern="/t/**", allowed_origins=[APP], allow_credentials=credentials)
    row = seen(policy, origin)
    preview = editor.post(allow_url(row) + "?dry_run=1", {}, format="json").json()
    assert (preview["verdict"], preview["reasons"]) == ("acknowledge", [reason])
    assert [warning["code"] for warning in preview["warnings"]] == warnings

    refused = editor.post(allow_url(row), {}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "acknowledge": [
            f"{origin} not allowed in policy 'p': the change needs your explicit acknowledgement of the warnings "
            'shown. Send "acknowledge": true to allow it anyway.'
        ],
        "reasons": [reason],
        "warnings": preview["warnings"],
    }
    assert editor.post(allow_url(row), {"acknowledge": False}, format="json").status_code == 400
    assert CorsPolicy.objects.get().allowed_origins == [APP]
    assert not LogEntry.objects.exists()

    done = editor.post(allow_url(row), {"acknowledge": True}, format="json")
    assert (done.status_code, done.json()["allowed"]) == (200, True)
    assert CorsPolicy.objects.get().allowed_origins == [APP, origin]


def test_null_never_reaches_a_credentialed_policy(editor: APIClient, make_policy: Callable[..., CorsPolicy]) -> None:
    policy = make_policy(name="account", path_pattern="/t/**", allowed_origins=[APP], allow_credentials=True)
    row = seen(policy, "null")
    never = (
        "null cannot be allowed in policy 'account', which allows credentials: any page can send Origin: null (a "
        "sandboxed iframe, a data: or file: document), so every site could read your users' data with their "
        "cookies. Serve the page that needs access from a real origin, such as https://app.example.com, and allow "
        "that."
    )
    forced = editor.post(allow_url(row), {"acknowledge": True}, format="json")
    assert (forced.status_code, forced.json()) == (400, {"detail": never})
    preview = editor.post(allow_url(row) + "?dry_run=true", {"acknowledge": True}, format="json").json()
    assert (preview["verdict"], preview["reasons"], preview["detail"]) == ("never", [never], never)
    assert CorsPolicy.objects.get().allowed_origins == [APP]


def test_a_policy_that_would_not_validate_is_explained(editor: APIClient, put_policy: CorsPolicy) -> None:
    CorsPolicy.objects.filter(pk=put_policy.pk).update(path_pattern="t/**")  # written around the validators
    response = editor.post(allow_url(seen(put_policy, NEW)), {"acknowledge": True}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Could not allow https://new.example.com in policy 'api': Path pattern: 't/**' must start with '/' "
        "(a path or glob, such as /t/**) or with '^' (a regular expression). Edit the policy to fix it."
    }
    assert CorsPolicy.objects.get().allowed_origins == [APP]


def test_rows_without_an_origin_or_a_policy(editor: APIClient, put_policy: CorsPolicy) -> None:
    unrecorded = seen(put_policy, "", count=9)
    response = editor.post(allow_url(unrecorded), {}, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {
            "detail": f"Observed origin {unrecorded.pk} counts the requests whose origin was not recorded (no room was "
            "left for it): there is no origin to allow. Allow the origin you mean in the policy itself (PATCH "
            f"policies/{put_policy.pk}/)."
        },
    )
    row = seen(put_policy, NEW)
    CorsPolicy.objects.filter(pk=put_policy.pk)._raw_delete("default")  # its rows stay until cleaned up
    for url in (allow_url(row), allow_url(row) + "?dry_run=1"):
        gone = editor.post(url, {}, format="json")
        assert (gone.status_code, gone.json()) == (
            404,
            {"detail": f"Policy {put_policy.pk} no longer exists; https://new.example.com not allowed."},
        )


@pytest.mark.parametrize("pk", ["999999", "x", "0", str(2**63), "9" * 5000, "\u0661"])
def test_an_id_that_is_no_row_is_a_json_404(editor: APIClient, pk: str) -> None:
    response = editor.post(allow_url(pk), {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": f"There is no observed origin with id {pk[:30]}."}


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"acknowledge": "yes"}, {"acknowledge": ["Write true or false."]}),
        ({"acknowledge": 1}, {"acknowledge": ["Write true or false."]}),
        ({"confirm": True}, {"confirm": ["Unknown field; write only these fields: acknowledge."]}),
    ],
)
def test_the_body_is_strict(editor: APIClient, put_policy: CorsPolicy, payload: Any, errors: Any) -> None:
    response = editor.post(allow_url(seen(put_policy, NEW)), payload, format="json")
    assert (response.status_code, response.json()) == (400, errors)
    assert CorsPolicy.objects.get().allowed_origins == [APP]


def test_allowing_needs_the_change_permission(put_policy: CorsPolicy) -> None:
    row = seen(put_policy, NEW)
    assert client_for(None).post(allow_url(row), {}, format="json").status_code == 401
    for actions in ((), ("view",), ("view", "add", "delete")):
        response = client_for(make_user("u" + "".join(actions), *actions)).post(allow_url(row), {}, format="json")
        assert response.status_code == 403, actions
    assert CorsPolicy.objects.get().allowed_origins == [APP]
    assert client_for(make_user("changer", "change")).post(allow_url(row), {}, format="json").status_code == 200


def test_the_schema_describes_the_allow_action() -> None:
    schema = client_for(make_user("viewer", "view")).get("/api/cors/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/cors/observed/{id}/allow/"]["post"]
    assert [parameter["name"] for parameter in operation["parameters"]] == ["dry_run", "id"]
    assert list(operation["responses"]) == ["200", "400", "401", "403", "404", "415"]
    request = schema["components"]["schemas"]["AllowOriginRequest"]
    assert (list(request["properties"]), request["additionalProperties"]) == (["acknowledge"], False)
