"""Permissioned reads for volunteers: open opportunities with their next shifts, a
volunteer's shifts and the swaps they may take, a center's rosters and the hours waiting
for approval in a staff member's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from doorstep.accounts.models import User
from doorstep.accounts.scopes import center_scope_q

from .models import Approval, Clearance, Opportunity, Shift, Signup, SignupStatus, Swap

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


def roster(shift: Shift) -> list[Signup]:
    return list(shift.signups.select_related("user").order_by("status", "created_at"))


def pending_hours(user: User) -> list[Signup]:
    q = center_scope_q(user)
    if q is None:
        return []
    return list(
        Signup.objects.filter(approval=Approval.PENDING, shift__opportunity__center__in=_centers(q))
        .select_related("user", "shift__opportunity__center")
        .order_by("shift__starts_at", "pk")[:300]
    )
