"""Staff's side: spaces, their closures, and an activity's hold on its space."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.core import audit

from ..models import (
    HOLDING,
    Approval,
    Blackout,
    Booking,
    BookingKind,
    BookingStatus,
    Equipment,
    Kind,
    Space,
)
from .common import RoomError, _blackout, _clash, _insert, _locked_space, _minute, _now
from .lifecycle import _cancel


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
