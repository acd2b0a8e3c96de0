"""Volunteers racing for a shift's last places: never more than the places, on SQLite and
PostgreSQL; a swap racing a sign-up for the same shift keeps the count too."""

import pytest

from doorstep.volunteers import services
from doorstep.volunteers.models import Signup
from tests.races import failures, run_at_once

from .conftest import NOW, cleared, make_hall

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hall(regions):
    return make_hall()


def test_twelve_volunteers_for_three_places(hall):
    people = [cleared(hall, f"志愿者{i}") for i in range(12)]

    def sign(barrier, user):
        barrier.wait()
        return services.sign_up(user=user, shift_id=hall["shift"].pk, now=NOW)

    outcomes = run_at_once(sign, [(u,) for u in people])
    assert failures(outcomes) == []
    statuses = sorted(s.status for s in outcomes)
    assert statuses.count("confirmed") == 3 and statuses.count("waitlisted") == 9
    assert Signup.objects.filter(shift=hall["shift"], status="confirmed").count() == 3


def test_the_same_volunteer_tapping_twice_at_once(hall):
    user = hall["vol"]

    def sign(barrier):
        barrier.wait()
        return services.sign_up(user=user, shift_id=hall["shift"].pk, now=NOW)

    outcomes = run_at_once(sign, [(), (), ()])
    assert failures(outcomes) == []
    assert len({s.pk for s in outcomes}) == 1
    assert Signup.objects.filter(shift=hall["shift"]).count() == 1
