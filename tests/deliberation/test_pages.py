"""Pages: list, topic, propose (with photos), resident actions, staff pages within scope,
escaping everywhere, errors as messages (never a 500)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from doorstep.deliberation import services
from doorstep.deliberation.models import Comment, Follow, Photo, Support, Topic
from tests.deliberation.conftest import image_bytes
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

EVIL = "<b>粗体</b>"  # markup is refused on input; stored text (e.g. from an import) still escaped


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def test_list_shows_topics_formula_and_filters(english, topic):
    r = english.get("/topics/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "老年助餐点" in html
    assert "score = Σ supports × 0.8^d + 0.5 × Σ comments × 0.8^d" in html
    assert english.get("/topics/?sort=new&status=collected").status_code == 200
    assert english.get(f"/topics/?center={topic.center_id}").status_code == 200
    assert "老年助餐点" not in english.get("/topics/?status=done").content.decode()
    assert english.get("/topics/?page=abc&center=zz&status=<x>").status_code == 200


def test_chinese_is_the_default(client, topic):
    html = client.get(f"/topics/{topic.pk}/").content.decode()
    assert "时间线" in html and "支持" in html


def test_text_is_escaped_on_every_page(english, topic, staff, neighbours):
    Topic.objects.filter(pk=topic.pk).update(title=EVIL, description=EVIL)
    Comment.objects.create(
        topic=topic, author=neighbours[0], text=EVIL, created_at=topic.created_at
    )
    services.report_comment(comment_id=Comment.objects.get().pk, user=neighbours[1])
    english.force_login(staff)
    for url in (
        "/topics/",
        f"/topics/{topic.pk}/",
        "/staff/topics/",
        f"/staff/topics/{topic.pk}",
        "/staff/topics/moderation",
    ):
        html = english.get(url).content.decode()
        assert "<b>粗体</b>" not in html, url
        assert "&lt;b&gt;粗体&lt;/b&gt;" in html, url


def test_propose_page_explains_and_creates_with_photo(english, resident, center, settings):
    english.force_login(resident)
    r = english.get(f"/topics/new?center={center.pk}")
    assert r.status_code == 200
    assert "What we ask and why" in r.content.decode()
    r = english.post(
        "/topics/new",
        {
            "title": "增加助餐点",
            "description": "老人吃饭难",
            "category": "elderly_care",
            "center": center.pk,
            "photos": [SimpleUploadedFile("a.jpg", image_bytes(), content_type="image/jpeg")],
        },
    )
    topic = Topic.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/topics/{topic.pk}/"
    photo = Photo.objects.get()
    r = english.get(f"/topics/{topic.pk}/photos/{photo.pk}")
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert b"".join(r.streaming_content)[:2] == b"\xff\xd8"
    assert english.get(f"/topics/{topic.pk + 1}/photos/{photo.pk}").status_code == 404


def test_propose_errors_show_on_the_page_and_keep_the_text(english, resident, center):
    english.force_login(resident)
    r = english.post(
        "/topics/new",
        {
            "title": "<script>alert(1)</script>",
            "description": "描述保留",
            "category": "other",
            "center": center.pk,
        },
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert 'role="alert"' in html and "without HTML tags" in html
    assert "描述保留" in html and "<script>alert(1)</script>" not in html
    r = english.post(
        "/topics/new",
        {
            "title": "照片",
            "description": "d",
            "category": "other",
            "center": center.pk,
            "photos": [SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg")],
        },
    )
    assert r.status_code == 400 and "not a photo we can read" in r.content.decode()
    assert not Topic.objects.exists()


def test_propose_needs_sign_in(client):
    r = client.get("/topics/new")
    assert r.status_code == 302 and "/account/sign-in" in r["Location"]


def test_support_follow_comment_report_through_pages(english, topic, neighbours):
    a, b, _c = neighbours
    english.force_login(a)
    english.post(f"/topics/{topic.pk}/support")
    english.post(f"/topics/{topic.pk}/follow")
    r = english.post(f"/topics/{topic.pk}/comments", {"text": "赞成"}, follow=True)
    assert "Your comment is posted." in r.content.decode()
    assert Support.objects.filter(topic=topic, user=a).exists()
    assert Follow.objects.filter(topic=topic, user=a).exists()
    html = english.get(f"/topics/{topic.pk}/").content.decode()
    assert "Supported: withdraw" in html and "Following: stop" in html
    r = english.post(f"/topics/{topic.pk}/comments", {"text": ""}, follow=True)
    assert 'role="alert"' in r.content.decode()
    english.force_login(b)
    c = Comment.objects.get()
    r = english.post(f"/topics/{topic.pk}/comments/{c.pk}/report", {"reason": "x"}, follow=True)
    assert "staff will look" in r.content.decode()
    assert english.post("/topics/999999/support").status_code == 404


def test_staff_pages_move_and_stay_in_scope(english, topic, staff, other_center, neighbours):
    services.follow(topic_id=topic.pk, user=neighbours[0])
    english.force_login(staff)
    r = english.get(f"/staff/topics/{topic.pk}")
    assert r.status_code == 200
    options = re.findall(
        r'<option value="(\w+)">', r.content.decode().split('id="m-to"')[1].split("</select>")[0]
    )
    assert options == ["accepted", "declined"]
    r = english.post(f"/staff/topics/{topic.pk}/move", {"to": "done"}, follow=True)
    assert "cannot go from" in r.content.decode()
    r = english.post(
        f"/staff/topics/{topic.pk}/move", {"to": "accepted", "note": "受理"}, follow=True
    )
    assert Topic.objects.get(pk=topic.pk).status == "accepted"
    r = english.post(
        f"/staff/topics/{topic.pk}/meetings",
        {
            "kind": "hearing",
            "center": topic.center_id,
            "starts_at": "2099-13-01T10:00",
            "ends_at": "x",
            "capacity": "5",
        },
        follow=True,
    )
    assert r.status_code == 200 and "is not a date and time" in r.content.decode()
    outsider = make_staff(center=other_center)
    english.force_login(outsider)
    assert english.get(f"/staff/topics/{topic.pk}").status_code == 404
    assert english.post(f"/staff/topics/{topic.pk}/move", {"to": "hearing"}).status_code == 404
    assert "老年助餐点" not in english.get("/staff/topics/").content.decode()


def test_staff_schedules_a_meeting_and_adds_milestones(english, topic, staff):
    english.force_login(staff)
    english.post(f"/staff/topics/{topic.pk}/move", {"to": "accepted"})
    english.post(
        f"/staff/topics/{topic.pk}/meetings",
        {
            "kind": "hearing",
            "center": topic.center_id,
            "starts_at": "2099-01-10T14:00",
            "ends_at": "2099-01-10T16:00",
            "capacity": "25",
            "representatives": "张三，李四、王五",
        },
        follow=True,
    )
    meeting = topic.meetings.get()
    assert meeting.representatives == ["张三", "李四", "王五"]
    html = english.get(f"/topics/{topic.pk}/").content.decode()
    assert f"/activities/{meeting.activity_id}/" in html
    english.post(
        f"/staff/topics/{topic.pk}/move", {"to": "decided", "resolution": "由餐饮公司配送"}
    )
    english.post(
        f"/staff/topics/{topic.pk}/milestones",
        {"title": "签约", "responsible": "中心", "expected_date": "2099-02-01", "progress": "40"},
    )
    assert topic.milestones.get().progress == 40
    html = english.get(f"/topics/{topic.pk}/").content.decode()
    assert 'value="40"' in html and "由餐饮公司配送" in html


def test_moderation_page_hides_with_reason(english, topic, staff, neighbours):
    c = services.comment(topic_id=topic.pk, user=neighbours[0], text="留个电话13800000000")
    services.report_comment(comment_id=c.pk, user=neighbours[1])
    english.force_login(staff)
    assert "13800000000" in english.get("/staff/topics/moderation").content.decode()
    english.post(f"/staff/topics/comments/{c.pk}", {"action": "hide", "reason": "含电话号码"})
    html = english.get(f"/topics/{topic.pk}/").content.decode()
    assert "13800000000" not in html and "含电话号码" in html


def test_rating_form_at_evaluation(english, topic, staff, resident):
    for step in ("accepted", "decided", "implementing", "done", "evaluation"):
        services.transition(topic_id=topic.pk, to=step, by=staff, resolution="配送")
    english.force_login(resident)
    r = english.post(f"/topics/{topic.pk}/rate", {"score": "2"}, follow=True)
    assert "You rated the result 2 of 5." in r.content.decode()
    english.force_login(staff)
    html = english.get(f"/staff/topics/{topic.pk}").content.decode()
    assert "The rating is poor" in html


def test_topic_page_queries_do_not_grow_with_its_history(
    english, topic, staff, neighbours, django_assert_max_num_queries
):
    from datetime import date

    for step in ("accepted", "decided", "implementing"):
        services.transition(topic_id=topic.pk, to=step, by=staff, resolution="配送")
    for i in range(8):
        services.add_milestone(
            topic_id=topic.pk,
            by=staff,
            title=f"步骤{i}",
            responsible="中心",
            expected_date=date(2027, 1, i + 1),
        )
    for p in neighbours:
        services.support(topic_id=topic.pk, user=p)
        for i in range(4):
            services.comment(topic_id=topic.pk, user=p, text=f"留言{i}")
    english.force_login(neighbours[0])
    with django_assert_max_num_queries(16):
        r = english.get(f"/topics/{topic.pk}/")
    assert r.status_code == 200 and r.content.decode().count('class="topic-text">留言') == 12


def test_staff_pages_send_others_to_the_staff_sign_in(client, topic, resident):
    for who in (None, resident):
        if who:
            client.force_login(who)
        for url in ("/staff/topics/", f"/staff/topics/{topic.pk}", "/staff/topics/moderation"):
            r = client.get(url)
            assert r.status_code == 302 and "/staff" in r["Location"] and "sign-in" in r["Location"]
        r = client.post(f"/staff/topics/{topic.pk}/move", {"to": "accepted"})
        assert r.status_code == 302
    assert Topic.objects.get(pk=topic.pk).status == "collected"


def test_the_center_one_came_from_is_offered_even_beyond_the_list(english, resident, center):
    english.force_login(resident)
    html = english.get(f"/topics/new?center={center.pk}").content.decode()
    # A type-ahead over the whole directory, already holding the center one came from.
    assert f'name="center" id="t-center" value="{center.pk}"' in html
    assert f'value="{center.display_name}"' in html and '<select id="t-center"' not in html
