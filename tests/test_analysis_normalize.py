"""analysis.normalize: how policy lists are stored (no database); the validators keep these names."""

from __future__ import annotations

import pytest

from cors_policies import validators
from cors_policies.analysis import normalize
from cors_policies.analysis.normalize import normalize_header_names, normalize_methods, normalize_origins


def test_the_validators_keep_the_names() -> None:
    for name in normalize.__all__:
        assert getattr(validators, name) is getattr(normalize, name)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["https://App.Example.com:443"], ["https://app.example.com"]),
        (["HTTP://LOCALHOST:80", "http://localhost:3000"], ["http://localhost", "http://localhost:3000"]),
        (["https://app.example.com:80"], ["https://app.example.com:80"]),  # 80 is not https's default
        (["ws://a.example.com:80", "wss://a.example.com:443"], ["ws://a.example.com", "wss://a.example.com"]),
        (["https://*.Example.COM:443"], ["https://*.example.com"]),
        (["  https://app.example.com  ", "NULL", " * "], ["https://app.example.com", "null", "*"]),
        (["capacitor://LocalHost"], ["capacitor://localhost"]),
        (["http://[::1]:80", "http://[::1]:8000"], ["http://[::1]", "http://[::1]:8000"]),
        (
            ["https://app.example.com", "https://APP.example.com:443", "https://app.example.com"],
            ["https://app.example.com"],
        ),
        (["https://app.example.com/", "not an origin"], ["https://app.example.com/", "not an origin"]),  # as typed
        ([], []),
    ],
)
def test_normalize_origins(value: list[str], expected: list[str]) -> None:
    assert normalize_origins(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["put", "PUT", "Put"], ["PUT"]),
        (["delete", "get", "head", "options", "post"], ["DELETE", "GET", "HEAD", "OPTIONS", "POST"]),
        (["patch"], ["patch"]),  # Fetch does not normalize PATCH: 'patch' is sent as typed
        (["patch", "PATCH", "Patch"], ["patch", "PATCH", "Patch"]),
        ([" get ", "GET", "*", "*"], ["GET", "*"]),
        (["propfind", "M-SEARCH"], ["propfind", "M-SEARCH"]),
        ([], []),
    ],
)
def test_normalize_methods(value: list[str], expected: list[str]) -> None:
    assert normalize_methods(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["X-Token", "x-token", "X-TOKEN"], ["X-Token"]),
        ([" Content-Type ", "content-type", "Authorization"], ["Content-Type", "Authorization"]),
        (["*", "*", "x-a"], ["*", "x-a"]),
        ([], []),
    ],
)
def test_normalize_header_names(value: list[str], expected: list[str]) -> None:
    assert normalize_header_names(value) == expected
