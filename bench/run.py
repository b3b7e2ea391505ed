#!/usr/bin/env python3
"""Per-request cost of the CORS layer over the full Django request path, side by side in one run.

Usage (from the repository root, after ``python3 scripts/test.py`` made .venv):

    .venv/bin/python bench/run.py [--requests 20000] [--repeats 7] [--json]
    .venv/bin/python bench/run.py --layer [--rounds 3]
    PYTHONPATH=. valgrind --tool=callgrind .venv/bin/python bench/run.py --drive cors_policies one get 1200

Each case runs in its own subprocess with its own settings: Django's WSGIHandler, one trivial view,
the response body consumed, no other middleware (so the ratios show the CORS layer at its most
visible). Every case reports the best of ``--repeats`` rounds of ``--requests`` requests (the least
disturbed by other load on a shared machine); compare the ratios, not the absolute numbers.

``--layer`` measures the CORS layer alone, for comparing two versions of the middleware and the engine on a busy
machine: the CPU time of this thread (``time.thread_time``, which time spent waiting for a core does not count)
per call of the middleware around a view that returns a prebuilt response, for the allowed GET, the refused
GET, the preflight and a GET on a path no policy covers; each case in its own process, ``--rounds`` times, and
the median of the rounds' best printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = "https://app.example.com"
ORIGINS = [ALLOWED, "https://admin.example.com", "http://localhost:3000"]


def environ(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    import io

    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


GET = ("GET", {"Origin": ALLOWED})
REFUSED = ("GET", {"Origin": "https://evil.test"})
PREFLIGHT = (
    "OPTIONS",
    {"Origin": ALLOWED, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"},
)


def configure(kind: str) -> None:
    from django.conf import settings

    middleware = {
        "none": [],
        "noop": ["bench.urls.NoopMiddleware"],
        "cors_headers": ["corsheaders.middleware.CorsMiddleware"],
        "cors_policies": ["cors_policies.middleware.CorsPolicyMiddleware"],
    }[kind]
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",  # noqa: S106
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF="bench.urls",
        MIDDLEWARE=middleware,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "cors_policies"]
        + (["corsheaders"] if kind == "cors_headers" else []),
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        CORS_ALLOWED_ORIGINS=ORIGINS,
        CORS_POLICIES={"REFRESH_INTERVAL": 3600},
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    import django

    django.setup()


def timed(handler: Any, method: str, path: str, headers: dict[str, str], requests: int, repeats: int) -> float:
    """Best µs per request over the repeats, including consuming the body."""
    env = environ(method, path, headers)

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        if not status.startswith("2"):
            raise SystemExit(f"{method} {path} answered {status}: the benchmark measures only successful requests")

    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(requests):
            env["wsgi.input"].seek(0)
            result = handler(env, start_response)
            for _chunk in result:
                pass
            result.close()
        best = min(best, (time.perf_counter() - started) / requests * 1e6)
    return best


def seed(policies: str) -> dict[str, Any]:
    """Create the policies for a case; return the build time and memory of its snapshot."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, run_syncdb=True)
    from cors_policies.cache import load_policy_set, snapshot
    from cors_policies.models import CorsPolicy

    common = {"allowed_methods": ["GET", "PUT"], "allowed_headers": ["Content-Type"]}
    if policies == "one":
        CorsPolicy.objects.create(name="api", path_pattern="/bench/**", allowed_origins=ORIGINS, **common)
    elif policies.startswith("tenants"):
        count = int(policies.removeprefix("tenants"))
        CorsPolicy.objects.bulk_create(
            [
                CorsPolicy(
                    name=f"tenant{n:05d}",
                    path_pattern=f"/tenant{n:05d}/**",
                    allowed_origins=[f"https://t{n}.example.com"],
                    **common,
                )
                for n in range(count)
            ]
        )
    elif policies == "origins1000":
        origins = [f"https://o{n}.example.com" for n in range(999)] + [ALLOWED]
        CorsPolicy.objects.create(name="many", path_pattern="/bench/**", allowed_origins=origins, **common)
    started = time.perf_counter()
    load_policy_set()
    build = time.perf_counter() - started
    tracemalloc.start()
    kept = load_policy_set()
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    snapshot.reset()
    return {"build_s": build, "snapshot_mb": memory / 1e6}


