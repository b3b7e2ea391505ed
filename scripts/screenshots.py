#!/usr/bin/env python3
"""Refresh the admin screenshots in ``docs/screenshots/``: ``python3 scripts/screenshots.py [OUTPUT_DIR]``.

Builds a throwaway SQLite database with the demo data (``demo_setup``) plus one illustrative policy,
``api-default`` (``/api/**`` for ``https://*.example.com``), which two demo policies shadow on some paths, so
the change form shows its warnings. Starts the development server on a free port of 127.0.0.1, logs in
as the demo admin with Debian's Chromium (``/usr/bin/chromium``, driven by Playwright, which
never downloads a browser here) and saves:

- ``changelist.png``: the policy list in precedence order;
- ``change-form.png``: ``api-default``'s change form, with the shadowing warnings and the header preview;
- ``tester.png``: the request tester, an allowed credentialed preflight;
- ``tester-refused.png``: the request tester, a refused preflight with its reasons;
- ``playground.png``: the CORS playground on ``127.0.0.1:PORT`` calling ``localhost:PORT``, an allowed
  preflighted ``PUT``;
- ``playground-refused.png``: the playground, ``Authorization`` refused under ``allowed_headers: ["*"]``;
- ``observed.png``: Observed origins, after a little cross-origin traffic (allowed, refused for the origin and
  for a method, and some that the report-only ``public-api-tightened`` would refuse) has been written by the
  recorder's background thread (OBSERVE_FLUSH_INTERVAL, 5 s by default).

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
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _venv import ROOT, VENV, ensure_venv, exec_in_venv

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = ROOT / "docs" / "screenshots"
LIST_PATH = "/admin/cors_policies/corspolicy/"
TESTER_PATH = LIST_PATH + "test/"
OBSERVED_PATH = "/admin/cors_policies/observedorigin/"

EXTRA_POLICY = """
from cors_policies.models import CorsPolicy
CorsPolicy.objects.get_or_create(name="api-default", defaults=dict(
    description="Partner sites may read any API path that no other policy covers.",
    path_pattern="/api/**",
    allowed_origins=["https://*.example.com"],
    allowed_methods=["GET"],
    allowed_headers=["Authorization", "Content-Type"],
    allow_credentials=True,
    max_age=600,
))
"""

#: (method, path, origin, extra headers, times): the traffic Observed origins shows.
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


def send_traffic(base: str) -> None:
    for method, path, origin, headers, times in TRAFFIC:
        request = urllib.request.Request(base + path, method=method, headers={"Origin": origin, **headers})  # noqa: S310
        for _ in range(times):
            try:
                with urllib.request.urlopen(request, timeout=5):  # noqa: S310  (our own http://127.0.0.1)
                    pass
            except urllib.error.HTTPError:
                pass  # a 401 from the profile is traffic too


def free_port(preferred: int = 8000) -> int:
    """The demo's usual port when it is free (the screenshots then show the addresses the README gives),
    else any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port on 127.0.0.1")


def wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"error: the development server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310  (our own http://127.0.0.1)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"error: the development server did not answer {url} within {timeout:.0f} s")


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def take_screenshots(base: str, output: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page: Any = browser.new_page(viewport={"width": 1440, "height": 900})
        # Fold the admin's navigation sidebar, as a user can, so the list has room for every column.
        page.add_init_script("window.localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        page.goto(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "admin")
        with page.expect_navigation():
            page.click("input[type=submit]")

        def shoot(name: str, url: str) -> None:
            page.goto(url)
            path = output / name
            page.screenshot(path=str(path), full_page=True)
            saved.append(path)

        shoot("changelist.png", base + LIST_PATH)
        page.goto(base + LIST_PATH)
        change_url = page.locator("th.field-name a", has_text="api-default").get_attribute("href")
        shoot("change-form.png", base + change_url)
        allowed = {
            "origin": "http://localhost:3000",
            "method": "GET",
            "path": "/api/profile/",
            "request_headers": "X-CSRFToken",
            "preflight": "on",
        }
        shoot("tester.png", f"{base}{TESTER_PATH}?{urlencode(allowed)}")
        refused = {
            "origin": "http://localhost:5173",
            "method": "PATCH",
            "path": "/api/profile/",
            "request_headers": "Content-Type",
            "preflight": "on",
        }
        shoot("tester-refused.png", f"{base}{TESTER_PATH}?{urlencode(refused)}")

        def shoot_playground(name: str, preset: str) -> None:
            page.goto(f"{base}/playground/")
            page.wait_for_selector("body[data-ready=true]")
            page.select_option("#pg-preset", label=preset)
            page.click("#pg-send")
            page.wait_for_selector("#pg-result[data-state=done]")
            path = output / name
            page.screenshot(path=str(path), full_page=True)
            saved.append(path)

        shoot_playground("playground.png", "PUT with a JSON body (preflighted)")
        shoot_playground("playground-refused.png", "Authorization under allowed headers *")
        page.set_viewport_size({"width": 1440, "height": 760})
        shoot("observed.png", base + OBSERVED_PATH)
        browser.close()
    return saved


def main(argv: list[str]) -> None:
    if Path(sys.prefix).resolve() != VENV.resolve():
        python = ensure_venv("dev")
        exec_in_venv([python, Path(__file__).resolve(), *argv])
    if not os.access(CHROMIUM, os.X_OK):
        sys.exit(f"error: {CHROMIUM} is missing (on Debian: apt-get install chromium)")
    output = Path(argv[0]).resolve() if argv else OUTPUT
    output.mkdir(parents=True, exist_ok=True)

    workdir = Path(tempfile.mkdtemp(prefix="cors-policies-screenshots-"))
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'screenshots.sqlite3'}",
        REDIS_URL="",
        DJANGO_DEBUG="1",  # the development server serves the admin's CSS only with DEBUG
        DJANGO_SETTINGS_MODULE="testproject.settings",
    )
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "demo_setup")
        manage(env, "shell", "-c", EXTRA_POLICY)
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
        send_traffic(base)
        time.sleep(7)  # the recorder's thread writes every OBSERVE_FLUSH_INTERVAL (5 s)
        for path in take_screenshots(base, output):
            print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
