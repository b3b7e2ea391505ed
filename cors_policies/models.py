"""The policy model, and the shared version that tells every process when to rebuild its snapshot.

Lists are JSON arrays on the policy row: one query loads everything, and a policy is edited as a unit
(no related rows to keep in step). Every write, ``save()``, ``delete()`` and the queryset's bulk operations, ends in
:mod:`~cors_policies.invalidation`, the one place that moves the version and deletes dependent rows.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import engine, invalidation, protected, validators
from .engine import MAX_ORIGIN_LENGTH, PolicySpec

#: The public policy fields an operator writes, in the admin's and the API's order (also the export
#: format's fields); the admin form, the REST API and ``sync`` all use this one list.
POLICY_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "path_pattern",
    "priority",
    "enabled",
    "report_only",
    "allowed_origins",
    "allowed_origin_regexes",
    "allowed_methods",
    "allowed_headers",
    "expose_headers",
    "allow_credentials",
    "max_age",
    "allow_private_network",
    "csrf_trusted",
    "timing_allow_origin",
)

#: The fields the engine needs, in PolicySpec's order (the snapshot loader reads exactly these).
SPEC_FIELDS = (
    "id",
    "name",
    "path_pattern",
    "priority",
    "allowed_origins",
    "allowed_origin_regexes",
    "allowed_methods",
    "allowed_headers",
    "expose_headers",
    "allow_credentials",
    "max_age",
    "allow_private_network",
    "report_only",
    "csrf_trusted",
    "timing_allow_origin",
)


class CorsPolicyQuerySet(models.QuerySet["CorsPolicy"]):
    """Every bulk write ends in :mod:`~cors_policies.invalidation`, like ``save()`` and ``delete()``: the version
    moves once per transaction and a deleted policy's dependent rows go with it. Each write stamps
    ``updated_at``: the snapshot recompiles only the policies whose stamp moved."""

    def _write_alias(self) -> str:
        self._for_write = True
        return self.db

    def update(self, **kwargs: Any) -> int:
        kwargs.setdefault("updated_at", timezone.now())
        alias = self._write_alias()
        with transaction.atomic(using=alias, savepoint=False):
            # The rows first, so the change names them (every process then reads only those); the update is
            # held to them, so a row another transaction commits meanwhile is not changed unannounced. More rows
            # than one announcement names: a plain update, announced as a change to any policy.
            ids: list[int] | None = None
            if not self.query.is_sliced:  # (a sliced update raises Django's own error below)
                ids = list(self.values_list("pk", flat=True)[: invalidation.MAX_ANNOUNCED_IDS + 1])
            if ids is not None and len(ids) <= invalidation.MAX_ANNOUNCED_IDS:
                count = super(CorsPolicyQuerySet, self.filter(pk__in=ids)).update(**kwargs)
            else:
                ids = None
                count = super().update(**kwargs)
            if count:
                invalidation.changed(alias, ids)
        return count

    update.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        alias = self._write_alias()
        with transaction.atomic(using=alias, savepoint=False):
            ids = list(self.values_list("pk", flat=True))
            result = super().delete()
            invalidation.deleted(ids, alias)
        return result

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[CorsPolicy]:  # type: ignore[override]
        objs = list(objs)
        for obj in objs:
            obj.normalize()
        alias = self._write_alias()
        with transaction.atomic(using=alias, savepoint=False):
            created: list[CorsPolicy] = super().bulk_create(objs, *args, **kwargs)  # type: ignore[assignment]
            if created:
                invalidation.changed(alias, [obj.pk for obj in created])
        return created

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        now = timezone.now()
        for obj in objs:
            obj.normalize()
            obj.updated_at = now
        fields = sorted({*fields, "updated_at"})
        alias = self._write_alias()
        with transaction.atomic(using=alias, savepoint=False):
            count = super().bulk_update(objs, fields, *args, **kwargs)
            if count:
                invalidation.changed(alias, [obj.pk for obj in objs])
        return count


class CorsPolicy(models.Model):
    """One CORS policy: which origins may call which paths, with what."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True, default="")
    path_pattern = models.CharField(
        _("path pattern"),
        max_length=500,
        validators=[validators.validate_path_pattern],
        help_text=_(
            "/health matches exactly that path; * matches one segment (/api/items/*); ** matches zero or more "
            "(/api/**, or /** for every path); a pattern starting with ^ is a regular expression matched from "
            "the start of the path."
        ),
    )
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Higher wins when several policies match a path.")
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    allowed_origins = models.JSONField(
        _("allowed origins"),
        default=list,
        blank=True,
        validators=[validators.validate_origins],
        help_text=_(
            "Exact origins (https://app.example.com, http://localhost:3000, capacitor://localhost), subdomain "
            "wildcards (https://*.example.com), null (only if you must), or * alone for any origin."
        ),
    )
    allowed_origin_regexes = models.JSONField(
        _("allowed origin regexes"),
        default=list,
        blank=True,
        validators=[validators.validate_origin_regexes],
        help_text=_("Regular expressions that must match the whole Origin."),
    )
    allowed_methods = models.JSONField(
        _("allowed methods"),
        default=list,
        blank=True,
        validators=[validators.validate_methods],
        help_text=_("Case-sensitive, as in the Fetch standard; * for any. GET, HEAD and POST never need listing."),
    )
    allowed_headers = models.JSONField(
        _("allowed headers"),
        default=list,
        blank=True,
        validators=[validators.validate_header_names],
        help_text=_("Request headers the browser may send; * for any except Authorization, which must be listed."),
    )
    expose_headers = models.JSONField(
        _("exposed headers"),
        default=list,
        blank=True,
        validators=[validators.validate_header_names],
        help_text=_("Response headers JavaScript may read beyond the safelisted ones."),
    )
    allow_credentials = models.BooleanField(
        _("allow credentials"), default=False, help_text=_("Let pages send cookies and read the response.")
    )
    max_age = models.IntegerField(
        _("max age"),
        null=True,
        blank=True,
        validators=[
            validators.validate_max_age,
            MaxValueValidator(
                2_147_483_647,
                message=_("Max age is too large; browsers cap it anyway (Chromium at 7200, Firefox at 86400)."),
            ),
        ],
        help_text=_("Seconds a browser may cache the preflight answer; empty sends no header (browsers use 5 s)."),
    )
    allow_private_network = models.BooleanField(
        _("allow private network (legacy)"),
        default=False,
        help_text=_(
            "Legacy: answers Access-Control-Request-Private-Network: true with Access-Control-Allow-Private-Network: "
            "true, which Chromium before 142 asked for. Since Chromium 142's Local Network Access, the user grants "
            "a public page access to the local network through a permission prompt, and no header grants it; a "
            'page on the public internet needs that permission (and, for an iframe, allow="local-network-access"), '
            "and the local service still needs a CORS policy. Leave it off unless older browsers need it."
        ),
    )
    csrf_trusted = models.BooleanField(
        _("CSRF-trusted"),
        default=False,
        help_text=_(
            "Django's CSRF check accepts this policy's allowed origins on the paths it covers, as if they were in "
            "CSRF_TRUSTED_ORIGINS, live (needs cors_policies.csrf.CsrfViewMiddleware in place of Django's). "
            "Only with allow credentials and exact origins or subdomain wildcards: never *, null or regexes. "
            "Pages still send the CSRF token."
        ),
    )
    timing_allow_origin = models.BooleanField(
        _("Timing-Allow-Origin"),
        default=False,
        help_text=_(
            "Send Timing-Allow-Origin with the allowed origin, so pages there can read this API's detailed "
            "resource timing (performance.getEntriesByType('resource')). Never sent to a refused origin."
        ),
    )
    report_only = models.BooleanField(
        _("report only"),
        default=False,
        help_text=_(
            "Never changes a response: evaluated beside the enforced policy of each path it covers, and "
            "wherever its verdict would differ, the origin is recorded under Observed origins. Use it to see "
            "who a stricter policy would break before enforcing it."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CorsPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("CORS policy")
        verbose_name_plural = _("CORS policies")
        ordering = ("-priority", "path_pattern", "id")

    def __str__(self) -> str:
        return f"{self.name} ({self.path_pattern})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.normalize()
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)
            invalidation.changed(using, [self.pk])

    def delete(self, using: Any = None, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        using = using or router.db_for_write(type(self), instance=self)
        pk = self.pk
        with transaction.atomic(using=using, savepoint=False):
            result = super().delete(using=using, keep_parents=keep_parents)
            invalidation.deleted([pk], using)
        return result

    def to_spec(self) -> PolicySpec:
        """This policy as the engine's plain data (for previews of unsaved edits, too)."""
        return PolicySpec(**{name: getattr(self, name) for name in SPEC_FIELDS if name != "id"}, id=self.pk or 0)

    def normalize(self) -> None:
        """Store what browsers send: lower-case origins without default ports, upper-case standard methods."""
        if isinstance(self.path_pattern, str):
            self.path_pattern = self.path_pattern.strip()
        if isinstance(self.allowed_origins, list):
            self.allowed_origins = validators.normalize_origins(self.allowed_origins)
        if isinstance(self.allowed_origin_regexes, list):
            self.allowed_origin_regexes = validators.normalize_strings(self.allowed_origin_regexes)
        if isinstance(self.allowed_methods, list):
            self.allowed_methods = validators.normalize_methods(self.allowed_methods)
        if isinstance(self.allowed_headers, list):
            self.allowed_headers = validators.normalize_header_names(self.allowed_headers)
        if isinstance(self.expose_headers, list):
            self.expose_headers = validators.normalize_header_names(self.expose_headers)

    def clean(self) -> None:
        self.normalize()
        validators.validate_policy(
            allowed_origins=self.allowed_origins,
            allow_credentials=self.allow_credentials,
            csrf_trusted=self.csrf_trusted,
            allowed_origin_regexes=self.allowed_origin_regexes,
        )
        protected.validate_path_pattern(self.path_pattern)  # one that only matches the admin or the API applies nowhere
        validators.validate_policy_budgets(self)


class PolicySetVersion(models.Model):
    """A single row whose number every process compares with its snapshot's.

    Bumped in the same transaction as the change, so the version and the policies commit together.
    It is the source of truth; the cache holds a copy so most checks never touch the database.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("policy set version")

    def __str__(self) -> str:
        return f"version {self.version}"


# Codes and labels come from the engine's enums (cors_policies.engine.reasons), the one place they are written.
class Verdict(models.TextChoices):
    ALLOWED = engine.Verdict.ALLOWED.value, _(engine.Verdict.ALLOWED.label)
    REFUSED = engine.Verdict.REFUSED.value, _(engine.Verdict.REFUSED.label)


class EnforcedVerdict(models.TextChoices):
    """What was served while a report-only policy would have answered otherwise."""

    ALLOWED = engine.Verdict.ALLOWED.value, _(engine.Verdict.ALLOWED.label)
    REFUSED = engine.Verdict.REFUSED.value, _(engine.Verdict.REFUSED.label)
    UNCOVERED = engine.Verdict.UNCOVERED.value, _(engine.Verdict.UNCOVERED.label)


#: The refusal codes a row can carry, as the admin and the API show them ("" is an allowed row's).
REASON_LABELS = {"": engine.Verdict.ALLOWED.label} | {
    reason.value: reason.label for reason in engine.Reason.recordable()
}

#: Longest origin stored: a DNS name has at most 253 characters, plus a scheme and a port.
MAX_OBSERVED_ORIGIN_LENGTH = min(300, MAX_ORIGIN_LENGTH)


class ObservedOrigin(models.Model):
    """How often one origin got one verdict from one policy, and when: aggregated by each process's
    recorder (:mod:`cors_policies.observed`) and added up here.

    Rows of a report-only policy (``report_only``) are the requests where its verdict differs from the
    one served (``enforced_verdict``). The link to the policy has no database constraint and no cascade
    in the ORM: deleting a policy deletes its rows in one query (see :mod:`~cors_policies.invalidation`)
    instead of loading them all for the admin's confirmation page, and ``cors_cleanup_observed`` removes any
    row left behind.
    """

    policy = models.ForeignKey(
        CorsPolicy,
        verbose_name=_("policy"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the unique constraint's index starts with the policy
        related_name="observed_origins",
    )
    origin = models.CharField(_("origin"), max_length=MAX_OBSERVED_ORIGIN_LENGTH)
    verdict = models.CharField(_("verdict"), max_length=8, choices=Verdict.choices)
    reason = models.CharField(
        _("reason"), max_length=32, blank=True, default="", help_text=_("The first refusal's code; empty if allowed.")
    )
    report_only = models.BooleanField(_("report only"), default=False)
    enforced_verdict = models.CharField(
        _("served verdict"),
        max_length=9,
        blank=True,
        default="",
        choices=EnforcedVerdict.choices,
        help_text=_("For a report-only policy's row: the verdict actually served."),
    )
    count = models.PositiveBigIntegerField(_("requests"), default=0)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("observed origin")
        verbose_name_plural = _("observed origins")
        ordering = ("-last_seen", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("policy", "origin", "verdict", "reason", "report_only", "enforced_verdict"),
                name="cors_observed_origin_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.origin} {self.verdict} by policy {self.policy_id}"

    @property
    def reason_label(self) -> str:
        return REASON_LABELS.get(self.reason, self.reason)
