"""docs/command-line.md, docs/tutorial.md and docs/migrating.md: every command shown is run, and its output
compared with the page's."""

from __future__ import annotations

import ast
import io
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from cors_policies.models import CorsPolicy
from tests.docs_pages import code_blocks, page, section, shell_examples


def run_command(command: str) -> str:
    """Run ``python manage.py ...`` in-process: its standard output, or "CommandError: ..." as the shell shows."""
    words = shlex.split(command)
    assert words[:2] == ["python", "manage.py"], command
    out = io.StringIO()
    try:
        call_command(*words[2:], stdout=out)
    except CommandError as exc:
        return out.getvalue() + f"CommandError: {exc}\n"
    return out.getvalue()


def with_real_ids(expected: str) -> str:
    """Policy ids on the pages are the demo's (1, 2, 3...); a test database may number them otherwise."""
    ids = dict(CorsPolicy.objects.values_list("name", "id"))
    return re.sub(r"^Policy: (\S+) \(id \d+\)$", lambda m: f"Policy: {m[1]} (id {ids[m[1]]})", expected, flags=re.M)


# -- Command line ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")  # the examples run on the demo's policies
def test_command_line_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, committed: Any) -> None:
    call_command("demo_setup", stdout=io.StringIO())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text(
        '{"policies": [{"name": "bad", "path_pattern": "api/**", "allowed_origins": ["https://partner.example/"]}]}'
    )
    (tmp_path / "broken.json").write_text('{"policies": [\n')
    examples = shell_examples(page("command-line.md"))
    assert [command.split()[2] for command, _ in examples] == ["cors_explain"] * 3 + ["cors_export"] + [
        "cors_apply"
    ] * 5
    for command, expected in examples:
        if (
            command.startswith("python manage.py cors_apply policies.json")
            and "partners" not in (tmp_path / "policies.json").read_text()
        ):
            # The edit the page describes: health gets "max_age": 300, and a partners policy is added.
            document = json.loads((tmp_path / "policies.json").read_text())
            [health] = [policy for policy in document["policies"] if policy["name"] == "health"]
            health["max_age"] = 300
            document["policies"].append(
                {
                    "name": "partners",
                    "path_pattern": "/api/partners/**",
                    "allowed_origins": ["https://partner.example"],
                    "allowed_methods": ["GET", "POST"],
                    "allow_credentials": True,
                }
            )
            (tmp_path / "policies.json").write_text(json.dumps(document))
        with committed():
            output = run_command(command)
        assert output == with_real_ids(expected), command


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")
def test_origin_policy_examples(committed: Any) -> None:
    """docs/origin-policy.md: ``cors_explain --websocket`` on the demo's policies."""
    call_command("demo_setup", stdout=io.StringIO())
    examples = shell_examples(page("origin-policy.md"))
    assert [command.split()[2:4] for command, _ in examples] == [["cors_explain", "--websocket"]] * 2
    for command, expected in examples:
        with committed():
            output = run_command(command)
        assert output == with_real_ids(expected), command


def test_check_ids_named_exist() -> None:
    from cors_policies import checks
    from cors_policies.conf import SETTINGS

    source = Path(checks.__file__).read_text()
    declared = {setting.check_id for setting in SETTINGS}
    text = page("command-line.md") + page("migrating.md") + page("settings.md")
    named = set(re.findall(r"cors_policies\.([EW]\d{3})", text))
    assert named
    for check_id in named:
        assert f'id="cors_policies.{check_id}"' in source or f"cors_policies.{check_id}" in declared, check_id


# -- Tutorial ----------------------------------------------------------------------------------------

