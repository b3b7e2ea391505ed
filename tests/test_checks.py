"""System checks, by their stable IDs."""

from __future__ import annotations

from typing import Any

import pytest

from cors_policies.checks import MIDDLEWARE_PATH, check_middleware, check_settings


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_the_demo_configuration_passes(settings: Any) -> None:
    assert check_middleware() == []
    assert check_settings() == []


def test_missing_middleware_is_e001(settings: Any) -> None:
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
    assert ids(check_middleware()) == ["cors_policies.E001"]


@pytest.mark.parametrize(
    "first",
    ["django.middleware.common.CommonMiddleware", "django.middleware.gzip.GZipMiddleware"],
)
def test_middleware_below_one_that_answers_first_is_e002(settings: Any, first: str) -> None:
    settings.MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", first, MIDDLEWARE_PATH]
    [message] = check_middleware()
    assert message.id == "cors_policies.E002"
    assert first in message.msg


def test_middleware_below_harmless_middleware_passes(settings: Any) -> None:
    settings.MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", MIDDLEWARE_PATH]
    assert check_middleware() == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([], ["cors_policies.E003"]),
        ({"REFRESH_INTERVALL": 1}, ["cors_policies.E004"]),
        ({"REFRESH_INTERVAL": -1}, ["cors_policies.E005"]),
        ({"REFRESH_INTERVAL": "1"}, ["cors_policies.E005"]),
        ({"PREFLIGHT_STATUS": 302}, ["cors_policies.E006"]),
        ({"CACHE_ALIAS": "nope"}, ["cors_policies.E007"]),
        ({"API_PERMISSION_CLASSES": "rest_framework.permissions.IsAdminUser"}, ["cors_policies.E008"]),
        ({"API_PERMISSION_CLASSES": ["no.such.Permission"]}, ["cors_policies.E008"]),
        ({"API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"]}, []),
        ({"REFRESH_INTERVAL": 0.5, "PREFLIGHT_STATUS": 204}, []),
    ],
)
def test_settings_checks(settings: Any, value: Any, expected: list[str]) -> None:
    settings.CORS_POLICIES = value
    assert ids(check_settings()) == expected


def test_unknown_setting_name_raises_a_clear_error() -> None:
    from cors_policies.conf import conf

    with pytest.raises(AttributeError, match=r"CORS_POLICIES has no setting 'NOPE'; known: "):
        conf.NOPE  # noqa: B018
