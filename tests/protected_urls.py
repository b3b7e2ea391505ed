"""A URLconf that mounts the admin and the API elsewhere, for tests/test_protected.py: the protected prefixes
follow the URLconf (found with reverse()), not a hard-coded /admin/."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from tests.urls import echo

urlpatterns = [
    path("staff/", admin.site.urls),
    path("cors-api/", include("cors_policies.api.urls")),
    path("admin/x", echo),
    path("t/echo", echo),
]
