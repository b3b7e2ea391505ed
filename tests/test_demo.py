"""The demo project: ``manage.py demo_setup`` and the views the demo policies apply to."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from cors_policies.models import CorsPolicy
from testproject.settings import parse_database_url

# Every test may go through the CORS middleware, which reads the policies from the database.
pytestmark = pytest.mark.django_db

LOGIN_LINE = "Admin: http://127.0.0.1:8000/admin/  login: admin / admin"


def test_demo_setup_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo_setup")
    first = capsys.readouterr().out
    call_command("demo_setup")
    second = capsys.readouterr().out

    assert sorted(CorsPolicy.objects.values_list("name", flat=True)) == ["health", "profile", "public-api"]
    users = get_user_model().objects.filter(username="admin")
    assert users.count() == 1
    admin = users.get()
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password("admin")

    for out in (first, second):
        assert LOGIN_LINE in out.splitlines()
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
    assert CorsPolicy.objects.count() == 3


def test_health(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_home_links(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for link in ("/admin/", "/api/public/items/", "/api/public/items/1/", "/api/profile/", "/health"):
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
