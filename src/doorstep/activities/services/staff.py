"""Staff: creating, editing, publishing and cancelling activities, and messages to
registrants; each change on the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.core import audit

from .. import notices
from ..models import (
    ACTIVE_STATUSES,
    HOLDS_PLACE,
    Activity,
    ActivityMessage,
    ActivityStatus,
    Allocation,
    Registration,
    RegistrationStatus,
)
from .registration import RegistrationError, _now, fill_from_waitlist


@transaction.atomic
def publish(*, activity_id: int, by: User | None = None) -> Activity:
    """Publish a draft; a lottery gets its secret seed and public commitment now. `by`, the
    staff member who publishes, is audited (None: published as part of creating it)."""
    from ..lottery import commitment_for, new_seed

    activity = Activity.objects.select_for_update().get(pk=activity_id)
    if activity.status == ActivityStatus.CANCELLED:
        raise RegistrationError(_("A cancelled activity cannot be published."), code="cancelled")
    if activity.allocation == Allocation.LOTTERY and not activity.lottery_commitment:
        activity.lottery_seed = new_seed()
        activity.lottery_commitment = commitment_for(activity.lottery_seed)
    was = activity.status
    activity.status = ActivityStatus.PUBLISHED
    activity.save(update_fields=["status", "lottery_seed", "lottery_commitment", "updated_at"])
    if by is not None:
        audit.record(
            actor=by,
            action="activity.publish",
            obj=activity,
            center_id=activity.center_id,
            changes=audit.diff({"status": was}, {"status": activity.status}),
        )
    return activity


MESSAGES_PER_DAY = 3


@transaction.atomic
def message_registrants(
    *, activity_id: int, by: User, text: str, now: datetime | None = None
) -> ActivityMessage:
    """A message from staff to everyone holding or awaiting a place, as a notice. At most
    MESSAGES_PER_DAY per activity in 24 hours, so residents are not flooded."""
    now = _now(now)
    text = " ".join(text.split())[:300]
    if not text:
        raise RegistrationError(_("Write the message."), code="message_required", field="text")
    activity = _locked_activity(activity_id, by)
    if activity.status != ActivityStatus.PUBLISHED or activity.ends_at <= now:
        raise RegistrationError(
            _("Messages go only to registrants of a published activity that has not ended."),
            code="not_open",
            status=409,
        )
    recent = ActivityMessage.objects.filter(
        activity=activity, sent_at__gt=now - timedelta(hours=24)
    ).count()
    if recent >= MESSAGES_PER_DAY:
        raise RegistrationError(
            _("At most %(n)s messages a day per activity; this one was not sent.")
            % {"n": MESSAGES_PER_DAY},
            code="too_many_messages",
            status=429,
        )
    regs = list(
        Registration.objects.filter(activity=activity, status__in=ACTIVE_STATUSES)
        .select_related("person")
        .only("id", "account_id", "person__name")
    )
    message = ActivityMessage.objects.create(activity=activity, text=text, by=by, sent_at=now)
    activity = Activity.objects.select_related("center").get(pk=activity.pk)
    message.recipients = notices.staff_message(
        activity, regs, message_id=message.pk, text=text, now=now
    )
    message.save(update_fields=["recipients"])
    audit.record(
        actor=by,
        action="activity.message",
        obj=activity,
        center_id=activity.center_id,
        changes={"text": text, "recipients": message.recipients},
        now=now,
    )
    return message


# ---------------------------------------------------------------------------------------------
# Staff back office: create, edit and cancel activities.
#
# Every function here checks that `by` manages the activity's center and answers `not_found`
# (404) otherwise, so a page or API built on them cannot leak another center's activities.
# ---------------------------------------------------------------------------------------------

MAX_CAPACITY = 10_000


@dataclass
class ActivityInput:
    """What staff set on an activity; the counters, status and lottery fields are not here."""

    title: str
    category: str
    audience: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    registration_opens_at: datetime
    registration_closes_at: datetime
    title_en: str = ""
    description: str = ""
    room: str = ""
    space_id: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    cancel_deadline: datetime | None = None
    allocation: str = Allocation.FIRST_COME
    places_per_household: int = 2
    weekly_limit_per_person: int | None = None
    waitlist_enabled: bool = True
    offer_hours: int | None = None
    local_share_percent: int = 0
    first_timer_share_percent: int = 0
    remind_day_before: bool = True
    remind_hours_before: int = 2


def activity_problems(
    data: ActivityInput, *, now: datetime | None = None
) -> list[tuple[str | None, str]]:
    """Everything wrong with `data`, as (field, message) pairs; empty when it can be saved.

    The form shows all of them at once; the services refuse the first. With `now`, an
    activity must also start in the future (new activities; edits may touch past ones).
    """
    problems: list[tuple[str | None, str]] = []
    if not data.title.strip():
        problems.append(("title", _("Give the activity a title.")))
    if data.ends_at <= data.starts_at:
        problems.append(("ends_at", _("The end must be after the start.")))
    if now is not None and data.starts_at <= now:
        problems.append(("starts_at", _("The start must be in the future.")))
    if data.registration_closes_at <= data.registration_opens_at:
        problems.append(("registration_closes_at", _("Registration must close after it opens.")))
    elif data.registration_closes_at > data.starts_at:
        problems.append(
            ("registration_closes_at", _("Registration must close before the activity starts."))
        )
    if data.cancel_deadline is not None and data.cancel_deadline > data.starts_at:
        problems.append(
            ("cancel_deadline", _("Residents can cancel online until the start at the latest."))
        )
    if not 1 <= data.capacity <= MAX_CAPACITY:
        problems.append(
            ("capacity", _("Places must be between 1 and %(max)s.") % {"max": MAX_CAPACITY})
        )
    if data.age_min is not None and data.age_max is not None and data.age_min > data.age_max:
        problems.append(("age_max", _("The maximum age is below the minimum age.")))
    if not 1 <= data.places_per_household <= 10:
        problems.append(("places_per_household", _("Allow 1 to 10 places per household.")))
    if data.weekly_limit_per_person is not None and data.weekly_limit_per_person < 1:
        problems.append(("weekly_limit_per_person", _("Leave empty for no limit, or at least 1.")))
    if data.offer_hours is not None and not 1 <= data.offer_hours <= 720:
        problems.append(("offer_hours", _("Leave empty, or give 1 to 720 hours.")))
    if data.allocation not in Allocation.values:
        problems.append(("allocation", _("Choose how places are given.")))
    if not 0 <= data.remind_hours_before <= 23:
        problems.append(("remind_hours_before", _("Give 0 to 23 hours (0: no reminder).")))
    for name in ("local_share_percent", "first_timer_share_percent"):
        if not 0 <= getattr(data, name) <= 100:
            problems.append((name, _("A share is a percentage between 0 and 100.")))
    shares = data.local_share_percent + data.first_timer_share_percent
    if data.allocation != Allocation.LOTTERY and shares:
        problems.append(
            ("local_share_percent", _("Reserved shares apply only when places are drawn by lot."))
        )
    elif shares > 100:
        problems.append(
            ("first_timer_share_percent", _("Together, the reserved shares cannot pass 100%."))
        )
    return problems


def _refuse_problems(problems: list[tuple[str | None, str]]) -> None:
    if problems:
        field, message = problems[0]
        raise RegistrationError(message, code="invalid", field=field)


def _require_manager(by: User, center_id: int) -> None:
    from doorstep.accounts.scopes import can_manage

    if not can_manage(by, center_id):
        raise RegistrationError(_("No such activity."), code="not_found", status=404)


def _locked_activity(activity_id: int, by: User) -> Activity:
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise RegistrationError(_("No such activity."), code="not_found", status=404)
    _require_manager(by, activity.center_id)
    return activity


def _input_values(data: ActivityInput) -> dict[str, object]:
    from dataclasses import asdict

    values = asdict(data)
    values["title"] = data.title.strip()
    values["title_en"] = " ".join((data.title_en or "").split())[:160]
    return values


@transaction.atomic
def create_activity(
    *,
    center_id: int,
    by: User,
    data: ActivityInput,
    publish_now: bool = False,
    series_id: int | None = None,
    now: datetime | None = None,
) -> Activity:
    """Create a draft activity at a center `by` manages; publish it at once if asked."""
    now = _now(now)
    _require_manager(by, center_id)
    _refuse_problems(activity_problems(data, now=now))
    activity = Activity.objects.create(
        center_id=center_id, series_id=series_id, **_input_values(data)
    )
    _hold_space(activity, now)
    audit.record(
        actor=by,
        action="activity.create",
        obj=activity,
        center_id=center_id,
        changes=audit.diff({}, _input_values(data)),
        now=now,
    )
    if publish_now:
        activity = publish(activity_id=activity.pk, by=by)
    return activity


def _hold_space(activity: Activity, now: datetime) -> None:
    """Hold the activity's space for its time (a booking row under the rooms rule), move the
    hold when the time changes, give it back when the space is cleared. A clash is refused
    like any other problem with the form (`slot_taken`, `blackout`)."""
    from doorstep.rooms.services import RoomError, hold_for_activity, release_hold

    if activity.space_id is None:
        if activity.space_booking_id:
            release_hold(activity.space_booking_id, now=now)
            activity.space_booking = None
            Activity.objects.filter(pk=activity.pk).update(space_booking=None)
        return
    try:
        hold = hold_for_activity(
            space_id=activity.space_id,
            center_id=activity.center_id,
            starts_at=activity.starts_at,
            ends_at=activity.ends_at,
            title=activity.title,
            booking_id=activity.space_booking_id,
            now=now,
        )
    except RoomError as e:
        raise RegistrationError(e.message, code=e.code, status=e.status, field="space") from e
    activity.room = activity.space.name if activity.space else activity.room
    if activity.space_booking_id != hold.pk:
        activity.space_booking = hold
    Activity.objects.filter(pk=activity.pk).update(space_booking=hold, room=activity.room)


def _fill_new_places(activity: Activity, places: int, now: datetime) -> int:
    """Places added by a capacity increase go to those waiting, in line order."""
    return fill_from_waitlist(activity.pk, now)


@transaction.atomic
def update_activity(
    *, activity_id: int, by: User, data: ActivityInput, now: datetime | None = None
) -> Activity:
    """Change an activity's settings, holding its row lock so registrations wait for us.

    Refused: places below those already held; switching first come/lottery once anyone has
    registered; changing places or shares after the draw (the published record must stay
    recomputable). Extra places go to the waiting list at once, in line order. When the time
    or the place changes, everyone registered gets a notice; tickets carry the activity's
    day, so moving it to another day re-issues them (the ticket page shows the new one, the
    old one answers "wrong day") and the notice says so.
    """
    now = _now(now)
    activity = _locked_activity(activity_id, by)
    if activity.status == ActivityStatus.CANCELLED:
        raise RegistrationError(
            _("A cancelled activity cannot be changed."), code="cancelled", status=409
        )
    _refuse_problems(activity_problems(data))
    if data.capacity < activity.taken:
        raise RegistrationError(
            _("%(n)s places are already taken; places cannot go below that.")
            % {"n": activity.taken},
            code="capacity_below_taken",
            field="capacity",
        )
    if (
        data.allocation != activity.allocation
        and Registration.objects.filter(activity=activity).exists()
    ):
        raise RegistrationError(
            _("People have registered already, so how places are given cannot change."),
            code="allocation_locked",
            field="allocation",
        )
    if activity.drawn_at is not None:
        for name in ("capacity", "local_share_percent", "first_timer_share_percent"):
            if getattr(data, name) != getattr(activity, name):
                raise RegistrationError(
                    _("The lottery has been drawn: its places and shares can no longer change."),
                    code="drawn",
                    field=name,
                )
    added = data.capacity - activity.capacity
    values = _input_values(data)
    before = audit.snapshot(activity, values)
    was = {"starts_at": activity.starts_at, "room": activity.room}
    for name, value in values.items():
        setattr(activity, name, value)
    _hold_space(activity, now)
    if activity.allocation == Allocation.LOTTERY:
        if activity.status == ActivityStatus.PUBLISHED and not activity.lottery_commitment:
            from ..lottery import commitment_for, new_seed

            activity.lottery_seed = new_seed()
            activity.lottery_commitment = commitment_for(activity.lottery_seed)
    else:
        activity.lottery_seed = activity.lottery_commitment = ""
    activity.save()
    audit.record(
        actor=by,
        action="activity.update",
        obj=activity,
        center_id=activity.center_id,
        changes=audit.diff(before, audit.snapshot(activity, values)),
        now=now,
    )
    if activity.starts_at != was["starts_at"] or activity.room != was["room"]:
        Activity.objects.filter(pk=activity.pk).update(ics_sequence=F("ics_sequence") + 1)
        _tell_changed(activity, was, now)
    taking_places = activity.allocation == Allocation.FIRST_COME or activity.drawn_at is not None
    if (
        added > 0
        and taking_places
        and activity.status == ActivityStatus.PUBLISHED
        and activity.starts_at > now
    ):
        _fill_new_places(activity, added, now)
    activity.refresh_from_db()
    return activity


def _tell_changed(activity: Activity, was: dict[str, Any], now: datetime) -> None:
    if activity.status != ActivityStatus.PUBLISHED:
        return
    regs = list(
        Registration.objects.filter(activity=activity, status__in=ACTIVE_STATUSES)
        .select_related("person")
        .only("id", "account_id", "person__name")
    )
    if not regs:
        return
    activity = Activity.objects.select_related("center").get(pk=activity.pk)
    before = {
        "starts_at": was["starts_at"],
        "where": f"{activity.center.name} {was['room']}".strip(),
    }
    notices.changed(
        activity,
        regs,
        # Each change is its own event: the time of the change tells them apart.
        version=int(now.timestamp() * 1000),
        before=before,
        new_day=timezone.localdate(was["starts_at"]) != timezone.localdate(activity.starts_at),
        now=now,
    )


@dataclass
class CancelledActivity:
    activity: Activity
    registrations_cancelled: int


@transaction.atomic
def cancel_activity(
    *, activity_id: int, by: User, reason: str, now: datetime | None = None
) -> CancelledActivity:
    """Cancel an activity and, in the same transaction, every active registration on it.

    Each registration keeps the reason, and residents see it on their pages; each account
    gets one notice, written in this transaction in batches. SMS and email go after the
    commit (the first few at once, the rest from the worker), so cancelling never waits for a
    gateway.
    """
    now = _now(now)
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise RegistrationError(
            _("Give a reason: residents will see it."), code="reason_required", field="reason"
        )
    activity = _locked_activity(activity_id, by)
    if activity.status == ActivityStatus.CANCELLED:
        raise RegistrationError(
            _("This activity has already been cancelled."), code="cancelled", status=409
        )
    if activity.ends_at <= now:
        raise RegistrationError(
            _("This activity has already taken place."), code="finished", status=409
        )
    active = Registration.objects.filter(activity=activity, status__in=ACTIVE_STATUSES)
    told = list(active.select_related("person").only("id", "account_id", "person__name"))
    held = active.filter(status__in=HOLDS_PLACE).count()
    n = active.update(
        status=RegistrationStatus.CANCELLED,
        cancelled_at=now,
        cancel_reason=reason,
        offer_expires_at=None,
        updated_at=now,
    )
    activity.status = ActivityStatus.CANCELLED
    activity.cancel_reason = reason
    activity.ics_sequence += 1
    activity.save(update_fields=["status", "cancel_reason", "ics_sequence", "updated_at"])
    Activity.objects.filter(pk=activity.pk).update(taken=F("taken") - held)
    if activity.space_booking_id:
        from doorstep.rooms.services import release_hold

        release_hold(activity.space_booking_id, now=now)
    notices.activity_cancelled(activity, told, reason=reason, now=now)
    audit.record(
        actor=by,
        action="activity.cancel",
        obj=activity,
        center_id=activity.center_id,
        changes={"reason": reason, "registrations_cancelled": n},
        now=now,
    )
    activity.refresh_from_db()
    return CancelledActivity(activity=activity, registrations_cancelled=n)
