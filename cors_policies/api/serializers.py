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
from ..models import POLICY_FIELDS, REASON_LABELS, CorsPolicy, EnforcedVerdict, ObservedOrigin, Verdict
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
    "REASONS",
    "VERDICTS",
    "AllowOriginSerializer",
    "AllowResultSerializer",
    "CorsPolicySerializer",
    "DecisionSerializer",
    "ErrorSerializer",
    "EvaluateSerializer",
    "ExportedPolicySerializer",
    "ImportResultSerializer",
    "MaxAgeField",
    "ObservedOriginSerializer",
    "PolicyDocumentSerializer",
    "PolicyRefSerializer",
    "PolicyWarningSerializer",
    "SampleAnswerSerializer",
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
    csrf_trusted = serializers.BooleanField(
        help_text="Whether the origin passes Django's CSRF origin check through a CSRF-trusted policy "
        "(with cors_policies.csrf.CsrfViewMiddleware); the CSRF token is still required."
    )


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


#: The refusal codes a row can carry (allowed rows have none).
REASONS = tuple(code for code in REASON_LABELS if code)
VERDICTS = tuple(Verdict.values)


class ObservedOriginSerializer(serializers.ModelSerializer[ObservedOrigin]):
    """One observed (policy, origin, verdict, reason): how many requests, first and last seen."""

    policy = serializers.IntegerField(source="policy_id", read_only=True, help_text="The policy's id.")
    policy_name = serializers.CharField(source="policy.name", read_only=True, help_text="The policy's name.")
    verdict = serializers.ChoiceField(
        choices=VERDICTS,
        read_only=True,
        help_text="The policy's verdict (for a report-only policy: the one it would have given).",
    )
    reason = serializers.ChoiceField(
        choices=("", *REASONS),
        read_only=True,
        help_text="Why it was refused: the code of the first refusal; empty when allowed.",
    )
    enforced_verdict = serializers.ChoiceField(
        choices=("", *EnforcedVerdict.values),
        read_only=True,
        help_text="For a report-only policy's row, the verdict actually served ('uncovered': no policy covered the "
        "path, so browsers refused); empty for an enforced policy's row.",
    )
    count = serializers.IntegerField(read_only=True, help_text="Requests seen (estimated if sampling is on).")

    class Meta:
        model = ObservedOrigin
        fields = (
            "id",
            "policy",
            "policy_name",
            "origin",
            "verdict",
            "reason",
            "report_only",
            "enforced_verdict",
            "count",
            "first_seen",
            "last_seen",
        )
        read_only_fields = fields
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {
            "origin": {
                "help_text": "The Origin header. Empty in the row that counts this policy's requests (of this "
                "verdict and reason) whose origin was not recorded: more distinct origins in an interval than "
                "OBSERVE_MAX_KEYS_PER_POLICY (or OBSERVE_MAX_KEYS for the verdict) left room for."
            }
        }


class AllowOriginSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """Allowing an observed origin in its policy: the confirmation the admin asks for."""

    acknowledge = StrictBooleanField(
        required=False,
        default=False,
        help_text="Required for a risky origin (null, plain http with credentials, or one that makes the policy "
        "raise a warning): true says you read the reasons and the warnings (see dry_run) and allow it anyway.",
    )


class SampleAnswerSerializer(serializers.Serializer[Any]):
    """What the policy would answer one request from the origin once it is allowed."""

    title = serializers.CharField(help_text="Which request: the actual one, or a preflight for a method.")
    request = serializers.ListField(
        child=serializers.CharField(), help_text="The request line and the headers a browser would send."
    )
    decision = DecisionSerializer(help_text="The engine's answer to it.")


class AllowResultSerializer(serializers.Serializer[Any]):
    """What allowing the origin takes, and (unless dry_run) what was done."""

    policy = PolicyRefSerializer(help_text="The policy the origin was observed on.")
    origin = serializers.CharField(help_text="The observed origin.")
    verdict = serializers.ChoiceField(
        choices=("already", "confirm", "acknowledge", "never"),
        help_text="already: the policy allows it already; confirm: it can be allowed; acknowledge: only with "
        '"acknowledge": true; never: it cannot be allowed in this policy (see reasons).',
    )
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Why the origin needs an acknowledgement, or can never be allowed."
    )
    warnings = PolicyWarningSerializer(
        many=True, help_text="The warnings the policy would raise once changed that it does not raise today."
    )
    previews = SampleAnswerSerializer(many=True, help_text="What the changed policy would answer the origin.")
    allowed = serializers.BooleanField(help_text="True when this request added the origin to the policy.")
    dry_run = serializers.BooleanField(help_text="True when nothing was written.")
    detail = serializers.CharField(help_text="What was done, or what is needed, in words.")
