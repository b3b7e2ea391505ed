"""Path patterns: literal paths, globs ('*' one segment, '**' any number) and RE2 regexes, parsed into what
the index needs (:class:`ParsedPattern`), with each glob's reference matcher."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..regex import RegexError, compile_regex, encode
from .reasons import PatternKind

__all__ = [
    "KIND_GLOB",
    "KIND_LITERAL",
    "KIND_NAMES",
    "KIND_REGEX",
    "ParsedPattern",
    "PatternError",
    "parse_path_pattern",
    "parsed_path_pattern",
    "re2_escape",
]


#: Control characters, and the ASCII characters that are neither letters, digits nor '_' (what
#: :func:`re2_escape` escapes): one C scan each instead of a Python loop per character.
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")
_RE2_META_RE: Final = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]")


class PatternError(ValueError):
    """A path pattern that cannot be compiled; the message says what to write instead."""


# The names before :class:`~cors_policies.engine.reasons.PatternKind`, kept for the code that uses them.
KIND_LITERAL: Final = PatternKind.LITERAL
KIND_GLOB: Final = PatternKind.GLOB
KIND_REGEX: Final = PatternKind.REGEX
KIND_NAMES: Final = {kind: kind.label for kind in PatternKind}


@dataclass(frozen=True, slots=True)
class ParsedPattern:
    """A path pattern split into what the index needs: its kind, segments and matcher."""

    kind: PatternKind
    source: str
    prefix: tuple[str, ...]  # literal leading segments (globs); all segments (literals)
    literal_segments: int
    has_double_star: bool
    #: For regexes: the RE2 regex (matched from the start of the path).
    regex: Any = None
    #: For globs: a callable telling whether a whole path matches (truthy) or not.
    matcher: Callable[[str], object] | None = None
    #: For globs and regexes: the equivalent RE2 expression (anchored at the start; a glob's at the end too).
    expression: str = ""
    #: Globs in the trie: the segments before the '**' in the middle, if any ('*' for one segment), the
    #: segments after it (None without one), and whether a '**' ends the glob.
    tokens: tuple[str, ...] = ()
    tail: tuple[str, ...] | None = None
    trailing: bool = False
    #: Matched by the path automaton: regexes, and globs with '**' in more than one place (not counting a
    #: last one). ``member`` is what the automaton's RE2 set holds for it.
    automaton: bool = False
    member: str = ""


def _tokens_match(parts: Sequence[str], segments: Sequence[str]) -> bool:
    """Each glob part matches the segment in its place (the shorter sequence decides how many)."""
    return all(
        segment == part or (part == "*" and segment != "") for part, segment in zip(parts, segments, strict=False)
    )


def _glob_matcher(tokens: tuple[str, ...], tail: tuple[str, ...] | None, trailing: bool) -> Callable[[str], bool]:
    """Whether a whole path matches a glob of the trie, segment by segment (the index's reference)."""

    def matches(path: str) -> bool:
        if not path.startswith("/"):
            return path == "" and trailing and not tokens  # '/**' also matches nothing at all
        segments = path[1:].split("/")
        if tail is not None:
            head = len(tokens)
            return (
                len(segments) >= head + len(tail)
                and _tokens_match(tokens, segments[:head])
                and _tokens_match(tail, segments[len(segments) - len(tail) :])
            )
        if len(segments) != len(tokens) and not (trailing and len(segments) >= len(tokens)):
            return False
        return _tokens_match(tokens, segments)

    return matches


def parse_path_pattern(pattern: str) -> ParsedPattern:
    """Compile a ``path_pattern``, or raise :class:`PatternError` saying what to write instead.

    ``/a/b`` is literal; a ``*`` segment is one non-empty segment; a ``**`` segment is zero or more
    segments; a pattern starting with ``^`` is a regex matched from the start of the path (like
    django-cors-headers' CORS_URLS_REGEX), by RE2.
    """
    if not isinstance(pattern, str):
        raise PatternError(f"The path pattern must be text, not {pattern!r}; write a path such as /api/**.")
    if pattern == "":
        raise PatternError("The path pattern is empty; write a path such as /api/** (or /** for every path).")
    if pattern.startswith("^"):
        try:
            compiled = compile_regex(pattern)
        except RegexError as exc:
            tail = f": {exc.advice}." if exc.advice else "; fix it, or use a glob such as /api/**."
            raise PatternError(f"{pattern!r} is not a valid regular expression ({exc.reason}){tail}") from None
        return ParsedPattern(KIND_REGEX, pattern, (), 0, False, compiled, None, pattern, automaton=True, member=pattern)
    if not pattern.startswith("/"):
        raise PatternError(
            f"{pattern!r} must start with '/' (a path or glob, such as /{pattern.lstrip('/')}) "
            "or with '^' (a regular expression)."
        )
    if _CONTROL_RE.search(pattern):
        raise PatternError(
            f"{pattern!r} contains control characters; paths are matched after percent-decoding, "
            "so write the decoded path (a space as a space, not %20)."
        )
    raw_segments = pattern[1:].split("/")
    if "*" not in pattern:
        return ParsedPattern(KIND_LITERAL, pattern, tuple(raw_segments), len(raw_segments), False)
    # "/**/**/x" means "/**/x".
    segments = [seg for i, seg in enumerate(raw_segments) if not (seg == "**" and i and raw_segments[i - 1] == "**")]
    parts: list[str] = []
    prefix: list[str] = []
    literal = 0
    in_prefix = True
    for index, segment in enumerate(segments):
        if segment == "**":
            in_prefix = False
            # "/a/**" also matches "/a"; in the middle "/a/**/b" matches "/a/b" and "/a/x/y/b".
            parts.append("(?:/.*)?" if index == len(segments) - 1 else "(?:/[^/]*)*")
            continue
        if segment == "*":
            in_prefix = False
            parts.append("/[^/]+")
            continue
        if "*" in segment:
            raise PatternError(
                f"{pattern!r} has '*' inside the segment {segment!r}; '*' and '**' must be whole segments "
                "(such as /api/*/items or /api/**), or write a regular expression starting with '^'."
            )
        literal += 1
        if in_prefix:
            prefix.append(segment)
        parts.append("/" + re2_escape(segment))
    expression = "(?s)" + "".join(parts)  # a decoded path may contain a newline
    double = "**" in segments
    trailing = segments[-1] == "**"
    body = segments[:-1] if trailing else segments
    inner = [index for index, segment in enumerate(body) if segment == "**"]
    if len(inner) > 1 or (inner and trailing):
        # '**' in several places: which segments each one takes is a search, done by RE2's automaton in one
        # pass over the path (Python's re would backtrack, O(path x pattern) at least, more with several).
        fullmatch = compile_regex(expression).fullmatch
        return ParsedPattern(
            KIND_GLOB,
            pattern,
            tuple(prefix),
            literal,
            True,
            None,
            lambda path: fullmatch(encode(path)),
            expression,
            automaton=True,
            member=expression + r"\z",
        )
    # At most one '**' before the last segment: the segments before it match the start of the path, those
    # after it the end, so the trie matches the glob with dictionary look-ups, whatever the path's length.
    tokens = tuple(body[: inner[0]] if inner else body)
    after = tuple(body[inner[0] + 1 :]) if inner else None
    return ParsedPattern(
        KIND_GLOB,
        pattern,
        tuple(prefix),
        literal,
        double,
        None,
        _glob_matcher(tokens, after, trailing),
        expression,
        tokens,
        after,
        trailing,
    )


@functools.lru_cache(maxsize=16384)
def parsed_path_pattern(pattern: str) -> ParsedPattern:
    """:func:`parse_path_pattern`, remembered: a snapshot rebuilt after one change, or the budgets checked
    for one write, parse the other policies' patterns again."""
    return parse_path_pattern(pattern)


def re2_escape(text: str) -> str:
    """``text`` as a literal in both RE2 and Python syntax: every ASCII character that is not a letter,
    digit or underscore escaped (RE2's QuoteMeta; a backslash before punctuation means the same to both)."""
    return _RE2_META_RE.sub(r"\\\g<0>", text)
