"""The demo's canteens: the article's facts carry the article as source; menus and subsidy
bands are labelled synthetic; loading twice changes nothing."""

import pytest

from doorstep.centers.article import load_article_centers
from doorstep.meals.demo import load_demo_meals
from doorstep.meals.models import Canteen, Menu, MenuItem, SubsidyBand

pytestmark = pytest.mark.django_db


def test_the_articles_canteens_and_a_synthetic_week(regions):
    load_article_centers()
    first = load_demo_meals(days=3)
    assert first["canteens"] == 3 and first["menus"] == 9
    assert load_demo_meals(days=3) == {"canteens": 0, "menus": 0, "subsidy bands": 0}
    for canteen in Canteen.objects.all():
        assert canteen.source == "article" and "走得进 坐得下 还想来" in canteen.source_detail
    assert not Menu.objects.filter(synthetic=False).exists()
    assert set(SubsidyBand.objects.values_list("source", flat=True)) == {"synthetic"}
    riders = MenuItem.objects.filter(
        menu__canteen__name="万有引力社区食堂", dish__name="一荤两素一汤"
    )
    assert {i.rider_price_fen for i in riders} == {1000}  # the article's 10-yuan set


def test_the_gubei_topic_links_its_outcome_to_the_meal_points_menus(regions, client):
    from doorstep.deliberation.demo import load_demo_topics
    from doorstep.deliberation.models import Outcome

    load_article_centers()
    load_demo_topics()
    outcome = Outcome.objects.filter(code="canteen").select_related("topic").first()
    assert outcome is not None
    page = client.get(f"/topics/{outcome.topic_id}/").content.decode()
    assert f"/centers/{outcome.center_id}/meals/" not in page  # no canteen on doorstep yet
    load_demo_meals(days=1)
    page = client.get(f"/topics/{outcome.topic_id}/").content.decode()
    assert f"/centers/{outcome.center_id}/meals/" in page


def test_synthetic_menus_say_so_wherever_they_are_shown(regions, client):
    from doorstep.accounts.models import User

    load_article_centers()
    load_demo_meals(days=1)
    menu = Menu.objects.first()
    label = "示例菜单（合成数据），并非真实菜单。"
    assert label in client.get("/meals/").content.decode()
    assert label in client.get(f"/centers/{menu.canteen.center_id}/meals/").content.decode()
    client.force_login(User.objects.create(phone="+8613800009999"))
    assert label in client.get(f"/meals/menus/{menu.pk}/order").content.decode()
