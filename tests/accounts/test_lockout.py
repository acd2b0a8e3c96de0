"""Staff password sign-in locks after repeated failures, per account and per address
(django-axes), with a clear message and an admin unlock; the admin login too."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

GOOD = "correct horse battery staple"


@pytest.fixture
def staff(settings):
    user = get_user_model().objects.create(username="zhang", is_staff=True, is_superuser=True)
    user.set_password(GOOD)
    user.save()
    return user


def sign_in(client, username, password, ip="203.0.113.5", url="/account/staff-sign-in"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_the_account_locks_after_five_failures_even_from_new_addresses(client, staff, settings):
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "zhang", "wrong", ip=f"198.51.100.{i}").status_code == 200
    locked = sign_in(client, "zhang", "wrong", ip="198.51.100.99")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "密码错误次数过多" in page and "15 分钟" in page
    assert locked["Retry-After"] == "900"
    # Even the right password waits now, from anywhere.
    assert sign_in(client, "zhang", GOOD, ip="192.0.2.1").status_code == 429
    assert "_auth_user_id" not in client.session


def test_one_address_guessing_many_accounts_is_locked(client, staff, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess{i}", "wrong")
    assert sign_in(client, "zhang", GOOD).status_code == 429  # this address is paused
    assert sign_in(client, "zhang", GOOD, ip="192.0.2.1").status_code == 302  # not others


def test_the_admin_login_is_guarded_too(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "zhang", "wrong", url="/admin/login/")
    r = sign_in(client, "zhang", GOOD, ip="192.0.2.9", url="/admin/login/")
    assert r.status_code == 429


def test_an_administrator_unlocks_by_removing_the_attempts(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "zhang", "wrong")
    assert AccessAttempt.objects.filter(username="zhang").exists()
    admin = get_user_model().objects.create(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "zhang" in listing.content.decode()
    AccessAttempt.objects.filter(username="zhang").delete()  # what the admin's delete does
    client.logout()
    assert sign_in(client, "zhang", GOOD, ip="192.0.2.1").status_code == 302


def test_a_success_forgets_earlier_failures_and_keeps_no_log_of_it(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "zhang", "wrong")
    assert sign_in(client, "zhang", GOOD).status_code == 302
    assert not AccessAttempt.objects.filter(username="zhang").exists()
    from axes.models import AccessLog

    assert not AccessLog.objects.exists()  # successful sign-ins are not recorded


def test_the_message_is_english_on_an_english_page(client, staff, settings):
    client.cookies["django_language"] = "en"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        r = sign_in(client, "zhang", "wrong")
    assert r.status_code == 429
    page = r.content.decode()
    assert "Too many wrong passwords" in page and "密码" not in page
