"""The checks a booking passes before it is written: who, when, how long, quotas, no-shows,
the slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Organization, User

from ..models import (
    HOLDING,
    Booking,
    BookingKind,
    BookingStatus,
    Space,
)
from .common import RoomError, _blackout, _clash, _local_minute, bookable_minutes, local_moment

NO_SHOW_WINDOW = timedelta(days=60)


@dataclass
class Booker:
    user: User
    organization: Organization | None = None
    staff: bool = False

    @property
    def kind(self) -> str:
        if self.staff:
            return BookingKind.STAFF
        return BookingKind.ORGANIZATION if self.organization else BookingKind.RESIDENT


def _may_book(space: Space, booker: Booker) -> None:
    if booker.staff:
        return
    org = booker.organization
    if org is None:
        allowed = space.for_residents
    elif org.kind == Organization.Kind.COMPANY:
        allowed = space.for_companies
    else:
        allowed = space.for_groups
    if not allowed:
        raise RoomError(
            _("This space cannot be booked by you: ask the center."), code="not_allowed", status=403
        )


def _check_rules(
    space: Space, starts: datetime, ends: datetime, booker: Booker, now: datetime
) -> None:
    if ends <= starts:
        raise RoomError(_("The end must be after the start."), code="invalid", field="ends_at")
    if starts < now:
        raise RoomError(_("This time has already passed."), code="in_past")
    length = int((ends - starts).total_seconds() // 60)
    day, start_minute = _local_minute(starts)
    end_day, end_minute = _local_minute(ends)
    if end_day != day:
        if end_day == day + timedelta(days=1) and end_minute == 0:
            end_minute = 1440
        else:
            raise RoomError(_("A booking ends on the day it starts."), code="outside_hours")
    if not booker.staff:
        if length < space.min_minutes:
            raise RoomError(
                _("Book at least %(n)s minutes.") % {"n": space.min_minutes}, code="too_short"
            )
        if length > space.max_minutes:
            raise RoomError(
                _("Book at most %(n)s minutes at a time.") % {"n": space.max_minutes},
                code="too_long",
            )
        if starts > now + timedelta(days=space.horizon_days):
            raise RoomError(
                _("This space can be booked up to %(n)s days ahead.") % {"n": space.horizon_days},
                code="beyond_horizon",
            )
        if start_minute % space.slot_minutes or length % space.slot_minutes:
            raise RoomError(
                _("Bookings start and end on whole %(n)s-minute steps.")
                % {"n": space.slot_minutes},
                code="off_slot",
            )
    spans = bookable_minutes(space, day)
    if not any(a <= start_minute and end_minute <= b for a, b in spans):
        raise RoomError(_("The space is not open for booking at that time."), code="outside_hours")


def _period(starts: datetime, weeks: bool) -> tuple[datetime, datetime]:
    day = timezone.localtime(starts).date()
    if weeks:
        first = day - timedelta(days=day.weekday())
        return local_moment(first, 0), local_moment(first + timedelta(days=7), 0)
    first = day.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    return local_moment(first, 0), local_moment(after, 0)


def _booked_minutes(space: Space, who: Q, lo: datetime, hi: datetime) -> int:
    rows = Booking.objects.filter(
        who, space=space, status__in=(*HOLDING,), starts_at__gte=lo, starts_at__lt=hi
    ).values_list("starts_at", "ends_at")
    return sum(int((e - s).total_seconds() // 60) for s, e in rows)


def _check_quota(space: Space, booker: Booker, starts: datetime, ends: datetime) -> None:
    if booker.staff:
        return
    length = int((ends - starts).total_seconds() // 60)
    if booker.organization is not None:
        who = Q(organization=booker.organization)
        limits = ((space.org_hours_week, True), (space.org_hours_month, False))
    else:
        who = Q(user=booker.user, organization__isnull=True)
        limits = ((space.person_hours_week, True), (space.person_hours_month, False))
    for hours, weeks in limits:
        if hours is None:
            continue
        lo, hi = _period(starts, weeks)
        used = _booked_minutes(space, who, lo, hi)
        if used + length > hours * 60:
            per = _("week") if weeks else _("month")
            raise RoomError(
                _(
                    "This would pass the limit of %(h)s hours a %(per)s in this space "
                    "(%(used)s booked)."
                )
                % {"h": hours, "per": per, "used": f"{used / 60:g}"},
                code="quota_exceeded",
            )


def _check_no_shows(space: Space, booker: Booker, now: datetime) -> None:
    if booker.staff or not space.no_show_limit:
        return
    who = (
        Q(organization=booker.organization)
        if booker.organization
        else Q(user=booker.user, organization__isnull=True)
    )
    n = Booking.objects.filter(
        who,
        space__center_id=space.center_id,
        status=BookingStatus.NO_SHOW,
        starts_at__gte=now - NO_SHOW_WINDOW,
    ).count()
    if n >= space.no_show_limit:
        raise RoomError(
            _(
                "Booking at this center is paused: %(n)s bookings in the last 60 days were not "
                "used. Ask the center's staff."
            )
            % {"n": n},
            code="too_many_no_shows",
            status=403,
        )


def _check_slot(
    space: Space, starts: datetime, ends: datetime, exclude: int | None = None
) -> datetime:
    until = ends + timedelta(minutes=space.buffer_minutes)
    if _clash(space.pk, starts, until, exclude) is not None:
        raise RoomError(
            _("This time is already taken in this space."), code="slot_taken", status=409
        )
    blackout = _blackout(space.pk, starts, ends)
    if blackout is not None:
        raise RoomError(
            _("The space is closed then: %(reason)s") % {"reason": blackout.reason},
            code="blackout",
            status=409,
        )
    return until


def _booker(by: User, space: Space | None, organization_id: int | None, as_staff: bool) -> Booker:
    from doorstep.accounts.organizations import acting_for
    from doorstep.accounts.scopes import can_manage

    if as_staff:
        if space is None or not can_manage(by, space.center_id):
            raise RoomError(_("No such space."), code="not_found", status=404)
        return Booker(user=by, staff=True)
    org = acting_for(by, organization_id) if organization_id else None
    return Booker(user=by, organization=org)


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())[:120]
    if not title:
        raise RoomError(_("Say what the booking is for."), code="invalid", field="title")
    return title


def _common_checks(space: Space, booker: Booker, attendees: int, now: datetime) -> None:
    if not space.active:
        raise RoomError(_("This space is not open for booking."), code="closed", status=409)
    _may_book(space, booker)
    if attendees < 1 or attendees > space.capacity:
        raise RoomError(
            _("This space holds %(n)s people.") % {"n": space.capacity},
            code="too_many_people",
            field="attendees",
        )
    _check_no_shows(space, booker, now)
