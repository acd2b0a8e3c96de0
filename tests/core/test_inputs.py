"""The API's one input rule (core/inputs.py): every input the audit found answered with a 500
is now a clean 4xx, and nothing is stored.

Each case names an endpoint where the value reached the database before the rule: NUL is
refused by PostgreSQL (a 500) and stored by SQLite; an integer beyond 64 bits overflows both;
a naive or year-1 date-time breaks the move to UTC.
"""

import json

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.accounts.models import User
from doorstep.accounts.tokens import issue_token
from doorstep.core.inputs import FORBIDDEN_TEXT, INT_MAX, problem, problems
from doorstep.deliberation import services as deliberation
from doorstep.deliberation.models import Topic
from doorstep.visits.models import ServiceRecord
from tests.factories import make_account, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(regions):
    center = make_center("长宁区古北市民中心", subdistrict="虹桥街道")
    staff = make_staff(scope="city")
    resident = make_account(name="李阿姨")
    return {
        "center": center,
        "staff": {"HTTP_AUTHORIZATION": f"Bearer {issue_token(staff)}"},
        "staff_user": staff,
        "resident": {"HTTP_AUTHORIZATION": f"Bearer {issue_token(resident)}"},
        "resident_user": resident,
    }


def send(client, method, url, body, auth):
    return getattr(client, method)(
        url, data=json.dumps(body), content_type="application/json", **auth
    )


def refused(response, field: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid_parameter" and body["message"]
    assert any(e["field"].endswith(field) for e in body["errors"]), body


def test_nul_in_text_is_refused_everywhere_the_audit_found_it(client, world):
    resident, staff, center = world["resident"], world["staff"], world["center"]
    refused(
        send(client, "patch", "/api/v1/me", {"home_subdistrict": "3101\x00"}, resident),
        "home_subdistrict",
    )
    assert User.objects.get(pk=world["resident_user"].pk).home_subdistrict_id is None
    topic = {
        "title": "希望送餐上门",
        "description": "x",
        "category": "elderly_care",
        "region_code": "\x00",
    }
    refused(send(client, "post", "/api/v1/topics", topic, resident), "region_code")
    assert not Topic.objects.exists()
    refused(
        send(client, "post", "/api/v1/checkins", {"token": "x", "nonce": "abc\x00defgh"}, staff),
        "nonce",
    )
    r = client.get("/api/v1/figures", {"region": "\x00"}, **staff)
    refused(r, "region")
    service = {"service": "canteen_meal", "count": 3, "note": "午餐\x00"}
    refused(send(client, "post", f"/api/v1/centers/{center.pk}/services", service, staff), "note")
    assert not ServiceRecord.objects.exists()


@pytest.mark.parametrize(
    "at", ["2026-12-01T10:00:00", "0001-01-01T00:00:00+14:00", "1899-12-31T23:00:00+08:00"]
)
def test_naive_and_out_of_range_times_are_refused(client, world, at):
    service = {"service": "canteen_meal", "count": 3, "at": at}
    r = send(
        client, "post", f"/api/v1/centers/{world['center'].pk}/services", service, world["staff"]
    )
    refused(r, "at")
    assert not ServiceRecord.objects.exists()


def test_an_aware_time_in_range_is_taken(client, world):
    at = (timezone.now() - timezone.timedelta(hours=1)).isoformat()
    service = {"service": "canteen_meal", "count": 3, "at": at}
    r = send(
        client, "post", f"/api/v1/centers/{world['center'].pk}/services", service, world["staff"]
    )
    assert r.status_code == 201, r.content
    assert ServiceRecord.objects.count() == 1


def test_integers_beyond_64_bits_are_refused(client, world):
    resident, staff = world["resident"], world["staff"]
    r = client.get("/api/v1/me/notices", {"offset": str(INT_MAX + 1)}, **resident)
    refused(r, "offset")
    assert client.get("/api/v1/me/notices", {"offset": str(INT_MAX)}, **resident).status_code == 200
    refused(send(client, "post", "/api/v1/me/notices/read", {"ids": [1, 2**64]}, resident), "ids.1")
    topic = deliberation.propose(
        user=world["resident_user"],
        title="希望送餐上门",
        description="老人希望能送餐上门。",
        category="elderly_care",
        center_id=world["center"].pk,
    )
    r = send(client, "post", f"/api/v1/topics/{topic.pk}/merge", {"into": 2**70}, staff)
    refused(r, "into")
    assert Topic.objects.get(pk=topic.pk).merged_into_id is None


def test_a_body_over_the_upload_limit_is_413_json(client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"name": "x" * 2000}
    r = send(client, "post", "/api/v1/me/people", body, world["resident"])
    assert r.status_code == 413
    assert r.json() == {"code": "too_large", "message": "请求的内容过大。"}


def test_a_page_form_over_the_upload_limit_is_413_in_the_users_language(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = client.post("/account/sign-in", {"step": "phone", "phone": "1" * 2000})
    assert r.status_code == 413
    page = r.content.decode()
    assert "请求的内容过大。" in page and 'lang="zh-Hans"' in page
    client.cookies["django_language"] = "en"
    r = client.post("/account/sign-in", {"step": "phone", "phone": "1" * 2000})
    assert r.status_code == 413 and "The request is too large." in r.content.decode()


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(),
        st.datetimes(timezones=st.none() | st.timezones()),
        st.dates(),
    )
)
def test_the_rule_for_one_value(value):
    """What the rule refuses, by kind: an oracle written from the rule's own words."""
    from datetime import UTC, date, datetime

    reason = problem(value)
    if isinstance(value, int):
        assert (reason is None) == (-(2**63) <= value <= 2**63 - 1)
    elif isinstance(value, float):
        assert (reason is None) == (value == value and abs(value) != float("inf"))
    elif isinstance(value, str):
        bad = any(
            (ord(c) < 32 and c not in "\t\n\r")
            or 0x7F <= ord(c) <= 0x9F
            or 0xD800 <= ord(c) <= 0xDFFF
            or c in "\ufffe\uffff"
            for c in value
        )
        assert (reason is None) == (not bad)
        assert bool(FORBIDDEN_TEXT.search(value)) == bad
    elif isinstance(value, datetime):
        if value.utcoffset() is None:
            assert reason is not None
        else:
            fits = datetime(1900, 1, 1, tzinfo=UTC) <= value < datetime(2101, 1, 1, tzinfo=UTC)
            assert (reason is None) == fits
    else:
        assert (reason is None) == (date(1900, 1, 1) <= value <= date(2100, 12, 31))


def test_the_rule_walks_into_lists_maps_and_models():
    from ninja import Schema

    class Inner(Schema):
        text: str

    class Outer(Schema):
        items: list[Inner]
        tags: dict[str, int]

    value = Outer(items=[Inner(text="ok"), Inner(text="a\x00")], tags={"k\x01": 1, "n": 2**64})
    assert [loc for loc, _reason in problems(value, ("body",))] == [
        ("body", "items", 1, "text"),
        ("body", "tags", "k\x01"),
        ("body", "tags", "n"),
    ]
