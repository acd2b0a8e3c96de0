"""Data for the registration rush (bench/rush.py), written through the ORM in bulk.

Run with the project's settings and DATABASE_URL (rush.py does this in a subprocess, after
`migrate` and `load-regions`):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/doorstep_rush \\
        .venv/bin/python bench/rush_setup.py setup --accounts 30000 --b-runs 3 --out data.json

`setup` creates one center, N resident accounts (each with a named holder Person and a
bearer token: the token is generated here and stored hashed with the service's own
`_token_hash`, exactly as `issue_token` stores it) and the published activities:

  a           first come, capacity 10,000,000 (nobody is ever turned away)
  b_full      first come, 30 places, no waiting list   (one per run of scenario b)
  b_waitlist  first come, 30 places, waiting list on   (one per run of scenario b)
  c           lottery, window open (the draw cannot run during the benchmark)
  warm        first come, capacity 10,000,000, for warming the workers up (not measured)

and writes the tokens, person ids and activity ids as JSON.

`probe` replays registrations in-process through Django's test client (full middleware,
the real API view) and prints, per kind of answer, the SQL statements each one runs
(CaptureQueriesContext) and optionally a cProfile summary. It creates its own accounts and
activities, so it can run against the benchmark's database after the rush.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "src"))  # the installed (editable) package comes first
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from doorstep.accounts.models import ApiToken, Person, User  # noqa: E402
from doorstep.accounts.tokens import token_hash as _token_hash  # noqa: E402
from doorstep.activities.models import Activity, Allocation  # noqa: E402
from doorstep.activities.services import publish  # noqa: E402
from doorstep.centers.services import CenterInput, save_center  # noqa: E402

BATCH = 5000
# Phones +86 139xxxxxxxx for the rush accounts, +86 137xxxxxxxx for the probe's.
RUSH_PHONE = "139"
PROBE_PHONE = "137"


def make_center(key: str = "bench:rush"):  # type: ignore[no-untyped-def]
    center, _outcome = save_center(
        data=CenterInput(
            external_key=key,
            name="东明路街道社区党群服务中心",
            level="subdistrict",
            district="浦东新区",
            source="manual",
        )
    )
    return center


def make_accounts(n: int, *, prefix: str = RUSH_PHONE, start: int = 0) -> list[list]:
    """N residents, each with a named holder and a bearer token: [[token, person_id], ...]."""
    now = timezone.now()
    tokens = [secrets.token_urlsafe(32) for _ in range(n)]
    users = User.objects.bulk_create(
        [
            User(
                phone=f"+86{prefix}{start + i:08d}",
                display_name=f"居民{start + i}",
                password="!bench-no-password",  # unusable, as set_unusable_password makes
                date_joined=now,
            )
            for i in range(n)
        ],
        batch_size=BATCH,
    )
    people = Person.objects.bulk_create(
        [
            Person(account=u, name=u.display_name, is_account_holder=True, birth_year=1985)
            for u in users
        ],
        batch_size=BATCH,
    )
    ApiToken.objects.bulk_create(
        [ApiToken(user=u, key_hash=_token_hash(t)) for u, t in zip(users, tokens, strict=True)],
        batch_size=BATCH,
    )
    return [[t, p.pk] for t, p in zip(tokens, people, strict=True)]


def make_activity(center, title: str, **kw: object) -> Activity:  # type: ignore[no-untyped-def]
    """Published, registration open since an hour ago, starting in a week."""
    now = timezone.now()
    starts = now + timedelta(days=7)
    fields: dict[str, object] = {
        "title": title,
        "category": "chess",
        "audience": "everyone",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "capacity": 30,
        "registration_opens_at": now - timedelta(hours=1),
        "registration_closes_at": starts - timedelta(hours=2),
    }
    fields.update(kw)
    activity = Activity.objects.create(center=center, **fields)
    # publish() gives a lottery its seed and public commitment, as in production.
    return publish(activity_id=activity.pk)


MEAL_PORTIONS = 300


def make_menu(center) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Tomorrow's lunch with a set meal of MEAL_PORTIONS portions (the meals burst, rush.py m)."""
    from datetime import datetime, time, timedelta

    from doorstep.meals.models import Canteen, Dish, Menu, MenuItem

    canteen = Canteen.objects.create(center=center, name="基准食堂", source="synthetic")
    day = timezone.localdate() + timedelta(days=1)
    serves = timezone.make_aware(datetime.combine(day, time(11, 0)))
    menu = Menu.objects.create(
        canteen=canteen,
        day=day,
        service="lunch",
        serves_at=serves,
        cut_off_at=serves - timedelta(minutes=90),
        published=True,
        synthetic=True,
    )
    dish = Dish.objects.create(canteen=canteen, name="一荤两素一汤", is_set=True, synthetic=True)
    item = MenuItem.objects.create(menu=menu, dish=dish, price_fen=1500, portions=MEAL_PORTIONS)
    return {"menu": menu.pk, "item": item.pk, "portions": MEAL_PORTIONS}


