"""What the observed-origin rows say about the last days: the origins a policy allowed and refused most, and the
requests counted without their origin (no room was left to record it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import models
from django.utils import timezone

from ..models import CorsPolicy, ObservedOrigin
from ..observed import DROPPED_ORIGIN

__all__ = ["Summary", "dropped_requests", "summary"]


@dataclass(frozen=True)
class Summary:
    """A policy's most frequent origins per verdict, and per verdict the requests not recorded by origin."""

    allowed: list[ObservedOrigin]
    refused: list[ObservedOrigin]
    dropped: dict[str, int]


def summary(policy: CorsPolicy, *, days: int, top: int) -> Summary:
    """The ``top`` origins of each verdict seen on ``policy`` in the last ``days``, most requests first."""
    since = timezone.now() - timedelta(days=days)
    rows = ObservedOrigin.objects.filter(policy=policy, last_seen__gte=since)
    recent = rows.exclude(origin=DROPPED_ORIGIN).order_by("-count", "-last_seen")
    dropped = dict(
        rows.filter(origin=DROPPED_ORIGIN).order_by().values_list("verdict").annotate(total=models.Sum("count"))
    )
    return Summary(
        allowed=list(recent.filter(verdict="allowed")[:top]),
        refused=list(recent.filter(verdict="refused")[:top]),
        dropped=dropped,
    )


def dropped_requests(*, days: int) -> int:
    """Requests of the last ``days`` counted without their origin, all policies together."""
    since = timezone.now() - timedelta(days=days)
    total = ObservedOrigin.objects.filter(origin=DROPPED_ORIGIN, last_seen__gte=since).aggregate(
        total=models.Sum("count")
    )["total"]
    return int(total or 0)
