"""Door check-in: scan a ticket (or type its code), get a big clear answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.accounts.scopes import can_manage
from doorstep.core import audit

from . import signals, tickets
from .models import (
    Activity,
    ActivityStatus,
    Allocation,
    CheckIn,
    Registration,
    RegistrationStatus,
)
from .services import RegistrationError


class CheckInCode:
    WELCOME = "welcome"
    ALREADY = "already_checked_in"
    WRONG_DAY = "wrong_day"
    WRONG_ACTIVITY = "wrong_activity"
    CANCELLED = "cancelled"
    NOT_CONFIRMED = "not_confirmed"
    NOT_FOUND = "not_found"
    INVALID = "invalid_ticket"


@dataclass
class CheckInResult:
    code: str
    registration: Registration | None = None
    checked_in_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.code == CheckInCode.WELCOME


# How early before the start the door admits someone when that is still the day before.
EARLY_ARRIVAL = timedelta(hours=1)


def _on_its_day(now: datetime, activity: Activity, day: date) -> bool:
    """The ticket's local day, and across midnight while the activity is on: an arrival at
    00:10 for one running 23:00–01:00, or at 23:50 for one starting at 00:15."""
    if timezone.localdate(now) == day:
        return True
    return activity.starts_at - EARLY_ARRIVAL <= now <= activity.ends_at


def check_in(
    *,
    token: str,
    nonce: str,
    staff: User,
    activity_id: int | None = None,
    now: datetime | None = None,
    method: str = "scan",
) -> CheckInResult:
    """Verify a ticket and record arrival. The same scan repeated returns the first answer.

    `activity_id`, when the door knows which activity it admits, refuses tickets for another
    activity (`wrong_activity`) instead of checking them in at the wrong door. The token may
    come as the ticket's URL (what its QR holds).
    """
    now = now or timezone.now()
    nonce = _nonce(nonce)
    claim = tickets.verify(tickets.token_from_scan(token))
    previous = _previous(nonce, staff, claim.public_id if claim else None)
    if previous is not None:
        return previous
    if claim is None:
        return _record(nonce, None, None, CheckInCode.INVALID, staff, method=method)
    found = (
        Registration.objects.filter(public_id=claim.public_id, activity_id=claim.activity_id)
        .values_list("pk", "activity__center_id")
        .first()
    )
    if found is None:
        return _record(nonce, None, None, CheckInCode.NOT_FOUND, staff, method=method)
    reg_id, center_id = found
    return _admit(reg_id, center_id, claim.day, activity_id, nonce, staff, now, method)


def check_in_code(
    *,
    activity_id: int,
    code: str,
    nonce: str,
    staff: User,
    now: datetime | None = None,
    method: str = "code",
) -> CheckInResult:
    """Check in by the ticket's short code, typed at this activity's door."""
    now = now or timezone.now()
    nonce = _nonce(nonce)
    short = tickets.normalize_short_code(code)
    found = (
        Registration.objects.filter(activity_id=activity_id, short_code=short)
        .values_list("pk", "activity__center_id", "public_id")
        .first()
        if short
        else None
    )
    previous = _previous(nonce, staff, found[2] if found else None)
    if previous is not None:
        return previous
    if found is None:
        _require_door(staff, activity_id)
        return _record(nonce, None, None, CheckInCode.NOT_FOUND, staff, method=method)
    reg_id, center_id, _public = found
    return _admit(reg_id, center_id, None, activity_id, nonce, staff, now, method)


def check_in_registration(
    *,
    activity_id: int,
    registration_id: int,
    nonce: str,
    staff: User,
    now: datetime | None = None,
) -> CheckInResult:
    """Check in someone found on the roster (by name or phone tail) who has no ticket."""
    now = now or timezone.now()
    nonce = _nonce(nonce)
    found = (
        Registration.objects.filter(pk=registration_id, activity_id=activity_id)
        .values_list("pk", "activity__center_id", "public_id")
        .first()
    )
    previous = _previous(nonce, staff, found[2] if found else None)
    if previous is not None:
        return previous
    if found is None:
        _require_door(staff, activity_id)
        return _record(nonce, None, None, CheckInCode.NOT_FOUND, staff, method="lookup")
    return _admit(found[0], found[1], None, activity_id, nonce, staff, now, "lookup")


def _nonce(nonce: str) -> str:
    nonce = (nonce or "").strip()[:64]
    if len(nonce) < 8:
        raise RegistrationError(_("Each scan needs a nonce."), code="nonce_required")
    return nonce


def _require_door(staff: User, activity_id: int) -> None:
    center_id = Activity.objects.filter(pk=activity_id).values_list("center_id", flat=True)
    if not center_id or not can_manage(staff, center_id[0]):
        raise RegistrationError(
            _("You cannot check people in at this center."), code="forbidden", status=403
        )


def _previous(nonce: str, staff: User, public_id: str | None) -> CheckInResult | None:
    """The first answer to this scan, if it was already made; a nonce reused for another
    ticket is refused."""
    previous = CheckIn.objects.filter(nonce=nonce).select_related("registration").first()
    if previous is None:
        return None
    reg = previous.registration
    same_scan = previous.staff_id == staff.pk and (
        (reg is None and public_id is None) or (reg is not None and reg.public_id == public_id)
    )
    if not same_scan:
        # A nonce belongs to one scan: reusing it for another ticket reveals nothing.
        raise RegistrationError(
            _("This scan id was already used."), code="nonce_reused", status=409
        )
    return CheckInResult(
        code=previous.result, registration=reg, checked_in_at=reg.checked_in_at if reg else None
    )


def _admit(
    reg_id: int,
    center_id: int,
    day: date | None,
    activity_id: int | None,
    nonce: str,
    staff: User,
    now: datetime,
    method: str,
) -> CheckInResult:
    if not can_manage(staff, center_id):
        # Staff of another center learn nothing about this ticket.
        raise RegistrationError(
            _("You cannot check people in at this center."), code="forbidden", status=403
        )
    with transaction.atomic():
        # Lock, then decide (pretix's perform_checkin): a cancellation, an offer moving on or
        # another door waits for this row, so what is read below is what is written.
        reg = (
            Registration.objects.select_for_update(of=("self",))
            .select_related("activity", "person")
            .get(pk=reg_id)
        )
        # A code or a roster look-up carries no day: the activity's own day is the ticket's.
        ticket_day = day or timezone.localdate(reg.activity.starts_at)
        code = _decide(reg, ticket_day, activity_id, now)
        return _record(nonce, reg, reg.activity, code, staff, now=now, method=method)


def _decide(reg: Registration, day: date, activity_id: int | None, now: datetime) -> str:
    """The door's answer for a registration row the caller holds locked."""
    if activity_id is not None and reg.activity_id != activity_id:
        return CheckInCode.WRONG_ACTIVITY
    if not _on_its_day(now, reg.activity, day):
        return CheckInCode.WRONG_DAY
    if (
        reg.status == RegistrationStatus.CANCELLED
        or reg.activity.status == ActivityStatus.CANCELLED
    ):
        return CheckInCode.CANCELLED
    if reg.status not in (RegistrationStatus.CONFIRMED, RegistrationStatus.NO_SHOW):
        return CheckInCode.NOT_CONFIRMED
    if reg.checked_in_at is not None:
        return CheckInCode.ALREADY
    return CheckInCode.WELCOME


