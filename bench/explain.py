"""Profile one API request in-process: its SQL, the plan of its slowest statement, its hot code.

    DATA_DIR=... or DATABASE_URL=... .venv/bin/python bench/explain.py '/api/v1/centers?q=古北'

The request goes through Django's full stack (middleware, django-ninja, the selectors) with the
test client, so what is measured is what gunicorn runs, minus the socket. For each URL it prints
the request's wall time (best of --repeat), every SQL statement with its time, EXPLAIN (SQLite:
EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE) of the slowest statement, and with --profile
the top functions from cProfile. bench/run.py calls it with --rank on the slowest requests of
each workload: it times them all and reports in full on the one that is slowest in-process.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")


def _setup() -> None:
    import django

    django.setup()


def explain_sql(sql: str) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        prefix = "EXPLAIN (ANALYZE, BUFFERS) "
    else:
        prefix = "EXPLAIN QUERY PLAN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return "\n".join(r[0] for r in rows)
    # SQLite: (id, parent, notused, detail): indent by depth.
    depth: dict[int, int] = {0: -1}
    lines = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node_id] + detail)
    return "\n".join(lines)


_warm = False


@dataclass
class Measured:
    url: str
    best_s: float
    status: int
    captured: list[dict]

    @property
    def sql_ms(self) -> float:
        return sum(float(q["time"]) for q in self.captured) * 1000


def measure(url: str, repeat: int) -> Measured:
    """Best wall time of `repeat` runs, with the SQL of the best run."""
    global _warm
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    if not _warm:  # imports, jieba's dictionary, caches, the connection
        client.get("/api/v1/centers?q=warm&limit=1")
        _warm = True
    best = float("inf")
    captured: list[dict] = []
    status = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        status = response.status_code
        if elapsed < best:
            best, captured = elapsed, list(ctx.captured_queries)
        if elapsed > 1.0:  # slow enough that one run tells; keep the benchmark bounded
            break
    return Measured(url, best, status, captured)


def report(m: Measured, *, repeat: int, show_sql: int) -> None:
    from django.db import connection

    print(f"URL      {unquote(m.url)}")
    print(f"status   {m.status}; best of up to {repeat}: {m.best_s * 1000:.1f} ms in-process")
    print(f"SQL      {len(m.captured)} statements, {m.sql_ms:.1f} ms ({connection.vendor})")
    ranked = sorted(m.captured, key=lambda q: -float(q["time"]))
    for q in ranked[:show_sql]:
        sql = q["sql"]
        short = sql if len(sql) <= 400 else sql[:400] + f" … ({len(sql)} chars)"
        print(f"  {float(q['time']) * 1000:7.1f} ms  {short}")
    if ranked:
        print("EXPLAIN of the slowest statement:")
        for line in explain_sql(ranked[0]["sql"]).splitlines():
            print("  " + line)


def profile(url: str, repeat: int) -> None:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat):
        client.get(url)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
    print(f"cProfile, {repeat} requests, top 25 by cumulative time:")
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+", help="paths such as /api/v1/centers?q=xujiahui")
    parser.add_argument("--repeat", type=int, default=5, help="runs per URL; the best is shown")
    parser.add_argument("--profile", action="store_true", help="also run cProfile")
    parser.add_argument("--show-sql", type=int, default=3, help="statements to print")
    parser.add_argument(
        "--rank",
        action="store_true",
        help="time every URL, then report in full only on the slowest",
    )
    args = parser.parse_args(argv)
    _setup()
    measured = []
    for url in args.urls:
        m = measure(url, args.repeat)
        measured.append(m)
        if args.rank:
            print(
                f"  {m.best_s * 1000:8.1f} ms ({m.sql_ms:6.1f} ms SQL in {len(m.captured)}) "
                f"[{m.status}] {unquote(url)}"
            )
    if args.rank:
        measured = [max(measured, key=lambda m: m.best_s)]
        print()
    for m in measured:
        report(m, repeat=args.repeat, show_sql=args.show_sql)
        if args.profile:
            profile(m.url, args.repeat)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
