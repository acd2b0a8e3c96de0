"""Keeping the rollups true: incremental refresh, recompute of given days, full rebuild.

Every path ends in `recompute_center_days`, which recomputes whole (center, day) pairs from
the raw rows and replaces what was there: running it twice changes nothing, and the
incremental refresh agrees with a rebuild by construction as long as it finds every pair that
changed. It finds them by `updated_at` since the watermark minus SAFETY_MARGIN, because a
transaction may commit after a later-stamped one was already read (docs/figures.md).
"""

from __future__ import annotations

import logging
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractHour
from django.utils import timezone

from doorstep.centers.models import Center
from doorstep.visits import partitions
from doorstep.visits.models import ServiceRecord, Visit

from .models import (
    COUNTER_FIELDS,
    DWELL_EDGES,
    DWELL_FIELDS,
    GROUPS,
    HOUR_FIELDS,
    PEOPLE_HORIZON,
    RETURN_DAYS,
    SERVICES,
    AreaDay,
    CenterDay,
    PeopleDay,
    Presence,
    RefreshState,
    scope_key,
)

log = logging.getLogger(__name__)

# Longer than any transaction that writes visits (a check-in or a tally commits in
# milliseconds; a CSV import of a day's tallies in seconds). Every refresh recomputes the pairs
# touched within the margin again, so it is also the price paid per refresh.
SAFETY_MARGIN = timedelta(minutes=2)
CHUNK = 2000  # centers per query (SQLite's parameter limit, and modest IN lists)
STATE_NAME = "rollups"
RETENTION_STATE = "retention"
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
                recompute_center_days(pairs=pairs, people=False)
                count, days = count + len(pairs), days + 1
            rebuild_people()
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
    refresh starts from here instead of redoing everything. Days before the retention
    horizon (apply_retention) are never touched: their raw rows are gone, their counts stay.
    """
    started = timezone.now()
    full = start is None and end is None
    horizon = retention_horizon()
    if horizon is not None and (start is None or start < horizon):
        start = horizon
    with transaction.atomic():
        for model in (CenterDay, AreaDay, Presence):
            qs = model.objects.all()
            if start is not None:
                qs = qs.filter(day__gte=start)
            if end is not None:
                qs = qs.filter(day__lte=end)
            qs.delete()
        if connection.vendor == "postgresql":
            count = _rebuild_in_sql(start, end)
        else:
            # Day by day: a city-year holds 4.6 million pairs, too many to hold at once.
            count = 0
            for day in _days_with_data(start, end):
                pairs = _all_pairs(day, day)
                recompute_center_days(pairs=pairs, clean=True, people=False)
                count += len(pairs)
        # Presence changed in [start, end]: the people of those days, the returned flags of the
        # RETURN_DAYS before and the previous days of the PEOPLE_HORIZON after.
        rebuild_people(
            start - timedelta(days=RETURN_DAYS) if start is not None else None,
            end + timedelta(days=PEOPLE_HORIZON) if end is not None else None,
        )
        if full:
            RefreshState.objects.get_or_create(name=STATE_NAME)
            RefreshState.objects.filter(name=STATE_NAME, watermark__isnull=True).update(
                watermark=started, refreshed_at=timezone.now()
            )
    return count


def _rebuild_in_sql(start: date | None, end: date | None) -> int:
    """PostgreSQL: the days with facts in [start, end], a month per statement group
    (figures/sqlrollup.py). Returns the center-days written."""
    from . import sqlrollup

    bounds = [qs.aggregate(lo=Min("day"), hi=Max("day")) for qs in _facts_between(start, end)]
    los = [b["lo"] for b in bounds if b["lo"] is not None]
    his = [b["hi"] for b in bounds if b["hi"] is not None]
    if not los:
        return 0
    lo, hi = min(los), max(his)
    month = partitions.month_start(lo)
    while month <= hi:
        following = partitions.add_months(month, 1)
        sqlrollup.rebuild_range(max(month, lo), min(following - timedelta(days=1), hi))
        month = following
    return CenterDay.objects.filter(day__gte=lo, day__lte=hi).count()


def retention_horizon() -> date | None:
    """The first day whose raw visits are still kept, once apply_retention has run."""
    kept = (
        RefreshState.objects.filter(name=RETENTION_STATE)
        .values_list("watermark", flat=True)
        .first()
    )
    return timezone.localdate(kept) if kept else None


def apply_retention(*, now: datetime | None = None) -> int:
    """Drop raw visits and service records older than VISIT_RETENTION_MONTHS (whole monthly
    partitions on PostgreSQL), at most once a day; the rollups are kept. Returns partitions
    dropped (PostgreSQL) or rows deleted (SQLite)."""
    months = settings.VISIT_RETENTION_MONTHS
    if months <= 0:
        return 0
    now = now or timezone.now()
    state, _ = RefreshState.objects.get_or_create(name=RETENTION_STATE)
    if state.refreshed_at is not None and now - state.refreshed_at < timedelta(hours=20):
        return 0
    horizon = partitions.add_months(partitions.month_start(timezone.localdate(now)), 1 - months)
    dropped = partitions.drop_before(horizon)
    tz = timezone.get_default_timezone()
    state.watermark = max(
        datetime.combine(horizon, datetime.min.time(), tzinfo=tz),
        state.watermark or now.min.replace(tzinfo=tz),
    )
    state.refreshed_at = now
    state.save(update_fields=["watermark", "refreshed_at"])
    return dropped


def _facts_between(start: date | None, end: date | None) -> Iterator[QuerySet[Any]]:
    """Visits and service records with a day in [start, end] (open where None)."""
    for model in (Visit, ServiceRecord):
        qs = model.objects.all()
        if start is not None:
            qs = qs.filter(day__gte=start)
        if end is not None:
            qs = qs.filter(day__lte=end)
        yield qs


def _days_with_data(start: date | None, end: date | None) -> list[date]:
    days: set[date] = set()
    for qs in _facts_between(start, end):
        days.update(qs.values_list("day", flat=True).distinct().order_by())
    return sorted(days)


def recompute_center_days(
    *, pairs: Iterable[Pair], clean: bool = False, people: bool = True
) -> None:
    """Recompute the given (center id, local day) pairs from the raw rows, and their areas.

    Call it after deleting visits or service records (an update stamps updated_at and is found
    by refresh_figures; a deletion leaves no trace). `clean` means the old rows are known gone.
    With `people`, PeopleDay follows the Presence rows replaced here (the touched people's
    whole history is re-read before and after, and the difference applied); the rebuilds pass
    False and call rebuild_people() once at the end instead.
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
        users = _people_at(by_day) if people else set()
        before = _people_contributions(users)
        for day in sorted(by_day):
            centers = sorted(by_day[day])
            for i in range(0, len(centers), CHUNK):
                _recompute_chunk(day, centers[i : i + CHUNK], regions, clean)
            districts = sorted({regions[c][0] for c in centers if c in regions})
            _recompute_areas(day, districts, clean)
        if users:
            _apply_people_delta(_people_contributions(users), before)


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
    for qs in _facts_between(start, end):
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
        Visit.objects.filter(day=day, center_id__in=centers, suspect=False)
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
    suspect = (
        Visit.objects.filter(day=day, center_id__in=centers, suspect=True)
        .values("center_id")
        .order_by("center_id")
        .annotate(n=Count("id"))
    )
    for found in suspect:
        rows.setdefault(found["center_id"], {})["suspect"] = found["n"]
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


