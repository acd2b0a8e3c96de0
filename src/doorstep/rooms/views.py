"""Rooms pages for residents: find a free room, a space's day and the booking form, my
bookings (check in, cancel, calendar), the door poster's check-in, my organizations. The
back office is in staff_views.py."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from doorstep.accounts import organizations
from doorstep.accounts.models import Organization, User
from doorstep.accounts.scopes import can_manage
from doorstep.centers.extensions import Section
from doorstep.centers.models import Center, Region
from doorstep.core import ics
from doorstep.core.errors import DoorstepError

from . import selectors, services
from .models import BookingStatus, Equipment, Space
from .services import RoomError


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _day(raw: str | None, default: date | None = None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return default


def _clock(raw: str | None) -> int | None:
    """ "14:30" → 870; None when it is not a time."""
    try:
        t = time.fromisoformat((raw or "").strip()[:5])
    except ValueError:
        if (raw or "").strip() == "24:00":
            return 1440
        return None
    return t.hour * 60 + t.minute


def _int(raw: str | None, default: int | None = None, lo: int = 0, hi: int = 10_000) -> int | None:
    raw = (raw or "").strip()
    if raw.isdigit() and len(raw) < 7 and lo <= int(raw) <= hi:
        return int(raw)
    return default


def _coordinate(raw: str | None, bound: float) -> float | None:
    try:
        value = float((raw or "").strip()[:20])
    except ValueError:
        return None
    return value if -bound <= value <= bound else None


def center_section(request: HttpRequest, center: Center) -> Section | None:
    """The center page's list of bookable spaces."""
    spaces = list(selectors.public_spaces(center.pk))
    if not spaces:
        return None
    return Section(
        template="rooms/partials/center_spaces.html", context={"spaces": spaces}, order=30
    )


def find(request: HttpRequest) -> HttpResponse:
    """ "A room for 20 with a projector, Thursday afternoon": the free-slot search."""
    today = timezone.localdate()
    g = request.GET
    day = _day(g.get("day"), today) or today
    start = _clock(g.get("from")) if g.get("from") else 0
    end = _clock(g.get("to")) if g.get("to") else 1440
    minutes = _int(g.get("minutes"), 60, 15, 720) or 60
    people = _int(g.get("people"), 1, 1, 5000) or 1
    wanted = [e for e in g.getlist("equipment") if e in Equipment.values]
    region = (g.get("region") or "").strip()[:12]
    center_id = _int(g.get("center"), None, 1, 10**9)
    lat, lng = _coordinate(g.get("lat"), 90), _coordinate(g.get("lng"), 180)
    if lat is None or lng is None:
        lat = lng = None
    errors = []
    if start is None or end is None or end <= start:
        errors.append(_("Choose a time range whose end is after its start."))
        start, end = 0, 1440
    searched = "day" in g
    found = (
        selectors.free_slots(
            day=day,
            minutes=minutes,
            from_minute=start,
            to_minute=end,
            people=people,
            equipment=wanted,
            region_code=region,
            center_id=center_id,
        )
        if searched and not errors
        else []
    )
    return render(
        request,
        "rooms/find.html",
        {
            "day": day,
            "from": g.get("from", ""),
            "to": g.get("to", ""),
            "minutes": minutes,
            "people": people,
            "wanted": wanted,
            "region": region,
            "center_id": center_id,
            "equipment": Equipment.choices,
            "found": found,
            "searched": searched,
            "page_errors": errors,
            "lat": lat,
            "lng": lng,
            "districts": Region.objects.filter(level="district").order_by("code"),
        },
    )


def _booking_form(request: HttpRequest, space: Space) -> dict[str, Any]:
    p = request.POST
    day = _day(p.get("day"))
    s, e = _clock(p.get("starts")), _clock(p.get("ends"))
    if day is None or s is None or e is None:
        raise RoomError(_("Choose the date and the start and end times."), code="invalid")
    values: dict[str, Any] = {
        "space_id": space.pk,
        "starts_at": services.local_moment(day, s),
        "ends_at": services.local_moment(day, e),
        "title": p.get("title", ""),
        "attendees": _int(p.get("attendees"), 0, 0, 100_000) or 0,
        "public": p.get("public") == "on",
    }
    org = p.get("for", "")
    if org.isdigit() and len(org) < 19:
        values["organization_id"] = int(org)
    return values


