"""Protected paths: the admin and this app's API are never decorated or preflighted by a policy (unless
PROTECTED_PATHS says otherwise); a policy that can only match them is refused, one that overlaps them warned."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.test import AsyncClient, Client
from rest_framework.test import APIClient

from cors_policies import checks, protected
from cors_policies.models import CorsPolicy

pytestmark = pytest.mark.django_db

EVIL = "https://evil.example"
POLICIES = "/api/cors/policies/"


def cors_headers(response: Any) -> dict[str, str]:
    return {name: value for name, value in response.items() if name.lower().startswith("access-control-")}


@pytest.fixture
def catch_all(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    """What the issue's attacker saved: every path, credentials, an origin they control."""
    return make_policy(
        name="everything",
        path_pattern="/**",
        allowed_origins=[EVIL],
        allowed_methods=["GET", "POST", "PUT", "DELETE"],
        allowed_headers=["Content-Type", "X-CSRFToken"],
        allow_credentials=True,
    )


# -- the middleware ------------------------------------------------------------------------------------

PROTECTED = ["/admin/", "/admin", "/admin/login/", "/admin/auth/user/", "/api/cors/", "/api/cors/policies/"]


@pytest.mark.parametrize("path", PROTECTED)
def test_protected_paths_get_no_cors_headers(client: Client, catch_all: CorsPolicy, path: str) -> None:
    response = client.get(path, HTTP_ORIGIN=EVIL)
    assert cors_headers(response) == {}
    assert "Origin" not in response.get("Vary", "")


@pytest.mark.parametrize("path", PROTECTED)
def test_protected_paths_are_not_preflighted(client: Client, catch_all: CorsPolicy, path: str) -> None:
    response = client.options(path, HTTP_ORIGIN=EVIL, HTTP_ACCESS_CONTROL_REQUEST_METHOD="DELETE")
    assert cors_headers(response) == {}


def test_other_paths_still_get_the_policys_answer(client: Client, catch_all: CorsPolicy) -> None:
    for path in ("/api/public/items/", "/administrator/", "/api/corsx/", "/api/"):
        response = client.get(path, HTTP_ORIGIN=EVIL)
        assert response["Access-Control-Allow-Origin"] == EVIL, path
        assert response["Access-Control-Allow-Credentials"] == "true"


