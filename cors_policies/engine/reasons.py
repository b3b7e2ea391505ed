"""The engine's vocabulary, each word with its label in one place: why a request is refused (:class:`Reason`),
what was answered (:class:`Verdict`) and what kind a path pattern is (:class:`PatternKind`).

They are ``str`` and ``int`` enums: a member *is* its code, so what the recorder stores, the API sends and
the precedence keys compare is the same text or number as before they were enums. The models' choices, the
admin's filters and the API's enums are derived from these.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["PatternKind", "Reason", "Verdict"]


class _Labelled(str, enum.Enum):
    """A code and its label: ``Member("code", "label")``; the member compares, hashes, prints and serializes
    as its code."""

    label: str

    def __new__(cls, code: str, label: str) -> Any:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Reason(_Labelled):
    """Why the engine refuses a request: the stable code (:attr:`Refusal.code
    <cors_policies.engine.decision.Refusal.code>`, the recorder's ``reason``, the API's ``?reason=``), and
    its label for people."""

    ORIGIN = "origin", "origin not allowed"
    ORIGIN_MALFORMED = "origin_malformed", "malformed Origin"
    METHOD = "method", "method not allowed"
    HEADERS = "headers", "request headers not allowed"
    PRIVATE_NETWORK = "private_network", "private network access not allowed"
    METHOD_MALFORMED = "method_malformed", "malformed Access-Control-Request-Method"
    HEADERS_MALFORMED = "headers_malformed", "malformed Access-Control-Request-Headers"
    #: Never recorded: without an Origin a request is not a cross-origin browser request.
    NO_ORIGIN = "no_origin", "no Origin header"
    #: Never recorded: no policy covers the path, so there is no policy to count it for.
    NO_POLICY = "no_policy", "no policy covers the path"
    #: Never recorded: the path is protected (the admin, this app's API), which the middleware leaves alone.
    PROTECTED = "protected", "protected path"

    @property
    def recorded(self) -> bool:
        """Whether the recorder can store it (a request with an Origin, refused by a policy)."""
        return self not in _NOT_RECORDED

    @classmethod
    def recordable(cls) -> tuple[Reason, ...]:
        """The codes an observed-origin row can carry, in the order the admin and the API list them."""
        return tuple(reason for reason in cls if reason.recorded)


_NOT_RECORDED = frozenset({Reason.NO_ORIGIN, Reason.NO_POLICY, Reason.PROTECTED})


class Verdict(_Labelled):
    """What a request got: allowed or refused by the policy covering its path, or ``uncovered`` (no policy
    covered it, so browsers refuse it; recorded only as what was served beside a report-only verdict)."""

    ALLOWED = "allowed", "allowed"
    REFUSED = "refused", "refused"
    UNCOVERED = "uncovered", "no policy (refused)"


class PatternKind(enum.IntEnum):
    """What a path pattern is, in precedence order (lower is more specific, and sorts first)."""

    label: str

    def __new__(cls, number: int, label: str) -> Any:
        member = int.__new__(cls, number)
        member._value_ = number
        member.label = label
        return member

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    LITERAL = 0, "literal path"
    GLOB = 1, "glob"
    REGEX = 2, "regular expression"
