"""docs/demo.md and docs/admin.md: the demo's endpoints, policies, printed addresses and screenshots are the
ones that exist."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from testproject.demo.management.commands.demo_setup import DEMO_POLICIES, address_lines, own_origins
from tests.docs_pages import DOCS, ROOT, code_blocks, images, page, section, shell_examples
from tests.test_docs_command_line import run_command, with_real_ids

DEMO = page("demo.md")
ADMIN = page("admin.md")


def test_the_lines_the_demo_prints_are_the_ones_shown() -> None:
    [commands, printed] = code_blocks(section(DEMO, "# The demo and the playground").split("\n## ")[0])
    assert commands == "python3 scripts/demo.py\n"
    assert printed.splitlines() == address_lines("127.0.0.1", 8000)


def test_every_demo_policy_is_listed_with_its_own_origins() -> None:
    text = section(DEMO, "## The demo policies")
    listed = re.findall(r"^- \*\*([\w-]+)\*\* — ", text, re.M)
    assert listed == [spec["name"] for spec in DEMO_POLICIES]
    assert own_origins(8000)["profile"] == ["http://localhost:8000", "http://127.0.0.1:3000", "http://localhost:3000"]
    assert "only `http://localhost:8000` (the demo's own origin: see\n  below), `http://127.0.0.1:3000` and" in text
    assert "`python manage.py demo_setup 127.0.0.1:8001`" in text


@pytest.mark.urls("testproject.urls")  # the demo's
def test_the_endpoint_table_names_routes_that_exist() -> None:
    from django.urls import resolve

    text = section(DEMO, "## What it serves")
    paths = re.findall(r"^\| (?:[A-Z, `]+ |any method on )?`?(/[\w/<>.-]*)`", text, re.M)
    assert len(paths) == 9
    for path in paths:
        concrete = path.replace("<id>", "1").replace("<path>", "x")
        assert resolve(concrete) is not None, path


@pytest.mark.urls("testproject.urls")  # the demo's
def test_the_playground_section_names_what_exists() -> None:
    text = section(DEMO, "## The playground")
    for image in re.findall(r"\(screenshots/([\w-]+\.png)\)", text):
        assert (DOCS / "screenshots" / image).is_file(), image
    assert "`CORS playground: http://127.0.0.1:8000/playground/`" in text
    assert "CORS playground: http://127.0.0.1:8000/playground/" in address_lines("127.0.0.1", 8000)[1]
    assert "**Send it from a real browser in the CORS playground**" in text
    tester = ROOT / "cors_policies" / "templates" / "admin" / "cors_policies" / "corspolicy" / "tester.html"
    assert ">Send it from a real browser in the CORS playground</a>" in tester.read_text()
    assert "a URL named `cors-playground`" in text
    assert reverse("cors-playground") == "/playground/"
    for name in ("echo", "echo-auth", "public-api"):
        assert f"**{name}**" in text or f"`{name}`" in text
        assert any(spec["name"] == name for spec in DEMO_POLICIES)
    for module in ("test_cors_matrix.py", "test_playground.py"):
        assert f"tests/browser/{module}" in text
        assert (ROOT / "tests" / "browser" / module).is_file()


def test_the_admin_page_shows_the_screenshots_that_exist() -> None:
    assert images(ADMIN) == [
        "screenshots/changelist.png",
        "screenshots/change-form.png",
        "screenshots/tester.png",
        "screenshots/tester-refused.png",
    ]
    for image in images(ADMIN):
        assert (DOCS / image).is_file(), image
    assert "TODO" not in ADMIN


def test_the_admin_page_describes_the_list_columns_there_are() -> None:
    from cors_policies.admin import CorsPolicyAdmin

    text = " ".join(section(ADMIN, "## The policy list").split())
    assert (
        'Columns: precedence rank, name, path pattern, origins (the first two, then "+N more"), methods, '
        "credentials, priority, last update, and a **Test** link"
    ) in text
    assert list(CorsPolicyAdmin.list_display) == [
        "precedence_rank",
        "name",
        "path_pattern",
        "origins_short",
        "methods_short",
        "allow_credentials",
        "priority",
        "updated_at",
        "test_link",
    ]
    assert "Filters, in a bar above the list: enabled, report-only, credentials, private network." in text
    assert list(CorsPolicyAdmin.list_filter) == ["enabled", "report_only", "allow_credentials", "allow_private_network"]


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")
def test_the_websocket_paragraph_runs_on_the_demo(committed: Any) -> None:
    """docs/demo.md: the demo has no WebSocket set-up, and its ``cors_explain --websocket`` example is exact."""
    text = section(DEMO, "### WebSocket handshakes")
    assert "channels" not in (ROOT / "testproject" / "asgi.py").read_text().lower()
    call_command("demo_setup", stdout=io.StringIO())
    examples = shell_examples(text)
    assert [command.split()[2:4] for command, _ in examples] == [["cors_explain", "--websocket"]]
    for command, expected in examples:
        with committed():
            assert run_command(command) == with_real_ids(expected), command
