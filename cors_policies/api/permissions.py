"""Who may do what: Django model permissions on CorsPolicy, with ``view`` required for reading too.

DRF's DjangoModelPermissions lets any authenticated user read; here GET, HEAD and OPTIONS need
``cors_policies.view_corspolicy``. Views whose method does not say what they do (evaluate is a POST that
only reads; import is a POST that adds, changes and maybe deletes) declare it with
``required_model_actions(request)`` (None: go by the method). The classes used are
``CORS_POLICIES["API_PERMISSION_CLASSES"]``.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.request import Request

from ..conf import conf
from ..models import CorsPolicy

#: HTTP method → model permission actions ("view", "add", "change", "delete").
METHOD_ACTIONS: dict[str, list[str]] = {
    "GET": ["view"],
    "HEAD": ["view"],
    "OPTIONS": ["view"],
    "POST": ["add"],
    "PUT": ["change"],
    "PATCH": ["change"],
    "DELETE": ["delete"],
}


def model_permissions(actions: list[str]) -> list[str]:
    """``["view"]`` → ``["cors_policies.view_corspolicy"]``."""
    opts = CorsPolicy._meta
    return [f"{opts.app_label}.{action}_{opts.model_name}" for action in actions]


class CorsPolicyPermissions(DjangoModelPermissions):
    """Authenticated users with the CorsPolicy model permissions the request needs."""

    perms_map = {method: model_permissions(actions) for method, actions in METHOD_ACTIONS.items()}

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        declared = getattr(view, "required_model_actions", None)
        actions = declared(request) if declared is not None else None
        if actions is not None:
            perms = model_permissions(actions)
        else:
            perms = self.get_required_permissions(request.method or "GET", CorsPolicy)
        return user.has_perms(perms)


def api_permission_classes() -> list[type[BasePermission]]:
    """The classes named by ``CORS_POLICIES["API_PERMISSION_CLASSES"]`` (dotted paths), read live."""
    return [import_string(path) for path in conf.API_PERMISSION_CLASSES]


def api_authentication_classes() -> list[type[BaseAuthentication]]:
    """``CORS_POLICIES["API_AUTHENTICATION_CLASSES"]`` (dotted paths), read live; by default (None) tokens,
    when ``rest_framework.authtoken`` is installed, then the admin's session (which enforces CSRF).

    Token first: DRF takes the ``WWW-Authenticate`` challenge from the first class, so a request without
    credentials gets 401 rather than 403. Without ``rest_framework.authtoken`` there is no token table to
    read, so the class is left out rather than answer 500 to an ``Authorization: Token ...`` header.
    """
    paths = conf.API_AUTHENTICATION_CLASSES
    if paths is None:
        default: list[type[BaseAuthentication]] = [SessionAuthentication]
        if apps.is_installed("rest_framework.authtoken"):
            default.insert(0, TokenAuthentication)
        return default
    return [import_string(path) for path in paths]
