"""The gym's pages: the desk (consent, hand out and take back bands), the coach's board (tiles
across a room, alerts that sound and stay until acknowledged; an event stream with a polling
fallback), the manager's screen of escalated alerts, and a member's own sessions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import Person, User
from doorstep.accounts.scopes import can_manage
from doorstep.centers.models import Center
from doorstep.core import sse
from doorstep.core.errors import DoorstepError

from . import services
from .models import Alert, Band, Member, Session

STREAM_SECONDS = 55  # a stream ends and the browser reconnects: no thread is held for ever
STREAM_STEP = 0.25


def _staff(request: HttpRequest, center_id: int) -> tuple[User, Center]:
    user = request.user
    center = Center.objects.filter(pk=center_id).first()
    if not isinstance(user, User) or center is None or not can_manage(user, center_id):
        raise Http404
    return user, center


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    """The gyms in my scope: centers with bands."""
    from doorstep.accounts.scopes import managed_centers

    user = request.user
    assert isinstance(user, User)
    centers = (
        managed_centers(user)
        .filter(pk__in=Band.objects.filter(active=True).values("center_id"))
        .order_by("name")[:200]
    )
    return render(request, "gym/index.html", {"centers": centers})


@staff_required
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest, center_id: int) -> HttpResponse:
    user, center = _staff(request, center_id)
    errors: list[str] = []
    found: list[Person] = []
    p = request.POST
    if request.method == "POST":
        try:
            if p.get("do") == "find":
                from doorstep.accounts.services import desk_household

                household = desk_household(by=user, center_id=center.pk, phone=p.get("phone", ""))
                found = list(household.people.all()) if household else []
                if not found:
                    errors.append(_("No household has that number."))
            elif p.get("do") == "enrol":
                services.enrol(
                    by=user,
                    center_id=center.pk,
                    person_id=_int(p.get("person")) or 0,
                    nickname=p.get("nickname", ""),
                    consent=p.get("consent") == "1",
                    max_bpm=_int(p.get("max_bpm")),
                )
                messages.success(request, _("Consent recorded."))
                return redirect("gym:desk", center.pk)
            elif p.get("do") == "start":
                services.start_session(
                    by=user,
                    center_id=center.pk,
                    band_label=p.get("band", ""),
                    member_id=_int(p.get("member")) or 0,
                )
                messages.success(request, _("Session started: the band is on the board."))
                return redirect("gym:desk", center.pk)
            elif p.get("do") == "end":
                services.end_session(by=user, center_id=center.pk, band_label=p.get("band", ""))
                messages.success(request, _("Band returned: the session has ended."))
                return redirect("gym:desk", center.pk)
        except DoorstepError as e:
            errors.append(str(e.message))
    members = (
        Member.objects.filter(person__in=found or [], consent_at__isnull=False)
        if found
        else Member.objects.none()
    )
    return render(
        request,
        "gym/desk.html",
        {
            "center": center,
            "found": found,
            "enrolled": {m.person_id: m for m in members},
            "active": Session.objects.filter(center=center, ended_at__isnull=True).select_related(
                "band", "member"
            ),
            "bands": Band.objects.filter(center=center, active=True).order_by("label"),
            "page_errors": errors,
        },
        status=400 if errors else 200,
    )


def state(center_id: int, *, escalated_only: bool = False) -> dict:
    """The board's state: the tiles and the open alerts (nothing personal beyond nicknames)."""
    now = timezone.now()
    tiles = []
    for s in (
        Session.objects.filter(center_id=center_id, ended_at__isnull=True)
        .select_related("member", "band", "live")
        .order_by("band__label")
    ):
        live = getattr(s, "live", None)
        age = (now - live.measured_at).total_seconds() if live and live.measured_at else None
        tiles.append(
            {
                "session": s.pk,
                "name": s.member.nickname,
                "band": s.band.label,
                "bpm": live.bpm if live else None,
                "zone": live.zone if live else "none",
                "trend": live.trend if live else "steady",
                "signal_age": None if age is None else int(age),
                "limit": s.limit_bpm,
            }
        )
    alerts = Alert.objects.filter(center_id=center_id, acknowledged_at__isnull=True)
    if escalated_only:
        alerts = alerts.filter(escalated_at__isnull=False)
    return {
        "tiles": tiles,
        "alerts": [
            {
                "id": a.pk,
                "session": a.session_id,
                "name": a.session.member.nickname,
                "kind": a.kind,
                "label": str(a.get_kind_display()),
                "value": a.value,
                "raised_at": timezone.localtime(a.raised_at).strftime("%H:%M:%S"),
                "escalated": a.escalated_at is not None,
            }
            for a in alerts.select_related("session__member").order_by("raised_at")[:50]
        ],
    }


@staff_required
def board(request: HttpRequest, center_id: int) -> HttpResponse:
    _user, center = _staff(request, center_id)
    manager = request.GET.get("screen") == "manager"
    return render(
        request,
        "gym/board.html",
        {
            "center": center,
            "state": state(center.pk, escalated_only=manager),
            "manager": manager,
            "labels": {
                "zones": {
                    "none": _("no reading"),
                    "rest": _("rest"),
                    "work": _("exercise"),
                    "upper": _("upper zone"),
                    "max": _("above the maximum"),
                    "low": _("too low"),
                },
                "signal": _("%s s ago"),
                "no_signal": _("no signal yet"),
                "escalated": _("escalated"),
                "what_done": _("What was done"),
                "acknowledge": _("Acknowledge"),
                "live": _("Live"),
                "polling": _("Updating every 2 seconds"),
                "offline": _("Connection lost: retrying"),
            },
        },
    )


@staff_required
def board_state(request: HttpRequest, center_id: int) -> HttpResponse:
    """The polling fallback: the same state as the stream's events."""
    _staff(request, center_id)
    data = state(center_id, escalated_only=request.GET.get("screen") == "manager")
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def board_events(request: HttpRequest, center_id: int) -> HttpResponse:
    """Server-sent events: the state each time it changes (checked 4 times a second)."""
    _staff(request, center_id)
    manager = request.GET.get("screen") == "manager"
    return sse.changes(
        lambda: state(center_id, escalated_only=manager), seconds=STREAM_SECONDS, step=STREAM_STEP
    )


@staff_required
@require_POST
def acknowledge(request: HttpRequest, center_id: int, alert_id: int) -> HttpResponse:
    user, center = _staff(request, center_id)
    try:
        services.acknowledge(by=user, alert_id=alert_id, action=request.POST.get("action", ""))
    except DoorstepError as e:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"code": e.code, "message": str(e.message)}, status=e.status)
        messages.error(request, str(e.message))
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": True})
    return redirect("gym:board", center.pk)


@login_required
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if request.method == "POST":
        try:
            services.delete_my_session(user=user, session_id=_int(request.POST.get("session")) or 0)
            messages.success(request, _("Deleted."))
        except DoorstepError as e:
            messages.error(request, str(e.message))
        return redirect("gym:mine")
    sessions = (
        Session.objects.filter(member__person__account=user, ended_at__isnull=False)
        .select_related("member", "center")
        .prefetch_related("alerts")
        .order_by("-started_at")[:50]
    )
    return render(request, "gym/mine.html", {"sessions": sessions})
