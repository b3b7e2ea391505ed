"""Runs the atheris fuzz target (fuzz/fuzz_engine.py) for a bounded time, so CI fuzzes Origin parsing and
path matching on every run. A crash, a failed invariant or an input slower than the per-input timeout makes
libFuzzer exit non-zero and leave the input in a temporary directory, shown in the failure."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "fuzz" / "fuzz_engine.py"
SEEDS = ROOT / "fuzz" / "seeds"
SECONDS = 20


def _require_atheris() -> None:
    if sys.version_info >= (3, 13):
        pytest.skip("atheris has no wheel for Python 3.13 or newer, so pyproject installs it only below 3.13")
    if importlib.util.find_spec("atheris") is None:
        reason = "atheris is not installed (pip install -e '.[test]'; it has wheels for Linux and Python < 3.13)"
        if os.environ.get("CORS_POLICIES_REQUIRE_SERVICES") == "1":
            pytest.fail(f"CORS_POLICIES_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)


def test_fuzz_origin_parsing_and_path_matching(tmp_path: Path) -> None:
    _require_atheris()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            f"-max_total_time={SECONDS}",
            "-timeout=2",  # seconds per input: anything slower is a denial of service
            "-rss_limit_mb=1024",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
            str(SEEDS),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        check=False,
    )
    log = result.stderr[-4000:]
    assert result.returncode == 0, f"the fuzzer found a problem:\n{log}\nartifacts: {list(tmp_path.iterdir())}"
    done = re.search(r"^Done (\d+) runs in (\d+) second", result.stderr, re.MULTILINE)
    assert done is not None, log
    assert int(done.group(1)) > 1000, log  # it really ran, not just started
    assert any(corpus.iterdir()), "libFuzzer kept no input: the target may not be instrumented"
