"""A city-year of visits in monthly partitions: load through COPY, roll up in SQL, read the
city-year dashboard (docs/scaling.md, "Partitioning").

    .venv/bin/python bench/partition.py [--visits 50000000] [--centers 12600] [--keep]

It builds a fresh PostgreSQL database (`doorstep_partition_bench`, dropped at the end),
runs migrate (visits_visit and visits_servicerecord become partitioned by month),
load-regions and `synth-city --centers N`, and 200,000 synthetic residents. Then:

  load     --visits synthetic visits over 2025 (about 11 per center a day at 50 million;
           busy and quiet centers, weekday and hour curves, a quarter signed in), a month at
           a time the way a bulk load goes into a partitioned table: COPY FROM STDIN into a
           fresh table with the partition's CHECK, then ATTACH PARTITION, which builds the
           month's indexes in bulk (the parent's indexes are attached, not rebuilt row by row)
  rollup   `rebuild_figures()` on PostgreSQL: CenterDay, Presence and AreaDay by INSERT ...
           SELECT a month at a time (figures/sqlrollup.py), then PeopleDay (window functions)
  read     the city-year dashboard as the page asks it (`figures_for(city, 2025)` with and
           without the people figures), a district's year, a center's year: p50/p99
  retain   dropping the oldest month (one DROP TABLE), timed, and the rollups checked unchanged

Everything is timed and printed with one JSON line at the end. The issue's goal: load and
roll-up within an hour on this machine; the city-year dashboard p99 under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from run import Postgres, PostgresUnavailable, base_env, code_version, run_command  # noqa: E402

from figures import timed  # noqa: E402  (bench/figures.py: a warm-up, then p50/p99/max)

PG_DEFAULT_NAME = "doorstep_partition_bench"
YEAR = 2025
USERS = 200_000


def load(args: argparse.Namespace) -> dict[str, object]:
    """In the child process (DATABASE_URL = the bench database)."""
    import django

    django.setup()
    import numpy as np
    from django.db import connection
    from django.utils import timezone

    from doorstep.centers.models import Center
    from doorstep.figures.synth import (
        GROUP_SHARE,
        GROUPS,
        HOUR_CURVES,
        STAY_MEDIAN_MIN,
        WEEKDAY_FACTOR,
        _make_users,
    )
    from doorstep.visits import partitions

    out: dict[str, object] = {}
    t0 = time.perf_counter()
    users = np.array(_make_users(USERS, 5), dtype=np.int64)
    out["users_s"] = round(time.perf_counter() - t0, 1)
    centers = list(Center.objects.filter(source="synthetic").values_list("pk", flat=True))
    ids = np.array(centers, dtype=np.int64)
    rng = np.random.default_rng(11)
    size = rng.lognormal(mean=-0.32, sigma=0.8, size=ids.size)
    size /= size.mean()
    per_day = args.visits / 365 / ids.size
    # Each center's regulars: signed-in visitors come from its own 60 of the residents.
    home = rng.integers(0, users.size, size=(ids.size, 60))
    tz = timezone.get_default_timezone()
    group_names = np.array(GROUPS)
    cur = connection.cursor()
    raw = cur.cursor
    next_id = 1
    loaded = 0
    copy_s = attach_s = gen_s = 0.0
    columns = (
        'id, center_id, user_id, device, "group", channel, arrived_at, day, left_at, '
        "left_estimated, synthetic, updated_at, suspect"
    )
    for m in range(1, 13):
        month = date(YEAR, m, 1)
        following = partitions.add_months(month, 1)
        name = partitions.partition_name("visits_visit", month)
        raw.execute(
            f'CREATE TABLE "{name}" (LIKE visits_visit INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
        )
        raw.execute(
            f'ALTER TABLE "{name}" ADD CONSTRAINT "{name}_month" '
            f"CHECK (day >= '{month}' AND day < '{following}')"
        )
        day = month
        while day < following:
            g0 = time.perf_counter()
            counts = rng.poisson(per_day * size * WEEKDAY_FACTOR[day.weekday()])
            n = int(counts.sum())
            c_idx = np.repeat(np.arange(ids.size), counts)
            group = rng.choice(5, size=n, p=GROUP_SHARE)
            hour = np.empty(n, dtype=np.int64)
            for g in range(5):
                sel = np.flatnonzero(group == g)
                hour[sel] = rng.choice(24, size=sel.size, p=HOUR_CURVES[g])
            midnight = int(datetime.combine(day, datetime.min.time(), tzinfo=tz).timestamp())
            arrived = midnight + hour * 3600 + rng.integers(0, 3600, size=n)
            stay = np.maximum(rng.lognormal(np.log(STAY_MEDIAN_MIN[group]), 0.6) * 60, 60)
            left = arrived + stay.astype(np.int64)
            known = rng.random(n) < 0.25
            who = home[c_idx, rng.integers(0, 60, size=n)]
            user = np.where(known, users[who], 0)
            estimated = rng.random(n) < 0.55
            a_text = np.datetime_as_string(arrived.astype("datetime64[s]"), unit="s")
            l_text = np.datetime_as_string(left.astype("datetime64[s]"), unit="s")
            day_text = day.isoformat()
            rows = "".join(
                f"{i}\t{c}\t{u if u else chr(92) + 'N'}\t\t{gn}\tqr\t{a}+00\t{day_text}\t"
                f"{lt}+00\t{'t' if e else 'f'}\tt\t{lt}+00\tf\n"
                for i, c, u, gn, a, lt, e in zip(
                    range(next_id, next_id + n),
                    ids[c_idx].tolist(),
                    user.tolist(),
                    group_names[group].tolist(),
                    a_text.tolist(),
                    l_text.tolist(),
                    estimated.tolist(),
                    strict=True,
                )
            )
            gen_s += time.perf_counter() - g0
            c0 = time.perf_counter()
            with raw.copy(f'COPY "{name}" ({columns}) FROM STDIN') as cp:
                cp.write(rows)
            copy_s += time.perf_counter() - c0
            next_id += n
            loaded += n
            day += timedelta(days=1)
        a0 = time.perf_counter()
        raw.execute(
            f'ALTER TABLE visits_visit ATTACH PARTITION "{name}" '
            f"FOR VALUES FROM ('{month}') TO ('{following}')"
        )
        attach_s += time.perf_counter() - a0
        print(
            f"  {month:%Y-%m}  {loaded:>11,} visits  generate {gen_s:6.0f} s  COPY {copy_s:6.0f} s"
            f"  attach (indexes) {attach_s:6.0f} s",
            flush=True,
        )
    raw.execute(f"SELECT setval(pg_get_serial_sequence('visits_visit', 'id'), {next_id})")
    a0 = time.perf_counter()
    raw.execute("ANALYZE visits_visit")
    out.update(
        visits=loaded,
        generate_s=round(gen_s, 1),
        copy_s=round(copy_s, 1),
        attach_s=round(attach_s, 1),
        analyze_s=round(time.perf_counter() - a0, 1),
    )
    return out


def rollup_and_read(args: argparse.Namespace) -> dict[str, object]:
    import django

    django.setup()
    from django.db import connection

    from doorstep.accounts.models import User
    from doorstep.centers.models import Center
    from doorstep.figures.models import AreaDay, CenterDay
    from doorstep.figures.selectors import access_center, access_region, figures_for
    from doorstep.figures.services import rebuild_figures
    from doorstep.visits import partitions

    out: dict[str, object] = {}
    with connection.cursor() as cur:
        cur.execute("SET work_mem = '256MB'")
    t0 = time.perf_counter()
    out["rollup_pairs"] = rebuild_figures(start=date(YEAR, 1, 1), end=date(YEAR, 12, 31))
    out["rollup_s"] = round(time.perf_counter() - t0, 1)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        for table in ("figures_centerday", "figures_areaday", "figures_presence"):
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 -- constant
            out[f"{table}_rows"] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM figures_peopleday")
        out["figures_peopleday_rows"] = cur.fetchone()[0]
    root, _ = User.objects.get_or_create(
        username="bench-root", defaults={"is_superuser": True, "is_staff": True}
    )
    start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
    today = end + timedelta(days=45)
    city = access_region(root, "310000")
    pudong = access_region(root, "310115")
    center = access_center(root, Center.objects.filter(source="synthetic").first().pk)
    out["dashboard_city_year_counts"] = timed(
        lambda: figures_for(city, start, end, today=today, people=False), args.repeat
    )
    out["dashboard_city_year"] = timed(
        lambda: figures_for(city, start, end, today=today), args.repeat
    )
    out["dashboard_district_year"] = timed(
        lambda: figures_for(pudong, start, end, today=today), max(5, args.repeat // 2)
    )
    out["dashboard_center_year"] = timed(
        lambda: figures_for(center, start, end, today=today), args.repeat
    )
    f = figures_for(city, start, end, today=today)
    out["check"] = {"city_visits": f.visits, "unique_visitors": f.unique_visitors}
    # Retention: the oldest month leaves with one DROP TABLE; its counts stay.
    january = CenterDay.objects.filter(day__lt=date(YEAR, 2, 1)).count()
    area_rows = AreaDay.objects.count()
    t0 = time.perf_counter()
    dropped = partitions.drop_before(date(YEAR, 2, 1))
    out["retain_drop_month_s"] = round(time.perf_counter() - t0, 3)
    out["retain_partitions_dropped"] = dropped
    out["retain_rollups_unchanged"] = (
        CenterDay.objects.filter(day__lt=date(YEAR, 2, 1)).count() == january
        and AreaDay.objects.count() == area_rows
    )
    return out


def child(part: str, args: argparse.Namespace) -> None:
    fn = load if part == "load" else rollup_and_read
    print("RESULT " + json.dumps(fn(args)), flush=True)


def run_child(part: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", part, "--visits", str(args.visits)]
    cmd += ["--repeat", str(args.repeat)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    result: dict[str, object] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0:
        raise RuntimeError(f"the {part} step failed")
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--visits", type=int, default=50_000_000)
    p.add_argument("--centers", type=int, default=12600)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--pg-name", default=PG_DEFAULT_NAME)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--child", choices=("load", "read"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args.child, args)
        return 0
    began = time.perf_counter()
    pg = Postgres("127.0.0.1", 5432, "postgres", args.pg_name)
    env = base_env()
    env["DATA_DIR"] = str(Path("/tmp") / f"doorstep-partition-{os.getpid()}")
    summary: dict[str, object] = {"bench": "partition", "code": code_version()}
    try:
        pg.create()
        env["DATABASE_URL"] = pg.url
        print(f"doorstep partition bench: {args.visits:,} visits, {pg.url} (dropped at the end)")
        run_command(["migrate", "--noinput", "-v", "0"], env, "migrate")
        run_command(["load-regions"], env, "load-regions")
        run_command(["synth-city", "--centers", str(args.centers)], env, "synth-city")
        t0 = time.perf_counter()
        summary["load"] = run_child("load", env, args)
        summary["load_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        summary["read"] = run_child("read", env, args)
        summary["rollup_s"] = summary["read"].get("rollup_s")  # type: ignore[union-attr]
        summary["load_and_rollup_s"] = round(
            float(summary["load_s"]) + float(summary["rollup_s"] or 0),  # type: ignore[arg-type]
            1,
        )
    except PostgresUnavailable as exc:
        print(f"!! PostgreSQL is not reachable: {exc}")
        return 1
    finally:
        if not args.keep:
            pg.drop()
    summary["total_s"] = round(time.perf_counter() - began, 1)
    read = summary.get("read") or {}
    city = read.get("dashboard_city_year", {}) if isinstance(read, dict) else {}
    print(
        f"\nload {summary.get('load_s')} s + rollup {summary.get('rollup_s')} s = "
        f"{summary.get('load_and_rollup_s')} s (goal: within 3,600 s); city-year dashboard "
        f"p50 {city.get('p50_ms')} ms p99 {city.get('p99_ms')} ms (goal: p99 < 300 ms)"
    )
    print("== JSON")
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
