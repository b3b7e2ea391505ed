"""The policy admin: a face only. It edits rows, and asks the engine and the services its questions.

* The changelist is ordered by precedence (the engine's ``sort_key``): the first row that matches a path
  is the policy that applies there (:mod:`.changelist`).
* The form shows lists as text and methods as checkboxes; validation is the shared validators'.
* Actions enable, disable and duplicate (:mod:`cors_policies.services.policies`: one ``QuerySet.update()`` or
  ``create()`` each, which invalidate the snapshot like a save, and History rows).
* "Test a request" asks what the middleware would answer (:mod:`.tester`).
* The change page previews the headers the saved policy sends, warns where other policies win, and lists the
  origins it saw most.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from .. import analysis
from ..forms import CorsPolicyForm
from ..models import CorsPolicy, ObservedOrigin
from ..services import policies, recent_origins
from .changelist import PolicyChangeList
from .observed import ALLOW_URL_NAME, RECENT_DAYS, TOP_ORIGINS, ObservedOriginAdmin
from .search import limit_search
from .tester import RequestTesterMixin

#: How many origins the changelist shows before "+N more".
SHORT_ORIGINS = 2


@admin.register(CorsPolicy)
class CorsPolicyAdmin(RequestTesterMixin, admin.ModelAdmin):
    form = CorsPolicyForm
    list_display = (
        "precedence_rank",
        "name",
        "path_pattern",
        "origins_short",
        "methods_short",
        "allow_credentials",
        "priority",
        "updated_at",
        "test_link",
    )
    list_display_links = ("name",)
    list_filter = ("enabled", "report_only", "allow_credentials", "allow_private_network")
    search_fields = ("name", "path_pattern", "allowed_origins", "allowed_origin_regexes")
    search_help_text = "Searches names, path patterns, origins and origin regexes (every word must match)."
    actions = ("enable_policies", "disable_policies", "duplicate_policies")
    change_list_template = "admin/cors_policies/corspolicy/change_list.html"
    change_form_template = "admin/cors_policies/corspolicy/change_form.html"
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        ("Match", {"fields": ("path_pattern", "priority", "enabled", "report_only")}),
        ("Origins", {"fields": ("allowed_origins", "allowed_origin_regexes")}),
        ("Request", {"fields": ("allowed_methods", "other_methods", "allowed_headers")}),
        ("Response", {"fields": ("expose_headers", "allow_credentials", "max_age", "allow_private_network")}),
        ("Beyond CORS", {"fields": ("csrf_trusted", "timing_allow_origin")}),
    )

    class Media:
        css = {"all": ("cors_policies/admin.css",)}

    # -- list ----------------------------------------------------------------------------------

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet[CorsPolicy], search_term: str
    ) -> tuple[models.QuerySet[CorsPolicy], bool]:
        """Each word in the name, the path pattern, or the text of the origin lists (services.policies.search)."""
        return policies.search(queryset, limit_search(request, search_term)), False

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PolicyChangeList

    @admin.display(description="precedence rank", ordering="precedence")
    def precedence_rank(self, obj: CorsPolicy) -> str:
        """Where this policy stands among the enabled ones: the first matching row wins."""
        rank = getattr(obj, "serving_rank", 0)
        if rank:
            return str(rank)
        if getattr(obj, "report_rank", 0):
            return "report-only"  # never answers: see Observed origins
        return "skipped" if obj.enabled else "off"  # enabled but not compiled: the tester says why

    @admin.display(description="origins")
    def origins_short(self, obj: CorsPolicy) -> str:
        origins = [str(origin) for origin in obj.allowed_origins or []]
        regexes = list(obj.allowed_origin_regexes or [])
        shown = ", ".join(origins[:SHORT_ORIGINS])
        more = len(origins) - SHORT_ORIGINS
        extras = []
        if more > 0:
            extras.append(f"+{more} more")
        if regexes:
            extras.append(f"{len(regexes)} regex" + ("es" if len(regexes) > 1 else ""))
        text = ", ".join(part for part in (shown, *extras) if part)
        return Truncator(text).chars(80) if text else "none"

    @admin.display(description="methods")
    def methods_short(self, obj: CorsPolicy) -> str:
        return ", ".join(str(method) for method in obj.allowed_methods or []) or "(safelisted only)"

    @admin.display(description="test")
    def test_link(self, obj: CorsPolicy) -> str:
        return format_html('<a href="{}">Test</a>', self.tester_url_for(obj))

    # -- form ----------------------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: CorsPolicy | None = None) -> Any:
        if self.has_change_permission(request, obj) or (obj is None and self.has_add_permission(request)):
            return self.fieldsets
        # Read-only pages show the stored list; "other methods" is only an input.
        return tuple(
            (name, {**options, "fields": tuple(f for f in options["fields"] if f != "other_methods")})
            for name, options in self.fieldsets
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = dict(extra_context or {})
        saved = self.get_object(request, unquote(object_id))
        if saved is not None:
            # A report-only policy is previewed as it would answer once enforced, and competes only with the
            # other report-only policies.
            spec = replace(saved.to_spec(), report_only=False)
            context["cors_preview"] = analysis.preview(spec)
            context["cors_shadows"] = analysis.find_shadows(spec, policies.rivals(saved))
            context["cors_tester_url"] = self.tester_url_for(saved)
            if ObservedOrigin in self.admin_site._registry:
                context["cors_observed"] = self._observed_summary(request, saved)
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _observed_summary(self, request: HttpRequest, policy: CorsPolicy) -> dict[str, Any]:
        """The origins this policy allowed and refused most in the last RECENT_DAYS (for a report-only
        policy: where it would have answered otherwise), for admin/cors_policies/observedorigin/includes/
        policy_observed.html."""
        found = recent_origins.summary(policy, days=RECENT_DAYS, top=TOP_ORIGINS)
        observed_admin = self.admin_site._registry.get(ObservedOrigin)  # get_model_admin() needs Django 5
        can_allow = isinstance(observed_admin, ObservedOriginAdmin) and observed_admin.has_allow_permission(request)
        for row in found.refused:
            row.allow_url = (  # type: ignore[attr-defined]
                reverse(f"{self.admin_site.name}:{ALLOW_URL_NAME}", args=[row.pk])
                if (can_allow and row.reason == "origin")
                else ""
            )
        if policy.report_only:
            titles = ("Would allow (refused today)", "Would refuse (allowed today)")
        else:
            titles = ("Allowed", "Refused")
        opts = ObservedOrigin._meta
        return {
            "days": RECENT_DAYS,
            "report_only": policy.report_only,
            "columns": [
                (titles[0], found.allowed, found.dropped.get("allowed", 0)),
                (titles[1], found.refused, found.dropped.get("refused", 0)),
            ],
            "list_url": reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
            + "?"
            + urlencode({"policy__id__exact": policy.pk}),
        }

    # -- actions -------------------------------------------------------------------------------

    def _set_enabled(self, request: HttpRequest, queryset: models.QuerySet[CorsPolicy], enabled: bool) -> None:
        count = len(policies.set_enabled(queryset, enabled, request.user))
        if count:
            verb = "Enabled" if enabled else "Disabled"
            noun = "policy" if count == 1 else "policies"
            self.message_user(request, f"{verb} {count} {noun}.", messages.SUCCESS)
        else:
            state = "enabled" if enabled else "disabled"
            self.message_user(request, f"The selected policies were already {state}.", messages.INFO)

    @admin.action(description="Enable selected policies", permissions=["change"])
    def enable_policies(self, request: HttpRequest, queryset: models.QuerySet[CorsPolicy]) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable selected policies", permissions=["change"])
    def disable_policies(self, request: HttpRequest, queryset: models.QuerySet[CorsPolicy]) -> None:
        self._set_enabled(request, queryset, False)

    @admin.action(description="Duplicate selected policies (as disabled copies)", permissions=["add"])
    def duplicate_policies(self, request: HttpRequest, queryset: models.QuerySet[CorsPolicy]) -> None:
        created = policies.duplicate(queryset, request.user)
        names = ", ".join(repr(policy.name) for policy in created)
        noun = "policy" if len(created) == 1 else "policies"
        self.message_user(
            request, f"Created {len(created)} disabled {noun}: {names}. Enable them when ready.", messages.SUCCESS
        )
