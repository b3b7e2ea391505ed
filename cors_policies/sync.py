"""The old path of :mod:`cors_policies.services.documents` (the policy document: export, validate, apply)."""

from .services.documents import (
    DOCUMENT_KEYS,
    NOT_AN_OBJECT,
    POLICIES_NOT_A_LIST,
    POLICIES_REQUIRED,
    Diff,
    DocumentError,
    Result,
    apply,
    apply_document,
    export_document,
    validate_document,
    write,
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
