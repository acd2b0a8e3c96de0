"""Lottery applications that arrive at once share one commit (core/commits.py), and every
applicant still gets the exact answer: the grouped ones after the commit that holds their
rows, the refused ones (too old, already applied, no name, a reused key) decided alone."""

from __future__ import annotations

import pytest

from doorstep.accounts.models import Person
from doorstep.activities.models import Registration, RegistrationRequest
from doorstep.activities.services import RegistrationError, register
from doorstep.activities.services.registration import APPLICATIONS
from doorstep.inbox.models import Notice
from tests.factories import make_account, make_activity, make_center
from tests.races import in_one_batch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def group():
    APPLICATIONS.batches = APPLICATIONS.grouped = APPLICATIONS.alone = 0
    yield APPLICATIONS
    assert not APPLICATIONS._leading and not APPLICATIONS._waiting


def _answer(outcome):
    if isinstance(outcome, RegistrationError):
        return outcome.code
    if isinstance(outcome, BaseException):
        raise outcome
    return (outcome.status, outcome.replayed, len(outcome.registrations))


def test_applications_at_once_are_one_commit_with_exact_answers(regions, group):
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, allocation="lottery", capacity=5, age_min=5, age_max=10)
    families = [make_account(children=(("多多", 2019),)) for _ in range(6)]
    too_old = make_account(children=(("大宝", 2005),))
    unnamed = make_account(children=(("小宝", 2019),))
    Person.objects.filter(account=unnamed, is_account_holder=False).update(name=" ")
    twice = families[0]  # the same child sent twice, with two keys, in one batch
    reused = families[1]  # a second request reusing the first one's key for another child
    Person.objects.create(account=reused, name="二宝", birth_year=2018)

    def child(account, name=None):
        people = Person.objects.filter(account=account, is_account_holder=False)
        return (people.get(name=name) if name else people.first()).pk

    requests = [(a, [child(a)], f"key-{i}") for i, a in enumerate(families)]
    requests += [
        (too_old, [child(too_old)], "key-old"),
        (twice, [child(twice)], "key-twice"),
        (unnamed, [child(unnamed)], "key-unnamed"),
        (reused, [child(reused, "二宝")], "key-1"),
    ]

    def call(account, people, key):
        return lambda: register(
            account=account, activity_id=activity.pk, person_ids=people, idempotency_key=key
        )

    outcomes = in_one_batch(group, [call(*r) for r in requests])
    answers = [_answer(o) for o in outcomes]
    assert answers[:6] == [("applied", False, 1)] * 6
    # Already applied: decided alone after the batch committed the first.
    assert answers[6:] == [
        "age_not_eligible",
        "already_registered",
        "name_required",
        ("applied", True, 1),
    ]
    assert group.batches == 1 and group.grouped == 6 and group.alone == 4
    applied = Registration.objects.filter(activity=activity, status="applied")
    assert applied.count() == 6
    assert sorted(applied.values_list("account_id", flat=True)) == sorted(a.pk for a in families)
    assert RegistrationRequest.objects.filter(activity_id=activity.pk).count() == 6
    # One notice per applicant, none for a refusal.
    entered = Notice.objects.filter(subject=f"activity:{activity.pk}")
    assert sorted(entered.values_list("user_id", flat=True)) == sorted(a.pk for a in families)


def test_first_come_is_not_grouped(regions, group):
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, capacity=2, audience="everyone")
    account = make_account()
    result = register(
        account=account, activity_id=activity.pk, person_ids=[account.people.first().pk]
    )
    assert result.status == "confirmed"
    assert group.batches == group.grouped == 0
