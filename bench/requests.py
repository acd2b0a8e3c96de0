"""The staff queue and the overdue view over a synthetic year of service requests, on
PostgreSQL. See docs/cases.md, "Speed".

It builds a fresh PostgreSQL database (`doorstep_requests_bench`, dropped at the end), runs
migrate, load-regions and `synth-city --centers N` (12,600 by default), adds the demo's
catalogue and writes --requests requests (1,000,000 by default) filed over the last 365 days
at random centers with COPY: those older than their service level are closed (a few
declined, most resolved, some late, some rated); the last weeks' are still open, some paused
waiting for the applicant, some past their deadline. Then, in one process with the project's
settings, it asks --queries times, alternately, what each kind of handler opens first: a
center's staff queue (nearest deadline first), a subdistrict's and a district's overdue
view, the city's overdue view with its count, and, as the peer in the same run, the
directory's search of the same subdistrict. It prints p50/p99 and CPU per query and the
ratio of each p99 to the directory's. Only 127.0.0.1 is contacted; it stops by itself.

    .venv/bin/python bench/requests.py [--centers 12600] [--requests 1000000] [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

from run import city_bench_arguments, percentile, run_city_bench

PG_DEFAULT_NAME = "doorstep_requests_bench"


def setup(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from doorstep.accounts.models import StaffRole, User
    from doorstep.cases.demo import CITY_TYPES, _type
    from doorstep.cases.models import RequestType
    from doorstep.centers.models import Center

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    for values in CITY_TYPES:
        _type({**values, "description": ""}, source="synthetic")
    types = list(RequestType.objects.values_list("pk", "first_response_hours", "resolution_hours"))
    centers = list(Center.objects.values_list("pk", "district_id", "subdistrict_id"))
    applicants = [
        User(username=f"bench-applicant-{i}", display_name="示例居民（合成）") for i in range(2000)
    ]
    User.objects.bulk_create(applicants, batch_size=2000)
    applicant_ids = list(
        User.objects.filter(username__startswith="bench-applicant-").values_list("pk", flat=True)
    )
    now = timezone.now().replace(microsecond=0)
    rows = 0
    open_rows = 0
    with connection.cursor() as cur:
        copy_sql = (
            "COPY cases_servicerequest (type_id, center_id, district_id, subdistrict_id, "
            "applicant_id, contact_name, contact_phone, description, answers, status, is_open, "
            "holder, via, submitted_at, updated_at, first_response_at, resolved_at, closed_at, "
            "first_response_due, resolution_due, due_at, clock_minutes, clock_since, "
            "first_response_minutes, resolution_minutes, resolved_in_time, resolution, "
            "decline_reason, rating, rating_comment, synthetic) FROM STDIN"
        )
        with cur.connection.cursor().copy(copy_sql) as copy:
            for _i in range(args.requests):
                tid, first_h, res_h = rng.choice(types)
                cid, district, sub = rng.choice(centers)
                # Filed at a random moment of the year, more of them recently.
                age = timedelta(minutes=int(365 * 1440 * rng.random() ** 1.3))
                filed = now - age
                # Working hours are about a third of wall-clock time (8 of 24, 5 of 7 days).
                first_due = filed + timedelta(hours=first_h * 3.4)
                res_due = filed + timedelta(hours=res_h * 3.4)
                resolved_after = timedelta(hours=res_h * 3.4 * rng.uniform(0.1, 1.4))
                done = filed + resolved_after < now
                answered = filed + timedelta(hours=first_h * 3.4 * rng.uniform(0.05, 1.3))
                if done:
                    status = "declined" if rng.random() < 0.05 else "closed"
                    minutes = int(resolved_after.total_seconds() / 60 / 3.4)
                    copy.write_row(
                        (
                            tid,
                            cid,
                            district,
                            sub,
                            rng.choice(applicant_ids),
                            "",
                            "",
                            "示例诉求（合成）",
                            "{}",
                            status,
                            False,
                            "center",
                            "web",
                            filed,
                            filed + resolved_after,
                            answered,
                            filed + resolved_after,
                            filed + resolved_after + timedelta(days=7),
                            first_due,
                            None,
                            None,
                            minutes,
                            None,
                            int((answered - filed).total_seconds() / 60 / 3.4),
                            minutes,
                            minutes <= res_h * 60,
                            "已办结（合成）",
                            "",
                            rng.randint(3, 5) if rng.random() < 0.4 else None,
                            "",
                            True,
                        )
                    )
                else:
                    paused = rng.random() < 0.15
                    responded = answered < now
                    status = (
                        "waiting_applicant"
                        if paused
                        else ("in_progress" if responded else "submitted")
                    )
                    due = None if paused else (res_due if responded else min(first_due, res_due))
                    copy.write_row(
                        (
                            tid,
                            cid,
                            district,
                            sub,
                            rng.choice(applicant_ids),
                            "",
                            "",
                            "示例诉求（合成）",
                            "{}",
                            status,
                            True,
                            "center",
                            "web",
                            filed,
                            now,
                            answered if responded else None,
                            None,
                            None,
                            first_due,
                            None if paused else res_due,
                            due,
                            0,
                            None if paused else filed,
                            int((answered - filed).total_seconds() / 60 / 3.4)
                            if responded
                            else None,
                            None,
                            None,
                            "",
                            "",
                            None,
                            "",
                            True,
                        )
                    )
                    open_rows += 1
                rows += 1
        cur.execute("ANALYZE")
    # One handler of each kind per sampled place (the measure step picks them).
    roles = []
    sample = rng.sample(centers, min(300, len(centers)))
    for n, (cid, district, sub) in enumerate(sample):
        u = User.objects.create(username=f"bench-staff-c{n}")
        roles.append(StaffRole(user=u, scope="center", center_id=cid))
        if sub:
            s = User.objects.create(username=f"bench-staff-s{n}")
            roles.append(StaffRole(user=s, scope="subdistrict", region_id=sub))
        d = User.objects.create(username=f"bench-staff-d{n}")
        roles.append(StaffRole(user=d, scope="district", region_id=district))
    city = User.objects.create(username="bench-staff-city")
    roles.append(StaffRole(user=city, scope="city"))
    StaffRole.objects.bulk_create(roles)
    print(
        json.dumps(
            {"requests": rows, "open": open_rows, "seconds": round(time.perf_counter() - t0, 1)}
        )
    )


def measure(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.db import connection, reset_queries
    from django.utils import timezone

    from doorstep.accounts.models import StaffRole, User
    from doorstep.cases import selectors
    from doorstep.centers.selectors import CenterFilters, search_centers

    rng = random.Random(args.seed + 1)
    by_scope: dict[str, list[User]] = {"center": [], "subdistrict": [], "district": [], "city": []}
    for role in StaffRole.objects.filter(user__username__startswith="bench-staff-").select_related(
        "user"
    ):
        by_scope[role.scope].append(role.user)
    kinds = {
        "queue_center": [],
        "overdue_subdistrict": [],
        "overdue_district": [],
        "overdue_city": [],
        "overdue_count_city": [],
        "directory_subdistrict": [],
    }
    cpu = {k: 0.0 for k in kinds}
    rows_seen = {k: 0 for k in kinds}

    def timed(kind, fn, *a, **kw):  # type: ignore[no-untyped-def]
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn(*a, **kw)
        kinds[kind].append((time.perf_counter() - t0) * 1000)
        cpu[kind] += time.process_time() - c0
        return out

    subs = [
        r.region_id
        for u in by_scope["subdistrict"]
        for r in u.staff_roles.all()  # one each
    ]
    for i in range(args.queries + 20):
        now = timezone.now()
        # A fresh user object each time: the role look-up is part of what a request pays.
        c = User.objects.get(pk=rng.choice(by_scope["center"]).pk)
        s = User.objects.get(pk=rng.choice(by_scope["subdistrict"]).pk)
        d = User.objects.get(pk=rng.choice(by_scope["district"]).pk)
        city = User.objects.get(pk=by_scope["city"][0].pk)
        got = {
            "queue_center": timed("queue_center", selectors.queue, c, now=now),
            "overdue_subdistrict": timed(
                "overdue_subdistrict", selectors.queue, s, overdue_only=True, now=now
            ),
            "overdue_district": timed(
                "overdue_district", selectors.queue, d, overdue_only=True, now=now
            ),
            "overdue_city": timed(
                "overdue_city", selectors.queue, city, overdue_only=True, now=now
            ),
        }
        timed("overdue_count_city", selectors.overdue_count, city, now)
        timed(
            "directory_subdistrict",
            search_centers,
            f=CenterFilters(subdistrict=rng.choice(subs)),
        )
        if i < 20:
            for k in kinds:
                kinds[k].clear()
                cpu[k] = 0.0
        else:
            for k, v in got.items():
                rows_seen[k] += len(v)
        reset_queries()
    connection.close()
    out: dict[str, object] = {}
    for k, samples in kinds.items():
        samples.sort()
        out[k] = {
            "n": len(samples),
            "p50_ms": round(percentile(samples, 50), 2),
            "p99_ms": round(percentile(samples, 99), 2),
            "cpu_ms_per_query": round(1000 * cpu[k] / max(1, len(samples)), 2),
            "rows_per_answer": round(rows_seen[k] / max(1, len(samples)), 1),
        }
    peer = out["directory_subdistrict"]["p99_ms"]  # type: ignore[index]
    out["ratio_p99_to_directory"] = {
        k: round(out[k]["p99_ms"] / peer, 2)  # type: ignore[index]
        for k in kinds
        if k != "directory_subdistrict"
    }
    print(json.dumps(out))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    city_bench_arguments(p, PG_DEFAULT_NAME)
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=300)
    args = p.parse_args()
    return run_city_bench(
        p,
        args,
        script=__file__,
        name="request_queues",
        title=(
            f"doorstep request queues: {args.centers} centers, {args.requests} requests over a year"
        ),
        steps={"setup": setup, "measure": measure},
    )


if __name__ == "__main__":
    sys.exit(main())
