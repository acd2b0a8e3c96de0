"""Activities API: browse, register (Idempotency-Key), my registrations, tickets, check-in."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status

from doorstep.accounts.auth import account_auth, caller
from doorstep.accounts.scopes import is_staff_member
from doorstep.core.api import ErrorOut
from doorstep.core.errors import DoorstepError
from doorstep.core.qr import qr_svg

from . import selectors, services, tickets
from .checkin import check_in
from .models import Activity, Registration
from .selectors import ActivityFilters

router = Router(tags=["activities"])


class CenterRef(Schema):
    id: int
    name: str


class ActivityOut(Schema):
    id: int
    title: str
    center: CenterRef
    room: str
    category: str
    audience: str
    age_min: int | None
    age_max: int | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_left: int
    allocation: str
    state: str
    registration_opens_at: datetime
    registration_closes_at: datetime
    waitlist_enabled: bool
    lottery_commitment: str | None


class ActivityDetail(ActivityOut):
    description: str
    places_per_household: int
    weekly_limit_per_person: int | None
    cancel_deadline: datetime | None
    drawn_at: datetime | None
    cancel_reason: str


class ActivityList(Schema):
    count: int
    items: list[ActivityOut]


class ActivityQuery(Schema):
    center: int | None = None
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    category: str = ""
    audience: str = ""
    has_seats: bool = False
    limit: int = 50
    offset: int = 0


class RegisterIn(Schema):
    person_ids: list[int]


class RegistrationOut(Schema):
    id: int
    public_id: str
    activity_id: int
    activity_title: str
    starts_at: datetime
    person_id: int
    person_name: str
    status: str
    queue_position: int | None
    offer_expires_at: datetime | None
    checked_in_at: datetime | None


class RegisterOut(Schema):
    replayed: bool
    registrations: list[RegistrationOut]


class TicketOut(Schema):
    token: str
    # What the QR holds: the ticket's page (a phone camera opens it; the door reads the token).
    url: str
    # To read aloud or type at the door: 6 characters without look-alikes.
    short_code: str
    qr_svg: str


class CheckInIn(Schema):
    token: str = Field(..., max_length=400)
    nonce: str = Field(..., min_length=8, max_length=64)


class CheckInOut(Schema):
    code: str
    message: str
    person_name: str | None
    activity_title: str | None
    checked_in_at: datetime | None


def activity_out(a: Activity, now: datetime) -> dict:
    return {
        "id": a.pk,
        "title": a.title,
        "center": {"id": a.center_id, "name": a.center.name},
        "room": a.room,
        "category": a.category,
        "audience": a.audience,
        "age_min": a.age_min,
        "age_max": a.age_max,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "capacity": a.capacity,
        "seats_left": selectors.seats_left(a),
        "allocation": a.allocation,
        "state": selectors.state_of(a, now),
        "registration_opens_at": a.registration_opens_at,
        "registration_closes_at": a.registration_closes_at,
        "waitlist_enabled": a.waitlist_enabled,
        "lottery_commitment": a.lottery_commitment or None,
    }


def registration_out(r: Registration, position: int | None = None) -> dict:
    return {
        "id": r.pk,
        "public_id": r.public_id,
        "activity_id": r.activity_id,
        "activity_title": r.activity.title,
        "starts_at": r.activity.starts_at,
        "person_id": r.person_id,
        "person_name": r.person.name,
        "status": r.status,
        "queue_position": position,
        "offer_expires_at": r.offer_expires_at,
        "checked_in_at": r.checked_in_at,
    }


@router.get("/activities", response={200: ActivityList, 400: ErrorOut, 422: ErrorOut})
def list_activities(request: HttpRequest, params: Query[ActivityQuery]) -> dict:
    now = timezone.now()
    count, items = selectors.published_activities(
        ActivityFilters(
            center=params.center,
            date_from=params.from_,
            date_to=params.to,
            category=params.category,
            audience=params.audience,
            has_seats=params.has_seats,
            limit=params.limit,
            offset=params.offset,
        ),
        now=now,
    )
    return {"count": count, "items": [activity_out(a, now) for a in items]}


@router.get("/activities/{activity_id}", response={200: ActivityDetail, 404: ErrorOut})
def get_activity(request: HttpRequest, activity_id: int) -> dict:
    now = timezone.now()
    a = services.settle(selectors.get_published(activity_id), now=now)
    data = activity_out(a, now)
    data.update(
        {
            "description": a.description,
            "places_per_household": a.places_per_household,
            "weekly_limit_per_person": a.weekly_limit_per_person,
            "cancel_deadline": a.cancel_deadline,
            "drawn_at": a.drawn_at,
            "cancel_reason": a.cancel_reason,
        }
    )
    return data


@router.get("/activities/{activity_id}/draw", response={200: dict, 404: ErrorOut})
def get_draw(request: HttpRequest, activity_id: int) -> dict:
    """The public lottery record: commitment, entries, and after the draw the seed and result.

    Recompute it with `doorstep verify-draw --file record.json` (algorithm in the docs).
    """
    a = services.settle(selectors.get_published(activity_id))
    if a.allocation != "lottery":
        raise DoorstepError(_("This activity has no lottery."), code="not_lottery", status=404)
    return services.draw_record(a)


@router.post(
    "/activities/{activity_id}/registrations",
    auth=account_auth,
    response={
        201: RegisterOut,
        200: RegisterOut,
        400: ErrorOut,
        401: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
)
def create_registration(request: HttpRequest, activity_id: int, body: RegisterIn) -> Status:
    """Register people of your household. Send an `Idempotency-Key` header: a retry with the
    same key returns the same answer and never takes a second place."""
    user = caller(request)
    result = services.register(
        account=user,
        activity_id=activity_id,
        person_ids=body.person_ids,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    regs = result.registrations
    if result.replayed:
        # A new registration carries its activity and people already; a replay is re-read.
        regs = list(
            Registration.objects.filter(pk__in=[r.pk for r in regs]).select_related(
                "activity", "person"
            )
        )
    status = 200 if result.replayed else 201
    return Status(
        status,
        {"replayed": result.replayed, "registrations": [registration_out(r) for r in regs]},
    )


@router.get("/me/registrations", auth=account_auth, response=list[RegistrationOut])
def my_registrations(request: HttpRequest) -> list[dict]:
    user = caller(request)
    regs = selectors.registrations_of(user)
    positions = selectors.waitlist_positions(regs)
    return [registration_out(r, positions.get(r.pk)) for r in regs]


@router.delete(
    "/registrations/{registration_id}",
    auth=account_auth,
    response={200: RegistrationOut, 400: ErrorOut, 404: ErrorOut},
)
def cancel_registration(request: HttpRequest, registration_id: int) -> dict:
    user = caller(request)
    reg = services.cancel(registration_id=registration_id, by=user)
    return registration_out(selectors.registration_of(user, reg.pk))


@router.post(
    "/registrations/{registration_id}/accept",
    auth=account_auth,
    response={200: RegistrationOut, 400: ErrorOut, 404: ErrorOut},
)
def accept(request: HttpRequest, registration_id: int) -> dict:
    user = caller(request)
    services.accept_offer(registration_id=registration_id, account=user)
    return registration_out(selectors.registration_of(user, registration_id))


@router.get(
    "/registrations/{registration_id}/ticket",
    auth=account_auth,
    response={200: TicketOut, 404: ErrorOut, 409: ErrorOut},
)
def ticket(request: HttpRequest, registration_id: int) -> dict:
    user = caller(request)
    reg = selectors.registration_of(user, registration_id)
    if reg.status != "confirmed":
        raise DoorstepError(_("Only a confirmed place has a ticket."), code="no_ticket", status=409)
    token = tickets.token_for(reg)
    url = request.build_absolute_uri(tickets.path_for(token))
    return {
        "token": token,
        "url": url,
        "short_code": tickets.short_code_for(reg),
        "qr_svg": qr_svg(url),
    }


MESSAGES = {
    "welcome": gettext_lazy("Welcome!"),
    "already_checked_in": gettext_lazy("Already checked in."),
    "wrong_day": gettext_lazy("This ticket is for another day."),
    "cancelled": gettext_lazy("This registration was cancelled."),
    "not_confirmed": gettext_lazy("No confirmed place on this ticket."),
    "not_found": gettext_lazy("Ticket not found."),
    "invalid_ticket": gettext_lazy("Not a valid ticket."),
}


@router.post(
    "/checkins",
    auth=account_auth,
    response={200: CheckInOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
)
def post_checkin(request: HttpRequest, body: CheckInIn) -> dict:
    """Staff scan a ticket. The nonce makes a repeated submission of the same scan harmless."""
    user = caller(request)
    if not is_staff_member(user):
        raise DoorstepError(
            _("Only center staff can check people in."), code="forbidden", status=403
        )
    result = check_in(token=body.token, nonce=body.nonce, staff=user)
    reg = result.registration
    return {
        "code": result.code,
        "message": str(MESSAGES.get(result.code, result.code)),
        "person_name": reg.person.name if reg else None,
        "activity_title": reg.activity.title if reg else None,
        "checked_in_at": result.checked_in_at,
    }
