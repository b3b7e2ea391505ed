from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from cors_policies import protected, push
from cors_policies.models import CorsPolicy
from cors_policies.observed import recorder
from cors_policies.snapshot import snapshot
from testproject import settings as demo_settings
from tests import urls
from tests.factories import CorsPolicyFactory
from tests.helpers import client_for


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "push: the test may run this process's push listener (cors_policies.push)")


@pytest.fixture(autouse=True)
def _fresh_state(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no snapshot, no observed counts or writer thread, empty caches, no view calls."""
    if request.node.get_closest_marker("push") is None:
        # A listener in the test process would expire the snapshot at moments no test controls (and hold a
        # connection to the test database): only tests marked push run one.
        monkeypatch.setattr(push, "start", lambda on_change: None)
    snapshot.reset()
    snapshot.background = False  # rebuilds on the request: a thread's connection cannot see the test's rows
    recorder.reset()
    protected.reset()  # pytest-django's urls marker sets ROOT_URLCONF without sending setting_changed
    for cache in caches.all():
        cache.clear()
    urls.calls.clear()
    yield
    snapshot.stop()  # a rebuild thread a test started never outlives it (nor reads a later test's database)
    snapshot.reset()
    recorder.reset()  # nothing is written outside the test that counted it


@pytest.fixture
def demo(settings: Any) -> None:
    """The demo project (testproject/settings.py): its apps (``demo_setup``, the playground's templates), its
    middleware (the origin log) and its URLs (the views its policies cover). Tests of the demo ask for it; the
    rest of the suite runs on tests/settings.py."""
    settings.INSTALLED_APPS = demo_settings.INSTALLED_APPS
    settings.MIDDLEWARE = demo_settings.MIDDLEWARE
    settings.ROOT_URLCONF = demo_settings.ROOT_URLCONF
    settings.REST_FRAMEWORK = demo_settings.REST_FRAMEWORK
    settings.SPECTACULAR_SETTINGS = demo_settings.SPECTACULAR_SETTINGS
    settings.CORS_POLICIES = demo_settings.CORS_POLICIES


@pytest.fixture
def api_client(admin_user: Any) -> APIClient:
    """The REST API, as a superuser (pytest-django's ``admin_user``)."""
    return client_for(admin_user)


@pytest.fixture
def make_policy(db: None, django_capture_on_commit_callbacks: Any) -> Callable[..., CorsPolicy]:
    """Create a policy and run its on-commit hooks, as a committed write in production would."""

    def make(**fields: Any) -> CorsPolicy:
        with django_capture_on_commit_callbacks(execute=True):
            return CorsPolicyFactory(**fields)

    return make


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """``with committed(): ...`` runs the block's on-commit hooks at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Control the snapshot's clock, so refresh intervals are tested without sleeping."""
    fake = FakeClock()
    monkeypatch.setattr("cors_policies.snapshot.time", fake)
    return fake
