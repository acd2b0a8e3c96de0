"""Visits by month: partitions on PostgreSQL, retention on both databases, rollups untouched."""

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from doorstep.figures.models import CenterDay
from doorstep.figures.services import apply_retention, rebuild_figures, retention_horizon
from doorstep.visits import partitions
from doorstep.visits.models import ServiceRecord, Visit
from tests.factories import make_center

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 12, 9, 10, 0))


def _visit(center, day: date, hour: int = 10) -> Visit:
    at = timezone.make_aware(datetime.combine(day, time(hour)))
    return Visit.objects.create(
        center=center, channel="qr", arrived_at=at, day=day, left_at=at + timedelta(hours=1)
    )


def _where(visit: Visit) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM visits_visit WHERE id = %s", [visit.pk])
        return cur.fetchone()[0]


def test_each_month_has_its_partition(regions):
    center = make_center("新华路街道党群服务中心", district="长宁区")
    today = timezone.localdate()
    v = _visit(center, today)
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            assert partitions.ensure(today) == 0  # plain tables, nothing to make
            cur.execute("SELECT type FROM sqlite_master WHERE name = 'visits_visit'")
            assert cur.fetchone()[0] == "table"
            return
        for table in partitions.TABLES:
            assert partitions.is_partitioned(cur, table)
    assert _where(v) == partitions.partition_name("visits_visit", today.replace(day=1))
    months = partitions.months("visits_visit")
    assert today.replace(day=1) in months
    assert partitions.add_months(today.replace(day=1), partitions.MONTHS_AHEAD) in months
    assert partitions.ensure(today) == 0  # nothing missing: idempotent
    # Next year's worker adds the month after the last one, once.
    later = partitions.add_months(today.replace(day=1), 1)
    assert partitions.ensure(later) == len(partitions.TABLES)  # one month more of each
    assert partitions.ensure(later) == 0
    # The model still reads and writes by id alone (the key is (id, day) on PostgreSQL).
    assert Visit.objects.get(pk=v.pk).center_id == center.pk
    Visit.objects.filter(pk=v.pk).update(left_estimated=True)
    v.refresh_from_db()
    assert v.left_estimated


def test_retention_drops_old_months_and_keeps_their_counts(regions, settings):
    settings.VISIT_RETENTION_MONTHS = 25
    center = make_center("新华路街道党群服务中心", district="长宁区")
    old_day, kept_day = date(2024, 10, 15), date(2024, 12, 2)  # before / inside 25 months
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in partitions.TABLES:
                partitions.ensure_table(cur, table, date(2024, 10, 1), NOW.date())
    old = _visit(center, old_day)
    kept = _visit(center, kept_day)
    ServiceRecord.objects.create(
        center=center,
        service="canteen_meal",
        at=old.arrived_at,
        day=old_day,
        count=3,
        source="quick",
    )
    rebuild_figures()
    assert CenterDay.objects.get(center=center, day=old_day).visits == 1

    dropped = apply_retention(now=NOW)
    assert dropped >= 1
    assert retention_horizon() == date(2024, 12, 1)
    assert not Visit.objects.filter(pk=old.pk).exists()
    assert not ServiceRecord.objects.filter(day=old_day).exists()
    assert Visit.objects.filter(pk=kept.pk).exists()
    if connection.vendor == "postgresql":
        assert date(2024, 10, 1) not in partitions.months("visits_visit")
        assert date(2024, 12, 1) in partitions.months("visits_visit")
    # The rollups stay, and a rebuild leaves the days before the horizon as they were.
    rebuild_figures()
    old_row = CenterDay.objects.get(center=center, day=old_day)
    assert old_row.visits == 1 and old_row.s_canteen_meal == 3
    assert CenterDay.objects.get(center=center, day=kept_day).visits == 1
    # Once a day at most.
    assert apply_retention(now=NOW + timedelta(hours=1)) == 0


def test_retention_can_be_off(regions, settings):
    settings.VISIT_RETENTION_MONTHS = 0
    center = make_center("新华路街道党群服务中心", district="长宁区")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in partitions.TABLES:
                partitions.ensure_table(cur, table, date(2020, 1, 1), NOW.date())
    v = _visit(center, date(2020, 1, 5))
    assert apply_retention(now=NOW) == 0
    assert Visit.objects.filter(pk=v.pk).exists()
    assert retention_horizon() is None
