"""Allowing an observed origin in its policy: what it would change, what it needs, and the change itself.

Observed origins are chosen by whoever sends the request: anyone can send ``Origin: null`` or an ``http://``
origin to a credentialed path and see it appear with an "Allow" button. So allowing is never one blind click:
:func:`plan` says what the policy would answer the origin once allowed (the engine's own decision, previewed),
which warnings the change would raise, and which origins need an explicit acknowledgement (``null``, plain
``http:`` with credentials, anything that raises a warning) or can never be allowed (``null`` with
credentials); :func:`apply` re-checks all of it under a row lock and writes. The admin's confirmation page and
the API's ``POST observed/{id}/allow/`` are faces of this: the same checks, messages and history.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.utils.text import capfirst

from .. import analysis, history, protected
from ..conf import conf
from ..engine import SAFELISTED_METHODS, CompiledPolicy, Decision, PolicySet, PolicySpec, parse_request_origin
from ..models import CorsPolicy

__all__ = [
    "HTTP_LOOPBACK_WITH_CREDENTIALS",
    "HTTP_WITH_CREDENTIALS",
    "NULL_WITHOUT_CREDENTIALS",
    "NULL_WITH_CREDENTIALS",
    "OriginCheck",
    "Outcome",
    "Plan",
    "SampleAnswer",
    "Verdict",
    "allowed_already",
    "apply",
    "assess",
    "missing",
    "plan",
]

NULL_WITH_CREDENTIALS = (
    "null cannot be allowed in policy {name!r}, which allows credentials: any page can send Origin: null (a "
    "sandboxed iframe, a data: or file: document), so every site could read your users' data with their cookies. "
    "Serve the page that needs access from a real origin, such as https://app.example.com, and allow that."
)
NULL_WITHOUT_CREDENTIALS = (
    "null is sent by any sandboxed iframe or data: document: anyone can send it, so allowing it lets every site "
    "read these responses (without cookies)."
)
HTTP_WITH_CREDENTIALS = (
    "{origin} is plain http and policy {name!r} allows credentials: anyone on the network path (public Wi-Fi, a "
    "proxy) can inject a script into that page and read your users' data with their cookies. Allow {https} instead "
    "if the page is served over https."
)
HTTP_LOOPBACK_WITH_CREDENTIALS = (
    "{origin} is plain http on this machine and policy {name!r} allows credentials: fine for development, never "
    "in production."
)


class Verdict(enum.Enum):
    """What allowing one origin takes."""

    ALREADY = "already"  # the policy lets it in already
    NEVER = "never"  # refused, whatever the operator says
    ACKNOWLEDGE = "acknowledge"  # allowed only after an explicit acknowledgement
    CONFIRM = "confirm"  # allowed after the confirmation every change needs


@dataclass(frozen=True)
class OriginCheck:
    origin: str
    verdict: Verdict
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class SampleAnswer:
    """What the policy would answer a request from an added origin: the engine's decision."""

    origin: str
    title: str
    request_lines: tuple[str, ...]
    decision: Decision


@dataclass
class Plan:
    """Allowing ``origins`` in ``policy``: read-only, nothing is written."""

    policy: CorsPolicy
    checks: list[OriginCheck]
    #: The policy's warnings once changed that it does not raise today (each needs an acknowledgement).
    new_warnings: list[analysis.PolicyWarning] = field(default_factory=list)
    #: What validation says about the changed policy (nothing is written while there are any).
    errors: list[str] = field(default_factory=list)
    previews: list[SampleAnswer] = field(default_factory=list)

    def origins(self, *verdicts: Verdict) -> list[str]:
        return [check.origin for check in self.checks if check.verdict in verdicts]

    @property
    def adding(self) -> list[str]:
        return self.origins(Verdict.CONFIRM, Verdict.ACKNOWLEDGE)

    @property
    def needs_acknowledgement(self) -> bool:
        return bool(self.adding) and (bool(self.new_warnings) or bool(self.origins(Verdict.ACKNOWLEDGE)))

    @property
    def can_apply(self) -> bool:
        return bool(self.adding) and not self.errors


