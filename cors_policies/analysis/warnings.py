"""Misconfiguration warnings: what in one policy deserves a second look, each with its safer alternative.

Not errors: each of these can be what an operator means, but each has hurt someone who did not mean it,
so the admin and the API say so next to the policy, with the safer alternative. Where a warning claims a
regex allows some origin, that origin was built and then checked with the regex itself (as the engine
checks it: a full match), so the example shown is never made up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..engine import OriginError, PolicySpec, parse_origin_entry, parse_request_origin
from .regex_samples import sample_origin_regex, widening_probes
from .samples import path_policy

__all__ = ["PolicyWarning", "policy_warnings"]


@dataclass(frozen=True)
class PolicyWarning:
    """One misconfiguration: a stable ``code`` for programs, a ``message`` naming the safer alternative."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


#: Hosts whose traffic never leaves the machine: plain http there cannot be intercepted on the network.
_LOOPBACK_HOST = re.compile(r"localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.localhost|127(?:\.[0-9]{1,3}){3}|\[::1\]")


def _is_loopback(host: str) -> bool:
    return _LOOPBACK_HOST.fullmatch(host) is not None


def _http_variant(regex: str) -> str | None:
    """An http:// origin ``regex`` allows on a non-loopback host, if its own sample has one."""
    sample = sample_origin_regex(regex)
    if sample is None:
        return None
    for candidate in (sample.text, "http://" + sample.text.split("://", 1)[-1]):
        origin = parse_request_origin(candidate)
        if origin and origin[0] == "http" and not _is_loopback(origin[1]) and sample.allows(candidate):
            return candidate
    return None


def _matches_every_path(pattern: str) -> bool:
    compiled = path_policy(pattern)
    return compiled is not None and all(
        compiled.matches_path(path) for path in ("/", "/admin/login/", "/accounts/password/reset/", "/x")
    )


def _listing(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def policy_warnings(spec: PolicySpec) -> list[PolicyWarning]:
    """Misconfigurations of one policy, each with its safer alternative; empty when there are none.

    Entries that do not parse are left to the validators (they refuse them); this looks at what is valid.
    """
    found: list[PolicyWarning] = []
    entries = []
    for raw in spec.allowed_origins:
        try:
            entries.append(parse_origin_entry(raw))
        except (OriginError, TypeError):
            continue
    kinds = {entry.kind for entry in entries}

    if "null" in kinds:
        found.append(
            PolicyWarning(
                "null_origin",
                "null is allowed: any page can send Origin: null (a sandboxed iframe, a data: or file: document, "
                "some redirects), so this trusts anyone who asks that way. Remove null and list the real origins "
                "of your pages, such as https://app.example.com.",
            )
        )

    if spec.allow_credentials:
        plain = [e.value for e in entries if e.kind in ("exact", "wildcard") and e.scheme == "http"]
        plain = [value for value in plain if not _is_loopback(value.split("://", 1)[1].rsplit(":", 1)[0])]
        regex_examples = [example for example in map(_http_variant, spec.allowed_origin_regexes) if example]
        if plain or regex_examples:
            shown = plain + [f"{example} (by a regex)" for example in regex_examples]
            safer = [("https://" + value.split("://", 1)[1]) for value in plain + regex_examples]
            noun = "origin" if len(shown) == 1 else "origins"
            found.append(
                PolicyWarning(
                    "http_with_credentials",
                    f"Credentials are allowed for the plain-http {noun} {_listing(shown)}: anyone on the network "
                    "path (public Wi-Fi, a proxy) can inject a script into such a page and read your users' data "
                    f"with their cookies. Allow {_listing(safer)} instead.",
                )
            )
        if "*" in spec.allowed_methods:
            found.append(
                PolicyWarning(
                    "any_method_with_credentials",
                    "Allowed methods * with credentials lets the allowed origins send any method, DELETE included, "
                    "with your users' cookies. List the methods your front end uses, such as GET, POST, PUT.",
                )
            )
        if "*" in spec.allowed_headers:
            found.append(
                PolicyWarning(
                    "any_header_with_credentials",
                    "Allowed headers * with credentials lets the allowed origins send any request header (except "
                    "Authorization) with your users' cookies. List the headers your front end sends, such as "
                    "Content-Type, X-CSRFToken.",
                )
            )

    for regex in spec.allowed_origin_regexes:
        if not isinstance(regex, str):
            continue
        for kind, example in widening_probes(regex):
            if kind == "dot":
                found.append(
                    PolicyWarning(
                        "regex_unescaped_dot",
                        f"The regex {regex!r} also allows {example}: an unescaped '.' matches any character. "
                        r"Write \. for a literal dot, or list the origin exactly in allowed origins.",
                    )
                )
            else:
                found.append(
                    PolicyWarning(
                        "regex_too_broad",
                        f"The regex {regex!r} also allows {example}, a domain anyone can register: a repeat there "
                        r"can grow into another domain. End the repeat at a dot, as in ^https://([a-z0-9-]+\.)*"
                        r"example\.com$, or use a subdomain wildcard such as https://*.example.com.",
                    )
                )

    if "any" in kinds and _matches_every_path(spec.path_pattern):
        found.append(
            PolicyWarning(
                "catch_all_any_origin",
                f"{spec.path_pattern} with origin * lets every web page read the responses of every path of the "
                "site (without cookies), including paths added later. Narrow the path pattern to what is public, "
                "such as /api/public/**.",
            )
        )
    return found
