"""The API's views: policies (CRUD with ETags, export, import), evaluate, and the OpenAPI schema; observed origins
are :mod:`.observed`'s.

Faces only: the serializers validate with the model's validators, :mod:`cors_policies.services.documents`
exports and validates documents and ``sync`` imports them, ``history`` writes the admin's LogEntry rows, and
evaluate asks :mod:`cors_policies.services.evaluate`, as the admin's tester and ``cors_explain`` do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.templatetags.static import static
from django.utils.http import parse_etags
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import status, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.serializers import BaseSerializer
from rest_framework.validators import UniqueValidator
from rest_framework.versioning import BaseVersioning
from rest_framework.views import APIView, exception_handler

from .. import history, sync
from ..conf import conf
from ..models import CorsPolicy
from ..services import documents
from ..services.evaluate import evaluate
from .filters import EnabledFilter, PolicySearchFilter
from .mixins import ApiPermissionsMixin, AtomicWritesMixin, BadRequest
from .observed import ObservedOriginAllowView, ObservedOriginListView
from .openapi import ETAG_HEADER, IF_MATCH, POLICY_ID, CorsPolicyAutoSchema, errors, extend_schema
from .pagination import CorsPolicyPagination
from .params import FALSE_WORDS, MAX_ID, TRUE_WORDS, bounded_int, is_number, query_flag
from .parsers import JSONParser
from .permissions import api_authentication_classes, api_permission_classes
from .serializers import (
    POLICY_FIELDS,
    CorsPolicySerializer,
    DecisionSerializer,
    EvaluateSerializer,
    ImportResultSerializer,
    PolicyDocumentSerializer,
)

__all__ = [
    "API_VIEWS",
    "FALSE_WORDS",
    "SNAPSHOT_UNAVAILABLE",
    "STALE_ETAG",
    "TRUE_WORDS",
    "ApiPermissionsMixin",
    "ApiRootView",
    "AtomicWritesMixin",
    "BadRequest",
    "CorsPolicyPagination",
    "CorsPolicySchemaGenerator",
    "CorsPolicyViewSet",
    "DocsView",
    "EnabledFilter",
    "EvaluateView",
    "ObservedOriginAllowView",
    "ObservedOriginListView",
    "PolicySearchFilter",
    "PreconditionFailed",
    "SchemaView",
    "not_found",
    "policy_etag",
    "query_flag",
]

SNAPSHOT_UNAVAILABLE = (
    "The CORS policies could not be loaded from the database since this process started, so there is "
    "nothing to evaluate against (the middleware is serving without CORS headers). Check the database "
    "connection and the server log, then retry."
)
STALE_ETAG = (
    "The policy changed since you read it: its ETag is no longer {sent}. GET it again, reapply your change "
    "and send the new ETag in If-Match (or leave If-Match out to overwrite whatever is there)."
)


def policy_etag(data: Mapping[str, Any]) -> str:
    """A strong ETag of a policy's representation: ``updated_at`` is part of it, so every save changes it."""
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(payload.encode()).hexdigest()[:32] + '"'


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The policy changed since you read it."
    default_code = "precondition_failed"


# --------------------------------------------------------------------------------------------------
# The OpenAPI schema
# --------------------------------------------------------------------------------------------------


class CorsPolicySchemaGenerator(SchemaGenerator):
    """Only this app's endpoints, wherever the project mounts it and whatever other APIs it has."""

    def _initialise_endpoints(self) -> None:
        super()._initialise_endpoints()
        # drf-spectacular's endpoints are (path, path_regex, method, callback); DRF's stubs say 3-tuples.
        endpoints: list[Any] = list(cast(Any, self.endpoints))
        self.endpoints = [endpoint for endpoint in endpoints if getattr(endpoint[3], "cls", None) in API_VIEWS]


class SchemaPermissionsMixin:
    """The API's authentication; its permission too, unless ``CORS_POLICIES["PUBLIC_SCHEMA"]`` opens the page."""

    schema: ViewInspector | None = None  # not an API operation: in no schema, whatever the project's settings
    versioning_class: type[BaseVersioning] | None = None
    content_negotiation_class: type[BaseContentNegotiation] = DefaultContentNegotiation

    def get_authenticators(self) -> list[BaseAuthentication]:
        return [authentication() for authentication in api_authentication_classes()]

    def get_permissions(self) -> list[BasePermission]:
        classes = [AllowAny] if conf.PUBLIC_SCHEMA is True else api_permission_classes()
        return [permission() for permission in classes]

    def required_model_actions(self, request: Request) -> list[str]:
        return ["view"]

    def get_exception_handler(self) -> Any:
        return exception_handler


class SchemaView(SchemaPermissionsMixin, SpectacularAPIView):
    """The OpenAPI 3 schema of this API (YAML by default; ``?format=json`` or ``Accept: application/json``)."""

    generator_class = CorsPolicySchemaGenerator
    serve_public = True  # the same document for everyone who may read it
    urlconf = None
    custom_settings = {
        "TITLE": "CORS policies API",
        "DESCRIPTION": (
            "Manage, test and sync the CORS policies that cors_policies' middleware applies. "
            "Writes take effect on the next request in the same process and within REFRESH_INTERVAL "
            "everywhere else."
        ),
        "VERSION": "1",
        "COMPONENT_SPLIT_REQUEST": True,
    }


