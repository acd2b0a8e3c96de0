"""The service level clock on hand-built timelines: nights, weekends, lunch breaks, public
holidays, make-up working days and pauses, each with its answer worked out by hand."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.cases import sla
from tests.cases.conftest import FRI, MON, NEXT_MON, SAT, SUN, THU, TUE, WED, local

# Mon–Fri 09:00–12:00 and 13:00–17:00 (7 working hours a day).
OFFICE = "mon-fri 09:00-12:00; mon-fri 13:00-17:00"


def office(holidays: dict[date, bool] | None = None) -> sla.Calendar:
    return sla.office_calendar(OFFICE, holidays or {})


def test_a_night_counts_nothing():
    assert sla.working_minutes(office(), local(TUE, 16, 30), local(WED, 9, 30)) == 60


def test_the_lunch_break_counts_nothing():
    assert sla.working_minutes(office(), local(TUE, 11), local(TUE, 14)) == 120


def test_due_after_the_weekend():
    # Friday 16:00 + 2 h: one hour on Friday, the second on Monday morning.
    assert sla.add_working(office(), local(FRI, 16), 120) == local(NEXT_MON, 10)


def test_due_across_lunch():
    assert sla.add_working(office(), local(TUE, 11), 120) == local(TUE, 14)


def test_filed_at_night_starts_next_morning():
    assert sla.add_working(office(), local(TUE, 22), 60) == local(WED, 10)
    assert sla.working_minutes(office(), local(TUE, 22), local(WED, 8)) == 0


def test_a_public_holiday_stops_the_clock():
    cal = office({NEXT_MON: False})
    assert sla.add_working(cal, local(FRI, 16), 120) == local(date(2026, 12, 15), 10)
    assert sla.working_minutes(cal, local(FRI, 16), local(date(2026, 12, 15), 10)) == 120


def test_a_make_up_working_day_works_as_a_monday():
    # Saturday is a make-up working day (调休): Monday's hours that day.
    cal = office({SAT: True})
    assert sla.add_working(cal, local(FRI, 16), 120) == local(SAT, 10)
    assert sla.working_minutes(cal, local(SAT, 8), local(SUN, 23)) == 7 * 60


def test_a_center_open_at_weekends_counts_them_but_not_its_closed_date():
    center = sla.Calendar(
        weekly=[(d, 540, 1260) for d in range(7)],  # every day 09:00–21:00
        exceptions={SAT: (True, None, None)},  # closed on this Saturday
    )
    assert sla.working_minutes(center, local(FRI, 20), local(SUN, 10)) == 60 + 60


def test_pauses_count_only_the_running_stretches():
    # Filed Mon 09:00; waits for the applicant from Mon 11:00 (2 h used); the applicant
    # answers Wed 10:00; resolved Wed 12:00 (2 more): 4 h in all.
    moves = [
        (local(MON, 9), True),
        (local(MON, 11), False),
        (local(WED, 10), True),
        (local(WED, 12), False),
    ]
    clock = sla.replay(office(), moves, 8 * 60)
    assert clock.used == 4 * 60
    assert clock.running_since is None and clock.due is None


def test_the_due_time_moves_by_the_pause():
    # 8 h target: 2 h used before the pause; back at Wed 10:00, 6 h left → Wed 17:00 (lunch
    # is not counted: 10–12 and 13–17).
    moves = [(local(MON, 9), True), (local(MON, 11), False), (local(WED, 10), True)]
    clock = sla.replay(office(), moves, 8 * 60, now=local(WED, 11))
    assert clock.due == local(WED, 17)
    assert clock.used == 3 * 60


def test_a_calendar_without_hours_never_comes_due():
    assert sla.add_working(sla.Calendar(weekly=[]), local(MON, 9), 60) is None


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=7 * 24 * 60 - 1),
    minutes=st.integers(min_value=1, max_value=40 * 60),
)
def test_adding_then_counting_gives_back_the_minutes(start, minutes):
    cal = office({THU: False})
    begin = local(MON, 0) + timedelta(minutes=start)
    due = sla.add_working(cal, begin, minutes)
    assert due is not None
    assert sla.working_minutes(cal, begin, due) == minutes


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ((MON, 9), (MON, 17), 7 * 60),
        ((MON, 9), (NEXT_MON, 9), 5 * 7 * 60),
        ((SAT, 9), (SUN, 17), 0),
        ((FRI, 12), (FRI, 13), 0),
    ],
)
def test_known_spans(start, end, expected):
    assert sla.working_minutes(office(), local(*start), local(*end)) == expected
