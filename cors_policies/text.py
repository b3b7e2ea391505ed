"""Text a policy can store and send: the one rule every string field follows, in the admin and the API.

Python strings hold things that are not text: a JSON body's ``"\\ud800"`` decodes to a lone UTF-16 surrogate,
which no UTF-8 encoder (so no database, no JSON renderer, no template) accepts, and ``\\u0000``, which
PostgreSQL cannot store. Control characters (NUL, CR, LF, tab, ESC, DEL, the C1 range) can be stored, but
not sent in a header, and they make one value look like several lines in a log or a list. A value that got
through once broke every later read of the row, so each face refuses it before anything is validated or
written, with a message saying where it is and what to do.

The faces call :func:`validate_line` (one-line fields and each item of a list), :func:`validate_text`
(multi-line fields: line breaks and tabs allowed) and :func:`validate_items` (lists of strings).
"""

from __future__ import annotations

import re
from typing import Any, Final

from django.core.exceptions import ValidationError

from .engine import printable

__all__ = [
    "MAX_SEARCH_LENGTH",
    "MAX_SEARCH_TERMS",
    "problem",
    "validate_items",
    "validate_line",
    "validate_path",
    "validate_text",
]

#: Words a search (admin or API) may have: each is one more condition in the query, and SQLite refuses a
#: query of a few thousand ("Expression tree is too large").
MAX_SEARCH_TERMS: Final = 20
#: Characters a search may have: longer words match nothing a policy holds, and SQLite refuses a LIKE pattern
#: of 50,000 bytes ("LIKE or GLOB pattern too complex").
MAX_SEARCH_LENGTH: Final = 1000

_SURROGATE: Final = "\ud800-\udfff"
_CONTROLS: Final = "\x00-\x1f\x7f-\x9f"
#: What no field may hold, and what a one-line field may not hold either.
_NOT_TEXT: Final = re.compile(f"[{_SURROGATE}]")
_NOT_LINE: Final = re.compile(f"[{_CONTROLS}{_SURROGATE}]")
_NOT_MULTILINE: Final = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_SURROGATE}]")

_NAMES: Final = {
    0x00: "NUL",
    0x09: "tab",
    0x0A: "line feed",
    0x0D: "carriage return",
    0x1B: "escape",
    0x7F: "delete",
}


def _describe(value: str, index: int, *, multiline: bool) -> str:
    code = ord(value[index])
    shown = printable(value, 60)
    where = f"'{shown}' contains"
    position = f"at character {index + 1}"
    if 0xD800 <= code <= 0xDFFF:
        return (
            f"{where} U+{code:04X} {position}, half of a UTF-16 surrogate pair without its other half: that is not "
            "text, so it cannot be stored or sent. Send the character itself in UTF-8 (in JSON, an escaped pair "
            "such as \\ud83d\\ude00 is fine)."
        )
    name = _NAMES.get(code)
    label = f" ({name})" if name else ""
    allowed = "only line breaks and tabs are allowed here" if multiline else "write the value on one line"
    return (
        f"{where} the control character U+{code:04X}{label} {position}, which cannot be sent in a header or shown "
        f"as it is; remove it ({allowed})."
    )


def problem(value: str, *, multiline: bool = False, controls: bool = False) -> str | None:
    """Why ``value`` cannot be stored or sent, or None. ``multiline`` allows line breaks and tabs;
    ``controls`` allows every control character (a decoded request path may hold any)."""
    pattern = _NOT_TEXT if controls else _NOT_MULTILINE if multiline else _NOT_LINE
    found = pattern.search(value)
    return None if found is None else _describe(value, found.start(), multiline=multiline)


def validate_line(value: Any) -> None:
    """One line of text: no control characters, no lone surrogates (non-strings are left to other checks)."""
    if isinstance(value, str) and (message := problem(value)) is not None:
        raise ValidationError(message, code="not_text")


def validate_text(value: Any) -> None:
    """Text that may span lines: tabs and line breaks allowed, other control characters and surrogates not."""
    if isinstance(value, str) and (message := problem(value, multiline=True)) is not None:
        raise ValidationError(message, code="not_text")


def validate_path(value: Any) -> None:
    """A request path as Django decodes it: any character but a lone surrogate (which no request carries)."""
    if isinstance(value, str) and (message := problem(value, controls=True)) is not None:
        raise ValidationError(message, code="not_text")


def validate_items(value: Any) -> None:
    """Each string of a list is one line of text; every bad item is reported (non-strings are left to the
    field's own validators, which say what to write)."""
    if not isinstance(value, (list, tuple)):
        return
    errors = [
        ValidationError(message, code="not_text")
        for item in value
        if isinstance(item, str) and (message := problem(item)) is not None
    ]
    if errors:
        raise ValidationError(errors)
