"""The database is configured the way the design relies on, whichever one runs the suite."""

import pytest
from django.db import connection

from tests.factories import make_center

pytestmark = pytest.mark.django_db


def test_database_is_configured_for_search_and_concurrency(regions):
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            # Writers queue (IMMEDIATE) instead of failing; readers never block (WAL).
            assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
            cur.execute("PRAGMA journal_mode")
            assert cur.fetchone()[0] == "wal"
            cur.execute("PRAGMA foreign_keys")
            assert cur.fetchone()[0] == 1
        else:
            assert connection.vendor == "postgresql"
            cur.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
            assert cur.fetchone() == ("pg_trgm",)
            cur.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'centers_center' "
                "AND indexdef LIKE '%%gin_trgm_ops%%'"
            )
            assert cur.fetchone()[0] == 5
            # With LC_CTYPE C, pg_trgm treats Chinese as non-word characters and extracts
            # nothing: the database must be created with a UTF-8 LC_CTYPE.
            cur.execute("SELECT array_length(show_trgm('古北市民中心'), 1)")
            assert (cur.fetchone()[0] or 0) >= 6


def test_substring_search_works_the_same_on_both(regions):
    make_center("长宁区虹桥街道社区党群服务中心", aliases=["古北市民中心"])
    from doorstep.centers.models import Center

    assert Center.objects.filter(search_name__contains="古北市民").count() == 1
    assert Center.objects.filter(search_name__contains="古北市场").count() == 0
