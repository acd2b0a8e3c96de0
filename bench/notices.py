"""make bench: an activity with 1,000 registrants is cancelled; how long until it is committed
and every notice is written, and how long the worker takes to send the SMS and email.

For each database (SQLite in a temporary DATA_DIR; PostgreSQL as `doorstep_notices_bench`,
dropped at the end) a child process migrates, builds one center, one activity and 1,000
households each holding a place (a third asked for SMS, a sixth for email), then measures:

  commit       `cancel_activity()`: cancels 1,000 registrations and writes one notice per
               household and the outbox rows, in one transaction; SMS and email are not sent
               in it (the first 20 go right after the commit, the rest from the worker)
  peer         the same cancellation of a second, identical activity with the notices switched
               off, in the same run: what the notices add is `commit` minus `peer`
  sending      `send_due()` passes, as the worker runs them, until the outbox is empty, with a
               sender that does nothing (the gateway's own time is not ours to measure)

It prints each step's wall time and CPU time and one JSON line per database. The clock is
pinned at 10:00 local (outside SMS quiet hours). Only 127.0.0.1 is contacted.

    .venv/bin/python bench/notices.py [--db sqlite|postgres|both] [--households 1000]
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

from run import Postgres, PostgresUnavailable, base_env, code_version, run_command  # noqa: E402

PG_NAME = "doorstep_notices_bench"


class NullSender:
    def send_sms(self, *, phone: str, text: str) -> None:
        pass

    def send_email(self, *, address: str, subject: str, text: str) -> None:
        pass


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> dict[str, float]:
    wall, cpu = _clock()
    return {
        "wall_ms": round((wall - start[0]) * 1000, 1),
        "cpu_ms": round((cpu - start[1]) * 1000, 1),
    }


def measure(households: int) -> dict[str, object]:
    import django

    django.setup()
    from datetime import timedelta
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from doorstep.accounts.models import Person, StaffRole, User
    from doorstep.activities import notices, services
    from doorstep.activities.models import Activity, Registration
    from doorstep.centers.regions import load_regions
    from doorstep.centers.services import CenterInput, save_center
    from doorstep.inbox.models import Delivery, DeliveryPreference, Notice
    from doorstep.inbox.services import send_due

    now = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    load_regions()
    center, _outcome = save_center(
        data=CenterInput(
            external_key="bench:notices",
            name="基准测试中心（合成）",
            level="subdistrict",
            district="长宁区",
            source="manual",
        )
    )
    staff = User.objects.create(username="bench-staff", is_staff=True)
    StaffRole.objects.create(user=staff, scope="center", center=center)
    users = User.objects.bulk_create(
        [User(phone=f"+86139{i:08d}", display_name=f"居民{i}") for i in range(households)]
    )
    if any(u.pk is None for u in users):
        users = list(User.objects.filter(phone__startswith="+86139").order_by("pk"))
    people = Person.objects.bulk_create(
        [Person(account=u, name=f"居民{i}", is_account_holder=True) for i, u in enumerate(users)]
    )
    if any(p.pk is None for p in people):
        people = list(Person.objects.filter(account__in=users).order_by("account_id"))
    DeliveryPreference.objects.bulk_create(
        [
            DeliveryPreference(
                user=u, by_sms=i % 3 == 0, by_email=i % 6 == 1, email=f"r{i}@example.org"
            )
            for i, u in enumerate(users)
        ]
    )

    def activity(title: str) -> Activity:
        a = Activity.objects.create(
            center=center,
            title=title,
            category="lecture",
            audience="everyone",
            starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=3, hours=2),
            capacity=households,
            taken=households,
            registration_opens_at=now - timedelta(days=3),
            registration_closes_at=now + timedelta(days=2),
            status="published",
        )
        Registration.objects.bulk_create(
            [
                Registration(
                    public_id=f"{title[-1]}{p.pk:010d}",
                    party=f"{title[-1]}{p.pk:010d}",
                    activity=a,
                    person=p,
                    account_id=p.account_id,
                    status="confirmed",
                )
                for p in people
            ]
        )
        return a

    told, peer = activity("讲座A"), activity("讲座B")
    out: dict[str, object] = {"vendor": connection.vendor, "households": households}

    with mock.patch("django.utils.timezone.now", return_value=now):
        with mock.patch.object(notices, "activity_cancelled", lambda *a, **k: 0):
            start = _clock()
            services.cancel_activity(activity_id=peer.pk, by=staff, reason="场地维修", now=now)
            out["peer_without_notices"] = _since(start)
        with CaptureQueriesContext(connection) as ctx:
            start = _clock()
            # Commit happens on leaving cancel_activity (its own transaction); the on-commit
            # send of the first few runs inside this timing too, as it does for staff.
            services.cancel_activity(activity_id=told.pk, by=staff, reason="场地维修", now=now)
            out["commit_with_notices"] = _since(start)
        out["statements"] = len(ctx.captured_queries)
        out["notices_written_at_commit"] = Notice.objects.filter(
            subject=f"activity:{told.pk}"
        ).count()
        out["deliveries_queued"] = Delivery.objects.count()
        out["sent_right_after_commit"] = Delivery.objects.filter(status="sent").count()
        start = _clock()
        passes = 0
        while Delivery.objects.filter(status="pending").exists() and passes < 100:
            send_due(now=now)
            passes += 1
        out["sending"] = _since(start) | {"passes": passes}
        out["sent_total"] = Delivery.objects.filter(status="sent").count()
    extra = out["commit_with_notices"]["wall_ms"] - out["peer_without_notices"]["wall_ms"]  # type: ignore[index]
    out["notices_add_ms_per_household"] = round(extra / households, 3)
    out["sending_ms_per_delivery"] = round(
        out["sending"]["wall_ms"] / max(1, out["sent_total"] - out["sent_right_after_commit"]),
        3,  # type: ignore[index,operator]
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pg-host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    parser.add_argument("--pg-user", default=os.environ.get("PGUSER", "postgres"))
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.households)))
        return 0
    print(f"doorstep notices bench at {code_version()}: {args.households} households", flush=True)
    for db in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        env = base_env()
        env["DATA_DIR"] = tempfile.mkdtemp(prefix="doorstep-notices-")
        env["NOTICE_SENDER"] = "notices.NullSender"
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bench"), env.get("PYTHONPATH", "")])
        pg = Postgres(args.pg_host, args.pg_port, args.pg_user, PG_NAME)
        try:
            if db == "postgres":
                try:
                    pg.create()
                except PostgresUnavailable as exc:
                    print(f"  postgres     skipped: {exc}")
                    continue
                env["DATABASE_URL"] = pg.url
            run_command(["migrate", "--noinput", "-v", "0"], env, f"{db} migrate")
            cmd = [sys.executable, __file__, "--measure", "--households", str(args.households)]
            proc = subprocess.run(
                cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
            )
            if proc.returncode != 0:
                raise RuntimeError(f"measure failed:\n{proc.stdout}\n{proc.stderr}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            c, p, s = r["commit_with_notices"], r["peer_without_notices"], r["sending"]
            print(
                f"  {db:<9} cancel 1 activity / {r['households']} households: committed with "
                f"{r['notices_written_at_commit']} notices in {c['wall_ms']} ms (CPU "
                f"{c['cpu_ms']} ms, {r['statements']} statements); without notices "
                f"{p['wall_ms']} ms: notices add {r['notices_add_ms_per_household']} ms per "
                f"household"
            )
            print(
                f"  {db:<9} outbox: {r['deliveries_queued']} deliveries, "
                f"{r['sent_right_after_commit']} sent on commit, the rest in {s['passes']} "
                f"worker passes, {s['wall_ms']} ms (CPU {s['cpu_ms']} ms; "
                f"{r['sending_ms_per_delivery']} ms per delivery)"
            )
            print(json.dumps({"bench": "notices", "db": db, "version": code_version(), **r}))
        finally:
            if db == "postgres":
                pg.drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
