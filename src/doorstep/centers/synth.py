"""A synthetic city: thousands of made-up centers for benchmarks and load tests.

The records look like the real network (names built from the real region names, a realistic
mix of levels, themes, facilities and opening hours, points inside each district's outline)
but every one is marked: source "synthetic", "合成 / synthetic" in source_detail and in the
description, external_key "synthetic:<n>". Nothing here reads or writes any other center.

Output depends only on the seed, the count and the regions in the database. Rows are written
with bulk_create; the derived index fields come from services.refresh_derived(), computed in
worker processes when there are many (their pinyin keys are most of the run time).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from doorstep.core.errors import DoorstepError

from .cache import bump_directory_version
from .hours import DAY, Interval, parse_weekly
from .models import Center, OpeningException, OpeningHours, Region
from .services import refresh_derived
from .vocab import FACILITY_BITS, Facility, Kind, Level, Precision, Source, Theme

KEY_PREFIX = "synthetic:"
SOURCE_DETAIL = "合成数据 synthetic, seed {seed}, #{n}"
LOCATION_SOURCE = "synthetic point inside the district outline (合成坐标)"
DESCRIPTION = "合成数据：为性能测试生成，并非真实的服务站点。"
DESCRIPTION_EN = "Synthetic record generated for benchmarks; not a real center."
BATCH_SIZE = 1000
DERIVE_CHUNK = 500  # centers per task when the search keys are computed in worker processes
MAX_WORKERS = 8

# Rough share of the city's residents' and villagers' committees (居委/村委) per district, so
# that grassroots stations are spread the way the real ones are. Keyed by the name's start.
DISTRICT_WEIGHTS = {
    "浦东": 1300,
    "黄浦": 170,
    "徐汇": 310,
    "长宁": 185,
    "静安": 270,
    "普陀": 270,
    "虹口": 200,
    "杨浦": 310,
    "闵行": 580,
    "宝山": 470,
    "嘉定": 400,
    "金山": 230,
    "松江": 390,
    "青浦": 300,
    "奉贤": 290,
    "崇明": 400,
}
# Office towers and parks cluster in the centre and in Pudong; 1.0 elsewhere.
OFFICE_WEIGHTS = {"浦东": 6, "黄浦": 5, "静安": 5, "徐汇": 4, "长宁": 3, "杨浦": 3, "闵行": 2}
# Districts along the Huangpu river and Suzhou Creek waterfronts.
RIVERSIDE_DISTRICTS = ("黄浦", "徐汇", "长宁", "静安", "普陀", "虹口", "杨浦", "浦东")
HUANGPU_DISTRICTS = ("黄浦", "徐汇", "虹口", "杨浦", "浦东")

# Shares of the centers that are not district or subdistrict centers (about 80/8/2/10 of the
# whole network, the district and subdistrict centers coming out of "other").
LEVEL_SHARES: dict[str, float] = {
    Level.RESIDENTIAL: 0.80,
    Level.OFFICE_PARK: 0.08,
    Level.RIVERSIDE: 0.02,
    Level.OTHER: 0.10,
}

NAME_WORDS = (
    "东方",
    "阳光",
    "翠竹",
    "春江",
    "金桥",
    "梅园",
    "桃园",
    "锦绣",
    "和平",
    "新华",
    "永安",
    "康乐",
    "长风",
    "枫林",
    "银杏",
    "海棠",
    "紫藤",
    "明珠",
    "滨河",
    "青松",
    "红枫",
    "景苑",
    "静湖",
    "丰庄",
    "曙光",
    "南新",
    "北华",
    "西郊",
    "东兰",
    "华城",
)
RESIDENTIAL_SUFFIXES = ("新村", "一村", "二村", "三村", "花园", "苑", "公寓", "家园", "坊")
BUILDING_SUFFIXES = (
    ("大厦", "楼宇党群服务站"),
    ("广场", "楼宇党群服务站"),
    ("国际中心", "楼宇党群服务站"),
    ("商务园", "党群服务站"),
    ("科技园", "党群服务站"),
    ("产业园", "党群服务站"),
)
OTHER_TEMPLATES = (
    ("{sub}{word}新就业群体暖心驿站", Kind.STATION),
    ("{sub}{word}商圈党群服务站", Kind.STATION),
    ("{sub}{word}市集党群服务点", Kind.POINT),
    ("{sub}{word}公园党群服务点", Kind.POINT),
    ("{sub}{word}医院党群服务站", Kind.STATION),
    ("{sub}{word}学校家门口服务点", Kind.POINT),
    ("{sub}{word}地铁站党群服务点", Kind.POINT),
)
STREET_WORDS = (
    "长乐",
    "延安",
    "建国",
    "复兴",
    "民生",
    "团结",
    "胜利",
    "光明",
    "幸福",
    "人民",
    "解放",
    "文化",
    "学院",
    "工农",
    "东风",
    "朝阳",
    "振兴",
    "富民",
    "康宁",
    "安远",
    "宜山",
    "兰溪",
    "凌云",
    "天山",
    "武夷",
    "漕宝",
    "江湾",
    "殷行",
    "同济",
    "真北",
)
STREET_SUFFIXES = ("路", "路", "路", "街", "大道", "支路", "公路")

# Theme weights per level: (code, weight).
THEME_WEIGHTS: dict[str, tuple[tuple[str, int], ...]] = {
    "default": (
        (Theme.DELIBERATION, 30),
        (Theme.ELDERLY, 30),
        (Theme.PARENT_CHILD, 18),
        (Theme.RED_HERITAGE, 10),
        (Theme.NEW_EMPLOYMENT, 6),
        (Theme.BUSINESS, 3),
        (Theme.BETTER_LIFE, 3),
    ),
    Level.OFFICE_PARK: (
        (Theme.BUSINESS, 45),
        (Theme.NEW_EMPLOYMENT, 20),
        (Theme.DELIBERATION, 15),
        (Theme.RED_HERITAGE, 10),
        (Theme.PARENT_CHILD, 10),
    ),
    Level.RIVERSIDE: (
        (Theme.BETTER_LIFE, 50),
        (Theme.RED_HERITAGE, 20),
        (Theme.NEW_EMPLOYMENT, 15),
        (Theme.PARENT_CHILD, 15),
    ),
    Level.OTHER: (
        (Theme.NEW_EMPLOYMENT, 35),
        (Theme.BUSINESS, 15),
        (Theme.ELDERLY, 15),
        (Theme.PARENT_CHILD, 15),
        (Theme.DELIBERATION, 10),
        (Theme.BETTER_LIFE, 10),
    ),
}
# Probability of each facility; per-level overrides below. open_24h follows the hours.
FACILITY_ODDS: dict[str, float] = {
    Facility.RESTROOM: 0.85,
    Facility.DRINKING_WATER: 0.80,
    Facility.AIR_CONDITIONED_REST: 0.55,
    Facility.HEALTH_STATION: 0.45,
    Facility.READING_ROOM: 0.45,
    Facility.GOV_SERVICE_TERMINAL: 0.35,
    Facility.UMBRELLAS: 0.35,
    Facility.MEETING_ROOMS: 0.30,
    Facility.ELDERLY_FITNESS: 0.25,
    Facility.ACCESSIBLE_TOILET: 0.25,
    Facility.CANTEEN: 0.20,
    Facility.CHILDREN_AREA: 0.15,
    Facility.BATTERY_CHARGING: 0.10,
    Facility.MOTHER_BABY_ROOM: 0.10,
    Facility.MEDICAL_ROOM: 0.08,
    Facility.LECTURE_HALL: 0.06,
    Facility.EXHIBITION: 0.06,
    Facility.LOCKERS: 0.05,
    Facility.CAFE: 0.05,
    Facility.SPORTS_COURT: 0.04,
    Facility.SHOWERS: 0.02,
    Facility.CAPSULE_APARTMENT: 0.005,
}
FACILITY_ODDS_BY_LEVEL: dict[str, dict[str, float]] = {
    Level.DISTRICT: {
        Facility.ACCESSIBLE_TOILET: 0.9,
        Facility.MEETING_ROOMS: 0.9,
        Facility.LECTURE_HALL: 0.7,
        Facility.EXHIBITION: 0.7,
        Facility.MOTHER_BABY_ROOM: 0.6,
        Facility.GOV_SERVICE_TERMINAL: 0.8,
    },
    Level.SUBDISTRICT: {
        Facility.ACCESSIBLE_TOILET: 0.7,
        Facility.MEETING_ROOMS: 0.8,
        Facility.CANTEEN: 0.5,
        Facility.GOV_SERVICE_TERMINAL: 0.7,
        Facility.EXHIBITION: 0.3,
    },
    Level.OFFICE_PARK: {
        Facility.MEETING_ROOMS: 0.7,
        Facility.CAFE: 0.25,
        Facility.MOTHER_BABY_ROOM: 0.3,
        Facility.LOCKERS: 0.15,
    },
    Level.RIVERSIDE: {
        Facility.RESTROOM: 0.97,
        Facility.DRINKING_WATER: 0.95,
        Facility.LOCKERS: 0.3,
        Facility.SHOWERS: 0.10,
        Facility.UMBRELLAS: 0.6,
        Facility.READING_ROOM: 0.15,
    },
    Level.OTHER: {
        Facility.BATTERY_CHARGING: 0.3,
        Facility.AIR_CONDITIONED_REST: 0.7,
    },
}
# Weekly hours (parse_weekly spec) with weights: mostly 08:30-20:30 variants.
HOURS_SPECS: tuple[tuple[str, int], ...] = (
    ("daily 08:30-20:30", 38),
    ("mon-sat 08:30-20:30", 14),  # closed Sundays
    ("mon-fri 08:30-20:30; sat,sun 09:00-17:00", 14),
    ("daily 09:00-21:00", 8),
    ("daily 08:30-11:30; daily 13:30-20:30", 5),
    ("mon-fri 08:30-17:00; sat 09:00-12:00", 5),  # closed Sundays
    ("mon-fri 09:00-17:00", 4),
    ("tue-sun 09:00-20:00", 4),
    ("daily 07:00-22:00", 5),
    ("24h", 3),
)
# Date exceptions: (date, note, None for closed or (open, close) minutes for a short day).
EXCEPTION_DAYS: tuple[tuple[date, str, tuple[int, int] | None], ...] = (
    (date(2026, 1, 1), "元旦", None),
    (date(2026, 2, 16), "除夕", (9 * 60, 12 * 60)),
    (date(2026, 2, 17), "春节", None),
    (date(2026, 2, 18), "春节", None),
    (date(2026, 4, 5), "清明节", None),
    (date(2026, 5, 1), "劳动节", None),
    (date(2026, 6, 19), "端午节", None),
    (date(2026, 9, 25), "中秋节", None),
    (date(2026, 10, 1), "国庆节", None),
    (date(2026, 10, 2), "国庆节", None),
    (date(2026, 12, 31), "跨年，提前闭馆", (9 * 60, 16 * 60)),
    (date(2027, 1, 1), "元旦", None),
    (date(2027, 2, 5), "除夕", (9 * 60, 12 * 60)),
    (date(2027, 2, 6), "春节", None),
    (date(2027, 2, 7), "春节", None),
    (date(2027, 4, 5), "清明节", None),
    (date(2027, 5, 1), "劳动节", None),
    (date(2027, 6, 9), "端午节", None),
    (date(2027, 9, 15), "中秋节", None),
    (date(2027, 10, 1), "国庆节", None),
    (date(2027, 10, 2), "国庆节", None),
)
EXCEPTION_SHARE = 0.15
ALIAS_SHARE = 0.3
FLOOR_AREA: dict[str, tuple[int, int]] = {
    Level.DISTRICT: (1500, 6000),
    Level.SUBDISTRICT: (600, 3000),
    Level.RESIDENTIAL: (60, 400),
    Level.OFFICE_PARK: (80, 600),
    Level.RIVERSIDE: (20, 120),
    Level.OTHER: (20, 300),
}
OPENED_RANGE = (date(2017, 1, 1), date(2026, 6, 30))


class SynthError(DoorstepError):
    """The synthetic city cannot be generated as asked."""


@dataclass
class _District:
    region: Region
    short: str
    geometry: BaseGeometry
    subdistricts: list[Region]


@dataclass
class _Plan:
    level: str
    district: _District
    subdistrict: Region | None


def synth_city(
    count: int, *, seed: int = 1, replace: bool = False, workers: int | None = None
) -> int:
    """Generate count synthetic centers; returns how many were created.

    Refuses when synthetic centers exist already, unless replace is set, in which case they
    (and only they) are deleted first. workers > 1 computes the search keys (pinyin, most of
    the run time) in that many processes; None means one per CPU, up to 8.
    """
    if count < 1:
        raise SynthError(_("Ask for at least one center."), code="bad_count")
    if not replace:
        _refuse_if_synthetic_exist()  # before the slow part; checked again below
    districts = _load_districts()
    rng = random.Random(seed)
    plans = _plan(count, districts, rng)
    points = _points(plans, rng)
    builder = _Builder(rng, seed)
    built = [
        builder.center(n, plan, point)
        for n, (plan, point) in enumerate(zip(plans, points, strict=True), start=1)
    ]
    if workers is None:
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
    centers = _derive([center for center, _h, _e in built], workers)
    with transaction.atomic():
        if replace:
            Center.objects.filter(source=Source.SYNTHETIC).delete()
        else:
            _refuse_if_synthetic_exist()
        clash = Center.objects.filter(external_key__startswith=KEY_PREFIX).first()
        if clash is not None:
            raise SynthError(
                _("The center “%(name)s” is not synthetic but has the key %(key)s.")
                % {"name": clash.name, "key": clash.external_key},
                code="key_clash",
            )
        bump_directory_version()
        for start in range(0, len(built), BATCH_SIZE):
            batch = built[start : start + BATCH_SIZE]
            saved = Center.objects.bulk_create(centers[start : start + BATCH_SIZE])
            OpeningHours.objects.bulk_create(
                [
                    OpeningHours(
                        center=center,
                        weekday=i.weekday,
                        open_minute=i.open_minute,
                        close_minute=i.close_minute,
                    )
                    for center, (_c, intervals, _e) in zip(saved, batch, strict=True)
                    for i in intervals
                ]
            )
            OpeningException.objects.bulk_create(
                [
                    OpeningException(
                        center=center,
                        date=day,
                        closed=span is None,
                        open_minute=span[0] if span else None,
                        close_minute=span[1] if span else None,
                        note=note,
                    )
                    for center, (_c, _i, exceptions) in zip(saved, batch, strict=True)
                    for day, note, span in exceptions
                ]
            )
    return len(built)


def _refuse_if_synthetic_exist() -> None:
    existing = Center.objects.filter(source=Source.SYNTHETIC).count()
    if existing:
        raise SynthError(
            _("There are already %(n)s synthetic centers; use --replace to replace them.")
            % {"n": existing},
            code="synthetic_exists",
        )


def _derive(centers: list[Center], workers: int) -> list[Center]:
    """services.refresh_derived() on every center, in worker processes when it pays."""
    chunks = [centers[i : i + DERIVE_CHUNK] for i in range(0, len(centers), DERIVE_CHUNK)]
    if workers <= 1 or len(chunks) < 2 or "fork" not in mp.get_all_start_methods():
        return _derive_chunk(centers)
    # Warm the pinyin and word-segmentation dictionaries once, so forked workers share them.
    refresh_derived(centers[0])
    # Forked workers inherit the loaded regions; they never touch the database.
    with ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)), mp_context=mp.get_context("fork")
    ) as pool:
        return [center for chunk in pool.map(_derive_chunk, chunks) for center in chunk]


def _derive_chunk(centers: list[Center]) -> list[Center]:
    for center in centers:
        refresh_derived(center)
    return centers


def _load_districts() -> list[_District]:
    regions = list(Region.objects.filter(level=Region.RegionLevel.DISTRICT).order_by("code"))
    if not regions:
        raise SynthError(
            _("There are no regions yet; load them first (doorstep load-regions)."),
            code="no_regions",
        )
    children: dict[str, list[Region]] = defaultdict(list)
    for sub in Region.objects.filter(level=Region.RegionLevel.SUBDISTRICT).order_by("code"):
        if sub.parent_id:
            children[sub.parent_id].append(sub)
    districts = []
    for region in regions:
        if not region.outline:
            raise SynthError(
                _("The district %(name)s has no outline.") % {"name": region.name},
                code="no_outline",
            )
        geometry = shape(json.loads(region.outline))
        shapely.prepare(geometry)
        short = region.name.removesuffix("新区").removesuffix("区")
        districts.append(_District(region, short, geometry, children[region.code]))
    return districts


def _weight(district: _District, table: dict[str, int] | dict[str, float], default: float) -> float:
    return float(next((w for k, w in table.items() if district.short.startswith(k)), default))


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """total split by weights, rounding by largest remainder (the parts sum to total)."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _plan(count: int, districts: list[_District], rng: random.Random) -> list[_Plan]:
    """Decide each center's level, district and subdistrict (in a stable order)."""
    plans: list[_Plan] = []
    for d in districts[:count]:
        plans.append(_Plan(Level.DISTRICT, d, None))
    subs = [(d, s) for d in districts for s in d.subdistricts]
    for d, s in subs[: max(0, count - len(plans))]:
        plans.append(_Plan(Level.SUBDISTRICT, d, s))
    rest = count - len(plans)
    if rest <= 0:
        return plans
    # The district and subdistrict centers come out of the "other" share.
    fixed_share = len(plans) / count
    shares = dict(LEVEL_SHARES)
    shares[Level.OTHER] = max(0.0, shares[Level.OTHER] - fixed_share)
    levels = list(shares)
    per_level = dict(zip(levels, _split(rest, [shares[v] for v in levels]), strict=True))
    riverside = [d for d in districts if d.short.startswith(RIVERSIDE_DISTRICTS)] or districts
    for level, n in per_level.items():
        pool = riverside if level == Level.RIVERSIDE else districts
        if level == Level.OFFICE_PARK:
            weights = [
                _weight(d, DISTRICT_WEIGHTS, 300) * _weight(d, OFFICE_WEIGHTS, 1) for d in pool
            ]
        else:
            weights = [_weight(d, DISTRICT_WEIGHTS, 300) for d in pool]
        for d, k in zip(pool, _split(n, weights), strict=True):
            choices = d.subdistricts
            if level == Level.RIVERSIDE:
                # The waterfronts run through the urban subdistricts (街道), not the towns.
                choices = [s for s in d.subdistricts if s.name.endswith("街道")] or choices
            for _i in range(k):
                sub = rng.choice(choices) if choices else None
                plans.append(_Plan(level, d, sub))
    return plans


