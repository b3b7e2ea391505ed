"""Observed origins in the API: the serializer and the query filters of ``GET /observed/`` (read-only)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from ..models import REASON_LABELS, EnforcedVerdict, ObservedOrigin, Verdict
from .params import MAX_ID, bounded_int, is_number

#: The refusal codes a row can carry (allowed rows have none).
REASONS = tuple(code for code in REASON_LABELS if code)
VERDICTS = tuple(Verdict.values)


class ObservedOriginSerializer(serializers.ModelSerializer[ObservedOrigin]):
    """One observed (policy, origin, verdict, reason): how many requests, first and last seen."""

    policy = serializers.IntegerField(source="policy_id", read_only=True, help_text="The policy's id.")
    policy_name = serializers.CharField(source="policy.name", read_only=True, help_text="The policy's name.")
    verdict = serializers.ChoiceField(
        choices=VERDICTS,
        read_only=True,
        help_text="The policy's verdict (for a report-only policy: the one it would have given).",
    )
    reason = serializers.ChoiceField(
        choices=("", *REASONS),
        read_only=True,
        help_text="Why it was refused: the code of the first refusal; empty when allowed.",
    )
    enforced_verdict = serializers.ChoiceField(
        choices=("", *EnforcedVerdict.values),
        read_only=True,
        help_text="For a report-only policy's row, the verdict actually served ('uncovered': no policy covered the "
        "path, so browsers refused); empty for an enforced policy's row.",
    )
    count = serializers.IntegerField(read_only=True, help_text="Requests seen (estimated if sampling is on).")

    class Meta:
        model = ObservedOrigin
        fields = (
            "id",
            "policy",
            "policy_name",
            "origin",
            "verdict",
            "reason",
            "report_only",
            "enforced_verdict",
            "count",
            "first_seen",
            "last_seen",
        )
        read_only_fields = fields
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {
            "origin": {
                "help_text": "The Origin header. Empty in the row that counts this policy's requests (of this "
                "verdict and reason) whose origin was not recorded: more distinct origins in an interval than "
                "OBSERVE_MAX_KEYS_PER_POLICY (or OBSERVE_MAX_KEYS for the verdict) left room for."
            }
        }


def _choice(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if value not in choices:
        written = " or ".join(f"{name}={choice}" for choice in choices)
        raise ValidationError({name: [f"Write {written}, not {value[:50]!r}."]})
    return value


class ObservedOriginFilter(BaseFilterBackend):
    """``?policy=ID``, ``?verdict=allowed|refused``, ``?reason=CODE``, ``?report_only=true|false``."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        params = request.query_params
        policy = params.get("policy")
        if policy is not None:
            if not (is_number(policy) and 1 <= bounded_int(policy) <= MAX_ID):
                raise ValidationError({"policy": [f"Write policy=N with N a policy's id, not {policy[:50]!r}."]})
            queryset = queryset.filter(policy_id=bounded_int(policy))
        verdict = _choice(request, "verdict", VERDICTS)
        if verdict is not None:
            queryset = queryset.filter(verdict=verdict)
        reason = _choice(request, "reason", REASONS)
        if reason is not None:
            queryset = queryset.filter(reason=reason)
        if "report_only" in params:
            from .views import query_flag  # views imports this module

            queryset = queryset.filter(report_only=query_flag(request, "report_only"))
        return queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "policy",
                "required": False,
                "in": "query",
                "description": "Only the rows of this policy (its id).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            },
            {
                "name": "verdict",
                "required": False,
                "in": "query",
                "description": "Only allowed or only refused.",
                "schema": {"type": "string", "enum": list(VERDICTS)},
            },
            {
                "name": "reason",
                "required": False,
                "in": "query",
                "description": "Only the refusals for this reason.",
                "schema": {"type": "string", "enum": list(REASONS)},
            },
            {
                "name": "report_only",
                "required": False,
                "in": "query",
                "description": "Only the rows of report-only policies (true) or of enforced ones (false).",
                "schema": {"type": "boolean"},
            },
        ]
