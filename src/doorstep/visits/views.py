"""Pages: the poster scan and "I'm leaving", routes, and the staff tally, ledger and posters.

Staff pages answer only for centers in `managed_centers(user)` (404 otherwise); people who
are not staff go to the staff sign-in. Domain errors become a translated message on the page.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from doorstep.accounts.auth import client_ip
from doorstep.accounts.models import User
from doorstep.accounts.scopes import is_staff_member, managed_centers
from doorstep.centers.models import Center

from . import codes, selectors, services
from .importing import ImportFileError, import_services
from .models import Route
from .services import RouteInput, VisitError
from .vocab import Group, Service

View = Callable[..., HttpResponse]
DEVICE_COOKIE = "ds_device"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600
TALLY_GROUPS = [Group.ELDERLY, Group.CHILD, Group.ADULT, Group.RIDER]
# The services a center taps most, first on the quick-entry page.
QUICK_SERVICES = [
    Service.CANTEEN_MEAL,
    Service.BLOOD_PRESSURE,
    Service.READING_ROOM,
    Service.POLICY_CONSULTATION,
    Service.RIDER_REST,
    Service.RIDER_CHARGING,
]


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def staff_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = _user(request)
        if user is None or not is_staff_member(user):
            return redirect_to_login(request.get_full_path(), reverse("accounts:staff_sign_in"))
        return view(request, *args, **kwargs)

    return wrapped


def _staff(request: HttpRequest) -> User:
    user = _user(request)
    assert user is not None
    return user


# Poster scan -------------------------------------------------------------------------------------


def _device_raw(request: HttpRequest) -> tuple[str, bool]:
    raw = request.COOKIES.get(DEVICE_COOKIE, "")
    if 16 <= len(raw) <= 64:
        return raw, False
    return secrets.token_urlsafe(24), True


def _with_device(response: HttpResponse, raw: str, new: bool) -> HttpResponse:
    if new:
        response.set_cookie(
            DEVICE_COOKIE, raw, max_age=DEVICE_COOKIE_AGE, httponly=True, samesite="Lax"
        )
    return response


def _center_or_none(center_id: int) -> Center | None:
    return Center.objects.filter(pk=center_id).select_related("district").first()


@require_http_methods(["GET", "POST"])
def scan(request: HttpRequest, center_id: int) -> HttpResponse:
    """What the poster's QR opens: one tap records the visit (a GET alone records nothing,
    so link previews and prefetches never count as visits)."""
    raw, new = _device_raw(request)
    device = codes.device_hash(raw)
    user = _user(request)
    code = (request.POST.get("k") if request.method == "POST" else request.GET.get("k")) or ""
    center = _center_or_none(center_id)
    now = timezone.now()
    context: dict[str, Any] = {"center": center, "k": codes.normalise(code), "groups": TALLY_GROUPS}
    status = 200
    try:
        if center is None:
            raise VisitError(_("No such center."), code="not_found", status=404)
        services.check_code(center_id=center.pk, code=code, now=now)
        if request.method == "POST":
            group = request.POST.get("group") or Group.UNKNOWN
            result = services.check_in(
                center_id=center.pk,
                code=code,
                user=user,
                device=device,
                group=group,
                ip=client_ip(request),
                now=now,
            )
            context.update(visit=result.visit, counted=result.counted, just_scanned=True)
        else:
            recent = services.latest_visit(center.pk, user, device)
            if recent and recent.arrived_at >= now - services.dedupe_window():
                context.update(visit=recent, counted=False)
    except VisitError as exc:
        context["error"] = str(exc.message)
        context["error_code"] = exc.code
        status = exc.status
    response = render(request, "visits/scan.html", context, status=status)
    return _with_device(response, raw, new)


@require_POST
def leave(request: HttpRequest, visit_id: int) -> HttpResponse:
    raw, new = _device_raw(request)
    user = _user(request)
    context: dict[str, Any] = {}
    status = 200
    try:
        visit = services.check_out(
            visit_id=visit_id, user=user, device="" if new else codes.device_hash(raw)
        )
        context.update(visit=visit, center=visit.center, left=True)
    except VisitError as exc:
        context.update(error=str(exc.message), error_code=exc.code)
        status = exc.status
    return _with_device(render(request, "visits/scan.html", context, status=status), raw, new)


# Routes ------------------------------------------------------------------------------------------


@require_GET
def route_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    routes = list(selectors.visible_routes(user))
    progress = selectors.progress_by_route(user, routes)
    items = [(r, progress[r.pk]) for r in routes]
    return render(request, "visits/route_list.html", {"items": items, "signed_in": bool(user)})


@require_GET
def route_detail(request: HttpRequest, route_id: int) -> HttpResponse:
    user = _user(request)
    route = selectors.get_route(route_id, user)
    stops = selectors.stop_views(user, selectors.route_stops(route))
    stamped = sum(s.stamped for s in stops)
    points = [s.point() for s in stops]
    return render(
        request,
        "visits/route_detail.html",
        {
            "route": route,
            "stops": stops,
            "stamped": stamped,
            "total": len(stops),
            "complete": bool(stops) and stamped == len(stops),
            "signed_in": bool(user),
            "points": points,
            "can_edit": user is not None and services.can_edit_route(user, route),
        },
    )


# Staff: hub, poster, door screen -----------------------------------------------------------------


@staff_required
@require_GET
def staff_home(request: HttpRequest) -> HttpResponse:
    centers = managed_centers(_staff(request)).order_by("name", "pk")
    page = Paginator(centers, 30).get_page(request.GET.get("page"))
    return render(request, "visits/staff_home.html", {"page": page})


def _poster_url(request: HttpRequest, center: Center) -> str:
    path = reverse("visits:scan", args=[center.pk])
    return request.build_absolute_uri(f"{path}?k={codes.today_code(center.pk)}")


def _qr_svg(url: str, scale: int = 8) -> str:
    return segno.make(url, error="m").svg_inline(
        scale=scale, border=4, dark="#000", light="#fff", omitsize=True
    )


@staff_required
@require_GET
def poster(request: HttpRequest, center_id: int) -> HttpResponse:
    """Today's A4 poster as SVG (print it each morning, or use the door screen)."""
    center = selectors.managed_center(_staff(request), center_id)
    url = _poster_url(request, center)
    # The QR as a nested <svg> placed and sized on the A4 page (150 mm square, centred).
    qr = segno.make(url, error="m").svg_inline(scale=1, border=4, dark="#000", omitsize=True)
    svg = render(
        request,
        "visits/poster.svg",
        {
            "center": center,
            "qr": qr.replace("<svg ", '<svg x="30" y="76" width="150" height="150" ', 1),
            "today": timezone.localdate(),
            "code": codes.today_code(center.pk),
        },
        content_type="image/svg+xml; charset=utf-8",
    )
    svg["Content-Disposition"] = f'inline; filename="poster-{center.pk}.svg"'
    svg["Cache-Control"] = "no-store"
    return svg


