"""The directory's hot path, written as SQL: search, filters, nearby and "open now".

Every directory request used to spend more time building and compiling ORM querysets (six
`Exists` clones for open-now, a twelve-branch `Case` for the rank) than the database spent
answering them (bench/HISTORY.md, "The ORM floor"). The statements here are the same ones
the ORM produced, assembled as strings with parameters: same semantics on SQLite and
PostgreSQL (the tests compare them with the Python rules in hours.py and with the search
tests' expectations), a fraction of the CPU.

Only constants of this module and `%s` placeholders ever reach the SQL text; every value a
user typed travels as a parameter.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from doorstep.core.replica import reader

from . import hours as hours_mod
from .search import ParsedQuery, rank_tiers
from .vocab import FACILITY_BITS, THEME_BITS, Level, display_name, mask

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180

CENTER = "centers_center"
HOURS = "centers_openinghours"
EXCEPTIONS = "centers_openingexception"
REGION = "centers_region"


@dataclass
class Sql:
    """A fragment of SQL with its parameters, in order."""

    text: str = ""
    params: list[Any] = field(default_factory=list)


def _escape_like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _like(column: str, value: str) -> Sql:
    """`column` contains `value` (the search keys and queries are already lower-case).

    SQLite: instr(), a plain substring search, cheaper than LIKE (which also folds case and
    handles escapes) and equal here; SQLite uses no index for either. PostgreSQL: LIKE '%…%',
    which the pg_trgm GIN indexes serve (backslash is its default escape character).
    """
    if connection.vendor == "sqlite":
        return Sql(f"instr(c.{column}, %s) > 0", [value])
    return Sql(f"c.{column} LIKE %s", [_escape_like(value)])


def _or(parts: list[Sql]) -> Sql:
    return Sql("(" + " OR ".join(p.text for p in parts) + ")", [x for p in parts for x in p.params])


def _and(parts: list[Sql]) -> Sql:
    return Sql(
        "(" + " AND ".join(p.text for p in parts) + ")", [x for p in parts for x in p.params]
    )


def _either(column_a: str, column_b: str, value: str) -> Sql:
    return _or([_like(column_a, value), _like(column_b, value)])


def text_match(pq: ParsedQuery) -> tuple[Sql, Sql]:
    """(condition, rank expression) for a query: the ranking of `search.rank_tiers()`."""
    tiers, tests = rank_tiers(pq)
    whens: list[tuple[Sql, int]] = [(_like(col, sub), score) for col, sub, score in tiers]
    match: list[Sql] = [_like(col, sub) for col, sub in tests]
    if len(pq.tokens) > 1:
        all_tokens = _and([_either("search_name", "search_text", tok) for tok in pq.tokens])
        whens.append((all_tokens, 40))
        match.append(all_tokens)
    rank = Sql("CASE")
    for cond, score in whens:
        rank.text += f" WHEN {cond.text} THEN {int(score)}"
        rank.params += cond.params
    rank.text += " ELSE 10 END"
    return _or(match), rank


def open_now(at: datetime | None = None, alias: str = "c") -> Sql:
    """A condition on `alias`.id equal to hours.is_open() (and to hours.open_now_q())."""
    local = timezone.localtime(at or timezone.now())
    today = local.date()
    yesterday = today - timedelta(days=1)
    minute = local.hour * 60 + local.minute
    day = hours_mod.DAY

    def weekly(weekday: int, lo: int | None, hi: int) -> Sql:
        cond = f"h.center_id = {alias}.id AND h.weekday = %s AND h.close_minute > %s"
        params: list[Any] = [weekday, hi]
        if lo is not None:
            cond += " AND h.open_minute <= %s"
            params.append(lo)
        return Sql(f"EXISTS (SELECT 1 FROM {HOURS} h WHERE {cond})", params)

    def any_exception(d: date) -> Sql:
        return Sql(
            f"EXISTS (SELECT 1 FROM {EXCEPTIONS} e WHERE e.center_id = {alias}.id AND e.date = %s)",
            [d],
        )

    def open_exception(d: date, lo: int | None, hi: int) -> Sql:
        cond = f"e.center_id = {alias}.id AND e.date = %s AND e.closed = %s AND e.close_minute > %s"
        params: list[Any] = [d, False, hi]
        if lo is not None:
            cond += " AND e.open_minute <= %s"
            params.append(lo)
        return Sql(f"EXISTS (SELECT 1 FROM {EXCEPTIONS} e WHERE {cond})", params)

    not_today = any_exception(today)
    not_today.text = "NOT " + not_today.text
    not_yesterday = any_exception(yesterday)
    not_yesterday.text = "NOT " + not_yesterday.text
    return _or(
        [
            _and([weekly(today.weekday(), minute, minute), not_today]),
            open_exception(today, minute, minute),
            _and([weekly(yesterday.weekday(), None, minute + day), not_yesterday]),
            open_exception(yesterday, None, minute + day),
        ]
    )


_LEVEL_ORDER = (
    "CASE c.level "
    + " ".join(f"WHEN '{lv}' THEN {i}" for i, lv in enumerate(Level.values))
    + " ELSE 99 END"
)


_COARSE_LAST = "CASE WHEN c.location_precision IN ('exact', 'street') THEN 0 ELSE 1 END"


@dataclass
class Plan:
    """WHERE and ORDER BY for one directory question (filters already validated)."""

    where: Sql
    order: Sql

    def ids(self, *, limit: int, offset: int) -> tuple[int, list[int]]:
        """The page's ids in order, and the total.

        The total needs a second statement only when the page is full: otherwise it is
        offset + rows. (A `COUNT(*) OVER ()` window in the page query looks like one statement
        less, but it makes the database keep every match instead of the best `limit` while
        sorting: 97 ms against 43 + 19 ms for a query matching all 12,600 centers on SQLite.)
        """
        sql = (
            f"SELECT c.id FROM {CENTER} c WHERE {self.where.text} "
            f"ORDER BY {self.order.text} LIMIT %s OFFSET %s"
        )
        with reader().cursor() as cur:
            cur.execute(sql, [*self.where.params, *self.order.params, limit, offset])
            ids = [int(r[0]) for r in cur.fetchall()]
        if 0 < len(ids) < limit or (not ids and not offset):
            return offset + len(ids), ids
        with reader().cursor() as cur:
            cur.execute(
                f"SELECT COUNT(*) FROM {CENTER} c WHERE {self.where.text}", self.where.params
            )
            return int(cur.fetchone()[0]), ids

    def points(self, cap: int) -> list[tuple[int, str, float, float, str, str]]:
        """(id, display name, lat, lng, precision, district code), best first."""
        sql = (
            f"SELECT c.id, c.name, c.branch, c.lat, c.lng, c.location_precision, c.district_id "
            f"FROM {CENTER} c WHERE {self.where.text} ORDER BY {self.order.text} LIMIT %s"
        )
        with reader().cursor() as cur:
            cur.execute(sql, [*self.where.params, *self.order.params, cap])
            return [
                (int(i), display_name(n, b), float(la), float(lo), p, d)
                for i, n, b, la, lo, p, d in cur.fetchall()
            ]


def plan(
    *,
    pq: ParsedQuery,
    district_code: str | None,
    subdistrict_code: str | None,
    themes: list[str],
    facilities: list[str],
    levels: list[str],
    open_now_at: datetime | None,
    want_open_now: bool,
    point: tuple[float, float] | None,
    radius_m: int | None,
) -> Plan:
    conds: list[Sql] = []
    if district_code:
        conds.append(Sql("c.district_id = %s", [district_code]))
    if subdistrict_code:
        conds.append(Sql("c.subdistrict_id = %s", [subdistrict_code]))
    if themes:
        # Any of the chosen themes: a resident picking two themes wants either.
        conds.append(Sql("(c.theme_mask & %s) <> 0", [mask(themes, THEME_BITS)]))
    if facilities:
        # All of the chosen facilities: "canteen and accessible toilet" means both.
        m = mask(facilities, FACILITY_BITS)
        conds.append(Sql("(c.facility_mask & %s) = %s", [m, m]))
    if levels:
        conds.append(Sql("c.level IN (" + ", ".join(["%s"] * len(levels)) + ")", list(levels)))
    if want_open_now:
        conds.append(open_now(open_now_at))
    rank: Sql | None = None
    if not pq.is_empty:
        match, rank = text_match(pq)
        conds.append(match)
    order: Sql
    if point is not None:
        lat, lng = point
        kx = math.cos(math.radians(lat))
        # Equirectangular distance squared (no trigonometry needed in SQLite) to filter and
        # order; exact haversine metres are computed for the page.
        d2 = Sql(
            "((c.lat - %s) * (c.lat - %s) + (c.lng - %s) * (c.lng - %s) * %s)",
            [lat, lat, lng, lng, kx * kx],
        )
        if radius_m is not None:
            deg = radius_m / M_PER_DEG_LAT
            dlng = deg / max(kx, 0.01)
            # Bounding box first (uses the lat/lng index), then the circle.
            conds.append(
                Sql(
                    "c.lat >= %s AND c.lat <= %s AND c.lng >= %s AND c.lng <= %s",
                    [lat - deg, lat + deg, lng - dlng, lng + dlng],
                )
            )
            conds.append(Sql(f"{d2.text} <= %s", [*d2.params, deg * deg * 1.0001]))
        # Centers whose spot is known come first; a representative point of a district or
        # subdistrict says nothing about the walk, so those follow, nearest area first.
        order = Sql(f"{_COARSE_LAST}, {d2.text}, c.id", list(d2.params))
    elif rank is not None:
        order = Sql(f"{rank.text} DESC, LENGTH(c.name), c.id", list(rank.params))
    else:
        order = Sql(f"{_LEVEL_ORDER}, c.district_id, c.id")
    where = _and(conds) if conds else Sql("1 = 1")
    return Plan(where=where, order=order)


def open_statuses(ids: list[int], at: datetime | None = None) -> dict[int, hours_mod.Status]:
    """Open now, until when, next opening, for a page of centers: one statement for their
    hours and their exceptions from yesterday to six days ahead."""
    if not ids:
        return {}
    at = at or timezone.now()
    local_day = timezone.localtime(at).date()
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT center_id, weekday, open_minute, close_minute, NULL, NULL FROM {HOURS} "
        f"WHERE center_id IN ({marks}) "
        f"UNION ALL SELECT center_id, -1, open_minute, close_minute, date, closed "
        f"FROM {EXCEPTIONS} WHERE center_id IN ({marks}) AND date >= %s AND date <= %s"
    )
    weekly: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    exceptions: dict[int, dict[date, tuple[bool, int | None, int | None]]] = defaultdict(dict)
    with reader().cursor() as cur:
        cur.execute(sql, [*ids, *ids, local_day - timedelta(days=1), local_day + timedelta(days=6)])
        for cid, weekday, o, c, d, closed in cur.fetchall():
            if weekday == -1:
                day = date.fromisoformat(d) if isinstance(d, str) else d
                exceptions[cid][day] = (bool(closed), o, c)
            else:
                weekly[cid].append((weekday, o, c))
    return {cid: hours_mod.status(weekly[cid], exceptions[cid], at) for cid in ids}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def list_rows(ids: list[int]) -> list[dict[str, Any]]:
    """The API's list fields for these centers, in the order given, without model objects."""
    if not ids:
        return []
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        "SELECT c.id, c.name, c.aliases, c.kind, c.level, c.district_id, d.name, "
        "c.subdistrict_id, s.name, c.themes, c.facilities, c.address, c.lat, c.lng, "
        "c.location_precision, c.location_source, c.source, c.branch, c.name_en, "
        "c.name_en_kind "
        f"FROM {CENTER} c JOIN {REGION} d ON d.code = c.district_id "
        f"LEFT JOIN {REGION} s ON s.code = c.subdistrict_id WHERE c.id IN ({marks})"
    )
    with reader().cursor() as cur:
        cur.execute(sql, ids)
        rows = cur.fetchall()
    by_id: dict[int, dict[str, Any]] = {}
    for r in rows:
        by_id[int(r[0])] = {
            "id": int(r[0]),
            "name": r[1],
            "display_name": display_name(r[1], r[17]),
            "name_en": r[18],
            "name_en_kind": r[19],
            "aliases": _json(r[2]),
            "kind": r[3],
            "level": r[4],
            "district": r[6],
            "district_code": r[5],
            "subdistrict": r[8],
            "subdistrict_code": r[7],
            "themes": _json(r[9]),
            "facilities": _json(r[10]),
            "address": r[11],
            "location": {
                "lat": float(r[12]),
                "lng": float(r[13]),
                "precision": r[14],
                "source": r[15],
            },
            "source": r[16],
        }
    return [by_id[i] for i in ids if i in by_id]
