import json
import re
from collections import Counter
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from doorstep.centers.article import DATA_FILE, article_entries, load_article_centers
from doorstep.centers.demo import DEMO_HOURS_NOTE, load_demo_hours
from doorstep.centers.models import Center, OpeningHours
from doorstep.centers.vocab import Precision, Source, Theme

TITLE = "《党群服务中心：走得进 坐得下 还想来》"
# Featured center plus its 一起打卡 list, counted by hand in the article.
EXPECTED_PER_SECTION = {1: 4, 2: 9, 3: 9, 4: 9, 5: 6, 6: 8, 7: 9}
SECTION_THEMES = {
    1: Theme.DELIBERATION,
    2: Theme.RED_HERITAGE,
    3: Theme.PARENT_CHILD,
    4: Theme.ELDERLY,
    5: Theme.NEW_EMPLOYMENT,
    6: Theme.BUSINESS,
    7: Theme.BETTER_LIFE,
}
FEATURED = {
    Theme.DELIBERATION: "长宁区虹桥街道社区党群服务中心",
    Theme.RED_HERITAGE: "黄浦区党建服务中心",
    Theme.PARENT_CHILD: "浦东新区东明路街道社区党群服务中心",
    Theme.ELDERLY: "徐家汇街道社区党群服务中心",
    Theme.NEW_EMPLOYMENT: "普陀区万有引力新业态新就业群体党群服务中心",
    Theme.BUSINESS: "静安区苏河湾党群服务中心",
    Theme.BETTER_LIFE: "徐汇滨江党群服务中心",
}
SECTION_DETAIL = re.compile(r"密码([1-7])：\S+（(重点介绍|一起打卡名单)）$")


def section_of(source_detail: str) -> tuple[int, str]:
    m = SECTION_DETAIL.search(source_detail)
    assert m, source_detail
    return int(m.group(1)), m.group(2)


@pytest.fixture
def article_centers(regions):
    return load_article_centers()


def test_json_has_the_expected_number_per_section():
    with DATA_FILE.open(encoding="utf-8") as fh:
        entries = json.load(fh)["centers"]
    sections = [section_of(e["source_detail"]) for e in entries]
    assert Counter(n for n, _ in sections) == EXPECTED_PER_SECTION
    assert Counter(n for n, role in sections if role == "重点介绍") == dict.fromkeys(
        EXPECTED_PER_SECTION, 1
    )
    assert sum(EXPECTED_PER_SECTION.values()) == len(entries) == 54
    keys = [e["external_key"] for e in entries]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"article:[a-z0-9-]+", k) for k in keys)


def test_json_themes_and_facts_follow_the_sections():
    for entry in article_entries():
        number, role = section_of(entry["source_detail"])
        assert entry["themes"][0] == SECTION_THEMES[number]
        assert entry["source_detail"].startswith(TITLE)
        if role == "重点介绍":
            assert entry["facts"], entry["name"]
        else:
            # The article only names the listed centers: no facts, no second theme.
            assert entry["facts"] == [] and len(entry["themes"]) == 1, entry["name"]
        assert "(" not in entry["name"] and "（" not in entry["name"]
        assert all(f.keys() == {"zh", "en"} and f["zh"] and f["en"] for f in entry["facts"])


@pytest.mark.django_db
def test_all_article_centers_load(article_centers):
    assert article_centers == {"created": 54, "updated": 0, "unchanged": 0}
    assert Center.objects.filter(external_key__startswith="article:").count() == 54


@pytest.mark.django_db
def test_each_theme_has_its_featured_center(article_centers):
    for theme, name in FEATURED.items():
        center = Center.objects.get(name=name)
        assert theme in center.themes
        assert center.source_detail.endswith("（重点介绍）")
        assert center.facts


@pytest.mark.django_db
def test_gubei_civic_center(article_centers):
    center = Center.objects.get(name="长宁区虹桥街道社区党群服务中心")
    assert "古北市民中心" in center.aliases
    assert center.district.name == "长宁区"
    assert center.subdistrict is not None and center.subdistrict.name == "虹桥街道"
    assert any("6000" in fact["zh"] for fact in center.facts)
    assert any("2015年7月" in fact["zh"] for fact in center.facts)
    assert Theme.DELIBERATION in center.themes


@pytest.mark.django_db
def test_xuhui_riverside_hours_and_figures_come_from_the_article(article_centers):
    center = Center.objects.get(name="徐汇滨江党群服务中心")
    assert center.floor_area_m2 == 1560
    assert center.opened_on == date(2021, 6, 25)
    assert center.address == "瑞宁路99号"
    assert "open_24h" in center.facilities
    assert center.hours_source == Source.ARTICLE
    assert "24" in center.hours_note
    assert sorted(center.hours.values_list("weekday", "open_minute", "close_minute")) == [
        (day, 0, 1440) for day in range(7)
    ]


