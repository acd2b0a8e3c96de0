"""Filing a request: as oneself or as an organization, from a page, the API or an Open311
client. The clock starts at submission, not when staff first open it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from doorstep.accounts import organizations
from doorstep.accounts.models import User
from doorstep.centers.models import Center

from .. import sla
from ..models import EventKind, Handler, ServiceRequest, Status, Via
from .common import CaseError, _now, calendar, clean_text, event, holidays, set_dues
from .types import clean_answers, offered

DESCRIPTION_MAX = 2000
PER_DAY = 10


@transaction.atomic
def submit(
    *,
    user: User,
    center_id: int,
    type_code: str,
    description: str,
    answers: Mapping[str, Any] | None = None,
    organization_id: int | None = None,
    via: str = Via.WEB,
    description_required: bool = True,
    contact_name: str = "",
    contact_phone: str = "",
    synthetic: bool = False,
    now: datetime | None = None,
) -> ServiceRequest:
    now = _now(now)
    if not (user.is_authenticated and user.is_active):
        raise CaseError(_("Please sign in."), code="unauthorized", status=401)
    center = Center.objects.filter(pk=center_id).first()
    if center is None:
        raise CaseError(_("No such center."), code="invalid", field="center", status=404)
    req_type = offered(center, (type_code or "").strip())
    text = clean_text(
        description,
        field="description",
        max_length=DESCRIPTION_MAX,
        required=description_required,
    )
    cleaned = clean_answers(req_type, answers or {})
    org = organizations.acting_for(user, organization_id) if organization_id else None
    if (
        not synthetic
        # An Open311 client files for many people; its api_key has a rate of its own.
        and via != Via.OPEN311
        and ServiceRequest.objects.filter(
            applicant=user, submitted_at__gt=now - timedelta(days=1)
        ).count()
        >= PER_DAY
    ):
        raise CaseError(
            _("You have filed %(n)s requests today; please come back tomorrow.") % {"n": PER_DAY},
            code="rate_limited",
            status=429,
        )
    holder = Handler.SUBDISTRICT if req_type.handler == Handler.SUBDISTRICT else Handler.CENTER
    days = holidays()
    cal = calendar(req_type, center, holder, days)
    req = ServiceRequest(
        type=req_type,
        center=center,
        district_id=center.district_id,
        subdistrict_id=center.subdistrict_id,
        applicant=user,
        organization=org,
        contact_name=clean_text(contact_name, field="name", max_length=40, required=False),
        contact_phone=contact_phone[:20],
        description=text,
        answers=cleaned,
        status=Status.SUBMITTED,
        holder=holder,
        via=via,
        submitted_at=now,
        updated_at=now,
        clock_since=now,
        first_response_due=sla.add_working(cal, now, req_type.first_response_hours * 60),
        synthetic=synthetic,
    )
    set_dues(req, days)
    req.save()
    event(req, EventKind.SUBMITTED, by=user, now=now, to_status=Status.SUBMITTED)
    from .notices import tell_handlers

    tell_handlers(req, "submitted", now=now)
    return req
