"""``cors_decision``, the signal for metrics integrations (see the README's "Observability"), and the reset of
this process's state when a test changes the settings.

Invalidation has no receivers: every write ends in :mod:`cors_policies.invalidation` (model signals miss bulk
operations, and a ``post_delete`` receiver would make every queryset delete load its rows).
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import Signal, receiver

from .observed import recorder
from .snapshot import snapshot

#: Sent by the middleware for each cross-origin request (one with an Origin header other than the site's
#: own) that a policy covers, enforced or report-only, with the keyword arguments ``request``, ``origin``,
#: ``decision`` (the :class:`~cors_policies.engine.Decision` served, or None when only a report-only policy
#: covers the path) and ``report_only`` (the report-only policy's Decision, or None). Only sent when it has
#: receivers, so it costs nothing otherwise; receivers run on the request path (under ASGI, on the event
#: loop): keep them quick, such as incrementing a counter.
cors_decision = Signal()


@receiver(setting_changed, dispatch_uid="cors_policies_setting_changed")
def settings_changed(setting: str, **kwargs: Any) -> None:
    if setting in ("CORS_POLICIES", "CACHES", "DATABASES"):
        snapshot.reset()
    if setting == "CORS_POLICIES":
        recorder.configure()
