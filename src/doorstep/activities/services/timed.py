"""Timed work: expired offers, no-shows, reminders and the worker's round (`run_due_work`).

Pages do the same work when they read a stale activity (`settle`), so nothing is wrong if
the worker is down.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from .. import notices
from ..models import (
    Activity,
    ActivityStatus,
    Allocation,
    NoShowPolicy,
    Registration,
    RegistrationStatus,
)
from .draws import draw
from .registration import _now, release_place


def expire_offers(*, activity_id: int | None = None, now: datetime | None = None) -> int:
    """Move expired offers on to the next person. Idempotent; run on read and by the worker."""
    now = _now(now)
    qs = Registration.objects.filter(status=RegistrationStatus.OFFERED, offer_expires_at__lte=now)
    if activity_id is not None:
        qs = qs.filter(activity_id=activity_id)
    done = 0
    for reg_id in list(qs.values_list("id", flat=True)[:500]):
        with transaction.atomic():
            reg = (
                Registration.objects.select_for_update()
                .filter(pk=reg_id, status=RegistrationStatus.OFFERED, offer_expires_at__lte=now)
                .first()
            )
            if reg is None:
                continue
            release_place(
                registration=reg,
                new_status=RegistrationStatus.CANCELLED,
                reason="offer expired",
                now=now,
            )
            notices.offer_expired(
                Activity.objects.select_related("center").get(pk=reg.activity_id), [reg], now=now
            )
            done += 1
    return done


NO_SHOW_GRACE = timedelta(minutes=30)


def mark_no_shows(*, activity_id: int, now: datetime | None = None) -> int:
    """After an activity, confirmed places nobody checked in for become no-shows. Idempotent."""
    now = _now(now)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity_id)
        if activity.no_shows_marked_at or now < activity.ends_at + NO_SHOW_GRACE:
            return 0
        if activity.status != ActivityStatus.PUBLISHED:
            return 0
        missed = list(
            Registration.objects.filter(
                activity=activity,
                status=RegistrationStatus.CONFIRMED,
                checked_in_at__isnull=True,
            ).select_related("person")
        )
        n = Registration.objects.filter(pk__in=[r.pk for r in missed]).update(
            status=RegistrationStatus.NO_SHOW, updated_at=now
        )
        activity.no_shows_marked_at = now
        activity.save(update_fields=["no_shows_marked_at", "updated_at"])
        if missed:
            policy = NoShowPolicy.objects.filter(center_id=activity.center_id).first()
            notices.no_show(activity, missed, policy=policy, now=now)
    return n


def settle(activity: Activity, *, now: datetime | None = None) -> Activity:
    """Bring an activity up to date (draw, expired offers, no-shows) before showing it.

    The worker does the same on time; whichever comes first does the work, the other finds
    nothing to do.
    """
    now = _now(now)
    changed = False
    if (
        activity.allocation == Allocation.LOTTERY
        and activity.drawn_at is None
        and now >= activity.registration_closes_at
    ):
        changed |= draw(activity_id=activity.pk, now=now)
    if activity.offer_hours:
        changed |= bool(expire_offers(activity_id=activity.pk, now=now))
    if activity.no_shows_marked_at is None and now >= activity.ends_at + NO_SHOW_GRACE:
        changed |= bool(mark_no_shows(activity_id=activity.pk, now=now))
    if changed:
        activity.refresh_from_db()
    return activity


def run_due_work(*, now: datetime | None = None) -> dict[str, int]:
    """One pass of the worker: everything whose time has come. Safe to run anywhere, any time."""
    now = _now(now)
    drawn = 0
    for pk in Activity.objects.filter(
        allocation=Allocation.LOTTERY,
        status=ActivityStatus.PUBLISHED,
        drawn_at__isnull=True,
        registration_closes_at__lte=now,
    ).values_list("pk", flat=True)[:200]:
        drawn += draw(activity_id=pk, now=now)
    expired = expire_offers(now=now)
    no_shows = 0
    for pk in Activity.objects.filter(
        status=ActivityStatus.PUBLISHED,
        no_shows_marked_at__isnull=True,
        ends_at__lte=now - NO_SHOW_GRACE,
    ).values_list("pk", flat=True)[:200]:
        no_shows += mark_no_shows(activity_id=pk, now=now)
    return {
        "drawn": drawn,
        "offers_expired": expired,
        "offer_reminders": remind_offers(now=now),
        "reminders": send_reminders(now=now),
        "no_shows": no_shows,
    }


DAY_AHEAD = timedelta(hours=24)


def reminder_offsets(activity: Activity) -> tuple[timedelta, ...]:
    """The activity's reminders, as time before its start (for calendar alarms too)."""
    offsets = []
    if activity.remind_day_before:
        offsets.append(DAY_AHEAD)
    if activity.remind_hours_before:
        offsets.append(timedelta(hours=activity.remind_hours_before))
    return tuple(offsets)


