"""Writes to the center directory. Every write goes through save_center()."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from doorstep.core import audit
from doorstep.core.errors import DoorstepError

from . import geo, search
from .cache import bump_directory_version
from .hours import Interval, parse_weekly
from .models import Center, OpeningHours, Region
from .vocab import FACILITY_BITS, THEME_BITS, Kind, Level, NameKind, Precision, Source, mask

# A generous box around Shanghai (WGS84): a point outside it is a typo, not a center.
SHANGHAI_BOUNDS = {"lat": (30.60, 31.95), "lng": (120.80, 122.25)}


class CenterError(DoorstepError):
    """A center record that cannot be stored as given."""


@dataclass
class CenterInput:
    """Everything a source can say about a center. Unknown location -> region's point."""

    external_key: str
    name: str
    level: str
    district: str  # region code or name
    source: str
    subdistrict: str = ""
    branch: str = ""
    name_en: str = ""
    name_en_kind: str = ""
    datum: str = "wgs84"  # of lat/lng: wgs84, gcj02 (高德, 腾讯) or bd09 (百度)
    kind: str = Kind.CENTER
    aliases: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    facilities: list[str] = field(default_factory=list)
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    location_precision: str = ""
    location_source: str = ""
    phone: str = ""
    description: str = ""
    description_en: str = ""
    facts: list[dict[str, str]] = field(default_factory=list)
    floor_area_m2: int | None = None
    opened_on: date | None = None
    hours: str = ""
    hours_note: str = ""
    hours_source: str = ""
    source_detail: str = ""


def find_region(value: str, *, level: str, parent: Region | None = None) -> Region:
    value = (value or "").strip()
    qs = Region.objects.filter(level=level)
    if parent is not None:
        qs = qs.filter(parent=parent)
    region = qs.filter(code=value).first() or qs.filter(name=value).first()
    if region is None and value:
        # "长宁" for 长宁区, "虹桥" for 虹桥街道: accept an unambiguous short form.
        candidates = list(qs.filter(name__startswith=value)[:2])
        if len(candidates) == 1:
            region = candidates[0]
    if region is None:
        if level == Region.RegionLevel.DISTRICT:
            message = _("Unknown district “%(value)s”.") % {"value": value}
        elif parent is not None:
            message = _("There is no subdistrict or town “%(value)s” in %(district)s.") % {
                "value": value,
                "district": parent.name,
            }
        else:
            message = _("Unknown subdistrict or town “%(value)s”.") % {"value": value}
        raise CenterError(message, code="unknown_region")
    return region


