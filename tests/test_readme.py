"""The README's matching examples, checked against the engine so the docs cannot drift."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cors_policies.engine import PolicySet, PolicySpec

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(title)
    return README[start : README.index("\n## ", start + 1)]


def test_pattern_table_rows_hold() -> None:
    """Each row of the path pattern table: the pattern matches the 'matches' column, not the other."""
    lines = [line for line in section("### Path patterns").splitlines() if line.startswith("| `")]
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
    assert len(rows) == 6
    for first, matches, refuses in rows:
        pattern = first.split("`")[1]
        policy_set = PolicySet.build([PolicySpec(id=1, name="p", path_pattern=pattern)])
        for path in re.findall(r"`(/[^`]*)`", matches):
            assert policy_set.match(path) is not None, (pattern, path)
        for path in re.findall(r"`(/[^`]*)`", refuses):
            assert policy_set.match(path) is None, (pattern, path)


EXAMPLE = [
    PolicySpec(id=1, name="catch-all", path_pattern="/**"),
    PolicySpec(id=2, name="api", path_pattern="/api/**"),
    PolicySpec(id=3, name="items", path_pattern="/api/items/*"),
    PolicySpec(id=4, name="legacy", path_pattern="^/api/"),
    PolicySpec(id=5, name="health", path_pattern="/health"),
]


@pytest.mark.parametrize(
    ("path", "winner"),
    [("/api/items/5", "items"), ("/api/users", "api"), ("/health", "health"), ("/about", "catch-all")],
)
def test_precedence_example(path: str, winner: str) -> None:
    text = section("### Which policy applies")
    assert f"`{path}` → `{winner}`" in text
    policy = PolicySet.build(EXAMPLE).match(path)
    assert policy is not None and policy.name == winner


def test_priority_overrides_specificity_as_documented() -> None:
    specs = [PolicySpec(**{**spec.__dict__, "priority": 10}) if spec.name == "catch-all" else spec for spec in EXAMPLE]
    policy_set = PolicySet.build(specs)
    assert {policy_set.match(path).name for path in ("/api/items/5", "/health", "/about")} == {"catch-all"}  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------------
# "Command line" and "Migrating from django-cors-headers": every example is run and compared
# --------------------------------------------------------------------------------------------------


def whole_section(title: str) -> str:
    """Like section(), and also for the last section of the README."""
    start = README.index(title)
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def code_blocks(text: str, language: str = "") -> list[str]:
    """The fenced blocks of ``text`` in ``language`` ("" for plain), dedented when inside a list item."""
    blocks: list[str] = []
    fence: tuple[str, str] | None = None  # (indent, language) of the open block
    body: list[str] = []
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if fence is None and stripped.startswith("```"):
            fence, body = (line[: len(line) - len(stripped)], stripped[3:].strip()), []
        elif fence is not None and line == fence[0] + "```":
            if fence[1] == language:
                blocks.append("".join(item[len(fence[0]) :] + "\n" for item in body))
            fence = None
        elif fence is not None:
            body.append(line)
    return blocks


def shell_examples(text: str) -> list[tuple[str, str]]:
    """``$ python manage.py ...`` lines of the plain blocks of ``text``, each with the output shown below it."""
    examples: list[tuple[str, str]] = []
    for block in code_blocks(text):
        for line in block.splitlines(keepends=True):
            if line.startswith("$ "):
                examples.append((line[2:].strip(), ""))
            elif examples:
                examples[-1] = (examples[-1][0], examples[-1][1] + line)
    return examples


def run_command(command: str) -> str:
    """Run ``python manage.py ...`` in-process: its standard output, or "CommandError: ..." as the shell shows."""
    import io
    import shlex

    from django.core.management import CommandError, call_command

    words = shlex.split(command)
    assert words[:2] == ["python", "manage.py"], command
    out = io.StringIO()
    try:
        call_command(*words[2:], stdout=out)
    except CommandError as exc:
        return out.getvalue() + f"CommandError: {exc}\n"
    return out.getvalue()


def with_real_ids(expected: str) -> str:
    """Policy ids in the README are the demo's (1, 2, 3); a test database may number them otherwise."""
    from cors_policies.models import CorsPolicy

    ids = dict(CorsPolicy.objects.values_list("name", "id"))
    return re.sub(r"^Policy: (\S+) \(id \d+\)$", lambda m: f"Policy: {m[1]} (id {ids[m[1]]})", expected, flags=re.M)


@pytest.mark.django_db
def test_command_line_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, committed: Any) -> None:
    import io
    import json

    from django.core.management import call_command

    call_command("demo_setup", stdout=io.StringIO())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.json").write_text(
        '{"policies": [{"name": "bad", "path_pattern": "api/**", "allowed_origins": ["https://partner.example/"]}]}'
    )
    (tmp_path / "broken.json").write_text('{"policies": [\n')
    examples = shell_examples(whole_section("## Command line"))
    assert [command.split()[2] for command, _ in examples] == ["cors_explain"] * 2 + ["cors_export"] + [
        "cors_apply"
    ] * 5
    for command, expected in examples:
        if (
            command.startswith("python manage.py cors_apply policies.json")
            and "partners" not in (tmp_path / "policies.json").read_text()
        ):
            # The edit the README describes: health gets "max_age": 300, and a partners policy is added.
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
def test_migration_example(settings: Any) -> None:
    text = whole_section("## Migrating from django-cors-headers")
    [settings_block, middleware_block] = code_blocks(text, "python")
    values: dict[str, Any] = {}
    exec(settings_block, {}, values)  # noqa: S102 - the README's own example
    for name, value in values.items():
        setattr(settings, name, value)
    [(command, expected)] = shell_examples(text)
    assert command == "python manage.py cors_import_settings"
    assert run_command(command) == expected
    assert '"cors_policies.middleware.CorsPolicyMiddleware",  # was "corsheaders.middleware.CorsMiddleware"' in (
        middleware_block
    )


def test_settings_mapping_table_is_django_cors_headers() -> None:
    import ast

    from cors_policies.corsheaders import SETTINGS

    rows = [line for line in whole_section("### How the settings map").splitlines() if line.startswith("| `CORS_")]
    documented = {}
    for row in rows:
        setting, default, _ = (cell.strip() for cell in row.strip("|").split(" | "))
        names = re.findall(r"`(CORS_\w+)`", setting)
        documented[tuple(names)] = ast.literal_eval(default.strip("`"))
    expected = {(current, *([old] if old else [])): default for current, old, default in SETTINGS}
    assert documented.keys() == expected.keys()
    for names, default in expected.items():
        assert documented[names] == (list(default) if isinstance(default, tuple) else default), names


def test_parity_numbers_and_check_ids_are_true() -> None:
    from cors_policies import checks
    from tests import test_parity

    text = whole_section("## Migrating from django-cors-headers")
    assert f"over {len(test_parity.CONFIGS)}\nconfigurations and {len(test_parity.FETCHES)} kinds" in text
    source = Path(checks.__file__).read_text()
    for check_id in re.findall(r"cors_policies\.([EW]\d{3})", whole_section("## Command line") + text):
        assert f'id="cors_policies.{check_id}"' in source, check_id
