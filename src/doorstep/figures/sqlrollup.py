"""The rollups of whole days in set-based SQL (PostgreSQL): what `recompute_center_days` does
center-day by center-day, done by the database a month at a time.

`rebuild_figures` uses it on PostgreSQL: a city-year (4.6 million center-days from 50 million
visits) is a few INSERT ... SELECT statements per month instead of millions of Python rows
(docs/scaling.md, "Partitioning"). The numbers are the same as the Python path's; the figures
tests run both paths (SQLite takes the Python one) against the same expectations.
Rows of the days written are assumed deleted (the caller's `clean` delete).
"""

# Every interpolated fragment is a column or table name of this module, never input.
# ruff: noqa: S608

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import connection

from .models import (
    COUNTER_FIELDS,
    DWELL_EDGES,
    DWELL_FIELDS,
    GROUPS,
    HOUR_FIELDS,
    SERVICES,
    AreaDay,
    CenterDay,
    Presence,
)

WHOLE = "*"
VISIT = "visits_visit"
SERVICE = "visits_servicerecord"
CENTER = "centers_center"


def _visit_columns() -> list[tuple[str, str]]:
    """(counter, aggregate over one center-day's visits), as _visit_aggregates() counts them."""
    ok = "NOT v.suspect"
    left = f"{ok} AND v.left_at IS NOT NULL"
    cols = [
        ("visits", f"COUNT(*) FILTER (WHERE {ok})"),
        ("known_visits", f"COUNT(*) FILTER (WHERE {ok} AND v.user_id IS NOT NULL)"),
        ("synthetic", f"COUNT(*) FILTER (WHERE {ok} AND v.synthetic)"),
        ("dwell_n", f"COUNT(*) FILTER (WHERE {left})"),
        ("dwell_estimated", f"COUNT(*) FILTER (WHERE {left} AND v.left_estimated)"),
        (
            "dwell_seconds",
            f"COALESCE(FLOOR(EXTRACT(EPOCH FROM SUM(v.left_at - v.arrived_at) "
            f"FILTER (WHERE {left}))), 0)::bigint",
        ),
        ("suspect", "COUNT(*) FILTER (WHERE v.suspect)"),
    ]
    cols += [(f"g_{g}", f"COUNT(*) FILTER (WHERE {ok} AND v.\"group\" = '{g}')") for g in GROUPS]
    hour = "EXTRACT(HOUR FROM v.arrived_at AT TIME ZONE %(tz)s)"
    cols += [
        (name, f"COUNT(*) FILTER (WHERE {ok} AND {hour} = {h})")
        for h, name in enumerate(HOUR_FIELDS)
    ]
    low = 0
    dwell = "(v.left_at - v.arrived_at)"
    for edge, name in zip((*DWELL_EDGES, None), DWELL_FIELDS, strict=True):
        cond = f"{left} AND {dwell} >= interval '{low} minutes'"
        if edge is not None:
            cond += f" AND {dwell} < interval '{edge} minutes'"
            low = edge
        cols.append((name, f"COUNT(*) FILTER (WHERE {cond})"))
    return cols


def _service_columns() -> list[tuple[str, str]]:
    known = ", ".join(f"'{s}'" for s in SERVICES)
    cols = [
        (
            f"s_{s}",
            f"COALESCE(SUM(r.count) FILTER (WHERE r.service = '{s}'"
            + (f" OR r.service NOT IN ({known})" if s == "other" else "")
            + "), 0)",
        )
        for s in SERVICES
    ]
    cols.append(("synthetic", "COUNT(*) FILTER (WHERE r.synthetic)"))
    return cols


def rebuild_range(start: date, end: date) -> None:
    """CenterDay, Presence and AreaDay of the days start ... end (inclusive), in SQL."""
    assert connection.vendor == "postgresql"
    visit_cols = _visit_columns()
    service_cols = _service_columns()
    vnames = [n for n, _ in visit_cols]
    snames = [n for n, _ in service_cols]
    out: list[str] = []
    for field in COUNTER_FIELDS:
        parts = []
        if field in vnames:
            parts.append(f"COALESCE(v.{field}, 0)")
        if field in snames:
            parts.append(f"COALESCE(s.{field}, 0)")
        out.append(" + ".join(parts) if parts else "0")
    fields = ", ".join(COUNTER_FIELDS)
    params = {"tz": settings.TIME_ZONE, "start": start, "end": end}
    with connection.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO {CenterDay._meta.db_table} (center_id, day, {fields})
            SELECT COALESCE(v.center_id, s.center_id), COALESCE(v.day, s.day), {", ".join(out)}
            FROM (
                SELECT v.center_id, v.day, {", ".join(f"{e} AS {n}" for n, e in visit_cols)}
                FROM {VISIT} v WHERE v.day BETWEEN %(start)s AND %(end)s
                GROUP BY v.center_id, v.day
            ) v
            FULL OUTER JOIN (
                SELECT r.center_id, r.day, {", ".join(f"{e} AS {n}" for n, e in service_cols)}
                FROM {SERVICE} r WHERE r.day BETWEEN %(start)s AND %(end)s
                GROUP BY r.center_id, r.day
            ) s ON s.center_id = v.center_id AND s.day = v.day
            """,
            params,
        )
        cur.execute(
            f"""
            INSERT INTO {Presence._meta.db_table} (center_id, user_id, day, district, subdistrict)
            SELECT DISTINCT v.center_id, v.user_id, v.day, c.district_id,
                   COALESCE(c.subdistrict_id, '')
            FROM {VISIT} v JOIN {CENTER} c ON c.id = v.center_id
            WHERE v.day BETWEEN %(start)s AND %(end)s AND v.user_id IS NOT NULL
            """,
            params,
        )
        sums = ", ".join(f"SUM({f})" for f in COUNTER_FIELDS)
        area = AreaDay._meta.db_table
        cur.execute(
            f"""
            INSERT INTO {area} (district, subdistrict, day, {fields})
            SELECT c.district_id, COALESCE(c.subdistrict_id, ''), d.day, {sums}
            FROM {CenterDay._meta.db_table} d JOIN {CENTER} c ON c.id = d.center_id
            WHERE d.day BETWEEN %(start)s AND %(end)s
            GROUP BY c.district_id, COALESCE(c.subdistrict_id, ''), d.day
            """,
            params,
        )
        cur.execute(
            f"""
            INSERT INTO {area} (district, subdistrict, day, {fields})
            SELECT district, '{WHOLE}', day, {sums} FROM {area}
            WHERE day BETWEEN %(start)s AND %(end)s AND district <> '{WHOLE}'
              AND subdistrict <> '{WHOLE}'
            GROUP BY district, day
            """,
            params,
        )
        cur.execute(
            f"""
            INSERT INTO {area} (district, subdistrict, day, {fields})
            SELECT '{WHOLE}', '{WHOLE}', day, {sums} FROM {area}
            WHERE day BETWEEN %(start)s AND %(end)s AND district <> '{WHOLE}'
              AND subdistrict = '{WHOLE}'
            GROUP BY day
            """,
            params,
        )
