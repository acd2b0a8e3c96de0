import json

import pytest

from doorstep.accounts.tokens import issue_token
from doorstep.legislation.models import Opinion

from .conftest import close_and_send, opine

pytestmark = pytest.mark.django_db


def bearer(user):
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user)}"}


def post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_read_drafts_and_structure(world, client, django_assert_max_num_queries):
    draft = world["draft"]
    opine(world, "alice", 2, "意见", paragraph=3)
    with django_assert_max_num_queries(3):
        r = client.get("/api/v1/legislation/drafts")
    assert r.status_code == 200
    (d,) = r.json()
    assert (d["id"], d["accepting_opinions"], d["synthetic"], d["opinions"]) == (
        draft.pk,
        True,
        True,
        1,
    )
    with django_assert_max_num_queries(6):
        r = client.get(f"/api/v1/legislation/drafts/{draft.pk}")
    body = r.json()
    assert [a["label"] for a in body["articles"]] == ["第一条", "第二条", "第十二条", "第十三条"]
    second = body["articles"][1]
    assert second["chapter"] == "第一章 总则" and second["opinions"] == 1
    assert [p["opinions"] for p in second["paragraphs"]] == [0, 0, 1]
    assert body["articles"][2]["chapter"] == "第一节 一般规定"


def test_drafts_in_preparation_are_not_public(world, client):
    from datetime import timedelta

    from django.utils import timezone

    from doorstep.legislation import services

    other = services.import_draft(
        by=world["staff"],
        contact_point_id=world["point"].pk,
        title="未公开",
        text="第一条　甲。",
        opens_at=timezone.now(),
        closes_at=timezone.now() + timedelta(days=1),
    )
    r = client.get(f"/api/v1/legislation/drafts/{other.pk}")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert [d["id"] for d in client.get("/api/v1/legislation/drafts").json()] == [world["draft"].pk]


def test_post_an_opinion_and_follow_it(world, client):
    draft, article = world["draft"], world["articles"][2]
    url = f"/api/v1/legislation/drafts/{draft.pk}/opinions"
    para = article.paragraphs.get(number=2)
    r = post(client, url, {"article_id": article.pk, "paragraph_id": para.pk, "text": "建议"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    auth = bearer(world["alice"])
    r = post(
        client, url, {"article_id": article.pk, "paragraph_id": para.pk, "text": "建议"}, **auth
    )
    assert r.status_code == 201
    assert r.json()["address"] == "第二条第二款" and r.json()["status"] == "heard"
    r = post(
        client, url, {"article_id": article.pk, "paragraph_id": para.pk, "text": "建议"}, **auth
    )
    assert r.status_code == 409 and r.json()["code"] == "repeated"
    mine = client.get("/api/v1/legislation/opinions/mine", **auth).json()
    assert [o["timeline"][0]["to_status"] for o in mine] == ["heard"]
    assert client.get("/api/v1/legislation/opinions/mine", **bearer(world["bob"])).json() == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": ""}, 400, "empty"),
        ({"text": "长" * 2001}, 400, "too_long"),
        ({"text": "<script>alert(1)</script>"}, 400, "markup"),
        ({"text": "好", "article_id": 999999}, 400, "bad_article"),
        ({"text": "好", "paragraph_id": 999999}, 400, "bad_paragraph"),
        ({"article_id": "x", "text": "好"}, 422, "invalid_parameter"),
    ],
)
def test_bad_opinions_get_a_code_and_nothing_is_stored(world, client, body, status, code):
    payload = {"article_id": world["articles"][1].pk, **body}
    r = post(
        client,
        f"/api/v1/legislation/drafts/{world['draft'].pk}/opinions",
        payload,
        **bearer(world["alice"]),
    )
    assert r.status_code == status
    assert r.json()["code"] == code and r.json()["message"]
    assert Opinion.objects.count() == 0


def test_closed_draft_refuses_opinions(world, client):
    close_and_send(world)
    r = post(
        client,
        f"/api/v1/legislation/drafts/{world['draft'].pk}/opinions",
        {"article_id": world["articles"][1].pk, "text": "晚了"},
        **bearer(world["alice"]),
    )
    assert r.status_code == 409 and r.json()["code"] == "period_closed"


def test_funnel(world, client):
    opine(world, "alice", 1, "一")
    opine(world, "bob", 1, "二")
    r = client.get("/api/v1/legislation/funnel").json()
    assert r["total"] == {
        "heard": 2,
        "submitted": 0,
        "adopted": 0,
        "not_adopted": 0,
        "residents": 2,
    }
    assert r["drafts"][0]["draft_id"] == world["draft"].pk
