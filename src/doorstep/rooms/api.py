"""Rooms API: spaces, a day's availability, the free-slot search, bookings (one or a series,
with `Idempotency-Key`), mine, cancel, check in; the staff's queue and decisions;
organizations and their members."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from doorstep.accounts import organizations
from doorstep.accounts.auth import account_auth, caller
from doorstep.core.api import ErrorOut

from . import selectors, services
from .models import Booking, Space

router = Router(tags=["rooms"])

_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class SpaceOut(Schema):
    id: int
    center_id: int
    center: str
    name: str
    kind: str
    capacity: int
    floor: str
    equipment: list[str]
    step_free: bool
    hearing_loop: bool
    bookable_from: str
    bookable_until: str
    min_minutes: int
    max_minutes: int
    slot_minutes: int
    horizon_days: int
    buffer_minutes: int
    needs_approval: bool
    for_residents: bool
    for_groups: bool
    for_companies: bool
    synthetic_details: bool


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def space_out(s: Space) -> dict:
    return {
        "id": s.pk,
        "center_id": s.center_id,
        "center": s.center.name,
        "name": s.local_name,
        "kind": s.kind,
        "capacity": s.capacity,
        "floor": s.floor,
        "equipment": list(s.equipment),
        "step_free": s.step_free,
        "hearing_loop": s.hearing_loop,
        "bookable_from": _hhmm(s.opens_minute),
        "bookable_until": _hhmm(s.closes_minute),
        "min_minutes": s.min_minutes,
        "max_minutes": s.max_minutes,
        "slot_minutes": s.slot_minutes,
        "horizon_days": s.horizon_days,
        "buffer_minutes": s.buffer_minutes,
        "needs_approval": s.approval == "staff",
        "for_residents": s.for_residents,
        "for_groups": s.for_groups,
        "for_companies": s.for_companies,
        "synthetic_details": s.synthetic_details,
    }


class SpacesQuery(Schema):
    center_id: int


@router.get("/spaces", response={200: list[SpaceOut], 422: ErrorOut})
def spaces(request: HttpRequest, filters: Query[SpacesQuery]) -> list[dict]:
    """A center's bookable spaces."""
    return [
        space_out(s) for s in selectors.public_spaces(filters.center_id).select_related("center")
    ]


