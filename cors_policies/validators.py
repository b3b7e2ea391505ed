"""The one place policy input is validated and normalized.

The model, the admin forms and the API serializers all call these, so every face shows the same
message, and every message says what to write instead. The parsing itself lives in the engine
(``parse_origin_entry``, ``parse_path_pattern``) so what is accepted here is exactly what compiles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from django.core.exceptions import ValidationError

from .engine import (
    KIND_REGEX,
    NORMALIZED_METHODS,
    OriginError,
    PatternError,
    is_token,
    parse_origin_entry,
    parse_path_pattern,
)
from .regex import RegexError, compile_regex

STAR_WITH_CREDENTIALS = (
    "'*' cannot be used with credentials: every web page could then read your users' data with their "
    "cookies. List the origins that need credentials instead, such as https://app.example.com."
)


def _require_list(value: Any, example: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"Write a list of strings, such as [{example}].", code="not_a_list")
    for item in value:
        if not isinstance(item, str):
            raise ValidationError(
                f"{item!r} is not a string; write a list of strings, such as [{example}].", code="not_a_string"
            )
    return list(value)


#: Longest origin regex, as long as the longest path pattern (its column holds 500 characters): every
#: request to the policy's paths runs it, so its size bounds the worst case (bench/worst_case.py).
MAX_REGEX_LENGTH: Final = 500
#: Largest RE2 program a regex may compile to. The cost of matching grows with it; short regexes reach
#: it only through large repeat counts or Unicode classes (^/.{0,1000}$ is 9,000 instructions, \pL+
#: 1,200), while everyday ones stay under 300.
MAX_REGEX_PROGRAM: Final = 2000


def _too_large(regex: str, compiled: Any, example: str) -> str | None:
    size = int(compiled.programsize)
    if size <= MAX_REGEX_PROGRAM:
        return None
    return (
        f"{regex!r} is too complex: it compiles to {size:,} steps, at most {MAX_REGEX_PROGRAM:,} are allowed because "
        "every request may run it. Write smaller repeat counts (+ instead of {1,1000}) and ASCII classes "
        f"([a-z] instead of \\pL or \\w with (?i)), such as {example}."
    )


def validate_path_pattern(value: Any) -> None:
    # Judge what will be stored: normalize() strips surrounding spaces before saving.
    pattern = value.strip() if isinstance(value, str) else value
    try:
        parsed = parse_path_pattern(pattern)
    except PatternError as exc:
        raise ValidationError(str(exc), code="path_pattern") from None
    if parsed.kind == KIND_REGEX:
        problem = _too_large(pattern, parsed.regex, "^/api/[^/]+/items/, or a glob such as /api/*/items")
        if problem is not None:
            raise ValidationError(problem, code="path_regex_size")


def validate_origins(value: Any) -> None:
    entries = _require_list(value, '"https://app.example.com"')
    errors = []
    kinds = []
    for entry in entries:
        try:
            kinds.append(parse_origin_entry(entry).kind)
        except OriginError as exc:
            errors.append(ValidationError(str(exc), code="origin"))
    if "any" in kinds and len(kinds) > 1:
        errors.append(
            ValidationError(
                "'*' already allows every origin; remove the other entries, or remove '*' to allow only those listed.",
                code="star_not_alone",
            )
        )
    if errors:
        raise ValidationError(errors)


#: Regexes per policy: a request runs each against the Origin (in one pass, but each adds to the automaton),
#: so their number bounds the worst case (bench/worst_case.py).
MAX_ORIGIN_REGEXES: Final = 10


def validate_origin_regexes(value: Any) -> None:
    regexes = _require_list(value, r'"^https://[a-z0-9-]+\\.example\\.com$"')
    if len(regexes) > MAX_ORIGIN_REGEXES:
        raise ValidationError(
            f"{len(regexes)} regular expressions; a policy may have at most {MAX_ORIGIN_REGEXES}, because every "
            "request runs each one. List exact origins or subdomain wildcards (https://*.example.com) in allowed "
            "origins instead, or join regexes that differ in one part into one, such as "
            "^https://(app|admin)\\.example\\.com$.",
            code="regex_count",
        )
    errors = []
    for regex in regexes:
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in regex):
            errors.append(
                ValidationError(
                    f"{regex!r} contains control characters, which no origin has; write them as escapes "
                    r"such as \n if you must, or remove them.",
                    code="regex_control",
                )
            )
            continue
        if len(regex) > MAX_REGEX_LENGTH:
            errors.append(
                ValidationError(
                    f"A regular expression of {len(regex):,} characters; at most {MAX_REGEX_LENGTH} are allowed, "
                    "because every request may run it. List exact origins or subdomain wildcards "
                    "(https://*.example.com) in allowed origins instead, or split it into several regexes.",
                    code="regex_length",
                )
            )
            continue
        try:
            compiled = compile_regex(regex)
        except RegexError as exc:
            tail = (
                f": {exc.advice}."
                if exc.advice
                else "; fix it, or use a subdomain wildcard such as https://*.example.com in allowed origins."
            )
            errors.append(
                ValidationError(f"{regex!r} is not a valid regular expression ({exc.reason}){tail}", code="regex")
            )
            continue
        problem = _too_large(regex, compiled, r"^https://[a-z0-9-]+\.example\.com$")
        if problem is not None:
            errors.append(ValidationError(problem, code="regex_size"))
    if errors:
        raise ValidationError(errors)


def _validate_tokens(value: Any, what: str, example: str) -> None:
    items = _require_list(value, example)
    errors = []
    for item in items:
        text = item.strip()
        if text == "*":
            continue
        if not is_token(text):
            errors.append(
                ValidationError(
                    f"{item!r} is not a valid {what}: use letters, digits and -, without spaces, commas or colons "
                    f"(one {what} per entry, such as {example}), or '*' for any.",
                    code="token",
                )
            )
    if errors:
        raise ValidationError(errors)


def validate_methods(value: Any) -> None:
    _validate_tokens(value, "method", '"PUT"')


def validate_header_names(value: Any) -> None:
    _validate_tokens(value, "header name", '"X-Requested-With"')


def _dedupe(items: Iterable[str], key: Any = None) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        k = key(item) if key else item
        if k not in seen:
            seen.add(k)
            result.append(item)
    return result


def normalize_origins(value: list[str]) -> list[str]:
    """Lower-case scheme and host, drop default ports and duplicates; leave invalid entries as typed."""
    normalized = []
    for entry in value:
        try:
            normalized.append(parse_origin_entry(entry).value)
        except (OriginError, TypeError):
            normalized.append(entry)
    return _dedupe(normalized)


def normalize_methods(value: list[str]) -> list[str]:
    """Fetch upper-cases DELETE, GET, HEAD, OPTIONS, POST and PUT before sending; other methods stay as typed."""
    result = []
    for method in value:
        text = method.strip() if isinstance(method, str) else method
        if isinstance(text, str) and text.upper() in NORMALIZED_METHODS:
            text = text.upper()
        result.append(text)
    return _dedupe(result)


def normalize_header_names(value: list[str]) -> list[str]:
    """Header names compare case-insensitively: keep the first spelling of each."""
    stripped = [item.strip() if isinstance(item, str) else item for item in value]
    return _dedupe(stripped, key=lambda item: item.lower() if isinstance(item, str) else item)


def normalize_strings(value: list[str]) -> list[str]:
    return _dedupe(item.strip() if isinstance(item, str) else item for item in value)


def validate_policy(*, allowed_origins: list[str], allow_credentials: bool) -> None:
    """Rules across fields; raises a ValidationError keyed by field name."""
    if (
        allow_credentials
        and isinstance(allowed_origins, (list, tuple))
        and "*" in [o.strip() for o in allowed_origins if isinstance(o, str)]
    ):
        raise ValidationError({"allowed_origins": ValidationError(STAR_WITH_CREDENTIALS, code="star_with_credentials")})


MAX_AGE_MESSAGE = "Max age is a number of seconds, 0 or more; leave it empty to send no header."


def validate_max_age(value: Any) -> None:
    """Seconds or nothing; browsers cap it anyway (Chromium at 7200, Firefox at 86400)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(MAX_AGE_MESSAGE, code="max_age")
