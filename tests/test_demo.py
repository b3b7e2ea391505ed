"""The demo project: ``manage.py demo_setup``, the views the demo policies apply to, the origin log and the
playground page (its behaviour in a browser is in tests/browser/test_playground.py)."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command, get_commands
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path

from cors_policies.cache import snapshot
from cors_policies.forms import AUTHORIZATION_NOTE
from cors_policies.models import CorsPolicy
from testproject.demo.management.commands import runserver as runserver_module
from testproject.demo.management.commands.demo_setup import PLAYGROUND_ORIGINS, address_lines
from testproject.demo.management.commands.runserver import Command as RunserverCommand
from testproject.middleware import OriginLog, OriginLogMiddleware, origin_log
from testproject.playground import PRESETS, presets_for
from testproject.settings import parse_database_url
from tests.helpers import access_control, preflight

# Every test may go through the CORS middleware, which reads the policies from the database; all of them are
# about the demo project, so they run with its apps, middleware and URLs.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]


def test_demo_setup_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo_setup")
    first = capsys.readouterr().out
    call_command("demo_setup")
    second = capsys.readouterr().out

    assert sorted(CorsPolicy.objects.values_list("name", flat=True)) == [
        "echo",
        "echo-auth",
        "health",
        "orders",
        "profile",
        "public-api",
        "public-api-tightened",
    ]
    users = get_user_model().objects.filter(username="admin")
    assert users.count() == 1
    admin = users.get()
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password("admin")

    for out in (first, second):
        # Without an address it cannot know where the demo will be served: the demo's runserver says.
        assert "Demo login: admin / admin" in out.splitlines()
        assert "The demo's runserver prints the admin's address once it serves." in out.splitlines()
        assert "http://" not in out
        assert "demo only" in out
    assert "Created superuser 'admin'" in first
    assert "Created superuser" not in second
    assert "already exists" in second


def test_demo_setup_policies() -> None:
    call_command("demo_setup", stdout=io.StringIO())
    public = CorsPolicy.objects.get(name="public-api")
    assert public.path_pattern == "/api/public/**"
    assert public.allowed_origins == ["*"]
    assert public.allowed_methods == ["GET", "PUT", "PATCH", "DELETE"]
    assert public.expose_headers == ["X-Total-Count"]
    assert public.max_age == 600
    assert public.allow_credentials is False
    assert public.enabled is True

    profile = CorsPolicy.objects.get(name="profile")
    assert profile.path_pattern == "/api/profile/**"
    assert profile.priority == 10
    assert profile.allow_credentials is True
    assert profile.allowed_origins == ["http://localhost:8000", "http://127.0.0.1:3000", "http://localhost:3000"]
    assert profile.allowed_methods == ["GET"]

    health = CorsPolicy.objects.get(name="health")
    assert health.path_pattern == "/health"
    assert health.allowed_origins == ["*"]
    assert health.allowed_methods == ["GET"]


def test_demo_setup_keeps_edits() -> None:
    """A re-run must not undo what someone changed in the admin."""
    call_command("demo_setup", stdout=io.StringIO())
    CorsPolicy.objects.filter(name="health").update(enabled=False)
    call_command("demo_setup", stdout=io.StringIO())
    assert CorsPolicy.objects.get(name="health").enabled is False
    assert CorsPolicy.objects.count() == 7


OWN_8000 = {
    "profile": ["http://localhost:8000", "http://127.0.0.1:3000", "http://localhost:3000"],
    "public-api-tightened": ["http://localhost:8000", "http://127.0.0.1:8000"],
}
OWN_8001 = {
    "profile": ["http://localhost:8001", "http://127.0.0.1:3000", "http://localhost:3000"],
    "public-api-tightened": ["http://localhost:8001", "http://127.0.0.1:8001"],
}


def own_origins_stored() -> dict[str, list[str]]:
    return dict(CorsPolicy.objects.filter(name__in=OWN_8000).values_list("name", "allowed_origins"))


def test_demo_setup_with_an_address_follows_its_port(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo_setup")
    assert own_origins_stored() == OWN_8000
    capsys.readouterr()

    call_command("demo_setup", "8001")
    out = capsys.readouterr().out.splitlines()
    assert own_origins_stored() == OWN_8001
    assert (
        "Policy 'profile' now allows the demo's own origins on port 8001: http://localhost:8001, "
        "http://127.0.0.1:3000, http://localhost:3000"
    ) in out
    assert "Admin: http://127.0.0.1:8001/admin/  login: admin / admin" in out
    assert "CORS playground: http://127.0.0.1:8001/playground/ (it calls the same server under its other name)" in out

    call_command("demo_setup", "localhost:8001")
    out = capsys.readouterr().out.splitlines()
    assert not [line for line in out if "now allows" in line]  # nothing left to move
    assert "Admin: http://localhost:8001/admin/  login: admin / admin" in out


def test_demo_setup_creates_the_own_origins_on_the_port_given() -> None:
    call_command("demo_setup", "127.0.0.1:8001", stdout=io.StringIO())
    assert own_origins_stored() == OWN_8001


def test_an_edited_own_origin_policy_is_left_alone(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo_setup")
    edited = ["http://localhost:8000", "https://app.example.com"]
    CorsPolicy.objects.filter(name="public-api-tightened").update(allowed_origins=edited)
    capsys.readouterr()

    call_command("demo_setup", "8001")
    out = capsys.readouterr().out.splitlines()
    assert own_origins_stored() == {"profile": OWN_8001["profile"], "public-api-tightened": edited}
    assert (
        "Policy 'public-api-tightened' was edited: its origins are left as they are (the demo served on port 8001 "
        "would list http://localhost:8001 there)."
    ) in out


@pytest.mark.parametrize("address", ["abc", "127.0.0.1:0", "70000", "127.0.0.1:", "http://127.0.0.1:8001"])
def test_demo_setup_refuses_an_address_it_cannot_serve(address: str) -> None:
    with pytest.raises(CommandError) as raised:
        call_command("demo_setup", address, stdout=io.StringIO())
    assert str(raised.value) == (
        f"{address!r} is not an address the demo can be served on: write a port (8001) or an address and a port "
        "(127.0.0.1:8001), as for runserver."
    )
    assert not CorsPolicy.objects.exists()


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
        ("0.0.0.0", "127.0.0.1"),  # noqa: S104
        ("0", "127.0.0.1"),
        ("::", "127.0.0.1"),
        ("::1", "[::1]"),
    ],
)
def test_address_lines_name_what_a_browser_opens(host: str, shown: str) -> None:
    assert address_lines(host, 8123)[0] == f"Admin: http://{shown}:8123/admin/  login: admin / admin"


def test_the_demo_runserver_is_the_one_manage_py_runs() -> None:
    assert get_commands()["runserver"] == "testproject.demo"


def test_runserver_follows_the_bound_port_and_prints_it(settings: Any) -> None:
    """What the demo's runserver does once the socket is bound (``on_bind``), here for port 54321."""
    settings.DEBUG = True
    call_command("demo_setup", stdout=io.StringIO())
    out = io.StringIO()
    command = RunserverCommand(stdout=out, no_color=True)
    command.addr = "127.0.0.1"
    command._raw_ipv6 = False  # type: ignore[attr-defined]  # set by runserver's handle()
    command.on_bind(54321)
    lines = out.getvalue().splitlines()
    # Django 6.1 says "Starting WSGI development server at ..."
    assert any(
        re.fullmatch(r"Starting (WSGI )?development server at http://127\.0\.0\.1:54321/", line) for line in lines
    )
    assert "Admin: http://127.0.0.1:54321/admin/  login: admin / admin" in lines
    assert own_origins_stored()["profile"][0] == "http://localhost:54321"


