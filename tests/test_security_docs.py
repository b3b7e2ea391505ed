"""SECURITY.md and the README's Security section: linked, complete, and in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

from cors_policies.engine import MAX_ORIGIN_LENGTH, PolicySpec
from cors_policies.protected import policy_warnings  # the analysis' warnings and protected_paths

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECURITY = (ROOT / "SECURITY.md").read_text()


def test_the_readme_links_security_md_before_the_playground() -> None:
    start = README.index("\n## Security\n")
    section = README[start : README.index("\n## ", start + 1)]
    assert "[SECURITY.md](SECURITY.md)" in section
    assert start < README.index("\n## Playground\n")


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
