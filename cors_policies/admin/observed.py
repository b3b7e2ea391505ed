"""The observed-origins admin: which origins called which policy, with what verdict, and "allow this origin"."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from ..conf import conf
from ..models import REASON_LABELS, CorsPolicy, ObservedOrigin
from ..observed import DROPPED_ORIGIN
from ..services import allow_origin, recent_origins
from .search import limit_search

ALLOW_URL_NAME = "cors_policies_observedorigin_allow"
MESSAGE_LEVELS = {
    "success": messages.SUCCESS,
    "info": messages.INFO,
    "warning": messages.WARNING,
    "error": messages.ERROR,
}
#: How the admin shows the rows counting the requests whose origin was not recorded.
NOT_RECORDED = "origins not recorded (no room left)"
#: The policy page shows the origins of this many days, at most this many of each verdict.
RECENT_DAYS = 7
TOP_ORIGINS = 10


class ReasonFilter(admin.SimpleListFilter):
    """The refusal reasons in words (the column stores the engine's codes)."""

    title = "reason"
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code or "allowed", label) for code, label in REASON_LABELS.items()]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(reason="" if value == "allowed" else value)


@admin.register(ObservedOrigin)
class ObservedOriginAdmin(admin.ModelAdmin):
    """Which origins called which policy, with what verdict: read-only rows, plus "allow this origin".

    Viewing needs the view permission on observed origins or on CORS policies; allowing an origin edits its
    policy, so it needs the change permission on CORS policies and goes through
    :mod:`cors_policies.services.allow_origin`, as the API's allow action does: the policy's validation
    (``full_clean``) and ``save()``, which makes every process pick the change up, and its history.
    """

    list_display = (
        "origin_shown",
        "policy_link",
        "verdict_shown",
        "reason_shown",
        "count",
        "first_seen",
        "last_seen",
        "allow_button",
    )
    list_display_links = None
    list_filter = (("policy", admin.RelatedOnlyFieldListFilter), "verdict", ReasonFilter, "report_only")
    search_fields = ("origin",)
    search_help_text = "Searches origins (part of one is enough, such as example.com)."
    ordering = ("-last_seen", "-id")
    list_select_related = ("policy",)
    show_full_result_count = False
    actions = ("allow_origins",)
    allow_confirmation_template = "admin/cors_policies/observedorigin/allow_confirmation.html"

    class Media:
        css = {"all": ("cors_policies/admin.css",)}

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet[ObservedOrigin], search_term: str
    ) -> tuple[models.QuerySet[ObservedOrigin], bool]:
        return super().get_search_results(request, queryset, limit_search(request, search_term))

    # -- permissions ---------------------------------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from traffic only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        policy = CorsPolicy._meta
        return super().has_view_permission(request, obj) or any(
            request.user.has_perm(f"{policy.app_label}.{action}_{policy.model_name}") for action in ("view", "change")
        )

    def has_allow_permission(self, request: HttpRequest) -> bool:
        policy = CorsPolicy._meta
        return request.user.has_perm(f"{policy.app_label}.change_{policy.model_name}")

    def get_list_display(self, request: HttpRequest) -> Any:
        if self.has_allow_permission(request):
            return self.list_display
        return tuple(name for name in self.list_display if name != "allow_button")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "GET":
            self._warn_dropped(request)
        return super().changelist_view(request, extra_context)

    def _warn_dropped(self, request: HttpRequest) -> None:
        """Say how many requests of the last RECENT_DAYS were counted without their origin: a flood of distinct
        origins, or more real traffic than the room per policy."""
        dropped = recent_origins.dropped_requests(days=RECENT_DAYS)
        if dropped:
            messages.warning(
                request,
                f"{dropped:,} requests of the last {RECENT_DAYS} days were counted without their origin (the rows "
                f"reading “{NOT_RECORDED}”): in some interval a policy saw more distinct origins of one verdict than "
                "OBSERVE_MAX_KEYS_PER_POLICY, or a verdict more than OBSERVE_MAX_KEYS. Origins seen more than once "
                "kept their place; if this is real traffic rather than a flood, raise those settings.",
            )

    # -- columns -------------------------------------------------------------------------------

    @admin.display(description="origin", ordering="origin")
    def origin_shown(self, obj: ObservedOrigin) -> str:
        if obj.origin == DROPPED_ORIGIN:
            return format_html('<em class="cors-not-recorded">{}</em>', NOT_RECORDED)
        return obj.origin

    @admin.display(description="policy", ordering="policy__name")
    def policy_link(self, obj: ObservedOrigin) -> str:
        url = reverse(f"{self.admin_site.name}:cors_policies_corspolicy_change", args=[obj.policy_id])
        suffix = " (report-only)" if obj.report_only else ""
        return format_html('<a href="{}">{}</a>{}', url, obj.policy.name, suffix)

    @admin.display(description="verdict", ordering="verdict")
    def verdict_shown(self, obj: ObservedOrigin) -> str:
        if not obj.report_only:
            return obj.verdict
        served = obj.get_enforced_verdict_display()
        return f"would be {obj.verdict} (served: {served})"

    @admin.display(description="reason", ordering="reason")
    def reason_shown(self, obj: ObservedOrigin) -> str:
        return obj.reason_label

    @admin.display(description="", empty_value="")
    def allow_button(self, obj: ObservedOrigin) -> str:
        if obj.verdict != "refused" or obj.reason != "origin" or obj.origin == DROPPED_ORIGIN:
            return ""
        url = reverse(f"{self.admin_site.name}:{ALLOW_URL_NAME}", args=[obj.pk])
        return format_html(
            '<button type="submit" class="button cors-allow" formaction="{}" formmethod="post" '
            'title="Add {} to the allowed origins of policy {}">Allow</button>',
            url,
            obj.origin,
            obj.policy.name,
        )

    # -- allowing origins ----------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        allow = path("<int:pk>/allow/", self.admin_site.admin_view(self.allow_view), name=ALLOW_URL_NAME)
        return [allow, *super().get_urls()]

    def allow_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The Allow button of one row: the confirmation page, then (confirmed) the change, then back to where
        the click came from."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_allow_permission(request):
            raise PermissionDenied
        opts = self.opts
        back = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
            back = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
        response = self.allow_origins(request, ObservedOrigin.objects.filter(pk=pk), back=back)
        return response if response is not None else HttpResponseRedirect(back)

    @admin.action(description="Allow the selected origins in their policies", permissions=["allow"])
    def allow_origins(
        self, request: HttpRequest, queryset: models.QuerySet[ObservedOrigin], back: str | None = None
    ) -> HttpResponse | None:
        """Show what allowing the origins would change (the confirmation page); once confirmed, with the
        acknowledgement where one is needed, change the policies (:mod:`cors_policies.services.allow_origin`)."""
        wanted: dict[int, list[str]] = {}
        selected = list(queryset.order_by("policy_id", "origin"))
        rows = [row for row in selected if row.origin != DROPPED_ORIGIN]
        if not rows:
            gone = "That observed origin no longer exists (it may have been cleaned up)."
            unrecorded = "Those rows count requests whose origin was not recorded: there is no origin to allow."
            self.message_user(request, unrecorded if selected else gone, messages.WARNING)
            return None
        for row in rows:
            origins = wanted.setdefault(row.policy_id, [])
            if row.origin not in origins:
                origins.append(row.origin)
        policies = CorsPolicy.objects.in_bulk(list(wanted))
        plans = [allow_origin.plan(policies[pk], origins) for pk, origins in wanted.items() if pk in policies]
        acknowledged = request.POST.get("acknowledge") == "yes"
        if request.POST.get("confirm") == "yes" and (acknowledged or not any(p.needs_acknowledgement for p in plans)):
            for policy_id, origins in wanted.items():
                outcome = allow_origin.apply(policy_id, origins, acknowledged=acknowledged, user=request.user)
                for level, text in outcome.messages:
                    self.message_user(request, text, MESSAGE_LEVELS[level])
            return None
        return self._allow_confirmation(
            request, rows, plans, wanted, back=back, unacknowledged=request.POST.get("confirm") == "yes"
        )

    def _allow_confirmation(
        self,
        request: HttpRequest,
        rows: list[ObservedOrigin],
        plans: list[allow_origin.Plan],
        wanted: dict[int, list[str]],
        *,
        back: str | None,
        unacknowledged: bool,
    ) -> HttpResponse:
        missing = [
            f"Policy {pk} no longer exists; {', '.join(origins)} not allowed."
            for pk, origins in wanted.items()
            if pk not in {p.policy.pk for p in plans}
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Allow these origins?",
            "opts": self.opts,
            "plans": [
                {
                    "plan": found,
                    "url": reverse(f"{self.admin_site.name}:cors_policies_corspolicy_change", args=[found.policy.pk]),
                }
                for found in plans
            ],
            "missing": missing,
            "rows": rows,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "single": back is not None,
            "back": back,
            "changelist_url": reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist"
            ),
            "can_apply": any(found.can_apply for found in plans),
            "needs_acknowledgement": any(found.needs_acknowledgement for found in plans),
            "unacknowledged": unacknowledged,
            "refresh_interval": conf.REFRESH_INTERVAL,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.allow_confirmation_template, context)
