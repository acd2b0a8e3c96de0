"""The big screen's reads: one snapshot row by primary key (public: counts only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from doorstep.centers.models import Region

from .models import CITY, Snapshot

# Older than this, the worker is not running: the page computes the snapshots itself.
STALE_AFTER = timedelta(minutes=2)


def scope_exists(code: str) -> bool:
    return (
        code == CITY or Region.objects.filter(code=code, level=Region.RegionLevel.DISTRICT).exists()
    )


def snapshot(code: str, *, now: datetime | None = None) -> dict[str, Any] | None:
    """The scope's snapshot with its age, or None when there is none yet or it is stale."""
    row = Snapshot.objects.filter(scope=code).values_list("computed_at", "data").first()
    if row is None:
        return None
    now = now or timezone.now()
    computed_at, data = row
    if now - computed_at > STALE_AFTER:
        return None
    return {
        **data,
        "scope": code,
        "computed_at": timezone.localtime(computed_at).isoformat(),
        "age_seconds": int((now - computed_at).total_seconds()),
    }
