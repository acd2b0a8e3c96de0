"""Concurrent double scans (docs/visits.md): a phone that sends the same scan several times
at once, or many phones of one account, must still make one visit.

First the race is shown to be real with a naive check-then-insert (a barrier makes every
request read before any writes); then the real service under the same pressure makes one.
"""

import pytest
from django.utils import timezone

from doorstep.visits import codes, services
from doorstep.visits.models import Visit
from tests.factories import make_center
from tests.races import failures, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)
RACERS = 12


def run_all(target, n):
    outcomes = run_at_once(target, [()] * n)
    assert not failures(outcomes), outcomes
    return outcomes


@pytest.fixture
def center(regions):
    return make_center("嘉兴路街道第一分站党群服务站", district="虹口区")


def test_naive_check_then_insert_double_counts(center):
    device = codes.device_hash("naive-device-000000")

    def naive(barrier):
        now = timezone.now()
        seen = Visit.objects.filter(center=center, device=device).exists()
        barrier.wait()
        if not seen:
            Visit.objects.create(
                center=center, device=device, channel="qr", arrived_at=now, day=now.date()
            )

    run_all(naive, RACERS)
    assert Visit.objects.filter(center=center, device=device).count() > 1


def test_concurrent_scans_count_once(center):
    device = codes.device_hash("racing-device-000000")
    code = codes.today_code(center.pk)

    def real(barrier):
        barrier.wait()
        return services.check_in(center_id=center.pk, code=code, device=device).counted

    results = run_all(real, RACERS)
    assert Visit.objects.filter(center=center, device=device).count() == 1
    assert sorted(results) == [False] * (RACERS - 1) + [True]
