"""Reads of activities: the resident's honest state of each one, lists, a person's bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.core.errors import InvalidInput, NotFound

from .models import (
    WAITLIST_ORDER,
    Activity,
    ActivityStatus,
    Allocation,
    Audience,
    Category,
    Registration,
    RegistrationStatus,
)


class State:
    NOT_OPEN = "not_open"
    OPEN = "open"
    FULL_WAITLIST = "waitlist"
    FULL = "full"
    LOTTERY_OPEN = "lottery_open"
    DRAWING = "drawing"
    DRAWN = "drawn"
    CLOSED = "closed"
    FINISHED = "finished"
    CANCELLED = "cancelled"


def state_of(activity: Activity, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if activity.status == ActivityStatus.CANCELLED:
        return State.CANCELLED
    if now >= activity.ends_at:
        return State.FINISHED
    lottery = activity.allocation == Allocation.LOTTERY
    if now < activity.registration_opens_at:
        return State.NOT_OPEN
    if now >= activity.registration_closes_at or now >= activity.starts_at:
        if lottery:
            return State.DRAWN if activity.drawn_at else State.DRAWING
        return State.CLOSED
    if lottery:
        return State.LOTTERY_OPEN
    if activity.taken < activity.capacity:
        return State.OPEN
    return State.FULL_WAITLIST if activity.waitlist_enabled else State.FULL


def seats_left(activity: Activity) -> int:
    return max(0, activity.capacity - activity.taken)


@dataclass
class ActivityFilters:
    center: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    category: str = ""
    audience: str = ""
    has_seats: bool = False
    limit: int = 50
    offset: int = 0

    def validate(self) -> None:
        if self.category and self.category not in Category.values:
            raise InvalidInput(
                _("Unknown category “%(v)s”.") % {"v": self.category}, code="unknown_category"
            )
        if self.audience and self.audience not in Audience.values:
            raise InvalidInput(
                _("Unknown audience “%(v)s”.") % {"v": self.audience}, code="unknown_audience"
            )
        for d in (self.date_from, self.date_to):
            if d is not None and not date(2000, 1, 1) <= d <= date(2100, 12, 31):
                raise InvalidInput(_("Dates must be between 2000 and 2100."), code="invalid_range")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise InvalidInput(_("“to” is before “from”."), code="invalid_range")
        if self.date_from and self.date_to and (self.date_to - self.date_from).days > 366:
            raise InvalidInput(_("Ask for at most a year at a time."), code="invalid_range")
        if not 1 <= self.limit <= 200:
            raise InvalidInput(_("limit must be between 1 and 200."), code="invalid_limit")
        if not 0 <= self.offset <= 100_000:
            raise InvalidInput(_("offset must be between 0 and 100000."), code="invalid_offset")


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def published_activities(
    f: ActivityFilters, *, now: datetime | None = None
) -> tuple[int, list[Activity]]:
    f.validate()
    now = now or timezone.now()
    qs: QuerySet[Activity] = Activity.objects.filter(
        status__in=[ActivityStatus.PUBLISHED, ActivityStatus.CANCELLED]
    ).select_related("center")
    if f.center is not None:
        qs = qs.filter(center_id=f.center)
    start = _day_start(f.date_from) if f.date_from else now - timedelta(hours=3)
    qs = qs.filter(ends_at__gt=start)
    if f.date_to:
        qs = qs.filter(starts_at__lt=_day_start(f.date_to) + timedelta(days=1))
    if f.category:
        qs = qs.filter(category=f.category)
    if f.audience:
        qs = qs.filter(audience=f.audience)
    if f.has_seats:
        qs = qs.filter(
            status=ActivityStatus.PUBLISHED,
            allocation=Allocation.FIRST_COME,
            taken__lt=F("capacity"),
            registration_closes_at__gt=now,
        )
    count = qs.count()
    return count, list(qs.order_by("starts_at", "id")[f.offset : f.offset + f.limit])


def get_published(activity_id: int) -> Activity:
    activity = (
        Activity.objects.select_related("center", "center__district")
        .filter(pk=activity_id, status__in=[ActivityStatus.PUBLISHED, ActivityStatus.CANCELLED])
        .first()
    )
    if activity is None:
        raise NotFound(_("No such activity."), code="not_found")
    return activity


def registrations_of(account: User) -> list[Registration]:
    return list(
        Registration.objects.filter(account=account)
        .select_related("activity", "activity__center", "person")
        .order_by("-activity__starts_at", "id")[:200]
    )


def registration_of(account: User, registration_id: int) -> Registration:
    reg = (
        Registration.objects.select_related("activity", "activity__center", "person")
        .filter(pk=registration_id, account=account)
        .first()
    )
    if reg is None:
        raise NotFound(_("No such registration."), code="not_found")
    return reg


def waitlist_positions(regs: list[Registration]) -> dict[int, int]:
    """1-based place in line for each waiting registration among `regs`, in one query.

    The line is ordered exactly as promotion takes it (models.WAITLIST_ORDER).
    """
    activity_ids = {r.activity_id for r in regs if r.status == RegistrationStatus.WAITLISTED}
    if not activity_ids:
        return {}
    wanted = {r.pk for r in regs}
    positions: dict[int, int] = {}
    seen: dict[int, int] = {}
    for pk, activity_id in (
        Registration.objects.filter(
            activity_id__in=activity_ids, status=RegistrationStatus.WAITLISTED
        )
        .order_by("activity_id", *WAITLIST_ORDER)
        .values_list("pk", "activity_id")
    ):
        seen[activity_id] = seen.get(activity_id, 0) + 1
        if pk in wanted:
            positions[pk] = seen[activity_id]
    return positions


def find_on_roster(activity: Activity, query: str, *, limit: int = 10) -> list[Registration]:
    """Registrations of this activity (with a place) matching a name or the last 4 digits of
    the account's phone: for someone at the door without their ticket. The caller has
    checked that its staff account manages the activity's center."""
    query = " ".join((query or "").split())[:40]
    if not query:
        return []
    regs = Registration.objects.filter(
        activity=activity,
        status__in=[RegistrationStatus.CONFIRMED, RegistrationStatus.NO_SHOW],
    ).select_related("person", "account")
    if query.isdigit() and len(query) == 4:
        regs = regs.filter(account__phone__endswith=query)
    else:
        regs = regs.filter(person__name__icontains=query)
    return list(regs.order_by("person__name", "id")[:limit])


def next_at_center(
    center_id: int, *, n: int = 3, now: datetime | None = None
) -> tuple[int, list[Activity]]:
    """(how many published activities are still to come or on, the next n of them)."""
    now = now or timezone.now()
    qs = Activity.objects.filter(
        center_id=center_id, status=ActivityStatus.PUBLISHED, ends_at__gt=now
    ).select_related("center")
    items = list(qs.order_by("starts_at", "id")[:n])
    count = len(items) if len(items) < n else qs.count()
    return count, items
