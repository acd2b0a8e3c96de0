import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from doorstep.accounts import services
from doorstep.accounts.models import Person, PhoneCode, User
from doorstep.accounts.services import AccountError, request_code, verify_code

from .conftest import tables_containing

pytestmark = pytest.mark.django_db

PHONE = "+8613812345678"
IP = "203.0.113.7"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def error_of(fn, **kw) -> AccountError:
    with pytest.raises(AccountError) as err:
        fn(**kw)
    return err.value


def test_first_sign_in_creates_account_with_holder(last_code, outbox):
    request_code(phone="138 1234 5678", ip=IP)
    assert len(outbox) == 1
    code = last_code()
    assert len(code) == 6 and code.isdigit()
    assert code in outbox[0].text
    user = verify_code(phone="13812345678", code=code, ip=IP)
    assert user.phone == PHONE
    assert not user.has_usable_password()
    assert user.last_login is not None
    holder = Person.objects.get(account=user)
    assert holder.is_account_holder and holder.name == ""


def test_second_sign_in_finds_the_same_account(last_code):
    now = timezone.now()
    request_code(phone=PHONE, ip=IP, now=now)
    first = verify_code(phone=PHONE, code=last_code(), ip=IP, now=now)
    later = now + timedelta(minutes=2)
    request_code(phone=PHONE, ip=IP, now=later)
    again = verify_code(phone=PHONE, code=last_code(), ip=IP, now=later)
    assert again.pk == first.pk
    assert User.objects.count() == 1
    assert Person.objects.filter(account=first).count() == 1


def test_code_is_never_stored_in_clear(last_code):
    record = request_code(phone=PHONE, ip=IP)
    code = last_code()
    assert code not in record.code_hash and len(record.code_hash) == 64
    verify_code(phone=PHONE, code=code, ip=IP)
    assert tables_containing(code) == []


def test_hash_depends_on_secret_key_and_phone(settings, last_code):
    record = request_code(phone=PHONE, ip=IP)
    code = last_code()
    assert services._code_hash(PHONE, code) == record.code_hash
    assert services._code_hash("+8613900000000", code) != record.code_hash
    settings.SECRET_KEY = "another-secret"
    assert services._code_hash(PHONE, code) != record.code_hash


def test_a_code_works_once(last_code):
    request_code(phone=PHONE, ip=IP)
    code = last_code()
    verify_code(phone=PHONE, code=code, ip=IP)
    assert error_of(verify_code, phone=PHONE, code=code, ip=IP).code == "code_expired"


def test_code_expires_after_five_minutes(last_code):
    now = timezone.now()
    request_code(phone=PHONE, ip=IP, now=now)
    code = last_code()
    late = now + timedelta(minutes=5)
    err = error_of(verify_code, phone=PHONE, code=code, ip=IP, now=late)
    assert err.code == "code_expired" and err.status == 400
    just_in_time = now + timedelta(minutes=4, seconds=59)
    assert verify_code(phone=PHONE, code=code, ip=IP, now=just_in_time).phone == PHONE


def test_five_wrong_attempts_then_locked(last_code):
    request_code(phone=PHONE, ip=IP)
    code = last_code()
    for left in [4, 3, 2, 1, 0]:
        err = error_of(verify_code, phone=PHONE, code=wrong(code), ip=IP)
        assert err.code == "wrong_code"
        assert err.as_dict()["attempts_left"] == left
    # Even the right code no longer works: a new one must be requested.
    err = error_of(verify_code, phone=PHONE, code=code, ip=IP)
    assert err.code == "too_many_attempts" and err.status == 429
    assert PhoneCode.objects.get().attempts == 5


def test_wrong_attempts_then_right_code(last_code):
    request_code(phone=PHONE, ip=IP)
    code = last_code()
    for _i in range(4):
        error_of(verify_code, phone=PHONE, code=wrong(code), ip=IP)
    assert verify_code(phone=PHONE, code=code, ip=IP).phone == PHONE


def test_only_the_newest_code_counts_and_sign_in_spends_all(last_code):
    now = timezone.now()
    request_code(phone=PHONE, ip=IP, now=now)
    old = last_code()
    later = now + timedelta(seconds=61)
    request_code(phone=PHONE, ip=IP, now=later)
    new = last_code()
    if old != new:
        assert error_of(verify_code, phone=PHONE, code=old, ip=IP, now=later).code == "wrong_code"
    verify_code(phone=PHONE, code=new, ip=IP, now=later)
    assert not PhoneCode.objects.filter(used_at__isnull=True).exists()


def test_no_code_requested(last_code):
    assert error_of(verify_code, phone=PHONE, code="123456", ip=IP).code == "code_expired"


def test_disabled_account_cannot_sign_in(last_code):
    User.objects.create(phone=PHONE, is_active=False)
    request_code(phone=PHONE, ip=IP)
    err = error_of(verify_code, phone=PHONE, code=last_code(), ip=IP)
    assert err.code == "account_disabled" and err.status == 403


