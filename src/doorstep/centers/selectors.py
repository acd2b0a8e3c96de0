"""Reads of the center directory: search, filters, nearby, details, the region tree."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.errors import InvalidInput, NotFound

from . import hours as hours_mod
from .cache import directory_version
from .models import Center, OpeningException, Region
from .search import ParsedQuery, parse_query
from .vocab import FACILITY_BITS, THEME_BITS, Level, mask

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180
MAX_RADIUS_M = 50_000
MAX_LIMIT = 100
# Walking estimate: straight-line distance x 1.3 for streets that do not run straight,
# at 4.8 km/h (80 m a minute), a comfortable pace that includes older walkers.
DETOUR_FACTOR = 1.3
WALK_M_PER_MIN = 80.0


def walking_minutes(distance_m: float) -> int:
    return max(1, math.ceil(distance_m * DETOUR_FACTOR / WALK_M_PER_MIN))


def distance_m(lat0: float, lng0: float, lat1: float, lng1: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p0, p1 = math.radians(lat0), math.radians(lat1)
    dp, dl = p1 - p0, math.radians(lng1 - lng0)
    a = math.sin(dp / 2) ** 2 + math.cos(p0) * math.cos(p1) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable() or ch == " ")[:200]


@dataclass
class CenterFilters:
    q: str = ""
    district: str = ""
    subdistrict: str = ""
    themes: list[str] = field(default_factory=list)
    facilities: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    open_now: bool = False
    lat: float | None = None
    lng: float | None = None
    radius_m: int | None = None
    limit: int = 20
    offset: int = 0
    at: datetime | None = None  # "now" for open_now; tests pass a fixed time

    def validate(self) -> None:
        # NUL and other control characters are never meaningful here, and PostgreSQL refuses
        # NUL in text: drop them rather than fail.
        self.q = _printable(self.q)
        self.district = _printable(self.district)
        self.subdistrict = _printable(self.subdistrict)
        bad = [t for t in self.themes if t not in THEME_BITS]
        if bad:
            raise InvalidInput(_("Unknown theme “%(v)s”.") % {"v": bad[0]}, code="unknown_theme")
        bad = [f for f in self.facilities if f not in FACILITY_BITS]
        if bad:
            raise InvalidInput(
                _("Unknown facility “%(v)s”.") % {"v": bad[0]}, code="unknown_facility"
            )
        bad = [lv for lv in self.levels if lv not in Level.values]
        if bad:
            raise InvalidInput(_("Unknown level “%(v)s”.") % {"v": bad[0]}, code="unknown_level")
        if (self.lat is None) != (self.lng is None):
            raise InvalidInput(
                _("Give both lat and lng for a nearby search."), code="incomplete_point"
            )
        if self.lat is not None and not -90 <= self.lat <= 90:
            raise InvalidInput(_("Latitude must be between -90 and 90."), code="invalid_lat")
        if self.lng is not None and not -180 <= self.lng <= 180:
            raise InvalidInput(_("Longitude must be between -180 and 180."), code="invalid_lng")
        if self.radius_m is not None:
            if self.lat is None:
                raise InvalidInput(
                    _("A radius needs a point (lat, lng)."), code="radius_without_point"
                )
            if not 1 <= self.radius_m <= MAX_RADIUS_M:
                raise InvalidInput(
                    _("The radius must be between 1 and %(max)s metres.") % {"max": MAX_RADIUS_M},
                    code="invalid_radius",
                )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(
                _("limit must be between 1 and %(max)s.") % {"max": MAX_LIMIT}, code="invalid_limit"
            )
        if not 0 <= self.offset <= 100_000:
            raise InvalidInput(_("offset must be between 0 and 100000."), code="invalid_offset")


@dataclass
class CenterHit:
    center: Center
    open_now: bool
    distance_m: float | None = None

    @property
    def walking_minutes(self) -> int | None:
        return None if self.distance_m is None else walking_minutes(self.distance_m)


@dataclass
class CenterPage:
    count: int
    hits: list[CenterHit]
    query: ParsedQuery


def _text_match(qs: QuerySet[Center], pq: ParsedQuery) -> QuerySet[Center]:
    """Filter to centers that match the query and annotate a relevance rank (higher first)."""
    t = pq.text
    whens: list[When] = [
        When(search_name__contains=f"|{t}|", then=Value(100)),
        When(search_name__contains=f"|{t}", then=Value(90)),
        When(search_name__contains=t, then=Value(80)),
        When(search_text__contains=f"|{t}|", then=Value(70)),
        When(search_text__contains=t, then=Value(60)),
    ]
    match = Q(search_name__contains=t) | Q(search_text__contains=t)
    if len(pq.tokens) > 1:
        all_tokens = Q()
        for tok in pq.tokens:
            all_tokens &= Q(search_name__contains=tok) | Q(search_text__contains=tok)
        whens.append(When(all_tokens, then=Value(40)))
        match |= all_tokens
    if pq.latin and len(pq.latin) >= 2:
        lt = pq.latin
        whens[3:3] = [
            When(name_pinyin__contains=f"|{lt}|", then=Value(95)),
            When(name_pinyin__contains=f"|{lt}", then=Value(85)),
            When(name_initials__contains=f"|{lt}|", then=Value(84)),
            When(name_pinyin__contains=lt, then=Value(75)),
            When(name_initials__contains=f"|{lt}", then=Value(74)),
        ]
        whens.append(When(place_pinyin__contains=lt, then=Value(50)))
        match |= (
            Q(name_pinyin__contains=lt)
            | Q(name_initials__contains=f"|{lt}")
            | Q(place_pinyin__contains=lt)
        )
        if len(lt) >= 3:
            whens.append(When(name_initials__contains=lt, then=Value(45)))
            match |= Q(name_initials__contains=lt)
    return qs.filter(match).annotate(
        rank=Case(*whens, default=Value(10), output_field=IntegerField())
    )


_LEVEL_ORDER = Case(
    *[When(level=lv, then=Value(i)) for i, lv in enumerate(Level.values)],
    output_field=IntegerField(),
)


def _region_code(value: str, level: str) -> str:
    """A region given by code or exact name -> its code, before the query is built.

    Resolving it here (from a per-process map of 251 rows) keeps the center filter a plain
    indexed `district_id = ?`; an OR across the join made both databases scan and PostgreSQL
    JIT-compile each statement (docs/performance.md, fix 1).
    """
    codes = _region_codes()
    code = codes.get((level, value))
    if code is None:
        raise InvalidInput(
            _("Unknown district “%(v)s”.") % {"v": value}
            if level == Region.RegionLevel.DISTRICT
            else _("Unknown subdistrict or town “%(value)s”.") % {"value": value},
            code="unknown_region",
        )
    return code


_REGION_CODES: dict[tuple[str, str], str] = {}
_REGION_CODES_VERSION: list[int] = [-1]


def _region_codes() -> dict[tuple[str, str], str]:
    # Rebuilt when the directory version moves (a region import or admin edit), so every
    # worker process sees new regions without a restart.
    version = directory_version()
    if version != _REGION_CODES_VERSION[0] or not _REGION_CODES:
        _REGION_CODES.clear()
        for code, name, level in Region.objects.values_list("code", "name", "level"):
            _REGION_CODES[(level, code)] = code
            _REGION_CODES[(level, name)] = code
        _REGION_CODES_VERSION[0] = version
    return _REGION_CODES


def _filtered(f: CenterFilters) -> QuerySet[Center]:
    qs = Center.objects.all()
    if f.district:
        qs = qs.filter(district_id=_region_code(f.district, Region.RegionLevel.DISTRICT))
    if f.subdistrict:
        qs = qs.filter(subdistrict_id=_region_code(f.subdistrict, Region.RegionLevel.SUBDISTRICT))
    if f.themes:
        m = mask(f.themes, THEME_BITS)
        # Any of the chosen themes: a resident picking two themes wants either.
        qs = qs.annotate(_tm=F("theme_mask").bitand(m)).exclude(_tm=0)
    if f.facilities:
        m = mask(f.facilities, FACILITY_BITS)
        # All of the chosen facilities: "canteen and accessible toilet" means both.
        qs = qs.annotate(_fm=F("facility_mask").bitand(m)).filter(_fm=m)
    if f.levels:
        qs = qs.filter(level__in=f.levels)
    if f.open_now:
        qs = qs.filter(hours_mod.open_now_q(f.at))
    return qs


def _queryset(f: CenterFilters) -> tuple[QuerySet[Center], list, ParsedQuery]:
    f.validate()
    pq = parse_query(f.q)
    qs = _filtered(f)
    if not pq.is_empty:
        qs = _text_match(qs, pq)
    order: list = []
    if f.lat is not None and f.lng is not None:
        # Equirectangular distance squared in SQL (no trigonometry needed in SQLite) to filter
        # and order; exact haversine metres are computed for the page.
        kx = math.cos(math.radians(f.lat))
        d2 = ExpressionWrapper(
            (F("lat") - Value(f.lat)) * (F("lat") - Value(f.lat))
            + (F("lng") - Value(f.lng)) * (F("lng") - Value(f.lng)) * Value(kx * kx),
            output_field=FloatField(),
        )
        qs = qs.annotate(_d2=d2)
        if f.radius_m is not None:
            deg = f.radius_m / M_PER_DEG_LAT
            # Bounding box first (uses the lat/lng index), then the circle.
            qs = qs.filter(
                lat__gte=f.lat - deg,
                lat__lte=f.lat + deg,
                lng__gte=f.lng - deg / max(kx, 0.01),
                lng__lte=f.lng + deg / max(kx, 0.01),
                _d2__lte=deg * deg * 1.0001,
            )
        order = ["_d2", "id"]
    elif not pq.is_empty:
        order = ["-rank", Length("name").asc(), "id"]
    else:
        order = [_LEVEL_ORDER.asc(), "district_id", "id"]
    return qs, order, pq


def center_points(f: CenterFilters, *, cap: int = 3000) -> list[tuple[int, str, float, float]]:
    """(id, name, lat, lng) of up to `cap` matching centers, best first, for the map."""
    qs, order, _pq = _queryset(f)
    return list(qs.order_by(*order).values_list("id", "name", "lat", "lng")[:cap])


def search_centers(f: CenterFilters) -> CenterPage:
    qs, order, pq = _queryset(f)
    # Deferred join: order and count ids only (one scan, the total from a window function),
    # then fetch the page's rows by primary key (docs/performance.md, fix 4).
    rows = list(
        qs.annotate(_total=Window(Count("id")))
        .order_by(*order)
        .values_list("id", "_total")[f.offset : f.offset + f.limit]
    )
    count = rows[0][1] if rows else (qs.count() if f.offset else 0)
    ids = [r[0] for r in rows]
    # The page's rows with "open now" decided in the same statement (correlated EXISTS on at
    # most `limit` rows), rather than two more queries for their hours and exceptions.
    by_id = (
        Center.objects.select_related("district", "subdistrict")
        .annotate(_open=ExpressionWrapper(hours_mod.open_now_q(f.at), BooleanField()))
        .in_bulk(ids)
    )
    page = [by_id[i] for i in ids]
    hits = []
    for c in page:
        d = None
        if f.lat is not None and f.lng is not None:
            d = round(distance_m(f.lat, f.lng, c.lat, c.lng), 1)
        is_open = bool(c._open)  # type: ignore[attr-defined]
        hits.append(CenterHit(center=c, open_now=is_open, distance_m=d))
    return CenterPage(count=count, hits=hits, query=pq)


def open_now_map(centers: list[Center], *, at: datetime | None = None) -> dict[int, bool]:
    """open-now for a page of centers in two queries."""
    from .models import OpeningHours

    at = at or timezone.now()
    ids = [c.pk for c in centers]
    weekly: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for cid, w, o, c in OpeningHours.objects.filter(center_id__in=ids).values_list(
        "center_id", "weekday", "open_minute", "close_minute"
    ):
        weekly[cid].append((w, o, c))
    local_day = timezone.localtime(at).date()
    exceptions: dict[int, dict[date, tuple[bool, int | None, int | None]]] = defaultdict(dict)
    for cid, d, closed, eo, ec in OpeningException.objects.filter(
        center_id__in=ids, date__in=[local_day, local_day - timedelta(days=1)]
    ).values_list("center_id", "date", "closed", "open_minute", "close_minute"):
        exceptions[cid][d] = (closed, eo, ec)
    return {cid: hours_mod.is_open(weekly[cid], exceptions[cid], at) for cid in ids}


def get_center(center_id: int) -> Center:
    center = (
        Center.objects.select_related("district", "subdistrict")
        .prefetch_related("hours", "exceptions")
        .filter(pk=center_id)
        .first()
    )
    if center is None:
        raise NotFound(_("No such center."), code="not_found")
    return center


def upcoming_exceptions(center: Center, *, today: date | None = None) -> list[OpeningException]:
    today = today or timezone.localdate()
    return [e for e in center.exceptions.all() if e.date >= today][:10]


def region_tree() -> list[dict]:
    """Shanghai's districts with their subdistricts, and how many centers each has."""
    from django.db.models import Count

    district_counts = dict(
        Center.objects.values_list("district").annotate(n=Count("id")).values_list("district", "n")
    )
    sub_counts = dict(
        Center.objects.exclude(subdistrict=None)
        .values_list("subdistrict")
        .annotate(n=Count("id"))
        .values_list("subdistrict", "n")
    )
    regions = list(Region.objects.order_by("code"))
    children: dict[str | None, list[Region]] = defaultdict(list)
    for r in regions:
        children[r.parent_id].append(r)

    def node(r: Region) -> dict:
        count = (
            district_counts.get(r.code, 0) if r.level == "district" else sub_counts.get(r.code, 0)
        )
        if r.level == "city":
            count = sum(district_counts.values())
        return {
            "code": r.code,
            "name": r.name,
            "name_en": r.name_en,
            "level": r.level,
            "center_count": count,
            "children": [node(c) for c in children[r.code]],
        }

    return [node(r) for r in children[None]]
