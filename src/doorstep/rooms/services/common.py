"""What every part of the rooms services shares: the error, local times, when a space is
open, what holds it, its lock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.errors import DoorstepError

from ..models import (
    HOLDING,
    Blackout,
    Booking,
    Space,
)


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
