"""Permissioned reads of requests: the applicant's own, a handler's queue sorted by deadline,
the overdue view of an admin's whole scope, one request's page, and the figures."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import Coalesce

from doorstep.accounts.models import Organization, User
from doorstep.accounts.scopes import scope_q
from doorstep.core.errors import NotFound

from .models import PUBLIC_EVENTS, Event, Message, ServiceRequest
from .services.common import PARTNER, STAFF, applicant_q, partner_orgs, roles

QUEUE_PAGE = 50


def staff_scope_q(user: User) -> Q | None:
    """Requests in what `user` manages, over the request's own center/subdistrict/district
    columns (so the queue reads one index per role); None when nothing."""
    return scope_q(user, center="center_id")


def handler_scope_q(user: User) -> Q | None:
    """Staff scope, and the requests handed to the user's partner organizations."""
    q = staff_scope_q(user)
    orgs = partner_orgs(user)
    if orgs:
        part = Q(partner_id__in=orgs, type__partner_id__in=orgs)
        q = part if q is None else q | part
    return q


def queue(
    user: User,
    *,
    overdue_only: bool = False,
    mine_only: bool = False,
    center_id: int | None = None,
    now: datetime,
    limit: int = QUEUE_PAGE,
) -> list[ServiceRequest]:
    """Open requests the user handles, the nearest deadline first (paused ones last)."""
    q = handler_scope_q(user)
    if q is None:
        return []
    rows = ServiceRequest.objects.filter(q, is_open=True)
    if overdue_only:
        rows = rows.filter(due_at__lt=now)
    if mine_only:
        rows = rows.filter(owner=user)
    if center_id:
        rows = rows.filter(center_id=center_id)
    return list(
        rows.select_related("type", "center", "owner", "partner").order_by(
            F("due_at").asc(nulls_last=True), "id"
        )[:limit]
    )


def overdue_count(user: User, now: datetime) -> int:
    q = handler_scope_q(user)
    if q is None:
        return 0
    return ServiceRequest.objects.filter(q, is_open=True, due_at__lt=now).count()


def mine(user: User) -> QuerySet[ServiceRequest]:
    return (
        ServiceRequest.objects.filter(applicant_q(user))
        .select_related("type", "center", "organization")
        .order_by("-submitted_at", "-id")
    )


@dataclass
class Page:
    request: ServiceRequest
    roles: set[str]
    events: list[Event]
    messages: list[Message]


def request_page(user: User, request_id: int) -> Page:
    req = (
        ServiceRequest.objects.select_related(
            "type", "type__partner", "center", "owner", "partner", "organization", "topic"
        )
        .filter(pk=request_id)
        .first()
    )
    who = roles(user, req) if req is not None else set()
    if req is None or not who:
        raise NotFound("No such request.", code="not_found")
    events = req.events.select_related("by")
    if not who & {STAFF, PARTNER}:
        events = events.filter(kind__in=PUBLIC_EVENTS)
    msgs = req.messages.select_related("author").prefetch_related("attachments")
    return Page(request=req, roles=who, events=list(events), messages=list(msgs))


# ---- figures -------------------------------------------------------------------------------

GROUPS = {
    "center": ("center_id", "center__name"),
    "subdistrict": ("subdistrict_id", "subdistrict__name"),
    "district": ("district_id", "district__name"),
    "type": ("type_id", "type__name"),
    "partner": ("partner_id", "partner__name"),
}


@dataclass
class Row:
    key: Any
    name: str
    requests: int = 0
    responded: int = 0
    responded_in_time: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    open_now: int = 0
    overdue_now: int = 0
    rated: int = 0
    rating: float | None = None
    first_response_minutes: list[int] = field(default_factory=list, repr=False)
    resolution_minutes: list[int] = field(default_factory=list, repr=False)

    @property
    def response_share(self) -> float | None:
        return self.responded_in_time / self.responded if self.responded else None

    @property
    def resolution_share(self) -> float | None:
        return self.resolved_in_time / self.resolved if self.resolved else None

    @property
    def median_first_response(self) -> float | None:
        m = self.first_response_minutes
        return statistics.median(m) / 60 if m else None

    @property
    def median_resolution(self) -> float | None:
        m = self.resolution_minutes
        return statistics.median(m) / 60 if m else None


def figures(user: User, *, by: str, start: datetime, end: datetime, now: datetime) -> list[Row]:
    """Per group: requests filed in [start, end), how many were answered and resolved within
    the service level, the medians (working hours), open and overdue now, ratings."""
    q = handler_scope_q(user)
    if q is None or by not in GROUPS:
        return []
    key, name = GROUPS[by]
    rows = ServiceRequest.objects.filter(q, submitted_at__gte=start, submitted_at__lt=end)
    out: dict[Any, Row] = {}
    for r in (
        rows.values(key, name)
        .annotate(
            n=Count("id"),
            responded=Count("id", filter=Q(first_response_minutes__isnull=False)),
            responded_in_time=Count(
                "id",
                filter=Q(first_response_minutes__lte=F("type__first_response_hours") * 60),
            ),
            resolved=Count("id", filter=Q(resolved_in_time__isnull=False)),
            resolved_in_time=Count("id", filter=Q(resolved_in_time=True)),
            open_now=Count("id", filter=Q(is_open=True)),
            overdue_now=Count("id", filter=Q(is_open=True, due_at__lt=now)),
            rated=Count("rating"),
            avg_rating=Avg("rating"),
        )
        .order_by(name)
    ):
        out[r[key]] = Row(
            key=r[key],
            name=r[name] or "",
            requests=r["n"],
            responded=r["responded"],
            responded_in_time=r["responded_in_time"],
            resolved=r["resolved"],
            resolved_in_time=r["resolved_in_time"],
            open_now=r["open_now"],
            overdue_now=r["overdue_now"],
            rated=r["rated"],
            rating=r["avg_rating"],
        )
    medians: dict[Any, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for k, first, whole in rows.values_list(
        key, "first_response_minutes", Coalesce("resolution_minutes", -1)
    ):
        if first is not None:
            medians[k][0].append(first)
        if whole >= 0:
            medians[k][1].append(whole)
    for k, (first, whole) in medians.items():
        if k in out:
            out[k].first_response_minutes, out[k].resolution_minutes = first, whole
    return list(out.values())


def confirmed_partners() -> QuerySet[Organization]:
    """The partner organizations a type can name as its handler."""
    return Organization.objects.filter(
        kind=Organization.Kind.PARTNER, status=Organization.Status.CONFIRMED
    ).order_by("name")
