"""What the volunteers services share: the error, the clock, locks, who may manage what."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import User
from doorstep.accounts.scopes import can_manage
from doorstep.core.errors import DoorstepError

from ..models import Opportunity, Profile, Shift


class VolunteerError(DoorstepError):
    """A sign-up, a scan, an approval or a certificate that cannot be made."""


def _now(now: datetime | None) -> datetime:
    return (now or timezone.now()).replace(microsecond=0)


def profile_of(user: User) -> Profile:
    profile = Profile.objects.filter(user=user, active=True).first()
    if profile is None:
        raise VolunteerError(
            _("Become a volunteer first: say what you can do and when."),
            code="no_profile",
            status=409,
        )
    return profile


def locked_shift(shift_id: int) -> Shift:
    shift = (
        Shift.objects.select_for_update(of=("self",))
        .select_related("opportunity")
        .filter(pk=shift_id)
        .first()
    )
    if shift is None:
        raise VolunteerError(_("No such shift."), code="not_found", status=404)
    return shift


def require_manager(user: User, opportunity: Opportunity) -> None:
    if not can_manage(user, opportunity.center_id):
        raise VolunteerError(_("No such opportunity."), code="not_found", status=404)
