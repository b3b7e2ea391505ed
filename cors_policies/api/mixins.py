"""What every view of the API shares: its own authentication, permissions, renderers and parsers (whatever the
project's ``REST_FRAMEWORK`` says), JSON errors for Django's own refusals, and writes that happen whole or not at
all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import router, transaction
from django.http import HttpRequest, HttpResponseBase
from django.template.response import SimpleTemplateResponse
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException
from rest_framework.metadata import BaseMetadata, SimpleMetadata
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.versioning import BaseVersioning
from rest_framework.views import exception_handler

from ..models import CorsPolicy
from .openapi import CorsPolicyAutoSchema
from .parsers import JSONParser, too_large
from .permissions import api_authentication_classes, api_permission_classes


class BadRequest(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request is malformed."
    default_code = "bad_request"


class ApiPermissionsMixin:
    """What the API's views depend on, set here so that the project's ``REST_FRAMEWORK`` defaults change none
    of it; authentication and permission classes come from ``CORS_POLICIES``, read per request. Django's own
    refusals of a request (more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS, a bad request) are
    answered as JSON like the API's other errors, not as the project's HTML 400 page."""

    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer, BrowsableAPIRenderer]
    parser_classes: Sequence[type[BaseParser]] = [JSONParser]
    content_negotiation_class: type[BaseContentNegotiation] = DefaultContentNegotiation
    metadata_class: str | type[BaseMetadata] | None = SimpleMetadata
    versioning_class: type[BaseVersioning] | None = None
    schema: ViewInspector | None = CorsPolicyAutoSchema()

    def get_authenticators(self) -> list[BaseAuthentication]:
        return [authentication() for authentication in api_authentication_classes()]

    def get_permissions(self) -> list[BasePermission]:
        return [permission() for permission in api_permission_classes()]

    def get_exception_handler(self) -> Any:
        return exception_handler

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RequestDataTooBig):
            exc = too_large()
        elif isinstance(exc, (SuspiciousOperation, DjangoBadRequest)):
            exc = BadRequest(str(exc) or BadRequest.default_detail)
        return super().handle_exception(exc)  # type: ignore[misc]


class AtomicWritesMixin:
    """A write happens whole or not at all: the handler, the admin history it writes and the rendering of the
    answer run in one transaction, rolled back on an error response or an exception. (A value that made the
    answer fail to render once left its row behind, and every later read failed on it.)"""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method in SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        using = router.db_for_write(CorsPolicy)
        with transaction.atomic(using=using):
            response: HttpResponseBase = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
            if response.status_code >= 400:
                transaction.set_rollback(True, using=using)
            elif isinstance(response, SimpleTemplateResponse):
                response.render()
        return response
