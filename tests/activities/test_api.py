from datetime import timedelta

import pytest
from django.utils import timezone

from doorstep.accounts.tokens import issue_token
from tests.factories import make_account, make_activity, make_center, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(regions):
    center = make_center("东明路街道社区党群服务中心", district="浦东新区")
    this_year = timezone.now().year
    chess = make_activity(center, title="暑期象棋课", capacity=2, age_min=5, age_max=10)
    talk = make_activity(center, title="健康讲座", category="health", audience="elderly")
    parent = make_account(children=(("多多", this_year - 7),))
    return {
        "center": center,
        "chess": chess,
        "talk": talk,
        "parent": parent,
        "auth": {"HTTP_AUTHORIZATION": f"Bearer {issue_token(parent)}"},
    }


def people(account):
    return list(account.people.values_list("id", flat=True))


def test_list_and_filter(client, world):
    r = client.get("/api/v1/activities")
    assert r.status_code == 200
    titles = [i["title"] for i in r.json()["items"]]
    assert titles == ["暑期象棋课", "健康讲座"]
    item = r.json()["items"][0]
    assert item["state"] == "open" and item["seats_left"] == 2
    assert client.get("/api/v1/activities", {"category": "health"}).json()["count"] == 1
    assert client.get("/api/v1/activities", {"audience": "elderly"}).json()["count"] == 1
    assert client.get("/api/v1/activities", {"center": world["center"].pk}).json()["count"] == 2
    week = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert client.get("/api/v1/activities", {"from": week}).json()["count"] == 0
    r = client.get("/api/v1/activities", {"category": "karaoke"})
    assert r.status_code == 400 and r.json()["code"] == "unknown_category"
    r = client.get("/api/v1/activities", {"from": "not-a-date"})
    assert r.status_code == 422


def test_register_with_idempotency_then_full(client, world):
    url = f"/api/v1/activities/{world['chess'].pk}/registrations"
    body = {"person_ids": people(world["parent"])}
    r = client.post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc-1", **world["auth"]
    )
    assert r.status_code == 201, r.content
    regs = r.json()["registrations"]
    assert [x["status"] for x in regs] == ["confirmed", "confirmed"]
    again = client.post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc-1", **world["auth"]
    )
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert [x["id"] for x in again.json()["registrations"]] == [x["id"] for x in regs]
    r = client.get(f"/api/v1/activities/{world['chess'].pk}")
    assert r.json()["seats_left"] == 0 and r.json()["state"] == "waitlist"
    # Without the key, a second try is refused as a duplicate.
    r = client.post(url, body, content_type="application/json", **world["auth"])
    assert r.status_code == 400 and r.json()["code"] == "already_registered"


def test_auth_required_and_errors_are_json(client, world):
    url = f"/api/v1/activities/{world['chess'].pk}/registrations"
    r = client.post(url, {"person_ids": [1]}, content_type="application/json")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = client.post(url, {"person_ids": "x"}, content_type="application/json", **world["auth"])
    assert r.status_code == 422 and r.json()["code"] == "invalid_parameter"
    r = client.post(
        "/api/v1/activities/999999/registrations",
        {"person_ids": [1]},
        content_type="application/json",
        **world["auth"],
    )
    assert r.status_code == 404


def test_my_registrations_ticket_cancel(client, world):
    url = f"/api/v1/activities/{world['talk'].pk}/registrations"
    holder = world["parent"].people.get(is_account_holder=True).pk
    r = client.post(url, {"person_ids": [holder]}, content_type="application/json", **world["auth"])
    reg_id = r.json()["registrations"][0]["id"]
    mine = client.get("/api/v1/me/registrations", **world["auth"]).json()
    assert [m["id"] for m in mine] == [reg_id]
    t = client.get(f"/api/v1/registrations/{reg_id}/ticket", **world["auth"])
    assert t.status_code == 200 and t.json()["qr_svg"].startswith("<svg")
    other = make_account()
    other_auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(other)}"}
    assert client.get(f"/api/v1/registrations/{reg_id}/ticket", **other_auth).status_code == 404
    assert client.delete(f"/api/v1/registrations/{reg_id}", **other_auth).status_code == 404
    r = client.delete(f"/api/v1/registrations/{reg_id}", **world["auth"])
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = client.get(f"/api/v1/registrations/{reg_id}/ticket", **world["auth"])
    assert r.status_code == 409 and r.json()["code"] == "no_ticket"


def test_staff_check_in_through_the_api(client, world):
    url = f"/api/v1/activities/{world['talk'].pk}/registrations"
    holder = world["parent"].people.get(is_account_holder=True).pk
    reg_id = client.post(
        url, {"person_ids": [holder]}, content_type="application/json", **world["auth"]
    ).json()["registrations"][0]["id"]
    token = client.get(f"/api/v1/registrations/{reg_id}/ticket", **world["auth"]).json()["token"]
    # A resident cannot check people in.
    r = client.post(
        "/api/v1/checkins",
        {"token": token, "nonce": "n-000001"},
        content_type="application/json",
        **world["auth"],
    )
    assert r.status_code == 403
    staff = make_staff(center=world["center"])
    staff_auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(staff)}"}
    activity = world["talk"]
    from doorstep.activities.checkin import check_in

    # The activity is next week: a scan today is the wrong day.
    r = client.post(
        "/api/v1/checkins",
        {"token": token, "nonce": "n-000002"},
        content_type="application/json",
        **staff_auth,
    )
    assert r.status_code == 200 and r.json()["code"] == "wrong_day"
    result = check_in(token=token, nonce="n-000003", staff=staff, now=activity.starts_at)
    assert result.code == "welcome"


def test_lottery_draw_record_is_public(client, world):
    lottery = make_activity(
        world["center"], title="抽签课", allocation="lottery", audience="everyone"
    )
    r = client.get(f"/api/v1/activities/{lottery.pk}/draw")
    assert r.status_code == 200
    assert r.json()["commitment"] == lottery.lottery_commitment and r.json()["seed"] is None
    assert client.get(f"/api/v1/activities/{world['chess'].pk}/draw").status_code == 404
