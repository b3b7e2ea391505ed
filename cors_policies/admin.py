"""The Django admin for CORS policies: a face only. It edits rows and asks the engine questions.

* The changelist is ordered by precedence (the engine's ``sort_key``): the first row that matches a path
  is the policy that applies there.
* The form shows lists as text and methods as checkboxes; validation is the shared validators'.
* Actions enable, disable and duplicate with ``QuerySet.update()``/``create()``, which invalidate the
  snapshot like a save, and record History (LogEntry) rows.
* "Test a request" asks this process's snapshot, exactly as the middleware does.
* The change page previews the headers the saved policy sends and warns where other policies win.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage
from django.db import models, transaction
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.encoding import escape_uri_path
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator, capfirst, smart_split, unescape_string_literal

from . import analysis, protected
from .cache import snapshot
from .conf import conf
from .engine import SAFELISTED_METHODS, Decision, PolicySpec
from .forms import CorsPolicyForm, RequestTestForm
from .models import REASON_LABELS, SPEC_FIELDS, CorsPolicy, ObservedOrigin
from .observed import DROPPED_ORIGIN
from .services import allow_origin, precedence
from .text import MAX_SEARCH_LENGTH, MAX_SEARCH_TERMS

#: How many origins the changelist shows before "+N more".
SHORT_ORIGINS = 2
COPY_SUFFIX = " (copy)"
TESTER_URL_NAME = "cors_policies_corspolicy_test"
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


def _model_field(name: str) -> Any:
    return CorsPolicy._meta.get_field(name)


def _specs(queryset: models.QuerySet[CorsPolicy]) -> list[PolicySpec]:
    return [PolicySpec(**row) for row in queryset.order_by().values(*SPEC_FIELDS)]


def limit_search(request: HttpRequest, search_term: str) -> str:
    """The first MAX_SEARCH_TERMS words of a search, within MAX_SEARCH_LENGTH characters (each word is one more
    condition in the query, and SQLite refuses a query of a few thousand, or a long LIKE pattern), with a
    message when something was left out."""
    words = list(smart_split(search_term))
    if len(words) <= MAX_SEARCH_TERMS and len(search_term) <= MAX_SEARCH_LENGTH:
        return search_term
    kept = " ".join(words[:MAX_SEARCH_TERMS])[:MAX_SEARCH_LENGTH]
    messages.warning(
        request,
        f"Searched for {kept[:60]!r}{'…' if len(kept) > 60 else ''} only: a search may have {MAX_SEARCH_TERMS} "
        f"words and {MAX_SEARCH_LENGTH} characters (every word must match, so a few well-chosen words find as much).",
    )
    return kept


def copy_name(name: str, taken: set[str]) -> str:
    """``name (copy)``, then ``name (copy 2)``...: the first not in ``taken``, within the column's length."""
    limit: int = _model_field("name").max_length
    number = 1
    while True:
        suffix = COPY_SUFFIX if number == 1 else f" (copy {number})"
        candidate = name[: limit - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


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


class PolicyChangeList(ChangeList):
    """The policy list, in precedence order unless a column is clicked.

    Precedence is the engine's, not stored: the ranks come from the set this process serves and the order of
    all rows from their patterns (:mod:`cors_policies.services.precedence`), sorted here in Python and paginated
    as a list of ids, so a page costs one query for four columns of the matching rows and one for the page's rows,
    however many policies there are. The "#" column is marked as the sorted one (Django would mark the
    columns of the model's ``Meta.ordering``, which is not what is shown).
    """

    precedence_direction: str | None = None  # "asc" or "desc" when the rows are sorted by precedence

    def get_ordering(self, request: HttpRequest, queryset: models.QuerySet[CorsPolicy]) -> list[Any]:
        self.precedence_direction = None
        if not self.params.get(ORDER_VAR):
            self.precedence_direction = "asc"
            return ["pk"]
        ordering = list(super().get_ordering(request, queryset))
        first = str(ordering[0]) if ordering else ""
        if first.lstrip("-") == "precedence":
            self.precedence_direction = "desc" if first.startswith("-") else "asc"
        kept = [field for field in ordering if str(field).lstrip("-") != "precedence"]
        return kept or ["pk"]

    def get_ordering_field_columns(self) -> dict[int, Literal["desc", "asc"]]:
        columns = list(self.list_display)
        if ORDER_VAR in self.params or "precedence_rank" not in columns:
            return super().get_ordering_field_columns()
        return {columns.index("precedence_rank"): "asc"}

    def get_results(self, request: HttpRequest) -> None:
        rank = precedence.ranking()
        if self.precedence_direction is None:
            super().get_results(request)
        else:
            self._get_results_by_precedence(request, rank)
        self.result_list = list(self.result_list)
        for policy in self.result_list:
            policy.serving_rank = rank.serving.get(policy.pk, 0)
            policy.report_rank = rank.reporting.get(policy.pk, 0)

    def _get_results_by_precedence(self, request: HttpRequest, rank: precedence.Ranking) -> None:
        """ChangeList.get_results, with the page cut from the ids in precedence order."""
        rows = self.queryset.order_by().values_list("pk", "path_pattern", "priority", "report_only")
        ids = precedence.ordered_ids(rows, rank, descending=self.precedence_direction == "desc")
        paginator = self.model_admin.get_paginator(request, ids, self.list_per_page)  # type: ignore[arg-type]
        result_count = paginator.count
        full_result_count = self.root_queryset.count() if self.model_admin.show_full_result_count else None
        can_show_all = result_count <= self.list_max_show_all
        multi_page = result_count > self.list_per_page
        if (self.show_all and can_show_all) or not multi_page:
            page_ids = ids
        else:
            try:
                page_ids = list(paginator.page(self.page_num).object_list)
            except InvalidPage:
                raise IncorrectLookupParameters from None
        found = {policy.pk: policy for policy in self.queryset.order_by().filter(pk__in=page_ids)}
        self.result_count = result_count
        self.show_full_result_count = self.model_admin.show_full_result_count
        self.show_admin_actions = not self.show_full_result_count or bool(full_result_count)
        self.full_result_count = full_result_count
        self.result_list = [found[pk] for pk in page_ids if pk in found]
        self.can_show_all = can_show_all
        self.multi_page = multi_page
        self.paginator = paginator


@admin.register(CorsPolicy)
class CorsPolicyAdmin(admin.ModelAdmin):
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
    tester_template = "admin/cors_policies/corspolicy/tester.html"
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        ("Match", {"fields": ("path_pattern", "priority", "enabled", "report_only")}),
        ("Origins", {"fields": ("allowed_origins", "allowed_origin_regexes")}),
        ("Request", {"fields": ("allowed_methods", "other_methods", "allowed_headers")}),
        ("Response", {"fields": ("expose_headers", "allow_credentials", "max_age", "allow_private_network")}),
    )

    class Media:
        css = {"all": ("cors_policies/admin.css",)}

    # -- list ----------------------------------------------------------------------------------

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet[CorsPolicy], search_term: str
    ) -> tuple[models.QuerySet[CorsPolicy], bool]:
        """Each word in the name, the path pattern, or the text of the origin lists.

        The lists are JSON: they are cast to text (SQLite and PostgreSQL alike) and the word is searched
        JSON-encoded, so a regex's backslash (stored as ``\\\\``) is found as typed.
        """
        search_term = limit_search(request, search_term)
        if search_term and "origins_text" not in queryset.query.annotations:
            queryset = queryset.alias(
                origins_text=Cast("allowed_origins", output_field=models.TextField()),
                origin_regexes_text=Cast("allowed_origin_regexes", output_field=models.TextField()),
            )
        for bit in smart_split(search_term):
            if bit[0] in "\"'" and bit[-1] == bit[0] and len(bit) > 1:
                bit = unescape_string_literal(bit)
            encoded = json.dumps(bit)[1:-1]
            queryset = queryset.filter(
                models.Q(name__icontains=bit)
                | models.Q(path_pattern__icontains=bit)
                | models.Q(origins_text__icontains=encoded)
                | models.Q(origin_regexes_text__icontains=encoded)
            )
        return queryset, False

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
        return format_html('<a href="{}">Test</a>', self._tester_url_for(obj))

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
            rivals = CorsPolicy.objects.filter(enabled=True, report_only=saved.report_only).exclude(pk=saved.pk)
            others = [replace(other, report_only=False) for other in _specs(rivals)]
            context["cors_preview"] = analysis.preview(spec)
            context["cors_shadows"] = analysis.find_shadows(spec, others)
            context["cors_tester_url"] = self._tester_url_for(saved)
            if ObservedOrigin in self.admin_site._registry:
                context["cors_observed"] = self._observed_summary(request, saved)
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _observed_summary(self, request: HttpRequest, policy: CorsPolicy) -> dict[str, Any]:
        """The origins this policy allowed and refused most in the last RECENT_DAYS (for a report-only
        policy: where it would have answered otherwise), for admin/cors_policies/observedorigin/includes/
        policy_observed.html."""
        since = timezone.now() - timedelta(days=RECENT_DAYS)
        rows = ObservedOrigin.objects.filter(policy=policy, last_seen__gte=since)
        recent = rows.exclude(origin=DROPPED_ORIGIN).order_by("-count", "-last_seen")
        dropped = dict(
            rows.filter(origin=DROPPED_ORIGIN).order_by().values_list("verdict").annotate(total=models.Sum("count"))
        )
        observed_admin = self.admin_site._registry.get(ObservedOrigin)  # get_model_admin() needs Django 5
        can_allow = isinstance(observed_admin, ObservedOriginAdmin) and observed_admin.has_allow_permission(request)
        refused = list(recent.filter(verdict="refused")[:TOP_ORIGINS])
        for row in refused:
            row.allow_url = (
                reverse(f"{self.admin_site.name}:{ALLOW_URL_NAME}", args=[row.pk])
                if (can_allow and row.reason == "origin")
                else ""
            )
        allowed = list(recent.filter(verdict="allowed")[:TOP_ORIGINS])
        if policy.report_only:
            titles = ("Would allow (refused today)", "Would refuse (allowed today)")
        else:
            titles = ("Allowed", "Refused")
        opts = ObservedOrigin._meta
        return {
            "days": RECENT_DAYS,
            "report_only": policy.report_only,
            "columns": [
                (titles[0], allowed, dropped.get("allowed", 0)),
                (titles[1], refused, dropped.get("refused", 0)),
            ],
            "list_url": reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
            + "?"
            + urlencode({"policy__id__exact": policy.pk}),
        }

    def _tester_url_for(self, policy: CorsPolicy) -> str:
        """The tester, prefilled with an origin and a path this policy covers."""
        query = {
            "origin": analysis.sample_origin(policy.allowed_origins or []) or "",
            "method": "GET",
            "path": analysis.sample_path(policy.path_pattern) or "",
        }
        return reverse(f"{self.admin_site.name}:{TESTER_URL_NAME}") + "?" + urlencode(query)

    # -- actions -------------------------------------------------------------------------------

    def _set_enabled(self, request: HttpRequest, queryset: models.QuerySet[CorsPolicy], enabled: bool) -> None:
        with transaction.atomic():
            changing = list(queryset.filter(enabled=not enabled).order_by("pk"))
            if changing:
                # QuerySet.update() bumps the shared version: the snapshot reloads like after a save.
                CorsPolicy.objects.filter(pk__in=[p.pk for p in changing]).update(
                    enabled=enabled, updated_at=timezone.now()
                )
                with translation.override(None):  # the admin stores field labels untranslated
                    label = str(capfirst(_model_field("enabled").verbose_name))
                for policy in changing:
                    self.log_change(request, policy, [{"changed": {"fields": [label]}}])
        verb = "Enabled" if enabled else "Disabled"
        count = len(changing)
        noun = "policy" if count == 1 else "policies"
        if count:
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
        created = []
        with transaction.atomic():
            originals = list(queryset.order_by("pk"))
            taken = set(CorsPolicy.objects.values_list("name", flat=True))
            for original in originals:
                name = copy_name(original.name, taken)
                taken.add(name)
                fields = {f: getattr(original, f) for f in SPEC_FIELDS if f not in ("id", "name")}
                copy = CorsPolicy.objects.create(**fields, name=name, description=original.description, enabled=False)
                self.log_addition(request, copy, [{"added": {}}])
                created.append(copy)
        names = ", ".join(repr(policy.name) for policy in created)
        noun = "policy" if len(created) == 1 else "policies"
        self.message_user(
            request, f"Created {len(created)} disabled {noun}: {names}. Enable them when ready.", messages.SUCCESS
        )

    # -- the request tester --------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        tester = path("test/", self.admin_site.admin_view(self.tester_view), name=TESTER_URL_NAME)
        return [tester, *super().get_urls()]

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
            policy_set = snapshot.get()
            context["data"] = data
            context["policy_set"] = policy_set
            shielded = protected.decision(data["path"], preflight=data["preflight"])
            context["protected"] = shielded is not None
            if shielded is not None:
                context["decision"] = shielded
                context["curl"] = curl_command(request.build_absolute_uri(escape_uri_path(data["path"])), data)
            elif policy_set is not None:
                decision = policy_set.simulate(
                    origin=data["origin"],
                    method=data["method"],
                    path=data["path"],
                    request_headers=data["request_headers"],
                    preflight=data["preflight"],
                    private_network=data["private_network"],
                )
                context["decision"] = decision
                context["notes"] = self._tester_notes(data, decision)
                context["curl"] = curl_command(request.build_absolute_uri(escape_uri_path(data["path"])), data)
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


# --------------------------------------------------------------------------------------------------
# Observed origins
# --------------------------------------------------------------------------------------------------


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
    policy, so it needs the change permission on CORS policies and goes through the policy's validation
    (``full_clean``) and ``save()``, which makes every process pick the change up.
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
        since = timezone.now() - timedelta(days=RECENT_DAYS)
        dropped = ObservedOrigin.objects.filter(origin=DROPPED_ORIGIN, last_seen__gte=since).aggregate(
            total=models.Sum("count")
        )["total"]
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
