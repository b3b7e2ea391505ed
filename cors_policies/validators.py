"""The one place policy input is validated and normalized.

The model, the admin forms and the API serializers all call these, so every face shows the same
message, and every message says what to write instead. The parsing itself lives in the engine
(``parse_origin_entry``, ``parse_path_pattern``) so what is accepted here is exactly what compiles.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Final

from django.core.exceptions import ValidationError

from .engine import (
    KIND_REGEX,
    NORMALIZED_METHODS,
    OriginError,
    PatternError,
    compile_user_regex,
    is_token,
    parse_origin_entry,
    parse_path_pattern,
)

STAR_WITH_CREDENTIALS = (
    "'*' cannot be used with credentials: every web page could then read your users' data with their "
    "cookies. List the origins that need credentials instead, such as https://app.example.com."
)


def _require_list(value: Any, example: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"Write a list of strings, such as [{example}].", code="not_a_list")
    for item in value:
        if not isinstance(item, str):
            raise ValidationError(
                f"{item!r} is not a string; write a list of strings, such as [{example}].", code="not_a_string"
            )
    return list(value)


def backtracking_in_path_regex(pattern: str, problem: str) -> str:
    return (
        f"{pattern!r} can take a very long time on a crafted path (catastrophic backtracking): {problem}. "
        "Write it so that each character can match only one way, such as [^/]+ for one segment instead of .* "
        "or .+ (^/api/[^/]+/items/), or use a glob such as /api/*/items or /api/**."
    )


def backtracking_in_origin_regex(regex: str, problem: str) -> str:
    return (
        f"{regex!r} can take a very long time on a crafted Origin (catastrophic backtracking): {problem}. "
        r"Write it so that each character can match only one way, such as [a-z0-9-]+ for one label, which "
        r"cannot match a dot (^https://[a-z0-9-]+\.example\.com$), or use a subdomain wildcard such as "
        "https://*.example.com in allowed origins."
    )


def validate_path_pattern(value: Any) -> None:
    # Judge what will be stored: normalize() strips surrounding spaces before saving.
    pattern = value.strip() if isinstance(value, str) else value
    try:
        parsed = parse_path_pattern(pattern)
    except PatternError as exc:
        raise ValidationError(str(exc), code="path_pattern") from None
    if parsed.regex is not None and parsed.kind == KIND_REGEX:
        # The path is as long as the client makes it: only a regex that runs in linear time is safe.
        problem = find_backtracking(pattern)
        if problem is not None:
            raise ValidationError(backtracking_in_path_regex(pattern, problem), code="path_backtracking")


def validate_origins(value: Any) -> None:
    entries = _require_list(value, '"https://app.example.com"')
    errors = []
    kinds = []
    for entry in entries:
        try:
            kinds.append(parse_origin_entry(entry).kind)
        except OriginError as exc:
            errors.append(ValidationError(str(exc), code="origin"))
    if "any" in kinds and len(kinds) > 1:
        errors.append(
            ValidationError(
                "'*' already allows every origin; remove the other entries, or remove '*' to allow only those listed.",
                code="star_not_alone",
            )
        )
    if errors:
        raise ValidationError(errors)


#: Regexes per policy: a request runs each against the Origin, so their number bounds the worst case
#: (bench/worst_case.py: about 54 µs each at worst, so ten stay near half a millisecond).
MAX_ORIGIN_REGEXES: Final = 10


def validate_origin_regexes(value: Any) -> None:
    regexes = _require_list(value, r'"^https://[a-z0-9-]+\\.example\\.com$"')
    if len(regexes) > MAX_ORIGIN_REGEXES:
        raise ValidationError(
            f"{len(regexes)} regular expressions; a policy may have at most {MAX_ORIGIN_REGEXES}, because every "
            "request runs each one. List exact origins or subdomain wildcards (https://*.example.com) in allowed "
            "origins instead, or join regexes that differ in one part into one, such as "
            "^https://(app|admin)\\.example\\.com$.",
            code="regex_count",
        )
    errors = []
    for regex in regexes:
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in regex):
            errors.append(
                ValidationError(
                    f"{regex!r} contains control characters, which no origin has; write them as escapes "
                    r"such as \n if you must, or remove them.",
                    code="regex_control",
                )
            )
            continue
        try:
            compile_user_regex(regex)
        except re.error as exc:
            errors.append(
                ValidationError(
                    f"{regex!r} is not a valid regular expression ({exc}); fix it, or use a subdomain wildcard "
                    "such as https://*.example.com in allowed origins.",
                    code="regex",
                )
            )
            continue
        # The engine bounds the Origin (MAX_ORIGIN_LENGTH) and runs regexes only on serialized origins, but
        # an exponential regex needs no more than a few dozen characters.
        problem = find_backtracking(regex, ORIGIN_ALPHABET)
        if problem is not None:
            errors.append(ValidationError(backtracking_in_origin_regex(regex, problem), code="regex_backtracking"))
    if errors:
        raise ValidationError(errors)


def _validate_tokens(value: Any, what: str, example: str) -> None:
    items = _require_list(value, example)
    errors = []
    for item in items:
        text = item.strip()
        if text == "*":
            continue
        if not is_token(text):
            errors.append(
                ValidationError(
                    f"{item!r} is not a valid {what}: use letters, digits and -, without spaces, commas or colons "
                    f"(one {what} per entry, such as {example}), or '*' for any.",
                    code="token",
                )
            )
    if errors:
        raise ValidationError(errors)


def validate_methods(value: Any) -> None:
    _validate_tokens(value, "method", '"PUT"')


def validate_header_names(value: Any) -> None:
    _validate_tokens(value, "header name", '"X-Requested-With"')


def _dedupe(items: Iterable[str], key: Any = None) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        k = key(item) if key else item
        if k not in seen:
            seen.add(k)
            result.append(item)
    return result


def normalize_origins(value: list[str]) -> list[str]:
    """Lower-case scheme and host, drop default ports and duplicates; leave invalid entries as typed."""
    normalized = []
    for entry in value:
        try:
            normalized.append(parse_origin_entry(entry).value)
        except (OriginError, TypeError):
            normalized.append(entry)
    return _dedupe(normalized)


def normalize_methods(value: list[str]) -> list[str]:
    """Fetch upper-cases DELETE, GET, HEAD, OPTIONS, POST and PUT before sending; other methods stay as typed."""
    result = []
    for method in value:
        text = method.strip() if isinstance(method, str) else method
        if isinstance(text, str) and text.upper() in NORMALIZED_METHODS:
            text = text.upper()
        result.append(text)
    return _dedupe(result)


def normalize_header_names(value: list[str]) -> list[str]:
    """Header names compare case-insensitively: keep the first spelling of each."""
    stripped = [item.strip() if isinstance(item, str) else item for item in value]
    return _dedupe(stripped, key=lambda item: item.lower() if isinstance(item, str) else item)


def normalize_strings(value: list[str]) -> list[str]:
    return _dedupe(item.strip() if isinstance(item, str) else item for item in value)


def validate_policy(*, allowed_origins: list[str], allow_credentials: bool) -> None:
    """Rules across fields; raises a ValidationError keyed by field name."""
    if (
        allow_credentials
        and isinstance(allowed_origins, (list, tuple))
        and "*" in [o.strip() for o in allowed_origins if isinstance(o, str)]
    ):
        raise ValidationError({"allowed_origins": ValidationError(STAR_WITH_CREDENTIALS, code="star_with_credentials")})


MAX_AGE_MESSAGE = "Max age is a number of seconds, 0 or more; leave it empty to send no header."


def validate_max_age(value: Any) -> None:
    """Seconds or nothing; browsers cap it anyway (Chromium at 7200, Firefox at 86400)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(MAX_AGE_MESSAGE, code="max_age")


