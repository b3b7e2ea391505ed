"""Texts a regex matches, read off the regex itself rather than searched for.

* :func:`literal_prefix`: the literal text a path regex starts with, from which sample paths are made.
* :func:`sample_origin_regex` and :func:`widening_probes`: one origin an origin regex allows, then variants
  of it (a lone '.' replaced by another character, a repeat filled with text an attacker chooses), the
  examples behind the regex warnings. Each is checked with the compiled regex itself (a full match, as the
  engine matches origins) before anyone is shown it, so an example is never made up.

Why a reader of our own rather than a library's parse tree: RE2's Python binding (google-re2) exposes none,
and Python's parser (``re._parser``, formerly ``sre_parse``) is private, changes between Python versions,
and reads Python's dialect, not RE2's (``\\C``, ``\\pN``, ``\\z``, ``{,n}``, the ``U`` flag). This reader takes
only the small subset it can sample with certainty (literals, ``.``, classes, groups, repeats), with
RE2's syntax facts from :mod:`cors_policies.regex`, and gives up on anything else: a regex it cannot read
gets no warning rather than a guess, and what it writes is verified, so a misreading can only make it
silent, never wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..engine import parse_request_origin, public_suffixes
from ..regex import (
    FLAGS,
    METACHARACTERS,
    PERL_CLASSES,
    REPEAT,
    ZERO_WIDTH_ESCAPES,
    RegexError,
    compile_regex,
    escapes_itself,
)

__all__ = ["RegexSample", "literal_prefix", "sample_origin_regex", "widening_probes"]

#: What a probe puts where a regex repeats: text an attacker can choose for a domain of their own.
_ATTACKER_LABEL = "evil"
_ATTACKER_SUFFIX = ".evil.net"


def literal_prefix(source: str) -> str:
    """The literal text a ``^...`` regex starts with: ``^/api/v[12]/`` → ``/api/v``; ``\\.`` is a dot."""
    text = source[1:]
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and escapes_itself(text[index + 1]):
            out.append(text[index + 1])
            index += 2
            continue
        if char in METACHARACTERS:
            break
        out.append(char)
        index += 1
    literal = "".join(out)
    # A quantifier applies to the character before it, which then is not certain to be there.
    if index < len(text) and text[index] in "*?{" and literal:
        literal = literal[:-1]
    return literal


def _compile(regex: str) -> Any:
    """The RE2 regex, or None when it does not compile (the validators say so)."""
    try:
        return compile_regex(regex)
    except RegexError:
        return None


def _fullmatch(compiled: Any, text: str) -> bool:
    return compiled.fullmatch(text) is not None


# A regex read just far enough to write one text it matches: a node is ("lit", char), ("class", char),
# ("dot",), ("empty",), ("group", alternatives) or ("repeat", node, low, high). Anything else (negated
# classes, Unicode classes, unusual groups) gives up: the probes then say nothing rather than guess.
_Node = tuple[Any, ...]
_HOST_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
#: \d and \w, as a host may use them (\s, white space, fits no host: the reader gives up on it).
_ESCAPE_CLASSES = {name: PERL_CLASSES[name] for name in "dw"}
_NAMED_GROUP = re.compile(r"\?P?<[A-Za-z_][A-Za-z0-9_]*>")
_FLAGS_GROUP = re.compile(rf"\?[{FLAGS}-]+([:)])")


class _GiveUp(Exception):
    pass


class _Reader:
    """Reads a regex into nodes, raising :class:`_GiveUp` at anything it does not read."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0

    def peek(self) -> str:
        return self.text[self.index] if self.index < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise _GiveUp
        self.index += 1
        return char

    def alternatives(self) -> list[list[_Node]]:
        branches: list[list[_Node]] = [[]]
        while self.peek() not in ("", ")"):
            if self.peek() == "|":
                self.index += 1
                branches.append([])
                continue
            branches[-1].append(self.quantified(self.atom()))
        return branches

    def atom(self) -> _Node:
        char = self.take()
        if char in "^$":
            return ("empty",)
        if char == ".":
            return ("dot",)
        if char == "[":
            return ("class", self.charset())
        if char == "(":
            if self.text.startswith("?", self.index):
                head = self.text[self.index :]
                name = _NAMED_GROUP.match(head)
                flags = _FLAGS_GROUP.match(head)
                if name:
                    self.index += name.end()
                elif flags and flags.group(1) == ")":
                    self.index += flags.end()
                    return ("empty",)
                elif flags or head.startswith("?:"):
                    self.index += flags.end() if flags else 2
                else:
                    raise _GiveUp
            branches = self.alternatives()
            if self.take() != ")":
                raise _GiveUp  # pragma: no cover - RE2 compiled it, so the parentheses balance
            return ("group", branches)
        if char == "\\":
            escaped = self.take()
            if escaped in ZERO_WIDTH_ESCAPES:
                return ("empty",)
            if escaped in _ESCAPE_CLASSES:
                return ("class", _ESCAPE_CLASSES[escaped][0])
            if not escapes_itself(escaped):
                raise _GiveUp  # \s, \pL, \x41...: not worth guessing
            return ("lit", escaped)
        return ("lit", char)

    def charset(self) -> str:
        """A character of a [...] class that fits in a host, preferring a letter."""
        if self.peek() == "^":
            raise _GiveUp  # a negated set: probes do not guess what it lets through
        members: list[tuple[str, str]] = []
        first = True
        while first or self.peek() != "]":
            first = False
            char = self.take()
            if char == "\\":
                escaped = self.take()
                if escaped in _ESCAPE_CLASSES:
                    members.extend((c, c) for c in _ESCAPE_CLASSES[escaped])
                    continue
                if not escapes_itself(escaped):
                    raise _GiveUp
                char = escaped
            if self.peek() == "-" and self.text[self.index + 1 : self.index + 2] not in ("]", ""):
                self.index += 1
                end = self.take()
                if end == "\\":
                    end = self.take()
                members.append((char, end))
            else:
                members.append((char, char))
        self.index += 1
        for preferred in _HOST_CHARS:
            if any(low <= preferred <= high for low, high in members):
                return preferred
        for preferred in _HOST_CHARS:  # [A-Z]: under (?i) its lower case (the sample is verified anyway)
            if any(low <= preferred.upper() <= high for low, high in members):
                return preferred
        raise _GiveUp

    def quantified(self, node: _Node) -> _Node:
        while True:
            char = self.peek()
            if char in ("*", "+", "?"):
                self.index += 1
                low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
            elif char == "{" and (bounds := REPEAT.match(self.text[self.index :])):
                self.index += bounds.end()
                low = int(bounds.group(1))
                high = low if bounds.group(2) is None else (int(bounds.group(3)) if bounds.group(3) else None)
            else:
                return node
            if self.peek() == "?":
                self.index += 1  # lazy: matches the same texts
            node = ("repeat", node, low, high)


