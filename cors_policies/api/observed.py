"""Observed origins in the API: ``GET observed/`` (the rows, read-only) and ``POST observed/{id}/allow/``.

Allowing is the admin's "Allow" button through another door: the same service
(:mod:`cors_policies.services.allow_origin`), so the same checks under a row lock, the same rule that a risky
origin needs an explicit acknowledgement (here ``"acknowledge": true``), the same messages and the same history
entry. ``?dry_run=1`` is the confirmation page: what the change takes and what the policy would answer, with
nothing written.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import CorsPolicy, ObservedOrigin
from ..observed import DROPPED_ORIGIN
from ..services import allow_origin
from .filters import ObservedOrderingFilter, ObservedOriginFilter, ObservedSearchFilter
from .mixins import ApiPermissionsMixin, AtomicWritesMixin, BadRequest
from .openapi import CorsPolicyAutoSchema, errors, extend_schema
from .pagination import CorsPolicyPagination
from .params import MAX_ID, bounded_int, is_number, query_flag
from .parsers import JSONParser
from .serializers import AllowOriginSerializer, AllowResultSerializer, ObservedOriginSerializer

NO_SUCH_ROW = "There is no observed origin with id {id}."
NOT_RECORDED = (
    "Observed origin {id} counts the requests whose origin was not recorded (no room was left for it): there is "
    "no origin to allow. Allow the origin you mean in the policy itself (PATCH policies/{policy}/)."
)
SEND_ACKNOWLEDGE = 'Send "acknowledge": true to allow it anyway.'
OBSERVED_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The observed origin's id.")


@extend_schema_view(
    get=extend_schema(
        summary="List observed origins",
        description=(
            "Which origins called which policy with which verdict, how often and when, aggregated from every "
            "process's counters (written every OBSERVE_FLUSH_INTERVAL seconds). The rows of a report-only policy "
            "are the requests where its verdict differed from the one served. Newest first unless `ordering` says "
            "otherwise; paginated."
        ),
        responses={200: ObservedOriginSerializer(many=True), **errors(400, 401, 403, 404)},
    )
)
class ObservedOriginListView(ApiPermissionsMixin, generics.ListAPIView[ObservedOrigin]):
    """Observed origins (read-only): needs the view permission on CORS policies."""

    serializer_class = ObservedOriginSerializer
    pagination_class = CorsPolicyPagination
    filter_backends = [ObservedOriginFilter, ObservedSearchFilter, ObservedOrderingFilter]
    search_fields = ["origin"]
    ordering_fields = ["last_seen", "first_seen", "count", "origin", "id"]
    ordering = ["-last_seen", "-id"]
    schema = CorsPolicyAutoSchema()

    def required_model_actions(self, request: Request) -> list[str]:
        return ["view"]

    def get_queryset(self) -> QuerySet[ObservedOrigin]:
        return ObservedOrigin.objects.select_related("policy")


class ObservedOriginAllowView(AtomicWritesMixin, ApiPermissionsMixin, APIView):
    """Allow an observed origin in its policy: needs the change permission on CORS policies."""

    parser_classes = [JSONParser]
    schema = CorsPolicyAutoSchema()

    def required_model_actions(self, request: Request) -> list[str]:
        return ["change"]  # allowing an origin changes its policy

    def get_serializer(self, *args: Any, **kwargs: Any) -> AllowOriginSerializer:
        """For the browsable API's form."""
        return AllowOriginSerializer(*args, **kwargs)

    @extend_schema(
        summary="Allow an observed origin",
        description=(
            "Add the row's origin to the allowed origins of its policy, as the admin's Allow button does: the "
            "policy must still validate, an origin that can never be allowed there (null with credentials) is "
            "refused, and a risky one (null, plain http with credentials, one that raises a warning) needs "
            '`"acknowledge": true`. The change takes effect like any policy change and is recorded in the '
            "admin's history. `dry_run` writes nothing and says what the change would take and do."
        ),
        request=AllowOriginSerializer,
        parameters=[
            OBSERVED_ID,
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="Write nothing; say what allowing takes."),
        ],
        responses={
            200: AllowResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Not allowed, nothing written: `acknowledge` (with the `reasons` and `warnings` to "
                "acknowledge), or `detail` (an origin never allowed there, a policy that would not validate, a row "
                "without an origin).",
            ),
            **errors(401, 403, 404, 415),
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        serializer = AllowOriginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        acknowledged: bool = serializer.validated_data["acknowledge"]
        dry_run = query_flag(request, "dry_run")
        row = None
        if is_number(pk) and bounded_int(pk) <= MAX_ID:  # else not an id this table can hold
            row = ObservedOrigin.objects.filter(pk=bounded_int(pk)).first()
        if row is None:
            raise NotFound(NO_SUCH_ROW.format(id=pk[:30]))
        if row.origin == DROPPED_ORIGIN:
            raise BadRequest(NOT_RECORDED.format(id=row.pk, policy=row.policy_id))
        origins = [row.origin]
        if dry_run:
            policy = CorsPolicy.objects.filter(pk=row.policy_id).first()
            found = allow_origin.plan(policy, origins) if policy is not None else None
            outcome = (
                allow_origin.assess(found, acknowledged=acknowledged)
                if found is not None
                else allow_origin.missing(row.policy_id, origins)
            )
        else:
            outcome = allow_origin.apply(row.policy_id, origins, acknowledged=acknowledged, user=request.user)
        return answer(outcome, row.origin, dry_run=dry_run)


def answer(outcome: allow_origin.Outcome, origin: str, *, dry_run: bool) -> Response:
    """The outcome as the API's answer: 404 when the policy is gone; else 400 with what is missing when nothing
    could be written, 200 with the plan when the origin was allowed (or was already), and always 200 with the
    plan for a dry run, whose ``detail`` says what the real request would get."""
    found = outcome.plan
    if found is None:
        raise NotFound(" ".join(outcome.texts("error")))
    refused = " ".join(outcome.texts("error"))
    if outcome.needs_acknowledgement:
        refused = f"{refused} {SEND_ACKNOWLEDGE}"
        if not dry_run:
            return Response(
                {
                    "acknowledge": [refused],
                    "reasons": [reason for check in found.checks for reason in check.reasons],
                    "warnings": [warning.as_dict() for warning in found.new_warnings],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
    elif refused and not dry_run:
        raise BadRequest(refused)
    if dry_run and outcome.ready:
        detail = f"{origin} can be allowed in policy {found.policy.name!r}; nothing was written (dry run)."
    else:
        detail = refused or " ".join(outcome.texts("success", "info"))
    [check] = found.checks
    return Response(
        {
            "policy": {"id": found.policy.pk, "name": found.policy.name},
            "origin": origin,
            "verdict": check.verdict.value,
            "reasons": list(check.reasons),
            "warnings": [warning.as_dict() for warning in found.new_warnings],
            "previews": [
                {"title": sample.title, "request": list(sample.request_lines), "decision": sample.decision.as_dict()}
                for sample in found.previews
            ],
            "allowed": bool(outcome.applied),
            "dry_run": dry_run,
            "detail": detail,
        }
    )
