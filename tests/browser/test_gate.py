"""The gate in front of the browser tests: skip with a reason, or fail where a browser is required (CI)."""

from __future__ import annotations

import pytest

from tests.browser import conftest


def test_reason_when_chromium_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", "/nonexistent/chromium")
    assert conftest.unavailable_reason() == (
        "Chromium is not installed at /nonexistent/chromium (on Debian: apt-get install chromium)"
    )


def test_reason_when_playwright_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", "/bin/sh")  # any executable
    monkeypatch.setattr(conftest.importlib.util, "find_spec", lambda name: None)
    assert conftest.unavailable_reason() == (
        "the playwright Python package is not installed (pip install playwright; Chromium itself comes from "
        "Debian: apt-get install -y chromium)"
    )


def test_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(conftest.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^browser tests skipped: no browser \(set CORS_POLICIES_"):
        conftest.skip_or_fail("no browser")


def test_fails_when_a_browser_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(conftest.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=r"^CORS_POLICIES_REQUIRE_BROWSER=1 but the browser tests"):
        conftest.skip_or_fail("no browser")
