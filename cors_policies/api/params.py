"""Reading numbers, flags and words from query strings and URLs: any length in, a 400 or a 404 out, never a 500.

``int()`` refuses more than 4,300 digits (a ValueError, so a 500 where it was not expected) and a database
refuses ids beyond 64 bits; so a number is judged by its digits before it is converted.
"""

from __future__ import annotations

from typing import Final

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from ..text import MAX_SEARCH_LENGTH, MAX_SEARCH_TERMS

#: Largest primary key a BigAutoField holds; larger ids are simply not found.
MAX_ID: Final = 2**63 - 1
_MAX_DIGITS: Final = len(str(MAX_ID))


def is_number(value: str) -> bool:
    """ASCII digits only: str.isdigit() is also true for "¹" or "٣", which int() refuses or reads otherwise."""
    return value.isascii() and value.isdigit()


def bounded_int(value: str) -> int:
    """The number ``value`` (ASCII digits, see :func:`is_number`) holds, or ``MAX_ID + 1`` when it is larger
    than any id: the caller needs to know only that it is out of range, whatever its length."""
    digits = value.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        return MAX_ID + 1
    return min(int(digits), MAX_ID + 1)


def search_terms_within_limit(name: str, terms: list[str]) -> list[str]:
    """``terms`` if there are at most :data:`MAX_SEARCH_TERMS` of at most :data:`MAX_SEARCH_LENGTH` characters
    in all, else a 400 saying so."""
    if len(terms) > MAX_SEARCH_TERMS:
        raise ValidationError(
            {name: [f"Search for at most {MAX_SEARCH_TERMS} words at once (all must match), not {len(terms)}."]}
        )
    length = sum(len(term) for term in terms)
    if length > MAX_SEARCH_LENGTH:
        raise ValidationError({name: [f"Search for at most {MAX_SEARCH_LENGTH} characters at once, not {length}."]})
    return terms


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def query_flag(request: Request, name: str) -> bool:
    """A boolean query parameter (1/true/yes/on or 0/false/no/off); anything else is a 400 naming it."""
    value = request.query_params.get(name)
    if value is None:
        return False
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError({name: [f"Write {name}=1 or {name}=0 (or true / false), not {value[:50]!r}."]})
