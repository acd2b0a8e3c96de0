"""Rooms services: booking (one or a series), approval and lapse, check-in and release,
cancellation, blackouts, an activity's hold on its space, and the spaces themselves.

Every write that can make a space's time taken runs in one transaction that first locks the
space's row (`SELECT … FOR UPDATE`; on SQLite the IMMEDIATE transaction is the lock), then
re-reads the space's rules and what is booked, then inserts. The database rule (migration
0002) is the last guard: an overlap that got past the check is an IntegrityError, answered
`slot_taken` like any other (docs/rooms.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Membership, Organization, User
from doorstep.core import audit
from doorstep.core.errors import DoorstepError
from doorstep.inbox.services import Message, notify_each

from .models import (
    HOLDING,
    Approval,
    Blackout,
    Booking,
    BookingKind,
    BookingSeries,
    BookingStatus,
    Equipment,
    Kind,
    Space,
)

MAX_SESSIONS = 52
NO_SHOW_WINDOW = timedelta(days=60)


class RoomError(DoorstepError):
    """A booking or a space change that cannot be made (taken, outside hours, ...)."""


def _now(now: datetime | None) -> datetime:
    return (now or timezone.now()).replace(second=0, microsecond=0)


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def local_moment(day: date, minute: int) -> datetime:
    tz = timezone.get_current_timezone()
    return datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minute)


def _local_minute(moment: datetime) -> tuple[date, int]:
    local = timezone.localtime(moment)
    return local.date(), local.hour * 60 + local.minute


# --------------------------------------------------------------------------------------------
# When a space can be booked
# --------------------------------------------------------------------------------------------


def center_hours(center_id: int, days: Iterable[date]) -> tuple[list[tuple[int, int, int]], dict]:
    from doorstep.centers.models import OpeningException, OpeningHours

    weekly = list(
        OpeningHours.objects.filter(center_id=center_id).values_list(
            "weekday", "open_minute", "close_minute"
        )
    )
    exceptions = {
        e.date: (e.closed, e.open_minute, e.close_minute)
        for e in OpeningException.objects.filter(center_id=center_id, date__in=list(days))
    }
    return weekly, exceptions


def bookable_minutes(
    space: Space, day: date, hours: tuple[list[tuple[int, int, int]], dict] | None = None
) -> list[tuple[int, int]]:
    """The spans of `day` (minutes from midnight) in which `space` can be booked: its own
    window inside the center's opening hours of that date. A center that publishes no hours
    at all leaves the space's own window."""
    from doorstep.centers.hours import day_spans

    weekly, exceptions = hours if hours is not None else center_hours(space.center_id, [day])
    if weekly or exceptions:
        spans = day_spans(weekly, exceptions, day)
    else:
        spans = [(0, 1440)]
    out = []
    for a, b in spans:
        lo, hi = max(a, space.opens_minute), min(b, space.closes_minute)
        if lo < hi:
            out.append((lo, hi))
    return out


# --------------------------------------------------------------------------------------------
# The checks every booking passes
# --------------------------------------------------------------------------------------------


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


def _clash(
    space_id: int, starts: datetime, until: datetime, exclude: int | None = None
) -> Booking | None:
    q = Booking.objects.filter(
        space_id=space_id, status__in=HOLDING, starts_at__lt=until, blocked_until__gt=starts
    )
    if exclude:
        q = q.exclude(pk=exclude)
    return q.first()


def _blackout(space_id: int, starts: datetime, ends: datetime) -> Blackout | None:
    return Blackout.objects.filter(
        space_id=space_id, starts_at__lt=ends, ends_at__gt=starts
    ).first()


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


def _insert(**values: Any) -> Booking:
    try:
        with transaction.atomic():
            return Booking.objects.create(**values)
    except IntegrityError as e:
        if "idempotency" in str(e):
            raise
        raise RoomError(
            _("This time is already taken in this space."), code="slot_taken", status=409
        ) from e


def _locked_space(space_id: int) -> Space:
    space = Space.objects.select_for_update().filter(pk=space_id).first()
    if space is None:
        raise RoomError(_("No such space."), code="not_found", status=404)
    return space


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


# --------------------------------------------------------------------------------------------
# Booking
# --------------------------------------------------------------------------------------------


@dataclass
class BookingResult:
    booking: Booking
    replayed: bool = False


@dataclass
class Skipped:
    day: date
    code: str
    message: str


