#!/usr/bin/env python3
"""The snapshot's build: a full build and a one-change incremental rebuild, time and memory, by policy count.

Usage (from the repository root, after ``python3 scripts/test.py`` made .venv):

    .venv/bin/python bench/build.py [--sizes 1000 10000 100000] [--repeats 5] [--json]

Each size runs in its own process on a fresh SQLite file (or ``DATABASE_URL``'s database, emptied first). The
policies are a tenant each (:func:`policy_fields`): mostly globs, every tenth an exact path, eight regexes within
the path automaton's budget; one to three origins (wildcards checked against the Public Suffix List); method,
header and exposed lists from a few common ones. Reported:

- full build: reading every enabled row, compiling each policy, indexing the set (``snapshot.build``), the median
  of ``--repeats`` in wall-clock time and in this process's CPU time (what a shared machine's other load does
  not count); and its memory under tracemalloc: the peak while building and what the built set retains;
- one change, then ``snapshot.build(version, entries, previous)`` (wall-clock; CPU in brackets): the stamps
  query, the changed rows, their compiles, the previous index edited. An edit (an origin added: the policy keeps
  its place), a new path pattern, a new priority (both move the policy in the index), a policy added, one
  removed: what the interval check does when a change was not announced with its ids. Then an edit as a process
  that heard it announced rebuilds (``ids``: that row alone is read). Medians of ``--repeats`` changes of each
  kind; the set after them is checked against a full build.
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


#: Shared values, as sites have them: a few method lists, header lists and origins that many policies name.
METHODS = (["GET"], ["GET", "POST"], ["GET", "PUT", "PATCH", "DELETE"], ["*"])
HEADERS = ([], ["Content-Type"], ["Content-Type", "Authorization"], ["Content-Type", "X-Requested-With", "X-CSRFToken"])
SHARED_ORIGINS = ("https://admin.example.com", "http://localhost:3000", "https://*.partner.example.net")
#: Regex path policies: a few, within the path automaton's budget (160 RE2 instructions for all).
REGEXES = 8


def policy_fields(n: int) -> dict[str, Any]:
    """Policy ``n`` of the mix: a tenant each, mostly globs (``/tenantNNNNNN/**``, ``/tenantNNNNNN/*/items``),
    every tenth an exact path, a few regexes; one to three origins (its own, sometimes a wildcard under it,
    sometimes a shared one); methods and headers from a few common lists."""
    if n < REGEXES:
        pattern = f"^/rx{n}/[0-9]+/(?:a|b)$"
    elif n % 10 == 0:
        pattern = f"/tenant{n:06d}/item"
    elif n % 10 == 1:
        pattern = f"/tenant{n:06d}/*/items"
    else:
        pattern = f"/tenant{n:06d}/**"
    origins = [f"https://t{n}.example.com"]
    if n % 3 == 0:
        origins.append(f"https://*.t{n}.example.com")
    if n % 4 == 0:
        origins.append(SHARED_ORIGINS[n % len(SHARED_ORIGINS)])
    return {
        "name": f"t{n:06d}",
        "path_pattern": pattern,
        "priority": n % 3,
        "allowed_origins": origins,
        "allowed_methods": METHODS[n % len(METHODS)],
        "allowed_headers": HEADERS[n % len(HEADERS)],
        "expose_headers": ["X-Total-Count"] if n % 5 == 0 else [],
        "allow_credentials": n % 2 == 0 and METHODS[n % len(METHODS)] != ["*"],
        "max_age": 600 if n % 2 else None,
    }


def seed(count: int) -> None:
    from django.core.management import call_command

    from cors_policies.models import CorsPolicy

    call_command("migrate", verbosity=0, run_syncdb=True)
    CorsPolicy.objects.all().delete()
    batch = []
    for n in range(count):
        batch.append(CorsPolicy(**policy_fields(n)))
        if len(batch) == 5000:
            CorsPolicy.objects.bulk_create(batch)
            batch = []
    CorsPolicy.objects.bulk_create(batch)


def timed(version: int, entries: Any, policy_set: Any, ids: Any = None) -> tuple[float, float, Any, Any]:
    """One rebuild's wall-clock and CPU time, and what it built."""
    from cors_policies.snapshot import build

    started, started_cpu = time.perf_counter(), time.process_time()
    policy_set, entries = build(version, entries, policy_set, ids)
    return time.perf_counter() - started, time.process_time() - started_cpu, policy_set, entries