@staff_required
@require_GET
def door(request: HttpRequest, center_id: int) -> HttpResponse:
    """A screen at the door showing today's QR; it reloads itself, so the code stays current."""
    center = selectors.managed_center(_staff(request), center_id)
    url = _poster_url(request, center)
    return render(
        request,
        "visits/door.html",
        {"center": center, "qr": _qr_svg(url), "today": timezone.localdate(), "url": url},
    )


# Staff: tally ------------------------------------------------------------------------------------


def _tally_context(request: HttpRequest, center: Center) -> dict[str, Any]:
    staff = _staff(request)
    now = timezone.now()
    today = timezone.localdate(now)
    last = selectors.last_tap(center.pk, staff, today)
    undo_ok = (
        last is not None and (now - last.arrived_at).total_seconds() <= services.TALLY_UNDO_SECONDS
    )
    counts = selectors.tally_counts(center.pk, today)
    return {
        "center": center,
        "today": today,
        "counts": counts,
        "buttons": [(g, Group(g).label, counts[g]) for g in TALLY_GROUPS],
        "last": last if undo_ok else None,
    }


@staff_required
@require_http_methods(["GET", "POST"])
def tally(request: HttpRequest, center_id: int) -> HttpResponse:
    center = selectors.managed_center(_staff(request), center_id)
    status = 200
    error = ""
    announce = ""
    if request.method == "POST":
        group = request.POST.get("group", "")
        try:
            services.tally(center_id=center.pk, staff=_staff(request), group=group)
            announce = _("+1 %(group)s") % {"group": Group(group).label}
        except VisitError as exc:
            error, status = str(exc.message), exc.status
    else:
        services.close_open_visits(center_id=center.pk)
    context = _tally_context(request, center) | {"error": error, "announce": announce}
    if request.headers.get("HX-Request"):
        return render(request, "visits/partials/tally_panel.html", context, status=status)
    return render(request, "visits/tally.html", context, status=status)


