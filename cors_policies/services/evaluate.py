"""What the middleware would answer a request described in words, and why.

The admin's request tester, the API's ``POST evaluate/`` and ``manage.py cors_explain`` all ask here, so they
answer alike and as the middleware does: a protected path (the admin, this app's API) first, which no policy
governs, then this process's snapshot of the enabled policies: the request a browser sends for the described one
(:func:`~cors_policies.engine.decide.described`) asked of the middleware's :func:`~cors_policies.engine.decide`,
with the explanation. A WebSocket handshake (:func:`evaluate_handshake`) is asked as
:class:`~cors_policies.channels.PolicyOriginValidator` asks it, through the same :func:`handshake_verdict` and
:func:`same_origin`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import protected
from ..engine import DEFAULT_PORTS, Decision, PolicySet, decide
from ..engine.decide import described
from ..snapshot import snapshot

__all__ = ["Evaluation", "evaluate", "evaluate_handshake", "handshake_verdict", "same_origin"]


@dataclass(frozen=True)
class Evaluation:
    #: The answer; None when the policies could not be loaded (and the path is not protected).
    decision: Decision | None
    #: The path is protected: the middleware leaves it alone, whatever the policies say.
    protected: bool
    #: The policies asked (None when they could not be loaded); its ``errors`` name the rows it skipped.
    policy_set: PolicySet | None
    #: A WebSocket handshake from the site's own origin (its Origin names the Host): it always connects.
    same_origin: bool = False

    @property
    def csrf_trusted(self) -> bool:
        """The origin passes Django's CSRF origin check through a CSRF-trusted policy (``cors_policies.csrf``)."""
        return not self.protected and self.decision is not None and self.decision.csrf_trusted


def evaluate(
    *,
    origin: str | None,
    method: str,
    path: str,
    request_headers: Sequence[str] = (),
    preflight: bool = False,
    private_network: bool = False,
) -> Evaluation:
    """The middleware's answer to the described request, explained."""
    policy_set = snapshot.get()
    shielded = protected.decision(path, preflight=preflight)
    if shielded is not None:
        return Evaluation(shielded, True, policy_set)
    if policy_set is None:
        return Evaluation(None, False, None)
    request = described(origin, method, path, request_headers, preflight, private_network)
    return Evaluation(decide(policy_set, request, explain=True), False, policy_set)


def _authority(scheme: str, authority: str) -> str:
    """``host[:port]`` in lower case, without the scheme's default port."""
    authority = authority.strip().lower()
    default = DEFAULT_PORTS.get(scheme)
    if default is not None and authority.endswith(f":{default}"):
        authority = authority[: -len(f":{default}")]
    return authority


def same_origin(origin: str, host: str | None, *, secure: bool = False) -> bool:
    """Whether ``origin`` is the site's own: its host and port are the handshake's ``Host`` (``secure``: wss).

    The scheme is not compared: behind a proxy that ends TLS, an https page's socket arrives as ``ws``.
    """
    scheme, sep, authority = origin.partition("://")
    if host is None or not sep or scheme not in ("http", "https"):
        return False
    socket_scheme = "https" if secure else "http"
    return _authority(scheme, authority) in (_authority(scheme, host), _authority(socket_scheme, host))


def handshake_verdict(
    policy_set: PolicySet, path: str, origin: str | None, *, explain: bool = False
) -> Decision | None:
    """The engine's verdict on a WebSocket handshake from ``origin`` to ``path``, as for a GET; None on a
    protected path, which no policy governs (``PolicyOriginValidator`` refuses a cross-origin one)."""
    if protected.is_protected(path):
        return None
    return decide(policy_set, described(origin, "GET", path), explain=explain)


def evaluate_handshake(*, origin: str | None, path: str, host: str | None = None, secure: bool = False) -> Evaluation:
    """What ``PolicyOriginValidator`` answers a WebSocket handshake, explained: a same-origin one (``host`` given
    and named by ``origin``) connects; otherwise the covering policy's verdict (refused when none covers it)."""
    policy_set = snapshot.get()
    if origin is not None and same_origin(origin, host, secure=secure):
        return Evaluation(None, False, policy_set, same_origin=True)
    if protected.is_protected(path):
        return Evaluation(None, True, policy_set)
    if policy_set is None:
        return Evaluation(None, False, None)
    return Evaluation(handshake_verdict(policy_set, path, origin, explain=True), False, policy_set)
