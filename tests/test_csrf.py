"""CSRF trust per policy (issue 17): the ``csrf_trusted`` field in every door (model, admin, API, documents,
``cors_import_settings``), then ``cors_policies.csrf.CsrfViewMiddleware``, which makes Django's CSRF origin and
referer checks accept the origins a policy trusts, live from the snapshot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from cors_policies import validators
from cors_policies.corsheaders_settings import translate
from cors_policies.models import CorsPolicy
from cors_policies.services import documents
from tests.helpers import ADD_URL, APP, form_data

pytestmark = pytest.mark.django_db

POLICIES = "/api/cors/policies/"

#: (fields beside csrf_trusted=True, the csrf_trusted messages): every way a policy cannot be CSRF-trusted.
REFUSED: list[tuple[dict[str, Any], list[str]]] = [
    ({"allow_credentials": False, "allowed_origins": [APP]}, [validators.CSRF_NEEDS_CREDENTIALS]),
    ({"allow_credentials": False, "allowed_origins": ["*"]}, [validators.CSRF_NEEDS_CREDENTIALS, validators.CSRF_STAR]),
    ({"allow_credentials": True, "allowed_origins": [APP, "null"]}, [validators.CSRF_NULL]),
    (
        {"allow_credentials": True, "allowed_origins": [APP], "allowed_origin_regexes": [r"^https://a\.example\.com$"]},
        [validators.CSRF_REGEXES],
    ),
    ({"allow_credentials": True, "allowed_origins": []}, [validators.CSRF_NEEDS_ORIGINS]),
    (
        {"allow_credentials": True, "allowed_origins": [], "allowed_origin_regexes": [r"^https://a\.example\.com$"]},
        [validators.CSRF_REGEXES, validators.CSRF_NEEDS_ORIGINS],
    ),
]


def test_the_fields_are_off_by_default() -> None:
    policy = CorsPolicy(name="p", path_pattern="/p")
    assert (policy.csrf_trusted, policy.timing_allow_origin, policy.allow_private_network) == (False, False, False)


@pytest.mark.parametrize(
    "origins", [[APP], ["https://*.example.com"], [APP, "http://localhost:3000", "https://*.example.org"]]
)
def test_csrf_trust_takes_credentials_with_exact_origins_and_subdomain_wildcards(origins: list[str]) -> None:
    policy = CorsPolicy(name="p", path_pattern="/p", allowed_origins=origins, allow_credentials=True, csrf_trusted=True)
    policy.full_clean()


@pytest.mark.parametrize(("fields", "messages"), REFUSED)
def test_the_model_refuses_csrf_trust_saying_what_to_write(fields: dict[str, Any], messages: list[str]) -> None:
    policy = CorsPolicy(name="p", path_pattern="/p", csrf_trusted=True, **fields)
    with pytest.raises(ValidationError) as info:
        policy.clean()
    assert info.value.message_dict["csrf_trusted"] == messages


def test_star_with_credentials_and_csrf_trust_says_both() -> None:
    with pytest.raises(ValidationError) as info:
        validators.validate_policy(allowed_origins=["*"], allow_credentials=True, csrf_trusted=True)
    assert info.value.message_dict == {
        "allowed_origins": [validators.STAR_WITH_CREDENTIALS],
        "csrf_trusted": [validators.CSRF_STAR],
    }


def test_without_csrf_trust_the_same_fields_are_fine() -> None:
    for fields, _ in REFUSED:
        if "*" not in fields["allowed_origins"]:
            CorsPolicy(name="p", path_pattern="/p", **fields).clean()


@pytest.mark.parametrize(("fields", "messages"), REFUSED)
def test_the_api_gives_the_same_messages(api_client: Any, fields: dict[str, Any], messages: list[str]) -> None:
    body = {"name": "p", "path_pattern": "/p", "csrf_trusted": True, **fields}
    response = api_client.post(POLICIES, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"csrf_trusted": messages}


@pytest.mark.parametrize(("fields", "messages"), REFUSED[:1] + REFUSED[2:])
def test_the_admin_gives_the_same_messages(admin_client: Client, fields: dict[str, Any], messages: list[str]) -> None:
    data = form_data(
        allowed_origins="\n".join(fields["allowed_origins"]),
        allowed_origin_regexes="\n".join(fields.get("allowed_origin_regexes", [])),
        csrf_trusted="on",
        allow_credentials="on" if fields["allow_credentials"] else None,
    )
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["csrf_trusted"] == messages
    assert not CorsPolicy.objects.exists()


def test_the_admin_saves_and_shows_both_fields(admin_client: Client) -> None:
    response = admin_client.post(
        ADD_URL, form_data(allow_credentials="on", csrf_trusted="on", timing_allow_origin="on")
    )
    assert response.status_code == 302
    policy = CorsPolicy.objects.get(name="partners")
    assert (policy.csrf_trusted, policy.timing_allow_origin) == (True, True)
    html = admin_client.get(f"{ADD_URL[: -len('add/')]}{policy.pk}/change/").content.decode()
    assert ">Beyond CORS</h2>" in html  # its own fieldset (Django 4.2 writes a bare <h2>, 5.x adds an id)
    for name in ("csrf_trusted", "timing_allow_origin"):
        assert re.search(rf'<input type="checkbox" name="{name}"[^>]* checked>', html)


def test_the_api_writes_and_reads_both_fields(api_client: Any) -> None:
    body = {
        "name": "p",
        "path_pattern": "/p",
        "allowed_origins": [APP],
        "allow_credentials": True,
        "csrf_trusted": True,
        "timing_allow_origin": True,
    }
    response = api_client.post(POLICIES, body, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["csrf_trusted"], response.json()["timing_allow_origin"]) == (True, True)
    response = api_client.post(POLICIES, {**body, "name": "q", "timing_allow_origin": "yes"}, format="json")
    assert response.json() == {"timing_allow_origin": ["Write true or false."]}


def test_export_and_import_carry_both_fields(make_policy: Callable[..., Any]) -> None:
    make_policy(name="p", path_pattern="/p", allowed_origins=[APP], allow_credentials=True, csrf_trusted=True)
    [exported] = documents.export_document()["policies"]
    assert (exported["csrf_trusted"], exported["timing_allow_origin"]) == (True, False)
    [validated] = documents.validate_document({"policies": [{**exported, "timing_allow_origin": True}]})
    assert (validated["csrf_trusted"], validated["timing_allow_origin"]) == (True, True)
    with pytest.raises(documents.DocumentError) as info:
        documents.validate_document({"policies": [{**exported, "allow_credentials": False}]})
    assert info.value.errors == {"policies": {"0": {"csrf_trusted": [validators.CSRF_NEEDS_CREDENTIALS]}}}


# -- django-cors-headers' settings ------------------------------------------------------------------------

LEGACY = {
    "CORS_ALLOWED_ORIGINS": ["https://app.example.com", "https://shop.example.org"],
    "CORS_ALLOW_CREDENTIALS": True,
}


@pytest.mark.parametrize(
    "trusted",
    [
        ["https://app.example.com", "https://shop.example.org"],
        ["https://*.example.com", "https://shop.example.org:443", "https://other.example.net"],
    ],
)
def test_csrf_trusted_origins_listing_every_allowed_origin_makes_the_policy_trusted(trusted: list[str]) -> None:
    translation = translate({**LEGACY, "CSRF_TRUSTED_ORIGINS": trusted})
    assert translation.policy["csrf_trusted"] is True
    assert translation.sources["csrf_trusted"] == "CSRF_TRUSTED_ORIGINS"
    assert translation.notes == [
        "CSRF_TRUSTED_ORIGINS lists every allowed origin, so the policy is CSRF-trusted: with "
        "'cors_policies.csrf.CsrfViewMiddleware' in place of 'django.middleware.csrf.CsrfViewMiddleware', "
        "Django's CSRF check reads that trust live from the policy, and those origins can leave CSRF_TRUSTED_ORIGINS."
    ]


PARTIAL = (
    "csrf_trusted stays off: CSRF_TRUSTED_ORIGINS does not trust every allowed origin of a credentialed policy "
    "without regexes, '*' or 'null' (CSRF trust is all or nothing per policy). Keep CSRF_TRUSTED_ORIGINS: "
    "Django's CSRF check reads it as before."
)


@pytest.mark.parametrize(
    "values",
    [
        {**LEGACY, "CSRF_TRUSTED_ORIGINS": ["https://app.example.com"]},  # one of two
        {**LEGACY, "CSRF_TRUSTED_ORIGINS": ["http://app.example.com", "https://shop.example.org"]},  # scheme
        {**LEGACY, "CSRF_TRUSTED_ORIGINS": ["https://app.example.com:8443", "https://shop.example.org"]},  # port
        {**LEGACY, "CSRF_TRUSTED_ORIGINS": ["https://*.app.example.com", "https://shop.example.org"]},  # apex
        {**LEGACY, "CORS_ALLOW_CREDENTIALS": False, "CSRF_TRUSTED_ORIGINS": LEGACY["CORS_ALLOWED_ORIGINS"]},
        {**LEGACY, "CORS_ALLOWED_ORIGINS": [APP, "null"], "CSRF_TRUSTED_ORIGINS": [APP, "null"]},
    ],
)
def test_csrf_trusted_origins_that_do_not_cover_the_policy_leave_it_off_with_a_note(values: dict[str, Any]) -> None:
    translation = translate(values)
    assert translation.policy["csrf_trusted"] is False
    assert translation.sources["csrf_trusted"] == "CSRF_TRUSTED_ORIGINS"
    assert PARTIAL in translation.notes


def test_no_csrf_trusted_origins_says_nothing() -> None:
    translation = translate({**LEGACY, "CSRF_TRUSTED_ORIGINS": []})
    assert translation.policy["csrf_trusted"] is False
    assert "csrf_trusted" not in translation.sources
    assert translation.notes == []


def test_the_imported_trusted_policy_is_valid() -> None:
    translation = translate({**LEGACY, "CSRF_TRUSTED_ORIGINS": LEGACY["CORS_ALLOWED_ORIGINS"]})
    [policy] = documents.validate_document({"policies": [translation.policy]})
    assert policy["csrf_trusted"] is True


def test_the_migration_is_reversible(tmp_path: Path) -> None:
    """Forward, back to 0006, forward again, on a database of its own."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'migrations.db'}", "REDIS_URL": ""}

    def migrate(*target: str) -> str:
        command = [sys.executable, "manage.py", "migrate", *target, "--no-input"]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True).stdout

    assert "Applying cors_policies.0007_csrf_trusted_timing_allow_origin... OK" in migrate()
    assert "Unapplying cors_policies.0007_csrf_trusted_timing_allow_origin... OK" in migrate("cors_policies", "0006")
    assert "Applying cors_policies.0007_csrf_trusted_timing_allow_origin... OK" in migrate("cors_policies")
