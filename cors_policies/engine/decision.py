"""What the engine answers: a :class:`Decision` (the headers to send, and whether a browser would go on) and
the :class:`Refusal` reasons behind a refused one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .policy import CompiledPolicy

__all__ = ["Decision", "Refusal", "is_preflight"]


class Refusal:
    """Why a request is refused: a stable ``code`` for programs (a :class:`~cors_policies.engine.reasons.Reason`),
    ``message`` for people.

    The message may be given as a function: the middleware refuses many requests and never reads the
    text, so it is only built when someone (the tester, the API, a log line) asks for it.
    """

    __slots__ = ("_message", "code")

    def __init__(self, code: str, message: str | Callable[[], str]) -> None:
        self.code = code
        self._message = message

    @property
    def message(self) -> str:
        if not isinstance(self._message, str):
            self._message = self._message()
        return self._message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Refusal) and (self.code, self.message) == (other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.code, self.message))

    def __repr__(self) -> str:
        return f"Refusal({str(self.code)!r}, {self.message!r})"


@dataclass(slots=True)
class Decision:
    """What to answer and why.

    ``covered``: a policy applies to the path (if not, the request goes on untouched).
    ``allowed``: a browser would let the page read the response (or send the real request).
    ``headers``: the exact CORS response headers, in order. ``vary``: request headers the answer
    depends on, to merge into ``Vary``. ``refusals``: every reason the request is refused.
    ``explanation``: why this policy won (filled only by ``decide(..., explain=True)``).
    ``csrf_trusted``: the origin is allowed by a ``csrf_trusted`` policy, so ``cors_policies.csrf`` lets it
    pass Django's CSRF origin check.
    """

    policy: CompiledPolicy | None
    preflight: bool
    allowed: bool
    headers: tuple[tuple[str, str], ...] = ()
    vary: tuple[str, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    explanation: list[str] = field(default_factory=list)
    #: The verdict of the report-only policy covering the path, when :func:`~cors_policies.engine.decide.decide`
    #: asked it (the request has an Origin, or it is explained); never changes this decision's answer.
    report_only: Decision | None = None
    csrf_trusted: bool = False
    #: What the middleware derived from this decision to write it (the headers of its preflight response), kept
    #: for the next request that gets the same shared decision; never part of the answer, nor compared.
    prepared: Any = field(default=None, compare=False, repr=False)

    @property
    def covered(self) -> bool:
        return self.policy is not None

    @property
    def reasons(self) -> list[str]:
        return [refusal.message for refusal in self.refusals]

    def as_dict(self) -> dict[str, Any]:
        """The shape the API's evaluate endpoint and the command line print."""
        return {
            "allowed": self.allowed,
            "policy": None if self.policy is None else {"id": self.policy.id, "name": self.policy.name},
            "response_headers": dict(self.headers),
            "vary": list(self.vary),
            "reasons": self.reasons,
            "explanation": list(self.explanation),
            "csrf_trusted": self.csrf_trusted,
        }


def is_preflight(method: str, origin: str | None, request_method: str | None) -> bool:
    """A CORS preflight: OPTIONS with both Origin and Access-Control-Request-Method."""
    return method == "OPTIONS" and origin is not None and request_method is not None
