import pytest

from tests.factories import make_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(regions):
    a = make_center(
        "长宁区虹桥街道社区党群服务中心",
        subdistrict="虹桥街道",
        aliases=["古北市民中心"],
        themes=["deliberation"],
        facilities=["canteen"],
        hours="mon-fri 09:00-21:00",
        facts=[{"zh": "每月服务量达6000余人次", "en": "Serves over 6,000 people a month"}],
        source="article",
    )
    b = make_center(
        "徐汇滨江党群服务中心",
        district="徐汇区",
        level="riverside",
        facilities=["open_24h"],
        hours="24h",
        lat=31.1790,
        lng=121.4620,
        location_precision="street",
    )
    return a, b


def test_list_shape(client, two):
    r = client.get("/api/v1/centers", {"q": "古北"})
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert set(item) >= {
        "id",
        "name",
        "aliases",
        "kind",
        "level",
        "district",
        "subdistrict",
        "themes",
        "facilities",
        "address",
        "location",
        "open_now",
        "distance_m",
    }
    assert item["name"] == "长宁区虹桥街道社区党群服务中心"
    assert item["aliases"] == ["古北市民中心"]
    assert item["district"] == "长宁区" and item["subdistrict"] == "虹桥街道"
    assert item["themes"] == ["deliberation"] and item["facilities"] == ["canteen"]
    assert item["location"]["precision"] in {"subdistrict", "district"}
    assert item["distance_m"] is None


def test_nearby_gives_distance(client, two):
    r = client.get("/api/v1/centers", {"lat": 31.18, "lng": 121.46, "radius_m": 1000})
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["name"] for i in items] == ["徐汇滨江党群服务中心"]
    assert 0 < items[0]["distance_m"] < 1000
    assert items[0]["walking_minutes"] >= 1


def test_multi_valued_filters(client, two):
    r = client.get("/api/v1/centers?facility=canteen&facility=open_24h")
    assert r.json()["count"] == 0
    r = client.get("/api/v1/centers?theme=deliberation,better_life")
    assert r.json()["count"] == 1
    r = client.get("/api/v1/centers?level=riverside&open_now=true")
    assert r.json()["count"] == 1


def test_detail_has_hours_and_source(client, two):
    a, _b = two
    r = client.get(f"/api/v1/centers/{a.pk}")
    assert r.status_code == 200
    body = r.json()
    assert body["source"] == "article"
    assert body["hours"][0] == {
        "weekday": "mon",
        "opens": "09:00",
        "closes": "21:00",
        "past_midnight": False,
    }
    assert len(body["hours"]) == 5
    assert body["facts"][0]["zh"] == "每月服务量达6000余人次"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"theme": "karaoke"}, 400, "unknown_theme"),
        ({"facility": "pool"}, 400, "unknown_facility"),
        ({"level": "galaxy"}, 400, "unknown_level"),
        ({"lat": 200, "lng": 121}, 400, "invalid_lat"),
        ({"lat": 31, "lng": 500}, 400, "invalid_lng"),
        ({"lat": 31}, 400, "incomplete_point"),
        ({"lat": 31.2, "lng": 121.4, "radius_m": -5}, 400, "invalid_radius"),
        ({"radius_m": 500}, 400, "radius_without_point"),
        ({"limit": 10**9}, 400, "invalid_limit"),
        ({"limit": 0}, 400, "invalid_limit"),
        ({"offset": -1}, 400, "invalid_offset"),
        ({"lat": "abc", "lng": 121}, 422, "invalid_parameter"),
        ({"limit": "ten"}, 422, "invalid_parameter"),
        ({"open_now": "maybe"}, 422, "invalid_parameter"),
        ({"lat": "nan", "lng": "121"}, 422, "invalid_parameter"),  # the API's input rule
    ],
)
def test_bad_parameters(client, two, params, status, code):
    r = client.get("/api/v1/centers", params)
    assert r.status_code == status, r.content
    body = r.json()
    assert body["code"] == code
    assert body["message"]


def test_unknown_ids(client, two):
    r = client.get("/api/v1/centers/999999")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    r = client.get("/api/v1/centers/abc")
    assert r.status_code in (404, 422)
    assert "code" in r.json()


def test_messages_follow_the_language(client, two):
    zh = client.get("/api/v1/centers", {"theme": "karaoke"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.get("/api/v1/centers", {"theme": "karaoke"}, HTTP_ACCEPT_LANGUAGE="en")
    assert en.json()["message"] == "Unknown theme “karaoke”."
    assert zh.json()["message"] != en.json()["message"]


def test_list_query_count_is_constant(client, regions, django_assert_max_num_queries):
    for i in range(30):
        make_center(f"测试中心{i}", hours="daily 09:00-17:00")
    # directory version, page ids, total (the page is full), the rows, their hours
    with django_assert_max_num_queries(5):
        r = client.get("/api/v1/centers", {"limit": 30})
    assert len(r.json()["items"]) == 30


def test_region_tree(client, regions, two):
    r = client.get("/api/v1/regions")
    assert r.status_code == 200
    (city,) = r.json()
    assert city["code"] == "310000"
    assert len(city["children"]) == 16
    changning = next(d for d in city["children"] if d["name"] == "长宁区")
    assert changning["center_count"] == 1
    hongqiao = next(s for s in changning["children"] if s["name"] == "虹桥街道")
    assert hongqiao["code"] == "310105009" and hongqiao["center_count"] == 1


def test_openapi_docs(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/centers" in r.json()["paths"]
    assert client.get("/api/docs").status_code in (200, 301, 302)


def test_list_items_follow_the_schema_and_agree_with_the_detail(client, two):
    """The list is built from SQL rows and the detail from models: they must say the same."""
    from doorstep.centers.api import CenterList

    body = client.get("/api/v1/centers", {"lat": 31.2, "lng": 121.45}).json()
    CenterList.model_validate(body)
    assert body["count"] == 2
    for item in body["items"]:
        detail = client.get(f"/api/v1/centers/{item['id']}").json()
        if item["location"]["precise"]:
            assert item["distance_m"] > 0 and item["walking_minutes"] >= 1
        else:  # the district's representative point: no distance, and listed after
            assert item["distance_m"] is None and item["walking_minutes"] is None
            assert item is body["items"][-1]
        for key, value in item.items():
            if key not in ("distance_m", "walking_minutes"):
                assert detail[key] == value, key
