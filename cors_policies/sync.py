"""Export and import policies as one JSON document: ``{"policies": [{...}, ...]}``.

Plain functions: the REST API calls them now, the command line later. The document is declarative:
each policy in it is the whole truth about the policy of that name (a field left out takes its default),
so applying the same document twice changes nothing the second time.

:func:`apply_document` validates every policy first (with the API's serializer, so with the model's
validators and normalization) and raises :class:`DocumentError` listing every problem by policy index
and field before anything is written; then it creates, updates and (with ``prune``) deletes in one
transaction, with one bulk query per kind of change, and writes the admin history.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.db import transaction
from django.utils import timezone

from . import history
from .models import CorsPolicy

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


def policy_fields() -> tuple[str, ...]:
    from .api.serializers import POLICY_FIELDS

    return POLICY_FIELDS


def export_document() -> dict[str, Any]:
    """Every policy, enabled or not, by name: the fields a client writes, without ids and timestamps."""
    fields = policy_fields()
    return {"policies": [dict(row) for row in CorsPolicy.objects.order_by("name").values(*fields)]}


def validate_document(document: Any) -> list[dict[str, Any]]:
    """Each policy of ``document`` as the complete, normalized field values it declares; raises DocumentError."""
    from .api.serializers import ExportedPolicySerializer

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

    fields = policy_fields()
    item_errors: dict[str, Any] = {}
    targets: list[dict[str, Any]] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(document["policies"]):
        serializer = ExportedPolicySerializer(data=item)
        if not serializer.is_valid():
            item_errors[str(index)] = serializer.errors
            continue
        # A fresh instance fills in every field left out with its default: the document is the whole truth.
        policy = CorsPolicy(**serializer.validated_data)
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
    with transaction.atomic():
        targets = validate_document(document)
        existing_rows = CorsPolicy.objects.order_by("name")
        if not dry_run:
            existing_rows = existing_rows.select_for_update()
        existing = {policy.name: policy for policy in existing_rows}

        diff = Diff(created=[], updated={}, deleted=[], unchanged=[], dry_run=dry_run)
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
            for name in changed:
                setattr(policy, name, target[name])
            to_update.append((policy, changed))
            diff["updated"][policy.name] = changed
        to_delete = list(existing.values()) if prune else []
        diff["deleted"] = [policy.name for policy in to_delete]
        if dry_run:
            return diff

        if to_delete:
            CorsPolicy.objects.filter(pk__in=[policy.pk for policy in to_delete]).delete()
        if to_update:
            now = timezone.now()
            fields = {"updated_at"}
            for policy, changed in to_update:
                policy.updated_at = now
                fields.update(changed)
            CorsPolicy.objects.bulk_update([policy for policy, _ in to_update], sorted(fields))
        created: list[CorsPolicy] = []
        if to_create:
            CorsPolicy.objects.bulk_create(to_create)
            # Read back rather than trust bulk_create to set primary keys (not every backend does).
            by_name = CorsPolicy.objects.in_bulk(diff["created"], field_name="name")
            created = [by_name[name] for name in diff["created"]]
        history.log_changes(user, added=created, changed=to_update, deleted=to_delete)
    return diff
