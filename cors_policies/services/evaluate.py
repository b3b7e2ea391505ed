"""What the middleware would answer a request described in words, and why.

The admin's request tester, the API's ``POST evaluate/`` and ``manage.py cors_explain`` all ask here, so they
answer alike and as the middleware does: a protected path (the admin, this app's API) first, which no policy
governs, then this process's snapshot of the enabled policies: the request a browser sends for the described one
(:func:`~cors_policies.engine.decide.described`) asked of the middleware's :func:`~cors_policies.engine.decide`,
with the explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import protected
from ..engine import Decision, PolicySet, decide
from ..engine.decide import described
from ..snapshot import snapshot

__all__ = ["Evaluation", "evaluate"]


@dataclass(frozen=True)
class Evaluation:
    #: The answer; None when the policies could not be loaded (and the path is not protected).
    decision: Decision | None
    #: The path is protected: the middleware leaves it alone, whatever the policies say.
    protected: bool
    #: The policies asked (None when they could not be loaded); its ``errors`` name the rows it skipped.
    policy_set: PolicySet | None

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