@require_http_methods(["GET", "POST"])
def space(request: HttpRequest, space_id: int) -> HttpResponse:
    """A space: what it is, its day (free and busy), and the booking form."""
    sp = selectors.space(space_id)
    if sp is None:
        raise Http404
    today = timezone.localdate()
    day = _day(request.GET.get("date"), today) or today
    result = None
    errors: list[str] = []
    conflicts: list[dict] = []
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:sign_in')}?next={request.path}")
        user = _user(request)
        try:
            values = _booking_form(request, sp)
            # The center's own staff book without approval, quotas or the residents' limits.
            values["as_staff"] = request.POST.get("as_staff") == "on" and can_manage(
                user, sp.center_id
            )
            key = request.POST.get("key", "")[:80]
            if request.POST.get("repeat") in ("1", "2"):
                until = _day(request.POST.get("until"))
                if until is None:
                    raise RoomError(_("Choose the last date of the series."), code="invalid")
                result = services.book_series(
                    by=user,
                    until=until,
                    every_weeks=int(request.POST["repeat"]),
                    on_conflict="refuse" if request.POST.get("on_conflict") == "refuse" else "skip",
                    idempotency_key=key,
                    **values,
                )
                made = result.bookings
            else:
                made = [services.book(by=user, idempotency_key=key, **values).booking]
            for_day = timezone.localtime(made[0].starts_at).date().isoformat()
            if made[0].status == "pending":
                messages.success(
                    request, _("Request sent: the center's staff will approve or refuse it.")
                )
            else:
                messages.success(request, _("Booked. Your bookings are listed below."))
            if result is not None and result.skipped:
                messages.warning(
                    request,
                    _("Skipped: %(dates)s (already taken or not open).")
                    % {"dates": "、".join(f"{k.day:%m-%d}" for k in result.skipped)},
                )
            return redirect(f"{reverse('rooms:mine')}?day={for_day}")
        except DoorstepError as e:
            errors.append(str(e.message))
            conflicts = e.extra.get("conflicts", [])
    mine = []
    if request.user.is_authenticated:
        mine = [
            m
            for m in organizations.organizations_of(_user(request))
            if m.organization.status == Organization.Status.CONFIRMED and m.may_book
        ]
    grid = selectors.availability(sp, day)
    return render(
        request,
        "rooms/space.html",
        {
            "space": sp,
            "day": day,
            "grid": grid,
            "prev": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "today": today,
            "memberships": mine,
            "page_errors": errors,
            "conflicts": conflicts,
            "key": _new_key(),
            "posted": request.POST if request.method == "POST" else {},
            "horizon": today + timedelta(days=sp.horizon_days),
            "staff_here": request.user.is_authenticated
            and can_manage(_user(request), sp.center_id),
        },
    )


def _new_key() -> str:
    import uuid

    return uuid.uuid4().hex


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    now = timezone.now()
    bookings = list(selectors.bookings_of(user, now=now))
    for b in bookings:
        opens, closes = services.checkin_window(b)
        b.can_check_in = b.status == BookingStatus.CONFIRMED and opens <= now < closes  # type: ignore[attr-defined]
        b.can_cancel = (
            b.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
            and (  # type: ignore[attr-defined]
                now <= b.starts_at - timedelta(hours=b.space.cancel_until_hours)
            )
            and b.kind != "activity"
        )
    return render(request, "rooms/mine.html", {"bookings": bookings, "now": now})


@login_required
@require_POST
def cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    try:
        done = services.cancel(
            by=_user(request), booking_id=booking_id, whole_series=request.POST.get("series") == "1"
        )
        messages.success(request, _("Cancelled: %(n)s booking(s).") % {"n": len(done)})
    except RoomError as e:
        messages.error(request, str(e.message))
    return redirect("rooms:mine")


