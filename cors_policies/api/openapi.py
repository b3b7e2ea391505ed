"""The API's OpenAPI schema class, and ``extend_schema`` built on it whatever the project's DRF settings say.

drf-spectacular's ``extend_schema`` subclasses ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` as it is when the
decorator runs (at import). In a project that never set it, that is DRF's own ``AutoSchema``, whose
``get_operation`` takes other arguments: the schema answered 500 and ``check --deploy`` failed with
``drf_spectacular.E001``. The decorator here hands drf-spectacular this app's schema class instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema as spectacular_extend_schema

from .serializers import StrictFieldsMixin

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
