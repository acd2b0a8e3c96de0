"""Figures on a hand-built example whose answers are worked out in the comments."""

from __future__ import annotations

from datetime import date

import pytest

from doorstep.figures.selectors import (
    FiguresError,
    Scope,
    access_region,
    figures_for,
    period,
    unique_visitors,
)
from doorstep.figures.services import rebuild_figures, refresh_figures
from tests.factories import make_account

from .conftest import add_service, add_visit

START, END = date(2026, 3, 1), date(2026, 4, 30)


@pytest.fixture
def example(two_centers):
    a, b = two_centers
    u = {i: make_account(name=f"居民{i}") for i in range(1, 9)}
    # u1: back after 8 days.
    add_visit(a, date(2026, 3, 2), user=u[1])
    add_visit(a, date(2026, 3, 10), user=u[1])
    # u2: twice on one day (does not count), then 46 days later.
    add_visit(a, date(2026, 3, 5), user=u[2], hour=9)
    add_visit(a, date(2026, 3, 5), user=u[2], hour=15)
    add_visit(a, date(2026, 4, 20), user=u[2])
    # u3: a visit before the period, first in the period 3-20, back 26 days later.
    add_visit(a, date(2026, 2, 25), user=u[3])
    add_visit(a, date(2026, 3, 20), user=u[3])
    add_visit(a, date(2026, 4, 15), user=u[3])
    # u4: back 28 days later, after the period ended (still counts).
    add_visit(a, date(2026, 4, 10), user=u[4])
    add_visit(a, date(2026, 5, 8), user=u[4])
    # u5: once.
    add_visit(a, date(2026, 4, 28), user=u[5])
    # u6: B on 3-03, A on 3-04: returns in the city, not at A.
    add_visit(b, date(2026, 3, 3), user=u[6])
    add_visit(a, date(2026, 3, 4), user=u[6])
    # u7: 31 days later (too late); u8: exactly 30 days later (in time).
    add_visit(a, date(2026, 4, 25), user=u[7])
    add_visit(a, date(2026, 5, 26), user=u[7])
    add_visit(a, date(2026, 4, 1), user=u[8])
    add_visit(a, date(2026, 5, 1), user=u[8])
    # Someone who first came after the period: not a visitor of the period at all.
    add_visit(a, date(2026, 5, 3), user=make_account(name="居民9"))
    # Anonymous visitors: counted, not followed.
    for _ in range(3):
        add_visit(a, date(2026, 3, 2), group="elderly")
    refresh_figures()
    return a, b


def center_scope(center):
    return Scope(kind="center", name=center.name, center=center)


def test_return_rate_and_cohorts_at_one_center(example):
    a, _b = example
    f = figures_for(center_scope(a), START, END, today=date(2026, 6, 1))
    assert [(c.month, c.people, c.settled, c.returned) for c in f.cohorts] == [
        ("2026-03", 4, 4, 2),  # u1, u3 back; u2 (same day only), u6 (back at B) not
        ("2026-04", 4, 4, 2),  # u4, u8 back; u5, u7 not
    ]
    assert f.return_rate == 0.5
    assert f.unique_visitors == 8 == unique_visitors(center_scope(a), START, END)
    # Visits at A in the period: u1 2, u2 3, u3 2, u4 1, u5 1, u6 1, u7 1, u8 1 = 12 signed-in,
    # plus 3 anonymous = 15.
    assert f.visits == 15
    assert f.anonymous_visits == 3
    assert dict((g, n) for g, _l, n in f.by_group)["elderly"] == 3


def test_people_still_inside_their_window_are_pending(example):
    a, _b = example
    f = figures_for(center_scope(a), START, END, today=date(2026, 5, 20))
    april = f.cohorts[1]
    # Settled only when d + 30 < today: 4-10 (u4) and 4-01 (u8); 4-25 and 4-28 still wait.
    assert (april.people, april.settled, april.returned) == (4, 2, 2)
    assert f.pending == 2
    assert f.return_rate == 4 / 6