def run_case(kind: str, policies: str, requests: int, repeats: int) -> dict[str, Any]:
    configure(kind)
    from django.core.handlers.wsgi import WSGIHandler

    extra = seed(policies) if kind == "cors_policies" else {}
    # Every case runs with an open database connection, as every real site does: Django's
    # request_started/finished handlers cost more once a connection exists.
    from django.db import connection

    connection.ensure_connection()
    # ... and with the default cache opened, as the CORS cases have it (the snapshot reads the shared version
    # through it): Django's request_finished then closes it on every request, about 0.4 µs that is no CORS work.
    from django.core.cache import cache

    cache.get("bench")
    handler = WSGIHandler()
    path = "/bench/item"
    origin = ALLOWED
    if policies.startswith("tenants"):
        last = int(policies.removeprefix("tenants")) - 1
        path = f"/tenant{last:05d}/item"
        origin = f"https://t{last}.example.com"
    results = {}
    for label, (method, headers) in {"get": GET, "refused": REFUSED, "preflight": PREFLIGHT}.items():
        headers = {**headers, "Origin": origin} if headers["Origin"] == ALLOWED else headers
        timed(handler, method, path, headers, max(requests // 10, 100), 1)  # warm up (loads the snapshot)
        results[label] = timed(handler, method, path, headers, requests, repeats)
    if kind == "none":  # the tenants' path resolves through another URL pattern: its own floor
        tenant = ("GET", "/tenant09999/item", {"Origin": "https://t9999.example.com"})
        timed(handler, *tenant, max(requests // 10, 100), 1)
        results["get_tenant"] = timed(handler, *tenant, requests, repeats)
    return {"kind": kind, "policies": policies, **results, **extra}


def drive(kind: str, policies: str, request: str, count: int) -> None:
    """``count`` requests of one case after a warm-up, for an instruction counter: run it under
    ``valgrind --tool=callgrind`` with two counts and divide the difference of the totals (instructions do not
    depend on the machine's load). The objects of the set-up are frozen out of the garbage collector's way, so
    the counts repeat (see docs/performance.md)."""
    import gc

    configure(kind)
    if kind == "cors_policies":
        seed(policies)
    from django.core.cache import cache
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    connection.ensure_connection()
    cache.get("bench")
    handler = WSGIHandler()
    from cors_policies.observed import recorder

    recorder._next_flush = float("inf")  # no write of the counters inside the counted requests
    path, origin = "/bench/item", ALLOWED
    if policies.startswith("tenants"):
        last = int(policies.removeprefix("tenants")) - 1
        path, origin = f"/tenant{last:05d}/item", f"https://t{last}.example.com"
    method, headers = {"get": GET, "refused": REFUSED, "preflight": PREFLIGHT}[request]
    headers = {**headers, "Origin": origin} if headers["Origin"] == ALLOWED else headers
    timed(handler, method, path, headers, 300, 1)
    gc.collect()
    gc.freeze()
    timed(handler, method, path, headers, count, 1)


LAYER_CASES = {
    "get": ("/bench/item", GET),
    "refused": ("/bench/item", REFUSED),
    "preflight": ("/bench/item", PREFLIGHT),
    "uncovered": ("/elsewhere", GET),
}


def run_layer(case: str, requests: int, repeats: int) -> float:
    """Best µs of thread CPU time per middleware call for one case (see the module's docstring)."""
    configure("cors_policies")
    seed("one")
    from django.core.handlers.wsgi import WSGIRequest
    from django.http import HttpRequest, HttpResponse

    from cors_policies.middleware import CorsPolicyMiddleware

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    middleware = CorsPolicyMiddleware(view)
    path, (method, headers) = LAYER_CASES[case]
    env = environ(method, path, headers)
    for request in [WSGIRequest(dict(env)) for _ in range(200)]:  # warm up (loads the snapshot)
        middleware(request)
    best = float("inf")
    for _ in range(repeats):
        requests_ = [WSGIRequest(dict(env)) for _ in range(requests)]
        started = time.thread_time()
        for request in requests_:
            middleware(request)
        best = min(best, (time.thread_time() - started) / requests * 1e6)
    return best


def layer(rounds: int) -> None:
    import statistics

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    measured: dict[str, list[float]] = {case: [] for case in LAYER_CASES}
    for _ in range(rounds):
        for case in LAYER_CASES:
            command = [sys.executable, __file__, "--layer-case", case]
            output = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
            measured[case].append(float(output.stdout.strip().splitlines()[-1]))
    print("| request | µs of CPU per middleware call (median of rounds) | rounds |")
    print("| --- | ---: | --- |")
    for case, values in measured.items():
        print(f"| {case} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")


CASES = [
    ("none", "-"),
    ("cors_headers", "-"),
    ("noop", "-"),
    ("cors_policies", "one"),
    ("cors_policies", "tenants1000"),
    ("cors_policies", "tenants10000"),
    ("cors_policies", "origins1000"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--case", nargs=2, metavar=("KIND", "POLICIES"), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print raw JSON instead of the table")
    parser.add_argument("--layer", action="store_true", help="the CORS layer alone, in CPU time (see above)")
    parser.add_argument("--rounds", type=int, default=3, help="with --layer: rounds, each case in its own process")
    parser.add_argument("--layer-case", help=argparse.SUPPRESS)
    parser.add_argument(
        "--drive",
        nargs=4,
        metavar=("KIND", "POLICIES", "REQUEST", "COUNT"),
        help="COUNT requests of one case, for valgrind --tool=callgrind (e.g. cors_policies one get 1200)",
    )
    args = parser.parse_args()
    if args.drive:
        drive(args.drive[0], args.drive[1], args.drive[2], int(args.drive[3]))
        return
    if args.layer_case:
        print(run_layer(args.layer_case, 2000, 25))
        return
    if args.layer:
        layer(args.rounds)
        return
    if args.case:
        print(json.dumps(run_case(args.case[0], args.case[1], args.requests, args.repeats)))
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    for kind, policies in CASES:
        command = [sys.executable, __file__, "--case", kind, policies, "--requests", str(args.requests)]
        command += ["--repeats", str(args.repeats)]
        output = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
        rows.append(json.loads(output.stdout.strip().splitlines()[-1]))
        print(f"measured {kind} {policies}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print_table(rows)


SNAPSHOT_LABELS = {
    "one": "1 policy",
    "tenants1000": "1,000 policies",
    "tenants10000": "10,000 policies",
    "origins1000": "1 policy of 1,000 origins",
}


def print_table(rows: list[dict[str, Any]]) -> None:
    floor = rows[0]
    corsheaders = rows[1]
    print("| case | request | µs/request | x no CORS | x django-cors-headers |")
    print("| --- | --- | ---: | ---: | ---: |")
    names = {
        "none": "no CORS middleware",
        "noop": "an empty pass-through middleware",
        "cors_headers": "django-cors-headers (3 origins)",
    }
    for row in rows:
        label = (
            names.get(row["kind"])
            or {
                "one": "cors_policies, 1 policy (3 origins)",
                "tenants1000": "cors_policies, 1,000 policies",
                "tenants10000": "cors_policies, 10,000 policies",
                "origins1000": "cors_policies, 1 policy of 1,000 origins",
            }[row["policies"]]
        )
        for request in ("get", "refused", "preflight"):
            if row["kind"] in ("cors_headers", "noop") and request == "refused":
                continue
            value = row[request]
            versus = f"{value / corsheaders[request]:.2f}" if row["kind"] not in ("none", "noop") else ""
            what = {"get": "allowed GET", "refused": "refused GET", "preflight": "preflight"}[request]
            if row["kind"] in ("none", "noop"):
                what = {"get": "GET", "refused": "GET (other Origin)", "preflight": "OPTIONS (reaches the view)"}[
                    request
                ]
            print(f"| {label} | {what} | {value:.1f} | {value / floor[request]:.2f} | {versus} |")
    tenants = [row for row in rows if row["policies"] == "tenants10000"]
    if tenants and "get_tenant" in floor:
        print()
        print(
            f"10,000 policies, allowed GET against the same path without CORS ({floor['get_tenant']:.1f} µs: "
            f"another URL pattern than /bench/item): {tenants[0]['get'] / floor['get_tenant']:.2f}x"
        )
    print()
    print("Snapshots, built once per change in each process:")
    print()
    for row in rows[3:]:
        label = SNAPSHOT_LABELS[row["policies"]]
        print(f"- {label}: built in {row['build_s'] * 1000:.0f} ms, {row['snapshot_mb']:.1f} MB")


if __name__ == "__main__":
    main()
