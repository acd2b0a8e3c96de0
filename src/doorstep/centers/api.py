"""Center directory API: /api/v1/centers, /api/v1/centers/{id}, /api/v1/regions."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema

from doorstep.core.api import ErrorOut
from doorstep.core.replica import stale_reads

from . import selectors
from .cache import cached_json
from .hours import WEEKDAY_CODES, Status, format_minute
from .models import Center
from .selectors import CenterFilters

router = Router(tags=["centers"])


class LocationOut(Schema):
    lat: float
    lng: float
    precision: str
    # False for a district's or subdistrict's representative point: no distance is given.
    precise: bool
    source: str | None = None


class CenterOut(Schema):
    id: int
    name: str
    display_name: str
    name_en: str
    name_en_kind: str
    aliases: list[str]
    kind: str
    level: str
    district: str
    district_code: str
    subdistrict: str | None
    subdistrict_code: str | None
    themes: list[str]
    facilities: list[str]
    address: str
    location: LocationOut
    open_now: bool
    open_until: datetime | None = None
    open_24h: bool = False
    next_open: datetime | None = None
    # Only for a precise location (location.precise): a representative point's distance
    # says nothing about the walk to the door.
    distance_m: float | None = None
    walking_minutes: int | None = None
    source: str


class CenterList(Schema):
    count: int
    items: list[CenterOut]


class HoursOut(Schema):
    weekday: str
    opens: str
    closes: str
    past_midnight: bool


class ExceptionOut(Schema):
    date: date
    closed: bool
    opens: str | None
    closes: str | None
    note: str


class FactOut(Schema):
    zh: str
    en: str = ""


class CenterDetail(CenterOut):
    phone: str
    description: str
    description_en: str
    facts: list[FactOut]
    floor_area_m2: int | None
    opened_on: date | None
    hours: list[HoursOut]
    hours_note: str
    hours_source: str
    exceptions: list[ExceptionOut]
    source_detail: str


class RegionNode(Schema):
    code: str
    name: str
    name_en: str
    level: str
    center_count: int
    children: list[RegionNode]


RegionNode.model_rebuild()


class CenterQuery(Schema):
    q: str = ""
    district: str = ""
    subdistrict: str = ""
    theme: list[str] = []
    facility: list[str] = []
    level: list[str] = []
    open_now: bool = False
    lat: float | None = None
    lng: float | None = None
    radius_m: int | None = None
    limit: int = 20
    offset: int = 0


def _split(values: list[str]) -> list[str]:
    # Accept both ?facility=a&facility=b and ?facility=a,b
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def center_out(c: Center, *, status: Status, distance_m: float | None = None) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "display_name": c.display_name,
        "name_en": c.name_en,
        "name_en_kind": c.name_en_kind,
        "aliases": c.aliases,
        "kind": c.kind,
        "level": c.level,
        "district": c.district.name,
        "district_code": c.district_id,
        "subdistrict": c.subdistrict.name if c.subdistrict else None,
        "subdistrict_code": c.subdistrict_id,
        "themes": c.themes,
        "facilities": c.facilities,
        "address": c.address,
        "location": {
            "lat": c.lat,
            "lng": c.lng,
            "precision": c.location_precision,
            "precise": c.precise,
            "source": c.location_source,
        },
        "open_now": status.open,
        "open_until": status.until.isoformat() if status.until else None,
        "open_24h": status.always_open,
        "next_open": status.next_open.isoformat() if status.next_open else None,
        "distance_m": distance_m,
        "walking_minutes": (None if distance_m is None else selectors.walking_minutes(distance_m)),
        "source": c.source,
    }


@router.get(
    "/centers",
    response={200: CenterList, 400: ErrorOut, 422: ErrorOut},
    summary="Search and filter centers",
)
def list_centers(request: HttpRequest, params: Query[CenterQuery]) -> HttpResponse:
    """Search (Chinese, pinyin, initials, traditional), filter and find nearby centers.

    `theme` matches any of the given themes; `facility` requires all of them. With `lat` and
    `lng` the results are sorted by distance; `walking_minutes` is the straight-line distance
    x 1.3 at 80 m a minute. Answers are cached until the directory changes or the minute turns
    (centers/cache.py).
    """
    filters = CenterFilters(
        q=params.q,
        district=params.district.strip(),
        subdistrict=params.subdistrict.strip(),
        themes=_split(params.theme),
        facilities=_split(params.facility),
        levels=_split(params.level),
        open_now=params.open_now,
        lat=params.lat,
        lng=params.lng,
        radius_m=params.radius_m,
        limit=params.limit,
        offset=params.offset,
    )
    filters.validate()  # bad input fails before anything is cached

    def build(version: int | None) -> dict:
        count, items = selectors.search_rows(filters, version=version)
        return {"count": count, "items": items}

    with stale_reads(request):  # a directory answer may be seconds old (docs/scaling.md)
        body = cached_json("centers", asdict(filters), build)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


@router.get(
    "/centers/{center_id}",
    response={200: CenterDetail, 404: ErrorOut, 422: ErrorOut},
    summary="One center with hours and source",
)
def get_center(request: HttpRequest, center_id: int) -> dict:
    c = selectors.get_center(center_id)
    data = center_out(c, status=selectors.center_status(c))
    data.update(
        {
            "phone": c.phone,
            "description": c.description,
            "description_en": c.description_en,
            "facts": c.facts,
            "floor_area_m2": c.floor_area_m2,
            "opened_on": c.opened_on,
            "hours": [
                {
                    "weekday": WEEKDAY_CODES[h.weekday],
                    "opens": format_minute(h.open_minute),
                    "closes": format_minute(h.close_minute),
                    "past_midnight": h.close_minute > 1440,
                }
                for h in c.hours.all()
            ],
            "hours_note": c.hours_note,
            "hours_source": c.hours_source,
            "exceptions": [
                {
                    "date": e.date,
                    "closed": e.closed,
                    "opens": None if e.open_minute is None else format_minute(e.open_minute),
                    "closes": None if e.close_minute is None else format_minute(e.close_minute),
                    "note": e.note,
                }
                for e in selectors.upcoming_exceptions(c, today=timezone.localdate())
            ],
            "source_detail": c.source_detail,
        }
    )
    return data


@router.get("/regions", response=list[RegionNode], summary="Shanghai's region tree")
def regions(request: HttpRequest) -> list[dict]:
    return selectors.region_tree()
