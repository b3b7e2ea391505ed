"""The one place policy input is validated and normalized.

The model, the admin forms and the API serializers all call these, so every face shows the same
message, and every message says what to write instead. This module only turns the core's facts into
Django's ``ValidationError`` with messages: the parsing lives in the engine (``parse_origin_entry``,
``parse_path_pattern``), so what is accepted here is exactly what compiles, and so do the costs the budgets
count (``path_costs``, ``program_size``); how lists are stored is :mod:`cors_policies.analysis.normalize`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db.models import Q

from .analysis import normalize_header_names, normalize_methods, normalize_origins, normalize_strings
from .engine import (
    KIND_LITERAL,
    MAX_GLOB_STEPS,
    MAX_ORIGIN_REGEX_PROGRAM,
    MAX_REGEX_PATH_PROGRAM,
    OriginError,
    PatternError,
    is_token,
    parse_origin_entry,
    parse_path_pattern,
    parsed_path_pattern,
    path_costs,
)
from .regex import RegexError, compile_regex, program_size

__all__ = [
    "MAX_AGE_MESSAGE",
    "MAX_ORIGIN_REGEXES",
    "MAX_REGEX_LENGTH",
    "REGEX_PATH_ADVICE",
    "STAR_WITH_CREDENTIALS",
    "normalize_header_names",
    "normalize_methods",
    "normalize_origins",
    "normalize_strings",
    "set_budgets_checked_later",
    "validate_header_names",
    "validate_max_age",
    "validate_methods",
    "validate_origin_regexes",
    "validate_origins",
    "validate_path_pattern",
    "validate_policy",
    "validate_policy_budgets",
    "validate_set_budgets",
]

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


#: Longest origin regex, as long as the longest path pattern (its column holds 500 characters).
MAX_REGEX_LENGTH: Final = 500

REGEX_PATH_ADVICE = (
    "Use a glob instead, such as /api/** or /api/*/items (globs cost no regex budget), or disable a regex "
    "path policy you no longer need."
)


def validate_path_pattern(value: Any) -> None:
    # Judge what will be stored: normalize() strips surrounding spaces before saving.
    pattern = value.strip() if isinstance(value, str) else value
    try:
        parsed = parse_path_pattern(pattern)
    except PatternError as exc:
        raise ValidationError(str(exc), code="path_pattern") from None
    if parsed.automaton:
        size = program_size((parsed.member,))
        if size > MAX_REGEX_PATH_PROGRAM:
            what = parsed.kind.label  # a regular expression, or a glob with several "**"
            raise ValidationError(
                f"{pattern!r} is too complex: this {what} compiles to {size:,} RE2 instructions, and all the "
                f"regex path patterns of the enabled policies (with the globs that have '**' in more than one "
                f"place) share {MAX_REGEX_PATH_PROGRAM:,}, because every request's path runs them all. Write "
                "smaller repeat counts and ASCII classes, such as ^/api/[^/]+/items/, or a glob such as "
                "/api/*/items.",
                code="path_regex_size",
            )


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


#: Regexes per policy: a request runs each against the Origin (in one pass, but each adds to the automaton).
#: What bounds the cost is their size together, MAX_ORIGIN_REGEX_PROGRAM (bench/worst_case.py).
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
            compile_regex(regex)
        except RegexError as exc:
            otherwise = "fix it, or use a subdomain wildcard such as https://*.example.com in allowed origins"
            errors.append(ValidationError(exc.message(otherwise), code="regex"))
    if errors:
        raise ValidationError(errors)
    size = program_size(tuple(regexes))
    if size > MAX_ORIGIN_REGEX_PROGRAM:
        sizes = ", ".join(f"{regex!r}: {program_size((regex,)):,}" for regex in regexes)
        raise ValidationError(
            f"These regular expressions compile to {size:,} RE2 instructions together ({sizes}); a policy may "
            f"have {MAX_ORIGIN_REGEX_PROGRAM:,}, because every request to its paths runs them all. List exact "
            "origins or subdomain wildcards (https://*.example.com) in allowed origins instead, write smaller "
            "repeat counts and classes, or join regexes that differ in one part into one, such as "
            "^https://(app|admin)\\.example\\.com$.",
            code="regex_size",
        )


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


#: Why each origin entry cannot be CSRF-trusted, and what to write instead (the admin and the API show these).
CSRF_NEEDS_CREDENTIALS = (
    "CSRF trust is for pages that send cookies: turn on allow credentials too, or turn CSRF trust off."
)
CSRF_NEEDS_ORIGINS = (
    "CSRF trust needs origins to trust: list them in allowed origins, such as https://app.example.com or "
    "https://*.example.com, or turn CSRF trust off."
)
CSRF_STAR = (
    "'*' cannot be CSRF-trusted: every web page could then post forms with your users' cookies. List the "
    "origins allowed to write, such as https://app.example.com, or turn CSRF trust off."
)
CSRF_NULL = (
    "'null' cannot be CSRF-trusted: sandboxed frames and file: pages of any site send it. Remove null from "
    "allowed origins (put it in a policy of its own without CSRF trust), or turn CSRF trust off."
)
CSRF_REGEXES = (
    "Origin regexes cannot be CSRF-trusted: trust needs origins Django's CSRF check can name, exact ones or "
    "subdomain wildcards. List those in allowed origins (such as https://app.example.com or "
    "https://*.example.com) and keep the regexes in another policy without CSRF trust, or turn CSRF trust off."
)


def _stripped(items: Any) -> list[str]:
    return [item.strip() for item in items if isinstance(item, str)] if isinstance(items, (list, tuple)) else []


def validate_policy(
    *,
    allowed_origins: list[str],
    allow_credentials: bool,
    csrf_trusted: bool = False,
    allowed_origin_regexes: list[str] | None = None,
) -> None:
    """Rules across fields; raises a ValidationError keyed by field name.

    CSRF trust (``csrf_trusted``) goes only with credentials and origins a person named, exact or a
    subdomain wildcard: never '*', 'null' or a regex, which would let pages nobody listed post with cookies.
    """
    origins = _stripped(allowed_origins)
    errors: dict[str, list[ValidationError]] = {}
    if allow_credentials and "*" in origins:
        errors["allowed_origins"] = [ValidationError(STAR_WITH_CREDENTIALS, code="star_with_credentials")]
    if csrf_trusted:
        csrf: list[ValidationError] = []
        if not allow_credentials:
            csrf.append(ValidationError(CSRF_NEEDS_CREDENTIALS, code="csrf_without_credentials"))
        if "*" in origins:
            csrf.append(ValidationError(CSRF_STAR, code="csrf_star"))
        if "null" in [origin.lower() for origin in origins]:
            csrf.append(ValidationError(CSRF_NULL, code="csrf_null"))
        if _stripped(allowed_origin_regexes or []):
            csrf.append(ValidationError(CSRF_REGEXES, code="csrf_regexes"))
        if not origins:
            csrf.append(ValidationError(CSRF_NEEDS_ORIGINS, code="csrf_without_origins"))
        if csrf:
            errors["csrf_trusted"] = csrf
    if errors:
        raise ValidationError(errors)


MAX_AGE_MESSAGE = "Max age is a number of seconds, 0 or more; leave it empty to send no header."


def validate_max_age(value: Any) -> None:
    """Seconds or nothing; browsers cap it anyway (Chromium at 7200, Firefox at 86400)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(MAX_AGE_MESSAGE, code="max_age")


