"""The policy document: every policy as one JSON object, ``{"policies": [{...}, ...]}``.

The REST API's export and import and the ``cors_export`` / ``cors_apply`` / ``cors_import_settings`` commands
all read and write it through here. The document is declarative: each policy in it is the whole truth about the
policy of that name (a field left out takes its default), so applying the same document twice changes nothing
the second time.

:func:`validate_document` judges every policy with :class:`~.policy_json.PolicyFieldsSerializer` (the model's
validators and normalization, the API's strict JSON types) and raises :class:`DocumentError` listing every
problem by policy index and field; :func:`export_document` writes the document. Applying one is
``cors_policies.sync.apply``, which validates here first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from rest_framework.exceptions import ValidationError

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
    "export_document",
    "validate_document",
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
