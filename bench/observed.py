#!/usr/bin/env python3
"""Observed origins under a flood: 100,000 requests from distinct random origins in one flush interval.

Usage (from the repository root, after ``python3 scripts/test.py`` made .venv):

    .venv/bin/python bench/observed.py [--requests 100000] [--max-keys 2000] [--timing 20000]

The requests go through Django's WSGIHandler with only the CORS middleware (as bench/run.py), against one
policy that refuses them all, with recording on and flushing manual, so the whole flood lands in one
interval. Reported: the memory the flood leaves allocated and its peak (tracemalloc, so the flood runs
slower than it would untraced), the rows written by the one flush that follows (at most OBSERVE_MAX_KEYS),
and the overflow counted. ``--timing N`` also times N allowed GETs with recording on and off (best of 5
rounds each, untraced); the issue's target compares ratios to the no-CORS floor, which bench/run.py and
bench/load.py measure.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import environ  # noqa: E402  (after the path is set)

ALLOWED = "https://app.example.com"


def configure(database: Path, max_keys: int) -> None:
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",  # noqa: S106
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF="bench.urls",
        MIDDLEWARE=["cors_policies.middleware.CorsPolicyMiddleware"],
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "cors_policies"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        CORS_POLICIES={"REFRESH_INTERVAL": 3600, "OBSERVE_FLUSH": "manual", "OBSERVE_MAX_KEYS": max_keys},
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    import django

    django.setup()


def run(handler: Any, origin: str, path: str = "/bench/item") -> None:
    env = environ("GET", path, {"Origin": origin})

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        if not status.startswith("2"):
            raise SystemExit(f"GET {path} answered {status}")

    result = handler(env, start_response)
    for _chunk in result:
        pass
    result.close()


def timed(handler: Any, requests: int, repeats: int = 5) -> float:
    """Best µs per allowed GET over the repeats."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(requests):
            run(handler, ALLOWED)
        best = min(best, (time.perf_counter() - started) / requests * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--max-keys", type=int, default=2000)
    parser.add_argument("--timing", type=int, default=0, help="also time this many allowed GETs, recording on/off")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        configure(Path(tmp) / "bench.sqlite3", args.max_keys)
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.management import call_command
        from django.db import connection

        from cors_policies.models import CorsPolicy, ObservedOrigin
        from cors_policies.observed import recorder

        call_command("migrate", verbosity=0)
        CorsPolicy.objects.create(name="api", path_pattern="/bench/**", allowed_origins=[ALLOWED])
        connection.ensure_connection()
        handler = WSGIHandler()
        run(handler, ALLOWED)  # loads the snapshot
        recorder.reset()

        origins = [f"https://{secrets.token_hex(8)}.example.net" for _ in range(args.requests)]
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        for origin in origins:
            run(handler, origin)
        elapsed = time.perf_counter() - started
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        held = len(recorder.pending())
        written = recorder.flush()
        result: dict[str, Any] = {
            "requests": args.requests,
            "distinct_origins": len(set(origins)),
            "max_keys": args.max_keys,
            "keys_held": held,
            "memory_retained_mb": round((current - baseline) / 1e6, 2),
            "memory_peak_mb": round((peak - baseline) / 1e6, 2),
            "rows_written": written,
            "rows_in_table": ObservedOrigin.objects.count(),
            "overflow_counted": recorder.totals.overflow,
            "flood_seconds_traced": round(elapsed, 1),
        }
        if args.timing:
            from django.test.utils import override_settings

            on = timed(handler, args.timing)
            with override_settings(CORS_POLICIES={"REFRESH_INTERVAL": 3600, "OBSERVE": False}):
                off = timed(handler, args.timing)
            result["allowed_get_us_recording_on"] = round(on, 1)
            result["allowed_get_us_recording_off"] = round(off, 1)
            result["on_over_off"] = round(on / off, 3)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
