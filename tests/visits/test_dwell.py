from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import override_settings

from doorstep.centers.models import OpeningHours
from doorstep.visits import codes, services
from doorstep.visits.models import Visit
from tests.visits.conftest import DEVICE

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def scan(center, at, device=DEVICE):
    return services.check_in(
        center_id=center.pk,
        code=codes.code_for(center.pk, at.date()),
        device=codes.device_hash(device),
        now=at,
    ).visit


def test_check_out_gives_dwell_and_is_idempotent(place):
    c = place["center"]
    at = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
    v = scan(c, at)
    left = services.check_out(
        visit_id=v.pk, device=codes.device_hash(DEVICE), now=at + timedelta(minutes=47)
    )
    assert left.left_at - left.arrived_at == timedelta(minutes=47)
    assert not left.left_estimated
    again = services.check_out(
        visit_id=v.pk, device=codes.device_hash(DEVICE), now=at + timedelta(hours=2)
    )
    assert again.left_at == left.left_at


@override_settings(VISIT_DEFAULT_DWELL_MINUTES=90)
def test_open_visits_close_after_the_default_dwell_estimated(place):
    c = place["center"]
    at = datetime(2026, 3, 2, 9, 0, tzinfo=SH)
    early = scan(c, at)
    late = scan(c, at + timedelta(minutes=60), device=DEVICE + "2")
    assert services.close_open_visits(now=at + timedelta(minutes=89)) == 0
    assert services.close_open_visits(now=at + timedelta(minutes=100)) == 1
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.left_at == at + timedelta(minutes=90) and early.left_estimated
    assert late.left_at is None
    # Idempotent: nothing left to close, nothing changes.
    assert services.close_open_visits(now=at + timedelta(minutes=100)) == 0


@override_settings(VISIT_DEFAULT_DWELL_MINUTES=120)
def test_closing_time_caps_the_estimate(place):
    c = place["center"]
    monday = datetime(2026, 3, 2, 20, 30, tzinfo=SH)  # a Monday
    OpeningHours.objects.create(center=c, weekday=0, open_minute=9 * 60, close_minute=21 * 60)
    v = scan(c, monday)
    assert services.close_open_visits(now=monday + timedelta(hours=3)) == 1
    v.refresh_from_db()
    assert v.left_at == monday.replace(hour=21, minute=0) and v.left_estimated


def test_worker_closes_visits_on_time(place):
    c = place["center"]
    at = datetime(2020, 3, 2, 9, 0, tzinfo=SH)
    Visit.objects.create(center=c, channel="qr", arrived_at=at, day=at.date(), device="d" * 32)
    call_command("worker", "--once")
    v = Visit.objects.get()
    assert v.left_at is not None and v.left_estimated


def test_estimated_leaving_rule():
    arrived = datetime(2026, 3, 2, 10, 0, tzinfo=SH)
    dwell = timedelta(minutes=120)
    assert services.estimated_leaving(arrived, None, dwell) == arrived + dwell
    assert services.estimated_leaving(arrived, [(540, 660)], dwell) == arrived.replace(hour=11)
    # Closing after the default dwell does not lengthen it; arriving outside hours keeps it.
    assert services.estimated_leaving(arrived, [(540, 1260)], dwell) == arrived + dwell
    assert services.estimated_leaving(arrived, [(900, 1260)], dwell) == arrived + dwell


def test_the_tally_page_closes_its_centers_stale_visits(client, place):
    at = datetime(2020, 3, 2, 9, 0, tzinfo=SH)
    mine = Visit.objects.create(
        center=place["center"], channel="qr", arrived_at=at, day=at.date(), device="d" * 32
    )
    elsewhere = Visit.objects.create(
        center=place["other"], channel="qr", arrived_at=at, day=at.date(), device="e" * 32
    )
    client.force_login(place["staff"])
    client.get(f"/staff/visits/centers/{place['center'].pk}/tally")
    mine.refresh_from_db()
    elsewhere.refresh_from_db()
    assert mine.left_estimated and mine.left_at is not None
    assert elsewhere.left_at is None
