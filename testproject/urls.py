from __future__ import annotations

from importlib.util import find_spec

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from . import playground, views


def _module_exists(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/public/items/", views.item_list, name="item-list"),
    path("api/public/items/<int:item_id>/", views.item_detail, name="item-detail"),
    path("api/profile/", views.profile, name="profile"),
    path("health", views.health, name="health"),
    path("api/orders/csrf/", views.csrf_token, name="csrf-token"),
    path("api/orders/", views.orders, name="orders"),
    path("api/public/error/", views.error, name="error"),
    path("api/echo/", views.echo, name="echo"),
    path("api/echo/<path:rest>", views.echo, name="echo-path"),
    # The admin's request tester links here when the URL name "cors-playground" resolves.
    path("playground/", playground.page, name="cors-playground"),
    path("playground/log/", playground.log, name="cors-playground-log"),
]

if _module_exists("cors_policies.api.urls"):
    urlpatterns.append(path("api/cors/", include("cors_policies.api.urls")))
