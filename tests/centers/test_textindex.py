"""The in-memory text index answers exactly what the SQL path answers, on both databases."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.centers import synth, textindex
from doorstep.centers.cache import directory_version
from doorstep.centers.models import Center
from doorstep.centers.search import parse_query, pinyin_full, pinyin_initials
from doorstep.centers.selectors import CenterFilters, _question, search_centers
from doorstep.centers.vocab import Facility, Level, Theme
from tests.factories import make_center

pytestmark = pytest.mark.django_db

GENERIC = ["党群服务站", "党群服务中心", "服务站", "居民区", "驿站", "滨江", "黨群服務站", "中心"]


@pytest.fixture
def city(regions):
    synth.synth_city(300, seed=5, workers=1)
    make_center(
        "长宁区虹桥街道社区党群服务中心",
        subdistrict="虹桥街道",
        aliases=["古北市民中心"],
        address="荣华东道",
        themes=["deliberation"],
        facilities=["canteen", "reading_room"],
    )
    make_center("徐汇滨江党群服务中心", district="徐汇区", level="riverside")
    textindex.forget()
    names = list(Center.objects.values_list("name", flat=True))
    districts = list(Center.objects.values_list("district__name", flat=True).distinct())
    subs = [s for s in Center.objects.values_list("subdistrict__name", flat=True) if s]
    rng = random.Random(11)
    words: list[str] = list(GENERIC)
    for name in rng.sample(names, 60):
        i = rng.randrange(len(name))
        piece = name[i : i + rng.randint(1, 6)]
        words += [piece, pinyin_full(piece), pinyin_initials(piece), name]
    keys = list(Center.objects.values_list("name_pinyin", "name_initials", "place_pinyin"))
    for row in rng.sample(keys, 60):
        for key in row:
            parts = [p for p in key.split("|") if p]
            if parts:
                part = rng.choice(parts)
                i = rng.randrange(len(part))
                words.append(part[i : i + rng.randint(2, 8)])
                words.append(part[: rng.randint(2, 6)])
    for place in rng.sample(districts, min(8, len(districts))) + rng.sample(subs, 10):
        words += [place, place[:2], pinyin_full(place[:2]), pinyin_initials(place)]
    words += ["gubei", "gbsm", "GuBei", "gu bei", "徐匯", "古北 服务中心", "虹桥 党群", "zz", "q"]
    return {"words": sorted(set(w for w in words if w.strip())), "districts": districts}


def both(f: CenterFilters) -> tuple[tuple[int, list[int]], tuple[int, list[int]]]:
    question = _question(f)
    assert question.in_memory
    by_sql = question.plan().ids(limit=f.limit, offset=f.offset)
    by_index = question.page(None)
    return by_sql, by_index


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
@pytest.mark.parametrize(("blob_hits_max", "blob_probe"), [(1000, 50), (2, 50), (12, 3)])
def test_the_index_and_sql_agree(city, data, blob_hits_max, blob_probe, monkeypatch):
    # Every way of testing a key: scanning the joined keys, giving up on a dense scan early,
    # and numpy over every center.
    monkeypatch.setattr(textindex, "BLOB_HITS_MAX", blob_hits_max)
    monkeypatch.setattr(textindex, "BLOB_PROBE", blob_probe)
    q = data.draw(st.sampled_from(city["words"]))
    if data.draw(st.booleans()):
        q = q + data.draw(st.sampled_from(["", " ", "服务", "站", "zhan", " 中心"]))
    f = CenterFilters(
        q=q,
        district=data.draw(st.sampled_from(["", "", "", *city["districts"]])),
        themes=data.draw(st.lists(st.sampled_from(list(Theme.values)), max_size=2, unique=True)),
        facilities=data.draw(
            st.lists(st.sampled_from(list(Facility.values)), max_size=1, unique=True)
        ),
        levels=data.draw(st.lists(st.sampled_from(list(Level.values)), max_size=1, unique=True)),
        limit=data.draw(st.sampled_from([1, 5, 20, 100])),
        offset=data.draw(st.sampled_from([0, 0, 3, 20, 500])),
    )
    if parse_query(q).is_empty:
        return
    by_sql, by_index = both(f)
    assert by_index == by_sql, q


@pytest.mark.parametrize("blob_hits_max", [1000, 2])
def test_broad_queries_agree_in_full(city, blob_hits_max, monkeypatch):
    monkeypatch.setattr(textindex, "BLOB_HITS_MAX", blob_hits_max)
    for q in ["党群服务站", "dqfwz", "服务", "zhongxin", "黨群服務中心", "jdsq"]:
        f = CenterFilters(q=q, limit=100)
        by_sql, by_index = both(f)
        assert by_index == by_sql, q
        assert by_index[0] > 5, q  # these do match many centers


def test_text_questions_do_not_scan_in_sql(city):
    search_centers(CenterFilters(q="古北"))  # builds the index
    with CaptureQueriesContext(connection) as ctx:
        page = search_centers(CenterFilters(q="古北"))
    assert [h.center.name for h in page.hits] == ["长宁区虹桥街道社区党群服务中心"]
    scans = [q["sql"] for q in ctx.captured_queries if "instr(" in q["sql"] or "LIKE" in q["sql"]]
    assert scans == []
    # Open now and nearby keep the SQL path.
    assert not _question(CenterFilters(q="古北", open_now=True)).in_memory
    assert not _question(CenterFilters(q="古北", lat=31.2, lng=121.4)).in_memory
    assert not _question(CenterFilters(district="长宁区")).in_memory


def test_a_change_is_seen_by_the_next_question(city):
    assert search_centers(CenterFilters(q="梧桐院")).count == 0
    version = directory_version()
    make_center("梧桐院党群服务站", district="徐汇区")
    assert directory_version() != version
    page = search_centers(CenterFilters(q="wutongyuan"))
    assert [h.center.name for h in page.hits] == ["梧桐院党群服务站"]
    assert textindex.index_for(directory_version()).size == Center.objects.count()


def test_an_empty_directory(db):
    textindex.forget()
    assert textindex.search(
        parse_query("古北"), version=directory_version(), limit=20, offset=0
    ) == (
        0,
        [],
    )


def test_a_served_process_builds_the_index_at_start(city):
    textindex.forget()
    assert textindex._current == []
    textindex.warm_up()
    assert [ix.version for ix in textindex._current] == [directory_version()]
    assert textindex._current[0].size == Center.objects.count()


def test_map_points_of_a_text_question_match_the_sql_path(city):
    from doorstep.centers.selectors import center_points

    for q in ["党群服务站", "gubei", "服务", "jd"]:
        f = CenterFilters(q=q)
        points = center_points(f, cap=50)
        assert points == _question(f).plan().points(50), q
        assert points, q
