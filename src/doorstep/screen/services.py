"""Computes the big screen's snapshots (one per district and one for the city).

Called by the worker on every pass (every 10 s). It reads the figures' rollups for today's
visits and hours, and indexed counts of today's rows for what has no rollup yet (visits still
open, activities, meals, requests, topics); the 15-minute coverage is recomputed at most once
an hour. All rows are written in one transaction, so a screen never sees half a refresh.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from doorstep.activities.models import Activity, ActivityStatus
from doorstep.cases.models import RequestType, ServiceRequest
from doorstep.centers.models import Region
from doorstep.city import coverage
from doorstep.city.models import Cell
from doorstep.deliberation.models import Status as TopicStatus
from doorstep.deliberation.models import Topic
from doorstep.deliberation.selectors import hot_score
from doorstep.figures.models import HOUR_FIELDS, AreaDay, CenterDay
from doorstep.figures.services import WHOLE
from doorstep.meals.models import Canteen, CounterSale, Order, OrderStatus
from doorstep.visits.models import Visit

from .models import CITY, Snapshot

COVERAGE_EVERY = timedelta(hours=1)
TOPICS_SHOWN = 3
CENTERS_ON_MAP = 400


def _blank() -> dict[str, Any]:
    return {
        "visits_today": 0,
        "visits_by_hour": [0] * 24,
        "in_centers_now": 0,
        "activities": {"count": 0, "places": 0, "taken": 0},
        "meals": None,
        "requests": None,
        "topics": [],
        "coverage": None,
        "synthetic": False,
    }


def _add(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Sum one district's counts into the city's."""
    target["visits_today"] += source["visits_today"]
    target["visits_by_hour"] = [
        a + b for a, b in zip(target["visits_by_hour"], source["visits_by_hour"], strict=True)
    ]
    target["in_centers_now"] += source["in_centers_now"]
    for k in ("count", "places", "taken"):
        target["activities"][k] += source["activities"][k]
    for part in ("meals", "requests"):
        if source[part] is not None:
            if target[part] is None:
                target[part] = dict.fromkeys(source[part], 0)
            for k, v in source[part].items():
                target[part][k] += v
    target["synthetic"] = target["synthetic"] or source["synthetic"]


