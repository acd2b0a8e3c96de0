"""Reads of the center directory: search, filters, nearby, details, the region tree."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.errors import InvalidInput, NotFound

from . import geo, sql, textindex
from . import hours as hours_mod
from .cache import directory_version
from .models import Center, OpeningException, Region
from .search import ParsedQuery, parse_query
from .sql import EARTH_RADIUS_M
from .vocab import FACILITY_BITS, THEME_BITS, Level, display_name

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
    distance_m: float | None = None  # None without a point, and for a coarse location
    status: hours_mod.Status | None = None

    @property
    def walking_minutes(self) -> int | None:
        return None if self.distance_m is None else walking_minutes(self.distance_m)

    @property
    def precise(self) -> bool:
        return geo.is_precise(self.center.location_precision)

    def hours_text(self, now: datetime | None = None) -> str:
        if self.status is None:
            return ""
        return hours_mod.describe(self.status, now or timezone.now())


@dataclass
class CenterPage:
    count: int
    hits: list[CenterHit]
    query: ParsedQuery


def _region_code(value: str, level: str, version: int | None) -> str:
    """A region given by code or exact name -> its code, before the query is built.

    Resolving it here (from a per-process map of 251 rows) keeps the center filter a plain
    indexed `district_id = ?`; an OR across the join made both databases scan and PostgreSQL
    JIT-compile each statement (bench/HISTORY.md, fix 1).
    """
    codes = _region_codes(version)
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


def _region_codes(version: int | None) -> dict[tuple[str, str], str]:
    # Rebuilt when the directory version moves (a region import or admin edit), so every
    # worker process sees new regions without a restart. The API passes the version it has
    # just read for its answer cache; other callers read it here.
    if version is None:
        version = directory_version()
    if version != _REGION_CODES_VERSION[0] or not _REGION_CODES:
        _REGION_CODES.clear()
        for code, name, level in Region.objects.values_list("code", "name", "level"):
            _REGION_CODES[(level, code)] = code
            _REGION_CODES[(level, name)] = code
        _REGION_CODES_VERSION[0] = version
    return _REGION_CODES


@dataclass
class _Question:
    """A validated question with its regions resolved to codes."""

    f: CenterFilters
    pq: ParsedQuery
    district: str | None
    subdistrict: str | None

    @property
    def in_memory(self) -> bool:
        # Text with static filters only: the in-memory index answers it (textindex.py).
        # Open-now (the minute) and a point keep the SQL path, whose filters narrow first.
        return not self.pq.is_empty and not self.f.open_now and self.f.lat is None

    def plan(self) -> sql.Plan:
        f = self.f
        point = (f.lat, f.lng) if f.lat is not None and f.lng is not None else None
        return sql.plan(
            pq=self.pq,
            **self._static_filters(),
            open_now_at=f.at,
            want_open_now=f.open_now,
            point=point,
            radius_m=f.radius_m,
        )

    def page(
        self, version: int | None, *, limit: int | None = None, offset: int | None = None
    ) -> tuple[int, list[int]]:
        """(total, ids of the requested page, best first)."""
        f = self.f
        limit = f.limit if limit is None else limit
        offset = f.offset if offset is None else offset
        if not self.in_memory:
            return self.plan().ids(limit=limit, offset=offset)
        return textindex.search(
            self.pq,
            version=directory_version() if version is None else version,
            **self._static_filters(),
            limit=limit,
            offset=offset,
        )

    def _static_filters(self) -> dict[str, Any]:
        """The filters that do not depend on the time or a point: both paths take them."""
        return {
            "district_code": self.district,
            "subdistrict_code": self.subdistrict,
            "themes": self.f.themes,
            "facilities": self.f.facilities,
            "levels": self.f.levels,
        }


def _question(f: CenterFilters, version: int | None = None) -> _Question:
    f.validate()
    pq = parse_query(f.q)
    district = (
        _region_code(f.district, Region.RegionLevel.DISTRICT, version) if f.district else None
    )
    subdistrict = (
        _region_code(f.subdistrict, Region.RegionLevel.SUBDISTRICT, version)
        if f.subdistrict
        else None
    )
    return _Question(f=f, pq=pq, district=district, subdistrict=subdistrict)


def center_points(
    f: CenterFilters, *, cap: int = 3000
) -> list[tuple[int, str, float, float, str, str]]:
    """(id, display name, lat, lng, precision, district) of up to `cap` matching centers,
    best first, for the map."""
    question = _question(f)
    if not question.in_memory:
        return question.plan().points(cap)
    _count, ids = question.page(None, limit=cap, offset=0)
    rows = {
        i: (display_name(n, b), float(la), float(lo), p, d)
        for i, n, b, la, lo, p, d in Center.objects.filter(pk__in=ids).values_list(
            "id", "name", "branch", "lat", "lng", "location_precision", "district_id"
        )
    }
    return [(i, *rows[i]) for i in ids if i in rows]


def _distance(f: CenterFilters, lat: float, lng: float, precision: str) -> float | None:
    """Metres from the asked point; None for a representative point of a district or
    subdistrict, whose distance would say nothing about the walk to the door."""
    if f.lat is None or f.lng is None or not geo.is_precise(precision):
        return None
    return round(distance_m(f.lat, f.lng, lat, lng), 1)


def search_centers(f: CenterFilters) -> CenterPage:
    """A page of matching centers as model objects (for pages that render them)."""
    question = _question(f)
    count, ids = question.page(None)
    return CenterPage(count=count, hits=_hits(ids, f), query=question.pq)


def _hits(ids: list[int], f: CenterFilters) -> list[CenterHit]:
    by_id = Center.objects.select_related("district", "subdistrict").in_bulk(ids)
    statuses = sql.open_statuses(ids, at=f.at)
    return [
        CenterHit(
            center=c,
            open_now=statuses[c.pk].open,
            distance_m=_distance(f, c.lat, c.lng, c.location_precision),
            status=statuses[c.pk],
        )
        for c in (by_id[i] for i in ids if i in by_id)
    ]


@dataclass
class Alternatives:
    """What to offer when nothing matching is open now."""

    open_elsewhere: list[CenterHit]  # open now, ignoring the radius: 24-hour places at night
    opening_soon: list[CenterHit]  # within the question, the earliest to open


def when_none_open(f: CenterFilters, *, n: int = 3, pool: int = 100) -> Alternatives:
    """For an open-now question that found nothing: the nearest places open now without the
    radius (at night these are the 24-hour ones), and the earliest to open within it."""
    anywhere = replace(f, radius_m=None, limit=n, offset=0)
    elsewhere_ids = _question(anywhere).page(None)[1]
    later = replace(f, open_now=False, limit=min(pool, MAX_LIMIT), offset=0)
    later_ids = _question(later).page(None)[1]
    statuses = sql.open_statuses(later_ids, at=f.at)
    soonest = sorted(
        (i for i in later_ids if statuses[i].next_open is not None),
        key=lambda i: (statuses[i].next_open, later_ids.index(i)),
    )[:n]
    return Alternatives(open_elsewhere=_hits(elsewhere_ids, f), opening_soon=_hits(soonest, f))


def search_rows(f: CenterFilters, *, version: int | None = None) -> tuple[int, list[dict]]:
    """The same page as search_centers(), as the API's plain dicts: no model objects."""
    count, ids = _question(f, version).page(version)
    rows = sql.list_rows(ids)
    statuses = sql.open_statuses(ids, at=f.at)
    for row in rows:
        loc = row["location"]
        d = _distance(f, loc["lat"], loc["lng"], loc["precision"])
        st = statuses[row["id"]]
        loc["precise"] = geo.is_precise(loc["precision"])
        row["open_now"] = st.open
        row["open_until"] = st.until.isoformat() if st.until else None
        row["open_24h"] = st.always_open
        row["next_open"] = st.next_open.isoformat() if st.next_open else None
        row["distance_m"] = d
        row["walking_minutes"] = None if d is None else walking_minutes(d)
    return count, rows


def center_status(center: Center, *, at: datetime | None = None) -> hours_mod.Status:
    return sql.open_statuses([center.pk], at=at)[center.pk]


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


def pick_center(raw_id: str, typed: str = "") -> Center | None:
    """The center a picker chose: its id, or (without JavaScript) the best match for the
    name typed into it. None when neither names a center."""
    raw_id = (raw_id or "").strip()
    if raw_id.isdigit():
        return Center.objects.select_related("district").filter(pk=int(raw_id)).first()
    typed = _printable(typed or "").strip()
    if not typed:
        return None
    try:
        _count, ids = _question(CenterFilters(q=typed, limit=1)).page(None)
    except InvalidInput:
        return None
    return Center.objects.select_related("district").filter(pk__in=ids[:1]).first()
