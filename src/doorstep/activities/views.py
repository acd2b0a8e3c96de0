"""Resident pages: activities, registering, my registrations, tickets, calendars, lobby screen.

Views parse input, call a service or selector and render. A RegistrationError becomes a
message on the page with its 4xx status; only a bug is a 500.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.accounts.models import User
from doorstep.centers.extensions import Section
from doorstep.centers.models import Center
from doorstep.centers.selectors import get_center, pick_center
from doorstep.core import ics
from doorstep.core.errors import DoorstepError

from . import selectors, services, tickets
from .api import qr_svg
from .models import (
    ACTIVE_STATUSES,
    Activity,
    ActivityStatus,
    Allocation,
    Audience,
    Category,
    Registration,
    RegistrationStatus,
)
from .selectors import ActivityFilters, State

PAGE_SIZE = 20
SCHEDULE_DAYS = 60
LOBBY_REFRESH_SECONDS = 60
# States in which the register form is offered (the service re-checks everything).
REGISTERABLE = {State.OPEN, State.FULL_WAITLIST, State.LOTTERY_OPEN}
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,80}$")
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


@dataclass
class Item:
    """An activity as a resident sees it in a list: its honest state and places left."""

    activity: Activity
    state: str
    seats_left: int
    opens_in: int  # seconds until registration opens (for the countdown), 0 once open
    mine: bool = False


def _item(activity: Activity, now: datetime, mine: bool = False) -> Item:
    return Item(
        activity=activity,
        state=selectors.state_of(activity, now),
        seats_left=selectors.seats_left(activity),
        opens_in=max(0, int((activity.registration_opens_at - now).total_seconds())),
        mine=mine,
    )


def _account(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _countdown_text() -> dict[str, str]:
    """Words for activities.js, in the page's language ({n} and {time} are filled in)."""
    return {
        "in": _("in {time}"),
        "d": _("{n} d"),
        "h": _("{n} h"),
        "m": _("{n} min"),
        "s": _("{n} s"),
        "now": _("open now: reload the page"),
    }


# The list --------------------------------------------------------------------------------


