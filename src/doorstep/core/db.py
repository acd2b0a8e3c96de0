"""Small database helpers shared by the data-loading commands."""

from django.db import connection


def refresh_statistics() -> None:
    """Let the query planner see the data just loaded (ANALYZE, on SQLite and PostgreSQL).

    Without statistics SQLite picks indexes by shape alone, which made the open-now filter
    thousands of times slower on a city-sized directory (docs/performance.md, fix 2).
    """
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
