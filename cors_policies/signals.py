"""Invalidation hooks: every write to a policy bumps the shared version (bulk operations: see models)."""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .cache import bump_version, snapshot
from .models import CorsPolicy


@receiver(post_save, sender=CorsPolicy, dispatch_uid="cors_policies_saved")
@receiver(post_delete, sender=CorsPolicy, dispatch_uid="cors_policies_deleted")
def policy_changed(sender: type[CorsPolicy], instance: CorsPolicy, using: str, **kwargs: Any) -> None:
    bump_version(using)


@receiver(setting_changed, dispatch_uid="cors_policies_setting_changed")
def settings_changed(setting: str, **kwargs: Any) -> None:
    if setting in ("CORS_POLICIES", "CACHES", "DATABASES"):
        snapshot.reset()
