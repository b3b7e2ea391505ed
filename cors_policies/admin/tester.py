"""The policy admin's "Test a request" page: what a browser would get, asked exactly as the middleware asks.

The answer is :func:`cors_policies.services.evaluate.evaluate`'s, as for the API's evaluate endpoint and
``cors_explain``; this page adds the notes a person needs (what a preflight would change) and the same request as
a ``curl`` command.
"""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.encoding import escape_uri_path

from .. import analysis
from ..conf import conf
from ..engine import SAFELISTED_METHODS, Decision
from ..forms import RequestTestForm
from ..models import CorsPolicy
from ..services.evaluate import evaluate

TESTER_URL_NAME = "cors_policies_corspolicy_test"


def curl_command(url: str, form: dict[str, Any]) -> str:
    """The same request from a terminal, to compare with what the server really answers."""
    parts = ["curl", "-si"]
    if form["preflight"]:
        parts += ["-X", "OPTIONS", url, "-H", f"Origin: {form['origin']}"]
        parts += ["-H", f"Access-Control-Request-Method: {form['method']}"]
        if form["request_headers"]:
            names = ",".join(sorted({name.lower() for name in form["request_headers"]}))
            parts += ["-H", f"Access-Control-Request-Headers: {names}"]
        if form["private_network"]:
            parts += ["-H", "Access-Control-Request-Private-Network: true"]
    else:
        if form["method"] == "HEAD":
            parts.append("--head")  # curl -X HEAD would wait for a body that never comes
        elif form["method"] != "GET":
            parts += ["-X", form["method"]]
        parts += [url, "-H", f"Origin: {form['origin']}"]
    return " ".join(shlex.quote(part) for part in parts)


class RequestTesterMixin(admin.ModelAdmin):
    """The tester's URL, view and links, for the policy admin."""

    tester_template = "admin/cors_policies/corspolicy/tester.html"

    def get_urls(self) -> list[URLPattern]:
        tester = path("test/", self.admin_site.admin_view(self.tester_view), name=TESTER_URL_NAME)
        return [tester, *super().get_urls()]

    def tester_url_for(self, policy: CorsPolicy) -> str:
        """The tester, prefilled with an origin and a path this policy covers."""
        query = {
            "origin": analysis.sample_origin(policy.allowed_origins or []) or "",
            "method": "GET",
            "path": analysis.sample_path(policy.path_pattern) or "",
        }
        return reverse(f"{self.admin_site.name}:{TESTER_URL_NAME}") + "?" + urlencode(query)

    def tester_view(self, request: HttpRequest) -> HttpResponse:
        """Ask this process's snapshot, as the middleware does, what a browser would get."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fields = RequestTestForm.base_fields
        bound = any(name in request.GET for name in fields)
        form = RequestTestForm(request.GET if bound else None, initial={"method": "GET"})
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Test a request",
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
            "has_view_permission": True,
            "preflight_status": conf.PREFLIGHT_STATUS,
        }
        if bound and form.is_valid():
            data = form.cleaned_data
            answer = evaluate(**data)
            decision = answer.decision
            context.update(data=data, policy_set=answer.policy_set, protected=answer.protected)
            if decision is not None:
                context["decision"] = decision
                context["curl"] = curl_command(request.build_absolute_uri(escape_uri_path(data["path"])), data)
                if not answer.protected:
                    context["notes"] = self._tester_notes(data, decision)
                if decision.policy is not None:
                    context["policy_url"] = reverse(
                        f"{self.admin_site.name}:cors_policies_corspolicy_change", args=[decision.policy.id]
                    )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.tester_template, context)

    @staticmethod
    def _tester_notes(data: dict[str, Any], decision: Decision) -> list[str]:
        notes = []
        if not data["preflight"]:
            if data["method"] not in SAFELISTED_METHODS:
                notes.append(
                    f"A browser sends a preflight before a {data['method']} request: tick “Preflight” to see "
                    "whether it gets that far."
                )
            if data["request_headers"]:
                notes.append(
                    "Request headers are checked only in the preflight: tick “Preflight” to test them "
                    "(this answer ignores them)."
                )
            if data["private_network"]:
                notes.append("Private network access is asked only in the preflight: tick “Preflight” to test it.")
        if decision.policy is not None and decision.policy.credentials and decision.allowed and not data["preflight"]:
            notes.append("With credentials, the page must use fetch(..., {credentials: 'include'}) to send cookies.")
        return notes
