"""The article's story as demo topics: labelled with the article as source, idempotent."""

import pytest

from doorstep.centers.article import load_article_centers
from doorstep.deliberation.demo import load_demo_topics
from doorstep.deliberation.models import Support, Topic, TopicEvent

pytestmark = pytest.mark.django_db


def test_article_topics_load_once_with_their_story(regions, client):
    load_article_centers()
    assert load_demo_topics() == 2
    assert load_demo_topics() == 0
    meal = Topic.objects.get(title="设立老年助餐点")
    delivery = Topic.objects.get(title__contains="送餐上门")
    assert {meal.source, delivery.source} == {"article"}
    assert meal.status == "done" and "送餐公司" in meal.resolution
    steps = list(
        TopicEvent.objects.filter(topic=meal, kind="status").values_list("to_status", flat=True)
    )
    assert steps == ["accepted", "hearing", "decided", "implementing", "done"]
    assert "油烟" in TopicEvent.objects.get(topic=meal, to_status="hearing").note
    assert meal.outcomes.get().code == "canteen"
    assert delivery.status == "accepted"
    assert not Support.objects.exists()  # the article gives no counts: none are invented
    html = client.get(f"/topics/{meal.pk}/").content.decode()
    assert "党群服务中心：走得进 坐得下 还想来" in html and "日期为示意" in html
    assert client.get(f"/topics/{delivery.pk}/").status_code == 200


def test_no_article_center_no_topics(db):
    assert load_demo_topics() == 0
