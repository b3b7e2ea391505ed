"""The API's OpenAPI schema class, ``extend_schema`` built on it whatever the project's DRF settings say, and the
error responses and parameters the operations share.

drf-spectacular's ``extend_schema`` subclasses ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` as it is when the
decorator runs (at import). In a project that never set it, that is DRF's own ``AutoSchema``, whose
``get_operation`` takes other arguments: the schema answered 500 and ``check --deploy`` failed with
``drf_spectacular.E001``. The decorator here hands drf-spectacular this app's schema class instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from drf_spectacular.utils import extend_schema as spectacular_extend_schema

from ..services.policy_json import StrictFieldsMixin
from .serializers import ErrorSerializer

F = TypeVar("F", bound=Callable[..., Any])


class CorsPolicyAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus ``additionalProperties: false`` on bodies that refuse unknown keys."""

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        result: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictFieldsMixin):
            result["additionalProperties"] = False
        return result


def extend_schema(**kwargs: Any) -> Callable[[F], F]:
    """drf-spectacular's ``extend_schema`` for a view method, based on :class:`CorsPolicyAutoSchema`."""
    decorate = spectacular_extend_schema(**kwargs)

    def decorator(function: F) -> F:
        already = getattr(function, "schema", None) or getattr(function, "kwargs", {}).get("schema")
        if already is None:
            function.schema = CorsPolicyAutoSchema  # type: ignore[attr-defined]  # the base drf-spectacular reads
        return decorate(function)

    return decorator


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses an operation can give, with their bodies."""
    described = {
        400: OpenApiResponse(
            OpenApiTypes.OBJECT, description="Invalid input: messages per field (or `detail` for a malformed body)."
        ),
        401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
        403: OpenApiResponse(ErrorSerializer, description="Authenticated without the model permission needed."),
        404: OpenApiResponse(ErrorSerializer, description="No such policy (or page)."),
        412: OpenApiResponse(ErrorSerializer, description="If-Match does not match the policy's current ETag."),
        415: OpenApiResponse(ErrorSerializer, description="The body is not application/json."),
        503: OpenApiResponse(ErrorSerializer, description="The policies could not be loaded from the database."),
    }
    return {code: described[code] for code in codes}


ETAG_HEADER = OpenApiParameter(
    "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 201], description="The policy's current version."
)
POLICY_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The policy's id.")
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read; the write is refused with 412 if the policy changed since. Optional.",
)
