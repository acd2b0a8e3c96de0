"""The database's own rule: no two holding bookings of one space overlap.

PostgreSQL: an exclusion constraint over `tstzrange(starts_at, blocked_until)` per space
(btree_gist lets `=` on the space id share the GiST index). SQLite: triggers that abort an
INSERT or UPDATE making a holding row overlap another (SQLite has no exclusion constraints;
writers are serialised by the IMMEDIATE transaction, so the trigger's check cannot race).
"""

from django.db import migrations

HOLDING = "('pending','confirmed','checked_in')"

PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE rooms_booking ADD CONSTRAINT rooms_booking_no_overlap EXCLUDE USING gist "
    "(space_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
    f"WHERE (status IN {HOLDING})",
]
PG_DOWN = ["ALTER TABLE rooms_booking DROP CONSTRAINT IF EXISTS rooms_booking_no_overlap"]

_CLASH = (
    "NEW.status IN {h} AND EXISTS (SELECT 1 FROM rooms_booking b WHERE b.space_id = NEW.space_id"
    " AND b.id IS NOT NEW.id AND b.status IN {h} AND b.starts_at < NEW.blocked_until"
    " AND NEW.starts_at < b.blocked_until)"
).format(h=HOLDING)

SQLITE_UP = [
    "CREATE TRIGGER rooms_booking_no_overlap_insert BEFORE INSERT ON rooms_booking "
    f"WHEN {_CLASH} BEGIN SELECT RAISE(ABORT, 'rooms_booking_no_overlap'); END",
    "CREATE TRIGGER rooms_booking_no_overlap_update BEFORE UPDATE OF "
    "space_id, starts_at, blocked_until, status ON rooms_booking "
    f"WHEN {_CLASH} BEGIN SELECT RAISE(ABORT, 'rooms_booking_no_overlap'); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS rooms_booking_no_overlap_insert",
    "DROP TRIGGER IF EXISTS rooms_booking_no_overlap_update",
]


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("rooms", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": PG_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
