"""Visits and service records partitioned by month on PostgreSQL (declarative partitioning).

The two per-event tables grow by the city's every visit (some 50 million a year at the
article's scale). On PostgreSQL each is `PARTITION BY RANGE (day)` with one partition per
local month (`visits_visit_y2026m12`, from the 1st to the next 1st) and a default partition
for anything outside them; SQLite keeps plain tables. Queries do not change: every hot read
already names `day` (or the center and day), so the planner skips the other months.

- `convert()` turns a plain table into a partitioned one (migration 0006): the primary key
  becomes (id, day) and a unique constraint without `day` gains it (a check-in's visit is
  unique per check-in and day: a check-in has one day); indexes, checks and foreign keys are
  recreated as they were; rows are copied; the identity sequence continues.
- `ensure()` keeps partitions from the oldest data's month to MONTHS_AHEAD months ahead (the
  worker calls it once a day): a row never waits for a partition, and the default partition
  stays empty (a month created while the default holds its rows would have to move them).
- `drop_before()` is the retention step: whole months of raw rows leave with one
  `DROP TABLE` instead of millions of deletes (VISIT_RETENTION_MONTHS; docs/scaling.md).
  The rollups (`figures`) are not touched: they hold counts, not people.
"""

# Table and partition names here are this module's constants, never input.
# ruff: noqa: S608

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import connection, transaction

TABLES = ("visits_visit", "visits_servicerecord")
MONTHS_AHEAD = 12
_NAME = re.compile(r"_y(\d{4})m(\d{2})$")


def is_partitioned(cur: Any, table: str) -> bool:
    cur.execute(
        "SELECT relkind FROM pg_class WHERE relname = %s AND relkind IN ('r', 'p')", [table]
    )
    row = cur.fetchone()
    return bool(row and row[0] == "p")


def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    m = d.year * 12 + d.month - 1 + n
    return date(m // 12, m % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_y{month.year:04d}m{month.month:02d}"


def convert(cur: Any, table: str, today: date) -> None:
    """Make `table` a partitioned table with the same columns, rows and constraints."""
    if is_partitioned(cur, table):
        return
    old = f"{table}_unpartitioned"
    cur.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisprimary, "
        "indisunique, (SELECT conname FROM pg_constraint WHERE conindid = indexrelid "
        "AND conrelid = indrelid) FROM pg_index WHERE indrelid = %s::regclass",
        [table],
    )
    indexes = cur.fetchall()
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    foreign = cur.fetchall()
    cur.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    for name, _definition, _primary, _unique, _constraint in indexes:
        cur.execute(f'ALTER INDEX "{name}" RENAME TO "{name[:50]}_old"')
    cur.execute(
        f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING IDENTITY '
        "INCLUDING CONSTRAINTS INCLUDING STORAGE) PARTITION BY RANGE (day)"
    )
    cur.execute(f'ALTER TABLE "{table}" ADD PRIMARY KEY (id, day)')
    for _name, definition, primary, unique, constraint in indexes:
        if primary:
            continue
        if constraint and unique:
            # A unique constraint (a OneToOneField) must include the partition key.
            cols = re.search(r"\((.*)\)", definition).group(1)  # type: ignore[union-attr]
            if "day" not in [c.strip() for c in cols.split(",")]:
                cols += ", day"
            cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" UNIQUE ({cols})')
            continue
        # Read before the renames: it names the table and the index as they were, and the old
        # index has moved aside, so it now builds the same index on the partitioned table.
        cur.execute(definition)
    for name, definition in foreign:
        cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    cur.execute(f'SELECT MIN(day) FROM "{old}"')
    first = cur.fetchone()[0]
    ensure_table(cur, table, month_start(first) if first else month_start(today), today)
    cur.execute(f'INSERT INTO "{table}" OVERRIDING SYSTEM VALUE SELECT * FROM "{old}"')
    cur.execute(f'DROP TABLE "{old}"')
    cur.execute(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
        f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
    )


def ensure_table(cur: Any, table: str, first: date, today: date) -> int:
    """Monthly partitions of `table` from `first`'s month to MONTHS_AHEAD ahead, and the
    default partition; returns how many were created."""
    cur.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass",
        [table],
    )
    have = {r[0] for r in cur.fetchall()}
    made = 0
    month, last = month_start(first), add_months(month_start(today), MONTHS_AHEAD)
    while month <= last:
        name = partition_name(table, month)
        if name not in have:
            cur.execute(
                f'CREATE TABLE "{name}" PARTITION OF "{table}" '
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{add_months(month, 1).isoformat()}')"
            )
            made += 1
        month = add_months(month, 1)
    if f"{table}_default" not in have:
        cur.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
        made += 1
    return made


def ensure(today: date) -> int:
    """The worker's step: this month and the next MONTHS_AHEAD exist (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return 0
    made = 0
    with transaction.atomic(), connection.cursor() as cur:
        for table in TABLES:
            if is_partitioned(cur, table):
                made += ensure_table(cur, table, month_start(today), today)
    return made


def months(table: str) -> list[date]:
    """The months that have a partition (PostgreSQL), oldest first."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [table],
        )
        names = [r[0] for r in cur.fetchall()]
    found = []
    for name in names:
        m = _NAME.search(name)
        if m:
            found.append(date(int(m.group(1)), int(m.group(2)), 1))
    return sorted(found)


def drop_before(month: date) -> int:
    """Remove every raw visit and service record of a day before `month` (its 1st): whole
    partitions on PostgreSQL, rows on SQLite. Returns partitions dropped or rows deleted."""
    from .models import ServiceRecord, Visit

    month = month_start(month)
    if connection.vendor != "postgresql":
        deleted = Visit.objects.filter(day__lt=month).delete()[0]
        return deleted + ServiceRecord.objects.filter(day__lt=month).delete()[0]
    dropped = 0
    with transaction.atomic(), connection.cursor() as cur:
        # Deferred foreign-key checks of rows written earlier in this transaction must run
        # before their table can go (they pass: the rows are there).
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in TABLES:
            if not is_partitioned(cur, table):
                continue
            for m in months(table):
                if m < month:
                    cur.execute(f'DROP TABLE "{partition_name(table, m)}"')
                    dropped += 1
            # Rows of those months that landed in the default partition go too.
            cur.execute(f'DELETE FROM "{table}_default" WHERE day < %s', [month])
    return dropped
