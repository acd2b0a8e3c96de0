"""Figures for a center, subdistrict, district or the city over a period, read from rollups.

`access_center` / `access_region` are the permission-checked fetches: a scope the account may
not read is a NotFound (404), exactly like one that does not exist. `figures_for` answers
everything a dashboard shows with a handful of queries whatever the size of the scope:
counts from CenterDay (one center) or AreaDay (a region), people from PeopleDay, activities
from the activities tables. Definitions: docs/figures.md. `cohorts_from_presence` and
`unique_visitors` compute the people figures straight from Presence: the reference the
PeopleDay rollup is tested against, and the answer for periods longer than PEOPLE_HORIZON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doorstep.accounts.models import StaffRole, User
from doorstep.accounts.scopes import center_scope_q
from doorstep.activities.models import Activity, ActivityStatus, Registration, RegistrationStatus
from doorstep.centers.models import Center, Region
from doorstep.core.errors import DoorstepError, NotFound
from doorstep.core.replica import reader
from doorstep.visits.vocab import Group, Service

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
    scope_key,
)
from .services import WHOLE

MAX_PERIOD_DAYS = PEOPLE_HORIZON  # three years: PeopleDay answers any period the pages accept
DEFAULT_DAYS = 30


class FiguresError(DoorstepError):
    pass


@dataclass(frozen=True)
class Scope:
    kind: str  # "center" | "subdistrict" | "district" | "city"
    name: str
    center: Center | None = None
    region: Region | None = None

    @property
    def key(self) -> str:
        if self.center is not None:
            return f"center-{self.center.pk}"
        assert self.region is not None
        return f"region-{self.region.pk}"


def _roles(user: User) -> list[StaffRole]:
    return list(user.staff_roles.all())


def _sees_all(user: User) -> bool:
    return user.is_superuser or any(r.scope == StaffRole.Scope.CITY for r in _roles(user))


def access_center(user: User, center_id: int) -> Scope:
    q = center_scope_q(user)
    center = (
        None
        if q is None
        else Center.objects.filter(q, pk=center_id).select_related("district").first()
    )
    if center is None:
        raise NotFound(_("No such center among those you manage."), code="not_found")
    return Scope(kind="center", name=center.name, center=center)


def access_region(user: User, code: str) -> Scope:
    """A region the account may read: its own district or subdistrict, or any with a city role."""
    region = Region.objects.filter(pk=code).select_related("parent").first()
    allowed = False
    if region is not None and user.is_authenticated and user.is_active:
        if _sees_all(user):
            allowed = True
        else:
            for role in _roles(user):
                if role.scope == StaffRole.Scope.DISTRICT and role.region_id in (
                    region.pk,
                    region.parent_id,
                ):
                    allowed = allowed or region.level != Region.RegionLevel.CITY
                if role.scope == StaffRole.Scope.SUBDISTRICT and role.region_id == region.pk:
                    allowed = True
    if region is None or not allowed:
        raise NotFound(_("No such region among those you manage."), code="not_found")
    return Scope(kind=region.level, name=region.name, region=region)


def readable_regions(user: User) -> list[Region]:
    """The regions whose figures the account may read at the top of its scope."""
    if _sees_all(user):
        return list(Region.objects.filter(level__in=["city", "district"]).order_by("code"))
    codes = [
        r.region_id
        for r in _roles(user)
        if r.scope in (StaffRole.Scope.DISTRICT, StaffRole.Scope.SUBDISTRICT) and r.region_id
    ]
    return list(Region.objects.filter(pk__in=codes).order_by("code"))


def period(
    raw_from: str | date | None, raw_to: str | date | None, *, today: date
) -> tuple[date, date]:
    """The chosen period (inclusive), default the last 30 days up to yesterday."""
    try:
        end = _as_date(raw_to) or today - timedelta(days=1)
        start = _as_date(raw_from) or end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise FiguresError(_("Dates are written as YYYY-MM-DD."), code="bad_date") from None
    if start > end:
        raise FiguresError(_("The period must start before it ends."), code="bad_period")
    if (end - start).days >= MAX_PERIOD_DAYS or start.year < 2000 or end.year > 2100:
        raise FiguresError(_("Choose a period of at most three years."), code="bad_period")
    return start, end


def _as_date(value: str | date | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(value.strip())


@dataclass
class Cohort:
    month: str
    people: int  # first visit in the period fell in this month
    settled: int  # ... and their 30 days are over
    returned: int  # ... of those, came back within 30 days

    @property
    def rate(self) -> float | None:
        return self.returned / self.settled if self.settled else None


@dataclass
class Figures:
    scope: Scope
    start: date
    end: date
    today: date
    totals: dict[str, int]
    by_day: list[tuple[date, int]]
    by_weekday: list[int]
    unique_visitors: int
    cohorts: list[Cohort]
    activities: dict[str, Any]
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def visits(self) -> int:
        return self.totals["visits"]

    @property
    def anonymous_visits(self) -> int:
        return self.totals["visits"] - self.totals["known_visits"]

    @property
    def suspect_visits(self) -> int:
        """Anonymous check-ins in suspicious bursts: left out of every other figure."""
        return self.totals["suspect"]

    @property
    def has_synthetic(self) -> bool:
        return self.totals["synthetic"] > 0

    @property
    def by_group(self) -> list[tuple[str, str, int]]:
        return [(g, str(Group(g).label), self.totals[f"g_{g}"]) for g in GROUPS]

    @property
    def by_hour(self) -> list[int]:
        return [self.totals[h] for h in HOUR_FIELDS]

    @property
    def services(self) -> list[tuple[str, str, int]]:
        rows = [(s, str(Service(s).label), self.totals[f"s_{s}"]) for s in SERVICES]
        return sorted((r for r in rows if r[2]), key=lambda r: -r[2])

    @property
    def dwell_histogram(self) -> list[tuple[str, int]]:
        names = []
        low = 0
        for edge in DWELL_EDGES:
            names.append(f"{low}–{edge}")
            low = edge
        names.append(f"≥{low}")
        return list(zip(names, (self.totals[d] for d in DWELL_FIELDS), strict=True))

    @property
    def dwell_average_minutes(self) -> float | None:
        n = self.totals["dwell_n"]
        return self.totals["dwell_seconds"] / 60 / n if n else None

    @property
    def dwell_median_minutes(self) -> float | None:
        """The median, interpolated linearly inside the histogram bucket that holds it."""
        counts = [self.totals[d] for d in DWELL_FIELDS]
        n = sum(counts)
        if not n:
            return None
        half = n / 2
        low = 0.0
        seen = 0
        for i, c in enumerate(counts):
            high = float(DWELL_EDGES[i]) if i < len(DWELL_EDGES) else None
            if seen + c >= half and c:
                if high is None:
                    return low
                return low + (high - low) * (half - seen) / c
            seen += c
            low = high if high is not None else low
        return low

    @property
    def cohort_people(self) -> int:
        return sum(c.people for c in self.cohorts)

    @property
    def cohort_settled(self) -> int:
        return sum(c.settled for c in self.cohorts)

    @property
    def cohort_returned(self) -> int:
        return sum(c.returned for c in self.cohorts)

    @property
    def return_rate(self) -> float | None:
        s = self.cohort_settled
        return self.cohort_returned / s if s else None

    @property
    def pending(self) -> int:
        return self.cohort_people - self.cohort_settled


def _counts(scope: Scope, start: date, end: date) -> QuerySet[Any, dict[str, Any]]:
    if scope.center is not None:
        qs: QuerySet[Any] = CenterDay.objects.filter(center=scope.center)
    else:
        assert scope.region is not None
        if scope.kind == "district":
            qs = AreaDay.objects.filter(district=scope.region.pk, subdistrict=WHOLE)
        elif scope.kind == "subdistrict":
            qs = AreaDay.objects.filter(subdistrict=scope.region.pk)
        else:
            qs = AreaDay.objects.filter(district=WHOLE, subdistrict=WHOLE)
    return (
        qs.filter(day__gte=start, day__lte=end)
        .values("day")
        .order_by("day")
        .annotate(**{f: Sum(f) for f in COUNTER_FIELDS})
    )


def _presence(scope: Scope) -> tuple[str, list[Any]]:
    if scope.center is not None:
        return "center_id = %s", [scope.center.pk]
    assert scope.region is not None
    if scope.kind == "district":
        return "district = %s", [scope.region.pk]
    if scope.kind == "subdistrict":
        return "subdistrict = %s", [scope.region.pk]
    return "1 = 1", []


def unique_visitors(scope: Scope, start: date, end: date) -> int:
    qs = Presence.objects.filter(day__gte=start, day__lte=end)
    if scope.center is not None:
        qs = qs.filter(center=scope.center)
    elif scope.kind == "district":
        assert scope.region is not None
        qs = qs.filter(district=scope.region.pk)
    elif scope.kind == "subdistrict":
        assert scope.region is not None
        qs = qs.filter(subdistrict=scope.region.pk)
    return qs.values("user_id").distinct().count()


def _people_scope(scope: Scope) -> str:
    if scope.center is not None:
        return scope_key("center", scope.center.pk)
    assert scope.region is not None
    return scope_key(scope.kind, scope.region.pk)


def cohorts(scope: Scope, start: date, end: date, today: date) -> list[Cohort]:
    """Return rate by first-visit month, from PeopleDay: the people whose first day in the
    period in scope is `day` are the rows of that day whose previous day there is before the
    period; `returned` says whether their next day there came within RETURN_DAYS."""
    if (end - start).days >= PEOPLE_HORIZON:
        return cohorts_from_presence(scope, start, end, today)
    rows = (
        PeopleDay.objects.filter(
            scope=_people_scope(scope), day__gte=start, day__lte=end, since__lt=start
        )
        .values("day")
        .order_by()
        .annotate(people=Sum("people"), returned=Sum("returned"))
        .values_list("day", "returned", "people")
    )
    return _by_month(list(rows), today)


def _by_month(rows: list[tuple[Any, Any, Any]], today: date) -> list[Cohort]:
    months: dict[str, Cohort] = {}
    for raw_day, returned, people in rows:
        day = _as_date(raw_day) if not isinstance(raw_day, date) else raw_day
        assert day is not None
        c = months.setdefault(day.strftime("%Y-%m"), Cohort(day.strftime("%Y-%m"), 0, 0, 0))
        c.people += int(people)
        # Settled: the whole window d+1..d+30 lies before today. Someone who already came
        # back is settled early; counting them while the others wait would inflate the rate.
        if day + timedelta(days=RETURN_DAYS) < today:
            c.settled += int(people)
            c.returned += int(returned)
    return [months[k] for k in sorted(months)]


def cohorts_from_presence(scope: Scope, start: date, end: date, today: date) -> list[Cohort]:
    """The same as cohorts(), straight from Presence with window functions (the reference):
    each signed-in person's first day in the period in scope, and whether their next visit
    day in scope came within RETURN_DAYS after it."""
    where, params = _presence(scope)
    if connection.vendor == "postgresql":
        gap = "(next_day - day)"
    else:
        gap = "CAST(julianday(next_day) - julianday(day) AS INTEGER)"
    sql = f"""
        SELECT day, SUM(CASE WHEN next_day IS NOT NULL AND {gap} <= %s THEN 1 ELSE 0 END),
               COUNT(*)
        FROM (
            SELECT day, ROW_NUMBER() OVER w AS rn, LEAD(day) OVER w AS next_day
            FROM (
                SELECT DISTINCT user_id, day FROM figures_presence
                WHERE {where} AND day >= %s AND day <= %s
            ) p
            WINDOW w AS (PARTITION BY user_id ORDER BY day)
        ) t
        WHERE rn = 1 AND day <= %s
        GROUP BY day
    """  # noqa: S608 -- only fixed fragments are interpolated; values are parameters
    with reader().cursor() as cur:
        cur.execute(sql, [RETURN_DAYS, *params, start, end + timedelta(days=RETURN_DAYS), end])
        rows = cur.fetchall()
    return _by_month(rows, today)


def activity_figures(scope: Scope, start: date, end: date, now: datetime) -> dict[str, Any]:
    tz = timezone.get_default_timezone()
    lo = datetime.combine(start, time.min, tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    acts = Activity.objects.filter(
        status=ActivityStatus.PUBLISHED, starts_at__gte=lo, starts_at__lt=hi, ends_at__lt=now
    )
    if scope.center is not None:
        acts = acts.filter(center=scope.center)
    elif scope.kind == "district":
        assert scope.region is not None
        acts = acts.filter(center__district_id=scope.region.pk)
    elif scope.kind == "subdistrict":
        assert scope.region is not None
        acts = acts.filter(center__subdistrict_id=scope.region.pk)
    agg = acts.aggregate(n=Count("id"), capacity=Sum("capacity"))
    held = (RegistrationStatus.CONFIRMED, RegistrationStatus.NO_SHOW)
    regs = Registration.objects.filter(activity__in=acts.values("pk")).aggregate(
        held=Count("id", filter=Q(status__in=held)),
        marked=Count("id", filter=Q(status__in=held, activity__no_shows_marked_at__isnull=False)),
        no_show=Count("id", filter=Q(status=RegistrationStatus.NO_SHOW)),
    )
    capacity = agg["capacity"] or 0
    return {
        "activities": agg["n"],
        "capacity": capacity,
        "held": regs["held"],
        "fill_rate": regs["held"] / capacity if capacity else None,
        "no_show": regs["no_show"],
        "marked": regs["marked"],
        "no_show_rate": regs["no_show"] / regs["marked"] if regs["marked"] else None,
    }


def figures_for(
    scope: Scope,
    start: date,
    end: date,
    *,
    today: date | None = None,
    now: datetime | None = None,
    people: bool = True,
) -> Figures:
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    totals = dict.fromkeys(COUNTER_FIELDS, 0)
    by_day: list[tuple[date, int]] = []
    by_weekday = [0] * 7
    for row in _counts(scope, start, end):
        day = row.pop("day")
        for k, v in row.items():
            totals[k] += v or 0
        by_day.append((day, row["visits"] or 0))
        by_weekday[day.weekday()] += row["visits"] or 0
    found = cohorts(scope, start, end, today) if people else []
    return Figures(
        scope=scope,
        start=start,
        end=end,
        today=today,
        totals=totals,
        by_day=by_day,
        by_weekday=by_weekday,
        # Everyone with a visit in the period has a first one there: the cohorts count each
        # unique visitor exactly once, so one sum over PeopleDay answers both.
        unique_visitors=sum(c.people for c in found),
        cohorts=found,
        activities=activity_figures(scope, start, end, now),
    )
