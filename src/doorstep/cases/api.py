"""Requests API (native): what Open311 cannot carry: owners, holders and hand-overs, the
clock and its pauses, the timeline, messages, ratings; the handlers' queue, moves and
figures. Open311 GeoReport v2 is served apart (open311.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from doorstep.accounts.auth import account_auth, caller
from doorstep.centers.models import Center
from doorstep.core.api import ErrorOut

from . import selectors, services
from .models import RequestType, ServiceRequest
from .services.common import CaseError, used_minutes
from .services.types import label

router = Router(tags=["requests"])

_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


class FieldOut(Schema):
    code: str
    kind: str
    label: str
    why: str
    required: bool
    choices: list[dict[str, str]]


class TypeOut(Schema):
    code: str
    name: str
    description: str
    group: str
    handler: str
    partner: str | None
    first_response_hours: int
    resolution_hours: int
    clock_pauses_while_waiting_for_applicant: bool
    reopen_days: int
    fields: list[FieldOut]
    synthetic: bool


def type_out(t: RequestType) -> dict[str, Any]:
    return {
        "code": t.code,
        "name": t.local_name,
        "description": t.local_description,
        "group": t.group,
        "handler": t.handler,
        "partner": t.partner.name if t.partner_id and t.partner else None,
        "first_response_hours": t.first_response_hours,
        "resolution_hours": t.resolution_hours,
        "clock_pauses_while_waiting_for_applicant": t.pause_for_applicant,
        "reopen_days": t.reopen_days,
        "fields": [
            {
                "code": f["code"],
                "kind": f.get("kind", "text"),
                "label": label(f),
                "why": label(f, "why"),
                "required": bool(f.get("required")),
                "choices": [{"key": c["key"], "label": label(c)} for c in f.get("choices", [])],
            }
            for f in t.fields
        ],
        "synthetic": t.is_synthetic,
    }


@router.get("/requests/types", response={200: list[TypeOut], 404: ErrorOut})
def request_types(request: HttpRequest, center_id: int) -> list[dict[str, Any]]:
    """The kinds of request a center takes (its catalogue, with the form each asks and why)."""
    center = Center.objects.filter(pk=center_id).first()
    if center is None:
        raise CaseError("No such center.", code="not_found", status=404)
    return [type_out(t) for t in services.catalogue(center)]


class RequestIn(Schema):
    center_id: int
    type_code: str = Field(max_length=40)
    description: str = Field(max_length=2000)
    answers: dict[str, str | int] = Field(default_factory=dict)
    organization_id: int | None = None


class ClockOut(Schema):
    running: bool
    paused_waiting_for_applicant: bool
    used_working_minutes: int
    first_response_due: datetime | None
    resolution_due: datetime | None
    due_at: datetime | None
    overdue: bool


class RequestOut(Schema):
    id: int
    type_code: str
    type_name: str
    center_id: int
    center: str
    status: str
    status_label: str
    holder: str
    owner: str | None
    partner: str | None
    organization: str | None
    submitted_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    clock: ClockOut
    resolution: str
    decline_reason: str
    rating: int | None
    topic_id: int | None
    synthetic: bool


def _person(user: Any) -> str | None:
    if user is None:
        return None
    return user.display_name or user.username or f"#{user.pk}"


def request_out(r: ServiceRequest, now: datetime) -> dict[str, Any]:
    return {
        "id": r.pk,
        "type_code": r.type.code,
        "type_name": r.type.local_name,
        "center_id": r.center_id,
        "center": r.center.local_name,
        "status": r.status,
        "status_label": r.get_status_display(),
        "holder": r.holder,
        "owner": _person(r.owner) if r.owner_id else None,
        "partner": r.partner.name if r.partner_id and r.partner else None,
        "organization": r.organization.name if r.organization_id and r.organization else None,
        "submitted_at": r.submitted_at,
        "first_response_at": r.first_response_at,
        "resolved_at": r.resolved_at,
        "clock": {
            "running": r.clock_since is not None,
            "paused_waiting_for_applicant": r.is_open and r.clock_since is None,
            "used_working_minutes": used_minutes(r, now),
            "first_response_due": r.first_response_due,
            "resolution_due": r.resolution_due,
            "due_at": r.due_at,
            "overdue": bool(r.is_open and r.due_at and r.due_at < now),
        },
        "resolution": r.resolution,
        "decline_reason": r.decline_reason,
        "rating": r.rating,
        "topic_id": r.topic_id,
        "synthetic": r.synthetic,
    }


@router.post(
    "/requests", response={201: RequestOut, **_ERRORS}, auth=account_auth, summary="File a request"
)
def file_request(request: HttpRequest, data: RequestIn) -> Status[dict[str, Any]]:
    """File a request at a center as yourself or, with `organization_id`, as an organization
    you may act for. Answers follow the type's fields (`GET /requests/types`); never give an
    ID number."""
    req = services.submit(
        user=caller(request),
        center_id=data.center_id,
        type_code=data.type_code,
        description=data.description,
        answers={k: str(v) for k, v in data.answers.items()},
        organization_id=data.organization_id,
        via="api",
    )
    return Status(201, request_out(_load(req.pk), timezone.now()))


def _load(pk: int) -> ServiceRequest:
    return ServiceRequest.objects.select_related(
        "type", "center", "owner", "partner", "organization"
    ).get(pk=pk)


@router.get("/requests/mine", response={200: list[RequestOut], 401: ErrorOut}, auth=account_auth)
def my_requests(request: HttpRequest) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = selectors.mine(caller(request)).select_related("owner", "partner")[:200]
    return [request_out(r, now) for r in rows]


class QueueFilter(Schema):
    overdue: bool = False
    mine: bool = False
    center_id: int | None = None


@router.get("/requests/queue", response={200: list[RequestOut], 401: ErrorOut}, auth=account_auth)
def handler_queue(request: HttpRequest, filters: Query[QueueFilter]) -> list[dict[str, Any]]:
    """Open requests you handle (staff scope, or your partner organization's), nearest
    deadline first; `overdue=true` for what has passed its deadline."""
    now = timezone.now()
    rows = selectors.queue(
        caller(request),
        overdue_only=filters.overdue,
        mine_only=filters.mine,
        center_id=filters.center_id,
        now=now,
    )
    return [request_out(r, now) for r in rows]


class EventOut(Schema):
    kind: str
    label: str
    from_status: str
    to_status: str
    by: str | None
    as_holder: str
    note: str
    at: datetime


class MessageOut(Schema):
    id: int
    from_handler: bool
    as_holder: str
    body: str
    at: datetime
    files: list[str]


class DetailOut(RequestOut):
    description: str
    answers: dict[str, Any]
    timeline: list[EventOut]
    messages: list[MessageOut]


@router.get("/requests/{int:request_id}", response={200: DetailOut, **_ERRORS}, auth=account_auth)
def request_detail(request: HttpRequest, request_id: int) -> dict[str, Any]:
    page = selectors.request_page(caller(request), request_id)
    r = page.request
    handler = bool(page.roles - {"applicant"})
    return {
        **request_out(r, timezone.now()),
        "description": r.description,
        "answers": r.answers,
        "timeline": [
            {
                "kind": e.kind,
                "label": e.get_kind_display(),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "by": _person(e.by) if (handler or e.as_holder) and e.by_id else None,
                "as_holder": e.as_holder,
                "note": e.note,
                "at": e.at,
            }
            for e in page.events
        ],
        "messages": [
            {
                "id": m.pk,
                "from_handler": bool(m.as_holder),
                "as_holder": m.as_holder,
                "body": m.body,
                "at": m.at,
                "files": [f"/requests/files/{a.pk}" for a in m.attachments.all()],
            }
            for m in page.messages
        ],
    }


class MessageIn(Schema):
    body: str = Field(max_length=1000)


@router.post(
    "/requests/{int:request_id}/messages", response={201: MessageOut, **_ERRORS}, auth=account_auth
)
def post_message(request: HttpRequest, request_id: int, data: MessageIn) -> Status[dict[str, Any]]:
    """A message to the other side (files: on the request's page)."""
    m = services.message(request_id=request_id, by=caller(request), body=data.body)
    return Status(
        201,
        {
            "id": m.pk,
            "from_handler": bool(m.as_holder),
            "as_holder": m.as_holder,
            "body": m.body,
            "at": m.at,
            "files": [],
        },
    )


class MoveIn(Schema):
    action: str = Field(max_length=20, description=", ".join(services.MOVES))
    note: str = Field("", max_length=1000)
    owner_id: int | None = None


@router.post(
    "/requests/{int:request_id}/moves", response={200: RequestOut, **_ERRORS}, auth=account_auth
)
def move(request: HttpRequest, request_id: int, data: MoveIn) -> dict[str, Any]:
    """A handler's move: accept (name the owner), start, wait_applicant (the note says what
    is needed), resume, hand_over (to the type's partner), hand_back, resolve (what was
    done), decline (the public reason)."""
    services.move(
        request_id=request_id,
        by=caller(request),
        action=data.action,
        note=data.note,
        owner_id=data.owner_id,
    )
    return request_out(_load(request_id), timezone.now())


class RateIn(Schema):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=300)


@router.post(
    "/requests/{int:request_id}/rate", response={200: RequestOut, **_ERRORS}, auth=account_auth
)
def rate(request: HttpRequest, request_id: int, data: RateIn) -> dict[str, Any]:
    services.rate(request_id=request_id, by=caller(request), score=data.score, comment=data.comment)
    return request_out(_load(request_id), timezone.now())


class NoteIn(Schema):
    note: str = Field(max_length=1000)


@router.post(
    "/requests/{int:request_id}/reopen", response={200: RequestOut, **_ERRORS}, auth=account_auth
)
def reopen(request: HttpRequest, request_id: int, data: NoteIn) -> dict[str, Any]:
    services.reopen(request_id=request_id, by=caller(request), note=data.note)
    return request_out(_load(request_id), timezone.now())


@router.post(
    "/requests/{int:request_id}/close", response={200: RequestOut, **_ERRORS}, auth=account_auth
)
def close(request: HttpRequest, request_id: int) -> dict[str, Any]:
    services.close(request_id=request_id, by=caller(request))
    return request_out(_load(request_id), timezone.now())


class FigureOut(Schema):
    key: str | None
    name: str
    requests: int
    answered_in_time_share: float | None
    resolved_in_time_share: float | None
    median_first_response_hours: float | None
    median_resolution_hours: float | None
    open_now: int
    overdue_now: int
    rated: int
    rating: float | None


class FigureFilter(Schema):
    by: str = Field("center", pattern="^(center|subdistrict|district|type|partner)$")
    days: int = Field(31, ge=1, le=366)


@router.get(
    "/requests/figures",
    response={200: list[FigureOut], 401: ErrorOut, 422: ErrorOut},
    auth=account_auth,
)
def figures(request: HttpRequest, filters: Query[FigureFilter]) -> list[dict[str, Any]]:
    """Per group, requests filed in the last `days`: shares within the service level,
    medians in working hours, open and overdue now, ratings (your scope only)."""
    now = timezone.now()
    rows = selectors.figures(
        caller(request), by=filters.by, start=now - timedelta(days=filters.days), end=now, now=now
    )
    return [
        {
            "key": None if r.key is None else str(r.key),
            "name": r.name,
            "requests": r.requests,
            "answered_in_time_share": r.response_share,
            "resolved_in_time_share": r.resolution_share,
            "median_first_response_hours": r.median_first_response,
            "median_resolution_hours": r.median_resolution,
            "open_now": r.open_now,
            "overdue_now": r.overdue_now,
            "rated": r.rated,
            "rating": r.rating,
        }
        for r in rows
    ]
