"""The rush's lean WSGI entry (doorstep.activities.rushwsgi) answers exactly as the API."""

import json

import pytest

from doorstep.accounts.services import issue_token
from doorstep.activities import rushwsgi
from doorstep.activities.models import Activity, Registration
from tests.factories import make_account, make_activity, make_center
from tests.wsgi_call import wsgi_call

pytestmark = pytest.mark.django_db


def call(path, body, headers, via_django=False):
    """One request through the lean entry (or straight to Django), in-process."""
    app = rushwsgi.django_application if via_django else rushwsgi.application
    status, response_headers, data = wsgi_call(app, path, body, headers)
    return status, dict(response_headers), json.loads(data)


@pytest.fixture
def world(regions):
    center = make_center("浦东新区东明路街道社区党群服务中心", district="浦东新区")
    activity = make_activity(center, capacity=1, waitlist_enabled=False, audience="everyone")
    return activity


def holder(account):
    return [account.people.get(is_account_holder=True).pk]


def test_the_lean_entry_gives_the_apis_answers(world):
    activity = world
    path = f"/api/v1/activities/{activity.pk}/registrations"
    a, b = make_account(name="王阿姨"), make_account(name="李叔叔")
    ta, tb = issue_token(a), issue_token(b)

    status, headers, first = call(
        path, {"person_ids": holder(a)}, {"Authorization": f"Bearer {ta}", "Idempotency-Key": "1"}
    )
    assert status == 201
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    reg = Registration.objects.get(activity=activity)
    assert first["registrations"][0]["id"] == reg.pk
    assert first["registrations"][0]["person_name"] == "王阿姨"
    assert Activity.objects.get(pk=activity.pk).taken == 1

    # A retry: the same answer as Django's API gives, both 200 replays.
    retry = ({"person_ids": holder(a)}, {"Authorization": f"Bearer {ta}", "Idempotency-Key": "1"})
    lean = call(path, *retry)
    django = call(path, *retry, via_django=True)
    assert lean[0] == django[0] == 200
    assert lean[2] == django[2] == {**first, "replayed": True}

    # Full, in the language the client asks for, as the API says it.
    full = ({"person_ids": holder(b)}, {"Authorization": f"Bearer {tb}", "Accept-Language": "en"})
    lean, django = call(path, *full), call(path, *full, via_django=True)
    assert lean[0] == django[0] == 400
    assert lean[2] == django[2] == {"code": "full", "message": "All places are taken."}
    assert lean[1]["Content-Language"] == django[1]["Content-Language"] == "en"
    zh = call(path, {"person_ids": holder(b)}, {"Authorization": f"Bearer {tb}"})
    assert zh[2]["code"] == "full" and zh[2]["message"] != "All places are taken."


def test_what_the_lean_entry_is_unsure_of_goes_to_django(world):
    activity = world
    path = f"/api/v1/activities/{activity.pk}/registrations"
    a = make_account()
    token = issue_token(a)
    status, _headers, body = call(path, {"person_ids": holder(a)}, {"Authorization": "Bearer no"})
    assert status == 401 and body["code"] == "unauthorized"
    status, _headers, body = call(path, {"person_ids": ["x"]}, {"Authorization": f"Bearer {token}"})
    assert status == 422 and body["code"] == "invalid_parameter"
    status, _headers, body = call(path, b"{", {"Authorization": f"Bearer {token}"})
    assert status in (400, 422)
    assert Registration.objects.filter(activity=activity).count() == 0
    status, _headers, body = call(
        "/api/v1/activities/999999/registrations",
        {"person_ids": holder(a)},
        {"Authorization": f"Bearer {token}"},
    )
    assert status == 404 and body["code"] == "not_found"
