"""Operators' regular expressions, compiled and matched by RE2: linear time in the text, whatever the regex.

Python's ``re`` backtracks, so one crafted path or Origin can make a regex take seconds or forever; RE2
(``google-re2``) runs an automaton instead and has no such input. What RE2 cannot run (lookarounds,
backreferences, atomic groups) is refused with a message saying what to write instead
(:func:`compile_regex`), and :class:`RegexSet` matches many regexes in one pass over the text, so the
number of regex policies does not multiply the cost of a request.

Syntax differences from Python's ``re`` that change what an accepted regex matches: ``\\d``, ``\\w``,
``\\s`` and ``\\b`` are ASCII only; ``$`` (without ``(?m)``) matches only at the very end, never before a
final newline; ``\\z`` is the end of the text (Python's ``\\Z``). ``{,n}`` means ``{0,n}`` in Python but a
literal text in RE2, so it is refused rather than silently changed.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Sequence
from typing import Any, Final

import re2

__all__ = [
    "FLAGS",
    "MAX_MEMORY",
    "METACHARACTERS",
    "PERL_CLASSES",
    "REPEAT",
    "ZERO_WIDTH_ESCAPES",
    "RegexError",
    "RegexSet",
    "check_pattern",
    "compile_regex",
    "encode",
    "escapes_itself",
    "program_size",
]

#: RE2's budget per compiled regex or set: the program and the automaton's cache together (RE2's own
#: default). The budgets in the engine keep every set to a few hundred instructions, whose states for the
#: longest text a request can make it read take well under a tenth of this.
MAX_MEMORY: Final = 8 << 20


# RE2's syntax, as code that reads a regex without compiling it needs it (analysis.regex_samples writes
# texts a regex matches; analysis.samples reads a path regex's literal prefix). One place for each fact.

#: Characters that may have a meaning of their own outside a class (a lone ], { or } stands for itself, but
#: not in every context); every other character always stands for itself.
METACHARACTERS: Final = frozenset(".^$*+?{}[]|()\\")
#: Escapes that match no character, only a position: word boundaries, the start and the end of the text.
ZERO_WIDTH_ESCAPES: Final = frozenset("bBAz")
#: The members of \d, \s and \w: ASCII only in RE2 (Python's ``re`` takes any Unicode digit, space or letter).
PERL_CLASSES: Final = {
    "d": string.digits,
    "s": "\t\n\f\r ",
    "w": string.ascii_lowercase + string.ascii_uppercase + string.digits + "_",
}
#: The flags a group may set or clear: (?i), (?-s:...).
FLAGS: Final = "imsU"
#: A counted repeat as RE2 reads it: {n}, {n,} or {n,m}; other text in braces is literal (or refused: {,n}).
REPEAT: Final = re.compile(r"\{(\d+)(,(\d*))?\}")


def escapes_itself(char: str) -> bool:
    """A backslash before ``char`` stands for ``char`` itself: before anything but a letter or a digit (what
    ``re2_escape`` writes). Before a letter or a digit it is a class, an assertion or a code point."""
    return not char.isalnum()


def _options(max_mem: int = MAX_MEMORY) -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused regex to stderr; the message goes to the user
    options.never_capture = True  # only "does it match" is asked: no submatch tracking
    options.max_mem = max_mem
    return options


_OPTIONS: Final = _options()


class RegexError(ValueError):
    """A regex RE2 cannot run as written: ``reason`` is what is wrong, ``advice`` what to write instead
    (empty for plain syntax errors, where the reason says it)."""

    def __init__(self, pattern: object, reason: str, advice: str = "") -> None:
        self.pattern = pattern
        self.reason = reason
        self.advice = advice
        super().__init__(
            f"{pattern!r} is not a valid regular expression ({reason})" + (f": {advice}" if advice else "")
        )

    def message(self, otherwise: str) -> str:
        """The sentence every face shows: what is wrong, then the advice, or ``otherwise`` (what to do
        instead of this regex) when RE2's reason is all there is to say."""
        return f"{self.pattern!r} is not a valid regular expression ({self.reason})" + (
            f": {self.advice}." if self.advice else f"; {otherwise}."
        )