def _record(
    nonce: str,
    reg: Registration | None,
    activity: Activity | None,
    code: str,
    staff: User,
    *,
    now: datetime | None = None,
    method: str = "scan",
) -> CheckInResult:
    """Store the scan and its answer; a welcome also marks the arrival (the caller holds the
    registration's lock) and records the visit, all or nothing."""
    try:
        with transaction.atomic():
            if code == CheckInCode.WELCOME:
                assert reg is not None and now is not None
                Registration.objects.filter(pk=reg.pk).update(
                    checked_in_at=now, status=RegistrationStatus.CONFIRMED
                )
                reg.checked_in_at, reg.status = now, RegistrationStatus.CONFIRMED
            row = CheckIn.objects.create(
                nonce=nonce,
                registration=reg,
                activity=activity,
                result=code,
                staff=staff,
                method=method,
            )
            if code == CheckInCode.WELCOME:
                # An accepted check-in is a visit too, recorded in the same transaction.
                signals.checked_in.send(sender=CheckIn, checkin_id=row.pk)
    except IntegrityError:
        # The same nonce raced us: answer as the first scan was answered.
        first = CheckIn.objects.select_related("registration").get(nonce=nonce)
        reg = first.registration
        code = first.result
    return CheckInResult(
        code=code, registration=reg, checked_in_at=reg.checked_in_at if reg else None
    )


