#!/usr/bin/env python3
"""The snapshot's build: a full build and a one-change incremental rebuild, time and memory, by policy count.

Usage (from the repository root, after ``python3 scripts/test.py`` made .venv):

    .venv/bin/python bench/build.py [--sizes 1000 10000 100000] [--repeats 5] [--json]

Each size runs in its own process on a fresh SQLite file (or ``DATABASE_URL``'s database, emptied first). The
policies are a tenant each (``/tenantNNNNNN/**``, one origin; every tenth an exact path). Reported:

- full build: reading every enabled row, compiling each policy, indexing the set (``snapshot.build``), best of
  ``--repeats``; and its memory under tracemalloc: the peak while building and what the built set retains;
- one change: one policy's origins updated through the ORM, then ``snapshot.build(version, entries, previous)``:
  the stamps query, the changed row, one compile, the previous index shared; and one policy's path pattern
  changed, which indexes the set again. Medians of ``--repeats`` changes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def configure(path: str) -> None:
    from django.conf import settings

    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        from testproject.settings import parse_database_url

        database = parse_database_url(url)
    else:
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",  # noqa: S106
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "cors_policies"],
        DATABASES={"default": database},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    import django

    django.setup()


def seed(count: int) -> None:
    from django.core.management import call_command

    from cors_policies.models import CorsPolicy

    call_command("migrate", verbosity=0, run_syncdb=True)
    CorsPolicy.objects.all().delete()
    common = {"allowed_methods": ["GET", "PUT"], "allowed_headers": ["Content-Type"]}
    batch = []
    for n in range(count):
        pattern = f"/tenant{n:06d}/item" if n % 10 == 0 else f"/tenant{n:06d}/**"
        batch.append(
            CorsPolicy(name=f"t{n:06d}", path_pattern=pattern, allowed_origins=[f"https://t{n}.example.com"], **common)
        )
        if len(batch) == 5000:
            CorsPolicy.objects.bulk_create(batch)
            batch = []
    CorsPolicy.objects.bulk_create(batch)


def measure(count: int, repeats: int) -> dict[str, Any]:
    from cors_policies.models import CorsPolicy
    from cors_policies.snapshot import build

    seed(count)
    full = []
    for _ in range(repeats):
        started = time.perf_counter()
        policy_set, entries = build(1)
        full.append(time.perf_counter() - started)
        assert len(policy_set) == count
    policy_set = entries = None  # type: ignore[assignment]
    gc.collect()
    tracemalloc.start()
    policy_set, entries = build(1)
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ids = list(CorsPolicy.objects.order_by("pk").values_list("pk", flat=True)[:: max(count // repeats, 1)])[:repeats]
    one, moved = [], []
    for index, pk in enumerate(ids):
        # The common edit: an origin added (the policy keeps its place in the index).
        CorsPolicy.objects.filter(pk=pk).update(allowed_origins=[f"https://t{pk}.example.com", "https://new.example"])
        started = time.perf_counter()
        policy_set, entries = build(2 + index, entries, policy_set)
        one.append(time.perf_counter() - started)
        assert len(policy_set) == count
        # A new path pattern: the policy moves in the index, which is built again.
        CorsPolicy.objects.filter(pk=pk).update(path_pattern=f"/moved{pk}/**")
        started = time.perf_counter()
        policy_set, entries = build(2 + index, entries, policy_set)
        moved.append(time.perf_counter() - started)
    return {
        "policies": count,
        "full_s": min(full),
        "peak_mb": peak / 1e6,
        "retained_mb": retained / 1e6,
        "one_change_ms": statistics.median(one) * 1000,
        "one_path_change_ms": statistics.median(moved) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print raw JSON instead of the table")
    args = parser.parse_args()
    if args.case:
        with tempfile.TemporaryDirectory() as directory:
            configure(str(Path(directory) / "bench.sqlite3"))
            print(json.dumps(measure(args.case, args.repeats)))
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--case", str(size), "--repeats", str(args.repeats)]
        output = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
        rows.append(json.loads(output.stdout.strip().splitlines()[-1]))
        print(f"measured {size}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("| policies | full build | peak memory | retained | one policy's answers changed | one path changed |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['policies']:,} | {row['full_s']:.2f} s | {row['peak_mb']:.0f} MB | {row['retained_mb']:.0f} MB "
            f"| {row['one_change_ms']:.1f} ms | {row['one_path_change_ms']:.1f} ms |"
        )


if __name__ == "__main__":
    main()