def _read(regex: str) -> list[_Node] | None:
    """The regex as one group of nodes; None when the reader gives up."""
    reader = _Reader(regex)
    try:
        branches = reader.alternatives()
    except _GiveUp:
        return None
    if reader.peek():
        return None  # pragma: no cover - an unbalanced ')' does not compile
    return [("group", branches)]


class _Sampler:
    """Writes one text a read regex matches, with chosen text at chosen repeats and dots (the probes).

    Nodes are numbered in the order the walk meets them, so a second walk with ``overrides`` (node number
    -> text) writes the same sample except there. A repeat is written ``low`` times (``minimal``) or at
    least once. ``mask`` marks each character of the sample ``L`` when the regex spells it out (a literal,
    or a lone '.' taken as the dot it was probably meant to be) and ``N`` when the regex only allows it.
    """

    def __init__(self, overrides: dict[int, str] | None = None, *, minimal: bool = False) -> None:
        self.overrides = overrides or {}
        self.minimal = minimal
        self.counter = 0
        self.depth = 0  # repeats around the current node
        self.repeats: list[int] = []  # repeats whose text a probe may replace
        self.dots: list[int] = []  # lone '.' outside repeats: meant as a literal dot, more often than not

    def nodes(self, nodes: list[_Node]) -> tuple[str, str]:
        text, mask = [], []
        for node in nodes:
            part = self.node(node)
            text.append(part[0])
            mask.append(part[1])
        return "".join(text), "".join(mask)

    def node(self, node: _Node) -> tuple[str, str]:
        self.counter += 1
        number = self.counter
        kind = node[0]
        if kind == "lit":
            # Lower case: an origin is always lower case, so an upper-case letter can only be matched under
            # (?i), and there its lower case is (a case-sensitive one then gives no sample, as before).
            return node[1].lower(), "L"
        if kind == "class":
            return node[1], "N"
        if kind == "dot":
            if self.depth:
                return "a", "N"
            self.dots.append(number)
            return (self.overrides[number], "N") if number in self.overrides else (".", "L")
        if kind == "group":
            return self.nodes(node[1][0])
        if kind == "repeat":
            _kind, body, low, high = node
            if high is None or high > 1:
                self.repeats.append(number)
            self.depth += 1
            inner = self.node(body)
            self.depth -= 1
            if number in self.overrides:
                return self.overrides[number], "N" * len(self.overrides[number])
            times = low if self.minimal else max(low, min(1 if high is None else high, 1))
            return inner[0] * times, (inner[1] if high == 1 else "N" * len(inner[1])) * times
        return "", ""