# ==================================================================================================
# Catastrophic backtracking
# ==================================================================================================
#
# Python's ``re`` backtracks: when a regex can match one text in many ways, a non-matching text makes it
# try them all. Exponentially many when a quantified part can split the same text several ways
# (``(a+)+``, ``(a|a)*``); polynomially many when two quantifiers can trade the same text (``.*.*``,
# ``\d+\d+``). Both are found on the regex's Glushkov automaton (one state per character class in the
# pattern, no empty moves), with the ambiguity criteria of Weber and Seidl: exponential when two
# different paths lead from a state back to itself on the same text; polynomial when for two states p and
# q one text leads p to p, p to q and q to q. A regex with neither runs in linear time on any input.
# The check over-approximates (bounded repeats count as unbounded, back-references as ``.*``), so it may
# refuse a harmless regex, never accept a catastrophic one.

_sre: Any = importlib.import_module("re._constants" if sys.version_info >= (3, 11) else "sre_constants")
_sre_parse: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")

_MAXCHAR: Final = 0x10FFFF
Charset = tuple[tuple[int, int], ...]  # sorted, disjoint, non-adjacent inclusive ranges of code points
_ALL: Final[Charset] = ((0, _MAXCHAR),)
_NON_ASCII: Final[Charset] = ((0x80, _MAXCHAR),)
_ASCII_DIGIT: Final[Charset] = ((0x30, 0x39),)
_ASCII_WORD: Final[Charset] = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_ASCII_SPACE: Final[Charset] = ((0x09, 0x0D), (0x20, 0x20))
#: Every character a serialized Origin can contain (engine.parse_request_origin admits nothing else):
#: origin regexes only ever run on such text, so ambiguity over other characters cannot be exploited.
ORIGIN_ALPHABET: Final[Charset] = ((0x2B, 0x3A), (0x5B, 0x5B), (0x5D, 0x5D), (0x5F, 0x5F), (0x61, 0x7A))
#: Beyond this many character classes in loops, a regex is refused rather than analysed at length.
MAX_LOOP_POSITIONS: Final = 500


