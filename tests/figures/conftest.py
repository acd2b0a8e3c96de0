"""Helpers for figures tests: visits and service records written straight to the fact tables."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.conf import settings

from doorstep.visits.models import ServiceRecord, Visit

TZ = zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def add_visit(
    center,
    day: date,
    *,
    hour: int = 10,
    minute: int = 0,
    user=None,
    group: str = "adult",
    stay: int | None = None,
    estimated: bool = False,
    synthetic: bool = False,
) -> Visit:
    arrived = local(day, hour, minute)
    return Visit.objects.create(
        center=center,
        user=user,
        device="" if user else "d" * 8,
        group=group,
        channel="qr",
        arrived_at=arrived,
        day=day,
        left_at=arrived + timedelta(minutes=stay) if stay is not None else None,
        left_estimated=estimated,
        synthetic=synthetic,
    )


def add_service(center, day: date, service: str = "canteen_meal", count: int = 1) -> ServiceRecord:
    return ServiceRecord.objects.create(
        center=center, service=service, at=local(day, 12), day=day, count=count, source="quick"
    )


@pytest.fixture
def two_centers(regions):
    from tests.factories import make_center

    return make_center("甲中心", district="长宁区"), make_center("乙中心", district="徐汇区")