# Offline scans older than this are refused at sync: a door phone left offline for days
# should not rewrite an activity's history.
OFFLINE_MAX_AGE = timedelta(hours=24)
OFFLINE_BATCH = 200


@dataclass
class OfflineOutcome:
    nonce: str
    code: str
    person: str = ""
    conflict: bool = False


def apply_offline(
    *, activity_id: int, staff: User, scans: list[dict], now: datetime | None = None
) -> list[OfflineOutcome]:
    """Apply scans a door phone recorded while offline: each as the scan it was, at the time
    it was made, under its nonce, so sending a queue twice records nothing twice. Whatever
    the server now answers other than welcome (cancelled meanwhile, already checked in at
    another door, not found) is a conflict for staff to see."""
    now = now or timezone.now()
    _require_door(staff, activity_id)
    outcomes = []
    for scan in scans[:OFFLINE_BATCH]:
        nonce = str(scan.get("nonce", ""))[:64]
        at = _scan_time(scan.get("at"), now)
        text = str(scan.get("token", ""))[:400]
        try:
            if tickets.normalize_short_code(text):
                result = check_in_code(
                    activity_id=activity_id,
                    code=text,
                    nonce=nonce,
                    staff=staff,
                    now=at,
                    method="offline",
                )
            else:
                result = check_in(
                    token=text,
                    nonce=nonce,
                    staff=staff,
                    activity_id=activity_id,
                    now=at,
                    method="offline",
                )
        except RegistrationError as exc:
            outcomes.append(OfflineOutcome(nonce=nonce, code=exc.code, conflict=True))
            continue
        reg = result.registration
        outcomes.append(
            OfflineOutcome(
                nonce=nonce,
                code=result.code,
                person=reg.person.name if reg else "",
                conflict=result.code != CheckInCode.WELCOME,
            )
        )
    return outcomes


def _scan_time(value: object, now: datetime) -> datetime:
    """When the phone says the scan was made, kept within the last day and never ahead."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return now
    if timezone.is_naive(at):
        return now
    return min(max(at, now - OFFLINE_MAX_AGE), now)


@transaction.atomic
def add_walk_ins(*, activity_id: int, staff: User, count: int = 1) -> Activity:
    """Seat people who walk in, only while places are empty."""
    activity = Activity.objects.filter(pk=activity_id).select_related("center").first()
    if activity is None or not can_manage(staff, activity.center_id):
        raise RegistrationError(_("No such activity."), code="not_found", status=404)
    if activity.status != ActivityStatus.PUBLISHED:
        raise RegistrationError(_("This activity is not running."), code="not_published")
    if activity.allocation == Allocation.LOTTERY and activity.drawn_at is None:
        raise RegistrationError(
            _("Walk-ins can be seated after the lottery has been drawn."), code="not_drawn"
        )
    if not 1 <= count <= 50:
        raise RegistrationError(_("Add between 1 and 50 walk-ins."), code="invalid_count")
    if not Activity.objects.filter(pk=activity_id, taken__lte=F("capacity") - count).update(
        taken=F("taken") + count, walk_ins=F("walk_ins") + count
    ):
        raise RegistrationError(_("All places are taken."), code="full")
    activity.refresh_from_db()
    audit.record(
        actor=staff,
        action="activity.walk_ins",
        obj=activity,
        center_id=activity.center_id,
        changes={"added": count, "walk_ins": activity.walk_ins, "taken": activity.taken},
    )
    return activity
