from datetime import timedelta

import pytest
from django.utils import timezone

from doorstep.activities.models import (
    Activity,
    NoShowPolicy,
    Registration,
    RegistrationStatus,
)
from doorstep.activities.services import (
    RegistrationError,
    accept_offer,
    cancel,
    expire_offers,
    register,
)
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def center(regions):
    return make_center("浦东新区东明路街道社区党群服务中心", district="浦东新区")


def people(account):
    return list(account.people.values_list("id", flat=True))


def holder(account):
    return [account.people.get(is_account_holder=True).pk]


def err(fn, **kw):
    with pytest.raises(RegistrationError) as exc:
        fn(**kw)
    return exc.value.code


def test_first_come_confirms_until_full_then_waitlists_in_order(center):
    activity = make_activity(center, capacity=2, audience="everyone")
    accounts = [make_account() for _ in range(4)]
    results = [register(account=a, activity_id=activity.pk, person_ids=holder(a)) for a in accounts]
    assert [r.status for r in results] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    activity.refresh_from_db()
    assert activity.taken == 2


def test_without_waitlist_a_full_activity_says_full(center):
    activity = make_activity(center, capacity=1, waitlist_enabled=False, audience="everyone")
    a, b = make_account(), make_account()
    register(account=a, activity_id=activity.pk, person_ids=holder(a))
    assert err(register, account=b, activity_id=activity.pk, person_ids=holder(b)) == "full"
    assert Registration.objects.filter(activity=activity).count() == 1


def test_a_parent_and_child_get_places_together_or_not_at_all(center):
    activity = make_activity(center, capacity=3, age_min=4, age_max=8)
    parent = make_account(children=(("明明", timezone.now().year - 5),))
    result = register(account=parent, activity_id=activity.pk, person_ids=people(parent))
    assert [r.status for r in result.registrations] == ["confirmed", "confirmed"]
    assert len({r.party for r in result.registrations}) == 1
    other = make_account(children=(("多多", timezone.now().year - 7),))
    result = register(account=other, activity_id=activity.pk, person_ids=people(other))
    assert [r.status for r in result.registrations] == ["waitlisted", "waitlisted"]
    activity.refresh_from_db()
    assert activity.taken == 2  # one place left, but never half a family


def test_one_registration_per_person(center):
    activity = make_activity(center, audience="everyone")
    a = make_account()
    register(account=a, activity_id=activity.pk, person_ids=holder(a))
    code = err(register, account=a, activity_id=activity.pk, person_ids=holder(a))
    assert code == "already_registered"


def test_idempotency_key_returns_the_same_places(center):
    activity = make_activity(center, capacity=5, audience="everyone")
    a = make_account()
    first = register(account=a, activity_id=activity.pk, person_ids=holder(a), idempotency_key="k1")
    again = register(account=a, activity_id=activity.pk, person_ids=holder(a), idempotency_key="k1")
    assert again.replayed and not first.replayed
    assert [r.pk for r in again.registrations] == [r.pk for r in first.registrations]
    activity.refresh_from_db()
    assert activity.taken == 1
    other = make_activity(center, audience="everyone")
    code = err(
        register, account=a, activity_id=other.pk, person_ids=holder(a), idempotency_key="k1"
    )
    assert code == "idempotency_key_reused"


def test_window_and_status(center):
    now = timezone.now()
    early = make_activity(center, registration_opens_at=now + timedelta(hours=1), now=now)
    a = make_account()
    assert err(register, account=a, activity_id=early.pk, person_ids=holder(a)) == "not_open"
    late = make_activity(
        center,
        registration_opens_at=now - timedelta(days=2),
        registration_closes_at=now - timedelta(minutes=1),
    )
    assert err(register, account=a, activity_id=late.pk, person_ids=holder(a)) == "closed"
    draft = make_activity(center, publish=False)
    assert err(register, account=a, activity_id=draft.pk, person_ids=holder(a)) == "not_found"


