"""The rooms API: spaces, availability without who booked, the free-slot search, bookings
with Idempotency-Key (one and a series), mine, cancel, door check-in, the staff's decision,
organizations; errors as {"code", "message"}."""

import json
from unittest import mock

import pytest

from doorstep.accounts.tokens import issue_token

from .conftest import NOW, THURSDAY, booked, local

pytestmark = pytest.mark.django_db


def post(client, path, body, user, **headers):
    return client.post(
        path,
        data=json.dumps(body, default=str),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issue_token(user)}",
        **headers,
    )


def get(client, path, params=None, user=None):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user)}"} if user else {}
    return client.get(path, params or {}, **extra)


@pytest.fixture(autouse=True)
def _monday_nine():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def test_book_with_idempotency_key_and_see_it_as_mine(client, tower):
    body = {
        "space_id": tower["meeting"].pk,
        "starts_at": local(THURSDAY, 14).isoformat(),
        "ends_at": local(THURSDAY, 16).isoformat(),
        "title": "楼组议事",
    }
    r1 = post(client, "/api/v1/bookings", body, tower["resident"], HTTP_IDEMPOTENCY_KEY="k-1")
    assert r1.status_code == 201, r1.content
    (b,) = r1.json()["bookings"]
    assert b["status"] == "confirmed"
    r2 = post(client, "/api/v1/bookings", body, tower["resident"], HTTP_IDEMPOTENCY_KEY="k-1")
    assert (
        r2.status_code == 200
        and r2.json()["replayed"]
        and r2.json()["bookings"][0]["id"] == b["id"]
    )
    mine = get(client, "/api/v1/bookings/mine", user=tower["resident"]).json()
    assert [m["id"] for m in mine] == [b["id"]]
    other = post(client, "/api/v1/bookings", body, tower["company_user"])
    assert other.status_code == 409 and other.json()["code"] == "slot_taken"
    assert set(other.json()) >= {"code", "message"}


def test_availability_shows_busy_never_who(client, tower):
    booked(tower, "resident", "meeting", (14, 15), title="张阿姨的生日会")
    booked(tower, "staff", "meeting", (18, 19), title="公开讲座", public=True, as_staff=True)
    r = client.get(
        f"/api/v1/spaces/{tower['meeting'].pk}/availability", {"date": THURSDAY.isoformat()}
    )
    assert r.status_code == 200
    text = r.content.decode()
    assert "生日会" not in text and "138" not in text and "居民甲" not in text
    slots = {s["starts_at"][11:16]: s for s in r.json()["slots"]}
    assert slots["14:00"]["state"] == "busy" and slots["14:00"]["title"] == ""
    assert slots["15:00"]["state"] == "busy"  # the 15-minute buffer
    assert slots["15:30"]["state"] == "free"
    assert slots["18:00"] == {**slots["18:00"], "state": "busy", "title": "公开讲座"}
    assert slots["08:00"]["state"] == "free" and "07:30" not in slots


def test_free_slot_search(client, tower):
    booked(tower, "resident", "meeting", (13, 17), title="x")
    params = {
        "day": THURSDAY.isoformat(),
        "from": "13:00",
        "to": "19:00",
        "minutes": 60,
        "people": 10,
        "equipment": ["projector"],
        "center_id": tower["center"].pk,
    }
    found = client.get("/api/v1/spaces/free", params).json()
    (hit,) = found
    assert hit["space"]["name"] == "会议室"
    # Free after 17:00 + the 15-minute buffer; starts on the half hour
    assert [s[11:16] for s in hit["starts"]] == ["17:30", "18:00"]
    params["people"] = 15  # the meeting room holds 12
    assert client.get("/api/v1/spaces/free", params).json() == []
    bad = client.get("/api/v1/spaces/free", {**params, "from": "25:00"})
    assert bad.status_code == 422 and "code" in bad.json()


