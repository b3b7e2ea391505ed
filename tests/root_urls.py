"""The URLconf of the suite's settings: the admin, the API where the docs mount it, and the views of tests/urls.py
(which count their calls). The demo's pages are in testproject/urls.py, for the tests of the demo."""

from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from tests import urls

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/cors/", include("cors_policies.api.urls")),
    *urls.urlpatterns,
]
