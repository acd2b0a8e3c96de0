"""Writing the population grid: `doorstep import-population FILE.csv` (lat, lng, population
[, datum]; every bad row reported with its line; one bad row stores nothing) and
`doorstep synth-population` (a synthetic grid over the district outlines, labelled synthetic).
A cell belongs to the district whose outline holds it."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry import shape

from doorstep.centers.geo import to_wgs84
from doorstep.centers.models import Region

from .models import Cell


@dataclass
class Imported:
    cells: int = 0
    people: int = 0
    errors: list[str] = field(default_factory=list)


def _districts() -> list[tuple[str, object]]:
    out = []
    for code, outline in (
        Region.objects.filter(level="district").exclude(outline="").values_list("code", "outline")
    ):
        geometry = shape(json.loads(outline))
        shapely.prepare(geometry)
        out.append((code, geometry))
    return out


def _district_of(districts: list, lat: float, lng: float) -> str | None:
    point = shapely.Point(lng, lat)
    for code, geometry in districts:
        if geometry.contains(point):  # type: ignore[attr-defined]
            return code
    return None


def import_population(path: str | Path) -> Imported:
    out = Imported()
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        out.errors.append(_("The file cannot be read as UTF-8 text: %(e)s") % {"e": exc})
        return out
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not {"lat", "lng", "population"} <= set(reader.fieldnames or []):
        out.errors.append(_("line 1: the columns are lat, lng, population and optionally datum."))
        return out
    districts = _districts()
    cells = []
    for line, row in enumerate(reader, start=2):
        try:
            lat, lng = float(row["lat"]), float(row["lng"])
            people = int(row["population"])
        except (TypeError, ValueError):
            out.errors.append(_("line %(l)s: lat, lng and population are numbers.") % {"l": line})
            continue
        if not (math.isfinite(lat) and math.isfinite(lng)) or people < 0 or people > 1_000_000:
            out.errors.append(_("line %(l)s: a value is out of range.") % {"l": line})
            continue
        try:
            lat, lng = to_wgs84(lat, lng, (row.get("datum") or "wgs84").strip().lower())
        except Exception:  # noqa: BLE001 - an unknown datum is the row's error
            out.errors.append(_("line %(l)s: unknown datum.") % {"l": line})
            continue
        code = _district_of(districts, lat, lng)
        if code is None:
            out.errors.append(_("line %(l)s: the point is not in Shanghai.") % {"l": line})
            continue
        cells.append(
            Cell(
                lat=lat, lng=lng, population=people, district_id=code, source=Path(path).name[:200]
            )
        )
    if out.errors:
        return out
    with transaction.atomic():
        Cell.objects.all().delete()  # a grid replaces the previous one, synthetic or not
        Cell.objects.bulk_create(cells, batch_size=5000)
    out.cells, out.people = len(cells), sum(c.population for c in cells)
    return out


def synth_population(*, cell_m: int = 500, seed: int = 1) -> Imported:
    """A synthetic grid: a cell every `cell_m` metres inside the district outlines, more
    people toward the city's middle. Labelled synthetic; replaces only a synthetic grid."""
    if Cell.objects.filter(synthetic=False).exists():
        return Imported(errors=[_("A real grid is loaded; the synthetic one is not added.")])
    rng = random.Random(seed)
    step_lat = cell_m / 111_320.0
    step_lng = cell_m / (111_320.0 * math.cos(math.radians(31.2)))
    cells = []
    for code, geometry in _districts():
        minx, miny, maxx, maxy = geometry.bounds  # type: ignore[attr-defined]
        lat = miny + step_lat / 2
        while lat < maxy:
            lng = minx + step_lng / 2
            while lng < maxx:
                if geometry.contains(shapely.Point(lng, lat)):  # type: ignore[attr-defined]
                    km = math.hypot((lat - 31.23) * 111.3, (lng - 121.47) * 95.2)
                    density = 30_000 * math.exp(-km / 12) + 500  # people per km²
                    people = int(density * (cell_m / 1000) ** 2 * rng.uniform(0.3, 1.7))
                    cells.append(
                        Cell(
                            lat=lat,
                            lng=lng,
                            population=people,
                            district_id=code,
                            synthetic=True,
                            source="synthetic grid (doorstep)",
                        )
                    )
                lng += step_lng
            lat += step_lat
    with transaction.atomic():
        Cell.objects.filter(synthetic=True).delete()
        Cell.objects.bulk_create(cells, batch_size=5000)
    return Imported(cells=len(cells), people=sum(c.population for c in cells))
