"""The check-in's lean WSGI entry (doorstep.visits.fastwsgi) answers exactly as the API."""

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from doorstep.activities import rushwsgi
from doorstep.visits import codes, fastwsgi
from doorstep.visits.models import Visit, VisitGuard
from tests.visits.conftest import DEVICE
from tests.wsgi_call import wsgi_call

pytestmark = pytest.mark.django_db


def call(path, body, headers=None, *, via_django=False, method="POST", content_type=None):
    """One request through the lean entry (or straight to Django), in-process: the status,
    the headers (in order) and the body's bytes."""
    app = rushwsgi.django_application if via_django else fastwsgi.application
    return wsgi_call(
        app, path, body, headers, method=method, content_type=content_type or "application/json"
    )


def both(path, body, headers=None, **kw):
    return call(path, body, headers, **kw), call(path, body, headers, via_django=True, **kw)


def test_a_scan_and_its_repeat_answer_byte_for_byte_as_the_api(place):
    c = place["center"]
    path = f"/api/v1/centers/{c.pk}/visits"
    scan = {"k": place["code"], "device": DEVICE, "group": "elderly"}
    status, headers, body = call(path, scan)
    assert status == 201
    visit = Visit.objects.get()
    assert visit.group == "elderly" and visit.channel == "qr" and visit.user is None
    assert visit.device == codes.device_hash(DEVICE)
    data = json.loads(body)
    assert data["id"] == visit.pk and data["counted"] is True and data["center_id"] == c.pk

    # The repeat, both ways: the same bytes and headers, pointing at the first visit.
    lean, django = both(path, scan)
    assert lean == django
    assert lean[0] == 200
    assert json.loads(lean[2]) == {**data, "counted": False}
    assert Visit.objects.count() == 1

    # A first scan through each, at the same instant: the same answer but for the id.
    at = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=at):
        lean = call(path, {"k": place["code"], "device": DEVICE + "-lean"})
        django = call(path, {"k": place["code"], "device": DEVICE + "-api"}, via_django=True)
    assert lean[0] == django[0] == 201
    lean_body, django_body = json.loads(lean[2]), json.loads(django[2])
    assert lean_body["id"] != django_body["id"]
    assert lean[2].replace(b'{"id": %d,' % lean_body["id"], b"") == django[2].replace(
        b'{"id": %d,' % django_body["id"], b""
    )
    assert lean[1] == django[1]
    assert dict(lean[1])["Content-Type"] == "application/json; charset=utf-8"
    assert Visit.objects.count() == 3


def test_refusals_are_the_apis_in_the_language_asked_for(place):
    c = place["center"]
    path = f"/api/v1/centers/{c.pk}/visits"
    old = codes.code_for(c.pk, timezone.localdate() - timedelta(days=31))
    cases = [
        (path, {"k": "ABCDEFGHIJ", "device": DEVICE}, "code_invalid"),
        (path, {"k": old, "device": DEVICE}, "code_expired"),
        (path, {"k": place["code"], "device": DEVICE, "group": "pilot"}, "invalid_group"),
        ("/api/v1/centers/999999/visits", {"k": codes.today_code(999999), "device": DEVICE}, ""),
    ]
    for url, scan, code in cases:
        for headers in ({}, {"Accept-Language": "en"}, {"Cookie": "django_language=en"}):
            lean, django = both(url, scan, headers)
            assert lean == django, (scan, headers)
            assert json.loads(lean[2])["code"] == (code or "not_found")
    en = json.loads(call(path, cases[0][1], {"Accept-Language": "en"})[2])["message"]
    zh = json.loads(call(path, cases[0][1])[2])["message"]
    assert en != zh and "无效" in zh
    assert not Visit.objects.exists() and not VisitGuard.objects.exists()


def test_a_signed_in_residents_scan(place):
    c = place["center"]
    path = f"/api/v1/centers/{c.pk}/visits"
    auth = {"Authorization": f"Bearer {place['token']}"}
    status, _headers, body = call(path, {"k": place["code"], "device": DEVICE}, auth)
    assert status == 201
    visit = Visit.objects.get()
    assert visit.user == place["resident"] and visit.device == ""
    assert json.loads(body)["id"] == visit.pk
    lean, django = both(path, {"k": place["code"]}, auth)
    assert lean == django and lean[0] == 200
    assert Visit.objects.count() == 1


def test_what_the_lean_entry_is_unsure_of_goes_to_django(place):
    c = place["center"]
    path = f"/api/v1/centers/{c.pk}/visits"
    k = place["code"]
    unsure = [
        ({"k": k}, {}, "no_visitor"),  # no device, no token
        ({"k": k, "device": "short"}, {}, "no_visitor"),
        ({"k": k, "device": DEVICE}, {"Authorization": "Bearer unknown"}, "unauthorized"),
        ({"k": k, "device": DEVICE}, {"Authorization": "Basic abc"}, "unauthorized"),
        ({"k": k * 4, "device": DEVICE}, {}, "invalid_parameter"),  # k longer than 32
        ({"k": 12345, "device": DEVICE}, {}, "invalid_parameter"),
        ({"device": DEVICE}, {}, "invalid_parameter"),
    ]
    for scan, headers, code in unsure:
        lean, django = both(path, scan, headers)
        assert lean == django, scan
        assert json.loads(lean[2])["code"] == code, (scan, lean)
    broken = both(path, b"{", {})
    assert broken[0] == broken[1] and broken[0][0] in (400, 422)
    assert not Visit.objects.exists()
    # Other requests pass through, to the registration entry and on to Django.
    status, _headers, body = call(f"/api/v1/centers/{c.pk}/visits/today", b"", method="GET")
    assert status == 401 and json.loads(body)["code"] == "unauthorized"
    status, _headers, body = call(
        "/api/v1/activities/999999/registrations",
        {"person_ids": [1]},
        {"Authorization": f"Bearer {place['token']}"},
    )
    assert status == 404 and json.loads(body)["code"] == "not_found"


def test_an_unexpected_failure_is_a_logged_json_500_and_stores_nothing(place, caplog):
    c = place["center"]
    with mock.patch.object(fastwsgi.services, "check_in", side_effect=RuntimeError("boom")):
        status, headers, body = call(
            f"/api/v1/centers/{c.pk}/visits", {"k": place["code"], "device": DEVICE}
        )
    assert status == 500 and dict(headers)["Content-Type"] == "application/json"
    assert json.loads(body)["code"] == "server_error"
    assert "check-in fast path failed" in caplog.text
    assert Visit.objects.count() == 0
