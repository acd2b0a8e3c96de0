"""The 15-minute coverage page and its exports (CSV, GeoJSON), for staff (docs/city.md)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from doorstep.accounts.decorators import staff_required
from doorstep.centers.models import Region
from doorstep.centers.vocab import Facility, Theme

from . import coverage


def _query(request: HttpRequest) -> dict:
    g = request.GET
    theme = g.get("theme", "") if g.get("theme", "") in Theme.values else ""
    facility = g.get("facility", "") if g.get("facility", "") in Facility.values else ""
    district = (g.get("district") or "")[:12]
    if district and not Region.objects.filter(pk=district, level="district").exists():
        district = ""
    open_at = None
    raw = (g.get("open_at") or "").strip()[:5]
    if raw:
        try:
            at = time.fromisoformat(raw)
            open_at = timezone.make_aware(datetime.combine(timezone.localdate(), at))
        except ValueError:
            open_at = None
    gaps_for = g.get("walk", "1000m") if g.get("walk") in ("800m", "1000m", "15min") else "1000m"
    default = coverage.Walk()
    walk = coverage.Walk(
        detour=_number(g.get("detour"), default.detour, 1.0, 2.0),
        speed_m_per_min=_number(g.get("speed"), default.speed_m_per_min, 30.0, 120.0),
    )
    return {
        "walk": walk,
        "theme": theme,
        "facility": facility,
        "district": district,
        "open_at": open_at,
        "gaps_for": gaps_for,
    }


def _number(raw: str | None, default: float, lo: float, hi: float) -> float:
    """A walking-model parameter from the query: a number within [lo, hi], else the default."""
    try:
        value = float((raw or "").strip()[:8])
    except ValueError:
        return default
    return value if lo <= value <= hi else default


KEYS = ("800m", "1000m", "15min")


def _pct(share: float | None) -> str | None:
    return None if share is None else f"{100 * share:.1f}"


@staff_required
def page(request: HttpRequest) -> HttpResponse:
    q = _query(request)
    result = coverage.compute(**q, max_gaps=50)
    return render(
        request,
        "city/coverage.html",
        {
            "r": result,
            "q": q,
            "open_at": (request.GET.get("open_at") or "")[:5],
            "themes": Theme.choices,
            "facilities": Facility.choices,
            "districts": Region.objects.filter(level="district").order_by("code"),
            "rows": [
                (a.name, a is result.city, a.people, [_pct(a.share(k)) for k in KEYS])
                for a in [result.city, *result.areas]
            ],
            "query": request.GET.urlencode(),
        },
    )


GAP_COLUMNS = [
    "lat",
    "lng",
    "people",
    "district",
    "walk_minutes",
    "nearest_center_id",
    "nearest_center",
    "nearest_minutes",
    "synthetic",
]


def _gap_rows(request: HttpRequest) -> list[list]:
    result = coverage.compute(**_query(request), max_gaps=5000)
    return [
        [
            round(gap.lat, 6),
            round(gap.lng, 6),
            gap.people,
            gap.district,
            gap.walk_minutes if gap.walk_minutes is not None else "",
            gap.nearest_center_id or "",
            gap.nearest_center,
            gap.nearest_minutes if gap.nearest_minutes is not None else "",
            int(result.synthetic),
        ]
        for gap in result.gaps
    ]


@staff_required
def gaps_csv(request: HttpRequest) -> HttpResponse:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(GAP_COLUMNS)
    for row in _gap_rows(request):
        w.writerow([f"{row[0]:.6f}", f"{row[1]:.6f}", *row[2:]])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="coverage-gaps.csv"'
    return response


@staff_required
def gaps_xlsx(request: HttpRequest) -> HttpResponse:
    """The same rows and columns as the CSV, as a spreadsheet (numbers stay numbers)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("gaps")
    sheet.append(GAP_COLUMNS)
    for row in _gap_rows(request):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="coverage-gaps.xlsx"'
    return response


@staff_required
def gaps_geojson(request: HttpRequest) -> HttpResponse:
    result = coverage.compute(**_query(request), max_gaps=5000)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(g.lng, 6), round(g.lat, 6)]},
            "properties": {
                "people": g.people,
                "district": g.district,
                "walk_minutes": g.walk_minutes,
                "nearest_center_id": g.nearest_center_id,
                "nearest_center": g.nearest_center,
                "nearest_minutes": g.nearest_minutes,
                "synthetic": result.synthetic,
            },
        }
        for g in result.gaps
    ]
    response = JsonResponse(
        {"type": "FeatureCollection", "features": features},
        json_dumps_params={"ensure_ascii": False},
    )
    response["Content-Disposition"] = 'attachment; filename="coverage-gaps.geojson"'
    return response
