"""The policy model, and the shared version that tells every process when to rebuild its snapshot.

Lists are JSON arrays on the policy row: one query loads everything, and a policy is edited as a unit
(no related rows to keep in step). Invalidation is not done here but in ``signals`` and in the queryset
below, so bulk operations invalidate as surely as ``save()``.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import validators
from .engine import PolicySpec

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
)


class CorsPolicyQuerySet(models.QuerySet["CorsPolicy"]):
    """Bulk operations skip model signals; these overrides bump the version like ``save()`` does."""

    def update(self, **kwargs: Any) -> int:
        from .cache import bump_version

        count = super().update(**kwargs)
        if count:
            bump_version(self.db)
        return count

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[CorsPolicy]:  # type: ignore[override]
        from .cache import bump_version

        objs = list(objs)
        for obj in objs:
            obj.normalize()
        created: list[CorsPolicy] = super().bulk_create(objs, *args, **kwargs)  # type: ignore[assignment]
        if created:
            bump_version(self.db)
        return created

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        from .cache import bump_version

        objs = list(objs)
        for obj in objs:
            obj.normalize()
        count = super().bulk_update(objs, fields, *args, **kwargs)
        if count:
            bump_version(self.db)
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
        _("allow private network"),
        default=False,
        help_text=_(
            "Answer Access-Control-Request-Private-Network: true with Access-Control-Allow-Private-Network: true."
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
        super().save(*args, **kwargs)

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
        validators.validate_policy(allowed_origins=self.allowed_origins, allow_credentials=self.allow_credentials)


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
