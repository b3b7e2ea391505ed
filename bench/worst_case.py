#!/usr/bin/env python3
"""Search for the most expensive request against the most expensive policy sets validation accepts.

Usage (from the repository root): ``.venv/bin/python bench/worst_case.py [--policies 10000] [--rounds 60]``

Policy sets: each family below has ``--policies`` policies that the validators accept one by one and
together (the budgets: :data:`~cors_policies.engine.MAX_REGEX_PATH_PROGRAM`, ``MAX_GLOB_STEPS``,
``MAX_ORIGIN_REGEX_PROGRAM``), filled to the edge of a budget with shapes chosen to make RE2's automaton
build a new state on every byte it reads ("counting": ``[ab]*a[ab]{k}``) or the glob trie visit as many
nodes as its budget allows. Requests: the longest that reach Django through a stock server (a path of
8 KiB: nginx's default header buffer; gunicorn stops at a 4,094-byte request line) and those at the
reading caps (a path of ``MAX_REGEX_PATH_LENGTH`` bytes, an Origin of ``MAX_REGEX_ORIGIN_LENGTH``
characters, the longest that regexes read; and 2,048, the longest the engine reads at all), an
Access-Control-Request-Headers of 8 KiB; text drawn from each family's alphabet, then mutated, keeping the
costliest (a hill climb over ``--rounds`` rounds).

What is measured is the CPU time (``time.thread_time_ns``) of what the middleware asks the engine for one
request: ``match`` and ``decide`` for the enforced policy and, where report-only policies exist, the
report-only verdict. Each request runs on fresh text, so RE2's automaton cannot have cached the states it
needs: the cold cost, which is what an attacker gets. The worst request found is then measured again,
on fresh text of the same shape, ``--confirm`` times: the figure is the median, in µs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cors_policies.engine import (
    MAX_GLOB_STEPS,
    MAX_ORIGIN_LENGTH,
    MAX_ORIGIN_REGEX_PROGRAM,
    MAX_REGEX_ORIGIN_LENGTH,
    MAX_REGEX_PATH_LENGTH,
    MAX_REGEX_PATH_PROGRAM,
    MAX_REQUEST_HEADER_NAMES,
    MAX_REQUEST_HEADERS_LENGTH,
    PolicySet,
    PolicySpec,
)
from cors_policies.regex import program_size

PATH_LIMIT = 8192
ORIGIN_TAIL = ".example.com"
#: Access-Control-Request-Headers worth trying: the most names the engine reads, each as long as fits in
#: the longest value it reads; the most short names; one more name than it reads; one 8 KiB name.
_LONG = (MAX_REQUEST_HEADERS_LENGTH - MAX_REQUEST_HEADER_NAMES) // (MAX_REQUEST_HEADER_NAMES - 1)
HEADER_SHAPES = (
    ",".join(f"x-{i:03}-" + "h" * (_LONG - 6) for i in range(MAX_REQUEST_HEADER_NAMES - 1)),
    ", ".join(f"x-{i}" for i in range(MAX_REQUEST_HEADER_NAMES - 1)),
    ",".join(f"x-{i}" for i in range(MAX_REQUEST_HEADER_NAMES + 1)),
    "x" * MAX_REQUEST_HEADERS_LENGTH,
)


@dataclass
class Request:
    method: str
    path: str
    origin: str
    request_method: str | None = None
    request_headers: str | None = None


@dataclass
class Family:
    """A policy set, and how to make the requests worth trying against it."""

    name: str
    specs: list[PolicySpec]
    paths: list[Callable[[random.Random], str]]
    origins: list[Callable[[random.Random], str]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------


def text(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def counting_path(length: int) -> Callable[[random.Random], str]:
    """``length`` bytes of a's, b's and slashes: every byte a new state for a counting regex."""
    return lambda rng: "/" + text(rng, "ab/", length - 1)


def segments_path(depth: int, then: int = 0) -> Callable[[random.Random], str]:
    """``depth`` one-letter segments (mostly 'a', the literal segment of the branching globs), then
    ``then`` bytes of counting text."""
    return lambda rng: (
        "".join("/" + rng.choice("aaab") for _ in range(depth)) + ("/" + text(rng, "ab", then - 1))[: max(0, then)]
    )


def host_origin(length: int, alphabet: str = "ab") -> Callable[[random.Random], str]:
    """A serialized origin of ``length`` characters (labels of at most 63), which the engine parses and so
    hands to the origin regexes."""

    def make(rng: random.Random) -> str:
        body = length - len("https://") - len(ORIGIN_TAIL)
        labels, left = [], body
        while left > 0:
            size = min(left, rng.randint(1, 63))
            if left - size == 1:  # a dot and nothing after it is not a label
                size = left
            labels.append(text(rng, alphabet, min(size, 63)))
            left -= size + 1
        return "https://" + ".".join(labels)[:body] + ORIGIN_TAIL

    return make


# --------------------------------------------------------------------------------------------------
# Regexes filling a budget
# --------------------------------------------------------------------------------------------------


def fill(regex: Callable[[int, int], str], budget: int, *, wide: bool, most: int = 1000) -> list[str]:
    """Counting regexes within ``budget`` RE2 instructions: one as wide as fits (``wide``), or as many
    narrow ones as fit (``make(index, width)``)."""
    if wide:
        width = 1
        while program_size((regex(0, width + 1),)) <= budget:
            width += 1
        return [regex(0, width)] if program_size((regex(0, width),)) <= budget else []
    regexes: list[str] = []
    while len(regexes) < most and program_size((*regexes, regex(len(regexes), 12))) <= budget:
        regexes.append(regex(len(regexes), 12))
    return regexes


def counting_origin_regexes(i: int, *, wide: bool) -> list[str]:
    """Origin regexes at the policy's budget that count over the labels of the Origin."""
    return fill(
        lambda j, k: rf"^https://[ab.]*a[ab]{{{k}}}z{j}x{i}\.example\.com$",
        MAX_ORIGIN_REGEX_PROGRAM,
        wide=wide,
        most=10,
    )