def measure(count: int, repeats: int) -> dict[str, Any]:
    from cors_policies.models import CorsPolicy
    from cors_policies.snapshot import build

    seed(count)
    full, cpu = [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        policy_set, entries = build(1)
        full.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert len(policy_set) == count, policy_set.errors[:3]
    policy_set = entries = None  # type: ignore[assignment]
    gc.collect()
    tracemalloc.start()
    policy_set, entries = build(1)
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ids = list(CorsPolicy.objects.order_by("pk").values_list("pk", flat=True)[REGEXES :: max(count // repeats, 1)])
    times: dict[str, list[float]] = {"edit": [], "path": [], "priority": [], "add": [], "remove": [], "announced": []}
    cpu_times: dict[str, list[float]] = {name: [] for name in times}
    version = 2
    for index, pk in enumerate(ids[:repeats]):
        other = ids[(index + 1) % len(ids)]  # not removed yet: the announced edit changes a policy still there
        steps = [
            # The common edit: an origin added (the policy keeps its place in the index).
            (
                "edit",
                lambda pk=pk: CorsPolicy.objects.filter(pk=pk).update(
                    allowed_origins=[f"https://t{pk}.example.com", "https://new.example"]
                ),
            ),
            # A new path pattern and a new priority: the policy moves in the index.
            ("path", lambda pk=pk: CorsPolicy.objects.filter(pk=pk).update(path_pattern=f"/moved{pk}/**")),
            ("priority", lambda pk=pk: CorsPolicy.objects.filter(pk=pk).update(priority=7)),
            ("add", lambda index=index: CorsPolicy.objects.create(**policy_fields(count + 1 + index))),
            ("remove", lambda pk=pk: CorsPolicy.objects.filter(pk=pk).delete()),
            # The edit again, as a process that heard the change announced with its policy's id rebuilds.
            (
                "announced",
                lambda pk=other: CorsPolicy.objects.filter(pk=pk).update(
                    allowed_origins=[f"https://t{pk}.example.com", "https://announced.example"]
                ),
            ),
        ]
        for name, change in steps:
            change()
            named = None
            if name == "announced":
                named = frozenset({other})
            elapsed, elapsed_cpu, policy_set, entries = timed(version, entries, policy_set, named)
            times[name].append(elapsed)
            cpu_times[name].append(elapsed_cpu)
            version += 1
    fresh, _ = build(version)
    assert [p.id for p in fresh.policies] == [p.id for p in policy_set.policies]  # the same set as a full build
    return {
        "policies": count,
        "full_s": statistics.median(full),
        "full_cpu_s": statistics.median(cpu),
        "peak_mb": peak / 1e6,
        "retained_mb": retained / 1e6,
        **{f"{name}_ms": statistics.median(values) * 1000 for name, values in times.items()},
        **{f"{name}_cpu_ms": statistics.median(values) * 1000 for name, values in cpu_times.items()},
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
    print(
        "| policies | full build, wall (CPU) | peak memory | retained | one edit | one path moved "
        "| one priority changed | one added | one removed | one edit, announced |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['policies']:,} | {row['full_s']:.2f} s ({row['full_cpu_s']:.2f} s) "
            f"| {row['peak_mb']:.0f} MB | {row['retained_mb']:.0f} MB "
            + "".join(
                f"| {row[f'{name}_ms']:.1f} ms ({row[f'{name}_cpu_ms']:.1f}) "
                for name in ("edit", "path", "priority", "add", "remove", "announced")
            )
            + "|"
        )


if __name__ == "__main__":
    main()
