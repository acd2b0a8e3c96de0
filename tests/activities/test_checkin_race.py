"""A staff cancellation and the door's scan of the same ticket, at the same moment.

The place a cancellation frees goes at once to the next person waiting, so a scan that read
the registration before the cancellation and wrote after it would confirm two people for one
place. First the race is shown to be real (a scan that reads, then writes unguarded); then the
real door check-in, with the cancellation committed between its first read and its write,
answers "cancelled"; then many scans and cancellations at once leave exactly `capacity`.
"""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from doorstep.activities import checkin, tickets
from doorstep.activities.models import Activity, Registration, RegistrationStatus
from doorstep.activities.services import cancel, register
from tests.factories import make_account, make_activity, make_center, make_staff
from tests.races import failures, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

CAPACITY = 4


@pytest.fixture
def door(regions):
    """A full activity tomorrow at 10:00 with as many waiting as hold places; the door at 09:30."""
    local_now = timezone.localtime()
    starts_at = (local_now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(
        center,
        audience="everyone",
        capacity=CAPACITY,
        starts_at=starts_at,
        registration_closes_at=starts_at - timedelta(hours=1),
    )
    regs = []
    for _ in range(2 * CAPACITY):
        account = make_account()
        result = register(
            account=account,
            activity_id=activity.pk,
            person_ids=[account.people.first().pk],
            now=local_now,
        )
        regs.append(result.registrations[0])
    assert [r.status for r in regs] == ["confirmed"] * CAPACITY + ["waitlisted"] * CAPACITY
    return {
        "activity": activity,
        "confirmed": regs[:CAPACITY],
        "staff": make_staff(center=center),
        "now": starts_at - timedelta(minutes=30),
    }


def holding(activity) -> int:
    """People the database says hold a place."""
    return Registration.objects.filter(
        activity=activity, status__in=[RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED]
    ).count()


def test_the_race_exists_without_the_lock(door):
    """What the lock prevents: read the status, then write `confirmed` without re-checking."""
    reg, staff, now = door["confirmed"][0], door["staff"], door["now"]
    cancelled = threading.Event()

    def naive_scan(barrier):
        status = Registration.objects.get(pk=reg.pk).status
        barrier.wait()
        cancelled.wait(timeout=20)
        if status == RegistrationStatus.CONFIRMED:
            Registration.objects.filter(pk=reg.pk, checked_in_at__isnull=True).update(
                checked_in_at=now, status=RegistrationStatus.CONFIRMED
            )

    def staff_cancel(barrier):
        barrier.wait()
        cancel(registration_id=reg.pk, by=staff, reason="家中有事", as_staff=True, now=now)
        cancelled.set()

    assert failures(run_at_once(lambda b, f: f(b), [(naive_scan,), (staff_cancel,)])) == []
    assert holding(door["activity"]) == CAPACITY + 1  # two people for one place


def test_a_cancellation_between_read_and_write_is_seen(door, monkeypatch):
    """The real check-in, with the cancellation committed after the scan's first read."""
    reg, staff, now = door["confirmed"][0], door["staff"], door["now"]
    token = tickets.token_for(reg)
    read, cancelled = threading.Event(), threading.Event()
    real_can_manage = checkin.can_manage

    def slow_can_manage(user, center_id):
        # The scan has read the ticket's registration; let the cancellation commit now.
        read.set()
        cancelled.wait(timeout=20)
        return real_can_manage(user, center_id)

    monkeypatch.setattr(checkin, "can_manage", slow_can_manage)

    def scan(_barrier):
        return checkin.check_in(token=token, nonce="race-scan-0001", staff=staff, now=now)

    def staff_cancel(_barrier):
        read.wait(timeout=20)
        try:
            return cancel(
                registration_id=reg.pk, by=staff, reason="家中有事", as_staff=True, now=now
            )
        finally:
            cancelled.set()

    outcomes = run_at_once(lambda b, f: f(b), [(scan,), (staff_cancel,)])
    assert failures(outcomes) == []
    assert outcomes[0].code == checkin.CheckInCode.CANCELLED
    assert Registration.objects.get(pk=reg.pk).status == RegistrationStatus.CANCELLED
    assert Registration.objects.get(pk=reg.pk).checked_in_at is None
    assert holding(door["activity"]) == CAPACITY
    assert Activity.objects.get(pk=door["activity"].pk).taken == CAPACITY


def test_scans_and_cancellations_at_once_keep_exactly_capacity(door):
    staff, now = door["staff"], door["now"]

    def scan(barrier, reg, n):
        barrier.wait()
        token = tickets.token_for(reg)
        return checkin.check_in(token=token, nonce=f"race-many-{n:04d}", staff=staff, now=now)

    def staff_cancel(barrier, reg, _n):
        barrier.wait()
        return cancel(registration_id=reg.pk, by=staff, reason="家中有事", as_staff=True, now=now)

    pairs = [(f, reg, n) for n, reg in enumerate(door["confirmed"]) for f in (scan, staff_cancel)]
    outcomes = run_at_once(lambda b, f, reg, n: f(b, reg, n), pairs)
    assert failures(outcomes) == []
    answers = {o.code for o in outcomes[0::2]}
    assert answers <= {checkin.CheckInCode.WELCOME, checkin.CheckInCode.CANCELLED}
    activity = Activity.objects.get(pk=door["activity"].pk)
    assert holding(activity) == activity.taken == CAPACITY
    # Every welcome was a place held at that moment: its registration was cancelled after.
    for o, (_f, reg, _n) in zip(outcomes[0::2], pairs[0::2], strict=True):
        stored = Registration.objects.get(pk=reg.pk)
        assert stored.status == RegistrationStatus.CANCELLED
        assert (stored.checked_in_at is not None) == (o.code == checkin.CheckInCode.WELCOME)