def test_runserver_without_the_tables_says_what_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_table(port: int, stdout: Any) -> None:
        raise DatabaseError("no such table: cors_policies_corspolicy")

    monkeypatch.setattr(runserver_module, "follow_port", no_table)
    out, err = io.StringIO(), io.StringIO()
    command = RunserverCommand(stdout=out, stderr=err, no_color=True)
    command.addr = "127.0.0.1"
    command._raw_ipv6 = False  # type: ignore[attr-defined]  # set by runserver's handle()
    command.on_bind(54321)
    assert err.getvalue() == (
        "The demo's policies could not be read (no such table: cors_policies_corspolicy): run manage.py migrate and "
        "manage.py demo_setup.\n"
    )
    assert "Admin: http://127.0.0.1:54321/admin/  login: admin / admin" in out.getvalue().splitlines()


def test_the_favicon_is_served(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response["Cache-Control"] == "max-age=86400, public"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an icon directory with one image
    assert response.content[22:30] == b"\x89PNG\r\n\x1a\n"


def test_health(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_home_links(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for link in (
        "/admin/",
        "/api/public/items/",
        "/api/public/items/1/",
        "/api/profile/",
        "/health",
        "/api/echo/",
        "/api/public/error/",
        "/playground/",
    ):
        assert f'href="{link}"' in page


def test_items_list(client: Client) -> None:
    response = client.get("/api/public/items/")
    assert response.status_code == 200
    items = response.json()
    assert isinstance(items, list)
    assert len(items) >= 1
    assert response["X-Total-Count"] == str(len(items))
    assert {"id", "name"} <= set(items[0])


def test_item_detail(client: Client) -> None:
    response = client.get("/api/public/items/1/")
    assert response.status_code == 200
    assert response.json()["id"] == 1

    assert client.get("/api/public/items/999/").status_code == 404
    assert client.post("/api/public/items/1/").status_code == 405


@pytest.mark.parametrize("method", ["put", "patch"])
def test_item_update_echoes_body(method: str) -> None:
    client = Client(enforce_csrf_checks=True)  # the item views are csrf_exempt
    body = {"name": "Big teapot", "price": "20.00"}
    response = getattr(client, method)("/api/public/items/2/", json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"id": 2, "method": method.upper(), "received": body}


def test_item_update_rejects_bad_json(client: Client) -> None:
    response = client.put("/api/public/items/2/", "not json", content_type="application/json")
    assert response.status_code == 400
    response = client.put("/api/public/items/2/", "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_item_delete(client: Client) -> None:
    response = Client(enforce_csrf_checks=True).delete("/api/public/items/3/")
    assert response.status_code == 200
    assert response.json() == {"deleted": 3}
    assert client.get("/api/public/items/3/").status_code == 200  # the demo's data stays


def test_profile_anonymous(client: Client) -> None:
    response = client.get("/api/profile/")
    assert response.status_code == 401
    assert "error" in response.json()


def test_profile_logged_in(client: Client) -> None:
    user = get_user_model().objects.create_user("alice", "alice@example.com", "secret-password")
    client.force_login(user)
    response = client.get("/api/profile/")
    assert response.status_code == 200
    assert response.json() == {"username": "alice", "email": "alice@example.com", "is_staff": False}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////tmp/demo.db", {"ENGINE": "django.db.backends.sqlite3", "NAME": "/tmp/demo.db"}),
        ("sqlite:///demo.db", {"ENGINE": "django.db.backends.sqlite3", "NAME": "demo.db"}),
        (
            "postgres://cors@127.0.0.1:5432/cors_demo",
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "cors_demo",
                "USER": "cors",
                "PASSWORD": "",
                "HOST": "127.0.0.1",
                "PORT": "5432",
            },
        ),
        (
            "postgresql://u:p%40ss@db.test/app",
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "app",
                "USER": "u",
                "PASSWORD": "p@ss",
                "HOST": "db.test",
                "PORT": "",
            },
        ),
    ],
)
def test_parse_database_url(url: str, expected: dict[str, str]) -> None:
    assert parse_database_url(url) == expected


