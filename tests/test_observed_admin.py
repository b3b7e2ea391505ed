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
from tests.helpers import OBSERVED_URL, POLICIES_URL, cells, change_url, form_data, shown_messages

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"
NEW = "https://new.example.com"
LIST_URL = OBSERVED_URL
INCLUDE = "admin/cors_policies/observedorigin/includes/policy_observed.html"


def allow_url(row: ObservedOrigin) -> str:
    return f"{LIST_URL}{row.pk}/allow/"


@pytest.fixture(autouse=True)
def _setup(settings: Any) -> Iterator[None]:
    settings.CORS_POLICIES = {**settings.CORS_POLICIES, "OBSERVE_FLUSH": "manual"}
    recorder.reset()
    yield
    recorder.reset()


@pytest.fixture
def api_policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
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
        self, admin_client: Client, api_policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        tight = make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
        seen(api_policy, APP, "allowed", "", count=12, ago=timedelta(hours=2))
        seen(api_policy, "https://evil.test", count=3, ago=timedelta(minutes=5))
        seen(api_policy, APP, "refused", "method", ago=timedelta(minutes=1))
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
        api_policy: CorsPolicy,
        make_policy: Callable[..., CorsPolicy],
        query: str,
        expected: list[str],
    ) -> None:
        tight = make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
        seen(api_policy, "https://a.example.com", "allowed", "")
        seen(api_policy, "https://b.example.com", "refused", "origin")
        seen(api_policy, "https://c.example.com", "refused", "method")
        seen(tight, "https://d.example.com", "refused", "headers", report_only=True, enforced_verdict="allowed")
        html = admin_client.get(f"{LIST_URL}?{query}").content.decode()
        assert re.findall(r'<td class="field-origin_shown">([^<]*)</td>', html) == expected

    def test_filter_by_policy(
        self, admin_client: Client, api_policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        other = make_policy(name="other", path_pattern="/other")
        seen(api_policy, "https://a.example.com")
        seen(other, "https://b.example.com")
        html = admin_client.get(f"{LIST_URL}?policy__id__exact={other.pk}").content.decode()
        assert re.findall(r'<td class="field-origin_shown">([^<]*)</td>', html) == ["https://b.example.com"]

    def test_rows_cannot_be_added_or_edited(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        row = seen(api_policy, APP)
        assert admin_client.get(f"{LIST_URL}add/").status_code == 403
        response = admin_client.post(f"{LIST_URL}{row.pk}/change/", {"origin": "https://forged.test"})
        assert response.status_code == 403
        row.refresh_from_db()
        assert row.origin == APP

    def test_policy_viewers_see_the_list_without_allowing(
        self, staff: Callable[..., Client], api_policy: CorsPolicy
    ) -> None:
        seen(api_policy, "https://evil.test")
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
    """Allowing is never one blind click: a confirmation page shows what the policy would answer and what the
    change would raise; confirming (a CSRF-protected POST) applies it."""

    def action(self, client: Client, rows: list[ObservedOrigin], **extra: str) -> Any:
        data = {"action": "allow_origins", "_selected_action": [row.pk for row in rows], **extra}
        return client.post(LIST_URL, data, follow=True)

    def test_the_action_shows_what_would_change_and_changes_nothing_yet(
        self, admin_client: Client, api_policy: CorsPolicy
    ) -> None:
        row = seen(api_policy, NEW)
        response = self.action(admin_client, [row])
        assert response.status_code == 200
        assert response.templates[0].name == "admin/cors_policies/observedorigin/allow_confirmation.html"
        (item,) = response.context["plans"]
        plan = item["plan"]
        assert [(c.origin, c.verdict.value) for c in plan.checks] == [(NEW, "confirm")]
        assert plan.new_warnings == [] and plan.errors == []
        assert [(p.title, p.decision.allowed, dict(p.decision.headers)) for p in plan.previews] == [
            ("Actual request", True, {"Access-Control-Allow-Origin": NEW}),
            (
                "Preflight for a PUT request",
                True,
                {
                    "Access-Control-Allow-Origin": NEW,
                    "Access-Control-Allow-Methods": "PUT",
                    "Access-Control-Allow-Headers": "X-Token, Content-Type",
                },
            ),
        ]
        html = response.content.decode()
        assert "<code>Access-Control-Allow-Origin</code></th><td><code>https://new.example.com</code>" in html
        assert 'name="confirm" value="yes"' in html and "csrfmiddlewaretoken" in html
        assert 'name="acknowledge"' not in html  # a plain https origin needs no acknowledgement
        assert CorsPolicy.objects.get().allowed_origins == [APP]
        assert not LogEntry.objects.exists()

    def test_confirming_adds_the_origin_and_the_next_request_is_allowed(
        self, admin_client: Client, api_policy: CorsPolicy, committed: Callable[[], Any]
    ) -> None:
        assert not Client().get("/t/echo", HTTP_ORIGIN=NEW).has_header("Access-Control-Allow-Origin")
        row = seen(api_policy, NEW)
        with committed():
            response = self.action(admin_client, [row], confirm="yes")
        assert shown_messages(response) == [
            ("success", "Allowed https://new.example.com in policy 'api'; every process applies it within 1.0 s.")
        ]
        api_policy.refresh_from_db()
        assert api_policy.allowed_origins == [APP, NEW]
        assert Client().get("/t/echo", HTTP_ORIGIN=NEW)["Access-Control-Allow-Origin"] == NEW
        entry = LogEntry.objects.get()
        assert (entry.object_id, entry.get_change_message()) == (str(api_policy.pk), "Changed Allowed origins.")

    def test_confirming_needs_the_csrf_token(self, admin_user: Any, api_policy: CorsPolicy) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user)
        row = seen(api_policy, NEW)
        assert client.post(allow_url(row), {"confirm": "yes"}).status_code == 403
        assert CorsPolicy.objects.get().allowed_origins == [APP]

    def test_several_rows_of_several_policies(
        self, admin_client: Client, api_policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        other = make_policy(name="other", path_pattern="/other", allowed_origins=[])
        rows = [
            seen(api_policy, NEW),
            seen(api_policy, NEW, reason="method"),
            seen(api_policy, "https://b.test"),
            seen(other, NEW),
        ]
        page = self.action(admin_client, rows)
        assert [[c.origin for c in item["plan"].checks] for item in page.context["plans"]] == [
            ["https://b.test", NEW],
            [NEW],
        ]
        response = self.action(admin_client, rows, confirm="yes")
        assert shown_messages(response) == [
            (
                "success",
                "Allowed https://b.test, https://new.example.com in policy 'api'; every process applies it "
                "within 1.0 s.",
            ),
            ("success", "Allowed https://new.example.com in policy 'other'; every process applies it within 1.0 s."),
        ]
        assert CorsPolicy.objects.get(pk=api_policy.pk).allowed_origins == [APP, "https://b.test", NEW]
        assert CorsPolicy.objects.get(pk=other.pk).allowed_origins == [NEW]

    def test_the_button_confirms_then_returns_to_the_list(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        row = seen(api_policy, NEW)
        back = f"http://testserver{LIST_URL}?q=new"
        page = admin_client.post(allow_url(row), HTTP_REFERER=back)
        assert page.status_code == 200
        assert f'name="next" value="{back}"' in page.content.decode()
        assert CorsPolicy.objects.get().allowed_origins == [APP]
        response = admin_client.post(allow_url(row), {"confirm": "yes", "next": back})
        assert (response.status_code, response["Location"]) == (302, back)
        assert CorsPolicy.objects.get().allowed_origins == [APP, NEW]

    def test_the_button_never_redirects_elsewhere(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        response = admin_client.post(
            allow_url(seen(api_policy, NEW)), {"confirm": "yes", "next": "https://evil.test/phish"}
        )
        assert response["Location"] == LIST_URL

    def test_the_button_needs_a_post(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        assert admin_client.get(allow_url(seen(api_policy, NEW))).status_code == 405
        assert CorsPolicy.objects.get().allowed_origins == [APP]

    def test_a_row_cleaned_up_meanwhile(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        row = seen(api_policy, NEW)
        url = allow_url(row)
        row.delete()
        response = admin_client.post(url, {"confirm": "yes"}, follow=True)
        assert shown_messages(response) == [
            ("warning", "That observed origin no longer exists (it may have been cleaned up).")
        ]

    def test_a_policy_deleted_meanwhile(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        row = seen(api_policy, NEW)
        CorsPolicy.objects.filter(pk=api_policy.pk)._raw_delete("default")  # its rows stay until cleaned up
        page = admin_client.post(allow_url(row))
        assert page.context["missing"] == [
            f"Policy {api_policy.pk} no longer exists; https://new.example.com not allowed."
        ]
        response = admin_client.post(allow_url(row), {"confirm": "yes"}, follow=True)
        assert shown_messages(response) == [
            ("error", f"Policy {api_policy.pk} no longer exists; https://new.example.com not allowed.")
        ]

    def test_an_origin_already_allowed(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        row = seen(api_policy, APP, reason="method")
        assert admin_client.post(allow_url(row)).context["can_apply"] is False
        response = admin_client.post(allow_url(row), {"confirm": "yes"}, follow=True)
        assert shown_messages(response) == [
            (
                "info",
                "https://app.example.com is already allowed by policy 'api': a refusal recorded since is for another "
                "reason (see the reason column).",
            )
        ]
        assert CorsPolicy.objects.get().allowed_origins == [APP]

    def test_a_report_only_policy_gets_the_origin(
        self, admin_client: Client, api_policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        tight = make_policy(name="tight", path_pattern="/t/**", allowed_origins=[], report_only=True)
        row = seen(tight, APP, report_only=True, enforced_verdict="allowed")
        response = admin_client.post(allow_url(row), {"confirm": "yes"}, follow=True)
        assert shown_messages(response) == [
            (
                "success",
                "Allowed https://app.example.com in report-only policy 'tight'; every process applies it within 1.0 s.",
            )
        ]
        assert CorsPolicy.objects.get(pk=tight.pk).allowed_origins == [APP]

    def test_validation_failure_is_explained_and_nothing_changes(
        self, admin_client: Client, api_policy: CorsPolicy
    ) -> None:
        CorsPolicy.objects.filter(pk=api_policy.pk).update(path_pattern="t/**")  # written around the validators
        row = seen(api_policy, NEW)
        expected = (
            "Path pattern: 't/**' must start with '/' (a path or glob, such as /t/**) or with '^' (a regular "
            "expression)."
        )
        page = admin_client.post(allow_url(row))
        assert page.context["plans"][0]["plan"].errors == [expected]
        assert page.context["can_apply"] is False
        response = admin_client.post(allow_url(row), {"confirm": "yes"}, follow=True)
        assert shown_messages(response) == [
            ("error", f"Could not allow https://new.example.com in policy 'api': {expected} Edit the policy to fix it.")
        ]
        assert CorsPolicy.objects.get().allowed_origins == [APP]
        assert not LogEntry.objects.exists()

    def test_rows_of_unrecorded_origins_cannot_be_allowed(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        response = self.action(admin_client, [seen(api_policy, "", count=9)], confirm="yes")
        assert shown_messages(response)[0] == (
            "warning",
            "Those rows count requests whose origin was not recorded: there is no origin to allow.",
        )
        assert CorsPolicy.objects.get().allowed_origins == [APP]


class TestAllowIsNeverOneClick:
    """What an attacker can make appear in Observed origins (null, plain http, anything the validators warn
    about) is never allowed by a click: null into a credentialed policy never, the rest only after an
    explicit acknowledgement of the warnings shown."""

    @pytest.fixture
    def credentialed(self, make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
        return make_policy(name="account", path_pattern="/t/**", allowed_origins=[APP], allow_credentials=True)

    def test_the_issues_null_attack_never_reaches_the_policy(
        self, admin_client: Client, credentialed: CorsPolicy, client: Client
    ) -> None:
        client.get("/t/echo", HTTP_ORIGIN="null")  # anyone can send it
        recorder.flush()
        row = ObservedOrigin.objects.get(origin="null")
        page = admin_client.post(allow_url(row))
        (check,) = page.context["plans"][0]["plan"].checks
        assert check.verdict.value == "never"
        assert check.reasons == (
            "null cannot be allowed in policy 'account', which allows credentials: any page can send Origin: null "
            "(a sandboxed iframe, a data: or file: document), so every site could read your users' data with their "
            "cookies. Serve the page that needs access from a real origin, such as https://app.example.com, and "
            "allow that.",
        )
        assert page.context["can_apply"] is False
        assert 'id="cors-allow-form"' not in page.content.decode()
        forced = admin_client.post(allow_url(row), {"confirm": "yes", "acknowledge": "yes"}, follow=True)
        assert shown_messages(forced) == [("error", check.reasons[0])]
        assert CorsPolicy.objects.get().allowed_origins == [APP]

    @pytest.mark.parametrize(
        ("origin", "credentials", "reason", "warning"),
        [
            (
                "null",
                False,
                "null is sent by any sandboxed iframe or data: document: anyone can send it, so allowing it lets every "
                "site read these responses (without cookies).",
                "null_origin",
            ),
            (
                "http://app.example.com",
                True,
                "http://app.example.com is plain http and policy 'p' allows credentials: anyone on the network path "
                "(public Wi-Fi, a proxy) can inject a script into that page and read your users' data with their "
                "cookies. Allow https://app.example.com instead if the page is served over https.",
                "http_with_credentials",
            ),
            (
                "http://localhost:3000",
                True,
                "http://localhost:3000 is plain http on this machine and policy 'p' allows credentials: fine for "
                "development, never in production.",
                None,
            ),
        ],
    )
    def test_risky_origins_need_an_explicit_acknowledgement(
        self,
        admin_client: Client,
        make_policy: Callable[..., CorsPolicy],
        origin: str,
        credentials: bool,
        reason: str,
        warning: str | None,
    ) -> None:
        policy = make_policy(name="p", path_pattern="/t/**", allowed_origins=[APP], allow_credentials=credentials)
        row = seen(policy, origin)
        page = admin_client.post(allow_url(row))
        plan = page.context["plans"][0]["plan"]
        (check,) = plan.checks
        assert (check.verdict.value, check.reasons) == ("acknowledge", (reason,))
        assert [w.code for w in plan.new_warnings] == ([warning] if warning else [])
        html = page.content.decode()
        assert 'name="acknowledge" value="yes"' in html and "required" in html
        assert reason.split(":")[0] in html.replace("&#x27;", "'")

        refused = admin_client.post(allow_url(row), {"confirm": "yes"})
        assert refused.status_code == 200  # the page again, saying why nothing changed
        assert refused.context["unacknowledged"] is True
        assert CorsPolicy.objects.get().allowed_origins == [APP]

        done = admin_client.post(allow_url(row), {"confirm": "yes", "acknowledge": "yes"}, follow=True)
        assert done.status_code == 200
        assert CorsPolicy.objects.get().allowed_origins == [APP, origin]

    def test_a_safe_origin_beside_null_is_allowed_and_null_is_not(
        self, admin_client: Client, credentialed: CorsPolicy
    ) -> None:
        rows = [seen(credentialed, "null"), seen(credentialed, NEW)]
        response = admin_client.post(
            LIST_URL,
            {"action": "allow_origins", "_selected_action": [r.pk for r in rows], "confirm": "yes"},
            follow=True,
        )
        levels = [level for level, _ in shown_messages(response)]
        assert levels == ["error", "success"]
        assert CorsPolicy.objects.get().allowed_origins == [APP, NEW]

    def test_the_service_checks_again_when_it_writes(self, credentialed: CorsPolicy) -> None:
        """Confirmed on a page showing a policy without credentials, applied to one that has them since."""
        from cors_policies import allow

        outcome = allow.apply(credentialed.pk, ["http://app.example.com"], acknowledged=False, user=None)
        assert outcome.needs_acknowledgement is True
        assert outcome.applied == []
        assert CorsPolicy.objects.get().allowed_origins == [APP]


# ==================================================================================================
# The policy pages
# ==================================================================================================


class TestPolicyPages:
    def test_change_page_lists_the_top_recent_origins(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        seen(api_policy, APP, "allowed", "", count=40)
        seen(api_policy, "https://b.test", count=2)
        seen(api_policy, "https://a.test", count=9)
        seen(api_policy, "https://c.test", reason="method", count=5)
        seen(api_policy, "https://old.test", count=99, ago=timedelta(days=8))
        response = admin_client.get(change_url(api_policy))
        observed = response.context["cors_observed"]
        assert [(title, [(row.origin, row.count) for row in rows]) for title, rows, _ in observed["columns"]] == [
            ("Allowed", [(APP, 40)]),
            ("Refused", [("https://a.test", 9), ("https://c.test", 5), ("https://b.test", 2)]),
        ]
        assert observed["list_url"] == f"{LIST_URL}?policy__id__exact={api_policy.pk}"
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
        self, admin_client: Client, api_policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
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
        self, admin_client: Client, api_policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
    ) -> None:
        make_policy(name="tight", path_pattern="/t/**", priority=100, report_only=True)
        html = admin_client.get(POLICIES_URL).content.decode()
        assert re.findall(r'<th class="field-name"><a href="[^"]*">([^<]*)</a></th>', html) == ["api", "tight"]
        assert cells(html, "precedence_rank") == ["1", "report-only"]

    def test_report_only_can_be_set_in_the_form(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        html = admin_client.get(change_url(api_policy)).content.decode()
        assert report_only_checkbox(html) == '<input type="checkbox" id="id_report_only">'

    def test_saving_the_form_with_report_only(self, admin_client: Client) -> None:
        response = admin_client.post(f"{POLICIES_URL}add/", form_data(name="tight", report_only="on"))
        assert response.status_code == 302
        assert CorsPolicy.objects.get(name="tight").report_only is True

    def test_deleting_a_policy_neither_lists_nor_needs_its_observed_origins(
        self, staff: Callable[..., Client], api_policy: CorsPolicy
    ) -> None:
        for n in range(3):
            seen(api_policy, f"https://o{n}.test")
        client = staff("view_corspolicy", "delete_corspolicy")
        confirm = client.get(f"{POLICIES_URL}{api_policy.pk}/delete/")
        assert confirm.status_code == 200
        content = confirm.content.decode()
        main = content[content.index('id="content"') :]  # Django 4.2's admin has no <main>
        assert "Observed origin" not in main  # neither listed nor in the summary
        assert "<li>CORS policies: 1</li>" in main
        response = client.post(f"{POLICIES_URL}{api_policy.pk}/delete/", {"post": "yes"})
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
    def test_the_list_shows_them_and_says_how_many(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        seen(api_policy, "", count=1234)
        seen(api_policy, "", verdict="allowed", reason="", count=6)
        seen(api_policy, "", reason="headers", count=1000, ago=timedelta(days=8))  # older than the week counted
        seen(api_policy, NEW)
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

    def test_no_message_without_them(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        seen(api_policy, NEW)
        assert shown_messages(admin_client.get(LIST_URL)) == []

    def test_the_policy_page_counts_them_per_verdict(self, admin_client: Client, api_policy: CorsPolicy) -> None:
        seen(api_policy, "", count=77)
        seen(api_policy, "", reason="method", count=3)
        seen(api_policy, NEW, count=5)
        observed = admin_client.get(change_url(api_policy)).context["cors_observed"]
        assert [(title, [row.origin for row in rows], dropped) for title, rows, dropped in observed["columns"]] == [
            ("Allowed", [], 0),
            ("Refused", [NEW], 80),
        ]
        html = render_to_string(INCLUDE, {"cors_observed": observed})
        assert "And 80 requests whose origin was not recorded" in html
