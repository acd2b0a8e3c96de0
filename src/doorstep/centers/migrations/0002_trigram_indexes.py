"""pg_trgm GIN indexes for substring search on PostgreSQL; SQLite scans (fast at city scale)."""

from django.db import migrations

FIELDS = ["search_name", "search_text", "name_pinyin", "name_initials", "place_pinyin"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for f in FIELDS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS centers_center_{f}_trgm "
            f"ON centers_center USING gin ({f} gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for f in FIELDS:
        schema_editor.execute(f"DROP INDEX IF EXISTS centers_center_{f}_trgm")


class Migration(migrations.Migration):
    dependencies = [("centers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
