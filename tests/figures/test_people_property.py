"""The people figures from the PeopleDay rollup equal the direct computation (hypothesis).

Random presence histories at five centers (two subdistricts of one district, a subdistrict
and a center without one in another), written as visits with refreshes, deletions and day
corrections in between. After every refresh PeopleDay must equal what Presence implies; at
the end, for every scope and random periods and "todays", unique visitors and the cohort rows
(people, settled, returned per month) read from PeopleDay must equal both the window-function
query over Presence (the previous implementation) and a brute force over the visits written
straight from the definitions in docs/figures.md; and the incremental table must equal a full
and a partial rebuild.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.centers.models import Region
from doorstep.figures.models import (
    AreaDay,
    CenterDay,
    PeopleDay,
    Presence,
    RefreshState,
)
from doorstep.figures.selectors import (
    Cohort,
    Scope,
    cohorts,
    cohorts_from_presence,
    figures_for,
    unique_visitors,
)
from doorstep.figures.services import (
    contributions,
    rebuild_figures,
    rebuild_people,
    recompute_center_days,
    refresh_figures,
)
from doorstep.visits.models import ServiceRecord, Visit
from tests.factories import make_account, make_center

from .conftest import local

DAY0 = date(2026, 1, 5)
SPAN = 75  # visit days DAY0 ... DAY0 + SPAN - 1

ops = st.one_of(
    st.tuples(
        st.just("visit"),
        st.integers(0, 4),  # center
        st.integers(0, SPAN - 1),  # day
        st.one_of(st.none(), st.integers(0, 3)),  # user
    ),
    # The same person on several days at once: return patterns show up quickly.
    st.tuples(
        st.just("streak"),
        st.integers(0, 4),
        st.integers(0, SPAN - 1),
        st.integers(0, 3),
        st.lists(st.integers(0, 40), min_size=1, max_size=4),
    ),
    st.tuples(st.just("delete"), st.integers(0, 200)),
    st.tuples(st.just("move_day"), st.integers(0, 200), st.integers(0, SPAN - 1)),
    st.tuples(st.just("refresh")),
    st.tuples(st.just("rebuild_range"), st.integers(0, SPAN - 1), st.integers(0, 20)),
)
periods = st.lists(
    st.tuples(
        st.booleans(),  # start on a day someone was present (the edge cases live there)
        st.integers(-5, SPAN + 5),  # start, or which of those days
        st.integers(0, 60),  # length - 1
        st.integers(-10, 80),  # today, after start
    ),
    min_size=1,
    max_size=4,
)


def people_table() -> list[tuple]:
    return sorted(PeopleDay.objects.values_list("scope", "day", "since", "people", "returned"))


def implied_by_presence() -> list[tuple]:
    people, returned = contributions(
        Presence.objects.values_list("user_id", "center_id", "day", "district", "subdistrict")
    )
    return sorted((s, d, since, n, returned[(s, d, since)]) for (s, d, since), n in people.items())


def brute_force(centers: list, start: date, end: date, today: date) -> list[tuple]:
    """docs/figures.md, "Return rate and cohorts", read straight off the visits."""
    days: dict[int, set[date]] = {}
    for user_id, day in Visit.objects.filter(center__in=centers, user__isnull=False).values_list(
        "user_id", "day"
    ):
        days.setdefault(user_id, set()).add(day)
    months: dict[str, Cohort] = {}
    for present in days.values():
        inside = [d for d in present if start <= d <= end]
        if not inside:
            continue
        d = min(inside)
        c = months.setdefault(d.strftime("%Y-%m"), Cohort(d.strftime("%Y-%m"), 0, 0, 0))
        c.people += 1
        if d + timedelta(days=30) < today:
            c.settled += 1
            c.returned += any(d < e <= d + timedelta(days=30) for e in present)
    return [(c.month, c.people, c.settled, c.returned) for _k, c in sorted(months.items())]


def rows(found: list[Cohort]) -> list[tuple]:
    return [(c.month, c.people, c.settled, c.returned) for c in found]


def make_world(regions):
    changning = Region.objects.get(level="district", name="长宁区")
    xuhui = Region.objects.get(level="district", name="徐汇区")
    s1, s2 = Region.objects.filter(parent=changning).order_by("code")[:2]
    t1 = Region.objects.filter(parent=xuhui).order_by("code").first()
    centers = [
        make_center("甲", district=changning.name, subdistrict=s1.name),
        make_center("乙", district=changning.name, subdistrict=s1.name),
        make_center("丙", district=changning.name, subdistrict=s2.name),
        make_center("丁", district=xuhui.name, subdistrict=t1.name),
        make_center("戊", district=xuhui.name),
    ]
    assert [c.subdistrict_id for c in centers] == [s1.pk, s1.pk, s2.pk, t1.pk, None]
    city = Region.objects.get(level="city")
    scopes = [(Scope("center", c.name, center=c), [c]) for c in centers]
    for region in (s1, s2, t1, changning, xuhui, city):
        members = [c for c in centers if region.pk in (c.subdistrict_id, c.district_id, "310000")]
        scopes.append((Scope(region.level, region.name, region=region), members))
    return centers, scopes


def _stamp(obj, when: datetime) -> None:
    type(obj).objects.filter(pk=obj.pk).update(updated_at=when)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(ops, min_size=1, max_size=25), checks=periods)
def test_people_figures_from_the_rollup_equal_the_direct_computation(regions, steps, checks):
    for model in (Visit, ServiceRecord, CenterDay, AreaDay, Presence, PeopleDay, RefreshState):
        model.objects.all().delete()
    centers, scopes = make_world(regions)
    users = [make_account(name=f"人{i}") for i in range(4)]
    clock = datetime(2026, 4, 1, tzinfo=UTC)
    visits: list[Visit] = []

    def visit(c: int, off: int, u: int | None) -> None:
        day = DAY0 + timedelta(days=off % SPAN)
        v = Visit.objects.create(
            center=centers[c],
            user=users[u] if u is not None else None,
            channel="qr",
            arrived_at=local(day, 10),
            day=day,
        )
        _stamp(v, clock)
        visits.append(v)

    for step in steps:
        clock += timedelta(hours=1)
        kind = step[0]
        if kind == "visit":
            visit(*step[1:])
        elif kind == "streak":
            _k, c, off, u, gaps = step
            for gap in gaps:
                off += gap
                visit(c, off, u)
        elif kind == "refresh":
            refresh_figures(now=clock)
            if RefreshState.objects.get().watermark is not None:
                assert people_table() == implied_by_presence()
        elif kind == "rebuild_range":
            _k, off, length = step
            start = DAY0 + timedelta(days=off)
            rebuild_figures(start=start, end=start + timedelta(days=length))
        elif visits:
            v = visits.pop(step[1] % len(visits))
            old = (v.center_id, v.day)
            if kind == "delete":
                v.delete()
            else:
                v.day = DAY0 + timedelta(days=step[2])
                v.arrived_at = local(v.day, 10)
                v.save()
                _stamp(v, clock)
                visits.append(v)
            # What updated_at cannot reveal is recomputed by whoever deletes or moves.
            recompute_center_days(pairs=[old])
    refresh_figures(now=clock + timedelta(hours=1))
    incremental = people_table()
    assert incremental == implied_by_presence()

    present = sorted(set(Presence.objects.values_list("day", flat=True)))
    for anchored, s, length, t in checks:
        if anchored and present:
            start = present[s % len(present)]
        else:
            start = DAY0 + timedelta(days=s)
        end = start + timedelta(days=length)
        today = start + timedelta(days=t)
        for scope, members in scopes:
            expected = brute_force(members, start, end, today)
            assert rows(cohorts_from_presence(scope, start, end, today)) == expected
            assert rows(cohorts(scope, start, end, today)) == expected, (scope.name, s, length)
            f = figures_for(scope, start, end, today=today)
            assert f.unique_visitors == unique_visitors(scope, start, end)
            assert f.unique_visitors == sum(people for _m, people, _s, _r in expected)

    rebuild_people()
    assert people_table() == incremental
    rebuild_figures()
    assert people_table() == incremental
    refresh_figures(now=clock + timedelta(hours=2))
    assert people_table() == incremental  # idempotent


def test_a_person_at_two_centers_of_a_district_on_one_day_counts_once(regions):
    (a, b, c, _d, _e), scopes = make_world(regions)
    u = make_account(name="两处")
    day = date(2026, 3, 2)
    for center, when in ((a, day), (b, day), (c, day + timedelta(days=3))):
        Visit.objects.create(
            center=center, user=u, channel="qr", arrived_at=local(when, 10), day=when
        )
    refresh_figures()
    today = date(2026, 6, 1)
    by_name = {scope.name: scope for scope, _m in scopes}
    district = by_name["长宁区"]
    # One person in the district on 3-02 (two centers), back there on 3-05.
    assert rows(cohorts(district, day, day, today)) == [("2026-03", 1, 1, 1)]
    assert PeopleDay.objects.get(scope=f"d:{district.region.pk}", day=day).people == 1
    # At A alone they never came back; in A's subdistrict neither (C is in the other one).
    assert rows(cohorts(Scope("center", a.name, center=a), day, day, today)) == [
        ("2026-03", 1, 1, 0)
    ]
    sub = next(s for s, m in scopes if s.kind == "subdistrict" and a in m)
    assert rows(cohorts(sub, day, day, today)) == [("2026-03", 1, 1, 0)]
    # Deleting the visit at C takes the return away in the district and the city too.
    pair = (c.pk, day + timedelta(days=3))
    Visit.objects.filter(center=c).delete()
    recompute_center_days(pairs=[pair])
    assert rows(cohorts(district, day, day, today)) == [("2026-03", 1, 1, 0)]
    assert rows(cohorts(by_name["上海市"], day, day, today)) == [("2026-03", 1, 1, 0)]


def test_deleting_an_account_or_a_center_takes_its_people_out(regions):
    (a, b, c, _d, _e), scopes = make_world(regions)
    u, w = make_account(name="走了"), make_account(name="留下")
    for center, off, person in ((a, 0, u), (b, 5, u), (a, 1, w), (c, 3, w)):
        day = DAY0 + timedelta(days=off)
        Visit.objects.create(
            center=center, user=person, channel="qr", arrived_at=local(day, 10), day=day
        )
    refresh_figures()
    assert PeopleDay.objects.filter(scope="*").count() == 4  # two days each
    city = next(s for s, _m in scopes if s.kind == "city")
    start, today = DAY0, DAY0 + timedelta(days=60)
    period = (start, start + timedelta(days=9), today)
    assert rows(cohorts(city, *period)) == [("2026-01", 2, 2, 2)]
    u.delete()
    assert people_table() == implied_by_presence()
    c.delete()
    assert people_table() == implied_by_presence()
    # Only w is left in the city, on day 1 alone (day 3 was at the deleted C).
    assert rows(cohorts(city, *period)) == [("2026-01", 1, 1, 0)]
    rebuild_figures()
    assert people_table() == implied_by_presence()
