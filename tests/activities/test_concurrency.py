"""Many people race for the last places at once (docs/concurrency.md).

First the test shows the race is real: a naive read-check-write, with every request reading
before any writes (a barrier makes the interleaving certain), hands out more places than
exist. Then the real service, under the same pressure, confirms exactly `capacity`.
"""

import pytest

from doorstep.activities.models import Activity, Registration, RegistrationStatus
from doorstep.activities.services import new_public_id, register
from tests.factories import make_account, make_activity, make_center
from tests.races import failures, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

CAPACITY = 5
RACERS = 16


def run_all(target, args_list):
    outcomes = run_at_once(target, args_list)
    assert not failures(outcomes), outcomes


@pytest.fixture
def race(regions):
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, capacity=CAPACITY, audience="everyone")
    accounts = [make_account() for _ in range(RACERS)]
    return activity, accounts


def naive_register(barrier, activity_id, account):
    """What the guard prevents: check the counter, then write, as separate steps."""
    activity = Activity.objects.get(pk=activity_id)
    barrier.wait()
    if activity.taken < activity.capacity:
        Activity.objects.filter(pk=activity_id).update(taken=activity.taken + 1)
        Registration.objects.create(
            public_id=new_public_id(),
            activity_id=activity_id,
            person=account.people.first(),
            account=account,
            status=RegistrationStatus.CONFIRMED,
        )


def guarded_register(barrier, activity_id, account):
    person = account.people.first()
    barrier.wait()
    register(account=account, activity_id=activity_id, person_ids=[person.pk])


def test_the_race_exists_without_the_guard(race):
    activity, accounts = race
    run_all(naive_register, [(activity.pk, a) for a in accounts])
    confirmed = Registration.objects.filter(activity=activity, status="confirmed").count()
    assert confirmed > CAPACITY  # every racer saw a free place


def test_the_guard_confirms_exactly_capacity(race):
    activity, accounts = race
    run_all(guarded_register, [(activity.pk, a) for a in accounts])
    regs = Registration.objects.filter(activity=activity)
    assert regs.filter(status="confirmed").count() == CAPACITY
    assert regs.filter(status="waitlisted").count() == RACERS - CAPACITY
    activity.refresh_from_db()
    assert activity.taken == CAPACITY
