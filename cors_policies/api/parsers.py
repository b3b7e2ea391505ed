"""A JSON parser that answers 400 or 413, never 500, for any body, however large or deeply nested."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

from .. import text

#: Deepest nesting a body may have; a policy document needs 4 levels ({"policies": [{"...": ["..."]}]}).
MAX_DEPTH = 32


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` nests objects or arrays more than ``limit`` levels deep (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def key_problem(value: Any) -> str | None:
    """Why a key of an object in ``value`` is not text (a JSON "\\ud800" decodes to a lone surrogate), or None.

    Values are judged by the fields that read them, with a message at the field; a key is no field's value, and
    an error message naming it ("Unknown field") could not be rendered."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and (problem := text.problem(key, controls=True)) is not None:
                    return problem
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return None


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def too_large() -> RequestTooLarge:
    return RequestTooLarge(
        f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE); "
        "send a smaller one, such as one policy per request, or split an import without prune into several documents."
    )


def read_limited(stream: IO[Any]) -> IO[Any]:
    """The body, if it is within Django's DATA_UPLOAD_MAX_MEMORY_SIZE; else a 413 saying the limit. (Recent DRF
    releases read ``request.body``, where Django applies the limit; older ones read the stream, where it does
    not.)"""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise too_large()
    return io.BytesIO(body)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus: a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, and nesting past
    :data:`MAX_DEPTH` or a key that is not text (:func:`key_problem`) is a 400.

    Python's decoder raises RecursionError (not ValueError) on very deep nesting, which DRF would let
    through as a 500; and a shallower but still deep body could exhaust the stack later, in validation.
    """

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        stream = read_limited(stream)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep.") from None
        if too_deep(data):
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep.")
        problem = key_problem(data)
        if problem is not None:
            raise ParseError(f"JSON parse error - a key {problem[0].lower()}{problem[1:]}")
        return data
