"""What staff may see of notices: how the ones about their centers' activities went out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count

from .models import Delivery, Notice


def failed_deliveries(center_ids: Iterable[int], *, limit: int = 200) -> dict[str, Any]:
    """What finally failed to reach people about these centers, newest first (the caller
    passes only the centers its staff account manages)."""
    failed = (
        Delivery.objects.filter(
            status=Delivery.Status.FAILED, notice__center_id__in=list(center_ids)
        )
        .select_related("notice__user")
        .order_by("-notice__created_at", "-pk")
    )
    by_kind: dict[str, int] = defaultdict(int)
    for kind in failed.values_list("notice__kind", flat=True):
        by_kind[kind] += 1
    return {"items": list(failed[:limit]), "by_kind": dict(by_kind), "total": sum(by_kind.values())}


def delivery_report(subject: str) -> dict[str, Any]:
    """For one subject (e.g. "activity:12"): notices written, deliveries by channel and
    status, and the failed ones with their errors."""
    notices = Notice.objects.filter(subject=subject)
    counts = {
        (row["channel"], row["status"]): row["n"]
        for row in Delivery.objects.filter(notice__subject=subject)
        .values("channel", "status")
        .annotate(n=Count("id"))
    }
    failed = list(
        Delivery.objects.filter(notice__subject=subject, status=Delivery.Status.FAILED)
        .select_related("notice__user")
        .order_by("-pk")[:50]
    )
    return {
        "notices": notices.count(),
        "counts": [
            (channel_label, status_label, counts.get((channel, status), 0))
            for channel, channel_label in Delivery.Channel.choices
            for status, status_label in Delivery.Status.choices
            if counts.get((channel, status))
        ],
        "pending": sum(n for (_c, st), n in counts.items() if st == Delivery.Status.PENDING),
        "failed": failed,
    }
