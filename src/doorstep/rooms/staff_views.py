"""Rooms back office: spaces (form, photo, door poster, free/busy feed, closures), the
approval queue, the day board, organizations to confirm, figures and their CSV."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from doorstep.accounts import organizations
from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import Organization, User
from doorstep.accounts.scopes import can_manage, managed_centers
from doorstep.centers.models import Center
from doorstep.core import audit, ics
from doorstep.core.errors import DoorstepError
from doorstep.core.qr import qr_svg

from . import selectors, services
from .models import Approval, Booking, Equipment, Kind, Space
from .services import RoomError
from .views import _clock, _day, _int, _user

FEED_SALT = "rooms.freebusy"


@staff_required
def staff_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    spaces = list(selectors.managed_spaces(user))
    centers = list(managed_centers(user).order_by("name")[:200])
    pending_orgs = Organization.objects.filter(
        center__in=managed_centers(user), status=Organization.Status.PENDING
    ).count()
    return render(
        request,
        "rooms/staff_home.html",
        {
            "spaces": spaces,
            "centers": centers,
            "queue": selectors.queue(user).count(),
            "pending_orgs": pending_orgs,
            "today": timezone.localdate(),
        },
    )


NUMBER_FIELDS = (
    "slot_minutes",
    "min_minutes",
    "max_minutes",
    "horizon_days",
    "buffer_minutes",
    "decide_within_hours",
    "checkin_opens_minutes",
    "release_after_minutes",
    "cancel_until_hours",
    "person_hours_week",
    "person_hours_month",
    "org_hours_week",
    "org_hours_month",
    "no_show_limit",
)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _space_values(request: HttpRequest) -> dict[str, Any]:
    p = request.POST
    ints = {
        "capacity": (1, 5000),
        "slot_minutes": (5, 60),
        "min_minutes": (1, 1440),
        "max_minutes": (1, 1440),
        "horizon_days": (1, 365),
        "buffer_minutes": (0, 240),
        "decide_within_hours": (1, 720),
        "checkin_opens_minutes": (0, 240),
        "release_after_minutes": (1, 240),
        "cancel_until_hours": (0, 720),
        "no_show_limit": (0, 50),
    }
    values: dict[str, Any] = {
        "name": p.get("name", ""),
        "name_en": " ".join(p.get("name_en", "").split())[:100],
        "kind": p.get("kind", ""),
        "floor": p.get("floor", "")[:20],
        "description": p.get("description", "")[:2000],
        "equipment": [e for e in p.getlist("equipment") if e in Equipment.values],
        "approval": p.get("approval", ""),
    }
    for name, (lo, hi) in ints.items():
        v = _int(p.get(name), None, lo, hi)
        if v is None:
            raise RoomError(
                _("Check the numbers: one is missing or out of range."), code="invalid", field=name
            )
        values[name] = v
    for name in ("person_hours_week", "person_hours_month", "org_hours_week", "org_hours_month"):
        raw = p.get(name, "").strip()
        v = _int(raw, None, 1, 744)
        if raw and v is None:
            raise RoomError(
                _("Leave a limit empty, or give 1 to 744 hours."), code="invalid", field=name
            )
        values[name] = v
    o, c = _clock(p.get("opens")), _clock(p.get("closes"))
    if o is None or c is None:
        raise RoomError(_("Give the bookable hours as HH:MM."), code="invalid", field="opens")
    values["opens_minute"], values["closes_minute"] = o, c
    for name in (
        "step_free",
        "hearing_loop",
        "for_residents",
        "for_groups",
        "for_companies",
        "active",
    ):
        values[name] = p.get(name) == "on"
    return values


@staff_required
@require_http_methods(["GET", "POST"])
def staff_space(request: HttpRequest, space_id: int | None = None) -> HttpResponse:
    """Create or edit a space; its photo, door poster, free/busy feed and blackouts."""
    user = _user(request)
    sp = None
    if space_id is not None:
        sp = Space.objects.select_related("center").filter(pk=space_id).first()
        if sp is None or not can_manage(user, sp.center_id):
            raise Http404
        center_id = sp.center_id
    else:
        center_id = _int(request.GET.get("center") or request.POST.get("center"), 0, 0, 10**12) or 0
        if not can_manage(user, center_id):
            raise Http404
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.POST.get("action") == "photo":
                assert sp is not None
                services.set_space_photo(
                    by=user, space_id=sp.pk, upload=request.FILES.get("photo") or b""
                )
                messages.success(request, _("Photo saved."))
            elif request.POST.get("action") == "blackout":
                assert sp is not None
                d1, d2 = _day(request.POST.get("from_day")), _day(request.POST.get("to_day"))
                t1, t2 = _clock(request.POST.get("from_time")), _clock(request.POST.get("to_time"))
                if None in (d1, d2, t1, t2):
                    raise RoomError(_("Give the start and end of the closure."), code="invalid")
                r = services.add_blackout(
                    by=user,
                    space_id=sp.pk,
                    starts_at=services.local_moment(d1, t1),  # type: ignore[arg-type]
                    ends_at=services.local_moment(d2, t2),
                    reason=request.POST.get("reason", ""),  # type: ignore[arg-type]
                    keep_bookings=request.POST.get("keep") == "on",
                )
                messages.success(
                    request,
                    _("Closed. %(c)s booking(s) cancelled with a notice, %(k)s kept.")
                    % {"c": len(r.cancelled), "k": len(r.kept)},
                )
            elif request.POST.get("action") == "unblackout":
                services.remove_blackout(
                    by=user, blackout_id=_int(request.POST.get("blackout"), 0, 0, 10**12) or 0
                )
                messages.success(request, _("The closure was removed."))
            else:
                sp = services.save_space(
                    by=user,
                    center_id=center_id,
                    values=_space_values(request),
                    space_id=sp.pk if sp else None,
                )
                messages.success(request, _("Saved."))
            assert sp is not None
            return redirect("rooms:staff_space", sp.pk)
        except DoorstepError as e:
            errors.append(str(e.message))
    blackouts = list(sp.blackouts.filter(ends_at__gt=timezone.now())) if sp else []
    feed = ""
    if sp is not None:
        token = signing.dumps(sp.pk, salt=FEED_SALT)
        feed = request.build_absolute_uri(reverse("rooms:freebusy", args=[token]))
    values = request.POST if request.method == "POST" and errors else None
    shown = sp or Space()
    numbers = [
        (
            name,
            Space._meta.get_field(name).verbose_name,
            values.get(name) if values else getattr(shown, name),
        )
        for name in NUMBER_FIELDS
    ]
    return render(
        request,
        "rooms/staff_space.html",
        {
            "space": sp,
            "center": Center.objects.get(pk=center_id),
            "values": values,
            "kinds": Kind.choices,
            "equipment": Equipment.choices,
            "approvals": Approval.choices,
            "blackouts": blackouts,
            "feed": feed,
            "page_errors": errors,
            "numbers": numbers,
            "space_opens": values.get("opens") if values else _hhmm(shown.opens_minute),
            "space_closes": values.get("closes") if values else _hhmm(shown.closes_minute),
            "door_url": request.build_absolute_uri(reverse("rooms:door", args=[sp.door_code]))
            if sp
            else "",
        },
    )


@staff_required
def poster(request: HttpRequest, space_id: int) -> HttpResponse:
    """The printable QR poster for a space's door."""
    sp = Space.objects.select_related("center").filter(pk=space_id).first()
    if sp is None or not can_manage(_user(request), sp.center_id):
        raise Http404
    url = request.build_absolute_uri(reverse("rooms:door", args=[sp.door_code]))
    return render(
        request, "rooms/poster.html", {"space": sp, "qr": qr_svg(url, sp.name), "url": url}
    )