def allowed_already(policy: CorsPolicy, origin: str) -> bool:
    """Whether the saved policy lets ``origin`` in already (the engine's own test)."""
    try:
        compiled = CompiledPolicy(replace(policy.to_spec(), report_only=False))
    except (ValueError, TypeError):  # a row that does not compile: adding the origin is then the question
        return False
    return compiled.any_origin or compiled.allows_origin(origin)


def _check(policy: CorsPolicy, origin: str) -> OriginCheck:
    if allowed_already(policy, origin):
        return OriginCheck(origin, Verdict.ALREADY)
    name = policy.name
    if origin == "null":
        if policy.allow_credentials:
            return OriginCheck(origin, Verdict.NEVER, (NULL_WITH_CREDENTIALS.format(name=name),))
        return OriginCheck(origin, Verdict.ACKNOWLEDGE, (NULL_WITHOUT_CREDENTIALS,))
    parsed = parse_request_origin(origin)
    if parsed is not None and parsed[0] == "http" and policy.allow_credentials:
        host = parsed[1]
        loopback = host == "localhost" or host.endswith(".localhost") or host.startswith("127.") or host == "[::1]"
        template = HTTP_LOOPBACK_WITH_CREDENTIALS if loopback else HTTP_WITH_CREDENTIALS
        https = "https://" + origin.split("://", 1)[1]
        return OriginCheck(origin, Verdict.ACKNOWLEDGE, (template.format(origin=origin, name=name, https=https),))
    return OriginCheck(origin, Verdict.CONFIRM)


def _changed(policy: CorsPolicy, origins: Sequence[str]) -> CorsPolicy:
    changed = CorsPolicy(**{f.attname: getattr(policy, f.attname) for f in CorsPolicy._meta.concrete_fields})
    changed.allowed_origins = [*(policy.allowed_origins or []), *origins]
    return changed


