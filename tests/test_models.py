"""The model: normalization on save and the cross-field rules every face (admin, API) relies on."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cors_policies.models import CorsPolicy, PolicySetVersion
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
    assert (policy.allow_credentials, policy.allow_private_network) == (False, False)