def counting_path_regexes(*, wide: bool) -> list[str]:
    return fill(lambda j, k: rf"^/[ab/]*a[ab/]{{{k}}}x{j}", MAX_REGEX_PATH_PROGRAM, wide=wide)


def plain(i: int, **fields: object) -> PolicySpec:
    values: dict[str, object] = {"allowed_origins": ["https://app.example.com"], **fields}
    return PolicySpec(id=i, name=f"p{i}", **values)  # type: ignore[arg-type]


def filler(start: int, count: int, origin_regexes: Callable[[int], list[str]]) -> list[PolicySpec]:
    """Policies that make up the count: literal paths, each with the origin regexes of the family."""
    return [
        plain(i, path_pattern=f"/svc/{i}/health", allowed_origin_regexes=origin_regexes(i))
        for i in range(start, start + count)
    ]


def branching_globs(start: int, *, tails: bool, beside: list[PolicySpec]) -> list[PolicySpec]:
    """Every glob of 'a' and '*' segments, shortest first, while the trie stays within its step budget
    with the globs of ``beside``: a path of 'a' segments follows every one of them. ``tails``: the same
    after a '**', matched from the end of the path."""
    specs: list[PolicySpec] = []
    depth, i = 1, start
    while True:
        for n in range(2**depth):
            parts = ["*" if n >> bit & 1 else "a" for bit in range(depth)]
            pattern = "/" + "/".join(["**", *parts] if tails else [*parts, "x"])
            candidate = plain(i, path_pattern=pattern, priority=2)
            if PolicySet.build([*beside, *specs, candidate]).errors:
                return specs
            specs.append(candidate)
            i += 1
        depth += 1


# --------------------------------------------------------------------------------------------------
# Families
# --------------------------------------------------------------------------------------------------


