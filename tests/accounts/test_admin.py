import pytest
from django.core.management import call_command

from doorstep.accounts.models import ApiToken, PhoneCode, User
from doorstep.accounts.services import request_code
from doorstep.accounts.tokens import issue_token
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser(username="admin", password="x")
    client.force_login(admin)
    return client


def test_changelist_masks_phones(admin_client):
    account = make_account(name="王芳")
    r = admin_client.get("/admin/accounts/user/")
    assert r.status_code == 200
    html = r.content.decode()
    assert account.masked_phone in html
    assert account.phone not in html and account.phone[3:] not in html
    change = admin_client.get(f"/admin/accounts/user/{account.pk}/change/")
    assert change.status_code == 200
    assert account.masked_phone in change.content.decode()
    assert account.phone[3:] not in change.content.decode()


def test_search_by_number_still_works(admin_client):
    account = make_account(name="王芳")
    r = admin_client.get("/admin/accounts/user/", {"q": account.phone[3:]})
    assert account.masked_phone in r.content.decode()


def test_codes_and_tokens_show_no_secrets(admin_client, last_code):
    account = make_account(name="王芳")
    token = issue_token(account)
    request_code(phone="+8613812345678", ip="203.0.113.1")
    code_hash = PhoneCode.objects.get().code_hash
    for url in ["/admin/accounts/phonecode/", "/admin/accounts/apitoken/"]:
        html = admin_client.get(url).content.decode()
        assert "138****5678" in html or url.endswith("apitoken/")
        assert code_hash not in html and token not in html
        assert ApiToken.objects.get().key_hash not in html
        assert "13812345678" not in html


def test_admin_pages_load(admin_client):
    account = make_account(name="王芳", children=(("小明", 2017),))
    for url in [
        "/admin/",
        "/admin/accounts/user/add/",
        "/admin/accounts/person/",
        f"/admin/accounts/person/{account.people.first().pk}/change/",
        "/admin/accounts/staffrole/",
        "/admin/accounts/staffrole/add/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_admin_can_add_a_staff_account(admin_client):
    r = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "lisi",
            "usable_password": "true",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert User.objects.get(username="lisi").check_password("a-long-password-1")


def test_createsuperuser_without_input(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "x")
    call_command("createsuperuser", "--noinput", "--username", "admin2", verbosity=0)
    admin = User.objects.get(username="admin2")
    assert admin.is_superuser and admin.is_staff and admin.check_password("x")
    assert admin.phone is None
