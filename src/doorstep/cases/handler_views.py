"""Requests pages for those who handle them: the queue by deadline (center staff, the
subdistrict, a partner's members), one request with its moves, the catalogue of types with
each center's switches, and the figures."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import StaffRole, User
from doorstep.accounts.scopes import is_staff_member, managed_centers
from doorstep.core.errors import DoorstepError

from . import selectors, services
from .models import Group, Handler
from .services.common import PARTNER, STAFF, partner_orgs
from .services.types import answer_rows, catalogue
from .views import Action, _clock, _int, post_message, run_action


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _base(user: User) -> str:
    """Staff see the back office around the page; a partner's members the plain site."""
    return "activities/staff_base.html" if is_staff_member(user) else "cases/partner_base.html"


def handler_required(view: Any) -> Any:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("accounts:sign_in"))
        if not (is_staff_member(user) or partner_orgs(user)):
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@handler_required
def queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    overdue_only = request.GET.get("overdue") == "1"
    mine_only = request.GET.get("mine") == "1"
    center_id = _int(request.GET.get("center"))
    rows = selectors.queue(
        user, overdue_only=overdue_only, mine_only=mine_only, center_id=center_id, now=now
    )
    return render(
        request,
        "cases/queue.html",
        {
            "base": _base(user),
            "rows": rows,
            "now": now,
            "overdue_only": overdue_only,
            "mine_only": mine_only,
            "overdue": selectors.overdue_count(user, now),
            "is_staff": is_staff_member(user),
        },
    )


def _topic(request: HttpRequest, user: User, request_id: int) -> str:
    services.raise_topic(
        request_id=request_id,
        by=user,
        title=request.POST.get("title", ""),
        description=request.POST.get("description", ""),
        topic_id=_int(request.POST.get("topic")),
    )
    return _("Linked to a deliberation topic.")


def _move(action: str) -> Action:
    def run(request: HttpRequest, user: User, request_id: int) -> str:
        services.move(
            request_id=request_id,
            by=user,
            action=action,
            note=request.POST.get("note", ""),
            owner_id=_int(request.POST.get("owner")),
        )
        return _("Done.")

    return run


HANDLER_ACTIONS: dict[str, Action] = {
    "message": post_message,
    "topic": _topic,
    **{m: _move(m) for m in services.MOVES},
}


