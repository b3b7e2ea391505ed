"""Every string a policy holds is text that can be stored and sent (cors_policies.text), refused with a 400 and
a message at its field in the API and the admin alike; and a write that fails leaves nothing behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from rest_framework.test import APIClient

from cors_policies import history, text
from cors_policies.api.serializers import CorsPolicySerializer
from cors_policies.forms import CorsPolicyForm
from cors_policies.models import CorsPolicy
from tests.factories import CorsPolicyFactory

pytestmark = pytest.mark.django_db

POLICIES = "/api/cors/policies/"
ADD_URL = "/admin/cors_policies/corspolicy/add/"

#: Never text anywhere: lone surrogates (what JSON's "\ud800" decodes to), NUL, other C0 controls, DEL, C1.
NOT_TEXT = ["\ud800", "\udbff", "\udc00", "\udfff", "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85"]
#: Text, but not on one line: refused everywhere except the description.
LINE_BREAKS = ["\t", "\n", "\r"]


def with_char(field: str, char: str) -> Any:
    """A valid value of ``field`` with ``char`` in its middle."""
    return {
        "name": f"items{char}v2",
        "description": f"Partner{char}access",
        "path_pattern": f"/api/it{char}ems/**",
        "allowed_origins": ["https://ok.example.com", f"https://app{char}.example.com"],
        "allowed_origin_regexes": [f"^https://a{char}b\\.example\\.com$"],
        "allowed_methods": ["PUT", f"PA{char}TCH"],
        "allowed_headers": [f"X-To{char}ken"],
        "expose_headers": [f"X-To{char}tal"],
    }[field]


def send(api_client: APIClient, method: str, url: str, data: Any) -> Any:
    """JSON as a client sends it: json.dumps escapes a lone surrogate as \\ud800 (the test client's own
    renderer would fail to encode it, before the request is even made)."""
    return api_client.generic(method, url, json.dumps(data), content_type="application/json")


def body(**fields: Any) -> dict[str, Any]:
    return {"name": "items", "path_pattern": "/api/items/**", "allowed_origins": ["https://app.example.com"], **fields}


ONE_LINE_FIELDS = [
    "name",
    "path_pattern",
    "allowed_origins",
    "allowed_origin_regexes",
    "allowed_methods",
    "allowed_headers",
    "expose_headers",
]
#: Through the faces, one of each kind (the rule itself is tested with all of them below).
SAMPLES = ["\udc00", "\x00", "\x1b", "\x85"]
REFUSED = [(field, char) for field in [*ONE_LINE_FIELDS, "description"] for char in SAMPLES] + [
    (field, "\n") for field in ONE_LINE_FIELDS
]


def ids(cases: list[tuple[str, str]]) -> list[str]:
    return [f"{field}-U+{ord(char):04X}" for field, char in cases]


def assert_refused_at(errors: dict[str, Any], field: str, char: str) -> None:
    """One message, at ``field``, naming the character and where it is."""
    assert set(errors) == {field}, errors
    (message,) = errors[field]
    assert f"U+{ord(char):04X}" in message
    assert " at character " in message
    assert "surrogate" in message if 0xD800 <= ord(char) <= 0xDFFF else "control character" in message


# -- the rule ----------------------------------------------------------------------------------------


def test_messages_say_what_where_and_what_to_do() -> None:
    assert text.problem("\ud800") == (
        "'\\ud800' contains U+D800 at character 1, half of a UTF-16 surrogate pair without its other half: that is "
        "not text, so it cannot be stored or sent. Send the character itself in UTF-8 (in JSON, an escaped pair "
        "such as \\ud83d\\ude00 is fine)."
    )
    assert text.problem("ab\r\nc") == (
        "'ab\\r\\nc' contains the control character U+000D (carriage return) at character 3, which cannot be sent "
        "in a header or shown as it is; remove it (write the value on one line)."
    )
    assert text.problem("a\x00", multiline=True) == (
        "'a\\x00' contains the control character U+0000 (NUL) at character 2, which cannot be sent in a header or "
        "shown as it is; remove it (only line breaks and tabs are allowed here)."
    )


@pytest.mark.parametrize("char", NOT_TEXT + LINE_BREAKS)
def test_the_rule_refuses_every_kind(char: str) -> None:
    for value in (char, f"ab{char}", f"{char}ab", f"a{char}b{char}"):
        message = text.problem(value)
        assert message is not None
        assert f"U+{ord(char):04X}" in message
        assert f"at character {value.index(char) + 1}," in message
    assert (text.problem(f"a{char}b", multiline=True) is None) == (char in LINE_BREAKS)
    assert (text.problem(f"a{char}b", controls=True) is None) == (not 0xD800 <= ord(char) <= 0xDFFF)


@pytest.mark.parametrize("value", ["", "Café ☕ 😀", "https://app.example.com", "^https://[a-z]+\\.example\\.com$"])
def test_text_passes(value: str) -> None:
    assert text.problem(value) is None
    assert text.problem(value + "\n\t\r\n", multiline=True) is None
    assert text.problem(value + "\x00\x1b\n", controls=True) is None


def test_a_long_value_is_shown_shortened() -> None:
    message = text.problem("x" * 5000 + "\x00")
    assert message is not None
    assert len(message) < 300
    assert "at character 5001" in message


# -- the API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "char"), REFUSED, ids=ids(REFUSED))
def test_api_create_refuses_what_is_not_text_and_writes_nothing(api_client: APIClient, field: str, char: str) -> None:
    response = send(api_client, "POST", POLICIES, body(**{field: with_char(field, char)}))
    assert response.status_code == 400
    assert_refused_at(response.json(), field, char)
    assert not CorsPolicy.objects.exists()
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize(("field", "char"), REFUSED, ids=ids(REFUSED))
def test_api_update_refuses_what_is_not_text_and_changes_nothing(api_client: APIClient, field: str, char: str) -> None:
    policy = CorsPolicyFactory(name="items", path_pattern="/api/items/**")
    before = api_client.get(f"{POLICIES}{policy.pk}/").json()
    patched = send(api_client, "PATCH", f"{POLICIES}{policy.pk}/", {field: with_char(field, char)})
    put = send(api_client, "PUT", f"{POLICIES}{policy.pk}/", body(**{field: with_char(field, char)}))
    for response in (patched, put):
        assert response.status_code == 400
        assert_refused_at(response.json(), field, char)
    assert api_client.get(f"{POLICIES}{policy.pk}/").json() == before


@pytest.mark.parametrize(("field", "char"), REFUSED, ids=ids(REFUSED))
def test_api_import_refuses_what_is_not_text_and_writes_nothing(api_client: APIClient, field: str, char: str) -> None:
    document = {"policies": [body(name="fine"), {**body(name="other"), field: with_char(field, char)}]}
    response = send(api_client, "POST", f"{POLICIES}import/", document)
    assert response.status_code == 400
    errors = response.json()["policies"]
    assert set(errors) == {"1"}
    assert_refused_at(errors["1"], field, char)
    assert not CorsPolicy.objects.exists()


@pytest.mark.parametrize("char", LINE_BREAKS)
def test_api_description_may_span_lines(api_client: APIClient, char: str) -> None:
    response = api_client.post(POLICIES, body(description=f"First{char}second"), format="json")
    assert response.status_code == 201, response.json()
    assert CorsPolicy.objects.get().description == f"First{char}second"


def test_the_issues_surrogate_regex_is_a_400_and_the_list_still_works(api_client: APIClient) -> None:
    response = api_client.generic(
        "POST",
        POLICIES,
        '{"name": "x", "path_pattern": "/x", "allowed_origin_regexes": ["\\ud800"]}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["allowed_origin_regexes"]
    assert not CorsPolicy.objects.exists()
    for url in (POLICIES, f"{POLICIES}export/"):
        assert api_client.get(url).status_code == 200


EVALUATE_CASES = [
    ("origin", "https://app.example.com\r\nX-Evil: 1", "\r"),
    ("origin", "https://app.example.com\ud800", "\ud800"),
    ("method", "PU\x00T", "\x00"),
    ("path", "/api/\ud800", "\ud800"),
]


@pytest.mark.parametrize(("field", "value", "char"), EVALUATE_CASES)
def test_evaluate_refuses_what_no_browser_can_send(api_client: APIClient, field: str, value: str, char: str) -> None:
    request = {"origin": "https://app.example.com", "method": "GET", "path": "/api/x", field: value}
    response = send(api_client, "POST", "/api/cors/evaluate/", request)
    assert response.status_code == 400
    assert_refused_at(response.json(), field, char)


def test_evaluate_refuses_request_headers_that_are_not_text(api_client: APIClient) -> None:
    request = {"origin": "https://a.example.com", "method": "PUT", "path": "/x", "request_headers": ["X-A\x00"]}
    response = send(api_client, "POST", "/api/cors/evaluate/", request)
    assert response.status_code == 400
    assert list(response.json()) == ["request_headers"]


def test_evaluate_takes_a_decoded_path_with_control_characters(api_client: APIClient) -> None:
    """Django decodes %0A in a path to a line feed, so a path may hold one (but never a surrogate)."""
    request = {"origin": "https://app.example.com", "method": "GET", "path": "/api/a\nb"}
    assert api_client.post("/api/cors/evaluate/", request, format="json").status_code == 200


# -- atomic writes -----------------------------------------------------------------------------------


def test_a_write_whose_answer_fails_to_render_leaves_nothing_behind(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, policy: CorsPolicy) -> Any:
        raise RuntimeError("the answer cannot be rendered")

    monkeypatch.setattr(CorsPolicySerializer, "get_warnings", broken)
    existing = CorsPolicyFactory(name="existing", path_pattern="/old/**")
    with pytest.raises(RuntimeError):
        api_client.post(POLICIES, body(), format="json")
    with pytest.raises(RuntimeError):
        api_client.patch(f"{POLICIES}{existing.pk}/", {"path_pattern": "/new/**"}, format="json")
    assert list(CorsPolicy.objects.values_list("name", "path_pattern")) == [("existing", "/old/**")]
    assert not LogEntry.objects.exists()


def test_an_error_answer_after_a_write_rolls_the_write_back(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rest_framework.exceptions import ValidationError

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ValidationError({"detail": "refused after the write"})

    monkeypatch.setattr(history, "log_changes", refuse)
    policy = CorsPolicyFactory(name="kept", path_pattern="/kept/**")
    assert api_client.post(POLICIES, body(), format="json").status_code == 400
    assert api_client.patch(f"{POLICIES}{policy.pk}/", {"path_pattern": "/x/**"}, format="json").status_code == 400
    assert api_client.delete(f"{POLICIES}{policy.pk}/").status_code == 400
    assert list(CorsPolicy.objects.values_list("name", "path_pattern")) == [("kept", "/kept/**")]


# -- the admin ---------------------------------------------------------------------------------------


def admin_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "partners",
        "description": "",
        "path_pattern": "/api/**",
        "priority": "0",
        "enabled": "on",
        "allowed_origins": "https://app.example.com",
        "allowed_origin_regexes": "",
        "allowed_methods": ["GET", "PUT"],
        "other_methods": "",
        "allowed_headers": "Content-Type",
        "expose_headers": "",
        "max_age": "",
    }
    data.update(overrides)
    return data


def as_form_value(field: str, value: Any) -> Any:
    """The admin edits lists as text, one item per line (methods: checkboxes, others typed)."""
    if field == "allowed_methods":
        return {"other_methods": value[-1]}
    if isinstance(value, list):
        return {field: "\n".join(value)}
    return {field: value}


# Line breaks split the admin's list fields into items, so they are not refused there; a bare carriage return
# or tab inside an item still is.
ADMIN_REFUSED = [
    (field, char)
    for field in [*ONE_LINE_FIELDS, "description"]
    for char in SAMPLES
    if not 0xD800 <= ord(char) <= 0xDFFF  # a form post is UTF-8: it cannot carry a surrogate (tested below)
] + [(field, "\t") for field in ONE_LINE_FIELDS]


@pytest.mark.parametrize(("field", "char"), ADMIN_REFUSED, ids=ids(ADMIN_REFUSED))
def test_admin_refuses_what_is_not_text_at_its_field(admin_client: Client, field: str, char: str) -> None:
    response = admin_client.post(ADD_URL, admin_form(**as_form_value(field, with_char(field, char))))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    shown = "other_methods" if field == "allowed_methods" else field
    assert set(errors) == {shown}, errors
    assert_refused_at({shown: errors[shown]}, shown, char)
    assert not CorsPolicy.objects.exists()


@pytest.mark.parametrize(("field", "char"), [(f, c) for f in ONE_LINE_FIELDS for c in NOT_TEXT[:4:3]])
def test_admin_form_refuses_surrogates_with_the_apis_message(field: str, char: str) -> None:
    value = with_char(field, char)
    form = CorsPolicyForm(data=admin_form(**as_form_value(field, value)))
    assert not form.is_valid()
    shown = "other_methods" if field == "allowed_methods" else field
    assert set(form.errors) == {shown}
    assert form.errors[shown] == [text.problem(value[-1] if isinstance(value, list) else value)]


def test_admin_description_may_span_lines(admin_client: Client) -> None:
    response = admin_client.post(ADD_URL, admin_form(description="First line\r\nsecond\tline"))
    assert response.status_code == 302
    assert CorsPolicy.objects.get().description == "First line\r\nsecond\tline"
