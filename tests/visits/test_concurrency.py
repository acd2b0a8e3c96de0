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
from tests.races import failures, in_one_batch, run_at_once

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


def test_walk_ins_at_once_share_one_commit_and_each_is_counted_once(center):
    """Walk-ins arriving together are written in one transaction (core/commits.py), each
    answered after it; a phone that sends its scan twice in the same batch is one visit."""
    code = codes.today_code(center.pk)
    group = services.WALK_INS
    group.batches = group.grouped = group.alone = 0
    devices = [codes.device_hash(f"queue-at-the-door-{i:04d}") for i in range(6)]

    def scan(device):
        return lambda: services.check_in(center_id=center.pk, code=code, device=device).counted

    outcomes = in_one_batch(group, [scan(d) for d in devices] + [scan(devices[2])])
    assert outcomes == [True] * 6 + [False]
    assert group.batches == 1 and group.grouped == 7
    for device in devices:
        assert Visit.objects.filter(center=center, device=device).count() == 1
