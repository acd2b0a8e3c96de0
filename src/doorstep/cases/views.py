"""Requests pages for applicants: what a center takes, the form of one type (each field says
why it is asked), my requests, one request's timeline with messages, rating, closing and
reopening. The handlers' pages are in handler_views.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from doorstep.accounts import organizations
from doorstep.accounts.models import User
from doorstep.centers.extensions import Section
from doorstep.centers.models import Center
from doorstep.core.errors import DoorstepError

from . import selectors, services
from .models import Attachment, Group, Status
from .services.common import roles
from .services.types import answer_rows, label


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def center_section(request: HttpRequest, center: Center) -> Section | None:
    """The center page's "ask the center" list."""
    types = services.catalogue(center)
    if not types:
        return None
    return Section(
        template="cases/partials/center_types.html",
        context={"types": types[:6], "more": len(types) > 6, "center": center},
        order=40,
    )


def _field_rows(req_type: Any, values: dict) -> list[dict]:
    return [
        {
            **f,
            "text": label(f),
            "why_text": label(f, "why"),
            "choice_rows": [(c["key"], label(c)) for c in f.get("choices", [])],
            "value": values.get(f["code"], ""),
        }
        for f in req_type.fields
    ]


@require_http_methods(["GET", "POST"])
def new(request: HttpRequest, center_id: int) -> HttpResponse:
    center = get_object_or_404(Center, pk=center_id)
    catalogue = services.catalogue(center)
    code = (request.POST.get("type") or request.GET.get("type") or "").strip()[:40]
    chosen = next((t for t in catalogue if t.code == code), None)
    errors: list[str] = []
    values: dict[str, str] = {}
    orgs = (
        [m.organization for m in organizations.organizations_of(request.user) if m.may_book]
        if request.user.is_authenticated
        else []
    )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/account/sign-in?next={request.path}")
        values = {k: v for k, v in request.POST.items() if k.startswith("f_")}
        try:
            req = services.submit(
                user=_user(request),
                center_id=center.pk,
                type_code=code,
                description=request.POST.get("description", ""),
                answers={k[2:]: v for k, v in values.items()},
                organization_id=_int(request.POST.get("organization")),
            )
        except DoorstepError as e:
            errors.append(str(e.message))
        else:
            messages.success(
                request,
                _("Your request is filed. The timeline below shows who has it and by when."),
            )
            return redirect("cases:detail", req.pk)
    groups = [(label_, [t for t in catalogue if t.group == g]) for g, label_ in Group.choices]
    return render(
        request,
        "cases/new.html",
        {
            "center": center,
            "groups": [(g, ts) for g, ts in groups if ts],
            "chosen": chosen,
            "fields": _field_rows(chosen, {k[2:]: v for k, v in values.items()}) if chosen else [],
            "description": request.POST.get("description", ""),
            "organizations": orgs,
            "page_errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/mine.html", {"requests": selectors.mine(_user(request))[:100]})


def _clock(req: Any, now: Any) -> dict[str, Any]:
    from .services.common import used_minutes

    used = used_minutes(req, now)
    target = req.type.resolution_hours * 60
    return {
        "used_hours": round(used / 60, 1),
        "target_hours": req.type.resolution_hours,
        "running": req.clock_since is not None,
        "paused": req.is_open and req.clock_since is None,
        "overdue": bool(req.due_at and req.due_at < now),
        "left_hours": round(max(0, target - used) / 60, 1),
    }


Action = Callable[[HttpRequest, User, int], str]


def post_message(request: HttpRequest, user: User, request_id: int) -> str:
    services.message(
        request_id=request_id,
        by=user,
        body=request.POST.get("body", ""),
        files=request.FILES.getlist("files"),
    )
    return _("Message sent.")


def run_action(request: HttpRequest, request_id: int, actions: Mapping[str, Action]) -> list[str]:
    """The posted `do`: its success message is flashed, or its error (in the user's
    language) is returned for the page; someone who may not see the request gets a 404."""
    action = actions.get(request.POST.get("do", ""))
    if action is None:
        return [_("Unknown action.")]
    try:
        messages.success(request, action(request, _user(request), request_id))
    except DoorstepError as e:
        if e.status == 404:
            raise Http404 from e
        return [str(e.message)]
    return []


def _rate(request: HttpRequest, user: User, request_id: int) -> str:
    score = _int(request.POST.get("score")) or 0
    services.rate(
        request_id=request_id, by=user, score=score, comment=request.POST.get("comment", "")
    )
    return _("Thank you for rating.")


def _close(request: HttpRequest, user: User, request_id: int) -> str:
    services.close(request_id=request_id, by=user)
    return _("Closed. Thank you.")


def _reopen(request: HttpRequest, user: User, request_id: int) -> str:
    services.reopen(request_id=request_id, by=user, note=request.POST.get("note", ""))
    return _("Reopened: it is back with the handler.")


APPLICANT_ACTIONS: dict[str, Action] = {
    "message": post_message,
    "rate": _rate,
    "close": _close,
    "reopen": _reopen,
}


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, request_id: int) -> HttpResponse:
    user = _user(request)
    errors: list[str] = []
    if request.method == "POST":
        errors = run_action(request, request_id, APPLICANT_ACTIONS)
        if not errors:
            return redirect("cases:detail", request_id)
    try:
        page = selectors.request_page(user, request_id)
    except DoorstepError as e:
        raise Http404 from e
    req = page.request
    now = timezone.now()
    return render(
        request,
        "cases/detail.html",
        {
            "req": req,
            "page": page,
            "answers": answer_rows(req.type, req.answers),
            "clock": _clock(req, now),
            "is_handler": bool(page.roles - {"applicant"}),
            "can_rate": req.status in (Status.RESOLVED, Status.DECLINED, Status.CLOSED),
            "can_close": req.status in (Status.RESOLVED, Status.DECLINED),
            "can_reopen": req.status in (Status.RESOLVED, Status.CLOSED)
            and req.resolved_at is not None
            and (now - req.resolved_at).days < req.type.reopen_days,
            "can_write": req.is_open or req.status == Status.RESOLVED,
            "page_errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """A file of a message, to the applicant and the handlers only."""
    item = Attachment.objects.select_related("message__request").filter(pk=attachment_id).first()
    if item is None or not roles(_user(request), item.message.request):
        raise Http404
    response = FileResponse(
        item.file.open("rb"),
        content_type=item.content_type,
        as_attachment=item.content_type == "application/pdf",
        filename=item.name,
    )
    response["Cache-Control"] = "private, no-store"
    return response
