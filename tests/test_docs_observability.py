"""docs/observability.md: its settings are the defaults, its Prometheus example counts, its log line is the
engine's, its screenshot exists."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from cors_policies.conf import DEFAULTS
from cors_policies.models import CorsPolicy
from cors_policies.signals import cors_decision
from tests.docs_pages import DOCS, code_blocks, images, page, section

TEXT = page("observability.md")
APP = "https://app.example.com"
EVIL = "https://evil.test"


def test_the_settings_shown_are_the_defaults() -> None:
    block = code_blocks(TEXT, "python")[0]
    namespace: dict[str, Any] = {}
    exec(block, namespace)  # noqa: S102  (the page's own example)
    documented = namespace["CORS_POLICIES"]
    assert documented == {key: value for key, value in DEFAULTS.items() if key.startswith("OBSERVE")}


def test_the_screenshot_exists() -> None:
    assert images(TEXT) == ["screenshots/observed.png"]
    assert (DOCS / "screenshots" / "observed.png").is_file()


@pytest.mark.urls("tests.urls")
@pytest.mark.django_db
def test_the_prometheus_example_counts(
    client: Client, make_policy: Callable[..., CorsPolicy], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """The example runs as written, against a stand-in for prometheus_client's Counter."""
    settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_FLUSH": "manual"}

    class Counter:
        def __init__(self, name: str, documentation: str, labelnames: list[str]) -> None:
            self.counts: dict[tuple[str, ...], int] = {}

        def labels(self, *values: str) -> Any:
            counter = self

            class Child:
                def inc(self) -> None:
                    counter.counts[values] = counter.counts.get(values, 0) + 1

            return Child()

    fake = types.ModuleType("prometheus_client")
    fake.Counter = Counter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "prometheus_client", fake)
    namespace: dict[str, Any] = {"__name__": "metrics_example"}
    exec(code_blocks(section(TEXT, "## Logging and metrics"), "python")[-1], namespace)  # noqa: S102
    make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP], allowed_methods=["PUT"])
    make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
    cors_decision.connect(namespace["count_cors_decision"], dispatch_uid="docs_example")
    try:
        client.get("/t/echo", HTTP_ORIGIN=APP)
        client.get("/t/echo", HTTP_ORIGIN=APP)
        client.get("/t/echo", HTTP_ORIGIN=EVIL)
    finally:
        cors_decision.disconnect(dispatch_uid="docs_example")
    assert namespace["CORS_DECISIONS"].counts == {("api", "allowed", ""): 2, ("api", "refused", "origin"): 1}
    assert namespace["CORS_REPORT_ONLY"].counts == {("tight", "refused"): 2}


def test_the_log_line_is_what_the_engine_says() -> None:
    from cors_policies.engine import PolicySet, PolicySpec

    line = re.search(r"```\n(CORS refused .*)\n```", TEXT)
    assert line is not None
    profile = PolicySpec(
        id=1,
        name="profile",
        path_pattern="/api/profile/**",
        allowed_origins=["http://localhost:8000", "http://127.0.0.1:3000", "http://localhost:3000"],
    )
    decision = PolicySet.build([profile]).evaluate(origin="http://localhost:5173", method="GET", path="/api/profile/")
    assert line.group(1) == (
        "CORS refused GET /api/profile/ from origin http://localhost:5173 by policy 'profile': "
        + "; ".join(decision.reasons)
    )


def test_the_cleanup_command_named_exists() -> None:
    from django.core.management import get_commands

    assert "`python manage.py cors_cleanup_observed [--days N] [--max-rows N]`" in " ".join(TEXT.split())
    assert get_commands()["cors_cleanup_observed"] == "cors_policies"
