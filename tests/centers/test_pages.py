import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def gubei(regions):
    return make_center(
        "长宁区虹桥街道社区党群服务中心",
        subdistrict="虹桥街道",
        aliases=["古北市民中心"],
        themes=["deliberation"],
        facilities=["canteen"],
        hours="fri 20:00-02:00",
        source="article",
        source_detail="密码1：初心践地",
    )


def test_home_lists_the_seven_themes(client, regions):
    r = client.get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<html lang="zh-Hans"' in html
    for code in [
        "deliberation",
        "red_heritage",
        "parent_child",
        "elderly",
        "new_employment",
        "business",
        "better_life",
    ]:
        assert f"?theme={code}" in html


def test_results_page_and_htmx_partial(client, gubei):
    full = client.get("/centers/", {"q": "古北"})
    assert full.status_code == 200
    assert "长宁区虹桥街道社区党群服务中心" in full.content.decode()
    assert "<html" in full.content.decode()
    partial = client.get("/centers/", {"q": "古北"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert "长宁区虹桥街道社区党群服务中心" in partial.content.decode()


def test_bad_input_on_pages_is_a_message_not_a_500(client, gubei):
    r = client.get("/centers/", {"lat": "abc", "lng": "121"})
    assert r.status_code == 400
    assert "不是数字" in r.content.decode() or "is not a number" in r.content.decode()
    r = client.get("/centers/", {"theme": "nope"})
    assert r.status_code == 400
    assert "nope" in r.content.decode()
    assert client.get("/centers/999999/").status_code == 404


def test_center_page_shows_source_and_honest_location(client, gubei):
    r = client.get(f"/centers/{gubei.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "密码1：初心践地" in html
    assert "古北市民中心" in html
    # No coordinates in the source: the page must not pretend the marker is the door.
    assert 'id="center-map"' in html
    assert "geo:" not in html


def test_english_is_chosen_with_the_switch_not_the_browser(client, regions):
    r = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-Hans"' in r.content.decode()
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.status_code == 302
    r = client.get("/")
    assert '<html lang="en"' in r.content.decode()
    assert "Find the service center at your doorstep" in r.content.decode()


def test_large_text_toggle(client, regions):
    r = client.post("/settings/text-size", {"size": "large", "next": "/centers/"})
    assert r.status_code == 302 and r["Location"] == "/centers/"
    assert 'class="large-text"' in client.get("/").content.decode()
    # An open redirect is refused.
    r = client.post("/settings/text-size", {"size": "large", "next": "https://evil.example/"})
    assert r["Location"] == "/"


def test_outlines_are_geojson(client, regions):
    r = client.get("/regions/outlines.geojson")
    data = r.json()
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 16
    assert {f["geometry"]["type"] for f in data["features"]} <= {"Polygon", "MultiPolygon"}


text = st.text(max_size=60)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    q=text,
    district=text,
    theme=st.one_of(st.just(""), st.sampled_from(["elderly", "x"]), text),
    lat=st.one_of(st.just(""), st.floats(allow_nan=True, allow_infinity=True).map(str), text),
    lng=st.one_of(st.just(""), st.floats(-200, 200).map(str)),
    radius=st.one_of(st.just(""), st.integers(-(10**12), 10**12).map(str), text),
    limit=st.one_of(st.just(""), st.integers(-(10**12), 10**12).map(str)),
)
def test_no_input_makes_a_500(client, gubei, q, district, theme, lat, lng, radius, limit):
    params = {
        "q": q,
        "district": district,
        "theme": theme,
        "lat": lat,
        "lng": lng,
        "radius_m": radius,
        "limit": limit,
    }
    params = {k: v for k, v in params.items() if v != ""}
    api = client.get("/api/v1/centers", params)
    assert api.status_code in (200, 400, 422), api.content
    if api.status_code != 200:
        body = api.json()
        assert body["code"] and body["message"]
    page = client.get("/centers/", params)
    assert page.status_code in (200, 400)