def test_household_and_weekly_limits_and_ages(center):
    this_year = timezone.now().year
    activity = make_activity(center, places_per_household=2, age_min=4, age_max=8)
    family = make_account(children=(("大宝", this_year - 6), ("二宝", this_year - 5)))
    code = err(register, account=family, activity_id=activity.pk, person_ids=people(family))
    assert code == "limit_reached"
    teen = make_account(children=(("小明", this_year - 14),))
    code = err(register, account=teen, activity_id=activity.pk, person_ids=people(teen))
    assert code == "age_not_eligible"
    weekly = [
        make_activity(center, audience="everyone", weekly_limit_per_person=1) for _ in range(2)
    ]
    a = make_account()
    register(account=a, activity_id=weekly[0].pk, person_ids=holder(a))
    assert err(register, account=a, activity_id=weekly[1].pk, person_ids=holder(a)) == (
        "limit_reached"
    )


def test_not_in_household(center):
    activity = make_activity(center, audience="everyone")
    a, b = make_account(), make_account()
    code = err(register, account=a, activity_id=activity.pk, person_ids=holder(b))
    assert code == "not_in_household"


def test_cancel_promotes_the_next_in_line(center):
    activity = make_activity(center, capacity=1, audience="everyone")
    a, b, c = make_account(), make_account(), make_account()
    ra = register(account=a, activity_id=activity.pk, person_ids=holder(a)).registrations[0]
    rb = register(account=b, activity_id=activity.pk, person_ids=holder(b)).registrations[0]
    rc = register(account=c, activity_id=activity.pk, person_ids=holder(c)).registrations[0]
    cancel(registration_id=ra.pk, by=a)
    rb.refresh_from_db()
    rc.refresh_from_db()
    assert (rb.status, rc.status) == ("confirmed", "waitlisted")
    activity.refresh_from_db()
    assert activity.taken == 1
    cancel(registration_id=rb.pk, by=b)
    rc.refresh_from_db()
    assert rc.status == "confirmed"
    cancel(registration_id=rc.pk, by=c)
    activity.refresh_from_db()
    assert activity.taken == 0


def test_offers_expire_and_move_on(center):
    now = timezone.now()
    activity = make_activity(center, capacity=1, audience="everyone", offer_hours=2)
    a, b, c = make_account(), make_account(), make_account()
    ra = register(account=a, activity_id=activity.pk, person_ids=holder(a)).registrations[0]
    rb = register(account=b, activity_id=activity.pk, person_ids=holder(b)).registrations[0]
    rc = register(account=c, activity_id=activity.pk, person_ids=holder(c)).registrations[0]
    cancel(registration_id=ra.pk, by=a, now=now)
    rb.refresh_from_db()
    assert rb.status == "offered"
    assert expire_offers(now=now + timedelta(hours=1)) == 0
    assert expire_offers(now=now + timedelta(hours=3)) == 1
    assert expire_offers(now=now + timedelta(hours=3)) == 0  # idempotent
    rb.refresh_from_db()
    rc.refresh_from_db()
    assert rb.status == "cancelled" and rc.status == "offered"
    accept_offer(registration_id=rc.pk, account=c, now=now + timedelta(hours=3, minutes=5))
    rc.refresh_from_db()
    assert rc.status == "confirmed"
    activity.refresh_from_db()
    assert activity.taken == 1


def test_resident_cancel_deadline_but_staff_any_time(center):
    now = timezone.now()
    activity = make_activity(center, audience="everyone", cancel_deadline=now + timedelta(hours=1))
    a = make_account()
    reg = register(account=a, activity_id=activity.pk, person_ids=holder(a)).registrations[0]
    later = now + timedelta(hours=2)
    assert err(cancel, registration_id=reg.pk, by=a, now=later) == "cancel_deadline_passed"
    outsider = make_staff(center=make_center("别的中心", district="徐汇区"))
    assert err(cancel, registration_id=reg.pk, by=outsider, as_staff=True, reason="x") == (
        "not_found"
    )
    staff = make_staff(center=center)
    assert err(cancel, registration_id=reg.pk, by=staff, as_staff=True, now=later) == (
        "reason_required"
    )
    cancel(registration_id=reg.pk, by=staff, as_staff=True, reason="场地维修", now=later)
    reg.refresh_from_db()
    assert reg.status == "cancelled" and reg.cancel_reason == "场地维修"
    # Someone else's registration is simply not found.
    b = make_account()
    reg2 = register(account=b, activity_id=activity.pk, person_ids=holder(b)).registrations[0]
    assert err(cancel, registration_id=reg2.pk, by=a) == "not_found"


