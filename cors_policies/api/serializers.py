"""Serializers: JSON in and out, with the model's own validators and normalization (never a second copy).

Field validation is the model fields' validators (DRF's ModelSerializer picks them up), the cross-field
rules are the model's ``clean()`` (which normalizes first, as the admin's form does), and every Django
``ValidationError`` becomes a 400 keyed by field, so the API and the admin show the same messages.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from .. import protected, text
from ..models import POLICY_FIELDS, CorsPolicy

#: Set by the server; accepted in a request body (so a GET's body can be PUT back) and ignored.
READ_ONLY_FIELDS: tuple[str, ...] = ("id", "created_at", "updated_at")


def unknown_field_errors(
    data: Any, fields: Mapping[str, serializers.Field[Any, Any, Any, Any]]
) -> dict[str, list[str]]:
    """One error per key of ``data`` that is not a field, naming the fields a client may write."""
    if not isinstance(data, Mapping):
        return {}
    names = ", ".join(name for name, field in fields.items() if not field.read_only)
    return {key: [f"Unknown field; write only these fields: {names}."] for key in data if key not in fields}


def text_errors(check: Any, value: Any) -> None:
    """Run one of :mod:`cors_policies.text`'s validators, as a DRF error (before any other validator, which
    must never see what is not text)."""
    try:
        check(value)
    except DjangoValidationError as exc:
        raise ValidationError(exc.messages, code="not_text") from None


class StrictCharField(serializers.CharField):
    """Text must be a JSON string (DRF's CharField would also take 5 or 1.5 and store "5" or "1.5") that can
    be stored and sent: :mod:`cors_policies.text` says what that is. ``multiline`` allows line breaks and tabs;
    ``controls`` every control character (a request path)."""

    default_error_messages = {"invalid": "Write a string (text in double quotes)."}

    def __init__(self, *args: Any, multiline: bool = False, controls: bool = False, **kwargs: Any) -> None:
        self.text_check = text.validate_path if controls else text.validate_text if multiline else text.validate_line
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        text_errors(self.text_check, data)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction: not "5" (DRF's IntegerField takes numeric strings) nor true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false: not "yes", "on" or 1 (DRF's BooleanField takes those, for HTML forms)."""

    default_error_messages = {"invalid": "Write true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictRegexField(StrictCharField, serializers.RegexField):
    """A RegexField that takes only strings."""


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class StringListField(serializers.JSONField):
    """A JSON array of strings. Its type is checked by the model field's validators, so a non-list or a
    non-string item gets the same message as in the admin ("Write a list of strings, such as [...]")."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        text_errors(text.validate_items, value)
        return value


def model_field(name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", CorsPolicy._meta.get_field(name))


@extend_schema_field({"type": "integer", "nullable": True, "minimum": 0, "maximum": 2_147_483_647})
class MaxAgeField(StrictIntegerField):
    """Validated by the model field's validators (a function the schema generator cannot read, hence the bounds)."""


class StrictFieldsMixin:
    """Refuse unknown keys instead of ignoring them, reporting them with the other field errors."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        unknown = unknown_field_errors(data, self.fields)
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise ValidationError(unknown)
        return value


class PolicyWarningSerializer(serializers.Serializer[Any]):
    """A misconfiguration the policy saves with all the same (protected.policy_warnings)."""

    code = serializers.CharField(help_text="Stable identifier, such as null_origin or http_with_credentials.")
    message = serializers.CharField(help_text="What is risky, and the safer alternative.")


class CorsPolicySerializer(StrictFieldsMixin, serializers.ModelSerializer[CorsPolicy]):
    """A policy: the model's public fields, and the warnings the admin shows about it (read-only)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.JSONField: StringListField,
        models.IntegerField: StrictIntegerField,
        models.BooleanField: StrictBooleanField,
    }

    # Declared so the model's own messages are kept: ModelSerializer would turn its MaxValueValidator into
    # DRF's max_value, whose message differs from the admin's.
    max_age = MaxAgeField(
        allow_null=True,
        required=False,
        validators=list(model_field("max_age").validators),
        help_text=str(model_field("max_age").help_text),
    )

    warnings = serializers.SerializerMethodField(
        help_text="Misconfigurations worth a second look (not errors: the policy is saved), each with the safer "
        "alternative. Read-only, like id and the timestamps."
    )

    class Meta:
        model = CorsPolicy
        fields = ("id", *POLICY_FIELDS, "created_at", "updated_at", "warnings")
        read_only_fields = READ_ONLY_FIELDS
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {"description": {"multiline": True}}

    @extend_schema_field(PolicyWarningSerializer(many=True))
    def get_warnings(self, policy: CorsPolicy) -> list[dict[str, str]]:
        return [warning.as_dict() for warning in protected.policy_warnings(policy.to_spec())]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The model's cross-field rules on the policy as it would be saved; returns normalized values."""
        policy = copy.copy(self.instance) if isinstance(self.instance, CorsPolicy) else CorsPolicy()
        for name, value in attrs.items():
            setattr(policy, name, value)
        try:
            policy.clean()  # normalizes, then validators.validate_policy
        except DjangoValidationError as exc:
            raise ValidationError(serializers.as_serializer_error(exc)) from None
        return {name: getattr(policy, name) for name in attrs}


class ExportedPolicySerializer(CorsPolicySerializer):
    """A policy in an export or import document: no id, no timestamps; the name identifies it."""

    # No unique validator on name: an import updates the policy of that name instead.

    class Meta(CorsPolicySerializer.Meta):
        fields = POLICY_FIELDS
        read_only_fields = ()
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {
            **CorsPolicySerializer.Meta.extra_kwargs,
            "name": {"validators": []},
        }


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
