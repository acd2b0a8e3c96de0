"""Visits and service records partitioned by month on PostgreSQL (visits/partitions.py).

Nothing changes on SQLite, and nothing in the models' state: the tables keep their columns,
indexes, checks and foreign keys; on PostgreSQL the primary key is (id, day) and the
check-in's unique visit is unique per (check-in, day).
"""

from django.db import migrations
from django.utils import timezone


def partition(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    from doorstep.visits import partitions

    with schema_editor.connection.cursor() as cur:
        for table in partitions.TABLES:
            partitions.convert(cur, table, timezone.localdate())


class Migration(migrations.Migration):
    dependencies = [
        ("visits", "0005_sitestamp_routestop_site_alter_routestop_center_and_more"),
    ]

    # Undoing it would leave the rows as they are, partitioned: the app reads them the same.
    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]