class FreeQuery(Schema):
    day: date
    minutes: int = Field(60, ge=5, le=1440)
    from_time: str = Field("00:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", alias="from")
    to_time: str = Field("24:00", pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", alias="to")
    people: int = Field(1, ge=1, le=5000)
    equipment: list[str] = Field(default_factory=list, max_length=10)
    kind: str = Field("", max_length=16)
    step_free: bool = False
    center_id: int | None = None
    region: str = Field("", max_length=12)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    radius_m: int = Field(3000, ge=100, le=50_000)


class FoundOut(Schema):
    space: SpaceOut
    starts: list[datetime]
    distance_m: int | None


def _minute(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


@router.get("/spaces/free", response={200: list[FoundOut], 422: ErrorOut})
def free(request: HttpRequest, filters: Query[FreeQuery]) -> list[dict]:
    """Spaces with a free time on a day: for how long, between which times, for how many
    people, with what equipment; at a center, in a region (subdistrict or district code), or
    near a point (nearest first). Up to three free start times per space."""
    found = selectors.free_slots(
        day=filters.day,
        minutes=filters.minutes,
        from_minute=_minute(filters.from_time),
        to_minute=_minute(filters.to_time),
        people=filters.people,
        equipment=filters.equipment,
        kind=filters.kind,
        step_free=filters.step_free,
        center_id=filters.center_id,
        region_code=filters.region,
        lat=filters.lat,
        lng=filters.lng,
        radius_m=filters.radius_m,
    )
    return [
        {"space": space_out(f.space), "starts": f.starts, "distance_m": f.distance_m} for f in found
    ]


@router.get("/spaces/{space_id}", response={200: SpaceOut, 404: ErrorOut})
def space_detail(request: HttpRequest, space_id: int) -> dict:
    sp = selectors.space(space_id)
    if sp is None:
        raise services.RoomError("", code="not_found", status=404) from None
    return space_out(sp)


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    state: str
    title: str


class DayOut(Schema):
    space_id: int
    date: date
    slots: list[SlotOut]


class DayQuery(Schema):
    day: date | None = Field(None, alias="date")


@router.get("/spaces/{space_id}/availability", response={200: DayOut, 404: ErrorOut, 422: ErrorOut})
def availability(request: HttpRequest, space_id: int, q: Query[DayQuery]) -> dict:
    """A day's free/busy grid. Busy shows a title only for a public event, never who booked."""
    from django.utils.translation import gettext as _

    sp = selectors.space(space_id)
    if sp is None:
        raise services.RoomError(_("No such space."), code="not_found", status=404)
    d = selectors.availability(sp, q.day or timezone.localdate())
    return {
        "space_id": sp.pk,
        "date": d.day,
        "slots": [
            {"starts_at": s.starts_at, "ends_at": s.ends_at, "state": s.state, "title": s.title}
            for s in d.slots
        ],
    }


class RepeatIn(Schema):
    every_weeks: int = Field(1, ge=1, le=2)
    until: date
    on_conflict: str = Field("skip", pattern="^(skip|refuse)$")


class BookingIn(Schema):
    space_id: int
    starts_at: datetime
    ends_at: datetime
    title: str = Field(..., max_length=120)
    attendees: int = Field(1, ge=1, le=5000)
    organization_id: int | None = None
    public: bool = False
    repeat: RepeatIn | None = None


class BookingOut(Schema):
    id: int
    space_id: int
    space: str
    starts_at: datetime
    ends_at: datetime
    status: str
    kind: str
    title: str
    attendees: int
    organization_id: int | None
    series_id: int | None
    decide_by: datetime | None
    reason: str
    checked_in_at: datetime | None


class SkippedOut(Schema):
    date: date
    code: str
    message: str


class BookedOut(Schema):
    replayed: bool
    bookings: list[BookingOut]
    skipped: list[SkippedOut]


def booking_out(b: Booking) -> dict:
    return {
        "id": b.pk,
        "space_id": b.space_id,
        "space": b.space.local_name,
        "starts_at": b.starts_at,
        "ends_at": b.ends_at,
        "status": b.status,
        "kind": b.kind,
        "title": b.title,
        "attendees": b.attendees,
        "organization_id": b.organization_id,
        "series_id": b.series_id,
        "decide_by": b.decide_by,
        "reason": b.reason,
        "checked_in_at": b.checked_in_at,
    }


@router.post("/bookings", auth=account_auth, response={201: BookedOut, 200: BookedOut, **_ERRORS})
def create_booking(request: HttpRequest, body: BookingIn) -> Status:
    """Book a space, for yourself or for an organization you may book for; with `repeat`,
    every week or two until a date, each date checked: dates that cannot be booked are
    listed in `skipped` (`on_conflict: skip`) or refuse the whole series (`refuse`: 409
    `series_conflicts` with the dates). Send an `Idempotency-Key`: a retry returns the same."""
    user = caller(request)
    common: dict[str, Any] = {
        "by": user,
        "space_id": body.space_id,
        "starts_at": body.starts_at,
        "ends_at": body.ends_at,
        "title": body.title,
        "attendees": body.attendees,
        "organization_id": body.organization_id,
        "public": body.public,
        "idempotency_key": request.headers.get("Idempotency-Key"),
    }
    if body.repeat is None:
        r = services.book(**common)
        made, skipped, replayed = [r.booking], [], r.replayed
    else:
        s = services.book_series(
            **common,
            until=body.repeat.until,
            every_weeks=body.repeat.every_weeks,
            on_conflict=body.repeat.on_conflict,
        )
        made, skipped, replayed = s.bookings, s.skipped, s.replayed
    rows = Booking.objects.select_related("space").filter(pk__in=[b.pk for b in made])
    return Status(
        200 if replayed else 201,
        {
            "replayed": replayed,
            "bookings": [booking_out(b) for b in rows],
            "skipped": [{"date": k.day, "code": k.code, "message": k.message} for k in skipped],
        },
    )


@router.get("/bookings/mine", auth=account_auth, response=list[BookingOut])
def my_bookings(request: HttpRequest) -> list[dict]:
    """Your bookings and your organizations', from today on."""
    return [booking_out(b) for b in selectors.bookings_of(caller(request))]


class CancelIn(Schema):
    reason: str = Field("", max_length=200)
    whole_series: bool = False


@router.post(
    "/bookings/{booking_id}/cancel", auth=account_auth, response={200: list[BookingOut], **_ERRORS}
)
def cancel(request: HttpRequest, booking_id: int, body: CancelIn) -> list[dict]:
    """Cancel a booking (and with `whole_series`, the series' later dates) until the
    space's deadline."""
    done = services.cancel(
        by=caller(request),
        booking_id=booking_id,
        reason=body.reason,
        whole_series=body.whole_series,
    )
    return [booking_out(b) for b in done]


@router.post(
    "/bookings/{booking_id}/check-in", auth=account_auth, response={200: BookingOut, **_ERRORS}
)
def check_in(request: HttpRequest, booking_id: int) -> dict:
    """Check in within the window (from a few minutes before the start)."""
    return booking_out(services.check_in(by=caller(request), booking_id=booking_id))


class DoorIn(Schema):
    door_code: str = Field(..., max_length=32)


@router.post("/bookings/door", auth=account_auth, response={200: BookingOut, **_ERRORS})
def door(request: HttpRequest, body: DoorIn) -> dict:
    """Check in with the code of the space's door poster: your booking starting now."""
    return booking_out(services.check_in_at_door(by=caller(request), door_code=body.door_code))


@router.get("/bookings/pending", auth=account_auth, response={200: list[BookingOut], **_ERRORS})
def pending(request: HttpRequest) -> list[dict]:
    """Staff: the requests waiting for a decision at the centers you manage."""
    return [booking_out(b) for b in selectors.queue(caller(request))]


class DecisionIn(Schema):
    approve: bool
    reason: str = Field("", max_length=200)


@router.post(
    "/bookings/{booking_id}/decision", auth=account_auth, response={200: BookingOut, **_ERRORS}
)
def decision(request: HttpRequest, booking_id: int, body: DecisionIn) -> dict:
    """Staff: approve a request, or refuse it with a reason the booker sees."""
    b = services.decide(
        by=caller(request), booking_id=booking_id, approve=body.approve, reason=body.reason
    )
    return booking_out(b)


class OrganizationIn(Schema):
    name: str = Field(..., max_length=80)
    kind: str = Field(..., max_length=16)
    center_id: int


class OrganizationOut(Schema):
    id: int
    name: str
    kind: str
    center_id: int
    status: str
    is_manager: bool
    may_book: bool
    invite_code: str | None


def _org_out(m) -> dict:  # type: ignore[no-untyped-def]
    o = m.organization
    return {
        "id": o.pk,
        "name": o.name,
        "kind": o.kind,
        "center_id": o.center_id,
        "status": o.status,
        "is_manager": m.is_manager,
        "may_book": m.may_book,
        "invite_code": o.invite_code if m.is_manager else None,
    }


@router.get("/organizations/mine", auth=account_auth, response=list[OrganizationOut])
def my_organizations(request: HttpRequest) -> list[dict]:
    return [_org_out(m) for m in organizations.organizations_of(caller(request))]


@router.post("/organizations", auth=account_auth, response={201: OrganizationOut, **_ERRORS})
def create_organization(request: HttpRequest, body: OrganizationIn) -> Status:
    """Register a group or company at a center; you become its manager. The center confirms
    it before anyone books for it."""
    user = caller(request)
    org = organizations.create_organization(
        by=user, name=body.name, kind=body.kind, center_id=body.center_id
    )
    return Status(201, _org_out(organizations.organizations_of(user).get(organization=org)))


class JoinIn(Schema):
    code: str = Field(..., max_length=16)


@router.post("/organizations/join", auth=account_auth, response={200: OrganizationOut, **_ERRORS})
def join(request: HttpRequest, body: JoinIn) -> dict:
    """Join an organization with the code its manager shared."""
    m = organizations.join_organization(user=caller(request), code=body.code)
    return _org_out(m)


class MemberIn(Schema):
    may_book: bool | None = None
    remove: bool = False


@router.patch(
    "/organizations/{organization_id}/members/{user_id}",
    auth=account_auth,
    response={204: None, **_ERRORS},
)
def member(request: HttpRequest, organization_id: int, user_id: int, body: MemberIn) -> Status:
    """A manager lets a member book or not, or removes them."""
    organizations.set_member(
        by=caller(request),
        organization_id=organization_id,
        member_id=user_id,
        may_book=body.may_book,
        remove=body.remove,
    )
    return Status(204, None)