def _charset(ranges: Iterable[tuple[int, int]]) -> Charset:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _complement(charset: Charset) -> Charset:
    result = []
    start = 0
    for lo, hi in charset:
        if lo > start:
            result.append((start, lo - 1))
        start = hi + 1
    if start <= _MAXCHAR:
        result.append((start, _MAXCHAR))
    return tuple(result)


def _intersect(a: Charset, b: Charset) -> Charset:
    result = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            result.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(result)


def _with_other_case(charset: Charset) -> Charset:
    """What IGNORECASE lets the class match: ASCII letters exactly, anything beyond ASCII roughly."""
    extra: list[tuple[int, int]] = []
    for lo, hi in charset:
        for base, other in ((0x41, 0x61), (0x61, 0x41)):  # A-Z <-> a-z
            a, b = max(lo, base), min(hi, base + 25)
            if a <= b:
                extra.append((a - base + other, b - base + other))
        if hi >= 0x80 or lo <= 0x4B <= hi or lo <= 0x53 <= hi or lo <= 0x6B <= hi or lo <= 0x73 <= hi:
            extra.extend(_NON_ASCII)  # K, S, k and s fold to the Kelvin sign and the long s, too
    return _charset((*charset, *extra))


class _Flags:
    __slots__ = ("ascii", "dotall", "ignorecase")

    def __init__(self, value: int) -> None:
        self.ignorecase = bool(value & _sre.SRE_FLAG_IGNORECASE)
        self.dotall = bool(value & _sre.SRE_FLAG_DOTALL)
        self.ascii = bool(value & _sre.SRE_FLAG_ASCII)

    def changed(self, add: int, remove: int) -> _Flags:
        value = (
            (_sre.SRE_FLAG_IGNORECASE if self.ignorecase else 0)
            | (_sre.SRE_FLAG_DOTALL if self.dotall else 0)
            | (_sre.SRE_FLAG_ASCII if self.ascii else 0)
        )
        return _Flags((value | add) & ~remove)


@functools.cache
def _unicode_class(name: str) -> Charset:
    """What ``\\d``, ``\\w`` or ``\\s`` match in a str pattern (the str methods ``re`` follows), as ranges.
    Built once per process on first use: one pass over the code points, about 0.06 s."""
    test: Callable[[str], bool] = {
        "DIGIT": str.isdecimal,
        "WORD": lambda char: char.isalnum() or char == "_",
        "SPACE": str.isspace,
    }[name]
    ranges: list[tuple[int, int]] = []
    start = -1
    for code in range(_MAXCHAR + 1):
        if test(chr(code)):
            if start < 0:
                start = code
        elif start >= 0:
            ranges.append((start, code - 1))
            start = -1
    if start >= 0:
        ranges.append((start, _MAXCHAR))
    return tuple(ranges)


