"""Many people order the last portions at once: never oversold (docs/meals.md).

First the race is shown to be real with a naive read-check-write (a barrier makes every
request read before any writes), then the real service under the same pressure sells exactly
the portions there are, on SQLite and PostgreSQL.
"""

import pytest

from doorstep.meals.models import MenuItem, Order
from doorstep.meals.services import MealError, place_order
from tests.factories import make_account
from tests.races import failures, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

PORTIONS = 3  # the fixture's set meal
RACERS = 16


def test_the_race_exists_without_the_guard(kitchen):
    item = kitchen["set"]

    def naive(barrier):
        seen = MenuItem.objects.get(pk=item.pk)
        barrier.wait()
        if seen.taken < seen.portions:
            MenuItem.objects.filter(pk=item.pk).update(taken=seen.taken + 1)
            return True
        return False

    outcomes = run_at_once(naive, [()] * RACERS)
    assert not failures(outcomes), outcomes
    assert outcomes.count(True) > PORTIONS  # every racer saw a portion left


def test_the_guard_sells_exactly_the_portions(kitchen):
    accounts = [make_account(name=f"居民{i}") for i in range(RACERS)]

    def real(barrier, account):
        person = account.people.get()
        barrier.wait()
        return place_order(
            account=account,
            menu_id=kitchen["menu"].pk,
            person_id=person.pk,
            lines=[(kitchen["set"].pk, 1), (kitchen["soup"].pk, 1)],
            idempotency_key=f"k-{account.pk}",
            now=kitchen["before"],
        ).order.pk

    outcomes = run_at_once(real, [(a,) for a in accounts])
    assert not failures(outcomes, MealError), outcomes
    refused = [o for o in outcomes if isinstance(o, MealError)]
    assert {e.code for e in refused} == {"sold_out"}
    assert len(refused) == RACERS - PORTIONS
    item = MenuItem.objects.get(pk=kitchen["set"].pk)
    assert item.taken == PORTIONS
    assert Order.objects.filter(menu=kitchen["menu"], status="placed").count() == PORTIONS
    # The unlimited soup was kept only for the orders that got the set.
    assert MenuItem.objects.get(pk=kitchen["soup"].pk).taken == PORTIONS
