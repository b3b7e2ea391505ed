"""The model: normalization on save and the cross-field rules every face (admin, API) relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from cors_policies import engine
from cors_policies.models import REASON_LABELS, SPEC_FIELDS, CorsPolicy, ObservedOrigin, PolicySetVersion
from cors_policies.validators import STAR_WITH_CREDENTIALS
from tests.factories import CorsPolicyFactory

pytestmark = pytest.mark.django_db


def test_save_normalizes_origins_methods_and_headers() -> None:
    policy = CorsPolicyFactory(
        path_pattern=" /api/** ",
        allowed_origins=["HTTPS://App.Example.com:443", "https://app.example.com", "http://localhost:80"],
        allowed_methods=["put", "patch", "PUT"],
        allowed_headers=["X-Token", "x-token", " Content-Type "],
        expose_headers=["X-Total", "x-total"],
    )
    policy.refresh_from_db()
    assert policy.path_pattern == "/api/**"
    assert policy.allowed_origins == ["https://app.example.com", "http://localhost"]
    assert policy.allowed_methods == ["PUT", "patch"]
    assert policy.allowed_headers == ["X-Token", "Content-Type"]
    assert policy.expose_headers == ["X-Total"]


def test_full_clean_refuses_star_with_credentials_with_the_explanation() -> None:
    policy = CorsPolicy(name="open", path_pattern="/**", allowed_origins=["*"], allow_credentials=True)
    with pytest.raises(ValidationError) as info:
        policy.full_clean()
    assert info.value.message_dict == {"allowed_origins": [STAR_WITH_CREDENTIALS]}
    assert "List the origins that need credentials instead" in STAR_WITH_CREDENTIALS


def test_full_clean_reports_each_bad_field() -> None:
    policy = CorsPolicy(
        name="bad",
        path_pattern="api/**",
        allowed_origins=["https://app.example.com/"],
        allowed_origin_regexes=["(unclosed"],
        allowed_methods=["GET POST"],
        allowed_headers=["X Token"],
        max_age=-1,
    )
    with pytest.raises(ValidationError) as info:
        policy.full_clean()
    errors = info.value.message_dict
    assert errors["path_pattern"] == [
        "'api/**' must start with '/' (a path or glob, such as /api/**) or with '^' (a regular expression)."
    ]
    assert errors["allowed_origins"] == [
        "'https://app.example.com/' contains a path; an origin is only scheme://host[:port], so write "
        "https://app.example.com (browsers send no trailing slash)."
    ]
    assert errors["allowed_origin_regexes"][0].startswith("'(unclosed' is not a valid regular expression (")
    assert errors["allowed_methods"] == [
        "'GET POST' is not a valid method: use letters, digits and -, without spaces, commas or colons "
        "(one method per entry, such as \"PUT\"), or '*' for any."
    ]
    assert errors["allowed_headers"][0].startswith("'X Token' is not a valid header name")
    assert errors["max_age"] == ["Max age is a number of seconds, 0 or more; leave it empty to send no header."]


def test_a_valid_policy_passes_full_clean() -> None:
    policy = CorsPolicy(
        name="ok",
        path_pattern="/api/**",
        allowed_origins=["https://*.example.com", "capacitor://localhost", "null"],
        allowed_origin_regexes=[r"https://pr-\d+\.preview\.example\.com"],
        allowed_methods=["*"],
        allowed_headers=["*", "Authorization"],
        allow_credentials=True,
        max_age=0,
    )
    policy.full_clean()


def test_str() -> None:
    assert str(CorsPolicy(name="api", path_pattern="/api/**")) == "api (/api/**)"
    assert str(PolicySetVersion(version=3)) == "version 3"


def test_defaults() -> None:
    policy = CorsPolicy.objects.create(name="defaults", path_pattern="/x")
    assert (policy.priority, policy.enabled, policy.allowed_origins, policy.max_age) == (0, True, [], None)
    assert (policy.allow_credentials, policy.allow_private_network, policy.report_only) == (False, False, False)


def test_to_spec_carries_report_only() -> None:
    policy = CorsPolicy(name="tight", path_pattern="/x", report_only=True)
    assert policy.to_spec().report_only is True
    assert "report_only" in SPEC_FIELDS


def test_observed_origin_str_and_reason_label() -> None:
    row = ObservedOrigin(policy_id=3, origin="https://a.test", verdict="refused", reason="headers")
    assert str(row) == "https://a.test refused by policy 3"
    assert row.reason_label == "request headers not allowed"
    assert ObservedOrigin(reason="").reason_label == "allowed"
    assert ObservedOrigin(reason="something_new").reason_label == "something_new"


def test_the_observability_migrations_are_reversible(tmp_path: Path) -> None:
    """Forward, back to 0003, forward again, on a database of its own."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'migrations.db'}", "REDIS_URL": ""}

    def migrate(*target: str) -> str:
        command = [sys.executable, "manage.py", "migrate", *target, "--no-input"]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True).stdout

    assert "Applying cors_policies.0005_corspolicy_report_only... OK" in migrate()
    back = migrate("cors_policies", "0003")
    assert "Unapplying cors_policies.0005_corspolicy_report_only... OK" in back
    assert "Unapplying cors_policies.0004_observedorigin... OK" in back
    again = migrate("cors_policies")
    assert "Applying cors_policies.0004_observedorigin... OK" in again
    assert "Applying cors_policies.0005_corspolicy_report_only... OK" in again


def test_every_refusal_code_a_row_can_carry_has_its_label() -> None:
    """The admin's reason column, its filter and the API's ?reason= read REASON_LABELS, derived from the engine's
    Reason enum (tests/test_engine_reasons.py checks that the engine emits no other code)."""
    assert set(REASON_LABELS) == {"", *(reason.value for reason in engine.Reason.recordable())}
    assert ObservedOrigin(reason="origin_malformed").reason_label == "malformed Origin"
