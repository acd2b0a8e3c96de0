import pytest

from doorstep.centers.article import load_article_centers
from doorstep.legislation.demo import load_demo_drafts
from doorstep.legislation.models import ContactPoint, Draft, Opinion
from doorstep.legislation.selectors import funnel

pytestmark = pytest.mark.django_db


def test_demo_drafts_are_synthetic_labelled_and_idempotent(regions, en):
    load_article_centers()
    assert load_demo_drafts() == {"created": 2, "unchanged": 0}
    assert load_demo_drafts() == {"created": 0, "unchanged": 2}
    point = ContactPoint.objects.get()
    assert point.source == "article" and point.designated_on.year == 2015
    assert point.center.name == "长宁区虹桥街道社区党群服务中心"
    assert not Draft.objects.filter(synthetic=False).exists()
    assert not Opinion.objects.filter(synthetic=False).exists()
    f = funnel()
    assert (f.heard, f.submitted, f.adopted, f.not_adopted) == (5, 4, 2, 1)
    open_draft = Draft.objects.get(status="open")
    html = en.get(f"/legislation/drafts/{open_draft.pk}/").content.decode()
    assert "Synthetic example" in html and "Comment on 第二条" in html
    html = en.get("/legislation/funnel/").content.decode()
    assert html.count("Synthetic example") == 2


def test_demo_without_the_article_centers_does_nothing(db):
    assert load_demo_drafts() == {"created": 0, "unchanged": 0}