@dataclass
class SeriesResult:
    series: BookingSeries | None
    bookings: list[Booking]
    skipped: list[Skipped] = field(default_factory=list)
    replayed: bool = False


def _replay(by: User, key: str) -> Booking | None:
    if not key:
        return None
    return Booking.objects.filter(user=by, idempotency_key=key).first()


def _one(
    space: Space,
    booker: Booker,
    starts: datetime,
    ends: datetime,
    *,
    title: str,
    attendees: int,
    public: bool,
    now: datetime,
    key: str = "",
    series: BookingSeries | None = None,
) -> Booking:
    """Check and insert one booking; the caller holds the space's lock."""
    _check_rules(space, starts, ends, booker, now)
    until = _check_slot(space, starts, ends)
    _check_quota(space, booker, starts, ends)
    instant = booker.staff or space.approval == Approval.INSTANT
    decide_by = None
    if not instant:
        decide_by = min(now + timedelta(hours=space.decide_within_hours), starts)
    return _insert(
        space=space,
        starts_at=starts,
        ends_at=ends,
        blocked_until=until,
        status=BookingStatus.CONFIRMED if instant else BookingStatus.PENDING,
        kind=booker.kind,
        user=booker.user,
        organization=booker.organization,
        title=title,
        attendees=attendees,
        public=public,
        series=series,
        decide_by=decide_by,
        idempotency_key=key,
        created_at=now,
        updated_at=now,
    )


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