@staff_required
@require_POST
def tally_undo(request: HttpRequest, center_id: int) -> HttpResponse:
    center = selectors.managed_center(_staff(request), center_id)
    error = ""
    announce = ""
    status = 200
    try:
        services.undo_tally(
            visit_id=int(request.POST.get("visit", "0") or 0), staff=_staff(request)
        )
        announce = _("The last tap was undone.")
    except (VisitError, ValueError) as exc:
        error = str(exc.message) if isinstance(exc, VisitError) else _("No such tap.")
        status = 400
    context = _tally_context(request, center) | {"error": error, "announce": announce}
    if request.headers.get("HX-Request"):
        return render(request, "visits/partials/tally_panel.html", context, status=status)
    return render(request, "visits/tally.html", context, status=status)


# Staff: service ledger ---------------------------------------------------------------------------


def _ledger_context(center: Center) -> dict[str, Any]:
    today = timezone.localdate()
    others = [s for s in Service if s not in QUICK_SERVICES]
    return {
        "center": center,
        "today": today,
        "quick": [(s.value, s.label) for s in QUICK_SERVICES],
        "others": [(s.value, s.label) for s in others],
        "records": selectors.services_on(center.pk, today),
        "totals": selectors.service_totals(center.pk, today),
        "labels": dict(Service.choices),
    }


@staff_required
@require_http_methods(["GET", "POST"])
def ledger(request: HttpRequest, center_id: int) -> HttpResponse:
    center = selectors.managed_center(_staff(request), center_id)
    status = 200
    error = ""
    if request.method == "POST":
        try:
            record = services.record_service(
                center_id=center.pk,
                staff=_staff(request),
                service=request.POST.get("service", ""),
                count=request.POST.get("count", "1"),
                note=request.POST.get("note", ""),
            )
            messages.success(
                request,
                _("Recorded: %(service)s × %(count)s.")
                % {"service": record.get_service_display(), "count": record.count},
            )
            return redirect("visits:ledger", center_id=center.pk)
        except VisitError as exc:
            error, status = str(exc.message), 400
    context = _ledger_context(center) | {"page_errors": [error] if error else []}
    return render(request, "visits/ledger.html", context, status=status)


@staff_required
@require_POST
def ledger_undo(request: HttpRequest, center_id: int, record_id: int) -> HttpResponse:
    center = selectors.managed_center(_staff(request), center_id)
    try:
        services.undo_service(record_id=record_id, staff=_staff(request))
        messages.success(request, _("The entry was removed."))
    except VisitError as exc:
        messages.error(request, str(exc.message))
    return redirect("visits:ledger", center_id=center.pk)


@staff_required
@require_http_methods(["GET", "POST"])
def ledger_import(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"columns": "center,date,service,count,note"}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None or upload.size is None or upload.size > 2 * 1024 * 1024:
            context["page_errors"] = [_("Choose a CSV file of at most 2 MB.")]
            status = 400
        else:
            try:
                result = import_services(
                    upload.read(),
                    staff=_staff(request),
                    skip_invalid=request.POST.get("skip_invalid") == "1",
                    dry_run=request.POST.get("dry_run") == "1",
                )
                context["result"] = result
                if result.errors:
                    status = 400
            except ImportFileError as exc:
                context["page_errors"] = [str(exc.message)]
                status = 400
    return render(request, "visits/ledger_import.html", context, status=status)


# Staff: routes -----------------------------------------------------------------------------------