def test_parse_database_url_rejects_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unsupported scheme"):
        parse_database_url("mysql://u@h/db")


# -- the playground's demo policies --------------------------------------------------------------------


def preflight_headers(client: Client, path: str, origin: str, method: str, headers: str = "") -> dict[str, str]:
    """The CORS headers of a preflight's answer."""
    response = preflight(client, path, origin, method, request_headers=headers)
    assert response.status_code == 200
    return access_control(response)


def test_demo_setup_playground_policies(client: Client, committed: Callable[[], Any]) -> None:
    with committed():
        call_command("demo_setup", stdout=io.StringIO())
    echo = CorsPolicy.objects.get(name="echo")
    assert (echo.path_pattern, echo.allowed_headers, echo.allowed_methods) == ("/api/echo/**", ["*"], ["*"])
    assert echo.allowed_origin_regexes == [PLAYGROUND_ORIGINS]
    auth = CorsPolicy.objects.get(name="echo-auth")
    assert (auth.path_pattern, auth.allowed_headers, auth.allow_credentials) == (
        "/api/echo/auth/**",
        ["Authorization", "Content-Type"],
        True,
    )

    # The demo's two names on any port; nothing else.
    for origin in ("http://localhost:8000", "http://127.0.0.1:8765"):
        assert preflight_headers(client, "/api/echo/x", origin, "PUT", "x-anything") == {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "*",
            "Access-Control-Allow-Headers": "x-anything",
            "Access-Control-Max-Age": "60",
        }
    for origin in ("https://localhost:8000", "http://localhost.evil.test:8000", "http://127.0.0.1"):
        assert preflight_headers(client, "/api/echo/x", origin, "PUT") == {}
    # "*" never covers Authorization; echo-auth lists it.
    assert preflight_headers(client, "/api/echo/x", "http://localhost:8000", "GET", "authorization") == {}
    assert preflight_headers(client, "/api/echo/auth/x", "http://localhost:8000", "GET", "authorization") == {
        "Access-Control-Allow-Origin": "http://localhost:8000",
        "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Max-Age": "60",
    }


