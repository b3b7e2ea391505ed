"""analysis.samples: concrete paths and origins a policy covers, each one the engine matches (no database)."""

from __future__ import annotations

import pytest

from cors_policies.analysis.samples import ANY_ORIGIN_SAMPLE, sample_origin, sample_path, sample_paths


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("/health", ["/health"]),
        ("/api/**", ["/api/example", "/api"]),
        ("/**", ["/example", "/"]),
        ("/api/*/edit", ["/api/example/edit"]),
        ("^/api/", ["/api/", "/api/example"]),
        (r"^/v1\.json", ["/v1.json", "/v1.json/example", "/v1.jsonexample"]),
        ("^/docs?/", ["/doc/example"]),
        ("^/api/v[12]/", []),
        ("^[a-z]", []),
        ("^", ["/", "/example"]),
        ("api", []),  # does not compile
    ],
)
def test_sample_paths(pattern: str, expected: list[str]) -> None:
    assert sample_paths(pattern) == expected
    assert sample_path(pattern) == (expected[0] if expected else None)


@pytest.mark.parametrize(
    ("origins", "expected"),
    [
        (["https://app.example.com"], "https://app.example.com"),
        (["HTTPS://App.Example.com:443"], "https://app.example.com"),
        (["*"], ANY_ORIGIN_SAMPLE),
        (["https://*.example.com"], "https://www.example.com"),
        (["http://*.example.com:8080"], "http://www.example.com:8080"),
        (["null"], "null"),
        (["not an origin", 3, "capacitor://localhost"], "capacitor://localhost"),
        ([], None),
    ],
)
def test_sample_origin(origins: list[object], expected: str | None) -> None:
    assert sample_origin(origins) == expected  # type: ignore[arg-type]
