import re

import pytest
from django.test import Client
from django.utils.html import escape

from doorstep.accounts.models import Person, User
from doorstep.accounts.services import TERMS_VERSION
from tests.factories import make_account

from .conftest import tables_containing

pytestmark = pytest.mark.django_db

PHONE = "+8613812345678"


def text(response) -> str:
    return response.content.decode()


def resident(name: str) -> User:
    account = make_account(name=name)
    User.objects.filter(pk=account.pk).update(phone=PHONE)
    return account


def sign_in(client: Client, last_code, *, next_url: str = "", phone: str = "138 1234 5678"):
    extra = {"next": next_url} if next_url else {}
    r = client.post("/account/sign-in", {"step": "phone", "phone": phone, "agree": "on", **extra})
    assert r.status_code == 200, text(r)
    return client.post("/account/sign-in", {"step": "code", "code": last_code(), **extra})


def test_sign_in_page_in_chinese(client):
    r = client.get("/account/sign-in")
    assert r.status_code == 200
    html = text(r)
    assert "手机号" in html
    assert 'name="step" value="phone"' in html
    assert 'type="tel"' in html


def test_sign_in_asks_for_consent_and_records_it(client, last_code):
    # Without the agreement ticked, no code is sent and the page says why.
    r = client.post("/account/sign-in", {"step": "phone", "phone": "138 1234 5678"})
    assert r.status_code == 400
    assert "用户协议" in text(r) and "隐私" in text(r)
    with pytest.raises(AssertionError, match="no code was sent"):
        last_code()
    r = client.post("/account/sign-in", {"step": "phone", "phone": "138 1234 5678", "agree": "on"})
    assert r.status_code == 200
    # The resend button counts down as long as the server would refuse another code.
    assert re.search(r'data-wait="(5\d|60)"', text(r))
    r = client.post("/account/sign-in", {"step": "code", "code": last_code()})
    user = User.objects.get(phone=PHONE)
    assert user.terms_version == TERMS_VERSION and user.terms_accepted_at is not None
    assert client.get("/terms").status_code == 200 and client.get("/privacy").status_code == 200


def test_sign_in_two_steps_then_profile(client, last_code):
    r = client.post("/account/sign-in", {"step": "phone", "phone": "138 1234 5678", "agree": "on"})
    html = text(r)
    assert r.status_code == 200
    assert "138****5678" in html
    assert "13812345678" not in html  # neither shown nor hidden in the page
    assert 'autocomplete="one-time-code"' in html
    r = client.post("/account/sign-in", {"step": "code", "code": last_code()})
    # The first sign-in asks for a name before anything else.
    assert r.status_code == 302 and r["Location"] == "/account/"
    assert tables_containing(last_code()) == []  # not in the sessions table either
    user = User.objects.get(phone=PHONE)
    assert int(client.session["_auth_user_id"]) == user.pk
    page = client.get("/account/")
    assert page.status_code == 200
    assert "138****5678" in text(page) and "13812345678" not in text(page)
    r = client.post("/account/profile", {"display_name": "王芳", "home_subdistrict": ""})
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "王芳"
    assert Person.objects.get(account=user, is_account_holder=True).name == "王芳"


def test_sign_in_redirects_to_a_safe_next(client, last_code):
    resident("老用户")
    r = sign_in(client, last_code, next_url="/centers/?q=古北")
    assert r.status_code == 302 and r["Location"] == "/centers/?q=%E5%8F%A4%E5%8C%97"


@pytest.mark.parametrize(
    "evil", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "centers/"]
)
def test_sign_in_ignores_an_unsafe_next(client, last_code, evil):
    resident("老用户")
    html = text(client.get("/account/sign-in", {"next": evil}))
    assert f'name="next" value="{escape(evil)}"' not in html
    r = sign_in(client, last_code, next_url=evil)
    assert r.status_code == 302 and r["Location"] == "/account/"


def test_first_sign_in_keeps_next_through_the_profile(client, last_code):
    r = sign_in(client, last_code, next_url="/centers/")
    assert r.status_code == 302 and r["Location"] == "/account/?next=%2Fcenters%2F"
    page = client.get(r["Location"])
    assert 'name="next" value="/centers/"' in text(page)
    r = client.post(
        "/account/profile", {"display_name": "王芳", "home_subdistrict": "", "next": "/centers/"}
    )
    # Asked for the household before the first registration: back to the household, with
    # the way on kept.
    assert r.status_code == 302 and r["Location"] == "/account/?next=%2Fcenters%2F#add-title"
    page = text(client.get("/account/?next=%2Fcenters%2F"))
    assert page.count('name="next" value="/centers/"') == 2  # both forms keep it
    assert 'href="/centers/"' in page  # "Continue"
    # A child added there returns to where the resident was going.
    r = client.post(
        "/account/people", {"new-name": "多多", "new-birth_year": "2018", "next": "/centers/"}
    )
    assert r.status_code == 302 and r["Location"] == "/centers/"
    # Later profile edits go straight on.
    r = client.post(
        "/account/profile", {"display_name": "王芳", "home_subdistrict": "", "next": "/centers/"}
    )
    assert r["Location"] == "/centers/"


def test_wrong_code_on_the_page(client, last_code):
    client.post("/account/sign-in", {"step": "phone", "phone": PHONE, "agree": "on"})
    code = last_code()
    bad = f"{(int(code) + 1) % 1_000_000:06d}"
    r = client.post("/account/sign-in", {"step": "code", "code": bad})
    assert r.status_code == 400
    assert 'aria-invalid="true"' in text(r)
    assert 'aria-describedby="id_code_error"' in text(r)
    assert "_auth_user_id" not in client.session
    r = client.post("/account/sign-in", {"step": "code", "code": code})
    assert r.status_code == 302


