"""The big screen (数据大屏): full-screen and kiosk-safe, for the city and for each district.

No site header, no staff link, no personal data, no meta refresh: the page updates itself
from `events` (server-sent events, one snapshot whenever it changes; the stream ends after
55 s and the browser reconnects) or, where a stream cannot stay open, by polling `data.json`.
Every read is one snapshot row (screen/models.py), and may come from the replica.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from doorstep.core import sse
from doorstep.core.replica import primary_reads, stale_ok, stale_reads

from . import selectors, services
from .models import CITY

STREAM_SECONDS = 55.0
STREAM_STEP = 2.0
VIEWS = ("today", "map", "services")
FIGURES = ("visits_today", "in_centers_now", "fill", "coverage")


def _current(code: str) -> dict[str, Any]:
    """The snapshot, computed here when the worker has not written a fresh one."""
    data = selectors.snapshot(code)
    if data is None:
        with primary_reads():  # this request writes them, then reads what it wrote
            services.refresh()
            data = selectors.snapshot(code) or {}
    return data


def _scope(code: str) -> None:
    if not selectors.scope_exists(code):
        raise Http404(_("No such district."))


@require_GET
def page(request: HttpRequest, code: str = CITY) -> HttpResponse:
    _scope(code)
    data = _current(code)
    view = request.GET.get("view", "")
    figure = request.GET.get("figure", "visits_today")
    try:
        cycle = max(8, min(int(request.GET.get("cycle", "20")), 600))
    except ValueError:
        cycle = 20
    labels = {
        "figures": {
            "visits_today": _("Visits today"),
            "in_centers_now": _("In centers now"),
            "fill": _("Activity places taken"),
            "coverage": _("Within a 15-minute walk"),
        },
        "updated": _("Updated %s"),
        "polling": _("Updating every 15 seconds"),
        "live": _("Live"),
        "offline": _("Reconnecting…"),
        "hour_chart": _("Visits by hour today"),
        "none": _("None yet"),
        "supports": _("%s supporters"),
        "synthetic": _("Includes synthetic demo data"),
    }
    return render(
        request,
        "screen/screen.html",
        {
            "code": code,
            "is_city": code == CITY,
            "data": data,
            "view": view if view in VIEWS else "",
            "figure": figure if figure in FIGURES else "visits_today",
            "cycle": cycle,
            "labels": labels,
            "figure_label": labels["figures"][figure if figure in FIGURES else "visits_today"],
            "fill_pct": _pct(
                (data.get("activities") or {}).get("taken"),
                (data.get("activities") or {}).get("places"),
            ),
            "coverage_pct": _share((data.get("coverage") or {}).get("share")),
        },
    )


def _pct(a: int | None, b: int | None) -> str:
    return f"{round(100 * a / b)}%" if a is not None and b else "—"


def _share(share: float | None) -> str:
    return "—" if share is None else f"{round(100 * share)}%"


@require_GET
@stale_ok
def data_json(request: HttpRequest, code: str = CITY) -> JsonResponse:
    _scope(code)
    response = JsonResponse(_current(code))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def events(request: HttpRequest, code: str = CITY) -> HttpResponse:
    """Server-sent events: the snapshot each time it changes (looked at every 2 s)."""
    _scope(code)

    def read() -> dict[str, Any]:
        with stale_reads(request):
            data = selectors.snapshot(code)
        data = data if data is not None else _current(code)
        # Sent when the snapshot changes, not because it grew a second older.
        return {k: v for k, v in data.items() if k != "age_seconds"}

    return sse.changes(read, seconds=STREAM_SECONDS, step=STREAM_STEP, retry_ms=2000)
