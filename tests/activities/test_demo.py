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
