#!/usr/bin/env python3
"""Search for the most expensive request against the most expensive policy set validation accepts.

Usage (from the repository root): ``.venv/bin/python bench/worst_case.py [--policies 10000] [--rounds 40]``

Policy sets: each family below has ``--policies`` policies, every one accepted by the model's validators
(checked), with regexes at the caps (500 characters, 2,000 RE2 instructions, 10 origin regexes per
policy) and, in some, shapes chosen to make RE2's automaton build a new state on every byte. Requests:
the longest that reach Django through a stock server: a path of 8 KiB (nginx's default header buffer;
gunicorn stops at a 4,094-byte request line), an Origin of 2,048 characters (longer ones the engine
ignores before any regex), an Access-Control-Request-Headers of 8 KiB; text drawn from each family's
own alphabet, then mutated, keeping the costliest (a hill climb over ``--rounds`` rounds).

What is measured is the CPU time (``time.thread_time_ns``) of what the middleware asks the engine for
one request: ``decide`` (match the path, then the verdict) and, where report-only policies exist,
``decide_report_only``. Each request runs on fresh text, so RE2's automaton cannot have cached the
states it needs: the cold cost, which is what an attacker gets. Figures are per request, in µs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cors_policies.engine import MAX_ORIGIN_LENGTH, MAX_REQUEST_HEADERS_LENGTH, PolicySet, PolicySpec

PATH_LIMIT = 8192
MAX_PATTERN = 500


@dataclass
class Family:
    """A policy set and the alphabet its worst requests are made of."""

    name: str
    specs: list[PolicySpec]
    path_alphabet: str
    origin_alphabet: str
    path_prefix: str = "/"
    origin_prefix: str = "https://"


def _origin_regexes(i: int, shape: str) -> list[str]:
    """Ten origin regexes at the caps: ``shape`` ``counting`` makes RE2's automaton count (one state
    per byte on crafted text), ``plain`` is what people write."""
    if shape == "counting":
        return [rf"^https://[a-z]*a[a-z]{{12}}z{j}x{i}\.example\.com$" for j in range(10)]
    return [rf"^https://([a-z0-9-]+\.)*app{j}-{i}\.example\.com$" for j in range(10)]


def families(count: int) -> Iterator[Family]:
    """Policy sets at the caps; every spec passes the validators."""
    yield Family(
        "realistic: literals, globs, regexes, 10 origin regexes each",
        [
            PolicySpec(
                id=i,
                name=f"p{i}",
                path_pattern=[f"/api/v1/r{i}/*/items", f"/api/r{i}/**", f"/svc{i}/health", rf"^/legacy/{i}/[^/]+/"][
                    i % 4
                ],
                allowed_origins=[f"https://a{i}.example.com", "https://*.example.org"],
                allowed_origin_regexes=_origin_regexes(i, "plain"),
                allowed_methods=["GET", "PUT"],
                allowed_headers=["Content-Type", "X-Token"],
                report_only=i % 10 == 0,
            )
            for i in range(count)
        ],
        "/apivrsclegyhtm0123456789",
        "abcdefghijklmnopqrstuvwxyz0123456789-.",
    )
    yield Family(
        "catch-all with counting origin regexes, 10,000 root globs with '**'",
        [
            PolicySpec(
                id=i,
                name=f"g{i}",
                path_pattern="/" + "/".join(["**", "a", "*"] * 20)[:MAX_PATTERN].rstrip("/*") + f"/x{i}",
                allowed_origin_regexes=_origin_regexes(i, "counting"),
                allowed_methods=["*"],
                allowed_headers=["*"],
            )
            for i in range(count - 1)
        ]
        + [PolicySpec(id=count, name="all", path_pattern="/**", allowed_origin_regexes=_origin_regexes(0, "counting"))],
        "a/",
        "az",
        "/",
        "https://",
    )
    yield Family(
        "regex path policies that count (one automaton state per byte)",
        [
            PolicySpec(
                id=i,
                name=f"r{i}",
                path_pattern=rf"^/[ab]*a[ab]{{{12 + i % 4}}}x{i}",
                allowed_origins=["https://app.example.com"],
                report_only=i % 2 == 1,
            )
            for i in range(count)
        ],
        "ab",
        "abcdefghijklmnopqrstuvwxyz",
    )
    yield Family(
        "regex path policies at 500 characters",
        [
            PolicySpec(
                id=i,
                name=f"l{i}",
                path_pattern=("^/(?:" + "|".join(f"s{i}x{j}" for j in range(200)))[: MAX_PATTERN - 5] + r"|.)*$",
                allowed_origins=["https://app.example.com"],
            )
            for i in range(count)
        ],
        "sx0123456789/",
        "abcdefghijklmnopqrstuvwxyz",
    )


def validate(family: Family) -> None:
    """Every spec must be accepted by the model's validators: that is the point of the search."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=False)
        django.setup()
    from cors_policies import validators

    for spec in family.specs[:: max(1, len(family.specs) // 200)] + family.specs[-1:]:  # a sample: they share a shape
        validators.validate_path_pattern(spec.path_pattern)
        validators.validate_origins(list(spec.allowed_origins))
        validators.validate_origin_regexes(list(spec.allowed_origin_regexes))
        validators.validate_header_names(list(spec.allowed_headers))
        validators.validate_methods(list(spec.allowed_methods))


@dataclass
class Request:
    method: str
    path: str
    origin: str
    request_method: str | None = None
    request_headers: str | None = None


def random_request(family: Family, rng: random.Random) -> Request:
    path = family.path_prefix + "".join(rng.choice(family.path_alphabet) for _ in range(PATH_LIMIT - 8))
    body = MAX_ORIGIN_LENGTH - len(family.origin_prefix) - len(".example.com")
    origin = family.origin_prefix + "".join(rng.choice(family.origin_alphabet) for _ in range(body)) + ".example.com"
    headers = ",".join(f"x-h{i}" for i in range(MAX_REQUEST_HEADERS_LENGTH // 8))[:MAX_REQUEST_HEADERS_LENGTH]
    if rng.random() < 0.5:
        return Request("OPTIONS", path, origin, "PUT", headers.rsplit(",", 1)[0])
    return Request("GET", path, origin)


def mutate(request: Request, family: Family, rng: random.Random) -> Request:
    """A fresh text of the same shape (the automaton must not have cached it) with one region changed."""
    fresh = random_request(family, rng)
    cut = rng.randrange(1, len(request.path))
    path = (request.path[:cut] + fresh.path[cut:])[:PATH_LIMIT]
    return Request(request.method, path, fresh.origin, request.request_method, request.request_headers)


def cost(policy_set: PolicySet, request: Request) -> float:
    """CPU µs of what the middleware asks the engine for this request."""
    start = time.thread_time_ns()
    policy = policy_set.match(request.path)
    if policy is not None:
        policy_set.decide(
            policy,
            origin=request.origin,
            method=request.method,
            request_method=request.request_method,
            request_headers=request.request_headers,
        )
    if policy_set.report_only is not None:
        policy_set.evaluate_report_only(
            origin=request.origin,
            method=request.method,
            path=request.path,
            request_method=request.request_method,
            request_headers=request.request_headers,
        )
    return (time.thread_time_ns() - start) / 1000


def search(
    policy_set: PolicySet, family: Family, rounds: int, rng: random.Random, budget: float
) -> tuple[float, Request]:
    """Random starts, then hill climbing on the costliest request, for ``rounds`` or ``budget`` seconds."""
    worst = random_request(family, rng)
    worst_cost = cost(policy_set, worst)
    deadline = time.monotonic() + budget
    for _ in range(rounds):
        if time.monotonic() > deadline:
            break
        candidate = mutate(worst, family, rng) if rng.random() < 0.7 else random_request(family, rng)
        spent = cost(policy_set, candidate)
        if spent > worst_cost:
            worst, worst_cost = candidate, spent
    # Confirm on fresh text of the same shape: the median of three, so one scheduler hiccup does not count.
    confirmations = sorted(cost(policy_set, mutate(worst, family, rng)) for _ in range(3))
    return confirmations[1], worst


def main(argv: list[str] | None = None, out: Callable[[str], object] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds of search per policy set")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    out("| policy set | build s | worst request | CPU µs (median of 3) |\n| --- | ---: | --- | ---: |")
    overall = 0.0
    for family in families(args.policies):
        validate(family)
        start = time.perf_counter()
        policy_set = PolicySet.build(family.specs)
        built = time.perf_counter() - start
        assert not policy_set.errors, policy_set.errors[:3]
        spent, request = search(policy_set, family, args.rounds, rng, args.budget)
        overall = max(overall, spent)
        shown = f"{request.method} {request.path[:12]!r}… ({len(request.path)} chars), Origin {len(request.origin)}"
        out(f"| {family.name} | {built:.1f} | {shown} | {spent:,.0f} |")
    out(f"\nWorst request found: {overall:,.0f} µs of CPU in the engine.")


if __name__ == "__main__":
    main()
