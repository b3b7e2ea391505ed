"""docs/deployment.md and docs/performance.md name real files, settings and commands."""

from __future__ import annotations

import re
import shlex

from cors_policies.conf import DEFAULTS
from tests.docs_pages import ROOT, page, section

DEPLOYMENT = page("deployment.md")
PERFORMANCE = page("performance.md")


def test_settings_named_in_deployment_exist_with_the_documented_defaults() -> None:
    assert '`CORS_POLICIES["CACHE_ALIAS"]` (default `"default"`)' in DEPLOYMENT
    assert DEFAULTS["CACHE_ALIAS"] == "default"
    assert "**`REFRESH_INTERVAL`** (seconds, default `1.0`)" in DEPLOYMENT
    assert DEFAULTS["REFRESH_INTERVAL"] == 1.0
    for name in re.findall(r"`([A-Z_]{6,})`", DEPLOYMENT):
        if name not in {"DATABASE_URL", "REDIS_URL", "MIDDLEWARE"}:
            assert name in DEFAULTS, name


def test_the_production_test_command_names_existing_test_files() -> None:
    block = section(DEPLOYMENT, "## Running the production tests yourself").split("```")[1]
    words = shlex.split(block.replace("\\\n", " "))
    files = [word for word in words if word.startswith("tests/")]
    assert files == ["tests/test_multiprocess.py", "tests/test_outages.py", "tests/test_concurrency.py"]
    assert all((ROOT / name).is_file() for name in files)


def test_reproduce_commands_name_existing_scripts_and_options() -> None:
    assert "`.venv/bin/python bench/run.py`" in PERFORMANCE
    assert "`.venv/bin/python bench/load.py`" in PERFORMANCE
    for script in ("bench/run.py", "bench/load.py", "bench/observed.py", "bench/worst_case.py"):
        assert (ROOT / script).is_file()
    assert "--rounds" in (ROOT / "bench/load.py").read_text()


def test_the_outage_table_names_what_the_outage_tests_cover() -> None:
    text = section(DEPLOYMENT, "## When something is down")
    tests = (ROOT / "tests/test_outages.py").read_text()
    assert "test_redis_outage_keeps_answers_and_falls_back_to_the_database" in tests
    assert "test_database_outage_keeps_the_snapshot_and_new_workers_recover" in tests
    assert "| The cache (Redis) |" in text
    assert "| The database, in a process started during the outage |" in text
