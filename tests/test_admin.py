"""The admin: list, form, actions, change page, permissions. The tester has its own module."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import django
import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.utils.html import escape

from cors_policies.admin import copy_name
from cors_policies.cache import read_db_version, snapshot
from cors_policies.models import CorsPolicy
from cors_policies.validators import STAR_WITH_CREDENTIALS
from tests.helpers import (
    ADD_URL,
    POLICIES_URL,
    TESTER_URL,
    cells,
    change_url,
    form_data,
    headers_in,
    row_names,
    shown_messages,
)

pytestmark = pytest.mark.django_db

LIST_URL = POLICIES_URL


@pytest.fixture
def viewer(django_user_model: Any) -> Any:
    """Staff with only the view permission on policies."""
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_corspolicy"))
    return user


@pytest.fixture
def viewer_client(client: Client, viewer: Any) -> Client:
    client.force_login(viewer)
    return client


def test_system_checks_pass() -> None:
    """``manage.py check`` (and so migrate, runserver) must accept the ModelAdmin."""
    out = io.StringIO()
    call_command("check", stdout=out)
    assert "System check identified no issues" in out.getvalue()


# -- changelist ------------------------------------------------------------------------------------


def test_changelist_lists_policies_in_precedence_order(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(name="catch-all", path_pattern="/**")
    make_policy(name="legacy", path_pattern="^/api/")
    make_policy(name="api", path_pattern="/api/**")
    make_policy(name="health", path_pattern="/health")
    make_policy(name="items", path_pattern="/api/items/*")
    make_policy(name="off", path_pattern="/api/items/*", enabled=False, priority=3)
    make_policy(name="urgent", path_pattern="/api/**", priority=5)

    response = admin_client.get(LIST_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert row_names(html) == ["urgent", "off", "health", "items", "api", "catch-all", "legacy"]
    # The rank counts only the policies that apply: a disabled one says so.
    assert cells(html, "precedence_rank") == ["1", "off", "2", "3", "4", "5", "6"]
    assert "Rows are listed in precedence order." in html
    # The header marks "#" as the sort column (not the model's Meta.ordering columns).
    assert re.findall(r'class="sortable column-(\w+) sorted (\w+)"', html) == [("precedence_rank", "ascending")]
    resorted = admin_client.get(LIST_URL, {"o": "-2"}).content.decode()  # by name (column 2), descending
    assert row_names(resorted) == ["urgent", "off", "legacy", "items", "health", "catch-all", "api"]
    assert re.findall(r'class="sortable column-(\w+) sorted (\w+)"', resorted) == [("name", "descending")]


def test_changelist_marks_an_enabled_policy_that_does_not_compile(
    admin_client: Client, make_policy: Callable[..., Any]
) -> None:
    make_policy(name="fine", path_pattern="/fine")
    broken = make_policy(name="broken", path_pattern="/broken")
    CorsPolicy.objects.filter(pk=broken.pk).update(path_pattern="broken")  # bypasses validation, as raw SQL would
    html = admin_client.get(LIST_URL).content.decode()
    assert row_names(html) == ["fine", "broken"]
    assert cells(html, "precedence_rank") == ["1", "skipped"]


def test_changelist_columns(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(
        name="many",
        path_pattern="/api/**",
        allowed_origins=["https://a.example.com", "https://b.example.com", "https://c.example.com"],
        allowed_origin_regexes=[r"https://pr-\d+\.example\.com", r"https://x\.example\.com"],
        allowed_methods=["GET", "PUT"],
        allow_credentials=True,
    )
    make_policy(name="bare", path_pattern="/bare", allowed_origins=[], allowed_methods=[])

    html = admin_client.get(LIST_URL).content.decode()

    assert row_names(html) == ["bare", "many"]
    assert cells(html, "origins_short") == [
        "none",
        "https://a.example.com, https://b.example.com, +1 more, 2 regexes",
    ]
    assert cells(html, "methods_short") == ["(safelisted only)", "GET, PUT"]
    assert cells(html, "path_pattern") == ["/bare", "/api/**"]
    assert [re.search(r'alt="(True|False)"', cell).group(1) for cell in cells(html, "allow_credentials")] == [  # type: ignore[union-attr]
        "False",
        "True",
    ]
    for heading in ("Precedence rank", "Name", "Path pattern", "Origins", "Methods", "Allow credentials", "Priority"):
        assert f">{heading}</a>" in html or f"<span>{heading}</span>" in html, heading
    assert "column-enabled" not in html  # the rank says "off" for a disabled policy
    assert "Updated at" in html


def test_changelist_with_no_policies(admin_client: Client) -> None:
    response = admin_client.get(LIST_URL)
    assert response.status_code == 200
    assert row_names(response.content.decode()) == []


def test_changelist_links_the_tester_and_a_prefilled_test_per_row(
    admin_client: Client, make_policy: Callable[..., Any]
) -> None:
    make_policy(name="w", path_pattern="/api/*/items/**", allowed_origins=["https://*.example.com:8443"])
    html = admin_client.get(LIST_URL).content.decode()
    assert f'<a href="{TESTER_URL}" class="cors-tester-link">Test a request</a>' in html
    assert cells(html, "test_link") == [
        f'<a href="{TESTER_URL}?origin=https%3A%2F%2Fwww.example.com%3A8443&amp;method=GET'
        '&amp;path=%2Fapi%2Fexample%2Fitems%2Fexample">Test</a>'
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("partner", ["partners"]),  # name
        ("/internal", ["internal"]),  # path pattern
        ("localhost:3000", ["internal"]),  # an origin inside the JSON list
        ("PARTNER.EXAMPLE", ["partners"]),  # case-insensitive
        (r"pr-\d", ["partners"]),  # an origin regex
        ("partner.example.com /api", ["partners"]),  # every word must match somewhere
        ("nowhere.test", []),
        ('"https://partner.example.com"', ["partners"]),  # a quoted phrase
    ],
)
def test_search_covers_name_path_and_origins(
    admin_client: Client, make_policy: Callable[..., Any], query: str, expected: list[str]
) -> None:
    make_policy(
        name="partners",
        path_pattern="/api/**",
        allowed_origins=["https://partner.example.com"],
        allowed_origin_regexes=[r"https://pr-\d+\.example\.com"],
    )
    make_policy(name="internal", path_pattern="/internal/**", allowed_origins=["http://localhost:3000"])
    response = admin_client.get(LIST_URL, {"q": query})
    assert response.status_code == 200
    assert row_names(response.content.decode()) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"enabled__exact": "0"}, ["off"]),
        ({"enabled__exact": "1"}, ["creds", "pna", "watch"]),
        ({"allow_credentials__exact": "1"}, ["creds"]),
        ({"allow_private_network__exact": "1"}, ["pna"]),
        ({"report_only__exact": "1"}, ["watch"]),
        ({"report_only__exact": "0"}, ["creds", "off", "pna"]),
    ],
)
def test_filters(
    admin_client: Client, make_policy: Callable[..., Any], params: dict[str, str], expected: list[str]
) -> None:
    make_policy(name="off", path_pattern="/off", enabled=False)
    make_policy(name="creds", path_pattern="/creds", allow_credentials=True)
    make_policy(name="pna", path_pattern="/pna", allow_private_network=True)
    make_policy(name="watch", path_pattern="/watch", report_only=True)
    html = admin_client.get(LIST_URL, params).content.decode()
    assert sorted(row_names(html)) == expected


@pytest.mark.skipif(django.VERSION < (5, 0), reason="admin facets are new in Django 5.0")
def test_filter_counts(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(name="off", path_pattern="/off", enabled=False)
    make_policy(name="creds", path_pattern="/creds", allow_credentials=True)
    make_policy(name="pna", path_pattern="/pna", allow_private_network=True)
    html = admin_client.get(LIST_URL, {"_facets": "True"}).content.decode()
    counts = re.findall(r'<a href="\?[^"]*enabled__exact=(\d)[^"]*">\s*(\w+) \((\d+)\)', html)
    assert counts == [("1", "Yes", "2"), ("0", "No", "1")]
    assert row_names(html) == ["off", "creds", "pna"]  # literals of equal priority: oldest first


# -- the form ----------------------------------------------------------------------------------------


def test_add_policy_maps_text_to_lists(admin_client: Client) -> None:
    response = admin_client.post(
        ADD_URL,
        form_data(
            allowed_origins="HTTPS://App.Example.com:443\r\n\r\n  http://localhost:3000  \r\n",
            allowed_origin_regexes=r"https://pr-\d+\.example\.com",
            allowed_methods=["PUT", "GET", "*"],
            other_methods="PROPFIND, patch\nMKCOL",
            allowed_headers="Content-Type, X-Token\nAuthorization",
            expose_headers="X-Total-Count",
            allow_credentials="on",
            max_age="600",
            allow_private_network="on",
        ),
    )

    assert response.status_code == 302
    policy = CorsPolicy.objects.get(name="partners")
    assert policy.allowed_origins == ["https://app.example.com", "http://localhost:3000"]
    assert policy.allowed_origin_regexes == [r"https://pr-\d+\.example\.com"]
    assert policy.allowed_methods == ["GET", "PUT", "*", "PROPFIND", "patch", "MKCOL"]
    assert policy.allowed_headers == ["Content-Type", "X-Token", "Authorization"]
    assert policy.expose_headers == ["X-Total-Count"]
    assert policy.allow_credentials is True
    assert policy.max_age == 600
    assert policy.allow_private_network is True
    assert LogEntry.objects.get(object_id=str(policy.pk)).get_change_message() == "Added."


def test_change_form_shows_lists_as_lines_and_methods_as_checkboxes(
    admin_client: Client, make_policy: Callable[..., Any]
) -> None:
    policy = make_policy(
        allowed_origins=["https://app.example.com", "null"],
        allowed_methods=["GET", "PROPFIND", "PUT", "patch"],
        allowed_headers=["X-Token", "Content-Type"],
    )
    response = admin_client.get(change_url(policy))
    form = response.context["adminform"].form
    assert form.initial["allowed_methods"] == ["GET", "PUT"]
    assert form.initial["other_methods"] == "PROPFIND, patch"
    html = response.content.decode()
    assert '<textarea name="allowed_origins"' in html
    assert "https://app.example.com\nnull</textarea>" in html
    assert "X-Token\nContent-Type</textarea>" in html
    assert 'value="GET" class="cors-methods" id="id_allowed_methods_0" checked' in html
    assert 'value="HEAD" class="cors-methods" id="id_allowed_methods_1">' in html
    assert 'name="other_methods" value="PROPFIND, patch"' in html


def test_saving_an_unchanged_form_keeps_the_policy(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(
        allowed_origins=["https://app.example.com", "null"],
        allowed_methods=["GET", "PUT", "PROPFIND"],
        allowed_headers=["X-Token", "Content-Type"],
    )
    before = policy.to_spec()
    form = admin_client.get(change_url(policy)).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: value for key, value in data.items() if value is not None and value is not False}
    data = {key: ("on" if value is True else value) for key, value in data.items()}
    data["_save"] = "Save"

    response = admin_client.post(change_url(policy), data)

    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.to_spec() == before
    assert LogEntry.objects.get(object_id=str(policy.pk)).get_change_message() == "No fields changed."


def test_authorization_note_sits_next_to_allowed_headers(admin_client: Client) -> None:
    html = admin_client.get(ADD_URL).content.decode()
    row = html[
        html.index('class="form-row field-allowed_headers"') : html.index('class="form-row field-expose_headers"')
    ]
    assert '<strong class="cors-note"><code>*</code> never covers Authorization; list it explicitly.</strong>' in row


def field_errors(response: Any) -> dict[str, list[str]]:
    form = response.context["adminform"].form
    return {name: list(messages) for name, messages in form.errors.items()}


def assert_error_at_field(response: Any, field: str, message: str) -> None:
    """The message is in the form's errors for ``field`` and rendered inside that field's row."""
    assert message in field_errors(response)[field]
    html = response.content.decode()
    # The row's classes differ between Django versions ("form-row errors field-x" up to 6.0, the errors
    # class on an inner element from 6.1): find the row by its field class, whatever else it carries.
    found = re.search(rf'<div class="form-row[^"]* field-{field}(?=[ "])', html)
    assert found, f"no form row for {field}"
    row = html[found.start() : html.index('<div class="form-row', found.end())]
    assert escape(message) in row


def test_bad_origin_message_is_the_validators_at_its_field(admin_client: Client) -> None:
    response = admin_client.post(ADD_URL, form_data(allowed_origins="https://app.example.com/\nexample.com"))
    assert response.status_code == 200
    assert field_errors(response) == {
        "allowed_origins": [
            "'https://app.example.com/' contains a path; an origin is only scheme://host[:port], so write "
            "https://app.example.com (browsers send no trailing slash).",
            "'example.com' has no scheme; write the full origin, such as https://example.com.",
        ]
    }
    assert_error_at_field(
        response, "allowed_origins", "'example.com' has no scheme; write the full origin, such as https://example.com."
    )
    assert not CorsPolicy.objects.exists()


def test_star_with_credentials_is_refused_at_allowed_origins(admin_client: Client) -> None:
    response = admin_client.post(ADD_URL, form_data(allowed_origins="*", allow_credentials="on"))
    assert response.status_code == 200
    assert field_errors(response) == {"allowed_origins": [STAR_WITH_CREDENTIALS]}
    assert_error_at_field(response, "allowed_origins", STAR_WITH_CREDENTIALS)


def test_star_not_alone(admin_client: Client) -> None:
    response = admin_client.post(ADD_URL, form_data(allowed_origins="*\nhttps://app.example.com"))
    assert field_errors(response) == {
        "allowed_origins": [
            "'*' already allows every origin; remove the other entries, or remove '*' to allow only those listed."
        ]
    }


def test_each_bad_field_shows_its_own_message(admin_client: Client) -> None:
    response = admin_client.post(
        ADD_URL,
        form_data(
            path_pattern="/api/v*/x",
            allowed_origin_regexes="(unclosed",
            other_methods="GET:POST",
            allowed_headers="X Token",
            expose_headers="X-Total: 3",
            max_age="-1",
        ),
    )
    errors = field_errors(response)
    assert set(errors) == {
        "path_pattern",
        "allowed_origin_regexes",
        "other_methods",
        "allowed_headers",
        "expose_headers",
        "max_age",
    }
    assert errors["path_pattern"] == [
        "'/api/v*/x' has '*' inside the segment 'v*'; '*' and '**' must be whole segments (such as "
        "/api/*/items or /api/**), or write a regular expression starting with '^'."
    ]
    assert errors["allowed_origin_regexes"][0].startswith("'(unclosed' is not a valid regular expression (")
    assert errors["other_methods"] == [
        "'GET:POST' is not a valid method: use letters, digits and -, without spaces, commas or colons "
        "(one method per entry, such as \"PUT\"), or '*' for any."
    ]
    assert errors["allowed_headers"] == [
        "'X Token' is not a valid header name: use letters, digits and -, without spaces, commas or colons "
        "(one header name per entry, such as \"X-Requested-With\"), or '*' for any."
    ]
    assert errors["expose_headers"] == [
        "'X-Total: 3' is not a valid header name: use letters, digits and -, without spaces, commas or colons "
        "(one header name per entry, such as \"X-Requested-With\"), or '*' for any."
    ]
    assert errors["max_age"] == ["Max age is a number of seconds, 0 or more; leave it empty to send no header."]
    for field, messages in errors.items():
        assert_error_at_field(response, field, messages[0])


def test_duplicate_name_is_refused(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(name="partners")
    response = admin_client.post(ADD_URL, form_data())
    assert field_errors(response) == {"name": ["CORS policy with this Name already exists."]}


# -- change page: preview and shadows ------------------------------------------------------------------


def preview_html(response: Any) -> str:
    html = response.content.decode()
    return html[html.index('id="cors-preview"') : html.index("</fieldset>", html.index('id="cors-preview"'))]


def test_change_page_previews_the_saved_policys_headers(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(
        name="profile",
        path_pattern="/api/profile/**",
        allowed_origins=["http://localhost:3000", "https://*.example.com"],
        allowed_methods=["GET", "PUT"],
        allowed_headers=["Content-Type", "X-CSRFToken"],
        expose_headers=["X-Total-Count"],
        allow_credentials=True,
        max_age=600,
    )
    response = admin_client.get(change_url(policy))
    html = preview_html(response)
    preflight, actual = html.split('<div class="cors-sample">')[1:]

    assert "<h3>Preflight for a PUT request</h3>" in preflight
    assert (
        '<pre class="cors-request">OPTIONS /api/profile/example\nOrigin: http://localhost:3000\n'
        "Access-Control-Request-Method: PUT\nAccess-Control-Request-Headers: content-type,x-csrftoken\n</pre>"
    ) in preflight
    assert headers_in(preflight) == [
        ("Access-Control-Allow-Origin", "http://localhost:3000"),
        ("Access-Control-Allow-Methods", "GET, PUT"),
        ("Access-Control-Allow-Headers", "Content-Type, X-CSRFToken"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Max-Age", "600"),
        ("Vary", "Origin"),
    ]
    assert '<pre class="cors-request">GET /api/profile/example\nOrigin: http://localhost:3000\n</pre>' in actual
    assert headers_in(actual) == [
        ("Access-Control-Allow-Origin", "http://localhost:3000"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Expose-Headers", "X-Total-Count"),
        ("Vary", "Origin"),
    ]
    assert "(merged with the view's own Vary)" in actual


def test_preview_ignores_unsaved_edits(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(name="p", path_pattern="/p", allowed_origins=["https://app.example.com"])
    response = admin_client.post(change_url(policy), form_data(name="p", path_pattern="p"))
    assert response.status_code == 200  # invalid: shown again with the error
    assert "OPTIONS /p\nOrigin: https://app.example.com" in preview_html(response)


def test_preview_says_when_no_origin_is_listed(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(allowed_origins=[], allowed_origin_regexes=[r"https://.*\.example\.com"])
    html = preview_html(admin_client.get(change_url(policy)))
    assert "This policy lists no origin to build a sample request from" in html
    assert "<table" not in html


def test_preview_of_a_policy_that_does_not_compile(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(name="broken")
    CorsPolicy.objects.filter(pk=policy.pk).update(path_pattern="api/**")  # bypasses validation, as raw SQL would
    html = preview_html(admin_client.get(change_url(policy)))
    assert f"policy {policy.pk} &#x27;broken&#x27; skipped: &#x27;api/**&#x27; must start with" in html


def warnings_in(response: Any) -> list[str]:
    return re.findall(r'<li class="warning cors-[a-z]+">(.*?)</li>', response.content.decode())


def test_change_page_warns_about_shadowing_policies(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    api = make_policy(name="api", path_pattern="/api/**")
    make_policy(name="items", path_pattern="/api/items/*")
    make_policy(name="everything", path_pattern="/**", priority=10)
    make_policy(name="legacy", path_pattern="^/api/", priority=5)
    make_policy(name="disabled", path_pattern="/api/**", priority=50, enabled=False)
    make_policy(name="other", path_pattern="/other/**", priority=99)

    assert warnings_in(admin_client.get(change_url(api))) == [
        escape(
            "Policy 'everything' (/**, priority 10) takes precedence on every path this policy matches, so this "
            "policy never applies. Why: higher priority (10 > 0)."
        ),
        escape(
            "Policy 'legacy' (^/api/, priority 5) takes precedence on some paths this policy matches, such as "
            "/api/example (a regular expression is involved: checked on sample paths only). Why: higher priority "
            "(5 > 0)."
        ),
        escape(
            "Policy 'items' (/api/items/*, priority 0) takes precedence on the paths matching /api/items/*. "
            "Why: more literal segments (2 > 1)."
        ),
    ]


def test_change_page_of_a_disabled_policy_says_so(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(enabled=False)
    assert warnings_in(admin_client.get(change_url(policy))) == [
        "This policy is disabled: it applies to no request until it is enabled."
    ]


def test_change_page_links_a_prefilled_tester(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(path_pattern="/health", allowed_origins=["*"])
    html = admin_client.get(change_url(policy)).content.decode()
    assert (
        f'<a href="{TESTER_URL}?origin=https%3A%2F%2Fwww.example.com&amp;method=GET&amp;path=%2Fhealth" '
        'class="cors-tester-link">Test a request</a>'
    ) in html


def test_add_page_has_no_preview(admin_client: Client) -> None:
    html = admin_client.get(ADD_URL).content.decode()
    assert 'id="cors-preview"' not in html
    assert "cors-tester-link" not in html


def test_missing_policy_redirects_like_the_admin_does(admin_client: Client) -> None:
    response = admin_client.get("/admin/cors_policies/corspolicy/999/change/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


# -- actions ---------------------------------------------------------------------------------------


def run_action(client: Client, action: str, *policies: CorsPolicy) -> Any:
    return client.post(
        LIST_URL, {"action": action, "_selected_action": [str(p.pk) for p in policies], "index": "0"}, follow=True
    )


def test_disable_action_updates_logs_and_invalidates(
    admin_client: Client,
    make_policy: Callable[..., Any],
    committed: Callable[[], Any],
    clock: Any,
) -> None:
    first = make_policy(name="first", path_pattern="/t/**")
    second = make_policy(name="second", path_pattern="/other")
    already = make_policy(name="already", path_pattern="/x", enabled=False)
    served = snapshot.get()
    assert served is not None
    assert [p.name for p in served.policies] == ["second", "first"]
    version = read_db_version()

    with committed():
        response = run_action(admin_client, "disable_policies", first, second, already)

    assert response.status_code == 200
    assert shown_messages(response) == [("success", "Disabled 2 policies.")]
    assert list(CorsPolicy.objects.filter(enabled=True)) == []
    assert read_db_version() == version + 1
    # The clock has not moved: only the commit hook can make the snapshot reload.
    after = snapshot.get()
    assert after is not None
    assert len(after) == 0
    changes = {e.object_id: e.get_change_message() for e in LogEntry.objects.all()}
    assert changes == {str(first.pk): "Changed Enabled.", str(second.pk): "Changed Enabled."}
    assert already.pk not in {int(pk) for pk in changes}
    # And the middleware, on the very next request, no longer answers for the path.
    preflight = Client().options(
        "/t/echo", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT"
    )
    assert "Access-Control-Allow-Origin" not in preflight


def test_enable_action(
    admin_client: Client, make_policy: Callable[..., Any], committed: Callable[[], Any], clock: Any
) -> None:
    policy = make_policy(name="later", path_pattern="/t/**", enabled=False)
    before = policy.updated_at
    assert snapshot.get() is not None
    with committed():
        response = run_action(admin_client, "enable_policies", policy)
    assert shown_messages(response) == [("success", "Enabled 1 policy.")]
    policy.refresh_from_db()
    assert policy.enabled is True
    assert policy.updated_at > before
    preflight = Client().options(
        "/t/echo", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT"
    )
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_action_on_policies_already_in_that_state(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy()
    version = read_db_version()
    response = run_action(admin_client, "enable_policies", policy)
    assert shown_messages(response) == [("info", "The selected policies were already enabled.")]
    assert read_db_version() == version
    assert not LogEntry.objects.exists()
    response = run_action(admin_client, "disable_policies", make_policy(enabled=False))
    assert shown_messages(response) == [("info", "The selected policies were already disabled.")]


def test_duplicate_action_creates_disabled_copies_with_unique_names(
    admin_client: Client, make_policy: Callable[..., Any], committed: Callable[[], Any]
) -> None:
    original = make_policy(
        name="public",
        description="Anyone may read.",
        path_pattern="/api/public/**",
        priority=3,
        allowed_origins=["*"],
        max_age=600,
        expose_headers=["X-Total-Count"],
    )
    make_policy(name="public (copy)", path_pattern="/elsewhere")
    other = make_policy(name="other")
    version = read_db_version()

    with committed():
        response = run_action(admin_client, "duplicate_policies", original, other)

    assert shown_messages(response) == [
        ("success", "Created 2 disabled policies: 'public (copy 2)', 'other (copy)'. Enable them when ready.")
    ]
    copy = CorsPolicy.objects.get(name="public (copy 2)")
    assert copy.enabled is False
    assert copy.description == "Anyone may read."
    assert copy.to_spec() == original.to_spec().__class__(
        **{**original.to_spec().__dict__, "id": copy.pk, "name": copy.name}
    )
    assert CorsPolicy.objects.get(name="other (copy)").enabled is False
    assert read_db_version() > version
    assert {e.object_repr: e.get_change_message() for e in LogEntry.objects.all()} == {
        str(copy): "Added.",
        str(CorsPolicy.objects.get(name="other (copy)")): "Added.",
    }

    with committed():
        response = run_action(admin_client, "duplicate_policies", original)
    assert shown_messages(response) == [
        ("success", "Created 1 disabled policy: 'public (copy 3)'. Enable them when ready.")
    ]


def test_copy_name_stays_within_the_column() -> None:
    assert copy_name("a", set()) == "a (copy)"
    assert copy_name("a", {"a (copy)", "a (copy 2)"}) == "a (copy 3)"
    long = "x" * 200
    assert copy_name(long, set()) == "x" * 193 + " (copy)"
    assert len(copy_name(long, {"x" * 193 + " (copy)"})) == 200


# -- permissions -------------------------------------------------------------------------------------


def test_view_only_staff_can_see_but_not_change(viewer_client: Client, make_policy: Callable[..., Any]) -> None:
    policy = make_policy(name="p", allowed_methods=["GET", "PROPFIND"])

    listing = viewer_client.get(LIST_URL)
    assert listing.status_code == 200
    html = listing.content.decode()
    assert row_names(html) == ["p"]
    assert 'name="action"' not in html  # no action is offered
    assert "Test a request" in html
    assert "addlink" not in html

    page = viewer_client.get(change_url(policy))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert "field-other_methods" not in html  # an input only: the stored list shows under allowed methods
    assert '<div class="readonly">[&quot;GET&quot;, &quot;PROPFIND&quot;]</div>' in html
    assert 'id="cors-preview"' in html

    assert viewer_client.post(change_url(policy), form_data(name="renamed")).status_code == 403
    assert viewer_client.get(ADD_URL).status_code == 403
    assert viewer_client.post(ADD_URL, form_data()).status_code == 403
    assert viewer_client.get(f"/admin/cors_policies/corspolicy/{policy.pk}/delete/").status_code == 403

    # An action posted anyway is not run.
    response = viewer_client.post(
        LIST_URL, {"action": "disable_policies", "_selected_action": [str(policy.pk)], "index": "0"}
    )
    assert response.status_code == 200
    policy.refresh_from_db()
    assert policy.enabled is True
    assert policy.name == "p"


def test_view_only_staff_can_use_the_tester(viewer_client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(path_pattern="/t/**")
    response = viewer_client.get(TESTER_URL, {"origin": "https://app.example.com", "method": "GET", "path": "/t/echo"})
    assert response.status_code == 200
    assert response.context["decision"].allowed is True


def test_staff_without_permission_gets_403(client: Client, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(TESTER_URL).status_code == 403
    assert client.get(LIST_URL).status_code == 403


def test_anonymous_is_sent_to_the_login(client: Client) -> None:
    response = client.get(TESTER_URL)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={TESTER_URL}"


def test_change_permission_without_add_offers_no_duplicate(
    client: Client, django_user_model: Any, make_policy: Callable[..., Any]
) -> None:
    make_policy()  # the action bar shows only over a non-empty list
    user = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_corspolicy", "change_corspolicy"]))
    client.force_login(user)
    html = client.get(LIST_URL).content.decode()
    assert '<option value="disable_policies">Disable selected policies</option>' in html
    assert '<option value="enable_policies">Enable selected policies</option>' in html
    assert "duplicate_policies" not in html
    assert "delete_selected" not in html


# -- as a new user reads them: the rank column and the preview's note -----------------------------------


def test_the_rank_column_says_it_is_the_precedence_rank(admin_client: Client, make_policy: Callable[..., Any]) -> None:
    make_policy(name="api", path_pattern="/api/**")
    html = admin_client.get(LIST_URL).content.decode()
    header = re.search(r'<th scope="col" class="[^"]*column-precedence_rank[^"]*">(.*?)</th>', html, re.DOTALL)
    assert header is not None
    assert re.search(r'<div class="text"><a [^>]*href="[^"]*">Precedence rank</a></div>', header[1])
    legend = " ".join(html[html.index('<p class="cors-legend">') :].split("</p>")[0].split())
    assert "the enabled policy with the lowest <strong>precedence rank</strong> whose pattern matches" in legend
    assert "Disabled policies (rank <em>off</em>) apply nowhere" in legend


def preview_note(html: str) -> str:
    return " ".join(html.split('<p class="cors-preview-note">')[1].split("</p>")[0].split())


def test_the_preview_points_to_warnings_only_when_there_are_some(
    admin_client: Client, make_policy: Callable[..., Any]
) -> None:
    broad = make_policy(name="api", path_pattern="/api/**", allowed_origins=["https://app.example.com"])
    html = admin_client.get(change_url(broad)).content.decode()
    assert 'class="warning cors-shadow"' not in html
    assert preview_note(preview_html_of(html)) == (
        "Computed by the engine from the saved policy alone, for requests from <code>https://app.example.com</code>. "
        "Unsaved changes are not shown."
    )

    make_policy(name="items", path_pattern="/api/items/**", allowed_origins=["https://app.example.com"])
    html = admin_client.get(change_url(broad)).content.decode()
    assert 'class="warning cors-shadow"' in html
    assert "another policy takes precedence: see the warnings above." in preview_note(preview_html_of(html))


def preview_html_of(html: str) -> str:
    return html[html.index('id="cors-preview"') : html.index("</fieldset>", html.index('id="cors-preview"'))]