# --------------------------------------------------------------------------------------------------
# Budgets shared by all enabled policies
# --------------------------------------------------------------------------------------------------

#: False while a caller checks a whole set of policies itself (an import): the budgets are then checked
#: once on the result rather than once per policy against the stored ones.
_CHECK_SET_BUDGETS: contextvars.ContextVar[bool] = contextvars.ContextVar("cors_policies_set_budgets", default=True)


@contextlib.contextmanager
def set_budgets_checked_later() -> Iterator[None]:
    """Within this block :func:`validate_policy_budgets` does nothing: the caller calls
    :func:`validate_set_budgets` on the whole resulting set."""
    token = _CHECK_SET_BUDGETS.set(False)
    try:
        yield
    finally:
        _CHECK_SET_BUDGETS.reset(token)


def _budget_messages(patterns: list[tuple[str, bool]], pattern: str | None = None) -> list[str]:
    steps, program = path_costs(patterns)
    messages = []
    what = f"{pattern!r} would bring" if pattern is not None else "These policies bring"
    if program > MAX_REGEX_PATH_PROGRAM:
        messages.append(
            f"{what} the regex path patterns of the enabled policies (with the globs that have '**' in more "
            f"than one place) to {program:,} RE2 instructions; at most {MAX_REGEX_PATH_PROGRAM:,} are allowed, "
            f"because every request's path runs them all. {REGEX_PATH_ADVICE}"
        )
    if steps > MAX_GLOB_STEPS:
        messages.append(
            f"{what} the globs of the enabled policies to {steps:,} steps, the most one request's path could "
            f"take through them; at most {MAX_GLOB_STEPS:,} are allowed. What adds up is '*' (or '**') where "
            "other globs have a literal segment: a path is then compared with both. Write the literal segments "
            "where you can, such as /api/v1/*/items rather than /*/v1/*/items, or merge globs that differ in "
            "one segment into one with '*'."
        )
    return messages


def validate_set_budgets(patterns: Iterable[tuple[str, bool]]) -> None:
    """The budgets for a whole set of enabled path patterns, given as (pattern, report only): an import,
    or a benchmark's policy set. Raises a ValidationError saying what to write instead."""
    messages = _budget_messages(list(patterns))
    if messages:
        raise ValidationError([ValidationError(message, code="path_budget") for message in messages])


def validate_policy_budgets(policy: Any) -> None:
    """The budgets the enabled policies share, with ``policy`` as it would be saved: a regex path pattern,
    or a glob, is refused when the set would exceed one (serving would skip a policy instead). Reads the
    other enabled policies' patterns: one query, and only for a glob or a regex."""
    if not _CHECK_SET_BUDGETS.get() or not policy.enabled or not isinstance(policy.path_pattern, str):
        return
    pattern = policy.path_pattern.strip()
    try:
        parsed = parsed_path_pattern(pattern)
    except PatternError:
        return  # the field's own validator says why
    if parsed.kind == KIND_LITERAL:
        return
    others = type(policy)._default_manager.filter(enabled=True)
    if policy.pk is not None:
        others = others.exclude(pk=policy.pk)
    rows = others.filter(Q(path_pattern__contains="*") | Q(path_pattern__startswith="^"))
    patterns = [(text, bool(report_only)) for text, report_only in rows.values_list("path_pattern", "report_only")]
    messages = _budget_messages([*patterns, (pattern, bool(policy.report_only))], pattern)
    if messages:
        raise ValidationError({"path_pattern": [ValidationError(m, code="path_budget") for m in messages]})