def make_space(center) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A meeting room open 08:00-21:00 and the slot everyone wants: tomorrow 14:00-16:00
    (the room rush, rush.py r). Each attempt asks for a slightly different overlapping time
    (14:00, 14:30 or 15:00 for two hours), so only the overlap rule can keep it to one."""
    from datetime import datetime, time, timedelta

    from doorstep.rooms.models import Space

    space = Space.objects.create(
        center=center,
        name="基准会议室",
        kind="meeting_room",
        capacity=20,
        source="synthetic",
        opens_minute=480,
        closes_minute=1260,
    )
    day = timezone.localdate() + timedelta(days=1)
    starts = [
        timezone.make_aware(datetime.combine(day, time(14 + m // 60, m % 60))) for m in (0, 30, 60)
    ]
    return {
        "space": space.pk,
        "starts": [s.isoformat() for s in starts],
        "ends": [(s + timedelta(hours=2)).isoformat() for s in starts],
    }


def setup(args: argparse.Namespace) -> dict[str, object]:
    t0 = time.perf_counter()
    with transaction.atomic():
        center = make_center()
        t_acc = time.perf_counter()
        accounts = make_accounts(args.accounts)
        t_acc = time.perf_counter() - t_acc
        first_come = Allocation.FIRST_COME
        activities = {
            "a": make_activity(
                center, "围棋公开课(大容量)", capacity=10_000_000, allocation=first_come
            ).pk,
            "b_full": [
                make_activity(center, f"剪纸课 {i + 1}(30 人,无候补)", waitlist_enabled=False).pk
                for i in range(args.b_runs)
            ],
            "b_waitlist": [
                make_activity(center, f"剪纸课 {i + 1}(30 人,可候补)", waitlist_enabled=True).pk
                for i in range(args.b_runs)
            ],
            "warm": make_activity(center, "预热(不计)", capacity=10_000_000).pk,
            # One fresh pair per paired run (rush.py --compare-servers): a run then never
            # pays for the versions an earlier run left on its hot row.
            "a_runs": [
                make_activity(center, f"围棋公开课 {i + 1}", capacity=10_000_000).pk
                for i in range(args.paired_runs)
            ],
            "c_runs": [
                make_activity(
                    center, f"亲子绘本 {i + 1}", capacity=30, allocation=Allocation.LOTTERY
                ).pk
                for i in range(args.paired_runs)
            ],
            "c": make_activity(
                center, "亲子绘本(抽签)", capacity=30, allocation=Allocation.LOTTERY
            ).pk,
        }
        meals = make_menu(center)
        rooms = make_space(center)
    return {
        "rooms": rooms,
        "accounts": accounts,
        "activities": activities,
        "meals": meals,
        "center": center.pk,
        "seconds": {"total": round(time.perf_counter() - t0, 2), "accounts": round(t_acc, 2)},
    }


# --- probe: statements and CPU per registration, in-process ----------------------------------


def _label(sql: str) -> str:
    """'SELECT accounts_apitoken', 'UPDATE activities_activity', ... for a statement."""
    text = " ".join(sql.split())
    verb = text.split(" ", 1)[0].upper()
    if verb == "WITH":
        parts = re.findall(r'\b(UPDATE|INSERT INTO|DELETE FROM) "?(\w+)"?', text)
        return "WITH " + " + ".join(f"{v.split()[0]} {t}" for v, t in parts)
    if verb == "SELECT":
        m = re.search(r'\bFROM "?(\w+)"?', text)
        lock = " FOR UPDATE" if "FOR UPDATE" in text else ""
        return f"SELECT {m.group(1) if m else '?'}{lock}"
    m = re.match(r'(?:INSERT INTO|UPDATE|DELETE FROM) "?(\w+)"?', text)
    return f"{verb} {m.group(1)}" if m else text[:40]


def backend_ns(pid: int | None) -> int:
    """Nanoseconds the PostgreSQL backend `pid` has spent on a CPU (/proc/<pid>/schedstat;
    the database is on this machine), 0 when unknown."""
    if not pid:
        return 0
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class StatementClock:
    """This process's CPU time around each statement: building it (and handling the previous
    one's result) before, and psycopg's own work during; and the PostgreSQL backend's CPU
    time during the statement (its parse, plan, execution and commit work)."""

    def __init__(self, backend_pid: int | None = None) -> None:
        self.backend_pid = backend_pid
        self.marks: list[tuple[str, float, float, int]] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        pg0 = backend_ns(self.backend_pid)
        start = time.process_time()
        try:
            return execute(sql, params, many, context)
        finally:
            end = time.process_time()
            self.marks.append((sql, start, end, backend_ns(self.backend_pid) - pg0))


def cpu_by_statement(runs: list[tuple[float, float, list]]) -> list[dict[str, object]] | None:
    """Mean CPU ms per step over requests that ran the same statements in the same order."""
    if not runs:
        return None
    shape = [_label(m[0]) for m in runs[0][2]]
    same = [r for r in runs if [_label(m[0]) for m in r[2]] == shape]
    n = len(same)
    steps: list[dict[str, object]] = []
    before = [0.0] * (len(shape) + 1)
    during = [0.0] * len(shape)
    backend = [0] * len(shape)
    for c0, c1, marks in same:
        prev = c0
        for i, (_sql, start, end, pg_ns) in enumerate(marks):
            before[i] += start - prev
            during[i] += end - start
            backend[i] += pg_ns
            prev = end
        before[-1] += c1 - prev
    for i, label in enumerate(shape):
        steps.append(
            {
                "statement": label,
                "python_ms_before": round(1000 * before[i] / n, 2),
                "driver_ms": round(1000 * during[i] / n, 2),
                "postgres_ms": round(backend[i] / n / 1e6, 3),
            }
        )
    steps.append(
        {
            "statement": "(after the last: response)",
            "python_ms_before": round(1000 * before[-1] / n, 2),
            "driver_ms": 0.0,
            "postgres_ms": 0.0,
        }
    )
    return steps


def probe(args: argparse.Namespace) -> dict[str, object]:
    import cProfile
    import io
    import logging
    import pstats
    import uuid

    from django.db import reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic():
        center = make_center("bench:rush-probe")
        n = args.repeat + 1
        kinds = {
            "confirmed": make_activity(center, "probe a", capacity=10_000_000).pk,
            "full": make_activity(center, "probe full", capacity=0, waitlist_enabled=False).pk,
            "waitlisted": make_activity(center, "probe wait", capacity=0).pk,
            "applied": make_activity(center, "probe lottery", allocation=Allocation.LOTTERY).pk,
        }
        # Start after any probe accounts of an earlier run (phones are unique).
        start = User.objects.filter(phone__startswith=f"+86{PROBE_PHONE}").count()
        pool = make_accounts(n * len(kinds), prefix=PROBE_PHONE, start=start)
    logging.getLogger("django.request").setLevel(logging.ERROR)  # 4xx answers are expected
    client = Client(SERVER_NAME="127.0.0.1")
    out: dict[str, object] = {}

    def post(activity_id: int, token: str, person_id: int):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        return client.post(
            f"/api/v1/activities/{activity_id}/registrations",
            data=json.dumps({"person_ids": [person_id]}),
            content_type="application/json",
            headers=headers,
        )

    for i, (kind, activity_id) in enumerate(kinds.items()):
        mine = pool[i * n : (i + 1) * n]
        # First request of the process warms imports and caches; not counted.
        post(activity_id, *mine[0])
        token, person_id = mine[1]
        # Django empties connection.queries_log when a request starts; start from empty too.
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            resp = post(activity_id, token, person_id)
        # captured_queries reads the live log, which the next request empties: copy it now.
        sql = [q["sql"] for q in ctx.captured_queries]
        body = json.loads(resp.content)
        answer = body["registrations"][0]["status"] if resp.status_code < 300 else body["code"]
        # A token already used this minute: its last_used_at is not written again.
        token2, person2 = mine[2]
        ApiToken.objects.filter(key_hash=_token_hash(token2)).update(last_used_at=timezone.now())
        reset_queries()
        with CaptureQueriesContext(connection) as ctx_touched:
            post(activity_id, token2, person2)
        touched = len(ctx_touched.captured_queries)
        timings, cpu = [], []
        # CPU time, not wall time: the machine is shared, and waiting for PostgreSQL is not
        # this process's cost.
        prof = cProfile.Profile(time.process_time) if args.profile == kind else None
        clocked: list[tuple[float, float, list]] = []
        backend_pid = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                backend_pid = cur.fetchone()[0]
        pg_total: list[int] = []
        for token, person_id in mine[3:]:
            reset_queries()
            clock = StatementClock(backend_pid)
            pg0 = backend_ns(backend_pid)
            t0, c0 = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            with connection.execute_wrapper(clock):
                post(activity_id, token, person_id)
            if prof:
                prof.disable()
            c1 = time.process_time()
            pg_total.append(backend_ns(backend_pid) - pg0)
            timings.append(time.perf_counter() - t0)
            cpu.append(c1 - c0)
            clocked.append((c0, c1, clock.marks))
        timings.sort()
        cpu.sort()
        entry: dict[str, object] = {
            "http_status": resp.status_code,
            "answer": answer,
            "statements": len(sql),
            "statements_token_used_this_minute": touched,
            "sql": [q[:200] for q in sql],
            "in_process_ms_median": round(1000 * timings[len(timings) // 2], 2)
            if timings
            else None,
            "in_process_cpu_ms_median": round(1000 * cpu[len(cpu) // 2], 2) if cpu else None,
            # The PostgreSQL backend's CPU for the whole request (BEGIN and COMMIT included,
            # which the per-statement figures below do not see), mean.
            "postgres_cpu_ms_mean": round(sum(pg_total) / len(pg_total) / 1e6, 3)
            if pg_total
            else None,
            # Where the CPU goes, statement by statement. python_ms_before the first one
            # includes the test client, the middleware and ninja. Under gunicorn each request
            # also runs the connection health check (SELECT 1), which the test client skips.
            "cpu_ms_by_statement": cpu_by_statement(clocked),
        }
        if prof:
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(args.top)
            entry["profile"] = s.getvalue()
        out[kind] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup", help="center, accounts, tokens, activities")
    s.add_argument("--accounts", type=int, default=30000)
    s.add_argument("--b-runs", type=int, default=3)
    s.add_argument("--paired-runs", type=int, default=0, help="fresh a and c activities")
    s.add_argument("--out", type=Path, required=True)
    pr = sub.add_parser("probe", help="SQL statements and in-process time per registration")
    pr.add_argument("--repeat", type=int, default=200, help="timed requests per kind")
    pr.add_argument(
        "--profile", choices=("confirmed", "full", "waitlisted", "applied"), default=None
    )
    pr.add_argument("--top", type=int, default=40)
    pr.add_argument("--out", type=Path, help="write the JSON here (default: stdout)")
    args = p.parse_args(argv)
    if connection.vendor != "postgresql" and not os.environ.get("RUSH_ALLOW_SQLITE"):
        p.error("set DATABASE_URL to the benchmark's PostgreSQL database")
    if args.command == "setup":
        data = setup(args)
        args.out.write_text(json.dumps(data))
        print(
            f"{len(data['accounts'])} accounts in {data['seconds']['accounts']} s "  # type: ignore[index, arg-type]
            f"(setup {data['seconds']['total']} s); activities {data['activities']}"  # type: ignore[index]
        )
    else:
        result = probe(args)
        text = json.dumps(result, ensure_ascii=False, indent=1)
        if args.out:
            args.out.write_text(text)
        else:
            print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
