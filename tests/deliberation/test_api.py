"""The deliberation API: every refusal is 4xx JSON {code, message}; nothing half-stored."""

import pytest

from doorstep.accounts.tokens import issue_token
from doorstep.deliberation.models import Comment, Support, Topic
from doorstep.inbox.models import Notice
from tests.factories import make_staff

pytestmark = pytest.mark.django_db


def auth(user):
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user)}"}


def post(client, url, user, data=None, method="post"):
    return getattr(client, method)(
        url, data=data or {}, content_type="application/json", **(auth(user) if user else {})
    )


def test_propose_support_follow_comment_and_read(client, center, resident, neighbours):
    r = post(
        client,
        "/api/v1/topics",
        resident,
        {
            "title": "送餐上门",
            "description": "行动不便的老人希望送餐上门。",
            "category": "elderly_care",
            "center_id": center.pk,
        },
    )
    assert r.status_code == 201, r.content
    topic_id = r.json()["id"]
    assert r.json()["status"] == "collected"
    assert r.json()["timeline"][0]["kind"] == "proposed"
    a = neighbours[0]
    assert post(client, f"/api/v1/topics/{topic_id}/support", a).json() == {"changed": True}
    assert post(client, f"/api/v1/topics/{topic_id}/support", a).json() == {"changed": False}
    assert post(client, f"/api/v1/topics/{topic_id}/follow", neighbours[1]).json()["changed"]
    r = post(client, f"/api/v1/topics/{topic_id}/comments", a, {"text": "我也需要"})
    assert r.status_code == 201 and r.json()["text"] == "我也需要"
    listing = client.get("/api/v1/topics").json()
    assert listing["count"] == 1
    item = listing["items"][0]
    assert item["support_count"] == 1 and item["comment_count"] == 1 and item["hot_score"] == 1.5
    assert client.get(f"/api/v1/topics/{topic_id}").json()["title"] == "送餐上门"


def test_anonymous_writes_are_401(client, topic):
    r = client.post(f"/api/v1/topics/{topic.pk}/support")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert not Support.objects.exists()


@pytest.mark.parametrize(
    "body,code",
    [
        ({"title": "", "description": "d", "category": "other"}, "invalid"),
        ({"title": "t" * 100_000, "description": "d", "category": "other"}, "too_long"),
        (
            {"title": "<script>x</script>", "description": "d", "category": "other"},
            "markup_not_allowed",
        ),
        ({"title": "ok", "description": "d", "category": "nope"}, "invalid"),
    ],
)
def test_bad_proposals_are_400_json_and_store_nothing(client, center, resident, body, code):
    r = post(client, "/api/v1/topics", resident, {**body, "center_id": center.pk})
    assert r.status_code == 400
    assert r.json()["code"] == code and r.json()["message"]
    assert not Topic.objects.exists()


def test_missing_fields_are_422(client, resident):
    r = post(client, "/api/v1/topics", resident, {"title": "x"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_parameter"


def test_staff_moves_with_codes_for_illegal_steps_and_residents_cannot(
    client, topic, staff, resident, neighbours
):
    post(client, f"/api/v1/topics/{topic.pk}/follow", neighbours[0])
    r = post(client, f"/api/v1/topics/{topic.pk}/transitions", resident, {"to": "accepted"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = post(client, f"/api/v1/topics/{topic.pk}/transitions", staff, {"to": "done"})
    assert r.status_code == 409
    assert r.json()["code"] == "topic_transition_not_allowed"
    assert r.json()["from_status"] == "collected" and r.json()["to_status"] == "done"
    r = post(client, f"/api/v1/topics/{topic.pk}/transitions", staff, {"to": "accepted"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert [e["to_status"] for e in r.json()["timeline"]] == ["collected", "accepted"]
    assert Notice.objects.filter(user=neighbours[0], kind="topic_status").count() == 1
    r = post(client, "/api/v1/topics/999999/transitions", staff, {"to": "accepted"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_milestones_and_merge_over_the_api(client, topic, staff, center, resident):
    for step, extra in (("accepted", {}), ("decided", {"resolution": "配送"})):
        assert (
            post(
                client, f"/api/v1/topics/{topic.pk}/transitions", staff, {"to": step, **extra}
            ).status_code
            == 200
        )
    r = post(
        client,
        f"/api/v1/topics/{topic.pk}/milestones",
        staff,
        {"title": "签约餐饮公司", "responsible": "古北市民中心", "expected_date": "2027-01-15"},
    )
    assert r.status_code == 201
    r = post(
        client, f"/api/v1/milestones/{r.json()['id']}", staff, {"progress": 150}, method="patch"
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    other = Topic.objects.create(
        center=center, proposer=resident, title="重复", description="d", category="other"
    )
    r = post(client, f"/api/v1/topics/{other.pk}/merge", staff, {"into": topic.pk})
    assert r.status_code == 200 and r.json()["merged_into_id"] == topic.pk


def test_report_and_hide_comment(client, topic, staff, neighbours, other_center):
    c = Comment.objects.create(
        topic=topic, author=neighbours[0], text="广告", created_at=topic.created_at
    )
    assert post(
        client, f"/api/v1/comments/{c.pk}/report", neighbours[1], {"reason": "广告"}
    ).json()["changed"]
    outsider = make_staff(center=other_center)
    r = post(client, f"/api/v1/comments/{c.pk}/hide", outsider, {"reason": "广告"})
    assert r.status_code == 403
    r = post(client, f"/api/v1/comments/{c.pk}/hide", staff, {"reason": ""})
    assert r.status_code == 400 and r.json()["code"] == "invalid"
    assert (
        post(client, f"/api/v1/comments/{c.pk}/hide", staff, {"reason": "广告"}).status_code == 200
    )
    assert Comment.objects.get(pk=c.pk).hidden
    shown = client.get(f"/api/v1/topics/{topic.pk}").json()["comments"]
    assert shown == [
        {
            "id": c.pk,
            "text": "",
            "hidden": True,
            "hidden_reason": "广告",
            "created_at": shown[0]["created_at"],
        }
    ]


def test_list_refuses_unknown_sort_and_status(client):
    assert client.get("/api/v1/topics", {"sort": "x"}).json()["code"] == "invalid"
    r = client.get("/api/v1/topics", {"status": "nope"})
    assert r.status_code == 400 and r.json()["code"] == "invalid"
