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


Hours = tuple[list[tuple[int, int, int]], dict]


def centers_hours(center_ids: Iterable[int], first: date, last: date) -> dict[int, Hours]:
    """Each center's weekly opening intervals and its date exceptions from `first` to `last`,
    in two statements for any number of centers (a center without any: empty both)."""
    from doorstep.centers.models import OpeningException, OpeningHours

    ids = set(center_ids)
    out: dict[int, Hours] = {cid: ([], {}) for cid in ids}
    for cid, w, o, c in OpeningHours.objects.filter(center_id__in=ids).values_list(
        "center_id", "weekday", "open_minute", "close_minute"
    ):
        out[cid][0].append((w, o, c))
    for cid, d, shut, eo, ec in OpeningException.objects.filter(
        center_id__in=ids, date__range=(first, last)
    ).values_list("center_id", "date", "closed", "open_minute", "close_minute"):
        out[cid][1][d] = (shut, eo, ec)
    return out


def open_minutes(hours: Hours, day: date) -> list[tuple[int, int]]:
    """A center's opening spans on `day` (minutes from midnight); a center that publishes no
    hours at all is not limited by them (its spaces keep their own window)."""
    from doorstep.centers.hours import day_spans

    weekly, exceptions = hours
    return day_spans(weekly, exceptions, day) if (weekly or exceptions) else [(0, 1440)]


def within(spans: list[tuple[int, int]], opens: int, closes: int) -> list[tuple[int, int]]:
    """The parts of `spans` inside a space's own daily window."""
    cut = ((max(a, opens), min(b, closes)) for a, b in spans)
    return [(a, b) for a, b in cut if a < b]


def bookable_minutes(space: Space, day: date, hours: Hours | None = None) -> list[tuple[int, int]]:
    """The spans of `day` (minutes from midnight) in which `space` can be booked: its own
    window inside the center's opening hours of that date."""
    hours = hours or centers_hours([space.center_id], day, day)[space.center_id]
    return within(open_minutes(hours, day), space.opens_minute, space.closes_minute)


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