def test_protected_paths_under_asgi(catch_all: CorsPolicy) -> None:
    response = async_to_sync(AsyncClient().options)(
        "/admin/login/", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert cors_headers(response) == {}
    allowed = async_to_sync(AsyncClient().get)("/api/public/items/", headers={"Origin": EVIL})
    assert allowed["Access-Control-Allow-Origin"] == EVIL


@pytest.mark.urls("tests.protected_urls")
def test_prefixes_follow_the_urlconf(client: Client, catch_all: CorsPolicy) -> None:
    assert [path.prefix for path in protected.current().paths] == ["/staff/", "/cors-api/"]
    for path in ("/staff/", "/staff/login/", "/cors-api/policies/"):
        assert cors_headers(client.get(path, HTTP_ORIGIN=EVIL)) == {}, path
    # /admin/ is nothing special here: the policy answers it like any path.
    assert client.get("/admin/x", HTTP_ORIGIN=EVIL)["Access-Control-Allow-Origin"] == EVIL


def test_prefixes_are_recomputed_when_the_urlconf_changes(settings: Any) -> None:
    assert protected.current().prefixes == ("/admin/", "/api/cors/")
    settings.ROOT_URLCONF = "tests.protected_urls"
    assert protected.current().prefixes == ("/staff/", "/cors-api/")
    settings.ROOT_URLCONF = "tests.urls"  # neither the admin nor the API: nothing to protect
    assert protected.current().prefixes == ()


def test_prefixes_are_computed_once(client: Client, catch_all: CorsPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    protected.reset()
    calls: list[str] = []
    reverse = protected.reverse
    monkeypatch.setattr(protected, "reverse", lambda name: calls.append(name) or reverse(name))
    for _ in range(3):
        client.get("/admin/login/", HTTP_ORIGIN=EVIL)
        client.get("/api/public/items/", HTTP_ORIGIN=EVIL)
    assert calls == ["admin:index", "cors_policies_api:root"]


@pytest.mark.parametrize(
    ("entries", "prefixes"),
    [
        ([], ()),
        (["/internal/", "/health"], ("/internal/", "/health/")),
        (["admin:index", "no-such-name", "/"], ("/admin/",)),
    ],
)
def test_the_setting_says_which_paths(settings: Any, entries: list[str], prefixes: tuple[str, ...]) -> None:
    settings.CORS_POLICIES = {**settings.CORS_POLICIES, "PROTECTED_PATHS": entries}
    assert protected.current().prefixes == prefixes


def test_an_empty_setting_lets_policies_govern_the_admin(client: Client, catch_all: CorsPolicy, settings: Any) -> None:
    settings.CORS_POLICIES = {**settings.CORS_POLICIES, "PROTECTED_PATHS": []}
    assert client.get("/admin/login/", HTTP_ORIGIN=EVIL)["Access-Control-Allow-Origin"] == EVIL


# -- validation: refused, or saved with a warning --------------------------------------------------------

ONLY_PROTECTED = [
    ("/admin/**", "/admin/ (admin:index)"),
    ("/admin", "/admin/ (admin:index)"),
    ("/admin/", "/admin/ (admin:index)"),
    ("/admin/*/change/", "/admin/ (admin:index)"),
    ("/admin/auth/user/**", "/admin/ (admin:index)"),
    ("^/admin/", "/admin/ (admin:index)"),
    ("^/admin/auth/[a-z]+/$", "/admin/ (admin:index)"),
    ("/api/cors/**", "/api/cors/ (cors_policies_api:root)"),
    ("/api/cors/policies/*/", "/api/cors/ (cors_policies_api:root)"),
]


def only_protected_message(pattern: str, shown: str) -> str:
    prefix = shown.split(" ")[0]
    return (
        f"{pattern!r} only matches paths under {shown}, which are protected: no policy ever decorates or "
        "preflights the Django admin or this app's API, so that no other site can read them with a signed-in "
        "user's cookies. Write the pattern of the paths your front end calls, such as /api/**; to let policies "
        f"govern {prefix} anyway, remove it from CORS_POLICIES['PROTECTED_PATHS'] (only if you know why)."
    )


@pytest.mark.parametrize(("pattern", "shown"), ONLY_PROTECTED)
def test_api_refuses_a_policy_that_only_matches_protected_paths(
    api_client: APIClient, pattern: str, shown: str
) -> None:
    body = {"name": "x", "path_pattern": pattern, "allowed_origins": [EVIL], "allow_credentials": True}
    response = api_client.post(POLICIES, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"path_pattern": [only_protected_message(pattern, shown)]}
    imported = api_client.post(f"{POLICIES}import/", {"policies": [body]}, format="json")
    assert imported.json() == {"policies": {"0": {"path_pattern": [only_protected_message(pattern, shown)]}}}
    assert not CorsPolicy.objects.exists()


def test_admin_refuses_a_policy_that_only_matches_protected_paths(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/cors_policies/corspolicy/add/",
        {
            "name": "steal",
            "path_pattern": "/admin/**",
            "priority": "0",
            "enabled": "on",
            "allowed_origins": EVIL,
            "allow_credentials": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "path_pattern": [only_protected_message("/admin/**", "/admin/ (admin:index)")]
    }
    assert not CorsPolicy.objects.exists()


OVERLAPPING = [
    ("/**", "/admin/ (admin:index), /api/cors/ (cors_policies_api:root)"),
    ("/*/login/", "/admin/ (admin:index)"),
    ("/api/**", "/api/cors/ (cors_policies_api:root)"),
    ("/api/*/policies/", "/api/cors/ (cors_policies_api:root)"),
    ("^/", "/admin/ (admin:index), /api/cors/ (cors_policies_api:root)"),
    ("^(?i:/admin/)", "/admin/ (admin:index)"),  # also /ADMIN/, which is not protected
    ("^/adm", "/admin/ (admin:index)"),
]


@pytest.mark.parametrize(("pattern", "shown"), OVERLAPPING)
def test_a_policy_overlapping_protected_paths_is_saved_with_a_warning(
    api_client: APIClient, pattern: str, shown: str
) -> None:
    response = api_client.post(
        POLICIES, {"name": "x", "path_pattern": pattern, "allowed_origins": [EVIL]}, format="json"
    )
    assert response.status_code == 201, response.json()
    warnings = [w for w in response.json()["warnings"] if w["code"] == "protected_paths"]
    assert warnings == [
        {
            "code": "protected_paths",
            "message": f"{pattern} also matches {shown}: protected paths, which this policy never answers (no "
            "policy does: CORS_POLICIES['PROTECTED_PATHS']), so the admin and this app's API stay out of other "
            "sites' reach. Nothing to do unless you meant to open them, which this app does not do for you.",
        }
    ]


@pytest.mark.parametrize("pattern", ["/api/public/**", "/health", "^/api/public/", "/adminx/**", "/api/corsx/**"])
def test_a_policy_clear_of_protected_paths_gets_no_such_warning(api_client: APIClient, pattern: str) -> None:
    response = api_client.post(
        POLICIES, {"name": "x", "path_pattern": pattern, "allowed_origins": [EVIL]}, format="json"
    )
    assert response.status_code == 201
    assert [w["code"] for w in response.json()["warnings"]] == []


def test_the_admin_shows_the_warning(admin_client: Client, catch_all: CorsPolicy) -> None:
    html = admin_client.get(f"/admin/cors_policies/corspolicy/{catch_all.pk}/change/").content.decode()
    assert 'data-code="protected_paths"' in html


# -- the tester and evaluate say why ---------------------------------------------------------------------


def test_evaluate_says_a_protected_path_is_left_alone(api_client: APIClient, catch_all: CorsPolicy) -> None:
    request = {"origin": EVIL, "method": "DELETE", "path": "/admin/auth/user/1/delete/", "preflight": True}
    data = api_client.post("/api/cors/evaluate/", request, format="json").json()
    reason = (
        "/admin/auth/user/1/delete/ is under /admin/ (admin:index), a protected path: no policy decorates or "
        "preflights it, whatever the policies say (CORS_POLICIES['PROTECTED_PATHS'])"
    )
    assert data == {
        "allowed": False,
        "policy": None,
        "response_headers": {},
        "vary": [],
        "reasons": [reason],
        "explanation": [reason[0].upper() + reason[1:] + "."],
        "csrf_trusted": False,
    }


def test_the_tester_says_a_protected_path_is_left_alone(admin_client: Client, catch_all: CorsPolicy) -> None:
    response = admin_client.get(
        "/admin/cors_policies/corspolicy/test/", {"origin": EVIL, "method": "GET", "path": "/api/cors/policies/"}
    )
    html = response.content.decode()
    assert "is a protected path (the admin or this app's API)" in html
    assert response.context["decision"].refusals[0].code == "protected"


# -- the setting's check ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("admin:index", "CORS_POLICIES['PROTECTED_PATHS'] is 'admin:index'; it must be a list."),
        (
            ["/"],
            "CORS_POLICIES['PROTECTED_PATHS'] has '/', which is neither a URL name (such as 'admin:index') nor a "
            "path prefix other than '/' (such as '/internal/').",
        ),
        (
            [5],
            "CORS_POLICIES['PROTECTED_PATHS'] has 5, which is neither a URL name (such as 'admin:index') nor a path "
            "prefix other than '/' (such as '/internal/').",
        ),
        (
            ["two words"],
            "CORS_POLICIES['PROTECTED_PATHS'] has 'two words', which is neither a URL name (such as 'admin:index') "
            "nor a path prefix other than '/' (such as '/internal/').",
        ),
    ],
)
def test_check_refuses_a_setting_of_the_wrong_kind(settings: Any, value: Any, problem: str) -> None:
    settings.CORS_POLICIES = {"PROTECTED_PATHS": value}
    errors = [error for error in checks.check_protected_paths() if error.id == "cors_policies.E020"]
    assert [error.msg for error in errors] == [problem]


def test_check_accepts_names_and_prefixes(settings: Any) -> None:
    settings.CORS_POLICIES = {"PROTECTED_PATHS": ["admin:index", "/internal/", "/health"]}
    assert checks.check_protected_paths() == []
    out = io.StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()
