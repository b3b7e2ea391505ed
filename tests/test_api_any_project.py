"""The API, its schema and its docs page work whatever the project's ``REST_FRAMEWORK`` says.

In-process, the ``settings`` fixture changes what DRF reads live, and the base classes get the class
attributes a fresh import would have given them; one test also starts a fresh process on
tests/hostile_settings.py, where every import-time default is hostile.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.models import Token
from rest_framework.generics import GenericAPIView
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.views import APIView

from cors_policies.api import permissions
from tests.factories import CorsPolicyFactory
from tests.helpers import make_user
from tests.hostile_settings import HOSTILE_REST_FRAMEWORK, HOSTILE_SPECTACULAR

ROOT = Path(__file__).resolve().parent.parent
POLICIES = "/api/cors/policies/"
SCHEMA = "/api/cors/schema/"
DOCS = "/api/cors/schema/docs/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def hostile(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A project whose DRF defaults would open the API, page it one row at a time and answer HTML."""
    settings.REST_FRAMEWORK = HOSTILE_REST_FRAMEWORK
    settings.SPECTACULAR_SETTINGS = HOSTILE_SPECTACULAR
    # What DRF and drf-spectacular copy into class attributes at import, as a fresh process would have them.
    for cls in (APIView, SpectacularAPIView, SpectacularSwaggerView):
        monkeypatch.setattr(cls, "authentication_classes", api_settings.DEFAULT_AUTHENTICATION_CLASSES)
        monkeypatch.setattr(cls, "permission_classes", api_settings.DEFAULT_PERMISSION_CLASSES)
    monkeypatch.setattr(APIView, "renderer_classes", api_settings.DEFAULT_RENDERER_CLASSES)
    monkeypatch.setattr(APIView, "parser_classes", api_settings.DEFAULT_PARSER_CLASSES)
    monkeypatch.setattr(APIView, "versioning_class", api_settings.DEFAULT_VERSIONING_CLASS)
    monkeypatch.setattr(APIView, "metadata_class", api_settings.DEFAULT_METADATA_CLASS)
    monkeypatch.setattr(GenericAPIView, "pagination_class", api_settings.DEFAULT_PAGINATION_CLASS)
    monkeypatch.setattr(GenericAPIView, "filter_backends", api_settings.DEFAULT_FILTER_BACKENDS)
    yield


