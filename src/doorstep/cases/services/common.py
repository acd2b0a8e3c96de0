"""What every part of the requests services shares: the error, who may do what, the
calendars, the clock's bookkeeping and the timeline."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.models import Membership, Organization, User
from doorstep.accounts.scopes import can_manage
from doorstep.centers.models import Center, OpeningException, OpeningHours
from doorstep.core.errors import DoorstepError

from .. import sla
from ..models import (
    STOPPED,
    Event,
    Handler,
    Holiday,
    RequestType,
    ServiceRequest,
    Status,
)


class CaseError(DoorstepError):
    """A request, a move or a type that cannot be made (wrong state, not yours, bad field)."""


def _now(now: datetime | None) -> datetime:
    return (now or timezone.now()).replace(microsecond=0)


def no_such() -> CaseError:
    return CaseError(_("No such request."), code="not_found", status=404)


# An 18-character resident ID number (17 digits and a digit or X): never asked, never kept.
ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")


def refuse_id_numbers(text: str, field: str) -> None:
    if ID_NUMBER.search(text or ""):
        raise CaseError(
            _("Please do not give an ID number: the center does not need it."),
            code="no_id_numbers",
            field=field,
        )


def clean_text(raw: Any, *, field: str, max_length: int, required: bool = True) -> str:
    text = str(raw or "").replace("\x00", "").strip()
    if required and not text:
        raise CaseError(_("Please fill this in."), code="required", field=field)
    if len(text) > max_length:
        raise CaseError(
            _("At most %(n)s characters.") % {"n": max_length}, code="too_long", field=field
        )
    refuse_id_numbers(text, field)
    return text


# Who someone is to a request.
STAFF, PARTNER, APPLICANT = "staff", "partner", "applicant"


def partner_orgs(user: User) -> list[int]:
    """The confirmed partner organizations `user` belongs to."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(
            user=user,
            organization__kind=Organization.Kind.PARTNER,
            organization__status=Organization.Status.CONFIRMED,
        ).values_list("organization_id", flat=True)
    )


def roles(user: User, req: ServiceRequest) -> set[str]:
    if not (user.is_authenticated and user.is_active):
        return set()
    out = set()
    if can_manage(user, req.center_id):
        out.add(STAFF)
    if req.partner_id and req.partner_id in partner_orgs(user):
        out.add(PARTNER)
    if req.applicant_id == user.pk or (
        req.organization_id
        and Membership.objects.filter(user=user, organization_id=req.organization_id).exists()
    ):
        out.add(APPLICANT)
    return out


def applicant_q(user: User) -> Q:
    """The requests `user` filed, and those of the organizations they belong to."""
    orgs = Membership.objects.filter(user=user).values_list("organization_id", flat=True)
    return Q(applicant=user) | Q(organization_id__in=orgs)


def locked(request_id: int) -> ServiceRequest:
    req = (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("type", "center", "partner")
        .filter(pk=request_id)
        .first()
    )
    if req is None:
        raise no_such()
    return req


# ---- the clock --------------------------------------------------------------------------


def holidays() -> dict:
    return dict(Holiday.objects.values_list("date", "workday"))


def calendar(req_type: RequestType, center: Center, holder: str, days: dict) -> sla.Calendar:
    """The working hours the clock runs in while `holder` holds a request of this type at
    this center (see sla.py)."""
    if holder == Handler.CENTER:
        weekly = list(
            OpeningHours.objects.filter(center=center).values_list(
                "weekday", "open_minute", "close_minute"
            )
        )
        if weekly:
            exceptions = {
                d: (shut, o, c)
                for d, shut, o, c in OpeningException.objects.filter(center=center).values_list(
                    "date", "closed", "open_minute", "close_minute"
                )
            }
            return sla.Calendar(weekly=weekly, exceptions=exceptions, holidays=days)
    return sla.office_calendar(req_type.office_hours, days)


def runs(req: ServiceRequest, status: str) -> bool:
    if status in STOPPED:
        return False
    return not (status == Status.WAITING_APPLICANT and req.type.pause_for_applicant)


def set_clock(req: ServiceRequest, *, status: str, holder: str, now: datetime) -> None:
    """Count the stretch that ends now in the outgoing holder's hours, then start (or not)
    the next one in the incoming holder's, and put the deadlines right."""
    days = holidays()
    if req.clock_since is not None:
        cal = calendar(req.type, req.center, req.holder, days)
        req.clock_minutes += sla.working_minutes(cal, req.clock_since, now)
    req.status = status
    req.holder = holder
    req.is_open = status not in STOPPED
    req.clock_since = now if runs(req, status) else None
    set_dues(req, days)


def set_dues(req: ServiceRequest, days: dict | None = None) -> None:
    if req.clock_since is None:
        req.resolution_due = None
    else:
        cal = calendar(req.type, req.center, req.holder, holidays() if days is None else days)
        left = max(0, req.type.resolution_hours * 60 - req.clock_minutes)
        req.resolution_due = sla.add_working(cal, req.clock_since, left)
    if req.first_response_at is None and req.is_open:
        dues = [d for d in (req.first_response_due, req.resolution_due) if d is not None]
        req.due_at = min(dues) if dues else None
    else:
        req.due_at = req.resolution_due


def used_minutes(req: ServiceRequest, now: datetime) -> int:
    """Working minutes on the clock now (the running stretch included)."""
    if req.clock_since is None:
        return req.clock_minutes
    cal = calendar(req.type, req.center, req.holder, holidays())
    return req.clock_minutes + sla.working_minutes(cal, req.clock_since, now)


def event(
    req: ServiceRequest,
    kind: str,
    *,
    by: User | None,
    now: datetime,
    as_holder: str = "",
    note: str = "",
    from_status: str = "",
    to_status: str = "",
) -> Event:
    return Event.objects.create(
        request=req,
        kind=kind,
        by=by,
        as_holder=as_holder,
        note=note,
        from_status=from_status,
        to_status=to_status,
        at=now,
    )
