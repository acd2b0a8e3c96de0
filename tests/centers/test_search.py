from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from doorstep.centers.search import parse_query, pinyin_full, pinyin_initials
from doorstep.centers.selectors import CenterFilters, search_centers
from tests.factories import make_center

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def names(**kw):
    return [h.center.name for h in search_centers(CenterFilters(**kw)).hits]


@pytest.fixture
def directory(regions):
    return {
        "gubei": make_center(
            "长宁区虹桥街道社区党群服务中心",
            subdistrict="虹桥街道",
            aliases=["古北市民中心"],
            themes=["deliberation"],
            facilities=["canteen", "reading_room", "gov_service_terminal"],
        ),
        "xujiahui": make_center(
            "徐家汇街道社区党群服务中心",
            district="徐汇区",
            subdistrict="徐家汇街道",
            address="南丹东路109号",
            themes=["elderly", "parent_child"],
            facilities=["canteen", "elderly_fitness"],
        ),
        "binjiang": make_center(
            "徐汇滨江党群服务中心",
            district="徐汇区",
            level="riverside",
            address="瑞宁路99号",
            themes=["better_life"],
            facilities=["open_24h", "showers", "canteen"],
            hours="24h",
        ),
        "jintie": make_center(
            "普陀区长风新村街道近铁C站党群服务站",
            district="普陀区",
            subdistrict="长风新村街道",
            kind="station",
            level="office_park",
            themes=["new_employment"],
            facilities=["battery_charging"],
        ),
        "hongqiao_rd": make_center(
            "长宁区新华路街道上新所党群服务站",
            subdistrict="新华路街道",
            kind="station",
            level="office_park",
            address="番禺路与虹桥路口",
            themes=["business"],
        ),
    }


def test_chinese_substring_finds_alias_first(directory):
    assert names(q="古北")[0] == "长宁区虹桥街道社区党群服务中心"


def test_words_of_a_shortened_name_are_found(directory):
    # Not a substring of the full name (社区 sits between), but every word is in it.
    assert names(q="虹桥街道党群服务中心")[0] == "长宁区虹桥街道社区党群服务中心"


@pytest.mark.parametrize("q", ["gubei", "GuBei", "gu bei", "gbsm", "gbsmzx"])
def test_pinyin_and_initials(directory, q):
    assert names(q=q)[0] == "长宁区虹桥街道社区党群服务中心"


def test_pinyin_of_place_names_uses_local_readings(regions):
    assert pinyin_full("长宁区") == "changningqu"
    assert pinyin_initials("长宁") == "cn"
    assert pinyin_initials("七宝镇第12居民区") == "qbzd12jmq"  # numbers stay whole
    assert pinyin_full("闵行区") == "minhangqu"


def test_traditional_characters_find_simplified(directory):
    found = names(q="徐匯")
    assert set(found) >= {"徐家汇街道社区党群服务中心", "徐汇滨江党群服务中心"}
    assert names(q="徐匯濱江")[0] == "徐汇滨江党群服务中心"


def test_latin_is_case_insensitive(directory):
    assert names(q="c站") == names(q="C站") == ["普陀区长风新村街道近铁C站党群服务站"]


def test_full_width_and_spaces_are_normalised(directory):
    assert names(q="ＧＵＢＥＩ")[0] == "长宁区虹桥街道社区党群服务中心"
    assert names(q="  古北  ")[0] == "长宁区虹桥街道社区党群服务中心"


def test_name_match_ranks_above_address_match(directory):
    # 虹桥 is in 古北's name; 上新所's address is on 虹桥路: the name match comes first.
    found = names(q="虹桥")
    assert found.index("长宁区虹桥街道社区党群服务中心") < found.index(
        "长宁区新华路街道上新所党群服务站"
    )


def test_address_is_searched(directory):
    assert names(q="南丹东路") == ["徐家汇街道社区党群服务中心"]


def test_district_and_subdistrict_names_are_searched(directory):
    assert set(names(q="普陀")) == {"普陀区长风新村街道近铁C站党群服务站"}
    assert set(names(q="xujiahui")) >= {"徐家汇街道社区党群服务中心"}


def test_no_match_is_empty_not_everything(directory):
    assert names(q="不存在的地方") == []
    assert names(q="zzqqxx") == []


def test_query_parsing_is_bounded():
    pq = parse_query("古" * 10_000)
    assert len(pq.text) <= 100


def test_filters_combine(directory):
    assert set(names(district="徐汇区")) == {"徐家汇街道社区党群服务中心", "徐汇滨江党群服务中心"}
    assert set(names(district="310104")) == set(names(district="徐汇区"))
    assert names(subdistrict="虹桥街道") == ["长宁区虹桥街道社区党群服务中心"]
    # Themes: any of them.
    assert set(names(themes=["elderly", "business"])) == {
        "徐家汇街道社区党群服务中心",
        "长宁区新华路街道上新所党群服务站",
    }
    # Facilities: all of them.
    assert set(names(facilities=["canteen"])) == {
        "长宁区虹桥街道社区党群服务中心",
        "徐家汇街道社区党群服务中心",
        "徐汇滨江党群服务中心",
    }
    assert names(facilities=["canteen", "showers"]) == ["徐汇滨江党群服务中心"]
    assert set(names(levels=["office_park"])) == {
        "普陀区长风新村街道近铁C站党群服务站",
        "长宁区新华路街道上新所党群服务站",
    }
    assert names(q="徐汇", facilities=["elderly_fitness"]) == ["徐家汇街道社区党群服务中心"]


def test_open_now_filter_uses_shanghai_time(directory):
    at_night = datetime(2026, 11, 28, 3, 0, tzinfo=SH)
    assert names(open_now=True, at=at_night) == ["徐汇滨江党群服务中心"]


def test_count_and_paging(directory):
    page1 = search_centers(CenterFilters(limit=2, offset=0))
    page3 = search_centers(CenterFilters(limit=2, offset=4))
    assert page1.count == page3.count == 5
    assert len(page1.hits) == 2 and len(page3.hits) == 1
    everything = {h.center.pk for h in search_centers(CenterFilters(limit=10)).hits}
    assert len(everything) == 5


def test_a_place_jieba_does_not_know_is_still_required(regions):
    # jieba splits 新泾 into 新 + 泾; the query's two characters stay one word, so the
    # answer is 新泾's station, not every 党群服务站 in the city.
    make_center("新泾镇第一居民区党群服务站", level="residential")
    make_center("虹桥第二居民区党群服务站", level="residential")
    assert parse_query("新泾 党群服务站").tokens == ("新泾", "党群", "服务站")
    assert names(q="新泾 党群服务站") == ["新泾镇第一居民区党群服务站"]
