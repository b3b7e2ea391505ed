"""Import policies from one JSON document: ``{"policies": [{...}, ...]}`` (:mod:`cors_policies.services.documents`
defines it, validates it and exports it; its names are importable from here too).

Plain functions: the REST API's import and the ``cors_apply`` / ``cors_import_settings`` commands call them.
:func:`apply_document` validates every policy first (:func:`~cors_policies.services.documents.validate_document`:
the model's validators and normalization) and raises :class:`DocumentError` listing every problem by policy index
and field before anything is written; then it creates, updates and (with ``prune``) deletes in one
transaction, with a few bulk queries per kind of change, bumps the shared version once, and writes the
admin history. 10,000 policies take seconds, not minutes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.utils import timezone

from . import history, validators
from .cache import bump_version
from .models import CorsPolicy
from .services.documents import (
    DOCUMENT_KEYS,
    NOT_AN_OBJECT,
    POLICIES_NOT_A_LIST,
    POLICIES_REQUIRED,
    Diff,
    DocumentError,
    Result,
    export_document,
    validate_document,
)

__all__ = [
    "DOCUMENT_KEYS",
    "NOT_AN_OBJECT",
    "POLICIES_NOT_A_LIST",
    "POLICIES_REQUIRED",
    "Diff",
    "DocumentError",
    "Result",
    "apply",
    "apply_document",
    "export_document",
    "validate_document",
    "write",
]


def apply_document(document: Any, *, prune: bool = False, dry_run: bool = False, user: Any = None) -> Diff:
    """Create or update every policy of ``document`` by name; with ``prune`` delete the others.

    Everything is validated before anything is written (a :class:`DocumentError` leaves the database
    untouched), and the writes happen in one transaction. ``dry_run`` writes nothing and returns the
    same diff. ``user`` (if authenticated) is recorded in the admin history.
    """
    return apply(document, prune=prune, dry_run=dry_run, user=user).diff


def apply(document: Any, *, prune: bool = False, dry_run: bool = False, user: Any = None) -> Result:
    """:func:`apply_document`, returning the old and new values of the changed fields too."""
    with transaction.atomic():
        with validators.set_budgets_checked_later():  # once, below, on the set the document leaves
            targets = validate_document(document)
        existing_rows = CorsPolicy.objects.order_by("name")
        if not dry_run:
            existing_rows = existing_rows.select_for_update()
        existing = {policy.name: policy for policy in existing_rows}

        result = Result(Diff(created=[], updated={}, deleted=[], unchanged=[], dry_run=dry_run))
        diff = result.diff
        to_create: list[CorsPolicy] = []
        to_update: list[tuple[CorsPolicy, list[str]]] = []
        for target in targets:
            policy = existing.pop(target["name"], None)
            if policy is None:
                to_create.append(CorsPolicy(**target))
                diff["created"].append(target["name"])
                continue
            changed = [name for name, value in target.items() if getattr(policy, name) != value]
            if not changed:
                diff["unchanged"].append(policy.name)
                continue
            result.changes[policy.name] = {name: (getattr(policy, name), target[name]) for name in changed}
            for name in changed:
                setattr(policy, name, target[name])
            to_update.append((policy, changed))
            diff["updated"][policy.name] = changed
        to_delete = list(existing.values()) if prune else []
        diff["deleted"] = [policy.name for policy in to_delete]
        left = [] if prune else [(p.path_pattern, p.report_only) for p in existing.values() if p.enabled]
        try:
            validators.validate_set_budgets(
                [(t["path_pattern"], t["report_only"]) for t in targets if t["enabled"]] + left
            )
        except DjangoValidationError as exc:
            raise DocumentError({"policies": exc.messages}) from None
        if dry_run:
            return result

        write(to_create, to_update, to_delete)
        created: list[CorsPolicy] = []
        if to_create:
            # Read back rather than trust bulk_create to set primary keys (not every backend does).
            by_name = CorsPolicy.objects.in_bulk(diff["created"], field_name="name")
            created = [by_name[name] for name in diff["created"]]
        history.log_changes(user, added=created, changed=to_update, deleted=to_delete)
    return result


def write(
    to_create: list[CorsPolicy], to_update: list[tuple[CorsPolicy, list[str]]], to_delete: list[CorsPolicy]
) -> None:
    """The writes of an import, in the caller's transaction, announced with one version bump.

    The model's queryset bumps the version on every bulk call (``bulk_update`` even once per batch) and
    a queryset ``delete()`` sends a ``post_delete`` signal, so a bump, per row: right for one-off writes,
    thousands of bumps here. A plain QuerySet and a raw delete skip those hooks (no table refers to
    policies, so there is nothing to cascade) and the single :func:`bump_version` below stands for them.
    """
    if not (to_create or to_update or to_delete):
        return
    plain: models.QuerySet[CorsPolicy] = models.QuerySet(CorsPolicy)
    if to_delete:
        plain.filter(pk__in=[policy.pk for policy in to_delete])._raw_delete(plain.db)
    if to_update:
        now = timezone.now()
        fields = {"updated_at"}
        for policy, changed in to_update:
            policy.updated_at = now
            fields.update(changed)
        plain.bulk_update([policy for policy, _ in to_update], sorted(fields))
    if to_create:
        plain.bulk_create(to_create)
    bump_version(plain.db)