SAFELISTED_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}


def browser_verdict(policy_set: Any, preset: dict[str, Any], origin: str) -> bool:
    """What a browser does with a preset sent from ``origin``: the engine's answers, then the browser's checks."""
    method = preset["method"].upper() if preset["method"].upper() in FETCH_NORMALIZED else preset["method"]
    headers = [line.split(":", 1) for line in preset["headers"].splitlines() if line]
    unsafe = [
        name.strip().lower()
        for name, value in headers
        if not (name.strip().lower() == "content-type" and value.strip() in SAFELISTED_CONTENT_TYPES)
    ]
    steps = []
    if method not in {"GET", "HEAD", "POST"} or unsafe:
        steps.append(
            policy_set.simulate(
                origin=origin, method=method, path=preset["path"], request_headers=unsafe, preflight=True
            )
        )
    steps.append(policy_set.simulate(origin=origin, method=method, path=preset["path"]))
    for decision in steps:
        answer = dict(decision.headers)
        if not decision.allowed:
            return False
        if preset["credentials"] == "include" and (
            answer["Access-Control-Allow-Origin"] == "*" or answer.get("Access-Control-Allow-Credentials") != "true"
        ):
            return False
    return True


FETCH_NORMALIZED = {"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"}


@pytest.mark.parametrize("preset", PRESETS, ids=[preset["label"] for preset in PRESETS])
def test_each_preset_note_says_what_the_demo_policies_decide(
    preset: dict[str, Any], committed: Callable[[], Any]
) -> None:
    """A page on http://localhost:8000 (the profile policy's origin) calling http://127.0.0.1:8000."""
    with committed():
        call_command("demo_setup", stdout=io.StringIO())
    policy_set = snapshot.get()
    assert policy_set is not None
    allowed = browser_verdict(policy_set, preset, "http://localhost:8000")
    assert preset["note"].startswith("Allowed" if allowed else "Refused"), (preset["label"], allowed)


def test_the_credentials_preset_is_refused_from_127_0_0_1(committed: Callable[[], Any]) -> None:
    with committed():
        call_command("demo_setup", stdout=io.StringIO())
    preset = next(preset for preset in PRESETS if preset["label"] == "Cookies with a credentials policy")
    assert browser_verdict(snapshot.get(), preset, "http://127.0.0.1:8000") is False
    assert browser_verdict(snapshot.get(), preset, "http://localhost:8000") is True


# -- echo and error views ------------------------------------------------------------------------------


def test_echo_reports_what_the_page_sent() -> None:
    response = Client().put(
        "/api/echo/a/b",
        '{"n": 1}',
        content_type="application/json",
        HTTP_ORIGIN="http://localhost:8000",
        HTTP_X_CUSTOM="1",
        HTTP_AUTHORIZATION="Bearer t",
        HTTP_ACCEPT="*/*",
        HTTP_SEC_FETCH_MODE="cors",
        HTTP_USER_AGENT="test",
    )
    assert response.status_code == 200
    assert response.json() == {
        "method": "PUT",
        "path": "/api/echo/a/b",
        "origin": "http://localhost:8000",
        "headers": {"content-type": "application/json", "x-custom": "1", "authorization": "Bearer t"},
        "cookies": [],
        "user": None,
        "body": '{"n": 1}',
    }
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-Id"])


def test_echo_any_method_user_cookies_and_a_cut_body() -> None:
    user = get_user_model().objects.create_user("alice", "alice@example.com", "secret-password")
    client = Client(enforce_csrf_checks=True)  # the echo is csrf_exempt
    client.force_login(user)
    response = client.generic("PROPFIND", "/api/echo/", "x" * 3000, content_type="text/plain", HTTP_ACCEPT="text/html")
    body = response.json()
    assert (body["method"], body["user"], body["cookies"]) == ("PROPFIND", "alice", ["sessionid"])
    assert body["headers"] == {"content-type": "text/plain", "accept": "text/html"}
    assert body["body"] == "x" * 2000
    # No body and the WSGI server's default text/plain: the page set no Content-Type.
    assert Client().get("/api/echo/", CONTENT_TYPE="text/plain").json()["headers"] == {}