# What RE2 says (the start of its message) -> what to write instead.
_ADVICE: Final[tuple[tuple[tuple[str, ...], str], ...]] = (
    (
        (
            "invalid perl operator: (?=",
            "invalid perl operator: (?!",
            "invalid perl operator: (?<=",
            "invalid perl operator: (?<!",
        ),
        "lookarounds ((?=...), (?!...), (?<=...), (?<!...)) are not supported: match the allowed shape "
        "directly, e.g. ^/api/(?!internal/) becomes ^/api/(public|v2)/ (or give /api/internal/** its own "
        "policy with a higher priority)",
    ),
    (
        (
            "invalid perl operator: (?P",
            "invalid escape sequence: \\k",
            *(f"invalid escape sequence: \\{digit}" for digit in "123456789"),
        ),
        "backreferences (\\1, (?P=name)) are not supported: write out what the group matched, e.g. "
        "(a|b)\\1 becomes (aa|bb)",
    ),
    (("invalid escape sequence: \\Z",), "\\Z is not supported: write \\z (or $) for the end of the text"),
    (
        ("invalid perl operator: (?>", *(f"bad repetition operator: {op}+" for op in "*+?")),
        "atomic groups (?>...) and possessive quantifiers (*+, ++, ?+) are not needed: RE2 never backtracks, "
        "so write a plain group (?:...) and a plain *, + or ?",
    ),
    (("invalid perl operator: (?(",), "conditionals (?(1)...|...) are not supported: write the alternatives out"),
    (("invalid perl operator: (?x",), "verbose mode (?x) is not supported: remove the spaces and comments"),
    (
        ("invalid perl operator: (?a", "invalid perl operator: (?u", "invalid perl operator: (?L"),
        "the flags (?a), (?u) and (?L) are not supported: remove them (\\d, \\w and \\s match ASCII only)",
    ),
    (("invalid perl operator: (?#",), "comments (?#...) are not supported: remove them"),
    (
        ("invalid escape sequence: \\u", "invalid escape sequence: \\U", "invalid escape sequence: \\N"),
        "write a code point as \\x{263A}, not \\u263A, \\U0001F600 or \\N{...}",
    ),
    (
        ("invalid repetition size",),
        "a repeat count goes up to 1000, nested repeats multiplied: write + or * instead of a large count",
    ),
    (
        ("pattern too large",),
        "it is too large to compile: write fewer or smaller repeat counts, such as + instead of {1,1000}, "
        "and ASCII classes such as [a-z] instead of \\pL",
    ),
)


def _advice(reason: str) -> str:
    for prefixes, text in _ADVICE:
        if reason.startswith(prefixes):
            return text
    return ""


def _empty_lower_bound(pattern: str) -> str | None:
    """A ``{,n}`` repeat outside a character class (``{0,n}`` to Python, literal text to RE2), or None."""
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            if pattern.startswith("]", index + 1) or pattern.startswith("^]", index + 1):
                index += 2 if pattern[index + 1] == "]" else 3  # a leading ] is a member, not the end
                continue
        elif char == "{" and pattern.startswith(",", index + 1):
            end = pattern.find("}", index)
            if end > index + 2 and pattern[index + 2 : end].isdigit():
                return pattern[index : end + 1]
        index += 1
    return None


def check_pattern(pattern: object) -> None:
    """Refuse what RE2 would take differently from Python before RE2 sees it: not text, a lone
    surrogate (not UTF-8), ``{,n}``."""
    if not isinstance(pattern, str):
        raise RegexError(pattern, "it is not text", "write a regular expression as text")
    try:
        pattern.encode("utf-8")
    except UnicodeEncodeError:
        raise RegexError(
            pattern, "it contains a lone surrogate, half of a UTF-16 pair, which no text can contain", "remove it"
        ) from None
    braces = _empty_lower_bound(pattern)
    if braces is not None:
        count = braces[2:-1]
        raise RegexError(
            pattern,
            f"{braces} means {{0,{count}}} to Python but the literal text {braces} to RE2",
            f"write {{0,{count}}}",
        )