_ASCII_CLASSES: Final = {"DIGIT": _ASCII_DIGIT, "WORD": _ASCII_WORD, "SPACE": _ASCII_SPACE}


def _category(name: str, flags: _Flags) -> Charset:
    base = name.replace("UNI_", "").replace("LOC_", "").removeprefix("CATEGORY_")
    negated = base.startswith("NOT_")
    base = base.removeprefix("NOT_")
    if base not in _ASCII_CLASSES:
        return _ALL  # line-break categories, never produced for str patterns: assume anything
    charset = _ASCII_CLASSES[base] if flags.ascii else _unicode_class(base)
    return _complement(charset) if negated else charset


def _class_of(op: str, av: Any, flags: _Flags) -> Charset:
    """The characters one LITERAL, NOT_LITERAL, ANY or IN item matches."""
    if op == "ANY":
        return _ALL if flags.dotall else _complement(((0x0A, 0x0A),))
    if op in ("LITERAL", "NOT_LITERAL"):
        single: Charset = ((av, av),)
        if flags.ignorecase:
            single = _with_other_case(single)
        return _complement(single) if op == "NOT_LITERAL" else single
    negate = False
    ranges: list[tuple[int, int]] = []
    for item_op, item_av in av:
        name = item_op.name
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            ranges.append((item_av, item_av))
        elif name == "RANGE":
            ranges.append(item_av)
        elif name == "CATEGORY":
            ranges.extend(_category(item_av.name, flags))
        else:  # pragma: no cover - the parser emits nothing else inside a set
            ranges.extend(_ALL)
    charset = _charset(ranges)
    if flags.ignorecase:
        charset = _with_other_case(charset)
    return _complement(charset) if negate else charset


def _quantifier(low: int, high: int) -> str:
    top = _sre.MAXREPEAT
    if high == top:
        return {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    if (low, high) == (0, 1):
        return "?"
    return f"{{{low}}}" if low == high else f"{{{low},{high}}}"


def _char(code: int, in_class: bool) -> str:
    char = chr(code)
    special = "\\]^-[" if in_class else ".^$*+?{}[]\\|()"
    if char in special:
        return "\\" + char
    return char if char.isprintable() else char.encode("unicode_escape").decode("ascii")


_CATEGORY_TEXT: Final = {
    "DIGIT": r"\d",
    "NOT_DIGIT": r"\D",
    "WORD": r"\w",
    "NOT_WORD": r"\W",
    "SPACE": r"\s",
    "NOT_SPACE": r"\S",
}
_AT_TEXT: Final = {
    "AT_BEGINNING": "^",
    "AT_BEGINNING_STRING": r"\A",
    "AT_END": "$",
    "AT_END_STRING": r"\Z",
    "AT_BOUNDARY": r"\b",
    "AT_NON_BOUNDARY": r"\B",
}


def _render(items: Any) -> str:
    """A parsed (sub)pattern written back as regex text, to quote the part a message is about."""
    parts = []
    for op, av in items:
        text = _render_item(op.name, av)
        parts.append(f"(?:{text})" if op.name == "BRANCH" and len(items) > 1 else text)
    return "".join(parts)


def _is_atom(items: Any) -> bool:
    return len(items) == 1 and items[0][0].name in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "SUBPATTERN")


