"""Pages of the API's lists: bounded, and a 400 for a page number or size that is not one."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from .params import bounded_int, is_number


class CorsPolicyPagination(PageNumberPagination):
    """``?page=N`` and ``?page_size=N`` (default 100, at most 200); a value that is not a number is a 400.

    The cap bounds a page's cost: each policy carries its warnings, and probing an origin regex for them costs
    up to a few milliseconds (remembered afterwards: protected.policy_warnings). bench/pages.py measures it."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 200
    last_page_strings = ()

    def positive_int(self, request: Request, name: str) -> int | None:
        value = request.query_params.get(name)
        if value is None:
            return None
        if not is_number(value) or bounded_int(value) < 1:
            raise ValidationError({name: [f"Write {name}=N with N a whole number from 1, not {value[:50]!r}."]})
        return bounded_int(value)  # past the last page whatever its length: a 404, as for any such page

    def get_page_size(self, request: Request) -> int:
        size = self.positive_int(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return self.positive_int(request, self.page_query_param) or 1

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page: {self.page_size} unless given, at most {self.max_page_size}."
                )
        return parameters
