from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.centers.hours import Interval, is_open, parse_weekly
from doorstep.centers.models import OpeningException, OpeningHours
from doorstep.centers.selectors import center_status
from doorstep.core.errors import InvalidInput
from tests.factories import make_center

SH = ZoneInfo("Asia/Shanghai")
# 2026-11-27 is a Friday.
FRI = date(2026, 11, 27)


def at(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=SH)


def rows(spec: str) -> list[tuple[int, int, int]]:
    return [(i.weekday, i.open_minute, i.close_minute) for i in parse_weekly(spec)]


def test_parse_forms():
    assert rows("24h") == [(d, 0, 1440) for d in range(7)]
    assert rows("mon-fri 09:00-21:00; sat 09:00-12:00") == [
        *[(d, 540, 1260) for d in range(5)],
        (5, 540, 720),
    ]
    assert rows("fri 20:00-02:00") == [(4, 1200, 1560)]
    assert rows("sat-mon 10:00-11:00") == [(0, 600, 660), (5, 600, 660), (6, 600, 660)]
    assert rows("daily 08:30-24:00")[0] == (0, 510, 1440)
    assert rows("") == []


@pytest.mark.parametrize(
    "spec",
    [
        "mon 25:00-26:00",
        "mon 09:60-10:00",
        "funday 09:00-10:00",
        "mon 9-10",
        "mon",
        "mon 09:00-12:00; mon 11:00-13:00",
        "sun 20:00-04:00; mon 03:00-05:00",
    ],
)
def test_bad_specs_are_rejected_with_a_code(spec):
    with pytest.raises(InvalidInput) as exc:
        parse_weekly(spec)
    assert exc.value.code == "invalid_hours"


def test_open_across_midnight():
    weekly = rows("fri 20:00-02:00")
    assert is_open(weekly, {}, at(FRI, 23, 59))
    assert is_open(weekly, {}, at(FRI + timedelta(days=1), 1, 59))  # Saturday early hours
    assert not is_open(weekly, {}, at(FRI + timedelta(days=1), 2, 0))
    assert not is_open(weekly, {}, at(FRI, 19, 59))
    assert not is_open(weekly, {}, at(FRI + timedelta(days=2), 1, 0))  # Saturday night: no hours


def test_24_hours_is_open_at_every_minute_of_the_week():
    weekly = rows("24h")
    start = at(FRI, 0, 0)
    assert all(is_open(weekly, {}, start + timedelta(minutes=7 * m)) for m in range(1440))


def test_exception_closes_a_day_and_its_spill():
    weekly = rows("daily 20:00-02:00")
    holiday = {FRI: (True, None, None)}
    assert not is_open(weekly, holiday, at(FRI, 21))
    assert not is_open(weekly, holiday, at(FRI + timedelta(days=1), 1))
    assert is_open(weekly, holiday, at(FRI, 1))  # Thursday's evening spill is untouched
    short_day = {FRI: (False, 600, 720)}
    assert is_open(weekly, short_day, at(FRI, 11))
    assert not is_open(weekly, short_day, at(FRI, 21))


def test_the_page_reads_the_same_in_utc_as_in_shanghai():
    weekly = rows("fri 09:00-10:00")
    utc = datetime(2026, 11, 27, 1, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Shanghai
    assert is_open(weekly, {}, utc)


intervals = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 1439), st.integers(1, 1440)).map(
        lambda t: (t[0], t[1], t[1] + t[2])
    ),
    max_size=4,
)
exceptions = st.dictionaries(
    st.sampled_from([FRI - timedelta(days=1), FRI, FRI + timedelta(days=1)]),
    st.one_of(
        st.just((True, None, None)),
        st.tuples(st.integers(0, 1439), st.integers(1, 1440)).map(
            lambda t: (False, t[0], t[0] + t[1])
        ),
    ),
    max_size=2,
)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    weekly=intervals,
    exc=exceptions,
    minute=st.integers(0, 2 * 1440 - 1),
)
def test_sql_filter_agrees_with_python(regions, weekly, exc, minute):
    """open_now in SQL (for filtering) and in Python (for a page) must never disagree."""
    center = make_center("测试中心")
    OpeningHours.objects.bulk_create(
        OpeningHours(center=center, weekday=w, open_minute=o, close_minute=c) for w, o, c in weekly
    )
    OpeningException.objects.bulk_create(
        OpeningException(center=center, date=d, closed=cl, open_minute=o, close_minute=c)
        for d, (cl, o, c) in exc.items()
    )
    moment = at(FRI, 0) + timedelta(minutes=minute)
    from django.db import connection

    from doorstep.centers import sql

    cond = sql.open_now(moment)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT COUNT(*) FROM centers_center c WHERE c.id = %s AND {cond.text}",
            [center.pk, *cond.params],
        )
        in_sql = cur.fetchone()[0] == 1
    assert in_sql == is_open(weekly, exc, moment) == center_status(center, at=moment).open
    center.delete()


def test_interval_dataclass_is_hashable():
    assert len({Interval(0, 1, 2), Interval(0, 1, 2)}) == 1
