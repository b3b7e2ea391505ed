"""External CORS misconfiguration scanners from PyPI against the running demo on loopback.

The demo is served by gunicorn with its own SQLite database (``migrate``, ``demo_setup``), plus one
deliberately unsafe policy on a single URL: a regex allowing any http(s) origin, with credentials. The
scanners must find nothing on the demo's own policies and must find the unsafe one (which proves the scan
works). Both scanners exit 0 even when they find something, so their JSON reports are read.

* corscanner (``corscanner -u URL -o out.json``) tries reflected, prefixed, suffixed, unescaped-dot, null,
  http and third-party origins; its report is a list of findings.
* corsair-scan (``corsair in.json -r out.json``) tries a foreign origin and sub-, pre- and post-domain
  variants of a trusted one. It counts ``Access-Control-Allow-Origin: *`` as misconfigured too, which is
  what the demo's public policies answer on purpose (no credentials); the test tells the two apart.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UNSAFE_PATH = "/api/public/items/1/"
DEMO_PATHS = ["/api/public/items/", "/api/public/items/2/", "/api/profile/", "/health"]
UNSAFE_POLICY = (
    "from cors_policies.models import CorsPolicy\n"
    "policy = CorsPolicy(name='unsafe', path_pattern='/api/public/items/1/', priority=100,\n"
    "    allowed_origin_regexes=[r'https?://.*'], allowed_methods=['GET'], allow_credentials=True)\n"
    "policy.full_clean()\n"
    "policy.save()\n"
)


def _scanner(name: str) -> Path:
    executable = BIN / name
    if not executable.exists():
        reason = f"{name} is not installed (pip install -e '.[test]')"
        if os.environ.get("CORS_POLICIES_REQUIRE_SERVICES") == "1":
            pytest.fail(f"CORS_POLICIES_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return executable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo under gunicorn on a free loopback port, with the unsafe policy added; yields its base URL."""
    directory = tmp_path_factory.mktemp("scanner")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")},
        "DATABASE_URL": f"sqlite:///{directory / 'demo.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "testproject.settings",
        "DJANGO_DEBUG": "0",
        "PYTHONPATH": str(ROOT),
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "-v0"], ["demo_setup"], ["shell", "-c", UNSAFE_POLICY]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "testproject.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # a worker still importing: wait
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the demo did not start: {server.stderr.read()!r}") from None  # type: ignore[union-attr]
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def corscanner(url: str, directory: Path) -> list[dict[str, Any]]:
    out = directory / "corscanner.json"
    out.unlink(missing_ok=True)
    # It tries to download the public-suffix list first (a traceback offline) and scans all the same.
    result = subprocess.run(
        [str(_scanner("corscanner")), "-u", url, "-o", str(out)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.exists(), f"corscanner wrote no report:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    findings: list[dict[str, Any]] = json.loads(out.read_text())
    return findings


def corsair(requests: list[dict[str, Any]], directory: Path) -> dict[str, Any]:
    source, out = directory / "corsair-in.json", directory / "corsair-out.json"
    source.write_text(json.dumps(requests))
    out.unlink(missing_ok=True)
    result = subprocess.run(
        [str(_scanner("corsair")), str(source), "-r", str(out)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.exists(), f"corsair wrote no report:\n{result.stdout[-2000:]}"
    report: dict[str, Any] = json.loads(out.read_text())
    return report


@pytest.mark.parametrize("path", DEMO_PATHS)
def test_corscanner_finds_nothing_in_the_demo_policies(demo: str, tmp_path: Path, path: str) -> None:
    assert corscanner(demo + path, tmp_path) == []


def test_corscanner_finds_the_unsafe_policy(demo: str, tmp_path: Path) -> None:
    findings = corscanner(demo + UNSAFE_PATH, tmp_path)
    assert findings, "the scan found nothing: it would not have found anything in the demo either"
    assert {(f["url"], f["type"], f["credentials"]) for f in findings} >= {
        (demo + UNSAFE_PATH, "reflect_origin", "true")
    }


def test_corsair_reflects_no_foreign_origin_from_the_demo_and_finds_the_unsafe_policy(
    demo: str, tmp_path: Path
) -> None:
    trusted = {"/api/profile/": "http://localhost:3000"}  # the origin its variants are built from
    requests = [
        {"url": demo + path, "verb": "GET", "headers": {"Origin": trusted.get(path, "https://app.example.com")}}
        for path in [*DEMO_PATHS, UNSAFE_PATH]
    ]
    report = corsair(requests, tmp_path)
    results = {entry["url"]: entry for entry in report["report"]}
    tests = ("fake_origin", "sub-domain", "pre-domain", "post-domain")
    for path in DEMO_PATHS:
        answers = {
            (results[demo + path][t]["Access-Control-Allow-Origin"], results[demo + path][t]["credentials"])
            for t in tests
        }
        if path == "/api/profile/":
            assert answers == {(None, False)}  # every crafted origin refused
        else:
            assert answers == {("*", False)}  # public by design: any page, never with cookies
    misconfigured = {entry["url"]: entry for entry in report["summary"]["misconfigured"]}
    assert demo + "/api/profile/" not in misconfigured
    unsafe = misconfigured[demo + UNSAFE_PATH]
    assert unsafe["credentials"] is True
    assert sorted(unsafe["misconfigured_test"]) == sorted(tests)
    for test in tests:
        answer = results[demo + UNSAFE_PATH][test]
        assert answer["Access-Control-Allow-Origin"] == answer["Origin"]  # reflected, with credentials
