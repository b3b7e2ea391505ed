#!/usr/bin/env python3
"""Worst-case cost of one decision: the most expensive request against the most expensive pattern the
validators accept.

Usage (from the repository root): ``.venv/bin/python bench/worst_case.py [--repeats 200] [--markdown]``

Regexes from the database run on attacker-controlled text. The engine bounds the Origin at
MAX_ORIGIN_LENGTH and matches regexes only on serialized origins; the validators refuse regexes that can
backtrack catastrophically (validators.find_backtracking). What remains runs in linear time, and this
measures how long that is at the limits: each accepted pattern below against origins (and paths) built to
make it work hardest, through ``PolicySet.evaluate`` for an actual request and a preflight, as the
middleware calls it. Each figure is the median and the maximum over ``--repeats`` runs, in microseconds.
For contrast, it also times the refused patterns' raw regex on a short evil input (never the engine: the
validators keep them out), which shows what the check is for.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cors_policies.engine import MAX_ORIGIN_LENGTH, PolicySet, PolicySpec
from cors_policies.validators import validate_origin_regexes, validate_path_pattern


def _fill(prefix: str, unit: str, suffix: str, limit: int = MAX_ORIGIN_LENGTH) -> str:
    """``prefix + unit * n + suffix`` as long as the engine still looks at it."""
    count = (limit - len(prefix) - len(suffix)) // len(unit)
    return prefix + unit * count + suffix


#: Accepted origin regexes that do the most work per character, and origins made to fail them late.
ORIGIN_CASES: list[tuple[str, list[str]]] = [
    (
        r"^https://([a-z0-9-]+\.)*example\.com$",
        [_fill("https://", "a.", "example.co"), _fill("https://", "a.", "com"), _fill("https://", "a", ".com")],
    ),
    (
        r"^https://.*\.example\.com$",
        [_fill("https://", "a.", "example.co"), _fill("https://", ".example.co", ""), _fill("https://", "a", "")],
    ),
    (
        r"^https://[a-z0-9-]+(\.[a-z0-9-]+)*\.example\.com$",
        [_fill("https://", "a.", "example.co"), _fill("https://a", ".a", ".example.co")],
    ),
    (
        r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$",
        [_fill("http://", "localhost", ""), "http://127.0.0.1:65535"],
    ),
    (
        r"^(?:https|wss)://[\w-]+\.example\.com$",
        [_fill("https://", "a", ".example.co"), _fill("wss://", "a-", "")],
    ),
]

#: Path regexes: the path is as long as the server lets a request line be (8 KiB here, gunicorn's default
#: limit is 4094 bytes for the whole request line).
PATH_LIMIT = 8192
PATH_CASES: list[tuple[str, list[str]]] = [
    (
        r"^/api/[^/]+/items/.*$",
        [_fill("/api/", "a", "/item", PATH_LIMIT), _fill("/api/x/items/", "a", "\n\n", PATH_LIMIT)],
    ),
    (r"^/c/.*/a", [_fill("/c/", "/b", "", PATH_LIMIT), _fill("/c/", "b", "", PATH_LIMIT)]),
    (r"^/api/v[12]/", [_fill("/api/v1/", "a", "", PATH_LIMIT)]),
]

#: Refused by the validators; timed on their raw regex only, on a short input, to show the difference.
REFUSED: list[tuple[str, str]] = [
    (r"^https://(a+)+\.example\.com$", "https://" + "a" * 24 + "!"),
    (r"^https://([a-z0-9-]+\.?)+example\.com$", "https://" + "a" * 24 + "!"),
    (r"^https://[a-z]+[a-z0-9]+\.example\.com$", _fill("https://", "a", "")),
]


def timed(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return statistics.median(samples), max(samples)


def origin_rows(repeats: int, regexes_per_policy: int) -> list[tuple[str, str, float, float]]:
    rows = []
    for regex, origins in ORIGIN_CASES:
        validate_origin_regexes([regex])  # raises if the validators would refuse it
        spec = PolicySpec(
            id=1,
            name="worst",
            path_pattern="/**",
            # Variants of the same regex, so none is a duplicate: a refused origin tries every one.
            allowed_origin_regexes=[regex if i == 0 else f"{regex}|^x{i}$" for i in range(regexes_per_policy)],
            allowed_methods=["PUT"],
            allowed_headers=["X-Token"],
            allow_credentials=True,
        )
        policy_set = PolicySet.build([spec])
        assert not policy_set.errors, policy_set.errors
        for origin in origins:
            assert len(origin) <= MAX_ORIGIN_LENGTH
            median, worst = timed(
                lambda origin=origin, policy_set=policy_set: policy_set.evaluate(
                    origin=origin, method="OPTIONS", path="/x", request_method="PUT", request_headers="x-token"
                ),
                repeats,
            )
            rows.append((regex, f"{origin[:28]}… ({len(origin)} chars)", median, worst))
    return rows


def path_rows(repeats: int) -> list[tuple[str, str, float, float]]:
    rows = []
    for pattern, paths in PATH_CASES:
        validate_path_pattern(pattern)
        policy_set = PolicySet.build(
            [
                PolicySpec(id=i, name=f"p{i}", path_pattern=pattern + ("x" * i), allowed_origins=["*"])
                for i in range(1, 11)
            ]
        )
        for path in paths:
            median, worst = timed(
                lambda path=path, policy_set=policy_set: policy_set.evaluate(
                    origin="https://a.example.com", method="GET", path=path
                ),
                repeats,
            )
            rows.append((pattern, f"{path[:24]!r}… ({len(path)} chars)", median, worst))
    return rows


def refused_rows() -> list[tuple[str, str, float, float]]:
    rows = []
    for regex, text in REFUSED:
        compiled = re.compile(regex)
        median, worst = timed(lambda compiled=compiled, text=text: compiled.fullmatch(text), 1)
        rows.append((regex, f"{text[:24]}… ({len(text)} chars)", median, worst))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    sections = [
        ("One origin regex, one preflight", origin_rows(args.repeats, 1)),
        ("Ten such origin regexes in the policy, one preflight", origin_rows(args.repeats, 10)),
        ("Path regexes (10 policies, evaluate)", path_rows(args.repeats)),
        ("Refused by the validators: the raw regex alone, one run", refused_rows()),
    ]
    for title, rows in sections:
        if args.markdown:
            print(f"\n**{title}**\n\n| pattern | input | median µs | max µs |\n| --- | --- | ---: | ---: |")
            for pattern, text, median, worst in rows:
                print(f"| `{pattern}` | `{text}` | {median:.0f} | {worst:.0f} |")
        else:
            print(f"\n{title}")
            for pattern, text, median, worst in rows:
                print(f"  {median:9.1f} µs median {worst:9.1f} µs max  {pattern}  on {text}")


if __name__ == "__main__":
    main()
