"""Signing up for shifts with the registration engine's guarantees (the shift's row locked,
then re-checked: never more volunteers than places; one live sign-up per person and shift,
so a repeated tap changes nothing; a waiting list moved up in order), cancelling, swapping,
and the poster's scan that checks a volunteer in and out."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Person, User
from doorstep.accounts.scopes import can_manage
from doorstep.core import audit
from doorstep.inbox.services import notify
from doorstep.visits import codes

from ..models import Clearance, Shift, Signup, SignupStatus, Swap
from .common import VolunteerError, _now, locked_shift, profile_of

# A scan this long before a shift starts, or after it ends, still counts for it.
SCAN_EARLY = timedelta(minutes=30)
SCAN_LATE = timedelta(minutes=60)
LIVE = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


def _may_take(user: User, shift: Shift, now: datetime) -> None:
    """Whether `user` may be on this shift at all (not whether a place is free)."""
    opp = shift.opportunity
    profile = profile_of(user)
    if shift.cancelled or shift.starts_at <= now:
        raise VolunteerError(
            _("This shift can no longer be signed up for."), code="closed", status=409
        )
    if opp.party_members_only and not profile.party_member:
        raise VolunteerError(
            _("This opportunity is for Party-member volunteers."),
            code="party_members_only",
            status=403,
        )
    if (
        opp.needs_clearance
        and not Clearance.objects.filter(user=user, center_id=opp.center_id, role=opp.role).exists()
    ):
        raise VolunteerError(
            _("The center clears volunteers for this role after training; ask the center."),
            code="not_cleared",
            status=403,
        )
    if opp.min_age:
        born = (
            Person.objects.filter(account=user, is_account_holder=True)
            .values_list("birth_year", flat=True)
            .first()
        )
        if born is None:
            raise VolunteerError(
                _("This role has a minimum age: add your birth year in your account."),
                code="age_unknown",
                status=409,
            )
        if timezone.localdate(shift.starts_at).year - born < opp.min_age:
            raise VolunteerError(
                _("This role is for volunteers aged %(n)s and over.") % {"n": opp.min_age},
                code="too_young",
                status=403,
            )
    clash = Signup.objects.filter(
        user=user,
        status=SignupStatus.CONFIRMED,
        shift__starts_at__lt=shift.ends_at,
        shift__ends_at__gt=shift.starts_at,
    ).exclude(shift=shift)
    if clash.exists():
        raise VolunteerError(
            _("You already have a shift at that time."), code="overlap", status=409
        )


@transaction.atomic
def sign_up(*, user: User, shift_id: int, now: datetime | None = None) -> Signup:
    """A confirmed place while there is one, else the waiting list; the same person again
    gets their existing sign-up back."""
    now = _now(now)
    shift = locked_shift(shift_id)
    existing = Signup.objects.filter(shift=shift, user=user, status__in=LIVE).first()
    if existing is not None:
        return existing
    _may_take(user, shift, now)
    taken = Signup.objects.filter(shift=shift, status=SignupStatus.CONFIRMED).count()
    status = SignupStatus.CONFIRMED if taken < shift.places else SignupStatus.WAITLISTED
    try:
        with transaction.atomic():
            return Signup.objects.create(shift=shift, user=user, status=status, created_at=now)
    except IntegrityError:
        return Signup.objects.get(shift=shift, user=user, status__in=LIVE)


def _promote(shift: Shift, now: datetime) -> Signup | None:
    """The first on the waiting list takes a freed place (the caller holds the shift's lock)."""
    if Signup.objects.filter(shift=shift, status=SignupStatus.CONFIRMED).count() >= shift.places:
        return None
    nxt = (
        Signup.objects.filter(shift=shift, status=SignupStatus.WAITLISTED)
        .order_by("created_at", "id")
        .first()
    )
    if nxt is None:
        return None
    nxt.status = SignupStatus.CONFIRMED
    nxt.save(update_fields=["status"])
    when = timezone.localtime(shift.starts_at)
    notify(
        [nxt.user_id],
        subject=f"shift:{shift.pk}",
        kind="volunteer_promoted",
        title=_("You have a place: %(t)s, %(w)s")
        % {"t": shift.opportunity.title, "w": f"{when:%Y-%m-%d %H:%M}"},
    )
    return nxt


@transaction.atomic
def cancel(*, user: User, signup_id: int, now: datetime | None = None) -> Signup:
    now = _now(now)
    signup = Signup.objects.filter(pk=signup_id, user=user, status__in=LIVE).first()
    if signup is None:
        raise VolunteerError(_("No such sign-up."), code="not_found", status=404)
    shift = locked_shift(signup.shift_id)
    signup.refresh_from_db()
    if signup.status not in LIVE:
        return signup
    deadline = shift.starts_at - timedelta(hours=shift.opportunity.cancel_hours)
    if signup.status == SignupStatus.CONFIRMED and now > deadline:
        raise VolunteerError(
            _("It is too late to cancel here; please tell the center, or offer a swap."),
            code="too_late",
            status=409,
        )
    was = signup.status
    signup.status = SignupStatus.CANCELLED
    signup.save(update_fields=["status"])
    Swap.objects.filter(signup=signup, open=True).update(open=False)
    if was == SignupStatus.CONFIRMED:
        _promote(shift, now)
    return signup


@transaction.atomic
def offer_swap(*, user: User, signup_id: int, now: datetime | None = None) -> Swap:
    """Offer my place to another volunteer cleared for the role."""
    now = _now(now)
    signup = (
        Signup.objects.select_related("shift")
        .filter(pk=signup_id, user=user, status=SignupStatus.CONFIRMED)
        .first()
    )
    if signup is None or signup.shift.starts_at <= now:
        raise VolunteerError(_("No such sign-up."), code="not_found", status=404)
    swap, _created = Swap.objects.get_or_create(
        signup=signup, open=True, defaults={"created_at": now}
    )
    return swap


@transaction.atomic
def take_swap(*, user: User, swap_id: int, now: datetime | None = None) -> Signup:
    """Take an offered place: in one transaction the offerer's sign-up is cancelled and the
    taker's confirmed, so the shift never has more volunteers than places."""
    now = _now(now)
    swap = Swap.objects.select_related("signup").filter(pk=swap_id, open=True).first()
    if swap is None:
        raise VolunteerError(_("This swap is no longer offered."), code="swap_gone", status=409)
    shift = locked_shift(swap.signup.shift_id)
    swap = Swap.objects.select_for_update().get(pk=swap.pk)
    offered = Signup.objects.get(pk=swap.signup_id)
    if not swap.open or offered.status != SignupStatus.CONFIRMED:
        raise VolunteerError(_("This swap is no longer offered."), code="swap_gone", status=409)
    if offered.user_id == user.pk:
        raise VolunteerError(_("That is your own place."), code="own_swap", status=409)
    if Signup.objects.filter(shift=shift, user=user, status__in=LIVE).exists():
        raise VolunteerError(_("You are already on this shift."), code="already", status=409)
    _may_take(user, shift, now)
    offered.status = SignupStatus.CANCELLED
    offered.save(update_fields=["status"])
    mine = Signup.objects.create(
        shift=shift, user=user, status=SignupStatus.CONFIRMED, created_at=now
    )
    swap.open, swap.taken_by, swap.taken_at = False, user, now
    swap.save(update_fields=["open", "taken_by", "taken_at"])
    when = timezone.localtime(shift.starts_at)
    notify(
        [offered.user_id],
        subject=f"shift:{shift.pk}",
        kind="volunteer_swapped",
        title=_("Another volunteer took your place: %(t)s, %(w)s")
        % {"t": shift.opportunity.title, "w": f"{when:%Y-%m-%d %H:%M}"},
    )
    return mine


def _minutes(signup: Signup, shift: Shift) -> int:
    """Scanned time, at most the shift's length and an hour."""
    assert signup.checked_in_at and signup.checked_out_at
    worked = signup.checked_out_at - signup.checked_in_at
    cap = shift.ends_at - shift.starts_at + timedelta(hours=1)
    return max(0, int(min(worked, cap).total_seconds() // 60))


def check_in_out(signup: Signup, shift: Shift, now: datetime) -> str:
    """The scan's meaning for this sign-up: "in", "out", or "done" (already out)."""
    if signup.checked_in_at is None:
        signup.checked_in_at = now
        signup.save(update_fields=["checked_in_at"])
        return "in"
    if signup.checked_out_at is None:
        signup.checked_out_at = now
        signup.proposed_minutes = _minutes(signup, shift)
        signup.approval = "pending"
        signup.save(update_fields=["checked_out_at", "proposed_minutes", "approval"])
        return "out"
    return "done"


@transaction.atomic
def scan(
    *, user: User, center_id: int, code: str, now: datetime | None = None
) -> tuple[str, Signup]:
    """The volunteer scans the center's rotating poster: checked in to their shift there
    now, or out if already in."""
    now = _now(now)
    state = codes.code_state(center_id, code, now)
    if state != "valid":
        raise VolunteerError(
            _("This poster code is out of date; scan the poster at the door.")
            if state == "expired"
            else _("This is not a code of this center's poster."),
            code=f"code_{state}",
        )
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("shift", "shift__opportunity")
        .filter(
            user=user,
            status=SignupStatus.CONFIRMED,
            shift__opportunity__center_id=center_id,
            shift__starts_at__lte=now + SCAN_EARLY,
            shift__ends_at__gte=now - SCAN_LATE,
        )
        .order_by("shift__starts_at")
        .first()
    )
    if signup is None:
        raise VolunteerError(
            _("You have no shift at this center now."), code="no_shift_now", status=404
        )
    return check_in_out(signup, signup.shift, now), signup


@transaction.atomic
def staff_check(*, by: User, signup_id: int, now: datetime | None = None) -> tuple[str, Signup]:
    """Staff check a volunteer in or out at the desk (a phone without a camera, say)."""
    now = _now(now)
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("shift", "shift__opportunity")
        .filter(pk=signup_id, status=SignupStatus.CONFIRMED)
        .first()
    )
    if signup is None or not can_manage(by, signup.shift.opportunity.center_id):
        raise VolunteerError(_("No such sign-up."), code="not_found", status=404)
    outcome = check_in_out(signup, signup.shift, now)
    audit.record(
        actor=by,
        action="volunteer.staff_check",
        obj=signup,
        center_id=signup.shift.opportunity.center_id,
        label=f"#{signup.pk}",
        now=now,
    )
    return outcome, signup
