"""The documentation site as a whole: every page in the navigation, the README a front page with the two
set-up commands, the changelog in Keep a Changelog form, and the settings reference complete.

The site itself is built by ``python3 scripts/docs.py`` (``mkdocs build --strict``), which fails on a broken
link or anchor; these tests need no MkDocs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import yaml

from cors_policies.conf import DEFAULTS
from cors_policies.conf import SETTINGS as DECLARED
from tests.docs_pages import DOCS, ROOT, code_blocks, headings, images, page, section

CONFIG = yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def nav_files(items: Any) -> list[str]:
    if isinstance(items, str):
        return [items]
    if isinstance(items, list):
        return [name for item in items for name in nav_files(item)]
    if isinstance(items, dict):
        return [name for value in items.values() for name in nav_files(value)]
    return []


def test_every_page_is_in_the_navigation_and_every_entry_exists() -> None:
    listed = nav_files(CONFIG["nav"])
    assert sorted(listed) == sorted(path.name for path in DOCS.glob("*.md"))
    assert len(listed) == len(set(listed))
    for name in (
        "install.md",
        "tutorial.md",
        "policies.md",
        "admin.md",
        "rest-api.md",
        "api-reference.md",
        "observability.md",
        "deployment.md",
        "security.md",
        "migrating.md",
        "performance.md",
        "settings.md",
        "changelog.md",
    ):
        assert name in listed, name


def test_the_build_is_strict_with_material_and_the_api_hook() -> None:
    assert CONFIG["strict"] is True
    assert CONFIG["theme"]["name"] == "material"
    assert CONFIG["validation"] == {
        "omitted_files": "warn",
        "absolute_links": "warn",
        "unrecognized_links": "warn",
        "anchors": "warn",
    }
    assert [(ROOT / hook).is_file() for hook in CONFIG["hooks"]] == [True]
    snippets = next(
        ext for ext in CONFIG["markdown_extensions"] if isinstance(ext, dict) and "pymdownx.snippets" in ext
    )
    assert snippets["pymdownx.snippets"]["check_paths"] is True


def test_included_files_exist() -> None:
    included = {
        match for path in DOCS.glob("*.md") for match in re.findall(r'^--8<-- "([^"]+)"$', path.read_text(), re.M)
    }
    assert included == {"SECURITY.md", "CHANGELOG.md"}
    assert all((ROOT / name).is_file() for name in included)


def test_every_image_of_every_page_exists() -> None:
    for path in DOCS.glob("*.md"):
        for image in images(path.read_text()):
            assert (DOCS / image).is_file(), (path.name, image)


# -- README: a front page ---------------------------------------------------------------------------------

README = page("README.md")


def test_the_readme_is_a_front_page_with_the_two_commands() -> None:
    assert len(README.splitlines()) <= 200
    blocks = code_blocks(README)
    assert "python3 scripts/demo.py\n" in blocks
    assert "python3 scripts/test.py\n" in blocks
    assert images(README) == ["docs/screenshots/changelist.png"]


def test_every_link_of_the_readme_leads_somewhere() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not re.match(r"https?://", link)]
    assert len(local) >= 15
    for link in local:
        assert (ROOT / link).exists(), link
    for name in nav_files(CONFIG["nav"]):
        if name not in {"index.md", "api-reference.md", "security.md", "changelog.md"}:
            assert f"(docs/{name})" in README, name


# -- CHANGELOG.md -------------------------------------------------------------------------------------------

CHANGELOG = page("CHANGELOG.md")
KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_changelog_is_in_keep_a_changelog_form() -> None:
    assert CHANGELOG.startswith("# Changelog\n")
    assert "[Keep a Changelog](https://keepachangelog.com/" in CHANGELOG
    versions = headings(CHANGELOG, 2)
    assert versions[0] == "[Unreleased] - 0.2.0"
    assert versions[1:] == ["[0.1.0] - 2026-11-24"]
    for version in versions:
        kinds = headings(section(CHANGELOG, f"## {version}"), 3)
        assert set(kinds) <= KINDS, (version, kinds)
    assert headings(section(CHANGELOG, "## [Unreleased] - 0.2.0"), 3) == [
        "Added",
        "Changed",
        "Fixed",
        "Security",
        "Removed",
    ]


def test_the_changelog_names_the_packaged_version() -> None:
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version is not None
    assert f"[{version[1]}]" in CHANGELOG or f"[Unreleased] - {version[1]}" in CHANGELOG


# -- Settings reference ------------------------------------------------------------------------------------

SETTINGS = page("settings.md")


def test_the_settings_reference_is_the_declarations() -> None:
    """Each row of the table is a declaration of cors_policies.conf.SETTINGS, in its order: name, default and
    what it does, word for word."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| `([^|]+)` \| (.*) \|$", section(SETTINGS, "## Every key"), re.M)
    assert [(key, ast.literal_eval(default), doc) for key, default, doc in rows] == [
        (setting.name, setting.default, setting.doc) for setting in DECLARED
    ]
    namespace: dict[str, Any] = {}
    exec(code_blocks(SETTINGS, "python")[0], namespace)  # noqa: S102  (the page's own example)
    assert namespace["CORS_POLICIES"] == DEFAULTS


def test_the_settings_reference_names_each_setting_check() -> None:
    checks = section(SETTINGS, "## System checks")
    for setting in DECLARED:
        if setting.check_id is not None:
            [row] = [line for line in checks.splitlines() if f"`{setting.check_id}`" in line]
            assert f"`{setting.name}`" in row or "`OBSERVE_*`" in row, (setting.name, row)


def test_the_settings_reference_lists_every_check() -> None:
    import cors_policies

    package = Path(cors_policies.__file__).parent
    defined = {
        found
        for module in package.rglob("*.py")
        for found in re.findall(r'id="(cors_policies\.[EW]\d{3})"', module.read_text())
    }
    listed = set(re.findall(r"`(cors_policies\.[EW]\d{3})`", section(SETTINGS, "## System checks")))
    assert listed == defined
