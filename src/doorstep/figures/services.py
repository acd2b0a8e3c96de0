"""Keeping the rollups true: incremental refresh, recompute of given days, full rebuild.

Every path ends in `recompute_center_days`, which recomputes whole (center, day) pairs from
the raw rows and replaces what was there: running it twice changes nothing, and the
incremental refresh agrees with a rebuild by construction as long as it finds every pair that
changed. It finds them by `updated_at` since the watermark minus SAFETY_MARGIN, because a
transaction may commit after a later-stamped one was already read (docs/figures.md).
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.db.models.functions import ExtractHour
from django.utils import timezone

from doorstep.centers.models import Center
from doorstep.visits.models import ServiceRecord, Visit

from .models import (
    COUNTER_FIELDS,
    DWELL_EDGES,
    DWELL_FIELDS,
    GROUPS,
    HOUR_FIELDS,
    SERVICES,
    AreaDay,
    CenterDay,
    Presence,
    RefreshState,
)

# Longer than any transaction that writes visits (a check-in or a tally commits in
# milliseconds; a CSV import of a day's tallies in seconds). Every refresh recomputes the pairs
# touched within the margin again, so it is also the price paid per refresh.
SAFETY_MARGIN = timedelta(minutes=2)
CHUNK = 2000  # centers per query (SQLite's parameter limit, and modest IN lists)
STATE_NAME = "rollups"
# AreaDay rows for a whole district have subdistrict WHOLE; the city's row has both WHOLE.
WHOLE = "*"

Pair = tuple[int, date]


@dataclass(frozen=True)
class RefreshResult:
    pairs: int
    days: int
    watermark: datetime


def refresh_figures(*, now: datetime | None = None) -> RefreshResult:
    """Roll up every (center, day) whose visits or services changed since the last refresh."""
    started = now or timezone.now()
    with transaction.atomic():
        RefreshState.objects.get_or_create(name=STATE_NAME)
        state = RefreshState.objects.select_for_update().get(name=STATE_NAME)
        if state.watermark is None:
            count, days = 0, 0
            for day in _days_with_data(None, None):
                pairs = _all_pairs(day, day)
                recompute_center_days(pairs=pairs)
                count, days = count + len(pairs), days + 1
        else:
            touched = _touched_pairs(state.watermark - SAFETY_MARGIN)
            recompute_center_days(pairs=touched)
            count, days = len(touched), len({d for _c, d in touched})
        state.watermark = started
        state.refreshed_at = timezone.now()
        state.save(update_fields=["watermark", "refreshed_at"])
    return RefreshResult(pairs=count, days=days, watermark=started)


def rebuild_figures(*, start: date | None = None, end: date | None = None) -> int:
    """Recompute every rollup between start and end (all days when both are None).

    Rows in the range whose facts are gone are deleted too. Returns the pairs recomputed. A
    full rebuild on a database never refreshed sets the watermark, so the next incremental
    refresh starts from here instead of redoing everything.
    """
    started = timezone.now()
    with transaction.atomic():
        for model in (CenterDay, AreaDay, Presence):
            qs = model.objects.all()
            if start is not None:
                qs = qs.filter(day__gte=start)
            if end is not None:
                qs = qs.filter(day__lte=end)
            qs.delete()
        # Day by day: a city-year holds 4.6 million pairs, too many to hold at once.
        count = 0
        for day in _days_with_data(start, end):
            pairs = _all_pairs(day, day)
            recompute_center_days(pairs=pairs, clean=True)
            count += len(pairs)
        if start is None and end is None:
            RefreshState.objects.get_or_create(name=STATE_NAME)
            RefreshState.objects.filter(name=STATE_NAME, watermark__isnull=True).update(
                watermark=started, refreshed_at=timezone.now()
            )
    return count


def _days_with_data(start: date | None, end: date | None) -> list[date]:
    days: set[date] = set()
    for model in (Visit, ServiceRecord):
        qs = model.objects.all()
        if start is not None:
            qs = qs.filter(day__gte=start)
        if end is not None:
            qs = qs.filter(day__lte=end)
        days.update(qs.values_list("day", flat=True).distinct().order_by())
    return sorted(days)


def recompute_center_days(*, pairs: Iterable[Pair], clean: bool = False) -> None:
    """Recompute the given (center id, local day) pairs from the raw rows, and their areas.

    Call it after deleting visits or service records (an update stamps updated_at and is found
    by refresh_figures; a deletion leaves no trace). `clean` means the old rows are known gone.
    """
    by_day: dict[date, set[int]] = defaultdict(set)
    for center_id, day in pairs:
        by_day[day].add(center_id)
    if not by_day:
        return
    regions = _center_regions({c for centers in by_day.values() for c in centers})
    with transaction.atomic():
        # One writer of rollups at a time: two recomputes of one pair (an undo racing the
        # worker's refresh) would both delete, then both insert, and one would fail.
        RefreshState.objects.get_or_create(name=STATE_NAME)
        RefreshState.objects.select_for_update().get(name=STATE_NAME)
        for day in sorted(by_day):
            centers = sorted(by_day[day])
            for i in range(0, len(centers), CHUNK):
                _recompute_chunk(day, centers[i : i + CHUNK], regions, clean)
            districts = sorted({regions[c][0] for c in centers if c in regions})
            _recompute_areas(day, districts, clean)


def _center_regions(center_ids: set[int]) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    ids = sorted(center_ids)
    for i in range(0, len(ids), CHUNK):
        for pk, district, sub in Center.objects.filter(pk__in=ids[i : i + CHUNK]).values_list(
            "pk", "district_id", "subdistrict_id"
        ):
            out[pk] = (district, sub or "")
    return out


def _touched_pairs(since: datetime) -> set[Pair]:
    pairs: set[Pair] = set()
    for model in (Visit, ServiceRecord):
        pairs.update(
            model.objects.filter(updated_at__gte=since)
            .values_list("center_id", "day")
            .distinct()
            .order_by()
        )
    return pairs


def _all_pairs(start: date | None, end: date | None) -> set[Pair]:
    pairs: set[Pair] = set()
    for model in (Visit, ServiceRecord):
        qs = model.objects.all()
        if start is not None:
            qs = qs.filter(day__gte=start)
        if end is not None:
            qs = qs.filter(day__lte=end)
        pairs.update(qs.values_list("center_id", "day").distinct().order_by())
    return pairs


def _visit_aggregates() -> dict[str, Any]:
    aggs: dict[str, Any] = {
        "visits": Count("id"),
        "known_visits": Count("id", filter=Q(user__isnull=False)),
        "synthetic": Count("id", filter=Q(synthetic=True)),
        "dwell_n": Count("id", filter=Q(left_at__isnull=False)),
        "dwell_estimated": Count("id", filter=Q(left_at__isnull=False, left_estimated=True)),
        "dwell_total": Sum("dwell", filter=Q(left_at__isnull=False)),
    }
    for group in GROUPS:
        aggs[f"g_{group}"] = Count("id", filter=Q(group=group))
    for h, name in enumerate(HOUR_FIELDS):
        aggs[name] = Count("id", filter=Q(hour=h))
    low = timedelta(0)
    for edge, name in zip((*DWELL_EDGES, None), DWELL_FIELDS, strict=True):
        q = Q(left_at__isnull=False, dwell__gte=low)
        if edge is not None:
            q &= Q(dwell__lt=timedelta(minutes=edge))
            low = timedelta(minutes=edge)
        aggs[name] = Count("id", filter=q)
    return aggs


def _recompute_chunk(
    day: date, centers: list[int], regions: dict[int, tuple[str, str]], clean: bool
) -> None:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    rows: dict[int, dict[str, int]] = {}
    visits = (
        Visit.objects.filter(day=day, center_id__in=centers)
        .alias(
            hour=ExtractHour("arrived_at", tzinfo=tz),
            dwell=ExpressionWrapper(F("left_at") - F("arrived_at"), output_field=DurationField()),
        )
        .values("center_id")
        .order_by("center_id")
        .annotate(**_visit_aggregates())
    )
    for found in visits:
        v: dict[str, Any] = dict(found)
        total: timedelta | None = v.pop("dwell_total")
        row = rows.setdefault(v.pop("center_id"), {})
        row.update(v)
        row["dwell_seconds"] = int(total.total_seconds()) if total else 0
    services = (
        ServiceRecord.objects.filter(day=day, center_id__in=centers)
        .values("center_id", "service")
        .order_by()
        .annotate(n=Sum("count"), syn=Count("id", filter=Q(synthetic=True)))
    )
    for s in services:
        row = rows.setdefault(s["center_id"], {})
        code = s["service"] if s["service"] in SERVICES else "other"
        row[f"s_{code}"] = row.get(f"s_{code}", 0) + s["n"]
        row["synthetic"] = row.get("synthetic", 0) + s["syn"]
    if not clean:
        CenterDay.objects.filter(day=day, center_id__in=centers).delete()
        Presence.objects.filter(day=day, center_id__in=centers).delete()
    CenterDay.objects.bulk_create(
        [CenterDay(center_id=c, day=day, **row) for c, row in sorted(rows.items())],
        batch_size=500,
    )
    present = (
        Visit.objects.filter(day=day, center_id__in=centers, user__isnull=False)
        .values_list("center_id", "user_id")
        .distinct()
        .order_by()
    )
    Presence.objects.bulk_create(
        [
            Presence(
                center_id=c,
                user_id=u,
                day=day,
                district=regions.get(c, ("", ""))[0],
                subdistrict=regions.get(c, ("", ""))[1],
            )
            for c, u in present
        ],
        batch_size=2000,
    )


def _recompute_areas(day: date, districts: list[str], clean: bool) -> None:
    """The subdistrict rows of `districts` on `day`, their district totals and the city's."""
    if not districts:
        return
    if not clean:
        AreaDay.objects.filter(day=day, district__in=districts).delete()
    AreaDay.objects.filter(day=day, district=WHOLE).delete()
    sums = (
        CenterDay.objects.filter(day=day, center__district_id__in=districts)
        .values("center__district_id", "center__subdistrict_id")
        .order_by()
        .annotate(**{name: Sum(name) for name in COUNTER_FIELDS})
    )
    areas = []
    totals: dict[str, dict[str, int]] = {}
    for found in sums:
        row: dict[str, Any] = dict(found)
        district = row.pop("center__district_id")
        subdistrict = row.pop("center__subdistrict_id") or ""
        areas.append(AreaDay(district=district, subdistrict=subdistrict, day=day, **row))
        total = totals.setdefault(district, dict.fromkeys(COUNTER_FIELDS, 0))
        for name in COUNTER_FIELDS:
            total[name] += row[name] or 0
    areas += [AreaDay(district=d, subdistrict=WHOLE, day=day, **t) for d, t in totals.items()]
    AreaDay.objects.bulk_create(areas)
    # The city: the sum of every district's total that day (16 rows), touched or not.
    city = AreaDay.objects.filter(day=day, subdistrict=WHOLE).aggregate(
        n=Count("id"), **{name: Sum(name) for name in COUNTER_FIELDS}
    )
    if city.pop("n"):
        AreaDay.objects.create(district=WHOLE, subdistrict=WHOLE, day=day, **city)


def data_span() -> tuple[date | None, date | None]:
    """The first and last day with any visit or service record."""
    lo: list[date] = []
    hi: list[date] = []
    for model in (Visit, ServiceRecord):
        agg = model.objects.aggregate(lo=Min("day"), hi=Max("day"))
        if agg["lo"]:
            lo.append(agg["lo"])
            hi.append(agg["hi"])
    return (min(lo) if lo else None, max(hi) if hi else None)
