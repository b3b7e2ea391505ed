"""Changes to several policies at once, each recorded in the admin's history, and the questions the policy pages
ask the database: which policies a search finds, which compete with a policy for its paths.

The admin's actions (enable, disable, duplicate) call these; the REST API changes policies one at a time
through its serializer, and imports go through :mod:`cors_policies.sync`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from django.db import models, transaction
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import smart_split, unescape_string_literal

from .. import history
from ..engine import PolicySpec
from ..models import SPEC_FIELDS, CorsPolicy

__all__ = ["COPY_SUFFIX", "copy_name", "duplicate", "rivals", "search", "set_enabled"]

COPY_SUFFIX = " (copy)"


def copy_name(name: str, taken: set[str]) -> str:
    """``name (copy)``, then ``name (copy 2)``...: the first not in ``taken``, within the column's length."""
    limit = int(CorsPolicy._meta.get_field("name").max_length or 0)  # type: ignore[union-attr]
    number = 1
    while True:
        suffix = COPY_SUFFIX if number == 1 else f" (copy {number})"
        candidate = name[: limit - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


def set_enabled(queryset: models.QuerySet[CorsPolicy], enabled: bool, user: Any) -> list[CorsPolicy]:
    """Enable (or disable) the policies of ``queryset`` that are not already; returns those changed.

    One ``QuerySet.update()``, which bumps the shared version like a save, so every process reloads."""
    with transaction.atomic():
        changing = list(queryset.filter(enabled=not enabled).order_by("pk"))
        if changing:
            CorsPolicy.objects.filter(pk__in=[policy.pk for policy in changing]).update(
                enabled=enabled, updated_at=timezone.now()
            )
            history.log_changes(user, changed=[(policy, ["enabled"]) for policy in changing])
    return changing


def duplicate(queryset: models.QuerySet[CorsPolicy], user: Any) -> list[CorsPolicy]:
    """A disabled copy of each policy of ``queryset``, named ``... (copy)``; returns the copies."""
    created = []
    with transaction.atomic():
        originals = list(queryset.order_by("pk"))
        taken = set(CorsPolicy.objects.values_list("name", flat=True))
        for original in originals:
            name = copy_name(original.name, taken)
            taken.add(name)
            fields = {f: getattr(original, f) for f in SPEC_FIELDS if f not in ("id", "name")}
            created.append(
                CorsPolicy.objects.create(**fields, name=name, description=original.description, enabled=False)
            )
        history.log_changes(user, added=created)
    return created


def search(queryset: models.QuerySet[CorsPolicy], words: str) -> models.QuerySet[CorsPolicy]:
    """The policies whose name, path pattern or origin lists contain every word (quoted phrases stay whole).

    The lists are JSON: they are cast to text (SQLite and PostgreSQL alike) and the word is searched
    JSON-encoded, so a regex's backslash (stored as ``\\\\``) is found as typed."""
    bits = list(smart_split(words))
    if bits and "origins_text" not in queryset.query.annotations:
        queryset = queryset.alias(
            origins_text=Cast("allowed_origins", output_field=models.TextField()),
            origin_regexes_text=Cast("allowed_origin_regexes", output_field=models.TextField()),
        )
    for bit in bits:
        if bit[0] in "\"'" and bit[-1] == bit[0] and len(bit) > 1:
            bit = unescape_string_literal(bit)
        encoded = json.dumps(bit)[1:-1]
        queryset = queryset.filter(
            models.Q(name__icontains=bit)
            | models.Q(path_pattern__icontains=bit)
            | models.Q(origins_text__icontains=encoded)
            | models.Q(origin_regexes_text__icontains=encoded)
        )
    return queryset


def specs(rows: Iterable[dict[str, Any]]) -> list[PolicySpec]:
    return [PolicySpec(**row) for row in rows]


def rivals(policy: CorsPolicy) -> list[PolicySpec]:
    """The other enabled policies that compete with ``policy`` for its paths, as the engine would enforce them: a
    report-only policy competes only with the other report-only ones (its preview shows it enforced)."""
    queryset = CorsPolicy.objects.filter(enabled=True, report_only=policy.report_only).exclude(pk=policy.pk)
    return [replace(spec, report_only=False) for spec in specs(queryset.order_by().values(*SPEC_FIELDS))]