def _clean(data: CenterInput) -> tuple[dict, list[Interval]]:
    name = " ".join((data.name or "").split())
    if not name:
        raise CenterError(_("A center needs a name."), code="missing_name")
    if len(name) > 120:
        raise CenterError(_("The name is longer than 120 characters."), code="name_too_long")
    if not data.external_key or len(data.external_key) > 120:
        raise CenterError(_("A center needs a key of at most 120 characters."), code="missing_key")
    if data.level not in Level.values:
        raise CenterError(_("Unknown level “%(v)s”.") % {"v": data.level}, code="unknown_level")
    if data.kind not in Kind.values:
        raise CenterError(_("Unknown kind “%(v)s”.") % {"v": data.kind}, code="unknown_kind")
    if data.source not in Source.values:
        raise CenterError(_("Unknown source “%(v)s”.") % {"v": data.source}, code="unknown_source")
    unknown = [t for t in data.themes if t not in THEME_BITS]
    if unknown:
        raise CenterError(_("Unknown theme “%(v)s”.") % {"v": unknown[0]}, code="unknown_theme")
    unknown = [f for f in data.facilities if f not in FACILITY_BITS]
    if unknown:
        raise CenterError(
            _("Unknown facility “%(v)s”.") % {"v": unknown[0]}, code="unknown_facility"
        )
    district = find_region(data.district, level=Region.RegionLevel.DISTRICT)
    subdistrict = (
        find_region(data.subdistrict, level=Region.RegionLevel.SUBDISTRICT, parent=district)
        if data.subdistrict
        else None
    )
    if (data.lat is None) != (data.lng is None):
        raise CenterError(_("Give both latitude and longitude, or neither."), code="bad_location")
    if data.lat is not None and data.lng is not None:
        lat, lng = float(data.lat), float(data.lng)
        datum = (data.datum or geo.WGS84).strip().lower()
        if datum not in geo.DATUMS:
            raise CenterError(
                _("Unknown coordinate system “%(v)s” (use wgs84, gcj02 or bd09).")
                % {"v": datum[:20]},
                code="bad_datum",
            )
        if datum != geo.WGS84 and math.isfinite(lat) and math.isfinite(lng):
            lat, lng = geo.to_wgs84(lat, lng, datum)
        (lat0, lat1), (lng0, lng1) = SHANGHAI_BOUNDS["lat"], SHANGHAI_BOUNDS["lng"]
        if not (lat0 <= lat <= lat1 and lng0 <= lng <= lng1):
            raise CenterError(
                _("The location %(lat)s, %(lng)s is not in Shanghai (WGS84).")
                % {"lat": lat, "lng": lng},
                code="bad_location",
            )
        precision = data.location_precision or Precision.EXACT
        if precision not in Precision.values:
            raise CenterError(_("Unknown location precision."), code="bad_location")
        location_source = data.location_source or data.source_detail or str(data.source)
    else:
        # Honest fallback: the region's representative point, labelled as such.
        region = subdistrict if subdistrict and subdistrict.lat is not None else district
        if region.lat is None or region.lng is None:
            raise CenterError(
                _("No location given and the region has no representative point."),
                code="bad_location",
            )
        lat, lng = region.lat, region.lng
        precision = (
            Precision.SUBDISTRICT
            if region.level == Region.RegionLevel.SUBDISTRICT
            else Precision.DISTRICT
        )
        # Stored data, not UI text: the page explains the precision in the reader's language.
        location_source = f"{region.name} representative point ({region.source})"
    if data.floor_area_m2 is not None and not (0 < data.floor_area_m2 < 10_000_000):
        raise CenterError(_("The floor area is not plausible."), code="bad_floor_area")
    intervals = parse_weekly(data.hours)
    aliases = [a for a in (" ".join(x.split()) for x in data.aliases) if a and a != name]
    name_en = " ".join((data.name_en or "").split())[:200]
    if data.name_en_kind and data.name_en_kind not in NameKind.values:
        raise CenterError(_("Unknown kind of English name."), code="bad_name_en_kind")
    fields = {
        "name": name,
        "branch": " ".join((data.branch or "").split())[:60],
        "name_en": name_en,
        "name_en_kind": (data.name_en_kind or NameKind.TRANSLATION) if name_en else "",
        "aliases": list(dict.fromkeys(aliases)),
        "kind": data.kind,
        "level": data.level,
        "district": district,
        "subdistrict": subdistrict,
        "themes": [t for t in THEME_BITS if t in data.themes],
        "facilities": [f for f in FACILITY_BITS if f in data.facilities],
        "address": " ".join((data.address or "").split())[:200],
        "lat": round(lat, 6),
        "lng": round(lng, 6),
        "location_precision": str(precision),
        "location_source": str(location_source)[:200],
        "phone": (data.phone or "").strip()[:32],
        "description": (data.description or "").strip(),
        "description_en": (data.description_en or "").strip(),
        "facts": list(data.facts),
        "floor_area_m2": data.floor_area_m2,
        "opened_on": data.opened_on,
        "hours_note": (data.hours_note or "").strip()[:200],
        "hours_source": data.hours_source if intervals or data.hours_source else "",
        "source": data.source,
        "source_detail": (data.source_detail or "")[:300],
    }
    return fields, intervals


DERIVED_FIELDS = [
    "theme_mask",
    "facility_mask",
    "search_name",
    "search_text",
    "name_pinyin",
    "name_initials",
    "place_pinyin",
]


def refresh_derived(center: Center) -> None:
    """Recompute the masks and search keys from the center's own fields (no save)."""
    center.theme_mask = mask(center.themes, THEME_BITS)
    center.facility_mask = mask(center.facilities, FACILITY_BITS)
    keys = search.index_fields(
        name=center.name,
        aliases=list(center.aliases),
        name_en=center.name_en,
        address=center.address,
        district=center.district.name,
        subdistrict=center.subdistrict.name if center.subdistrict else "",
    )
    center.search_name = keys.search_name
    center.search_text = keys.search_text
    center.name_pinyin = keys.name_pinyin
    center.name_initials = keys.name_initials
    center.place_pinyin = keys.place_pinyin


def _hours_of(center: Center) -> list[tuple[int, int, int]]:
    return list(center.hours.values_list("weekday", "open_minute", "close_minute"))


@transaction.atomic
def save_center(*, data: CenterInput) -> tuple[Center, str]:
    """Create or update the center with data.external_key.

    Returns (center, outcome) with outcome "created", "updated" or "unchanged"; saving the same
    input twice changes nothing. A change bumps the directory version (centers/cache.py).
    """
    center, outcome = _save_center(data)
    if outcome != "unchanged":
        bump_directory_version()
    return center, outcome


