"""Permissioned reads for volunteers: open opportunities with their next shifts, a
volunteer's shifts and the swaps they may take, a center's rosters and the hours waiting
for approval in a staff member's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from doorstep.accounts.models import User
from doorstep.accounts.scopes import center_scope_q

from .models import (
    Approval,
    Clearance,
    Opportunity,
    Shift,
    Signup,
    SignupStatus,
    Swap,
    WalkingLesson,
)

HORIZON = timedelta(days=60)


@dataclass
class Row:
    opportunity: Opportunity
    next_shifts: list[Shift]


def _with_counts(shifts: QuerySet[Shift]) -> QuerySet[Shift]:
    return shifts.annotate(
        taken=Count("signups", filter=Q(signups__status=SignupStatus.CONFIRMED)),
        waiting=Count("signups", filter=Q(signups__status=SignupStatus.WAITLISTED)),
    )


def open_opportunities(*, role: str = "", district: str = "") -> list[Row]:
    now = timezone.now()
    shifts = _with_counts(
        Shift.objects.filter(cancelled=False, starts_at__gt=now, starts_at__lt=now + HORIZON)
    ).select_related("opportunity__center")
    if role:
        shifts = shifts.filter(opportunity__role=role)
    if district:
        shifts = shifts.filter(opportunity__center__district_id=district)
    rows: dict[int, Row] = {}
    for s in shifts.order_by("starts_at")[:500]:
        row = rows.setdefault(s.opportunity_id, Row(s.opportunity, []))
        if len(row.next_shifts) < 3:
            row.next_shifts.append(s)
    return list(rows.values())


def shifts_of(opp: Opportunity) -> list[Shift]:
    now = timezone.now()
    return list(
        _with_counts(opp.shifts.filter(cancelled=False, starts_at__gt=now)).order_by("starts_at")[
            :60
        ]
    )


def my_shifts(user: User) -> list[Signup]:
    since = timezone.now() - timedelta(days=7)
    return list(
        Signup.objects.filter(
            user=user,
            status__in=(SignupStatus.CONFIRMED, SignupStatus.WAITLISTED),
            shift__ends_at__gt=since,
        )
        .select_related("shift__opportunity__center")
        .prefetch_related("swaps")
        .order_by("shift__starts_at")
    )


def swaps_for(user: User) -> list[Swap]:
    """Places other volunteers offer on shifts this person is cleared for."""
    cleared = list(Clearance.objects.filter(user=user).values_list("center_id", "role"))
    q = Q(signup__shift__opportunity__needs_clearance=False)
    for center_id, role in cleared:
        q |= Q(
            signup__shift__opportunity__center_id=center_id, signup__shift__opportunity__role=role
        )
    return list(
        Swap.objects.filter(q, open=True, signup__shift__starts_at__gt=timezone.now())
        .exclude(signup__user=user)
        .select_related("signup__shift__opportunity__center")[:20]
    )


def managed_opportunities(user: User) -> QuerySet[Opportunity]:
    q = center_scope_q(user)
    if q is None:
        return Opportunity.objects.none()
    return Opportunity.objects.filter(center__in=_centers(q)).select_related("center")


def _centers(q: Q) -> QuerySet:
    from doorstep.centers.models import Center

    return Center.objects.filter(q).values("pk")


def pending_hours(user: User) -> list[Signup]:
    q = center_scope_q(user)
    if q is None:
        return []
    return list(
        Signup.objects.filter(approval=Approval.PENDING, shift__opportunity__center__in=_centers(q))
        .select_related("user", "shift__opportunity__center")
        .order_by("shift__starts_at", "pk")[:300]
    )


# ---- red heritage: sites, centers, lessons ------------------------------------------------


@dataclass
class Place:
    kind: str  # "site" or "center"
    id: int
    name: str
    name_lang: str
    lat: float
    lng: float
    precise: bool
    url: str
    open_now: bool | None  # None: hours not known
    explainer_today: bool
    synthetic: bool


def explainers_today(now: datetime) -> tuple[set[int], set[int]]:
    """(center ids, site ids) with a confirmed explainer on a shift today."""
    day = timezone.localdate(now)
    rows = Signup.objects.filter(
        status=SignupStatus.CONFIRMED,
        shift__opportunity__role="explainer",
        shift__starts_at__date=day,
        shift__cancelled=False,
    ).values_list("shift__opportunity__center_id", "shift__opportunity__site_id")
    centers, sites = set(), set()
    for center_id, site_id in rows:
        if site_id:
            sites.add(site_id)
        else:
            centers.add(center_id)
    return centers, sites


def heritage_map(
    *, district: str = "", open_now: bool = False, explainer_today: bool = False, now: datetime
) -> list[Place]:
    """Heritage sites and the red-heritage theme's centers, with the map's filters."""
    from doorstep.centers.hours import is_open, parse_weekly
    from doorstep.centers.selectors import CenterFilters, search_centers
    from doorstep.heritage.models import HeritageSite

    with_explainer_c, with_explainer_s = explainers_today(now)
    places: list[Place] = []
    sites = HeritageSite.objects.select_related("district")
    if district:
        sites = sites.filter(district_id=district)
    for s in sites[:500]:
        weekly = [(i.weekday, i.open_minute, i.close_minute) for i in parse_weekly(s.hours)]
        places.append(
            Place(
                "site",
                s.pk,
                s.local_name,
                s.name_lang,
                s.lat,
                s.lng,
                s.precise,
                f"/heritage/sites/{s.pk}/",
                is_open(weekly, {}, now) if weekly else None,
                s.pk in with_explainer_s,
                s.is_synthetic,
            )
        )
    page = search_centers(
        CenterFilters(themes=["red_heritage"], district=district, limit=100, at=now)
    )
    for hit in page.hits:
        c = hit.center
        places.append(
            Place(
                "center",
                c.pk,
                c.local_name,
                "en" if c.local_name == c.name_en and c.name_en else "zh-Hans",
                c.lat,
                c.lng,
                hit.precise,
                f"/centers/{c.pk}/",
                hit.open_now,
                c.pk in with_explainer_c,
                c.is_synthetic,
            )
        )
    if open_now:
        places = [p for p in places if p.open_now]
    if explainer_today:
        places = [p for p in places if p.explainer_today]
    return places


def upcoming_lessons(now: datetime, limit: int = 10) -> list[WalkingLesson]:
    return list(
        WalkingLesson.objects.filter(activity__starts_at__gt=now, activity__status="published")
        .select_related("activity__center", "route", "guide")
        .order_by("activity__starts_at")[:limit]
    )