@pytest.mark.django_db
def test_every_center_names_its_source_and_section(article_centers):
    for center in Center.objects.all():
        assert center.source == Source.ARTICLE
        assert center.source_detail.startswith(TITLE)
        section_of(center.source_detail)


@pytest.mark.django_db
def test_no_center_claims_an_exact_location(article_centers):
    precisions = set(Center.objects.values_list("location_precision", flat=True))
    assert precisions <= {Precision.SUBDISTRICT, Precision.DISTRICT}
    assert not Center.objects.filter(location_precision=Precision.EXACT).exists()


@pytest.mark.django_db
def test_subdistricts_resolve_inside_their_district(article_centers):
    named = Center.objects.exclude(subdistrict=None).select_related("subdistrict", "district")
    assert named.count() == sum(1 for e in article_entries() if e["subdistrict"]) > 0
    for center in named:
        assert center.subdistrict.parent_id == center.district.code
    assert Center.objects.get(external_key="article:wanyouyinli").subdistrict.name == "万里街道"
    assert Center.objects.get(external_key="article:suhewan-jingan").subdistrict.name == "北站街道"
    assert Center.objects.get(external_key="article:xuhui-riverside").subdistrict is None


@pytest.mark.django_db
def test_loading_twice_changes_nothing(article_centers):
    assert load_article_centers() == {"created": 0, "updated": 0, "unchanged": 54}


@pytest.mark.django_db
def test_demo_hours_are_synthetic_and_spare_the_article_hours(article_centers):
    counts = load_demo_hours()
    assert counts == {"created": 0, "updated": 53, "unchanged": 0, "skipped": 1}

    riverside = Center.objects.get(name="徐汇滨江党群服务中心")
    assert riverside.hours_source == Source.ARTICLE
    assert riverside.hours.count() == 7
    assert all(h.open_minute == 0 and h.close_minute == 1440 for h in riverside.hours.all())

    others = Center.objects.exclude(pk=riverside.pk)
    assert others.count() == 53
    for center in others:
        assert center.hours_source == Source.SYNTHETIC
        assert center.hours_note == DEMO_HOURS_NOTE
        assert center.hours.exists()

    # Idempotent, and reloading the article keeps the demo hours it has no hours to replace.
    assert load_demo_hours() == {"created": 0, "updated": 0, "unchanged": 53, "skipped": 1}
    assert load_article_centers() == {"created": 0, "updated": 0, "unchanged": 54}
    assert not Center.objects.exclude(hours_source__in=[Source.SYNTHETIC, Source.ARTICLE]).exists()


@pytest.mark.django_db
def test_demo_hours_never_replace_hours_from_a_real_source(article_centers):
    center = Center.objects.get(external_key="article:pujiang-town")
    center.hours_source = Source.MANUAL
    center.save(update_fields=["hours_source"])
    OpeningHours.objects.create(center=center, weekday=0, open_minute=540, close_minute=1020)

    assert load_demo_hours()["skipped"] == 2
    center.refresh_from_db()
    assert center.hours_source == Source.MANUAL
    assert list(center.hours.values_list("weekday", "open_minute", "close_minute")) == [
        (0, 540, 1020)
    ]
    # The article states no hours for it, so reloading the article keeps the staff's hours.
    load_article_centers()
    center.refresh_from_db()
    assert center.hours_source == Source.MANUAL
    assert center.hours.count() == 1


@pytest.mark.django_db
def test_load_demo_command_is_idempotent(regions):
    first, second = StringIO(), StringIO()
    call_command("load-demo", stdout=first)
    call_command("load-demo", stdout=second)
    assert "article centers: 54 created" in first.getvalue()
    assert "article centers: 0 created, 0 updated, 54 unchanged" in second.getvalue()
    assert "demo hours: 0 created, 0 updated, 53 unchanged, 1 skipped" in second.getvalue()
    # The illustrative population grid is made once, synthetic, and kept on the second run.
    from doorstep.city.models import Cell

    made = Cell.objects.count()
    assert "population grid (synthetic)" in first.getvalue() and made > 20_000
    assert f"population grid: {made} kept" in second.getvalue()
    assert not Cell.objects.filter(synthetic=False).exists()


@pytest.mark.django_db
def test_load_demo_without_demo_hours(regions):
    out = StringIO()
    call_command("load-demo", "--no-demo-hours", stdout=out)
    assert "demo hours" not in out.getvalue()
    assert Center.objects.filter(hours_source=Source.SYNTHETIC).count() == 0
    assert Center.objects.filter(hours_source=Source.ARTICLE).count() == 1
