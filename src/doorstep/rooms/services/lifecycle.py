"""After a booking is made: approval and lapse, check-in and release, reminders, cancellation."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Membership, User
from doorstep.core import audit

from ..models import (
    HOLDING,
    Booking,
    BookingKind,
    BookingStatus,
    Space,
)
from .common import RoomError, _now
from .notices import tell


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


KEEP_PERSONAL = timedelta(days=180)


def forget_past(now: datetime | None = None, keep: timedelta = KEEP_PERSONAL) -> int:
    """Who booked and what for are kept while they serve a purpose: 180 days after a booking
    ended, its booker, title and reasons are erased (the worker, daily is enough). The
    figures need only the time, the space, the status and the kind of booker, which stay; an
    organization's name is not personal data and stays too."""
    now = _now(now)
    return (
        Booking.objects.filter(ends_at__lt=now - keep)
        .exclude(user=None, title="", reason="", idempotency_key="")
        .exclude(kind=BookingKind.ACTIVITY)
        .update(
            user=None, title="", reason="", idempotency_key="", checked_in_by=None, updated_at=now
        )
    )
