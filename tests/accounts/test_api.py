from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doorstep.accounts.models import ApiToken, Person, PhoneCode, User
from doorstep.accounts.tokens import issue_token, revoke_token, user_for_token
from tests.factories import make_account

pytestmark = pytest.mark.django_db

PHONE = "+8613812345678"


def post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", **headers)


def patch(client, url, body, **headers):
    return client.patch(url, body, content_type="application/json", **headers)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def account():
    return make_account(name="王芳", children=(("小明", 2017),))


@pytest.fixture
def auth(account):
    return bearer(issue_token(account))


def test_sign_in_end_to_end(client, last_code, outbox):
    r = post(client, "/api/v1/auth/code", {"phone": "+86 138-1234-5678"})
    assert r.status_code == 202, r.content
    assert r.json() == {"phone_masked": "138****5678", "expires_in": 300, "resend_after": 60}
    r = post(client, "/api/v1/auth/token", {"phone": "13812345678", "code": last_code()})
    assert r.status_code == 200, r.content
    data = r.json()
    assert len(data["token"]) >= 40
    user = data["user"]
    assert user["phone_masked"] == "138****5678"
    assert user["display_name"] == "" and user["home_subdistrict"] is None
    assert user["people"] == [
        {"id": user["people"][0]["id"], "name": "", "birth_year": None, "is_account_holder": True}
    ]
    assert "13812345678" not in r.content.decode()
    me = client.get("/api/v1/me", **bearer(data["token"]))
    assert me.status_code == 200 and me.json() == user
    # The token is stored as a hash only.
    assert not ApiToken.objects.filter(key_hash=data["token"]).exists()
    assert ApiToken.objects.count() == 1


