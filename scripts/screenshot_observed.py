#!/usr/bin/env python3
"""Refresh ``docs/screenshots/observed.png``: ``python3 scripts/screenshot_observed.py [OUTPUT_DIR]``.

Builds a throwaway SQLite database with the demo data (``demo_setup``) plus a report-only tightening of
``public-api`` (``public-api-tightened``: the demo's own origins instead of ``*``), starts the development
server on a free port of 127.0.0.1, sends it a little cross-origin traffic (allowed, refused for the
origin and for a method, and some that the tightened policy would refuse), waits for the recorder's
background thread to write it (OBSERVE_FLUSH_INTERVAL, 5 s by default), then logs in as the demo admin with
Debian's Chromium (driven by Playwright, which never downloads a browser here) and saves the Observed origins list.
Nothing outside the temporary directory and the output directory is touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _venv import ROOT, VENV, ensure_venv, exec_in_venv

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
OUTPUT = ROOT / "docs" / "screenshots"
OBSERVED_PATH = "/admin/cors_policies/observedorigin/"

TIGHTENED_POLICY = """
from cors_policies.models import CorsPolicy
CorsPolicy.objects.get_or_create(name="public-api-tightened", defaults=dict(
    description="Report-only: public-api for the demo's own origins instead of *, and without DELETE.",
    path_pattern="/api/public/**",
    allowed_origins=["http://localhost:8000", "http://127.0.0.1:8000"],
    allowed_methods=["GET", "PUT", "PATCH"],
    allowed_headers=["Content-Type", "X-Requested-With"],
    expose_headers=["X-Total-Count"],
    max_age=600,
    report_only=True,
))
"""

#: (method, path, origin, extra headers, times)
TRAFFIC: list[tuple[str, str, str, dict[str, str], int]] = [
    ("GET", "/api/public/items/", "http://localhost:8000", {}, 6),
    ("GET", "/api/public/items/", "http://localhost:3000", {}, 9),
    ("OPTIONS", "/api/public/items/1/", "https://shop.example.net", {"Access-Control-Request-Method": "PUT"}, 2),
    ("OPTIONS", "/api/public/items/1/", "http://localhost:8000", {"Access-Control-Request-Method": "DELETE"}, 1),
    ("GET", "/api/profile/", "http://localhost:3000", {}, 12),
    ("GET", "/api/profile/", "http://localhost:5173", {}, 4),
    ("GET", "/api/profile/", "https://staging.example.com", {}, 2),
    ("OPTIONS", "/api/profile/", "http://localhost:3000", {"Access-Control-Request-Method": "PATCH"}, 1),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, method=method, headers=headers or {})  # noqa: S310  (our own http://127.0.0.1)
    try:
        with urllib.request.urlopen(req, timeout=5) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"error: the development server exited with {server.returncode}")
        try:
            if request(url) == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"error: the development server did not answer {url} within {timeout:.0f} s")


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def screenshot(base: str, output: Path) -> Path:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page: Any = browser.new_page(viewport={"width": 1440, "height": 760})
        page.add_init_script("window.localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        page.goto(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "admin")
        with page.expect_navigation():
            page.click("input[type=submit]")
        path = output / "observed.png"
        page.goto(base + OBSERVED_PATH)
        page.screenshot(path=str(path), full_page=True)
        browser.close()
    return path


def main(argv: list[str]) -> None:
    if Path(sys.prefix).resolve() != VENV.resolve():
        python = ensure_venv()
        exec_in_venv([python, Path(__file__).resolve(), *argv])
    if not os.access(CHROMIUM, os.X_OK):
        sys.exit(f"error: {CHROMIUM} is missing (on Debian: apt-get install chromium)")
    output = Path(argv[0]).resolve() if argv else OUTPUT
    output.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="cors-policies-observed-"))
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'observed.sqlite3'}",
        REDIS_URL="",
        DJANGO_DEBUG="1",  # the development server serves the admin's CSS only with DEBUG
        DJANGO_SETTINGS_MODULE="testproject.settings",
    )
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "demo_setup")
        manage(env, "shell", "-c", TIGHTENED_POLICY)
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/health", server)
        for method, path, origin, headers, times in TRAFFIC:
            for _ in range(times):
                request(base + path, method, {"Origin": origin, **headers})
        time.sleep(7)  # the recorder's thread writes every OBSERVE_FLUSH_INTERVAL (5 s)
        saved = screenshot(base, output)
        print(f"saved {saved.relative_to(ROOT) if saved.is_relative_to(ROOT) else saved}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