class DocsView(SchemaPermissionsMixin, SpectacularSwaggerView):
    """Swagger UI for the schema, its scripts and styles served from drf-spectacular-sidecar (no CDN)."""

    title = "CORS policies API"
    url_name = "cors_policies_api:schema"  # replaced by the namespace the project mounts the API under

    def _get_schema_url(self, request: Request) -> str:
        namespace = request.resolver_match.namespace if request.resolver_match else "cors_policies_api"
        self.url_name = f"{namespace}:schema"
        return str(super()._get_schema_url(request))

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png")


# --------------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List policies",
        description="Paginated; filter with enabled and search.",
        responses={200: CorsPolicySerializer(many=True), **errors(400, 401, 403, 404)},
    ),
    create=extend_schema(
        summary="Create a policy",
        responses={201: CorsPolicySerializer, **errors(400, 401, 403, 415)},
        parameters=[ETAG_HEADER],
    ),
    retrieve=extend_schema(
        summary="Read a policy",
        responses={200: CorsPolicySerializer, **errors(401, 403, 404)},
        parameters=[POLICY_ID, ETAG_HEADER],
    ),
    update=extend_schema(
        summary="Replace a policy",
        responses={200: CorsPolicySerializer, **errors(400, 401, 403, 404, 412, 415)},
        parameters=[POLICY_ID, IF_MATCH, ETAG_HEADER],
    ),
    partial_update=extend_schema(
        summary="Change some fields of a policy",
        responses={200: CorsPolicySerializer, **errors(400, 401, 403, 404, 412, 415)},
        parameters=[POLICY_ID, IF_MATCH, ETAG_HEADER],
    ),
    destroy=extend_schema(
        summary="Delete a policy",
        responses={204: None, **errors(401, 403, 404, 412)},
        parameters=[POLICY_ID, IF_MATCH],
    ),
)
class CorsPolicyViewSet(AtomicWritesMixin, ApiPermissionsMixin, viewsets.ModelViewSet[CorsPolicy]):
    """CORS policies. Every write takes effect on the next request and is recorded in the admin's history."""

    queryset = CorsPolicy.objects.all()
    serializer_class = CorsPolicySerializer
    parser_classes = [JSONParser]
    pagination_class = CorsPolicyPagination
    filter_backends = [EnabledFilter, PolicySearchFilter, OrderingFilter]
    # allowed_origins is a JSON array: icontains searches its text, on SQLite and PostgreSQL alike.
    search_fields = ["name", "path_pattern", "allowed_origins"]
    ordering_fields = ["id", "name", "path_pattern", "priority", "enabled", "created_at", "updated_at"]
    ordering = ["-priority", "path_pattern", "id"]
    lookup_value_regex = "[^/]+"  # any segment reaches get_object, which answers a JSON 404 for non-ids
    schema = CorsPolicyAutoSchema()
    lock = False

    def required_model_actions(self, request: Request) -> list[str] | None:
        """What the permission class checks when the method alone does not say it (export, import)."""
        if self.action == "export_policies":
            return ["view"]
        if self.action == "import_policies":
            return ["add", "change", "delete"] if query_flag(request, "prune") else ["add", "change"]
        return None

    def get_queryset(self) -> QuerySet[CorsPolicy]:
        queryset = CorsPolicy.objects.all()
        return queryset.select_for_update() if self.lock else queryset

    def get_object(self) -> CorsPolicy:
        value = str(self.kwargs[self.lookup_field])
        policy = None
        if is_number(value) and bounded_int(value) <= MAX_ID:  # else not an id this table can hold
            policy = self.filter_queryset(self.get_queryset()).filter(pk=bounded_int(value)).first()
        if policy is None:
            raise NotFound(f"There is no policy with id {value[:30]}.")
        self.check_object_permissions(self.request, policy)
        return policy

    def get_locked_object(self) -> CorsPolicy:
        """The policy, locked until the end of the transaction: no other writer can slip in between."""
        self.lock = True
        try:
            return self.get_object()
        finally:
            self.lock = False

    def check_if_match(self, request: Request, policy: CorsPolicy) -> None:
        header = request.headers.get("If-Match")
        if header is None:
            return  # last write wins
        sent = parse_etags(header)
        if "*" in sent or policy_etag(self.get_serializer(policy).data) in sent:
            return
        raise PreconditionFailed(STALE_ETAG.format(sent=header[:200]))

    def save(self, serializer: BaseSerializer[CorsPolicy]) -> CorsPolicy:
        """Save; a name taken by a concurrent writer after validation is a 400, as validation would say."""
        try:
            with transaction.atomic():
                return serializer.save()
        except IntegrityError:
            unique = next(v for v in serializer.fields["name"].validators if isinstance(v, UniqueValidator))  # type: ignore[attr-defined]
            raise ValidationError({"name": [unique.message]}) from None

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(self.get_object()).data
        return Response(data, headers={"ETag": policy_etag(data)})

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            policy = self.save(serializer)
            history.log_changes(request.user, added=[policy])
        data = serializer.data
        location = reverse(f"{request.resolver_match.namespace}:corspolicy-detail", args=[policy.pk], request=request)  # type: ignore[union-attr]
        return Response(data, status=status.HTTP_201_CREATED, headers={"ETag": policy_etag(data), "Location": location})

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            policy = self.get_locked_object()
            self.check_if_match(request, policy)
            before = {name: getattr(policy, name) for name in POLICY_FIELDS}
            serializer = self.get_serializer(policy, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.save(serializer)
            changed = [name for name in POLICY_FIELDS if getattr(policy, name) != before[name]]
            history.log_changes(request.user, changed=[(policy, changed)])
        data = serializer.data
        return Response(data, headers={"ETag": policy_etag(data)})

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            policy = self.get_locked_object()
            self.check_if_match(request, policy)
            history.log_changes(request.user, deleted=[policy])
            policy.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Export every policy",
        description="The document `POST /policies/import/` takes: every policy by name, without ids and timestamps.",
        responses={200: PolicyDocumentSerializer, **errors(401, 403)},
    )
    @action(detail=False, methods=["get"], url_path="export", url_name="export", pagination_class=None)
    def export_policies(self, request: Request) -> Response:
        return Response(documents.export_document())

    @extend_schema(
        summary="Import policies",
        description=(
            "Create or update each policy of the document by name (a field left out takes its default), in one "
            "transaction, after validating all of them: any error and nothing is written. `prune` also deletes "
            "the policies the document does not name; `dry_run` writes nothing and returns the same diff. "
            "Needs the add and change permissions, and delete with `prune`."
        ),
        request=PolicyDocumentSerializer,
        parameters=[
            OpenApiParameter("prune", OpenApiTypes.BOOL, description="Delete the policies the document does not name."),
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Write nothing; return what would change."),
        ],
        responses={
            200: ImportResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Invalid document, nothing written: errors per policy index and field, such as "
                '{"policies": {"2": {"allowed_origins": ["..."]}}}.',
            ),
            **errors(401, 403, 415),
        },
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_policies(self, request: Request) -> Response:
        prune = query_flag(request, "prune")
        dry_run = query_flag(request, "dry_run")
        try:
            diff = sync.apply_document(request.data, prune=prune, dry_run=dry_run, user=request.user)
        except documents.DocumentError as exc:
            raise ValidationError(exc.errors) from None
        return Response(diff)


