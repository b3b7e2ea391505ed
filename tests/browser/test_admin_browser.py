"""The admin in a real browser: forms, the tester, actions, and a change reaching a cross-origin fetch."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from cors_policies.models import CorsPolicy
from tests.factories import CorsPolicyFactory

LIST_PATH = "/admin/cors_policies/corspolicy/"

FETCH = """async (url) => {
    try {
        const response = await fetch(url, {cache: "no-store"});
        return {ok: true, status: response.status, body: await response.text()};
    } catch (error) {
        return {ok: false, error: String(error)};
    }
}"""

#: The breadcrumbs bar's look: the same on the tester as on Django's own pages.
BREADCRUMBS_STYLE = """() => {
    const style = getComputedStyle(document.querySelector('.breadcrumbs'));
    return [style.backgroundColor, style.color, style.paddingLeft];
}"""


def submit(page: Any, selector: str) -> None:
    """Click a submit button and wait for the page it loads."""
    with page.expect_navigation():
        page.click(selector)


def texts(page: Any, selector: str) -> list[str]:
    return [" ".join(text.split()) for text in page.locator(selector).all_inner_texts()]


def header_rows(page: Any, container: str) -> list[tuple[str, str]]:
    rows = page.locator(f"{container} table.cors-headers tbody tr")
    return [(row.locator("th").inner_text(), row.locator("td code").inner_text()) for row in rows.all()]


def test_create_a_policy_with_the_error_at_the_origin_field(login: Callable[[], Any], live_server: Any) -> None:
    page = login()
    page.click("text=CORS policies")
    page.click("a.addlink")
    page.fill("#id_name", "partners")
    page.fill("#id_path_pattern", "/api/partners/**")
    page.fill("#id_allowed_origins", "https://partner.example.com/")
    page.check("#id_allowed_methods_3")  # PUT
    page.fill("#id_allowed_headers", "Content-Type, X-Token")
    submit(page, "input[name=_save]")

    errors = texts(page, ".form-row.field-allowed_origins ul.errorlist li")
    assert errors == [
        "'https://partner.example.com/' contains a path; an origin is only scheme://host[:port], so write "
        "https://partner.example.com (browsers send no trailing slash)."
    ]
    # Once on CI this read "the errors" (two fields): the message then says which others were in error.
    every_error = page.eval_on_selector_all(
        ".form-row.errors, fieldset .errors",
        "rows => rows.map(row => row.className + ': ' + row.innerText.replace(/\\s+/g, ' ').slice(0, 300))",
    )
    assert texts(page, "p.errornote") == ["Please correct the error below."], every_error
    assert not CorsPolicy.objects.exists()

    page.fill("#id_allowed_origins", "https://partner.example.com")
    submit(page, "input[name=_save]")

    assert texts(page, "ul.messagelist li.success")[0].startswith("The CORS policy “partners (/api/partners/**)”")
    policy = CorsPolicy.objects.get()
    assert policy.allowed_origins == ["https://partner.example.com"]
    assert policy.allowed_methods == ["PUT"]
    assert policy.allowed_headers == ["Content-Type", "X-Token"]
    assert policy.enabled is True


def test_tester_allowed_and_refused(login: Callable[[], Any], live_server: Any) -> None:
    CorsPolicyFactory(
        name="api",
        path_pattern="/api/**",
        allowed_origins=["https://app.example.com"],
        allowed_methods=["GET", "PUT"],
        allowed_headers=["X-Token"],
        max_age=600,
    )
    page = login()
    page.goto(live_server.url + LIST_PATH)
    page.click("a.cors-tester-link")
    page.fill("#id_origin", "https://app.example.com")
    page.fill("#id_method", "PUT")
    page.fill("#id_path", "/api/items/1")
    page.fill("#id_request_headers", "X-Token")
    page.check("#id_preflight")
    submit(page, "input[type=submit][value=Test]")

    assert texts(page, "#cors-verdict") == [
        "Allowed. The browser accepts this preflight and goes on to send the PUT request."
    ]
    assert page.locator("#cors-policy-link").inner_text() == "api"
    assert header_rows(page, "#cors-response") == [
        ("Access-Control-Allow-Origin", "https://app.example.com"),
        ("Access-Control-Allow-Methods", "GET, PUT"),
        ("Access-Control-Allow-Headers", "X-Token"),
        ("Access-Control-Max-Age", "600"),
        ("Vary", "Origin"),
    ]

    page.fill("#id_origin", "https://evil.example")
    page.fill("#id_method", "DELETE")
    submit(page, "input[type=submit][value=Test]")

    assert texts(page, "#cors-verdict") == [
        "Refused. The browser rejects this preflight and never sends the DELETE request."
    ]
    assert texts(page, "ul.cors-reasons li") == [
        "Origin https://evil.example is not allowed by policy 'api' (it allows https://app.example.com).",
        "Method DELETE is not in the allowed methods GET, PUT.",
    ]
    assert header_rows(page, "#cors-response") == [("Vary", "Origin")]


def test_disable_a_policy_with_the_action(login: Callable[[], Any], live_server: Any) -> None:
    keep = CorsPolicyFactory(name="keep", path_pattern="/keep")
    target = CorsPolicyFactory(name="target", path_pattern="/target")
    page = login()
    page.goto(live_server.url + LIST_PATH)
    page.check(f"input.action-select[value='{target.pk}']")
    page.select_option("select[name=action]", "disable_policies")
    submit(page, "button[name=index]")

    assert texts(page, "ul.messagelist li") == ["Disabled 1 policy."]
    row = page.locator("#result_list tbody tr", has=page.locator("th.field-name", has_text="target"))
    assert row.locator("td.field-precedence_rank").inner_text() == "off"
    target.refresh_from_db()
    keep.refresh_from_db()
    assert (target.enabled, keep.enabled) == (False, True)


def test_a_saved_change_reaches_the_next_cross_origin_fetch(
    login: Callable[[], Any], live_server: Any, browser: Any, settings: Any
) -> None:
    """Edit in the admin (on http://localhost:PORT), then fetch from a page on http://127.0.0.1:PORT."""
    # A long refresh interval: only the commit hook can make the new policy visible in time.
    settings.CORS_POLICIES = {"REFRESH_INTERVAL": 3600}
    port = urlsplit(live_server.url).port
    other_origin = f"http://127.0.0.1:{port}"
    api_url = f"http://localhost:{port}/health"
    policy = CorsPolicyFactory(
        name="health", path_pattern="/health", allowed_origins=["https://elsewhere.example"], allowed_methods=["GET"]
    )

    app = browser.new_page()  # a page of another origin, in its own context
    console: list[str] = []
    app.on("console", lambda message: console.append(message.text))
    app.goto(other_origin + "/")

    refused = app.evaluate(FETCH, api_url)
    assert refused == {"ok": False, "error": "TypeError: Failed to fetch"}
    assert any("has been blocked by CORS policy" in line for line in console), console

    admin = login()
    admin.goto(f"{live_server.url}{LIST_PATH}{policy.pk}/change/")
    admin.fill("#id_allowed_origins", other_origin)
    submit(admin, "input[name=_save]")
    assert texts(admin, "ul.messagelist li.success")[0].startswith("The CORS policy “health (/health)”")

    allowed = app.evaluate(FETCH, api_url)
    assert allowed == {"ok": True, "status": 200, "body": '{"status": "ok"}'}

    # And back: the very next fetch is refused again.
    admin.goto(f"{live_server.url}{LIST_PATH}{policy.pk}/change/")
    admin.uncheck("#id_enabled")
    submit(admin, "input[name=_save]")
    assert app.evaluate(FETCH, api_url)["ok"] is False
    app.close()


def test_tester_is_linked_prefilled_from_each_row(login: Callable[[], Any], live_server: Any) -> None:
    """And the tester's page looks like the admin's own on every Django: its breadcrumbs (div.breadcrumbs,
    which Django 6.1 no longer styles) have the list's colours, each checkbox sits beside its label."""
    CorsPolicyFactory(name="public", path_pattern="/api/public/**", allowed_origins=["*"])
    page = login()
    page.goto(live_server.url + LIST_PATH)
    list_breadcrumbs = page.evaluate(BREADCRUMBS_STYLE)
    with page.expect_navigation():
        page.locator("td.field-test_link a").click()
    assert page.evaluate(BREADCRUMBS_STYLE) == list_breadcrumbs
    checkbox = page.locator("#id_preflight").bounding_box()
    label = page.locator("label[for=id_preflight]").bounding_box()
    assert label["x"] >= checkbox["x"] + checkbox["width"]
    assert label["y"] < checkbox["y"] + checkbox["height"] and checkbox["y"] < label["y"] + label["height"]
    assert page.input_value("#id_origin") == "https://www.example.com"
    assert page.input_value("#id_path") == "/api/public/example"
    assert texts(page, "#cors-verdict") == ["Allowed. The browser lets the page read the response."]
    assert re.search(r"^curl -si http://localhost:\d+/api/public/example", page.inner_text("#cors-curl"))


def test_the_policy_list_fits_a_1280_pixel_window(
    login: Callable[[], Any], live_server: Any, page: Any, committed: Callable[[], Any]
) -> None:
    """The demo's policies and one more, as in the screenshots, with the navigation sidebar open as a new user
    sees it: every column is on screen, neither the page nor the table scrolls sideways, the filters stand in
    a bar above the table, and nothing lies over the row checkboxes and tester links (Playwright's click
    refuses an element that another one covers). Django 6 moved the filters into the form's flex row, which
    once made this list 1,743 px wide with its controls covered: admin.css handles both markups."""
    with committed():
        call_command("demo_setup", stdout=io.StringIO())
        CorsPolicyFactory(
            name="api-default",
            path_pattern="/api/**",
            allowed_origins=["https://*.example.com"],
            allowed_methods=["GET"],
            allow_credentials=True,
        )
    login()
    page.goto(live_server.url + LIST_PATH)
    assert page.viewport_size["width"] == 1280
    assert page.is_visible("#nav-sidebar")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    results = page.evaluate("(e => [e.scrollWidth, e.clientWidth])(document.querySelector('#changelist .results'))")
    assert results[0] <= results[1], results
    right = page.evaluate("document.querySelector('#result_list thead th:last-child').getBoundingClientRect().right")
    assert right <= 1280
    assert texts(page, "#result_list thead th .text")[1:3] == ["PRECEDENCE RANK", "NAME"]
    assert len(texts(page, "#result_list tbody tr")) == 8
    legend = page.locator("p.cors-legend").bounding_box()
    filters = page.locator("#changelist-filter").bounding_box()
    table = page.locator("#result_list").bounding_box()
    assert legend["y"] + legend["height"] <= filters["y"]
    assert filters["y"] + filters["height"] <= table["y"]
    assert legend["width"] == filters["width"] == table["width"]
    assert filters["x"] + filters["width"] <= 1280

    row = page.locator("#result_list tbody tr", has=page.locator("th.field-name", has_text="api-default"))
    row.locator("input.action-select").click()
    assert row.locator("input.action-select").is_checked()
    assert texts(page, ".actions .action-counter") == ["1 of 8 selected"]
    with page.expect_navigation():
        row.locator("td.field-test_link a").click()
    assert urlsplit(page.url).path == f"{LIST_PATH}test/"
    assert page.input_value("#id_path") == "/api/example"


def test_no_page_of_the_admin_tour_answers_an_error(
    login: Callable[[], Any], live_server: Any, page: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Nor the requests Chromium makes by itself: /favicon.ico is answered (the live server logs every 4xx)."""
    caplog.set_level(logging.WARNING, logger="django.request")
    failures: list[str] = []

    def note_failure(response: Any) -> None:
        if response.status >= 400:
            failures.append(f"{response.status} {response.url}")

    page.on("response", note_failure)
    policy = CorsPolicy.objects.create(name="api", path_pattern="/api/**", allowed_origins=["https://app.example.com"])
    login()
    tour = [
        "/",
        LIST_PATH,
        f"{LIST_PATH}{policy.pk}/change/",
        f"{LIST_PATH}test/",
        "/admin/cors_policies/observedorigin/",
    ]
    for path in tour:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    assert page.evaluate("fetch('/favicon.ico').then(response => response.status)") == 200
    assert failures == []
    assert [record.getMessage() for record in caplog.records if record.name == "django.request"] == []