def families(count: int) -> Iterator[Family]:
    """Policy sets at the budgets' edges; :func:`validate` checks that each is accepted."""
    origins_long = [host_origin(MAX_REGEX_ORIGIN_LENGTH), host_origin(MAX_ORIGIN_LENGTH)]

    def realistic_path(rng: random.Random) -> str:
        i = rng.randrange(count)
        shape = rng.choice([f"/api/v1/r{i}/x/items", f"/api/r{i}/a/b", f"/svc{i}/health", f"/legacy/{i}/x/"])
        return (shape + "/" + text(rng, "abcxyz/", PATH_LIMIT))[: rng.choice([len(shape), 200, PATH_LIMIT])]

    yield Family(
        "realistic: literals, globs, 5 regex paths, 2 origin regexes each",
        [
            plain(
                i,
                path_pattern=[f"/api/v1/r{i}/*/items", f"/api/r{i}/**", f"/svc{i}/health", f"/api/r{i}/*/**"][i % 4]
                if i >= 5
                else rf"^/legacy/{i}/[^/]+/",
                allowed_origins=[f"https://a{i}.example.com", "https://*.example.org"],
                allowed_origin_regexes=[rf"^https://pr-[0-9]+\.a{i}\.example\.com$"],
                allowed_methods=["GET", "PUT"],
                allowed_headers=["Content-Type", "X-Token"],
                report_only=i % 10 == 0,
            )
            for i in range(count)
        ],
        [realistic_path],
        [host_origin(40, "abcdefghijklmnopqrstuvwxyz0123456789-"), *origins_long],
    )

    for wide in (True, False):
        regexes = counting_path_regexes(wide=wide)
        half = len(regexes) // 2
        shape = "one as wide as fits" if wide else f"{len(regexes)} narrow ones"
        yield Family(
            f"regex paths at the budget, counting ({shape}), origin regexes at the budget",
            [
                *(
                    plain(
                        i,
                        path_pattern=regex,
                        priority=1,
                        report_only=i >= half and not wide,
                        allowed_origin_regexes=counting_origin_regexes(i, wide=wide),
                    )
                    for i, regex in enumerate(regexes)
                ),
                plain(
                    count,
                    path_pattern="/**",
                    allowed_headers=["*"],
                    allowed_origin_regexes=counting_origin_regexes(count, wide=wide),
                ),
                plain(
                    count + 1,
                    path_pattern="/**",
                    report_only=True,
                    allowed_origin_regexes=counting_origin_regexes(count + 1, wide=not wide),
                ),
                *filler(
                    len(regexes), count - len(regexes) - 2, lambda i, wide=wide: counting_origin_regexes(i, wide=wide)
                ),
            ],
            [counting_path(MAX_REGEX_PATH_LENGTH), counting_path(PATH_LIMIT)],
            origins_long,
        )

    for tails in (False, True):
        ends = [
            plain(count, path_pattern="/**", allowed_headers=["*"], allowed_origin_regexes=wide_origins(count)),
            plain(count + 1, path_pattern="/**", report_only=True, allowed_origin_regexes=wide_origins(count + 1)),
        ]
        globs = branching_globs(0, tails=tails, beside=ends)
        yield Family(
            f"glob trie at its step budget ({len(globs)} globs of 'a' and '*'{' after **' if tails else ''}), "
            "origin regexes at the budget",
            [*globs, *ends, *filler(len(globs), count - len(globs) - 2, wide_origins)],
            [segments_path(12), segments_path(4000), segments_path(12, MAX_REGEX_PATH_LENGTH)],
            origins_long,
        )

    regexes = counting_path_regexes(wide=True)
    ends = [
        plain(count, path_pattern="/**", allowed_headers=["*"], allowed_origin_regexes=wide_origins(count)),
        plain(count + 1, path_pattern="/**", report_only=True, allowed_origin_regexes=wide_origins(count + 1)),
    ]
    globs = branching_globs(len(regexes), tails=False, beside=ends)
    taken = len(regexes) + len(globs)
    yield Family(
        "everything at once: regex paths, glob trie and origin regexes at their budgets",
        [
            *(plain(i, path_pattern=regex, priority=3) for i, regex in enumerate(regexes)),
            *globs,
            *ends,
            *filler(taken, count - taken - 2, wide_origins),
        ],
        [
            segments_path(10, MAX_REGEX_PATH_LENGTH - 20),
            counting_path(MAX_REGEX_PATH_LENGTH),
            counting_path(PATH_LIMIT),
        ],
        origins_long,
    )


def wide_origins(i: int) -> list[str]:
    return counting_origin_regexes(i, wide=True)


