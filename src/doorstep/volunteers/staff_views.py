"""Volunteers in the back office: opportunities and shifts of one's centers, clearing a
volunteer for a role, a shift's roster with check-in at the desk, the poster, hours waiting
for approval (in bulk, adjustable with a reason), the export and the figures."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import User
from doorstep.accounts.scopes import can_manage, managed_centers
from doorstep.centers.models import Center
from doorstep.core.errors import DoorstepError
from doorstep.core.qr import qr_svg
from doorstep.heritage.models import HeritageSite
from doorstep.visits import codes

from . import selectors, services
from .models import Opportunity, Role, Shift
from .services.common import VolunteerError


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()[:10])
    except ValueError:
        return None


def _clock(raw: str | None) -> time | None:
    try:
        return time.fromisoformat((raw or "").strip()[:5])
    except ValueError:
        return None


@staff_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    centers = list(managed_centers(user).order_by("name")[:500])
    errors: list[str] = []
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("do") == "clear":
                from doorstep.accounts.services import normalize_phone

                phone = normalize_phone(p.get("phone", ""))
                volunteer = User.objects.filter(phone=phone).first() if phone else None
                if volunteer is None:
                    raise VolunteerError(
                        _("No volunteer has that mobile number."), code="not_found"
                    )
                services.clear(
                    by=user,
                    user_id=volunteer.pk,
                    center_id=_int(p.get("center")) or 0,
                    role=p.get("role", ""),
                )
                messages.success(request, _("Cleared for the role."))
            else:
                services.create_opportunity(
                    by=user,
                    center_id=_int(p.get("center")) or 0,
                    role=p.get("role", ""),
                    title=p.get("title", ""),
                    title_en=p.get("title_en", ""),
                    description=p.get("description", ""),
                    min_age=_int(p.get("min_age")),
                    needs_clearance=p.get("needs_clearance") == "1",
                    party_members_only=p.get("party_members_only") == "1",
                    site_id=_int(p.get("site")),
                )
                messages.success(request, _("Opportunity added: now give it shifts."))
            return redirect("volunteers:staff_home")
        except DoorstepError as e:
            errors.append(str(e.message))
    return render(
        request,
        "volunteers/staff_home.html",
        {
            "centers": centers,
            "opportunities": selectors.managed_opportunities(user).order_by(
                "center__name", "title"
            ),
            "roles": Role.choices,
            "sites": HeritageSite.objects.filter(
                district_id__in={c.district_id for c in centers}
            ).order_by("name")[:200],
            "pending": len(selectors.pending_hours(user)),
            "page_errors": errors,
        },
        status=400 if errors else 200,
    )


def _managed(user: User, opportunity_id: int) -> Opportunity:
    opp = Opportunity.objects.select_related("center").filter(pk=opportunity_id).first()
    if opp is None or not can_manage(user, opp.center_id):
        raise Http404
    return opp


@staff_required
@require_http_methods(["GET", "POST"])
def opportunity(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    user = _user(request)
    opp = _managed(user, opportunity_id)
    errors: list[str] = []
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("do") == "check":
                outcome, _signup = services.staff_check(
                    by=user, signup_id=_int(p.get("signup")) or 0
                )
                messages.success(
                    request, _("Checked in.") if outcome == "in" else _("Checked out.")
                )
            else:
                day, start, end = _day(p.get("day")), _clock(p.get("starts")), _clock(p.get("ends"))
                if day is None or start is None or end is None:
                    raise VolunteerError(_("Give the date and the times."), code="invalid")
                tz = timezone.get_current_timezone()
                services.add_shifts(
                    by=user,
                    opportunity_id=opp.pk,
                    starts_at=datetime.combine(day, start, tzinfo=tz),
                    ends_at=datetime.combine(day, end, tzinfo=tz),
                    places=_int(p.get("places")) or 0,
                    weeks=_int(p.get("weeks")) or 1,
                )
                messages.success(request, _("Shifts added."))
            return redirect("volunteers:staff_opportunity", opp.pk)
        except DoorstepError as e:
            errors.append(str(e.message))
    shifts = list(
        Shift.objects.filter(opportunity=opp, ends_at__gt=timezone.now() - timedelta(days=7))
        .prefetch_related("signups__user")
        .order_by("starts_at")[:40]
    )
    return render(
        request,
        "volunteers/staff_opportunity.html",
        {
            "opp": opp,
            "shifts": [
                (s, sorted(s.signups.all(), key=lambda g: (g.status, g.created_at))) for s in shifts
            ],
            "page_errors": errors,
            "today": timezone.localdate(),
        },
        status=400 if errors else 200,
    )


@staff_required
def poster(request: HttpRequest, center_id: int) -> HttpResponse:
    """Today's volunteer poster: scanned at the start and the end of a shift."""
    center = Center.objects.filter(pk=center_id).first()
    if center is None or not can_manage(_user(request), center_id):
        raise Http404
    code = codes.today_code(center.pk)
    url = request.build_absolute_uri(reverse("volunteers:scan", args=[center.pk, code]))
    return render(
        request,
        "volunteers/poster.html",
        {
            "center": center,
            "qr": qr_svg(url, _("Volunteers: scan at the start and end of your shift")),
            "url": url,
            "code": code,
            "today": timezone.localdate(),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def hours(request: HttpRequest) -> HttpResponse:
    """Hours waiting for approval; ticked rows approved at once, some adjusted."""
    user = _user(request)
    errors: list[str] = []
    if request.method == "POST":
        ids = [i for i in (_int(x) for x in request.POST.getlist("signup")) if i]
        adjust: dict[int, tuple[int, str]] = {}
        for i in ids:
            raw = (request.POST.get(f"hours_{i}") or "").strip()
            if raw:
                try:
                    minutes = round(float(raw) * 60)
                except ValueError:
                    errors.append(_("Hours are a number like 2.5."))
                    break
                adjust[i] = (minutes, request.POST.get(f"reason_{i}", ""))
        if not errors:
            try:
                done = services.approve(by=user, signup_ids=ids, adjust=adjust)
                messages.success(request, _("%(n)s approved.") % {"n": len(done)})
                return redirect("volunteers:staff_hours")
            except DoorstepError as e:
                errors.append(str(e.message))
    return render(
        request,
        "volunteers/staff_hours.html",
        {"rows": selectors.pending_hours(user), "page_errors": errors},
        status=400 if errors else 200,
    )


@staff_required
def export(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    start = _day(request.GET.get("from")) or today.replace(month=1, day=1)
    end = _day(request.GET.get("to")) or today
    text = services.export_csv(by=_user(request), start=start, end=end)
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="volunteer-hours-{start}-{end}.csv"'
    return response


@staff_required
def figures(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    start = _day(request.GET.get("from")) or today - timedelta(days=90)
    end = _day(request.GET.get("to")) or today
    return render(
        request,
        "volunteers/staff_figures.html",
        {
            "f": services.figures(by=_user(request), start=start, end=end),
            "start": start,
            "end": end,
        },
    )
