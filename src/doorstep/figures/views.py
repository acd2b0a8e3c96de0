"""Dashboards (还想来) for center staff and for subdistrict, district and city admins.

Thin: parse the period, fetch the scope through the permission-checked selectors (a scope the
account may not read is a 404), compute the figures, render or export. Bad dates show a
translated message with status 400.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from doorstep.accounts.decorators import staff_required
from doorstep.accounts.models import User
from doorstep.accounts.scopes import managed_centers
from doorstep.centers.models import Center, Region
from doorstep.core import audit
from doorstep.core.errors import NotFound
from doorstep.core.replica import stale_ok

from . import exports, selectors
from .selectors import FiguresError, Scope

CENTERS_LISTED = 100


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@require_GET
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    centers = managed_centers(user).select_related("district").order_by("district_id", "name")
    return render(
        request,
        "figures/home.html",
        {
            "regions": selectors.readable_regions(user),
            "centers": centers[:CENTERS_LISTED],
            "more_centers": centers.count() > CENTERS_LISTED,
        },
    )


def _scope(request: HttpRequest, center_id: int | None, code: str | None) -> Scope:
    try:
        if center_id is not None:
            return selectors.access_center(_user(request), center_id)
        return selectors.access_region(_user(request), code or "")
    except NotFound:
        raise Http404 from None


def _parts(scope: Scope) -> dict[str, Any]:
    """Links one level down: a region's districts or subdistricts, a subdistrict's centers."""
    if scope.region is None:
        return {"child_regions": [], "child_centers": []}
    if scope.kind == "subdistrict":
        centers = Center.objects.filter(subdistrict=scope.region).order_by("name")
        return {"child_regions": [], "child_centers": list(centers[:CENTERS_LISTED])}
    children = Region.objects.filter(parent=scope.region).order_by("code")
    return {"child_regions": list(children), "child_centers": []}


@stale_ok  # the scope was checked on the primary; the figures may be seconds old
def _dashboard(request: HttpRequest, scope: Scope) -> HttpResponse:
    today = timezone.localdate()
    error = None
    try:
        start, end = selectors.period(request.GET.get("from"), request.GET.get("to"), today=today)
    except FiguresError as exc:
        error = exc.message
        start, end = selectors.period(None, None, today=today)
    figures = selectors.figures_for(scope, start, end, today=today)
    return render(
        request,
        "figures/dashboard.html",
        {
            "f": figures,
            "scope": scope,
            "page_errors": [error] if error else [],
            "raw_from": request.GET.get("from", start.isoformat()),
            "raw_to": request.GET.get("to", end.isoformat()),
            "query": f"?from={start.isoformat()}&to={end.isoformat()}",
            "chart_data": exports.chart_data(figures),
            "weekdays": list(zip(exports.weekday_names(), figures.by_weekday, strict=True)),
            "walk_in_limits": {
                "suspect": settings.VISIT_SUSPECT_PER_HOUR,
                "network": settings.VISIT_NETWORK_PER_HOUR,
                "device": settings.VISIT_DEVICE_PER_HOUR,
            },
            **_parts(scope),
        },
        status=400 if error else 200,
    )


@stale_ok
def _export(request: HttpRequest, scope: Scope, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    today = timezone.localdate()
    try:
        start, end = selectors.period(request.GET.get("from"), request.GET.get("to"), today=today)
    except FiguresError as exc:
        return HttpResponse(str(exc.message), status=400, content_type="text/plain; charset=utf-8")
    figures = selectors.figures_for(scope, start, end, today=today)
    audit.record_export(
        actor=request.user,
        what="figures",
        obj=scope.center or scope.region,
        center_id=scope.center.pk if scope.center else None,
        region_code=scope.region.pk if scope.region else "",
        fmt=fmt,
    )
    if fmt == "csv":
        return exports.csv_response(figures)
    return exports.xlsx_response(figures)


@require_GET
@staff_required
def center(request: HttpRequest, center_id: int) -> HttpResponse:
    return _dashboard(request, _scope(request, center_id, None))


@require_GET
@staff_required
def region(request: HttpRequest, code: str) -> HttpResponse:
    return _dashboard(request, _scope(request, None, code))


@require_GET
@staff_required
def center_export(request: HttpRequest, center_id: int, fmt: str) -> HttpResponse:
    return _export(request, _scope(request, center_id, None), fmt)


@require_GET
@staff_required
def region_export(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    return _export(request, _scope(request, None, code), fmt)
