"""SECURITY.md and docs/security.md: included in the site, complete, and in step with the code."""

from __future__ import annotations

import re

from cors_policies.engine import MAX_ORIGIN_LENGTH, PolicySpec
from cors_policies.protected import policy_warnings  # the analysis' warnings and protected_paths
from tests.docs_pages import ROOT, page

SECURITY = (ROOT / "SECURITY.md").read_text()


def test_the_site_page_is_security_md_itself() -> None:
    assert page("security.md").startswith('--8<-- "SECURITY.md"\n')
    readme = page("README.md")
    assert "[Security](SECURITY.md)" in readme


def test_security_md_has_the_threat_model_the_guarantees_and_how_to_report() -> None:
    headings = re.findall(r"^## (.+)$", SECURITY, re.MULTILINE)
    assert headings == [
        "Threat model: who controls what",
        "Guarantees",
        "Misconfigurations: warnings, not errors",
        "How this is tested",
        "Reporting a vulnerability",
    ]
    assert f"at most {MAX_ORIGIN_LENGTH:,} characters" in SECURITY


def test_every_warning_code_is_documented() -> None:
    specs = [
        PolicySpec(id=1, name="a", path_pattern="/**", allowed_origins=["*"]),
        PolicySpec(
            id=2,
            name="b",
            path_pattern="/x",
            allowed_origins=["null", "http://app.example.com"],
            allowed_origin_regexes=[r"^https://app.example.com$", r"^https://.*example\.com$"],
            allowed_methods=["*"],
            allowed_headers=["*"],
            allow_credentials=True,
        ),
    ]
    codes = {warning.code for spec in specs for warning in policy_warnings(spec)}
    assert len(codes) == 8
    documented = set(re.findall(r"^\| `([a-z_]+)`(?:, `([a-z_]+)`)? \|", SECURITY, re.MULTILINE))
    assert codes == {code for pair in documented for code in pair if code}


def test_the_files_security_md_names_exist() -> None:
    for name in re.findall(r"`((?:tests|fuzz|bench)/[\w/.]+\.py)`", SECURITY):
        assert (ROOT / name).is_file(), name


def test_the_budgets_security_md_states_are_the_engines() -> None:
    from cors_policies import engine

    start = SECURITY.index("6. **Every request's cost is bounded")
    section = SECURITY[start : SECURITY.index("7. **Paths match", start)]
    for stated in (
        f"**{engine.MAX_REGEX_PATH_PROGRAM} RE2 instructions**",
        f"**{engine.MAX_REGEX_PATH_LENGTH} bytes**",
        f"**{engine.MAX_ORIGIN_REGEX_PROGRAM} RE2 instructions**",
        f"**{engine.MAX_REGEX_ORIGIN_LENGTH} characters**",
        f"**{engine.MAX_GLOB_STEPS}**",
        f"**{engine.MAX_REQUEST_HEADER_NAMES} names**",
        f"{engine.MAX_REQUEST_HEADERS_LENGTH:,} characters",
    ):
        assert stated in section, stated
