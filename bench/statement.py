"""What PostgreSQL spends on each part of the registration's statement, without HTTP.

    .venv/bin/python bench/statement.py [--per-thread 2000] [--rounds 2] [--autocommit]

It builds a fresh PostgreSQL database (`doorstep_statement`, dropped at the end) with
bench/rush_setup.py, then, for each variant in turn (interleaved over --rounds, each on a fresh
activity of 10^7 places), runs 4 threads that each register their own accounts through
`hotpath.take_places` (the statement `register()` runs on PostgreSQL, with the planned notice
and an Idempotency-Key) and commit. It prints registrations/s and the PostgreSQL backend CPU
per registration (the threads' own backends, read from /proc). Variants leave out one part of
the statement, so each part's cost is its variant's difference from `full`:

  full         as register() runs it
  no-notice    without the notice and its deliveries
  no-request   without the idempotency record
  no-waitlist  without the "nobody is waiting" NOT EXISTS
  bare         without all three

--autocommit runs each statement as its own transaction (no BEGIN/COMMIT round trips).
Nothing of this is used by doorstep; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("full", "no-notice", "no-request", "no-waitlist", "bare")
THREADS = 4


def _without_cte(sql: str, name: str) -> str:
    """`sql` without its CTE `name AS (...)` (parentheses balanced)."""
    start = sql.index(f"\n{name} AS (")
    depth, i = 0, sql.index("(", start)
    while True:
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if depth == 0:
            break
        i += 1
    end = i + 1 + (sql[i + 1] == ",")
    out = sql[:start] + sql[end:]
    return re.sub(r",(\s*)\nSELECT \(SELECT count", r"\1\nSELECT (SELECT count", out)


def statement_for(variant: str, sql: str) -> str:
    if variant in ("no-request", "bare"):
        sql = _without_cte(sql, "req")
    if variant in ("no-waitlist", "bare"):
        sql = re.sub(
            r"\s+-- Free places.*?w\.status = (?:%\(waitlisted\)s|'waitlisted')\)",
            "",
            sql,
            flags=re.DOTALL,
        )
    return sql


def worker(variant: str, source_activity: int, first_account: int, per: int, auto: bool) -> dict:
    """One variant in this process (Django set up for the benchmark's database)."""
    import contextlib
    import threading
    import uuid

    sys.path.append(str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from doorstep.accounts.models import Person, User
    from doorstep.activities import hotpath, notices
    from doorstep.activities.models import Activity
    from doorstep.activities.services.registration import new_public_id

    for key, sql in list(hotpath._SQL.items()):
        hotpath._SQL[key] = statement_for(variant, sql)
    notice = variant not in ("no-notice", "bare")
    activity = Activity.objects.get(pk=source_activity)
    activity.pk = None
    activity.taken = 0
    activity.save()  # a fresh copy: no earlier run's rows
    holders = list(
        Person.objects.filter(is_account_holder=True, account__phone__startswith="+86")
        .order_by("id")
        .values_list("id", "account_id")[first_account : first_account + THREADS * per]
    )
    connection.close()

    def backend_cpu_s() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    totals = {"registrations": 0, "pg_cpu_s": 0.0, "errors": []}
    lock = threading.Lock()

    def run(t: int) -> None:
        try:
            mine = Activity.objects.get(pk=activity.pk)
            before = backend_cpu_s()
            done = 0
            for i in range(per):
                person_id, account_id = holders[t * per + i]
                account = User(pk=account_id, language="zh-hans")
                created = timezone.now()
                block = contextlib.nullcontext() if auto else transaction.atomic()
                with block:
                    planned = (
                        notices.plan_registered(mine, account=account, lottery=False, now=created)
                        if notice
                        else None
                    )
                    taken = hotpath.take_places(
                        activity=mine,
                        account=account,
                        person_ids=[person_id],
                        public_ids=[new_public_id()],
                        lottery=False,
                        key=f"bench-{uuid.uuid4().hex}",
                        created=created,
                        notice=planned,
                    )
                if not taken.rows:
                    raise RuntimeError(f"person {person_id} was not registered")
                done += 1
            with lock:
                totals["registrations"] += done
                totals["pg_cpu_s"] += backend_cpu_s() - before
        except Exception as exc:  # noqa: BLE001 (reported, the run is then void)
            with lock:
                totals["errors"].append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    seconds = time.perf_counter() - t0
    n = totals["registrations"]
    return {
        "variant": variant,
        "autocommit": auto,
        "registrations": n,
        "per_s": round(n / seconds, 1),
        "pg_cpu_ms_per_registration": round(1000 * totals["pg_cpu_s"] / max(n, 1), 3),
        "errors": totals["errors"][:3],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--per-thread", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--autocommit", action="store_true")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument("--pg-name", default="doorstep_statement")
    p.add_argument(
        "--worker", nargs=4, metavar=("VARIANT", "ACTIVITY", "FIRST", "PER"), help=argparse.SUPPRESS
    )
    args = p.parse_args(argv)
    if args.worker:
        variant, activity, first, per = args.worker
        print(json.dumps(worker(variant, int(activity), int(first), int(per), args.autocommit)))
        return 0

    sys.path.insert(0, str(ROOT / "bench"))
    from run import Postgres, base_env, code_version, run_command

    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        p.error(f"unknown variants: {sorted(unknown)}")
    accounts = THREADS * args.per_thread
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-statement-"))
    env = base_env()
    env["DATA_DIR"] = str(workdir)
    pg = Postgres(args.pg_host, args.pg_port, args.pg_user, args.pg_name)
    print(f"registration statement by part at {code_version()}, {THREADS} threads", flush=True)
    results: list[dict] = []
    try:
        pg.create()
        env["DATABASE_URL"] = pg.url
        run_command(["migrate", "--noinput", "-v", "0"], env, "migrate")
        run_command(["load-regions"], env, "load-regions")
        data_file = workdir / "setup.json"
        setup = [sys.executable, str(ROOT / "bench" / "rush_setup.py"), "setup"]
        setup += ["--accounts", str(accounts), "--b-runs", "1", "--out", str(data_file)]
        subprocess.run(setup, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        data = json.loads(data_file.read_text())
        source, first = data["activities"]["a"], 0
        for _round in range(args.rounds):
            for variant in variants:
                cmd = [sys.executable, __file__, "--worker", variant, str(source), str(first)]
                cmd += [str(args.per_thread)] + (["--autocommit"] if args.autocommit else [])
                out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
                r = json.loads(out.stdout.decode().strip().splitlines()[-1])
                results.append(r)
                print(
                    f"  {variant:<12} {r['registrations']:>6} at {r['per_s']:>7}/s, "
                    f"PostgreSQL {r['pg_cpu_ms_per_registration']:.3f} ms CPU a registration"
                    + (f", errors {r['errors']}" if r["errors"] else ""),
                    flush=True,
                )
    finally:
        pg.drop()
    print(json.dumps({"bench": "statement", "autocommit": args.autocommit, "runs": results}))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
