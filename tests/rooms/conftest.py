from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from doorstep.accounts.models import Membership, Organization
from doorstep.centers.models import OpeningHours
from doorstep.rooms.models import Space
from tests.factories import make_account, make_center, make_staff


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


# Every test runs at a pinned instant: Monday 2026-12-07 09:00 in Shanghai.
TODAY = date(2026, 12, 7)
NOW = local(TODAY, 9)
THURSDAY = date(2026, 12, 10)


@pytest.fixture
def tower(regions):
    return make_tower()


def make_tower() -> dict:
    """苏河湾's center (open 08:00–21:00 every day) with 青年驿家 (companies and groups book it,
    staff approve) and a meeting room (residents book it at once, 15 minutes' buffer), its
    staff, a resident, and a confirmed company with one member."""
    center = make_center("苏河湾楼宇党群服务中心", district="静安区", level="office_park")
    OpeningHours.objects.bulk_create(
        [
            OpeningHours(center=center, weekday=d, open_minute=480, close_minute=1260)
            for d in range(7)
        ]
    )
    studio = Space.objects.create(
        center=center,
        name="青年驿家",
        kind="studio",
        capacity=20,
        equipment=["livestream"],
        for_residents=False,
        for_groups=True,
        for_companies=True,
        approval="staff",
        source="article",
    )
    meeting = Space.objects.create(
        center=center,
        name="会议室",
        kind="meeting_room",
        capacity=12,
        equipment=["projector"],
        buffer_minutes=15,
        source="synthetic",
    )
    staff = make_staff(center=center)
    resident = make_account(name="居民甲")
    company_user = make_account(name="公司职员")
    company = Organization.objects.create(
        name="某科技公司", kind="company", center=center, status="confirmed", invite_code="ABCD1234"
    )
    Membership.objects.create(organization=company, user=company_user, is_manager=True)
    return {
        "center": center,
        "studio": studio,
        "meeting": meeting,
        "staff": staff,
        "resident": resident,
        "company_user": company_user,
        "company": company,
    }


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return local(day, hour, minute)


def span(day: date, h1: int, h2: int, m1: int = 0, m2: int = 0) -> dict:
    return {"starts_at": local(day, h1, m1), "ends_at": local(day, h2, m2)}


__all__ = ["NOW", "THURSDAY", "TODAY", "at", "local", "span", "timedelta"]


def booked(t: dict, who: str = "resident", space: str = "meeting", hours=(14, 15), **kw):
    """A booking made through the service on Thursday at `hours` (as of NOW unless `now`)."""
    from doorstep.rooms import services

    day = kw.pop("day", THURSDAY)
    return services.book(
        by=t[who],
        space_id=t[space].pk,
        title=kw.pop("title", "读书会"),
        now=kw.pop("now", NOW),
        starts_at=local(day, *(hours[0] if isinstance(hours[0], tuple) else (hours[0],))),
        ends_at=local(day, *(hours[1] if isinstance(hours[1], tuple) else (hours[1],))),
        **kw,
    ).booking