def validate(family: Family) -> PolicySet:
    """Every spec must be accepted by the model's validators, and the set by the budgets: that is the point
    of the search. Returns the set, built as the snapshot builds it."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=False)
        django.setup()
    from cors_policies import validators

    for spec in family.specs[:: max(1, len(family.specs) // 300)] + family.specs[:50] + family.specs[-3:]:
        validators.validate_path_pattern(spec.path_pattern)
        validators.validate_origins(list(spec.allowed_origins))
        validators.validate_origin_regexes(list(spec.allowed_origin_regexes))
        validators.validate_header_names(list(spec.allowed_headers))
        validators.validate_methods(list(spec.allowed_methods))
    validators.validate_set_budgets([(spec.path_pattern, spec.report_only) for spec in family.specs])
    policy_set = PolicySet.build(family.specs)
    assert not policy_set.errors, policy_set.errors[:3]
    return policy_set


# --------------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """Which kind of path, Origin and preflight a request is: its text is drawn afresh each time."""

    path: int
    origin: int
    headers: int | None  # None: a GET; else an OPTIONS preflight with HEADER_SHAPES[headers]

    def describe(self, request: Request) -> str:
        kind = "GET" if self.headers is None else f"OPTIONS ({len(request.request_headers or ''):,}-char ACRH)"
        return f"{kind} {request.path[:10]!r}… ({len(request.path):,} chars), Origin {len(request.origin):,}"


def shapes(family: Family) -> list[Shape]:
    headers: list[int | None] = [None, *range(len(HEADER_SHAPES))]
    return [
        Shape(path, origin, header)
        for path in range(len(family.paths))
        for origin in range(max(1, len(family.origins)))
        for header in headers
    ]


def make(family: Family, shape: Shape, rng: random.Random, path: str | None = None) -> Request:
    """A request of ``shape`` on fresh text (so the automaton cannot have cached its states); ``path``
    keeps a start of that path, with a fresh rest."""
    fresh = family.paths[shape.path](rng)
    if path is not None and len(path) == len(fresh):
        cut = rng.randrange(1, len(path))
        fresh = path[:cut] + fresh[cut:]
    origin = family.origins[shape.origin](rng) if family.origins else "https://app.example.com"
    if shape.headers is None:
        return Request("GET", fresh, origin)
    return Request("OPTIONS", fresh, origin, "PUT", HEADER_SHAPES[shape.headers])


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
    policy_set: PolicySet, family: Family, rounds: int, confirm: int, rng: random.Random
) -> tuple[float, Request, Shape]:
    """Every shape of request on fresh text (the median of three each), then a hill climb on the path of
    the costliest one for ``rounds`` rounds; the figure is the median of ``confirm`` runs on fresh text of
    that shape, keeping a random start of the worst path found."""
    costs = {
        shape: statistics.median(cost(policy_set, make(family, shape, rng)) for _ in range(3))
        for shape in shapes(family)
    }
    shape = max(costs, key=costs.__getitem__)
    worst = make(family, shape, rng)
    worst_cost = cost(policy_set, worst)
    for _ in range(rounds):
        candidate = make(family, shape, rng, worst.path)
        spent = cost(policy_set, candidate)
        if spent > worst_cost:
            worst, worst_cost = candidate, spent
    runs = [cost(policy_set, make(family, shape, rng, worst.path)) for _ in range(confirm)]
    return statistics.median(runs), worst, shape


def main(argv: list[str] | None = None, out: Callable[[str], object] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--confirm", type=int, default=15, help="runs of the worst request's shape (the median)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    out(
        f"Budgets: regex paths {MAX_REGEX_PATH_PROGRAM} instructions over {MAX_REGEX_PATH_LENGTH} bytes; glob trie "
        f"{MAX_GLOB_STEPS} steps; origin regexes {MAX_ORIGIN_REGEX_PROGRAM} instructions per policy over "
        f"{MAX_REGEX_ORIGIN_LENGTH} characters.\n"
    )
    out("| policy set | build s | worst request | CPU µs (median) |\n| --- | ---: | --- | ---: |")
    overall = 0.0
    for family in families(args.policies):
        start = time.perf_counter()
        policy_set = validate(family)
        built = time.perf_counter() - start
        spent, request, shape = search(policy_set, family, args.rounds, args.confirm, rng)
        overall = max(overall, spent)
        out(f"| {family.name} | {built:.1f} | {shape.describe(request)} | {spent:,.0f} |")
    out(f"\nWorst request found: {overall:,.0f} µs of CPU in the engine.")


if __name__ == "__main__":
    main()
