"""The HTTP grammar the engine reads: tokens (methods, header names), the methods browsers treat specially,
Access-Control-Request-Headers lists, and attacker-controlled text made printable."""

from __future__ import annotations

import functools
import re
from typing import Final

from ..regex import RegexSet, encode
from .limits import MAX_REQUEST_HEADER_NAMES, MAX_REQUEST_HEADERS_LENGTH

__all__ = ["NORMALIZED_METHODS", "SAFELISTED_METHODS", "is_token", "parse_request_headers", "printable"]

#: Methods a browser never preflights; a policy cannot forbid them (the browser would not ask).
SAFELISTED_METHODS: Final = frozenset({"GET", "HEAD", "POST"})
#: Fetch normalizes these methods to upper case before sending (https://fetch.spec.whatwg.org/#concept-method-normalize).
NORMALIZED_METHODS: Final = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})

# RFC 9110 token: the grammar of methods and header names.
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def is_token(value: str) -> bool:
    """True for an HTTP token (RFC 9110), the grammar of methods and header names."""
    return _TOKEN_RE.fullmatch(value) is not None


# A list of header names (RFC 9110 tokens) separated by commas, with spaces and tabs around them: checked
# in one RE2 pass (Python's re takes a millisecond over 8 KiB of this grammar), before anything is lower-cased
# (the Kelvin sign lower-cases to "k").
_NAME_CHAR: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
_HEADER_LIST: Final = RegexSet([rf"[ \t]*(?:{_NAME_CHAR}+[ \t]*)?(?:,[ \t]*(?:{_NAME_CHAR}+[ \t]*)?)*"], full=True)


@functools.lru_cache(maxsize=64)
def parse_request_headers(value: str) -> tuple[str, ...] | None:
    """Access-Control-Request-Headers → lower-case names; None when malformed (too long, or more than
    :data:`MAX_REQUEST_HEADER_NAMES` entries). Remembered, since the enforced and the report-only policy
    of a path both ask about the same value."""
    if len(value) > MAX_REQUEST_HEADERS_LENGTH or value.count(",") >= MAX_REQUEST_HEADER_NAMES:
        return None
    if not _HEADER_LIST.match_data(encode(value)):
        return None
    return tuple(name for name in value.lower().replace(" ", "").replace("\t", "").split(",") if name)


def printable(value: str, limit: int = 120) -> str:
    """Attacker-controlled text made safe to show or log: shortened, then every control character (CR and
    LF included), backslash and non-ASCII character escaped, so one value is always one line."""
    shown = value if len(value) <= limit else value[:limit] + "…"
    return shown.encode("unicode_escape").decode("ascii")
