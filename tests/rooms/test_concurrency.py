"""Overlapping requests race for one space: exactly one wins, on SQLite and PostgreSQL.

The racers ask for different but overlapping times (and one for the buffer after another's
end), so neither a unique key nor an equal-time check could hide a missed overlap; an
activity's hold races with them under the same rule.
"""

from datetime import timedelta

import pytest

from doorstep.activities.services import ActivityInput, RegistrationError, create_activity
from doorstep.rooms import services
from doorstep.rooms.models import Booking
from doorstep.rooms.services import RoomError
from tests.factories import make_account
from tests.races import failures, run_at_once

from .conftest import NOW, THURSDAY, local

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 12


def _holding(space):
    return list(
        Booking.objects.filter(space=space, status__in=("pending", "confirmed", "checked_in"))
    )


def test_the_race_exists_without_the_rule(tower):
    """Without the lock and the database rule, a read-check-write lets several in."""
    space = tower["meeting"]

    def naive(barrier, i):
        s = local(THURSDAY, 14) + timedelta(minutes=5 * i)
        clash = Booking.objects.filter(
            space=space, starts_at__lt=s + timedelta(hours=1), blocked_until__gt=s
        ).exists()
        barrier.wait()
        return not clash

    outcomes = run_at_once(naive, [(i,) for i in range(RACERS)])
    assert outcomes.count(True) == RACERS  # every racer saw the time free


def test_overlapping_requests_one_wins(tower):
    space = tower["meeting"]
    people = [make_account(name=f"居民{i}") for i in range(RACERS)]

    def real(barrier, i, person):
        s = local(THURSDAY, 14) + timedelta(minutes=30 * (i % 3))  # 14:00, 14:30, 15:00
        barrier.wait()
        return services.book(
            by=person,
            space_id=space.pk,
            starts_at=s,
            ends_at=s + timedelta(hours=1),
            title="会",
            now=NOW,
        ).booking.pk

    outcomes = run_at_once(real, [(i, p) for i, p in enumerate(people)])
    assert not failures(outcomes, RoomError), outcomes
    won = [o for o in outcomes if isinstance(o, int)]
    assert len(won) == 1, outcomes
    assert {o.code for o in outcomes if isinstance(o, RoomError)} == {"slot_taken"}
    assert [b.pk for b in _holding(space)] == won


def test_the_buffer_counts_in_a_race(tower):
    """14:00–15:00 and 15:00–16:00 race; the room needs 15 minutes between: one wins."""
    space = tower["meeting"]
    people = [make_account(name=f"居民{i}") for i in range(RACERS)]

    def real(barrier, i, person):
        s = local(THURSDAY, 14 + i % 2)
        barrier.wait()
        return services.book(
            by=person,
            space_id=space.pk,
            starts_at=s,
            ends_at=s + timedelta(hours=1),
            title="会",
            now=NOW,
        ).booking.pk

    outcomes = run_at_once(real, [(i, p) for i, p in enumerate(people)])
    assert not failures(outcomes, RoomError), outcomes
    assert len([o for o in outcomes if isinstance(o, int)]) == 1
    assert len(_holding(space)) == 1


def test_an_activity_and_bookings_race_for_one_space(tower):
    space = tower["studio"]
    org = tower["company"].pk

    def booker(barrier):
        barrier.wait()
        return services.book(
            by=tower["company_user"],
            space_id=space.pk,
            starts_at=local(THURSDAY, 15),
            ends_at=local(THURSDAY, 17),
            title="直播",
            organization_id=org,
            now=NOW,
        ).booking.pk

    def lecture(barrier):
        data = ActivityInput(
            title="讲座",
            category="lecture",
            audience="everyone",
            starts_at=local(THURSDAY, 14),
            ends_at=local(THURSDAY, 16),
            capacity=50,
            registration_opens_at=NOW,
            registration_closes_at=local(THURSDAY, 12),
            space_id=space.pk,
        )
        barrier.wait()
        return create_activity(
            center_id=tower["center"].pk, by=tower["staff"], data=data, now=NOW
        ).pk

    outcomes = run_at_once(lambda b, f: f(b), [(booker,), (lecture,)] * 4)
    assert not failures(outcomes, RoomError, RegistrationError), outcomes
    assert len([o for o in outcomes if isinstance(o, int)]) == 1, outcomes
    assert len(_holding(space)) == 1
