"""Volunteer pages: opting in, opportunities and their shifts, my shifts (cancel, swap),
hours and points per year with the certificate, the poster's scan, and the public check of
a certificate's code. The back office is in staff_views.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from doorstep.accounts.models import User
from doorstep.centers.models import Center, Region
from doorstep.core.errors import DoorstepError

from . import selectors, services
from .models import Language, Opportunity, Profile, Role


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """Become a volunteer, or see my shifts, swaps on offer, hours and points."""
    errors: list[str] = []
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:sign_in')}?next={request.path}")
        p = request.POST
        try:
            if p.get("do") == "leave":
                services.leave(user=_user(request))
                messages.success(request, _("You are no longer listed as a volunteer."))
            else:
                services.save_profile(
                    user=_user(request),
                    skills=p.getlist("skills"),
                    languages=p.getlist("languages"),
                    areas=p.getlist("areas"),
                    availability=p.get("availability", ""),
                    party_member=p.get("party_member") == "1",
                )
                messages.success(request, _("Saved. Find an opportunity below."))
            return redirect("volunteers:home")
        except DoorstepError as e:
            errors.append(str(e.message))
    profile = (
        Profile.objects.filter(user=request.user).first() if request.user.is_authenticated else None
    )
    context = {
        "profile": profile,
        "roles": Role.choices,
        "languages": Language.choices,
        "districts": Region.objects.filter(level="district").order_by("code"),
        "page_errors": errors,
    }
    if profile is not None:
        user = _user(request)
        context |= {
            "shifts": selectors.my_shifts(user),
            "swaps": selectors.swaps_for(user),
            "years": services.years(user),
        }
    return render(request, "volunteers/home.html", context, status=400 if errors else 200)


def opportunities(request: HttpRequest) -> HttpResponse:
    role = request.GET.get("role", "")
    district = (request.GET.get("district") or "")[:12]
    return render(
        request,
        "volunteers/opportunities.html",
        {
            "rows": selectors.open_opportunities(role=role, district=district),
            "roles": Role.choices,
            "role": role,
            "district": district,
            "districts": Region.objects.filter(level="district").order_by("code"),
        },
    )


@require_http_methods(["GET", "POST"])
def opportunity(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    opp = get_object_or_404(Opportunity.objects.select_related("center"), pk=opportunity_id)
    errors: list[str] = []
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:sign_in')}?next={request.path}")
        try:
            signup = services.sign_up(
                user=_user(request), shift_id=_int(request.POST.get("shift")) or 0
            )
        except DoorstepError as e:
            errors.append(str(e.message))
        else:
            messages.success(
                request,
                _("You are on the shift.")
                if signup.status == "confirmed"
                else _("The shift is full: you are on its waiting list."),
            )
            return redirect("volunteers:home")
    return render(
        request,
        "volunteers/opportunity.html",
        {"opp": opp, "shifts": selectors.shifts_of(opp), "page_errors": errors},
        status=400 if errors else 200,
    )


@login_required
@require_POST
def my_shift(request: HttpRequest, signup_id: int) -> HttpResponse:
    user = _user(request)
    try:
        if request.POST.get("do") == "swap":
            services.offer_swap(user=user, signup_id=signup_id)
            messages.success(request, _("Your place is offered to other volunteers."))
        else:
            services.cancel(user=user, signup_id=signup_id)
            messages.success(request, _("Cancelled."))
    except DoorstepError as e:
        messages.error(request, str(e.message))
    return redirect("volunteers:home")


@login_required
@require_POST
def take(request: HttpRequest, swap_id: int) -> HttpResponse:
    try:
        services.take_swap(user=_user(request), swap_id=swap_id)
        messages.success(request, _("The place is yours."))
    except DoorstepError as e:
        messages.error(request, str(e.message))
    return redirect("volunteers:home")


@require_http_methods(["GET", "POST"])
def scan(request: HttpRequest, center_id: int, code: str) -> HttpResponse:
    """What the center's volunteer poster opens: a button that checks me in (or out)."""
    center = get_object_or_404(Center, pk=center_id)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:sign_in')}?next={request.path}")
    errors: list[str] = []
    outcome = signup = None
    if request.method == "POST":
        try:
            outcome, signup = services.scan(user=_user(request), center_id=center.pk, code=code)
        except DoorstepError as e:
            errors.append(str(e.message))
    return render(
        request,
        "volunteers/scan.html",
        {"center": center, "outcome": outcome, "signup": signup, "page_errors": errors},
        status=400 if errors else 200,
    )


@login_required
def certificate(request: HttpRequest, year: int) -> HttpResponse:
    try:
        cert = services.issue_certificate(user=_user(request), year=year)
    except DoorstepError as e:
        raise Http404 from e
    url = request.build_absolute_uri(f"{reverse('volunteers:verify')}?code={cert.code}")
    response = HttpResponse(services.certificate_pdf(cert, url), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="volunteer-{year}-{cert.code}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def verify(request: HttpRequest) -> HttpResponse:
    """Anyone checks a certificate's code: what it certifies, or that it is not ours."""
    code = (request.GET.get("code") or "").strip()[:40]
    cert = services.verify(code) if code else None
    return render(
        request,
        "volunteers/verify.html",
        {"code": code, "cert": cert, "hours": f"{cert.minutes / 60:.1f}" if cert else ""},
        status=404 if code and cert is None else 200,
    )