def token_client(user: Any) -> APIClient:
    """A client that authenticates as a real one does (no force_authenticate: the view's classes decide)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_anonymous_is_refused_even_where_the_project_allows_anyone(hostile: None) -> None:
    response = APIClient().get(POLICIES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_list_keeps_its_own_pagination_and_json(hostile: None) -> None:
    for index in range(3):
        CorsPolicyFactory(name=f"p{index}", path_pattern=f"/p{index}/**")
    response = token_client(make_user("viewer", "view")).get(POLICIES, {"version": "7"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None
    assert [policy["name"] for policy in body["results"]] == ["p0", "p1", "p2"]


def test_writes_parse_json_and_refuse_forms(hostile: None) -> None:
    client = token_client(make_user("admin", superuser=True))
    created = client.post(POLICIES, {"name": "x", "path_pattern": "/x/**"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "x"
    form = client.post(POLICIES, {"name": "y", "path_pattern": "/y/**"})  # multipart, as a form posts
    assert form.status_code == 415
    assert form.json()["detail"].startswith("Unsupported media type")


def test_errors_keep_the_apis_own_bodies(hostile: None) -> None:
    response = token_client(make_user("viewer", "view")).get(f"{POLICIES}999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no policy with id 999."}


def test_options_answers_json(hostile: None) -> None:
    response = token_client(make_user("viewer", "view")).options(POLICIES)
    assert response.status_code == 200
    assert response.json()["name"] == "Cors Policy List"


@pytest.mark.parametrize("url", [SCHEMA, DOCS])
def test_schema_and_docs_need_the_apis_permission(hostile: None, url: str) -> None:
    anonymous = APIClient().get(url)
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    assert token_client(make_user("nobody")).get(url).status_code == 403
    assert token_client(make_user("viewer", "view")).get(url).status_code == 200


def test_schema_ignores_the_projects_schema_settings(hostile: None) -> None:
    response = token_client(make_user("viewer", "view")).get(SCHEMA, {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "CORS policies API"
    assert "/api/cors/evaluate/" in schema["paths"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_docs_page_loads_swagger_ui_from_the_sidecar(hostile: None) -> None:
    response = token_client(make_user("viewer", "view")).get(DOCS)
    assert response.status_code == 200
    page = response.content.decode()
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"):
        assert f'"/static/drf_spectacular_sidecar/swagger-ui-dist/{asset}"' in page
    assert "cdn" not in page.lower()
    assert "https://" not in page
    assert '"/api/cors/schema/"' in page


@pytest.mark.parametrize("url", [SCHEMA, DOCS])
def test_public_schema_setting_opens_both_pages(url: str) -> None:
    with override_settings(CORS_POLICIES={"PUBLIC_SCHEMA": True}):
        assert APIClient().get(url).status_code == 200
    assert APIClient().get(url).status_code == 401
    assert APIClient().get(POLICIES).status_code == 401  # the API itself stays closed


def test_authentication_classes_setting() -> None:
    user = make_user("viewer", "view")
    user.set_password("pw")
    user.save()
    basic = {"CORS_POLICIES": {"API_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"]}}
    with override_settings(**basic):
        client = APIClient()
        assert client.get(POLICIES).status_code == 401
        assert client.get(POLICIES)["WWW-Authenticate"] == 'Basic realm="api"'
        client.credentials(HTTP_AUTHORIZATION="Basic dmlld2VyOnB3")  # viewer:pw
        assert client.get(POLICIES).status_code == 200
        assert token_client(user).get(POLICIES).status_code == 401  # tokens are not among the classes


def test_without_authtoken_installed_a_token_header_is_refused_not_a_500(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.apps import apps

    installed = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name != "rest_framework.authtoken" and installed(name))
    assert [cls.__name__ for cls in permissions.api_authentication_classes()] == ["SessionAuthentication"]
    response = APIClient().get(POLICIES, HTTP_AUTHORIZATION="Token abc")
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ({"PUBLIC_SCHEMA": "yes"}, ["cors_policies.E014"]),
        ({"PUBLIC_SCHEMA": 1}, ["cors_policies.E014"]),
        ({"PUBLIC_SCHEMA": True}, []),
        ({"API_AUTHENTICATION_CLASSES": "rest_framework.authentication.BasicAuthentication"}, ["cors_policies.E008"]),
        ({"API_AUTHENTICATION_CLASSES": ["no.such.Authentication"]}, ["cors_policies.E008"]),
        ({"API_AUTHENTICATION_CLASSES": None}, []),
        ({"API_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"]}, []),
    ],
)
def test_settings_checks(value: dict[str, Any], ids: list[str]) -> None:
    with override_settings(CORS_POLICIES=value):
        found = [message.id for message in run_checks() if (message.id or "").startswith("cors_policies.")]
    assert found == ids


FRESH_PROCESS = """
import json, django
django.setup()
from django.core.checks import ERROR, run_checks
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
from rest_framework.authtoken.models import Token
setup_test_environment()
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
admin = get_user_model().objects.create_superuser("admin", "admin@example.com", None)
auth = {"HTTP_AUTHORIZATION": "Token " + Token.objects.create(user=admin).key}
client = Client()
result = {"checks": [m.id for m in run_checks(include_deployment_checks=True) if m.level >= ERROR]}
for name, response in [
    ("anonymous", client.get("/api/cors/policies/")),
    ("create", client.post("/api/cors/policies/", {"name": "a", "path_pattern": "/a/**"}, "application/json", **auth)),
    ("list", client.get("/api/cors/policies/", **auth)),
    ("schema", client.get("/api/cors/schema/", {"format": "json"}, **auth)),
    ("docs", client.get("/api/cors/schema/docs/", **auth)),
]:
    result[name] = [response.status_code, response["Content-Type"], response.content.decode()]
print(json.dumps(result))
"""


def test_fresh_process_with_hostile_drf_settings() -> None:
    """Import-time defaults (schema class behind extend_schema, renderers, parsers) cannot break the app."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.hostile_settings", "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["checks"] == []  # no cors_policies error, no drf_spectacular.E001
    assert result["anonymous"][:2] == [401, "application/json"]
    assert result["create"][:2] == [201, "application/json"], result["create"]
    status, content_type, body = result["list"]
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body)["count"] == 1
    status, content_type, body = result["schema"]
    assert status == 200, body
    assert content_type.startswith("application/vnd.oai.openapi+json")
    assert "/api/cors/policies/{id}/" in json.loads(body)["paths"]
    status, content_type, body = result["docs"]
    assert (status, content_type.split(";")[0]) == (200, "text/html")
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in body
    assert "cdn.invalid" not in body
