"""One policy as JSON, in and out: the fields a client writes, strictly typed, validated by the model.

Shared by the REST API (whose serializers extend :class:`PolicyFieldsSerializer` with the id, the timestamps and
the warnings) and the policy documents (:mod:`.documents`: the export, ``cors_apply``, the API's import), so a
policy is judged the same way and gets the same messages whichever door it comes in by.

Types are strict: text must be a JSON string, a number a JSON number, a flag true or false (DRF's fields would
take "5" or "yes", which HTML forms need and JSON does not). Field validation is the model fields' validators
(DRF's ModelSerializer picks them up), the cross-field rules are the model's ``clean()`` (which normalizes first,
as the admin's form does), and every Django ``ValidationError`` becomes an error keyed by field.
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

from .. import text
from ..models import POLICY_FIELDS, CorsPolicy

__all__ = [
    "MaxAgeField",
    "PolicyFieldsSerializer",
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


class PolicyFieldsSerializer(StrictFieldsMixin, serializers.ModelSerializer[CorsPolicy]):
    """A policy's public fields (``POLICY_FIELDS``), as a document holds them: the name identifies the policy, so
    it has no uniqueness check here (an import updates the policy of that name; the API's serializer adds it)."""

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

    class Meta:
        model = CorsPolicy
        fields = POLICY_FIELDS
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {
            "description": {"multiline": True},
            "name": {"validators": []},
        }

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