def test_sign_in_errors_are_json(client, last_code):
    r = post(client, "/api/v1/auth/code", {"phone": "12345"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_phone"
    assert r.json()["message"]
    r = post(client, "/api/v1/auth/code", {})
    assert r.status_code == 422 and r.json()["code"] == "invalid_parameter"
    assert post(client, "/api/v1/auth/code", {"phone": PHONE}).status_code == 202
    r = post(client, "/api/v1/auth/code", {"phone": PHONE})
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited" and 0 < r.json()["retry_after"] <= 60
    code = last_code()
    bad = f"{(int(code) + 1) % 1_000_000:06d}"
    r = post(client, "/api/v1/auth/token", {"phone": PHONE, "code": bad})
    assert r.status_code == 400 and r.json()["code"] == "wrong_code"
    assert r.json()["attempts_left"] == 4
    for _i in range(4):
        post(client, "/api/v1/auth/token", {"phone": PHONE, "code": bad})
    r = post(client, "/api/v1/auth/token", {"phone": PHONE, "code": code})
    assert r.status_code == 429 and r.json()["code"] == "too_many_attempts"


def test_per_ip_limit_through_the_api(client):
    for i in range(20):
        r = post(client, "/api/v1/auth/code", {"phone": f"+86139000000{i:02d}"})
        assert r.status_code == 202
    r = post(client, "/api/v1/auth/code", {"phone": "+8613900000099"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    other = post(client, "/api/v1/auth/code", {"phone": "+8613900000099"}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 202


def test_me_needs_auth(client):
    for headers in [{}, bearer("nonsense"), {"HTTP_AUTHORIZATION": "Basic abc"}]:
        r = client.get("/api/v1/me", **headers)
        assert r.status_code == 401
        assert r.json()["code"] == "unauthorized"


def test_revoked_token_fails(client, account):
    token = issue_token(account)
    assert client.get("/api/v1/me", **bearer(token)).status_code == 200
    r = client.post("/api/v1/auth/logout", **bearer(token))
    assert r.status_code == 204
    assert client.get("/api/v1/me", **bearer(token)).status_code == 401
    assert revoke_token(token) is False


def test_other_tokens_survive_logout(client, account):
    phone_token, tablet_token = issue_token(account), issue_token(account)
    client.post("/api/v1/auth/logout", **bearer(phone_token))
    assert client.get("/api/v1/me", **bearer(tablet_token)).status_code == 200


def test_disabled_account_token_fails(client, account):
    token = issue_token(account)
    User.objects.filter(pk=account.pk).update(is_active=False)
    assert client.get("/api/v1/me", **bearer(token)).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(account):
    token = issue_token(account)
    row = ApiToken.objects.get()
    assert row.last_used_at is None
    now = timezone.now()
    assert user_for_token(token, now=now) == account
    row.refresh_from_db()
    assert row.last_used_at == now
    user_for_token(token, now=now + timedelta(seconds=30))
    row.refresh_from_db()
    assert row.last_used_at == now
    user_for_token(token, now=now + timedelta(seconds=61))
    row.refresh_from_db()
    assert row.last_used_at == now + timedelta(seconds=61)


def test_token_uses_are_written_in_one_batch_a_minute():
    accounts = [make_account(name=f"用户{i}") for i in range(5)]
    tokens = [issue_token(a) for a in accounts]
    now = timezone.now()
    for t in tokens:  # verified once each: the read notes the use
        user_for_token(t, now=now)
    later = now + timedelta(seconds=90)
    with CaptureQueriesContext(connection) as ctx:
        for _round in range(3):  # 15 uses: the first writes its own, the rest wait
            for t, a in zip(tokens, accounts, strict=True):
                assert user_for_token(t, now=later) == a
        # a minute after that write, the next use writes every waiting one at once
        assert user_for_token(tokens[0], now=later + timedelta(seconds=61)) == accounts[0]
    writes = [q["sql"] for q in ctx.captured_queries]
    assert len(writes) == 2 and all(w.startswith("UPDATE") for w in writes), writes
    stored = set(ApiToken.objects.values_list("last_used_at", flat=True))
    assert stored == {later + timedelta(seconds=61)}


def test_revoking_or_disabling_takes_effect_at_once_in_this_process(client, account):
    token = issue_token(account)
    assert client.get("/api/v1/me", **bearer(token)).status_code == 200  # now cached
    account.is_active = False
    account.save(update_fields=["is_active"])
    assert client.get("/api/v1/me", **bearer(token)).status_code == 401
    account.is_active = True
    account.save(update_fields=["is_active"])
    assert client.get("/api/v1/me", **bearer(token)).status_code == 200
    ApiToken.objects.get().delete()  # as the admin revokes it
    assert client.get("/api/v1/me", **bearer(token)).status_code == 401


def test_another_process_sees_a_revocation_within_the_cache_bound(client, account, settings):
    """Another process's delete sends no signal here: the entry lapses after
    TOKEN_CACHE_SECONDS (a monotonic clock, moved on here)."""
    from unittest import mock

    from doorstep.accounts import tokens

    token = issue_token(account)
    assert client.get("/api/v1/me", **bearer(token)).status_code == 200
    ApiToken.objects.all()._raw_delete(ApiToken.objects.db)  # no signal: like another process
    assert client.get("/api/v1/me", **bearer(token)).status_code == 200  # within the bound
    start = tokens.time.monotonic()
    with mock.patch.object(
        tokens.time, "monotonic", return_value=start + settings.TOKEN_CACHE_SECONDS + 1
    ):
        assert client.get("/api/v1/me", **bearer(token)).status_code == 401


def test_session_auth_needs_csrf_for_changes():
    from django.test import Client

    account = make_account(name="李华")
    client = Client(enforce_csrf_checks=True)
    client.force_login(account)
    assert client.get("/api/v1/me").status_code == 200
    r = post(client, "/api/v1/me/people", {"name": "小红"})
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    client.get("/account/")  # sets the CSRF cookie, as a page would
    csrf = client.cookies["csrftoken"].value
    r = post(client, "/api/v1/me/people", {"name": "小红"}, HTTP_X_CSRFTOKEN=csrf)
    assert r.status_code == 201, r.content
    # A bearer request from the same browser needs no CSRF token.
    r = post(client, "/api/v1/me/people", {"name": "小刚"}, **bearer(issue_token(account)))
    assert r.status_code == 201


def test_me_lists_household_masked(client, account, auth, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        r = client.get("/api/v1/me", **auth)
    assert r.status_code == 200
    data = r.json()
    assert data["id"] == account.pk
    assert data["phone_masked"] == account.masked_phone
    assert "****" in data["phone_masked"]
    assert account.phone not in r.content.decode()
    assert account.phone[3:] not in r.content.decode()
    assert [(p["name"], p["birth_year"], p["is_account_holder"]) for p in data["people"]] == [
        ("王芳", 1985, True),
        ("小明", 2017, False),
    ]


def test_patch_me(client, account, auth, regions):
    r = patch(
        client, "/api/v1/me", {"display_name": " 王芳芳 ", "home_subdistrict": "310105001"}, **auth
    )
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["display_name"] == "王芳芳"
    assert data["home_subdistrict"]["code"] == "310105001"
    assert data["people"][0]["name"] == "王芳芳"  # the holder's name follows the account's
    r = patch(client, "/api/v1/me", {"home_subdistrict": None}, **auth)
    assert r.json()["home_subdistrict"] is None and r.json()["display_name"] == "王芳芳"
    r = patch(client, "/api/v1/me", {"home_subdistrict": "310105"}, **auth)  # a district
    assert r.status_code == 400 and r.json()["code"] == "invalid_subdistrict"
    r = patch(client, "/api/v1/me", {"display_name": "   "}, **auth)
    assert r.status_code == 400 and r.json()["code"] == "invalid_name"


def test_household_crud(client, account, auth):
    r = post(client, "/api/v1/me/people", {"name": "小丽", "birth_year": 2019}, **auth)
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    assert r.json() == {"id": pid, "name": "小丽", "birth_year": 2019, "is_account_holder": False}
    r = patch(client, f"/api/v1/me/people/{pid}", {"birth_year": 2018}, **auth)
    assert r.status_code == 200 and r.json()["birth_year"] == 2018 and r.json()["name"] == "小丽"
    r = patch(client, f"/api/v1/me/people/{pid}", {"name": "李小丽"}, **auth)
    assert r.json()["name"] == "李小丽" and r.json()["birth_year"] == 2018
    r = patch(client, f"/api/v1/me/people/{pid}", {"birth_year": None}, **auth)
    assert r.json()["birth_year"] is None
    r = client.delete(f"/api/v1/me/people/{pid}", **auth)
    assert r.status_code == 204
    assert not Person.objects.filter(pk=pid).exists()
    r = client.delete(f"/api/v1/me/people/{pid}", **auth)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_household_validation_over_the_api(client, account, auth):
    this_year = timezone.localdate().year
    for body, code in [
        ({"name": ""}, "invalid_name"),
        ({"name": "x" * 41}, "invalid_name"),
        ({"name": "小\n明"}, "invalid_name"),
        ({"name": "A\u202eB"}, "invalid_name"),
        ({"name": "小强", "birth_year": 1899}, "invalid_birth_year"),
        ({"name": "小强", "birth_year": this_year + 1}, "invalid_birth_year"),
        ({"name": "小明"}, "person_exists"),
    ]:
        r = post(client, "/api/v1/me/people", body, **auth)
        assert r.status_code in (400, 409), (body, r.content)
        assert r.json()["code"] == code, body
    r = post(client, "/api/v1/me/people", {"name": "小强", "birth_year": "abc"}, **auth)
    assert r.status_code == 422
    # A NUL never reaches the service: the API's input rule refuses it (tests/core).
    r = post(client, "/api/v1/me/people", {"name": "小\x00明"}, **auth)
    assert r.status_code == 422 and r.json()["code"] == "invalid_parameter"


def test_another_accounts_person_is_404(client, account, auth):
    stranger = make_account(name="陌生人", children=(("别人家的孩子", 2016),))
    theirs = stranger.people.get(is_account_holder=False)
    r = patch(client, f"/api/v1/me/people/{theirs.pk}", {"name": "改名"}, **auth)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.delete(f"/api/v1/me/people/{theirs.pk}", **auth)
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "别人家的孩子"
    r = client.delete("/api/v1/me/people/99999999", **auth)
    assert r.status_code == 404


def test_holder_cannot_be_removed(client, account, auth):
    holder = account.people.get(is_account_holder=True)
    r = client.delete(f"/api/v1/me/people/{holder.pk}", **auth)
    assert r.status_code == 409 and r.json()["code"] == "cannot_remove_holder"


def test_client_ip_from_a_trusted_proxy_header(client, settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    post(client, "/api/v1/auth/code", {"phone": PHONE}, HTTP_X_REAL_IP="198.51.100.23")
    assert PhoneCode.objects.get().ip == "198.51.100.23"


def test_forwarded_for_is_not_trusted_by_default(client):
    post(client, "/api/v1/auth/code", {"phone": PHONE}, HTTP_X_FORWARDED_FOR="198.51.100.23")
    assert PhoneCode.objects.get().ip == "127.0.0.1"


def test_lapsed_tokens_leave_the_cache_when_it_grows(settings, monkeypatch):
    from unittest import mock

    from doorstep.accounts import tokens

    monkeypatch.setattr(tokens, "MAX_CACHED", 2)
    accounts = [make_account(name=f"用户{i}") for i in range(3)]
    issued = [issue_token(a) for a in accounts]
    user_for_token(issued[0])
    start = tokens.time.monotonic()
    with mock.patch.object(
        tokens.time, "monotonic", return_value=start + settings.TOKEN_CACHE_SECONDS + 1
    ):
        user_for_token(issued[1])
        user_for_token(issued[2])  # the third entry: the lapsed first one goes
        assert len(tokens._seen.users) == 2
        assert tokens.token_hash(issued[0]) not in tokens._seen.users