def _date(request: HttpRequest, name: str, errors: list[str]) -> date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors.append(_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": raw[:40]})
        return None
    if not EARLIEST <= value <= LATEST:
        # Far dates overflow when turned into aware datetimes; nobody means them.
        errors.append(
            _("Choose a date between %(a)s and %(b)s.")
            % {"a": EARLIEST.isoformat(), "b": LATEST.isoformat()}
        )
        return None
    return value


def _int(request: HttpRequest, name: str, errors: list[str]) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.append(_("“%(value)s” is not a whole number.") % {"value": raw[:40]})
        return None
    if not 0 < value < 2**62:
        errors.append(_("“%(value)s” is out of range.") % {"value": raw[:40]})
        return None
    return value


def filters_from_request(
    request: HttpRequest, errors: list[str], *, today: date
) -> tuple[ActivityFilters, int]:
    """The list's query string; problems go to errors, never to a 500. Default: this week."""
    g = request.GET
    date_from, date_to = _date(request, "from", errors), _date(request, "to", errors)
    if date_from is None and date_to is None and "from" not in g and "to" not in g:
        date_from, date_to = today, today + timedelta(days=6)
    page = _int(request, "page", errors) or 1
    page = min(page, 100_000 // PAGE_SIZE)
    picked = pick_center(g.get("center", ""), g.get("center_q", ""))
    if picked is None and (g.get("center", "").strip() or g.get("center_q", "").strip()):
        if g.get("center", "").strip() and not g.get("center", "").strip().isdigit():
            errors.append(_("“%(value)s” is not a whole number.") % {"value": g["center"][:40]})
        else:
            errors.append(
                _("No center matches “%(value)s”.")
                % {"value": (g.get("center_q") or g.get("center", ""))[:40]}
            )
    f = ActivityFilters(
        center=picked.pk if picked else None,
        date_from=date_from,
        date_to=date_to,
        category=g.get("category", "").strip()[:40],
        audience=g.get("audience", "").strip()[:40],
        has_seats=g.get("has_seats") in ("1", "on", "true"),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return f, page


def _mine(request: HttpRequest, activities: list[Activity]) -> set[int]:
    if not request.user.is_authenticated or not activities:
        return set()
    return set(
        Registration.objects.filter(
            account=_account(request),
            activity_id__in=[a.pk for a in activities],
            status__in=ACTIVE_STATUSES,
        ).values_list("activity_id", flat=True)
    )


def _by_day(items: list[Item]) -> list[tuple[date, list[Item]]]:
    days: dict[date, list[Item]] = {}
    for item in items:
        days.setdefault(timezone.localdate(item.activity.starts_at), []).append(item)
    return list(days.items())


@require_GET
def activity_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate(now)
    errors: list[str] = []
    f, page = filters_from_request(request, errors, today=today)
    count, items = 0, []
    if not errors:
        try:
            count, activities = selectors.published_activities(f, now=now)
        except DoorstepError as exc:
            errors.append(str(exc.message))
        else:
            mine = _mine(request, activities)
            items = [_item(a, now, a.pk in mine) for a in activities]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "f": f,
        "errors": errors,
        "count": count,
        "days": _by_day(items),
        "today": today,
        "page_number": page,
        "has_next": f.offset + PAGE_SIZE < count,
        "querystring_without_page": query.urlencode(),
        "picked_center": get_center(f.center) if f.center else None,
        "categories": Category.choices,
        "audiences": Audience.choices,
        "countdown_text": _countdown_text(),
    }
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers: the message must arrive as a fragment to be seen.
        return render(request, "activities/partials/list_results.html", context)
    return render(request, "activities/list.html", context, status=400 if errors else 200)


# One activity and registering -------------------------------------------------------------


def _get_activity(activity_id: int) -> Activity:
    try:
        return selectors.get_published(activity_id)
    except DoorstepError:
        raise Http404 from None


def _my_rows(account: User, activity: Activity, now: datetime) -> list[dict[str, Any]]:
    regs = list(
        Registration.objects.filter(account=account, activity=activity)
        .select_related("activity", "activity__center", "person")
        .order_by("id")
    )
    return _rows(regs, now)


def _rows(regs: list[Registration], now: datetime) -> list[dict[str, Any]]:
    positions = selectors.waitlist_positions(regs)
    rows = []
    for r in regs:
        a = r.activity
        deadline = a.cancel_deadline or a.starts_at
        rows.append(
            {
                "reg": r,
                "position": positions.get(r.pk),
                # Not once they have come in: the place has been used.
                "can_cancel": r.status in ACTIVE_STATUSES
                and now < deadline
                and r.checked_in_at is None,
                "cancel_deadline": deadline,
                "has_ticket": r.status == RegistrationStatus.CONFIRMED and now < a.ends_at,
                "upcoming": now < a.ends_at,
            }
        )
    return rows


def _detail_context(
    request: HttpRequest,
    activity: Activity,
    now: datetime,
    *,
    errors: list[str] | None = None,
    key: str = "",
    checked: set[int] | None = None,
) -> dict[str, Any]:
    item = _item(activity, now)
    share_url = request.build_absolute_uri(reverse("activities:detail", args=[activity.pk]))
    context: dict[str, Any] = {
        "item": item,
        "activity": activity,
        "share_url": share_url,
        "share_qr": qr_svg(share_url, _("QR code of this page")),
        "errors": errors or [],
        "can_register": item.state in REGISTERABLE,
        "countdown_text": _countdown_text(),
        "draw_url": f"/api/v1/activities/{activity.pk}/draw",
        "lottery": activity.allocation == Allocation.LOTTERY,
    }
    if request.user.is_authenticated:
        account = _account(request)
        rows = _my_rows(account, activity, now)
        active = {r["reg"].person_id for r in rows if r["reg"].status in ACTIVE_STATUSES}
        people = [
            {"person": p, "registered": p.pk in active, "checked": p.pk in (checked or ())}
            for p in account.people.all()
        ]
        context.update(
            {
                "my_rows": rows,
                "people": people,
                "anyone_free": any(not p["registered"] for p in people),
                "idempotency_key": key or secrets.token_urlsafe(18),
            }
        )
    return context


@require_GET
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    now = timezone.now()
    activity = services.settle(_get_activity(activity_id), now=now)
    return render(request, "activities/detail.html", _detail_context(request, activity, now))


def _result_message(result: services.RegistrationResult) -> str:
    regs = result.registrations
    names = "、".join(r.person.name for r in regs)
    status = result.status
    if status == RegistrationStatus.CONFIRMED:
        text = _("Confirmed: %(names)s. Your tickets are under My registrations.") % {
            "names": names
        }
    elif status == RegistrationStatus.WAITLISTED:
        position = min(selectors.waitlist_positions(regs).values(), default=None)
        text = _("All places are taken: %(names)s are on the waiting list at position %(n)s.") % {
            "names": names,
            "n": position or "?",
        }
    elif status == RegistrationStatus.APPLIED:
        text = _(
            "Lottery application received for %(names)s. The lots are drawn at %(t)s; "
            "come back then to see the result."
        ) % {
            "names": names,
            "t": date_format(
                timezone.localtime(regs[0].activity.registration_closes_at), "DATETIME_FORMAT"
            ),
        }
    else:
        text = _("Registration status: %(status)s.") % {"status": regs[0].get_status_display()}
    if result.replayed:
        text += " " + _("This form had already been sent; nothing was taken twice.")
    return text


def _person_ids(request: HttpRequest) -> tuple[list[int], bool]:
    ids, bad = [], False
    for raw in request.POST.getlist("person")[:20]:
        try:
            ids.append(int(raw))
        except ValueError:
            bad = True
    return ids, bad


@login_required
@require_POST
def register(request: HttpRequest, activity_id: int) -> HttpResponse:
    now = timezone.now()
    activity = services.settle(_get_activity(activity_id), now=now)
    key = request.POST.get("idempotency_key", "").strip()
    key = key if KEY_RE.match(key) else ""
    person_ids, bad = _person_ids(request)
    try:
        if bad:
            raise services.RegistrationError(
                _("One of the people is not in your household."), code="not_in_household"
            )
        result = services.register(
            account=_account(request),
            activity_id=activity.pk,
            person_ids=person_ids,
            idempotency_key=key or None,
            now=now,
        )
    except services.RegistrationError as exc:
        if exc.status == 404:
            raise Http404 from None
        activity.refresh_from_db()
        context = _detail_context(
            request,
            activity,
            now,
            errors=[str(exc.message)],
            key=key,
            checked=set(person_ids),
        )
        return render(request, "activities/detail.html", context, status=exc.status)
    result.registrations = list(
        Registration.objects.filter(pk__in=[r.pk for r in result.registrations])
        .select_related("activity", "person")
        .order_by("id")
    )
    messages.success(request, _result_message(result))
    return redirect("activities:detail", activity_id=activity.pk)


# My registrations --------------------------------------------------------------------------


def _settle_mine(regs: list[Registration], now: datetime) -> bool:
    """Draw lotteries and expire offers my registrations wait on; True when anything moved."""
    due = {
        r.activity_id: r.activity
        for r in regs
        if (r.status == RegistrationStatus.APPLIED and now >= r.activity.registration_closes_at)
        or (
            r.status == RegistrationStatus.OFFERED
            and r.offer_expires_at is not None
            and r.offer_expires_at <= now
        )
    }
    for activity in due.values():
        services.settle(activity, now=now)
    return bool(due)


def _mine_page(
    request: HttpRequest, *, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    account = _account(request)
    regs = selectors.registrations_of(account)
    if _settle_mine(regs, now):
        regs = selectors.registrations_of(account)
    rows = _rows(regs, now)
    upcoming = sorted(
        (r for r in rows if r["upcoming"]), key=lambda r: (r["reg"].activity.starts_at, r["reg"].pk)
    )
    past = [r for r in rows if not r["upcoming"]]
    return render(
        request,
        "activities/mine.html",
        {"upcoming": upcoming, "past": past, "errors": errors or []},
        status=status,
    )


@login_required
@require_GET
def my_registrations(request: HttpRequest) -> HttpResponse:
    return _mine_page(request)


def _registration(request: HttpRequest, registration_id: int) -> Registration:
    try:
        return selectors.registration_of(_account(request), registration_id)
    except DoorstepError:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, registration_id: int) -> HttpResponse:
    """GET asks to confirm; POST cancels. Without JavaScript, two clear steps."""
    reg = _registration(request, registration_id)
    next_url = _safe_next(request)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            services.cancel(registration_id=reg.pk, by=_account(request))
        except services.RegistrationError as exc:
            if exc.status == 404:
                raise Http404 from None
            errors.append(str(exc.message))
            status = exc.status
        else:
            messages.success(
                request,
                _("%(name)s's place in “%(title)s” is cancelled.")
                % {"name": reg.person.name, "title": reg.activity.title},
            )
            return redirect(next_url or "activities:mine")
    rows = _rows([reg], timezone.now())
    return render(
        request,
        "activities/cancel.html",
        {"row": rows[0], "next": next_url, "errors": errors},
        status=status,
    )


@login_required
@require_POST
def accept_offer(request: HttpRequest, registration_id: int) -> HttpResponse:
    reg = _registration(request, registration_id)
    try:
        services.accept_offer(registration_id=reg.pk, account=_account(request))
    except services.RegistrationError as exc:
        if exc.status == 404:
            raise Http404 from None
        return _mine_page(request, errors=[str(exc.message)], status=exc.status)
    messages.success(
        request,
        _("Accepted: %(name)s has a place in “%(title)s”.")
        % {"name": reg.person.name, "title": reg.activity.title},
    )
    return redirect(_safe_next(request) or "activities:mine")


def _ticket_qr(request: HttpRequest, token: str) -> str:
    # The QR holds the ticket's URL: a phone camera or WeChat opens the ticket page, and the
    # door reads the token back out of it.
    url = request.build_absolute_uri(tickets.path_for(token))
    return qr_svg(url, _("QR code of the ticket"))


@login_required
@require_GET
def ticket(request: HttpRequest, registration_id: int) -> HttpResponse:
    reg = _registration(request, registration_id)
    if reg.status != RegistrationStatus.CONFIRMED:
        raise Http404
    token = tickets.token_for(reg)
    return render(
        request,
        "activities/ticket.html",
        {
            "reg": reg,
            "activity": reg.activity,
            "token": token,
            "short_code": tickets.short_code_for(reg),
            "qr": _ticket_qr(request, token),
        },
    )


@require_GET
def ticket_link(request: HttpRequest, token: str) -> HttpResponse:
    """What a ticket's QR opens in a phone camera: the holder's own ticket page when they
    are signed in; anyone else sees which activity it admits to, and no name."""
    claim = tickets.verify(token)
    reg = (
        Registration.objects.select_related("activity__center")
        .filter(public_id=claim.public_id, activity_id=claim.activity_id)
        .first()
        if claim
        else None
    )
    if reg is None:
        return render(request, "activities/ticket_link.html", {"reg": None}, status=404)
    if request.user.is_authenticated and reg.account_id == request.user.pk:
        return redirect("activities:ticket", registration_id=reg.pk)
    return render(
        request,
        "activities/ticket_link.html",
        {"reg": reg, "activity": reg.activity, "valid": reg.status == RegistrationStatus.CONFIRMED},
    )


# Calendars ---------------------------------------------------------------------------------


def _location(activity: Activity) -> str:
    parts = [activity.center.name, activity.center.address, activity.room]
    return ", ".join(p for p in parts if p)


def _event(request: HttpRequest, activity: Activity, *, uid: str, summary: str) -> ics.Event:
    description = activity.description
    if activity.status == ActivityStatus.CANCELLED:
        description = _("Cancelled: %(reason)s") % {"reason": activity.cancel_reason or "-"}
    return ics.Event(
        uid=uid,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        summary=summary,
        location=_location(activity),
        description=description,
        url=request.build_absolute_uri(reverse("activities:detail", args=[activity.pk])),
        cancelled=activity.status == ActivityStatus.CANCELLED,
        sequence=activity.ics_sequence,
    )


def _calendar_response(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def registration_ics(request: HttpRequest, registration_id: int) -> HttpResponse:
    reg = _registration(request, registration_id)
    event = _event(
        request,
        reg.activity,
        uid=f"registration-{reg.public_id}@doorstep",
        summary=f"{reg.activity.title} ({reg.person.name})",
    )
    if reg.status not in ACTIVE_STATUSES:
        event = replace(event, cancelled=True, sequence=event.sequence + 1)
    else:
        event = replace(event, alarms=services.reminder_offsets(reg.activity))
    return _calendar_response(ics.calendar([event]), f"activity-{reg.activity_id}.ics")


def _center(center_id: int) -> Center:
    try:
        return get_center(center_id)
    except DoorstepError:
        raise Http404 from None


@require_GET
def center_schedule_ics(request: HttpRequest, center_id: int) -> HttpResponse:
    center = _center(center_id)
    now = timezone.now()
    _count, activities = selectors.published_activities(
        ActivityFilters(
            center=center.pk,
            date_to=timezone.localdate(now) + timedelta(days=SCHEDULE_DAYS),
            limit=200,
        ),
        now=now,
    )
    events = [
        _event(request, a, uid=f"activity-{a.pk}@doorstep", summary=a.title) for a in activities
    ]
    return _calendar_response(
        ics.calendar(events, name=center.name, now=now), f"center-{center.pk}.ics"
    )


# Lobby screen ------------------------------------------------------------------------------


@require_GET
def lobby(request: HttpRequest, center_id: int) -> HttpResponse:
    """The center's big screen: this week, today highlighted, places left; refreshes itself."""
    center = _center(center_id)
    now = timezone.now()
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday())
    _count, activities = selectors.published_activities(
        ActivityFilters(
            center=center.pk, date_from=monday, date_to=monday + timedelta(days=6), limit=200
        ),
        now=now,
    )
    by_day: dict[date, list[Item]] = {monday + timedelta(days=i): [] for i in range(7)}
    for a in activities:
        day = timezone.localdate(a.starts_at)
        if day in by_day:
            by_day[day].append(_item(a, now))
    context = {
        "center": center,
        "days": list(by_day.items()),
        "today": today,
        "now": now,
        "refresh_seconds": LOBBY_REFRESH_SECONDS,
    }
    if not request.headers.get("HX-Request"):
        # A phone camera opens the center's schedule, where registration is.
        schedule = request.build_absolute_uri(f"{reverse('activities:list')}?center={center.pk}")
        context["schedule_url"] = schedule
        context["schedule_qr"] = qr_svg(schedule, _("QR code of the schedule"))
    template = (
        "activities/partials/lobby_schedule.html"
        if request.headers.get("HX-Request")
        else "activities/lobby.html"
    )
    return render(request, template, context)


def center_section(request: HttpRequest, center: Center) -> Section | None:
    """The center page's "next activities": the next three, inline, then a link to the rest."""
    now = timezone.now()
    count, upcoming = selectors.next_at_center(center.pk, n=3, now=now)
    return Section(
        template="activities/partials/center_next.html",
        context={"next_items": [_item(a, now) for a in upcoming], "next_count": count},
        order=10,
    )
