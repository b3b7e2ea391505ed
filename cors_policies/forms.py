"""Admin forms: the policy form (lists as text, methods as checkboxes) and the request tester's form.

No rule lives here. The policy form only turns text into the JSON lists the model stores; the model's
field validators and ``CorsPolicy.clean()`` (both from :mod:`cors_policies.validators`) then judge them,
and a ModelForm puts each message at its field. The one exception in placement, "other methods",
calls the same ``validate_methods`` so its message appears next to what was typed.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst, format_lazy

from . import analysis, protected, text, validators
from .models import POLICY_FIELDS, CorsPolicy

__all__ = [
    "AUTHORIZATION_NOTE",
    "COMMON_METHODS",
    "CorsPolicyForm",
    "LineField",
    "ListField",
    "RequestTestForm",
    "TextField",
    "split_items",
]

#: The methods offered as checkboxes; anything else (WebDAV's PROPFIND, a lower-case patch) is typed.
COMMON_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
METHOD_CHOICES = [*((method, method) for method in COMMON_METHODS), ("*", "* (any method)")]
_CHECKBOX_VALUES = frozenset(value for value, _ in METHOD_CHOICES)

#: Shown under allowed headers (the admin renders help text as HTML).
AUTHORIZATION_NOTE = (
    '<strong class="cors-note"><code>*</code> never covers Authorization; list it explicitly.</strong> '
    "(The Fetch standard says so; Chromium lets <code>*</code> cover it, Firefox does not, and this app "
    "gives the standard's answer in every browser.)"
)

_LINES = re.compile(r"\r\n|\r|\n")
_LINES_AND_COMMAS = re.compile(r"[\r\n,]+")


def split_items(text: str, *, commas: bool = False) -> list[str]:
    """Non-empty, stripped items of ``text``: one per line, and also comma-separated if ``commas``."""
    pattern = _LINES_AND_COMMAS if commas else _LINES
    return [item.strip() for item in pattern.split(text) if item.strip()]


class LineField(forms.CharField):
    """One line of text (:func:`cors_policies.text.validate_line`), judged before any other validator."""

    text_check = staticmethod(text.validate_line)

    def to_python(self, value: Any) -> str | None:
        result = super().to_python(value)
        self.text_check(result)
        return result


class TextField(LineField):
    """Text that may span lines (:func:`cors_policies.text.validate_text`)."""

    text_check = staticmethod(text.validate_text)


class ListField(forms.Field):
    """A JSON list of strings edited as text: one item per line (and, for names, comma-separated)."""

    def __init__(self, *, commas: bool = False, rows: int = 3, **kwargs: Any) -> None:
        self.commas = commas
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.Textarea(
                attrs={
                    "rows": rows,
                    "class": "vLargeTextField cors-lines",
                    "spellcheck": "false",
                    "autocapitalize": "off",
                    "autocomplete": "off",
                }
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        items = split_items(str(value), commas=self.commas)
        text.validate_items(items)  # before the model's validators, which must never see what is not text
        return items

    def has_changed(self, initial: Any, data: Any) -> bool:
        if isinstance(initial, str):  # "other methods" starts as the text shown
            initial = split_items(initial, commas=self.commas)
        return super().has_changed(initial or [], data)


def _model_field(name: str) -> Any:
    return CorsPolicy._meta.get_field(name)


def _list_field(name: str, how: str, *, commas: bool = False, note: str = "") -> ListField:
    model_field = _model_field(name)
    help_text = format_lazy("{} {}<br>{}" if note else "{} {}", model_field.help_text, how, note)
    return ListField(commas=commas, label=capfirst(model_field.verbose_name), help_text=help_text)


class CorsPolicyForm(forms.ModelForm):
    """The policy form the admin shows. Lists are text; validation is the model's."""

    allowed_origins = _list_field("allowed_origins", "One per line.")
    allowed_origin_regexes = _list_field("allowed_origin_regexes", "One per line.")
    allowed_methods = forms.MultipleChoiceField(
        label=capfirst(_model_field("allowed_methods").verbose_name),
        choices=METHOD_CHOICES,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "cors-methods"}),
        required=False,
        help_text=_model_field("allowed_methods").help_text,
    )
    other_methods = ListField(
        commas=True,
        label="Other methods",
        widget=forms.TextInput(attrs={"class": "vTextField", "spellcheck": "false", "autocapitalize": "off"}),
        help_text="Methods that are not in the list above, comma-separated, such as PROPFIND, MKCOL. "
        "Case-sensitive: patch is not PATCH.",
    )
    allowed_headers = _list_field(
        "allowed_headers", "One per line or comma-separated.", commas=True, note=AUTHORIZATION_NOTE
    )
    expose_headers = _list_field("expose_headers", "One per line or comma-separated.", commas=True)

    class Meta:
        model = CorsPolicy
        fields = POLICY_FIELDS
        field_classes = {"name": LineField, "path_pattern": LineField, "description": TextField}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
            "path_pattern": forms.TextInput(attrs={"class": "vTextField", "spellcheck": "false"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        methods = self.initial.get("allowed_methods")
        if isinstance(methods, (list, tuple)):
            self.initial["allowed_methods"] = [m for m in methods if m in _CHECKBOX_VALUES]
            self.initial.setdefault("other_methods", ", ".join(str(m) for m in methods if m not in _CHECKBOX_VALUES))

    @property
    def policy_warnings(self) -> list[analysis.PolicyWarning]:
        """Misconfigurations of the policy as submitted (once valid) or as saved: shown above the form.

        Not errors: the policy saves all the same. A submitted form with errors shows those instead.
        """
        if self.is_bound:
            if not self.is_valid():
                return []
        elif self.instance.pk is None:
            return []
        return protected.policy_warnings(self.instance.to_spec())  # a valid form has copied its data there

    def clean_other_methods(self) -> list[str]:
        items: list[str] = self.cleaned_data.get("other_methods") or []
        validators.validate_methods(items)
        return items

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if "allowed_methods" in cleaned and "other_methods" in cleaned:
            checked = set(cleaned["allowed_methods"])
            ordered = [value for value, _ in METHOD_CHOICES if value in checked]
            cleaned["allowed_methods"] = ordered + [m for m in cleaned["other_methods"] if m not in checked]
        return cleaned


class RequestTestForm(forms.Form):
    """What a browser would send: the tester asks the engine about exactly this."""

    origin = LineField(
        max_length=2048,
        strip=True,
        widget=forms.TextInput(attrs={"class": "vTextField", "placeholder": "https://app.example.com"}),
        help_text="The page's origin, exactly as the browser sends it: scheme://host[:port], lower case.",
    )
    method = LineField(
        initial="GET",
        max_length=64,
        widget=forms.TextInput(attrs={"class": "vTextField cors-method", "list": "cors-method-list"}),
        help_text="The method the page uses (case-sensitive, as sent).",
    )
    path = forms.CharField(
        max_length=4096,
        widget=forms.TextInput(attrs={"class": "vTextField", "placeholder": "/api/items/1"}),
        help_text="The path, or a whole URL (its query and fragment are ignored; %-escapes are decoded, "
        "as Django does before matching).",
    )
    request_headers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField", "placeholder": "Content-Type, X-Token"}),
        help_text="Headers the page sets that need a preflight, one per line or comma-separated.",
    )
    preflight = forms.BooleanField(
        required=False, help_text="Ask about the OPTIONS preflight the browser sends first, not the request itself."
    )
    private_network = forms.BooleanField(
        required=False,
        label="Private network",
        help_text="The preflight carries Access-Control-Request-Private-Network: true.",
    )

    def clean_path(self) -> str:
        value: str = self.cleaned_data["path"]
        text = urlsplit(value).path if "://" in value else value.split("#", 1)[0].split("?", 1)[0]
        value = unquote(text or "/")
        if not value.startswith("/"):
            raise ValidationError("Write a path starting with '/', such as /api/items/1, or a whole URL.")
        return value

    def clean_request_headers(self) -> list[str]:
        items = split_items(self.cleaned_data.get("request_headers") or "", commas=True)
        text.validate_items(items)
        return items