@login_required
@require_POST
def check_in(request: HttpRequest, booking_id: int) -> HttpResponse:
    try:
        services.check_in(by=_user(request), booking_id=booking_id)
        messages.success(request, _("Checked in. Enjoy the space."))
    except RoomError as e:
        messages.error(request, str(e.message))
    return redirect("rooms:mine")


@login_required
def booking_ics(request: HttpRequest, booking_id: int) -> HttpResponse:
    b = selectors.booking_of(_user(request), booking_id)
    if b is None:
        raise Http404
    event = ics.Event(
        uid=f"booking-{b.pk}@doorstep",
        starts_at=b.starts_at,
        ends_at=b.ends_at,
        summary=f"{b.title} · {b.space.local_name}",
        location=f"{b.space.center.name} {b.space.local_name}",
        cancelled=b.status
        not in (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN),
        sequence=b.ics_sequence,
    )
    response = HttpResponse(ics.calendar([event]), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="booking-{b.pk}.ics"'
    return response


@require_http_methods(["GET", "POST"])
def door(request: HttpRequest, code: str) -> HttpResponse:
    """What the QR poster at a space's door opens: check in to your booking starting now."""
    sp = Space.objects.select_related("center").filter(door_code=code[:32]).first()
    if sp is None:
        raise Http404
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:sign_in')}?next={request.path}")
        try:
            b = services.check_in_at_door(by=_user(request), door_code=sp.door_code)
            return render(request, "rooms/door.html", {"space": sp, "done": b})
        except RoomError as e:
            return render(
                request,
                "rooms/door.html",
                {"space": sp, "page_errors": [e.message]},
                status=e.status,
            )
    return render(request, "rooms/door.html", {"space": sp})


@login_required
@require_http_methods(["GET", "POST"])
def my_organizations(request: HttpRequest) -> HttpResponse:
    """Register a group or company, join one with its code, manage its members."""
    user = _user(request)
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "create":
                center = _int(request.POST.get("center"), 0, 0, 10**12) or 0
                organizations.create_organization(
                    by=user,
                    name=request.POST.get("name", ""),
                    kind=request.POST.get("kind", ""),
                    center_id=center,
                )
                messages.success(
                    request, _("Registered. The center will confirm it; you will see it here.")
                )
            elif action == "join":
                organizations.join_organization(user=user, code=request.POST.get("code", ""))
                messages.success(request, _("You have joined."))
            elif action in ("may_book", "may_not_book", "remove"):
                organizations.set_member(
                    by=user,
                    organization_id=_int(request.POST.get("organization"), 0, 0, 10**12) or 0,
                    member_id=_int(request.POST.get("member"), 0, 0, 10**12) or 0,
                    may_book=None if action == "remove" else action == "may_book",
                    remove=action == "remove",
                )
                messages.success(request, _("Saved."))
            return redirect("rooms:organizations")
        except DoorstepError as e:
            errors.append(str(e.message))
    memberships = list(organizations.organizations_of(user))
    managed = [m.organization_id for m in memberships if m.is_manager]
    members: dict[int, list] = {}
    from doorstep.accounts.models import Membership

    for m in (
        Membership.objects.filter(organization_id__in=managed)
        .select_related("user")
        .order_by("joined_at")
    ):
        members.setdefault(m.organization_id, []).append(m)
    for m in memberships:
        m.members = members.get(m.organization_id, [])  # type: ignore[attr-defined]
    centers = Center.objects.filter(spaces__isnull=False).distinct().order_by("name")[:500]
    return render(
        request,
        "rooms/organizations.html",
        {
            "memberships": memberships,
            "kinds": Organization.Kind.choices,
            "centers": centers,
            "page_errors": errors,
        },
    )


def space_photo(request: HttpRequest, space_id: int) -> HttpResponse:
    sp = Space.objects.filter(pk=space_id).first()
    if sp is None or not sp.photo:
        raise Http404
    with sp.photo.open("rb") as fh:
        return HttpResponse(fh.read(), content_type=sp.photo_type or "image/jpeg")
