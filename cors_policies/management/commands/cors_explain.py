"""``manage.py cors_explain --origin O --method M --path P [--header H ...] [--preflight]``.

What the middleware would answer a browser, and why, from the shell: the input is cleaned by the admin
tester's form and answered by :func:`cors_policies.services.evaluate.evaluate` (a protected path, then this
process's snapshot), exactly as the admin tester and the API's evaluate endpoint are.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import conf
from ...engine import Decision
from ...forms import RequestTestForm
from ...services.evaluate import evaluate

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
