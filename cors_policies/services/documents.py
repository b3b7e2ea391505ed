"""The policy document: every policy as one JSON object, ``{"policies": [{...}, ...]}``.

The REST API's export and import and the ``cors_export`` / ``cors_apply`` / ``cors_import_settings`` commands
all read and write it through here. The document is declarative: each policy in it is the whole truth about the
policy of that name (a field left out takes its default), so applying the same document twice changes nothing
the second time.

:func:`validate_document` judges every policy with :class:`~.policy_json.PolicyFieldsSerializer` (the model's
validators and normalization, the API's strict JSON types) and raises :class:`DocumentError` listing every
problem by policy index and field; :func:`export_document` writes the document; :func:`apply_document` applies
one: everything validated first, then created, updated and (with ``prune``) deleted in one transaction, with a few
bulk queries per kind of change, and recorded in the admin history (10,000 policies take seconds, not minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework.exceptions import ValidationError

from .. import history, validators
from ..models import POLICY_FIELDS, CorsPolicy
from .policy_json import PolicyFieldsSerializer

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

DOCUMENT_KEYS = ("policies",)
NOT_AN_OBJECT = 'Send a JSON object with a "policies" list, such as the export returns: {"policies": [...]}.'
POLICIES_REQUIRED = 'This field is required: write "policies": [...], a list of policies such as the export returns.'
POLICIES_NOT_A_LIST = 'Write a list of policies, such as [{"name": "public-api", "path_pattern": "/api/**"}].'


class DocumentError(ValueError):
    """The document cannot be applied; ``errors`` says why, shaped like a DRF serializer's errors:
    ``{"policies": {"3": {"allowed_origins": ["..."]}}}`` for policy 3, or a message list per top-level key."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


class Diff(TypedDict):
    created: list[str]
    updated: dict[str, list[str]]
    deleted: list[str]
    unchanged: list[str]
    dry_run: bool


@dataclass
class Result:
    """What :func:`apply` did: the API's :class:`Diff`, and the old and new value of every changed field
    (``changes[name][field] == (old, new)``), which the command line prints."""

    diff: Diff
    changes: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)


def export_document() -> dict[str, Any]:
    """Every policy, enabled or not, by name: the fields a client writes, without ids and timestamps."""
    return {"policies": [dict(row) for row in CorsPolicy.objects.order_by("name").values(*POLICY_FIELDS)]}


def validate_document(document: Any) -> list[dict[str, Any]]:
    """Each policy of ``document`` as the complete, normalized field values it declares; raises DocumentError."""
    if not isinstance(document, dict):
        raise DocumentError({"non_field_errors": [NOT_AN_OBJECT]})
    errors: dict[str, Any] = {}
    for key in document:
        if key not in DOCUMENT_KEYS:
            errors[key] = [f"Unknown field; a document has only {', '.join(DOCUMENT_KEYS)}."]
    if "policies" not in document:
        errors["policies"] = [POLICIES_REQUIRED]
    elif not isinstance(document["policies"], list):
        errors["policies"] = [POLICIES_NOT_A_LIST]
    if errors:
        raise DocumentError(errors)

    fields = POLICY_FIELDS
    item_errors: dict[str, Any] = {}
    targets: list[dict[str, Any]] = []
    first_index: dict[str, int] = {}
    # One serializer for every item: building a ModelSerializer's fields costs more than validating a
    # policy, and run_validation() keeps no state between calls (it is how a ListSerializer validates).
    serializer = PolicyFieldsSerializer()
    for index, item in enumerate(document["policies"]):
        try:
            validated = serializer.run_validation(item)
        except ValidationError as exc:
            item_errors[str(index)] = exc.detail
            continue
        # A fresh instance fills in every field left out with its default: the document is the whole truth.
        policy = CorsPolicy(**validated)
        target = {name: getattr(policy, name) for name in fields}
        name = target["name"]
        if name in first_index:
            item_errors[str(index)] = {
                "name": [
                    f"{name!r} is already the name of policy {first_index[name]} in this document; "
                    "each policy appears once (names are unique)."
                ]
            }
            continue
        first_index[name] = index
        targets.append(target)
    if item_errors:
        raise DocumentError({"policies": item_errors})
    return targets


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
    """The writes of an import, in the caller's transaction: a few bulk queries per kind of change.

    Through the model's queryset like every other write, so :mod:`~cors_policies.invalidation` moves the version
    once for the transaction and deletes the pruned policies' observed origins with them.
    """
    if to_delete:
        CorsPolicy.objects.filter(pk__in=[policy.pk for policy in to_delete]).delete()
    if to_update:
        fields: set[str] = set()
        for _policy, changed in to_update:
            fields.update(changed)
        CorsPolicy.objects.bulk_update([policy for policy, _ in to_update], sorted(fields))
    if to_create:
        CorsPolicy.objects.bulk_create(to_create)