def freebusy(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar free/busy feed of a space for the next 60 days (a signed link that
    staff add to their calendar app): busy periods only, never who."""
    try:
        space_id = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        raise Http404 from None
    sp = Space.objects.filter(pk=space_id).first()
    if sp is None:
        raise Http404
    now = timezone.now()
    until = now + timedelta(days=60)
    busy = Booking.objects.filter(
        space=sp,
        status__in=("pending", "confirmed", "checked_in"),
        ends_at__gt=now,
        starts_at__lt=until,
    ).values_list("starts_at", "ends_at")
    body = ics.free_busy(busy, uid=f"space-{sp.pk}@doorstep", name=sp.name, starts=now, ends=until)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@staff_required
@require_http_methods(["GET", "POST"])
def queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        approve = request.POST.get("decision") == "approve"
        try:
            services.decide(
                by=user,
                booking_id=_int(request.POST.get("booking"), 0, 0, 10**12) or 0,
                approve=approve,
                reason=request.POST.get("reason", ""),
            )
            messages.success(
                request, _("Approved.") if approve else _("Refused; the booker is told why.")
            )
        except RoomError as e:
            messages.error(request, str(e.message))
        return redirect("rooms:staff_queue")
    rows = list(selectors.queue(user))
    for b in rows:
        b.who = selectors.who_label(b)  # type: ignore[attr-defined]
    return render(request, "rooms/staff_queue.html", {"bookings": rows})


@staff_required
@require_http_methods(["GET", "POST"])
def board(request: HttpRequest, center_id: int) -> HttpResponse:
    """All the center's spaces × the day's hours; check in or cancel a booking."""
    user = _user(request)
    if not can_manage(user, center_id):
        raise Http404
    today = timezone.localdate()
    day = _day(request.GET.get("date"), today) or today
    if request.method == "POST":
        booking_id = _int(request.POST.get("booking"), 0, 0, 10**12) or 0
        try:
            if request.POST.get("action") == "check_in":
                services.staff_check_in(by=user, booking_id=booking_id)
                messages.success(request, _("Checked in."))
            else:
                services.cancel(
                    by=user,
                    booking_id=booking_id,
                    as_staff=True,
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, _("Cancelled; the booker is told why."))
        except RoomError as e:
            messages.error(request, str(e.message))
        return redirect(f"{reverse('rooms:staff_board', args=[center_id])}?date={day.isoformat()}")
    hours, rows = selectors.day_board(center_id, day)
    starting = sorted(
        {b.pk: b for r in rows for _s, b, first in r.cells if b is not None}.values(),
        key=lambda b: (b.starts_at, b.space_id),
    )
    for b in starting:
        b.who = selectors.who_label(b)  # type: ignore[attr-defined]
    return render(
        request,
        "rooms/staff_board.html",
        {
            "center": Center.objects.get(pk=center_id),
            "day": day,
            "hours": hours,
            "rows": rows,
            "bookings": starting,
            "prev": day - timedelta(days=1),
            "next": day + timedelta(days=1),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_organizations(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        try:
            organizations.decide_organization(
                by=user,
                organization_id=_int(request.POST.get("organization"), 0, 0, 10**12) or 0,
                confirm=request.POST.get("decision") == "confirm",
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("Saved."))
        except DoorstepError as e:
            messages.error(request, str(e.message))
        return redirect("rooms:staff_organizations")
    orgs = (
        Organization.objects.filter(center__in=managed_centers(user))
        .select_related("center")
        .order_by("status", "name")
    )
    return render(request, "rooms/staff_organizations.html", {"organizations": orgs[:500]})


def _figures_input(request: HttpRequest, user: User) -> tuple[list[Space], date, date]:
    today = timezone.localdate()
    first = _day(request.GET.get("from"), today.replace(day=1)) or today.replace(day=1)
    last = _day(request.GET.get("to"), today) or today
    if last < first or (last - first).days > 366:
        first, last = today.replace(day=1), today
    center_id = _int(request.GET.get("center"), None, 1, 10**12)
    spaces = list(selectors.managed_spaces(user, center_id))
    return spaces, first, last


@staff_required
def staff_figures(request: HttpRequest) -> HttpResponse:
    """Utilisation, no-shows, who uses the spaces and the peak hours; CSV with ?format=csv."""
    user = _user(request)
    spaces, first, last = _figures_input(request, user)
    rows, peak = selectors.figures(spaces, first, last)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="spaces-{first}-{last}.csv"'
        response.write("\ufeff")
        w = csv.writer(response)
        w.writerow(
            [
                "center",
                "space",
                "bookable_hours",
                "booked_hours",
                "used_hours",
                "utilisation",
                "no_shows",
                "bookings_due",
                "resident_hours",
                "group_hours",
                "company_hours",
                "staff_hours",
                "activity_hours",
            ]
        )
        for f in rows:
            w.writerow(
                [
                    f.space.center.name,
                    f.space.name,
                    f"{f.bookable_hours:.1f}",
                    f"{f.booked_hours:.1f}",
                    f"{f.used_hours:.1f}",
                    "" if f.utilisation is None else f"{f.utilisation:.3f}",
                    f.no_shows,
                    f.ended,
                    *(
                        f"{f.by_kind.get(k, 0.0):.1f}"
                        for k in ("resident", "group", "company", "staff", "activity")
                    ),
                ]
            )
        audit.record_export(actor=user, what="rooms_figures", rows=len(rows), fmt="csv")
        return response
    top = max(peak) or 1
    return render(
        request,
        "rooms/staff_figures.html",
        {
            "rows": rows,
            "first": first,
            "last": last,
            "peak": [(h, v, round(100 * v / top)) for h, v in enumerate(peak) if 7 <= h <= 22],
            "centers": managed_centers(user)
            .filter(spaces__isnull=False)
            .distinct()
            .order_by("name")[:200],
            "center_id": request.GET.get("center", ""),
        },
    )