def compile_regex(pattern: str) -> Any:
    """Compile an operator's regex with RE2, or raise :class:`RegexError` saying what to write instead."""
    check_pattern(pattern)
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        kind, separator, where = reason.partition(": ")
        raise RegexError(pattern, f"{kind} in '{where}'" if separator else reason, _advice(reason)) from None


def encode(text: str) -> bytes:
    """``text`` as RE2 reads it. A lone surrogate cannot be UTF-8; carried through as bytes it simply never
    matches a UTF-8 pattern."""
    return text.encode("utf-8", "surrogatepass")


@functools.lru_cache(maxsize=8192)
def program_size(patterns: tuple[str, ...]) -> int:
    """How many RE2 instructions ``patterns`` add to a set that matches them together: what a request pays
    per new automaton state, so what the budgets count (each regex is compiled; RegexError if one fails).

    Compiled alone, a regex loses its literal prefix to a string comparison (``^/api/`` is 4 instructions),
    but not inside a set; the empty group in front keeps the prefix in the count, as the set has it."""
    total = 0
    for pattern in patterns:
        compile_regex(pattern)  # the reason and the advice, if RE2 refuses it
        total += int(re2.compile("(?:)(?:" + pattern + ")", _OPTIONS).programsize)
    return total


class RegexSet:
    """Regexes matched together in one pass: :meth:`matching` says which of them match ``text``.

    ``full=True`` matches the whole text (origins); ``full=False`` from the start of the text, like
    ``re.match`` (``^`` path patterns). The set gets a member that always matches, first: if RE2's
    automaton ever runs out of memory it returns nothing, and the missing member says so; then each regex
    is asked on its own, which RE2 answers without that limit (still in linear time). The budgets keep sets
    small (a few hundred instructions), so that never happens in practice.
    """

    __slots__ = ("_full", "_members", "_singles", "patterns")

    def __init__(self, patterns: Sequence[str], *, full: bool) -> None:
        self.patterns = tuple(patterns)
        self._full = full
        self._singles: tuple[Any, ...] | None = None
        members = re2.Set.FullMatchSet(_OPTIONS) if full else re2.Set.MatchSet(_OPTIONS)
        members.Add(r"\C*" if full else "")  # \C: any byte, one instruction (".*" is a dozen in UTF-8)
        for pattern in self.patterns:
            check_pattern(pattern)
            try:
                members.Add(pattern)
            except re2.error:
                compile_regex(pattern)  # raises RegexError with the reason and what to write instead
                raise  # pragma: no cover - compile_regex refuses every pattern Set.Add refuses
        try:
            members.Compile()
        except re2.error:
            members = None  # too large for one automaton: ask each regex on its own
        self._members = members

    def match_data(self, data: bytes) -> list[int]:
        """Indices of the patterns that match the UTF-8 ``data``, in ascending order."""
        members = self._members
        found = members.Match(data) if members is not None else None
        if found and 0 in found:
            found.remove(0)
            found.sort()
            return [index - 1 for index in found]
        return self._one_by_one(data)

    def matching(self, text: str) -> list[int]:
        """Indices of the patterns that match ``text``, in ascending order."""
        return self.match_data(encode(text))

    def first(self, text: str) -> int | None:
        """The lowest index of a pattern that matches ``text``, or None."""
        found = self.match_data(encode(text))
        return found[0] if found else None

    def _one_by_one(self, data: bytes) -> list[int]:
        if self._singles is None:
            self._singles = tuple(re2.compile(pattern, _OPTIONS) for pattern in self.patterns)
        if self._full:
            return [i for i, regex in enumerate(self._singles) if regex.fullmatch(data) is not None]
        return [i for i, regex in enumerate(self._singles) if regex.match(data) is not None]

    def __len__(self) -> int:
        return len(self.patterns)