def test_region_scopes_follow_people_across_centers(example, regions):
    from doorstep.accounts.models import User

    _a, b = example
    admin = User.objects.create(username="root", is_superuser=True, is_staff=True)
    city = figures_for(access_region(admin, "310000"), START, END, today=date(2026, 6, 1))
    # u6 first came on 3-03 at B and came back the next day at A.
    assert [(c.month, c.returned) for c in city.cohorts] == [("2026-03", 3), ("2026-04", 2)]
    assert city.unique_visitors == 8
    assert city.visits == 16
    xuhui = figures_for(access_region(admin, b.district_id), START, END, today=date(2026, 6, 1))
    assert (xuhui.visits, xuhui.unique_visitors, xuhui.cohort_returned) == (1, 1, 0)


def test_dwell_hours_weekdays_and_services(two_centers):
    a, _b = two_centers
    day = date(2026, 3, 2)  # a Monday
    for minutes, hour in ((10, 8), (20, 9), (40, 9), (100, 23)):
        add_visit(a, day, stay=minutes, hour=hour)
    add_visit(a, date(2026, 3, 7), hour=0)  # Saturday, still inside: no dwell
    add_service(a, day, "canteen_meal", count=30)
    add_service(a, day, "blood_pressure", count=2)
    add_service(a, date(2026, 3, 3), "canteen_meal", count=5)
    refresh_figures()
    f = figures_for(center_scope(a), START, END, today=date(2026, 6, 1))
    assert f.dwell_average_minutes == pytest.approx(42.5)
    # Buckets 5-15, 15-30, 30-60, 60-120 hold one each: the median interpolates to 30.
    assert f.dwell_median_minutes == pytest.approx(30)
    assert f.by_hour[8] == 1 and f.by_hour[9] == 2 and f.by_hour[23] == 1 and f.by_hour[0] == 1
    assert f.by_weekday == [4, 0, 0, 0, 0, 1, 0]
    assert [(s, n) for s, _l, n in f.services] == [("canteen_meal", 35), ("blood_pressure", 2)]
    assert f.cohorts == [] and f.return_rate is None


def test_activity_fill_and_no_show_rates(two_centers):
    from datetime import timedelta

    from django.utils import timezone

    from doorstep.activities.models import Registration
    from doorstep.activities.services import mark_no_shows
    from tests.factories import make_activity

    a, _b = two_centers
    now = timezone.now()
    starts = now - timedelta(days=3)
    act = make_activity(a, capacity=4, starts_at=starts, now=starts - timedelta(days=5))
    people = [make_account(name=f"报名{i}") for i in range(3)]
    for i, user in enumerate(people):
        Registration.objects.create(
            public_id=f"r{i}",
            activity=act,
            person=user.people.first(),
            account=user,
            status="confirmed",
            checked_in_at=starts if i == 0 else None,
        )
    mark_no_shows(activity_id=act.pk, now=now)
    today = timezone.localdate(now)
    f = figures_for(center_scope(a), today - timedelta(days=10), today, now=now)
    assert f.activities["fill_rate"] == pytest.approx(3 / 4)
    assert f.activities["no_show_rate"] == pytest.approx(2 / 3)


def test_rebuild_agrees_and_refresh_is_idempotent(example):
    from .test_rollup_property import snapshot

    first = snapshot()
    refresh_figures()
    assert snapshot() == first
    rebuild_figures()
    assert snapshot() == first


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "code"),
    [
        ("2026-13-01", "", "bad_date"),
        ("2026-04-02", "2026-04-01", "bad_period"),
        ("2010-01-01", "2026-01-01", "bad_period"),
        ("x", "y", "bad_date"),
    ],
)
def test_bad_periods_are_refused(raw_from, raw_to, code):
    with pytest.raises(FiguresError) as err:
        period(raw_from, raw_to, today=date(2026, 6, 1))
    assert err.value.code == code


def test_default_period_is_the_last_30_days():
    assert period(None, None, today=date(2026, 6, 1)) == (date(2026, 5, 2), date(2026, 5, 31))