def _render_item(op: str, av: Any) -> str:
    if op == "LITERAL":
        return _char(av, False)
    if op == "NOT_LITERAL":
        return f"[^{_char(av, True)}]"
    if op == "ANY":
        return "."
    if op == "IN":
        if len(av) == 1 and av[0][0].name == "CATEGORY":
            return _CATEGORY_TEXT.get(av[0][1].name.split("CATEGORY_")[-1].replace("UNI_", ""), ".")
        parts = []
        for index, (item_op, item_av) in enumerate(av):
            name = item_op.name
            if name == "NEGATE":
                parts.append("^")
            elif name == "LITERAL":
                parts.append("-" if item_av == 0x2D and index == len(av) - 1 else _char(item_av, True))
            elif name == "RANGE":
                parts.append(f"{_char(item_av[0], True)}-{_char(item_av[1], True)}")
            elif name == "CATEGORY":
                parts.append(_CATEGORY_TEXT.get(item_av.name.split("CATEGORY_")[-1].replace("UNI_", ""), ""))
        return "[" + "".join(parts) + "]"
    if op == "SUBPATTERN":
        group, _add, _remove, body = av
        return ("(" if group is not None else "(?:") + _render(body) + ")"
    if op == "ATOMIC_GROUP":
        return "(?>" + _render(av) + ")"
    if op == "BRANCH":
        return "|".join(_render(alternative) for alternative in av[1])
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, high, body = av
        text = _render(body) if _is_atom(body) else f"(?:{_render(body)})"
        suffix = {"MIN_REPEAT": "?", "POSSESSIVE_REPEAT": "+"}.get(op, "")
        return text + _quantifier(low, high) + suffix
    if op == "AT":
        return _AT_TEXT.get(av.name, "")
    if op in ("ASSERT", "ASSERT_NOT"):
        direction, body = av
        sign = "=" if op == "ASSERT" else "!"
        return f"(?{'<' if direction < 0 else ''}{sign}{_render(body)})"
    if op == "GROUPREF":
        return f"\\{av}"
    if op == "GROUPREF_EXISTS":
        group, yes, no = av
        return f"(?({group}){_render(yes)}" + (f"|{_render(no)}" if no else "") + ")"
    return ""


class _Loop:
    """A quantifier that repeats (upper bound above one): what messages quote."""

    __slots__ = ("has_branch", "has_loop", "text")

    def __init__(self, text: str) -> None:
        self.text = text if len(text) <= 60 else text[:59] + "…"
        self.has_loop = False
        self.has_branch = False


#: (nullable, first positions, last positions, ways to match the empty text: 0, 1 or 2 for "several")
_Part = tuple[bool, set[int], set[int], int]


def _empty() -> _Part:
    """The part of an anchor, a lookaround or ``x{0}``: the empty text, one way."""
    return True, set(), set(), 1


class _Glushkov:
    """The position automaton of a parsed regex: one state per character class occurrence.

    ``follow[a][b]`` counts the ways the regex lets position ``b`` come right after ``a``: two ways
    (``(a+)+`` gives ``a`` then ``a`` from the inner and the outer loop) are two paths a backtracking
    matcher tries, which is how the ambiguity of nested quantifiers shows.
    """

    def __init__(self, alphabet: Charset) -> None:
        self.alphabet = alphabet
        self.classes: list[Charset] = []
        self.follow: list[dict[int, int]] = []
        self.loops: list[tuple[_Loop, ...]] = []  # the loops around each position, outermost first
        self.doubled: dict[tuple[int, int], _Loop | None] = {}  # edges with two ways, and the loop to blame
        self.empty_twice: list[_Loop] = []  # loops around a part that matches the empty text two ways
        self.lookarounds: list[tuple[Any, _Flags]] = []  # assertion bodies, analysed as regexes of their own

    def link(self, sources: set[int], targets: set[int], blame: _Loop | None) -> None:
        for a in sources:
            edges = self.follow[a]
            for b in targets:
                edges[b] = edges.get(b, 0) + 1
                if edges[b] == 2:
                    self.doubled[(a, b)] = blame

    def position(self, charset: Charset, loops: tuple[_Loop, ...]) -> _Part:
        charset = _intersect(charset, self.alphabet)
        if not charset:  # a class no input can use: a dead end
            return False, set(), set(), 0
        self.classes.append(charset)
        self.follow.append({})
        self.loops.append(loops)
        index = len(self.classes) - 1
        return False, {index}, {index}, 0

    def sequence(self, items: Any, flags: _Flags, loops: tuple[_Loop, ...]) -> _Part:
        """The part for a concatenation, linking each item's last positions to the next one's first."""
        nullable, empties = True, 1
        first: set[int] = set()
        last: set[int] = set()
        blame = loops[-1] if loops else None
        for op, av in items:
            n, f, la, e = self.item(op.name, av, flags, loops)
            if not n and not f:  # a dead end: nothing after it is reachable through here
                return False, first, set(), 0
            self.link(last, f, blame)
            if nullable:
                first |= f
            last = la | last if n else la
            nullable = nullable and n
            empties = min(empties * e, 2)
        return nullable, first, last, empties

    def item(self, op: str, av: Any, flags: _Flags, loops: tuple[_Loop, ...]) -> _Part:
        if op in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            return self.position(_class_of(op, av, flags), loops)
        if op == "SUBPATTERN":
            _group, add, remove, body = av
            return self.sequence(body, flags.changed(add, remove), loops)
        if op == "ATOMIC_GROUP":
            return self.sequence(av, flags, loops)
        if op in ("BRANCH", "GROUPREF_EXISTS"):
            alternatives = av[1] if op == "BRANCH" else [av[1], av[2] or []]
            for loop in loops[-1:]:
                loop.has_branch = True
            nullable, empties = False, 0
            first: set[int] = set()
            last: set[int] = set()
            for alternative in alternatives:
                n, f, la, e = self.sequence(alternative, flags, loops)
                nullable, first, last, empties = nullable or n, first | f, last | la, min(empties + e, 2)
            if empties == 2 and loops:
                self.empty_twice.append(loops[-1])
            return nullable, first, last, empties
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, body = av
            if high == 0:
                return _empty()
            if high == 1:
                nullable, first, last, empties = self.sequence(body, flags, loops)
                return nullable or low == 0, first, last, min(empties + (low == 0), 2)
            loop = _Loop(_render_item(op, av))
            for outer in loops[-1:]:
                outer.has_loop = True
            nullable, first, last, empties = self.sequence(body, flags, (*loops, loop))
            if empties == 2:
                self.empty_twice.append(loop)
            self.link(last, first, loop)  # a bounded repeat counts as unbounded: {2,5} splits text like +
            # The matcher stops a loop at an empty iteration, so a loop matches the empty text one way.
            return nullable or low == 0, first, last, int(nullable or low == 0)
        if op == "GROUPREF":  # what the group matched, again: counted as any text
            loop = _Loop(f"\\{av}")
            for outer in loops[-1:]:
                outer.has_loop = True
            _n, first, last, _e = self.position(_ALL, (*loops, loop))
            self.link(last, first, loop)
            return True, first, last, 1
        if op in ("ASSERT", "ASSERT_NOT"):
            self.lookarounds.append((av[1], flags))
        return _empty()  # anchors and lookarounds match no character