# --------------------------------------------------------------------------------------------------
# Evaluate
# --------------------------------------------------------------------------------------------------


class EvaluateView(ApiPermissionsMixin, APIView):
    """What the middleware would answer a browser's request, and why: from the same compiled policies."""

    parser_classes = [JSONParser]
    schema = CorsPolicyAutoSchema()

    def required_model_actions(self, request: Request) -> list[str]:
        return ["view"]

    def get_serializer(self, *args: Any, **kwargs: Any) -> EvaluateSerializer:
        """For the browsable API's form."""
        return EvaluateSerializer(*args, **kwargs)

    @extend_schema(
        summary="Evaluate a request",
        description=(
            "Describe a browser request; get the CORS answer the middleware would give it (the response "
            "headers), which policy applies and why, and every reason it would be refused. Only enabled "
            "policies count, as for the middleware; on a protected path (the admin, this API: "
            "CORS_POLICIES['PROTECTED_PATHS']) none does, and the reason says so."
        ),
        request=EvaluateSerializer,
        responses={200: DecisionSerializer, **errors(400, 401, 403, 415, 503)},
    )
    def post(self, request: Request) -> Response:
        serializer = EvaluateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = evaluate(**serializer.validated_data).decision
        if decision is None:
            return Response({"detail": SNAPSHOT_UNAVAILABLE}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(decision.as_dict())


#: The views the schema describes (the root and the schema itself are left out).
API_VIEWS = (CorsPolicyViewSet, EvaluateView, ObservedOriginListView, ObservedOriginAllowView)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Every other URL under the API: a JSON 404 like the API's own, not the project's HTML page."""
    return JsonResponse({"detail": "There is no such endpoint here; GET the API root for the list."}, status=404)


class ApiRootView(ApiPermissionsMixin, APIView):
    """The CORS policies API: follow the links."""

    schema = None

    def get(self, request: Request) -> Response:
        namespace = request.resolver_match.namespace  # type: ignore[union-attr]
        links = {
            "policies": "corspolicy-list",
            "export": "corspolicy-export",
            "import": "corspolicy-import",
            "evaluate": "evaluate",
            "observed": "observed-list",
            "schema": "schema",
        }
        return Response({key: reverse(f"{namespace}:{name}", request=request) for key, name in links.items()})
