#!/usr/bin/env python3
"""Request latency at 10,000 policies, with no changes and with one policy change a second.

Usage (from the repository root, after ``python3 scripts/test.py`` made .venv; PostgreSQL and Redis running):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cors_policies_bench REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python bench/churn.py [--policies 10000] [--workers 2] [--rate 500] [--seconds 10] [--rounds 3]

The demo runs under gunicorn (``--workers`` sync workers, the demo's settings: ``REFRESH_INTERVAL`` 1.0, ``PUSH``
"auto") on a database of ``--policies`` policies. The load is open-loop: ``GET /health`` with an allowed Origin is
due every 1/``--rate`` seconds whatever the server does, each on a new connection (gunicorn's sync workers close
them), and a request's latency runs from when it was due, so a worker busy rebuilding shows as latency rather than
as fewer requests sent. After a warm-up, ``--rounds`` pairs of phases of ``--seconds`` each, alternating (a noisy
stretch of a shared machine then hits both): no changes; one change a second (a policy's allowed origins, saved
through the ORM by another process, which commits and announces it). Each phase's requests are pooled over the
rounds, and the ratio of the p99s printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.propagation import ROOT, percentile, served, served_environment

ORIGIN = "https://app.example.com"
#: A request unanswered after this many seconds counts as failed (a backlog that grows without bound ends).
TIMEOUT = 30.0


def seed(policies: int) -> None:
    """Exactly ``policies`` policies besides ``health`` (which allows ORIGIN), in as few statements as Django needs."""
    from cors_policies.models import CorsPolicy

    CorsPolicy.objects.all().delete()
    CorsPolicy.objects.create(name="health", path_pattern="/health", allowed_origins=[ORIGIN], allowed_methods=["GET"])
    CorsPolicy.objects.bulk_create(
        (
            CorsPolicy(
                name=f"churn-{number}",
                path_pattern=f"/churn/{number}/items/",
                allowed_origins=[f"https://s{number}.example.com"],
                allowed_methods=["GET", "POST"],
            )
            for number in range(policies)
        ),
        batch_size=1000,
    )


async def _exchange(host: str, port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()


async def _one(host: str, port: int, due: float, results: list[tuple[float, bool]]) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, due - loop.time()))
    request = f"GET /health HTTP/1.1\r\nHost: {host}\r\nOrigin: {ORIGIN}\r\nConnection: close\r\n\r\n".encode()
    ok = False
    try:
        answer = await asyncio.wait_for(_exchange(host, port, request), timeout=TIMEOUT)
        ok = answer.startswith(b"HTTP/1.1 200") and f"access-control-allow-origin: {ORIGIN}".encode() in answer.lower()
    except (OSError, asyncio.TimeoutError):
        pass  # counted as failed, with the time it took
    results.append((loop.time() - due, ok))


async def _load(host: str, port: int, rate: float, seconds: float) -> list[tuple[float, bool]]:
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    results: list[tuple[float, bool]] = []
    count = int(rate * seconds)
    await asyncio.gather(*(_one(host, port, start + number / rate, results) for number in range(count)))
    return results


def load(base: str, rate: float, seconds: float) -> list[tuple[float, bool]]:
    """Open-loop load: (latency from when the request was due, whether it got its CORS header) per request."""
    host, port = base.removeprefix("http://").split(":")
    return asyncio.run(_load(host, int(port), rate, seconds))


def change_loop(policies: int) -> None:
    """In its own process (``--change-loop``): one policy change a second until stdin closes, saved through the ORM,
    which commits and announces it. Its own process, so that its work never delays the load generator's loop."""
    import django

    django.setup()
    from cors_policies.models import CorsPolicy

    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    changes = 0
    while not stop.wait(1.0):
        policy = CorsPolicy.objects.get(name=f"churn-{changes % policies}")
        policy.allowed_origins = [f"https://changed-{changes}.example.com"]
        policy.save()
        changes += 1
    print(changes, flush=True)


class Changer:
    """One policy change a second, from another process, until stopped."""

    def __init__(self, policies: int) -> None:
        self.policies = policies
        self.changes = 0
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Changer:
        command = [sys.executable, __file__, "--change-loop", "--policies", str(self.policies)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # noqa: S603
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        output, _ = self.process.communicate("", timeout=60)
        self.changes = int(output.strip() or 0)


def summary(results: list[tuple[float, bool]]) -> dict[str, Any]:
    ms = [1000 * latency for latency, _ in results]
    return {
        "requests": len(ms),
        "failed": sum(1 for _, ok in results if not ok),
        "p50": percentile(ms, 0.5),
        "p99": percentile(ms, 0.99),
        "max": max(ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of phases, alternating")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--push", choices=["auto", "off"], default="auto", help="off: PUSH=False, polling only")
    parser.add_argument("--change-loop", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.change_loop:
        change_loop(args.policies)
        return
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "") or None
    if not database_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://... (and REDIS_URL=redis://...): the workers share the database")
    with tempfile.TemporaryDirectory() as folder:
        policies = {"REFRESH_INTERVAL": 1.0, "PUSH": "auto" if args.push == "auto" else False}
        env = served_environment(database_url, redis_url, policies, folder)
        os.environ.update(env)  # this process (seeding) and the changer run the same settings as the workers
        sys.path.insert(0, folder)
        migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
        subprocess.run(migrate, cwd=ROOT, env=env, check=True)  # noqa: S603
        import django

        django.setup()
        seed(args.policies)
        phases: dict[str, list[tuple[float, bool]]] = {"no changes": [], "one change a second": []}
        changes = 0
        with served(args.workers, env) as base:
            load(base, args.rate / 5, args.warmup)  # every worker has loaded its snapshot
            for _ in range(args.rounds):  # alternating, so a noisy stretch of the machine hits both phases
                phases["no changes"] += load(base, args.rate, args.seconds)
                with Changer(args.policies) as changer:
                    phases["one change a second"] += load(base, args.rate, args.seconds)
                changes += changer.changes
    print(
        f"{args.policies:,} policies, gunicorn {args.workers} workers, open-loop {args.rate:.0f} req/s, "
        f"{args.rounds} x {args.seconds:.0f} s per phase, alternating; "
        + ("polling only" if args.push == "off" else f"push {'Redis + PostgreSQL' if redis_url else 'PostgreSQL'}")
    )
    print("| phase | changes | requests | failed | p50 (ms) | p99 (ms) | max (ms) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = {name: summary(results) for name, results in phases.items()}
    for name, row in rows.items():
        print(
            f"| {name} | {changes if name != 'no changes' else 0} | {row['requests']} | {row['failed']} "
            f"| {row['p50']:.1f} | {row['p99']:.1f} | {row['max']:.0f} |"
        )
    ratio = rows["one change a second"]["p99"] / rows["no changes"]["p99"]
    print(f"p99 with changes / p99 without: {ratio:.2f}x (target 1.5x)")


if __name__ == "__main__":
    main()
