"""Booking a space once or as a series; a yes only after the row is committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.core import audit

from ..models import (
    Approval,
    Booking,
    BookingSeries,
    BookingStatus,
    Space,
)
from .common import (
    RoomError,
    _clash,
    _insert,
    _local_minute,
    _locked_space,
    _minute,
    _now,
    local_moment,
)
from .notices import tell
from .rules import (
    Booker,
    _booker,
    _check_quota,
    _check_rules,
    _check_slot,
    _clean_title,
    _common_checks,
)

MAX_SESSIONS = 52


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