def _components(nodes: Iterable[Any], successors: Callable[[Any], Iterable[Any]]) -> dict[Any, int]:
    """Strongly connected components (Tarjan's algorithm, iterative): node -> component number."""
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    component: dict[Any, int] = {}
    stack: list[Any] = []
    on_stack: set[Any] = set()
    roots: list[Any] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(successors(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors(child))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                number = len(roots)
                roots.append(node)
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = number
                    if member == node:
                        break
    return component


def _innermost_common(loop_lists: Iterable[tuple[_Loop, ...]]) -> _Loop | None:
    lists = list(loop_lists)
    common: _Loop | None = None
    for depth in range(min(len(loops) for loops in lists)):
        candidates = {id(loops[depth]) for loops in lists}
        if len(candidates) != 1:
            break
        common = lists[0][depth]
    return common


def _describe(loop: _Loop | None) -> str:
    if loop is None:  # pragma: no cover - a cycle always lies inside some repeat
        return "a repeated part can match the same text in more than one way"
    if loop.has_loop:
        return f"'{loop.text}' nests a quantifier inside a quantifier, and both can match the same text"
    if loop.has_branch:
        return f"'{loop.text}' repeats alternatives that can match the same text"
    return f"'{loop.text}' repeats a part that can match the same text in more than one way"


def _exponential(auto: _Glushkov, cyclic: list[int], scc: dict[int, int]) -> str | None:
    """Two different paths from a state back to itself on the same text, as a message, or None."""
    if auto.empty_twice:
        return _describe(auto.empty_twice[0])
    for (a, b), blame in auto.doubled.items():
        if a in scc and scc.get(b) == scc[a]:  # two edges a -> b, and a way back from b to a
            return _describe(blame)
    classes, follow = auto.classes, auto.follow
    compatible: dict[tuple[int, int], bool] = {}

    def successors(pair: tuple[int, int]) -> list[tuple[int, int]]:
        a, b = pair
        found = []
        for c in follow[a]:
            if scc.get(c) != scc[a]:
                continue
            for d in follow[b]:
                if scc.get(d) != scc[b]:
                    continue
                key = (c, d) if c <= d else (d, c)
                if key not in compatible:
                    compatible[key] = bool(_intersect(classes[c], classes[d]))
                if compatible[key]:
                    found.append((c, d))
        return found

    # Pairs of states the same text can reach: a cycle through (q, q) and some (a, b) with a != b is
    # two different paths from q back to q.
    pairs = _components([(q, q) for q in cyclic], successors)
    diagonal = {number for (a, b), number in pairs.items() if a == b}
    for (a, b), number in pairs.items():
        if a != b and number in diagonal:
            members = [pair for pair, n in pairs.items() if n == number]
            return _describe(_innermost_common(auto.loops[x] for pair in members for x in pair))
    return None


def _polynomial(auto: _Glushkov, cyclic: list[int], scc: dict[int, int]) -> str | None:
    """States p and q with one text leading p to p, p to q and q to q, as a message, or None."""
    classes, follow = auto.classes, auto.follow
    reach: dict[int, set[int]] = {}

    def reachable(start: int) -> set[int]:
        if start not in reach:
            seen = {start}
            todo = [start]
            while todo:
                for nxt in follow[todo.pop()]:
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            reach[start] = seen
        return reach[start]

    for p in cyclic:
        for q in cyclic:
            if scc[p] == scc[q] or q not in reachable(p):
                continue
            start, goal = (p, p, q), (p, q, q)
            seen = {start}
            todo = [start]
            while todo:
                a, b, c = todo.pop()
                for a2 in follow[a]:
                    if scc.get(a2) != scc[p]:
                        continue
                    for c2 in follow[c]:
                        if scc.get(c2) != scc[q]:
                            continue
                        shared = _intersect(classes[a2], classes[c2])
                        if not shared:
                            continue
                        for b2 in follow[b]:
                            if q not in reachable(b2) or not _intersect(shared, classes[b2]):
                                continue
                            node = (a2, b2, c2)
                            if node == goal:
                                first = auto.loops[p][-1].text
                                second = auto.loops[q][-1].text
                                return (
                                    f"'{first}' and '{second}' can match the same text one after the other, "
                                    "so the time grows with a power of the input's length"
                                )
                            if node not in seen:
                                seen.add(node)
                                todo.append(node)
    return None


def _analyse(auto: _Glushkov) -> str | None:
    in_loops = [position for position, loops in enumerate(auto.loops) if loops]
    if len(in_loops) > MAX_LOOP_POSITIONS:
        return f"it repeats more than {MAX_LOOP_POSITIONS} character classes, too many to check"
    scc = _components(in_loops, lambda x: [y for y in auto.follow[x] if auto.loops[y]])
    sizes: dict[int, int] = {}
    for number in scc.values():
        sizes[number] = sizes.get(number, 0) + 1
    cyclic = [x for x in in_loops if sizes[scc[x]] > 1 or x in auto.follow[x]]
    scc = {x: scc[x] for x in cyclic}
    return _exponential(auto, cyclic, scc) or _polynomial(auto, cyclic, scc)


def parse_regex(pattern: str) -> Any:
    """The tree Python's own regex parser builds (``re._parser``): what the checks here walk."""
    with warnings.catch_warnings():  # "possible nested set": compile_user_regex's concern, not ours
        warnings.simplefilter("ignore", FutureWarning)
        return _sre_parse.parse(pattern, 0)


def find_backtracking(pattern: str, alphabet: Charset = _ALL) -> str | None:
    """What makes ``pattern`` backtrack catastrophically on a crafted input, or None if nothing does.

    ``alphabet`` is every character the input can contain (``ORIGIN_ALPHABET`` for origin regexes).
    ``pattern`` must compile.
    """
    parsed = parse_regex(pattern)
    todo: list[tuple[Any, _Flags]] = [(list(parsed), _Flags(parsed.state.flags))]
    while todo:
        items, flags = todo.pop()
        auto = _Glushkov(alphabet)
        auto.sequence(items, flags, ())
        todo.extend(auto.lookarounds)
        problem = _analyse(auto)
        if problem is not None:
            return problem
    return None
