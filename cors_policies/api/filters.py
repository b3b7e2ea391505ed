"""The query filters of the API's lists: ``?enabled=``, ``?search=`` (bounded), the observed origins' ``?policy=``,
``?verdict=``, ``?reason=``, ``?report_only=`` and a strict ``?ordering=``; a value they cannot read is a 400
naming the parameter, never ignored."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter, SearchFilter
from rest_framework.request import Request

from .params import MAX_ID, bounded_int, is_number, query_flag, search_terms_within_limit
from .serializers import REASONS, VERDICTS


class EnabledFilter(BaseFilterBackend):
    """``?enabled=true`` or ``?enabled=false``."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        if "enabled" not in request.query_params:
            return queryset
        return queryset.filter(enabled=query_flag(request, "enabled"))

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "enabled",
                "required": False,
                "in": "query",
                "description": "Only enabled (true) or disabled (false) policies.",
                "schema": {"type": "boolean"},
            }
        ]


class PolicySearchFilter(SearchFilter):
    search_description = "Words to find in the name, the path pattern or the allowed origins (all must match)."

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            terms: list[str] = super().get_search_terms(request)
        except ValidationError as exc:  # DRF reports a NUL character without saying which parameter
            raise ValidationError({self.search_param: exc.detail}) from None
        return search_terms_within_limit(self.search_param, terms)


class ObservedSearchFilter(PolicySearchFilter):
    search_description = "Words to find in the origin (all must match)."


class ObservedOrderingFilter(OrderingFilter):
    """Sorting by anything else is a 400 naming the fields, not silently ignored."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[str]:
        value = request.query_params.get(self.ordering_param)
        if value is not None:
            fields = [term.strip() for term in value.split(",")]
            valid = set(view.ordering_fields)
            if not fields or any(term.lstrip("-") not in valid for term in fields):
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Write ordering= one or more of {', '.join(view.ordering_fields)} (comma-separated, "
                            f"'-' first for descending), not {value[:50]!r}."
                        ]
                    }
                )
        return list(super().get_ordering(request, queryset, view) or ())


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
