"""``manage.py cors_explain --origin O --method M --path P [--header H ...] [--preflight]``, or
``--websocket --origin O --path P [--host H]``.

What the middleware would answer a browser, and why, from the shell: the input is cleaned by the admin
tester's form and answered by :func:`cors_policies.services.evaluate.evaluate` (a protected path, then this
process's snapshot), exactly as the admin tester and the API's evaluate endpoint are. With ``--websocket``
it answers what ``PolicyOriginValidator`` does with the handshake, through the same
:func:`~cors_policies.services.evaluate.evaluate_handshake`.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import conf
from ...engine import Decision
from ...forms import RequestTestForm
from ...services.evaluate import Evaluation, evaluate, evaluate_handshake

SNAPSHOT_UNAVAILABLE = (
    "The CORS policies could not be loaded from the database (the log above says why), so there is nothing "
    "to explain. Check DATABASES and that migrations ran (manage.py migrate), then retry."
)


class Command(BaseCommand):
    help = (
        "Explain what the CORS middleware answers a browser's request: the policy that applies and why, "
        "whether the browser allows it, the exact response headers and every reason for a refusal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--origin", required=True, help="The page's origin, as sent: https://app.example.com.")
        parser.add_argument("--method", default="GET", help="The method the page uses (default GET).")
        parser.add_argument("--path", required=True, help="The path, or a whole URL: /api/items/5.")
        parser.add_argument(
            "--header",
            action="append",
            default=[],
            metavar="H",
            help="A request header the page sets (repeat, or comma-separate): --header Content-Type.",
        )
        parser.add_argument("--preflight", action="store_true", help="Ask about the OPTIONS preflight.")
        parser.add_argument(
            "--private-network", action="store_true", help="The preflight asks for private network access."
        )
        parser.add_argument("--json", action="store_true", help="Print the API's evaluate answer as JSON.")
        parser.add_argument(
            "--websocket",
            action="store_true",
            help="Ask about a WebSocket handshake to the path, as PolicyOriginValidator checks it.",
        )
        parser.add_argument(
            "--host",
            help="With --websocket: the handshake's Host header (a same-origin handshake always connects).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        form = RequestTestForm(
            data={
                "origin": options["origin"],
                "method": options["method"],
                "path": options["path"],
                "request_headers": "\n".join(options["header"]),
                "preflight": options["preflight"],
                "private_network": options["private_network"],
            }
        )
        if not form.is_valid():
            problems = [
                f"--{field.replace('_', '-')}: {' '.join(map(str, errors))}" for field, errors in form.errors.items()
            ]
            raise CommandError("\n".join(problems).replace("--request-headers", "--header"))
        data = form.cleaned_data
        if options["websocket"]:
            if options["json"]:
                raise CommandError("--json: not with --websocket.")
            if options["preflight"] or options["private_network"] or data["request_headers"] or data["method"] != "GET":
                raise CommandError(
                    "--websocket: a handshake is a GET without a preflight: drop --method, --header, --preflight."
                )
            handshake = evaluate_handshake(origin=data["origin"], path=data["path"], host=options["host"])
            if handshake.decision is None and not handshake.same_origin and not handshake.protected:
                raise CommandError(SNAPSHOT_UNAVAILABLE)
            for line in handshake_lines(data, handshake, host=options["host"]):
                self.stdout.write(line)
            return
        if options["host"]:
            raise CommandError("--host: only with --websocket.")
        answer = evaluate(**data)
        decision = answer.decision
        if decision is None:
            raise CommandError(SNAPSHOT_UNAVAILABLE)
        if options["json"]:
            self.stdout.write(json.dumps(decision.as_dict(), indent=2, ensure_ascii=False))
            return
        for line in explain_lines(data, decision, protected=answer.protected):
            self.stdout.write(line)


def explain_lines(data: dict[str, Any], decision: Decision, *, protected: bool = False) -> list[str]:
    """The explanation, as printed."""
    method, path, origin = data["method"], data["path"], data["origin"]
    headers = ", ".join(data["request_headers"])
    if data["preflight"]:
        asked = f"the preflight (OPTIONS) for {method} {path} from {origin}"
        if headers:
            asked += f", asking for headers {headers}"
        if data["private_network"]:
            asked += ", asking for private network access"
    else:
        asked = f"{method} {path} from {origin}"
    lines = [f"Request: {asked}"]
    if protected:
        lines.append("Policy: none (a protected path: the middleware leaves it alone, whatever the policies say)")
    elif decision.policy is None:
        lines.append("Policy: none (no enabled policy covers this path: the middleware adds nothing)")
    else:
        lines.append(f"Policy: {decision.policy.name} (id {decision.policy.id})")
    if decision.allowed:
        after = f"sends the {method} request" if data["preflight"] else "lets the page read the response"
        lines.append(f"Verdict: allowed (the browser {after})")
    else:
        after = f"does not send the {method} request" if data["preflight"] else "hides the response from the page"
        lines.append(f"Verdict: refused (the browser {after})")
    if decision.policy is not None and decision.policy.csrf_trusted:
        lines.append(
            "CSRF: passes Django's origin check (the policy is CSRF-trusted; the token is still required)"
            if decision.csrf_trusted
            else "CSRF: the policy is CSRF-trusted, but not for this origin: Django's origin check refuses it "
            "unless CSRF_TRUSTED_ORIGINS lists it"
        )
    if decision.policy is not None and data["preflight"]:
        lines.append(f"Response: {conf.PREFLIGHT_STATUS}, empty (the middleware answers the preflight itself)")
    elif decision.policy is not None:
        lines.append("Response: the view's, with these headers")
    shown = [*decision.headers, *([("Vary", ", ".join(decision.vary))] if decision.vary else [])]
    lines.extend(f"  {name}: {value}" for name, value in shown)
    if decision.policy is not None and not shown:
        lines.append("  (no CORS headers)")
    if decision.reasons:
        lines.append("Reasons:")
        lines.extend(f"  - {reason}" for reason in decision.reasons)
    lines.append("Why this policy:" if decision.policy is not None else "Why:")  # simulate() always explains
    lines.extend(f"  {line}" for line in decision.explanation)
    return lines


def handshake_lines(data: dict[str, Any], answer: Evaluation, *, host: str | None) -> list[str]:
    """What ``PolicyOriginValidator`` does with the handshake, as printed."""
    path, origin = data["path"], data["origin"]
    lines = [f"Request: a WebSocket handshake to {path} from {origin}" + (f" (Host: {host})" if host else "")]
    decision = answer.decision
    if answer.same_origin:
        return [
            *lines,
            "Policy: not asked (same origin: the Origin names the handshake's Host)",
            "Verdict: allowed (PolicyOriginValidator lets the site's own pages connect, covered path or not)",
        ]
    if answer.protected:
        lines.append("Policy: none (a protected path, which no policy governs)")
    elif decision is not None and decision.policy is not None:
        lines.append(f"Policy: {decision.policy.name} (id {decision.policy.id})")
    else:
        lines.append("Policy: none (no enabled policy covers this path)")
    refused = decision is None or not decision.covered or not decision.allowed
    if not refused:
        lines.append("Verdict: allowed (PolicyOriginValidator passes the handshake to the application)")
    else:
        lines.append(
            "Verdict: refused (PolicyOriginValidator closes the handshake; the browser reports a failed connection)"
        )
    if decision is not None and decision.reasons:
        lines.append("Reasons:")
        lines.extend(f"  - {reason}" for reason in decision.reasons)
    if decision is not None:
        lines.append("Why this policy:" if decision.policy is not None else "Why:")
        lines.extend(f"  {line}" for line in decision.explanation)
    if refused and host is None:
        lines.append(
            "Same origin: a page served by the host the socket connects to (its Origin naming the Host header) "
            "connects anyway, whatever the policies say; --host checks it."
        )
    elif refused:
        lines.append(f"Same origin: no (the Origin does not name the Host {host})")
    return lines