# People (PeopleDay) ---------------------------------------------------------------------------

# (scope, day, since) -> [people, returned]
Contributions = Counter[tuple[str, date, date]]
PresenceRow = tuple[int, int, date, str, str]  # user, center, day, district, subdistrict


def _people_at(by_day: dict[date, set[int]]) -> set[int]:
    """The signed-in people present at the pairs before or after their recompute."""
    users: set[int] = set()
    for day, center_set in by_day.items():
        centers = sorted(center_set)
        for i in range(0, len(centers), CHUNK):
            chunk = centers[i : i + CHUNK]
            users.update(
                Presence.objects.filter(day=day, center_id__in=chunk)
                .values_list("user_id", flat=True)
                .order_by()
            )
            users.update(
                Visit.objects.filter(day=day, center_id__in=chunk, user__isnull=False)
                .values_list("user_id", flat=True)
                .distinct()
                .order_by()
            )
    return users


def _people_contributions(users: set[int]) -> tuple[Contributions, Contributions]:
    """What the given people's Presence rows contribute to PeopleDay: (people, returned)."""
    ids = sorted(users)
    rows: list[PresenceRow] = []
    for i in range(0, len(ids), CHUNK):
        rows.extend(
            Presence.objects.filter(user_id__in=ids[i : i + CHUNK])
            .values_list("user_id", "center_id", "day", "district", "subdistrict")
            .order_by()
        )
    return contributions(rows)