def _save_center(data: CenterInput) -> tuple[Center, str]:
    fields, intervals = _clean(data)
    wanted_hours = [(i.weekday, i.open_minute, i.close_minute) for i in intervals]
    center = Center.objects.filter(external_key=data.external_key).first()
    if center is None:
        center = Center(external_key=data.external_key, **fields)
        refresh_derived(center)
        center.save()
        OpeningHours.objects.bulk_create(
            OpeningHours(center=center, weekday=w, open_minute=o, close_minute=c)
            for w, o, c in wanted_hours
        )
        return center, "created"
    if data.lat is None and center.precise and not geo.is_precise(fields["location_precision"]):
        # A source with no coordinates (the article, a list of names) never moves a center
        # that staff or an import placed at its door back to its district's point.
        for k in ("lat", "lng", "location_precision", "location_source"):
            fields[k] = getattr(center, k)
    changed = [k for k, v in fields.items() if getattr(center, k) != v]
    hours_changed = sorted(_hours_of(center)) != sorted(wanted_hours)
    if not changed and not hours_changed:
        # Same input, but the derived keys may come from an older indexing rule: refresh them.
        before = [getattr(center, f) for f in DERIVED_FIELDS]
        refresh_derived(center)
        if [getattr(center, f) for f in DERIVED_FIELDS] != before:
            center.save(update_fields=DERIVED_FIELDS)
            return center, "updated"
        return center, "unchanged"
    for k in changed:
        setattr(center, k, fields[k])
    refresh_derived(center)
    center.save()
    if hours_changed:
        center.hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(center=center, weekday=w, open_minute=o, close_minute=c)
            for w, o, c in wanted_hours
        )
    return center, "updated"


@dataclass
class LocationInput:
    lat: float | str  # as typed on the staff form, or a number
    lng: float | str
    datum: str = "wgs84"
    precision: str = Precision.EXACT
    source: str = ""  # where staff took it from: 现场核实, 高德地图, the center's own notice


def correct_location(*, center_id: int, actor: object, data: LocationInput) -> Center:
    """Staff place a center at its door: converted to WGS84, checked, recorded with its
    precision and source, audited with the old and new point, caches bumped."""
    datum = (data.datum or geo.WGS84).strip().lower()
    if datum not in geo.DATUMS:
        raise CenterError(
            _("Unknown coordinate system “%(v)s” (use wgs84, gcj02 or bd09).") % {"v": datum[:20]},
            code="bad_datum",
        )
    if not geo.is_precise(data.precision):
        raise CenterError(_("A corrected location is exact or street-level."), code="bad_location")
    try:
        lat, lng = float(data.lat), float(data.lng)
    except (TypeError, ValueError):
        raise CenterError(
            _("Latitude and longitude must be numbers."), code="bad_location"
        ) from None
    if not (math.isfinite(lat) and math.isfinite(lng)):
        raise CenterError(_("Latitude and longitude must be numbers."), code="bad_location")
    if datum != geo.WGS84:
        lat, lng = geo.to_wgs84(lat, lng, datum)
    (lat0, lat1), (lng0, lng1) = SHANGHAI_BOUNDS["lat"], SHANGHAI_BOUNDS["lng"]
    if not (lat0 <= lat <= lat1 and lng0 <= lng <= lng1):
        raise CenterError(
            _("The location %(lat)s, %(lng)s is not in Shanghai (WGS84).")
            % {"lat": round(lat, 6), "lng": round(lng, 6)},
            code="bad_location",
        )
    source = " ".join((data.source or "").split())[:160]
    if not source:
        raise CenterError(
            _("Say where the location comes from (on-site check, a map app, …)."),
            code="missing_location_source",
        )
    with transaction.atomic():
        center = (
            # Lock the center's row only: PostgreSQL refuses FOR UPDATE on the nullable side
            # of the subdistrict's outer join.
            Center.objects.select_for_update(of=("self",))
            .select_related("district", "subdistrict")
            .filter(pk=center_id)
            .first()
        )
        if center is None:
            raise CenterError(_("No such center."), code="not_found")
        before = {
            "lat": center.lat,
            "lng": center.lng,
            "precision": center.location_precision,
            "source": center.location_source,
        }
        center.lat, center.lng = round(lat, 6), round(lng, 6)
        center.location_precision = data.precision
        center.location_source = source
        center.save(update_fields=["lat", "lng", "location_precision", "location_source"])
        audit.record(
            actor=actor,
            action="center.location_corrected",
            obj=center,
            center_id=center.pk,
            region_code=center.district_id,
            changes={
                "before": before,
                "after": {
                    "lat": center.lat,
                    "lng": center.lng,
                    "precision": center.location_precision,
                    "source": source,
                    "given_as": {"lat": data.lat, "lng": data.lng, "datum": datum},
                },
            },
        )
        bump_directory_version()
    return center