def test_a_series_via_the_api_lists_skipped_dates(client, tower):
    booked(tower, "staff", "studio", (19, 20), title="讲座", as_staff=True)
    body = {
        "space_id": tower["studio"].pk,
        "starts_at": local(THURSDAY, 19).isoformat(),
        "ends_at": local(THURSDAY, 20, 30).isoformat(),
        "title": "直播",
        "organization_id": tower["company"].pk,
        "repeat": {"every_weeks": 1, "until": "2026-12-31", "on_conflict": "refuse"},
    }
    r = post(client, "/api/v1/bookings", body, tower["company_user"])
    assert r.status_code == 409 and r.json()["code"] == "series_conflicts"
    assert [c["date"] for c in r.json()["conflicts"]] == ["2026-12-10"]
    body["repeat"]["on_conflict"] = "skip"
    r = post(client, "/api/v1/bookings", body, tower["company_user"])
    assert r.status_code == 201
    assert [b["status"] for b in r.json()["bookings"]] == ["pending"] * 3
    assert [s["code"] for s in r.json()["skipped"]] == ["slot_taken"]


def test_staff_decide_and_booker_checks_in_at_the_door(client, tower):
    b = booked(
        tower, "company_user", "studio", (14, 15), title="直播", organization_id=tower["company"].pk
    )
    assert [
        x["id"] for x in get(client, "/api/v1/bookings/pending", user=tower["staff"]).json()
    ] == [b.pk]
    assert get(client, "/api/v1/bookings/pending", user=tower["resident"]).json() == []
    r = post(client, f"/api/v1/bookings/{b.pk}/decision", {"approve": False}, tower["staff"])
    assert r.status_code == 400 and r.json()["code"] == "reason_required"
    r = post(client, f"/api/v1/bookings/{b.pk}/decision", {"approve": True}, tower["staff"])
    assert r.json()["status"] == "confirmed"
    with mock.patch("django.utils.timezone.now", return_value=local(THURSDAY, 13, 55)):
        r = post(
            client,
            "/api/v1/bookings/door",
            {"door_code": tower["studio"].door_code},
            tower["company_user"],
        )
    assert r.status_code == 200 and r.json()["status"] == "checked_in"


def test_organizations_create_join_and_decide(client, tower):
    r = post(
        client,
        "/api/v1/organizations",
        {"name": "滨江读书会", "kind": "residents_team", "center_id": tower["center"].pk},
        tower["resident"],
    )
    assert r.status_code == 201 and r.json()["status"] == "pending" and r.json()["invite_code"]
    code = r.json()["invite_code"]
    j = post(client, "/api/v1/organizations/join", {"code": code}, tower["company_user"])
    assert j.status_code == 200 and j.json()["invite_code"] is None
    assert (
        post(client, "/api/v1/organizations/join", {"code": "NOPE"}, tower["company_user"]).json()[
            "code"
        ]
        == "bad_code"
    )
    body = {
        "space_id": tower["meeting"].pk,
        "starts_at": local(THURSDAY, 14).isoformat(),
        "ends_at": local(THURSDAY, 15).isoformat(),
        "title": "读书",
        "organization_id": r.json()["id"],
    }
    assert (
        post(client, "/api/v1/bookings", body, tower["company_user"]).json()["code"]
        == "organization_not_confirmed"
    )


def test_bad_input_is_a_clear_4xx(client, tower):
    r = post(
        client,
        "/api/v1/bookings",
        {
            "space_id": 999999,
            "starts_at": "2026-12-10T14:00:00+08:00",
            "ends_at": "2026-12-10T15:00:00+08:00",
            "title": "x",
        },
        tower["resident"],
    )
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = post(
        client,
        "/api/v1/bookings",
        {"space_id": tower["meeting"].pk, "starts_at": "yesterday"},
        tower["resident"],
    )
    assert r.status_code == 422 and "code" in r.json()
    r = client.post("/api/v1/bookings", data="{}", content_type="application/json")
    assert r.status_code == 401
