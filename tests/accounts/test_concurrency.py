"""Many requests for one number at once: the per-phone limit must hand out one code.

First a naive check-then-write, with a barrier between the check and the write, shows the
race is real; then the service, under the same pressure, sends exactly one code. The same
holds for a code entered on two devices at once: it signs in once.
"""

import pytest
from django.utils import timezone

from doorstep.accounts import services
from doorstep.accounts.models import PhoneCode, User
from doorstep.accounts.services import AccountError, request_code, verify_code
from tests.races import failures, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+8613812345678"
RACERS = 12


def run_all(target, count: int) -> list:
    """Outcomes with an AccountError as its code; any other exception fails the test."""
    outcomes = run_at_once(target, [()] * count)
    assert not failures(outcomes, AccountError), outcomes
    return [o.code if isinstance(o, AccountError) else o for o in outcomes]


def test_the_race_exists_without_the_guard():
    now = timezone.now()

    def naive(barrier):
        services._check_code_limits(phone=PHONE, ip=None, now=now)
        barrier.wait()
        return PhoneCode.objects.create(
            phone=PHONE, code_hash="x" * 64, created_at=now, expires_at=now
        )

    run_all(naive, RACERS)
    assert PhoneCode.objects.filter(phone=PHONE).count() == RACERS


def test_one_code_however_many_ask_at_once(outbox):
    def ask(barrier):
        barrier.wait()
        return request_code(phone=PHONE, ip="203.0.113.5")

    results = run_all(ask, RACERS)
    assert sum(isinstance(r, PhoneCode) for r in results) == 1
    assert results.count("rate_limited") == RACERS - 1
    assert PhoneCode.objects.filter(phone=PHONE).count() == 1
    assert len(outbox) == 1


def test_a_code_signs_in_once_however_many_use_it(last_code):
    request_code(phone=PHONE, ip=None)
    code = last_code()

    def use(barrier):
        barrier.wait()
        return verify_code(phone=PHONE, code=code, ip=None)

    results = run_all(use, RACERS)
    assert sum(isinstance(r, User) for r in results) == 1
    assert results.count("code_expired") == RACERS - 1
    assert User.objects.filter(phone=PHONE).count() == 1