def _points(plans: list[_Plan], rng: random.Random) -> list[tuple[float, float]]:
    """A random (lat, lng) inside each plan's district outline, rounded to 6 decimals."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for i, plan in enumerate(plans):
        wanted[plan.district.region.code].append(i)
    by_code = {p.district.region.code: p.district for p in plans}
    points: list[tuple[float, float]] = [(0.0, 0.0)] * len(plans)
    for code in sorted(wanted):
        geometry = by_code[code].geometry
        x0, y0, x1, y1 = geometry.bounds
        indexes = wanted[code]
        found: list[tuple[float, float]] = []
        for _attempt in range(1000):
            need = len(indexes) - len(found)
            if need <= 0:
                break
            m = max(16, need * 3)
            xs = np.round([rng.uniform(x0, x1) for _ in range(m)], 6)
            ys = np.round([rng.uniform(y0, y1) for _ in range(m)], 6)
            inside = shapely.contains_xy(geometry, xs, ys)
            found.extend(
                (float(y), float(x)) for x, y, ok in zip(xs, ys, inside, strict=True) if ok
            )
        if len(found) < len(indexes):
            raise SynthError(
                _("Could not place points inside %(name)s.") % {"name": by_code[code].region},
                code="no_points",
            )
        for i, point in zip(indexes, found, strict=False):
            points[i] = point
    return points


@lru_cache(maxsize=64)
def _intervals(spec: str) -> tuple[Interval, ...]:
    return tuple(parse_weekly(spec))


class _Builder:
    """Makes one unsaved Center (with its hours and exceptions) per plan."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        self.seed = seed
        self.used_names: set[str] = set()
        self.numbers: dict[tuple[str, str], int] = defaultdict(int)
        self.hours_specs = [s for s, _w in HOURS_SPECS]
        self.hours_weights = [w for _s, w in HOURS_SPECS]

    def center(
        self, n: int, plan: _Plan, point: tuple[float, float]
    ) -> tuple[Center, tuple[Interval, ...], list[tuple[date, str, tuple[int, int] | None]]]:
        rng = self.rng
        name, kind, aliases = self._name(plan)
        spec = rng.choices(self.hours_specs, self.hours_weights)[0]
        intervals = _intervals(spec)
        is_24h = sum(i.close_minute - i.open_minute for i in intervals) == 7 * DAY
        lo, hi = FLOOR_AREA[plan.level]
        opened = OPENED_RANGE[0] + timedelta(
            days=rng.randrange((OPENED_RANGE[1] - OPENED_RANGE[0]).days)
        )
        center = Center(
            external_key=f"{KEY_PREFIX}{n}",
            name=name,
            aliases=aliases,
            kind=kind,
            level=plan.level,
            district=plan.district.region,
            subdistrict=plan.subdistrict,
            themes=self._themes(plan.level),
            facilities=self._facilities(plan.level, is_24h=is_24h),
            address=self._address(plan),
            lat=point[0],
            lng=point[1],
            location_precision=Precision.EXACT,
            location_source=LOCATION_SOURCE,
            description=DESCRIPTION,
            description_en=DESCRIPTION_EN,
            floor_area_m2=rng.randint(lo, hi) // 10 * 10,
            opened_on=opened,
            hours_source=Source.SYNTHETIC,
            source=Source.SYNTHETIC,
            source_detail=SOURCE_DETAIL.format(seed=self.seed, n=n),
        )
        exceptions = []
        if not is_24h and rng.random() < EXCEPTION_SHARE:
            exceptions = sorted(rng.sample(EXCEPTION_DAYS, rng.randint(1, 4)))
        return center, intervals, exceptions

    def _number(self, scope: str, what: str) -> int:
        self.numbers[(scope, what)] += 1
        return self.numbers[(scope, what)]

    def _unique(self, name: str, numbered: str) -> str:
        """name unless it is taken, else the numbered form (always new)."""
        if name in self.used_names:
            name = numbered
        self.used_names.add(name)
        return name

    def _name(self, plan: _Plan) -> tuple[str, str, list[str]]:
        rng = self.rng
        district = plan.district.region.name
        sub = plan.subdistrict.name if plan.subdistrict else district
        scope = plan.subdistrict.code if plan.subdistrict else plan.district.region.code
        word = rng.choice(NAME_WORDS)
        aliases: list[str] = []
        if plan.level == Level.DISTRICT:
            return f"{district}党群服务中心", Kind.CENTER, [f"{district}家门口服务中心"]
        if plan.level == Level.SUBDISTRICT:
            prefix = f"{district}{sub}社区" if sub.endswith("街道") else sub
            return f"{prefix}党群服务中心", Kind.CENTER, []
        if plan.level == Level.RESIDENTIAL:
            village = sub.endswith(("镇", "乡")) and rng.random() < 0.6
            if village:
                base = f"{sub}{word}村"
                numbered = f"{sub}第{self._number(scope, '村')}村"
            elif rng.random() < 0.5:
                base = f"{sub}{word}{rng.choice(RESIDENTIAL_SUFFIXES)}居民区"
                numbered = f"{sub}第{self._number(scope, '居民区')}居民区"
            else:
                base = numbered = f"{sub}第{self._number(scope, '居民区')}居民区"
            base = self._unique(base, numbered)
            name = f"{district}{base}党群服务站"
            if rng.random() < ALIAS_SHARE:
                aliases.append(f"{base}家门口服务站")
            return name, Kind.STATION, aliases
        if plan.level == Level.OFFICE_PARK:
            building, suffix = rng.choice(BUILDING_SUFFIXES)
            base = self._unique(
                f"{sub}{word}{building}", f"{sub}第{self._number(scope, '楼宇')}{building}"
            )
            return f"{base}{suffix}", Kind.STATION, aliases
        if plan.level == Level.RIVERSIDE:
            water = (
                "滨江"
                if plan.district.short.startswith(HUANGPU_DISTRICTS) and rng.random() < 0.7
                else "苏州河"
            )
            short = plan.district.short
            base = self._unique(
                f"{short}{water}{word}驿站", f"{short}{water}第{self._number(short, water)}驿站"
            )
            return base, Kind.POINT, [f"{base}党群服务点"]
        template, kind = rng.choice(OTHER_TEMPLATES)
        base = template.format(sub=sub, word=word)
        numbered = template.format(sub=sub, word=f"第{self._number(scope, template)}")
        return self._unique(base, numbered), kind, aliases

    def _themes(self, level: str) -> list[str]:
        table = THEME_WEIGHTS.get(level, THEME_WEIGHTS["default"])
        codes = [str(c) for c, _w in table]
        weights = [w for _c, w in table]
        first = self.rng.choices(codes, weights)[0]
        themes = {first}
        if self.rng.random() < 0.45:
            themes.add(self.rng.choices(codes, weights)[0])
        return [str(t) for t in Theme.values if t in themes]

    def _facilities(self, level: str, *, is_24h: bool) -> list[str]:
        odds = {**FACILITY_ODDS, **FACILITY_ODDS_BY_LEVEL.get(level, {})}
        chosen = {code for code, p in odds.items() if self.rng.random() < p}
        if is_24h:
            chosen.add(Facility.OPEN_24H)
        return [str(code) for code in FACILITY_BITS if code in chosen]

    def _address(self, plan: _Plan) -> str:
        street = self.rng.choice(STREET_WORDS) + self.rng.choice(STREET_SUFFIXES)
        number = self.rng.randint(1, 1999)
        return f"{plan.district.region.name}{street}{number}号"