def contributions(rows: Iterable[PresenceRow]) -> tuple[Contributions, Contributions]:
    """PeopleDay as a function of Presence rows (the rebuild computes the same in SQL)."""
    days: dict[tuple[int, str], set[date]] = defaultdict(set)
    for user, center, day, district, subdistrict in rows:
        days[(user, scope_key("center", center))].add(day)
        if subdistrict:
            days[(user, scope_key("subdistrict", subdistrict))].add(day)
        days[(user, scope_key("district", district))].add(day)
        days[(user, scope_key("city"))].add(day)
    people: Contributions = Counter()
    returned: Contributions = Counter()
    horizon, window = timedelta(days=PEOPLE_HORIZON), timedelta(days=RETURN_DAYS)
    for (_user, scope), found in days.items():
        ordered = sorted(found)
        for i, day in enumerate(ordered):
            since = day - horizon
            if i > 0 and ordered[i - 1] > since:
                since = ordered[i - 1]
            key = (scope, day, since)
            people[key] += 1
            if i + 1 < len(ordered) and ordered[i + 1] <= day + window:
                returned[key] += 1
    return people, returned


def _apply_people_delta(
    after: tuple[Contributions, Contributions], before: tuple[Contributions, Contributions]
) -> None:
    keys = {k for c in (*after, *before) for k in c}
    delta: dict[tuple[str, date, date], tuple[int, int]] = {}
    for key in keys:
        d = (after[0][key] - before[0][key], after[1][key] - before[1][key])
        if d != (0, 0):
            delta[key] = d
    if not delta:
        return
    by_scope: dict[str, list[date]] = defaultdict(list)
    for scope, day, _since in delta:
        by_scope[scope].append(day)
    scopes = sorted(by_scope)
    existing: dict[tuple[str, date, date], PeopleDay] = {}
    for i in range(0, len(scopes), CHUNK // 4):
        chunk = scopes[i : i + CHUNK // 4]
        lo = min(min(by_scope[s]) for s in chunk)
        hi = max(max(by_scope[s]) for s in chunk)
        for found in PeopleDay.objects.filter(scope__in=chunk, day__gte=lo, day__lte=hi):
            key = (found.scope, found.day, found.since)
            if key in delta:
                existing[key] = found
    create: list[PeopleDay] = []
    update: list[PeopleDay] = []
    gone: list[int] = []
    for key, (dp, dr) in delta.items():
        row = existing.get(key)
        p = (row.people if row else 0) + dp
        r = (row.returned if row else 0) + dr
        if p < 0 or r < 0 or r > p:
            # Only possible if Presence changed behind the refresh's back (a cascade from a
            # deleted account or center): rebuild-figures puts it right.
            log.warning("figures: PeopleDay %s would be (%s, %s); run rebuild-figures", key, p, r)
            p, r = max(p, 0), max(0, min(r, p))
        if row is None:
            if p:
                scope, day, since = key
                create.append(PeopleDay(scope=scope, day=day, since=since, people=p, returned=r))
        elif p == 0:
            gone.append(row.pk)
        else:
            row.people, row.returned = p, r
            update.append(row)
    for i in range(0, len(gone), CHUNK):
        PeopleDay.objects.filter(pk__in=gone[i : i + CHUNK]).delete()
    PeopleDay.objects.bulk_update(update, ["people", "returned"], batch_size=500)
    PeopleDay.objects.bulk_create(create, batch_size=2000)


def forget_presence(*, user_id: int | None = None, center_id: int | None = None) -> None:
    """Take the Presence rows of an account or a center about to be deleted (by the cascade)
    out of PeopleDay, which would otherwise go on counting them (figures/signals.py)."""
    rows = Presence.objects.all()
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if center_id is not None:
        rows = rows.filter(center_id=center_id)
    with transaction.atomic():
        users = set(rows.values_list("user_id", flat=True).distinct().order_by())
        if not users:
            return
        RefreshState.objects.get_or_create(name=STATE_NAME)
        RefreshState.objects.select_for_update().get(name=STATE_NAME)
        before = _people_contributions(users)
        ids = sorted(users)
        left: list[PresenceRow] = []
        for i in range(0, len(ids), CHUNK):
            left.extend(
                Presence.objects.filter(user_id__in=ids[i : i + CHUNK])
                .exclude(pk__in=rows.values("pk"))
                .values_list("user_id", "center_id", "day", "district", "subdistrict")
                .order_by()
            )
        _apply_people_delta(contributions(left), before)


def rebuild_people(lo: date | None = None, hi: date | None = None) -> int:
    """Recompute the PeopleDay rows of days lo ... hi (all when None) from Presence, in SQL.

    A row depends on the person's previous day in scope (up to PEOPLE_HORIZON back) and next
    one (up to RETURN_DAYS ahead), so Presence is read that much beyond the days written.
    """
    rows = PeopleDay.objects.all()
    if lo is not None:
        rows = rows.filter(day__gte=lo)
    if hi is not None:
        rows = rows.filter(day__lte=hi)
    rows.delete()
    where, params = ["1 = 1"], []
    out_where, out_params = ["1 = 1"], []
    if lo is not None:
        where.append("day >= %s")
        params.append(lo - timedelta(days=PEOPLE_HORIZON + 1))
        out_where.append("day >= %s")
        out_params.append(lo)
    if hi is not None:
        where.append("day <= %s")
        params.append(hi + timedelta(days=RETURN_DAYS + 1))
        out_where.append("day <= %s")
        out_params.append(hi)
    cond = " AND ".join(where)
    if connection.vendor == "postgresql":
        center = "'c:' || center_id::text"
        minus = f"day - {PEOPLE_HORIZON}"
        plus = f"day + {RETURN_DAYS}"
    else:
        center = "'c:' || center_id"
        minus = f"date(day, '-{PEOPLE_HORIZON} days')"
        plus = f"date(day, '+{RETURN_DAYS} days')"
    sql = f"""
        INSERT INTO {PeopleDay._meta.db_table} (scope, day, since, people, returned)
        SELECT scope, day, since, COUNT(*), SUM(ret) FROM (
            SELECT scope, day,
                   CASE WHEN prev IS NULL OR prev <= {minus} THEN {minus} ELSE prev END AS since,
                   CASE WHEN nxt IS NOT NULL AND nxt <= {plus} THEN 1 ELSE 0 END AS ret
            FROM (
                SELECT scope, day, LAG(day) OVER w AS prev, LEAD(day) OVER w AS nxt
                FROM (
                    SELECT user_id, {center} AS scope, day
                    FROM {Presence._meta.db_table} WHERE {cond}
                    UNION ALL
                    SELECT DISTINCT user_id, 's:' || subdistrict, day
                    FROM {Presence._meta.db_table} WHERE {cond} AND subdistrict <> ''
                    UNION ALL
                    SELECT DISTINCT user_id, 'd:' || district, day
                    FROM {Presence._meta.db_table} WHERE {cond}
                    UNION ALL
                    SELECT DISTINCT user_id, '*', day FROM {Presence._meta.db_table} WHERE {cond}
                ) p
                WINDOW w AS (PARTITION BY user_id, scope ORDER BY day)
            ) t
            WHERE {" AND ".join(out_where)}
        ) u
        GROUP BY scope, day, since
    """  # noqa: S608 -- only fixed fragments are interpolated; values are parameters
    with connection.cursor() as cur:
        cur.execute(sql, params * 4 + out_params)
        return int(cur.rowcount or 0)


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
