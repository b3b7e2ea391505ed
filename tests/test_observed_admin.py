"""The admin of observed origins: the list, "allow this origin in its policy", the policy page's summary,
and what report-only policies look like in the policy list."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from cors_policies.models import CorsPolicy, ObservedOrigin
from cors_policies.observed import recorder

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"
NEW = "https://new.example.com"
LIST_URL = "/admin/cors_policies/observedorigin/"
POLICIES_URL = "/admin/cors_policies/corspolicy/"
INCLUDE = "admin/cors_policies/observedorigin/includes/policy_observed.html"


def allow_url(row: ObservedOrigin) -> str:
    return f"{LIST_URL}{row.pk}/allow/"


def change_url(policy: CorsPolicy) -> str:
    return f"{POLICIES_URL}{policy.pk}/change/"


def cells(html: str, column: str) -> list[str]:
    return re.findall(rf'<td class="field-{column}">(.*?)</td>', html, re.DOTALL)


def shown_messages(response: Any) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in response.context["messages"]]


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_FLUSH": "manual"}
    recorder.reset()
    yield
    recorder.reset()


@pytest.fixture
def api(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(name="api", path_pattern="/t/**", allowed_origins=[APP], allowed_methods=["PUT"])


def seen(
    policy: CorsPolicy, origin: str, verdict: str = "refused", reason: str = "origin", **fields: Any
) -> ObservedOrigin:
    ago = fields.pop("ago", timedelta(minutes=1))
    when = timezone.now() - ago
    fields.setdefault("count", 1)
    return ObservedOrigin.objects.create(
        policy=policy, origin=origin, verdict=verdict, reason=reason, first_seen=when, last_seen=when, **fields
    )


@pytest.fixture
def staff(django_user_model: Any) -> Callable[..., Client]:
    """A logged-in staff client with exactly these permissions (codenames)."""

    def make(*codenames: str) -> Client:
        user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        client = Client()
        client.force_login(user)
        return client

    return make


# ==================================================================================================
# The list
# ==================================================================================================


class TestList:
    def test_rows_newest_first_with_their_verdict_and_reason(
        self, admin_client: Client, api: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        tight = make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
        seen(api, APP, "allowed", "", count=12, ago=timedelta(hours=2))
        seen(api, "https://evil.test", count=3, ago=timedelta(minutes=5))
        seen(api, APP, "refused", "method", ago=timedelta(minutes=1))
        seen(tight, APP, report_only=True, enforced_verdict="allowed", ago=timedelta(seconds=5))
        html = admin_client.get(LIST_URL).content.decode()
        assert re.findall(r'<td class="field-origin_shown">([^<]*)</td>', html) == [
            APP,
            APP,
            "https://evil.test",
            APP,
        ]
        assert cells(html, "verdict_shown") == [
            "would be refused (served: allowed)",
            "refused",
            "refused",
            "allowed",
        ]
        assert cells(html, "reason_shown") == [
            "origin not allowed",
            "method not allowed",
            "origin not allowed",
            "allowed",
        ]
        assert cells(html, "count") == ["1", "1", "3", "12"]
        assert f'<a href="{change_url(tight)}">tight</a> (report-only)' in html
        buttons = re.findall(r'formaction="([^"]*)"', html)
        assert buttons == [
            allow_url(ObservedOrigin.objects.get(policy=tight)),
            allow_url(ObservedOrigin.objects.get(origin="https://evil.test")),
        ]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("verdict__exact=allowed", ["https://a.example.com"]),
            ("reason=origin", ["https://b.example.com"]),
            ("reason=method", ["https://c.example.com"]),
            ("reason=allowed", ["https://a.example.com"]),
            ("report_only__exact=1", ["https://d.example.com"]),
            ("q=b.example", ["https://b.example.com"]),
        ],
    )
    def test_filters_and_search(
        self,
        admin_client: Client,
        api: CorsPolicy,
        make_policy: Callable[..., CorsPolicy],
        query: str,
        expected: list[str],
    ) -> None:
        tight = make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
        seen(api, "https://a.example.com", "allowed", "")
        seen(api, "https://b.example.com", "refused", "origin")
        seen(api, "https://c.example.com", "refused", "method")
        seen(tight, "https://d.example.com", "refused", "headers", report_only=True, enforced_verdict="allowed")
        html = admin_client.get(f"{LIST_URL}?{query}").content.decode()
        assert re.findall(r'<td class="field-origin_shown">([^<]*)</td>', html) == expected

    def test_filter_by_policy(
        self, admin_client: Client, api: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        other = make_policy(name="other", path_pattern="/other")
        seen(api, "https://a.example.com")
        seen(other, "https://b.example.com")
        html = admin_client.get(f"{LIST_URL}?policy__id__exact={other.pk}").content.decode()
        assert re.findall(r'<td class="field-origin_shown">([^<]*)</td>', html) == ["https://b.example.com"]

    def test_rows_cannot_be_added_or_edited(self, admin_client: Client, api: CorsPolicy) -> None:
        row = seen(api, APP)
        assert admin_client.get(f"{LIST_URL}add/").status_code == 403
        response = admin_client.post(f"{LIST_URL}{row.pk}/change/", {"origin": "https://forged.test"})
        assert response.status_code == 403
        row.refresh_from_db()
        assert row.origin == APP

    def test_policy_viewers_see_the_list_without_allowing(self, staff: Callable[..., Client], api: CorsPolicy) -> None:
        seen(api, "https://evil.test")
        client = staff("view_corspolicy")
        html = client.get(LIST_URL).content.decode()
        assert re.findall(r'<td class="field-origin_shown">([^<]*)</td>', html) == ["https://evil.test"]
        assert "formaction" not in html
        assert 'value="allow_origins"' not in html
        row = ObservedOrigin.objects.get()
        assert client.post(allow_url(row)).status_code == 403
        assert CorsPolicy.objects.get().allowed_origins == [APP]

    def test_users_without_policy_permissions_see_nothing(self, staff: Callable[..., Client]) -> None:
        assert staff().get(LIST_URL).status_code == 403


# ==================================================================================================
# Allowing an origin
# ==================================================================================================


class TestAllow:
    def test_the_action_adds_the_origin_and_the_next_request_is_allowed(
        self, admin_client: Client, api: CorsPolicy, committed: Callable[[], Any]
    ) -> None:
        assert not Client().get("/t/echo", HTTP_ORIGIN=NEW).has_header("Access-Control-Allow-Origin")
        row = seen(api, NEW)
        with committed():
            response = admin_client.post(
                LIST_URL, {"action": "allow_origins", "_selected_action": [row.pk]}, follow=True
            )
        assert shown_messages(response) == [
            ("success", "Allowed https://new.example.com in policy 'api'; every process applies it within 1.0 s.")
        ]
        api.refresh_from_db()
        assert api.allowed_origins == [APP, NEW]
        assert Client().get("/t/echo", HTTP_ORIGIN=NEW)["Access-Control-Allow-Origin"] == NEW
        entry = LogEntry.objects.get()
        assert (entry.object_id, entry.get_change_message()) == (str(api.pk), "Changed Allowed origins.")

    def test_several_rows_of_several_policies(
        self, admin_client: Client, api: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        other = make_policy(name="other", path_pattern="/other", allowed_origins=[])
        rows = [seen(api, NEW), seen(api, NEW, reason="method"), seen(api, "https://b.test"), seen(other, NEW)]
        response = admin_client.post(
            LIST_URL, {"action": "allow_origins", "_selected_action": [row.pk for row in rows]}, follow=True
        )
        assert shown_messages(response) == [
            (
                "success",
                "Allowed https://b.test, https://new.example.com in policy 'api'; every process applies it "
                "within 1.0 s.",
            ),
            ("success", "Allowed https://new.example.com in policy 'other'; every process applies it within 1.0 s."),
        ]
        assert CorsPolicy.objects.get(pk=api.pk).allowed_origins == [APP, "https://b.test", NEW]
        assert CorsPolicy.objects.get(pk=other.pk).allowed_origins == [NEW]

    def test_one_click_from_the_list_returns_to_it(self, admin_client: Client, api: CorsPolicy) -> None:
        row = seen(api, NEW)
        back = f"http://testserver{LIST_URL}?q=new"
        response = admin_client.post(allow_url(row), HTTP_REFERER=back)
        assert (response.status_code, response["Location"]) == (302, back)
        assert CorsPolicy.objects.get().allowed_origins == [APP, NEW]

    def test_one_click_never_redirects_elsewhere(self, admin_client: Client, api: CorsPolicy) -> None:
        response = admin_client.post(allow_url(seen(api, NEW)), HTTP_REFERER="https://evil.test/phish")
        assert response["Location"] == LIST_URL

    def test_one_click_needs_a_post(self, admin_client: Client, api: CorsPolicy) -> None:
        assert admin_client.get(allow_url(seen(api, NEW))).status_code == 405
        assert CorsPolicy.objects.get().allowed_origins == [APP]

    def test_a_row_cleaned_up_meanwhile(self, admin_client: Client, api: CorsPolicy) -> None:
        row = seen(api, NEW)
        url = allow_url(row)
        row.delete()
        response = admin_client.post(url, follow=True)
        assert shown_messages(response) == [
            ("warning", "That observed origin no longer exists (it may have been cleaned up).")
        ]

    def test_a_policy_deleted_meanwhile(self, admin_client: Client, api: CorsPolicy) -> None:
        row = seen(api, NEW)
        CorsPolicy.objects.filter(pk=api.pk)._raw_delete("default")  # its rows stay until cleaned up
        response = admin_client.post(allow_url(row), follow=True)
        assert shown_messages(response) == [
            ("error", f"Policy {api.pk} no longer exists; https://new.example.com not allowed.")
        ]

    def test_an_origin_already_allowed(self, admin_client: Client, api: CorsPolicy) -> None:
        response = admin_client.post(allow_url(seen(api, APP, reason="method")), follow=True)
        assert shown_messages(response) == [
            (
                "info",
                "https://app.example.com is already allowed by policy 'api': a refusal recorded since is for another "
                "reason (see the reason column).",
            )
        ]
        assert CorsPolicy.objects.get().allowed_origins == [APP]

    def test_a_report_only_policy_gets_the_origin(
        self, admin_client: Client, api: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        tight = make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
        row = seen(tight, APP, report_only=True, enforced_verdict="allowed")
        response = admin_client.post(allow_url(row), follow=True)
        assert shown_messages(response) == [
            (
                "success",
                "Allowed https://app.example.com in report-only policy 'tight'; every process applies it within 1.0 s.",
            )
        ]
        assert CorsPolicy.objects.get(pk=tight.pk).allowed_origins == [APP]

    def test_validation_failure_is_explained_and_nothing_changes(self, admin_client: Client, api: CorsPolicy) -> None:
        CorsPolicy.objects.filter(pk=api.pk).update(path_pattern="t/**")  # written around the validators
        response = admin_client.post(allow_url(seen(api, NEW)), follow=True)
        assert shown_messages(response) == [
            (
                "error",
                "Could not allow https://new.example.com in policy 'api': Path pattern: 't/**' must start with '/' "
                "(a path or glob, such as /t/**) or with '^' (a regular expression). Edit the policy to fix it.",
            )
        ]
        assert CorsPolicy.objects.get().allowed_origins == [APP]
        assert not LogEntry.objects.exists()


# ==================================================================================================
# The policy pages
# ==================================================================================================


class TestPolicyPages:
    def test_change_page_lists_the_top_recent_origins(self, admin_client: Client, api: CorsPolicy) -> None:
        seen(api, APP, "allowed", "", count=40)
        seen(api, "https://b.test", count=2)
        seen(api, "https://a.test", count=9)
        seen(api, "https://c.test", reason="method", count=5)
        seen(api, "https://old.test", count=99, ago=timedelta(days=8))
        response = admin_client.get(change_url(api))
        observed = response.context["cors_observed"]
        assert [(title, [(row.origin, row.count) for row in rows]) for title, rows, _ in observed["columns"]] == [
            ("Allowed", [(APP, 40)]),
            ("Refused", [("https://a.test", 9), ("https://c.test", 5), ("https://b.test", 2)]),
        ]
        assert observed["list_url"] == f"{LIST_URL}?policy__id__exact={api.pk}"
        html = render_to_string(INCLUDE, {"cors_observed": observed})
        assert "Observed origins (last 7 days)" in html
        assert re.findall(r"<td><code>([^<]*)</code></td>\s*<td>([^<]*)</td>\s*<td>(\d+)</td>", html) == [
            (APP, "allowed", "40"),
            ("https://a.test", "origin not allowed", "9"),
            ("https://c.test", "method not allowed", "5"),
            ("https://b.test", "origin not allowed", "2"),
        ]
        a, b = (ObservedOrigin.objects.get(origin=origin) for origin in ("https://a.test", "https://b.test"))
        assert re.findall(r'formaction="([^"]*)"', html) == [allow_url(a), allow_url(b)]

    def test_report_only_policy_page(
        self, admin_client: Client, api: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        tight = make_policy(name="tight", path_pattern="/t/**", allowed_origins=[NEW], report_only=True)
        seen(tight, APP, report_only=True, enforced_verdict="allowed")
        response = admin_client.get(change_url(tight))
        assert response.status_code == 200
        observed = response.context["cors_observed"]
        assert [(title, [row.origin for row in rows]) for title, rows, _ in observed["columns"]] == [
            ("Would allow (refused today)", []),
            ("Would refuse (allowed today)", [APP]),
        ]
        assert "This policy is report-only: it never answers." in render_to_string(INCLUDE, {"cors_observed": observed})
        # previewed as it would answer once enforced
        assert response.context["cors_preview"].origin == NEW
        assert response.context["cors_shadows"] == []
        assert report_only_checkbox(response.content.decode()) == '<input type="checkbox" id="id_report_only" checked>'

    def test_report_only_policies_show_in_the_policy_list(
        self, admin_client: Client, api: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        make_policy(name="tight", path_pattern="/t/**", priority=100, report_only=True)
        html = admin_client.get(POLICIES_URL).content.decode()
        assert re.findall(r'<th class="field-name"><a href="[^"]*">([^<]*)</a></th>', html) == ["api", "tight"]
        assert cells(html, "precedence_rank") == ["1", "report-only"]

    def test_report_only_can_be_set_in_the_form(self, admin_client: Client, api: CorsPolicy) -> None:
        html = admin_client.get(change_url(api)).content.decode()
        assert report_only_checkbox(html) == '<input type="checkbox" id="id_report_only">'

    def test_saving_the_form_with_report_only(self, admin_client: Client) -> None:
        from tests.test_admin import form_data

        response = admin_client.post(f"{POLICIES_URL}add/", form_data(name="tight", report_only="on"))
        assert response.status_code == 302
        assert CorsPolicy.objects.get(name="tight").report_only is True

    def test_deleting_a_policy_neither_lists_nor_needs_its_observed_origins(
        self, staff: Callable[..., Client], api: CorsPolicy
    ) -> None:
        for n in range(3):
            seen(api, f"https://o{n}.test")
        client = staff("view_corspolicy", "delete_corspolicy")
        confirm = client.get(f"{POLICIES_URL}{api.pk}/delete/")
        assert confirm.status_code == 200
        content = confirm.content.decode()
        main = content[content.index('id="content"') :]  # Django 4.2's admin has no <main>
        assert "Observed origin" not in main  # neither listed nor in the summary
        assert "<li>CORS policies: 1</li>" in main
        response = client.post(f"{POLICIES_URL}{api.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert not CorsPolicy.objects.exists()
        assert not ObservedOrigin.objects.exists()


def report_only_checkbox(html: str) -> str:
    """The report_only checkbox, without the name and the help-text link (which Django renders from 5.0)."""
    [tag] = re.findall(r'<input type="checkbox" name="report_only"[^>]*>', html)
    tag = tag.replace(' name="report_only"', "").replace(' aria-describedby="id_report_only_helptext"', "")
    assert 'id="id_report_only"' in tag
    return tag


# ==================================================================================================
# Requests counted without their origin (no room left in an interval)
# ==================================================================================================


class TestNotRecorded:
    def test_the_list_shows_them_and_says_how_many(self, admin_client: Client, api: CorsPolicy) -> None:
        seen(api, "", count=1234)
        seen(api, "", verdict="allowed", reason="", count=6)
        seen(api, "", reason="headers", count=1000, ago=timedelta(days=8))  # older than the week counted
        seen(api, NEW)
        response = admin_client.get(LIST_URL)
        html = response.content.decode()
        not_recorded = '<em class="cors-not-recorded">origins not recorded (no room left)</em>'
        assert cells(html, "origin_shown") == [NEW, not_recorded, not_recorded, not_recorded]  # newest first
        assert html.count('class="button cors-allow"') == 1  # only the real origin can be allowed
        assert shown_messages(response) == [
            (
                "warning",
                "1,240 requests of the last 7 days were counted without their origin (the rows reading “origins not "
                "recorded (no room left)”): in some interval a policy saw more distinct origins of one verdict than "
                "OBSERVE_MAX_KEYS_PER_POLICY, or a verdict more than OBSERVE_MAX_KEYS. Origins seen more than once "
                "kept their place; if this is real traffic rather than a flood, raise those settings.",
            )
        ]

    def test_no_message_without_them(self, admin_client: Client, api: CorsPolicy) -> None:
        seen(api, NEW)
        assert shown_messages(admin_client.get(LIST_URL)) == []

    def test_the_policy_page_counts_them_per_verdict(self, admin_client: Client, api: CorsPolicy) -> None:
        seen(api, "", count=77)
        seen(api, "", reason="method", count=3)
        seen(api, NEW, count=5)
        observed = admin_client.get(change_url(api)).context["cors_observed"]
        assert [(title, [row.origin for row in rows], dropped) for title, rows, dropped in observed["columns"]] == [
            ("Allowed", [], 0),
            ("Refused", [NEW], 80),
        ]
        html = render_to_string(INCLUDE, {"cors_observed": observed})
        assert "And 80 requests whose origin was not recorded" in html