def test_bad_phone_on_the_page(client, outbox):
    r = client.post("/account/sign-in", {"step": "phone", "phone": "021-6447 1234"})
    assert r.status_code == 400
    assert "手机号" in text(r) and 'name="step" value="phone"' in text(r)
    assert outbox == []


def test_asking_again_too_soon_keeps_the_code_step(client, last_code):
    client.post("/account/sign-in", {"step": "phone", "phone": PHONE, "agree": "on"})
    r = client.post("/account/sign-in", {"step": "phone", "phone": PHONE, "agree": "on"})
    assert r.status_code == 400
    assert 'name="step" value="code"' in text(r)
    r = client.post("/account/sign-in", {"step": "resend"})
    assert r.status_code == 400 and 'name="step" value="code"' in text(r)
    assert client.post("/account/sign-in", {"step": "code", "code": last_code()}).status_code == 302


def test_code_without_a_number_asks_for_the_number(client):
    r = client.post("/account/sign-in", {"step": "code", "code": "123456"})
    assert r.status_code == 400 and 'name="step" value="phone"' in text(r)
    assert 'role="alert"' in text(r)


def test_change_number(client, last_code):
    client.post("/account/sign-in", {"step": "phone", "phone": PHONE, "agree": "on"})
    r = client.get("/account/sign-in", {"change": "1"})
    assert 'name="step" value="phone"' in text(r)


def test_account_page_needs_sign_in(client):
    r = client.get("/account/")
    assert r.status_code == 302 and r["Location"].startswith("/account/sign-in?next=/account/")


def test_header_links(client):
    assert "/account/sign-in?next=" in text(client.get("/"))
    client.force_login(make_account(name="王芳"))
    assert 'href="/account/"' in text(client.get("/"))


def test_household_on_the_page(client):
    account = make_account(name="王芳", children=(("小明", 2017),))
    client.force_login(account)
    page = text(client.get("/account/"))
    assert "小明" in page and "2017" in page
    assert "身份证" in page  # the note that no ID numbers are collected
    r = client.post("/account/people", {"new-name": "小丽", "new-birth_year": "2019"})
    assert r.status_code == 302
    lili = account.people.get(name="小丽")
    assert lili.birth_year == 2019
    r = client.post(f"/account/people/{lili.pk}", {f"p{lili.pk}-name": "王小丽"})
    assert r.status_code == 302
    lili.refresh_from_db()
    assert (lili.name, lili.birth_year) == ("王小丽", None)
    r = client.post("/account/people", {"new-name": "小强", "new-birth_year": "1800"})
    assert r.status_code == 400 and 'aria-invalid="true"' in text(r)
    r = client.post(f"/account/people/{lili.pk}/remove")
    assert r.status_code == 302
    assert not account.people.filter(pk=lili.pk).exists()
    holder = account.people.get(is_account_holder=True)
    r = client.post(f"/account/people/{holder.pk}/remove")
    assert r.status_code == 409 and 'role="alert"' in text(r)


def test_another_accounts_person_on_the_page_is_404(client):
    account = make_account(name="王芳")
    other = make_account(name="李雷", children=(("李小雷", 2015),))
    theirs = other.people.get(is_account_holder=False)
    client.force_login(account)
    assert client.post(f"/account/people/{theirs.pk}/remove").status_code == 404
    r = client.post(f"/account/people/{theirs.pk}", {f"p{theirs.pk}-name": "x"})
    assert r.status_code == 404
    assert Person.objects.filter(pk=theirs.pk, name="李小雷").exists()


def test_sign_out_is_post_only(client):
    client.force_login(make_account(name="王芳"))
    assert client.get("/account/sign-out").status_code == 405
    r = client.post("/account/sign-out")
    assert r.status_code == 302
    assert "_auth_user_id" not in client.session


def test_pages_need_csrf():
    client = Client(enforce_csrf_checks=True)
    r = client.post("/account/sign-in", {"step": "phone", "phone": PHONE, "agree": "on"})
    assert r.status_code == 403


def test_dev_codes_page_is_404_without_debug(client, settings):
    settings.DEBUG = False
    assert client.get("/dev/codes").status_code == 404


def test_dev_codes_page_with_debug_and_console_sender(client, settings, capsys):
    settings.DEBUG = True
    settings.SMS_SENDER = "doorstep.accounts.senders.ConsoleSender"
    client.post("/account/sign-in", {"step": "phone", "phone": PHONE, "agree": "on"})
    printed = capsys.readouterr().err
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", printed).group(1)
    assert "138****5678" in printed and PHONE not in printed
    page = client.get("/dev/codes")
    assert page.status_code == 200
    assert code in text(page) and "138****5678" in text(page)
    client.post("/account/sign-in", {"step": "code", "code": code})
    assert "_auth_user_id" in client.session


def test_staff_sign_in(client):
    staff = User.objects.create_user(username="zhangsan", password="a-long-password", is_staff=True)
    page = client.get("/account/staff-sign-in")
    assert page.status_code == 200 and 'type="password"' in text(page)
    r = client.post(
        "/account/staff-sign-in", {"username": "zhangsan", "password": "a-long-password"}
    )
    assert r.status_code == 302 and r["Location"] == "/staff/"
    assert int(client.session["_auth_user_id"]) == staff.pk


def test_residents_cannot_use_the_staff_form(client):
    resident("王芳")
    r = client.post("/account/staff-sign-in", {"username": PHONE, "password": ""})
    assert r.status_code == 200 and "_auth_user_id" not in client.session