@handler_required
@require_http_methods(["GET", "POST"])
def handle(request: HttpRequest, request_id: int) -> HttpResponse:
    user = _user(request)
    errors: list[str] = []
    if request.method == "POST":
        errors = run_action(request, request_id, HANDLER_ACTIONS)
        if not errors:
            return redirect("cases:handle", request_id)
    try:
        page = selectors.request_page(user, request_id)
    except DoorstepError as e:
        raise Http404 from e
    if not page.roles & {STAFF, PARTNER}:
        raise Http404
    req = page.request
    side = (
        "partner"
        if (req.holder == Handler.PARTNER and PARTNER in page.roles)
        else ("staff" if STAFF in page.roles else "")
    )
    moves = [m for m, (froms, _to) in services.MOVES.items() if req.status in froms]
    if req.holder == Handler.PARTNER and side != "partner":
        moves = [m for m in moves if m == "hand_back"]
    if side == "partner":
        moves = [m for m in moves if m not in ("hand_over", "decline")]
    if req.holder != Handler.PARTNER:
        moves = [m for m in moves if m != "hand_back"]
    if req.type.partner_id is None:
        moves = [m for m in moves if m != "hand_over"]
    owners = (
        User.objects.filter(staff_roles__center_id=req.center_id, is_active=True).distinct()
        if side == "staff"
        else User.objects.none()
    )
    return render(
        request,
        "cases/handle.html",
        {
            "base": _base(user),
            "req": req,
            "page": page,
            "answers": answer_rows(req.type, req.answers),
            "clock": _clock(req, timezone.now()),
            "moves": moves,
            "side": side,
            "owners": owners,
            "page_errors": errors,
        },
        status=400 if errors else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def types(request: HttpRequest) -> HttpResponse:
    """The catalogue of one center with its switches; new types (for a center, the
    subdistrict or district one manages, or from a decided topic)."""
    user = _user(request)
    centers = list(managed_centers(user).order_by("name")[:500])
    center = next((c for c in centers if c.pk == _int(request.GET.get("center"))), None) or (
        centers[0] if centers else None
    )
    errors: list[str] = []
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("do") == "switch" and center is not None:
                services.switch(
                    by=user,
                    center_id=center.pk,
                    type_id=_int(p.get("type")) or 0,
                    enabled=p.get("enabled") == "1",
                )
                messages.success(request, _("Saved."))
            elif p.get("do") == "create":
                try:
                    fields = json.loads(p.get("fields") or "[]")
                except ValueError:
                    raise services.CaseError(
                        _("The fields are not valid JSON."), code="invalid_fields"
                    ) from None
                values = {
                    "code": p.get("code", ""),
                    "name": p.get("name", ""),
                    "name_en": p.get("name_en", ""),
                    "description": p.get("description", ""),
                    "group": p.get("group", ""),
                    "fields": fields,
                    "handler": p.get("handler", Handler.CENTER),
                    "partner_id": _int(p.get("partner")),
                    "first_response_hours": _int(p.get("first_response_hours")) or 0,
                    "resolution_hours": _int(p.get("resolution_hours")) or 0,
                    "pause_for_applicant": p.get("pause_for_applicant") == "1",
                    "office_hours": p.get("office_hours", ""),
                }
                topic_id = _int(p.get("topic"))
                if topic_id:
                    services.type_from_topic(by=user, topic_id=topic_id, **values)
                else:
                    place = p.get("place", "")
                    services.create_type(
                        by=user,
                        center_id=center.pk if place == "center" and center else None,
                        region_code=place if place not in ("", "center") else "",
                        **values,
                    )
                messages.success(request, _("The type is in the catalogue."))
            else:
                errors.append(_("Unknown action."))
        except DoorstepError as e:
            errors.append(str(e.message))
        if not errors:
            return redirect(f"{reverse('cases:types')}?center={center.pk if center else ''}")
    from doorstep.deliberation.models import Status as TopicStatus
    from doorstep.deliberation.models import Topic

    topics = Topic.objects.filter(
        center__in=[c.pk for c in centers],
        status__in=(TopicStatus.DECIDED, TopicStatus.IMPLEMENTING, TopicStatus.DONE),
    ).order_by("-created_at")[:50]
    regions = []
    for role in user.staff_roles.select_related("region"):
        if role.scope in (StaffRole.Scope.SUBDISTRICT, StaffRole.Scope.DISTRICT) and role.region:
            regions.append(role.region)
    return render(
        request,
        "cases/types.html",
        {
            "centers": centers,
            "center": center,
            "types": catalogue(center, include_off=True) if center else [],
            "groups": Group.choices,
            "handlers": Handler.choices,
            "partners": selectors.confirmed_partners(),
            "topics": topics,
            "regions": regions,
            "page_errors": errors,
            "posted": request.POST if errors else {},
        },
        status=400 if errors else 200,
    )


PERIODS = {"month": 31, "quarter": 92, "year": 366}


@handler_required
def figures(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    by = request.GET.get("by", "center")
    by = by if by in selectors.GROUPS else "center"
    period = request.GET.get("period", "month")
    period = period if period in PERIODS else "month"
    start: datetime = now - timedelta(days=PERIODS[period])
    rows = selectors.figures(user, by=by, start=start, end=now, now=now)
    return render(
        request,
        "cases/figures.html",
        {
            "base": _base(user),
            "rows": rows,
            "by": by,
            "period": period,
            "start": start,
            "now": now,
            "by_choices": [
                ("center", pgettext_lazy("requests", "Center")),
                ("subdistrict", _("Subdistrict")),
                ("district", _("District")),
                ("type", _("Type of request")),
                ("partner", _("Partner")),
            ],
            "periods": [
                ("month", _("Last 31 days")),
                ("quarter", _("Last 92 days")),
                ("year", _("Last 366 days")),
            ],
        },
    )
