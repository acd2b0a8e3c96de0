import pytest
from django.utils import translation

from doorstep.activities.demo import load_demo_schedule
from doorstep.activities.models import Activity
from doorstep.centers.article import load_article_centers

pytestmark = pytest.mark.django_db


def test_demo_schedule_is_labelled_synthetic_and_idempotent(client, regions):
    load_article_centers()
    first = load_demo_schedule()
    assert first["created"] > 50
    assert load_demo_schedule() == {"created": 0, "unchanged": first["created"]}
    assert not Activity.objects.filter(synthetic=False).exists()
    # The parent-child featured center runs the chess class the article mentions.
    chess = Activity.objects.filter(center__name__contains="东明路", category="chess").first()
    assert chess is not None and chess.status == "published"
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        html = client.get(f"/activities/{chess.pk}/").content.decode()
    assert "Synthetic example" in html


def test_dongming_runs_about_twenty_a_day_and_titles_fit_the_season(regions):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    load_article_centers()
    winter = datetime(2026, 12, 3, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    load_demo_schedule(now=winter)
    dongming = Activity.objects.filter(center__name__contains="东明路")
    per_day: dict = {}
    for a in dongming:
        day = timezone.localtime(a.starts_at).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert len(per_day) == 13 and set(per_day.values()) == {21}  # 每天差不多有20多场
    assert not Activity.objects.filter(title__contains="暑期").exists()  # not in December
    assert Activity.objects.filter(description__contains="冬季养生").exists()
    assert all(a.title_en for a in Activity.objects.all())
    summer = datetime(2027, 7, 20, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    load_demo_schedule(now=summer)
    assert Activity.objects.filter(title="暑期象棋课", title_en="Summer Chess class").exists()
