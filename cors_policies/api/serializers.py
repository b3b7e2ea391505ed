"""Serializers: JSON in and out, with the model's own validators and normalization (never a second copy).

A policy's fields, their strict types and their validation are :mod:`cors_policies.services.policy_json`'s,
shared with the documents that ``cors_apply`` and the import read; here they gain what only the API shows (the
id, the timestamps, the warnings, the name's uniqueness), and the API's other bodies are described. Every
Django ``ValidationError`` becomes a 400 keyed by field, so the API and the admin show the same messages.
"""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import protected
from ..models import POLICY_FIELDS, CorsPolicy
from ..services.policy_json import (
    MaxAgeField,
    PolicyFieldsSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictFieldsMixin,
    StrictIntegerField,
    StrictRegexField,
    StringListField,
    model_field,
    text_errors,
    unknown_field_errors,
)

__all__ = [
    "POLICY_FIELDS",
    "READ_ONLY_FIELDS",
    "CorsPolicySerializer",
    "DecisionSerializer",
    "ErrorSerializer",
    "EvaluateSerializer",
    "ExportedPolicySerializer",
    "ImportResultSerializer",
    "MaxAgeField",
    "PolicyDocumentSerializer",
    "PolicyRefSerializer",
    "PolicyWarningSerializer",
    "StrictBooleanField",
    "StrictCharField",
    "StrictFieldsMixin",
    "StrictIntegerField",
    "StrictRegexField",
    "StringListField",
    "model_field",
    "text_errors",
    "unknown_field_errors",
]

#: Set by the server; accepted in a request body (so a GET's body can be PUT back) and ignored.
READ_ONLY_FIELDS: tuple[str, ...] = ("id", "created_at", "updated_at")


class PolicyWarningSerializer(serializers.Serializer[Any]):
    """A misconfiguration the policy saves with all the same (protected.policy_warnings)."""

    code = serializers.CharField(help_text="Stable identifier, such as null_origin or http_with_credentials.")
    message = serializers.CharField(help_text="What is risky, and the safer alternative.")


class CorsPolicySerializer(PolicyFieldsSerializer):
    """A policy: the model's public fields, and the warnings the admin shows about it (read-only)."""

    warnings = serializers.SerializerMethodField(
        help_text="Misconfigurations worth a second look (not errors: the policy is saved), each with the safer "
        "alternative. Read-only, like id and the timestamps."
    )

    class Meta(PolicyFieldsSerializer.Meta):
        fields = ("id", *POLICY_FIELDS, "created_at", "updated_at", "warnings")
        read_only_fields = READ_ONLY_FIELDS
        # The name keeps the uniqueness check ModelSerializer derives from the model.
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {"description": {"multiline": True}}

    @extend_schema_field(PolicyWarningSerializer(many=True))
    def get_warnings(self, policy: CorsPolicy) -> list[dict[str, str]]:
        return [warning.as_dict() for warning in protected.policy_warnings(policy.to_spec())]


class ExportedPolicySerializer(PolicyFieldsSerializer):
    """A policy in an export or import document: no id, no timestamps; the name identifies it."""


class PolicyDocumentSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """Every policy, by name (as the export gives and the import takes)."""

    policies = ExportedPolicySerializer(many=True)


class ImportResultSerializer(serializers.Serializer[Any]):
    """What an import did (or, with ``dry_run``, would do)."""

    created = serializers.ListField(child=serializers.CharField(), help_text="Names of the policies created.")
    updated = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Name of each policy updated → the fields that changed.",
    )
    deleted = serializers.ListField(
        child=serializers.CharField(), help_text="Names of the policies deleted (only with prune)."
    )
    unchanged = serializers.ListField(
        child=serializers.CharField(), help_text="Names of the policies that already matched."
    )
    dry_run = serializers.BooleanField(help_text="True when nothing was written.")


class EvaluateSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A request a browser would make, described in words."""

    origin = StrictCharField(
        allow_null=True,
        required=False,
        default=None,
        max_length=4096,
        trim_whitespace=False,
        help_text="The Origin header as the browser sends it, such as https://app.example.com; null for none.",
    )
    method = StrictCharField(
        max_length=256, trim_whitespace=False, help_text="The method the page uses, such as GET or PUT."
    )
    path = StrictRegexField(
        r"^/",
        controls=True,
        max_length=4096,
        trim_whitespace=False,
        error_messages={"invalid": "Write a path starting with /, such as /api/items/5."},
        help_text="The request path (as request.path_info), such as /api/items/5.",
    )
    request_headers = serializers.ListField(
        child=StrictCharField(max_length=256),
        max_length=200,
        required=False,
        default=list,
        help_text="Header names the page sets, such as Content-Type or X-Requested-With.",
    )
    preflight = StrictBooleanField(
        required=False, default=False, help_text="Ask about the preflight (OPTIONS) rather than the request itself."
    )
    private_network = StrictBooleanField(
        required=False, default=False, help_text="The preflight asks for private network access."
    )


class PolicyRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DecisionSerializer(serializers.Serializer[Any]):
    """The engine's Decision.as_dict(): what the middleware would answer, and why."""

    allowed = serializers.BooleanField(help_text="Whether the browser would let the page go on.")
    policy = PolicyRefSerializer(
        allow_null=True, help_text="The policy that applies, or null when none covers the path."
    )
    response_headers = serializers.DictField(
        child=serializers.CharField(), help_text="The CORS headers the middleware would send."
    )
    vary = serializers.ListField(child=serializers.CharField(), help_text="Request headers merged into Vary.")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why the request is refused.")
    explanation = serializers.ListField(child=serializers.CharField(), help_text="Why this policy applies.")


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