def test_no_show_policy_blocks_first_come(center):
    NoShowPolicy.objects.create(center=center, threshold=2, window_days=90, block_days=14)
    now = timezone.now()
    a = make_account()
    for days_ago in (20, 10):
        past = make_activity(
            center,
            audience="everyone",
            starts_at=now - timedelta(days=days_ago),
            registration_opens_at=now - timedelta(days=days_ago + 5),
            registration_closes_at=now - timedelta(days=days_ago, hours=1),
            now=now - timedelta(days=days_ago + 3),
        )
        Registration.objects.create(
            public_id=f"p{days_ago}",
            activity=past,
            person=a.people.first(),
            account=a,
            status=RegistrationStatus.NO_SHOW,
        )
    activity = make_activity(center, audience="everyone")
    assert err(register, account=a, activity_id=activity.pk, person_ids=holder(a)) == (
        "blocked_no_show"
    )
    # A block ends 14 days after the latest no-show.
    assert (
        register(
            account=a, activity_id=activity.pk, person_ids=holder(a), now=now + timedelta(days=5)
        ).status
        == "confirmed"
    )
    assert Activity.objects.get(pk=activity.pk).taken == 1


def test_a_family_moves_up_together_and_nobody_jumps_the_line(center):
    this_year = timezone.now().year
    activity = make_activity(center, capacity=2, age_min=4, age_max=10)
    first = make_account(children=(("甲", this_year - 6),))
    family = make_account(children=(("乙", this_year - 6),))
    single = make_account(children=(("丙", this_year - 6),))
    r1 = register(account=first, activity_id=activity.pk, person_ids=people(first))
    r2 = register(account=family, activity_id=activity.pk, person_ids=people(family))
    assert r1.status == "confirmed" and r2.status == "waitlisted"
    # One place frees (the first family's child cancels): the waiting family needs two.
    child = [r for r in r1.registrations if not r.person.is_account_holder][0]
    cancel(registration_id=child.pk, by=first)
    assert set(Registration.objects.filter(account=family).values_list("status", flat=True)) == {
        "waitlisted"
    }
    # A newcomer who would fit in the free place does not jump the waiting family.
    kid = [p for p in single.people.all() if not p.is_account_holder][0]
    r3 = register(account=single, activity_id=activity.pk, person_ids=[kid.pk])
    assert r3.status == "waitlisted"
    # The second place frees: the family moves up as a whole, in order.
    parent = [r for r in r1.registrations if r.person.is_account_holder][0]
    cancel(registration_id=parent.pk, by=first)
    assert set(Registration.objects.filter(account=family).values_list("status", flat=True)) == {
        "confirmed"
    }
    assert set(Registration.objects.filter(account=single).values_list("status", flat=True)) == {
        "waitlisted"
    }
    activity.refresh_from_db()
    assert activity.taken == 2


def test_accepting_an_expired_offer_passes_the_place_on(center):
    now = timezone.now()
    activity = make_activity(center, capacity=1, audience="everyone", offer_hours=1)
    a, b, c = make_account(), make_account(), make_account()
    ra = register(account=a, activity_id=activity.pk, person_ids=holder(a)).registrations[0]
    rb = register(account=b, activity_id=activity.pk, person_ids=holder(b)).registrations[0]
    rc = register(account=c, activity_id=activity.pk, person_ids=holder(c)).registrations[0]
    cancel(registration_id=ra.pk, by=a, now=now)
    late = now + timedelta(hours=2)
    assert err(accept_offer, registration_id=rb.pk, account=b, now=late) == "offer_expired"
    rb.refresh_from_db()
    rc.refresh_from_db()
    assert rb.status == "cancelled" and rc.status == "offered"


def test_waiting_positions_in_one_query(center, django_assert_num_queries):
    from doorstep.activities.selectors import registrations_of, waitlist_positions

    activity = make_activity(center, capacity=1, audience="everyone")
    accounts = [make_account() for _ in range(4)]
    for a in accounts:
        register(account=a, activity_id=activity.pk, person_ids=holder(a))
    # A drawn rank on the last one puts it at the head of the line, as promotion would.
    last = Registration.objects.get(account=accounts[3])
    Registration.objects.filter(pk=last.pk).update(queue_rank=1)
    regs = [r for a in accounts for r in registrations_of(a)]
    with django_assert_num_queries(1):
        positions = waitlist_positions(regs)
    by_account = {r.account_id: positions.get(r.pk) for r in regs}
    assert [by_account[a.pk] for a in accounts] == [None, 2, 3, 1]
