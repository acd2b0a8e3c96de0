"""`make run` serves doorstep.wsgi: one Django, with the short middleware list for API
requests judged by a token (or without cookies) and the full one for everything else."""

import json
from unittest import mock

import pytest
from django.test import Client

from doorstep import wsgi
from doorstep.accounts.tokens import issue_token
from doorstep.activities.models import Activity, Registration
from doorstep.visits import codes
from doorstep.visits.models import Visit
from tests.factories import make_account, make_activity, make_center
from tests.wsgi_call import wsgi_call

pytestmark = pytest.mark.django_db
DEVICE = "device-0123456789abcdef"


def call(path, body=b"", headers=None, *, app=wsgi.application, method="POST"):
    status, response_headers, data = wsgi_call(app, path, body, headers, method=method)
    return status, dict(response_headers), json.loads(data) if data else None


def holder(account):
    return [account.people.get(is_account_holder=True).pk]


@pytest.fixture
def activity(regions):
    center = make_center("浦东新区东明路街道社区党群服务中心", district="浦东新区")
    return make_activity(center, capacity=1, waitlist_enabled=False, audience="everyone")


def test_which_requests_are_judged_by_their_token():
    def env(path, **headers):
        return {"PATH_INFO": path, **{f"HTTP_{k}": v for k, v in headers.items()}}

    assert wsgi.judged_by_token(env("/api/v1/centers"))
    assert wsgi.judged_by_token(env("/api/v1/me", AUTHORIZATION="Bearer x", COOKIE="sessionid=1"))
    assert not wsgi.judged_by_token(env("/api/v1/me", COOKIE="sessionid=1"))
    assert not wsgi.judged_by_token(env("/centers/", AUTHORIZATION="Bearer x"))
    assert not wsgi.judged_by_token(env("/"))
    names = _chain(wsgi.token_api)
    assert names[0] == "SecurityMiddleware" and "LanguageMiddleware" in names
    assert "SessionMiddleware" not in names and "CsrfViewMiddleware" not in names
    assert "SessionMiddleware" in _chain(wsgi.site) and "CsrfViewMiddleware" in _chain(wsgi.site)


def _chain(handler):
    """The class names of a handler's middleware, outermost first."""
    names, step = [], handler._middleware_chain
    while True:
        middleware = getattr(step, "__wrapped__", step)
        inner = getattr(middleware, "get_response", None)
        if inner is None:
            return names
        names.append(type(middleware).__name__)
        step = inner


def test_a_registration_is_the_apis_answer_through_either_list(activity):
    path = f"/api/v1/activities/{activity.pk}/registrations"
    a, b = make_account(name="王阿姨"), make_account(name="李叔叔")
    ta, tb = issue_token(a), issue_token(b)
    headers = {"Authorization": f"Bearer {ta}", "Idempotency-Key": "1"}

    status, h, first = call(path, {"person_ids": holder(a)}, headers)
    assert status == 201, first
    assert h["Content-Type"] == "application/json; charset=utf-8"
    assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
    assert "default-src" in h["Content-Security-Policy"]
    assert "Set-Cookie" not in h  # no session was opened
    assert first["registrations"][0]["person_name"] == "王阿姨"
    assert Activity.objects.get(pk=activity.pk).taken == 1

    # The retry, through the token list and through the full list: the same replay.
    token_list = call(path, {"person_ids": holder(a)}, headers)
    full_list = call(path, {"person_ids": holder(a)}, headers, app=wsgi.site)
    assert token_list[0] == full_list[0] == 200
    assert token_list[2] == full_list[2] == {**first, "replayed": True}
    for name in ("Content-Security-Policy", "X-Frame-Options", "Content-Type", "Referrer-Policy"):
        assert token_list[1][name] == full_list[1][name], name

    # Full, in the language asked for.
    en = {"Authorization": f"Bearer {tb}", "Accept-Language": "en"}
    status, h, body = call(path, {"person_ids": holder(b)}, en)
    assert (status, body) == (400, {"code": "full", "message": "All places are taken."})
    assert h["Content-Language"] == "en"
    status, h, body = call(path, {"person_ids": holder(b)}, {"Authorization": f"Bearer {tb}"})
    assert body["code"] == "full" and body["message"] == "名额已满。"
    assert Registration.objects.filter(activity=activity).count() == 1


def test_refusals_keep_the_apis_codes(activity):
    path = f"/api/v1/activities/{activity.pk}/registrations"
    a = make_account()
    token = issue_token(a)
    auth = {"Authorization": f"Bearer {token}"}
    assert call(path, {"person_ids": holder(a)}, {"Authorization": "Bearer no"})[2]["code"] == (
        "unauthorized"
    )
    status, _h, body = call(path, {"person_ids": ["x"]}, auth)
    assert status == 422 and body["code"] == "invalid_parameter"
    status, _h, body = call(path, b"{", auth)
    assert status in (400, 422) and body["code"]
    status, _h, body = call("/api/v1/activities/999999/registrations", {"person_ids": [1]}, auth)
    assert status == 404 and body["code"] == "not_found"
    assert not Registration.objects.filter(activity=activity).exists()


def test_an_unexpected_failure_is_a_logged_json_500_and_stores_nothing(activity, caplog):
    from doorstep.activities.services import registration

    a = make_account()
    auth = {"Authorization": f"Bearer {issue_token(a)}"}
    path = f"/api/v1/activities/{activity.pk}/registrations"
    # A bug after the registration's statement, inside its transaction (both databases).
    with mock.patch.object(registration, "planned_written", side_effect=RuntimeError("boom")):
        status, h, body = call(path, {"person_ids": holder(a)}, auth)
    assert status == 500 and h["Content-Type"].startswith("application/json")
    assert body["code"] == "server_error"
    assert "boom" in caplog.text
    assert not Registration.objects.filter(activity=activity).exists()
    assert Activity.objects.get(pk=activity.pk).taken == 0


def test_a_walk_in_scan_without_cookies_and_a_session_page_with_one(regions):
    center = make_center("虹桥街道社区党群服务中心", district="长宁区")
    path = f"/api/v1/centers/{center.pk}/visits"
    scan = {"k": codes.today_code(center.pk), "device": DEVICE, "group": "elderly"}
    status, _h, body = call(path, scan)
    assert status == 201 and body["counted"] is True
    status, _h, again = call(path, scan)
    assert status == 200 and again["counted"] is False and again["id"] == body["id"]
    assert Visit.objects.count() == 1
    status, _h, wrong = call(path, {**scan, "k": "ABCDEFGHIJ"}, {"Accept-Language": "en"})
    assert status == 400 and wrong["code"] == "code_invalid" and "not valid" in wrong["message"]

    # A signed-in resident's browser sends its session cookie: the full list reads it.
    resident = make_account(name="王阿姨")
    browser = Client()
    browser.force_login(resident)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"
    status, _h, me = call("/api/v1/me", headers={"Cookie": cookie}, method="GET")
    assert status == 200 and me["id"] == resident.pk
    status, _h, me = call("/api/v1/me", method="GET")  # no cookie, no token
    assert status == 401 and me["code"] == "unauthorized"
