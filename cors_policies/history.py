"""The admin's history for changes made outside the admin (the REST API, imports).

Rows are ``django.contrib.admin`` LogEntry rows in exactly the admin's format: ``[{"added": {}}]`` for an
addition, ``[{"changed": {"fields": ["Allowed origins", ...]}}]`` (field labels, untranslated, as the
admin stores them) for a change, an empty message for a deletion. So "History" on a policy's admin page
lists API changes beside admin ones, with the user who made them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from django.apps import apps
from django.db import models
from django.utils import translation
from django.utils.text import capfirst

from .models import CorsPolicy

if TYPE_CHECKING:
    from django.contrib.admin.models import LogEntry


def model_field(name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", CorsPolicy._meta.get_field(name))


def field_labels(names: Iterable[str]) -> list[str]:
    """The labels the admin form shows (and stores in change messages) for these model fields."""
    with translation.override(None):
        return [str(capfirst(model_field(name).verbose_name)) for name in names]


def change_message(changed_fields: Sequence[str]) -> list[dict[str, Any]]:
    """The admin's change message for a change of ``changed_fields`` (empty: "No fields changed.")."""
    return [{"changed": {"fields": field_labels(changed_fields)}}] if changed_fields else []


def log_changes(
    user: Any,
    *,
    added: Iterable[CorsPolicy] = (),
    changed: Iterable[tuple[CorsPolicy, Sequence[str]]] = (),
    deleted: Iterable[CorsPolicy] = (),
) -> list[LogEntry]:
    """Write one LogEntry per policy, in one query; ``deleted`` policies must still have their pk.

    Nothing is written without an authenticated user (LogEntry needs one) or without the admin app.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not apps.is_installed("django.contrib.admin"):
        return []
    # Here, not at the top: django.contrib.admin is optional, and its models cannot be imported unless installed.
    from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(CorsPolicy, for_concrete_model=False)
    rows: list[tuple[CorsPolicy, int, list[dict[str, Any]] | str]] = [
        *((policy, ADDITION, [{"added": {}}]) for policy in added),
        *((policy, CHANGE, change_message(fields)) for policy, fields in changed),
        *((policy, DELETION, "") for policy in deleted),
    ]
    entries = [
        LogEntry(
            user_id=user.pk,
            content_type_id=content_type.pk,
            object_id=str(policy.pk),
            object_repr=str(policy)[:200],
            action_flag=flag,
            change_message=message if isinstance(message, str) else json.dumps(message),
        )
        for policy, flag, message in rows
    ]
    return LogEntry.objects.bulk_create(entries) if entries else []
