"""analysis.regex_samples: texts a regex matches, read off the regex; and the RE2 syntax facts the reader takes
from cors_policies.regex, checked against RE2 itself (no database)."""

from __future__ import annotations

import string

import pytest

from cors_policies.analysis.regex_samples import literal_prefix, sample_origin_regex, widening_probes
from cors_policies.regex import (
    FLAGS,
    METACHARACTERS,
    PERL_CLASSES,
    REPEAT,
    ZERO_WIDTH_ESCAPES,
    RegexError,
    compile_regex,
    escapes_itself,
)

PRINTABLE = [chr(code) for code in range(0x20, 0x7F)]


def compiled(regex: str) -> object | None:
    try:
        return compile_regex(regex)
    except RegexError:
        return None


def matched(regex: str, texts: list[str]) -> list[str]:
    """The texts RE2 fully matches with ``regex``."""
    found = compiled(regex)
    return [text for text in texts if found is not None and found.fullmatch(text) is not None]  # type: ignore[attr-defined]


# -- RE2's syntax, as cors_policies.regex states it ---------------------------------------------------


def test_every_other_character_stands_for_itself() -> None:
    for char in PRINTABLE:
        if char not in METACHARACTERS:
            assert matched(char, PRINTABLE) == [char], char


def test_a_backslash_before_punctuation_stands_for_it() -> None:
    for char in PRINTABLE:
        assert (matched("\\" + char, PRINTABLE) == [char]) is escapes_itself(char), char
    assert all(escapes_itself(char) for char in METACHARACTERS)


@pytest.mark.parametrize("name", sorted(PERL_CLASSES))
def test_perl_classes_are_ascii(name: str) -> None:
    assert matched("\\" + name, [chr(code) for code in range(0x80)]) == sorted(PERL_CLASSES[name])
    assert matched("\\" + name, ["é", "\u0663", "\u00a0"]) == []  # a Unicode letter, digit, space


def test_zero_width_escapes() -> None:
    """Of the escapes by a letter, these match a position, never a character (\\Q starts quoted text)."""
    compiling = [letter for letter in string.ascii_letters if compiled("\\" + letter) is not None]
    zero_width = {letter for letter in compiling if not matched("\\" + letter, [chr(code) for code in range(0x80)])}
    assert zero_width - {"Q"} == ZERO_WIDTH_ESCAPES


def test_flags() -> None:
    assert {letter for letter in string.ascii_letters if compiled(f"(?{letter})") is not None} == set(FLAGS)


@pytest.mark.parametrize(
    ("text", "repeat", "matches"),
    [("a{2}", True, "aa"), ("a{2,}", True, "aaa"), ("a{2,3}", True, "aaa"), ("a{x}", False, "a{x}")],
)
def test_repeats(text: str, repeat: bool, matches: str) -> None:
    assert (REPEAT.fullmatch(text[1:]) is not None) is repeat
    assert matched(text, [matches]) == [matches]


# -- the literal prefix of a path regex ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("^/api/", "/api/"),
        (r"^/a\.b\-c", "/a.b-c"),
        (r"^/a\d", "/a"),
        ("^/ab*", "/a"),
        ("^/ab+", "/ab"),
        ("^/ab{2}", "/a"),
        ("^/x(y|z)", "/x"),
        ("^", ""),
        ("^\\", ""),
    ],
)
def test_regex_literal_prefix(source: str, expected: str) -> None:
    assert literal_prefix(source) == expected


# -- origins an origin regex allows -------------------------------------------------------------------


def test_the_sample_is_an_origin_the_regex_allows() -> None:
    sample = sample_origin_regex(r"^https://(app|api)\.example\.com(:\d+)?$")
    assert sample is not None
    assert (sample.text, sample.mask) == ("https://app.example.com", "L" * 23)
    assert sample.allows(sample.text)
    assert not sample.allows("https://other.example.com")


@pytest.mark.parametrize(
    ("regex", "text", "mask"),
    [
        (r"^https://(?P<sub>app)\.example\.com$", "https://app.example.com", "L" * 23),  # a named group
        (r"(?i)^https://app\.example\.com$", "https://app.example.com", "L" * 23),  # flags
        (r"\Ahttps://app\.example\.com\z", "https://app.example.com", "L" * 23),  # zero-width escapes
        (r"^https://[\.a]\.example\.com$", "https://a.example.com", "L" * 8 + "N" + "L" * 12),  # a letter first
        (r"^https://[!-\~]+\.example\.com$", "https://a.example.com", "L" * 8 + "N" + "L" * 12),  # an escaped end
        (r"^https://[\d]+\.example\.com$", "https://0.example.com", "L" * 8 + "N" + "L" * 12),
        (r"^https://a+?\.example\.com$", "https://a.example.com", "L" * 8 + "N" + "L" * 12),  # lazy
        (r"^https://x{2,3}\.example\.com$", "https://xx.example.com", "L" * 8 + "NN" + "L" * 12),
    ],
)
def test_what_the_reader_reads(regex: str, text: str, mask: str) -> None:
    sample = sample_origin_regex(regex)
    assert sample is not None
    assert (sample.text, sample.mask) == (text, mask)


@pytest.mark.parametrize(
    "regex",
    [
        "(",  # does not compile
        r"^https://\pL+\.example\.com$",  # a Unicode class: the reader gives up
        r"^https://[\pL]\.example\.com$",  # in a class too
        r"^https://[^.]+\.example\.com$",  # a negated class
        r"^\Qhttps://a.example.com\E$",  # quoted text
        r"^/api/",  # matches no origin
    ],
)
def test_no_sample_rather_than_a_guess(regex: str) -> None:
    assert sample_origin_regex(regex) is None
    assert widening_probes(regex) == []


@pytest.mark.parametrize(
    ("regex", "probes"),
    [
        (r"^https://app.example.com$", [("dot", "https://appxexample.com")]),
        (r"^https://.*example\.com$", [("repeat", "https://evilexample.com")]),
        (r"^https://[a-z]+\.example\.com$", []),  # a repeat that ends at a dot stays below example.com
        (r"^https://a[.]b\.com$", []),  # a class of one dot is a dot
        (r"^https://a.b.*$", [("dot", "https://axba"), ("repeat", "https://a.b.evil.net")]),  # .* written once
    ],
)
def test_widening_probes(regex: str, probes: list[tuple[str, str]]) -> None:
    assert widening_probes(regex) == probes
