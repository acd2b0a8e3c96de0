"""The free-slot search at the city's scale, on PostgreSQL. See docs/rooms.md, "Speed".

It builds a fresh PostgreSQL database (`doorstep_rooms_bench`, dropped at the end), runs
migrate, load-regions and `synth-city --centers N` (12,600 by default), gives every center
--spaces spaces (meeting rooms, activity rooms, lecture halls with random capacities and
equipment) and --days days of bookings (1 to 4 a day per space, on free even hours, written
with COPY). Then, in one process with the project's settings, it asks --queries free-slot
searches as residents do ("a room for 10-30 people, 1-2 hours, this afternoon or evening, with
a projector or not, in my subdistrict" and "... within 2 km of me") and, in the same run, the
directory's own searches (the same subdistrict; the same point and radius) as the peer. It
prints p50/p99 and CPU per query for both, and the ratio. Only 127.0.0.1 is contacted; it
stops by itself.

    .venv/bin/python bench/rooms.py [--centers 12600] [--spaces 3] [--days 30] [--queries 400]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

from run import city_bench_arguments, percentile, run_city_bench

PG_DEFAULT_NAME = "doorstep_rooms_bench"


def setup(args: argparse.Namespace) -> None:
    """Spaces and a month of bookings at every synthetic center (inside Django)."""
    import django

    django.setup()
    from datetime import datetime, timedelta
    from datetime import time as dtime

    from django.db import connection
    from django.utils import timezone

    from doorstep.centers.models import Center
    from doorstep.rooms.models import Space, equipment_mask

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    kinds = [("meeting_room", 8, 30), ("activity_room", 15, 60), ("lecture_hall", 40, 150)]
    spaces = []
    kit_choices = ["projector", "microphone", "whiteboard", "sound"]
    for cid in Center.objects.values_list("pk", flat=True).order_by("pk"):
        for n in range(args.spaces):
            kind, lo, hi = kinds[n % len(kinds)]
            spaces.append(
                Space(
                    center_id=cid,
                    name=f"示例场地{n + 1}（合成）",
                    kind=kind,
                    capacity=rng.randint(lo, hi),
                    equipment=(kit := rng.sample(kit_choices, rng.randint(0, 3))),
                    equipment_bits=equipment_mask(kit),
                    source="synthetic",
                    synthetic_details=True,
                    opens_minute=480,
                    closes_minute=1260,
                    buffer_minutes=rng.choice([0, 0, 15, 30]),
                )
            )
    Space.objects.bulk_create(spaces, batch_size=5000)
    ids = list(Space.objects.values_list("pk", flat=True))
    today = timezone.localdate()
    now = timezone.now()
    rows = 0
    with connection.cursor() as cur:
        copy_sql = (
            "COPY rooms_booking (space_id, starts_at, ends_at, blocked_until, status, kind, "
            "title, attendees, public, reason, idempotency_key, ics_sequence, synthetic, "
            "created_at, updated_at) FROM STDIN"
        )
        with cur.connection.cursor().copy(copy_sql) as copy:
            for sid in ids:
                for d in range(args.days):
                    day = today + timedelta(days=d)
                    for hour in rng.sample([8, 10, 12, 14, 16, 18], rng.randint(1, 4)):
                        s = timezone.make_aware(datetime.combine(day, dtime(hour, 0)))
                        e = s + timedelta(hours=1)
                        copy.write_row(
                            (
                                sid,
                                s,
                                e,
                                e + timedelta(minutes=30),
                                "confirmed",
                                "resident",
                                "示例（合成）",
                                5,
                                False,
                                "",
                                "",
                                0,
                                True,
                                now,
                                now,
                            )
                        )
                        rows += 1
        cur.execute("ANALYZE")
    print(
        json.dumps(
            {"spaces": len(ids), "bookings": rows, "seconds": round(time.perf_counter() - t0, 1)}
        )
    )


def measure(args: argparse.Namespace) -> None:
    """Free-slot searches and the directory's searches, alternating, in one process."""
    import django

    django.setup()
    from datetime import timedelta

    from django.db import connection, reset_queries
    from django.utils import timezone

    from doorstep.centers.models import Center, Region
    from doorstep.centers.selectors import CenterFilters, search_centers
    from doorstep.rooms.selectors import free_slots

    rng = random.Random(args.seed + 1)
    subdistricts = (
        list(
            Region.objects.filter(level="subdistrict", centers_in_subdistrict__isnull=False)
            .distinct()
            .values_list("code", flat=True)
        )
        if hasattr(Region, "centers_in_subdistrict")
        else list(
            Center.objects.exclude(subdistrict=None)
            .values_list("subdistrict_id", flat=True)
            .distinct()
        )
    )
    points = list(
        Center.objects.filter(location_precision__in=("exact", "street")).values_list("lat", "lng")[
            :5000
        ]
    )
    today = timezone.localdate()
    kinds = {
        "rooms_subdistrict": [],
        "rooms_near": [],
        "directory_subdistrict": [],
        "directory_near": [],
    }
    cpu = {k: 0.0 for k in kinds}
    found = {"rooms_subdistrict": 0, "rooms_near": 0}

    def timed(kind, fn, **kw):  # type: ignore[no-untyped-def]
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn(**kw)
        kinds[kind].append((time.perf_counter() - t0) * 1000)
        cpu[kind] += time.process_time() - c0
        return out

    for i in range(args.queries + 20):
        day = today + timedelta(days=rng.randint(0, args.days - 1))
        ask = {
            "day": day,
            "minutes": rng.choice([60, 120]),
            "from_minute": rng.choice([13 * 60, 18 * 60]),
            "to_minute": rng.choice([18 * 60, 21 * 60]),
            "people": rng.choice([10, 20, 30]),
            "equipment": rng.choice([[], [], ["projector"]]),
        }
        sub = rng.choice(subdistricts)
        lat, lng = rng.choice(points)
        warm = i < 20
        r1 = timed("rooms_subdistrict", free_slots, region_code=sub, **ask)
        r2 = timed("rooms_near", free_slots, lat=lat, lng=lng, radius_m=2000, **ask)
        timed("directory_subdistrict", search_centers, f=CenterFilters(subdistrict=sub))
        timed("directory_near", search_centers, f=CenterFilters(lat=lat, lng=lng, radius_m=2000))
        if warm:
            for k in kinds:
                kinds[k].clear()
                cpu[k] = 0.0
        else:
            found["rooms_subdistrict"] += bool(r1)
            found["rooms_near"] += bool(r2)
        reset_queries()
    connection.close()
    out = {}
    for k, samples in kinds.items():
        samples.sort()
        out[k] = {
            "n": len(samples),
            "p50_ms": round(percentile(samples, 50), 1),
            "p99_ms": round(percentile(samples, 99), 1),
            "cpu_ms_per_query": round(1000 * cpu[k] / max(1, len(samples)), 2),
        }
    out["answers_with_a_room"] = found
    out["ratio_p99_rooms_to_directory"] = {
        "subdistrict": round(
            out["rooms_subdistrict"]["p99_ms"] / out["directory_subdistrict"]["p99_ms"], 2
        ),
        "near": round(out["rooms_near"]["p99_ms"] / out["directory_near"]["p99_ms"], 2),
    }
    print(json.dumps(out))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    city_bench_arguments(p, PG_DEFAULT_NAME)
    p.add_argument("--spaces", type=int, default=3)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--queries", type=int, default=400)
    args = p.parse_args()
    return run_city_bench(
        p,
        args,
        script=__file__,
        name="rooms_free_slots",
        title=(
            f"doorstep free-slot search: {args.centers} centers x {args.spaces} spaces, "
            f"{args.days} days"
        ),
        steps={"setup": setup, "measure": measure},
    )


if __name__ == "__main__":
    sys.exit(main())