# An offer is recalled this long before it lapses (or halfway, for short offers).
OFFER_REMINDER = timedelta(hours=2)


def _reminder_due(
    *,
    starts_at: datetime,
    remind_day_before: bool,
    remind_hours_before: int,
    reminded_day_at: datetime | None,
    reminded_hours_at: datetime | None,
    now: datetime,
) -> str | None:
    """Which reminder is due now ("hours" or "day"), if any. The later one replaces an
    earlier one not yet sent; the caller has already kept to the next 24 hours."""
    hours_pending = remind_hours_before and reminded_hours_at is None
    if hours_pending and starts_at - timedelta(hours=remind_hours_before) <= now:
        return "hours"
    if remind_day_before and reminded_day_at is None:
        return "day"
    return None


REMINDER_FIELDS = (
    "starts_at",
    "remind_day_before",
    "remind_hours_before",
    "reminded_day_at",
    "reminded_hours_at",
)


def send_reminders(*, now: datetime | None = None) -> int:
    """Remind everyone with a place, the day before and some hours before (each activity
    says which). Only activities with a reminder due now are locked; each reminder is marked
    sent on the activity in the transaction that writes its notices. Idempotent."""
    now = _now(now)
    told = 0
    window = Activity.objects.filter(
        status=ActivityStatus.PUBLISHED, starts_at__gt=now, starts_at__lte=now + DAY_AHEAD
    ).filter(
        Q(remind_day_before=True, reminded_day_at__isnull=True)
        | Q(remind_hours_before__gt=0, reminded_hours_at__isnull=True)
    )
    # Decided from the plain columns first: an activity whose day reminder went out waits
    # up to 22 hours for the next one, and must neither be locked nor crowd out the due.
    due = [
        row["pk"]
        for row in window.values("pk", *REMINDER_FIELDS)
        if _reminder_due(**{f: row[f] for f in REMINDER_FIELDS}, now=now)
    ]
    for pk in due[:200]:
        with transaction.atomic():
            activity = (
                Activity.objects.select_for_update(of=("self",)).select_related("center").get(pk=pk)
            )
            # Lock, then re-check: another worker may have sent it meanwhile.
            which = _reminder_due(**{f: getattr(activity, f) for f in REMINDER_FIELDS}, now=now)
            if which is None:
                continue
            regs = list(
                Registration.objects.filter(
                    activity=activity, status=RegistrationStatus.CONFIRMED
                ).select_related("person")
            )
            told += notices.reminder(activity, regs, which=which, now=now)
            fields = {"reminded_hours_at": now} if which == "hours" else {}
            fields["reminded_day_at"] = activity.reminded_day_at or now
            Activity.objects.filter(pk=pk).update(**fields)
    return told


def remind_offers(*, now: datetime | None = None) -> int:
    """Recall open offers shortly before they lapse (once each: the notice's event key)."""
    now = _now(now)
    offers = list(
        Registration.objects.filter(
            status=RegistrationStatus.OFFERED,
            offer_expires_at__gt=now,
            offer_expires_at__lte=now + OFFER_REMINDER,
        )
        .select_related("person", "activity__center")
        .order_by("activity_id", "id")[:1000]
    )
    told = 0
    by_activity: dict[int, list[Registration]] = {}
    for r in offers:
        hours = r.activity.offer_hours or 0
        # A short offer (an hour) is recalled halfway, not the moment it is made.
        lead = min(OFFER_REMINDER, timedelta(hours=hours) / 2)
        if r.offer_expires_at and r.offer_expires_at - now <= lead:
            by_activity.setdefault(r.activity_id, []).append(r)
    for regs in by_activity.values():
        with transaction.atomic():
            told += notices.offer_reminder(regs[0].activity, regs, now=now)
    return told