def test_phone_rate_limit_one_a_minute_five_an_hour(outbox):
    start = timezone.now()
    request_code(phone=PHONE, ip=IP, now=start)
    err = error_of(request_code, phone=PHONE, ip=IP, now=start + timedelta(seconds=20))
    assert err.code == "rate_limited" and err.status == 429
    assert err.as_dict()["retry_after"] == 40
    for minute in range(1, 5):
        request_code(phone=PHONE, ip=IP, now=start + timedelta(minutes=minute))
    assert len(outbox) == 5
    sixth = start + timedelta(minutes=10)
    err = error_of(request_code, phone=PHONE, ip=IP, now=sixth)
    assert err.code == "rate_limited"
    assert err.as_dict()["retry_after"] == 50 * 60  # when the first of the five is an hour old
    request_code(phone=PHONE, ip=IP, now=start + timedelta(minutes=60, seconds=1))
    assert len(outbox) == 6


def test_ip_rate_limit_twenty_an_hour(outbox):
    start = timezone.now()
    for i in range(20):
        request_code(phone=f"+86139000000{i:02d}", ip=IP, now=start + timedelta(seconds=i))
    err = error_of(request_code, phone="+8613900000099", ip=IP, now=start + timedelta(minutes=1))
    assert err.code == "rate_limited"
    assert err.as_dict()["retry_after"] == 59 * 60
    # Another network is not affected, and the first network recovers after the hour.
    request_code(phone="+8613900000099", ip="198.51.100.1", now=start + timedelta(minutes=1))
    request_code(phone="+8613900000098", ip=IP, now=start + timedelta(hours=1, seconds=1))
    assert len(outbox) == 22


def test_wrong_codes_from_one_network_are_limited(last_code):
    start = timezone.now()
    for i in range(7):
        request_code(phone=f"+86139000000{i:02d}", ip="198.51.100.1", now=start)
    for i in range(6):
        phone = f"+86139000000{i:02d}"
        for _j in range(5):
            err = error_of(verify_code, phone=phone, code=wrong(last_code(phone)), ip=IP, now=start)
            assert err.code == "wrong_code"
    phone = "+8613900000006"
    err = error_of(verify_code, phone=phone, code=last_code(phone), ip=IP, now=start)
    assert err.code == "rate_limited" and err.as_dict()["retry_after"] > 0
    assert verify_code(phone=phone, code=last_code(phone), ip="198.51.100.2", now=start)


def test_the_network_limit_outlives_a_restart(last_code):
    """The count of wrong codes is in the shared store, not in the process's memory: what a
    restart (or another worker) starts with is what was counted."""
    from django.core.cache import cache

    start = timezone.now()
    for i in range(6):
        request_code(phone=f"+86139000000{i:02d}", ip="198.51.100.1", now=start)
        for _j in range(5):
            phone = f"+86139000000{i:02d}"
            error_of(verify_code, phone=phone, code=wrong(last_code(phone)), ip=IP, now=start)
    cache.clear()  # a restarted worker's memory
    request_code(phone="+8613900000006", ip="198.51.100.1", now=start)
    err = error_of(verify_code, phone="+8613900000006", code=last_code("+8613900000006"), ip=IP)
    assert err.code == "rate_limited"


def test_failed_sender_is_a_clear_error(settings):
    settings.SMS_SENDER = "tests.accounts.test_codes.BrokenSender"
    err = error_of(request_code, phone=PHONE, ip=IP)
    assert err.code == "send_failed" and err.status == 503


class BrokenSender:
    def send_code(self, *, phone: str, code: str, text: str) -> None:
        from doorstep.accounts.senders import SendError

        raise SendError("gateway down")


def test_old_codes_are_purged(last_code):
    now = timezone.now()
    request_code(phone=PHONE, ip=IP, now=now - timedelta(days=2))
    request_code(phone=PHONE, ip=IP, now=now - timedelta(hours=2))
    assert services.purge_codes(now=now) == 1
    assert PhoneCode.objects.count() == 1
    call_command("purge-sign-in-codes", stdout=io.StringIO())
    assert PhoneCode.objects.count() == 1


def test_ipv6_hosts_are_limited_by_their_64(outbox):
    start = timezone.now()
    for i in range(20):
        request_code(phone=f"+86139000000{i:02d}", ip=f"2001:db8:1:2::{i + 1:x}", now=start)
    err = error_of(request_code, phone="+8613900000099", ip="2001:db8:1:2:ffff::1", now=start)
    assert err.code == "rate_limited"
    request_code(phone="+8613900000099", ip="2001:db8:1:3::1", now=start)
    assert PhoneCode.objects.filter(ip="2001:db8:1:2::").count() == 20


def test_unparsable_ip_is_ignored(outbox):
    request_code(phone=PHONE, ip="not-an-ip")
    assert PhoneCode.objects.get().ip is None