def test_error_view_is_a_500_with_cors_headers(committed: Callable[[], Any]) -> None:
    with committed():
        call_command("demo_setup", stdout=io.StringIO())
    client = Client(raise_request_exception=False)
    response = client.get("/api/public/error/", HTTP_ORIGIN="https://shop.example")
    assert response.status_code == 500
    assert response["Access-Control-Allow-Origin"] == "*"
    with pytest.raises(RuntimeError, match="fails on purpose"):
        Client().get("/api/public/error/")


# -- the origin log ------------------------------------------------------------------------------------


@pytest.fixture
def empty_log() -> Iterator[OriginLog]:
    origin_log.clear()
    yield origin_log
    origin_log.clear()


def test_origin_log_records_requests_with_an_origin(
    client: Client, empty_log: OriginLog, committed: Callable[[], Any]
) -> None:
    with committed():
        call_command("demo_setup", stdout=io.StringIO())
    start, _ = empty_log.since()
    client.get("/health")  # no Origin: not recorded
    client.get("/health", HTTP_ORIGIN="https://a.example")
    client.options(
        "/api/public/items/1/",
        HTTP_ORIGIN="https://a.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-custom",
    )
    client.options("/api/profile/", HTTP_ORIGIN="https://a.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    last, entries = empty_log.since(start)
    assert last == start + 3
    assert [
        (e.method, e.path, e.preflight, e.request_method, e.request_headers, e.status, e.allowed) for e in entries
    ] == [
        ("GET", "/health", False, "", "", 200, True),
        ("OPTIONS", "/api/public/items/1/", True, "PUT", "x-custom", 200, False),
        ("OPTIONS", "/api/profile/", True, "GET", "", 200, False),
    ]
    assert entries[0].origin == "https://a.example"
    assert empty_log.since(start + 2) == (start + 3, entries[2:])
    empty_log.clear()
    assert empty_log.since(start) == (start + 3, [])  # ids keep increasing after a clear


def test_origin_log_keeps_the_latest() -> None:
    log = OriginLog(size=2)
    request = RequestFactory().get("/x", HTTP_ORIGIN="https://a.example")
    for _ in range(3):
        log.record(request, HttpResponse())
    assert [entry.id for entry in log.since()[1]] == [2, 3]


def test_origin_log_middleware_async(empty_log: OriginLog) -> None:
    async def get_response(request: HttpRequest) -> HttpResponse:
        return HttpResponse(status=204)

    middleware = OriginLogMiddleware(get_response)
    assert iscoroutinefunction(middleware)
    start, _ = empty_log.since()
    request = RequestFactory().options("/x", HTTP_ORIGIN="https://a.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT")
    response = asyncio.run(middleware(request))
    assert response.status_code == 204
    asyncio.run(middleware(RequestFactory().get("/y")))  # no Origin
    assert [(e.path, e.preflight, e.status) for e in empty_log.since(start)[1]] == [("/x", True, 204)]


def test_log_endpoint(client: Client, empty_log: OriginLog) -> None:
    start, _ = empty_log.since()
    client.get("/health", HTTP_ORIGIN="https://a.example")
    body = client.get(f"/playground/log/?after={start}").json()
    assert body["last_id"] == start + 1
    assert [(entry["method"], entry["path"], entry["origin"]) for entry in body["requests"]] == [
        ("GET", "/health", "https://a.example")
    ]
    assert client.get(f"/playground/log/?after={start + 1}").json() == {"last_id": start + 1, "requests": []}
    for bad in ("-1", "x", "1.5", "٣"):
        response = client.get("/playground/log/", {"after": bad})
        assert response.status_code == 400
        assert response.json() == {"error": "Write ?after= as a whole number, such as ?after=0."}


# -- the playground page -------------------------------------------------------------------------------


def page_config(response: Any) -> dict[str, Any]:
    match = re.search(r'<script id="pg-config" type="application/json">(.*?)</script>', response.content.decode())
    assert match is not None
    return dict(json.loads(match.group(1)))


@pytest.mark.parametrize(
    ("host", "target"),
    [
        ("127.0.0.1:8000", "http://localhost:8000"),
        ("localhost:8001", "http://127.0.0.1:8001"),
        ("localhost", "http://127.0.0.1"),
        ("[::1]:8000", "http://[::1]:8000"),
        ("[::1]", "http://[::1]"),
        ("app.example.test:9000", "http://app.example.test:9000"),
    ],
)
def test_playground_targets_the_other_name(client: Client, host: str, target: str) -> None:
    response = client.get("/playground/", HTTP_HOST=host)
    assert response.status_code == 200
    assert page_config(response)["target"] == target


@pytest.mark.parametrize(
    ("host", "origin"), [("localhost:8001", "http://localhost:8001"), ("127.0.0.1", "http://localhost")]
)
def test_the_credentials_note_names_the_origin_on_this_port(client: Client, host: str, origin: str) -> None:
    presets = page_config(client.get("/playground/", HTTP_HOST=host))["presets"]
    [note] = [preset["note"] for preset in presets if preset["label"] == "Cookies with a credentials policy"]
    assert note.startswith(f"Allowed from {origin} only (profile lists it, with credentials); refused from anywhere")
    assert not [preset for preset in presets if "{" in preset["note"]]


def test_playground_page(client: Client) -> None:
    response = client.get("/playground/", {"target": " http://api.example.test:9000 "})
    config = page_config(response)
    assert config["target"] == "http://api.example.test:9000"
    assert config["evaluateUrl"] == "/api/cors/evaluate/"
    assert config["logUrl"] == "/playground/log/"
    assert config["loginUrl"] == "/admin/login/?next=/playground/"
    assert config["csrfToken"]
    assert config["presets"] == presets_for(response.wsgi_request)
    assert [preset["label"] for preset in config["presets"]] == [preset["label"] for preset in PRESETS]
    page = response.content.decode()
    for preset in PRESETS:
        assert f">{preset['label']}</option>" in page
    assert 'href="/admin/login/?next=/playground/"' in page
    assert client.post("/playground/").status_code == 405


def test_playground_without_the_api(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("testproject.playground._url", lambda name: None)
    assert page_config(client.get("/playground/"))["evaluateUrl"] is None


def test_tester_links_the_playground(client: Client, admin_user: Any) -> None:
    client.force_login(admin_user)
    page = client.get("/admin/cors_policies/corspolicy/test/").content.decode()
    assert '<a href="/playground/" id="cors-playground-link">' in page


#: A URLconf with the admin but no playground (a project that is not the demo): ``ROOT_URLCONF = __name__``.
urlpatterns = [path("admin/", admin.site.urls)]


def test_tester_without_the_playground_has_no_link(client: Client, admin_user: Any, settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    client.force_login(admin_user)
    response = client.get("/admin/cors_policies/corspolicy/test/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "What would a browser get?" in page
    assert "cors-playground" not in page


def test_admin_and_api_say_star_never_covers_authorization(client: Client, admin_user: Any) -> None:
    """Next to allowed headers, both faces say what the browser matrix proves."""
    client.force_login(admin_user)
    form = client.get("/admin/cors_policies/corspolicy/add/").content.decode()
    assert AUTHORIZATION_NOTE in form
    schema = client.get("/api/cors/schema/", {"format": "json"}).json()
    description = schema["components"]["schemas"]["CorsPolicy"]["properties"]["allowed_headers"]["description"]
    assert description == "Request headers the browser may send; * for any except Authorization, which must be listed."


# -- the demo served for real ----------------------------------------------------------------------------


def test_runserver_on_a_port_the_system_picks_prints_that_port(tmp_path: Path) -> None:
    """``runserver 127.0.0.1:0``: the printed address is the one served, and the own origins follow it."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    root = Path(__file__).resolve().parent.parent
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "PYTHONUNBUFFERED": "1"}
    manage = [sys.executable, str(root / "manage.py")]
    for command in (["migrate", "-v0"], ["demo_setup"]):
        subprocess.run([*manage, *command], cwd=root, env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", "127.0.0.1:0"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("Admin: ") for line in lines) and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        [admin_line] = [line for line in lines if line.startswith("Admin: ")]
        port = int(re.fullmatch(r"Admin: http://127\.0\.0\.1:(\d+)/admin/  login: admin / admin", admin_line)[1])  # type: ignore[index]
        assert port != 0
        assert any(
            re.fullmatch(rf"Starting (WSGI )?development server at http://127\.0\.0\.1:{port}/", line) for line in lines
        )
        assert (
            f"Policy 'profile' now allows the demo's own origins on port {port}: http://localhost:{port}, "
            "http://127.0.0.1:3000, http://localhost:3000"
        ) in lines
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=10) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
