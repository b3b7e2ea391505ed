#!/usr/bin/env python3
"""A coverage-guided fuzz target (atheris, libFuzzer) for Origin parsing and path matching.

Run: ``.venv/bin/python fuzz/fuzz_engine.py -max_total_time=60 fuzz/seeds`` (libFuzzer options apply;
tests/test_fuzz.py runs it for a bounded time in CI). Every input is turned into an Origin, a path, a
method and request headers, and checked against invariants that must hold for any input:

* parsing never raises anything but the engine's own OriginError / PatternError;
* a parsed request origin is exactly the text it came from; a normalized entry normalizes to itself;
* a glob matches a path exactly when a naive recursive matcher says so (differential check), in time
  linear in the path (libFuzzer's -timeout catches a slow input as a crash);
* any text is either compiled by RE2 or refused with the engine's RegexError, and a compiled regex
  (path pattern or origin regex) is then run on the fuzzed path and Origin: RE2 has no slow input;
* a decision echoes only a serialized origin that a listed entry allows, never ``*`` with credentials,
  and every header value it writes is printable ASCII (no CR/LF header splitting).

The engine is pure Python without Django, so nothing needs configuring here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import atheris

with atheris.instrument_imports():
    from cors_policies.engine import (
        KIND_GLOB,
        KIND_LITERAL,
        OriginError,
        PatternError,
        PolicySet,
        PolicySpec,
        parse_origin_entry,
        parse_path_pattern,
        parse_request_origin,
    )
    from cors_policies.regex import RegexError, RegexSet, compile_regex

POLICIES = PolicySet.build(
    [
        PolicySpec(
            id=1,
            name="credentialed",
            path_pattern="/api/private/**",
            priority=5,
            allowed_origins=["https://app.example.com", "https://*.example.com", "null"],
            allowed_origin_regexes=[r"^https://pr-\d+\.preview\.example\.com$"],
            allowed_methods=["GET", "PUT", "*"],
            allowed_headers=["X-Token", "*"],
            allow_credentials=True,
            max_age=600,
        ),
        PolicySpec(id=2, name="public", path_pattern="/api/**", allowed_origins=["*"], allowed_methods=["*"]),
        PolicySpec(id=3, name="items", path_pattern="/api/items/*", allowed_origins=["http://localhost:3000"]),
        PolicySpec(id=4, name="edit", path_pattern="/a/**/b/**/c", allowed_origins=["capacitor://localhost"]),
        PolicySpec(id=5, name="legacy", path_pattern="^/legacy/[^/]+/", allowed_origins=["https://*.example.org"]),
        PolicySpec(id=6, name="health", path_pattern="/health", allowed_origins=["*"]),
    ]
)
CREDENTIALED_ENTRIES = ("https://app.example.com", "null")


def reference_glob(pattern: Sequence[str], segments: Sequence[str]) -> bool:
    """``*`` is one non-empty segment, ``**`` zero or more segments, anything else itself."""
    if not pattern:
        return not segments
    head = pattern[0]
    if head == "**":
        return reference_glob(pattern[1:], segments) or (bool(segments) and reference_glob(pattern, segments[1:]))
    if not segments:
        return False
    if head == "*":
        return segments[0] != "" and reference_glob(pattern[1:], segments[1:])
    return head == segments[0] and reference_glob(pattern[1:], segments[1:])


def check_origin(origin: str) -> None:
    parsed = parse_request_origin(origin)
    if parsed is not None:
        scheme, host, port = parsed
        assert f"{scheme}://{host}{':' + port if port else ''}" == origin, (origin, parsed)
    try:
        entry = parse_origin_entry(origin)
    except OriginError:
        return
    assert parse_origin_entry(entry.value).value == entry.value, (origin, entry)


def check_pattern(pattern: str, path: str) -> None:
    try:
        parsed = parse_path_pattern(pattern)
    except PatternError:
        return
    if parsed.kind == KIND_LITERAL:
        return
    if parsed.kind == KIND_GLOB and pattern.count("/") <= 8 and path.count("/") <= 12:
        assert parsed.matcher is not None
        expected = path.startswith("/") and reference_glob(pattern[1:].split("/"), path[1:].split("/"))
        assert bool(parsed.matcher(path)) == expected, (pattern, path)
    if parsed.kind != KIND_GLOB:  # a regex: RE2 runs whatever compiled, on any path, in linear time
        assert isinstance(parsed.regex.match(path.encode("utf-8", "surrogatepass")) is None, bool)


def check_regex(regex: str, texts: Sequence[str]) -> None:
    try:
        compile_regex(regex)
    except RegexError:
        return
    found = RegexSet([regex, regex + "|x"], full=True).matching
    for text in texts:
        assert set(found(text)) <= {0, 1}, (regex, text)


def check_decision(origin: str, method: str, path: str, request_headers: str, preflight: bool) -> None:
    decision = POLICIES.evaluate(
        origin=origin,
        method="OPTIONS" if preflight else method,
        path=path,
        request_method=method if preflight else None,
        request_headers=request_headers,
        private_network=preflight and len(request_headers) % 2 == 0,
        explain=True,
    )
    headers = dict(decision.headers)
    value = headers.get("Access-Control-Allow-Origin")
    if value is not None and value != "*":
        assert value == origin
        assert value == "null" or parse_request_origin(value) is not None, value
    if value == "*":
        assert "Access-Control-Allow-Credentials" not in headers
    if headers.get("Access-Control-Allow-Credentials") == "true" and value is not None:
        assert value != "*"
        allowed = (
            value in CREDENTIALED_ENTRIES
            or (value.startswith("https://") and value.endswith(".example.com") and ":" not in value[8:])
            or value.endswith(".preview.example.com")
        )
        assert allowed, value
    for name, text in decision.headers:
        assert all(" " <= char <= "~" for char in text), (name, text)
    for line in [*decision.reasons, *decision.explanation]:
        assert "\r" not in line and "\n" not in line, line


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    origin = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 300))
    path = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 300))
    method = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 12))
    request_headers = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 80))
    preflight = fdp.ConsumeBool()
    if not path.startswith(("/", "^")) and fdp.ConsumeBool():
        path = "/" + path
    check_origin(origin)
    check_pattern(path, origin if origin.startswith("/") else "/" + origin)
    check_decision(origin, method, path, request_headers, preflight)
    check_regex(request_headers, (origin, path))


def main(argv: list[str]) -> None:
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
