#!/usr/bin/env python3
"""How the pages that list policies scale: the admin's policy list and the API's list, from 1,000 to 50,000 policies.

Usage (from the repository root, after ``python3 scripts/test.py`` made .venv):

    .venv/bin/python bench/pages.py [--sizes 1000,5000,10000,25000,50000] [--repeats 3]

For each size, a fresh SQLite database gets that many policies (globs, literal paths, regexes, some disabled,
some report-only, origin lists with wildcards and regexes, a share with warnings), and the demo project serves
the pages in-process (Django's test client, DEBUG off). Reported per page, in milliseconds (best of the repeats):

- ``admin``: the policy list as it opens (precedence order, first page of 100), with the served set already
  built (``snapshot`` says what building it costs the first request after a change, on any page);
- ``by name``, ``last page``, ``search``: the same list sorted by a column, at its last page, searched;
- ``api cold`` / ``api warm``: ``GET /api/cors/policies/?page_size=200`` (the largest page), before and after
  the warnings of those policies are remembered;
- ``queries``: database queries of the admin page (the same at every size).

The growth column divides each admin time by the smallest size's, to compare with the growth of the size
itself: linear growth keeps the two in step; the old page grew with the square of the size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "testproject.settings"
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False
    settings.LOGGING_CONFIG = None
    settings.CORS_POLICIES = {"REFRESH_INTERVAL": 3600, "OBSERVE_FLUSH": "manual"}
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def policies(count: int) -> list[Any]:
    """A deterministic mix of what a large installation holds."""
    from cors_policies.models import CorsPolicy

    made = []
    for n in range(count):
        kind = n % 10
        pattern = {
            0: f"/api/v{n}/**",
            1: f"/api/v{n}/items/*",
            2: f"/app/{n}/**",
            3: f"/svc/{n}/*/x/**",
            4: f"/p/{n}/items",
            5: f"/p/{n}",
            6: f"^/r{n}/[0-9]+/$",
            7: f"/s/{n}/*/x",
            8: f"/t/{n}/**",
            9: f"/u/{n}/**",
        }[kind]
        origins = [f"https://a{n}.example.com", f"https://*.b{n}.example.com"]
        if n % 7 == 0:
            origins.append(f"http://x{n}.example.com")  # a warning with credentials
        regexes = [rf"^https://[a-z0-9-]+\.c{n}\.example\.com$"] if n % 5 == 0 else []
        made.append(
            CorsPolicy(
                name=f"policy {n:06}",
                path_pattern=pattern,
                priority=n % 4,
                enabled=kind != 8,
                report_only=kind == 9,
                allowed_origins=origins,
                allowed_origin_regexes=regexes,
                allowed_methods=["GET", "PUT", "DELETE"],
                allowed_headers=["Content-Type", "X-Token"],
                allow_credentials=n % 3 == 0,
                max_age=600,
            )
        )
    return made


def best(run: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def measure(count: int, repeats: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from cors_policies.cache import snapshot
    from cors_policies.models import CorsPolicy

    CorsPolicy.objects.all().delete()
    CorsPolicy.objects.bulk_create(policies(count), batch_size=500)
    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_superuser(
        "bench", "bench@example.com", None
    )
    client = Client()
    client.force_login(user)
    admin = "/admin/cors_policies/corspolicy/"

    def get(url: str, **query: Any) -> None:
        response = client.get(url, query)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} {query} answered {response.status_code}")

    snapshot.reset()
    started = time.perf_counter()
    snapshot.get()
    built = (time.perf_counter() - started) * 1000
    get(admin)  # warm-up: templates, the version check
    queries: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)):
        get(admin)
    last = (count + 99) // 100

    def api_cold() -> None:
        remembered = getattr(sys.modules.get("cors_policies.protected"), "_warnings", None)
        if remembered is not None:
            remembered.cache_clear()
        get("/api/cors/policies/", page_size=200)

    return {
        "size": count,
        "snapshot": built,
        "admin": best(lambda: get(admin), repeats),
        "by name": best(lambda: get(admin, o="2"), repeats),
        "last page": best(lambda: get(admin, p=str(last)), repeats),
        "search": best(lambda: get(admin, q="policy 00"), repeats),
        "api cold": best(api_cold, repeats),
        "api warm": best(lambda: get("/api/cors/policies/", page_size=200), repeats),
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000,25000,50000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        setup(Path(tmp) / "pages.sqlite3")
        results = [measure(size, args.repeats) for size in sizes]
    first = results[0]
    columns = ["snapshot", "admin", "by name", "last page", "search", "api cold", "api warm"]
    print(
        "| policies | " + " | ".join(f"{name} (ms)" for name in columns) + " | admin growth | size growth | queries |"
    )
    print("| ---: " * (len(columns) + 4) + "|")
    for row in results:
        cells = [f"{row['size']:,}", *(f"{row[name]:.0f}" for name in columns)]
        cells += [f"{row['admin'] / first['admin']:.1f}x", f"{row['size'] / first['size']:.0f}x", str(row["queries"])]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
