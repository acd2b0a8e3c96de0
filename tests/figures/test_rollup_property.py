"""Incremental rollups equal a full rebuild after random event sequences (hypothesis).

The clock is simulated: every write stamps updated_at with the test's clock, which moves an
hour per step, so a refresh recomputes only the pairs that really changed since its watermark
(minus the safety margin). A "late commit" stamps a row a few minutes before the previous
refresh, as a transaction that started earlier and committed later would: the margin must
catch it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.figures.models import COUNTER_FIELDS, AreaDay, CenterDay, Presence, RefreshState
from doorstep.figures.services import SAFETY_MARGIN, rebuild_figures, refresh_figures
from doorstep.visits.models import ServiceRecord, Visit
from tests.factories import make_account

from .conftest import local

DAY0 = date(2026, 3, 2)
# How long after its updated_at stamp a slow transaction commits; the margin must cover it.
LATE_COMMIT = timedelta(minutes=1)
assert SAFETY_MARGIN > LATE_COMMIT

ops = st.one_of(
    st.tuples(
        st.just("visit"),
        st.integers(0, 2),  # center
        st.integers(0, 4),  # day offset
        st.integers(0, 23),  # hour
        st.one_of(st.none(), st.integers(0, 3)),  # user
        st.sampled_from(["elderly", "child", "adult", "rider", "unknown"]),
        st.booleans(),  # an anonymous one marked a suspicious burst
    ),
    st.tuples(st.just("leave"), st.integers(0, 50), st.integers(1, 400), st.booleans()),
    st.tuples(st.just("regroup"), st.integers(0, 50), st.sampled_from(["elderly", "rider"])),
    st.tuples(st.just("move_day"), st.integers(0, 50), st.integers(0, 4)),
    st.tuples(
        st.just("service"),
        st.integers(0, 2),
        st.integers(0, 4),
        st.sampled_from(["canteen_meal", "rider_rest"]),
        st.integers(1, 40),
    ),
    st.tuples(st.just("late_commit"), st.integers(0, 50)),
    st.tuples(st.just("refresh")),
)


def snapshot() -> tuple:
    def rows(model, keys):
        return sorted(
            tuple(r[k] for k in keys) + tuple(r[f] for f in COUNTER_FIELDS)
            for r in model.objects.values(*keys, *COUNTER_FIELDS)
        )

    return (
        rows(CenterDay, ["center_id", "day"]),
        rows(AreaDay, ["district", "subdistrict", "day"]),
        sorted(
            Presence.objects.values_list("center_id", "day", "user_id", "district", "subdistrict")
        ),
    )


def _stamp(obj, when: datetime) -> None:
    type(obj).objects.filter(pk=obj.pk).update(updated_at=when)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(ops, min_size=1, max_size=30))
def test_incremental_equals_rebuild(two_centers, steps):
    from tests.factories import make_center

    for model in (Visit, ServiceRecord, CenterDay, AreaDay, Presence, RefreshState):
        model.objects.all().delete()
    centers = list(two_centers)
    if len(centers) < 3:
        centers.append(make_center("丙中心", district="长宁区"))
    users = [make_account(name=f"人{i}") for i in range(4)]
    clock = datetime(2026, 3, 10, tzinfo=UTC)
    last_refresh: datetime | None = None
    visits: list[Visit] = []
    for step in steps:
        clock += timedelta(hours=1)
        kind = step[0]
        if kind == "visit":
            _k, c, off, hour, u, group, suspect = step
            day = DAY0 + timedelta(days=off)
            v = Visit.objects.create(
                center=centers[c],
                user=users[u] if u is not None else None,
                group=group,
                channel="qr",
                arrived_at=local(day, hour),
                day=day,
                suspect=suspect and u is None,
            )
            visits.append(v)
            _stamp(v, clock)
        elif kind == "service":
            _k, c, off, service, n = step
            day = DAY0 + timedelta(days=off)
            s = ServiceRecord.objects.create(
                center=centers[c],
                service=service,
                at=local(day, 12),
                day=day,
                count=n,
                source="quick",
            )
            _stamp(s, clock)
        elif kind == "refresh":
            refresh_figures(now=clock)
            last_refresh = clock
        elif visits:
            v = visits[step[1] % len(visits)]
            v.refresh_from_db()
            if kind == "leave":
                v.left_at = v.arrived_at + timedelta(minutes=step[2])
                v.left_estimated = step[3]
                v.save()
                _stamp(v, clock)
            elif kind == "regroup":
                v.group = step[2]
                v.save()
                _stamp(v, clock)
            elif kind == "move_day":
                # A late correction of the arrival day: the old day must be recomputed too,
                # which only recompute_center_days(old pair) can know (docs/figures.md).
                from doorstep.figures.services import recompute_center_days

                old = (v.center_id, v.day)
                v.day = DAY0 + timedelta(days=step[2])
                v.arrived_at = local(v.day, v.arrived_at.hour)
                v.left_at = None
                v.save()
                _stamp(v, clock)
                recompute_center_days(pairs=[old])
            elif kind == "late_commit" and last_refresh is not None:
                v.group = "child"
                v.save()
                _stamp(v, last_refresh - LATE_COMMIT)
    refresh_figures(now=clock + timedelta(hours=1))
    incremental = snapshot()
    refresh_figures(now=clock + timedelta(hours=2))
    assert snapshot() == incremental  # idempotent
    rebuild_figures()
    assert snapshot() == incremental
    # And the rollups really count the facts: suspicious bursts apart from every other counter.
    n = Visit.objects.filter(suspect=False).count()
    assert sum(r.visits for r in CenterDay.objects.all()) == n
    assert (
        sum(r.suspect for r in CenterDay.objects.all())
        == Visit.objects.filter(suspect=True).count()
    )
    assert sum(r.visits for r in AreaDay.objects.exclude(subdistrict="*")) == n
    assert sum(r.visits for r in AreaDay.objects.filter(subdistrict="*").exclude(district="*")) == n
    assert sum(r.visits for r in AreaDay.objects.filter(district="*")) == n


def test_a_late_commit_before_the_watermark_is_still_rolled_up(two_centers):
    a, _b = two_centers
    t = datetime(2026, 3, 10, tzinfo=UTC)
    v = Visit.objects.create(
        center=a, group="adult", channel="qr", arrived_at=local(DAY0, 9), day=DAY0
    )
    _stamp(v, t - timedelta(hours=1))
    refresh_figures(now=t)
    v.group = "rider"
    v.save()
    _stamp(v, t - LATE_COMMIT)  # stamped before the refresh, committed after it
    refresh_figures(now=t + timedelta(hours=1))
    row = CenterDay.objects.get(center=a, day=DAY0)
    assert (row.g_adult, row.g_rider) == (0, 1)
