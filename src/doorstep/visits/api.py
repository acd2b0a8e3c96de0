"""Visits API: poster check-in (the hot path), check-out, staff tally and service ledger, routes.

POST /centers/{id}/visits is what a scanning app calls: the poster's code `k`, and either a
bearer token (a signed-in resident) or `device`, a random id the app keeps (only its keyed
hash is stored). 201 when the visit counts, 200 when it repeats one inside the window.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from doorstep.accounts.auth import account_auth, bearer_token, caller, client_ip
from doorstep.accounts.models import User
from doorstep.accounts.tokens import user_for_token
from doorstep.core.api import ErrorOut

from . import codes, selectors, services
from .models import Visit
from .vocab import Group, ServiceSource

router = Router(tags=["visits"])


class CheckInIn(Schema):
    k: str = Field(..., max_length=32, description="the code on today's poster")
    device: str = Field("", max_length=128, description="a random id the app keeps")
    group: str = Field(Group.UNKNOWN, max_length=10)


class VisitOut(Schema):
    id: int | None
    center_id: int
    counted: bool
    arrived_at: datetime | None
    left_at: datetime | None
    left_estimated: bool


class CheckOutIn(Schema):
    device: str = Field("", max_length=128)


class TallyIn(Schema):
    group: str = Field(..., max_length=10)


class CountsOut(Schema):
    day: str
    by_group: dict[str, int]
    by_channel: dict[str, int]


class ServiceIn(Schema):
    service: str = Field(..., max_length=32)
    count: int = 1
    note: str = Field("", max_length=200)
    at: datetime | None = None


class ServiceOut(Schema):
    id: int
    center_id: int
    service: str
    count: int
    at: datetime
    note: str
    source: str


class StopOut(Schema):
    order: int
    kind: str  # "center" or "site" (a heritage site)
    center_id: int | None
    site_id: int | None
    center_name: str  # kept for older clients: the stop's name, center or site
    name: str
    lat: float
    lng: float
    stamped: bool


class RouteOut(Schema):
    id: int
    title: str
    title_en: str
    theme: str
    source: str
    stops: int
    stamped: int
    complete: bool


class RouteDetail(RouteOut):
    story: str
    story_en: str
    stop_list: list[StopOut]


def _bearer_user(request: HttpRequest) -> User | None:
    """The resident a bearer token names; a present but bad token is a 401, not anonymous."""
    if "Authorization" not in request.headers:
        return None
    token = bearer_token(request)
    user = user_for_token(token) if token else None
    if user is None:
        raise services.VisitError(_("Please sign in."), code="unauthorized", status=401)
    return user


def _device(raw: str) -> str:
    raw = (raw or "").strip()
    if len(raw) < 16:
        return ""
    return codes.device_hash(raw)


def visit_out(visit: Visit | None, center_id: int, counted: bool) -> dict:
    return {
        "id": visit.pk if visit else None,
        "center_id": center_id,
        "counted": counted,
        "arrived_at": visit.arrived_at if visit else None,
        "left_at": visit.left_at if visit else None,
        "left_estimated": visit.left_estimated if visit else False,
    }


@router.post(
    "/centers/{center_id}/visits",
    response={200: VisitOut, 201: VisitOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut},
)
def check_in(request: HttpRequest, center_id: int, payload: CheckInIn) -> Status:
    user = _bearer_user(request)
    device = "" if user else _device(payload.device)
    if user is None and not device:
        raise services.VisitError(
            _("Send a device id of at least 16 characters, or a bearer token."),
            code="no_visitor",
        )
    result = services.check_in(
        center_id=center_id,
        code=payload.k,
        user=user,
        device=device,
        group=payload.group,
        ip=client_ip(request),
    )
    return Status(
        201 if result.counted else 200, visit_out(result.visit, center_id, result.counted)
    )


@router.post("/visits/{visit_id}/checkout", response={200: VisitOut, 401: ErrorOut, 404: ErrorOut})
def check_out(request: HttpRequest, visit_id: int, payload: CheckOutIn) -> dict:
    user = _bearer_user(request)
    visit = services.check_out(
        visit_id=visit_id, user=user, device="" if user else _device(payload.device)
    )
    return visit_out(visit, visit.center_id, True)


def _staff(request: HttpRequest) -> User:
    user = caller(request)
    assert isinstance(user, User)
    return user


@router.post(
    "/centers/{center_id}/tally",
    auth=account_auth,
    response={201: CountsOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut},
)
def tally(request: HttpRequest, center_id: int, payload: TallyIn) -> Status:
    services.tally(center_id=center_id, staff=_staff(request), group=payload.group)
    return Status(201, _counts(center_id))


@router.get(
    "/centers/{center_id}/visits/today",
    auth=account_auth,
    response={200: CountsOut, 401: ErrorOut, 404: ErrorOut},
)
def today_counts(request: HttpRequest, center_id: int) -> dict:
    selectors.managed_center(_staff(request), center_id)
    return _counts(center_id)


def _counts(center_id: int) -> dict:
    day = timezone.localdate()
    return {
        "day": day.isoformat(),
        "by_group": selectors.tally_counts(center_id, day),
        "by_channel": selectors.channel_counts(center_id, day),
    }


def service_out(r: object) -> dict:
    return {
        f: getattr(r, f) for f in ("id", "center_id", "service", "count", "at", "note", "source")
    }


@router.post(
    "/centers/{center_id}/services",
    auth=account_auth,
    response={201: ServiceOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut},
)
def record_service(request: HttpRequest, center_id: int, payload: ServiceIn) -> Status:
    now = timezone.now()
    if payload.at is not None and payload.at > now:
        raise services.VisitError(_("The time cannot be in the future."), code="invalid_time")
    record = services.record_service(
        center_id=center_id,
        staff=_staff(request),
        service=payload.service,
        count=payload.count,
        note=payload.note,
        at=payload.at,
        source=ServiceSource.API,
    )
    return Status(201, service_out(record))


@router.delete(
    "/services/{record_id}", auth=account_auth, response={204: None, 400: ErrorOut, 404: ErrorOut}
)
def undo_service(request: HttpRequest, record_id: int) -> Status:
    services.undo_service(record_id=record_id, staff=_staff(request))
    return Status(204, None)


def _route_user(request: HttpRequest) -> User | None:
    if "Authorization" in request.headers:
        return _bearer_user(request)
    user = getattr(request, "user", None)
    return user if isinstance(user, User) and user.is_authenticated else None


@router.get("/routes", response={200: list[RouteOut], 401: ErrorOut})
def list_routes(request: HttpRequest) -> list[dict]:
    user = _route_user(request)
    routes = list(selectors.visible_routes(user))
    progress = selectors.progress_by_route(user, routes)
    return [
        {
            "id": r.pk,
            "title": r.title,
            "title_en": r.title_en,
            "theme": r.theme,
            "source": r.source,
            "stops": progress[r.pk].total,
            "stamped": progress[r.pk].stamped,
            "complete": progress[r.pk].complete,
        }
        for r in routes
    ]


@router.get("/routes/{route_id}", response={200: RouteDetail, 401: ErrorOut, 404: ErrorOut})
def get_route(request: HttpRequest, route_id: int) -> dict:
    user = _route_user(request)
    route = selectors.get_route(route_id, user)
    stops = selectors.stop_views(user, selectors.route_stops(route))
    stamped = [s for s in stops if s.stamped]
    return {
        "id": route.pk,
        "title": route.title,
        "title_en": route.title_en,
        "theme": route.theme,
        "source": route.source,
        "story": route.story,
        "story_en": route.story_en,
        "stops": len(stops),
        "stamped": len(stamped),
        "complete": bool(stops) and len(stamped) == len(stops),
        "stop_list": [
            {
                "order": s.order,
                "kind": s.kind,
                "center_id": s.id if s.kind == "center" else None,
                "site_id": s.id if s.kind == "site" else None,
                "center_name": s.name,
                "name": s.name,
                "lat": s.lat,
                "lng": s.lng,
                "stamped": s.stamped,
            }
            for s in stops
        ],
    }
