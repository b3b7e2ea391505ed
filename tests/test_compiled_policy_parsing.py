"""What makes compiling a policy cheap never changes what it compiles to: the quick parse of an origin entry
agrees with the full one (value or error) on any text, remembered parses give what a fresh parse gives, and the
snapshot reads a row's fields in PolicySpec's order."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cors_policies.engine import CompiledPolicy, OriginError, PolicySpec
from cors_policies.engine.origins import parse_origin_entry
from cors_policies.engine.policy import _quick_entry
from cors_policies.models import SPEC_FIELDS

PIECES = [
    "http",
    "https",
    "HTTPS",
    "ws",
    "://",
    "*.",
    "*",
    ".",
    "-",
    "_",
    "a",
    "Z",
    "0",
    "9",
    "example",
    "com",
    "co.uk",
    "github.io",
    "localhost",
    ":",
    "80",
    "443",
    "0443",
    "65536",
    "8080",
    "[",
    "]",
    "::1",
    "/",
    " ",
    "\t",
    "@",
    ",",
    "null",
    "é",
    "x" * 64,
]


def outcome(parse: object, raw: str) -> object:
    try:
        return parse(raw)  # type: ignore[operator]
    except OriginError as exc:
        return ("error", str(exc))


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=9).map("".join))
def test_the_quick_entry_parse_agrees_with_the_full_one(raw: str) -> None:
    assert outcome(_quick_entry, raw) == outcome(parse_origin_entry, raw)


@pytest.mark.parametrize(
    "raw",
    [
        "https://app.example.com",
        "http://localhost:3000",
        "https://*.example.com",
        "https://*.co.uk",
        "https://*.github.io:8443",
        "https://*.[::1]",
        "https://app.example.com:443",
        "https://app.example.com:0",
        "https://[::1]:8000",
        "wss://*.app.example.com",
        "https://-bad.example.com",
        "null",
        "*",
    ],
)
def test_the_quick_entry_parse_agrees_on_known_cases(raw: str) -> None:
    assert outcome(_quick_entry, raw) == outcome(parse_origin_entry, raw)


def test_equal_rows_share_their_parsed_values_and_answer_alike() -> None:
    base = PolicySpec(
        id=1,
        name="a",
        path_pattern="/a/**",
        allowed_origins=["https://a.test", "https://*.b.test"],
        allowed_methods=["GET", "PUT"],
        allowed_headers=["Content-Type", "*"],
        expose_headers=["X-Total"],
        allow_credentials=False,
        max_age=600,
    )
    one, two = (
        CompiledPolicy(base),
        CompiledPolicy(dataclasses.replace(base, id=2, allowed_origins=("https://a.test", "https://*.b.test"))),
    )
    assert one.exact_origins is two.exact_origins and one.methods is two.methods and one.headers is two.headers
    assert one.actual_headers is two.actual_headers and one.preflight_tail is two.preflight_tail
    assert (one.any_header, one.headers, one.headers_header) == (True, frozenset({"content-type"}), "Content-Type")
    assert one.methods_header == "GET, PUT" and one.wildcards == (("https", ".b.test", ""),)
    assert one.actual_headers == (("Access-Control-Expose-Headers", "X-Total"),)
    assert one.preflight_tail == (("Access-Control-Max-Age", "600"),)


def test_rows_written_around_the_validators_compile_as_before() -> None:
    odd = PolicySpec(id=1, name="odd", path_pattern="/a", allowed_origins=["https://a.test"], max_age=True)  # type: ignore[arg-type]
    assert CompiledPolicy(odd).preflight_tail == (("Access-Control-Max-Age", "True"),)
    assert CompiledPolicy(dataclasses.replace(odd, max_age=1)).preflight_tail == (("Access-Control-Max-Age", "1"),)
    with pytest.raises(OriginError):
        CompiledPolicy(dataclasses.replace(odd, allowed_origins=[["https://a.test"]]))
    with pytest.raises(AttributeError):  # as before the caches: not a list of names
        CompiledPolicy(dataclasses.replace(odd, allowed_headers=[["X"]]))


def test_the_snapshot_reads_a_row_in_policy_specs_order() -> None:
    assert tuple(field.name for field in dataclasses.fields(PolicySpec)) == SPEC_FIELDS