TUTORIAL = page("tutorial.md")


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")  # the tutorial is the demo's
def test_the_tutorials_policy_is_made_in_the_admin_form_and_ranks_first(admin_client: Client, committed: Any) -> None:
    """The form filled as the table says; the list then shows it at precedence rank 1."""
    from tests.helpers import ADD_URL, POLICIES_URL, cells, form_data, row_names

    call_command("demo_setup", stdout=io.StringIO())
    table = section(TUTORIAL, "## 2. Your first policy")
    values = dict(re.findall(r"^\| (\w[\w ]*) \| `([^`]+)` \|$", table, re.M))
    assert values == {
        "Name": "my-health",
        "Path pattern": "/health",
        "Priority": "10",
        "Allowed origins": "http://localhost:8000",
        "Allowed methods": "GET",
    }
    data = form_data(
        name=values["Name"],
        path_pattern=values["Path pattern"],
        priority=values["Priority"],
        allowed_origins=values["Allowed origins"],
        allowed_methods=[values["Allowed methods"]],
        allowed_headers="",
        expose_headers="",
        allow_credentials="",
        max_age="",
    )
    with committed():
        response = admin_client.post(ADD_URL, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    html = admin_client.get(POLICIES_URL).content.decode()
    assert "The list now shows `my-health` with precedence rank `1`" in " ".join(table.split())
    assert dict(zip(row_names(html), cells(html, "precedence_rank"), strict=True))["my-health"] == "1"


@pytest.mark.django_db
@pytest.mark.usefixtures("demo")  # the tutorial is the demo's
def test_the_tutorials_call_refusal_and_fix(committed: Any) -> None:
    with committed():
        call_command("demo_setup", stdout=io.StringIO())
        CorsPolicy.objects.create(
            name="my-health",
            path_pattern="/health",
            priority=10,
            allowed_origins=["http://localhost:8000"],
            allowed_methods=["GET"],
        )

    # 3. The curl example: the status line and the CORS headers, in the order the server sends them.
    [(command, expected)] = shell_examples(section(TUTORIAL, "## 3. Your first cross-origin call"), "sh")
    assert command == (
        'curl -si -H "Origin: http://localhost:8000" http://127.0.0.1:8000/health '
        "| grep -E '^HTTP|^Access-Control|^Vary'"
    )
    response = Client().get("/health", HTTP_ORIGIN="http://localhost:8000")
    shown = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"] + [
        f"{name}: {value}" for name, value in response.items() if name.startswith("Access-Control") or name == "Vary"
    ]
    assert shown == expected.splitlines()

    # 4. cors_explain before and after X-Debug is allowed.
    examples = shell_examples(section(TUTORIAL, "## 4. Your first refusal, explained"))
    assert len(examples) == 2
    for number, (command, expected) in enumerate(examples):
        if number == 1:
            with committed():
                policy = CorsPolicy.objects.get(name="my-health")
                policy.allowed_headers = ["X-Debug"]
                policy.save()
        assert run_command(command) == with_real_ids(expected), command


# -- Migrating from django-cors-headers ---------------------------------------------------------------

MIGRATING = page("migrating.md")


@pytest.mark.django_db
def test_migration_example(settings: Any) -> None:
    [settings_block, middleware_block] = code_blocks(MIGRATING, "python")
    values: dict[str, Any] = {}
    exec(settings_block, {}, values)  # noqa: S102 - the page's own example
    for name, value in values.items():
        setattr(settings, name, value)
    [(command, expected)] = shell_examples(MIGRATING)
    assert command == "python manage.py cors_import_settings"
    assert run_command(command) == expected
    assert '"cors_policies.middleware.CorsPolicyMiddleware",  # was "corsheaders.middleware.CorsMiddleware"' in (
        middleware_block
    )


def test_settings_mapping_table_is_django_cors_headers() -> None:
    from cors_policies.corsheaders_settings import SETTINGS

    rows = [line for line in section(MIGRATING, "## How the settings map").splitlines() if line.startswith("| `CORS_")]
    documented = {}
    for row in rows:
        setting, default, _ = (cell.strip() for cell in row.strip("|").split(" | "))
        documented[tuple(re.findall(r"`(CORS_\w+)`", setting))] = ast.literal_eval(default.strip("`"))
    expected = {(current, *([old] if old else [])): default for current, old, default in SETTINGS}
    assert documented.keys() == expected.keys()
    for key, default in expected.items():
        assert documented[key] == (list(default) if isinstance(default, tuple) else default), key


def test_parity_numbers_are_true() -> None:
    from tests import test_parity

    assert f"over {len(test_parity.CONFIGS)}\nconfigurations and {len(test_parity.FETCHES)} kinds" in MIGRATING


def test_every_parity_difference_is_in_the_migration_guide() -> None:
    from tests.test_parity import DIFFERENCES

    guide = section(MIGRATING, "## Deliberate differences")
    for label in set(DIFFERENCES.values()) | {"any origin with credentials"}:
        assert f"**{label}**" in guide, label
