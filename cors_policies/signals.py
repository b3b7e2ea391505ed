"""Invalidation hooks: every write to a policy bumps the shared version (bulk operations: see models).

Also ``cors_decision``, the signal for metrics integrations (see the README's "Observability").
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from .cache import bump_version, snapshot
from .models import CorsPolicy, ObservedOrigin

#: Sent by the middleware for each cross-origin request (one with an Origin header other than the site's
#: own) that a policy covers, enforced or report-only, with the keyword arguments ``request``, ``origin``,
#: ``decision`` (the :class:`~cors_policies.engine.Decision` served, or None when only a report-only policy
#: covers the path) and ``report_only`` (the report-only policy's Decision, or None). Only sent when it has
#: receivers, so it costs nothing otherwise; receivers run on the request path (under ASGI, on the event
#: loop): keep them quick, such as incrementing a counter.
cors_decision = Signal()


@receiver(post_save, sender=CorsPolicy, dispatch_uid="cors_policies_saved")
@receiver(post_delete, sender=CorsPolicy, dispatch_uid="cors_policies_deleted")
def policy_changed(sender: type[CorsPolicy], instance: CorsPolicy, using: str, **kwargs: Any) -> None:
    bump_version(using)


@receiver(post_delete, sender=CorsPolicy, dispatch_uid="cors_policies_observed_deleted")
def delete_observed_origins(sender: type[CorsPolicy], instance: CorsPolicy, using: str, **kwargs: Any) -> None:
    """A policy's observed origins go with it, in one query (the relation has no cascade: see the model)."""
    ObservedOrigin.objects.using(using).filter(policy_id=instance.pk).delete()


@receiver(setting_changed, dispatch_uid="cors_policies_setting_changed")
def settings_changed(setting: str, **kwargs: Any) -> None:
    if setting in ("CORS_POLICIES", "CACHES", "DATABASES"):
        snapshot.reset()
    if setting == "CORS_POLICIES":
        from .observed import recorder

        recorder.configure()