def _errors(changed: CorsPolicy) -> list[str]:
    try:
        changed.full_clean(validate_unique=False)
    except ValidationError as exc:
        return [
            f"{'' if name == '__all__' else capfirst(name.replace('_', ' ')) + ': '}{message}"
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return []


def _sample_method(methods: Sequence[str]) -> str | None:
    listed = [method for method in methods if method != "*" and method not in SAFELISTED_METHODS]
    if listed:
        return listed[0]
    return "PUT" if "*" in methods else None


def _previews(spec: PolicySpec, origins: Sequence[str]) -> list[SampleAnswer]:
    """The engine's answer to a request, and to a preflight, from each added origin."""
    spec = replace(spec, report_only=False)
    policy_set = PolicySet.build([spec])
    if policy_set.errors:
        return []
    policy = policy_set.policies[0]
    path = analysis.sample_path(spec.path_pattern)
    shown_path = path if path is not None else f"(a path matching {spec.path_pattern})"
    method = _sample_method(spec.allowed_methods)
    headers = [header for header in spec.allowed_headers if header != "*"]
    answers = []
    for origin in origins:
        answers.append(
            SampleAnswer(
                origin,
                "Actual request",
                (f"GET {shown_path}", f"Origin: {origin}"),
                policy_set.decide(policy, origin=origin, method="GET"),
            )
        )
        if method is not None:
            lines = [f"OPTIONS {shown_path}", f"Origin: {origin}", f"Access-Control-Request-Method: {method}"]
            if headers:
                lines.append(f"Access-Control-Request-Headers: {','.join(sorted(h.lower() for h in headers))}")
            answers.append(
                SampleAnswer(
                    origin,
                    f"Preflight for a {method} request",
                    tuple(lines),
                    policy_set.decide(
                        policy, origin=origin, method="OPTIONS", request_method=method, request_headers=headers
                    ),
                )
            )
    return answers


def plan(policy: CorsPolicy, origins: Sequence[str]) -> Plan:
    """What allowing ``origins`` in ``policy`` (as saved) would do; writes nothing."""
    checks = [_check(policy, origin) for origin in dict.fromkeys(origins)]
    result = Plan(policy, checks)
    adding = result.adding
    if not adding:
        return result
    changed = _changed(policy, adding)
    result.errors = _errors(changed)
    if result.errors:
        return result
    before = {(w.code, w.message) for w in protected.policy_warnings(policy.to_spec())}
    result.new_warnings = [
        warning
        for warning in protected.policy_warnings(changed.to_spec())
        if (warning.code, warning.message) not in before
    ]
    result.previews = _previews(changed.to_spec(), adding)
    return result


@dataclass
class Outcome:
    """What :func:`apply` did (or, from :func:`assess`, would do), as messages for the face to show: (level,
    text), level one of "success", "info", "warning", "error"."""

    messages: list[tuple[str, str]] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    #: Nothing was written because the plan needs an acknowledgement that was not given.
    needs_acknowledgement: bool = False
    #: The plan it judged; None when the policy no longer exists.
    plan: Plan | None = None
    #: The checks passed: :func:`apply` writes (a dry run would).
    ready: bool = False

    def texts(self, *levels: str) -> list[str]:
        return [text for level, text in self.messages if level in levels]


def assess(found: Plan, *, acknowledged: bool) -> Outcome:
    """What :func:`apply` says about ``found`` before it writes: origins allowed already (info), origins never to
    be allowed (errors), a changed policy that does not validate, a missing acknowledgement; ``ready`` when it
    would write. Writes nothing: the API's dry run shows this."""
    outcome = Outcome(plan=found)
    policy = found.policy
    already = found.origins(Verdict.ALREADY)
    if already:
        outcome.messages.append(
            (
                "info",
                f"{', '.join(already)} {'is' if len(already) == 1 else 'are'} already allowed by policy "
                f"{policy.name!r}: a refusal recorded since is for another reason (see the reason column).",
            )
        )
    for check in found.checks:
        if check.verdict is Verdict.NEVER:
            outcome.messages.extend(("error", reason) for reason in check.reasons)
    adding = found.adding
    if not adding:
        return outcome
    if found.errors:
        outcome.messages.append(
            (
                "error",
                f"Could not allow {', '.join(adding)} in policy {policy.name!r}: {' '.join(found.errors)} "
                "Edit the policy to fix it.",
            )
        )
        return outcome
    if found.needs_acknowledgement and not acknowledged:
        outcome.needs_acknowledgement = True
        outcome.messages.append(
            (
                "error",
                f"{', '.join(adding)} not allowed in policy {policy.name!r}: the change needs your explicit "
                "acknowledgement of the warnings shown.",
            )
        )
        return outcome
    outcome.ready = True
    return outcome


def missing(policy_id: int, origins: Sequence[str]) -> Outcome:
    """The outcome for a policy that no longer exists."""
    return Outcome([("error", f"Policy {policy_id} no longer exists; {', '.join(origins)} not allowed.")])


def apply(policy_id: int, origins: Sequence[str], *, acknowledged: bool, user: Any) -> Outcome:
    """Allow ``origins`` in the policy, after checking again under a row lock what :func:`plan` said
    (:func:`assess`): origins that can never be allowed are left out, and nothing is written if an
    acknowledgement is needed and was not given, or if the changed policy does not validate. The change is
    saved (every process picks it up) and recorded in the admin's history under ``user``."""
    with transaction.atomic(using=router.db_for_write(CorsPolicy)):
        policy = CorsPolicy.objects.select_for_update().filter(pk=policy_id).first()
        if policy is None:
            return missing(policy_id, origins)
        found = plan(policy, origins)
        outcome = assess(found, acknowledged=acknowledged)
        if not outcome.ready:
            return outcome
        adding = found.adding
        policy.allowed_origins = [*(policy.allowed_origins or []), *adding]
        policy.save()
        history.log_changes(user, changed=[(policy, ["allowed_origins"])])
    outcome.applied = adding
    mode = "report-only " if policy.report_only else ""
    outcome.messages.append(
        (
            "success",
            f"Allowed {', '.join(adding)} in {mode}policy {policy.name!r}; every process applies it within "
            f"{conf.REFRESH_INTERVAL} s.",
        )
    )
    return outcome
