"""The 15-minute coverage (docs/city.md): the share of residents within a walk of a center
that offers a theme or facility (and is open at a given time), per district and for the city,
and the gaps: the cells beyond the walk, ranked by people, with the nearest center that would
close each.

The walking model is stated and configurable: straight-line distance × a detour factor
(1.3), at a walking speed (75 m a minute); "15 minutes" is 15 × speed of walking. Centers
located only to a subdistrict or district are counted apart and never treated as exact.
Nearest centers come from a Shapely STRtree over planar metres (an equirectangular
projection around Shanghai, exact enough at city scale)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
from django.db.models import F
from shapely import STRtree

from doorstep.centers.hours import is_open
from doorstep.centers.models import Center, OpeningException, OpeningHours, Region
from doorstep.centers.vocab import FACILITY_BITS, THEME_BITS

from .models import Cell

LAT0 = 31.2
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LNG = 111_320.0 * math.cos(math.radians(LAT0))


@dataclass(frozen=True)
class Walk:
    detour: float = 1.3
    speed_m_per_min: float = 75.0

    def reach_m(self, walking_m: float) -> float:
        """The straight-line distance a walk of `walking_m` covers."""
        return walking_m / self.detour

    def minutes(self, straight_m: float) -> float:
        return straight_m * self.detour / self.speed_m_per_min


@dataclass
class Area:
    code: str
    name: str
    people: int = 0
    within: dict[str, int] = field(default_factory=dict)

    def share(self, key: str) -> float | None:
        return self.within.get(key, 0) / self.people if self.people else None


@dataclass
class Gap:
    lat: float
    lng: float
    people: int
    district: str
    walk_minutes: float | None
    nearest_center_id: int | None
    nearest_center: str
    nearest_minutes: float | None


@dataclass
class Result:
    thresholds: dict[str, float]  # label → walking metres
    areas: list[Area]
    city: Area
    gaps: list[Gap]
    centers_used: int
    centers_coarse: int
    synthetic: bool
    walk: Walk


def _xy(lat: np.ndarray, lng: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (lng - 121.47) * M_PER_DEG_LNG, (lat - LAT0) * M_PER_DEG_LAT


def _open_ids(ids: list[int], at: datetime) -> set[int]:
    weekly: dict[int, list] = {}
    for cid, w, o, c in OpeningHours.objects.filter(center_id__in=ids).values_list(
        "center_id", "weekday", "open_minute", "close_minute"
    ):
        weekly.setdefault(cid, []).append((w, o, c))
    exceptions: dict[int, dict] = {}
    for cid, d, shut, o, c in OpeningException.objects.filter(center_id__in=ids).values_list(
        "center_id", "date", "closed", "open_minute", "close_minute"
    ):
        exceptions.setdefault(cid, {})[d] = (shut, o, c)
    return {cid for cid in ids if is_open(weekly.get(cid, []), exceptions.get(cid, {}), at)}


def compute(
    *,
    theme: str = "",
    facility: str = "",
    open_at: datetime | None = None,
    district: str = "",
    walk: Walk | None = None,
    gaps_for: str = "1000m",
    max_gaps: int = 200,
) -> Result:
    walk = walk or Walk()
    thresholds = {"800m": 800.0, "1000m": 1000.0, "15min": 15 * walk.speed_m_per_min}
    centers = Center.objects.all()
    if theme in THEME_BITS:
        centers = centers.annotate(t=F("theme_mask").bitand(THEME_BITS[theme])).exclude(t=0)
    if facility in FACILITY_BITS:
        centers = centers.annotate(f=F("facility_mask").bitand(FACILITY_BITS[facility])).exclude(
            f=0
        )
    rows = list(centers.values_list("pk", "name", "lat", "lng", "location_precision"))
    precise = [r for r in rows if r[4] in ("exact", "street")]
    coarse = len(rows) - len(precise)
    if open_at is not None and precise:
        open_ids = _open_ids([r[0] for r in precise], open_at)
        precise = [r for r in precise if r[0] in open_ids]
    everyone = [
        r
        for r in Center.objects.filter(location_precision__in=("exact", "street")).values_list(
            "pk", "name", "lat", "lng", "location_precision"
        )
    ]
    cells = Cell.objects.all()
    if district:
        cells = cells.filter(district_id=district)
    data = list(cells.values_list("lat", "lng", "population", "district_id", "synthetic"))
    names = dict(Region.objects.filter(level="district").values_list("code", "name"))
    areas: dict[str, Area] = {}
    city = Area("city", "")
    gaps: list[Gap] = []
    if data:
        lat = np.array([d[0] for d in data])
        lng = np.array([d[1] for d in data])
        people = np.array([d[2] for d in data], dtype=np.int64)
        x, y = _xy(lat, lng)
        distance = _nearest(x, y, precise)
        reach = {k: walk.reach_m(v) for k, v in thresholds.items()}
        for i, (_la, _ln, n, dist_code, _s) in enumerate(data):
            area = areas.setdefault(dist_code, Area(dist_code, names.get(dist_code, dist_code)))
            area.people += n
            city.people += n
            for key, metres in reach.items():
                if distance[0][i] <= metres:
                    area.within[key] = area.within.get(key, 0) + n
                    city.within[key] = city.within.get(key, 0) + n
        beyond = np.nonzero(distance[0] > reach[gaps_for])[0]
        order = beyond[np.argsort(-people[beyond], kind="stable")][:max_gaps]
        near_any = _nearest(x[order], y[order], everyone)
        for j, i in enumerate(order):
            k = near_any[1][j]
            gaps.append(
                Gap(
                    lat=float(lat[i]),
                    lng=float(lng[i]),
                    people=int(people[i]),
                    district=names.get(data[i][3], data[i][3]),
                    walk_minutes=None
                    if math.isinf(distance[0][i])
                    else round(walk.minutes(distance[0][i]), 1),
                    nearest_center_id=everyone[k][0] if k >= 0 else None,
                    nearest_center=everyone[k][1] if k >= 0 else "",
                    nearest_minutes=None if k < 0 else round(walk.minutes(near_any[0][j]), 1),
                )
            )
    return Result(
        thresholds=thresholds,
        areas=sorted(areas.values(), key=lambda a: a.code),
        city=city,
        gaps=gaps,
        centers_used=len(precise),
        centers_coarse=coarse,
        synthetic=any(d[4] for d in data),
        walk=walk,
    )


def _nearest(x: np.ndarray, y: np.ndarray, centers: list) -> tuple[np.ndarray, np.ndarray]:
    """(distance in metres, index into `centers`) of each point's nearest center; inf and
    -1 when there is none."""
    if not centers or len(x) == 0:
        return np.full(len(x), np.inf), np.full(len(x), -1)
    cx, cy = _xy(np.array([c[2] for c in centers]), np.array([c[3] for c in centers]))
    tree = STRtree(shapely.points(cx, cy))
    points = shapely.points(x, y)
    (i_point, i_center), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    out_d = np.full(len(x), np.inf)
    out_i = np.full(len(x), -1)
    out_d[i_point] = dist
    out_i[i_point] = i_center
    return out_d, out_i
