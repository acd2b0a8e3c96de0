"""make bench: figures (还想来) over a synthetic year of a 12,600-center city, on PostgreSQL.

Builds a fresh PostgreSQL database (`doorstep_figures_bench`, dropped at the end), runs
migrate, load-regions and `synth-city --centers 12600`, then `synth-city --centers 0 --visits`
for a year (COPY, then the first refresh rolls the whole year up). In a child process with
that database it then measures:

  refresh   one more day of visits arrives (inserted), then `refresh_figures()` rolls it up:
            the worker's incremental step after a busy day, 12,600 center-days
  counts    `figures_for(city, year, people=False)`: every rollup figure the city dashboard
            shows (visits, groups, hours, weekdays, stays, services, activities), N times
  people    the same with people=True, as the page calls it: adds unique visitors and the
            return-rate cohorts, summed from the PeopleDay rollup (people per scope, day and
            previous day present)
  district / center   the page's query for one district and one center over the year

It prints p50/p99/max per query and one JSON line. Every loop is bounded; only 127.0.0.1 is
contacted. The default year is 1 visit per center per day (4.6 million visits); `--full` is
the issue's 11 per center per day (50 million), which takes far longer to generate on a small
machine. See docs/figures.md for measured figures.

    .venv/bin/python bench/figures.py [--full | --scale 3] [--days 365] [--repeat 50] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from run import (  # noqa: E402
    Postgres,
    PostgresUnavailable,
    base_env,
    code_version,
    postgres_analyze,
    run_command,
)

PG_DEFAULT_NAME = "doorstep_figures_bench"
YEAR = 2025
TARGET_P99_MS = 300.0
FULL_SCALE = 11.0  # 12,600 centers x 365 days x 11 = 50.6 million visits


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(fn, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    fn()  # one warm-up run, not counted
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return {
        "n": repeat,
        "p50_ms": round(percentile(ms, 50), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Runs inside the child process whose DATABASE_URL is the bench database."""
    import django

    django.setup()
    from datetime import date, timedelta

    from django.db import connection
    from django.utils.timezone import now as django_now

    from doorstep.accounts.models import User
    from doorstep.centers.models import Center
    from doorstep.figures.selectors import access_center, access_region, figures_for
    from doorstep.figures.services import SAFETY_MARGIN, refresh_figures
    from doorstep.figures.synth import synth_visits
    from doorstep.visits.models import Visit

    out: dict[str, object] = {}
    start = date(YEAR, 1, 1)
    end = start + timedelta(days=args.days - 1)
    out["visits"] = Visit.objects.count()
    out["centers"] = Center.objects.count()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM figures_presence")
        out["presence_rows"] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM figures_centerday")
        out["centerday_rows"] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM figures_areaday")
        out["areaday_rows"] = cur.fetchone()[0]
        cur.execute("SELECT to_regclass('figures_peopleday') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute(
                "SELECT count(*), count(*) FILTER (WHERE scope = '*') FROM figures_peopleday"
            )
            out["peopleday_rows"], out["peopleday_city_rows"] = cur.fetchone()

    # One more day arrives, then the worker's refresh rolls it up.
    t0 = time.perf_counter()
    day = synth_visits(
        start=end + timedelta(days=1),
        days=1,
        per_center_per_day=args.scale,
        seed=99,
        stamp_now=True,
    )
    out["next_day_insert_s"] = round(time.perf_counter() - t0, 2)
    out["next_day_visits"] = day.visits
    t0 = time.perf_counter()
    result = refresh_figures()
    out["refresh_one_day_s"] = round(time.perf_counter() - t0, 2)
    out["refresh_pairs"] = result.pairs
    t0 = time.perf_counter()
    again = refresh_figures()
    out["refresh_again_within_margin_s"] = round(time.perf_counter() - t0, 2)
    out["refresh_again_within_margin_pairs"] = again.pairs
    # Once the margin has passed, a refresh with nothing new costs only the two index probes.
    later = django_now() + SAFETY_MARGIN * 3
    refresh_figures(now=later)
    t0 = time.perf_counter()
    idle = refresh_figures(now=later + SAFETY_MARGIN * 3)
    out["refresh_nothing_new_s"] = round(time.perf_counter() - t0, 3)
    out["refresh_nothing_new_pairs"] = idle.pairs

    root, _created = User.objects.get_or_create(
        username="bench-root", defaults={"is_superuser": True, "is_staff": True}
    )
    city = access_region(root, "310000")
    district = access_region(root, "310115")  # Pudong, the biggest district
    busiest = Visit.objects.filter(day=end).values("center_id").order_by("-center_id").first()
    center = access_center(root, busiest["center_id"] if busiest else Center.objects.first().pk)
    today = end + timedelta(days=45)
    out["counts_city_year"] = timed(
        lambda: figures_for(city, start, end, today=today, people=False), args.repeat
    )
    out["page_city_year"] = timed(
        lambda: figures_for(city, start, end, today=today), max(3, args.repeat // 10)
    )
    out["page_city_30_days"] = timed(
        lambda: figures_for(city, end - timedelta(days=29), end, today=today),
        max(3, args.repeat // 5),
    )
    out["page_district_year"] = timed(
        lambda: figures_for(district, start, end, today=today), max(3, args.repeat // 5)
    )
    out["page_center_year"] = timed(
        lambda: figures_for(center, start, end, today=today), args.repeat
    )
    f = figures_for(city, start, end, today=today)
    out["check"] = {
        "city_visits": f.visits,
        "unique_visitors": f.unique_visitors,
        "return_rate": round(f.return_rate or 0, 3),
    }
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--centers", type=int, default=12600)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--scale", type=float, default=1.0, help="visits per center per day")
    p.add_argument("--full", action="store_true", help=f"--scale {FULL_SCALE} (50 million)")
    p.add_argument("--repeat", type=int, default=50)
    p.add_argument("--keep", action="store_true", help="do not drop the database")
    p.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    p.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    p.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    p.add_argument("--pg-name", default=PG_DEFAULT_NAME)
    p.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.full:
        args.scale = FULL_SCALE
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args)))
        return 0
    print(
        f"doorstep figures bench at {code_version()}: {args.centers} centers, {args.days} days "
        f"x {args.scale} visits per center per day, {os.cpu_count()} CPUs",
        flush=True,
    )
    pg = Postgres(args.pg_host, args.pg_port, args.pg_user, args.pg_name)
    env = base_env()
    env["DATA_DIR"] = tempfile.mkdtemp(prefix="doorstep-figures-")
    created = False
    try:
        pg.create()
        created = True
        env["DATABASE_URL"] = pg.url
        print(f"  database     {pg.url} (fresh; dropped at the end)", flush=True)
        run_command(["migrate", "--noinput", "-v", "0"], env, "migrate")
        run_command(["load-regions"], env, "load-regions")
        run_command(["synth-city", "--centers", str(args.centers)], env, "centers")
        t0 = time.perf_counter()
        run_command(
            ["synth-city", "--centers", "0", "--visits", "--year", str(YEAR),
             "--days", str(args.days), "--scale", str(args.scale)],
            env,
            "visits",
        )  # fmt: skip
        generate_s = time.perf_counter() - t0
        postgres_analyze(pg.url)
        cmd = [sys.executable, __file__, "--measure", "--days", str(args.days)]
        cmd += ["--scale", str(args.scale), "--repeat", str(args.repeat)]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            raise RuntimeError(f"measure failed:\n{proc.stdout}\n{proc.stderr}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["generate_and_roll_up_year_s"] = round(generate_s, 1)
        result["scale"] = args.scale
        print(
            f"  year         {result['visits']:,} visits, {result['presence_rows']:,} presence "
            f"rows, {result['centerday_rows']:,} center-days, {result['areaday_rows']:,} "
            f"area-days; generated and rolled up in {generate_s:.0f} s"
        )
        if "peopleday_rows" in result:
            print(
                f"  people       {result['peopleday_rows']:,} PeopleDay rows "
                f"({result['peopleday_city_rows']:,} for the city)"
            )
        print(
            f"  refresh      one new day ({result['next_day_visits']:,} visits, "
            f"{result['refresh_pairs']:,} center-days): {result['refresh_one_day_s']} s; "
            f"again within the margin: {result['refresh_again_within_margin_s']} s; "
            f"nothing new: {result['refresh_nothing_new_s']} s"
        )
        for key in (
            "counts_city_year",
            "page_city_year",
            "page_city_30_days",
            "page_district_year",
            "page_center_year",
        ):
            r = result[key]
            print(
                f"  {key:<20} n={r['n']:<4} p50 {r['p50_ms']:8.1f} ms  p99 {r['p99_ms']:8.1f} ms"
                f"  max {r['max_ms']:8.1f} ms"
            )
        for key, what in (("counts_city_year", "rollup figures"), ("page_city_year", "page")):
            p99 = result[key]["p99_ms"]
            print(
                f"  target       city-wide year p99 < {TARGET_P99_MS:.0f} ms ({what}): "
                f"{'met' if p99 < TARGET_P99_MS else 'NOT met'} ({p99} ms)"
            )
        print(f"  check        {result['check']}")
        print(json.dumps({"bench": "figures", "code": code_version(), **result}))
        return 0
    except PostgresUnavailable as exc:
        print(f"  PostgreSQL unavailable, figures bench skipped: {exc}")
        return 0
    finally:
        if created and not args.keep:
            pg.drop()


if __name__ == "__main__":
    sys.exit(main())
