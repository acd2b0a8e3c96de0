"""A synthetic year of visits and services, for benchmarks and demonstrations.

Every row is flagged `synthetic` (visits: channel "synthetic"; services: source "synthetic"),
and the people it invents are accounts named "synthetic-<n>" (合成居民) that cannot sign in.
Pages that show figures including them say so. Output depends only on the seed, the centers
and the parameters.

Shapes (made up, but the way the article describes centers being used): more visits on
weekends; elderly people in the morning and early afternoon, children after school and on
weekend mornings, office workers at lunch and in the evening, riders at lunch and late at
night; a quarter of visitors signed in, drawn from each center's regulars with a long tail
(a few come most days), some of them also visiting other centers of their district.

Rows are written with COPY on PostgreSQL (psycopg `cursor.copy`) and executemany on SQLite,
one day at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime

import numpy as np
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX as UNUSABLE
from django.db import connection, transaction
from django.utils import timezone

from doorstep.accounts.models import User
from doorstep.centers.models import Center, OpeningHours
from doorstep.visits.models import ServiceRecord, Visit

GROUPS = ("elderly", "child", "adult", "rider", "unknown")
GROUP_SHARE = np.array([0.42, 0.12, 0.28, 0.10, 0.08])
WEEKDAY_FACTOR = np.array([0.95, 0.95, 0.95, 0.95, 1.0, 1.15, 1.05])
USER_PREFIX = "synthetic-"
REGULARS_PER_CENTER = 60
STAY_MEDIAN_MIN = np.array([55.0, 70.0, 35.0, 20.0, 30.0])  # by group


def _curve(peaks: Sequence[tuple[float, float, float]], floor: float = 0.02) -> np.ndarray:
    hours = np.arange(24)
    w = np.full(24, floor)
    for centre, width, height in peaks:
        w += height * np.exp(-0.5 * ((hours - centre) / width) ** 2)
    return w / w.sum()


HOUR_CURVES = np.vstack(
    [
        _curve([(9, 1.5, 1.0), (15, 1.2, 0.6)], floor=0.005),  # elderly
        _curve([(16.5, 1.0, 1.0), (10, 1.5, 0.4)], floor=0.005),  # children
        _curve([(12.5, 1.0, 0.8), (19, 1.5, 1.0)], floor=0.01),  # adults
        _curve([(12, 1.0, 0.8), (21.5, 1.5, 1.0), (1, 1.5, 0.4)], floor=0.03),  # riders
        _curve([(10, 3, 1.0), (17, 3, 1.0)]),  # not stated
    ]
)
SERVICE_MIX = (
    # (service, per-visit rate, group index that drives it or -1 for all)
    ("canteen_meal", 0.30, 0),
    ("blood_pressure", 0.10, 0),
    ("elderly_fitness", 0.06, 0),
    ("reading_room", 0.15, 1),
    ("book_loan", 0.05, -1),
    ("policy_consultation", 0.03, -1),
    ("one_net_assistance", 0.02, -1),
    ("rider_rest", 0.6, 3),
    ("rider_charging", 0.3, 3),
)


@dataclass(frozen=True)
class SynthResult:
    visits: int
    services: int
    users: int
    seconds: float


def synth_visits(
    *,
    centers: Sequence[Center] | None = None,
    start: date,
    days: int,
    per_center_per_day: float = 11.0,
    signed_in_share: float = 0.25,
    seed: int = 1,
    progress: Callable[[date, int], None] | None = None,
    stamp_now: bool = False,
) -> SynthResult:
    """Generate `days` days of synthetic visits and services from `start` at `centers`
    (default: the synthetic centers). About per_center_per_day visits per center per day.

    Rows are stamped (updated_at) as if recorded live: a visit at its leaving time, a service
    at its time; so roll them up with `roll_up(start, end)`, not the incremental refresh.
    stamp_now stamps them now instead, as rows arriving this minute would be."""
    began = time.perf_counter()
    if centers is None:
        centers = list(Center.objects.filter(source="synthetic").order_by("pk"))
    centers = list(centers)
    if not centers or days < 1:
        return SynthResult(0, 0, 0, 0.0)
    rng = np.random.default_rng(seed)
    center_ids = np.array([c.pk for c in centers], dtype=np.int64)
    n_centers = len(centers)
    # Busy and quiet centers: a lognormal size with mean 1.
    size = rng.lognormal(mean=-0.32, sigma=0.8, size=n_centers)
    size /= size.mean()
    districts = np.array([int(c.district_id) for c in centers], dtype=np.int64)
    user_ids = _make_users(n_centers * REGULARS_PER_CENTER, seed)
    pool = np.array(user_ids, dtype=np.int64).reshape(n_centers, REGULARS_PER_CENTER)
    by_district: dict[int, np.ndarray] = {}
    for d in np.unique(districts):
        by_district[int(d)] = np.flatnonzero(districts == d)
    # Regulars: the first few of each pool come most often (a Zipf-like weight).
    regular_weight = 1.0 / np.arange(1, REGULARS_PER_CENTER + 1) ** 1.1
    regular_weight /= regular_weight.sum()
    open_mask = _open_mask(centers)
    tz = timezone.get_default_timezone()
    now_text = _ts(np.array([int(timezone.now().timestamp())]))[0] if stamp_now else ""
    total_visits = total_services = 0
    for k in range(days):
        day = start + timedelta(days=k)
        counts = rng.poisson(per_center_per_day * size * WEEKDAY_FACTOR[day.weekday()])
        n = int(counts.sum())
        c_idx = np.repeat(np.arange(n_centers), counts)
        group = rng.choice(5, size=n, p=GROUP_SHARE)
        hour = np.empty(n, dtype=np.int64)
        for g in range(5):
            sel = np.flatnonzero(group == g)
            hour[sel] = rng.choice(24, size=sel.size, p=HOUR_CURVES[g])
        # Only while the center is open: an hour it is closed is drawn again from the same
        # curve; one still closed after that (a rider at 01:00 at a center shut at night)
        # does not come at all.
        open_now = open_mask[c_idx, day.weekday(), hour]
        for _ in range(12):
            closed = np.flatnonzero(~open_now)
            if not closed.size:
                break
            for g in range(5):
                sel = closed[group[closed] == g]
                hour[sel] = rng.choice(24, size=sel.size, p=HOUR_CURVES[g])
            open_now = open_mask[c_idx, day.weekday(), hour]
        c_idx, group, hour = c_idx[open_now], group[open_now], hour[open_now]
        n = int(c_idx.size)
        midnight = int(datetime.combine(day, dtime.min, tzinfo=tz).timestamp())
        arrived = midnight + hour * 3600 + rng.integers(0, 3600, size=n)
        stay = rng.lognormal(np.log(STAY_MEDIAN_MIN[group]), 0.6) * 60
        left = arrived + np.maximum(stay, 60).astype(np.int64)
        estimated = rng.random(n) < 0.55
        known = rng.random(n) < signed_in_share
        home = c_idx.copy()
        roam = known & (rng.random(n) < 0.1)
        for i in np.flatnonzero(roam):
            peers = by_district[int(districts[c_idx[i]])]
            home[i] = peers[rng.integers(0, peers.size)]
        who = pool[home, rng.choice(REGULARS_PER_CENTER, size=n, p=regular_weight)]
        day_text = day.isoformat()
        arrived_text = _ts(arrived)
        left_text = _ts(left)
        cids = center_ids[c_idx].tolist()
        users = [int(u) if kn else None for u, kn in zip(who.tolist(), known.tolist(), strict=True)]
        visit_rows = [
            (cid, uid, "", GROUPS[g], "synthetic", a, day_text, lt, est, True, now_text or lt)
            for cid, uid, g, a, lt, est in zip(
                cids,
                users,
                group.tolist(),
                arrived_text,
                left_text,
                estimated.tolist(),
                strict=True,
            )
        ]
        service_rows = []
        at_text = _ts(np.array([midnight + 12 * 3600]))[0]
        per_group = np.zeros((n_centers, 5), dtype=np.int64)
        np.add.at(per_group, (c_idx, group), 1)
        all_visits = per_group.sum(axis=1)
        for service, rate, g in SERVICE_MIX:
            base = all_visits if g < 0 else per_group[:, g]
            amount = rng.poisson(base * rate)
            for ci in np.flatnonzero(amount):
                service_rows.append(
                    (int(center_ids[ci]), service, at_text, day_text, int(amount[ci]),
                     "synthetic", True, now_text or at_text, "", "")
                )  # fmt: skip
        with transaction.atomic():
            _write(
                Visit._meta.db_table,
                [
                    "center_id", "user_id", "device", "group", "channel", "arrived_at", "day",
                    "left_at", "left_estimated", "synthetic", "updated_at",
                ],
                visit_rows,
            )  # fmt: skip
            _write(
                ServiceRecord._meta.db_table,
                ["center_id", "service", "at", "day", "count", "source", "synthetic",
                 "updated_at", "note", "import_key"],
                service_rows,
            )  # fmt: skip
        total_visits += len(visit_rows)
        total_services += len(service_rows)
        if progress:
            progress(day, len(visit_rows))
    return SynthResult(total_visits, total_services, len(user_ids), time.perf_counter() - began)


def _open_mask(centers: Sequence[Center]) -> np.ndarray:
    """(center, weekday, hour) -> open during some of that hour. A center with no published
    hours is taken as open all day (nothing says otherwise)."""
    index = {c.pk: i for i, c in enumerate(centers)}
    mask = np.zeros((len(centers), 7, 24), dtype=bool)
    seen: set[int] = set()
    for cid, weekday, o, c in OpeningHours.objects.filter(center__in=list(index)).values_list(
        "center_id", "weekday", "open_minute", "close_minute"
    ):
        i = index[cid]
        seen.add(i)
        for h in range(o // 60, -(-c // 60)):
            mask[i, (weekday + h // 24) % 7, h % 24] = True
    for i in range(len(centers)):
        if i not in seen:
            mask[i] = True
    return mask


def _ts(epoch: np.ndarray) -> list[str]:
    """UTC timestamps as text both databases read: 'YYYY-MM-DD HH:MM:SS' (+00 on PostgreSQL)."""
    text = np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s")
    suffix = "+00" if connection.vendor == "postgresql" else ""
    return [t.replace("T", " ") + suffix for t in text.tolist()]


def _make_users(count: int, seed: int) -> list[int]:
    """The synthetic residents, reused across runs with the same seed (created once)."""
    prefix = f"{USER_PREFIX}{seed}-"
    existing = dict(User.objects.filter(username__startswith=prefix).values_list("username", "pk"))
    wanted = [f"{prefix}{i}" for i in range(count)]
    missing = [name for name in wanted if name not in existing]
    if missing:
        joined = timezone.now()
        User.objects.bulk_create(
            [
                User(
                    username=name,
                    display_name="合成居民",
                    password=UNUSABLE,
                    date_joined=joined,
                )
                for name in missing
            ],
            batch_size=5000,
        )
        existing = dict(
            User.objects.filter(username__startswith=prefix).values_list("username", "pk")
        )
    return [existing[name] for name in wanted]


def _write(table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            raw = cur.cursor  # psycopg's own cursor, for COPY
            with raw.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(
                f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({marks})",  # noqa: S608
                rows,
            )


def delete_synthetic() -> int:
    """Delete every synthetic visit and service record (not the rollups: refresh or rebuild)."""
    n, _ = Visit.objects.filter(synthetic=True).delete()
    m, _ = ServiceRecord.objects.filter(synthetic=True).delete()
    return n + m


def load_demo_figures(*, days: int = 120, seed: int = 7) -> SynthResult:
    """For `doorstep load-demo`: synthetic visits at the article's centers over the last
    `days` days, labelled synthetic on the dashboards. Does nothing if they exist already."""
    centers = list(Center.objects.filter(source="article").order_by("pk"))
    if not centers or Visit.objects.filter(synthetic=True, center__in=centers).exists():
        return SynthResult(0, 0, 0, 0.0)
    today = timezone.localdate()
    result = synth_visits(
        centers=centers,
        start=today - timedelta(days=days),
        days=days,
        per_center_per_day=35.0,
        signed_in_share=0.3,
        seed=seed,
    )
    roll_up(today - timedelta(days=days), today - timedelta(days=1))
    return result


def roll_up(start: date, end: date) -> int:
    """Roll up generated days: a full rebuild on a database never refreshed (which sets the
    refresh watermark), else a rebuild of just those days."""
    from .models import RefreshState
    from .services import STATE_NAME, rebuild_figures

    if RefreshState.objects.filter(name=STATE_NAME, watermark__isnull=False).exists():
        return rebuild_figures(start=start, end=end)
    return rebuild_figures()