def _sample(nodes: list[_Node], compiled: Any, overrides: dict[int, str] | None = None) -> tuple[str, str] | None:
    """A serialized origin the regex fully matches, with its mask: the shortest sample if it is one."""
    for minimal in (True, False):
        text, mask = _Sampler(overrides, minimal=minimal).nodes(nodes)
        if parse_request_origin(text) is not None and _fullmatch(compiled, text):
            return text, mask
    return None


@dataclass(frozen=True)
class RegexSample:
    """A serialized origin an origin regex fully matches (``text``; ``mask`` as :class:`_Sampler` writes
    it), with the compiled regex and its nodes, from which probes write variants."""

    regex: Any
    nodes: list[_Node]
    text: str
    mask: str

    def allows(self, origin: str) -> bool:
        """The regex fully matches ``origin``, as the engine matches origins."""
        return _fullmatch(self.regex, origin)


def sample_origin_regex(regex: str) -> RegexSample | None:
    """The regex's sample origin; None when it does not compile or cannot be read or sampled."""
    compiled = _compile(regex)
    nodes = _read(regex) if compiled is not None else None
    if nodes is None:
        return None
    sample = _sample(nodes, compiled)
    if sample is None:
        return None
    return RegexSample(compiled, nodes, *sample)


def widening_probes(regex: str) -> list[tuple[str, str]]:
    """Origins ``regex`` allows beyond the domain it spells out, as (kind, origin): ``dot`` when an
    unescaped '.' lets another character stand for a dot, ``repeat`` when a repeat lets a label or a
    suffix grow into another domain. Each origin is a serialized origin the regex fully matches."""
    sample = sample_origin_regex(regex)
    if sample is None:
        return []
    compiled, nodes, text, mask = sample.regex, sample.nodes, sample.text, sample.mask
    host_start = text.index("://") + 3
    host = text[host_start:].split(":", 1)[0] if not text[host_start:].startswith("[") else ""
    host_mask = mask[host_start : host_start + len(host)]
    # The domain the regex spells out: the literal end of the host, from the start of a label.
    spelled = host[len(host_mask.rstrip("L")) :]
    if spelled != host:
        spelled = spelled.split(".", 1)[1] if "." in spelled else ""
    walker = _Sampler()
    walker.nodes(nodes)
    found: list[tuple[str, str]] = []
    for number in walker.dots:
        probe = _Sampler({number: "x"}).nodes(nodes)[0]
        if _allows_another_domain(compiled, probe, spelled):
            found.append(("dot", probe))
            break
    for number in walker.repeats:
        probes = (_Sampler({number: text}).nodes(nodes)[0] for text in (_ATTACKER_SUFFIX, _ATTACKER_LABEL))
        hit = next((probe for probe in probes if _allows_another_domain(compiled, probe, spelled)), None)
        if hit is not None:
            found.append(("repeat", hit))
            break
    return found


def _allows_another_domain(compiled: Any, probe: str, domain: str) -> bool:
    """``probe`` is an origin the regex allows whose host is outside the registrable domain of ``domain``
    (so someone other than its owner may hold it). ``domain`` is what the shortest sample spells out, where
    a repeat may be empty (``a.example.com`` for ``a.*\\.example\\.com``): its owner is the owner of its
    registrable domain (``example.com``, by the Public Suffix List, as the engine reads wildcards), and a
    host below that is theirs too. A ``domain`` that is itself a public suffix is taken as it is."""
    parsed = parse_request_origin(probe)
    if parsed is None or not _fullmatch(compiled, probe):
        return False
    host = parsed[1]
    if not domain:
        return True
    owned = public_suffixes().privatesuffix(domain) or domain
    return host != owned and not host.endswith("." + owned)
