"""Mount with ``path("api/cors/", include("cors_policies.api.urls"))``; URL names are in ``cors_policies_api``."""

from __future__ import annotations

from django.apps import apps
from django.urls import URLPattern, URLResolver, path, re_path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "cors_policies_api"

router = SimpleRouter()
router.register("policies", views.CorsPolicyViewSet, basename="corspolicy")

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.ApiRootView.as_view(), name="root"),
    path("evaluate/", views.EvaluateView.as_view(), name="evaluate"),
    path("observed/", views.ObservedOriginListView.as_view(), name="observed-list"),
    path("observed/<str:pk>/allow/", views.ObservedOriginAllowView.as_view(), name="observed-allow"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    *router.urls,
]

# The Swagger UI page needs drf-spectacular's template and the sidecar's static files: both apps installed.
if apps.is_installed("drf_spectacular") and apps.is_installed("drf_spectacular_sidecar"):
    urlpatterns.append(path("schema/docs/", views.DocsView.as_view(), name="docs"))

# Last: any other URL ending in "/" under the API answers a JSON 404. (Without a slash, CommonMiddleware's
# APPEND_SLASH redirects first, as for the API's own URLs.)
urlpatterns.append(re_path(r"^.+/$", views.not_found))