def refresh(now: datetime | None = None) -> int:
    """Rewrite every snapshot; returns how many."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    day_start = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    day_end = day_start + timedelta(days=1)
    districts = {
        r.code: r for r in Region.objects.filter(level=Region.RegionLevel.DISTRICT).order_by("code")
    }
    per: dict[str, dict[str, Any]] = {code: _blank() for code in districts}
    row: Mapping[str, Any]  # one grouped row of each query below

    # Visits so far today and by hour: the figures' rollup (refreshed in the same pass).
    # The rollup's whole-district rows (subdistrict "*"): 16 rows for the city.
    for district, visits, synthetic, *by_hour in AreaDay.objects.filter(
        day=today, subdistrict=WHOLE
    ).values_list("district", "visits", "synthetic", *HOUR_FIELDS):
        d = per.get(district)
        if d is None:
            continue
        d["visits_today"] = visits
        d["visits_by_hour"] = list(by_hour)
        d["synthetic"] = d["synthetic"] or bool(synthetic)

    # People in centers now: today's visits not yet left (the partial index on open visits).
    for row in (
        Visit.objects.filter(left_at__isnull=True, day=today)
        .values(district=F("center__district_id"))
        .annotate(n=Count("id"))
    ):
        if row["district"] in per:
            per[row["district"]]["in_centers_now"] = row["n"]

    for row in (
        Activity.objects.filter(
            status=ActivityStatus.PUBLISHED, starts_at__gte=day_start, starts_at__lt=day_end
        )
        .values(district=F("center__district_id"))
        .annotate(
            n=Count("id"),
            places=Sum("capacity"),
            taken=Sum("taken"),
            s=Count("id", filter=Q(synthetic=True)),
        )
    ):
        if row["district"] in per:
            d = per[row["district"]]
            d["activities"] = {
                "count": row["n"],
                "places": row["places"] or 0,
                "taken": row["taken"] or 0,
            }
            d["synthetic"] = d["synthetic"] or bool(row["s"])

    if Canteen.objects.exists():
        for d in per.values():
            d["meals"] = {"ordered": 0, "served": 0, "delivered": 0}
        orders = (
            Order.objects.filter(menu__day=today)
            .exclude(status=OrderStatus.CANCELLED)
            .values(district=F("menu__canteen__center__district_id"))
            .annotate(
                ordered=Count("id"),
                served=Count("id", filter=Q(status=OrderStatus.COLLECTED)),
                delivered=Count("id", filter=Q(status=OrderStatus.DELIVERED)),
                s=Count("id", filter=Q(menu__synthetic=True)),
            )
        )
        for row in orders:
            if row["district"] in per:
                m = per[row["district"]]["meals"]
                m["ordered"] += row["ordered"]
                m["served"] += row["served"]
                m["delivered"] += row["delivered"]
                per[row["district"]]["synthetic"] |= bool(row["s"])
        for row in (
            CounterSale.objects.filter(day=today)
            .values(district=F("canteen__center__district_id"))
            .annotate(n=Count("id"))
        ):
            if row["district"] in per:
                per[row["district"]]["meals"]["served"] += row["n"]

    if RequestType.objects.exists():
        for d in per.values():
            d["requests"] = {"open": 0, "overdue": 0}
        for row in (
            ServiceRequest.objects.filter(is_open=True)
            .values("district_id")
            .annotate(
                n=Count("id"),
                late=Count("id", filter=Q(due_at__lt=now)),
                s=Count("id", filter=Q(synthetic=True)),
            )
        ):
            if row["district_id"] in per:
                d = per[row["district_id"]]
                d["requests"] = {"open": row["n"], "overdue": row["late"]}
                d["synthetic"] = d["synthetic"] or bool(row["s"])

    city = _blank()
    for d in per.values():
        _add(city, d)

    # Hot topics: the deliberation hall's own ranking, per district and for the city.
    ranked = (
        Topic.objects.exclude(status__in=(TopicStatus.MERGED, TopicStatus.DECLINED))
        .annotate(hot=hot_score(now), n_supports=Count("supports"))
        .filter(hot__gt=0)
        .select_related("center", "region")
        .order_by("-hot", "-id")[:200]
    )
    for t in ranked:
        item = {"title": t.title, "supports": t.n_supports, "synthetic": t.is_synthetic}
        if len(city["topics"]) < TOPICS_SHOWN:
            city["topics"].append(item)
        code = _topic_district(t)
        if code in per and len(per[code]["topics"]) < TOPICS_SHOWN:
            per[code]["topics"].append(item)

    _coverage(per, city, now)
    _mark_synthetic_coverage(per, city)

    # Centers on a district's map: where today's visits were (exact or street positions).
    spots: dict[str, list[list[Any]]] = defaultdict(list)
    for row in (
        CenterDay.objects.filter(
            day=today, visits__gt=0, center__location_precision__in=("exact", "street")
        )
        .values("center_id", "center__lat", "center__lng", "center__district_id", "visits")
        .order_by("-visits")[: CENTERS_ON_MAP * 4]
    ):
        code = row["center__district_id"]
        if len(spots[code]) < CENTERS_ON_MAP:
            spots[code].append(
                [
                    row["center_id"],
                    round(row["center__lat"], 5),
                    round(row["center__lng"], 5),
                    row["visits"],
                ]
            )

    city["areas"] = {
        code: {
            "name": r.name,
            "name_en": r.name_en,
            "visits_today": per[code]["visits_today"],
            "in_centers_now": per[code]["in_centers_now"],
            "fill": _fill(per[code]["activities"]),
            "coverage": (per[code]["coverage"] or {}).get("share"),
        }
        for code, r in districts.items()
    }
    for code, d in per.items():
        d["centers"] = spots.get(code, [])
        d["name"], d["name_en"] = districts[code].name, districts[code].name_en
    city["name"], city["name_en"] = "上海市", "Shanghai"

    with transaction.atomic():
        rows = [Snapshot(scope=CITY, computed_at=now, data=city)] + [
            Snapshot(scope=code, computed_at=now, data=d) for code, d in per.items()
        ]
        Snapshot.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["scope"],
            update_fields=["computed_at", "data"],
        )
    return len(rows)


def _fill(a: dict[str, int]) -> float | None:
    return round(a["taken"] / a["places"], 3) if a["places"] else None


def _topic_district(t: Topic) -> str:
    if t.center is not None:
        return t.center.district_id
    region = t.region
    if region is None:
        return ""
    return region.code if region.level == Region.RegionLevel.DISTRICT else (region.parent_id or "")


def _coverage(per: dict[str, dict[str, Any]], city: dict[str, Any], now: datetime) -> None:
    """The share of residents within 15 minutes' walk of any center, computed at most hourly.

    No figure (not 0 %) without a population grid, or when no center has a known spot: a
    center placed at its district's point says nothing about anyone's walk (docs/city.md)."""
    previous = Snapshot.objects.filter(scope=CITY).values_list("data", flat=True).first() or {}
    if not isinstance(previous, dict):
        previous = {}
    checked = previous.get("coverage_checked_at")
    if checked and now - datetime.fromisoformat(checked) < COVERAGE_EVERY:
        city["coverage_checked_at"] = checked
        city["coverage"] = previous.get("coverage")
        city["district_coverage"] = previous.get("district_coverage") or {}
        for code, d in per.items():
            d["coverage"] = city["district_coverage"].get(code)
        return
    if not Cell.objects.exists():
        return
    result = coverage.compute(max_gaps=0)
    at = now.isoformat()
    city["coverage_checked_at"] = at
    if not result.centers_used:
        return

    def share(area: coverage.Area) -> dict[str, Any] | None:
        if not area.people:
            return None
        return {
            "share": round(area.within.get("15min", 0) / area.people, 4),
            "synthetic": result.synthetic,
            "at": at,
        }

    city["coverage"] = share(result.city)
    city["district_coverage"] = {}
    for area in result.areas:
        if area.code in per:
            per[area.code]["coverage"] = share(area)
            city["district_coverage"][area.code] = per[area.code]["coverage"]


def _mark_synthetic_coverage(per: dict[str, dict[str, Any]], city: dict[str, Any]) -> None:
    # A synthetic population grid makes every coverage figure illustrative.
    if city["coverage"] and city["coverage"]["synthetic"]:
        city["synthetic"] = True
        for d in per.values():
            d["synthetic"] = True