def book(
    *,
    by: User,
    space_id: int,
    starts_at: datetime,
    ends_at: datetime,
    title: str,
    attendees: int = 1,
    organization_id: int | None = None,
    public: bool = False,
    as_staff: bool = False,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> BookingResult:
    """Book a space for a time. A yes (confirmed, or pending the staff's approval) is
    answered only after its row is committed. A retry with the same Idempotency-Key returns
    the same booking."""
    now = _now(now)
    key = (idempotency_key or "").strip()[:80]
    starts, ends = _minute(starts_at), _minute(ends_at)
    title = _clean_title(title)
    done = _replay(by, key)
    if done is not None:
        return _replayed(done, space_id, starts, ends)
    _taken_already(space_id, starts, ends)
    try:
        with transaction.atomic():
            space = _locked_space(space_id)
            booker = _booker(by, space, organization_id, as_staff)
            _common_checks(space, booker, attendees, now)
            booking = _one(
                space,
                booker,
                starts,
                ends,
                title=title,
                attendees=attendees,
                public=public,
                now=now,
                key=key,
            )
            audit.record(
                actor=by,
                action="booking.create",
                obj=booking,
                center_id=space.center_id,
                changes={"starts_at": starts, "ends_at": ends},
                now=now,
            )
            tell(
                booking, "pending" if booking.status == BookingStatus.PENDING else "confirmed", now
            )
    except IntegrityError:
        done = _replay(by, key)  # the same key, committed by a racing retry
        if done is None:
            raise
        return _replayed(done, space_id, starts, ends)
    return BookingResult(booking)


def _taken_already(space_id: int, starts: datetime, ends: datetime) -> None:
    """Before queueing for the space's lock: a time a committed booking already holds is
    refused at once (a rush for one slot then costs the losers one indexed read, not a turn
    at the lock). A yes is still decided only under the lock."""
    space = Space.objects.filter(pk=space_id).only("id", "buffer_minutes").first()
    if space is not None and ends > starts:
        until = ends + timedelta(minutes=space.buffer_minutes)
        if _clash(space.pk, starts, until) is not None:
            raise RoomError(
                _("This time is already taken in this space."), code="slot_taken", status=409
            )


def _replayed(done: Booking, space_id: int, starts: datetime, ends: datetime) -> BookingResult:
    if done.space_id != space_id or (
        done.series_id is None and (done.starts_at, done.ends_at) != (starts, ends)
    ):
        raise RoomError(
            _("This Idempotency-Key was already used for another booking."),
            code="idempotency_key_reused",
            status=422,
        )
    return BookingResult(done, replayed=True)


def book_series(
    *,
    by: User,
    space_id: int,
    starts_at: datetime,
    ends_at: datetime,
    until: date,
    every_weeks: int = 1,
    on_conflict: str = "skip",
    title: str,
    attendees: int = 1,
    organization_id: int | None = None,
    public: bool = False,
    as_staff: bool = False,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> SeriesResult:
    """Book the same time every week (or every two weeks) until a date. Every date is
    checked as a single booking would be; a date that cannot be booked is listed with its
    reason and skipped (`on_conflict="skip"`), or the whole series is refused and nothing is
    written (`"refuse"`, error `series_conflicts` listing the dates)."""
    now = _now(now)
    key = (idempotency_key or "").strip()[:80]
    starts, ends = _minute(starts_at), _minute(ends_at)
    title = _clean_title(title)
    if every_weeks not in (1, 2):
        raise RoomError(
            _("Repeat every week or every two weeks."), code="invalid", field="every_weeks"
        )
    if on_conflict not in ("skip", "refuse"):
        raise RoomError(
            _("Choose to skip or refuse dates that are taken."), code="invalid", field="on_conflict"
        )
    done = _replay(by, key)
    if done is not None and done.series_id:
        series = done.series
        assert series is not None
        return SeriesResult(series, list(series.bookings.all()), _skipped(series.skipped), True)
    first_day = timezone.localtime(starts).date()
    if until < first_day:
        raise RoomError(_("The last date is before the first."), code="invalid", field="until")
    dates = []
    step = timedelta(weeks=every_weeks)
    d = first_day
    while d <= until:
        dates.append(d)
        d += step
    if len(dates) > MAX_SESSIONS:
        raise RoomError(
            _("A series has at most %(n)s dates.") % {"n": MAX_SESSIONS},
            code="too_many_dates",
            field="until",
        )
    start_minute = _local_minute(starts)[1]
    length = ends - starts
    with transaction.atomic():
        space = _locked_space(space_id)
        booker = _booker(by, space, organization_id, as_staff)
        _common_checks(space, booker, attendees, now)
        series = BookingSeries.objects.create(
            space=space,
            user=by,
            organization=booker.organization,
            every_weeks=every_weeks,
            until=until,
        )
        made: list[Booking] = []
        skipped: list[Skipped] = []
        for day in dates:
            s = local_moment(day, start_minute)
            try:
                with transaction.atomic():
                    made.append(
                        _one(
                            space,
                            booker,
                            s,
                            s + length,
                            title=title,
                            attendees=attendees,
                            public=public,
                            now=now,
                            key=key if not made else "",
                            series=series,
                        )
                    )
            except RoomError as e:
                skipped.append(Skipped(day, e.code, str(e.message)))
        if skipped and on_conflict == "refuse" or not made:
            transaction.set_rollback(True)
            conflicts = [
                {"date": s.day.isoformat(), "code": s.code, "message": s.message} for s in skipped
            ]
            if not made:
                error = RoomError(
                    _("None of these dates can be booked."),
                    code="no_dates",
                    status=409,
                    conflicts=conflicts,
                )
            else:
                error = RoomError(
                    _("%(n)s of the dates cannot be booked, so nothing was booked.")
                    % {"n": len(skipped)},
                    code="series_conflicts",
                    status=409,
                    conflicts=conflicts,
                )
        else:
            error = None
            series.skipped = [
                {"date": s.day.isoformat(), "code": s.code, "message": s.message} for s in skipped
            ]
            series.save(update_fields=["skipped"])
            audit.record(
                actor=by,
                action="booking.series",
                obj=made[0],
                center_id=space.center_id,
                changes={
                    "dates_booked": len(made),
                    "dates_skipped": [k["date"] for k in series.skipped],
                },
                now=now,
            )
            tell(made[0], "series", now, count=len(made), skipped=len(skipped))
    if error is not None:
        raise error
    return SeriesResult(series, made, skipped)


def _skipped(rows: list[dict]) -> list[Skipped]:
    return [Skipped(date.fromisoformat(r["date"]), r["code"], r["message"]) for r in rows]


# --------------------------------------------------------------------------------------------
# Approval, check-in, release, cancellation
# --------------------------------------------------------------------------------------------


def _staff_booking(by: User, booking_id: int) -> Booking:
    from doorstep.accounts.scopes import can_manage

    booking = (
        Booking.objects.select_for_update().select_related("space").filter(pk=booking_id).first()
    )
    if booking is None or not can_manage(by, booking.space.center_id):
        raise RoomError(_("No such booking."), code="not_found", status=404)
    return booking


@transaction.atomic
def decide(
    *, by: User, booking_id: int, approve: bool, reason: str = "", now: datetime | None = None
) -> Booking:
    """Staff approve a pending booking, or refuse it with a reason the booker sees."""
    now = _now(now)
    booking = _staff_booking(by, booking_id)
    if booking.status != BookingStatus.PENDING:
        raise RoomError(
            _("This booking is not waiting for a decision."), code="not_pending", status=409
        )
    reason = " ".join((reason or "").split())[:200]
    if not approve and not reason:
        raise RoomError(
            _("Give a reason: the booker will see it."), code="reason_required", field="reason"
        )
    booking.status = BookingStatus.CONFIRMED if approve else BookingStatus.REFUSED
    booking.reason = "" if approve else reason
    booking.decided_by = by
    booking.decide_by = None
    booking.updated_at = now
    booking.save()
    audit.record(
        actor=by,
        action="booking.approve" if approve else "booking.refuse",
        obj=booking,
        center_id=booking.space.center_id,
        changes={"given_reason": reason} if reason else None,
        now=now,
    )
    tell(booking, "approved" if approve else "refused", now)
    return booking


def lapse_due(now: datetime | None = None) -> int:
    """Pending requests nobody decided by their deadline lapse (the worker, every minute)."""
    now = _now(now)
    n = 0
    for pk in Booking.objects.filter(status=BookingStatus.PENDING, decide_by__lte=now).values_list(
        "pk", flat=True
    )[:500]:
        with transaction.atomic():
            booking = (
                Booking.objects.select_for_update()
                .select_related("space")
                .filter(pk=pk, status=BookingStatus.PENDING, decide_by__lte=now)
                .first()
            )
            if booking is None:
                continue
            booking.status = BookingStatus.LAPSED
            booking.updated_at = now
            booking.save(update_fields=["status", "updated_at"])
            audit.record(
                actor=None,
                action="booking.lapse",
                obj=booking,
                center_id=booking.space.center_id,
                now=now,
            )
            tell(booking, "lapsed", now)
            n += 1
    return n


def checkin_window(booking: Booking) -> tuple[datetime, datetime]:
    space = booking.space
    return (
        booking.starts_at - timedelta(minutes=space.checkin_opens_minutes),
        min(booking.starts_at + timedelta(minutes=space.release_after_minutes), booking.ends_at),
    )


def _check_in(booking: Booking, by: User, now: datetime) -> Booking:
    if booking.status == BookingStatus.CHECKED_IN:
        return booking
    if booking.status == BookingStatus.PENDING:
        raise RoomError(
            _("This booking has not been approved yet."), code="not_approved", status=409
        )
    if booking.status != BookingStatus.CONFIRMED:
        raise RoomError(_("This booking is no longer valid."), code="not_active", status=409)
    opens, closes = checkin_window(booking)
    if now < opens:
        raise RoomError(
            _("Check-in opens at %(t)s.") % {"t": timezone.localtime(opens).strftime("%H:%M")},
            code="too_early",
            status=409,
        )
    if now >= closes:
        raise RoomError(_("The check-in time has passed."), code="too_late", status=409)
    booking.status = BookingStatus.CHECKED_IN
    booking.checked_in_at = now
    booking.checked_in_by = by
    booking.updated_at = now
    booking.save()
    audit.record(
        actor=by, action="booking.check_in", obj=booking, center_id=booking.space.center_id, now=now
    )
    return booking


@transaction.atomic
def staff_check_in(*, by: User, booking_id: int, now: datetime | None = None) -> Booking:
    now = _now(now)
    return _check_in(_staff_booking(by, booking_id), by, now)


def _mine(user: User) -> Q:
    orgs = Membership.objects.filter(user=user).values("organization_id")
    return Q(user=user) | Q(organization_id__in=orgs)


@transaction.atomic
def check_in(*, by: User, booking_id: int, now: datetime | None = None) -> Booking:
    """The booker (or a member of the booking organization) checks in within the window."""
    now = _now(now)
    booking = (
        Booking.objects.select_for_update()
        .select_related("space")
        .filter(_mine(by), pk=booking_id)
        .first()
    )
    if booking is None:
        raise RoomError(_("No such booking."), code="not_found", status=404)
    return _check_in(booking, by, now)


@transaction.atomic
def check_in_at_door(*, by: User, door_code: str, now: datetime | None = None) -> Booking:
    """Scanning the space's door poster: the caller's booking of that space whose check-in
    window is open now."""
    now = _now(now)
    space = Space.objects.filter(door_code=door_code).first()
    if space is None:
        raise RoomError(_("This code is not a space's door code."), code="bad_code", status=404)
    soon = now + timedelta(minutes=space.checkin_opens_minutes)
    booking = (
        Booking.objects.select_for_update()
        .select_related("space")
        .filter(_mine(by), space=space, status__in=HOLDING, starts_at__lte=soon, ends_at__gt=now)
        .order_by("starts_at")
        .first()
    )
    if booking is None:
        raise RoomError(
            _("You have no booking of this space starting now."), code="no_booking_now", status=404
        )
    return _check_in(booking, by, now)


def release_no_shows(now: datetime | None = None) -> int:
    """Confirmed bookings nobody checked into by the end of their window are released (the
    worker, every minute): the time is bookable at once and the booker has a no-show."""
    now = _now(now)
    n = 0
    due = Booking.objects.filter(
        status=BookingStatus.CONFIRMED,
        starts_at__lte=now,
        kind__in=(BookingKind.RESIDENT, BookingKind.ORGANIZATION),
    ).select_related("space")
    for booking in list(due[:1000]):
        if checkin_window(booking)[1] > now:
            continue
        with transaction.atomic():
            changed = Booking.objects.filter(pk=booking.pk, status=BookingStatus.CONFIRMED).update(
                status=BookingStatus.NO_SHOW, updated_at=now
            )
            if not changed:
                continue
            booking.status = BookingStatus.NO_SHOW
            audit.record(
                actor=None,
                action="booking.no_show",
                obj=booking,
                center_id=booking.space.center_id,
                now=now,
            )
            tell(booking, "released", now)
            n += 1
    return n


REMIND_BEFORE = timedelta(hours=2)


def remind_due(now: datetime | None = None) -> int:
    """A reminder two hours before each confirmed booking, with the check-in rule (the
    worker, every minute; once per booking)."""
    now = _now(now)
    due = list(
        Booking.objects.filter(
            status=BookingStatus.CONFIRMED,
            kind__in=(BookingKind.RESIDENT, BookingKind.ORGANIZATION),
            reminded_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + REMIND_BEFORE,
        ).select_related("space")[:1000]
    )
    n = 0
    for booking in due:
        with transaction.atomic():
            if not Booking.objects.filter(pk=booking.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            tell(booking, "reminder", now, minutes=booking.space.release_after_minutes)
            n += 1
    return n


def _cancel(booking: Booking, by: User, reason: str, now: datetime, event: str) -> None:
    booking.status = BookingStatus.CANCELLED
    booking.reason = reason
    booking.cancelled_at = now
    booking.updated_at = now
    booking.ics_sequence += 1
    booking.save()
    audit.record(
        actor=by,
        action="booking.cancel",
        obj=booking,
        center_id=booking.space.center_id,
        changes={"given_reason": reason} if reason else None,
        now=now,
    )
    if event:
        tell(booking, event, now)


@transaction.atomic
def cancel(
    *,
    by: User,
    booking_id: int,
    reason: str = "",
    whole_series: bool = False,
    as_staff: bool = False,
    now: datetime | None = None,
) -> list[Booking]:
    """The booker cancels until the space's deadline; staff at any time, with a reason the
    booker is told. `whole_series` cancels this and the series' later dates."""
    now = _now(now)
    reason = " ".join((reason or "").split())[:200]
    if as_staff:
        booking = _staff_booking(by, booking_id)
        if not reason:
            raise RoomError(
                _("Give a reason: the booker will see it."), code="reason_required", field="reason"
            )
    else:
        mine = (
            Booking.objects.select_for_update()
            .select_related("space")
            .filter(_mine(by), pk=booking_id)
            .first()
        )
        if mine is None:
            raise RoomError(_("No such booking."), code="not_found", status=404)
        booking = mine
    targets = [booking]
    if whole_series and booking.series_id:
        targets = list(
            Booking.objects.select_for_update()
            .select_related("space")
            .filter(
                series_id=booking.series_id, starts_at__gte=booking.starts_at, status__in=HOLDING
            )
        )
    out = []
    for b in targets:
        if b.status not in HOLDING:
            raise RoomError(_("This booking is no longer active."), code="not_active", status=409)
        if b.kind == BookingKind.ACTIVITY:
            raise RoomError(_("Cancel the activity instead."), code="is_activity", status=409)
        if not as_staff:
            deadline = b.starts_at - timedelta(hours=b.space.cancel_until_hours)
            if now > deadline:
                raise RoomError(
                    _(
                        "Bookings of this space can be cancelled online until %(n)s hours "
                        "before; please call the center."
                    )
                    % {"n": b.space.cancel_until_hours},
                    code="too_late_to_cancel",
                    status=409,
                )
        _cancel(b, by, reason, now, "cancelled_by_staff" if as_staff else "cancelled")
        out.append(b)
    return out


# --------------------------------------------------------------------------------------------
# Blackouts
# --------------------------------------------------------------------------------------------


@dataclass
class BlackoutResult:
    blackout: Blackout
    cancelled: list[Booking]
    kept: list[Booking]


@transaction.atomic
def add_blackout(
    *,
    by: User,
    space_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    keep_bookings: bool = False,
    now: datetime | None = None,
) -> BlackoutResult:
    """Close a space for a time. Bookings inside it are cancelled with a notice giving the
    reason, or kept if the staff choose; an activity's hold is always kept (and listed)."""
    from doorstep.accounts.scopes import can_manage

    now = _now(now)
    space = _locked_space(space_id)
    if not can_manage(by, space.center_id):
        raise RoomError(_("No such space."), code="not_found", status=404)
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise RoomError(
            _("Give a reason: bookers will see it."), code="reason_required", field="reason"
        )
    starts, ends = _minute(starts_at), _minute(ends_at)
    if ends <= starts:
        raise RoomError(_("The end must be after the start."), code="invalid", field="ends_at")
    blackout = Blackout.objects.create(
        space=space, starts_at=starts, ends_at=ends, reason=reason, created_by=by, created_at=now
    )
    inside = list(
        Booking.objects.select_for_update()
        .select_related("space")
        .filter(space=space, status__in=HOLDING, starts_at__lt=ends, ends_at__gt=starts)
    )
    cancelled, kept = [], []
    for b in inside:
        if keep_bookings or b.kind == BookingKind.ACTIVITY:
            kept.append(b)
        else:
            _cancel(b, by, reason, now, "cancelled_by_staff")
            cancelled.append(b)
    audit.record(
        actor=by,
        action="space.blackout",
        obj=space,
        center_id=space.center_id,
        changes={
            "starts_at": starts,
            "ends_at": ends,
            "given_reason": reason,
            "bookings_cancelled": len(cancelled),
            "bookings_kept": len(kept),
        },
        now=now,
    )
    return BlackoutResult(blackout, cancelled, kept)


@transaction.atomic
def remove_blackout(*, by: User, blackout_id: int) -> None:
    from doorstep.accounts.scopes import can_manage

    blackout = Blackout.objects.select_related("space").filter(pk=blackout_id).first()
    if blackout is None or not can_manage(by, blackout.space.center_id):
        raise RoomError(_("No such blackout."), code="not_found", status=404)
    audit.record(
        actor=by,
        action="space.blackout_remove",
        obj=blackout.space,
        center_id=blackout.space.center_id,
        changes={"given_reason": blackout.reason},
    )
    blackout.delete()


# --------------------------------------------------------------------------------------------
# An activity's hold on its space (called by activities' services, in their transaction)
# --------------------------------------------------------------------------------------------


def hold_for_activity(
    *,
    space_id: int,
    center_id: int,
    starts_at: datetime,
    ends_at: datetime,
    title: str,
    booking_id: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Create or move the booking that holds `space` for an activity: the same rule as every
    booking (no overlap, buffers, blackouts), without the booking rules for residents."""
    now = _now(now)
    space = _locked_space(space_id)
    if space.center_id != center_id:
        raise RoomError(
            _("This space belongs to another center."), code="other_center", field="space_id"
        )
    starts, ends = _minute(starts_at), _minute(ends_at)
    hold = Booking.objects.select_for_update().filter(pk=booking_id).first() if booking_id else None
    if (
        hold is not None
        and hold.space_id == space.pk
        and hold.status in HOLDING
        and (hold.starts_at, hold.ends_at, hold.title) == (starts, ends, title[:120])
    ):
        return hold
    exclude = hold.pk if hold is not None and hold.space_id == space.pk else None
    until = ends + timedelta(minutes=space.buffer_minutes)
    if _clash(space.pk, starts, until, exclude) is not None:
        raise RoomError(
            _("This time is already taken in this space."),
            code="slot_taken",
            status=409,
            field="space_id",
        )
    blackout = _blackout(space.pk, starts, ends)
    if blackout is not None:
        raise RoomError(
            _("The space is closed then: %(reason)s") % {"reason": blackout.reason},
            code="blackout",
            status=409,
            field="space_id",
        )
    if hold is not None and hold.space_id == space.pk:
        hold.starts_at, hold.ends_at, hold.blocked_until = starts, ends, until
        hold.title, hold.status, hold.updated_at = title[:120], BookingStatus.CONFIRMED, now
        hold.ics_sequence += 1
        try:
            with transaction.atomic():
                hold.save()
        except IntegrityError as e:
            raise RoomError(
                _("This time is already taken in this space."),
                code="slot_taken",
                status=409,
                field="space_id",
            ) from e
        return hold
    if hold is not None:
        release_hold(hold.pk, now=now)
    return _insert(
        space=space,
        starts_at=starts,
        ends_at=ends,
        blocked_until=until,
        status=BookingStatus.CONFIRMED,
        kind=BookingKind.ACTIVITY,
        title=title[:120],
        attendees=1,
        public=True,
        created_at=now,
        updated_at=now,
    )


def release_hold(booking_id: int | None, *, now: datetime | None = None) -> None:
    """An activity cancelled or moved out of its space gives the time back."""
    if booking_id:
        Booking.objects.filter(pk=booking_id, status__in=HOLDING).update(
            status=BookingStatus.CANCELLED, cancelled_at=_now(now), updated_at=_now(now)
        )


# --------------------------------------------------------------------------------------------
# Spaces (staff)
# --------------------------------------------------------------------------------------------

SPACE_FIELDS = (
    "name",
    "name_en",
    "kind",
    "capacity",
    "floor",
    "equipment",
    "step_free",
    "hearing_loop",
    "description",
    "opens_minute",
    "closes_minute",
    "slot_minutes",
    "min_minutes",
    "max_minutes",
    "horizon_days",
    "buffer_minutes",
    "for_residents",
    "for_groups",
    "for_companies",
    "approval",
    "decide_within_hours",
    "checkin_opens_minutes",
    "release_after_minutes",
    "cancel_until_hours",
    "person_hours_week",
    "person_hours_month",
    "org_hours_week",
    "org_hours_month",
    "no_show_limit",
    "active",
)


def space_problems(values: dict[str, Any]) -> list[tuple[str, str]]:
    p: list[tuple[str, str]] = []
    if not str(values.get("name", "")).strip():
        p.append(("name", _("Give the space a name.")))
    if values.get("kind") not in Kind.values:
        p.append(("kind", _("Choose what kind of space it is.")))
    if not 1 <= int(values.get("capacity") or 0) <= 5000:
        p.append(("capacity", _("Capacity must be between 1 and 5000.")))
    if any(e not in Equipment.values for e in values.get("equipment") or []):
        p.append(("equipment", _("Choose equipment from the list.")))
    o, c = int(values.get("opens_minute", 0)), int(values.get("closes_minute", 0))
    if not 0 <= o < c <= 1440:
        p.append(("closes_minute", _("The space must close after it opens, by midnight.")))
    lo, hi = int(values.get("min_minutes") or 0), int(values.get("max_minutes") or 0)
    if not 1 <= lo <= hi <= 1440:
        p.append(("max_minutes", _("The longest booking must be at least the shortest.")))
    if int(values.get("slot_minutes") or 0) not in (5, 10, 15, 20, 30, 60):
        p.append(("slot_minutes", _("Bookings start on steps of 5, 10, 15, 20, 30 or 60 minutes.")))
    if not 1 <= int(values.get("horizon_days") or 0) <= 365:
        p.append(("horizon_days", _("Allow booking 1 to 365 days ahead.")))
    if values.get("approval") not in Approval.values:
        p.append(("approval", _("Choose how bookings are approved.")))
    return p


@transaction.atomic
def save_space(
    *, by: User, center_id: int, values: dict[str, Any], space_id: int | None = None
) -> Space:
    from doorstep.accounts.scopes import can_manage

    if not can_manage(by, center_id):
        raise RoomError(_("No such center."), code="not_found", status=404)
    problems = space_problems(values)
    if problems:
        name, message = problems[0]
        raise RoomError(message, code="invalid", field=name)
    before: dict[str, Any] = {}
    found = (
        Space(center_id=center_id, source="manual")
        if space_id is None
        else Space.objects.select_for_update().filter(pk=space_id, center_id=center_id).first()
    )
    if found is None:
        raise RoomError(_("No such space."), code="not_found", status=404)
    space = found
    if space_id is not None:
        before = audit.snapshot(space, SPACE_FIELDS)
    for name in SPACE_FIELDS:
        if name in values:
            setattr(space, name, values[name])
    space.name = " ".join(space.name.split())[:60]
    space.save()
    audit.record(
        actor=by,
        action="space.create" if space_id is None else "space.update",
        obj=space,
        center_id=center_id,
        changes=audit.diff(before, audit.snapshot(space, SPACE_FIELDS)),
    )
    return space


@transaction.atomic
def set_space_photo(*, by: User, space_id: int, upload: object) -> Space:
    from django.core.files.base import ContentFile

    from doorstep.accounts.scopes import can_manage
    from doorstep.core.photos import clean_photo

    space = Space.objects.select_for_update().filter(pk=space_id).first()
    if space is None or not can_manage(by, space.center_id):
        raise RoomError(_("No such space."), code="not_found", status=404)
    photo = clean_photo(upload, error=RoomError)
    if space.photo:
        space.photo.delete(save=False)
    space.photo.save(f"space-{space.pk}.{photo.extension}", ContentFile(photo.data), save=False)
    space.photo_type = photo.content_type
    space.save(update_fields=["photo", "photo_type"])
    audit.record(actor=by, action="space.photo", obj=space, center_id=space.center_id)
    return space


# --------------------------------------------------------------------------------------------
# What the booker is told (inbox, in their language)
# --------------------------------------------------------------------------------------------


def tell(booking: Booking, event: str, now: datetime, **extra: Any) -> None:
    if booking.user_id is None or booking.kind == BookingKind.ACTIVITY:
        return
    local_s, local_e = timezone.localtime(booking.starts_at), timezone.localtime(booking.ends_at)
    params = {
        "space": booking.space.name,
        "space_en": booking.space.name_en or booking.space.name,
        "when": f"{local_s:%Y-%m-%d %H:%M}–{local_e:%H:%M}",
        "reason": booking.reason,
        **extra,
    }
    notify_each(
        [
            (
                booking.user_id,
                params,
                f"booking:{booking.pk}:{event}:{booking.updated_at.timestamp():.0f}",
            )
        ],
        subject=f"booking:{booking.pk}",
        kind=f"booking_{event}",
        event=f"booking:{booking.pk}:{event}",
        render=_RENDER[event],
        center_id=booking.space.center_id,
        now=now,
    )


def _name(p: Mapping[str, Any]) -> str:
    from django.utils.translation import get_language

    return p["space_en"] if (get_language() or "").startswith("en") else p["space"]


def _confirmed(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booked: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]},
        body=_("Check in at the door with the booking's QR code."),
    )


def _pending(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking request sent: %(space)s, %(when)s")
        % {"space": _name(p), "when": p["when"]},
        body=_("The center's staff will approve or refuse it; you will be told."),
    )


def _series(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Series booked: %(space)s, %(n)s dates from %(when)s")
        % {"space": _name(p), "n": p["count"], "when": p["when"]},
        body=_("%(skipped)s dates were skipped because they could not be booked.")
        % {"skipped": p["skipped"]}
        if p["skipped"]
        else "",
    )


def _approved(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking approved: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]}
    )


def _refused(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking refused: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]},
        body=_("Reason: %(reason)s") % {"reason": p["reason"]},
    )


def _lapsed(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking request lapsed: %(space)s, %(when)s")
        % {"space": _name(p), "when": p["when"]},
        body=_("The center did not decide in time; the time is free again. Please ask the center."),
    )


def _released(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking released: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]},
        body=_("Nobody checked in, so the space was given back. This counts as a no-show."),
    )


def _cancelled_by_staff(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("The center cancelled your booking: %(space)s, %(when)s")
        % {"space": _name(p), "when": p["when"]},
        body=_("Reason: %(reason)s") % {"reason": p["reason"]},
    )


def _reminder(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Reminder: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]},
        body=_(
            "Scan the QR poster at the door to check in, within %(m)s minutes of the start, "
            "or the space is released."
        )
        % {"m": p["minutes"]},
    )


def _cancelled(p: Mapping[str, Any]) -> Message:
    return Message(
        title=_("Booking cancelled: %(space)s, %(when)s") % {"space": _name(p), "when": p["when"]}
    )


_RENDER = {
    "reminder": _reminder,
    "cancelled": _cancelled,
    "confirmed": _confirmed,
    "pending": _pending,
    "series": _series,
    "approved": _approved,
    "refused": _refused,
    "lapsed": _lapsed,
    "released": _released,
    "cancelled_by_staff": _cancelled_by_staff,
}