def _route_form(request: HttpRequest, route: Route | None) -> HttpResponse:
    staff = _staff(request)
    error = ""
    status = 200
    if route is not None:
        values = {
            "title": route.title,
            "title_en": route.title_en,
            "story": route.story,
            "story_en": route.story_en,
            "public": route.public,
            "stops": services.stop_tokens(route),
        }
    else:
        values = {
            "title": "",
            "title_en": "",
            "story": "",
            "story_en": "",
            "public": True,
            "stops": [],
        }
    if request.method == "POST":
        raw = request.POST.get("centers", "")
        tokens = [
            p.strip() for p in raw.replace("，", ",").replace(" ", ",").split(",") if p.strip()
        ]
        values = {
            "title": request.POST.get("title", ""),
            "title_en": request.POST.get("title_en", ""),
            "story": request.POST.get("story", ""),
            "story_en": request.POST.get("story_en", ""),
            "public": request.POST.get("public") == "1",
            "stops": tokens,
        }
        if not error:
            data = RouteInput(
                title=str(values["title"]),
                title_en=str(values["title_en"]),
                story=str(values["story"]),
                story_en=str(values["story_en"]),
                public=bool(values["public"]),
                stops=tokens,
            )
            try:
                if route is None:
                    saved = services.create_route(staff=staff, data=data)
                else:
                    saved = services.update_route(staff=staff, route_id=route.pk, data=data)
                messages.success(request, _("The route was saved."))
                return redirect("visits:route", route_id=saved.pk)
            except VisitError as exc:
                error = str(exc.message)
        status = 400
    tokens = [str(t) for t in values["stops"]]  # type: ignore[attr-defined]
    ids = [int(t) for t in tokens if t.isdigit()]
    names = dict(Center.objects.filter(pk__in=ids).values_list("pk", "name"))
    from doorstep.heritage.models import HeritageSite

    site_ids = [int(t[1:]) for t in tokens if t[:1].lower() == "s" and t[1:].isdigit()]
    site_names = dict(HeritageSite.objects.filter(pk__in=site_ids).values_list("pk", "name"))
    chosen = [
        (
            t,
            site_names.get(int(t[1:]), "?")
            if t[:1].lower() == "s" and t[1:].isdigit()
            else names.get(int(t), "?")
            if t.isdigit()
            else "?",
        )
        for t in tokens
    ]
    context = {
        "route": route,
        "values": values,
        "centers_text": ", ".join(tokens),
        "chosen": chosen,
        "managed": managed_centers(staff).order_by("name")[:50],
        "page_errors": [error] if error else [],
    }
    return render(request, "visits/route_form.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def route_new(request: HttpRequest) -> HttpResponse:
    return _route_form(request, None)


@staff_required
@require_http_methods(["GET", "POST"])
def route_edit(request: HttpRequest, route_id: int) -> HttpResponse:
    route = Route.objects.filter(pk=route_id).first()
    if route is None or not services.can_edit_route(_staff(request), route):
        raise Http404
    return _route_form(request, route)


# Heritage sites: the poster and its stamp ----------------------------------------------------


@require_http_methods(["GET", "POST"])
def site_scan(request: HttpRequest, site_id: int, code: str) -> HttpResponse:
    """What a heritage site's poster opens: a button that stamps it for my routes."""
    from doorstep.heritage.models import HeritageSite

    site = HeritageSite.objects.filter(pk=site_id).first()
    if site is None:
        raise Http404
    user = _user(request)
    if user is None:
        return redirect(f"{reverse('accounts:sign_in')}?next={request.path}")
    errors: list[str] = []
    stamped = None
    if request.method == "POST":
        try:
            stamped = services.stamp_site(user=user, site_id=site.pk, code=code)
        except VisitError as exc:
            errors.append(str(exc.message))
    return render(
        request,
        "visits/site_scan.html",
        {"site": site, "stamped": stamped, "page_errors": errors},
        status=400 if errors else 200,
    )


@staff_required
@require_GET
def site_poster(request: HttpRequest, site_id: int) -> HttpResponse:
    """Today's poster of a heritage site (staff of its district print it)."""
    from doorstep.core.qr import qr_svg
    from doorstep.heritage.models import HeritageSite

    site = HeritageSite.objects.filter(pk=site_id).first()
    if site is None or not services.can_manage_site(_staff(request), site):
        raise Http404
    code = codes.today_code(codes.site_subject(site.pk))
    url = request.build_absolute_uri(reverse("visits:site_scan", args=[site.pk, code]))
    return render(
        request,
        "visits/site_poster.html",
        {
            "site": site,
            "qr": qr_svg(url, _("Scan to stamp this site on your route")),
            "code": code,
            "today": timezone.localdate(),
        },
    )
