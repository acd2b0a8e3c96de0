"""Waiting-list promotion against a reference model, over random sequences of actions."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.activities.models import Activity, Registration
from doorstep.activities.services import RegistrationError, cancel, register
from tests.factories import make_account, make_activity, make_center

pytestmark = pytest.mark.django_db

PEOPLE = 6
actions = st.lists(
    st.tuples(st.sampled_from(["register", "cancel"]), st.integers(0, PEOPLE - 1)),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(capacity=st.integers(1, 4), steps=actions)
def test_promotion_matches_first_come_model(regions, capacity, steps):
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, capacity=capacity, audience="everyone")
    accounts = [make_account() for _ in range(PEOPLE)]
    confirmed: list[int] = []  # the model: who holds a place
    queue: list[int] = []  # the model: who waits, in order
    for action, i in steps:
        account = accounts[i]
        if action == "register":
            if i in confirmed or i in queue:
                with pytest.raises(RegistrationError):
                    register(
                        account=account,
                        activity_id=activity.pk,
                        person_ids=[account.people.first().pk],
                    )
                continue
            result = register(
                account=account, activity_id=activity.pk, person_ids=[account.people.first().pk]
            )
            if not queue and len(confirmed) < capacity:
                confirmed.append(i)
                assert result.status == "confirmed"
            else:
                queue.append(i)
                assert result.status == "waitlisted"
        else:
            reg = Registration.objects.filter(
                activity=activity, account=account, status__in=["confirmed", "waitlisted"]
            ).first()
            if reg is None:
                assert i not in confirmed and i not in queue
                continue
            cancel(registration_id=reg.pk, by=account)
            if i in confirmed:
                confirmed.remove(i)
                while queue and len(confirmed) < capacity:
                    confirmed.append(queue.pop(0))
            else:
                queue.remove(i)
        # The database agrees with the model after every step.
        by_account = {a.pk: n for n, a in enumerate(accounts)}
        db_confirmed = {
            by_account[a]
            for a in Registration.objects.filter(activity=activity, status="confirmed").values_list(
                "account_id", flat=True
            )
        }
        db_queue = [
            by_account[a]
            for a in Registration.objects.filter(activity=activity, status="waitlisted")
            .order_by("queue_rank", "id")
            .values_list("account_id", flat=True)
        ]
        assert db_confirmed == set(confirmed)
        assert db_queue == queue
        taken = Activity.objects.get(pk=activity.pk).taken
        assert taken == len(confirmed) <= capacity
